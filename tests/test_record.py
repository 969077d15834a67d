"""The record layer (RFC 8446 §5) and the cipher suites (§5.3, Appendix B.4).

Protection is checked against ``cryptography``'s AEADs driven by hand: the key
and IV come from cryptography's HKDF-Expand with the HkdfLabel bytes written
out literally, the nonce from integer arithmetic, the AAD from the header.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab.constants import MAX_CIPHERTEXT, MAX_PLAINTEXT, TLS12, CipherSuite, ContentType
from tlslab.errors import (
    BadRecordMac,
    DecodeError,
    InternalError,
    RecordOverflow,
    TLSError,
    UnexpectedMessage,
)
from tlslab.record import (
    Record,
    RecordProtection,
    RecordReader,
    decode_alert,
    decode_inner_plaintext,
    encode_inner_plaintext,
    per_record_nonce,
    plaintext_record,
    read_record,
    split_fragments,
)
from tlslab.suites import SUITES, suite_by_name
from tlslab.wire import Reader

# RFC 8446 Appendix B.4 with RFC 5116 / RFC 8439 / RFC 6655 parameters, written out independently.
EXPECTED = {
    CipherSuite.TLS_AES_128_GCM_SHA256: ("sha256", 16, 16, AESGCM),
    CipherSuite.TLS_AES_256_GCM_SHA384: ("sha384", 32, 16, AESGCM),
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: ("sha256", 32, 16, ChaCha20Poly1305),
    CipherSuite.TLS_AES_128_CCM_SHA256: ("sha256", 16, 16, AESCCM),
    CipherSuite.TLS_AES_128_CCM_8_SHA256: ("sha256", 16, 8, AESCCM),
}
ALL = list(EXPECTED)


def _reference(code: CipherSuite, secret: bytes) -> tuple[object, int]:
    """cryptography's AEAD and the IV as an integer, derived without tlslab (RFC 8446 §7.3)."""
    hash_name, key_len, tag_len, cls = EXPECTED[code]
    algorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA384()
    key = HKDFExpand(algorithm, key_len, bytes([0, key_len, 9]) + b"tls13 key" + b"\x00").derive(secret)
    iv = HKDFExpand(algorithm, 12, b"\x00\x0c\x08tls13 iv\x00").derive(secret)
    aead = AESCCM(key, tag_length=tag_len) if cls is AESCCM else cls(key)
    return aead, int.from_bytes(iv, "big")


def _secret(code: CipherSuite) -> bytes:
    return os.urandom(48 if EXPECTED[code][0] == "sha384" else 32)


# ---------------------------------------------------------------- suites


@pytest.mark.parametrize("code", ALL)
def test_suite_parameters(code: CipherSuite) -> None:
    suite = SUITES[code]
    hash_name, key_len, tag_len, _ = EXPECTED[code]
    assert (suite.code, suite.name) == (code, code.name)
    assert (suite.hash_name, suite.key_len, suite.iv_len, suite.tag_len) == (hash_name, key_len, 12, tag_len)
    assert suite.hash_len == {"sha256": 32, "sha384": 48}[hash_name]
    assert suite_by_name(code.name) is suite


def test_exactly_five_suites() -> None:
    assert set(SUITES) == set(CipherSuite) and len(SUITES) == 5


def test_suite_by_name_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="TLS_AES_128_CCM_8_SHA256") as info:
        suite_by_name("TLS_RSA_WITH_AES_128_CBC_SHA")
    assert "TLS_RSA_WITH_AES_128_CBC_SHA" in str(info.value)


def test_aead_refuses_a_wrong_key_length() -> None:
    with pytest.raises(ValueError, match="32-byte key"):
        SUITES[CipherSuite.TLS_AES_256_GCM_SHA384].aead(bytes(16))


# ---------------------------------------------------------------- protection against cryptography


