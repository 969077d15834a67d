"""Pictures of a certificate chain and a table of failed checks, for notebook 06 (RFC 5280 §6, RFC 8446 §4.4.2).

``chain_figure`` draws a chain from real ``x509.Certificate`` objects: on the
left who signed whom (leaf at the bottom, the trust anchor at the top, as
RFC 5280 §6.1 walks it), with the leaf's subjectAltName names; on the right
each certificate's validity period as a bar against a "now" line, so an
expired or not-yet-valid certificate stands out.

``byte_ranges_figure`` shows where each field of a DER encoding lies, one bar
per TLV, so that the small fields are as easy to find as the big ones.

``gallery_table`` shows failure cases side by side: for each case, whether a
correct verifier accepts it, and what each verifier said (accepted, or refused
with a one-line reason), green where the verdict is right and red where it is
wrong.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID


def common_name(name: x509.Name) -> str:
    """The first commonName of a Name, else its RFC 4514 string."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def san_names(cert: x509.Certificate) -> list[str]:
    """dNSName and iPAddress entries of the subjectAltName, in order (empty without one)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        *san.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
    ]


def validity_state(cert: x509.Certificate, now: dt.datetime) -> str:
    """``"valid"``, ``"expired"`` or ``"not yet valid"`` at ``now`` (RFC 5280 §4.1.2.5)."""
    if now > cert.not_valid_after_utc:
        return "expired"
    if now < cert.not_valid_before_utc:
        return "not yet valid"
    return "valid"


def chain_figure(certs: Sequence[x509.Certificate], now: dt.datetime) -> Any:
    """Leaf -> ... -> root: who signed whom, the leaf's names, and validity bars against ``now``.

    ``certs`` is leaf first, as ``verify_server_chain`` returns the path. The
    signature arrows say "signed by" when the issuer's key verifies the
    certificate, and "NOT signed by" when it does not.
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 1.0 + 1.1 * len(certs)), gridspec_kw={"width_ratios": [1, 1.3]}
    )
    _draw_boxes(left, certs)
    _draw_validity(right, certs, now)
    fig.tight_layout()
    return fig


def _role(cert: x509.Certificate, position: int) -> str:
    if cert.issuer == cert.subject:
        return "root (self-signed)"
    return "leaf" if position == 0 else "intermediate"


def _draw_boxes(ax: Any, certs: Sequence[x509.Certificate]) -> None:
    n = len(certs)
    for i, cert in enumerate(certs):
        y = i  # leaf at the bottom (y = 0), root at the top
        text = f"{common_name(cert.subject)}\n{_role(cert, i)}"
        ax.text(
            0.5, y, text, ha="center", va="center", fontsize=9, bbox={"boxstyle": "round", "fc": "#e7f5ff"}
        )
        if i == 0 and san_names(cert):
            ax.text(0.5, y - 0.42, "SAN: " + ", ".join(san_names(cert)), ha="center", va="center", fontsize=8)
        if i + 1 < n:
            label = "signed by" if _verifies(cert, certs[i + 1]) else "NOT signed by"
            ax.annotate("", xy=(0.5, y + 0.72), xytext=(0.5, y + 0.28), arrowprops={"arrowstyle": "->"})
            ax.text(0.55, y + 0.5, label, fontsize=8, va="center", color="#495057")
    ax.set(xlim=(0, 1), ylim=(-0.7, n - 0.3))
    ax.axis("off")


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # noqa: BLE001 -- any failure means "not signed by", which is what we draw
        return False


def _draw_validity(ax: Any, certs: Sequence[x509.Certificate], now: dt.datetime) -> None:
    import matplotlib.dates as mdates

    colours = {"valid": "#8ce99a", "expired": "#ffa8a8", "not yet valid": "#ffd8a8"}
    for i, cert in enumerate(certs):
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        state = validity_state(cert, now)
        ax.barh(
            i,
            mdates.date2num(end) - mdates.date2num(start),
            left=mdates.date2num(start),
            color=colours[state],
        )
        ax.text(mdates.date2num(end), i, f" {state}", va="center", fontsize=8)
    ax.axvline(mdates.date2num(now), color="#c92a2a", linestyle="--")
    ax.text(
        mdates.date2num(now),
        len(certs) - 0.4,
        f" now {now:%Y-%m-%d}",
        color="#c92a2a",
        fontsize=8,
        va="center",
    )
    ax.set_yticks(range(len(certs)), [common_name(c.subject) for c in certs], fontsize=8)
    ax.set_ylim(-0.6, len(certs) - 0.1)
    first = min([mdates.date2num(now), *(mdates.date2num(c.not_valid_before_utc) for c in certs)])
    last = max([mdates.date2num(now), *(mdates.date2num(c.not_valid_after_utc) for c in certs)])
    ax.set_xlim(first - 0.03 * (last - first), last + 0.22 * (last - first))  # room for the labels
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.tick_params(axis="x", labelsize=8, labelrotation=30)
    ax.set_title("validity (notBefore .. notAfter)", fontsize=9)


