"""Notebook 06, certificates: ``der_length``, ``hostname_matches``, ``certificate_verify_content``."""

from __future__ import annotations

import fnmatch
import hashlib
import random
from collections.abc import Callable

from tlslab import certverify, signatures
from tlslab.course.checks.common import _T, _rand_bytes, _rand_host, _v
from tlslab.course.checks.core import Case, Mistake, Task, register
from tlslab.course.checks.t05_records import certificate_list_ref


def der_length_ref(data: bytes, offset: int) -> tuple[int, int]:
    """The DER length at ``data[offset]`` (X.690 §8.1.3): (length, offset of the contents)."""
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError(f"unsupported DER length form {first:#04x}")
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


def _der_variant(kind: str) -> Callable[[bytes, int], tuple[int, int]]:
    def variant(data: bytes, offset: int) -> tuple[int, int]:
        first = data[offset]
        if kind == "short-only":
            return first, offset + 1
        if kind == "masked":
            return first & 0x7F, offset + 1
        count = first & 0x7F
        if first < 0x80:
            return first, offset + 1
        n = int.from_bytes(data[offset + 1 : offset + 1 + count], "little" if kind == "little" else "big")
        if kind == "little":
            return n, offset + 1 + count
        if kind == "offset-short":
            return n, offset + 1
        if kind == "offset-count":
            return n, offset + count
        return n, offset

    return variant


