"""CertificateVerify signatures (RFC 8446 §4.2.3, §4.4.3): RFC 8448 traces and cryptography as the reference."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from tlslab.constants import SignatureScheme
from tlslab.course.rfc8448 import trace
from tlslab.errors import DecryptError, IllegalParameter, UnsupportedCertificate
from tlslab.lab import pki
from tlslab.signatures import (
    SUPPORTED_SIGNATURE_SCHEMES,
    certificate_verify_content,
    schemes_for_key,
    sign,
    verify_signature,
)
from tlslab.wire import Reader

S = SignatureScheme
DATA = certificate_verify_content(bytes(range(32)))


@pytest.fixture(scope="session")
def keys() -> dict[str, object]:
    """One private key per kind (RSA generation is slow: once per session)."""
    return {
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "rsa": rsa.generate_private_key(65537, 2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }


@pytest.fixture(scope="session")
def pss_cert() -> pki.Issued:
    """A self-signed certificate whose SPKI is id-RSASSA-PSS."""
    return pki.make_ca("RSA-PSS key", key_kind="rsa-pss")


KEY_FOR_SCHEME = {
    S.ecdsa_secp256r1_sha256: "p256",
    S.ecdsa_secp384r1_sha384: "p384",
    S.ecdsa_secp521r1_sha512: "p521",
    S.rsa_pss_rsae_sha256: "rsa",
    S.rsa_pss_rsae_sha384: "rsa",
    S.rsa_pss_rsae_sha512: "rsa",
    S.ed25519: "ed25519",
    S.ed448: "ed448",
}
PSS_SCHEMES = [S.rsa_pss_pss_sha256, S.rsa_pss_pss_sha384, S.rsa_pss_pss_sha512]


def test_content_layout_rfc8446_4_4_3() -> None:
    """§4.4.3: 64 spaces, the context string, a zero byte, the hash (the layout of the RFC's example)."""
    h = b"\x01" * 32
    server = certificate_verify_content(h)
    assert server == bytes.fromhex("20" * 64) + b"TLS 1.3, server CertificateVerify" + b"\x00" + h
    assert certificate_verify_content(h, server=False)[64:] == b"TLS 1.3, client CertificateVerify\x00" + h


@pytest.mark.parametrize("scheme", list(KEY_FOR_SCHEME), ids=lambda s: s.name)
def test_sign_and_verify_every_scheme(keys: dict, scheme: SignatureScheme) -> None:
    key = keys[KEY_FOR_SCHEME[scheme]]
    signature = sign(key, scheme, DATA)
    verify_signature(key.public_key(), scheme, signature, DATA)
    with pytest.raises(DecryptError, match="CertificateVerify signature does not verify"):
        verify_signature(key.public_key(), scheme, signature, DATA[:-1] + b"\x02")
    tampered = signature[:-1] + bytes([signature[-1] ^ 0x01])
    with pytest.raises(DecryptError, match="CertificateVerify signature does not verify"):
        verify_signature(key.public_key(), scheme, tampered, DATA)


@pytest.mark.parametrize("scheme", PSS_SCHEMES, ids=lambda s: s.name)
def test_rsa_pss_pss_schemes_need_a_pss_certificate(pss_cert: pki.Issued, scheme: SignatureScheme) -> None:
    signature = sign(pss_cert.key, scheme, DATA)
    verify_signature(pss_cert.cert, scheme, signature, DATA)
    rsae = {S.rsa_pss_pss_sha256: S.rsa_pss_rsae_sha256, S.rsa_pss_pss_sha384: S.rsa_pss_rsae_sha384}
    rsae[S.rsa_pss_pss_sha512] = S.rsa_pss_rsae_sha512
    with pytest.raises(IllegalParameter, match=r"but its key is RSA-2048 \(id-RSASSA-PSS\)"):
        verify_signature(pss_cert.cert, rsae[scheme], signature, DATA)  # §4.2.3: rsae needs rsaEncryption
    with pytest.raises(IllegalParameter, match=r"but its key is RSA-2048 \(rsaEncryption\)"):
        verify_signature(pss_cert.key.public_key(), scheme, signature, DATA)  # a bare key counts as rsae
    with pytest.raises(DecryptError):
        verify_signature(pss_cert.cert, scheme, signature, DATA + b"!")


def _cryptography_signs(key: object, scheme: SignatureScheme, data: bytes) -> bytes:
    """The reference: cryptography called directly with the parameters §4.2.3 names."""
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
    if scheme.name.startswith("ecdsa"):
        return key.sign(data, ec.ECDSA(h[scheme.name[-3:]]))
    if scheme.name.startswith("rsa_pss"):
        alg = h[scheme.name[-3:]]
        return key.sign(data, padding.PSS(mgf=padding.MGF1(alg), salt_length=alg.digest_size), alg)
    return key.sign(data)


@pytest.mark.parametrize("scheme", list(KEY_FOR_SCHEME), ids=lambda s: s.name)
def test_signature_made_by_cryptography_verifies(keys: dict, scheme: SignatureScheme) -> None:
    key = keys[KEY_FOR_SCHEME[scheme]]
    verify_signature(key.public_key(), scheme, _cryptography_signs(key, scheme, DATA), DATA)


def test_pss_salt_must_equal_hash_length(keys: dict) -> None:
    """§4.2.3: "The length of the Salt MUST be equal to the length of the digest"."""
    key = keys["rsa"]
    long_salt = key.sign(
        DATA, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=64), hashes.SHA256()
    )
    with pytest.raises(DecryptError):
        verify_signature(key.public_key(), S.rsa_pss_rsae_sha256, long_salt, DATA)