@pytest.mark.parametrize("padding", [0, 7])
@pytest.mark.parametrize("code", ALL)
def test_encrypt_matches_cryptography(code: CipherSuite, padding: int) -> None:
    secret = _secret(code)
    aead, iv = _reference(code, secret)
    ours = RecordProtection(SUITES[code], secret)
    for seq, (content_type, data) in enumerate(
        [(ContentType.handshake, b"\x14\x00\x00\x00"), (ContentType.application_data, b"hello" * 50)]
    ):
        wire = ours.encrypt(content_type, data, padding)
        header = wire[:5]
        length = len(data) + 1 + padding + EXPECTED[code][2]
        assert header == bytes([23, 3, 3]) + length.to_bytes(2, "big")
        nonce = (iv ^ seq).to_bytes(12, "big")
        assert aead.decrypt(nonce, wire[5:], header) == data + bytes([content_type]) + bytes(padding)


@pytest.mark.parametrize("code", ALL)
def test_decrypt_what_cryptography_encrypted(code: CipherSuite) -> None:
    secret = _secret(code)
    aead, iv = _reference(code, secret)
    ours = RecordProtection(SUITES[code], secret)
    for seq in range(3):
        inner = b"data %d" % seq + bytes([ContentType.application_data]) + bytes(seq * 10)
        tag_len = EXPECTED[code][2]
        header = bytes([23, 3, 3]) + (len(inner) + tag_len).to_bytes(2, "big")
        fragment = aead.encrypt((iv ^ seq).to_bytes(12, "big"), inner, header)
        assert ours.decrypt(Record(23, TLS12, fragment)) == (ContentType.application_data, b"data %d" % seq)
    assert ours.seq == 3


@pytest.mark.parametrize("code", ALL)
def test_round_trip_and_tamper(code: CipherSuite) -> None:
    secret = _secret(code)
    writer, reader = RecordProtection(SUITES[code], secret), RecordProtection(SUITES[code], secret)
    wire = writer.encrypt(ContentType.alert, b"\x01\x00")
    record = Record(wire[0], TLS12, wire[5:])
    assert reader.decrypt(record) == (ContentType.alert, b"\x01\x00")
    wire2 = bytearray(writer.encrypt(ContentType.application_data, b"x"))
    wire2[-1] ^= 0x80
    with pytest.raises(BadRecordMac):
        reader.decrypt(Record(23, TLS12, bytes(wire2[5:])))


def _forge(code: CipherSuite, secret: bytes, inner: bytes, seq: int = 0) -> Record:
    """A record with a valid tag around an arbitrary TLSInnerPlaintext, made with cryptography."""
    aead, iv = _reference(code, secret)
    header = bytes([23, 3, 3]) + (len(inner) + EXPECTED[code][2]).to_bytes(2, "big")
    return Record(23, TLS12, aead.encrypt((iv ^ seq).to_bytes(12, "big"), inner, header))


GCM = CipherSuite.TLS_AES_128_GCM_SHA256


def test_inner_plaintext_limit_is_2_14_plus_1() -> None:
    """§5.4: content + type + padding <= 2^14 + 1; one byte more is record_overflow."""
    secret = _secret(GCM)
    ok = _forge(GCM, secret, b"a" * MAX_PLAINTEXT + b"\x17")
    assert RecordProtection(SUITES[GCM], secret).decrypt(ok)[1] == b"a" * MAX_PLAINTEXT
    too_long = _forge(GCM, secret, b"a" * MAX_PLAINTEXT + b"\x17\x00")
    with pytest.raises(RecordOverflow):
        RecordProtection(SUITES[GCM], secret).decrypt(too_long)
    with pytest.raises(RecordOverflow):
        RecordProtection(SUITES[GCM], secret).decrypt(
            _forge(GCM, secret, b"a" * (MAX_PLAINTEXT + 1) + b"\x17")
        )


def test_ciphertext_limit_in_decrypt() -> None:
    with pytest.raises(RecordOverflow):
        RecordProtection(SUITES[GCM], bytes(32)).decrypt(Record(23, TLS12, bytes(MAX_CIPHERTEXT + 1)))