def _der_header(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        length = rng.choice(
            (
                rng.randrange(0x80),
                rng.randrange(0x80, 0x100),
                rng.randrange(0x100, 1 << 16),
                rng.randrange(1 << 16, 1 << 24),
            )
        )
        before = _rand_bytes(rng, rng.randint(0, 5))
        out.append(
            Case((before + _der_header(length) + _rand_bytes(rng, 3), len(before)), f"random {i + 1}", False)
        )
    return out


register(
    Task(
        id="der-length",
        notebook="06-certificates",
        func_name="der_length",
        title="DER length octets (X.690 §8.1.3)",
        reference=der_length_ref,
        fixed=lambda: [
            Case((bytes.fromhex("0500"), 1), "NULL: 05 00, length at offset 1"),
            Case((bytes.fromhex("300d06092a"), 1), "short form: 30 0d ..."),
            Case((_v("server_certificate")[11:20], 1), "RFC 8448 server certificate: 30 82 01 ..."),
            Case((bytes.fromhex("048180") + bytes(4), 1), "long form with one length byte: 04 81 80"),
        ],
        randomized=_der_random,
        mistakes=[
            Mistake(
                _der_variant("short-only"),
                "a first length byte >= 0x80 is the long form: its low 7 bits say how many length bytes follow",
            ),
            Mistake(
                _der_variant("masked"),
                "in the long form, first & 0x7f is the *number of length bytes*, not the length",
            ),
            Mistake(_der_variant("little"), "the long-form length bytes are big-endian"),
            Mistake(
                _der_variant("offset-short"),
                "the contents start after the first byte *and* the length bytes: offset + 1 + count",
            ),
            Mistake(
                _der_variant("offset-count"),
                "the contents start at offset + 1 + count (you forgot the first byte)",
            ),
            Mistake(
                _der_variant("offset-same"),
                "return the offset where the contents start, after the length octets",
            ),
        ],
        hints=(
            "Look at the first byte: below 0x80 it is the length; otherwise it says how many bytes hold the length.",
            "ITU-T X.690 §8.1.3 (short and long form; DER always uses the shortest).",
            "first = data[offset]\nif first < 0x80:\n    return first, ____\ncount = first & ____\nreturn int.from_bytes(data[offset + 1 : offset + 1 + count], 'big'), ____",
        ),
        fill=("offset + 1", "0x7F", "offset + 1 + count"),
    )
)

_HOST_CASES = (
    ("example.com", "example.com"),
    ("example.com", "EXAMPLE.com"),
    ("*.example.com", "www.example.com"),
    ("*.example.com", "WWW.Example.COM"),
    ("*.example.com", "example.com"),
    ("*.example.com", "a.b.example.com"),
    ("*.example.com", "www.example.org"),
    ("www.example.com", "example.com"),
    ("f*.example.com", "foo.example.com"),
    ("*.com", "example.com"),
    ("www.*.com", "www.example.com"),
    ("localhost", "localhost"),
    ("*.example.com", "localhost"),
    ("*.example.com", ".example.com"),
    ("example.com", "example..com"),
    ("*.example.com", "x..example.com"),
)


def _host_fnmatch(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _host_case_sensitive(pattern: str, name: str) -> bool:
    if pattern != pattern.lower() or name != name.lower():
        return certverify.hostname_matches(pattern, name) and pattern == name
    return certverify.hostname_matches(pattern, name)


def _host_bare(pattern: str, name: str) -> bool:
    if pattern.startswith("*.") and name.lower() == pattern[2:].lower():
        return True
    return certverify.hostname_matches(pattern, name)


def _host_partial(pattern: str, name: str) -> bool:
    first, _, rest = pattern.lower().partition(".")
    nfirst, _, nrest = name.lower().partition(".")
    if "*" in first and first != "*" and rest.count(".") >= 1:
        return rest == nrest and fnmatch.fnmatchcase(nfirst, first)
    return certverify.hostname_matches(pattern, name)


def _host_tld(pattern: str, name: str) -> bool:
    if pattern.startswith("*.") and "." not in pattern[2:]:
        first, _, rest = name.lower().partition(".")
        return bool(first) and rest == pattern[2:].lower()
    return certverify.hostname_matches(pattern, name)


def _host_empty_label(pattern: str, name: str) -> bool:
    p, n = pattern.lower(), name.lower()
    if p.startswith("*.") and "*" not in p[2:] and p.count(".") >= 2:
        return n.partition(".")[2] == p[2:]
    return certverify.hostname_matches(pattern, name)


def _host_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(8):
        base = _rand_host(rng)
        name = rng.choice((base, "w." + base, "a.b." + base, base.upper()))
        pattern = rng.choice((base, "*." + base, "*." + base.upper()))
        out.append(Case((pattern, name), f"random {i + 1}", False))
    return out


register(
    Task(
        id="hostname-match",
        notebook="06-certificates",
        func_name="hostname_matches",
        title="matching a certificate name (RFC 9525 §6.3)",
        reference=certverify.hostname_matches,
        fixed=lambda: [Case(c, f"{c[0]!r} vs {c[1]!r}") for c in _HOST_CASES],
        randomized=_host_random,
        mistakes=[
            Mistake(
                _host_fnmatch,
                "a wildcard stands for exactly one label: '*.example.com' must not match 'a.b.example.com' (fnmatch's * also matches dots)",
            ),
            Mistake(_host_case_sensitive, "DNS names compare case-insensitively: lower() both sides first"),
            Mistake(
                _host_bare,
                "'*.example.com' does not match 'example.com': the wildcard needs one non-empty label",
            ),
            Mistake(
                _host_partial,
                "partial wildcards like 'f*.example.com' match nothing here: only a whole left-most '*' label counts",
            ),
            Mistake(_host_tld, "'*.com' is refused: a wildcard needs at least two labels after it"),
            Mistake(
                _host_empty_label,
                "'*.example.com' must not match '.example.com': the label the '*' stands for cannot be empty",
            ),
        ],
        hints=(
            "Without '*' it is a case-insensitive comparison; with one, compare label by label.",
            "RFC 9525 §6.3 (case-insensitive; one wildcard, the whole left-most label; it replaces RFC 6125 §6.4).",
            "pattern, name = pattern.lower().rstrip('.'), name.lower().rstrip('.')\nif '*' not in pattern:\n    return ____\nif not pattern.startswith('*.') or '*' in pattern[2:] or pattern.count('.') < ____:\n    return False\nfirst, _, rest = name.partition('.')\nreturn ____ and rest == pattern[2:]",
        ),
        fill=("pattern == name", "2", "bool(first)"),
    )
)


def _cvc_ref(transcript_hash: bytes, server: bool = True) -> bytes:
    return signatures.certificate_verify_content(transcript_hash, server=server)


def _cvc_variant(
    spaces: int = 64,
    pad: bytes = b"\x20",
    sep: bytes = b"\x00",
    swap: bool = False,
    prefix: bytes = b"TLS 1.3, ",
) -> Callable[..., bytes]:
    def variant(transcript_hash: bytes, server: bool = True) -> bytes:
        who = b"server" if server != swap else b"client"
        return pad * spaces + prefix + who + b" CertificateVerify" + sep + transcript_hash

    return variant


def _cv_transcript() -> bytes:
    return hashlib.sha256(
        b"".join(
            _T[k] for k in ("client_hello", "server_hello", "encrypted_extensions", "server_certificate")
        )
    ).digest()


register(
    Task(
        id="certificate-verify-content",
        forbidden=(signatures.certificate_verify_content,),
        notebook="06-certificates",
        func_name="certificate_verify_content",
        title="what CertificateVerify signs (RFC 8446 §4.4.3)",
        reference=_cvc_ref,
        fixed=lambda: [
            Case((_cv_transcript(), True), "RFC 8448: the server's CertificateVerify"),
            Case((bytes(32), False), "a client's, over 32 zero bytes"),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, rng.choice((32, 48))), rng.random() < 0.5), f"random {i + 1}", False)
            for i in range(4)
        ],
        mistakes=[
            Mistake(
                _cvc_variant(spaces=32), "the content starts with 64 bytes of 0x20 (spaces); yours has 32"
            ),
            Mistake(_cvc_variant(pad=b"\x00"), "the 64 padding bytes are 0x20 (space), not 0x00"),
            Mistake(
                _cvc_variant(sep=b""),
                "a single 0x00 byte separates the context string from the transcript hash",
            ),
            Mistake(
                _cvc_variant(swap=True),
                'server=True gives "TLS 1.3, server CertificateVerify", server=False the client one; yours are swapped',
            ),
            Mistake(
                lambda th, server=True: (
                    b" " * 64
                    + (
                        b"TLS 1.3, Server CertificateVerify"
                        if server
                        else b"TLS 1.3, Client CertificateVerify"
                    )
                    + b"\x00"
                    + th
                ),
                'the context string is all lower-case after "TLS 1.3, ": "server CertificateVerify", not "Server"',
            ),
            Mistake(
                _cvc_variant(prefix=b"tls13 "),
                'the context string is "TLS 1.3, server CertificateVerify" ("tls13 " is for HKDF labels)',
            ),
        ],
        hints=(
            "Four parts, concatenated: padding, a context string, a separator, the transcript hash.",
            "RFC 8446 §4.4.3 (the 64 octets of 32 example and the context strings).",
            "context = b'TLS 1.3, ' + (____ if server else ____) + b' CertificateVerify'\nreturn b'\\x20' * ____ + context + ____ + transcript_hash",
        ),
        fill=("b'server'", "b'client'", "64", "b'\\x00'"),
    )
)


