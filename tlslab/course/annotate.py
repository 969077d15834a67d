"""Every byte of a TLS 1.3 record or handshake message, labelled and explained (RFC 8446 §3-§6).

This is "The Illustrated TLS 1.3 Connection" as data: ``annotate_handshake(raw)``
returns a list of ``Span`` objects that tile the message exactly, each with a label
("legacy_version: 0x0303"), a sentence of explanation, and children for the parts
inside it (a vector's length prefix and items, an extension's type, length and body).

Nothing here parses the wire. The core's decoders read the bytes, and a
``tlslab.wire.Recorder`` hears where each field they name lies:
``tlslab.record.read_record`` and ``decode_alert`` for records (§5.1, §6),
``tlslab.messages.decode_handshake`` for messages (§4), and for each extension body
the class ``tlslab.extensions.body_class`` names (§4.2). This module only nests what
they heard and says it in words; a body no decoder takes (unknown, GREASE, malformed)
is shown as opaque bytes under its name from ``tlslab.constants``.

    >>> from tlslab.course.rfc8448 import trace
    >>> spans = annotate_handshake(trace("simple_1rtt")["client_hello"])
    >>> [(s.start, s.end, s.label) for s in spans[:2]]
    [(0, 4, 'handshake header: client_hello'), (4, 6, 'legacy_version: 0x0303')]

``to_fields(spans)`` turns spans into what ``tlslab.course.nb.annotated_hex`` and
``tlslab.course.nb.hex_explorer`` draw; ``explain(spans)`` prints them as a table.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from tlslab.constants import (
    TLS10,
    TLS11,
    TLS12,
    TLS13,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    NameType,
    PskKeyExchangeMode,
    SignatureScheme,
    is_grease,
    name_of,
)
from tlslab.course.nb import PALETTE, equal_runs
from tlslab.errors import AlertDescription, AlertLevel, TLSError
from tlslab.extensions import body_class
from tlslab.messages import HandshakeBuffer, HelloRetryRequest, decode_handshake
from tlslab.record import HEADER_LEN, decode_alert, read_record
from tlslab.wire import Reader

__all__ = [
    "Span",
    "annotate",
    "annotate_handshake",
    "annotate_record",
    "annotated",
    "explain",
    "explorer",
    "find",
    "sections",
    "to_fields",
    "walk",
    "walkthrough",
]


@dataclass
class Span:
    """Bytes ``start:end`` (end exclusive, like a slice) of the annotated data, with their meaning."""

    start: int
    end: int
    label: str
    explanation: str = ""
    children: list[Span] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.end - self.start


def walk(spans: list[Span], depth: int = 0) -> Iterator[tuple[int, Span]]:
    """``(depth, span)`` for every span and sub-span, parents before their children."""
    for span in spans:
        yield depth, span
        yield from walk(span.children, depth + 1)


def find(spans: list[Span], label_start: str) -> Span:
    """The first span (depth first) whose label starts with ``label_start``."""
    for _, span in walk(spans):
        if span.label.startswith(label_start):
            return span
    raise KeyError(f"no span labelled {label_start!r}...")


def _shift(spans: list[Span], offset: int) -> list[Span]:
    return [
        replace(s, start=s.start + offset, end=s.end + offset, children=_shift(s.children, offset))
        for s in spans
    ]


def _bytes(n: int) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def _version_name(value: int) -> str:
    names = {TLS13: "TLS 1.3", TLS12: "TLS 1.2", TLS11: "TLS 1.1", TLS10: "TLS 1.0"}
    if is_grease(value):
        return f"GREASE({value:#06x})"
    return f"{value:#06x} ({names[value]})" if value in names else f"{value:#06x}"


def _subject(der: bytes) -> str:
    try:
        from cryptography import x509

        return x509.load_der_x509_certificate(der).subject.rfc4514_string() or "(empty subject)"
    except (ValueError, TypeError):
        return "(not a certificate we can parse)"


# ----------------------------------------------------------------------------- what the decoders name


class _Heard:
    """A ``tlslab.wire.Recorder``: keeps what the decoders name, then nests it by offsets."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, int, object]] = []

    def __call__(self, name: str, start: int, end: int, value: object) -> None:
        self.heard.append((name, start, end, value))

    def tree(self) -> list[_Node]:
        root: list[_Node] = []
        stack: list[_Node] = []
        order = sorted(range(len(self.heard)), key=lambda i: (self.heard[i][1], -self.heard[i][2], i))
        for i in order:
            node = _Node(*self.heard[i])
            while stack and not stack[-1].start <= node.start <= node.end <= stack[-1].end:
                stack.pop()
            (stack[-1].children if stack else root).append(node)
            stack.append(node)
        return root


