"""Notebook 06, certificates: ``der_length``, ``hostname_matches``, ``certificate_verify_content``."""

from __future__ import annotations

import fnmatch
import hashlib
import random
from collections.abc import Callable

from tlslab import certverify, signatures
from tlslab.course.checks.common import _T, _rand_bytes, _rand_host, _v
from tlslab.course.checks.core import Case, Mistake, Task, register


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
            "first = data[offset]; if first < 0x80: return first, offset + 1; n = first & 0x7f; return int.from_bytes(data[offset+1:offset+1+n], 'big'), offset + 1 + n",
        ),
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
        title="matching a certificate name (RFC 6125 §6.4)",
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
        ],
        hints=(
            "Without '*' it is a case-insensitive comparison; with one, compare label by label.",
            "RFC 6125 §6.4.1 (case) and §6.4.3 (wildcards).",
            "p, n = pattern.lower(), name.lower(); if '*' not in p: return p == n; if not p.startswith('*.') or '*' in p[2:] or p.count('.') < 2: return False; first, _, rest = n.partition('.'); return bool(first) and rest == p[2:]",
        ),
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
                _cvc_variant(prefix=b"tls13 "),
                'the context string is "TLS 1.3, server CertificateVerify" ("tls13 " is for HKDF labels)',
            ),
        ],
        hints=(
            "Four parts, concatenated: padding, a context string, a separator, the transcript hash.",
            "RFC 8446 §4.4.3 (the 64 octets of 32 example and the context strings).",
            "who = b'server' if server else b'client'; return b'\\x20' * 64 + b'TLS 1.3, ' + who + b' CertificateVerify' + b'\\x00' + transcript_hash",
        ),
    )
)
