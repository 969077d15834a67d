"""(EC)DHE key exchange: key shares and shared secrets (RFC 8446 §4.2.7, §4.2.8, §7.4).

The client sends one ``KeyShareEntry`` per group it guesses the server will
pick (§4.2.8); the server answers with its own share for one of them, and both
sides compute the same shared secret, which becomes the (EC)DHE input of the
key schedule (§7.1). This module owns the bytes of ``key_exchange`` and the
shared secret; the extension framing lives in ``extensions.py``.

Wire formats of ``key_exchange`` (§4.2.8.2):

* x25519 / x448: the raw 32 / 56 byte public value (RFC 7748 §6).
* secp256r1 / secp384r1 / secp521r1: the *uncompressed* point
  ``0x04 || X || Y`` (SEC 1 §2.3.3); §4.2.8.2 allows no other form.
* X25519MLKEM768 (0x11EC, draft-ietf-tls-ecdhe-mlkem-01 §3.1): the client sends
  the ML-KEM-768 encapsulation key (1184 bytes) followed by its X25519 public
  value (32), 1216 bytes in all (§3.1.1); the server encapsulates to that key and
  answers with the ML-KEM ciphertext (1088) followed by its own X25519 public
  value (32), 1120 bytes (§3.1.2). The shared secret is the ML-KEM shared secret
  followed by the X25519 one, 64 bytes (§3.1.3). For this group the ML-KEM part
  comes first everywhere; the NIST-curve hybrids of the same draft put the ECDH
  part first, and a swapped order silently breaks the key schedule.

Shared secrets (§7.4): for the NIST curves it is the X coordinate of the ECDH
point, as a fixed-length octet string (§7.4.1); for x25519/x448 it is the
RFC 7748 function output, and an all-zero result must be refused (§7.4.2),
because it means the peer sent a low-order point.

Two sides, two functions. Diffie-Hellman is symmetric, so for the classic groups
the server, like the client, calls ``generate_key_share(group).exchange(peer)``.
A KEM is not: the server never makes a key pair, it encapsulates to the client's
key. ``respond_to_key_share(group, client_share)`` is the server's side for every
group and returns ``(server key_exchange bytes, shared secret)``.

ML-KEM needs ``cryptography`` 47.0.0 or later (where ``mlkem.MLKEM768PrivateKey``
was added) built with an OpenSSL/AWS-LC that has ML-KEM. Without it tlslab still
imports; X25519MLKEM768 is left out of ``ALL_GROUPS`` and asking for it raises
``HandshakeFailure`` naming the reason (``MLKEM_UNAVAILABLE`` holds it).

    >>> from tlslab.course.rfc8448 import trace
    >>> t = trace("simple_1rtt")
    >>> share = generate_key_share(NamedGroup.x25519, t["client_ephemeral_x25519_private_key"])
    >>> share.public == t["client_ephemeral_x25519_public_key"]
    True
    >>> share.exchange(t["server_ephemeral_x25519_public_key"]) == t["ecdhe_shared_secret"]
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cryptography
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .constants import NamedGroup
from .errors import HandshakeFailure, IllegalParameter, InternalError

try:  # cryptography >= 47.0.0
    from cryptography.hazmat.primitives.asymmetric import mlkem

    _HAVE_MLKEM_MODULE = True
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    _HAVE_MLKEM_MODULE = False


def _mlkem_unavailable() -> str | None:
    """Why ML-KEM-768 cannot be used here, or None when it can."""
    if not _HAVE_MLKEM_MODULE:
        return f"cryptography {cryptography.__version__} has no ML-KEM (it arrived in 47.0.0)"
    try:
        mlkem.MLKEM768PrivateKey.generate()
    except UnsupportedAlgorithm:
        return f"cryptography {cryptography.__version__} is built without ML-KEM support"
    return None


MLKEM_UNAVAILABLE: str | None = _mlkem_unavailable()

# What the client offers by default, most preferred first (the hybrid is opt-in:
# add NamedGroup.X25519MLKEM768 to the front of a config's groups to use it).
SUPPORTED_GROUPS: tuple[NamedGroup, ...] = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
    NamedGroup.x448,
)
# The post-quantum hybrids this installation can do (none without ML-KEM).
HYBRID_GROUPS: tuple[NamedGroup, ...] = () if MLKEM_UNAVAILABLE else (NamedGroup.X25519MLKEM768,)
ALL_GROUPS: tuple[NamedGroup, ...] = SUPPORTED_GROUPS + HYBRID_GROUPS

_CURVES: dict[NamedGroup, ec.EllipticCurve] = {
    NamedGroup.secp256r1: ec.SECP256R1(),
    NamedGroup.secp384r1: ec.SECP384R1(),
    NamedGroup.secp521r1: ec.SECP521R1(),
}
_MONTGOMERY: dict[NamedGroup, Any] = {
    NamedGroup.x25519: x25519.X25519PrivateKey,
    NamedGroup.x448: x448.X448PrivateKey,
}
_COORDINATE_LEN = {NamedGroup.secp256r1: 32, NamedGroup.secp384r1: 48, NamedGroup.secp521r1: 66}

MLKEM768_ENCAPSULATION_KEY_LEN = 1184
MLKEM768_CIPHERTEXT_LEN = 1088
MLKEM768_SEED_LEN = 64
X25519_LEN = 32
X448_LEN = 56

# Length of each side's key_exchange per group (a strict decoder can use them).
CLIENT_SHARE_LENGTHS: dict[NamedGroup, int] = {
    NamedGroup.x25519: X25519_LEN,
    NamedGroup.x448: X448_LEN,
    **{g: 1 + 2 * n for g, n in _COORDINATE_LEN.items()},
    NamedGroup.X25519MLKEM768: MLKEM768_ENCAPSULATION_KEY_LEN + X25519_LEN,  # 1216
}
SERVER_SHARE_LENGTHS: dict[NamedGroup, int] = {
    **CLIENT_SHARE_LENGTHS,
    NamedGroup.X25519MLKEM768: MLKEM768_CIPHERTEXT_LEN + X25519_LEN,  # 1120
}


@dataclass
class KeyShare:
    """Our half of one key exchange: ``public`` goes on the wire, the private key stays here.

    ``exchange(peer_public)`` takes the peer's ``key_exchange`` bytes and returns
    the shared secret (§7.4). It raises ``IllegalParameter`` if those bytes are
    not a valid share for ``group`` (§4.2.8: "Peers MUST validate").
    """

    group: NamedGroup
    public: bytes
    _private: Any = field(repr=False, compare=False)

    def exchange(self, peer_public: bytes) -> bytes:
        peer_public = bytes(peer_public)
        if self.group in _CURVES:
            return _ecdhe(self.group, self._private, peer_public)
        if self.group == NamedGroup.x25519:
            return _x25519(self._private, peer_public)
        if self.group == NamedGroup.x448:
            return _x448(self._private, peer_public)
        return _hybrid_client(self._private, peer_public)


def generate_key_share(group: NamedGroup | int, private: bytes | None = None) -> KeyShare:
    """A fresh key share for ``group``; ``private`` replays a known key (RFC 8448, tests).

    ``private`` is the raw 32/56 byte key for x25519/x448, the big-endian scalar
    for the NIST curves, and for X25519MLKEM768 the 64-byte ML-KEM seed followed
    by the 32-byte X25519 key.

    Raises:
        HandshakeFailure: tlslab does not implement ``group`` (e.g. ffdhe2048).
    """
    group = _named_group(group)
    if group in _CURVES:
        return _ec_share(group, private)
    if group in _MONTGOMERY:
        cls = _MONTGOMERY[group]
        key = cls.generate() if private is None else _raw(cls, private)
        return KeyShare(group, key.public_key().public_bytes_raw(), key)
    if group == NamedGroup.X25519MLKEM768:
        return _hybrid_share(private)
    raise HandshakeFailure(f"tlslab does not implement key exchange group {group.name}")


def respond_to_key_share(
    group: NamedGroup | int, client_share: bytes, private: bytes | None = None
) -> tuple[bytes, bytes]:
    """The server's side of one key exchange: ``(server key_exchange bytes, shared secret)``.

    For the (EC)DHE groups the server makes a key share exactly as the client does
    and combines it with ``client_share`` (RFC 8446 §4.2.8, §7.4). For
    X25519MLKEM768 it encapsulates to the client's ML-KEM key and does X25519
    (draft-ietf-tls-ecdhe-mlkem-01 §3.1.2, §3.1.3).

    ``private`` replays a known key as for ``generate_key_share``; for
    X25519MLKEM768 it is the server's 32-byte X25519 key only: ML-KEM encapsulation
    draws fresh randomness, which cryptography does not let a caller inject.

    Raises:
        IllegalParameter: ``client_share`` is not a valid share for ``group``: wrong
            length, not a point on the curve, a low-order point, or an ML-KEM
            encapsulation key that fails the FIPS 203 §7.2 check.
        HandshakeFailure: tlslab does not implement ``group`` here.
    """
    group = _named_group(group)
    if group == NamedGroup.X25519MLKEM768:
        return _hybrid_server(bytes(client_share), private)
    share = generate_key_share(group, private)
    return share.public, share.exchange(client_share)


def _named_group(group: NamedGroup | int) -> NamedGroup:
    try:
        return NamedGroup(group)
    except ValueError:
        raise HandshakeFailure(f"unknown group {group:#06x}") from None


def _raw(cls: Any, private: bytes) -> Any:
    try:
        return cls.from_private_bytes(bytes(private))
    except ValueError as exc:
        raise ValueError(f"bad injected private key for {cls.__name__}: {exc}") from None


# --- §7.4.1 ECDHE over the NIST curves -------------------------------------------------------


def _ec_share(group: NamedGroup, private: bytes | None) -> KeyShare:
    curve = _CURVES[group]
    if private is None:
        key = ec.generate_private_key(curve)
    else:
        key = ec.derive_private_key(int.from_bytes(private, "big"), curve)
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return KeyShare(group, public, key)


def _ecdhe(group: NamedGroup, key: ec.EllipticCurvePrivateKey, peer_public: bytes) -> bytes:
    expected = 1 + 2 * _COORDINATE_LEN[group]
    if len(peer_public) != expected or peer_public[0] != 0x04:
        raise IllegalParameter(
            f"{group.name} key_exchange must be an uncompressed point of {expected} bytes "
            f"(got {len(peer_public)} bytes starting {peer_public[:1].hex() or 'empty'})"
        )
    try:  # from_encoded_point checks that the point lies on the curve (§4.2.8.2)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[group], peer_public)
    except ValueError:
        raise IllegalParameter(f"{group.name} key_exchange is not a point on the curve") from None
    # cryptography returns the X coordinate, left-padded to the field size: exactly §7.4.1.
    return key.exchange(ec.ECDH(), peer)


# --- §7.4.2 X25519 and X448 ------------------------------------------------------------------


def _x25519(key: x25519.X25519PrivateKey, peer_public: bytes) -> bytes:
    if len(peer_public) != X25519_LEN:
        raise IllegalParameter(f"x25519 key_exchange must be 32 bytes, got {len(peer_public)}")
    peer = x25519.X25519PublicKey.from_public_bytes(peer_public)
    return _checked_exchange("x25519", lambda: key.exchange(peer))


def _x448(key: x448.X448PrivateKey, peer_public: bytes) -> bytes:
    if len(peer_public) != X448_LEN:
        raise IllegalParameter(f"x448 key_exchange must be 56 bytes, got {len(peer_public)}")
    peer = x448.X448PublicKey.from_public_bytes(peer_public)
    return _checked_exchange("x448", lambda: key.exchange(peer))


def _checked_exchange(name: str, exchange: Callable[[], bytes]) -> bytes:
    # §7.4.2: "MUST check whether the computed Diffie-Hellman shared secret is the
    # all-zero value and abort if so". cryptography (OpenSSL) already refuses that
    # result with ValueError; we keep the explicit check so the rule is visible.
    try:
        shared = exchange()
    except ValueError:
        shared = b""
    if not any(shared):
        raise IllegalParameter(f"{name} shared secret is all zeros (peer sent a low-order point)")
    return shared


# --- X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem-01 §3.1) ---------------------------------------


def _require_mlkem() -> None:
    if MLKEM_UNAVAILABLE:
        raise HandshakeFailure(f"X25519MLKEM768 is not available: {MLKEM_UNAVAILABLE}")


@dataclass
class _HybridPrivate:
    mlkem: mlkem.MLKEM768PrivateKey
    x25519: x25519.X25519PrivateKey


def _hybrid_share(private: bytes | None) -> KeyShare:
    """§3.1.1: the client's share is its encapsulation key || its X25519 public value."""
    _require_mlkem()
    if private is None:
        kem, dh = mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate()
    else:
        if len(private) != MLKEM768_SEED_LEN + X25519_LEN:
            raise ValueError("X25519MLKEM768 private key is a 64-byte ML-KEM seed + 32-byte X25519 key")
        kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:MLKEM768_SEED_LEN])
        dh = _raw(x25519.X25519PrivateKey, private[MLKEM768_SEED_LEN:])
    public = kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
    return KeyShare(NamedGroup.X25519MLKEM768, public, _HybridPrivate(kem, dh))


