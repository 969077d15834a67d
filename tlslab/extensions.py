"""Hello extensions and their bodies (RFC 8446 §4.2, RFC 6066 §3, RFC 7301 §3.1).

Every handshake message that carries extensions keeps them as a ``list[Extension]``
in wire order: the raw ``(type, data)`` pairs. That way an extension tlslab does not
know, or a GREASE value (RFC 8701), survives a decode/encode round trip byte for
byte, and the transcript hash (RFC 8446 §4.4.1) is computed over exactly what was sent.

The typed classes below give meaning to one extension's ``extension_data``. Each
quotes the RFC struct it encodes; ``encode()`` returns the ``extension_data`` and
``decode(data)`` parses it strictly: every byte consumed, every vector inside the
bounds the RFC declares, and only ``TLSError`` subclasses raised. Given a
``wire.Recorder``, ``decode(data, recorder, base)`` also tells it where each field
lies, by the RFC's field names (that is how ``tlslab.course.annotate`` labels them);
``body_class(ext_type, message)`` says which class reads an extension in a message.

    >>> body = SupportedGroups([NamedGroup.x25519, NamedGroup.secp256r1]).encode()
    >>> body.hex()
    '0004001d0017'
    >>> ext = SupportedGroups([NamedGroup.x25519]).to_extension()    # the body knows its code point
    >>> ext.type.name, SupportedGroups.from_extension(ext)
    ('supported_groups', SupportedGroups(named_group_list=[29]))

Code points stay plain ``int`` in the dataclasses (a peer may send values we do not
know); print them with ``constants.name_of``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from .constants import ExtensionType, NamedGroup, NameType, name_of
from .errors import DecodeError, IllegalParameter
from .wire import Reader, Recorder, Writer

__all__ = [
    "ALPN",
    "Cookie",
    "EarlyDataIndication",
    "Extension",
    "ExtensionBody",
    "KeyShareClientHello",
    "KeyShareEntry",
    "KeyShareHelloRetryRequest",
    "KeyShareServerHello",
    "OfferedPsks",
    "PreSharedKeyServerHello",
    "PskIdentity",
    "PskKeyExchangeModes",
    "RecordSizeLimit",
    "ServerNameList",
    "SignatureAlgorithms",
    "SupportedGroups",
    "SupportedVersionsClientHello",
    "SupportedVersionsServerHello",
    "body_class",
    "decode_extensions",
    "encode_extensions",
    "find_extension",
]

U16_MAX = (1 << 16) - 1


# --- The raw extension and the extension block (RFC 8446 §4.2) -----------------------------------


@dataclass(frozen=True)
class Extension:
    """One extension exactly as on the wire (RFC 8446 §4.2)::

    struct {
        ExtensionType extension_type;
        opaque extension_data<0..2^16-1>;
    } Extension;
    """

    type: int
    data: bytes = b""

    def __str__(self) -> str:
        return f"{name_of(ExtensionType, self.type)} ({len(self.data)} bytes)"


B = TypeVar("B", bound="ExtensionBody")


class ExtensionBody:
    """A typed ``extension_data`` that knows its code point (``TYPE``), so no caller names it.

        >>> SupportedGroups([NamedGroup.x25519]).to_extension()
        Extension(type=<ExtensionType.supported_groups: 10>, data=b'\\x00\\x02\\x00\\x1d')

    ``Body.from_extension(ext)`` reads one back (and checks the type); a message's
    ``body(Body)`` finds and decodes its extension of that type, once.
    """

    TYPE: ClassVar[ExtensionType]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls: type[B], data: bytes, recorder: Recorder | None = None, base: int = 0) -> B:
        """Parse ``extension_data`` strictly; a ``recorder`` hears each field, offset by ``base``."""
        raise NotImplementedError

    def to_extension(self) -> Extension:
        """This body as an ``Extension`` of its own type."""
        return Extension(self.TYPE, self.encode())

    @classmethod
    def from_extension(cls: type[B], ext: Extension) -> B:
        """Decode ``ext``'s data as this body (ValueError if ``ext`` is another type: a caller's bug)."""
        if ext.type != cls.TYPE:
            raise ValueError(
                f"{cls.__name__} is a {cls.TYPE.name} body, not {name_of(ExtensionType, ext.type)}"
            )
        return cls.decode(ext.data)


def encode_extensions(exts: Iterable[Extension]) -> bytes:
    """The ``Extension extensions<..2^16-1>`` block: a 2-byte length, then each extension."""
    w = Writer()
    with w.prefixed(2) as block:
        for ext in exts:
            block.u16(ext.type).vector(2, ext.data)
    return w.getvalue()


def decode_extensions(
    r: Reader | bytes, what: str, min_len: int = 0, max_len: int = U16_MAX
) -> list[Extension]:
    """Read an extension block (2-byte length, ``<min_len..max_len>``) from ``r``.

    ``r`` may be a ``Reader`` (the block is read from its current position) or the
    block's bytes (which must then be consumed exactly). ``what`` names the message
    in error messages, e.g. ``"ClientHello"``.

    Raises:
        DecodeError: bad lengths, or the block's bounds are violated.
        IllegalParameter: two extensions of the same type in one block (RFC 8446 §4.2:
            "There MUST NOT be more than one extension of the same type").
    """
    whole = not isinstance(r, Reader)
    reader = r if isinstance(r, Reader) else Reader(r, what)
    block = reader.sub(2, min_len, max_len, what=f"{what} extensions", name="extensions")
    exts: list[Extension] = []
    seen: set[int] = set()
    while not block.done():
        ext_start = block.pos
        ext_type = block.u16("extension_type")
        if ext_type in seen:
            raise IllegalParameter(f"duplicate {name_of(ExtensionType, ext_type)} extension in {what}")
        seen.add(ext_type)
        exts.append(Extension(ext_type, block.vector(2, name="extension_data")))
        block.mark("Extension", ext_start)
    if whole:
        reader.finish()
    return exts


def find_extension(exts: Iterable[Extension], ext_type: int) -> bytes | None:
    """The ``extension_data`` of the extension of type ``ext_type``, or None if absent."""
    for ext in exts:
        if ext.type == ext_type:
            return ext.data
    return None


# --- Helpers for lists of fixed-size code points ----------------------------------------------------


def _one_uint(data: bytes, size: int, what: str, name: str, recorder: Recorder | None, base: int) -> int:
    """A body that is one ``uint{8*size}`` field ``name`` (``what``: the extension, for errors)."""
    r = Reader(data, what, recorder, base)
    value = r.uint(size, name)
    r.finish()
    return value


# --- server_name (RFC 6066 §3) -----------------------------------------------------------------------


@dataclass
class ServerNameList(ExtensionBody):
    """The client's ``server_name`` extension (RFC 6066 §3)::

    struct {
        NameType name_type;
        select (name_type) {
            case host_name: HostName;
        } name;
    } ServerName;

    enum { host_name(0), (255) } NameType;
    opaque HostName<1..2^16-1>;

    struct {
        ServerName server_name_list<1..2^16-1>
    } ServerNameList;

    Only ``host_name`` exists, so the list holds host names (ASCII bytes, no
    trailing dot). The server's reply is an *empty* ``server_name`` extension,
    which is not a ServerNameList: check ``data == b""`` for that.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.server_name

    host_names: list[bytes]

    def encode(self) -> bytes:
        w = Writer()
        with w.prefixed(2) as lst:
            for name in self.host_names:
                lst.u8(NameType.host_name).vector(2, name)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> ServerNameList:
        r = Reader(data, "server_name", recorder, base)
        lst = r.sub(2, 1, U16_MAX, name="server_name_list")
        names: list[bytes] = []
        while not lst.done():
            start = lst.pos
            name_type = lst.u8("name_type")
            if name_type != NameType.host_name:
                # RFC 6066 §3: an unknown NameType has no length we could skip by.
                raise DecodeError(f"server_name: unknown name_type {name_type}")
            names.append(lst.vector(2, 1, name="host_name"))
            lst.mark("ServerName", start)
        if len(names) > 1:
            # RFC 6066 §3: "MUST NOT contain more than one name of the same name_type".
            raise IllegalParameter("server_name: more than one host_name")
        r.finish()
        return cls(names)