@dataclass
class _Node:
    name: str
    start: int
    end: int
    value: object
    children: list[_Node] = field(default_factory=list)


RANDOM_WHY = "32 random bytes; they make this handshake's keys unique (RFC 8446 §4.1.2)"
LEGACY_VERSION_WHY = (
    "frozen at TLS 1.2 so old middleboxes let it through; the real one is in supported_versions"
)

# Teaching text for the fields the decoders name: (message, field) first, then the field alone.
FIELD_WHY: dict[str, str] = {
    # records (RFC 8446 §5.1) and alerts (§6)
    "type": "what the record carries (RFC 8446 §5.1)",
    "legacy_record_version": "0x0303, or 0x0301 in a first ClientHello",
    "level": "ignored in TLS 1.3 but for close_notify",
    "description": "what went wrong (RFC 8446 §6)",
    # handshake messages (§4)
    "legacy_version": LEGACY_VERSION_WHY,
    "random": RANDOM_WHY,
    "legacy_session_id": "TLS 1.2 leftover; 32 bytes only in compatibility mode (Appendix D.4)",
    "cipher_suites": "AEAD + hash pairs the client accepts, preferred first (Appendix B.4)",
    "CipherSuite": "an AEAD algorithm and a hash",
    "legacy_compression_methods": "always one byte 0: no compression",
    "legacy_session_id_echo": "the client's legacy_session_id, echoed",
    "cipher_suite": "the suite the server chose",
    "legacy_compression_method": "always 0",
    "extensions": "the extension block (RFC 8446 §4.2)",
    "certificate_list": "the chain, end-entity first",
    "cert_data": "one DER-encoded X.509 certificate",
    "CertificateEntry": "a certificate and its extensions",
    "algorithm": "how the signature was made",
    "signature": "signature over the transcript hash (RFC 8446 §4.4.3)",
    "verify_data": "HMAC of the transcript hash (RFC 8446 §4.4.4)",
    "ticket_lifetime": "seconds the ticket may be used",
    "ticket_age_add": "random number that hides the ticket's age",
    "ticket_nonce": "makes each ticket's PSK different",
    "ticket": "opaque to the client: the server's encrypted session state",
    "request_update": "1 = please update your keys too",
    # extension bodies (§4.2, RFC 6066 §3, RFC 7301 §3.1, RFC 8449 §4)
    "server_name_list": "the names the client asks for",
    "ServerName": "one entry of the list",
    "name_type": "0 = host_name, the only kind",
    "host_name": "the server's DNS name, ASCII",
    "NamedGroup": "a key-exchange group",
    "client_shares": "one key per group guessed",
    "KeyShareEntry": "one public key",
    "group": "which group this public key belongs to",
    "key_exchange": "the public key: for x25519, 32 bytes (RFC 8446 §4.2.8.2)",
    "selected_group": "send me a key share for this group",
    "SignatureScheme": "a signature algorithm",
    "ProtocolVersion": "a version the client speaks",
    "selected_version": "the version the server chose",
    "ProtocolName": "an ALPN protocol name, ASCII",
    "PskKeyExchangeMode": "psk_dhe_ke: resume AND do a fresh key exchange (forward secrecy)",
    "PskIdentity": "one offered ticket",
    "identity": "the ticket the server gave earlier",
    "obfuscated_ticket_age": "ticket age in ms plus ticket_age_add, mod 2^32",
    "PskBinderEntry": "HMAC over the ClientHello so far (RFC 8446 §4.2.11.2)",
    "selected_identity": "which offered ticket the server accepted",
    "max_early_data_size": "how many 0-RTT bytes the server will take",
    "cookie": "opaque server state, echoed back in ClientHello 2",
    "record_size_limit": "largest plaintext record accepted",
}
MESSAGE_FIELD_WHY: dict[tuple[str, str], str] = {
    ("ServerHello", "random"): "32 random bytes from the server (RFC 8446 §4.1.3)",
    ("HelloRetryRequest", "random"): (
        "the fixed HelloRetryRequest value: SHA-256 of 'HelloRetryRequest' (RFC 8446 §4.1.3)"
    ),
    ("CertificateRequest", "certificate_request_context"): "empty during the handshake",
    ("Certificate", "certificate_request_context"): "empty for the server's certificate",
    ("CertificateEntry", "extensions"): "per-certificate extensions (OCSP, SCT)",
}
# Code points shown by name.
FIELD_ENUMS: dict[str, type[IntEnum]] = {
    "type": ContentType,
    "level": AlertLevel,
    "description": AlertDescription,
    "msg_type": HandshakeType,
    "cipher_suite": CipherSuite,
    "CipherSuite": CipherSuite,
    "algorithm": SignatureScheme,
    "name_type": NameType,
    "NamedGroup": NamedGroup,
    "group": NamedGroup,
    "selected_group": NamedGroup,
    "SignatureScheme": SignatureScheme,
    "PskKeyExchangeMode": PskKeyExchangeMode,
}
VERSIONS = {"ProtocolVersion", "selected_version"}  # shown as "0x0304 (TLS 1.3)"
TEXT = {"host_name", "ProtocolName"}  # ASCII names, shown as text
# A list item is labelled by what it is, not by its type's name.
ITEM_LABELS = {
    "type": "content_type",
    "CipherSuite": "cipher_suite",
    "NamedGroup": "named_group",
    "SignatureScheme": "signature_scheme",
    "ProtocolVersion": "version",
    "ProtocolName": "protocol_name",
    "PskKeyExchangeMode": "ke_mode",
    "PskBinderEntry": "binder",
}
# A structure is titled by one of its fields: "KeyShareEntry: x25519".
TITLED_BY = {"CertificateEntry": "cert_data", "ServerName": "host_name", "KeyShareEntry": "group"}


