"""Is this the right server? Certificate path validation (RFC 5280 §6) and names (RFC 6125 §6).

The server's Certificate message (RFC 8446 §4.4.2) carries its certificate
first, then (usually) the intermediates that lead to a root CA we trust. The
client must check that chain before believing the CertificateVerify signature
(§4.4.3) means anything: a valid signature from a key nobody vouches for proves
nothing. ``verify_server_chain`` does a simplified RFC 5280 §6 validation:

1. parse every certificate (garbage -> ``bad_certificate``);
2. build a path leaf -> ... -> trust anchor from what the server sent, in any
   order, matching issuer to subject (and authorityKeyIdentifier to
   subjectKeyIdentifier when both are present) and checking each signature;
   an issuer that fails step 3 is skipped for the next candidate, currently
   valid candidates first, and the search stops after ``MAX_SIGNATURE_CHECKS``;
3. check every certificate on the path: validity dates (inclusive, RFC 5280
   §4.1.2.5); for issuers basicConstraints CA:TRUE, pathLenConstraint (counting
   non-self-issued intermediates, §4.2.1.9), keyUsage keyCertSign (when present);
   for the leaf extendedKeyUsage serverAuth (when present);
4. check the name (RFC 6125 §6): subjectAltName dNSName entries, with the
   wildcard rule of ``hostname_matches``, or iPAddress entries for an IP
   literal. We never fall back to the subject's common name: RFC 6125 §6.4.4
   allows it only without any SAN, and CA/Browser Forum certificates always
   have one, so a certificate without a SAN is refused.

Not done (simplifications): name constraints, policy constraints,
revocation (CRL/OCSP), critical-extension processing beyond the above,
signature-algorithm policy and key-size minimums.

Which alert for which failure (RFC 8446 §6.2; chosen to match OpenSSL's
``ssl_x509err2alert`` table, which Python's ``ssl`` uses, except where noted):

=====================================================  =========================
failure                                                alert
=====================================================  =========================
a certificate does not parse                           bad_certificate
no path to a trusted root (unknown issuer, self-signed) unknown_ca
an issuer is not a CA (CA:FALSE, no keyCertSign)       unknown_ca (OpenSSL: INVALID_CA)
pathLenConstraint exceeded                             unknown_ca
a signature on the path does not verify                bad_certificate (OpenSSL:
                                                       decrypt_error; RFC 8446 keeps
                                                       decrypt_error for handshake
                                                       signatures)
expired                                                certificate_expired
not yet valid                                          certificate_expired (OpenSSL:
                                                       bad_certificate; RFC 8446 §6.2
                                                       says "expired or is not
                                                       currently valid")
leaf extendedKeyUsage lacks serverAuth                 unsupported_certificate
name does not match / no subjectAltName                bad_certificate
=====================================================  =========================
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import warnings
from collections.abc import Sequence
from functools import cache

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID

from .errors import (
    AlertError,
    BadCertificate,
    CertificateExpired,
    DecodeError,
    UnknownCA,
    UnsupportedCertificate,
)

MAX_INTERMEDIATES = 8  # a longer path is refused as unknown_ca (OpenSSL's default depth is 100)


def load_trust_roots(cafile: str | None = None) -> list[x509.Certificate]:
    """The trusted root certificates: ``cafile`` (PEM bundle), else certifi's Mozilla bundle.

    Parsed once per file and cached.
    """
    return list(_load_bundle(cafile or certifi.where()))


@cache
def _load_bundle(path: str) -> tuple[x509.Certificate, ...]:
    with open(path, "rb") as f, warnings.catch_warnings():
        # certifi still ships a root with a non-positive serial; cryptography warns about it.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return tuple(x509.load_pem_x509_certificates(f.read()))


def verify_server_chain(
    chain_der: Sequence[bytes],
    server_name: str | None,
    *,
    trust_roots: Sequence[x509.Certificate] | None = None,
    cafile: str | None = None,
    now: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Validate the server's certificate chain for ``server_name``; return the path leaf..root.

    Args:
        chain_der: the certificates of the Certificate message, leaf first (DER).
        server_name: the host name (or IP literal) the client wanted to reach; ``None``
            skips the name check (``ClientConfig(check_hostname=False)``: loud, and unsafe).
        trust_roots: trust anchors; default ``load_trust_roots(cafile)``.
        now: the time to check validity at (default: the current UTC time).

    Raises:
        BadCertificate, CertificateExpired, UnknownCA, UnsupportedCertificate: with
            one reason; see the module docstring for which is which.
        DecodeError: the chain is empty (RFC 8446 §4.4.2.4).
    """
    if not chain_der:
        raise DecodeError("server sent an empty certificate_list (RFC 8446 §4.4.2.4)")
    certs = [_parse(der, position) for position, der in enumerate(chain_der)]
    roots = list(trust_roots) if trust_roots is not None else load_trust_roots(cafile)
    now = _utc(now)
    who = server_name or _name(certs[0])
    path = _build_path(certs[0], certs[1:], roots, who, now)
    _check_validity(path[0], 0, who, now)  # issuers were checked while the path was built
    _check_purpose(
        path[0], who, ExtendedKeyUsageOID.SERVER_AUTH, "servers (extendedKeyUsage lacks serverAuth)"
    )
    if server_name is not None:
        _check_name(path[0], server_name)
    return path