def test_pkcs1_signature_is_not_pss(keys: dict) -> None:
    key = keys["rsa"]
    pkcs1 = key.sign(DATA, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(DecryptError):
        verify_signature(key.public_key(), S.rsa_pss_rsae_sha256, pkcs1, DATA)


@pytest.mark.parametrize(
    ("key_name", "scheme", "reason"),
    [
        ("p256", S.ecdsa_secp384r1_sha384, "server signed with ecdsa_secp384r1_sha384 but its key is P-256"),
        ("p384", S.ecdsa_secp256r1_sha256, "server signed with ecdsa_secp256r1_sha256 but its key is P-384"),
        (
            "rsa",
            S.ecdsa_secp256r1_sha256,
            "server signed with ecdsa_secp256r1_sha256 but its key is RSA-2048",
        ),
        ("p256", S.rsa_pss_rsae_sha256, "server signed with rsa_pss_rsae_sha256 but its key is P-256"),
        ("ed25519", S.ed448, "server signed with ed448 but its key is Ed25519"),
        ("ed448", S.ed25519, "server signed with ed25519 but its key is Ed448"),
        ("rsa", S.rsa_pss_pss_sha256, "server signed with rsa_pss_pss_sha256 but its key is RSA-2048"),
        ("rsa", S.rsa_pkcs1_sha256, "rsa_pkcs1_sha256 is not allowed in a TLS 1.3 CertificateVerify"),
        ("rsa", S.rsa_pkcs1_sha1, "rsa_pkcs1_sha1 is not allowed in a TLS 1.3 CertificateVerify"),
        ("p256", S.ecdsa_sha1, "ecdsa_sha1 is not allowed in a TLS 1.3 CertificateVerify"),
        ("p256", 0x0A0A, "unknown signature scheme GREASE(0x0a0a)"),
    ],
)
def test_scheme_that_does_not_fit_is_illegal_parameter(
    keys: dict, key_name: str, scheme: int, reason: str
) -> None:
    key = keys[key_name]
    signature = sign(key, schemes_for_key(key)[0], DATA)
    with pytest.raises(IllegalParameter) as info:
        verify_signature(key.public_key(), scheme, signature, DATA, signer="server")
    assert info.value.reason.startswith(reason)


def test_sign_refuses_mismatched_scheme(keys: dict) -> None:
    with pytest.raises(IllegalParameter, match="we signed with ed25519 but its key is P-256"):
        sign(keys["p256"], S.ed25519, DATA)
    with pytest.raises(IllegalParameter, match="not allowed"):
        sign(keys["rsa"], S.rsa_pkcs1_sha256, DATA)


def test_schemes_for_key(keys: dict, pss_cert: pki.Issued) -> None:
    assert schemes_for_key(keys["p384"]) == [S.ecdsa_secp384r1_sha384]
    assert schemes_for_key(keys["ed448"].public_key()) == [S.ed448]
    assert schemes_for_key(keys["rsa"]) == [
        S.rsa_pss_rsae_sha256,
        S.rsa_pss_rsae_sha384,
        S.rsa_pss_rsae_sha512,
    ]
    assert schemes_for_key(pss_cert.cert) == PSS_SCHEMES
    assert not {S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha1, S.ecdsa_sha1} & set(SUPPORTED_SIGNATURE_SCHEMES)


# --- RFC 8448 ---------------------------------------------------------------------------------


def _first_certificate(message: bytes) -> x509.Certificate:
    """Certificate (§4.4.2): header, context<0..255>, certificate_list<0..2^24-1> of CertificateEntry."""
    r = Reader(message, "Certificate")
    assert r.u8() == 11
    body = r.sub(3)
    body.vector(1)
    entries = body.sub(3)
    cert_data = entries.vector(3, 1)
    entries.vector(2)  # the entry's extensions
    return x509.load_der_x509_certificate(cert_data)


def _certificate_verify(message: bytes) -> tuple[int, bytes]:
    """CertificateVerify (§4.4.3): header, u16 scheme, signature<0..2^16-1>."""
    r = Reader(message, "CertificateVerify")
    assert r.u8() == 15
    body = r.sub(3)
    scheme, signature = body.u16(), body.vector(2)
    body.finish()
    return scheme, signature


def test_rfc8448_simple_1rtt_server_certificate_verify() -> None:
    t = trace("simple_1rtt")
    cert = _first_certificate(t["server_certificate"])
    scheme, signature = _certificate_verify(t["server_certificate_verify"])
    assert scheme == S.rsa_pss_rsae_sha256
    messages = t["client_hello"] + t["server_hello"] + t["encrypted_extensions"] + t["server_certificate"]
    content = certificate_verify_content(hashlib.sha256(messages).digest())
    verify_signature(cert, scheme, signature, content, signer="server")
    verify_signature(cert.public_key(), scheme, signature, content)
    with pytest.raises(DecryptError):  # the client context string must not verify (§4.4.3)
        verify_signature(
            cert,
            scheme,
            signature,
            certificate_verify_content(hashlib.sha256(messages).digest(), server=False),
        )


def test_rfc8448_client_auth_client_certificate_verify() -> None:
    t = trace("client_auth")
    cert = _first_certificate(t["client_certificate"])
    scheme, signature = _certificate_verify(t["client_certificate_verify"])
    names = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate_request",
        "server_certificate",
        "server_certificate_verify",
        "server_finished",
        "client_certificate",
    ]
    transcript = hashlib.sha256(b"".join(t[n] for n in names)).digest()
    verify_signature(
        cert, scheme, signature, certificate_verify_content(transcript, server=False), signer="client"
    )
    with pytest.raises(DecryptError):
        verify_signature(cert, scheme, signature, certificate_verify_content(transcript, server=True))


