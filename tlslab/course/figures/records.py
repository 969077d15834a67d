"""Pictures of a protected TLS 1.3 record and of its nonce (RFC 8446 §5.2, §5.3).

A TLSCiphertext record is a 5-byte header (``17 03 03`` and a length) that is
also the AEAD's additional data, then the encrypted TLSInnerPlaintext
(content | real content type | zero padding), then the AEAD tag. The AEADs of
TLS 1.3 encrypt byte for byte, so byte ``i`` of the ciphertext hides byte ``i``
of the inner plaintext: the figures and fields below use that to show where
the hidden content type sits inside the ciphertext.

The nonce of record number ``seq`` is the write IV XOR the 64-bit sequence
number left-padded with zeros to the IV's length (§5.3).

Every function takes the bytes the notebook just computed; ``record_fields``
and ``inner_plaintext_fields`` are for ``tlslab.course.nb.annotated_hex``, the
``*_figure`` functions return matplotlib Figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlslab.constants import ContentType
from tlslab.course.nb import short_hex
from tlslab.errors import TLSError
from tlslab.record import HEADER_LEN, decode_inner_plaintext, per_record_nonce, read_record
from tlslab.wire import Reader


def _type_name(content_type: int) -> str:
    try:
        return ContentType(content_type).name
    except ValueError:
        return f"unknown type {content_type}"


def inner_parts(inner: bytes) -> tuple[int, int, int]:
    """(content length, content type, padding length) of a TLSInnerPlaintext (§5.2, §5.4)."""
    content_type, content = decode_inner_plaintext(inner)
    return len(content), content_type, len(inner) - len(content) - 1


def inner_plaintext_fields(inner: bytes) -> list[Any]:
    """Fields of a decrypted TLSInnerPlaintext: content, type, zeros (for ``annotated_hex``)."""
    n, content_type, padding = inner_parts(inner)
    fields: list[Any] = [
        (0, n, f"content ({n} bytes)"),
        (n, n + 1, f"type = {content_type} ({_type_name(content_type)})"),
    ]
    if padding:
        fields.append((n + 1, n + 1 + padding, f"zeros: padding ({padding} bytes)"))
    return fields


def record_fields(record: bytes, inner: bytes | None = None, tag_len: int = 16) -> list[Any]:
    """Fields of a TLSCiphertext record (§5.2) for ``annotated_hex``.

    With the decrypted ``inner`` plaintext, the encrypted part is split into
    where the content, the hidden type and the padding sit (same positions,
    since the AEAD encrypts byte for byte).
    """
    heard: dict[str, tuple[int, int, Any]] = {}  # the core's record reader names each field

    def hear(name: str, start: int, end: int, value: object) -> None:
        heard.setdefault(name, (start, end, value))

    reader = Reader(record, "record", hear)
    try:
        read_record(reader)
        whole = reader.done() and len(record) - HEADER_LEN >= tag_len
    except TLSError:
        whole = False
    if not whole:
        raise ValueError(f"not one whole protected record of at least {tag_len} bytes ({len(record)} bytes)")
    (type_start, type_end, content_type), (v_start, v_end, version), (l_start, l_end, length) = (
        heard["type"],
        heard["legacy_record_version"],
        heard["length"],
    )
    end = len(record) - tag_len
    header = (
        0,
        HEADER_LEN,
        "header = additional data",
        [
            (type_start, type_end, f"opaque_type = {content_type} ({_type_name(content_type)})"),
            (v_start, v_end, f"legacy_record_version = 0x{version:04x}"),
            (l_start, l_end, f"length = {length}"),
        ],
    )
    encrypted: tuple[Any, ...] = (HEADER_LEN, end, f"encrypted_record ({end - HEADER_LEN} bytes)")
    if inner is not None:
        if len(inner) != end - HEADER_LEN:
            raise ValueError(f"inner plaintext has {len(inner)} bytes, the ciphertext {end - HEADER_LEN}")
        n, content_type, padding = inner_parts(inner)
        children = [
            (HEADER_LEN, HEADER_LEN + n, f"encrypted content ({n} bytes)"),
            (HEADER_LEN + n, HEADER_LEN + n + 1, f"encrypted type ({_type_name(content_type)})"),
        ]
        if padding:
            children.append((HEADER_LEN + n + 1, end, f"encrypted zeros ({padding} bytes)"))
        encrypted = (*encrypted, children)
    return [header, encrypted, (end, len(record), f"tag ({tag_len} bytes)")]


# ---------------------------------------------------------------- drawing helpers

_FONT = 9
_BLUE, _ORANGE, _GREEN, _GREY, _PINK = "#a5d8ff", "#ffd8a8", "#b2f2bb", "#e9ecef", "#fcc2d7"


def _segment(ax: Any, x: float, y: float, w: float, h: float, colour: str, text: str) -> Any:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor="#343a40", linewidth=0.9))
    return ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", family="monospace", fontsize=_FONT)


def _hex_start(data: bytes, nbytes: int) -> str:
    return short_hex(data, nbytes, sep=" ", more=" …")


def record_figure(record: bytes, inner: bytes, tag_len: int = 16) -> Any:
    """A protected record on the wire (header | encrypted_record | tag) above its decrypted inside.

    ``record`` is the whole TLSCiphertext, ``inner`` the TLSInnerPlaintext the
    notebook decrypted from it. Widths are not to scale (the header is 5 bytes,
    the content hundreds); every box says its size.
    """
    import matplotlib.pyplot as plt

    record_fields(record, inner, tag_len)  # checks that record and inner fit together
    n, content_type, padding = inner_parts(inner)
    end = len(record) - tag_len
    fig, ax = plt.subplots(figsize=(10, 3.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 3.4)
    ax.axis("off")
    h, top, bottom = 0.75, 2.05, 0.35
    length = int.from_bytes(record[3:5], "big")
    _segment(ax, 0.2, top, 2.1, h, _GREY, f"header · 5 bytes\n{record[:5].hex(' ')}\nlength {length}")
    _segment(
        ax, 2.3, top, 5.5, h, _BLUE, f"encrypted_record · {end - 5} bytes\n{_hex_start(record[5:end], 10)}"
    )
    _segment(ax, 7.8, top, 2.0, h, _PINK, f"tag · {tag_len} bytes\n{_hex_start(record[end:], 5)}")
    ax.text(1.25, top + h + 0.12, "additional data (AAD)", ha="center", fontsize=_FONT - 0.5, color="#495057")
    ax.text(
        5.05,
        top + h + 0.12,
        "on the wire: every record says application_data, 0x0303",
        ha="center",
        fontsize=_FONT - 0.5,
        color="#495057",
    )
    ax.text(
        8.8,
        top + h + 0.12,
        "checked before anything is used",
        ha="center",
        fontsize=_FONT - 0.5,
        color="#495057",
    )
    pad_w = 0.9 if padding else 0.7
    type_w = 1.4
    content_w = 5.5 - type_w - pad_w
    _segment(ax, 2.3, bottom, content_w, h, _GREEN, f"content · {n} bytes\n{_hex_start(inner[:n], 6)}")
    _segment(
        ax,
        2.3 + content_w,
        bottom,
        type_w,
        h,
        _ORANGE,
        f"type · 1 B\n0x{content_type:02x}\n{_type_name(content_type)}",
    )
    _segment(ax, 7.8 - pad_w, bottom, pad_w, h, "#ffffff", f"zeros\n{padding} B")
    for x in (2.3, 7.8):
        ax.plot([x, x], [top, bottom + h], linestyle=":", color="#495057", linewidth=1)
    ax.text(
        5.05,
        (top + bottom + h) / 2,
        "AEAD-decrypt(key, nonce, AAD = header) → TLSInnerPlaintext",
        ha="center",
        va="center",
        fontsize=_FONT,
        style="italic",
    )
    ax.text(
        0.2,
        bottom + h / 2,
        "inside:\ncontent | type | zeros",
        va="center",
        fontsize=_FONT - 0.5,
        color="#495057",
    )
    return fig


def nonce_rows(iv: bytes, seq: int) -> tuple[bytes, bytes, bytes]:
    """(write IV, sequence number padded to the IV's length, nonce) for record ``seq`` (§5.3)."""
    padded = seq.to_bytes(8, "big").rjust(len(iv), b"\x00")
    return iv, padded, per_record_nonce(iv, seq)


def nonce_figure(iv: bytes, seq: int, nonce: bytes | None = None) -> Any:
    """The per-record nonce as three rows of bytes: write_iv, ⊕ padded seq, = nonce (RFC 8446 §5.3).

    Bytes of the nonce that differ from the IV are orange: for small ``seq``
    only the last ones change, which is all a nonce needs (it must never
    repeat under one key; it need not be secret or random). ``nonce`` is the
    one a notebook computed, drawn as given; by default tlslab's.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    iv, padded, computed = nonce_rows(iv, seq)
    nonce = computed if nonce is None else nonce
    if len(nonce) != len(iv):
        raise ValueError(f"a nonce is as long as the IV ({len(iv)} bytes), not {len(nonce)}")
    cell, left = 0.6, 2.9
    fig, ax = plt.subplots(figsize=(left + cell * len(iv) + 0.3, 2.5))
    ax.set_xlim(0, left + cell * len(iv) + 0.3)
    ax.set_ylim(0, 2.5)
    ax.axis("off")
    rows: list[tuple[str, bytes, Callable[[int], str]]] = [
        (f"write_iv ({len(iv)} bytes)", iv, lambda i: "#e9ecef"),
        (f"seq = {seq}, 64-bit, padded", padded, lambda i: "#ffffff" if i < len(iv) - 8 else "#d0ebff"),
        ("nonce = iv ⊕ seq", nonce, lambda i: "#ffd8a8" if nonce[i] != iv[i] else "#e9ecef"),
    ]
    for r, (label, data, colour) in enumerate(rows):
        y = 1.75 - r * 0.7
        ax.text(left - 0.15, y + 0.25, label, ha="right", va="center", fontsize=_FONT)
        for i, byte in enumerate(data):
            ax.add_patch(
                Rectangle((left + i * cell, y), cell, 0.5, facecolor=colour(i), edgecolor="#343a40", lw=0.8)
            )
            ax.text(
                left + (i + 0.5) * cell,
                y + 0.25,
                f"{byte:02x}",
                ha="center",
                va="center",
                family="monospace",
                fontsize=_FONT + 1,
            )
    ax.text(
        left,
        2.35,
        f"RFC 8446 §5.3: the nonce of record {seq}",
        ha="left",
        fontsize=_FONT - 0.5,
        color="#495057",
    )
    ax.plot([left, left + cell * len(iv)], [0.95, 0.95], color="#343a40", lw=1.2)
    return fig