def _hybrid_server(client_share: bytes, private: bytes | None) -> tuple[bytes, bytes]:
    """§3.1.2, §3.1.3: encapsulate to the client's key, do X25519; ML-KEM first in both outputs."""
    _require_mlkem()
    expected = CLIENT_SHARE_LENGTHS[NamedGroup.X25519MLKEM768]
    if len(client_share) != expected:
        raise IllegalParameter(
            f"X25519MLKEM768 client key_exchange must be {expected} bytes, got {len(client_share)}"
        )
    n = MLKEM768_ENCAPSULATION_KEY_LEN
    ek, peer_x25519 = client_share[:n], client_share[n:]
    try:  # from_public_bytes runs the FIPS 203 §7.2 modulus check that §3.1.2 requires
        kem_public = mlkem.MLKEM768PublicKey.from_public_bytes(ek)
    except ValueError:
        raise IllegalParameter(
            "X25519MLKEM768 client share holds an invalid ML-KEM-768 encapsulation key "
            "(FIPS 203 §7.2 modulus check)"
        ) from None
    dh = x25519.X25519PrivateKey.generate() if private is None else _raw(x25519.X25519PrivateKey, private)
    dh_secret = _x25519(dh, peer_x25519)  # §3.1.2: the RFC 8446 §4.2.8.2 / §7.4.2 checks too
    kem_secret, ciphertext = kem_public.encapsulate()
    return ciphertext + dh.public_key().public_bytes_raw(), kem_secret + dh_secret


def _hybrid_client(private: _HybridPrivate, server_share: bytes) -> bytes:
    """§3.1.2, §3.1.3: decapsulate the ciphertext, do X25519; the ML-KEM secret comes first."""
    expected = SERVER_SHARE_LENGTHS[NamedGroup.X25519MLKEM768]
    if len(server_share) != expected:  # §3.1.2: a wrong ciphertext length is illegal_parameter
        raise IllegalParameter(
            f"X25519MLKEM768 server key_exchange must be {expected} bytes, got {len(server_share)}"
        )
    n = MLKEM768_CIPHERTEXT_LEN
    ciphertext, peer_x25519 = server_share[:n], server_share[n:]
    try:  # a well-sized ciphertext always decapsulates: a forged one gives a pseudorandom secret
        kem_secret = private.mlkem.decapsulate(ciphertext)  # (FIPS 203 implicit rejection)
    except ValueError:  # §3.1.2: "fails for any other reason" -> internal_error
        raise InternalError("ML-KEM-768 decapsulation failed") from None
    return kem_secret + _x25519(private.x25519, peer_x25519)