def test_rfc8448_client_auth_server_certificate_verify() -> None:
    t = trace("client_auth")
    cert = _first_certificate(t["server_certificate"])
    scheme, signature = _certificate_verify(t["server_certificate_verify"])
    names = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate_request",
        "server_certificate",
    ]
    transcript = hashlib.sha256(b"".join(t[n] for n in names)).digest()
    verify_signature(cert, scheme, signature, certificate_verify_content(transcript))


def test_certificate_with_an_unloadable_key_is_unsupported_certificate() -> None:
    """A SubjectPublicKeyInfo cryptography cannot load must end in a TLSError, not UnsupportedAlgorithm.

    The Ed25519 OID 1.3.101.112 in the SPKI becomes the unassigned 1.3.101.114.
    """
    der = pki.issue(None, common_name="x", key_kind="ed25519", self_signed=True).cert.public_bytes(
        Encoding.DER
    )
    oid = bytes.fromhex("06032b6570")
    spki_oid = der.index(oid, der.index(oid) + 1)  # the first is tbsCertificate.signature
    cert = x509.load_der_x509_certificate(der[:spki_oid] + bytes.fromhex("06032b6572") + der[spki_oid + 5 :])
    with pytest.raises(UnsupportedCertificate, match="cannot sign a TLS 1.3 CertificateVerify"):
        verify_signature(cert, SignatureScheme.ed25519, b"sig", b"data")
    with pytest.raises(UnsupportedCertificate):
        schemes_for_key(cert)
