"""tlslab.course.annotate: spans tile every RFC 8448 message and record exactly, with the RFC's names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab import extensions as ext
from tlslab.constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ContentType,
    ExtensionType,
    NamedGroup,
    name_of,
)
from tlslab.course.annotate import (
    Span,
    annotate,
    annotate_handshake,
    annotate_record,
    annotated,
    explain,
    explorer,
    find,
    to_fields,
    walk,
)
from tlslab.course.rfc8448 import TRACES, trace
from tlslab.errors import DecodeError, TLSError
from tlslab.messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    ClientHello,
    EncryptedExtensions,
    HelloRetryRequest,
    NewSessionTicket,
    ServerHello,
    decode_handshake,
)
from tlslab.record import plaintext_record

MESSAGE_KEYS = {
    "client_hello",
    "client_hello_1",
    "client_hello_2",
    "server_hello",
    "hello_retry_request",
    "encrypted_extensions",
    "certificate_request",
    "server_certificate",
    "server_certificate_verify",
    "server_finished",
    "client_certificate",
    "client_certificate_verify",
    "client_finished",
    "new_session_ticket",
    "end_of_early_data",
}


def every(kind: str) -> list[tuple[str, str, bytes]]:
    out = []
    for name in TRACES:
        for key, value in trace(name).items():
            if (kind == "message" and key in MESSAGE_KEYS) or (kind == "record" and key.endswith("_record")):
                out.append((name, key, value))
    return out


def assert_tiles(spans: list[Span], start: int, end: int, where: str = "top") -> None:
    """Children tile their parent, recursively: no gap, no overlap, nothing past the end."""
    pos = start
    for span in spans:
        assert span.start == pos, (
            f"{where}: gap or overlap before {span.label!r} at {span.start} (expected {pos})"
        )
        assert span.end >= span.start, f"{where}: {span.label!r} ends before it starts"
        if span.children:
            assert_tiles(span.children, span.start, span.end, span.label)
        pos = span.end
    assert pos == end, f"{where}: spans end at {pos}, the bytes at {end}"


@pytest.mark.parametrize(
    "trace_name,key,raw", every("message"), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_rfc8448_message_is_tiled(trace_name: str, key: str, raw: bytes) -> None:
    spans = annotate_handshake(raw)
    assert_tiles(spans, 0, len(raw))
    assert spans[0].label.startswith("handshake header: ")
    assert all(span.label for _, span in walk(spans))


@pytest.mark.parametrize("trace_name,key,raw", every("record"), ids=lambda v: v if isinstance(v, str) else "")
def test_every_rfc8448_record_is_tiled(trace_name: str, key: str, raw: bytes) -> None:
    spans = annotate_record(raw)
    assert_tiles(spans, 0, len(raw))
    for record in spans:
        header = record.children[0]
        assert (header.start, header.end, header.label) == (record.start, record.start + 5, "record header")
        content_type = ContentType(raw[record.start]).name
        assert header.children[0].label == f"content_type: {content_type}"


def test_we_checked_every_kind_of_message() -> None:
    kinds = {type(decode_handshake(raw)).__name__ for _, _, raw in every("message")}
    assert kinds >= {
        "ClientHello",
        "ServerHello",
        "HelloRetryRequest",
        "EncryptedExtensions",
        "CertificateRequest",
        "Certificate",
        "CertificateVerify",
        "Finished",
        "NewSessionTicket",
        "EndOfEarlyData",
    }


def test_client_hello_fields_as_in_rfc8448() -> None:
    raw = trace("simple_1rtt")["client_hello"]
    spans = annotate_handshake(raw)
    header, version, random, session_id, suites, compression, extensions = spans
    assert (header.start, header.end) == (0, 4)
    assert [c.label for c in header.children] == ["msg_type: client_hello", "length: 192"]
    assert (version.start, version.end, version.label) == (4, 6, "legacy_version: 0x0303")
    assert raw[version.start : version.end] == b"\x03\x03"
    assert (random.start, random.end, random.label) == (6, 38, "random (32 bytes)")
    assert session_id.label == "legacy_session_id" and [c.label for c in session_id.children] == ["length: 0"]
    assert [c.label for c in suites.children] == [
        "length: 6",
        "cipher_suite: TLS_AES_128_GCM_SHA256",
        "cipher_suite: TLS_CHACHA20_POLY1305_SHA256",
        "cipher_suite: TLS_AES_256_GCM_SHA384",
    ]
    assert [raw[c.start : c.end].hex() for c in suites.children[1:]] == ["1301", "1303", "1302"]
    # RFC 8446 §4.1.2 declares it opaque legacy_compression_methods<1..2^8-1>: one byte, 0
    assert [c.label for c in compression.children] == ["length: 1", "legacy_compression_methods (1 byte)"]
    assert raw[compression.children[1].start : compression.end] == b"\x00"
    names = [c.label for c in extensions.children[1:]]
    assert names == [
        "extension: server_name",
        "extension: renegotiation_info",
        "extension: supported_groups",
        "extension: session_ticket",
        "extension: key_share",
        "extension: supported_versions",
        "extension: signature_algorithms",
        "extension: psk_key_exchange_modes",
        "extension: record_size_limit",
    ]
    # The names tlslab's own decoder gives, in the same order.
    decoded = decode_handshake(raw)
    assert isinstance(decoded, ClientHello)
    assert [e.type for e in decoded.extensions][:3] == [
        ExtensionType.server_name,
        0xFF01,
        ExtensionType.supported_groups,
    ]


def test_extension_bodies_by_name() -> None:
    t = trace("simple_1rtt")
    spans = annotate_handshake(t["client_hello"])
    assert find(spans, "host_name: ").label == "host_name: server"
    groups = find(spans, "named_group_list")
    assert [c.label for c in groups.children[1:5]] == [
        "named_group: x25519",
        "named_group: secp256r1",
        "named_group: secp384r1",
        "named_group: secp521r1",
    ]
    entry = find(spans, "KeyShareEntry")
    assert entry.label == "KeyShareEntry: x25519"
    key = entry.children[1].children[1]
    assert t["client_hello"][key.start : key.end] == t["client_ephemeral_x25519_public_key"]
    assert find(spans, "version: ").label == "version: 0x0304 (TLS 1.3)"
    assert find(spans, "signature_scheme: ").label == "signature_scheme: ecdsa_secp256r1_sha256"
    assert find(spans, "ke_mode: ").label == "ke_mode: psk_dhe_ke"
    assert find(spans, "record_size_limit: ").label == "record_size_limit: 16385"  # RFC 8449, 0x4001
    server = annotate_handshake(t["server_hello"])
    assert find(server, "selected_version: ").label == "selected_version: 0x0304 (TLS 1.3)"
    assert find(server, "cipher_suite: ").label == "cipher_suite: TLS_AES_128_GCM_SHA256"


def test_server_flight_messages_by_name() -> None:
    t = trace("simple_1rtt")
    cert = annotate_handshake(t["server_certificate"])
    assert find(cert, "CertificateEntry: ").label == "CertificateEntry: CN=rsa"
    cv = annotate_handshake(t["server_certificate_verify"])
    assert find(cv, "algorithm: ").label == "algorithm: rsa_pss_rsae_sha256"
    fin = annotate_handshake(t["server_finished"])
    assert fin[1].label == "verify_data (32 bytes)"
    assert t["server_finished"][fin[1].start : fin[1].end] == t["server_finished_verify_data"]
    nst = annotate_handshake(t["new_session_ticket"])
    assert find(nst, "max_early_data_size: ")
    hrr = annotate_handshake(trace("hrr")["hello_retry_request"])
    assert find(hrr, "selected_group: ").label == "selected_group: secp256r1"
    assert find(hrr, "extension: cookie")
    psk = annotate_handshake(trace("resumed_0rtt")["client_hello"])
    assert [c.label for c in find(psk, "extension: pre_shared_key").children[2:]] == ["identities", "binders"]


def test_grease_and_unknown_extensions_are_opaque() -> None:
    hello = ClientHello(
        random=bytes(32),
        legacy_session_id=b"",
        cipher_suites=[0x1A1A, CipherSuite.TLS_AES_128_GCM_SHA256],
        extensions=[
            ext.Extension(0x2A2A, b"\x00"),
            ext.Extension(0x1234, b"abc"),
            ext.Extension(ExtensionType.supported_groups, b"\x00\x03\x00"),  # odd length: not decodable
            ext.Extension(
                ExtensionType.key_share,
                ext.KeyShareClientHello([ext.KeyShareEntry(NamedGroup.x25519, bytes(32))]).encode(),
            ),
        ],
    )
    raw = hello.encode()
    spans = annotate_handshake(raw)
    assert_tiles(spans, 0, len(raw))
    assert find(spans, "cipher_suite: GREASE").label == "cipher_suite: GREASE(0x1a1a)"
    grease = find(spans, "extension: GREASE(0x2a2a)")
    assert "RFC 8701" in grease.explanation and grease.children[2].label == "extension_data (1 byte)"
    assert find(spans, "extension: unknown(0x1234)").children[2].label == "extension_data (3 bytes)"
    assert find(spans, "extension: supported_groups").children[2].label == "extension_data (3 bytes)"


CODES = sorted({*ExtensionType, 0x000B, 0x0023, 0xFF01, 0x2A2A, 0x1234})


def _messages_with(extension: ext.Extension) -> list[bytes]:
    """``extension`` in every message that carries extensions (RFC 8446 §4.2)."""
    version = [ext.Extension(ExtensionType.supported_versions, b"\x02\x03\x04")]
    hello = version if extension.type != ExtensionType.supported_versions else []
    grease = [ext.Extension(0x2A2A, b"")] if extension.type != 0x2A2A else [ext.Extension(0x3A3A, b"")]
    return [
        m.encode()
        for m in (
            ClientHello(bytes(32), b"", [0x1301], extensions=[*hello, *grease, extension]),
            ServerHello(bytes(32), b"", 0x1301, extensions=[extension, *grease]),
            HelloRetryRequest(HELLO_RETRY_REQUEST_RANDOM, b"", 0x1301, extensions=[extension, *grease]),
            EncryptedExtensions([extension]),
            CertificateRequest(b"", [extension]),
            Certificate(b"", [CertificateEntry(b"\x30\x00", [extension])]),
            NewSessionTicket(1, 2, b"", b"t", [extension]),
        )
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CODES), st.binary(max_size=60))
def test_any_extension_body_annotates_in_any_message(ext_type: int, body: bytes) -> None:
    """Unknown, GREASE or malformed, a body is annotated (opaque when the core's decoder refuses it)."""
    for raw in _messages_with(ext.Extension(ext_type, body)):
        spans = annotate_handshake(raw)
        assert_tiles(spans, 0, len(raw))
        extension = find(spans, f"extension: {name_of(ExtensionType, ext_type)}")
        assert extension.size == 4 + len(body)
        assert [c.label.split(":")[0] for c in extension.children[:2]] == ["extension_type", "length"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_records_annotate_or_raise_a_tls_error(data: bytes) -> None:
    try:
        spans = annotate_record(data)
    except TLSError:
        return
    assert_tiles(spans, 0, len(data))


def test_record_with_two_messages_and_a_cut_one() -> None:
    t = trace("simple_1rtt")
    fragment = t["encrypted_extensions"] + t["server_finished"] + t["server_certificate"][:10]
    record = plaintext_record(ContentType.handshake, fragment)
    (span,) = annotate_record(record)
    assert span.label == "record: handshake (EncryptedExtensions, Finished)"
    assert [c.label for c in span.children] == [
        "record header",
        "EncryptedExtensions: 40 bytes",
        "Finished: 36 bytes",
        "handshake fragment (10 bytes)",
    ]
    assert_tiles([span], 0, len(record))


def test_encrypted_alert_and_ccs_records() -> None:
    t = trace("compat_mode")
    ccs, app = annotate_record(t["client_change_cipher_spec_record"] + t["client_finished_record"])
    assert ccs.children[1].label == "change_cipher_spec: 0x01"
    assert [c.label for c in app.children[1:]] == ["encrypted_record (37 bytes)", "auth_tag (16 bytes)"]
    (alert,) = annotate_record(plaintext_record(ContentType.alert, bytes([2, 40])))
    assert alert.children[1].label == "Alert: handshake_failure"


def test_annotate_chooses_record_or_message() -> None:
    t = trace("simple_1rtt")
    assert annotate(t["client_hello_record"])[0].label == "record: handshake (ClientHello)"
    assert annotate(t["client_hello"])[0].label == "handshake header: client_hello"


def test_broken_message_raises_tls_error() -> None:
    raw = trace("simple_1rtt")["client_hello"]
    with pytest.raises(DecodeError):
        annotate_handshake(raw[:-1])


def test_fields_adapter_matches_nb_format() -> None:
    t = trace("simple_1rtt")
    raw = t["client_hello"]
    spans = annotate_handshake(raw)
    fields = to_fields(spans)
    assert fields[1] == (4, 6, "legacy_version: 0x0303", [])
    view = annotated(raw, spans)
    text = repr(view)
    assert "[4..5] legacy_version: 0x0303: 03 03" in text
    assert "cipher_suite: TLS_CHACHA20_POLY1305_SHA256" in view._repr_html_()
    with_why = to_fields(spans, explanations=True)
    assert with_why[1][2].startswith("legacy_version: 0x0303 | frozen at TLS 1.2")
    widget = explorer(raw, spans)
    assert len(widget.children[0].options) == sum(1 for _ in walk(spans))


def test_explain_table() -> None:
    raw = trace("simple_1rtt")["client_hello"]
    spans = annotate_handshake(raw)
    table = explain(spans, raw)
    lines = table.splitlines()
    assert len(lines) == sum(1 for _ in walk(spans))
    assert lines[3].split()[:5] == ["4..5", "2", "legacy_version:", "0x0303", "="]
    assert "03 03" in lines[3] and "# frozen at TLS 1.2" in lines[3]
    shallow = explain(spans, max_depth=0)
    assert len(shallow.splitlines()) == len(spans)


# ---------------------------------------------------------------- views a learner reads


def test_tls12_suites_and_extensions_have_names() -> None:
    assert name_of(CipherSuite, 0xC02C) == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
    assert name_of(CipherSuite, 0x00FF) == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert name_of(ExtensionType, 0x0017) == "extended_master_secret"
    assert (
        name_of(CipherSuite, 0x1234) == "unknown(0x1234)" and name_of(CipherSuite, 0x0A0A) == "GREASE(0x0a0a)"
    )
    with pytest.raises(ValueError):
        CipherSuite(0xC02C)  # named for display only: the core still refuses it


def _padded_hello() -> bytes:
    hello = decode_handshake(trace("simple_1rtt")["client_hello"])
    padding = ext.Extension(ExtensionType.padding, bytes(226))
    hello = ClientHello(
        hello.random, hello.legacy_session_id, hello.cipher_suites, extensions=[*hello.extensions, padding]
    )
    return plaintext_record(ContentType.handshake, hello.encode(), legacy_version=0x0301)


def test_walkthrough_shows_one_section_at_a_time_with_padding_folded() -> None:
    from tlslab.course.annotate import sections, walkthrough

    record = _padded_hello()
    parts = sections(annotate_record(record))
    labels = [p.label for p in parts]
    assert labels[:3] == ["record header", "handshake header: client_hello", "legacy_version: 0x0303"]
    assert "extensions length: 375" in labels and labels[-1] == "extension: padding"
    assert sum(p.size for p in parts) == len(record)  # the sections tile the record
    text = repr(walkthrough(record))
    assert "    226 x 00" in text and "00 00" * 20 not in text  # the padding is one line, not 226 bytes
    assert "-> zeros that make the ClientHello a certain size (RFC 7685)" in text
    page = walkthrough(record)._repr_html_()
    assert page.count("<tr") == len(parts) and "<script" not in page


def test_annotated_hex_folds_runs_and_keeps_to_max_depth() -> None:
    from tlslab.course.annotate import annotated

    record = _padded_hello()
    text = repr(annotated(record, max_depth=2))
    assert "... 208 x 00 (bytes 208..415) ..." in text.splitlines()  # the whole lines of padding, folded
    assert len(text.splitlines()) < 40
    assert "extension: key_share" not in text and "[58..199] extensions" not in text
    page = annotated(record, max_depth=2)._repr_html_()
    swatches = re.findall(r'<tr><td style="background:(#[0-9a-f]{6});', page)
    assert len(swatches) == len(set(swatches)), "each coloured field has a colour of its own"