def test_encrypt_refuses_oversized_plaintext() -> None:
    protection = RecordProtection(SUITES[GCM], bytes(32))
    assert len(protection.encrypt(23, bytes(MAX_PLAINTEXT))) == 5 + MAX_PLAINTEXT + 1 + 16
    with pytest.raises(ValueError):
        protection.encrypt(23, bytes(MAX_PLAINTEXT + 1))
    with pytest.raises(ValueError):
        protection.encrypt(23, bytes(MAX_PLAINTEXT), padding=1)


def test_padding_is_stripped() -> None:
    secret = _secret(GCM)
    wire = RecordProtection(SUITES[GCM], secret).encrypt(
        ContentType.handshake, b"\x14\x00\x00\x00", padding=300
    )
    assert len(wire) == 5 + 4 + 1 + 300 + 16
    record = Record(23, TLS12, wire[5:])
    assert RecordProtection(SUITES[GCM], secret).decrypt(record) == (
        ContentType.handshake,
        b"\x14\x00\x00\x00",
    )


def test_content_ending_in_zeros_survives() -> None:
    """Zeros inside the content stay: only what follows the content type is padding."""
    assert decode_inner_plaintext(b"ab\x00\x00\x17\x00\x00") == (23, b"ab\x00\x00")
    assert encode_inner_plaintext(22, b"ab", 2) == b"ab\x16\x00\x00"


@pytest.mark.parametrize("inner", [b"", b"\x00", bytes(500)])
def test_all_zero_inner_plaintext(inner: bytes) -> None:
    with pytest.raises(UnexpectedMessage, match="no non-zero content type"):
        decode_inner_plaintext(inner)
    secret = _secret(GCM)
    with pytest.raises(UnexpectedMessage):
        RecordProtection(SUITES[GCM], secret).decrypt(_forge(GCM, secret, inner))


@pytest.mark.parametrize(
    ("inner", "error"),
    [
        (b"\x01\x14", UnexpectedMessage),  # protected change_cipher_spec (§5)
        (b"\x18", UnexpectedMessage),  # unknown inner type 24
        (b"\x16", UnexpectedMessage),  # zero-length handshake (§5.1)
        (b"\x15", UnexpectedMessage),  # zero-length alert (§5.4)
    ],
    ids=["protected-ccs", "unknown-type", "empty-handshake", "empty-alert"],
)
def test_bad_inner_content(inner: bytes, error: type[TLSError]) -> None:
    secret = _secret(GCM)
    with pytest.raises(error):
        RecordProtection(SUITES[GCM], secret).decrypt(_forge(GCM, secret, inner))


def test_zero_length_application_data_is_allowed() -> None:
    """§5.1: zero-length Application Data fragments MAY be sent (traffic analysis countermeasure)."""
    secret = _secret(GCM)
    assert RecordProtection(SUITES[GCM], secret).decrypt(_forge(GCM, secret, b"\x17")) == (23, b"")


def test_sequence_number_never_wraps() -> None:
    secret = _secret(GCM)
    aead, iv = _reference(GCM, secret)
    writer = RecordProtection(SUITES[GCM], secret)
    writer.seq = 2**64 - 1
    wire = writer.encrypt(23, b"last")
    nonce = (iv ^ (2**64 - 1)).to_bytes(12, "big")
    assert aead.decrypt(nonce, wire[5:], wire[:5]) == b"last\x17"
    with pytest.raises(InternalError, match="wrap"):
        writer.encrypt(23, b"one too many")
    reader = RecordProtection(SUITES[GCM], secret)
    reader.seq = 2**64
    with pytest.raises(InternalError, match="wrap"):
        reader.decrypt(Record(23, TLS12, wire[5:]))