def _spans(nodes: list[_Node], where: str) -> list[Span]:
    return [_span(node, where) for node in nodes]


def _span(node: _Node, where: str) -> Span:
    """The Span of one field a decoder named, with its label and explanation; ``where``: its struct."""
    name, value = node.name, node.value
    label = ITEM_LABELS.get(name, name)
    why = MESSAGE_FIELD_WHY.get((where, name), FIELD_WHY.get(name, ""))
    if name == "Extension":
        return _extension_span(node, where)
    if value is None:  # a structure of several fields (Reader.mark)
        children = _spans(node.children, name)
        if name in TITLED_BY:
            title = next(c for c, n in zip(children, node.children, strict=True) if n.name == TITLED_BY[name])
            label = f"{name}: {title.label.split(': ', 1)[1]}"
        return Span(node.start, node.end, label, why, children)
    if isinstance(value, int):
        if name in FIELD_ENUMS:
            shown = name_of(FIELD_ENUMS[name], value)
        elif name in VERSIONS:
            shown = _version_name(value)
        elif name.startswith("legacy_") and name.endswith("version"):
            shown = f"{value:#06x}"
        else:
            shown = str(value)
        return Span(node.start, node.end, f"{label}: {shown}", why)
    data = value if isinstance(value, bytes) else b""
    if node.children and node.children[0].name == "length":  # a vector (RFC 8446 §3.4)
        length, *items = node.children
        size = length.end - length.start
        length_span = Span(
            length.start, length.end, f"length: {length.value}",
            f"uint{8 * size}: how many bytes of {label} follow",
        )  # fmt: skip
        children = _spans(items, where)
        if not children and node.end > length.end:
            children = [Span(length.end, node.end, f"{label} ({_bytes(node.end - length.end)})", why)]
        if name == "cert_data":
            label = f"cert_data: {_subject(data)}"
        elif name in TEXT:
            label = f"{label}: {data.decode('ascii', 'replace')}"
        return Span(node.start, node.end, label, why, [length_span, *children])
    return Span(node.start, node.end, f"{label} ({_bytes(node.end - node.start)})", why)


# ----------------------------------------------------------------------------- extensions (§4.2)