# ---------------------------------------------------------------- the DER walk: one TLV, then the SAN names


def read_tlv_ref(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """The DER element at ``data[offset]`` (X.690 §8.1): (tag byte, contents, offset after it)."""
    length, start = der_length_ref(data, offset + 1)
    return data[offset], data[start : start + length], start + length


def _tlv_variant(kind: str) -> Callable[[bytes, int], tuple[int, bytes, int]]:
    def variant(data: bytes, offset: int) -> tuple[int, bytes, int]:
        length, start = der_length_ref(data, offset + 1)
        if kind == "end-at-start":
            return data[offset], data[start : start + length], start
        if kind == "with-header":
            return data[offset], data[offset : start + length], start + length
        if kind == "tag-number":
            return data[offset] & 0x1F, data[start : start + length], start + length
        return data[offset], data[start : start + length], offset + length

    return variant


def _tlv_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        before = _rand_bytes(rng, rng.randint(0, 4))
        body = _rand_bytes(rng, rng.choice((0, 5, 127, 128, 300)))
        tag = rng.choice((0x02, 0x04, 0x06, 0x30, 0x31, 0xA0, 0xA3, 0x82))
        out.append(
            Case(
                (before + bytes([tag]) + _der_header(len(body)) + body + b"\x05\x00", len(before)),
                f"random {i + 1}",
                False,
            )
        )
    return out


def _cert_der() -> bytes:
    return certificate_list_ref(_v("server_certificate"))[0]


register(
    Task(
        id="der-tlv",
        notebook="06-certificates",
        func_name="read_tlv",
        title="one DER element: tag, length, contents (X.690 §8.1)",
        reference=read_tlv_ref,
        fixed=lambda: [
            Case((bytes.fromhex("0500"), 0), "NULL: 05 00"),
            Case((bytes.fromhex("0603551d11"), 0), "the OID 2.5.29.17 (subjectAltName)"),
            Case((_cert_der(), 4), "RFC 8448's certificate: the tbsCertificate inside it"),
            Case((bytes.fromhex("3003020105") + bytes.fromhex("0500"), 2), "an INTEGER inside a SEQUENCE"),
        ],
        randomized=_tlv_random,
        names=("tag", "contents", "end"),
        mistakes=[
            Mistake(
                _tlv_variant("end-at-start"),
                "the third value is where the *next* element starts: after the contents, start + length",
            ),
            Mistake(
                _tlv_variant("with-header"),
                "return only the contents: the tag and length bytes are not part of them",
            ),
            Mistake(
                _tlv_variant("tag-number"),
                "return the whole tag byte (0x30 for SEQUENCE, 0xa3 for [3]); do not mask it",
            ),
            Mistake(
                _tlv_variant("from-offset"),
                "the element ends at start + length, where start is after the length octets",
            ),
        ],
        hints=(
            "One byte of tag, then a DER length (your der_length), then that many bytes of contents.",
            "ITU-T X.690 §8.1.1: identifier octets, length octets, contents octets.",
            "tag = data[____]\nlength, start = der_length(data, ____)\nreturn tag, data[start : ____], ____",
        ),
        fill=("offset", "offset + 1", "start + length", "start + length"),
    )
)


def _x509_loader() -> Callable[..., object]:
    from cryptography import x509

    return x509.load_der_x509_certificate  # the DER walk is the task: cryptography's parser does it all


def san_dns_names_ref(cert: bytes) -> list[str]:
    """The dNSName entries of a certificate's subjectAltName, in order (RFC 5280 §4.2.1.6)."""
    from cryptography import x509

    try:
        san = x509.load_der_x509_certificate(cert).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except x509.ExtensionNotFound:
        return []
    return [g.value for g in san.value if isinstance(g, x509.DNSName)]


def _make_cert(
    names: list[str],
    *,
    subject: str = "leaf",
    issuer: tuple[str, object] | None = None,
    ca: bool | None = False,
    days: tuple[int, int] = (-1, 30),
    key: object = None,
    ips: tuple[str, ...] = (),
) -> tuple[bytes, object]:
    """A small EC certificate for the cases: (DER, its private key). ``issuer``: (name, key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
    )
    general = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    if general:
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER), key


def _san_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(3):
        names = [rng.choice(("", "*.")) + _rand_host(rng) for _ in range(rng.randint(0, 4))]
        ips = ("192.0.2.7",) if rng.random() < 0.5 else ()
        out.append(Case((_make_cert(names, ips=ips)[0],), f"random {i + 1}", False))
    return out


def _san_variant(kind: str) -> Callable[[bytes], list[str]]:
    def variant(cert: bytes) -> list[str]:
        from cryptography import x509

        c = x509.load_der_x509_certificate(cert)
        try:
            san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return [c.subject.rfc4514_string()] if kind == "cn" else []
        if kind == "all":
            return [str(g.value) for g in san]
        return [g.value for g in san if isinstance(g, x509.DNSName)][:1]

    return variant


register(
    Task(
        id="san-names",
        forbidden=(_x509_loader(),),
        notebook="06-certificates",
        func_name="san_dns_names",
        title="the DNS names of a certificate (RFC 5280 §4.2.1.6)",
        reference=san_dns_names_ref,
        fixed=lambda: [
            Case((_cert_der(),), "RFC 8448's certificate (no subjectAltName: no names)"),
            Case((_make_cert(["example.com", "www.example.com"])[0],), "example.com and www.example.com"),
            Case(
                (_make_cert(["*.example.org"], ips=("192.0.2.1",))[0],), "a wildcard name and an IP address"
            ),
        ],
        randomized=_san_random,
        mistakes=[
            Mistake(
                _san_variant("all"),
                "keep only the dNSName entries (tag [2], 0x82): an IP address is not a DNS name",
            ),
            Mistake(
                _san_variant("first"), "a certificate may name several hosts: return every dNSName, in order"
            ),
        ],
        hints=(
            "Walk down with your read_tlv: Certificate, tbsCertificate, the [3] extensions, the one whose OID is 2.5.29.17.",
            "RFC 5280 §4.1 (Certificate, TBSCertificate: extensions [3] EXPLICIT) and §4.2.1.6"
            " (GeneralNames; dNSName [2] IA5String).",
            "def children(der):               # every TLV inside der: [(tag, contents), ...]\n"
            "    out, pos = [], 0\n"
            "    while pos < len(der):\n"
            "        tag, value, pos = read_tlv(der, pos)\n"
            "        out.append((tag, value))\n"
            "    return out\n"
            "tbs = children(children(cert)[0][1])[0][1]\n"
            "exts = [v for t, v in children(tbs) if t == ____]\n"
            "names = []\n"
            "for _, ext in children(children(exts[0])[0][1]) if exts else []:  # each Extension\n"
            "    parts = children(ext)       # OID, [critical], OCTET STRING\n"
            "    if parts[0][1] == ____:\n"
            "        general_names = children(parts[-1][1])[0][1]\n"
            "        names += [v.decode('ascii') for t, v in children(general_names) if t == ____]\n"
            "return names",
        ),
        fill=("0xA3", "bytes.fromhex('551d11')", "0x82"),
    )
)


# ---------------------------------------------------------------- one link of the chain


_NOW = "2026-06-01T12:00:00+00:00"  # the cases' "now": their certificates are made around it


def _chain_check(
    cert: bytes,
    issuer: bytes,
    now: str,
    *,
    names: bool = True,
    signature: bool = True,
    ca_flag: bool = True,
    no_constraints_is_ca: bool = False,
    dates_of: str = "cert",
) -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    c, i = x509.load_der_x509_certificate(cert), x509.load_der_x509_certificate(issuer)
    at = dt.datetime.fromisoformat(now)
    if names and c.issuer != i.subject:
        return "issuer"
    if signature:
        try:
            c.verify_directly_issued_by(i)
        except (InvalidSignature, ValueError, TypeError):
            return "signature"
    try:
        ca = i.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = no_constraints_is_ca
    if ca_flag and not ca:
        return "not a CA"
    dated = c if dates_of == "cert" else i
    if at < dated.not_valid_before_utc:
        return "not yet valid"
    if at > dated.not_valid_after_utc:
        return "expired"
    return ""


def chain_problem_ref(cert: bytes, issuer: bytes, now: str) -> str:
    """What is wrong with ``cert`` as issued by ``issuer`` at ISO time ``now``: "" when nothing.

    Checked in this order (RFC 5280 §6.1.3 and §6.1.4): "issuer" (names differ), "signature",
    "not a CA" (the issuer's basicConstraints, missing = not a CA), "not yet valid", "expired".
    """
    return _chain_check(cert, issuer, now)


_CHAIN_CACHE: dict[str, tuple[bytes, bytes, str]] = {}
_CHAIN_KINDS = ("ok", "issuer", "signature", "not a CA", "no constraints", "not yet valid", "expired")


def _chain_case(kind: str, rng: random.Random | None = None) -> tuple[bytes, bytes, str]:
    """(cert, issuer, now) with exactly one problem, ``kind`` ("ok": none). Fixed ones are made once."""
    if rng is None and kind in _CHAIN_CACHE:
        return _CHAIN_CACHE[kind]
    r = rng or random.Random(kind)
    ca_name = "CA " + _rand_host(r)
    flag = {"not a CA": False, "no constraints": None}.get(kind, True)
    ca, ca_key = _make_cert([], subject=ca_name, ca=flag, days=(-400, 400))
    _, other_key = _make_cert([], subject="Other " + ca_name, ca=True)
    signer = {"signature": (ca_name, other_key), "issuer": ("Other " + ca_name, other_key)}.get(
        kind, (ca_name, ca_key)
    )
    days = {"not yet valid": (5, 60), "expired": (-90, -2)}.get(kind, (-r.randint(1, 30), r.randint(2, 90)))
    leaf, _ = _make_cert([_rand_host(r)], issuer=signer, days=days)
    if rng is None:
        _CHAIN_CACHE[kind] = (leaf, ca, _NOW)
    return leaf, ca, _NOW


register(
    Task(
        id="chain-check",
        forbidden=(),
        notebook="06-certificates",
        func_name="chain_problem",
        title="one link of a certificate chain (RFC 5280 §6.1.3)",
        reference=chain_problem_ref,
        fixed=lambda: [Case(_chain_case(k), f"a leaf and its CA: {k}") for k in _CHAIN_KINDS],
        randomized=lambda rng: [
            Case(_chain_case(rng.choice(_CHAIN_KINDS), rng), f"random {i + 1}", False) for i in range(4)
        ],
        mistakes=[
            Mistake(
                lambda c, i, now: _chain_check(c, i, now, signature=False),
                "check the signature: the issuer's public key must verify the certificate's signature"
                " (cert.verify_directly_issued_by(issuer)); a matching name is not enough",
            ),
            Mistake(
                lambda c, i, now: _chain_check(c, i, now, ca_flag=False),
                "check that the issuer may issue certificates: its basicConstraints must say cA = TRUE",
            ),
            Mistake(
                lambda c, i, now: _chain_check(c, i, now, no_constraints_is_ca=True),
                "an issuer without basicConstraints is not a CA (RFC 5280 §4.2.1.9): treat it as cA = FALSE",
            ),
            Mistake(
                lambda c, i, now: _chain_check(c, i, now, dates_of="issuer"),
                "check the dates of the certificate itself (not_valid_before_utc, not_valid_after_utc), not its issuer's",
            ),
            Mistake(
                lambda c, i, now: _chain_check(c, i, now, names=False),
                "compare the names first: the certificate's issuer must equal the issuer's subject (answer 'issuer')",
            ),
        ],
        hints=(
            "Four checks in the order of the contract: names, signature, the issuer's CA flag, the dates.",
            "RFC 5280 §6.1.3 (a: signature, validity, issuer name) and §6.1.4 (k: basicConstraints cA).",
            "c, i = x509.load_der_x509_certificate(cert), x509.load_der_x509_certificate(issuer)\n"
            "at = datetime.datetime.fromisoformat(now)\n"
            "if c.issuer != ____:\n"
            "    return 'issuer'\n"
            "try:\n"
            "    c.verify_directly_issued_by(i)\n"
            "except Exception:\n"
            "    return 'signature'\n"
            "try:\n"
            "    ca = i.extensions.get_extension_for_class(x509.BasicConstraints).value.ca\n"
            "except x509.ExtensionNotFound:\n"
            "    ca = ____\n"
            "if not ca:\n"
            "    return 'not a CA'\n"
            "if at < c.not_valid_before_utc:\n"
            "    return 'not yet valid'\n"
            "if at > ____:\n"
            "    return 'expired'\n"
            "return ''",
        ),
        fill=("i.subject", "False", "c.not_valid_after_utc"),
    )
)
