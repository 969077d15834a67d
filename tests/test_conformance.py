"""RFC 8446's "MUST abort/terminate with <alert>" sentences, each tied to the code that enforces it.

``RULES`` is the table: the sentence (quoted from RFC 8446, or the §6.2 rule that names the
alert when the sentence itself names none), the alert, where tlslab enforces it, and a
trigger that must raise an ``AlertError`` carrying exactly that alert. Each row is one test.

``FINDINGS`` lists rules of the client and server that a review found missing; each now has
a test that proves the fix (the ``test_finding_*`` tests).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography import x509
from support.hostile import Piece, client_config, conversation, server_config

from tlslab import extensions as ext
from tlslab.constants import MAX_CIPHERTEXT, MAX_PLAINTEXT, TLS12, ContentType, ExtensionType, SignatureScheme
from tlslab.course.rfc8448 import trace
from tlslab.errors import AlertDescription as A
from tlslab.errors import AlertError, PeerAlert, TLSError, UnexpectedMessage, UnsupportedExtension
from tlslab.keylog import KeyLog
from tlslab.keyschedule import hkdf_expand, traffic_keys
from tlslab.messages import (
    Certificate,
    ClientHello,
    HandshakeBuffer,
    KeyUpdate,
    decode_handshake,
)
from tlslab.record import Record, RecordProtection, RecordReader, encode_inner_plaintext, per_record_nonce
from tlslab.signatures import certificate_verify_content, verify_signature
from tlslab.suites import SUITES
from tlslab.wire import Writer

SUITE = SUITES[0x1301]
SECRET = bytes(range(32))


@dataclass(frozen=True)
class Rule:
    section: str
    sentence: str
    alert: A
    where: str
    trigger: Callable[[], object]


# --- triggers -----------------------------------------------------------------------------------


def _read(record: bytes) -> Record | None:
    reader = RecordReader()
    reader.feed(record)
    return reader.next_record()


def _header(content_type: int, length: int) -> bytes:
    return bytes([content_type]) + TLS12.to_bytes(2, "big") + length.to_bytes(2, "big")


def _open(inner: bytes) -> tuple[int, bytes]:
    """Seal ``inner`` (a TLSInnerPlaintext, unchecked) as record 0 and open it again."""
    key, iv = traffic_keys(SECRET, SUITE)
    header = _header(ContentType.application_data, len(inner) + SUITE.tag_len)
    fragment = SUITE.aead(key).encrypt(per_record_nonce(iv, 0), inner, header)
    return RecordProtection(SUITE, SECRET).decrypt(Record(ContentType.application_data, TLS12, fragment))


def _tampered_record() -> tuple[int, bytes]:
    record = bytearray(RecordProtection(SUITE, SECRET).encrypt(ContentType.application_data, b"hello"))
    record[-1] ^= 1
    return RecordProtection(SUITE, SECRET).decrypt(_read(bytes(record)))


def _interleaved() -> None:
    buffer = HandshakeBuffer()
    buffer.feed(trace("simple_1rtt")["server_finished"][:10])
    buffer.check_not_interleaved(ContentType.application_data)


def _client_hello_with(extensions: list[ext.Extension]) -> bytes:
    return ClientHello(bytes(32), b"", [0x1301], extensions=extensions).encode()


def _psk_not_last() -> object:
    psk = ext.OfferedPsks([ext.PskIdentity(b"ticket", 0)], [bytes(32)]).encode()
    return decode_handshake(
        _client_hello_with(
            [
                ext.Extension(ExtensionType.pre_shared_key, psk),
                ext.Extension(ExtensionType.supported_versions, b"\x02\x03\x04"),
            ]
        )
    )


def _client_hello_without_extensions() -> object:
    body = Writer().u16(TLS12).raw(bytes(32)).vector(1, b"").vector(2, b"\x13\x01").vector(1, b"\x00")
    return decode_handshake(Writer().u8(1).vector(3, body.getvalue()).getvalue())


def _duplicate_extension() -> object:
    sv = ext.Extension(ExtensionType.supported_versions, b"\x02\x03\x04")
    return decode_handshake(_client_hello_with([sv, sv]))


def _duplicate_key_share() -> object:
    entry = ext.KeyShareEntry(0x001D, bytes(32))
    return ext.KeyShareClientHello.decode(ext.KeyShareClientHello([entry, entry]).encode())


def _rfc8448_server_certificate() -> x509.Certificate:
    cert = decode_handshake(trace("simple_1rtt")["server_certificate"])
    assert isinstance(cert, Certificate)
    return x509.load_der_x509_certificate(cert.certificate_list[0].cert_data)


def _bad_certificate_verify() -> None:
    leaf = _rfc8448_server_certificate()
    content = certificate_verify_content(bytes(32), server=True)
    verify_signature(leaf, SignatureScheme.rsa_pss_rsae_sha256, bytes(256), content)


def _pkcs1_certificate_verify() -> None:
    verify_signature(_rfc8448_server_certificate(), SignatureScheme.rsa_pkcs1_sha256, bytes(256), b"content")


RULES = [
    Rule(
        "§5", 'If a TLS implementation receives an unexpected record type, it MUST terminate the '
        'connection with an "unexpected_message" alert.',
        A.unexpected_message, "record.RecordReader.next_record",
        lambda: _read(_header(99, 1) + b"x"),
    ),
    Rule(
        "§5", 'An implementation which receives any other change_cipher_spec value or which receives a '
        'protected change_cipher_spec record MUST abort the handshake with an "unexpected_message" alert.',
        A.unexpected_message, "record.RecordProtection.decrypt (protected); client/server _on_change_cipher_spec",
        lambda: _open(encode_inner_plaintext(ContentType.change_cipher_spec, b"\x01")),
    ),
    Rule(
        "§5.1", 'The length MUST NOT exceed 2^14 bytes. An endpoint that receives a record that exceeds '
        'this length MUST terminate the connection with a "record_overflow" alert.',
        A.record_overflow, "record.RecordReader._check_header",
        lambda: _read(_header(ContentType.handshake, MAX_PLAINTEXT + 1)),
    ),
    Rule(
        "§5.2", 'An endpoint that receives a record from its peer with TLSCiphertext.length larger than '
        '2^14 + 256 octets MUST terminate the connection with a "record_overflow" alert.',
        A.record_overflow, "record.RecordReader._check_header, RecordProtection.decrypt",
        lambda: _read(_header(ContentType.application_data, MAX_CIPHERTEXT + 1)),
    ),
    Rule(
        "§5.2", 'If the decryption fails, the receiver MUST terminate the connection with a '
        '"bad_record_mac" alert.',
        A.bad_record_mac, "record.RecordProtection.decrypt", _tampered_record,
    ),
    Rule(
        "§5.4", 'The length MUST NOT exceed 2^14 + 1 octets [TLSInnerPlaintext] ... "record_overflow" '
        '(§5.2: "terminate the connection with a record_overflow alert").',
        A.record_overflow, "record.RecordProtection.decrypt",
        lambda: _open(bytes(MAX_PLAINTEXT + 1) + b"\x17"),
    ),
    Rule(
        "§5.4", 'If a receiving implementation does not find a non-zero octet in the cleartext, it MUST '
        'terminate the connection with an "unexpected_message" alert.',
        A.unexpected_message, "record.decode_inner_plaintext", lambda: _open(bytes(20)),
    ),
    Rule(
        "§5.1", "Handshake messages MUST NOT be interleaved with other record types. (No alert named: "
        "§6.2 unexpected_message.)",
        A.unexpected_message, "messages.HandshakeBuffer.check_not_interleaved (callers: see FINDINGS)",
        _interleaved,
    ),
    Rule(
        "§5.1", "Implementations MUST NOT send zero-length fragments of Handshake types (the receiver: "
        "§6.2 unexpected_message).",
        A.unexpected_message, "record._check_fragment, messages.HandshakeBuffer.feed",
        lambda: _read(_header(ContentType.handshake, 0)),
    ),
    Rule(
        "§5.4", "Implementations MUST NOT send Handshake and Alert records that have a zero-length "
        'TLSInnerPlaintext.content; if such a message is received, the receiving implementation MUST '
        'terminate the connection with an "unexpected_message" alert. (A plaintext one alike.)',
        A.unexpected_message, "record._check_fragment; client/server _on_alert for other lengths",
        lambda: _read(_header(ContentType.alert, 0)),
    ),
    Rule(
        "§5.4", "... zero-length TLSInnerPlaintext.content ... unexpected_message (protected, padded).",
        A.unexpected_message, "record._check_fragment (protected)",
        lambda: _open(encode_inner_plaintext(ContentType.alert, b"", padding=3)),
    ),
    Rule(
        "§4", 'A peer which receives a handshake message in an unexpected order MUST abort the handshake '
        'with an "unexpected_message" alert. (An unknown msg_type is never expected.)',
        A.unexpected_message, "messages.decode_handshake; states.CLIENT/SERVER tables",
        lambda: decode_handshake(b"\x63\x00\x00\x00"),
    ),
    Rule(
        "§6.2", 'Peers which receive a message which cannot be parsed according to the syntax (e.g., have a '
        'length extending beyond the message boundary or contain an out-of-range length) MUST terminate '
        'the connection with a "decode_error" alert.',
        A.decode_error, "wire.Reader (every decoder)",
        lambda: decode_handshake(KeyUpdate(0).encode() + b"\x00"),
    ),
    Rule(
        "§4.2.11", 'Servers MUST check that it [pre_shared_key] is the last extension and otherwise fail '
        'the handshake with an "illegal_parameter" alert.',
        A.illegal_parameter, "messages.ClientHello.decode_body", _psk_not_last,
    ),
    Rule(
        "§4.6.3", 'If an implementation receives any other value [of request_update], it MUST terminate '
        'the connection with an "illegal_parameter" alert.',
        A.illegal_parameter, "messages.KeyUpdate.decode_body", lambda: decode_handshake(b"\x18\x00\x00\x01\x02"),
    ),
    Rule(
        "§4.2.8", 'Servers MAY check for violations of these rules [one KeyShareEntry per group] and abort '
        'the handshake with an "illegal_parameter" alert if one is violated.',
        A.illegal_parameter, "extensions.KeyShareClientHello.decode", _duplicate_key_share,
    ),
    Rule(
        "§4.2", "There MUST NOT be more than one extension of the same type in a given extension block. "
        "(No alert named: §6.2 illegal_parameter, as OpenSSL.)",
        A.illegal_parameter, "extensions.decode_extensions", _duplicate_extension,
    ),
    Rule(
        "App. D.2", 'If the "supported_versions" extension is absent and the server only supports versions '
        'greater than ClientHello.legacy_version, the server MUST abort the handshake with a '
        '"protocol_version" alert.',
        A.protocol_version, "messages.ClientHello.decode_body (no extensions at all); server._check_client_hello",
        _client_hello_without_extensions,
    ),
    Rule(
        "§4.4.3", 'If the verification fails, the receiver MUST terminate the handshake with a '
        '"decrypt_error" alert.',
        A.decrypt_error, "signatures.verify_signature", _bad_certificate_verify,
    ),
    Rule(
        "§4.2.3", "RSASSA-PKCS1-v1_5 algorithms refer solely to signatures which appear in certificates ... "
        "and are not defined for use in signed TLS handshake messages (no alert named: illegal_parameter).",
        A.illegal_parameter, "signatures._usable_scheme", _pkcs1_certificate_verify,
    ),
]  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.section} {r.where.split()[0]}" for r in RULES])
def test_rule(rule: Rule) -> None:
    with pytest.raises(AlertError) as info:
        rule.trigger()
    assert info.value.alert == rule.alert, f"{info.value} (expected {rule.alert.name})"
    assert "\n" not in str(info.value), "reasons are one line"


def test_unknown_alerts_are_errors() -> None:
    """§6.2: "Unknown Alert types MUST be treated as error alerts." (enforced in client/server _on_alert)."""
    err = PeerAlert(200, level=1)
    assert isinstance(err, TLSError) and err.alert == 200 and "unknown alert 200" in str(err)


def test_hkdf_expand_limit() -> None:
    """RFC 5869 §2.3: L <= 255*HashLen (RFC 8446 §7.1 uses it for every label)."""
    assert len(hkdf_expand(bytes(32), b"", 255 * 32)) == 255 * 32
    with pytest.raises(ValueError, match="at most 8160"):
        hkdf_expand(bytes(32), b"", 255 * 32 + 1)


def test_keylog_file_is_owner_only(tmp_path) -> None:
    """Key log lines decrypt the session: a file tlslab creates is readable by its owner only."""
    path = tmp_path / "keys.log"
    KeyLog(path)("CLIENT_TRAFFIC_SECRET_0", bytes(32), bytes(32))
    KeyLog(str(path))("SERVER_TRAFFIC_SECRET_0", bytes(32), bytes(32))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().splitlines()) == 2


# --- findings in files this test does not own (client.py, server.py) ---------------------------


@dataclass(frozen=True)
class Finding:
    where: str
    section: str
    sentence: str
    fix: str


FINDINGS = {
    "interleaving": Finding(
        "client.py ClientConnection._on_record (and server.py ServerConnection._on_record)",
        "§5.1",
        "if a handshake message is split over two or more records, there MUST NOT be any other "
        "records between them.",
        "call self._handshake.check_not_interleaved(content_type) for every non-handshake record "
        "(change_cipher_spec included) before handling it",
    ),
    "certificate entry extensions": Finding(
        "client.py ClientConnection._on_certificate",
        "§4.4.2, §4.2",
        "Extensions in the Certificate message from the server MUST correspond to ones from the "
        "ClientHello message. ... Upon receiving such an extension, an endpoint MUST abort the handshake "
        'with an "unsupported_extension" alert.',
        "for each CertificateEntry, _check_extensions(entry.extensions, 'Certificate', sent=CH extensions) "
        "with ALLOWED_IN['Certificate'] = {status_request, signed_certificate_timestamp}",
    ),
}


def _split_ticket(pieces: list[Piece], n: int) -> list[Piece]:
    """Second server flight: NewSessionTicket in two records, an application_data record between."""
    if n != 1:
        return pieces
    out = []
    for p in pieces:
        if p.content_type == ContentType.handshake and p.data[:1] == b"\x04":
            out += [
                Piece(p.epoch, ContentType.handshake, p.data[:5]),
                Piece(p.epoch, ContentType.application_data, b"between"),
                Piece(p.epoch, ContentType.handshake, p.data[5:]),
            ]
        else:
            out.append(p)
    return out


def _unsolicited_sct(pieces: list[Piece], n: int) -> list[Piece]:
    """First server flight: an SCT extension in the leaf's CertificateEntry, which we never asked for."""
    if n != 0:
        return pieces
    out = []
    for p in pieces:
        if p.content_type == ContentType.handshake and p.data[:1] == b"\x0b":
            cert = decode_handshake(p.data)
            assert isinstance(cert, Certificate)
            sct = ext.Extension(ExtensionType.signed_certificate_timestamp, b"\x00\x00")
            cert.certificate_list[0].extensions.append(sct)
            p = Piece(p.epoch, p.content_type, cert.encode())
        out.append(p)
    return out


def test_finding_client_refuses_records_inside_a_fragmented_handshake_message(pki) -> None:
    conv = conversation(server_config(pki), client_config(pki), pieces=_split_ticket)
    with pytest.raises(UnexpectedMessage, match="§5.1"):
        conv.run()


def test_finding_client_refuses_unsolicited_certificate_entry_extensions(pki) -> None:
    conv = conversation(server_config(pki), client_config(pki), pieces=_unsolicited_sct)
    with pytest.raises(UnsupportedExtension):
        conv.run()


def test_rule_table_covers_each_module_it_names() -> None:
    modules = {r.where.split(".")[0] for r in RULES}
    assert {"record", "messages", "extensions", "signatures", "wire"} <= modules
