"""The TLS 1.3 record layer (RFC 8446 §5).

Everything TLS sends travels in records: a 5-byte header and a fragment
(RFC 8446 §5.1)::

    struct {
        ContentType type;                  // 20 ccs, 21 alert, 22 handshake, 23 application_data
        ProtocolVersion legacy_record_version;   // 0x0303 (0x0301 in a first ClientHello)
        uint16 length;                     // <= 2^14, or 2^14 + 256 when protected
        opaque fragment[TLSPlaintext.length];
    } TLSPlaintext;

Once keys are in place a record is protected with the suite's AEAD (§5.2):
the real content type moves *inside* the encryption (TLSInnerPlaintext:
content, one type byte, then optional zero padding) and the outer header
always says application_data/0x0303, so an observer learns only the length.
The header itself is the AEAD's additional data, and the nonce is the
sequence number XORed into the write IV (§5.3), so records cannot be
reordered, dropped or replayed unnoticed.

This module is sans-I/O: ``RecordReader`` takes bytes in whatever pieces the
transport delivers and hands out whole records; ``RecordProtection`` turns a
(content type, data) pair into record bytes and back. ``read_record`` reads one
record off a ``wire.Reader`` by the same rules, naming its fields for a recorder
(``tlslab.course.annotate`` shows records so), and ``decode_alert`` reads an
alert record's two bytes (§6).

    >>> reader = RecordReader()
    >>> reader.feed(plaintext_record(ContentType.handshake, b"\\x01\\x00\\x00\\x00"))
    >>> reader.next_record()
    Record(content_type=22, legacy_version=771, fragment=b'\\x01\\x00\\x00\\x00')
    >>> reader.next_record() is None       # nothing more buffered
    True
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag

from .constants import MAX_CIPHERTEXT, MAX_PLAINTEXT, TLS12, ContentType
from .errors import BadRecordMac, DecodeError, InternalError, RecordOverflow, UnexpectedMessage
from .keyschedule import traffic_keys
from .suites import Suite
from .wire import Reader, Recorder

if TYPE_CHECKING:
    from .provider import Provider

Nonce = Callable[[bytes, int], bytes]  # per_record_nonce's shape, a Provider piece

HEADER_LEN = 5
MAX_INNER_PLAINTEXT = MAX_PLAINTEXT + 1  # §5.4: content + type + padding <= 2^14 + 1
MAX_SEQ = (1 << 64) - 1  # §5.3: sequence numbers are 64-bit and must not wrap
_HEADER = struct.Struct(">BHH")
RECORD_HEADER = _HEADER  # content type, legacy_record_version, length (§5.1), for connection.py
_KNOWN_TYPES = frozenset(ContentType) - {ContentType.invalid}


@dataclass(frozen=True, slots=True)
class Record:
    """One TLSPlaintext or TLSCiphertext record (RFC 8446 §5.1, §5.2)."""

    content_type: int
    legacy_version: int
    fragment: bytes

    def header(self) -> bytes:
        """The 5-byte header; for a protected record, also the AEAD additional data (§5.2)."""
        return _HEADER.pack(self.content_type, self.legacy_version, len(self.fragment))

    def encode(self) -> bytes:
        """Header and fragment, unchecked (so tests can build records that break the rules)."""
        return self.header() + self.fragment


def plaintext_record(content_type: int, data: bytes, legacy_version: int = TLS12) -> bytes:
    """An unprotected record (§5.1): ClientHello, ServerHello, change_cipher_spec, early alerts.

    ``legacy_version`` is 0x0303, except 0x0301 is allowed for the first ClientHello (§5.1).
    """
    if len(data) > MAX_PLAINTEXT:
        raise ValueError(
            f"a record holds at most {MAX_PLAINTEXT} bytes, not {len(data)}; use split_fragments"
        )
    return Record(content_type, legacy_version, bytes(data)).encode()


def split_fragments(data: bytes, limit: int = MAX_PLAINTEXT) -> Iterator[bytes]:
    """``data`` in pieces of at most ``limit`` bytes, one per record (§5.1).

    Empty ``data`` gives no pieces: zero-length handshake fragments are forbidden (§5.1).
    """
    view = memoryview(data)
    for start in range(0, len(view), limit):
        yield bytes(view[start : start + limit])


# ---------------------------------------------------------------- reading records


def _not_tls(head: bytes | bytearray) -> str:
    """Why ``head`` cannot start a TLS record, in words a person can act on."""
    shown = bytes(head[:8])
    if b"HTTP/".startswith(shown[:5]):
        return f"not a TLS record (looks like HTTP: {shown!r}); is the port speaking plain HTTP?"
    if shown and all(32 <= b < 127 for b in shown):
        return f"not a TLS record (looks like plain text: {shown!r}); is the port speaking TLS?"
    return f"not a TLS record: unknown content type {shown[0]} (first bytes {shown.hex()})"


def _check_header(content_type: int, version: int, length: int, head: bytes | bytearray) -> None:
    """The rules on a record header (§5, §5.1, §5.2); ``head`` (the record's first bytes) names it in errors."""
    if content_type not in _KNOWN_TYPES:
        # §5: "If a TLS implementation receives an unexpected record type, it MUST terminate
        # the connection with an unexpected_message alert."
        raise UnexpectedMessage(_not_tls(head))
    if version >> 8 != 3:
        raise DecodeError(_bad_version_reason(version, head))
    limit = MAX_CIPHERTEXT if content_type == ContentType.application_data else MAX_PLAINTEXT
    if length > limit:
        kind = "protected" if limit == MAX_CIPHERTEXT else "plaintext"
        raise RecordOverflow(f"{kind} record of {length} bytes exceeds {limit} (RFC 8446 §5.1, §5.2)")


def _bad_version_reason(version: int, head: bytes | bytearray) -> str:
    # §5.1 says legacy_record_version "MUST be ignored for all purposes", and we do ignore the
    # minor byte. A major byte other than 3 means this is not TLS at all (SSL 2, garbage); we
    # stop there, as OpenSSL does ("wrong version number"), instead of buffering up to 64 KiB.
    return f"not a TLS record: legacy_record_version {version:#06x} (first bytes {bytes(head[:8]).hex()})"


def _check_partial_header(head: bytes | bytearray) -> None:
    """Fail fast on the first bytes of a header, before the rest arrives."""
    if head and head[0] not in _KNOWN_TYPES:
        raise UnexpectedMessage(_not_tls(head))
    if len(head) >= 2 and head[1] != 3:
        raise DecodeError(_bad_version_reason(head[1] << 8, head))


def _check_fragment(content_type: int, length: int) -> None:
    """Length rules that apply to the plaintext of a record, protected or not (§5.1, §5.4)."""
    if length == 0 and content_type == ContentType.handshake:
        # §5.1: "Implementations MUST NOT send zero-length fragments of Handshake types".
        # The RFC names no alert; it is an inappropriate message, so unexpected_message.
        raise UnexpectedMessage("zero-length handshake fragment (RFC 8446 §5.1)")
    if length == 0 and content_type == ContentType.alert:
        # §5.4: "Implementations MUST NOT send Handshake and Alert records that have a zero-length
        # TLSInnerPlaintext.content; if such a message is received, the receiving implementation
        # MUST terminate the connection with an "unexpected_message" alert." A plaintext one too.
        raise UnexpectedMessage("zero-length alert record (RFC 8446 §5.4)")


class RecordReader:
    """Cuts a byte stream into records (RFC 8446 §5.1), checking each header as soon as it arrives.

    ``feed`` appends what the transport delivered; ``next_record`` returns the
    next whole record, or ``None`` if more bytes are needed. The buffer is a
    ``bytearray`` consumed from the front (CPython makes that cheap), so a
    large read costs one copy per record, not a re-slice of everything buffered.

    Raises (from ``next_record``):
        UnexpectedMessage: an unknown content type (§5), e.g. an HTTP server answering.
        DecodeError: legacy_record_version's major byte is not 3, or an empty alert record.
        RecordOverflow: length > 2^14 (plaintext) or > 2^14 + 256 (application_data, §5.2).
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        """Append bytes read from the transport."""
        self._buf += data

    @property
    def buffered(self) -> int:
        """How many bytes wait for the rest of their record."""
        return len(self._buf)

    def next_record(self) -> Record | None:
        """The next complete record, or ``None`` if more bytes are needed."""
        buf = self._buf
        if len(buf) < HEADER_LEN:
            _check_partial_header(buf)
            return None
        content_type, version, length = _HEADER.unpack_from(buf)
        _check_header(content_type, version, length, buf)
        end = HEADER_LEN + length
        if len(buf) < end:
            return None
        with memoryview(buf) as view:
            fragment = bytes(view[HEADER_LEN:end])
        del buf[:end]
        if content_type != ContentType.application_data:
            _check_fragment(content_type, length)
        return Record(content_type, version, fragment)

    def __iter__(self) -> Iterator[Record]:
        """Every complete record buffered so far."""
        while (record := self.next_record()) is not None:
            yield record


def read_record(r: Reader) -> Record:
    """The next whole record in ``r`` (RFC 8446 §5.1), checked as ``RecordReader`` checks it.

    For a reader with a recorder the fields are named as TLSPlaintext names them: ``type``,
    ``legacy_record_version``, ``length``, ``fragment``, the whole as ``TLSPlaintext``.

    Raises:
        DecodeError: fewer bytes than the header says, or not legacy_record_version 3.x.
        UnexpectedMessage, RecordOverflow: as ``RecordReader.next_record``.
    """
    start = r.pos
    if r.remaining < HEADER_LEN:
        _check_partial_header(r.data[start:])  # then too short: DecodeError
    content_type, version, length = r.u8("type"), r.u16("legacy_record_version"), r.u16("length")
    _check_header(content_type, version, length, r.data[start : start + 8])
    fragment = r.take(length, "fragment")
    if content_type != ContentType.application_data:
        _check_fragment(content_type, length)
    r.mark("TLSPlaintext", start)
    return Record(content_type, version, fragment)


def decode_alert(data: bytes, recorder: Recorder | None = None, base: int = 0) -> tuple[int, int]:
    """``(level, description)`` of an alert record's content (RFC 8446 §6)::

        struct {
            AlertLevel level;
            AlertDescription description;
        } Alert;

    Raises:
        DecodeError: not exactly two bytes.
    """
    if len(data) != 2:
        raise DecodeError(f"an alert is 2 bytes, got {len(data)}")
    r = Reader(data, "Alert", recorder, base)
    return r.u8("level"), r.u8("description")


# ---------------------------------------------------------------- protecting records


def per_record_nonce(iv: bytes, seq: int) -> bytes:
    """The AEAD nonce of record number ``seq`` (RFC 8446 §5.3).

    The 64-bit sequence number, big-endian and left-padded with zeros to
    iv_length, XORed with the write IV.
    """
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(len(iv), "big")


def encode_inner_plaintext(content_type: int, data: bytes, padding: int = 0) -> bytes:
    """TLSInnerPlaintext = content || ContentType type || zeros[padding] (RFC 8446 §5.2)."""
    return bytes(data) + bytes([content_type]) + bytes(padding)


def protect_record(
    suite: Suite,
    key: bytes,
    iv: bytes,
    seq: int,
    content_type: int,
    data: bytes,
    padding: int = 0,
    *,
    per_record_nonce: Nonce = per_record_nonce,
) -> bytes:
    """The whole TLSCiphertext record carrying ``data`` of ``content_type`` (RFC 8446 §5.2).

    TLSInnerPlaintext (``data``, the type, ``padding`` zeros) sealed with the suite's AEAD
    under ``key`` and the nonce of record ``seq``; the outer header (application_data,
    0x0303, the ciphertext length) is the additional data. ``per_record_nonce``: the nonce
    function it stands on (a ``Provider`` passes its own).
    """
    inner = encode_inner_plaintext(content_type, data, padding)
    header = _HEADER.pack(ContentType.application_data, TLS12, len(inner) + suite.tag_len)
    return header + suite.aead(key).encrypt(per_record_nonce(iv, seq), inner, header)


def unprotect_record(
    suite: Suite,
    key: bytes,
    iv: bytes,
    seq: int,
    record: bytes,
    *,
    per_record_nonce: Nonce = per_record_nonce,
) -> tuple[int, bytes]:
    """(content type, content) of the protected ``record`` (header included) number ``seq`` (§5.2).

    Raises:
        InvalidTag: the AEAD tag does not verify (``RecordProtection`` makes it bad_record_mac).
        UnexpectedMessage: the plaintext has no content type (§5.4).
    """
    nonce = per_record_nonce(iv, seq)
    plaintext = suite.aead(key).decrypt(nonce, record[HEADER_LEN:], record[:HEADER_LEN])
    return decode_inner_plaintext(plaintext)


def decode_inner_plaintext(plaintext: bytes) -> tuple[int, bytes]:
    """Split a decrypted TLSInnerPlaintext into (content type, content) (RFC 8446 §5.4).

    The type is the last non-zero byte: padding is stripped from the end.

    Raises:
        UnexpectedMessage: the plaintext is all zeros, so there is no content type (§5.4).
    """
    end = len(plaintext)
    if end and plaintext[-1] == 0:  # padded: rare, so only then pay for a scan
        end = len(plaintext.rstrip(b"\x00"))
    if end == 0:
        raise UnexpectedMessage("no non-zero content type in a protected record (RFC 8446 §5.4)")
    return plaintext[end - 1], plaintext[: end - 1]


class RecordProtection:
    """One direction of record protection under one traffic secret (RFC 8446 §5.2, §5.3).

    Holds the AEAD key and IV derived from ``secret`` (§7.3) and the sequence
    number ``seq``, which starts at 0 for every new key and counts records.
    Use one object to write and another to read; replace it on a key change.
    The cryptography (keys, nonce, AEAD) is the ``provider``'s (default: tlslab's
    own); the rules on lengths, types and sequence numbers are checked here.
    """

    def __init__(self, suite: Suite, secret: bytes, provider: Provider | None = None) -> None:
        if provider is None:
            from .provider import DEFAULT_PROVIDER  # here: provider.py imports this module

            provider = DEFAULT_PROVIDER
        self.provider = provider
        self.suite = suite
        self.secret = secret
        self.key, self.iv = traffic_keys(secret, suite, hkdf_expand_label=provider.hkdf_expand_label)
        self.seq = 0
        # The bulk fast path below is tlslab's own record AEAD; a provider with its own pieces
        # keeps every record on its functions.
        own = provider.protect_record is protect_record and provider.unprotect_record is unprotect_record
        self._bulk_aead = suite.aead(self.key) if own else None

    def _next_seq(self) -> int:
        """The number of the next record, then count it (§5.3)."""
        if self.seq > MAX_SEQ:
            # §5.3: "If a TLS implementation would need to wrap a sequence number, it MUST either
            # rekey (Section 4.6.3) or terminate the connection."
            raise InternalError("record sequence number would wrap past 2^64; send KeyUpdate first")
        self.seq += 1
        return self.seq - 1

    def encrypt(self, content_type: int, data: bytes, padding: int = 0) -> bytes:
        """The whole TLSCiphertext record carrying ``data`` of ``content_type`` (§5.2).

        The outer header is application_data / 0x0303 and is the AEAD's additional data.
        """
        inner_len = len(data) + 1 + padding
        if inner_len > MAX_INNER_PLAINTEXT:
            raise ValueError(f"TLSInnerPlaintext of {inner_len} bytes exceeds {MAX_INNER_PLAINTEXT}")
        seq = self._next_seq()
        return self.provider.protect_record(self.suite, self.key, self.iv, seq, content_type, data, padding)

    def decrypt(self, record: Record) -> tuple[int, bytes]:
        """(content type, content) of a protected record (§5.2, §5.4).

        Raises:
            UnexpectedMessage: the outer type is not application_data, or the inner type is
                not handshake/alert/application_data (§5: a protected change_cipher_spec too).
            RecordOverflow: ciphertext > 2^14 + 256 or TLSInnerPlaintext > 2^14 + 1 (§5.2, §5.4).
            BadRecordMac: the AEAD tag does not verify (§5.2).
        """
        if record.content_type != ContentType.application_data:
            raise UnexpectedMessage(f"{_type_name(record.content_type)} record where a protected one was due")
        if len(record.fragment) > MAX_CIPHERTEXT:
            raise RecordOverflow(f"protected record of {len(record.fragment)} bytes exceeds {MAX_CIPHERTEXT}")
        seq = self._next_seq()
        try:
            content_type, data = self.provider.unprotect_record(
                self.suite, self.key, self.iv, seq, record.encode()
            )
        except InvalidTag:
            raise BadRecordMac(f"record {seq} failed authentication (RFC 8446 §5.2)") from None
        inner_len = len(record.fragment) - self.suite.tag_len
        if inner_len > MAX_INNER_PLAINTEXT:
            raise RecordOverflow(f"decrypted record of {inner_len} bytes exceeds {MAX_INNER_PLAINTEXT}")
        if content_type not in _PROTECTED_TYPES:
            # §5: a protected change_cipher_spec "MUST abort the handshake with unexpected_message".
            raise UnexpectedMessage(f"protected record of type {_type_name(content_type)}")
        _check_fragment(content_type, len(data))
        return content_type, data

    # The two methods below are the bulk fast path of ``connection.TLSSocket``: the same AEAD,
    # nonce and sequence number as ``protect_record``/``unprotect_record``, but into buffers the
    # caller owns, without the intermediate copies. They handle only the common case; anything
    # else is left to ``decrypt``, which gives the verdict (tests/test_record.py checks that
    # both give the same results on random record streams).

    def decrypt_application_data_into(self, header: memoryview, fragment: memoryview, out: memoryview) -> int:
        """Decrypt a protected record into ``out`` if it is plain application data (§5.2).

        ``out`` must hold exactly ``len(fragment) - tag_len`` bytes. Returns the length of the
        application data now at the start of ``out``, or -1 when the record is anything else
        (a tag that fails, padding, another inner content type, too long, the last sequence
        number, a provider's own record functions): then ``seq`` is unchanged, so ``decrypt``
        can process the same record and raise or deliver as RFC 8446 says. ``out`` may have
        been written to either way.
        """
        if self._bulk_aead is None or self.seq > MAX_SEQ or len(out) > MAX_INNER_PLAINTEXT:
            return -1
        try:
            self._bulk_aead.decrypt_into(per_record_nonce(self.iv, self.seq), fragment, header, out)
        except InvalidTag:
            return -1
        last = len(out) - 1
        if last < 0 or out[last] != ContentType.application_data:
            return -1
        self.seq += 1
        return last

    def encrypt_application_data_into(self, data: memoryview, out: memoryview) -> None:
        """``encrypt(application_data, data)`` written into ``out``, which must hold exactly
        ``HEADER_LEN + len(data) + 1 + tag_len`` bytes: the record is sealed in place (§5.2)."""
        if self._bulk_aead is None:
            out[:] = self.encrypt(ContentType.application_data, bytes(data))
            return
        inner_len = len(data) + 1
        if inner_len > MAX_INNER_PLAINTEXT:
            raise ValueError(f"TLSInnerPlaintext of {inner_len} bytes exceeds {MAX_INNER_PLAINTEXT}")
        seq = self._next_seq()
        _HEADER.pack_into(out, 0, ContentType.application_data, TLS12, inner_len + self.suite.tag_len)
        out[HEADER_LEN : HEADER_LEN + len(data)] = data
        out[HEADER_LEN + len(data)] = ContentType.application_data
        self._bulk_aead.encrypt_into(
            per_record_nonce(self.iv, seq),
            out[HEADER_LEN : HEADER_LEN + inner_len],
            out[:HEADER_LEN],
            out[HEADER_LEN:],
        )


_PROTECTED_TYPES = frozenset({ContentType.handshake, ContentType.alert, ContentType.application_data})


def _type_name(content_type: int) -> str:
    try:
        return ContentType(content_type).name
    except ValueError:
        return f"unknown content type {content_type}"