# Keyed by name (tlslab.constants names every code point here, OTHER_NAMES the ones the core does not use).
EXTENSION_EXPLANATIONS: dict[str, str] = {
    "server_name": "SNI: the host name the client wants, sent in the clear (RFC 6066 §3)",
    "supported_groups": "key-exchange groups the client can use, preferred first (RFC 8446 §4.2.7)",
    "signature_algorithms": "signatures the client can verify (RFC 8446 §4.2.3)",
    "signature_algorithms_cert": "signatures the client accepts in certificates (RFC 8446 §4.2.3)",
    "application_layer_protocol_negotiation": "ALPN: which protocol runs inside (RFC 7301)",
    "key_share": "the ephemeral Diffie-Hellman public keys (RFC 8446 §4.2.8)",
    "supported_versions": "the real version negotiation: TLS 1.3 is 0x0304 (RFC 8446 §4.2.1)",
    "psk_key_exchange_modes": "how a resumed session may use a ticket (RFC 8446 §4.2.9)",
    "pre_shared_key": "resumption tickets offered, with binders (RFC 8446 §4.2.11)",
    "early_data": "0-RTT data (RFC 8446 §4.2.10)",
    "cookie": "state the server asks the client to echo (RFC 8446 §4.2.2)",
    "padding": "zeros that make the ClientHello a certain size (RFC 7685)",
    "status_request": "OCSP stapling (RFC 6066 §8)",
    "signed_certificate_timestamp": "Certificate Transparency (RFC 6962)",
    "post_handshake_auth": "the client accepts a certificate request later (RFC 8446 §4.2.6)",
    "record_size_limit": "record_size_limit: the largest record the sender accepts (RFC 8449)",
    "renegotiation_info": "renegotiation_info: a TLS 1.2 safety signal (RFC 5746)",
    "session_ticket": "session_ticket: TLS 1.2 tickets (RFC 5077)",
    "extended_master_secret": "extended_master_secret: a TLS 1.2 fix (RFC 7627)",
    "ec_point_formats": "ec_point_formats: for TLS 1.2 clients (RFC 8422)",
    "encrypt_then_mac": "encrypt_then_mac: for TLS 1.2 CBC suites (RFC 7366)",
}


def extension_name(ext_type: int) -> str:
    """``server_name``, ``record_size_limit``, ``GREASE(0x1a1a)`` or ``unknown(0x1234)``."""
    return name_of(ExtensionType, ext_type)


def _extension_span(node: _Node, where: str) -> Span:
    """One Extension: its type, the length of its data, and the data (RFC 8446 §4.2)."""
    type_node, data_node = node.children
    ext_type = type_node.value if isinstance(type_node.value, int) else -1
    name = extension_name(ext_type)
    length = data_node.children[0]
    body = data_node.value if isinstance(data_node.value, bytes) else b""
    children = [
        Span(type_node.start, type_node.end, f"extension_type: {name}", f"{ext_type:#06x} = {name}"),
        Span(length.start, length.end, f"length: {len(body)}", "uint16: bytes of extension_data"),
        *_extension_data(ext_type, where, body, length.end),
    ]
    explanation = EXTENSION_EXPLANATIONS.get(name, "")
    if not explanation and is_grease(ext_type):
        explanation = "GREASE: a random value servers must ignore (RFC 8701)"
    return Span(node.start, node.end, f"extension: {name}", explanation, children)


def _extension_data(ext_type: int, where: str, body: bytes, base: int) -> list[Span]:
    """The Spans tiling one ``extension_data`` in message ``where``, as its decoder reads it.

    Opaque when tlslab has no decoder for it there (unknown, GREASE) or the decoder refuses it.
    """
    if not body:
        return []
    decoder = body_class(ext_type, where)
    if decoder is not None:
        heard = _Heard()
        try:
            decoder.decode(body, heard, base)
        except TLSError:
            pass
        else:
            return _spans(heard.tree(), where)
    why = "padding: zeros" if ext_type == ExtensionType.padding else "opaque: tlslab does not look inside"
    return [Span(base, base + len(body), f"extension_data ({_bytes(len(body))})", why)]


# ----------------------------------------------------------------------------- messages (§4)

