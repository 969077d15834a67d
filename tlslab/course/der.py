"""A small DER reader for teaching: certificates as a browsable tree (ITU-T X.690 §8, §10; RFC 5280 §4.1).

An X.509 certificate is ASN.1 encoded with DER, the Distinguished Encoding
Rules. Every value is a TLV: an *identifier* (class, primitive/constructed,
tag number; X.690 §8.1.2), a *length* (§8.1.3), then that many content octets.
A constructed value's content is more TLVs, so the whole certificate is a tree.
``parse_der`` builds that tree from scratch; ``Node.pretty()`` prints it like
``openssl asn1parse`` and ``Node._repr_html_`` shows it as a foldable tree in a
notebook (plain ``<details>`` elements, no JavaScript).

DER allows exactly one encoding of each value, so this reader is strict
(X.690 §10): definite lengths only, in the shortest form; tag numbers below 31
in the short form; BOOLEAN is 00 or FF; INTEGERs and OID arcs minimal; times
end in ``Z``. Anything else raises ``DecodeError`` with the reason, never an
``IndexError``.

    >>> node = parse_der(bytes.fromhex("3006020105010100"))
    >>> print(node.pretty())
        0  2+6   SEQUENCE (2 elements)
        2  2+1     INTEGER 5
        5  2+1     BOOLEAN False

``certificate_parts`` then reads the three parts of a Certificate (RFC 5280
§4.1): tbsCertificate, signatureAlgorithm, signatureValue, and the fields of
the tbsCertificate, straight from the tree.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from dataclasses import dataclass, field

from tlslab.course.nb import short_hex
from tlslab.errors import DecodeError

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
CLASS_NAMES = ("universal", "application", "context", "private")
MAX_DEPTH = 32  # certificates nest about 8 deep; a deeper input is refused, not a RecursionError

# X.690 / X.680 §8.4 universal tag numbers.
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OBJECT_IDENTIFIER = 1, 2, 3, 4, 5, 6
ENUMERATED, UTF8_STRING, SEQUENCE, SET = 10, 12, 16, 17
PRINTABLE_STRING, T61_STRING, IA5_STRING, UTC_TIME, GENERALIZED_TIME = 19, 20, 22, 23, 24
VISIBLE_STRING, UNIVERSAL_STRING, BMP_STRING = 26, 28, 30

UNIVERSAL_TAGS = {
    BOOLEAN: "BOOLEAN",
    INTEGER: "INTEGER",
    BIT_STRING: "BIT STRING",
    OCTET_STRING: "OCTET STRING",
    NULL: "NULL",
    OBJECT_IDENTIFIER: "OBJECT IDENTIFIER",
    ENUMERATED: "ENUMERATED",
    UTF8_STRING: "UTF8String",
    SEQUENCE: "SEQUENCE",
    SET: "SET",
    18: "NumericString",
    PRINTABLE_STRING: "PrintableString",
    T61_STRING: "T61String",
    IA5_STRING: "IA5String",
    UTC_TIME: "UTCTime",
    GENERALIZED_TIME: "GeneralizedTime",
    VISIBLE_STRING: "VisibleString",
    UNIVERSAL_STRING: "UniversalString",
    BMP_STRING: "BMPString",
}
_ALWAYS_CONSTRUCTED = {SEQUENCE, SET}
_STRINGS = {UTF8_STRING, 18, PRINTABLE_STRING, T61_STRING, IA5_STRING, VISIBLE_STRING}
# First octets of what an OCTET STRING (extnValue) or BIT STRING (an RSA key) may wrap.
_ENCAPSULATED_BY = {OCTET_STRING: {0x30, 0x01, 0x02, 0x03, 0x04}, BIT_STRING: {0x30}}
_PRINTABLE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")

# A few object identifiers a TLS certificate uses (RFC 5280, RFC 3279, RFC 5480, RFC 8410, RFC 4055).
OIDS = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.8": "mgf1",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.3.1.7": "prime256v1",
    "1.3.132.0.34": "secp384r1",
    "1.3.132.0.35": "secp521r1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.110": "X25519",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "2.5.4.3": "commonName",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "2.5.29.14": "subjectKeyIdentifier",
    "2.5.29.15": "keyUsage",
    "2.5.29.17": "subjectAltName",
    "2.5.29.19": "basicConstraints",
    "2.5.29.31": "cRLDistributionPoints",
    "2.5.29.32": "certificatePolicies",
    "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.37": "extKeyUsage",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.4.1.11129.2.4.2": "signedCertificateTimestampList",
}


@dataclass
class Node:
    """One TLV of a DER encoding, with its children if it is constructed.

    ``offset`` is where the TLV starts in the bytes given to ``parse_der``;
    ``header_len`` counts the identifier and length octets, ``length`` the
    content octets ``value``. An OCTET STRING or BIT STRING whose content is
    itself one DER value (an extension's extnValue, an RSA public key) also
    gets that value as its one child, marked ``encapsulates``.
    """

    tag_class: int
    constructed: bool
    tag_number: int
    header_len: int
    length: int
    value: bytes = field(repr=False)
    children: list[Node] = field(default_factory=list, repr=False)
    offset: int = 0
    encapsulates: bool = False
    raw: bytes = field(default=b"", repr=False)  # the whole TLV: header and content

    # ------------------------------------------------------------------ what it is

    @property
    def end(self) -> int:
        return self.offset + self.header_len + self.length

    @property
    def tag_name(self) -> str:
        """``SEQUENCE``, ``INTEGER``, ... for universal tags; ``[0]`` for context-specific ones."""
        if self.tag_class == UNIVERSAL:
            return UNIVERSAL_TAGS.get(self.tag_number, f"UNIVERSAL {self.tag_number}")
        if self.tag_class == CONTEXT:
            return f"[{self.tag_number}]"
        return f"[{CLASS_NAMES[self.tag_class].upper()} {self.tag_number}]"

    def is_universal(self, tag_number: int) -> bool:
        return self.tag_class == UNIVERSAL and self.tag_number == tag_number

    def __getitem__(self, index: int) -> Node:
        return self.children[index]

    def __len__(self) -> int:
        return len(self.children)

    def walk(self) -> Iterator[tuple[int, Node]]:
        """Every node, depth first, with its depth (this node is depth 0)."""
        stack = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))

    # ------------------------------------------------------------------ decoded values

    def as_int(self) -> int:
        self._expect(INTEGER, ENUMERATED)
        return int.from_bytes(self.value, "big", signed=True)

    def as_oid(self) -> str:
        self._expect(OBJECT_IDENTIFIER)
        return decode_oid(self.value)

    def as_bool(self) -> bool:
        self._expect(BOOLEAN)
        return self.value == b"\xff"

    def as_str(self) -> str:
        """The text of a string type (UTF8String, PrintableString, IA5String, ...)."""
        if self.tag_class != UNIVERSAL or self.tag_number not in _STRINGS | {BMP_STRING}:
            raise DecodeError(f"{self.tag_name} is not a string type")
        return _decode_string(self.tag_number, self.value)

    def as_time(self) -> dt.datetime:
        self._expect(UTC_TIME, GENERALIZED_TIME)
        return decode_time(self.tag_number, self.value)

    def as_bits(self) -> bytes:
        """A BIT STRING's bytes (after the unused-bits octet, which must be 0 here)."""
        self._expect(BIT_STRING)
        if self.value[0] != 0:
            raise DecodeError(f"BIT STRING has {self.value[0]} unused bits, expected whole bytes")
        return self.value[1:]

    def _expect(self, *tags: int) -> None:
        if self.tag_class != UNIVERSAL or self.tag_number not in tags:
            wanted = " or ".join(UNIVERSAL_TAGS[t] for t in tags)
            raise DecodeError(f"expected {wanted} at offset {self.offset}, found {self.tag_name}")

    # ------------------------------------------------------------------ display

    def describe(self) -> str:
        """One line: the tag and what the content means (``INTEGER 2``, ``OBJECT IDENTIFIER ...``)."""
        name = self.tag_name
        if self.constructed:
            count = len(self.children)
            return f"{name} ({count} element{'' if count == 1 else 's'})"
        if self.tag_class != UNIVERSAL:
            return f"{name} {_bytes_text(self.value)}"
        n = self.tag_number
        if n == BOOLEAN:
            return f"{name} {self.as_bool()}"
        if n in (INTEGER, ENUMERATED):
            number = self.as_int()
            if abs(number) < 1 << 64:
                return f"{name} {number}"
            return f"{name} ({number.bit_length()}-bit number) {_short_hex(self.value)}"
        if n == NULL:
            return name
        if n == OBJECT_IDENTIFIER:
            oid = self.as_oid()
            return f"{name} {oid}" + (f" ({OIDS[oid]})" if oid in OIDS else "")
        if n in (UTC_TIME, GENERALIZED_TIME):
            return f"{name} {self.as_time():%Y-%m-%d %H:%M:%S} UTC"
        if n in _STRINGS or n == BMP_STRING:
            return f"{name} {self.as_str()!r}"
        if n == BIT_STRING:
            what = "encapsulates" if self.encapsulates else _short_hex(self.value[1:])
            return f"{name} ({len(self.value) - 1} bytes, {self.value[0]} unused bits) {what}"
        if n == OCTET_STRING:
            what = "encapsulates" if self.encapsulates else _short_hex(self.value)
            return f"{name} ({len(self.value)} bytes) {what}"
        return f"{name} {_short_hex(self.value)}"

    def pretty(self) -> str:
        """A text tree, one node a line: offset, header+content length, then the description."""
        lines = []
        for depth, node in self.walk():
            lines.append(
                f"{node.offset:5d}  {f'{node.header_len}+{node.length}':<6}{'  ' * depth}{node.describe()}"
            )
        return "\n".join(lines)

    def html(self, open_depth: int = 2) -> str:
        """A foldable HTML tree (``<details>``, no JavaScript); levels below ``open_depth`` start folded."""
        return f'<div style="font-family:monospace;font-size:90%">{self._html(0, open_depth)}</div>'

    def _html(self, depth: int, open_depth: int) -> str:
        where = f'<span style="color:#868e96">{self.offset}&nbsp;{self.header_len}+{self.length}</span> '
        text = where + html.escape(self.describe())
        if not self.children:
            return f'<div style="margin-left:1.2em">{text}</div>'
        inner = "".join(child._html(depth + 1, open_depth) for child in self.children)
        opened = " open" if depth < open_depth else ""
        return (
            f'<details{opened} style="margin-left:{0 if depth == 0 else 1.2}em">'
            f"<summary>{text}</summary>{inner}</details>"
        )

    def _repr_html_(self) -> str:
        return self.html()


# ---------------------------------------------------------------------- parsing


def parse_der(data: bytes) -> Node:
    """Parse exactly one DER value from ``data`` (no bytes may follow it) into a tree of ``Node``.

    Raises:
        DecodeError: the bytes are not DER; the message says where and why.
    """
    data = bytes(data)
    node, end = _parse_tlv(data, 0, len(data), 0)
    if end != len(data):
        raise DecodeError(f"{len(data) - end} bytes after the DER value (which ends at offset {end})")
    return node


def _parse_tlv(data: bytes, pos: int, limit: int, depth: int, inside: bool = False) -> tuple[Node, int]:
    """One TLV at ``pos``; ``inside`` is True within an encapsulated value (not unwrapped twice)."""
    if depth > MAX_DEPTH:
        raise DecodeError(f"DER nested more than {MAX_DEPTH} deep at offset {pos}")
    start = pos
    tag_class, constructed, tag_number, pos = _parse_identifier(data, pos, limit)
    length, pos = _parse_length(data, pos, limit)
    if length > limit - pos:
        raise DecodeError(f"length {length} at offset {start} runs past the end ({limit - pos} bytes left)")
    value = data[pos : pos + length]
    node = Node(tag_class, constructed, tag_number, pos - start, length, value, offset=start)
    node.raw = data[start : pos + length]
    if constructed:
        node.children = _parse_children(data, pos, pos + length, depth + 1, inside)
    _check_primitive(node)
    if not constructed and not inside and tag_class == UNIVERSAL and tag_number in (OCTET_STRING, BIT_STRING):
        _try_encapsulated(node, data, pos, depth)
    return node, pos + length


def _parse_children(data: bytes, pos: int, end: int, depth: int, inside: bool) -> list[Node]:
    children = []
    while pos < end:
        child, pos = _parse_tlv(data, pos, end, depth, inside)
        children.append(child)
    return children


def _parse_identifier(data: bytes, pos: int, limit: int) -> tuple[int, bool, int, int]:
    """X.690 §8.1.2: class (2 bits), constructed (1 bit), tag number (5 bits, or 11111 then base 128)."""
    if pos >= limit:
        raise DecodeError(f"expected an identifier octet at offset {pos}, found the end")
    first = data[pos]
    tag_class, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
    pos += 1
    if number != 0x1F:
        return tag_class, constructed, number, pos
    number, pos = _base128(data, pos, limit, "tag number")  # §8.1.2.4: high tag number form
    if number < 0x1F:
        raise DecodeError(f"tag number {number} must use the short form (X.690 §8.1.2.4, DER)")
    return tag_class, constructed, number, pos


def _parse_length(data: bytes, pos: int, limit: int) -> tuple[int, int]:
    """X.690 §8.1.3 and §10.1: short form (< 128), or 0x81..0x84 then the length, big-endian, minimal."""
    if pos >= limit:
        raise DecodeError(f"expected a length octet at offset {pos}, found the end")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    if first == 0x80:
        raise DecodeError(f"indefinite length at offset {pos - 1}: not allowed in DER (X.690 §10.1)")
    if first == 0xFF:
        raise DecodeError(f"length octet 0xff at offset {pos - 1} is reserved (X.690 §8.1.3.5)")
    count = first & 0x7F
    if count > 4:
        raise DecodeError(f"a length of {count} octets at offset {pos - 1} is more than this reader allows")
    if count > limit - pos:
        raise DecodeError(f"length at offset {pos - 1} needs {count} octets, only {limit - pos} left")
    octets = data[pos : pos + count]
    length = int.from_bytes(octets, "big")
    if octets[0] == 0 or length < 0x80:
        raise DecodeError(f"length {length} at offset {pos - 1} is not in the shortest form (X.690 §10.1)")
    return length, pos + count


def _base128(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    """A base-128 number, high bit = more to come, no leading 0x80 (X.690 §8.1.2.4.2, §8.19.2)."""
    if pos < end and data[pos] == 0x80:
        raise DecodeError(f"{what} at offset {pos} has a leading 0x80 octet (not minimal)")
    value = 0
    while pos < end:
        octet = data[pos]
        value = value << 7 | (octet & 0x7F)
        pos += 1
        if not octet & 0x80:
            return value, pos
    raise DecodeError(f"{what} runs past the end (the last octet has its high bit set)")


def _check_primitive(node: Node) -> None:
    """The DER rules for the universal types this reader decodes (X.690 §8.2-§8.19, §10, §11)."""
    if node.tag_class != UNIVERSAL:
        return
    n, v, where = node.tag_number, node.value, f"at offset {node.offset}"
    if n in _ALWAYS_CONSTRUCTED:
        if not node.constructed:
            raise DecodeError(f"{node.tag_name} {where} must be constructed")
        return
    if n in UNIVERSAL_TAGS and node.constructed:
        raise DecodeError(f"{node.tag_name} {where} must be primitive in DER")
    if n == BOOLEAN and v not in (b"\x00", b"\xff"):
        raise DecodeError(f"BOOLEAN {where} must be one octet 00 or ff in DER")
    elif n in (INTEGER, ENUMERATED):
        if not v:
            raise DecodeError(f"{node.tag_name} {where} is empty")
        if len(v) > 1 and ((v[0] == 0 and v[1] < 0x80) or (v[0] == 0xFF and v[1] >= 0x80)):
            raise DecodeError(f"{node.tag_name} {where} is not minimal (X.690 §8.3.2)")
    elif n == NULL and v:
        raise DecodeError(f"NULL {where} must be empty")
    elif n == OBJECT_IDENTIFIER:
        decode_oid(v)
    elif n == BIT_STRING:
        if not v or v[0] > 7 or (len(v) == 1 and v[0] != 0):
            raise DecodeError(f"BIT STRING {where} has a bad unused-bits octet")
    elif n in (UTC_TIME, GENERALIZED_TIME):
        decode_time(n, v)
    elif n in _STRINGS or n == BMP_STRING:
        _decode_string(n, v)


def _try_encapsulated(node: Node, data: bytes, pos: int, depth: int) -> None:
    """If an OCTET/BIT STRING holds exactly one DER value, show it as the node's child.

    X.509 wraps DER in strings: every extnValue is an OCTET STRING holding the
    extension's DER (RFC 5280 §4.1), and an RSA key's BIT STRING holds a
    SEQUENCE (RFC 8017 A.1.1). Other strings hold raw bytes (a hash, an EC
    point), so we unwrap only what starts like those, and only one level.
    """
    skip = 1 if node.tag_number == BIT_STRING else 0
    allowed = _ENCAPSULATED_BY[node.tag_number]
    if node.length <= skip + 1 or (skip and node.value[0] != 0) or node.value[skip] not in allowed:
        return
    try:
        child, end = _parse_tlv(data, pos + skip, pos + node.length, depth + 1, inside=True)
    except DecodeError:
        return
    if end == pos + node.length:
        node.children, node.encapsulates = [child], True


# ---------------------------------------------------------------------- values


def decode_oid(content: bytes) -> str:
    """An OBJECT IDENTIFIER's dotted form (X.690 §8.19): base-128 arcs, the first two packed as 40·X + Y."""
    if not content:
        raise DecodeError("OBJECT IDENTIFIER is empty")
    arcs, pos = [], 0
    while pos < len(content):
        arc, pos = _base128(content, pos, len(content), "OBJECT IDENTIFIER arc")
        arcs.append(arc)
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def oid_name(oid: str) -> str:
    """The name of a well-known OID (``"2.5.4.3"`` -> ``"commonName"``), else the OID itself."""
    return OIDS.get(oid, oid)


def decode_time(tag_number: int, content: bytes) -> dt.datetime:
    """UTCTime ``YYMMDDHHMMSSZ`` or GeneralizedTime ``YYYYMMDDHHMMSSZ`` (DER: seconds, ``Z``; RFC 5280 §4.1.2.5)."""
    text = content.decode("ascii", errors="replace")
    digits = 12 if tag_number == UTC_TIME else 14
    if len(text) != digits + 1 or not text.endswith("Z") or not text[:-1].isdigit() or not text.isascii():
        raise DecodeError(f"bad {UNIVERSAL_TAGS[tag_number]} {text!r}: DER wants {digits} digits then Z")
    if tag_number == UTC_TIME:
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"  # RFC 5280 §4.1.2.5.1
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError as exc:
        raise DecodeError(f"bad time {text!r}: {exc}") from None


def _decode_string(tag_number: int, content: bytes) -> str:
    name = UNIVERSAL_TAGS[tag_number]
    try:
        if tag_number == BMP_STRING:
            return content.decode("utf-16-be")
        if tag_number == UTF8_STRING:
            return content.decode("utf-8")
        if tag_number == PRINTABLE_STRING and not set(content) <= _PRINTABLE:
            raise ValueError("a character outside PrintableString's set")
        return content.decode("ascii" if tag_number != T61_STRING else "latin-1")
    except ValueError as exc:
        raise DecodeError(f"bad {name}: {exc}") from None


def _short_hex(data: bytes) -> str:
    return short_hex(data, 16, sep=" ", more=" …") or "(empty)"


def _bytes_text(data: bytes) -> str:
    if data and all(32 <= b < 127 for b in data):
        return repr(data.decode("ascii"))
    return _short_hex(data)


# ---------------------------------------------------------------------- X.509 (RFC 5280 §4.1)


@dataclass
class CertificateParts:
    """The fields of an X.509 certificate, read from the DER tree (RFC 5280 §4.1).

    Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    """

    tree: Node
    tbs: Node
    signature_algorithm: str  # dotted OID
    signature: bytes
    version: int  # 1, 2 or 3 (the DER holds 0, 1, 2)
    serial_number: int
    issuer: list[tuple[str, str]]  # (attribute OID name, value) in order
    subject: list[tuple[str, str]]
    not_before: dt.datetime
    not_after: dt.datetime
    spki: Node  # SubjectPublicKeyInfo
    public_key_algorithm: str
    public_key: bytes  # the subjectPublicKey BIT STRING's bytes
    extensions: dict[str, Node]  # extnID (dotted) -> the extnValue OCTET STRING node
    critical: dict[str, bool]

    @property
    def tbs_bytes(self) -> bytes:
        """The exact bytes the issuer signed: the whole tbsCertificate TLV."""
        return self.tbs.raw

    def common_name(self, which: str = "subject") -> str | None:
        for attr, value in getattr(self, which):
            if attr == "commonName":
                return str(value)
        return None

    def dns_names(self) -> list[str]:
        """subjectAltName dNSName entries ([2] IA5String, RFC 5280 §4.2.1.6)."""
        node = self.extensions.get("2.5.29.17")
        if node is None or not node.children:
            return []
        return [
            n.value.decode("ascii", "replace")
            for n in node[0].children
            if n.tag_class == CONTEXT and n.tag_number == 2
        ]


def certificate_parts(der: bytes) -> CertificateParts:
    """Parse a certificate with ``parse_der`` and pick out its fields by position (RFC 5280 §4.1).

    Raises:
        DecodeError: not DER, or not shaped like a certificate.
    """
    tree = parse_der(der)
    try:
        return _certificate_parts(tree)
    except (IndexError, ValueError) as exc:
        raise DecodeError(f"not an X.509 certificate: {exc!r}") from None


def _certificate_parts(tree: Node) -> CertificateParts:
    tbs, algorithm, signature = _sequence(tree, 3, "Certificate")
    fields = list(tbs.children)
    version = 1
    if fields and fields[0].tag_class == CONTEXT and fields[0].tag_number == 0:  # [0] EXPLICIT Version
        version = fields.pop(0)[0].as_int() + 1
    serial, _sig, issuer, validity, subject, spki, *rest = fields
    not_before, not_after = (t.as_time() for t in _sequence(validity, 2, "Validity"))
    spki_algorithm, public_key = _sequence(spki, 2, "SubjectPublicKeyInfo")
    extensions: dict[str, Node] = {}
    critical: dict[str, bool] = {}
    for extra in rest:
        if extra.tag_class == CONTEXT and extra.tag_number == 3:  # [3] EXPLICIT Extensions
            for extension in extra[0].children:
                oid = extension[0].as_oid()
                critical[oid] = len(extension) == 3 and extension[1].as_bool()
                extensions[oid] = extension[-1]
    return CertificateParts(
        tree=tree,
        tbs=tbs,
        signature_algorithm=algorithm[0].as_oid(),
        signature=signature.as_bits(),
        version=version,
        serial_number=serial.as_int(),
        issuer=_name(issuer),
        subject=_name(subject),
        not_before=not_before,
        not_after=not_after,
        spki=spki,
        public_key_algorithm=spki_algorithm[0].as_oid(),
        public_key=public_key.as_bits(),
        extensions=extensions,
        critical=critical,
    )


def _sequence(node: Node, count: int, what: str) -> list[Node]:
    if not node.is_universal(SEQUENCE) or len(node) != count:
        raise DecodeError(f"{what} must be a SEQUENCE of {count} elements, found {node.describe()}")
    return list(node.children)


def _name(node: Node) -> list[tuple[str, str]]:
    """Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } (RFC 5280 §4.1.2.4)."""
    out = []
    for rdn in node.children:
        for attribute in rdn.children:
            kind, value = attribute.children
            out.append((oid_name(kind.as_oid()), value.as_str()))
    return out
