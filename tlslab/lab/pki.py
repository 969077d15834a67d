"""A small certificate authority for tests, the offline stand-in server and notebook 06 (RFC 5280).

TLS 1.3 authenticates the server with an X.509 certificate chain (RFC 8446
§4.4.2). To show chains that work and chains that fail (expired, wrong host,
missing intermediate, ...) without the internet, we mint them here, with the
extensions RFC 5280 §4.2 defines and our verifier (``certverify.py``) checks:
basicConstraints (§4.2.1.9), keyUsage (§4.2.1.3), extendedKeyUsage (§4.2.1.12),
subjectAltName (§4.2.1.6), subject/authority key identifiers (§4.2.1.1-2).

    >>> root = make_ca("Example Root")
    >>> leaf = issue(root, common_name="example.com", dns_names=["example.com"])
    >>> leaf.cert.issuer == root.cert.subject
    True

Key kinds: ``KEY_KINDS``. RSA keys are 2048 bits to keep tests fast.

``rsa-pss`` (a SubjectPublicKeyInfo with algorithm id-RSASSA-PSS, RFC 4055):
cryptography 48 can *load* such keys but not *write* them: it sees a plain RSA
key and would encode it as rsaEncryption. So for this kind we let cryptography
write an ordinary RSA key and certificate, then put the id-RSASSA-PSS
AlgorithmIdentifier (no parameters: any hash, RFC 4055 §3.1) in their place:
in the PKCS#8 key (``Issued.key_pem()`` returns it) and in the certificate's
SPKI, whose TBSCertificate the issuer then signs again. An rsa-pss *issuer*
signs with RSASSA-PSS padding. No ``openssl`` command is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, PublicKeyAlgorithmOID

PrivateKey: TypeAlias = (
    ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)

KEY_KINDS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa", "rsa-pss", "ed25519", "ed448")

LEAF_LIFETIME = dt.timedelta(days=30)
CA_LIFETIME = dt.timedelta(days=3650)
BACKDATE = dt.timedelta(days=1)  # certificates start a day ago, so small clock skew does not matter

_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "ecdsa-p256": ec.SECP256R1,
    "ecdsa-p384": ec.SECP384R1,
    "ecdsa-p521": ec.SECP521R1,
}
# RFC 5280 §4.2.1.12 names, as in OpenSSL configs.
_EKU = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "anyExtendedKeyUsage": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}
# RFC 5280 §4.2.1.3 KeyUsage bit names -> cryptography's KeyUsage arguments.
_KU = {
    "digitalSignature": "digital_signature",
    "contentCommitment": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}


@dataclass
class Issued:
    """A certificate and its private key.

    ``pkcs8`` holds the id-RSASSA-PSS PEM of ``rsa-pss`` keys (cryptography cannot
    write one); ``key_pem()`` prefers it.
    """

    cert: x509.Certificate
    key: PrivateKey
    pkcs8: bytes | None = field(default=None, repr=False)

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        if self.pkcs8 is not None:
            return self.pkcs8
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def write(self, directory: str | Path, name: str) -> tuple[Path, Path]:
        """Write ``name.pem`` (certificate) and ``name.key`` (PKCS#8 key) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(self.cert_pem())
        key_path.write_bytes(self.key_pem())
        key_path.chmod(0o600)
        return cert_path, key_path

    @property
    def is_rsa_pss(self) -> bool:
        return self.cert.public_key_algorithm_oid == PublicKeyAlgorithmOID.RSASSA_PSS


def make_key(kind: str = "ecdsa-p256") -> PrivateKey:
    """A new private key of ``kind`` (one of ``KEY_KINDS``).

    For ``rsa-pss`` the result is a plain RSA key (cryptography has no RSA-PSS key
    type), so use ``issue(key_kind="rsa-pss")`` for certificates.
    """
    return _new_key(kind)[0]


def make_ca(
    common_name: str = "tlslab Test Root CA",
    key_kind: str = "ecdsa-p256",
    *,
    path_length: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A self-signed root CA: CA:TRUE, keyUsage keyCertSign+cRLSign, no EKU."""
    return issue(
        None,
        common_name=common_name,
        key_kind=key_kind,
        is_ca=True,
        path_length=path_length,
        not_before=not_before,
        not_after=not_after,
        extended_key_usage=(),
        self_signed=True,
    )


def issue(
    issuer: Issued | None,
    *,
    common_name: str,
    key_kind: str = "ecdsa-p256",
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str | ipaddress.IPv4Address | ipaddress.IPv6Address] = (),
    is_ca: bool = False,
    path_length: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    extended_key_usage: Sequence[str] | None = None,
    key_usage: Sequence[str] | None = None,
    self_signed: bool = False,
    key: PrivateKey | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """Issue a certificate for a new ``key_kind`` key, signed by ``issuer`` (or by itself).

    Args:
        issuer: the signing CA; ignored (may be None) when ``self_signed``.
        dns_names, ip_addresses: subjectAltName entries; with neither, no SAN at all
            (a CN-only certificate, which verifiers must refuse for a host name).
        is_ca, path_length: basicConstraints (critical).
        not_before, not_after: validity; default from a day ago, for 30 days (leaf)
            or 10 years (CA).
        extended_key_usage: names like "serverAuth", "clientAuth"; ``()`` leaves the
            extension out; None picks serverAuth for a leaf (CABF BR 7.1.2.7.10 wants one)
            and none for a CA (an unconstrained intermediate, BR 7.1.2.2).
        key_usage: RFC 5280 bit names like "digitalSignature"; None picks the usual
            (keyCertSign+cRLSign+digitalSignature for a CA, digitalSignature for a
            leaf, plus keyEncipherment for RSA leaves); ``()`` leaves it out.
        key: the subject's private key; default a new ``key_kind`` key (pass one to
            mint, say, a weak 1024-bit RSA key for a failure case).
        extensions: more (extension, critical) pairs, added after the usual ones, e.g.
            ``x509.NameConstraints`` or an ``x509.UnrecognizedExtension``.
    """
    if not self_signed and issuer is None:
        raise ValueError("issue() needs an issuer unless self_signed=True")
    key, pkcs8 = (key, None) if key is not None else _new_key(key_kind)
    public = key.public_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = not_before or (_now() - BACKDATE)
    end = not_after or (start + (CA_LIFETIME if is_ca else LEAF_LIFETIME))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
    )
    usual = _extensions(key, is_ca, dns_names, ip_addresses, extended_key_usage, key_usage)
    for extension, critical in [*usual, *extensions]:
        builder = builder.add_extension(extension, critical)
    if self_signed:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(public)
        signer, signer_pss = key, pkcs8 is not None
        builder = builder.issuer_name(subject).add_extension(aki, False)
    else:
        assert issuer is not None
        signer, signer_pss = issuer.key, issuer.is_rsa_pss
        builder = builder.issuer_name(issuer.cert.subject).add_extension(_aki(issuer), False)
    cert = _sign(builder, signer, signer_pss)
    if pkcs8 is not None:  # rsa-pss subject: the SPKI says id-RSASSA-PSS, signed again
        cert = _with_pss_spki(cert, signer, signer_pss)
    return Issued(cert, key, pkcs8)


# --- helpers ---------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _new_key(kind: str) -> tuple[PrivateKey, bytes | None]:
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind]()), None
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048), None
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate(), None
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate(), None
    if kind == "rsa-pss":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return key, _pem("PRIVATE KEY", _with_pss_algorithm(der))
    raise ValueError(f"unknown key kind {kind!r}; choose from {KEY_KINDS}")


def _extensions(
    key: PrivateKey,
    is_ca: bool,
    dns_names: Iterable[str],
    ip_addresses: Iterable[str | ipaddress.IPv4Address | ipaddress.IPv6Address],
    extended_key_usage: Sequence[str] | None,
    key_usage: Sequence[str] | None,
) -> list[tuple[x509.ExtensionType, bool]]:
    out: list[tuple[x509.ExtensionType, bool]] = []
    if key_usage is None:
        key_usage = ["keyCertSign", "cRLSign", "digitalSignature"] if is_ca else ["digitalSignature"]
        if not is_ca and isinstance(key, rsa.RSAPrivateKey):
            key_usage.append("keyEncipherment")
    if key_usage:
        bits = {arg: name in key_usage for name, arg in _KU.items()}
        out.append((x509.KeyUsage(**bits), True))
    if extended_key_usage is None:
        extended_key_usage = () if is_ca else ("serverAuth",)
    if extended_key_usage:
        out.append((x509.ExtendedKeyUsage([_EKU[name] for name in extended_key_usage]), False))
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if names:
        out.append((x509.SubjectAlternativeName(names), False))
    return out


def _aki(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    """The certificate signature hash that matches the issuer's key strength."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None  # EdDSA hashes internally
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        return hashes.SHA384()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp521r1":
        return hashes.SHA512()
    return hashes.SHA256()


def _sign(builder: x509.CertificateBuilder, key: PrivateKey, rsa_pss: bool) -> x509.Certificate:
    algorithm = _hash_for(key)
    if rsa_pss:  # an id-RSASSA-PSS key may only make RSASSA-PSS signatures (RFC 4055 §1.2)
        assert algorithm is not None
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        return builder.sign(key, algorithm, rsa_padding=pss)
    return builder.sign(key, algorithm)


# --- id-RSASSA-PSS keys and certificates, written by hand (RFC 4055 §3.1, RFC 5280 §4.1) ---------

# AlgorithmIdentifier DER: rsaEncryption with its NULL parameters, and id-RSASSA-PSS with none.
_RSA_ENCRYPTION = bytes.fromhex("300d06092a864886f70d0101010500")
_RSASSA_PSS = bytes.fromhex("300b06092a864886f70d01010a")


def _der_elements(data: bytes) -> list[bytes]:
    """The whole TLV elements (header included) inside a DER constructed value's contents."""
    out, pos = [], 0
    while pos < len(data):
        length, header = data[pos + 1], 2
        if length & 0x80:
            size = length & 0x7F
            length, header = int.from_bytes(data[pos + 2 : pos + 2 + size], "big"), 2 + size
        out.append(data[pos : pos + header + length])
        pos += header + length
    return out


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | (n.bit_length() + 7) // 8]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + content


def _contents(element: bytes) -> bytes:
    """The contents of one whole TLV element (its header skipped)."""
    return element[2 + (element[1] & 0x7F if element[1] & 0x80 else 0) :]


def _with_pss_algorithm(pkcs8: bytes) -> bytes:
    """A PKCS#8 PrivateKeyInfo (RFC 5208) whose algorithm is id-RSASSA-PSS instead of rsaEncryption."""
    version, algorithm, key = _der_elements(_contents(pkcs8))
    assert algorithm == _RSA_ENCRYPTION
    return _der(0x30, version + _RSASSA_PSS + key)


def _with_pss_spki(cert: x509.Certificate, signer: PrivateKey, signer_pss: bool) -> x509.Certificate:
    """``cert`` with id-RSASSA-PSS as its SPKI algorithm, the TBSCertificate signed again by ``signer``."""
    tbs_element, signature_algorithm, _ = _der_elements(
        _contents(cert.public_bytes(serialization.Encoding.DER))
    )
    fields = _der_elements(_contents(tbs_element))
    spki = 6  # version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    algorithm, public_key = _der_elements(_contents(fields[spki]))
    assert algorithm == _RSA_ENCRYPTION
    fields[spki] = _der(0x30, _RSASSA_PSS + public_key)
    tbs = _der(0x30, b"".join(fields))
    signature = _signature(signer, signer_pss, tbs)
    return x509.load_der_x509_certificate(
        _der(0x30, tbs + signature_algorithm + _der(0x03, b"\x00" + signature))
    )


def _signature(key: PrivateKey, rsa_pss: bool, data: bytes) -> bytes:
    """What ``_sign`` would sign ``data`` with: the same key, hash and padding."""
    algorithm = _hash_for(key)
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return key.sign(data)
    assert algorithm is not None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm))
    if rsa_pss:
        return key.sign(
            data, padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size), algorithm
        )
    return key.sign(data, padding.PKCS1v15(), algorithm)


def _pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join([f"-----BEGIN {label}-----".encode(), *lines, f"-----END {label}-----".encode(), b""])