MESSAGE_EXPLANATIONS = {
    HandshakeType.client_hello: "the client's offer (RFC 8446 §4.1.2)",
    HandshakeType.server_hello: "the server's choices (RFC 8446 §4.1.3)",
    HandshakeType.encrypted_extensions: "the server's other answers, already encrypted (RFC 8446 §4.3.1)",
    HandshakeType.certificate_request: "the server asks for a client certificate (RFC 8446 §4.3.2)",
    HandshakeType.certificate: "the certificate chain (RFC 8446 §4.4.2)",
    HandshakeType.certificate_verify: "a signature proving the key matches the certificate (RFC 8446 §4.4.3)",
    HandshakeType.finished: "a MAC over the whole handshake (RFC 8446 §4.4.4)",
    HandshakeType.new_session_ticket: "a ticket for resuming later (RFC 8446 §4.6.1)",
    HandshakeType.key_update: "new keys from now on (RFC 8446 §4.6.3)",
    HandshakeType.end_of_early_data: "the end of 0-RTT data (RFC 8446 §4.5)",
}


def message_name(raw_message: bytes) -> str:
    """The RFC name of a whole handshake message: ``ClientHello``, ``HelloRetryRequest``, ..."""
    return type(decode_handshake(raw_message)).__name__


def _message(raw_message: bytes) -> tuple[str, list[Span]]:
    """The message's RFC name and the Spans tiling it (``annotate_handshake``)."""
    heard = _Heard()
    msg = decode_handshake(raw_message, heard)  # strict: lengths, bounds, trailing bytes
    where = type(msg).__name__
    msg_type_node, body = heard.tree()
    msg_type = _span(msg_type_node, where)
    msg_type.explanation = where
    if isinstance(msg, HelloRetryRequest):
        msg_type.explanation = "HelloRetryRequest travels as a server_hello (RFC 8446 §4.1.4)"
    length_node, *fields = body.children
    length = Span(
        length_node.start, length_node.end, f"length: {length_node.value}",
        "uint24: bytes of the message body that follow",
    )  # fmt: skip
    kind = msg_type.label.split(": ")[1]
    header = Span(
        msg_type.start,
        length.end,
        f"handshake header: {kind}",
        "every handshake message starts so (RFC 8446 §4)",
        [msg_type, length],
    )
    return where, [header, *_spans(fields, where)]


def annotate_handshake(raw_message: bytes) -> list[Span]:
    """Spans tiling one whole handshake message (4-byte header included), RFC 8446 §4.

    The top level is ``[handshake header, field, field, ...]``; vectors and
    extensions have children. Raises ``TLSError`` if the message does not decode.
    """
    return _message(raw_message)[1]


# ----------------------------------------------------------------------------- records (§5)

RECORD_WHY: dict[int, str] = {
    ContentType.handshake: "a plaintext record carrying handshake messages (RFC 8446 §5.1)",
    ContentType.change_cipher_spec: "a dummy for middleboxes, ignored by TLS 1.3 (Appendix D.4)",
    ContentType.alert: "a plaintext alert (RFC 8446 §6)",
    ContentType.application_data: "an encrypted record: type, content and padding are inside (RFC 8446 §5.2)",
}
RECORD_TYPES = set(RECORD_WHY)


def annotate_record(data: bytes, *, tag_len: int = 16) -> list[Span]:
    """Spans tiling one or more whole records (RFC 8446 §5.1), one top-level Span per record.

    Plaintext handshake records show each whole message inside (``annotate_handshake``);
    encrypted records show the ciphertext and the ``tag_len``-byte AEAD tag (16 for
    every suite except TLS_AES_128_CCM_8_SHA256, which has 8). Raises ``TLSError`` where
    ``tlslab.record.read_record`` does (truncated, unknown type, too long).
    """
    r = Reader(bytes(data), "record")
    records = []
    while not r.done():
        heard = _Heard()
        r.recorder = heard
        record = read_record(r)
        fields = {name: _Node(name, start, end, value) for name, start, end, value in heard.heard}
        ctype, version, length = fields["type"], fields["legacy_record_version"], fields["length"]
        header = Span(
            ctype.start,
            length.end,
            "record header",
            f"{_bytes(length.end - ctype.start)} before every record",
            [_span(ctype, "TLSPlaintext"), _span(version, "TLSPlaintext")]
            + [Span(length.start, length.end, f"length: {length.value}", "uint16: bytes of the fragment")],
        )
        fragment = _fragment(record.content_type, record.fragment, length.end, tag_len)
        kind = name_of(ContentType, record.content_type)
        inside = ", ".join(s.label.split(": ")[0] for s in fragment if s.label[0].isupper())
        label = f"record: {kind}" + (f" ({inside})" if inside else "")
        why = RECORD_WHY.get(record.content_type, "")
        records.append(Span(ctype.start, fields["TLSPlaintext"].end, label, why, [header, *fragment]))
    return records


