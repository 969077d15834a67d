"""The TLS 1.3 key schedule as a picture and as an explorer (RFC 8446 §7.1, §7.3, §4.4.4).

Notebook 04 computes every secret of a handshake with ``compute_key_schedule``
(a thin wrapper over ``tlslab.keyschedule.KeySchedule``: the chain itself is not
written twice), draws them on the RFC 8446 §7.1 diagram with
``key_schedule_figure``, and lets the learner pick one secret and see the
inputs that made it with ``derivation_inputs`` / ``key_schedule_explorer``.

Values are named as in ``tlslab.course.rfc8448`` (``"handshake_secret"``,
``"server_handshake_write_key"``, ...), so a run on an RFC 8448 trace can be
checked name by name against ``trace(...)``. The transcripts are given per
stage, each the concatenation of the handshake messages up to that point
(RFC 8446 §4.4.1)::

    transcripts = {"client_hello": ch, "server_hello": ch + sh,
                   "server_finished": ch + sh + ee + cert + cv + sfin,
                   "client_finished": ... + cfin}
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tlslab.constants import CipherSuite
from tlslab.course.nb import short_hex
from tlslab.keyschedule import (
    KeySchedule,
    finished_key,
    hkdf_expand_label,
    hkdf_extract,
    hkdf_label,
    traffic_keys,
    transcript_hash,
)
from tlslab.suites import SUITES, Suite

# The transcript stages of the RFC 8446 §7.1 table, and how the figure abbreviates them.
STAGES: dict[str, str] = {
    "client_hello": "ClientHello",
    "server_hello": "ClientHello...ServerHello",
    "server_finished": "ClientHello...server Finished",
    "client_finished": "ClientHello...client Finished",
}
_SHORT_STAGE = {
    "client_hello": "CH",
    "server_hello": "CH…SH",
    "server_finished": "CH…SF",
    "client_finished": "CH…CF",
}

_DEFAULT_SUITE = {
    "sha256": SUITES[CipherSuite.TLS_AES_128_GCM_SHA256],
    "sha384": SUITES[CipherSuite.TLS_AES_256_GCM_SHA384],
}


def default_suite(hash_name: str) -> Suite:
    """The suite whose keys the figure shows for a hash: AES-128-GCM for SHA-256, AES-256-GCM for SHA-384."""
    try:
        return _DEFAULT_SUITE[hash_name]
    except KeyError:
        raise ValueError(f"TLS 1.3 suites use sha256 or sha384, not {hash_name!r}") from None


# ---------------------------------------------------------------- computing


def compute_key_schedule(
    shared_secret: bytes | None,
    transcripts: Mapping[str, bytes],
    hash_name: str = "sha256",
    *,
    psk: bytes | None = None,
    suite: Suite | None = None,
) -> dict[str, bytes]:
    """Every secret, key and IV of RFC 8446 §7.1/§7.3 for one handshake, by RFC 8448 name.

    Args:
        shared_secret: the (EC)DHE shared secret, or ``None`` for psk_ke (zeros).
        transcripts: messages up to each stage of ``STAGES``; a missing stage
            skips the secrets that need it (e.g. no "client_finished", no
            resumption_master_secret).
        hash_name: ``"sha256"`` or ``"sha384"``.
        psk: the pre-shared key, or ``None`` for a full handshake (zeros).
        suite: sizes of the traffic keys; by default ``default_suite(hash_name)``.

    Returns:
        ``{name: bytes}`` in the order of the key schedule, inputs included
        (``"psk"`` or ``"zeros"``, ``"ecdhe_shared_secret"``).
    """
    suite = suite or default_suite(hash_name)
    if suite.hash_name != hash_name:
        raise ValueError(f"{suite.name} uses {suite.hash_name}, not {hash_name}")
    ks = KeySchedule(hash_name, psk)
    values: dict[str, bytes] = {"psk": psk} if psk is not None else {"zeros": bytes(ks.hash_len)}
    values["early_secret"] = ks.early_secret
    values["binder_key"] = ks.binder_key()
    if "client_hello" in transcripts:
        values["client_early_traffic_secret"] = ks.client_early_traffic_secret(transcripts["client_hello"])
        values["early_exporter_master_secret"] = ks.early_exporter_master_secret(transcripts["client_hello"])
    values["derived_secret_for_handshake"] = ks.derived_for_handshake
    values["ecdhe_shared_secret"] = shared_secret if shared_secret is not None else bytes(ks.hash_len)
    values["handshake_secret"] = ks.set_handshake_secret(shared_secret)
    if "server_hello" in transcripts:
        values["client_handshake_traffic_secret"] = ks.client_handshake_traffic_secret(
            transcripts["server_hello"]
        )
        values["server_handshake_traffic_secret"] = ks.server_handshake_traffic_secret(
            transcripts["server_hello"]
        )
    values["derived_secret_for_master"] = ks.derived_for_master or b""
    values["master_secret"] = ks.set_master_secret()
    if "server_finished" in transcripts:
        messages = transcripts["server_finished"]
        values["client_application_traffic_secret_0"] = ks.client_application_traffic_secret_0(messages)
        values["server_application_traffic_secret_0"] = ks.server_application_traffic_secret_0(messages)
        values["exporter_master_secret"] = ks.exporter_master_secret(messages)
    if "client_finished" in transcripts:
        values["resumption_master_secret"] = ks.resumption_master_secret(transcripts["client_finished"])
    values.update(_keys_and_ivs(values, suite))
    return values


# traffic secret -> prefix of its key/iv names in RFC 8448 ("server_handshake" -> server_handshake_write_key)
_TRAFFIC = {
    "client_early_traffic_secret": "client_early",
    "client_handshake_traffic_secret": "client_handshake",
    "server_handshake_traffic_secret": "server_handshake",
    "client_application_traffic_secret_0": "client_application",
    "server_application_traffic_secret_0": "server_application",
}
_FINISHED = {
    "server_handshake_traffic_secret": "server_finished_key",
    "client_handshake_traffic_secret": "client_finished_key",
}


def _keys_and_ivs(values: Mapping[str, bytes], suite: Suite) -> dict[str, bytes]:
    """traffic_keys (§7.3) for every traffic secret present, and the finished keys (§4.4.4)."""
    out: dict[str, bytes] = {}
    for secret_name, prefix in _TRAFFIC.items():
        if secret_name in values:
            out[f"{prefix}_write_key"], out[f"{prefix}_write_iv"] = traffic_keys(values[secret_name], suite)
    for secret_name, name in _FINISHED.items():
        if secret_name in values:
            out[name] = finished_key(values[secret_name], suite.hash_name)
    return out


# ---------------------------------------------------------------- explaining one value


@dataclass(frozen=True)
class Step:
    """How one named value is made: an HKDF-Extract, a Derive-Secret or an HKDF-Expand-Label."""

    operation: str  # "HKDF-Extract" | "Derive-Secret" | "HKDF-Expand-Label"
    secret: str  # name of the salt (Extract) or of the secret expanded
    label: bytes = b""  # without "tls13 "
    stage: str | None = None  # Derive-Secret: transcript stage; None means Messages = ""
    ikm: str = ""  # Extract only: name of the input keying material
    length: str = "hash"  # "hash", "key" or "iv": Hash.length, key_length or iv_length


def _derive(secret: str, label: str, stage: str | None = None) -> Step:
    return Step("Derive-Secret", secret, label.encode(), stage)


STEPS: dict[str, Step] = {
    # RFC 8446 §7.1
    "early_secret": Step("HKDF-Extract", "zeros", ikm="psk"),
    "binder_key": _derive("early_secret", "res binder"),
    "client_early_traffic_secret": _derive("early_secret", "c e traffic", "client_hello"),
    "early_exporter_master_secret": _derive("early_secret", "e exp master", "client_hello"),
    "derived_secret_for_handshake": _derive("early_secret", "derived"),
    "handshake_secret": Step("HKDF-Extract", "derived_secret_for_handshake", ikm="ecdhe_shared_secret"),
    "client_handshake_traffic_secret": _derive("handshake_secret", "c hs traffic", "server_hello"),
    "server_handshake_traffic_secret": _derive("handshake_secret", "s hs traffic", "server_hello"),
    "derived_secret_for_master": _derive("handshake_secret", "derived"),
    "master_secret": Step("HKDF-Extract", "derived_secret_for_master", ikm="zeros"),
    "client_application_traffic_secret_0": _derive("master_secret", "c ap traffic", "server_finished"),
    "server_application_traffic_secret_0": _derive("master_secret", "s ap traffic", "server_finished"),
    "exporter_master_secret": _derive("master_secret", "exp master", "server_finished"),
    "resumption_master_secret": _derive("master_secret", "res master", "client_finished"),
    # §4.4.4
    "server_finished_key": Step("HKDF-Expand-Label", "server_handshake_traffic_secret", b"finished"),
    "client_finished_key": Step("HKDF-Expand-Label", "client_handshake_traffic_secret", b"finished"),
}
for _secret, _prefix in _TRAFFIC.items():  # §7.3
    STEPS[f"{_prefix}_write_key"] = Step("HKDF-Expand-Label", _secret, b"key", length="key")
    STEPS[f"{_prefix}_write_iv"] = Step("HKDF-Expand-Label", _secret, b"iv", length="iv")


@dataclass(frozen=True)
class Derivation:
    """Everything that went into one value, recomputed from its inputs."""

    name: str
    operation: str
    secret_name: str  # the salt (Extract) or the secret being expanded
    secret: bytes
    ikm_name: str  # Extract only
    ikm: bytes
    label: bytes  # Expand only, without "tls13 "
    context_name: str  # what the context is: a transcript hash, or empty
    context: bytes
    length: int
    info: bytes  # the HkdfLabel struct that HKDF-Expand sees (§7.1)
    output: bytes

    def formula(self) -> str:
        """The RFC's notation for this step, e.g. ``Derive-Secret(handshake_secret, "c hs traffic", ...)``."""
        if self.operation == "HKDF-Extract":
            return f"HKDF-Extract(salt={self.secret_name}, IKM={self.ikm_name})"
        if self.operation == "Derive-Secret":
            return f'Derive-Secret({self.secret_name}, "{self.label.decode()}", {self.context_name})'
        return f'HKDF-Expand-Label({self.secret_name}, "{self.label.decode()}", "", {self.length})'

    def rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs for a table: the inputs, the HkdfLabel, the output."""
        if self.operation == "HKDF-Extract":
            return [
                ("operation", self.formula()),
                ("salt", f"{self.secret_name} = {self.secret.hex()}"),
                ("IKM", f"{self.ikm_name} = {self.ikm.hex()}"),
                ("output", self.output.hex()),
            ]
        return [
            ("operation", self.formula()),
            ("secret", f"{self.secret_name} = {self.secret.hex()}"),
            ("label", f'"tls13 {self.label.decode()}" ({len(self.label) + 6} bytes)'),
            ("context", f"{self.context_name} = {self.context.hex() or '(empty)'}"),
            ("length", f"{self.length} bytes"),
            ("HkdfLabel (info)", self.info.hex()),
            ("output", self.output.hex()),
        ]


def _context(step: Step, transcripts: Mapping[str, bytes], hash_name: str) -> tuple[str, bytes]:
    if step.operation == "HKDF-Expand-Label":
        return '""', b""
    if step.stage is None:
        return 'Transcript-Hash("")', transcript_hash(b"", hash_name)
    if step.stage not in transcripts:
        raise KeyError(f"no transcript for stage {step.stage!r} ({STAGES[step.stage]})")
    return f"Transcript-Hash({STAGES[step.stage]})", transcript_hash(transcripts[step.stage], hash_name)


def derivation_inputs(
    name: str,
    values: Mapping[str, bytes],
    transcripts: Mapping[str, bytes],
    hash_name: str = "sha256",
    suite: Suite | None = None,
) -> Derivation:
    """The inputs of ``values[name]`` (label, context hash, length, HkdfLabel), recomputed from them.

    ``values`` comes from ``compute_key_schedule``; the output is recomputed
    here with ``hkdf_extract`` / ``hkdf_expand_label`` from the inputs shown,
    so ``derivation.output == values[name]`` checks the explanation itself.
    """
    if name not in STEPS:
        raise KeyError(f"{name!r} is not a key schedule value; choose from {', '.join(STEPS)}")
    step = STEPS[name]
    suite = suite or default_suite(hash_name)
    zeros = bytes(suite.hash_len)  # "0" in the §7.1 diagram; ``values`` need not carry it
    secret = values.get(step.secret, zeros) if step.secret == "zeros" else values[step.secret]
    if step.operation == "HKDF-Extract":
        ikm_name = step.ikm if step.ikm in values else "zeros"
        ikm = values.get(ikm_name, zeros)
        output = hkdf_extract(secret, ikm, hash_name)
        return Derivation(
            name, step.operation, step.secret, secret, ikm_name, ikm, b"", "", b"", len(output), b"", output
        )
    context_name, context = _context(step, transcripts, hash_name)
    length = {"hash": len(secret), "key": suite.key_len, "iv": suite.iv_len}[step.length]
    output = hkdf_expand_label(secret, step.label, context, length, hash_name)
    info = hkdf_label(step.label, context, length)
    return Derivation(
        name,
        step.operation,
        step.secret,
        secret,
        "",
        b"",
        step.label,
        context_name,
        context,
        length,
        info,
        output,
    )


def derivation_html(derivation: Derivation, expected: bytes | None = None) -> str:
    """A small HTML table of ``derivation.rows()``; with ``expected``, a ✓/✗ against it."""
    rows = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(k)}</th>'
        f'<td style="text-align:left;font-family:monospace;word-break:break-all">{html.escape(v)}</td></tr>'
        for k, v in derivation.rows()
    )
    verdict = ""
    if expected is not None:
        ok = derivation.output == expected
        verdict = f"<p>{'✓ matches' if ok else '✗ differs from'} the value computed by KeySchedule</p>"
    return f"<h4>{html.escape(derivation.name)}</h4><table>{rows}</table>{verdict}"


def key_schedule_explorer(
    values: Mapping[str, bytes], transcripts: Mapping[str, bytes], hash_name: str = "sha256"
) -> Any:
    """A dropdown of the values; picking one shows ``derivation_html`` (ipywidgets 7.7 API)."""
    import ipywidgets as widgets

    names = [n for n in STEPS if n in values]
    choose = widgets.Dropdown(options=names, value=names[0], description="value")
    view = widgets.HTML()

    def render(name: str) -> None:
        view.value = derivation_html(derivation_inputs(name, values, transcripts, hash_name), values[name])

    choose.observe(lambda change: render(change["new"]), names="value")
    render(names[0])
    return widgets.VBox([choose, view])


# ---------------------------------------------------------------- the figure

_FONT = 8.5  # points
_LINE = _FONT * 1.45 / 72  # inches per text line
_PAD = 0.14  # inches of box padding, top + bottom
_GAP = 0.16  # inches between branch boxes
_COLOURS = {
    "early": "#fff3bf",
    "handshake": "#d0ebff",
    "master": "#d3f9d8",
    "derived": "#f1f3f5",
    "input": "#ffffff",
}
_ABBREV = {"early_secret": "ES", "handshake_secret": "HS", "master_secret": "MS"}

# (spine secret, its branches) for each of the three extracted secrets of §7.1
_GROUPS = (
    ("early", "early_secret", ("binder_key", "client_early_traffic_secret", "early_exporter_master_secret")),
    ("handshake", "handshake_secret", ("client_handshake_traffic_secret", "server_handshake_traffic_secret")),
    (
        "master",
        "master_secret",
        (
            "client_application_traffic_secret_0",
            "server_application_traffic_secret_0",
            "exporter_master_secret",
            "resumption_master_secret",
        ),
    ),
)


def _branch_text(name: str, values: Mapping[str, bytes], nbytes: int) -> str:
    step = STEPS[name]
    stage = _SHORT_STAGE[step.stage] if step.stage else '""'
    lines = [
        name,
        f'Derive-Secret({_ABBREV[step.secret]}, "{step.label.decode()}", {stage})',
        f"= {short_hex(values[name], nbytes)}",
    ]
    prefix = _TRAFFIC.get(name)
    if prefix and f"{prefix}_write_key" in values:
        key, iv = values[f"{prefix}_write_key"], values[f"{prefix}_write_iv"]
        lines.append(f"  key {short_hex(key, nbytes)}  iv {short_hex(iv, nbytes)}")
    if name in _FINISHED and _FINISHED[name] in values:
        lines.append(f"  finished_key {short_hex(values[_FINISHED[name]], nbytes)}")
    return "\n".join(lines)


def _spine_text(kind: str, values: Mapping[str, bytes], nbytes: int) -> str:
    salt, ikm = {"early": ("0", "PSK"), "handshake": ("derived", "(EC)DHE"), "master": ("derived", "0")}[kind]
    title = {"early": "Early Secret", "handshake": "Handshake Secret", "master": "Master Secret"}[kind]
    return f"{title}\nHKDF-Extract(salt={salt}, IKM={ikm})\n= {short_hex(values[f'{kind}_secret'], nbytes)}"


def _height(text: str) -> float:
    return text.count("\n") * _LINE + _LINE + _PAD


def _box(ax: Any, x: float, y: float, text: str, colour: str, ha: str = "center", **kw: Any) -> Any:
    style = {"boxstyle": "round,pad=0.45", "facecolor": colour, "edgecolor": "#495057", "linewidth": 0.8}
    style.update(kw.pop("bbox", {}))
    return ax.text(x, y, text, ha=ha, va="center", family="monospace", fontsize=_FONT, bbox=style, **kw)


def _arrow(ax: Any, source: Any, target: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate(
        "",
        xy=end,
        xycoords=target,
        xytext=start,
        textcoords=source,
        arrowprops={"arrowstyle": "-|>", "color": "#495057", "lw": 0.9, "shrinkA": 2, "shrinkB": 2},
    )


def key_schedule_figure(values: Mapping[str, bytes], hash_name: str = "sha256", nbytes: int = 8) -> Any:
    """The RFC 8446 §7.1 diagram with the values of one run (first ``nbytes`` bytes, hex).

    ``values`` maps RFC 8448 names to bytes: what ``compute_key_schedule``
    returns, or the secrets of a key schedule written in a notebook. The
    three extracted secrets and the two "derived" salts are needed; the
    branches, the inputs (``"psk"`` or ``"zeros"``, ``"ecdhe_shared_secret"``)
    and the keys are drawn when present. The three extracted secrets run down
    the middle, their inputs (PSK, (EC)DHE, 0) come in from the left, and
    every Derive-Secret branches off to the right with the AEAD key and IV
    (§7.3) of each traffic secret written under it.
    """
    import matplotlib.pyplot as plt

    width, spine_x, input_x, branch_x = 10.0, 3.05, 0.75, 5.0
    placed: list[tuple[str, str, str, float]] = []  # (kind, role, text, y centre)
    y = 0.0
    for index, (kind, spine, branches) in enumerate(_GROUPS):
        present = [b for b in branches if b in values]
        texts = [_branch_text(b, values, nbytes) for b in present]
        heights = [_height(t) for t in texts]
        spine_text = _spine_text(kind, values, nbytes)
        total = max(sum(heights) + _GAP * (len(texts) - 1), _height(spine_text))
        top = y
        for text, h in zip(texts, heights, strict=True):
            placed.append((kind, "branch", text, top - h / 2))
            top -= h + _GAP
        placed.append((kind, "spine", spine_text, y - total / 2))
        y -= total + _GAP
        if index < 2:
            derived = "derived_secret_for_handshake" if kind == "early" else "derived_secret_for_master"
            text = f'Derive-Secret({_ABBREV[spine]}, "derived", "")\n= {short_hex(values[derived], nbytes)}'
            placed.append((kind, "derived", text, y - _height(text) / 2 - 0.1))
            y -= _height(text) + 0.2 + _GAP
    height = -y + 0.9
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(y - 0.45, 0.45)
    ax.axis("off")
    _draw(ax, placed, values, nbytes, spine_x, input_x, branch_x)
    with_keys = any(name.endswith("_write_key") for name in values)
    keys = f"; keys and IVs for {default_suite(hash_name).name}" if with_keys else ""
    sections = "§7.1, §7.3, §4.4.4" if with_keys else "§7.1"
    ax.text(
        0.1,
        y - 0.3,
        f"{hash_name.upper()} (Hash.length {len(values['early_secret'])}){keys}. "
        "ES/HS/MS: Early/Handshake/Master Secret; CH…SH: Transcript-Hash(ClientHello…ServerHello),\n"
        f"SF/CF: server/client Finished. Values: first bytes, hex. RFC 8446 {sections}.",
        fontsize=_FONT - 0.5,
        color="#495057",
        va="center",
    )
    return fig


def _draw(
    ax: Any,
    placed: list[tuple[str, str, str, float]],
    values: Mapping[str, bytes],
    nbytes: int,
    spine_x: float,
    input_x: float,
    branch_x: float,
) -> None:
    spines: dict[str, Any] = {}
    chain: list[Any] = []
    branches: list[tuple[str, Any]] = []
    for kind, role, text, y in placed:
        if role == "branch":
            unused = kind == "early" and "psk" not in values
            colour = "#f8f9fa" if unused else _COLOURS[kind]
            artist = _box(ax, branch_x, y, text, colour, ha="left", color="#868e96" if unused else "#000")
            branches.append((kind, artist))
        elif role == "spine":
            artist = _box(ax, spine_x, y, text, _COLOURS[kind], fontweight="bold")
            spines[kind] = artist
            chain.append(artist)
            ikm = {"early": "psk" if "psk" in values else "zeros", "handshake": "ecdhe_shared_secret"}.get(
                kind
            )
            label = {"psk": "PSK", "zeros": "0 (no PSK)", "ecdhe_shared_secret": "(EC)DHE"}.get(
                ikm or "", "0"
            )
            shown = (
                f"{label}\n{short_hex(values[ikm], nbytes)}" if ikm is not None and ikm in values else label
            )
            source = _box(ax, input_x, y, shown, _COLOURS["input"], bbox={"linestyle": "--"})
            _arrow(ax, source, artist, (1, 0.5), (0, 0.5))
        else:
            chain.append(_box(ax, spine_x, y, text, _COLOURS["derived"]))
    for upper, lower in zip(chain, chain[1:], strict=False):
        _arrow(ax, upper, lower, (0.5, 0), (0.5, 1))
    for kind, artist in branches:
        _arrow(ax, spines[kind], artist, (1, 0.5), (0, 0.5))
    if "psk" not in values:
        early = [a for k, a in branches if k == "early"]
        if early:
            ax.text(
                branch_x,
                early[0].get_position()[1] + 0.42,
                "(no PSK: computed, but unused)",
                fontsize=_FONT - 0.5,
                color="#868e96",
                va="center",
            )
