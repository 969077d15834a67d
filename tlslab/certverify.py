"""Is this the right server? Certificate path validation (RFC 5280 §6) and names (RFC 9525 §6).

The server's Certificate message (RFC 8446 §4.4.2) carries its certificate
first, then (usually) the intermediates that lead to a root CA we trust. The
client must check that chain before believing the CertificateVerify signature
(§4.4.3) means anything: a valid signature from a key nobody vouches for proves
nothing. ``verify_server_chain`` does RFC 5280 §6 path validation with the
web-PKI profile of the CA/Browser Forum Baseline Requirements (BR) on top:

1. parsing: every certificate the peer sent (garbage, a duplicate extension, an
   extension that does not decode -> ``bad_certificate``), and every trust anchor
   (a broken one is never used, and the refusal says why);
2. every certificate on the path (``_check_certificate``, RFC 5280 §4.1, §4.2, BR
   6.1.5, 7.1.3): serial, version, matching signature algorithms, criticality,
   SAN syntax and criticality, key and signature algorithm; and for the leaf
   (``_check_end_entity``, BR 7.1.2.7) no CA powers, an extendedKeyUsage for the
   purpose, an authorityKeyIdentifier, the subject CN among the SANs;
3. path building: leaf -> ... -> trust anchor from what was sent, in any order,
   matching issuer to subject (and authorityKeyIdentifier to subjectKeyIdentifier
   when both are present) and checking each signature; a candidate that fails
   step 2, 4 or 5 for the path below it is skipped for the next one, currently
   valid candidates first, and the search stops after ``MAX_SIGNATURE_CHECKS``;
4. every issuer: validity, the CA checks of RFC 5280 §6.1.4 (k)-(n) and the CA
   profile (``_check_issuer``, ``_check_ca_profile``), ``max_depth`` (§6.1.2 (k));
5. name constraints (``_check_name_constraints``, §4.2.1.10, §6.1.4 (g), §6.1.3
   (b)(c)): dNSName, iPAddress and directoryName subtrees of every CA, roots
   included, over the names of every certificate below it;
6. the name (RFC 9525 §6): subjectAltName dNSName entries, with the wildcard rule
   of ``hostname_matches``, or iPAddress entries for an IP literal. We never fall
   back to the subject's common name: RFC 9525 removed the fallback that RFC 6125
   §6.4.4 still allowed without any SAN, and CA/Browser Forum certificates always
   have one, so a certificate without a SAN is refused.

Not done: certificate policies (a critical policy extension is refused as
unrecognised), revocation (docs/features.md says why), name constraints of
types other than dNSName, iPAddress and directoryName (refused when they could
apply). Where tlslab and ``cryptography.x509.verification`` decide differently,
docs/features.md lists the cases and the reasons.

Which alert for which failure (RFC 8446 §6.2; chosen to match OpenSSL's
``ssl_x509err2alert`` table, which Python's ``ssl`` uses, except where noted):

=========================================================  =========================
failure                                                    alert
=========================================================  =========================
a certificate does not parse, duplicate or undecodable     bad_certificate
extension, bad serial number, not v3
profile violations (key identifiers, a non-critical CA     bad_certificate
basicConstraints, an extension critical that must not be,
SAN criticality, malformed dNSName, CN not among the SANs)
an unrecognised critical extension                         unsupported_certificate (we cannot
                                                           process it, RFC 8446 §6.2; OpenSSL 3.0
                                                           sends certificate_unknown: its table has
                                                           no entry, measured with s_client)
a weak key (RSA < 2048) or hash (SHA-1, MD5)               bad_certificate (OpenSSL's table:
                                                           EE/CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK)
a key type or curve we do not support (DSA, P-192,         unsupported_certificate
explicit curve parameters)                                 (RFC 8446 §6.2: "unsupported type")
no path to a trusted root (unknown issuer, self-signed)    unknown_ca
an issuer is not a CA (CA:FALSE, no keyCertSign)           unknown_ca (OpenSSL: INVALID_CA)
pathLenConstraint or max_depth exceeded                    unknown_ca (CERT_CHAIN_TOO_LONG)
a name outside an issuer's nameConstraints, or a           bad_certificate (the chain is
constraint we cannot check                                 unacceptable as sent; OpenSSL 3.0 sends
                                                           certificate_unknown, measured)
a signature on the path does not verify                    bad_certificate (OpenSSL:
                                                           decrypt_error; RFC 8446 keeps
                                                           decrypt_error for handshake
                                                           signatures)
expired                                                    certificate_expired
not yet valid                                              certificate_expired (OpenSSL:
                                                           bad_certificate; RFC 8446 §6.2
                                                           says "expired or is not
                                                           currently valid")
wrong purpose: extendedKeyUsage lacks serverAuth (or       unsupported_certificate
clientAuth), anyExtendedKeyUsage, a CA as the leaf         (OpenSSL: INVALID_PURPOSE)
name does not match / no subjectAltName                    bad_certificate
=========================================================  =========================
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import warnings
from collections.abc import Callable, Sequence
from functools import cache, lru_cache, update_wrapper
from typing import Generic, TypeVar

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, SignatureAlgorithmOID

from .errors import (
    AlertError,
    BadCertificate,
    CertificateExpired,
    DecodeError,
    UnknownCA,
    UnsupportedCertificate,
)

# RFC 5280 §6.1 max_path_length: how many non-self-issued intermediates may stand between the
# leaf and the trust anchor (self-issued ones, key rollovers, do not count, as for
# pathLenConstraint). 8, as cryptography's verifier; OpenSSL's default depth is 100.
MAX_DEPTH = 8

_T = TypeVar("_T")
_CACHED_CERTIFICATES = 512


class _per_certificate(Generic[_T]):  # noqa: N801 -- used as a decorator, named like one
    """Remember what ``read`` found in a certificate object, for as long as that object is used.

    What is read from a certificate alone (its extensions by OID, the DER fields of its
    TBSCertificate, whether a trust anchor decodes) depends on nothing else, and a path check
    asks for it many times. The memo is keyed on the object, not its DER (hashing a certificate
    hashes all of it): a leaf parsed from a new Certificate message is read afresh, and trust
    anchors (parsed once per file, ``load_trust_roots``) are read once, not on every handshake.
    Validity, signatures, the path and the name are checked on every call.
    """

    def __init__(self, read: Callable[[x509.Certificate], _T]) -> None:
        self.read = read
        self.memo: dict[int, tuple[x509.Certificate, _T]] = {}
        update_wrapper(self, read)

    def __call__(self, cert: x509.Certificate) -> _T:
        hit = self.memo.get(id(cert))
        if hit is not None and hit[0] is cert:
            return hit[1]
        value = self.read(cert)
        self.remember(cert, value)
        return value

    def remember(self, cert: x509.Certificate, value: _T) -> None:
        """What ``read`` would find, known already (the DER a certificate was parsed from)."""
        if len(self.memo) >= _CACHED_CERTIFICATES:
            self.memo.clear()
        self.memo[id(cert)] = (cert, value)  # the memo keeps ``cert`` alive, so its id is not reused


def load_trust_roots(cafile: str | None = None) -> list[x509.Certificate]:
    """The trusted root certificates: ``cafile`` (PEM bundle), else certifi's Mozilla bundle.

    Parsed once per file and cached. A bundle that does not parse raises ``BadCertificate``;
    a root whose extensions do not decode is kept out of every path (see ``_anchor_problem``).
    """
    return list(_load_bundle(cafile or certifi.where()))


@cache
def _load_bundle(path: str) -> tuple[x509.Certificate, ...]:
    with open(path, "rb") as f, warnings.catch_warnings():
        # certifi still ships a root with a non-positive serial; cryptography warns about it.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            return tuple(x509.load_pem_x509_certificates(f.read()))
        except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
            raise BadCertificate(f"could not parse the trust anchors in {path}: {exc}") from None


def verify_server_chain(
    chain_der: Sequence[bytes],
    server_name: str | None,
    *,
    trust_roots: Sequence[x509.Certificate] | None = None,
    cafile: str | None = None,
    now: dt.datetime | None = None,
    max_depth: int = MAX_DEPTH,
    name_check: Callable[[x509.Certificate, str], bool] | None = None,
) -> list[x509.Certificate]:
    """Validate the server's certificate chain for ``server_name``; return the path leaf..root.

    Args:
        chain_der: the certificates of the Certificate message, leaf first (DER).
        server_name: the host name (or IP literal) the client wanted to reach; ``None``
            skips the name check (``ClientConfig(check_hostname=False)``: loud, and unsafe).
        trust_roots: trust anchors; default ``load_trust_roots(cafile)``.
        now: the time to check validity at (default: the current UTC time), in whole seconds.
        max_depth: the most non-self-issued intermediates allowed (RFC 5280 §6.1.2 (k)).
        name_check: ``(leaf, server_name) -> bool``; default ``match_hostname``.

    Raises:
        BadCertificate, CertificateExpired, UnknownCA, UnsupportedCertificate: with
            one reason; see the module docstring for which is which.
        DecodeError: the chain is empty (RFC 8446 §4.4.2.4).
    """
    if not chain_der:
        raise DecodeError("server sent an empty certificate_list (RFC 8446 §4.4.2.4)")
    certs = [_parse(der, position) for position, der in enumerate(chain_der)]
    roots = list(trust_roots) if trust_roots is not None else load_trust_roots(cafile)
    who = server_name or _name(certs[0])
    path = _validate(certs, roots, who, _SERVER, _utc(now), max_depth)
    if server_name is not None:
        _check_name(path[0], server_name, name_check or match_hostname)
    return path


def verify_client_chain(
    chain_der: Sequence[bytes],
    *,
    trust_roots: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
    max_depth: int = MAX_DEPTH,
) -> list[x509.Certificate]:
    """Validate a client's certificate chain (mutual TLS, RFC 8446 §4.4.2.4) against ``trust_roots``.

    The same path rules as ``verify_server_chain``; no name to match (the server learns who the
    client is from the certificate), and the leaf must allow clientAuth (RFC 5280 §4.2.1.12).
    """
    if not chain_der:
        raise DecodeError("empty certificate_list where a client certificate was checked")
    certs = [_parse(der, position, "client") for position, der in enumerate(chain_der)]
    return _validate(certs, list(trust_roots), _name(certs[0]), _CLIENT, _utc(now), max_depth)


class _Purpose:
    """What the leaf is for: the extendedKeyUsage it needs (RFC 5280 §4.2.1.12)."""

    def __init__(self, oid: x509.ObjectIdentifier, role: str) -> None:
        self.oid, self.role = oid, role


_SERVER = _Purpose(ExtendedKeyUsageOID.SERVER_AUTH, "servers (extendedKeyUsage lacks serverAuth)")
_CLIENT = _Purpose(ExtendedKeyUsageOID.CLIENT_AUTH, "clients (extendedKeyUsage lacks clientAuth)")


def _validate(
    certs: list[x509.Certificate],
    roots: list[x509.Certificate],
    who: str,
    purpose: _Purpose,
    now: dt.datetime,
    max_depth: int,
) -> list[x509.Certificate]:
    leaf = certs[0]
    if not any(leaf == root for root in roots):  # a trusted leaf is an anchor: RFC 5280 §6.1.1 (d)
        _check_certificate(leaf, f"certificate for {who}")
        _check_end_entity(leaf, who, purpose)
    path = _build_path(leaf, certs[1:], roots, who, purpose, now, max_depth)
    _check_validity(path[0], 0, who, now)  # issuers were checked while the path was built
    return path


# --- 1. parsing ------------------------------------------------------------------------------


def _parse(der: bytes, position: int, whose: str = "server") -> x509.Certificate:
    der = bytes(der)
    what = f"the {whose}'s certificate" if position == 0 else f"certificate #{position} in the chain"
    try:
        with warnings.catch_warnings():  # a serial that is not positive: refused with a reason
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(der)
        _certificate_fields.remember(cert, tuple(_der_children(der)))  # not public_bytes: a re-encoding
        _touch(cert)
        return cert
    except x509.DuplicateExtension as exc:
        raise BadCertificate(
            f"could not parse certificate ({what}): two {_oid_name(exc.oid)} extensions "
            "(RFC 5280 §4.2: at most one of each)"
        ) from None
    except Exception as exc:  # noqa: BLE001 -- cryptography's parser raises ValueError, TypeError,
        # UnsupportedGeneralNameType...; whatever the certificate holds, the caller sees a TLSError.
        raise BadCertificate(f"could not parse certificate ({what}): {exc}") from None


def _touch(cert: x509.Certificate) -> None:
    """Decode what cryptography parses lazily, so that a malformed field fails here, at step 1."""
    cert.subject, cert.issuer, cert.extensions, _serial(cert)  # noqa: B018
    cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018


def _serial(cert: x509.Certificate) -> int:
    with warnings.catch_warnings():  # a serial that is not positive: refused with a reason
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return cert.serial_number


@_per_certificate
def _anchor_problem(root: x509.Certificate) -> str | None:
    """Why a trust anchor cannot be used (it does not decode), or None."""
    try:
        _touch(root)
        return None
    except x509.DuplicateExtension as exc:
        return f"two {_oid_name(exc.oid)} extensions (RFC 5280 §4.2: at most one of each)"
    except Exception as exc:  # noqa: BLE001 -- as in _parse: never anything but a TLSError
        return str(exc) or type(exc).__name__


# --- 2. every certificate on the path: RFC 5280 §4.1, §4.2 and the BR profile ---------------

# Extensions this module reads; any other critical one is refused (RFC 5280 §4.2: "A certificate-
# using system MUST reject the certificate if it encounters a critical extension it does not
# recognize"). Certificate policies are not processed, so a critical one is refused too.
_UNDERSTOOD = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
}
# Extensions that must not be critical, and who says so.
_NEVER_CRITICAL = {
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER: "RFC 5280 §4.2.1.1",
    ExtensionOID.SUBJECT_KEY_IDENTIFIER: "RFC 5280 §4.2.1.2",
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS: "RFC 5280 §4.2.2.1",
    ExtensionOID.EXTENDED_KEY_USAGE: "CABF BR 7.1.2.7.10",
}
_CURVES = ("secp256r1", "secp384r1", "secp521r1")  # CABF BR 6.1.5: P-256, P-384, P-521
_HASHES = ("sha256", "sha384", "sha512")  # CABF BR 7.1.3.2: no SHA-1, no MD5
MIN_RSA_BITS = 2048  # CABF BR 6.1.5
_DSA_SIGNATURES = {
    SignatureAlgorithmOID.DSA_WITH_SHA1,
    SignatureAlgorithmOID.DSA_WITH_SHA224,
    SignatureAlgorithmOID.DSA_WITH_SHA256,
    SignatureAlgorithmOID.DSA_WITH_SHA384,
    SignatureAlgorithmOID.DSA_WITH_SHA512,
}


def _check_certificate(cert: x509.Certificate, who: str, *, anchor: bool = False) -> None:
    """What every certificate on the path must be, wherever it stands.

    For a trust anchor (``anchor``) the serial may be 0 (six roots in Mozilla's store have it)
    and its own signature is not looked at: RFC 5280 §6.1.1 (d) trusts its name and key, and
    nobody checks a self-signature.
    """
    _check_serial(cert, who, anchor)
    if cert.version != x509.Version.v3:
        raise BadCertificate(f"{who} is an X.509 {cert.version.name} certificate; only v3 (CABF BR 7.1.1)")
    if len(cert.issuer) == 0:
        raise BadCertificate(f"{who} has an empty issuer name (RFC 5280 §4.1.2.4)")
    if _tbs_fields(cert)[1][1] != _certificate_fields(cert)[1][1]:
        raise BadCertificate(
            f"{who} names different algorithms in signatureAlgorithm and tbsCertificate.signature "
            "(RFC 5280 §4.1.1.2)"
        )
    _check_criticality(cert, who)
    _check_alt_names(cert, who)
    _check_key(cert, who)
    if not anchor:
        _check_signature_algorithm(cert, who)


@_per_certificate
def _anchor_fits_profile(root: x509.Certificate) -> bool:
    """``_check_certificate`` of a trust anchor, once per anchor: it depends on the anchor alone.
    False: the caller runs it again, to raise its reason."""
    try:
        _check_certificate(root, "trust anchor", anchor=True)
    except AlertError:
        return False
    return True


def _check_serial(cert: x509.Certificate, who: str, anchor: bool) -> None:
    """RFC 5280 §4.1.2.2: "a positive integer", "no longer than 20 octets"."""
    serial = _serial(cert)
    octets = (serial.bit_length() + 8) // 8  # DER: two's complement, with a sign bit
    if serial < 0 or (serial == 0 and not anchor) or octets > 20:
        raise BadCertificate(
            f"{who} has serial number {serial:#x}; RFC 5280 §4.1.2.2 wants a positive number "
            "of at most 20 octets"
        )


def _check_criticality(cert: x509.Certificate, who: str) -> None:
    """RFC 5280 §4.2: unknown critical extensions refuse; some extensions must never be critical."""
    for ext in _extensions_by_oid(cert).values():
        if ext.critical and ext.oid not in _UNDERSTOOD:
            raise UnsupportedCertificate(
                f"{who} has a critical extension tlslab does not process: {_oid_name(ext.oid)} (RFC 5280 §4.2)"
            )
        if ext.critical and ext.oid in _NEVER_CRITICAL:
            raise BadCertificate(
                f"{who} marks {_oid_name(ext.oid)} critical ({_NEVER_CRITICAL[ext.oid]}: it must not be)"
            )


def _check_alt_names(cert: x509.Certificate, who: str) -> None:
    """RFC 5280 §4.2.1.6: the SAN's criticality follows the subject; dNSName in preferred syntax."""
    ext = _extension_entry(cert, x509.SubjectAlternativeName)
    if ext is None:
        return
    empty_subject = len(cert.subject) == 0
    if ext.critical != empty_subject:
        state = "an empty subject but a non-critical" if empty_subject else "a subject but a critical"
        raise BadCertificate(f"{who} has {state} subjectAltName (RFC 5280 §4.2.1.6)")
    if len(ext.value) == 0:
        raise BadCertificate(f"{who} has an empty subjectAltName (RFC 5280 §4.2.1.6)")
    for dns_name in ext.value.get_values_for_type(x509.DNSName):
        if not _preferred_name_syntax(dns_name, wildcard=True):
            raise BadCertificate(
                f"{who} has the malformed dNSName {dns_name!r} (RFC 5280 §4.2.1.6, RFC 1034 §3.5)"
            )
    for ip in ext.value.get_values_for_type(x509.IPAddress):
        if not isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
            raise BadCertificate(
                f"{who} has the malformed iPAddress {ip} (RFC 5280 §4.2.1.6: 4 or 16 octets)"
            )


_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def _preferred_name_syntax(name: str, *, wildcard: bool = False) -> bool:
    """RFC 1034 §3.5 (with RFC 1123 §2.1 digits first): letters, digits, inner hyphens; labels of
    1..63 octets; 253 in all. ``wildcard`` allows a whole left-most ``*`` label (RFC 9525 §6.3)."""
    if wildcard and name.startswith("*."):
        name = name[2:]
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def _check_key(cert: x509.Certificate, who: str) -> None:
    """CABF BR 6.1.5, 7.1.3.1: RSA of 2048 bits or more, or ECDSA on P-256/384/521 (named curves).

    Ed25519 and Ed448 are accepted too: TLS 1.3 signs with them (RFC 8446 §4.2.3), and
    docs/features.md says where this differs from the web PKI.
    """
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:  # e.g. explicit curve parameters
        raise UnsupportedCertificate(f"{who} has a public key tlslab cannot use: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise BadCertificate(
            f"{who} has a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} (CABF BR 6.1.5)"
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and not _named_curve(cert):
        raise UnsupportedCertificate(
            f"{who} has an EC key with explicit curve parameters; only named curves (CABF BR 7.1.3.1)"
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _CURVES:
        raise UnsupportedCertificate(
            f"{who} has a key on {key.curve.name}; only P-256, P-384 and P-521 (CABF BR 6.1.5)"
        )
    if isinstance(key, dsa.DSAPublicKey):
        raise UnsupportedCertificate(f"{who} has a DSA key, which TLS 1.3 cannot use (RFC 8446 §4.2.3)")
    if not isinstance(
        key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
    ):
        raise UnsupportedCertificate(f"{who} has a {type(key).__name__}, which tlslab does not support")


def _named_curve(cert: x509.Certificate) -> bool:
    """Does the EC SubjectPublicKeyInfo name its curve (an OID, RFC 5480 §2.1.1)?

    cryptography turns explicit parameters of a known curve into that curve, so we look at
    the DER: TBSCertificate -> subjectPublicKeyInfo -> algorithm -> parameters.
    """
    spki = _tbs_fields(cert)[5][1]
    algorithm = _der_children(_der_children(spki)[0][1])
    return len(algorithm) == 2 and algorithm[1][0] == 0x06  # OBJECT IDENTIFIER


@_per_certificate
def _certificate_fields(cert: x509.Certificate) -> tuple[tuple[int, bytes], ...]:
    """tbsCertificate, signatureAlgorithm, signatureValue: the DER of each (RFC 5280 §4.1)."""
    return tuple(_der_children(cert.public_bytes(Encoding.DER)))


@_per_certificate
def _tbs_fields(cert: x509.Certificate) -> tuple[tuple[int, bytes], ...]:
    """serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... (§4.1.1.1)."""
    fields = _der_children(_certificate_fields(cert)[0][1])
    return tuple(fields[1:] if fields[0][0] == 0xA0 else fields)  # the [0] version of a v2 or v3 certificate


def _der_children(der: bytes) -> list[tuple[int, bytes]]:
    """(tag, whole value) of each DER value inside the constructed value ``der`` (X.690 §8.1).

    Only for DER cryptography has already parsed, so lengths are trusted.
    """

    def header(pos: int) -> tuple[int, int]:  # -> (content start, value end)
        first = der[pos + 1]
        if first < 0x80:
            return pos + 2, pos + 2 + first
        count = first & 0x7F
        start = pos + 2 + count
        return start, start + int.from_bytes(der[pos + 2 : start], "big")

    pos, end = header(0)
    out = []
    while pos < end:
        _, stop = header(pos)
        out.append((der[pos], der[pos:stop]))
        pos = stop
    return out


def _check_signature_algorithm(cert: x509.Certificate, who: str) -> None:
    """CABF BR 7.1.3.2: RSA (PKCS#1 v1.5 or PSS) or ECDSA with SHA-256/384/512, or EdDSA."""
    try:
        digest = cert.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        raise UnsupportedCertificate(
            f"{who} is signed with an algorithm tlslab does not know ({cert.signature_algorithm_oid.dotted_string})"
        ) from None
    if digest is None:
        return  # Ed25519, Ed448: the hash is part of the algorithm
    if cert.signature_algorithm_oid in _DSA_SIGNATURES:
        raise UnsupportedCertificate(f"{who} is signed with DSA, which TLS 1.3 cannot use (RFC 8446 §4.2.3)")
    if digest.name not in _HASHES:
        raise BadCertificate(f"{who} is signed with {digest.name.upper()}, too weak (CABF BR 7.1.3.2)")


def _check_end_entity(leaf: x509.Certificate, who: str, purpose: _Purpose) -> None:
    """The leaf's own constraints (CABF BR 7.1.2.7; RFC 5280 §4.2.1.9, §4.2.1.3, §4.2.1.10, §4.2.1.12).

    A leaf is not a CA: no cA=TRUE, no keyCertSign, no nameConstraints. It says what it is for
    (an extendedKeyUsage with the purpose, never anyExtendedKeyUsage), names its issuer's key
    (authorityKeyIdentifier), and its common name, if any, is one of its SANs (BR 7.1.4.3).
    """
    what = f"certificate for {who}"
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise UnsupportedCertificate(f"{what} is a CA certificate (basicConstraints CA:TRUE), not a leaf")
    usage = _extension(leaf, x509.KeyUsage)
    if usage is not None and usage.key_cert_sign:
        raise UnsupportedCertificate(f"{what} may sign certificates (keyUsage keyCertSign), not a leaf")
    if _extension(leaf, x509.NameConstraints) is not None:
        raise UnsupportedCertificate(f"{what} has nameConstraints, which only a CA may carry")
    eku = _extension(leaf, x509.ExtendedKeyUsage)
    if eku is None:
        raise UnsupportedCertificate(f"{what} has no extendedKeyUsage (CABF BR 7.1.2.7.10)")
    if purpose.oid not in eku:
        raise UnsupportedCertificate(f"{what} is not for TLS {purpose.role}")
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku:
        raise UnsupportedCertificate(f"{what} allows anyExtendedKeyUsage (CABF BR 7.1.2.7.10)")
    aki = _extension(leaf, x509.AuthorityKeyIdentifier)
    if aki is None or aki.key_identifier is None:
        raise BadCertificate(f"{what} has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)")
    _check_common_name(leaf, what)


def _check_common_name(leaf: x509.Certificate, what: str) -> None:
    """CABF BR 7.1.4.3: a subject commonName, if present, is exactly one of the SAN values:
    a dNSName byte for byte, or an iPAddress in its canonical text (RFC 5952 for IPv6)."""
    common_names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    san = _extension(leaf, x509.SubjectAlternativeName)
    if not common_names or san is None:
        return
    if len(common_names) > 1:
        raise BadCertificate(f"{what} has {len(common_names)} common names; at most one (CABF BR 7.1.4.3)")
    values = set(san.get_values_for_type(x509.DNSName))
    values |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    if common_names[0].value not in values:
        raise BadCertificate(
            f"{what} has the common name {common_names[0].value!r}, which is not among its "
            "subjectAltName entries (CABF BR 7.1.4.3)"
        )


# --- 3. path building ------------------------------------------------------------------------

# Work limit for path building, as Go's crypto/x509 (maxChainSignatureChecks = 100): a server that
# sends many certificates with the same name, signing each other, must not make the search explode.
MAX_SIGNATURE_CHECKS = 100


def _build_path(
    leaf: x509.Certificate,
    sent: list[x509.Certificate],
    roots: list[x509.Certificate],
    who: str,
    purpose: _Purpose,
    now: dt.datetime,
    max_depth: int,
) -> list[x509.Certificate]:
    """Depth-first search from the leaf to a trust anchor over the certificates the server sent.

    An issuer is taken only if it passes the checks of ``_accept_issuer`` for the path below it;
    otherwise the search tries the next candidate, so an expired or unsuitable duplicate (a
    renewed intermediate, an old cross-sign) cannot hide a good path (RFC 4158 §2.4; RFC 8446
    §4.4.2: "implementations SHOULD be prepared to handle potentially extraneous certificates").
    Currently valid candidates are tried first.
    """
    search = _PathSearch(sent, roots, purpose, now, max_depth)
    path = search.extend([leaf])
    if path is not None:
        return path
    if search.refused:
        raise search.refused[0]  # the first issuer that fit by name and signature, and why it failed
    if search.bad_signature:
        raise BadCertificate(search.bad_signature[0])
    if _is_self_signed(leaf):
        raise UnknownCA(f"self-signed certificate for {who} is not trusted")
    top = _deepest_chain(leaf, sent)
    if _is_self_signed(top[-1]):
        raise UnknownCA(f"certificate chain for {who} ends in the untrusted root {_name(top[-1])}")
    raise UnknownCA(
        f"certificate chain for {who} does not lead to a trusted root: "
        f"issuer {_issuer_name(top[-1])} is unknown"
    )


class _PathSearch:
    def __init__(
        self,
        sent: list[x509.Certificate],
        roots: list[x509.Certificate],
        purpose: _Purpose,
        now: dt.datetime,
        max_depth: int,
    ) -> None:
        self.sent, self.purpose, self.now, self.max_depth = sent, purpose, now, max_depth
        self.roots: list[x509.Certificate] = []
        self.broken_roots: list[tuple[x509.Certificate, str]] = []
        for root in roots:
            problem = _anchor_problem(root)
            if problem is None:
                self.roots.append(root)
            else:
                self.broken_roots.append((root, problem))
        self.bad_signature: list[str] = []
        self.refused: list[AlertError] = []
        self.signature_checks = 0

    def extend(self, path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        cert = path[-1]
        if any(cert == root for root in self.roots):
            return path  # the server sent the trust anchor itself
        self._note_broken_roots(cert)
        candidates = [(root, True) for root in self.roots]
        candidates += [(c, False) for c in self.sent if c not in path]
        candidates.sort(key=lambda item: not _valid_at(item[0], self.now))  # stable: roots first
        for candidate, is_root in candidates:
            if not _could_issue(candidate, cert) or not self._signed_by(cert, candidate):
                continue
            try:
                self._accept_issuer(candidate, path, is_root)
            except AlertError as err:
                self.refused.append(err)
                continue
            if is_root:
                return [*path, candidate]
            found = self.extend([*path, candidate])
            if found is not None:
                return found
        return None

    def _accept_issuer(
        self, candidate: x509.Certificate, path: list[x509.Certificate], is_root: bool
    ) -> None:
        """May ``candidate`` sign ``path[-1]``, with ``path`` below it? Each step cites its rule."""
        role = "root" if is_root else "intermediate"
        _check_validity(candidate, len(path), "", self.now)
        if not (is_root and _anchor_fits_profile(candidate)):
            _check_certificate(candidate, f"{role} {_name(candidate)}", anchor=is_root)
        _check_issuer(candidate, path, role, self.purpose)
        _check_depth(candidate, path, self.max_depth, is_root)
        _check_name_constraints(candidate, path, role)

    def _note_broken_roots(self, cert: x509.Certificate) -> None:
        for root, problem in self.broken_roots:
            try:
                named = root.subject == cert.issuer
            except Exception:  # noqa: BLE001 -- a subject that does not decode names nobody
                named = False
            if named:
                self.refused.append(
                    BadCertificate(f"trust anchor {_issuer_name(cert)} is unusable: {problem}")
                )

    def _signed_by(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        self.signature_checks += 1
        if self.signature_checks > MAX_SIGNATURE_CHECKS:
            raise UnknownCA(
                f"gave up building a path after {MAX_SIGNATURE_CHECKS} signature checks "
                "(too many candidate issuers)"
            )
        try:
            _verify_signature(cert, issuer)
            return True
        except InvalidSignature:
            self.bad_signature.append(
                f"signature of {_name(cert)} does not verify with the key of {_name(issuer)}"
            )
        except Exception:  # noqa: BLE001 -- issuer name mismatch, an unsupported or malformed key
            pass  # or algorithm (ValueError, TypeError, UnsupportedAlgorithm): simply not this issuer
        return False


def _could_issue(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    """Names chain (RFC 5280 §6.1.3 (a)(4)) and, when both are present, AKI matches SKI."""
    if issuer.subject != cert.issuer:
        return False
    aki = _extension(cert, x509.AuthorityKeyIdentifier)
    ski = _extension(issuer, x509.SubjectKeyIdentifier)
    if aki is not None and ski is not None and aki.key_identifier is not None:
        return aki.key_identifier == ski.digest
    return True


def _verify_signature(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """``cert``'s signature under ``issuer``'s key, over the tbsCertificate as sent (RFC 5280 §6.1.3 (a)(1)).

    What cryptography's ``verify_directly_issued_by`` checks once the names chain, with the issuer's
    key as cryptography keeps it parsed on the certificate object (not parsed again for every
    check) and the signed bytes as they came (not re-encoded).

    Raises:
        InvalidSignature: the signature does not verify.
        ValueError: the signature algorithm is not one for the issuer's kind of key.
    """
    key, params = issuer.public_key(), cert.signature_algorithm_parameters
    signed, signature = _certificate_fields(cert)[0][1], cert.signature
    if isinstance(key, rsa.RSAPublicKey) and isinstance(params, padding.PKCS1v15 | padding.PSS):
        hash_algorithm = cert.signature_hash_algorithm
        assert hash_algorithm is not None  # RSA signatures in X.509 always name their hash
        key.verify(signature, signed, params, hash_algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
        key.verify(signature, signed, params)
    elif (
        isinstance(key, ed25519.Ed25519PublicKey)
        and cert.signature_algorithm_oid == SignatureAlgorithmOID.ED25519
    ):
        key.verify(signature, signed)
    elif (
        isinstance(key, ed448.Ed448PublicKey) and cert.signature_algorithm_oid == SignatureAlgorithmOID.ED448
    ):
        key.verify(signature, signed)
    else:
        raise ValueError(
            f"{cert.signature_algorithm_oid.dotted_string} is no signature for a {type(key).__name__}"
        )


def _deepest_chain(leaf: x509.Certificate, sent: list[x509.Certificate]) -> list[x509.Certificate]:
    """Follow issuer names through the sent certificates, to say where the chain stops."""
    chain = [leaf]
    while len(chain) <= len(sent) and not _is_self_signed(chain[-1]):
        nxt = next((c for c in sent if c not in chain and _could_issue(c, chain[-1])), None)
        if nxt is None:
            break
        chain.append(nxt)
    return chain


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        _verify_signature(cert, cert)
        return True
    except Exception:  # noqa: BLE001 -- InvalidSignature, or a key or algorithm we cannot use
        return False


def _is_self_issued(cert: x509.Certificate) -> bool:
    """RFC 5280 §6.1: "self-issued" = the issuer and subject names are the same (any key)."""
    return cert.issuer == cert.subject


# --- 4. every issuer on the path --------------------------------------------------------------


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    """RFC 5280 §4.1.2.5: valid "from notBefore through notAfter, inclusive"."""
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _check_validity(cert: x509.Certificate, depth: int, server_name: str, now: dt.datetime) -> None:
    who = f"certificate for {server_name}" if depth == 0 else f"issuer certificate {_name(cert)}"
    if now > cert.not_valid_after_utc:
        raise CertificateExpired(f"{who} expired on {cert.not_valid_after_utc.date().isoformat()}")
    if now < cert.not_valid_before_utc:
        raise CertificateExpired(f"{who} is not valid before {cert.not_valid_before_utc.date().isoformat()}")


def _check_issuer(
    cert: x509.Certificate, below: list[x509.Certificate], role: str, purpose: _Purpose
) -> None:
    """RFC 5280 §6.1.4 (k), (l), (m), (n), and the CA profile: may ``cert`` sign ``below[-1]``?"""
    who = f"{role} {_name(cert)}"
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        state = "CA:FALSE" if constraints is not None else "missing"
        raise UnknownCA(f"{who} is not a CA (basicConstraints {state})")
    if not _extensions_by_oid(cert)[ExtensionOID.BASIC_CONSTRAINTS].critical:
        raise BadCertificate(
            f"{who} has a non-critical basicConstraints (RFC 5280 §4.2.1.9: critical in a CA)"
        )
    # RFC 5280 §4.2.1.9: pathLenConstraint is "the maximum number of non-self-issued intermediate
    # certificates that may follow this certificate"; the leaf (below[0]) is not an intermediate.
    intermediates = sum(1 for c in below[1:] if not _is_self_issued(c))
    if constraints.path_length is not None and intermediates > constraints.path_length:
        raise UnknownCA(
            f"{who} allows {constraints.path_length} intermediate(s) below it "
            f"(pathLenConstraint), the chain has {intermediates}"
        )
    usage = _extension(cert, x509.KeyUsage)
    if usage is None or not usage.key_cert_sign:
        lacks = "it has no keyUsage, RFC 5280 §4.2.1.3" if usage is None else "keyUsage lacks keyCertSign"
        raise UnknownCA(f"{who} may not sign certificates ({lacks})")
    _check_ca_profile(cert, who, role, purpose)


def _check_ca_profile(cert: x509.Certificate, who: str, role: str, purpose: _Purpose) -> None:
    """Key identifiers (RFC 5280 §4.2.1.1-2, CABF BR 7.1.2.1, 7.1.2.11.1), a non-empty subject
    (§4.1.2.6), extendedKeyUsage: none in a root (BR 7.1.2.1), the purpose in an intermediate."""
    if len(cert.subject) == 0:
        raise BadCertificate(f"{who} has an empty subject (RFC 5280 §4.1.2.6: a CA needs a name)")
    aki = _extension(cert, x509.AuthorityKeyIdentifier)
    if aki is not None and (
        aki.authority_cert_issuer is not None or aki.authority_cert_serial_number is not None
    ):
        raise BadCertificate(
            f"{who} has authorityCertIssuer/SerialNumber in its authorityKeyIdentifier (CABF BR 7.1.2.11.1)"
        )
    eku = _extension(cert, x509.ExtendedKeyUsage)
    if role == "root":
        if eku is not None:
            raise BadCertificate(f"{who} has an extendedKeyUsage, which a root must not (CABF BR 7.1.2.1)")
        return  # a root's SKI and AKI are optional: RFC 5280 §6.1.1 (d) trusts its name and key
    if _extension(cert, x509.SubjectKeyIdentifier) is None:
        raise BadCertificate(f"{who} has no subjectKeyIdentifier (RFC 5280 §4.2.1.2)")
    if aki is None or aki.key_identifier is None:
        raise BadCertificate(f"{who} has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)")
    if eku is not None and purpose.oid not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
        raise UnsupportedCertificate(f"{who} may issue only for other purposes than TLS {purpose.role}")


def _check_depth(
    cert: x509.Certificate, below: list[x509.Certificate], max_depth: int, is_root: bool
) -> None:
    """RFC 5280 §6.1.2 (k), §6.1.4 (l): at most ``max_depth`` non-self-issued intermediates.

    The trust anchor is not an intermediate, even when it is not self-signed (a trusted
    cross-certificate)."""
    intermediates = sum(1 for c in below[1:] if not _is_self_issued(c))
    intermediates += not is_root and not _is_self_issued(cert)
    if intermediates > max_depth:
        raise UnknownCA(f"certificate chain needs more than max_depth={max_depth} intermediate(s)")


# --- 5. name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g)) ------------------------

_CHECKABLE = (x509.DNSName, x509.IPAddress, x509.DirectoryName)


def _check_name_constraints(ca: x509.Certificate, below: list[x509.Certificate], role: str) -> None:
    """The names of every certificate below ``ca`` must lie within its constraints.

    §6.1.3 (b): the subject and SAN names of each certificate are checked, except those of a
    self-issued certificate that is not the leaf (a key rollover keeps its CA's name; §6.1.4 (g)
    still applies its own constraints). The leaf is always checked. A constraint of a type we do
    not check refuses the chain when the extension is critical or a name of that type is present.
    """
    ext = _extension_entry(ca, x509.NameConstraints)
    if ext is None:
        return
    who = f"{role} {_name(ca)}"
    permitted, excluded = ext.value.permitted_subtrees or [], ext.value.excluded_subtrees or []
    if not permitted and not excluded:
        raise BadCertificate(f"{who} has an empty nameConstraints (RFC 5280 §4.2.1.10)")
    for subtree in [*permitted, *excluded]:
        _check_subtree(subtree, who, ext.critical)
    for position, cert in enumerate(below):
        if position > 0 and _is_self_issued(cert):
            continue
        for name in _names_of(cert):
            _check_within(name, permitted, excluded, who)


def _check_subtree(subtree: x509.GeneralName, who: str, critical: bool) -> None:
    if isinstance(subtree, x509.DNSName) and not _preferred_name_syntax(subtree.value):
        raise BadCertificate(
            f"{who} has the malformed dNSName constraint {subtree.value!r} (RFC 5280 §4.2.1.10)"
        )
    if isinstance(subtree, x509.IPAddress) and not isinstance(
        subtree.value, ipaddress.IPv4Network | ipaddress.IPv6Network
    ):
        raise BadCertificate(
            f"{who} has the malformed iPAddress constraint {subtree.value} (RFC 5280 §4.2.1.10)"
        )
    if critical and not isinstance(subtree, _CHECKABLE):
        raise BadCertificate(
            f"{who} has a critical {type(subtree).__name__} name constraint, which tlslab cannot check"
        )


def _names_of(cert: x509.Certificate) -> list[x509.GeneralName]:
    """The names §6.1.3 (b)(c) checks: the subject (if not empty) and every SAN entry."""
    names: list[x509.GeneralName] = [x509.DirectoryName(cert.subject)] if len(cert.subject) else []
    san = _extension(cert, x509.SubjectAlternativeName)
    return names + list(san) if san is not None else names


def _check_within(
    name: x509.GeneralName, permitted: list[x509.GeneralName], excluded: list[x509.GeneralName], who: str
) -> None:
    same_type = [p for p in permitted if type(p) is type(name)]
    if not isinstance(name, _CHECKABLE):
        if same_type or any(type(e) is type(name) for e in excluded):
            raise BadCertificate(f"{who} constrains {type(name).__name__} names, which tlslab cannot check")
        return
    if same_type and not any(_in_subtree(name, p, excluding=False) for p in same_type):
        raise BadCertificate(
            f"{who} may not certify {_show(name)} (nameConstraints permits only "
            f"{', '.join(_show(p) for p in same_type)})"
        )
    for subtree in excluded:
        if type(subtree) is type(name) and _in_subtree(name, subtree, excluding=True):
            raise BadCertificate(
                f"{who} may not certify {_show(name)} (nameConstraints excludes {_show(subtree)})"
            )


def _in_subtree(name: x509.GeneralName, subtree: x509.GeneralName, *, excluding: bool) -> bool:
    if isinstance(name, x509.IPAddress):
        address, network = name.value, subtree.value
        return address.version == network.version and address in network
    if isinstance(name, x509.DirectoryName):  # the subtree's RDNs are the first RDNs of the name
        rdns, base = list(name.value.rdns), list(subtree.value.rdns)
        return rdns[: len(base)] == base
    return _dns_in_subtree(name.value.lower(), subtree.value.lower(), excluding=excluding)


def _dns_in_subtree(name: str, base: str, *, excluding: bool) -> bool:
    """§4.2.1.10: a name is within ``base`` if it is ``base`` with zero or more labels added on the
    left. A wildcard SAN (``*.example.com``) stands for many names: it is permitted only if all of
    them are, and excluded if any of them is (as rustls-webpki and cryptography decide)."""

    def under(host: str) -> bool:
        return host == base or host.endswith("." + base)

    if not name.startswith("*."):
        return under(name)
    parent = name[2:]
    if under(parent):
        return True  # every name one label under parent is under base
    # Excluded if base itself is one of the wildcard's names: one label on top of parent.
    return excluding and base.partition(".")[2] == parent


def _show(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DirectoryName):
        return f"'{name.value.rfc4514_string()}'"
    return str(name.value)


# --- 6. the name (RFC 9525 §6) ---------------------------------------------------------------


def _check_name(
    leaf: x509.Certificate, server_name: str, match: Callable[[x509.Certificate, str], bool]
) -> None:
    san = _extension(leaf, x509.SubjectAlternativeName)
    if san is None:
        raise BadCertificate(
            f"certificate for {server_name} has no subjectAltName "
            "(tlslab never falls back to the common name; RFC 9525 dropped that fallback)"
        )
    if not match(leaf, server_name):
        presented = [*san.get_values_for_type(x509.DNSName)]
        presented += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        raise BadCertificate(
            f"certificate for {', '.join(presented) or '(no names)'} does not match {server_name}"
        )


def match_hostname(cert: x509.Certificate, name: str) -> bool:
    """Does ``cert``'s subjectAltName cover ``name`` (a host name or an IP literal)?

    IP literals (``192.0.2.1``, ``::1``, ``[::1]``) match iPAddress entries only;
    host names match dNSName entries with ``hostname_matches``. A certificate
    without a subjectAltName matches nothing (no common-name fallback).
    """
    san = _extension(cert, x509.SubjectAlternativeName)
    if san is None:
        return False
    ip = ip_literal(name)
    if ip is not None:
        return ip in san.get_values_for_type(x509.IPAddress)
    return any(hostname_matches(pattern, name) for pattern in san.get_values_for_type(x509.DNSName))


def verify_chain(
    chain_der: Sequence[bytes],
    server_name: str | None,
    *,
    trust_roots: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
    client: bool = False,
    match_hostname: Callable[[x509.Certificate, str], bool] = match_hostname,
) -> list[x509.Certificate]:
    """Either side's chain, as a ``Provider`` checks it: the path leaf..root.

    The server's chain for ``server_name`` (``None``: no name check) by
    ``verify_server_chain``, or with ``client=True`` a client's (mutual TLS) by
    ``verify_client_chain``. ``match_hostname`` is the name check it stands on.
    """
    if client:
        return verify_client_chain(chain_der, trust_roots=trust_roots, now=now)
    return verify_server_chain(
        chain_der, server_name, trust_roots=trust_roots, now=now, name_check=match_hostname
    )


def hostname_matches(pattern: str, name: str) -> bool:
    """The RFC 9525 §6.3 rule for one dNSName ``pattern`` against a host ``name``.

    Case-insensitive, a trailing dot ignored. A wildcard is allowed
    only as the whole left-most label (``*.example.com``), must be followed by
    at least two labels (no ``*.com``), and stands for exactly one non-empty
    label: ``*.example.com`` matches ``www.example.com`` but not
    ``example.com`` nor ``a.b.example.com``. Partial wildcards
    (``f*.example.com``) match nothing. Internationalized names are compared
    as A-labels (``xn--...``); a U-label ``name`` is converted first. No public
    suffix list: ``*.co.uk`` is accepted.
    """
    if not pattern.isascii():
        return False  # dNSName is an IA5String (RFC 5280 §4.2.1.6): a U-label there is malformed
    if ip_literal(name) is not None:
        return False  # RFC 9525, RFC 5280 §4.2.1.6: an IP address matches iPAddress entries only
    pattern, name = _normalize(pattern), _normalize(name)
    if not pattern or not name or not _labels_ok(name) or "*" in name:
        return False
    if "*" not in pattern:
        return pattern == name
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False  # partial or non-left-most wildcard
    suffix = pattern[2:]
    if suffix.count(".") < 1 or not _labels_ok(suffix):
        return False  # "*.com": the wildcard needs two labels after it
    first, _, rest = name.partition(".")
    return bool(first) and rest == suffix


def _normalize(name: str) -> str:
    """Lower case, one trailing dot (an absolute name) dropped, U-labels as A-labels.

    Nothing else is forgiven: whitespace or a second trailing dot leave an empty or odd
    label that ``_labels_ok`` refuses.
    """
    name = name.removesuffix(".").lower()
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _labels_ok(name: str) -> bool:
    """Every label 1..63 characters, none with whitespace (RFC 1035 §2.3.4)."""
    return all(0 < len(label) <= 63 and not any(c.isspace() for c in label) for label in name.split("."))


@lru_cache(maxsize=256)  # asked several times per handshake; a name that is not one raises twice inside
def ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if ``name`` is an IP literal (``[::1]`` brackets allowed), else None."""
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


# --- small helpers ---------------------------------------------------------------------------


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(cert: x509.Certificate, cls: type[_E]) -> _E | None:
    ext = _extension_entry(cert, cls)
    return None if ext is None else ext.value


def _extension_entry(cert: x509.Certificate, cls: type[_E]) -> x509.Extension[_E] | None:
    """The extension of type ``cls`` (value and criticality), or None."""
    return _extensions_by_oid(cert).get(cls.oid)  # type: ignore[return-value]


@_per_certificate
def _extensions_by_oid(
    cert: x509.Certificate,
) -> dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]:
    """Each extension by its OID, read once per certificate (cryptography's lookup scans them all)."""
    return {ext.oid: ext for ext in cert.extensions}


@_per_certificate
def _name(cert: x509.Certificate) -> str:
    return f"'{cert.subject.rfc4514_string()}'"


def _issuer_name(cert: x509.Certificate) -> str:
    return f"'{cert.issuer.rfc4514_string()}'"


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", None)  # cryptography's table of known OIDs
    return oid.dotted_string if not name or name == "Unknown OID" else name


def _utc(now: dt.datetime | None) -> dt.datetime:
    """The validity time in whole seconds: certificates carry no fractions (RFC 5280 §4.1.2.5)."""
    if now is None:
        now = dt.datetime.now(dt.timezone.utc)
    now = now if now.tzinfo is not None else now.replace(tzinfo=dt.timezone.utc)
    return now.replace(microsecond=0)