_DEPTH_COLOURS = ("#adb5bd", "#74c0fc", "#b2f2bb", "#ffd8a8", "#eebefa")


def byte_ranges_figure(spans: Sequence[tuple[str, int, int, int]], title: str = "") -> Any:
    """Where each part of a DER encoding lies: one bar per ``(label, start, end, depth)``, end exclusive.

    Rows go top to bottom in the order given, each label indented by its depth and its bar
    coloured by it, with the byte count at the bar's end: a 3-byte field is as easy to find as a
    300-byte one (X.690 §8.1: every TLV is a contiguous run of bytes inside its parent's).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.24 * len(spans)))
    for row, (_, start, end, depth) in enumerate(spans):
        ax.barh(row, end - start, left=start, color=_DEPTH_COLOURS[depth % len(_DEPTH_COLOURS)])
        ax.text(end, row, f" {end - start}", va="center", fontsize=7)
    ax.set_yticks(range(len(spans)), ["   " * depth + label for label, _, _, depth in spans], fontsize=8)
    for tick in ax.get_yticklabels():
        tick.set_horizontalalignment("left")
    widest = max((len(label) + 2 * depth for label, _, _, depth in spans), default=0)
    ax.tick_params(axis="y", pad=5 * widest + 4, length=0)  # points: room for the left-aligned labels
    ax.invert_yaxis()
    last = max((end for _, _, end, _ in spans), default=1)
    ax.set_xlim(0, last * 1.08)
    ax.set_xlabel("byte offset (bar: where the TLV lies; number: its length in bytes)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def figure_texts(fig: Any) -> list[str]:
    """Every text drawn in ``fig``: labels, tick labels, titles (for tests and for screen readers)."""
    texts = []
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
        texts += [t.get_text() for t in ax.get_yticklabels()]
        texts.append(ax.get_title())
    return [t for t in texts if t]


# ---------------------------------------------------------------------- the gallery


@dataclass
class Verdict:
    """What one verifier said about one case: accepted, or refused with a one-line reason."""

    accepted: bool
    reason: str = ""

    def __str__(self) -> str:
        return "accepted" if self.accepted else f"refused: {self.reason}"


@dataclass
class GalleryRow:
    """One case of the gallery: what we tried, whether a correct verifier accepts it, and the verdicts.

    ``verdicts`` maps a verifier's name to its ``Verdict``, in the order of the table's columns.
    """

    case: str
    should_accept: bool
    verdicts: dict[str, Verdict]

    def wrong(self) -> list[str]:
        """The verifiers that accepted what they should refuse, or refused what they should accept."""
        return [name for name, v in self.verdicts.items() if v.accepted != self.should_accept]


_RIGHT, _WRONG = "#d3f9d8", "#ffc9c9"  # light green, light red


class GalleryTable:
    """A table of ``GalleryRow``: one column per verifier, green where it is right, red where wrong.

    HTML (inline styles, so GitHub shows the colours too) in a notebook, aligned text elsewhere.
    """

    def __init__(self, rows: Sequence[GalleryRow]) -> None:
        self.rows = list(rows)
        self.verifiers = list(self.rows[0].verdicts) if self.rows else []

    def _cell(self, row: GalleryRow, name: str) -> str:
        verdict = row.verdicts[name]
        colour = _WRONG if name in row.wrong() else _RIGHT
        word = "accepted" if verdict.accepted else "refused"
        reason = (
            f'<br><span style="color:#495057">{html.escape(verdict.reason)}</span>' if verdict.reason else ""
        )
        return f'<td style="text-align:left;background:{colour}"><b>{word}</b>{reason}</td>'

    def _repr_html_(self) -> str:
        columns = ["case", "a correct verifier", *self.verifiers]
        head = "".join(f'<th style="text-align:left">{html.escape(c)}</th>' for c in columns)
        body = "".join(
            f'<tr><td style="text-align:left">{html.escape(row.case)}</td>'
            f'<td style="text-align:left">{"accepts" if row.should_accept else "refuses"}</td>'
            + "".join(self._cell(row, name) for name in self.verifiers)
            + "</tr>"
            for row in self.rows
        )
        legend = (
            f'<p style="font-size:85%"><span style="background:{_RIGHT}">&nbsp;green&nbsp;</span> '
            f'right verdict, <span style="background:{_WRONG}">&nbsp;red&nbsp;</span> wrong verdict</p>'
        )
        table = f'<table style="font-size:85%"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        return table + legend

    def __repr__(self) -> str:
        width = max((len(name) for name in self.verifiers), default=0)
        lines = []
        for row in self.rows:
            lines.append(f"{row.case} (a correct verifier {'accepts' if row.should_accept else 'refuses'})")
            for name, verdict in row.verdicts.items():
                mark = "WRONG" if name in row.wrong() else "ok   "
                lines.append(f"  {mark} {name:{width}}  {verdict}")
        return "\n".join(lines)


def gallery_table(rows: Sequence[GalleryRow]) -> GalleryTable:
    """The failure gallery as a table (coloured HTML in a notebook, text in a terminal)."""
    return GalleryTable(rows)