# --- supported_versions (RFC 8446 §4.2.1) ------------------------------------------------------------


@dataclass
class SupportedVersionsClientHello(ExtensionBody):
    """``supported_versions`` in a ClientHello (RFC 8446 §4.2.1)::

    struct {
        select (Handshake.msg_type) {
            case client_hello:
                 ProtocolVersion versions<2..254>;
            ...
        };
    } SupportedVersions;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.supported_versions

    versions: list[int]

    def encode(self) -> bytes:
        return Writer().uint_list(2, 1, self.versions).getvalue()

    @classmethod
    def decode(
        cls, data: bytes, recorder: Recorder | None = None, base: int = 0
    ) -> SupportedVersionsClientHello:
        r = Reader(data, "supported_versions", recorder, base)
        versions = r.uint_list(2, 1, 2, 254, name="versions", item="ProtocolVersion")
        r.finish()
        return cls(versions)


@dataclass
class SupportedVersionsServerHello(ExtensionBody):
    """``supported_versions`` in a ServerHello or HelloRetryRequest (RFC 8446 §4.2.1)::

    struct {
        select (Handshake.msg_type) {
            case server_hello: /* and HelloRetryRequest */
                 ProtocolVersion selected_version;
        };
    } SupportedVersions;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.supported_versions

    selected_version: int

    def encode(self) -> bytes:
        return Writer().u16(self.selected_version).getvalue()

    @classmethod
    def decode(
        cls, data: bytes, recorder: Recorder | None = None, base: int = 0
    ) -> SupportedVersionsServerHello:
        version = _one_uint(data, 2, "supported_versions", "selected_version", recorder, base)
        return cls(version)