def _fragment(content_type: int, fragment: bytes, base: int, tag_len: int) -> list[Span]:
    end = base + len(fragment)
    if content_type == ContentType.handshake:
        return _handshake_fragment(fragment, base)
    if content_type == ContentType.change_cipher_spec and fragment == b"\x01":
        return [Span(base, end, "change_cipher_spec: 0x01", "ignored; it only calms middleboxes")]
    if content_type == ContentType.alert:
        heard = _Heard()
        try:
            decode_alert(fragment, heard, base)
        except TLSError:
            pass
        else:
            level, description = _spans(heard.tree(), "Alert")
            name = description.label.split(": ")[1]
            return [Span(base, end, f"Alert: {name}", "", [level, description])]
    if content_type == ContentType.application_data and len(fragment) >= tag_len:
        cipher = Span(
            base,
            end - tag_len,
            f"encrypted_record ({len(fragment) - tag_len} bytes)",
            "TLSInnerPlaintext, encrypted",
        )
        tag = Span(
            end - tag_len,
            end,
            f"auth_tag ({tag_len} bytes)",
            "the AEAD tag: any change to the record breaks it",
        )
        return [c for c in (cipher, tag) if c.size]
    return [Span(base, end, f"fragment ({_bytes(len(fragment))})", "")] if fragment else []


def _handshake_fragment(fragment: bytes, base: int) -> list[Span]:
    """Whole messages in a handshake fragment, as ``HandshakeBuffer`` cuts them (RFC 8446 §5.1);
    a message cut by the record's end stays opaque."""
    buffer = HandshakeBuffer()
    buffer.feed(fragment)
    spans, pos = [], 0
    for raw in buffer.pop_all():
        name, inner = _message(raw)
        why = MESSAGE_EXPLANATIONS.get(HandshakeType(raw[0]), "")
        spans.append(
            Span(
                base + pos, base + pos + len(raw), f"{name}: {len(raw)} bytes", why, _shift(inner, base + pos)
            )
        )
        pos += len(raw)
    if pos < len(fragment):
        spans.append(
            Span(
                base + pos,
                base + len(fragment),
                f"handshake fragment ({_bytes(len(fragment) - pos)})",
                "continues in the next record (RFC 8446 §5.1)",
            )
        )
    return spans


def annotate(data: bytes) -> list[Span]:
    """``annotate_record`` if ``data`` starts like a record (a content type, version 0x03xx), else ``annotate_handshake``."""
    data = bytes(data)
    if len(data) >= HEADER_LEN and data[0] in RECORD_TYPES and data[1] == TLS12 >> 8:
        return annotate_record(data)
    return annotate_handshake(data)


# ----------------------------------------------------------------------------- showing spans


def to_fields(spans: list[Span], *, explanations: bool = False) -> list[tuple[int, int, str, list[Any]]]:
    """The ``(start, end, label, children)`` fields that ``tlslab.course.nb.annotated_hex`` takes."""
    out = []
    for s in spans:
        label = f"{s.label} | {s.explanation}" if explanations and s.explanation else s.label
        out.append((s.start, s.end, label, to_fields(s.children, explanations=explanations)))
    return out


def annotated(
    data: bytes, spans: list[Span] | None = None, *, explanations: bool = False, max_depth: int | None = None
) -> Any:
    """Coloured annotated hex (``tlslab.course.nb.annotated_hex``) of ``data``, annotated unless ``spans`` given.

    ``max_depth`` keeps the colours and the legend to the outer spans (2: a record's header fields
    and its message's fields, without what is inside each extension).
    """
    from tlslab.course.nb import annotated_hex

    spans = annotate(data) if spans is None else spans
    return annotated_hex(data, to_fields(spans, explanations=explanations), max_depth=max_depth)


def explorer(data: bytes, spans: list[Span] | None = None) -> Any:
    """The interactive hex view (``tlslab.course.nb.hex_explorer``): pick a field, see its bytes and meaning."""
    from tlslab.course.nb import hex_explorer

    spans = annotate(data) if spans is None else spans
    return hex_explorer(data, to_fields(spans, explanations=True))