def test_per_record_nonce() -> None:
    """§5.3: the 64-bit sequence number, left-padded to iv_length, XOR the IV."""
    assert per_record_nonce(bytes(12), 1) == bytes(11) + b"\x01"
    assert per_record_nonce(b"\xff" * 12, 2**64 - 1) == b"\xff" * 4 + bytes(8)
    iv = bytes.fromhex("5d313eb2671276ee13000b30")  # RFC 8448 §3 server_handshake_write_iv
    assert per_record_nonce(iv, 0x0102).hex() == "5d313eb2671276ee13000a32"  # 0b^01, 30^02


# ---------------------------------------------------------------- RecordReader


def _stream() -> list[bytes]:
    return [
        plaintext_record(ContentType.handshake, b"\x02\x00\x00\x02ab"),
        plaintext_record(ContentType.change_cipher_spec, b"\x01"),
        Record(ContentType.application_data, TLS12, os.urandom(300)).encode(),
        plaintext_record(ContentType.alert, b"\x02\x28"),
    ]


def test_reader_one_byte_at_a_time() -> None:
    wires = _stream()
    reader, out = RecordReader(), []
    for byte in b"".join(wires):
        reader.feed(bytes([byte]))
        record = reader.next_record()
        if record is not None:
            out.append(record)
            assert reader.next_record() is None
    assert [r.encode() for r in out] == wires
    assert [r.content_type for r in out] == [22, 20, 23, 21]


def test_reader_all_at_once() -> None:
    wires = _stream() * 100
    reader = RecordReader()
    reader.feed(b"".join(wires))
    assert [r.encode() for r in reader] == wires
    assert reader.buffered == 0 and reader.next_record() is None


def _header(content_type: int, length: int, version: int = TLS12) -> bytes:
    return bytes([content_type]) + version.to_bytes(2, "big") + length.to_bytes(2, "big")


@pytest.mark.parametrize(
    ("content_type", "limit"),
    [(ContentType.handshake, MAX_PLAINTEXT), (ContentType.alert, MAX_PLAINTEXT),
     (ContentType.change_cipher_spec, MAX_PLAINTEXT), (ContentType.application_data, MAX_CIPHERTEXT)],
)  # fmt: skip
def test_length_limits(content_type: int, limit: int) -> None:
    """§5.1 plaintext <= 2^14; §5.2 protected <= 2^14 + 256. Over the limit fails on the header alone."""
    reader = RecordReader()
    reader.feed(_header(content_type, limit) + bytes(limit))
    record = reader.next_record()
    assert record is not None and len(record.fragment) == limit
    reader = RecordReader()
    reader.feed(_header(content_type, limit + 1))
    with pytest.raises(RecordOverflow):
        reader.next_record()


def test_limits_are_the_rfc_numbers() -> None:
    assert (MAX_PLAINTEXT, MAX_CIPHERTEXT) == (16384, 16640)


@pytest.mark.parametrize(
    "garbage",
    [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"HTTP/1.0 200 OK\r\n"],
)
def test_http_answer_is_named(garbage: bytes) -> None:
    reader = RecordReader()
    reader.feed(garbage)
    with pytest.raises(UnexpectedMessage, match="looks like HTTP"):
        reader.next_record()


def test_http_fails_on_the_first_byte() -> None:
    reader = RecordReader()
    reader.feed(b"H")
    with pytest.raises(UnexpectedMessage, match="HTTP"):
        reader.next_record()


def test_other_plain_text_is_named() -> None:
    reader = RecordReader()
    reader.feed(b"SSH-2.0-OpenSSH_9.2\r\n")
    with pytest.raises(UnexpectedMessage, match="plain text"):
        reader.next_record()


@pytest.mark.parametrize("content_type", [0, 24, 0x80, 255])
def test_unknown_content_type(content_type: int) -> None:
    reader = RecordReader()
    reader.feed(_header(content_type, 2) + b"\x00\x00")
    with pytest.raises(UnexpectedMessage, match="not a TLS record"):
        reader.next_record()