# --- supported_groups (RFC 8446 §4.2.7) --------------------------------------------------------------


@dataclass
class SupportedGroups(ExtensionBody):
    """``supported_groups`` (RFC 8446 §4.2.7), most preferred first::

    struct {
        NamedGroup named_group_list<2..2^16-1>;
    } NamedGroupList;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.supported_groups

    named_group_list: list[int]

    def encode(self) -> bytes:
        return Writer().uint_list(2, 2, self.named_group_list).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> SupportedGroups:
        r = Reader(data, "supported_groups", recorder, base)
        groups = r.uint_list(2, 2, 2, U16_MAX, name="named_group_list", item="NamedGroup")
        r.finish()
        return cls(groups)


# --- key_share (RFC 8446 §4.2.8) ----------------------------------------------------------------------


@dataclass
class KeyShareEntry:
    """One offered or chosen key (RFC 8446 §4.2.8)::

    struct {
        NamedGroup group;
        opaque key_exchange<1..2^16-1>;
    } KeyShareEntry;
    """

    group: int
    key_exchange: bytes

    def write(self, w: Writer) -> None:
        w.u16(self.group).vector(2, self.key_exchange)

    @classmethod
    def read(cls, r: Reader) -> KeyShareEntry:
        start = r.pos
        entry = cls(r.u16("group"), r.vector(2, 1, name="key_exchange"))
        r.mark("KeyShareEntry", start)
        return entry

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> KeyShareEntry:
        r = Reader(data, "key_share", recorder, base)
        entry = cls.read(r)
        r.finish()
        return entry

    def __str__(self) -> str:
        return f"{name_of(NamedGroup, self.group)}({len(self.key_exchange)} bytes)"


@dataclass
class KeyShareClientHello(ExtensionBody):
    """``key_share`` in a ClientHello (RFC 8446 §4.2.8)::

    struct {
        KeyShareEntry client_shares<0..2^16-1>;
    } KeyShareClientHello;

    "Clients MUST NOT offer multiple KeyShareEntry values for the same group" and
    servers answer a duplicate with illegal_parameter; the decoder does the same.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.key_share

    client_shares: list[KeyShareEntry] = field(default_factory=list)

    def encode(self) -> bytes:
        w = Writer()
        with w.prefixed(2) as lst:
            for entry in self.client_shares:
                entry.write(lst)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> KeyShareClientHello:
        r = Reader(data, "key_share", recorder, base)
        lst = r.sub(2, 0, U16_MAX, name="client_shares")
        shares: list[KeyShareEntry] = []
        while not lst.done():
            shares.append(KeyShareEntry.read(lst))
        r.finish()
        groups = [s.group for s in shares]
        if len(set(groups)) != len(groups):
            raise IllegalParameter("key_share: two KeyShareEntry values for the same group (RFC 8446 §4.2.8)")
        return cls(shares)


