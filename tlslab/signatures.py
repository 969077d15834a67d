"""Signature schemes and the CertificateVerify signature (RFC 8446 §4.2.3, §4.4.3).

A TLS 1.3 server proves it holds the private key of its certificate by signing
the handshake transcript hash (§4.4.3). The signed content is not the hash
alone: it is 64 spaces, a context string naming the role, a zero byte, then
the hash, so that a signature made for one purpose (a TLS 1.2 ServerKeyExchange,
a client CertificateVerify) cannot be replayed as another.

Which schemes fit which key (§4.2.3):

* ``ecdsa_secp{256,384,521}r1_sha{256,384,512}``: an EC key *on that curve*
  (in TLS 1.3 the curve is part of the scheme), DER-encoded ECDSA signature.
* ``rsa_pss_rsae_sha{256,384,512}``: an RSA key whose SubjectPublicKeyInfo says
  rsaEncryption; RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
* ``rsa_pss_pss_sha{256,384,512}``: the same signature, but the key's SPKI says
  id-RSASSA-PSS (RFC 4055).
* ``ed25519`` / ``ed448``: EdDSA (RFC 8032).
* ``rsa_pkcs1_*`` and the SHA-1 schemes exist only for certificates and older
  TLS: "MUST NOT be offered/used in CertificateVerify" (§4.2.3, §4.4.3).

rsae or pss? cryptography 48 loads an id-RSASSA-PSS key as a plain
``RSAPublicKey``: once loaded, the two kinds look the same. The difference
survives only in the certificate: ``cert.public_key_algorithm_oid``. So
``verify_signature`` and ``schemes_for_key`` take either a public key or the
``x509.Certificate`` it came from. Given a certificate, its SPKI OID decides;
given a bare RSA key, we assume rsaEncryption (by far the common case) and
refuse ``rsa_pss_pss_*``. Callers checking a peer's CertificateVerify should
pass the leaf certificate. (We do not enforce the hash restriction an RSA-PSS
SPKI may carry in its parameters: a simplification.)
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import PublicKeyAlgorithmOID

from .constants import SignatureScheme, name_of
from .errors import DecryptError, IllegalParameter, InternalError, UnsupportedCertificate

S = SignatureScheme
_PRIVATE_KEY_TYPES = (
    ec.EllipticCurvePrivateKey,
    rsa.RSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)
PublicKey: TypeAlias = (
    ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
PrivateKey: TypeAlias = (
    ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)

# What the client offers in signature_algorithms, most preferred first: EdDSA and
# ECDSA (small, fast), then RSA-PSS with rsaEncryption keys (most web servers), then
# RSA-PSS keys. No PKCS#1 v1.5 and no SHA-1: §4.2.3 forbids them in CertificateVerify.
SUPPORTED_SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (
    S.ed25519,
    S.ecdsa_secp256r1_sha256,
    S.ecdsa_secp384r1_sha384,
    S.ecdsa_secp521r1_sha512,
    S.ed448,
    S.rsa_pss_rsae_sha256,
    S.rsa_pss_rsae_sha384,
    S.rsa_pss_rsae_sha512,
    S.rsa_pss_pss_sha256,
    S.rsa_pss_pss_sha384,
    S.rsa_pss_pss_sha512,
)

# §4.4.3: "server" and "client" CertificateVerify context strings.
_CONTEXT = {True: b"TLS 1.3, server CertificateVerify", False: b"TLS 1.3, client CertificateVerify"}

_ECDSA: dict[SignatureScheme, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, str]] = {
    S.ecdsa_secp256r1_sha256: (ec.SECP256R1, hashes.SHA256(), "P-256"),
    S.ecdsa_secp384r1_sha384: (ec.SECP384R1, hashes.SHA384(), "P-384"),
    S.ecdsa_secp521r1_sha512: (ec.SECP521R1, hashes.SHA512(), "P-521"),
}
_RSAE = {
    S.rsa_pss_rsae_sha256: hashes.SHA256(),
    S.rsa_pss_rsae_sha384: hashes.SHA384(),
    S.rsa_pss_rsae_sha512: hashes.SHA512(),
}
_PSS = {
    S.rsa_pss_pss_sha256: hashes.SHA256(),
    S.rsa_pss_pss_sha384: hashes.SHA384(),
    S.rsa_pss_pss_sha512: hashes.SHA512(),
}
_FORBIDDEN = {S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha384, S.rsa_pkcs1_sha512, S.rsa_pkcs1_sha1, S.ecdsa_sha1}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def certificate_verify_content(transcript_hash: bytes, *, server: bool = True) -> bytes:
    """The bytes that CertificateVerify signs (§4.4.3).

    64 octets of 0x20, the context string, a single 0x00, then
    Transcript-Hash(Handshake Context, Certificate).
    """
    return b"\x20" * 64 + _CONTEXT[server] + b"\x00" + bytes(transcript_hash)


def verify_signature(
    public_key: PublicKey | x509.Certificate,
    scheme: int,
    signature: bytes,
    data: bytes,
    *,
    signer: str = "peer",
) -> None:
    """Check that ``signature`` over ``data`` was made with ``scheme`` by ``public_key``.

    Args:
        public_key: the signer's public key, or its certificate (needed to accept
            ``rsa_pss_pss_*``: see the module docstring).
        scheme: the SignatureScheme code point from the CertificateVerify.
        signature: the signature bytes.
        data: the signed content, usually ``certificate_verify_content(...)``.
        signer: who signed, for error messages ("server", "client").

    Raises:
        IllegalParameter: the scheme is unknown, forbidden in TLS 1.3
            CertificateVerify, or does not fit the key.
        UnsupportedCertificate: the certificate's key is of a kind cryptography cannot load.
        DecryptError: the signature does not verify (§4.4.3).
    """
    key, spki_is_pss = _key_and_spki(public_key)
    scheme = _usable_scheme(key, spki_is_pss, scheme, signer)
    try:
        _verify(key, scheme, bytes(signature), bytes(data))
    except InvalidSignature:
        raise DecryptError("CertificateVerify signature does not verify") from None


def sign(private_key: PrivateKey, scheme: int, data: bytes) -> bytes:
    """Sign ``data`` with ``scheme`` (client certificates, test servers).

    An RSA private key may sign with both ``rsa_pss_rsae_*`` and ``rsa_pss_pss_*``:
    the signature is the same, only the certificate says which it is.

    Raises:
        IllegalParameter: ``scheme`` does not fit ``private_key`` or is forbidden.
    """
    public, scheme = private_key.public_key(), _known_scheme(scheme)
    _usable_scheme(public, isinstance(public, rsa.RSAPublicKey) and scheme in _PSS, scheme, "we")
    # _usable_scheme checked that the key is of the scheme's kind.
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(_ECDSA[scheme][1]))
    if isinstance(private_key, rsa.RSAPrivateKey):
        hash_alg = _RSAE.get(scheme) or _PSS[scheme]
        return private_key.sign(data, _pss(hash_alg), hash_alg)
    return private_key.sign(data)  # Ed25519 / Ed448: the scheme fixes everything


def schemes_for_key(key: PublicKey | PrivateKey | x509.Certificate) -> list[SignatureScheme]:
    """The TLS 1.3 CertificateVerify schemes usable with ``key``, in our preference order."""
    public: CertificatePublicKeyTypes
    if isinstance(key, x509.Certificate):
        public, spki_is_pss = _key_and_spki(key)
    else:
        public = key.public_key() if isinstance(key, _PRIVATE_KEY_TYPES) else key
        spki_is_pss = False
    usable = []
    for scheme in SUPPORTED_SIGNATURE_SCHEMES:
        try:
            _usable_scheme(public, spki_is_pss, scheme)
        except IllegalParameter:
            continue
        usable.append(scheme)
    return usable


def _key_and_spki(key_or_cert: PublicKey | x509.Certificate) -> tuple[CertificatePublicKeyTypes, bool]:
    """The public key (of any kind a certificate may hold), and whether its SPKI algorithm is id-RSASSA-PSS."""
    if isinstance(key_or_cert, x509.Certificate):
        try:
            spki_is_pss = key_or_cert.public_key_algorithm_oid == PublicKeyAlgorithmOID.RSASSA_PSS
            return key_or_cert.public_key(), spki_is_pss
        except (UnsupportedAlgorithm, ValueError) as exc:
            # A DSA/GOST/unknown or malformed key cannot sign any TLS 1.3 scheme (§4.2.3).
            raise UnsupportedCertificate(
                f"certificate key cannot sign a TLS 1.3 CertificateVerify: {exc}"
            ) from None
    return key_or_cert, False


def _known_scheme(scheme: int) -> SignatureScheme:
    try:
        return SignatureScheme(scheme)
    except ValueError:
        raise IllegalParameter(f"unknown signature scheme {name_of(SignatureScheme, scheme)}") from None


def _usable_scheme(
    key: CertificatePublicKeyTypes, spki_is_pss: bool, scheme: int, signer: str = "peer"
) -> SignatureScheme:
    """``scheme`` as a SignatureScheme if it may sign a CertificateVerify with ``key``."""
    scheme = _known_scheme(scheme)
    if scheme in _FORBIDDEN:
        raise IllegalParameter(
            f"{scheme.name} is not allowed in a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3)"
        )
    if scheme in _ECDSA:
        curve_cls = _ECDSA[scheme][0]
        fits = isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, curve_cls)
    elif scheme in _RSAE:
        fits = isinstance(key, rsa.RSAPublicKey) and not spki_is_pss
    elif scheme in _PSS:
        fits = isinstance(key, rsa.RSAPublicKey) and spki_is_pss
    elif scheme == S.ed25519:
        fits = isinstance(key, ed25519.Ed25519PublicKey)
    elif scheme == S.ed448:
        fits = isinstance(key, ed448.Ed448PublicKey)
    else:
        fits = True
    if not fits:
        raise IllegalParameter(
            f"{signer} signed with {scheme.name} but its key is {_describe(key, spki_is_pss)}"
        )
    return scheme


def _describe(key: CertificatePublicKeyTypes, spki_is_pss: bool) -> str:
    """A short name for a key, for error messages: "P-256", "RSA (rsaEncryption)"."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _CURVE_NAMES.get(key.curve.name, key.curve.name)
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size} ({'id-RSASSA-PSS' if spki_is_pss else 'rsaEncryption'})"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def _pss(hash_alg: hashes.HashAlgorithm) -> padding.PSS:
    # §4.2.3: "The length of the Salt MUST be equal to the length of the output of
    # the digest algorithm"; MGF1 uses the same hash.
    return padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)


def _verify(key: CertificatePublicKeyTypes, scheme: SignatureScheme, signature: bytes, data: bytes) -> None:
    """Verify with ``key``, which ``_usable_scheme`` found to be of ``scheme``'s kind."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(_ECDSA[scheme][1]))
    elif isinstance(key, rsa.RSAPublicKey):
        hash_alg = _RSAE.get(scheme) or _PSS[scheme]
        key.verify(signature, data, _pss(hash_alg), hash_alg)
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key.verify(signature, data)
    else:
        raise InternalError(f"tlslab bug: {type(key).__name__} passed the signature scheme check")