@pytest.mark.parametrize("version", [0x0200, 0x0002, 0xFEFD, 0x0403])
def test_major_version_not_3_is_not_tls(version: int) -> None:
    reader = RecordReader()
    reader.feed(_header(ContentType.handshake, 2, version)[:2])  # fails before the header is complete
    with pytest.raises(DecodeError, match="legacy_record_version"):
        reader.next_record()


@pytest.mark.parametrize("version", [0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x03FF])
def test_minor_version_is_ignored(version: int) -> None:
    """§5.1: legacy_record_version MUST be ignored; we look only at the major byte."""
    reader = RecordReader()
    reader.feed(_header(ContentType.handshake, 4, version) + b"\x14\x00\x00\x00")
    record = reader.next_record()
    assert record is not None and record.legacy_version == version


@pytest.mark.parametrize(
    ("content_type", "error"),
    [(ContentType.handshake, UnexpectedMessage), (ContentType.alert, UnexpectedMessage)],
)
def test_zero_length_plaintext_records(content_type: int, error: type[TLSError]) -> None:
    reader = RecordReader()
    reader.feed(_header(content_type, 0))
    with pytest.raises(error, match="zero-length"):
        reader.next_record()


def test_zero_length_application_data_record_is_passed_on() -> None:
    """The reader has no keys; an empty protected record fails later, in decrypt, as bad_record_mac."""
    reader = RecordReader()
    reader.feed(_header(ContentType.application_data, 0))
    record = reader.next_record()
    assert record == Record(23, TLS12, b"")
    with pytest.raises(BadRecordMac):
        RecordProtection(SUITES[GCM], bytes(32)).decrypt(record)


# ---------------------------------------------------------------- read_record: the same rules, fields named


def _stream_verdict(data: bytes) -> object:
    """What RecordReader makes of ``data``: the records, or the class of the error."""
    reader = RecordReader()
    reader.feed(data)
    try:
        records = list(reader)
    except TLSError as error:
        return type(error)
    return records if not reader.buffered else DecodeError  # a cut record: read_record says DecodeError


def _read_verdict(data: bytes) -> object:
    r = Reader(data, "record")
    try:
        records = []
        while not r.done():
            records.append(read_record(r))
    except TLSError as error:
        return type(error)
    return records