@dataclass
class KeyShareServerHello(ExtensionBody):
    """``key_share`` in a ServerHello (RFC 8446 §4.2.8)::

    struct {
        KeyShareEntry server_share;
    } KeyShareServerHello;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.key_share

    server_share: KeyShareEntry

    def encode(self) -> bytes:
        return self.server_share.encode()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> KeyShareServerHello:
        return cls(KeyShareEntry.decode(data, recorder, base))


@dataclass
class KeyShareHelloRetryRequest(ExtensionBody):
    """``key_share`` in a HelloRetryRequest (RFC 8446 §4.2.8)::

    struct {
        NamedGroup selected_group;
    } KeyShareHelloRetryRequest;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.key_share

    selected_group: int

    def encode(self) -> bytes:
        return Writer().u16(self.selected_group).getvalue()

    @classmethod
    def decode(
        cls, data: bytes, recorder: Recorder | None = None, base: int = 0
    ) -> KeyShareHelloRetryRequest:
        group = _one_uint(data, 2, "key_share", "selected_group", recorder, base)
        return cls(group)


# --- signature_algorithms, signature_algorithms_cert (RFC 8446 §4.2.3) -------------------------------


@dataclass
class SignatureAlgorithms(ExtensionBody):
    """``signature_algorithms`` and ``signature_algorithms_cert`` (RFC 8446 §4.2.3)::

    struct {
        SignatureScheme supported_signature_algorithms<2..2^16-2>;
    } SignatureSchemeList;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.signature_algorithms

    supported_signature_algorithms: list[int]

    def encode(self) -> bytes:
        return Writer().uint_list(2, 2, self.supported_signature_algorithms).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> SignatureAlgorithms:
        r = Reader(data, "signature_algorithms", recorder, base)
        schemes = r.uint_list(
            2, 2, 2, U16_MAX - 1, name="supported_signature_algorithms", item="SignatureScheme"
        )
        r.finish()
        return cls(schemes)


# --- application_layer_protocol_negotiation (RFC 7301 §3.1) ------------------------------------------


@dataclass
class ALPN(ExtensionBody):
    """``application_layer_protocol_negotiation`` (RFC 7301 §3.1)::

    opaque ProtocolName<1..2^8-1>;

    struct {
        ProtocolName protocol_name_list<2..2^16-1>
    } ProtocolNameList;

    In a server's EncryptedExtensions the list holds exactly one name (RFC 7301
    §3.1); the client checks that, since the decoder cannot know the sender.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.application_layer_protocol_negotiation

    protocol_name_list: list[bytes]

    def encode(self) -> bytes:
        w = Writer()
        with w.prefixed(2) as lst:
            for name in self.protocol_name_list:
                lst.vector(1, name)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> ALPN:
        r = Reader(data, "application_layer_protocol_negotiation", recorder, base)
        lst = r.sub(2, 2, U16_MAX, name="protocol_name_list")
        names: list[bytes] = []
        while not lst.done():
            names.append(lst.vector(1, 1, name="ProtocolName"))
        r.finish()
        return cls(names)


# --- psk_key_exchange_modes (RFC 8446 §4.2.9) --------------------------------------------------------


