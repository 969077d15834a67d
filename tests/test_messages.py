"""Handshake messages (RFC 8446 §4) and extensions (§4.2) against the RFC 8448 traces.

Expected values are read off the RFC 8448 hex by hand (the offsets are in the
comments), or come from elsewhere in the trace (the key shares, the binder, the
truncated ClientHello), or from ``cryptography`` (the certificate parses, the
CertificateVerify signature verifies over a transcript built from our decoding).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlslab.constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    TLS13,
    CipherSuite,
    ExtensionType,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
    name_of,
)
from tlslab.course.rfc8448 import trace
from tlslab.errors import DecodeError, IllegalParameter, ProtocolVersion, UnexpectedMessage
from tlslab.extensions import (
    ALPN,
    Cookie,
    EarlyDataIndication,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    OfferedPsks,
    PreSharedKeyServerHello,
    PskIdentity,
    PskKeyExchangeModes,
    RecordSizeLimit,
    ServerNameList,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    decode_extensions,
    encode_extensions,
    find_extension,
)
from tlslab.messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HandshakeBuffer,
    HelloRetryRequest,
    KeyUpdate,
    MessageHash,
    NewSessionTicket,
    ServerHello,
    decode_handshake,
)
from tlslab.wire import Reader

S = trace("simple_1rtt")
HRR = trace("hrr")
AUTH = trace("client_auth")
R0 = trace("resumed_0rtt")
COMPAT = trace("compat_mode")

ALL_MESSAGES = [
    (S, "client_hello"),
    (S, "server_hello"),
    (S, "encrypted_extensions"),
    (S, "server_certificate"),
    (S, "server_certificate_verify"),
    (S, "server_finished"),
    (S, "client_finished"),
    (S, "new_session_ticket"),
    (HRR, "client_hello_1"),
    (HRR, "hello_retry_request"),
    (HRR, "client_hello_2"),
    (HRR, "server_hello"),
    (AUTH, "certificate_request"),
    (AUTH, "client_certificate"),
    (AUTH, "client_certificate_verify"),
    (R0, "client_hello"),
    (R0, "server_hello"),
    (R0, "encrypted_extensions"),
    (R0, "end_of_early_data"),
    (COMPAT, "client_hello"),
    (COMPAT, "server_hello"),
]
IDS = [f"{[S, HRR, AUTH, R0, COMPAT].index(t)}-{k}" for t, k in ALL_MESSAGES]

# RFC 8448 §3 ClientHello signature_algorithms list, in order (offsets 0x9b.. of the message).
RFC8448_SIGALGS = [
    0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806,
    0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202,
]  # fmt: skip
# 0x0100..0x0104 are ffdhe2048..ffdhe8192 (RFC 7919).
RFC8448_GROUPS = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]


@pytest.mark.parametrize(("tr", "key"), ALL_MESSAGES, ids=IDS)
def test_every_rfc8448_message_round_trips(tr: dict[str, bytes], key: str) -> None:
    wire = tr[key]
    msg = decode_handshake(wire)
    assert msg.encode() == wire
    assert decode_handshake(msg.encode()) == msg
    assert msg.msg_type == wire[0]


# --- §4.1.2 ClientHello --------------------------------------------------------------------------------


def test_simple_client_hello_fields() -> None:
    ch = decode_handshake(S["client_hello"])
    assert isinstance(ch, ClientHello)
    assert ch.legacy_version == 0x0303
    assert ch.random.hex() == "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
    assert ch.legacy_session_id == b""
    assert ch.cipher_suites == [0x1301, 0x1303, 0x1302]
    assert ch.legacy_compression_methods == b"\x00"
    # server_name, renegotiation_info, supported_groups, session_ticket, key_share,
    # supported_versions, signature_algorithms, psk_key_exchange_modes, record_size_limit
    assert [e.type for e in ch.extensions] == [0, 0xFF01, 10, 0x23, 51, 43, 13, 45, 0x1C]
    assert ch.get(0xFF01) == b"\x00"
    assert ch.get(ExtensionType.cookie) is None


def test_simple_client_hello_extensions() -> None:
    ch = decode_handshake(S["client_hello"])
    assert ServerNameList.decode(ch.get(ExtensionType.server_name)).host_names == [b"server"]
    assert SupportedGroups.decode(ch.get(ExtensionType.supported_groups)).named_group_list == RFC8448_GROUPS
    shares = KeyShareClientHello.decode(ch.get(ExtensionType.key_share)).client_shares
    assert shares == [KeyShareEntry(NamedGroup.x25519, S["client_ephemeral_x25519_public_key"])]
    assert SupportedVersionsClientHello.decode(ch.get(ExtensionType.supported_versions)).versions == [TLS13]
    sigalgs = SignatureAlgorithms.decode(ch.get(ExtensionType.signature_algorithms))
    assert sigalgs.supported_signature_algorithms == RFC8448_SIGALGS
    modes = PskKeyExchangeModes.decode(ch.get(ExtensionType.psk_key_exchange_modes))
    assert modes.ke_modes == [PskKeyExchangeMode.psk_dhe_ke]
    for typed, ext_type in [
        (ServerNameList, ExtensionType.server_name),
        (SupportedGroups, ExtensionType.supported_groups),
        (KeyShareClientHello, ExtensionType.key_share),
        (SupportedVersionsClientHello, ExtensionType.supported_versions),
        (SignatureAlgorithms, ExtensionType.signature_algorithms),
        (PskKeyExchangeModes, ExtensionType.psk_key_exchange_modes),
    ]:
        data = ch.get(ext_type)
        assert typed.decode(data).encode() == data


def test_compat_mode_client_hello_session_id() -> None:
    ch = decode_handshake(COMPAT["client_hello"])
    assert ch.legacy_session_id.hex() == "a80c165581a8e0d06c0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef"
    sh = decode_handshake(COMPAT["server_hello"])
    assert sh.legacy_session_id_echo == ch.legacy_session_id


# --- §4.1.3 ServerHello, §4.1.4 HelloRetryRequest ----------------------------------------------------


def test_simple_server_hello() -> None:
    sh = decode_handshake(S["server_hello"])
    assert type(sh) is ServerHello
    assert sh.random.hex() == "a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928"
    assert sh.legacy_session_id_echo == b""
    assert sh.cipher_suite == CipherSuite.TLS_AES_128_GCM_SHA256
    assert sh.legacy_compression_method == 0
    assert [e.type for e in sh.extensions] == [ExtensionType.key_share, ExtensionType.supported_versions]
    share = KeyShareServerHello.decode(sh.get(ExtensionType.key_share)).server_share
    assert share == KeyShareEntry(NamedGroup.x25519, S["server_ephemeral_x25519_public_key"])
    assert (
        SupportedVersionsServerHello.decode(sh.get(ExtensionType.supported_versions)).selected_version
        == TLS13
    )


def test_hello_retry_request() -> None:
    hrr = decode_handshake(HRR["hello_retry_request"])
    assert type(hrr) is HelloRetryRequest and isinstance(hrr, ServerHello)
    assert hrr.random == HELLO_RETRY_REQUEST_RANDOM
    assert hrr.cipher_suite == 0x1301
    assert [e.type for e in hrr.extensions] == [51, 44, 43]  # key_share, cookie, supported_versions
    ks = KeyShareHelloRetryRequest.decode(hrr.get(ExtensionType.key_share))
    assert ks.selected_group == NamedGroup.secp256r1
    cookie = Cookie.decode(hrr.get(ExtensionType.cookie)).cookie
    assert len(cookie) == 0x72 and cookie.startswith(bytes.fromhex("71dcd04bb88bc318"))
    assert cookie.endswith(bytes.fromhex("f934b0"))
    assert KeyShareHelloRetryRequest(NamedGroup.secp256r1).encode() == hrr.get(ExtensionType.key_share)


def test_client_hello_2_echoes_cookie_and_offers_p256() -> None:
    hrr = decode_handshake(HRR["hello_retry_request"])
    ch2 = decode_handshake(HRR["client_hello_2"])
    assert ch2.get(ExtensionType.cookie) == hrr.get(ExtensionType.cookie)
    shares = KeyShareClientHello.decode(ch2.get(ExtensionType.key_share)).client_shares
    assert shares == [KeyShareEntry(NamedGroup.secp256r1, HRR["client_ephemeral_p256_public_key"])]
    assert SupportedGroups.decode(ch2.get(ExtensionType.supported_groups)).named_group_list == [
        0x001D,
        0x0017,
        0x0018,
    ]
    assert ch2.get(ExtensionType.padding) == bytes(0xAF)


def test_hello_retry_request_and_server_hello_cannot_be_confused() -> None:
    with pytest.raises(ValueError):
        ServerHello(HELLO_RETRY_REQUEST_RANDOM, b"", 0x1301)
    with pytest.raises(ValueError):
        HelloRetryRequest(bytes(32), b"", 0x1301)


# --- §4.3 EncryptedExtensions, CertificateRequest -----------------------------------------------------


def test_encrypted_extensions() -> None:
    ee = decode_handshake(S["encrypted_extensions"])
    assert isinstance(ee, EncryptedExtensions)
    assert [e.type for e in ee.extensions] == [10, 0x1C, 0]
    assert SupportedGroups.decode(ee.get(ExtensionType.supported_groups)).named_group_list == RFC8448_GROUPS
    assert ee.get(ExtensionType.server_name) == b""  # RFC 6066 §3: the server's reply is empty
    ee0 = decode_handshake(R0["encrypted_extensions"])
    assert EarlyDataIndication.decode(ee0.get(ExtensionType.early_data)) == EarlyDataIndication(None)


def test_certificate_request() -> None:
    cr = decode_handshake(AUTH["certificate_request"])
    assert isinstance(cr, CertificateRequest)
    assert cr.certificate_request_context == b""
    assert [e.type for e in cr.extensions] == [ExtensionType.signature_algorithms]
    algs = SignatureAlgorithms.decode(cr.get(ExtensionType.signature_algorithms))
    assert algs.supported_signature_algorithms == RFC8448_SIGALGS


# --- §4.4 Certificate, CertificateVerify, Finished ------------------------------------------------------


def test_certificate_holds_the_rfc8448_rsa_certificate() -> None:
    cert_msg = decode_handshake(S["server_certificate"])
    assert isinstance(cert_msg, Certificate)
    assert cert_msg.certificate_request_context == b""
    [entry] = cert_msg.certificate_list
    assert len(entry.cert_data) == 0x1B0 and entry.extensions == []
    cert = x509.load_der_x509_certificate(entry.cert_data)
    assert cert.subject.rfc4514_string() == "CN=rsa"


def _verify_server_signature(transcript: bytes, cert_msg: bytes, cv_msg: bytes) -> None:
    """RFC 8446 §4.4.3: the signature covers 64 spaces, a context string, 0, Transcript-Hash."""
    cert = x509.load_der_x509_certificate(decode_handshake(cert_msg).certificate_list[0].cert_data)
    cv = decode_handshake(cv_msg)
    assert isinstance(cv, CertificateVerify)
    assert cv.algorithm == SignatureScheme.rsa_pss_rsae_sha256 and len(cv.signature) == 0x80
    content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + hashlib.sha256(transcript).digest()
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    cert.public_key().verify(cv.signature, content, pss, hashes.SHA256())  # raises if wrong


def test_certificate_verify_signature_checks_out() -> None:
    # Re-encoding each decoded message must give the transcript the server signed.
    parts = ["client_hello", "server_hello", "encrypted_extensions", "server_certificate"]
    transcript = b"".join(decode_handshake(S[k]).encode() for k in parts)
    _verify_server_signature(transcript, S["server_certificate"], S["server_certificate_verify"])


def test_message_hash_replaces_client_hello_1_in_transcript() -> None:
    # RFC 8446 §4.4.1: after a HelloRetryRequest the transcript starts with message_hash(ClientHello1).
    # The server's signature in RFC 8448 §5 only verifies if MessageHash is encoded right.
    mh = MessageHash(hashlib.sha256(HRR["client_hello_1"]).digest())
    assert mh.encode()[:4] == bytes([254, 0, 0, 32])
    rest = [
        "hello_retry_request",
        "client_hello_2",
        "server_hello",
        "encrypted_extensions",
        "server_certificate",
    ]
    transcript = mh.encode() + b"".join(HRR[k] for k in rest)
    _verify_server_signature(transcript, HRR["server_certificate"], HRR["server_certificate_verify"])
    assert decode_handshake(mh.encode()) == mh


def test_finished() -> None:
    fin = decode_handshake(S["server_finished"])
    assert fin == Finished(S["server_finished_verify_data"])
    assert decode_handshake(S["client_finished"]) == Finished(S["client_finished_verify_data"])


# --- §4.5, §4.6 ---------------------------------------------------------------------------------------------


def test_end_of_early_data() -> None:
    assert decode_handshake(R0["end_of_early_data"]) == EndOfEarlyData()
    assert EndOfEarlyData().encode() == bytes.fromhex("05000000")


def test_new_session_ticket() -> None:
    nst = decode_handshake(S["new_session_ticket"])
    assert isinstance(nst, NewSessionTicket)
    assert nst.ticket_lifetime == 30  # 0000001e
    assert nst.ticket_age_add == 0xFAD6AAC5
    assert nst.ticket_nonce == S["ticket_nonce"] == b"\x00\x00"
    assert len(nst.ticket) == 0xB2 and nst.ticket.startswith(bytes.fromhex("2c035d829359ee5f"))
    assert [e.type for e in nst.extensions] == [ExtensionType.early_data]
    early = EarlyDataIndication.decode(nst.get(ExtensionType.early_data))
    assert early.max_early_data_size == 0x400
    assert early.encode() == nst.get(ExtensionType.early_data)


@pytest.mark.parametrize("value", [0, 1])
def test_key_update(value: int) -> None:
    wire = bytes([24, 0, 0, 1, value])  # RFC 8446 §4.6.3
    assert decode_handshake(wire) == KeyUpdate(value)
    assert KeyUpdate(value).encode() == wire


@pytest.mark.parametrize("value", [2, 255])
def test_key_update_other_values_are_illegal(value: int) -> None:
    with pytest.raises(IllegalParameter, match="request_update"):
        decode_handshake(bytes([24, 0, 0, 1, value]))


# --- §4.2.11 pre_shared_key, §4.2.10 early_data (resumed 0-RTT trace) ---------------------------------------


def test_resumed_client_hello_pre_shared_key() -> None:
    ch = decode_handshake(R0["client_hello"])
    assert ch.extensions[-1].type == ExtensionType.pre_shared_key
    assert ch.get(ExtensionType.early_data) == b""
    psk = OfferedPsks.decode(ch.get(ExtensionType.pre_shared_key))
    ticket = decode_handshake(S["new_session_ticket"]).ticket
    # The identity is the ticket of the first connection; 0xfad6aacb = ticket_age_add + 6 ms.
    assert psk.identities == [PskIdentity(ticket, 0xFAD6AACB)]
    assert psk.binders == [R0["binder"]]
    assert psk.encode() == ch.get(ExtensionType.pre_shared_key)


def test_binders_length_gives_the_truncated_client_hello() -> None:
    # RFC 8446 §4.2.11.2: the binder covers the ClientHello up to and including the identities.
    ch = decode_handshake(R0["client_hello"])
    psk = OfferedPsks.decode(ch.get(ExtensionType.pre_shared_key))
    assert psk.binders_length() == 2 + 1 + 32
    truncated = R0["client_hello"][: -psk.binders_length()]
    assert truncated == R0["client_hello_truncated"]
    assert truncated.endswith(psk.encode_identities())


def test_resumed_server_hello_selects_identity_0() -> None:
    sh = decode_handshake(R0["server_hello"])
    assert PreSharedKeyServerHello.decode(sh.get(ExtensionType.pre_shared_key)).selected_identity == 0


def test_pre_shared_key_must_be_last() -> None:
    ch = decode_handshake(R0["client_hello"])
    moved = ClientHello(ch.random, ch.legacy_session_id, ch.cipher_suites, b"\x00", [ch.extensions[-1]])
    moved.extensions += ch.extensions[:-1]
    with pytest.raises(IllegalParameter, match="pre_shared_key is not the last"):
        decode_handshake(moved.encode())


# --- Strictness: truncation, lengths, trailing bytes, bounds, duplicates -----------------------------------


@pytest.mark.parametrize(("tr", "key"), ALL_MESSAGES, ids=IDS)
def test_every_truncation_is_a_decode_error(tr: dict[str, bytes], key: str) -> None:
    wire = tr[key]
    for n in range(len(wire)):
        with pytest.raises(DecodeError):
            decode_handshake(wire[:n])


def _with_body(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def test_trailing_bytes_after_message_or_inside_body() -> None:
    wire = S["server_hello"]
    with pytest.raises(DecodeError, match="trailing"):
        decode_handshake(wire + b"\x00")
    with pytest.raises(DecodeError, match="trailing"):
        decode_handshake(_with_body(2, wire[4:] + b"\x00"))  # body longer than its extensions


def test_over_long_inner_lengths() -> None:
    sh = bytearray(S["server_hello"])
    sh[38] = 33  # legacy_session_id_echo<0..32>: offset 4 + 2 + 32
    with pytest.raises(DecodeError, match="outside <0..32>"):
        decode_handshake(bytes(sh))
    ch = bytearray(S["client_hello"])
    ch[40] = 0x07  # cipher_suites length 6 -> 7 (odd, and it swallows the compression byte)
    with pytest.raises(DecodeError):
        decode_handshake(bytes(ch))
    ee = bytearray(S["encrypted_extensions"])
    ee[5] += 1  # extension block length one more than what follows
    with pytest.raises(DecodeError):
        decode_handshake(bytes(ee))


def test_bounds_of_message_vectors() -> None:
    # ClientHello extensions<8..2^16-1>; a shorter block without supported_versions is a TLS 1.2
    # ClientHello (whose bound is <0..2^16-1>): protocol_version (issue 13), with it decode_error.
    ch = ClientHello(bytes(32), b"", [0x1301])
    with pytest.raises(ProtocolVersion, match="TLS 1.2 or older"):
        decode_handshake(ch.encode())
    only_versions = Extension(ExtensionType.supported_versions, bytes.fromhex("020304"))  # 7 bytes
    with pytest.raises(DecodeError, match="shorter than the 8 bytes"):
        decode_handshake(ClientHello(bytes(32), b"", [0x1301], b"\x00", [only_versions]).encode())
    # ServerHello extensions<6..2^16-1>.
    short = _with_body(
        2, bytes.fromhex("0303") + bytes(32) + bytes.fromhex("00130100") + bytes.fromhex("0004002b0000")
    )
    with pytest.raises(DecodeError, match="outside <6..65535>"):
        decode_handshake(short)
    # CertificateRequest extensions<2..2^16-1>, NewSessionTicket ticket<1..2^16-1>, CertificateEntry cert_data<1..>.
    with pytest.raises(DecodeError):
        decode_handshake(_with_body(13, bytes.fromhex("000000")))
    with pytest.raises(DecodeError):
        decode_handshake(_with_body(4, bytes(8) + bytes.fromhex("00 0000 0000")))
    with pytest.raises(DecodeError):
        decode_handshake(_with_body(11, bytes.fromhex("00 000005 000000 0000")))


def test_server_hello_compression_must_be_zero() -> None:
    sh = bytearray(S["server_hello"])
    assert sh[41] == 0  # legacy_compression_method, after the suite 1301 at offsets 39-40
    sh[41] = 1
    with pytest.raises(IllegalParameter, match="legacy_compression_method"):
        decode_handshake(bytes(sh))


def test_server_hello_without_extensions_is_pre_tls13() -> None:
    body = bytes.fromhex("0303") + bytes(32) + bytes.fromhex("00 c02f 00")  # a TLS 1.2 ServerHello
    with pytest.raises(ProtocolVersion):
        decode_handshake(_with_body(2, body))


def test_unknown_handshake_type() -> None:
    with pytest.raises(UnexpectedMessage, match="unknown handshake message type 3"):
        decode_handshake(bytes.fromhex("03000000"))


def test_duplicate_extension() -> None:
    groups = bytes.fromhex("000a 0004 0002 001d")
    body = bytes.fromhex("0010") + groups + groups
    with pytest.raises(IllegalParameter, match="duplicate supported_groups extension in EncryptedExtensions"):
        decode_handshake(_with_body(8, body))


def test_unknown_and_grease_extensions_round_trip() -> None:
    # EncryptedExtensions: GREASE 0x0a0a (empty), unknown 0xfe00 "xyz", GREASE 0xdada "\x00".
    wire = bytes.fromhex("08000016 0014 0a0a0000 fe00000378797a dada000100 00000000")
    ee = decode_handshake(wire)
    assert ee.extensions == [
        Extension(0x0A0A, b""),
        Extension(0xFE00, b"xyz"),
        Extension(0xDADA, b"\x00"),
        Extension(0, b""),
    ]
    assert ee.encode() == wire
    assert [name_of(ExtensionType, e.type) for e in ee.extensions] == [
        "GREASE(0x0a0a)",
        "unknown(0xfe00)",
        "GREASE(0xdada)",
        "server_name",
    ]


def test_grease_values_inside_lists_round_trip() -> None:
    # RFC 8701 puts GREASE in cipher_suites, supported_groups, supported_versions, key_share...
    ch = decode_handshake(S["client_hello"])
    grease = ClientHello(ch.random, b"", [0x2A2A, *ch.cipher_suites], b"\x00", ch.extensions)
    assert decode_handshake(grease.encode()).cipher_suites[0] == 0x2A2A
    data = bytes.fromhex("0006 3a3a 001d 0017")
    assert SupportedGroups.decode(data).named_group_list == [0x3A3A, 0x1D, 0x17]
    assert SupportedGroups.decode(data).encode() == data


def test_decode_extensions_reader_or_bytes() -> None:
    block = bytes.fromhex("0008 002b00020304 0000")  # supported_versions, then a type without its length
    with pytest.raises(DecodeError):
        decode_extensions(block, "ServerHello")
    block = bytes.fromhex("0006 002b00020304")
    assert decode_extensions(block, "ServerHello") == [Extension(43, b"\x03\x04")]
    r = Reader(block + b"tail")
    assert decode_extensions(r, "ServerHello") == [Extension(43, b"\x03\x04")]
    assert r.rest() == b"tail"
    with pytest.raises(DecodeError, match="trailing"):
        decode_extensions(block + b"\x00", "ServerHello")
    assert encode_extensions([Extension(43, b"\x03\x04")]) == block
    assert find_extension([Extension(43, b"\x03\x04")], ExtensionType.key_share) is None


# --- Typed extension bodies: bounds from the RFC ------------------------------------------------------------

BAD_BODIES = [
    (ServerNameList, "0000", DecodeError),  # server_name_list<1..2^16-1>
    (ServerNameList, "000300 0000", DecodeError),  # HostName<1..2^16-1>
    (ServerNameList, "000401 0001 61", DecodeError),  # unknown name_type, no way to skip it
    (ServerNameList, "000800000161 00000162", IllegalParameter),  # two host_names (RFC 6066 §3)
    (SupportedVersionsClientHello, "00", DecodeError),  # versions<2..254>
    (SupportedVersionsClientHello, "030304 03", DecodeError),  # odd
    (SupportedVersionsClientHello, "ff" + "0304" * 127 + "03", DecodeError),  # 255 > 254
    (SupportedVersionsServerHello, "030400", DecodeError),
    (SupportedGroups, "0000", DecodeError),  # named_group_list<2..2^16-1>
    (SupportedGroups, "0003001d00", DecodeError),
    (KeyShareClientHello, "0004001d0000", DecodeError),  # key_exchange<1..2^16-1>
    (KeyShareClientHello, "000a001d000101 001d000102", IllegalParameter),  # same group twice
    (KeyShareServerHello, "001d", DecodeError),
    (KeyShareHelloRetryRequest, "00", DecodeError),
    (SignatureAlgorithms, "0000", DecodeError),  # <2..2^16-2>
    (SignatureAlgorithms, "000308040b", DecodeError),
    (ALPN, "0000", DecodeError),  # protocol_name_list<2..2^16-1>
    (ALPN, "00020000", DecodeError),  # ProtocolName<1..2^8-1>
    (ALPN, "0002026832", DecodeError),  # "h2" runs past the 2-byte list
    (PskKeyExchangeModes, "00", DecodeError),  # ke_modes<1..255>
    (OfferedPsks, "0000 0021 20" + "00" * 32, DecodeError),  # identities<7..2^16-1>
    (OfferedPsks, "0007000161 00000000 0020 1f" + "00" * 31, DecodeError),  # binder<32..255>
    (OfferedPsks, "0007000161 00000000 0042" + ("20" + "00" * 32) * 2, IllegalParameter),  # 1 id, 2 binders
    (PreSharedKeyServerHello, "000000", DecodeError),
    (EarlyDataIndication, "000004", DecodeError),
    (Cookie, "0000", DecodeError),  # cookie<1..2^16-1>
    (Cookie, "000201", DecodeError),
    (RecordSizeLimit, "40", DecodeError),  # uint16 RecordSizeLimit
    (RecordSizeLimit, "003f", IllegalParameter),  # under 64 (RFC 8449 §4)
]


@pytest.mark.parametrize(("cls", "hexdata", "err"), BAD_BODIES, ids=lambda v: getattr(v, "__name__", None))
def test_typed_extension_rejects(cls: type, hexdata: str, err: type[Exception]) -> None:
    with pytest.raises(err):
        cls.decode(bytes.fromhex(hexdata))


def test_typed_extension_good_bodies() -> None:
    # RFC 7301 §3.1 example wire form: "h2" and "http/1.1".
    alpn = bytes.fromhex("000c 026832 08687474702f312e31")
    assert ALPN.decode(alpn) == ALPN([b"h2", b"http/1.1"])
    assert ALPN([b"h2", b"http/1.1"]).encode() == alpn
    assert Cookie(b"\x01").encode() == bytes.fromhex("000101")
    assert EarlyDataIndication(None).encode() == b""
    assert PskKeyExchangeModes([0, 1]).encode() == bytes.fromhex("020001")
    assert KeyShareClientHello([]).encode() == bytes.fromhex("0000")  # client_shares may be empty
    assert KeyShareClientHello.decode(bytes.fromhex("0000")) == KeyShareClientHello([])


# --- §5.1 HandshakeBuffer ---------------------------------------------------------------------------------------

FLIGHT_KEYS = ["encrypted_extensions", "server_certificate", "server_certificate_verify", "server_finished"]


def _server_flight() -> bytes:
    """The plaintext of RFC 8448's encrypted server flight, decrypted with cryptography's AES-GCM."""
    record = S["server_handshake_flight_record"]
    nonce = S["server_handshake_write_iv"]  # sequence number 0: the IV itself (RFC 8446 §5.3)
    inner = AESGCM(S["server_handshake_write_key"]).decrypt(nonce, record[5:], record[:5])
    assert inner[-1] == 22  # TLSInnerPlaintext.type = handshake, no padding
    return inner[:-1]


def test_server_flight_is_four_messages_in_one_record() -> None:
    flight = _server_flight()
    assert flight == b"".join(S[k] for k in FLIGHT_KEYS)
    buf = HandshakeBuffer()
    buf.feed(flight)
    assert buf.pop_all() == [S[k] for k in FLIGHT_KEYS]
    assert not buf.has_partial() and buf.pop() is None


def test_server_flight_split_at_every_byte() -> None:
    flight = _server_flight()
    expected = [S[k] for k in FLIGHT_KEYS]
    boundaries = {sum(len(S[k]) for k in FLIGHT_KEYS[:j]) for j in range(1, 4)}
    for cut in range(1, len(flight)):
        buf = HandshakeBuffer()
        buf.feed(flight[:cut])
        got = buf.pop_all()
        assert buf.has_partial() == (cut not in boundaries)
        buf.feed(flight[cut:])
        got += buf.pop_all()
        assert got == expected, cut
        assert not buf.has_partial()


def test_server_flight_one_byte_at_a_time() -> None:
    buf = HandshakeBuffer()
    got = []
    for i, byte in enumerate(_server_flight()):
        buf.feed(bytes([byte]))
        message = buf.pop()
        if message is not None:
            got.append((i, message))
    ends = [sum(len(S[k]) for k in FLIGHT_KEYS[: j + 1]) - 1 for j in range(4)]
    assert got == [(end, S[k]) for end, k in zip(ends, FLIGHT_KEYS, strict=True)]


def test_has_partial_counts_whole_messages_not_popped() -> None:
    # ServerHello and EncryptedExtensions in one record: SH precedes a key change, so EE must not wait.
    buf = HandshakeBuffer()
    buf.feed(S["server_hello"] + S["encrypted_extensions"])
    assert buf.pop() == S["server_hello"]
    assert buf.has_partial()


def test_zero_length_fragment_is_unexpected_message() -> None:
    with pytest.raises(UnexpectedMessage):
        HandshakeBuffer().feed(b"")


def test_message_length_cap() -> None:
    buf = HandshakeBuffer()
    buf.feed(bytes.fromhex("0b04"))  # header not complete yet: nothing to judge
    with pytest.raises(DecodeError, match="262145"):
        buf.feed(bytes.fromhex("0001"))  # 0x040001 = 256 KiB + 1
    small = HandshakeBuffer(max_message_length=3)
    small.feed(bytes.fromhex("14000003aabbcc"))
    assert small.pop() == bytes.fromhex("14000003aabbcc")
    with pytest.raises(DecodeError):
        small.feed(bytes.fromhex("14000004"))


# --- typed bodies know their code point (ExtensionBody) ----------------------------------------


def test_every_typed_body_knows_its_extension_type() -> None:
    """Each body becomes an Extension of its own type and back, without the caller naming the code."""
    import tlslab.extensions as ext_module

    bodies = [
        (ext_module.ServerNameList([b"example.com"]), ExtensionType.server_name),
        (ext_module.SupportedVersionsClientHello([0x0304]), ExtensionType.supported_versions),
        (ext_module.SupportedVersionsServerHello(0x0304), ExtensionType.supported_versions),
        (ext_module.SupportedGroups([NamedGroup.x25519]), ExtensionType.supported_groups),
        (ext_module.KeyShareClientHello([ext_module.KeyShareEntry(29, b"k")]), ExtensionType.key_share),
        (ext_module.KeyShareServerHello(ext_module.KeyShareEntry(29, b"k")), ExtensionType.key_share),
        (ext_module.KeyShareHelloRetryRequest(23), ExtensionType.key_share),
        (ext_module.SignatureAlgorithms([0x0403]), ExtensionType.signature_algorithms),
        (ext_module.ALPN([b"h2"]), ExtensionType.application_layer_protocol_negotiation),
        (ext_module.PskKeyExchangeModes([1]), ExtensionType.psk_key_exchange_modes),
        (
            ext_module.OfferedPsks([ext_module.PskIdentity(b"t", 1)], [bytes(32)]),
            ExtensionType.pre_shared_key,
        ),
        (ext_module.PreSharedKeyServerHello(0), ExtensionType.pre_shared_key),
        (ext_module.EarlyDataIndication(1024), ExtensionType.early_data),
        (ext_module.Cookie(b"c"), ExtensionType.cookie),
        (ext_module.RecordSizeLimit(16385), ExtensionType.record_size_limit),
    ]
    all_bodies = {
        c
        for c in vars(ext_module).values()
        if isinstance(c, type) and issubclass(c, ext_module.ExtensionBody)
    }
    assert all_bodies - {ext_module.ExtensionBody} == {type(b) for b, _ in bodies}
    for body, code in bodies:
        extension = body.to_extension()
        assert extension == Extension(code, body.encode())
        assert type(body).from_extension(extension) == body
    with pytest.raises(ValueError, match="key_share body"):
        ext_module.KeyShareHelloRetryRequest.from_extension(Extension(ExtensionType.cookie, b"\x00\x01c"))


def test_a_message_decodes_each_extension_once() -> None:
    import tlslab.extensions as ext_module

    ch = decode_handshake(trace("simple_1rtt")["client_hello"])
    groups = ch.body(ext_module.SupportedGroups)
    assert groups is not None and groups is ch.body(ext_module.SupportedGroups)
    assert ch.body(ext_module.Cookie) is None
