"""Figures for notebooks 00 and 10: the 1-RTT handshake, and the numbers notebook 10 measures.

Every function takes the values the notebook just computed (seconds, MiB/s) and
returns a matplotlib ``Figure``; nothing is measured here, so tests can call the
functions with made-up numbers and check what they draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tlslab.lab.measure import format_seconds

PIECE = "#74c0fc"  # one piece of work
WHOLE = "#ffa94d"  # a whole handshake or connection
OTHER = "#b2f2bb"  # the other implementation, or the cheaper way
PLAIN, HANDSHAKE_KEYS, APPLICATION_KEYS = "#495057", "#e8590c", "#2f9e44"


def size_label(nbytes: int) -> str:
    """``256 B``, ``1 KiB``, ``16 KiB``, ``8 MiB``: sizes as powers of two read."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


# ---------------------------------------------------------------- the 1-RTT handshake

# (from, label, colour): the messages of a full handshake and one request, RFC 8446 §2 notation.
_FLIGHTS = (
    ("client", "ClientHello + key_share", PLAIN),
    (
        "server",
        "ServerHello + key_share\n{EncryptedExtensions} {Certificate}\n{CertificateVerify} {Finished}",
        PLAIN,
    ),
    ("client", "{Finished}\n[GET / HTTP/1.1]", APPLICATION_KEYS),
    ("server", "[HTTP/1.1 200 OK ...]", APPLICATION_KEYS),
)


def handshake_timeline_figure() -> Any:
    """A sequence diagram: the full TLS 1.3 handshake takes one round trip, then the request takes another.

    Time runs downwards; each arrow is one flight of messages. ``{...}`` is encrypted with
    handshake keys, ``[...]`` with application keys (the notation of RFC 8446 §2).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.6))
    client_x, server_x = 0.0, 1.0
    for x, name in ((client_x, "client"), (server_x, "server")):
        ax.plot([x, x], [0, -4.3], color="#adb5bd", lw=2, zorder=0)
        ax.text(x, 0.25, name, ha="center", va="bottom", fontsize=12, weight="bold")
    for step, (sender, label, colour) in enumerate(_FLIGHTS):
        start, end = (client_x, server_x) if sender == "client" else (server_x, client_x)
        ax.annotate(
            "",
            xy=(end, -step - 1),
            xytext=(start, -step),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6},
        )
        ax.text(0.5, -step - 0.5, label, ha="center", va="center", fontsize=8.5, color=colour,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})  # fmt: skip
    _bracket(ax, -0.08, 0, -2, "1 RTT: handshake\n(keys agreed, server\nauthenticated)")
    _bracket(ax, -0.08, -2, -4, "1 RTT: request\nand answer")
    ax.text(0.5, -4.55, "plain  ·  {encrypted with handshake keys}  ·  [encrypted with application keys]",
            ha="center", va="top", fontsize=8.5, color=PLAIN)  # fmt: skip
    ax.set(
        xlim=(-0.75, 1.1),
        ylim=(-4.9, 0.6),
        title="A full TLS 1.3 handshake: one round trip before the request",
    )
    ax.axis("off")
    return fig


def _bracket(ax: Any, x: float, top: float, bottom: float, text: str) -> None:
    ax.plot([x + 0.03, x, x, x + 0.03], [top, top, bottom, bottom], color="#1c7ed6", lw=1.2)
    ax.text(x - 0.03, (top + bottom) / 2, text, ha="right", va="center", fontsize=8.5, color="#1c7ed6")


# ---------------------------------------------------------------- notebook 10's measurements


def _bars(
    ax: Any, values: Mapping[str, float], scale: float, texts: Sequence[str], colours: Sequence[str]
) -> None:
    """Horizontal bars, first value on top, each with its text at the bar's end."""
    labels, numbers = list(values), [v * scale for v in values.values()]
    ax.barh(labels, numbers, color=list(colours))
    for y, (number, text) in enumerate(zip(numbers, texts, strict=True)):
        ax.text(number, y, f" {text}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(numbers) * 1.3 if numbers and max(numbers) > 0 else 1)


def handshake_costs_figure(costs: Mapping[str, float], whole: str | None = None) -> Any:
    """Bars of median seconds per operation, in µs; the ``whole`` entry (a full handshake) stands out."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(costs) + 1.2))
    colours = [WHOLE if name == whole else PIECE for name in costs]
    _bars(ax, costs, 1e6, [format_seconds(v) for v in costs.values()], colours)
    ax.set(xlabel="microseconds (median of repeated runs)", title="Where a tlslab handshake's time goes")
    fig.tight_layout()
    return fig


def record_size_figure(sizes: Sequence[int], rates: Sequence[float], overhead: int) -> Any:
    """MiB/s of encrypt + decrypt for each record size, and the bytes each record adds (``overhead``), in %."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(sizes, rates, "o-", color="#1c7ed6", label="encrypt + decrypt, MiB/s")
    for size, rate in zip(sizes, rates, strict=True):
        ax.annotate(
            f"{rate:.0f}", (size, rate), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes), [size_label(s) for s in sizes])
    ax.set(xlabel="record size (bytes of content per record)", ylabel="MiB/s", ylim=(0, max(rates) * 1.2))
    ax.set_title("Bigger records, fewer per-record costs")
    extra = ax.twinx()
    extra.plot(
        sizes,
        [100 * overhead / s for s in sizes],
        "s--",
        color=WHOLE,
        label=f"{overhead} bytes per record, %",
    )
    extra.set(ylabel="bytes added, % of content", ylim=(0, 100 * overhead / min(sizes) * 1.2))
    lines = ax.get_lines()[:1] + extra.get_lines()
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper center", fontsize=8)
    fig.tight_layout()
    return fig


def comparison_figure(handshake: Mapping[str, float], bulk: Mapping[str, float]) -> Any:
    """Two panels: handshake seconds (shorter is better) and bulk receive MiB/s (longer is better)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.5 * max(len(handshake), len(bulk)) + 1.6))
    colours = [WHOLE, OTHER, PIECE]
    _bars(left, handshake, 1e3, [format_seconds(v) for v in handshake.values()], colours[: len(handshake)])
    left.set(xlabel="milliseconds (median)", title="full handshake: shorter is better")
    _bars(right, bulk, 1.0, [f"{v:.0f} MiB/s" for v in bulk.values()], colours[: len(bulk)])
    right.set(xlabel="MiB/s", title="bulk receive: longer is better")
    fig.tight_layout()
    return fig


def reuse_figure(per_request: Mapping[str, float]) -> Any:
    """Bars of seconds per request, in ms, for the ways of making many requests (new connections, reuse...)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(per_request) + 1.2))
    fastest = min(per_request.values())
    colours = [OTHER if v == fastest else WHOLE for v in per_request.values()]
    _bars(ax, per_request, 1e3, [format_seconds(v) for v in per_request.values()], colours)
    ax.set(xlabel="milliseconds per request (median)", title="Many requests: what each one costs")
    fig.tight_layout()
    return fig