@dataclass
class PskKeyExchangeModes(ExtensionBody):
    """``psk_key_exchange_modes`` (RFC 8446 §4.2.9)::

    enum { psk_ke(0), psk_dhe_ke(1), (255) } PskKeyExchangeMode;

    struct {
        PskKeyExchangeMode ke_modes<1..255>;
    } PskKeyExchangeModes;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.psk_key_exchange_modes

    ke_modes: list[int]

    def encode(self) -> bytes:
        return Writer().vector(1, bytes(self.ke_modes)).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> PskKeyExchangeModes:
        r = Reader(data, "psk_key_exchange_modes", recorder, base)
        modes = r.uint_list(1, 1, 1, 255, name="ke_modes", item="PskKeyExchangeMode")
        r.finish()
        return cls(modes)


# --- pre_shared_key (RFC 8446 §4.2.11) ---------------------------------------------------------------


@dataclass
class PskIdentity:
    """One offered PSK (RFC 8446 §4.2.11)::

    struct {
        opaque identity<1..2^16-1>;
        uint32 obfuscated_ticket_age;
    } PskIdentity;
    """

    identity: bytes
    obfuscated_ticket_age: int

    def write(self, w: Writer) -> None:
        w.vector(2, self.identity).u32(self.obfuscated_ticket_age)

    @classmethod
    def read(cls, r: Reader) -> PskIdentity:
        start = r.pos
        ident = cls(r.vector(2, 1, name="identity"), r.u32("obfuscated_ticket_age"))
        r.mark("PskIdentity", start)
        return ident


@dataclass
class OfferedPsks(ExtensionBody):
    """``pre_shared_key`` in a ClientHello (RFC 8446 §4.2.11)::

    opaque PskBinderEntry<32..255>;

    struct {
        PskIdentity identities<7..2^16-1>;
        PskBinderEntry binders<33..2^16-1>;
    } OfferedPsks;

    The binders are HMACs over the ClientHello *without* the binders list
    (RFC 8446 §4.2.11.2), so a client encodes the ClientHello with placeholder
    binders of the right sizes, cuts ``binders_length()`` bytes off its end, and
    computes the real binders over what is left. One binder per identity, in order.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.pre_shared_key

    identities: list[PskIdentity]
    binders: list[bytes]

    def encode_identities(self) -> bytes:
        """The ``identities`` vector, length prefix included."""
        w = Writer()
        with w.prefixed(2) as lst:
            for ident in self.identities:
                ident.write(lst)
        return w.getvalue()

    def encode_binders(self) -> bytes:
        """The ``binders`` vector, length prefix included."""
        w = Writer()
        with w.prefixed(2) as lst:
            for binder in self.binders:
                lst.vector(1, binder)
        return w.getvalue()

    def binders_length(self) -> int:
        """Bytes the ``binders`` vector takes at the end of the ClientHello (RFC 8446 §4.2.11.2)."""
        return 2 + sum(1 + len(b) for b in self.binders)

    def encode(self) -> bytes:
        return self.encode_identities() + self.encode_binders()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> OfferedPsks:
        r = Reader(data, "pre_shared_key", recorder, base)
        idents = r.sub(2, 7, U16_MAX, name="identities")
        identities: list[PskIdentity] = []
        while not idents.done():
            identities.append(PskIdentity.read(idents))
        binder_list = r.sub(2, 33, U16_MAX, name="binders")
        binders: list[bytes] = []
        while not binder_list.done():
            binders.append(binder_list.vector(1, 32, 255, name="PskBinderEntry"))
        r.finish()
        if len(binders) != len(identities):
            # RFC 8446 §4.2.11: "A series of HMAC values, one for each value in the identities list".
            raise IllegalParameter(f"pre_shared_key: {len(identities)} identities but {len(binders)} binders")
        return cls(identities, binders)


@dataclass
class PreSharedKeyServerHello(ExtensionBody):
    """``pre_shared_key`` in a ServerHello (RFC 8446 §4.2.11)::

    struct {
        select (Handshake.msg_type) {
            case server_hello: uint16 selected_identity;
        };
    } PreSharedKeyExtension;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.pre_shared_key

    selected_identity: int

    def encode(self) -> bytes:
        return Writer().u16(self.selected_identity).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> PreSharedKeyServerHello:
        selected = _one_uint(data, 2, "pre_shared_key", "selected_identity", recorder, base)
        return cls(selected)


# --- early_data (RFC 8446 §4.2.10) -------------------------------------------------------------------


@dataclass
class EarlyDataIndication(ExtensionBody):
    """``early_data`` (RFC 8446 §4.2.10)::

    struct {} Empty;

    struct {
        select (Handshake.msg_type) {
            case new_session_ticket:   uint32 max_early_data_size;
            case client_hello:         Empty;
            case encrypted_extensions: Empty;
        };
    } EarlyDataIndication;

    ``max_early_data_size`` is None for the empty form (ClientHello,
    EncryptedExtensions) and an int in a NewSessionTicket. The caller, who knows
    the message, checks that the form fits it.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.early_data

    max_early_data_size: int | None = None

    def encode(self) -> bytes:
        if self.max_early_data_size is None:
            return b""
        return Writer().u32(self.max_early_data_size).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> EarlyDataIndication:
        if not data:
            return cls(None)
        size = _one_uint(data, 4, "early_data", "max_early_data_size", recorder, base)
        return cls(size)


