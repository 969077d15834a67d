"""Handshake messages (RFC 8446 §4) and their reassembly from records (§5.1).

Every handshake message travels inside this envelope (RFC 8446 §4)::

    struct {
        HandshakeType msg_type;    /* handshake type */
        uint24 length;             /* remaining bytes in message */
        select (Handshake.msg_type) { ... };
    } Handshake;

Each message below is a dataclass named after its RFC struct, with the RFC's field
names. ``encode()`` returns the *whole* message, 4-byte header included, because
that is what goes into the transcript hash (§4.4.1). ``decode_handshake(data)``
takes exactly one whole message and returns the matching dataclass; it is strict
(lengths, vector bounds, no trailing bytes) and raises only ``TLSError``
subclasses. Extensions stay raw (``extensions.Extension``) in wire order, so a
decoded message re-encodes to the very same bytes:

    >>> from tlslab.course.rfc8448 import trace
    >>> wire = trace("simple_1rtt")["server_finished"]
    >>> msg = decode_handshake(wire)
    >>> type(msg).__name__, len(msg.verify_data), msg.encode() == wire
    ('Finished', 32, True)

Records and messages do not line up: one record may carry several messages and one
message may span several records (§5.1). ``HandshakeBuffer`` turns record payloads
back into whole messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from .constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    TLS12,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    SignatureScheme,
    name_of,
)
from .errors import DecodeError, IllegalParameter, ProtocolVersion, UnexpectedMessage
from .extensions import (
    U16_MAX,
    Extension,
    ExtensionBody,
    decode_extensions,
    encode_extensions,
    find_extension,
)
from .wire import Reader, Recorder, Writer

__all__ = [
    "MAX_HANDSHAKE_MESSAGE",
    "Certificate",
    "CertificateEntry",
    "CertificateRequest",
    "CertificateVerify",
    "ClientHello",
    "EncryptedExtensions",
    "EndOfEarlyData",
    "Finished",
    "HandshakeBuffer",
    "HandshakeMessage",
    "HelloRetryRequest",
    "KeyUpdate",
    "MessageHash",
    "NewSessionTicket",
    "ServerHello",
    "decode_handshake",
]

U24_MAX = (1 << 24) - 1
B = TypeVar("B", bound=ExtensionBody)


class HandshakeMessage:
    """Base of the handshake messages: the §4 envelope around ``encode_body()``."""

    msg_type: ClassVar[HandshakeType]

    def encode_body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode_body(cls, r: Reader) -> HandshakeMessage:
        raise NotImplementedError

    def encode(self) -> bytes:
        """The whole message: ``msg_type`` (uint8), ``length`` (uint24), body."""
        return Writer().u8(self.msg_type).vector(3, self.encode_body()).getvalue()

    def get(self, ext_type: int) -> bytes | None:
        """``extension_data`` of extension ``ext_type``, or None (messages without extensions: None)."""
        return find_extension(getattr(self, "extensions", ()), ext_type)

    def body(self, cls: type[B]) -> B | None:
        """This message's extension of type ``cls.TYPE``, decoded as ``cls``; None if absent.

        Decoded once: later calls return the same object (while that extension is unchanged).
        Raises what ``cls.decode`` raises (DecodeError, IllegalParameter).
        """
        data = self.get(cls.TYPE)
        if data is None:
            return None
        decoded: dict[type, tuple[bytes, Any]] = self.__dict__.setdefault("_bodies", {})
        if cls not in decoded or decoded[cls][0] is not data:
            decoded[cls] = (data, cls.decode(data))
        body: B = decoded[cls][1]
        return body

    def describe(self) -> str:
        """The message's fields, one a line, with code points by name."""
        lines = [type(self).__name__]
        for f in fields(self):  # type: ignore[arg-type]
            lines.append(f"  {f.name}: {_show(f.name, getattr(self, f.name))}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


# Field name -> the enum that names its values, for describe().
_ENUM_OF_FIELD: dict[str, Any] = {
    "cipher_suites": CipherSuite,
    "cipher_suite": CipherSuite,
    "algorithm": SignatureScheme,
    "request_update": KeyUpdateRequest,
}


def _show(name: str, value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= 16:
            return value.hex() or "(empty)"
        return f"{value[:8].hex()}... ({len(value)} bytes)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(name, v) for v in value) + "]"
    if isinstance(value, int) and name in _ENUM_OF_FIELD:
        return name_of(_ENUM_OF_FIELD[name], value)
    if isinstance(value, int) and name.endswith("version"):
        return f"{value:#06x}"
    return str(value)


# --- §4.1.2 ClientHello ----------------------------------------------------------------------------


@dataclass
class ClientHello(HandshakeMessage):
    """RFC 8446 §4.1.2::

    struct {
        ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
        Random random;
        opaque legacy_session_id<0..32>;
        CipherSuite cipher_suites<2..2^16-2>;
        opaque legacy_compression_methods<1..2^8-1>;
        Extension extensions<8..2^16-1>;
    } ClientHello;

    tlslab only sends ClientHellos; decoding one (RFC 8448 traces, notebooks) keeps
    legacy fields as they are. The one rule checked here is that
    ``pre_shared_key`` comes last (§4.2.11), because binders depend on it.
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.client_hello

    random: bytes
    legacy_session_id: bytes
    cipher_suites: list[int]
    legacy_compression_methods: bytes = b"\x00"
    extensions: list[Extension] = field(default_factory=list)
    legacy_version: int = TLS12

    def encode_body(self) -> bytes:
        w = Writer().u16(self.legacy_version).raw(self.random).vector(1, self.legacy_session_id)
        w.uint_list(2, 2, self.cipher_suites).vector(1, self.legacy_compression_methods)
        return w.raw(encode_extensions(self.extensions)).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> ClientHello:
        legacy_version = r.u16("legacy_version")
        random = r.take(32, "random")
        session_id = r.vector(1, 0, 32, name="legacy_session_id")
        suites = r.uint_list(2, 2, 2, U16_MAX - 1, name="cipher_suites", item="CipherSuite")
        compression = r.vector(1, 1, 255, name="legacy_compression_methods")
        if r.done():
            # Only a pre-TLS 1.3 ClientHello may omit the extensions (RFC 5246 §7.4.1.2); without
            # supported_versions it offers TLS 1.2 or older (RFC 8446 §4.2.1), which a TLS 1.3-only
            # server answers with protocol_version (RFC 8446 Appendix D.2), not decode_error.
            raise ProtocolVersion("ClientHello without extensions: the client speaks TLS 1.2 or older")
        if r.remaining >= 2 and int.from_bytes(r.data[r.pos : r.pos + 2], "big") < 8:
            # TLS 1.3's extensions<8..2^16-1> cannot hold supported_versions with any other
            # extension; a shorter block is a TLS 1.2 (or older) ClientHello, whose bound is
            # <0..2^16-1>: read it by that rule, then answer the old version with protocol_version
            # (§4.1.2, §6.2) instead of decode_error.
            older = decode_extensions(r, "ClientHello", 0, U16_MAX)
            if not any(e.type == ExtensionType.supported_versions for e in older):
                raise ProtocolVersion("ClientHello without supported_versions: TLS 1.2 or older")
            raise DecodeError("ClientHello extensions shorter than the 8 bytes TLS 1.3 requires (§4.1.2)")
        exts = decode_extensions(r, "ClientHello", 8, U16_MAX)
        psk = [i for i, e in enumerate(exts) if e.type == ExtensionType.pre_shared_key]
        if psk and psk[0] != len(exts) - 1:
            # RFC 8446 §4.2.11: "MUST be the last extension ... otherwise ... illegal_parameter".
            raise IllegalParameter("ClientHello: pre_shared_key is not the last extension")
        return cls(random, session_id, suites, compression, exts, legacy_version)


# --- §4.1.3 ServerHello, §4.1.4 HelloRetryRequest --------------------------------------------------


@dataclass
class ServerHello(HandshakeMessage):
    """RFC 8446 §4.1.3::

    struct {
        ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
        Random random;
        opaque legacy_session_id_echo<0..32>;
        CipherSuite cipher_suite;
        uint8 legacy_compression_method = 0;
        Extension extensions<6..2^16-1>;
    } ServerHello;

    A ServerHello whose ``random`` is ``HELLO_RETRY_REQUEST_RANDOM`` is a
    HelloRetryRequest (§4.1.3); ``decode_body`` returns that class then.
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.server_hello

    random: bytes
    legacy_session_id_echo: bytes
    cipher_suite: int
    extensions: list[Extension] = field(default_factory=list)
    legacy_version: int = TLS12
    legacy_compression_method: int = 0

    def __post_init__(self) -> None:
        # Keep decode(encode(m)) == m: the random alone decides which of the two it is.
        if (self.random == HELLO_RETRY_REQUEST_RANDOM) != isinstance(self, HelloRetryRequest):
            raise ValueError(
                "random == HELLO_RETRY_REQUEST_RANDOM exactly when the message is a HelloRetryRequest"
            )

    def encode_body(self) -> bytes:
        w = Writer().u16(self.legacy_version).raw(self.random).vector(1, self.legacy_session_id_echo)
        w.u16(self.cipher_suite).u8(self.legacy_compression_method)
        return w.raw(encode_extensions(self.extensions)).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> ServerHello:
        legacy_version = r.u16("legacy_version")
        random = r.take(32, "random")
        session_id = r.vector(1, 0, 32, name="legacy_session_id_echo")
        suite = r.u16("cipher_suite")
        compression = r.u8("legacy_compression_method")
        if compression != 0:
            # RFC 8446 §4.1.3: legacy_compression_method "MUST have the value 0"; the RFC names
            # no alert, and a field with a forbidden value is what illegal_parameter is for (§6.2).
            raise IllegalParameter(f"ServerHello: legacy_compression_method {compression}, must be 0")
        is_hrr = random == HELLO_RETRY_REQUEST_RANDOM
        what = "HelloRetryRequest" if is_hrr else "ServerHello"
        if r.done():
            # Extensions are optional only before TLS 1.3 (RFC 5246 §7.4.1.3); without them there is
            # no supported_versions, so this server speaks TLS 1.2 or older (RFC 8446 §4.2.1), and a
            # client that does not accept the version sends protocol_version (RFC 5246 App. E.1).
            raise ProtocolVersion(f"{what} without extensions: the server speaks TLS 1.2 or older")
        exts = decode_extensions(r, what, 6, U16_MAX)
        out = HelloRetryRequest if is_hrr else ServerHello
        return out(random, session_id, suite, exts, legacy_version, compression)


@dataclass
class HelloRetryRequest(ServerHello):
    """RFC 8446 §4.1.4: a ServerHello with ``random = HELLO_RETRY_REQUEST_RANDOM``.

    Same struct and fields as ``ServerHello``; its extensions are
    ``supported_versions``, and usually ``key_share`` (``KeyShareHelloRetryRequest``)
    and/or ``cookie``.
    """


# --- §4.3.1 EncryptedExtensions, §4.3.2 CertificateRequest -----------------------------------------


@dataclass
class EncryptedExtensions(HandshakeMessage):
    """RFC 8446 §4.3.1::

    struct {
        Extension extensions<0..2^16-1>;
    } EncryptedExtensions;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.encrypted_extensions

    extensions: list[Extension] = field(default_factory=list)

    def encode_body(self) -> bytes:
        return encode_extensions(self.extensions)

    @classmethod
    def decode_body(cls, r: Reader) -> EncryptedExtensions:
        return cls(decode_extensions(r, "EncryptedExtensions"))


@dataclass
class CertificateRequest(HandshakeMessage):
    """RFC 8446 §4.3.2::

    struct {
        opaque certificate_request_context<0..2^8-1>;
        Extension extensions<2..2^16-1>;
    } CertificateRequest;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.certificate_request

    certificate_request_context: bytes
    extensions: list[Extension] = field(default_factory=list)

    def encode_body(self) -> bytes:
        w = Writer().vector(1, self.certificate_request_context)
        return w.raw(encode_extensions(self.extensions)).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> CertificateRequest:
        context = r.vector(1, name="certificate_request_context")
        return cls(context, decode_extensions(r, "CertificateRequest", 2, U16_MAX))


# --- §4.4.2 Certificate, §4.4.3 CertificateVerify, §4.4.4 Finished ---------------------------------


@dataclass
class CertificateEntry:
    """RFC 8446 §4.4.2, X.509 certificates only (RFC 7250 raw public keys are not supported)::

    struct {
        select (certificate_type) {
            case RawPublicKey: opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;
            case X509:         opaque cert_data<1..2^24-1>;
        };
        Extension extensions<0..2^16-1>;
    } CertificateEntry;
    """

    cert_data: bytes
    extensions: list[Extension] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.vector(3, self.cert_data).raw(encode_extensions(self.extensions))

    @classmethod
    def read(cls, r: Reader) -> CertificateEntry:
        start = r.pos
        cert_data = r.vector(3, 1, name="cert_data")
        entry = cls(cert_data, decode_extensions(r, "CertificateEntry"))
        r.mark("CertificateEntry", start)
        return entry

    def __str__(self) -> str:
        exts = ", ".join(str(e) for e in self.extensions)
        return f"CertificateEntry({len(self.cert_data)}-byte certificate{'; ' + exts if exts else ''})"


@dataclass
class Certificate(HandshakeMessage):
    """RFC 8446 §4.4.2, end-entity certificate first::

    struct {
        opaque certificate_request_context<0..2^8-1>;
        CertificateEntry certificate_list<0..2^24-1>;
    } Certificate;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.certificate

    certificate_request_context: bytes
    certificate_list: list[CertificateEntry] = field(default_factory=list)

    def encode_body(self) -> bytes:
        w = Writer().vector(1, self.certificate_request_context)
        with w.prefixed(3) as lst:
            for entry in self.certificate_list:
                entry.write(lst)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> Certificate:
        context = r.vector(1, name="certificate_request_context")
        lst = r.sub(3, what="Certificate certificate_list", name="certificate_list")
        entries: list[CertificateEntry] = []
        while not lst.done():
            entries.append(CertificateEntry.read(lst))
        return cls(context, entries)


@dataclass
class CertificateVerify(HandshakeMessage):
    """RFC 8446 §4.4.3::

    struct {
        SignatureScheme algorithm;
        opaque signature<0..2^16-1>;
    } CertificateVerify;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.certificate_verify

    algorithm: int
    signature: bytes

    def encode_body(self) -> bytes:
        return Writer().u16(self.algorithm).vector(2, self.signature).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> CertificateVerify:
        return cls(r.u16("algorithm"), r.vector(2, name="signature"))


@dataclass
class Finished(HandshakeMessage):
    """RFC 8446 §4.4.4::

    struct {
        opaque verify_data[Hash.length];
    } Finished;

    The length depends on the negotiated hash, which the decoder does not know: it
    keeps the whole body, and the client compares it (constant-time) with what it
    expects, which checks the length too.
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.finished

    verify_data: bytes

    def encode_body(self) -> bytes:
        return self.verify_data

    @classmethod
    def decode_body(cls, r: Reader) -> Finished:
        return cls(r.take(r.remaining, "verify_data"))


# --- §4.5 EndOfEarlyData, §4.6.1 NewSessionTicket, §4.6.3 KeyUpdate ----------------------------------


@dataclass
class EndOfEarlyData(HandshakeMessage):
    """RFC 8446 §4.5: ``struct {} EndOfEarlyData;`` (an empty body)."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.end_of_early_data

    def encode_body(self) -> bytes:
        return b""

    @classmethod
    def decode_body(cls, r: Reader) -> EndOfEarlyData:
        return cls()


@dataclass
class NewSessionTicket(HandshakeMessage):
    """RFC 8446 §4.6.1::

    struct {
        uint32 ticket_lifetime;
        uint32 ticket_age_add;
        opaque ticket_nonce<0..255>;
        opaque ticket<1..2^16-1>;
        Extension extensions<0..2^16-2>;
    } NewSessionTicket;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.new_session_ticket

    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    ticket: bytes
    extensions: list[Extension] = field(default_factory=list)

    def encode_body(self) -> bytes:
        w = Writer().u32(self.ticket_lifetime).u32(self.ticket_age_add)
        w.vector(1, self.ticket_nonce).vector(2, self.ticket)
        return w.raw(encode_extensions(self.extensions)).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> NewSessionTicket:
        lifetime, age_add = r.u32("ticket_lifetime"), r.u32("ticket_age_add")
        nonce = r.vector(1, 0, 255, name="ticket_nonce")
        ticket = r.vector(2, 1, name="ticket")
        exts = decode_extensions(r, "NewSessionTicket", 0, U16_MAX - 1)
        return cls(lifetime, age_add, nonce, ticket, exts)


@dataclass
class KeyUpdate(HandshakeMessage):
    """RFC 8446 §4.6.3::

    enum {
        update_not_requested(0), update_requested(1), (255)
    } KeyUpdateRequest;

    struct {
        KeyUpdateRequest request_update;
    } KeyUpdate;
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.key_update

    request_update: int

    def encode_body(self) -> bytes:
        return Writer().u8(self.request_update).getvalue()

    @classmethod
    def decode_body(cls, r: Reader) -> KeyUpdate:
        request = r.u8("request_update")
        if request not in (KeyUpdateRequest.update_not_requested, KeyUpdateRequest.update_requested):
            # RFC 8446 §4.6.3: "any other value ... MUST terminate the connection with illegal_parameter".
            raise IllegalParameter(f"KeyUpdate: request_update {request} is neither 0 nor 1")
        return cls(request)


# --- §4.4.1 message_hash -------------------------------------------------------------------------------


@dataclass
class MessageHash(HandshakeMessage):
    """RFC 8446 §4.4.1: the synthetic message that replaces ClientHello1 in the
    transcript after a HelloRetryRequest::

        Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
            Hash(message_hash ||        /* Handshake type */
                 00 00 Hash.length  ||  /* Handshake message length (bytes) */
                 Hash(ClientHello1) ||  /* Hash of ClientHello1 */
                 HelloRetryRequest  || ... || Mn)

    It never goes on the wire; ``hash`` is Hash(ClientHello1).
    """

    msg_type: ClassVar[HandshakeType] = HandshakeType.message_hash

    hash: bytes

    def encode_body(self) -> bytes:
        return self.hash

    @classmethod
    def decode_body(cls, r: Reader) -> MessageHash:
        return cls(r.rest())


# --- Decoding one whole message -------------------------------------------------------------------------

_BY_TYPE: dict[int, type[HandshakeMessage]] = {
    cls.msg_type: cls
    for cls in (
        ClientHello,
        ServerHello,
        NewSessionTicket,
        EndOfEarlyData,
        EncryptedExtensions,
        Certificate,
        CertificateRequest,
        CertificateVerify,
        Finished,
        KeyUpdate,
        MessageHash,
    )
}


def decode_handshake(data: bytes, recorder: Recorder | None = None) -> HandshakeMessage:
    """Decode exactly one whole handshake message, 4-byte header included.

    A ``recorder`` is told the span of each field the decoders name (RFC 8446 field names).

    Raises:
        DecodeError: truncated, over-long, out-of-bounds vectors or trailing bytes.
        UnexpectedMessage: an unknown ``msg_type`` (RFC 8446 §4: "If an implementation
            receives an unexpected message type, it MUST abort ... unexpected_message").
        IllegalParameter: a field with a value the RFC forbids (e.g. KeyUpdate 2).
    """
    r = Reader(data, "handshake message", recorder)
    msg_type = r.u8("msg_type")
    cls = _BY_TYPE.get(msg_type)
    if cls is None:
        raise UnexpectedMessage(f"unknown handshake message type {msg_type}")
    body = r.sub(3, what=cls.__name__, name="body")
    r.finish()
    msg = cls.decode_body(body)
    body.finish()
    return msg


# --- §5.1 Reassembly -------------------------------------------------------------------------------------

# The uint24 length allows 16 MiB. Like Go's crypto/tls (maxHandshake, 64 KiB) we refuse far less:
# 256 KiB holds any sane certificate chain and bounds what a peer can make us buffer.
MAX_HANDSHAKE_MESSAGE = 256 * 1024


class HandshakeBuffer:
    """Whole handshake messages out of the fragments carried by records (RFC 8446 §5.1).

    "Handshake messages MAY be coalesced into a single TLSPlaintext record or
    fragmented across several records": ``feed()`` each record's payload, then
    ``pop()`` until it returns None.

        >>> buf = HandshakeBuffer()
        >>> buf.feed(bytes.fromhex("1400"))
        >>> buf.pop() is None, buf.has_partial()
        (True, True)
        >>> buf.feed(bytes.fromhex("0002abcd05000000"))
        >>> buf.pop().hex(), buf.pop().hex(), buf.pop(), buf.has_partial()
        ('14000002abcd', '05000000', None, False)
    """

    def __init__(self, max_message_length: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self.max_message_length = max_message_length
        self._buf = bytearray()

    def feed(self, fragment: bytes) -> None:
        """Add one record's handshake payload.

        Raises:
            UnexpectedMessage: an empty fragment. §5.1 forbids sending one; §5.4 makes
                the receiver of an empty Handshake record send unexpected_message.
            DecodeError: the next message declares more than ``max_message_length`` bytes.
        """
        if not fragment:
            raise UnexpectedMessage("zero-length handshake fragment (RFC 8446 §5.1, §5.4)")
        self._buf += fragment
        self._check_next_length()

    def pop(self) -> bytes | None:
        """The next whole message (header included), or None if it is not complete yet."""
        if len(self._buf) < 4:
            return None
        end = 4 + int.from_bytes(self._buf[1:4], "big")
        if len(self._buf) < end:
            return None
        message = bytes(self._buf[:end])
        del self._buf[:end]
        self._check_next_length()
        return message

    def pop_all(self) -> list[bytes]:
        """Every whole message buffered so far, in order."""
        out = []
        while (message := self.pop()) is not None:
            out.append(message)
        return out

    def has_partial(self) -> bool:
        """True if any bytes are buffered, whole messages not yet popped included.

        At a key change nothing may be waiting: "Handshake messages MUST NOT span key
        changes" and the receiver sends unexpected_message (RFC 8446 §5.1).
        """
        return bool(self._buf)

    def check_not_interleaved(self, content_type: int) -> None:
        """Call with the content type of every record that is *not* handshake.

        RFC 8446 §5.1: "Handshake messages MUST NOT be interleaved with other record types.
        That is, if a handshake message is split over two or more records, there MUST NOT be
        any other records between them." The RFC names no alert; a record out of place is
        an unexpected_message (§6.2).

        Raises:
            UnexpectedMessage: part of a handshake message is buffered.
        """
        if self._buf:
            raise UnexpectedMessage(
                f"{name_of(ContentType, content_type)} record inside a fragmented handshake message "
                "(RFC 8446 §5.1)"
            )

    def _check_next_length(self) -> None:
        if len(self._buf) >= 4:
            length = int.from_bytes(self._buf[1:4], "big")
            if length > self.max_message_length:
                raise DecodeError(
                    f"handshake message type {self._buf[0]} declares {length} bytes, "
                    f"more than the {self.max_message_length} we accept"
                )