@pytest.mark.parametrize(
    "data",
    [
        plaintext_record(ContentType.handshake, b"\x14\x00\x00\x00")
        + plaintext_record(ContentType.alert, b"\x02\x28"),
        _header(ContentType.application_data, 0),
        _header(24, 2) + b"\x00\x00",  # unknown content type
        _header(ContentType.handshake, 2, 0x0200) + b"\x00\x00",  # not 3.x
        _header(ContentType.handshake, MAX_PLAINTEXT + 1),
        _header(ContentType.application_data, MAX_CIPHERTEXT + 1),
        _header(ContentType.handshake, 0),
        _header(ContentType.alert, 0),
        _header(ContentType.handshake, 4) + b"\x14\x00",  # cut short
    ],
)
def test_read_record_follows_the_record_readers_rules(data: bytes) -> None:
    assert _read_verdict(data) == _stream_verdict(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_read_record_agrees_with_the_reader_on_any_bytes(data: bytes) -> None:
    assert _read_verdict(data) == _stream_verdict(data)


def test_read_record_names_the_tlsplaintext_fields() -> None:
    heard: list[tuple[str, int, int, object]] = []
    data = b"junk" + plaintext_record(ContentType.alert, b"\x02\x28")
    r = Reader(data, "record", lambda *field: heard.append(field), base=0)
    r.take(4)
    assert read_record(r) == Record(ContentType.alert, TLS12, b"\x02\x28")
    assert heard == [
        ("type", 4, 5, 21),
        ("legacy_record_version", 5, 7, TLS12),
        ("length", 7, 9, 2),
        ("fragment", 9, 11, b"\x02\x28"),
        ("TLSPlaintext", 4, 11, None),
    ]


def test_decode_alert() -> None:
    heard: list[tuple[str, int, int, object]] = []
    assert decode_alert(b"\x02\x28", lambda *field: heard.append(field), 9) == (2, 40)
    assert heard == [("level", 9, 10, 2), ("description", 10, 11, 40)]
    for wrong in (b"", b"\x02", b"\x02\x28\x00"):
        with pytest.raises(DecodeError, match="an alert is 2 bytes"):
            decode_alert(wrong)


# ---------------------------------------------------------------- building plaintext records


def test_plaintext_record_header() -> None:
    assert plaintext_record(22, b"abc", 0x0301) == b"\x16\x03\x01\x00\x03abc"
    assert plaintext_record(21, b"\x02\x28") == b"\x15\x03\x03\x00\x02\x02\x28"
    with pytest.raises(ValueError):
        plaintext_record(22, bytes(MAX_PLAINTEXT + 1))


@pytest.mark.parametrize("size", [0, 1, MAX_PLAINTEXT, MAX_PLAINTEXT + 1, 3 * MAX_PLAINTEXT + 5])
def test_split_fragments(size: int) -> None:
    data = os.urandom(size)
    pieces = list(split_fragments(data))
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= MAX_PLAINTEXT for p in pieces)
    assert len(pieces) == -(-size // MAX_PLAINTEXT)


# ---------------------------------------------------------------- the bulk fast path (connection.py)

_RECORDS = st.lists(
    st.tuples(
        st.sampled_from([ContentType.application_data, ContentType.handshake, ContentType.alert]),
        st.binary(min_size=0, max_size=600) | st.integers(0, MAX_PLAINTEXT).map(bytes),
        st.sampled_from([0, 0, 0, 1, 200]),  # padding
        st.sampled_from([None, None, None, 0, 7, -1]),  # a byte to flip, if any
    ),
    max_size=12,
)


def _plain_open(reader: RecordProtection, record: bytes) -> tuple[int, bytes] | type[TLSError]:
    try:
        return reader.decrypt(Record(record[0], int.from_bytes(record[1:3], "big"), record[5:]))
    except TLSError as exc:
        return type(exc)


def _fast_open(reader: RecordProtection, record: bytes) -> tuple[int, bytes] | type[TLSError]:
    """The fast path as TLSSocket uses it: into a buffer, falling back to decrypt() on -1."""
    view = memoryview(bytearray(record))
    out = memoryview(bytearray(len(record) - 5 - reader.suite.tag_len))
    n = reader.decrypt_application_data_into(view[:5], view[5:], out)
    if n < 0:
        return _plain_open(reader, record)
    return ContentType.application_data, bytes(out[:n])


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(ALL), records=_RECORDS)
def test_fast_path_gives_the_same_results_as_the_readable_one(code: CipherSuite, records: list) -> None:
    suite = SUITES[code]
    secret = bytes(range(suite.hash_len))
    writer, fast_writer = RecordProtection(suite, secret), RecordProtection(suite, secret)
    plain, fast = RecordProtection(suite, secret), RecordProtection(suite, secret)
    for content_type, data, padding, flip in records:
        padding = min(padding, MAX_PLAINTEXT - len(data))
        record = bytearray(writer.encrypt(content_type, data, padding))
        if content_type == ContentType.application_data and padding == 0:
            sealed = memoryview(bytearray(len(record)))
            fast_writer.encrypt_application_data_into(memoryview(data), sealed)
            assert bytes(sealed) == bytes(record)  # encrypt_application_data_into == encrypt
        else:
            fast_writer.encrypt(content_type, data, padding)  # keep the sequence numbers in step
        if flip is not None:
            record[5 + flip % (len(record) - 5)] ^= 0x40
        assert _fast_open(fast, bytes(record)) == _plain_open(plain, bytes(record))
        assert fast.seq == plain.seq