# --- cookie (RFC 8446 §4.2.2) ------------------------------------------------------------------------


@dataclass
class Cookie(ExtensionBody):
    """``cookie`` (RFC 8446 §4.2.2): sent in a HelloRetryRequest, echoed in ClientHello 2::

    struct {
        opaque cookie<1..2^16-1>;
    } Cookie;
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.cookie

    cookie: bytes

    def encode(self) -> bytes:
        return Writer().vector(2, self.cookie).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> Cookie:
        r = Reader(data, "cookie", recorder, base)
        cookie = r.vector(2, 1, name="cookie")
        r.finish()
        return cls(cookie)


# --- record_size_limit (RFC 8449 §4) -----------------------------------------------------------------


@dataclass
class RecordSizeLimit(ExtensionBody):
    """``record_size_limit`` (RFC 8449 §4): the largest record the sender is willing to receive::

    uint16 RecordSizeLimit;

    For TLS 1.3 it counts the TLSInnerPlaintext (content, type, padding), so at most
    2^14 + 1; "a value less than 64 MUST be treated as a fatal error", an
    illegal_parameter (RFC 8449 §4). tlslab reads it for display; it does not
    send it or shrink its records.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.record_size_limit

    record_size_limit: int

    def encode(self) -> bytes:
        return Writer().u16(self.record_size_limit).getvalue()

    @classmethod
    def decode(cls, data: bytes, recorder: Recorder | None = None, base: int = 0) -> RecordSizeLimit:
        limit = _one_uint(data, 2, "record_size_limit", "record_size_limit", recorder, base)
        if limit < 64:
            raise IllegalParameter(f"record_size_limit {limit} is under 64 (RFC 8449 §4)")
        return cls(limit)


# --- Which body an extension has in which message (RFC 8446 §4.2) ------------------------------------

# Extensions whose body depends on the message ("select (Handshake.msg_type)"): the ClientHello's form,
# then the HelloRetryRequest's, then the form in the server's other messages.
_BY_MESSAGE: dict[int, tuple[type[ExtensionBody], type[ExtensionBody], type[ExtensionBody]]] = {
    ExtensionType.key_share: (KeyShareClientHello, KeyShareHelloRetryRequest, KeyShareServerHello),
    ExtensionType.supported_versions: (
        SupportedVersionsClientHello,
        SupportedVersionsServerHello,
        SupportedVersionsServerHello,
    ),
    ExtensionType.pre_shared_key: (OfferedPsks, PreSharedKeyServerHello, PreSharedKeyServerHello),
}
_ONE_FORM: dict[int, type[ExtensionBody]] = {
    ExtensionType.supported_groups: SupportedGroups,
    ExtensionType.signature_algorithms: SignatureAlgorithms,
    ExtensionType.signature_algorithms_cert: SignatureAlgorithms,  # the same struct (§4.2.3)
    ExtensionType.application_layer_protocol_negotiation: ALPN,
    ExtensionType.psk_key_exchange_modes: PskKeyExchangeModes,
    ExtensionType.early_data: EarlyDataIndication,
    ExtensionType.cookie: Cookie,
    ExtensionType.record_size_limit: RecordSizeLimit,
}


def body_class(ext_type: int, message: str) -> type[ExtensionBody] | None:
    """The class that decodes extension ``ext_type`` in ``message`` (its RFC struct name:
    ``"ClientHello"``, ``"HelloRetryRequest"``, ``"EncryptedExtensions"``...); None if tlslab
    has no decoder for it there (unknown, GREASE, or a body it keeps opaque).

        >>> body_class(ExtensionType.key_share, "HelloRetryRequest").__name__
        'KeyShareHelloRetryRequest'

    A server's ``server_name`` is empty (RFC 6066 §3), so only a ClientHello's has a body class.
    """
    if ext_type in _BY_MESSAGE:
        client, retry, server = _BY_MESSAGE[ext_type]
        return client if message == "ClientHello" else retry if message == "HelloRetryRequest" else server
    if ext_type == ExtensionType.server_name:
        return ServerNameList if message == "ClientHello" else None
    return _ONE_FORM.get(ext_type)