def explain(
    spans: list[Span], data: bytes | None = None, *, max_depth: int | None = None, width: int = 16
) -> str:
    """A plain-text table: offsets, size, label (indented by depth), explanation; with ``data``, the bytes.

    Bytes longer than ``width`` are cut with "...". ``max_depth`` hides deeper spans.
    """
    rows = []
    for depth, s in walk(spans):
        if max_depth is not None and depth > max_depth:
            continue
        where = f"{s.start:>4}..{s.end - 1:<4}" if s.size else f"{s.start:>4}      "
        text = f"{where} {s.size:>4}  {'  ' * depth}{s.label}"
        if data is not None and not s.children:
            chunk = bytes(data[s.start : s.end])
            text += f" = {chunk[:width].hex(' ')}{' ...' if len(chunk) > width else ''}"
        if s.explanation:
            text += f"  # {s.explanation}"
        rows.append(text)
    return "\n".join(rows)


# ----------------------------------------------------------------------------- one section at a time


EXPAND_OVER = 64  # a span larger than this, with parts inside, is shown part by part


def sections(spans: list[Span], expand_over: int = EXPAND_OVER) -> list[Span]:
    """The spans to explain one at a time: large spans (a record, a message, the extensions
    block) are replaced by their parts, so each section is a field or one extension."""
    out: list[Span] = []
    for span in spans:
        if span.children and span.size > expand_over and not span.label.startswith("extension:"):
            parent = span.label.split(":")[0].split(" (")[0]
            for part in sections(span.children, expand_over):  # "length: 145" -> "extensions length: 145"
                out.append(
                    replace(part, label=f"{parent} {part.label}") if part.label.startswith("length") else part
                )
        else:
            out.append(span)
    return out


@dataclass
class Walkthrough:
    """Each section's bytes beside a sentence, as "The Illustrated TLS 1.3 Connection" shows them."""

    data: bytes
    parts: list[Span]
    max_lines: int = 3  # a longer section shows its first lines, then how many bytes follow

    def _hex_lines(self, span: Span) -> tuple[list[str], str]:
        """Up to ``max_lines`` lines of 16 bytes, a run of equal bytes (padding) folded into one line."""
        chunk = self.data[span.start : span.end]
        lines: list[str] = []
        position = 0
        for start, end in [*equal_runs(chunk), (len(chunk), len(chunk))]:
            lines += [chunk[i : min(i + 16, start)].hex(" ") for i in range(position, start, 16)]
            if end > start:
                lines.append(f"{end - start} x {chunk[start]:02x}")
            position = end
        more = len(lines) - self.max_lines
        return lines[: self.max_lines], (f"... {more} more line{'s' * (more > 1)}" if more > 0 else "")

    def _repr_html_(self) -> str:
        rows = []
        for n, span in enumerate(self.parts):
            lines, tail = self._hex_lines(span)
            colour = PALETTE[n % len(PALETTE)]
            hex_html = "<br>".join(html.escape(line) for line in lines + ([tail] if tail else []))
            rows.append(
                f'<tr style="border-top:1px solid #dee2e6"><td style="vertical-align:top;padding:4px 8px;'
                f'font-family:monospace;background:{colour};white-space:nowrap">{hex_html}</td>'
                f'<td style="vertical-align:top;padding:4px 8px;text-align:left"><b>{html.escape(span.label)}</b>'
                f'<br><span style="color:#495057">{html.escape(span.explanation)}</span></td></tr>'
            )
        return f'<table style="border-collapse:collapse;font-size:90%">{"".join(rows)}</table>'

    def __repr__(self) -> str:
        out = []
        for span in self.parts:
            lines, tail = self._hex_lines(span)
            out.append(f"{span.label}  [{span.start}..{span.end - 1}]")
            out.extend(f"    {line}" for line in lines + ([tail] if tail else []))
            if span.explanation:
                out.append(f"    -> {span.explanation}")
        return "\n".join(out)


def walkthrough(
    data: bytes, spans: list[Span] | None = None, *, expand_over: int = EXPAND_OVER
) -> Walkthrough:
    """``data`` one section at a time (``sections``): its bytes, folded when long, and what it is for."""
    data = bytes(data)
    spans = annotate(data) if spans is None else spans
    return Walkthrough(data, sections(spans, expand_over))
