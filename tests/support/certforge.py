"""Certificates of any shape, good or broken, for the verifier's tests (RFC 5280 §4.1).

``mint`` builds a certificate with cryptography's ``CertificateBuilder``, every field and
extension chosen by the caller. Where the builder refuses to make a malformed certificate (a
serial of 0 or of 21 octets, two extensions with the same OID, an extension whose value is not
DER, explicit curve parameters), ``forge`` edits the DER of the TBSCertificate (RFC 5280 §4.1.1.1)
and signs it again with the issuer's key: the result is a certificate whose signature verifies,
broken in exactly one place.

``cryptography_verdict`` runs ``cryptography.x509.verification`` on the same chain, the referee
that tests compare tlslab with.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)
KEEP = object()  # "the usual value" for mint's keyword arguments

CA_USAGE = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
LEAF_USAGE = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
SERVER_AUTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
CLIENT_AUTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])


@dataclass
class Node:
    """A certificate and the private key of its subject."""

    cert: x509.Certificate
    key: object

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(cn: str | None = None, **attributes: str) -> x509.Name:
    """``name("x")`` is CN=x; ``name(None)`` is the empty name; ``O=`` and friends by keyword."""
    oids = {"O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "C": NameOID.COUNTRY_NAME}
    parts = [x509.NameAttribute(oids[k], v) for k, v in attributes.items()]
    if cn is not None:
        parts.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(parts)


def mint(
    subject: str | x509.Name | None,
    issuer: Node | None = None,
    *,
    ca: bool = False,
    key: object = None,
    path_length: int | None = None,
    san: Sequence[str] | Sequence[x509.GeneralName] | None | object = KEEP,
    san_critical: bool | None = None,
    eku: x509.ExtendedKeyUsage | None | object = KEEP,
    eku_critical: bool = False,
    key_usage: x509.KeyUsage | None | object = KEEP,
    basic_constraints: bool = True,
    bc_critical: bool = True,
    ski: bool = True,
    ski_critical: bool = False,
    aki: x509.AuthorityKeyIdentifier | None | object = KEEP,
    aki_critical: bool = False,
    name_constraints: x509.NameConstraints | None = None,
    nc_critical: bool = True,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 30 * DAY,
    serial: int | None = None,
    digest: hashes.HashAlgorithm | None | object = KEEP,
) -> Node:
    """One certificate, signed by ``issuer`` (self-signed when None).

    The defaults make a certificate tlslab and cryptography accept: a CA gets critical
    basicConstraints CA:TRUE, keyUsage keyCertSign+cRLSign, SKI, AKI and no EKU; a leaf
    (``subject`` a host name) gets CA:FALSE, digitalSignature, EKU serverAuth, SKI, AKI and
    the subject CN as its one dNSName.
    """
    key = key or p256()
    subject_name = subject if isinstance(subject, x509.Name) else name(subject)
    signer_key = issuer.key if issuer is not None else key
    issuer_name = issuer.cert.subject if issuer is not None else subject_name
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if basic_constraints:
        bc = x509.BasicConstraints(ca=ca, path_length=path_length if ca else None)
        builder = builder.add_extension(bc, bc_critical)
    if key_usage is KEEP:
        key_usage = CA_USAGE if ca else LEAF_USAGE
    if key_usage is not None:
        builder = builder.add_extension(key_usage, True)
    if eku is KEEP:
        eku = None if ca else SERVER_AUTH
    if eku is not None:
        builder = builder.add_extension(eku, eku_critical)
    if san is KEEP:
        san = [] if ca or subject is None or isinstance(subject, x509.Name) else [subject]
    if san:
        names = [n if isinstance(n, x509.GeneralName) else _general_name(n) for n in san]
        critical = san_critical if san_critical is not None else len(subject_name) == 0
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical)
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), ski_critical
        )
    if aki is KEEP:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key())
    if aki is not None:
        builder = builder.add_extension(aki, aki_critical)
    if name_constraints is not None:
        builder = builder.add_extension(name_constraints, nc_critical)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical)
    if digest is KEEP:
        digest = (
            None
            if isinstance(signer_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
            else hashes.SHA256()
        )
    return Node(builder.sign(signer_key, digest), key)


def _general_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def dns(*names: str) -> list[x509.GeneralName]:
    return [x509.DNSName(n) for n in names]


def nets(*networks: str) -> list[x509.GeneralName]:
    return [x509.IPAddress(ipaddress.ip_network(n)) for n in networks]


# --- forging: edit the DER of a TBSCertificate and sign it again -------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    """One DER value (X.690 §8.1): tag, definite length in the shortest form, content."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _read(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of value) of the DER value at ``pos``."""
    tag, first = der[pos], der[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    count = first & 0x7F
    length = int.from_bytes(der[pos + 2 : pos + 2 + count], "big")
    start = pos + 2 + count
    return tag, start, start + length


def children(der: bytes) -> list[bytes]:
    """The DER values inside the constructed value ``der``."""
    _, pos, end = _read(der, 0)
    out = []
    while pos < end:
        _, _, stop = _read(der, pos)
        out.append(der[pos:stop])
        pos = stop
    return out


def sign_tbs(tbs: bytes, algorithm: bytes, key: object) -> bytes:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (§4.1)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(tbs)
    return tlv(0x30, tbs + algorithm + tlv(0x03, b"\x00" + signature))


def forge(node: Node, issuer_key: object, edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """Re-sign ``node``'s certificate after ``edit`` changed the fields of its TBSCertificate.

    The fields are DER values: [version, serialNumber, signature, issuer, validity, subject,
    subjectPublicKeyInfo, extensions] (RFC 5280 §4.1.1.1).
    """
    der = node.der()
    tbs = node.cert.tbs_certificate_bytes
    parts = children(der)
    assert parts[0] == tbs
    return sign_tbs(tlv(0x30, b"".join(edit(children(tbs)))), parts[1], issuer_key)


def with_serial(node: Node, issuer_key: object, content: bytes) -> bytes:
    """The certificate with serialNumber ``content`` (the INTEGER's octets, as they are)."""
    return forge(node, issuer_key, lambda f: [f[0], tlv(0x02, content), *f[2:]])


ECDSA_WITH_SHA1 = bytes.fromhex("300906072a8648ce3d0401")  # AlgorithmIdentifier, RFC 5758 §3.2


def with_sha1_signature(node: Node, issuer_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The certificate signed with ECDSA and SHA-1, which cryptography's builder no longer makes."""
    tbs = tlv(0x30, b"".join([*children(node.cert.tbs_certificate_bytes)[:2], ECDSA_WITH_SHA1,
                              *children(node.cert.tbs_certificate_bytes)[3:]]))  # fmt: skip
    signature = issuer_key.sign(tbs, ec.ECDSA(hashes.SHA1()))
    return tlv(0x30, tbs + ECDSA_WITH_SHA1 + tlv(0x03, b"\x00" + signature))


def with_spki(node: Node, issuer_key: object, spki: bytes) -> bytes:
    return forge(node, issuer_key, lambda f: [*f[:6], spki, *f[7:]])


def replace(node: Node, issuer_key: object, old: bytes, new: bytes) -> bytes:
    """Swap bytes of the same length inside the TBSCertificate (e.g. an extension's OID)."""
    assert len(old) == len(new)
    tbs = node.cert.tbs_certificate_bytes
    assert tbs.count(old) == 1, old
    parts = children(node.der())
    return sign_tbs(tbs.replace(old, new), parts[1], issuer_key)


# A placeholder OID with the same encoded length as the id-ce OIDs (2.5.29.x): minted as an
# unrecognised extension, then renamed by ``replace`` into the extension it will duplicate or break.
PLACEHOLDER = x509.ObjectIdentifier("2.5.29.99")
PLACEHOLDER_DER = b"\x06\x03\x55\x1d\x63"


def id_ce(number: int) -> bytes:
    return b"\x06\x03\x55\x1d" + bytes([number])


def explicit_p256_spki() -> bytes:
    """A P-256 SubjectPublicKeyInfo with explicit curve parameters (RFC 3279 §2.3.5 ecParameters),
    which CABF BR 7.1.3.1 forbids; openssl writes it, cryptography cannot."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    key = subprocess.run(
        [openssl, "ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return subprocess.run(
        [openssl, "pkey", "-pubout", "-outform", "DER"], input=key, capture_output=True, check=True
    ).stdout


# --- the referee ---------------------------------------------------------------------------


def load(der: bytes) -> x509.Certificate:
    """Load a certificate, quietly: bad serials are the point of some cases."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        cert = x509.load_der_x509_certificate(der)
        cert.serial_number  # noqa: B018 -- the warning comes when the serial is first read
        return cert


def cryptography_verdict(
    chain: Sequence[bytes],
    roots: Sequence[x509.Certificate],
    server_name: str | None = "example.com",
    *,
    client: bool = False,
    now: dt.datetime = NOW,
    max_depth: int | None = None,
) -> tuple[bool, str]:
    """(accepted, why) from ``cryptography.x509.verification`` on the same chain.

    Any exception counts as a refusal: cryptography raises ValueError for certificates it
    cannot parse, where tlslab raises BadCertificate.
    """
    try:
        leaf, *intermediates = [load(der) for der in chain]
        builder = PolicyBuilder().store(Store(list(roots))).time(now)
        if max_depth is not None:
            builder = builder.max_chain_depth(max_depth)
        if client:
            builder.build_client_verifier().verify(leaf, intermediates)
        else:
            builder.build_server_verifier(_general_name(server_name or "example.com")).verify(
                leaf, intermediates
            )
        return True, "accepted"
    except Exception as exc:  # noqa: BLE001 -- the referee's refusal, whatever its form
        return False, f"{type(exc).__name__}: {exc}"
