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
key and would encode it as rsaEncryption. So for this kind we generate the key
with ``openssl genpkey -algorithm RSA-PSS`` and keep openssl's PKCS#8 PEM
(``Issued.key_pem()`` returns it). A certificate for such a key is built by
cryptography as a template signed by the key itself, then re-signed by
``openssl x509 -force_pubkey <pss key> -CA <issuer>`` so that its SPKI says
RSASSA-PSS. An rsa-pss *issuer* signs with RSASSA-PSS padding. Without the
``openssl`` command these raise ``RuntimeError`` saying so. Limitation: openssl
3.0 checks the template's validity dates, so an rsa-pss certificate must be
valid now (use another key kind for expired or future certificates).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
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

_CURVES = {"ecdsa-p256": ec.SECP256R1, "ecdsa-p384": ec.SECP384R1, "ecdsa-p521": ec.SECP521R1}
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

    ``pkcs8`` holds openssl's own PEM for ``rsa-pss`` keys (cryptography cannot
    write an id-RSASSA-PSS key); ``key_pem()`` prefers it.
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

    For ``rsa-pss`` the result is the RSA key openssl made; cryptography forgets
    that it was an RSA-PSS key, so use ``issue(key_kind="rsa-pss")`` for certificates.
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
    if pkcs8 is not None:  # rsa-pss subject: openssl writes the final certificate
        if not start <= _now() <= end:
            raise ValueError(
                "rsa-pss certificates must be valid now (openssl x509 checks the template's dates)"
            )
        # the template is self-signed; openssl sets the real issuer name
        cert = _openssl_pss_certificate(
            builder.issuer_name(subject), key, pkcs8, None if self_signed else issuer
        )
        return Issued(cert, key, pkcs8)
    if self_signed:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(public)
        return Issued(_sign(builder.issuer_name(subject).add_extension(aki, False), key, rsa_pss=False), key)
    builder = builder.issuer_name(issuer.cert.subject).add_extension(_aki(issuer), False)
    cert = _sign(builder, issuer.key, issuer.is_rsa_pss)
    return Issued(cert, key)


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
        pem = _openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048")
        return serialization.load_pem_private_key(pem, password=None), pem
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


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm | None:
    """The certificate signature hash that matches the issuer's key strength."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None  # EdDSA hashes internally
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
            key.curve.name, hashes.SHA256()
        )
    return hashes.SHA256()


def _sign(builder: x509.CertificateBuilder, key: PrivateKey, rsa_pss: bool) -> x509.Certificate:
    algorithm = _hash_for(key)
    if rsa_pss:  # an id-RSASSA-PSS key may only make RSASSA-PSS signatures (RFC 4055 §1.2)
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        return builder.sign(key, algorithm, rsa_padding=pss)
    return builder.sign(key, algorithm)


def _openssl(*args: str, cwd: str | None = None) -> bytes:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("rsa-pss keys need the openssl command (cryptography cannot write RSA-PSS keys)")
    result = subprocess.run([exe, *args], capture_output=True, cwd=cwd, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _openssl_pss_certificate(
    builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, pkcs8: bytes, issuer: Issued | None
) -> x509.Certificate:
    """Re-sign a template with ``openssl x509 -force_pubkey`` so its SPKI says RSASSA-PSS.

    openssl insists that the input certificate be self-signed, checked with the
    forced RSA-PSS key, so the template is self-signed with PSS padding. openssl
    adds the authorityKeyIdentifier itself.
    """
    template = _sign(builder, key, rsa_pss=True)
    serial = str(template.serial_number)
    with tempfile.TemporaryDirectory(prefix="tlslab-pki-") as tmp:
        Path(tmp, "template.pem").write_bytes(template.public_bytes(serialization.Encoding.PEM))
        Path(tmp, "subject.key").write_bytes(pkcs8)
        common = ["x509", "-in", "template.pem", "-preserve_dates", "-set_serial", serial]
        if issuer is None:
            pem = _openssl(*common, "-key", "subject.key", cwd=tmp)
        else:
            Path(tmp, "issuer.pem").write_bytes(issuer.cert_pem())
            Path(tmp, "issuer.key").write_bytes(issuer.key_pem())
            _openssl("pkey", "-in", "subject.key", "-pubout", "-out", "subject.pub", cwd=tmp)
            digest = _hash_for(issuer.key)
            args = [*common, "-force_pubkey", "subject.pub", "-CA", "issuer.pem", "-CAkey", "issuer.key"]
            pem = _openssl(*args, *([f"-{digest.name}"] if digest else []), cwd=tmp)
    return x509.load_pem_x509_certificate(pem)