def verify_client_chain(
    chain_der: Sequence[bytes],
    *,
    trust_roots: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Validate a client's certificate chain (mutual TLS, RFC 8446 §4.4.2.4) against ``trust_roots``.

    The same path rules as ``verify_server_chain``; no name to match (the server learns who the
    client is from the certificate), and the leaf must allow clientAuth (RFC 5280 §4.2.1.12).
    """
    if not chain_der:
        raise DecodeError("empty certificate_list where a client certificate was checked")
    certs = [_parse(der, position, "client") for position, der in enumerate(chain_der)]
    now = _utc(now)
    who = _name(certs[0])
    path = _build_path(certs[0], certs[1:], list(trust_roots), who, now)
    _check_validity(path[0], 0, who, now)
    _check_purpose(
        path[0], who, ExtendedKeyUsageOID.CLIENT_AUTH, "clients (extendedKeyUsage lacks clientAuth)"
    )
    return path


# --- 1. parsing ------------------------------------------------------------------------------


def _parse(der: bytes, position: int, whose: str = "server") -> x509.Certificate:
    what = f"the {whose}'s certificate" if position == 0 else f"certificate #{position} in the chain"
    try:
        cert = x509.load_der_x509_certificate(bytes(der))
        cert.extensions  # noqa: B018 -- parsed lazily; a malformed extension shows up here
        return cert
    except (ValueError, TypeError) as exc:
        raise BadCertificate(f"could not parse certificate ({what}): {exc}") from None


# --- 2. path building ------------------------------------------------------------------------

# Work limit for path building, as Go's crypto/x509 (maxChainSignatureChecks = 100): a server that
# sends many certificates with the same name, signing each other, must not make the search explode.
MAX_SIGNATURE_CHECKS = 100


def _build_path(
    leaf: x509.Certificate,
    sent: list[x509.Certificate],
    roots: list[x509.Certificate],
    server_name: str,
    now: dt.datetime,
) -> list[x509.Certificate]:
    """Depth-first search from the leaf to a trust anchor over the certificates the server sent.

    An issuer is taken only if it passes the checks of step 3 (validity, CA, pathLen, keyUsage)
    for the path below it; otherwise the search tries the next candidate, so an expired or
    unsuitable duplicate (a renewed intermediate, an old cross-sign) cannot hide a good path
    (RFC 4158 §2.4; RFC 8446 §4.4.2: "implementations SHOULD be prepared to handle potentially
    extraneous certificates"). Currently valid candidates are tried first.
    """
    search = _PathSearch(sent, roots, now)
    path = search.extend([leaf])
    if path is not None:
        return path
    if search.refused:
        raise search.refused[0]  # the first issuer that fit by name and signature, and why it failed
    if search.bad_signature:
        raise BadCertificate(search.bad_signature[0])
    if _is_self_signed(leaf):
        raise UnknownCA(f"self-signed certificate for {server_name} is not trusted")
    top = _deepest_chain(leaf, sent)
    if _is_self_signed(top[-1]):
        raise UnknownCA(f"certificate chain for {server_name} ends in the untrusted root {_name(top[-1])}")
    raise UnknownCA(
        f"certificate chain for {server_name} does not lead to a trusted root: "
        f"issuer {_issuer_name(top[-1])} is unknown"
    )


class _PathSearch:
    def __init__(self, sent: list[x509.Certificate], roots: list[x509.Certificate], now: dt.datetime) -> None:
        self.sent, self.roots, self.now = sent, roots, now
        self.bad_signature: list[str] = []
        self.refused: list[AlertError] = []
        self.signature_checks = 0

    def extend(self, path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        cert = path[-1]
        if any(cert == root for root in self.roots):
            return path  # the server sent the trust anchor itself
        candidates = [(root, True) for root in self.roots]
        if len(path) <= MAX_INTERMEDIATES:
            candidates += [(c, False) for c in self.sent if c not in path]
        candidates.sort(key=lambda item: not _valid_at(item[0], self.now))  # stable: roots first
        for candidate, is_root in candidates:
            if not _could_issue(candidate, cert) or not self._signed_by(cert, candidate):
                continue
            try:
                _check_validity(candidate, len(path), "", self.now)
                _check_issuer(candidate, path)
            except AlertError as err:
                self.refused.append(err)
                continue
            if is_root:
                return [*path, candidate]
            found = self.extend([*path, candidate])
            if found is not None:
                return found
        return None

    def _signed_by(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        self.signature_checks += 1
        if self.signature_checks > MAX_SIGNATURE_CHECKS:
            raise UnknownCA(
                f"gave up building a path after {MAX_SIGNATURE_CHECKS} signature checks "
                "(too many candidate issuers)"
            )
        try:
            cert.verify_directly_issued_by(issuer)
            return True
        except InvalidSignature:
            self.bad_signature.append(
                f"signature of {_name(cert)} does not verify with the key of {_name(issuer)}"
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            pass  # e.g. issuer name mismatch or an unsupported algorithm: simply not this issuer
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


def _deepest_chain(leaf: x509.Certificate, sent: list[x509.Certificate]) -> list[x509.Certificate]:
    """Follow issuer names through the sent certificates, to say where the chain stops."""
    chain = [leaf]
    while len(chain) <= MAX_INTERMEDIATES and not _is_self_signed(chain[-1]):
        nxt = next((c for c in sent if c not in chain and _could_issue(c, chain[-1])), None)
        if nxt is None:
            break
        chain.append(nxt)
    return chain


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _is_self_issued(cert: x509.Certificate) -> bool:
    """RFC 5280 §6.1: "self-issued" = the issuer and subject names are the same (any key)."""
    return cert.issuer == cert.subject


# --- 3. every certificate on the path --------------------------------------------------------


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    """RFC 5280 §4.1.2.5: valid "from notBefore through notAfter, inclusive"."""
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _check_validity(cert: x509.Certificate, depth: int, server_name: str, now: dt.datetime) -> None:
    who = f"certificate for {server_name}" if depth == 0 else f"issuer certificate {_name(cert)}"
    if now > cert.not_valid_after_utc:
        raise CertificateExpired(f"{who} expired on {cert.not_valid_after_utc.date().isoformat()}")
    if now < cert.not_valid_before_utc:
        raise CertificateExpired(f"{who} is not valid before {cert.not_valid_before_utc.date().isoformat()}")


def _check_issuer(cert: x509.Certificate, below: list[x509.Certificate]) -> None:
    """RFC 5280 §6.1.4 (k), (l), (m), (n): may ``cert`` sign ``below[-1]``, with ``below`` under it?"""
    role = "root" if cert.issuer == cert.subject else "intermediate"
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        state = "CA:FALSE" if constraints is not None else "missing"
        raise UnknownCA(f"{role} {_name(cert)} is not a CA (basicConstraints {state})")
    # RFC 5280 §4.2.1.9: pathLenConstraint is "the maximum number of non-self-issued intermediate
    # certificates that may follow this certificate"; the leaf (below[0]) is not an intermediate.
    intermediates = sum(1 for c in below[1:] if not _is_self_issued(c))
    if constraints.path_length is not None and intermediates > constraints.path_length:
        raise UnknownCA(
            f"{role} {_name(cert)} allows {constraints.path_length} intermediate(s) below it "
            f"(pathLenConstraint), the chain has {intermediates}"
        )
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise UnknownCA(f"{role} {_name(cert)} may not sign certificates (keyUsage lacks keyCertSign)")


def _check_purpose(leaf: x509.Certificate, who: str, purpose: x509.ObjectIdentifier, lacking: str) -> None:
    """RFC 5280 §4.2.1.12: if the leaf limits its purposes, ``purpose`` must be one of them."""
    eku = _extension(leaf, x509.ExtendedKeyUsage)
    if eku is not None and purpose not in eku:
        raise UnsupportedCertificate(f"certificate for {who} is not for TLS {lacking}")


# --- 4. the name (RFC 6125 §6) ---------------------------------------------------------------


def _check_name(leaf: x509.Certificate, server_name: str) -> None:
    san = _extension(leaf, x509.SubjectAlternativeName)
    if san is None:
        raise BadCertificate(
            f"certificate for {server_name} has no subjectAltName "
            "(tlslab never falls back to the common name, RFC 6125 §6.4.4)"
        )
    if not match_hostname(leaf, server_name):
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


def hostname_matches(pattern: str, name: str) -> bool:
    """The RFC 6125 §6.4.3 rule for one dNSName ``pattern`` against a host ``name``.

    Case-insensitive (§6.4.1), a trailing dot ignored. A wildcard is allowed
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
        return False  # RFC 6125 §1.7.2, RFC 5280 §4.2.1.6: an IP address matches iPAddress entries only
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


def ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if ``name`` is an IP literal (``[::1]`` brackets allowed), else None."""
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


# --- small helpers ---------------------------------------------------------------------------


def _extension(cert: x509.Certificate, cls: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _name(cert: x509.Certificate) -> str:
    return f"'{cert.subject.rfc4514_string()}'"


def _issuer_name(cert: x509.Certificate) -> str:
    return f"'{cert.issuer.rfc4514_string()}'"


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.timezone.utc)
