"""Key shares and shared secrets (RFC 8446 §4.2.8, §7.4) against RFC 7748 and RFC 8448 values,
and X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem-01 §3.1) against cryptography's ML-KEM and FIPS 203.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlslab.client import DEFAULT_GROUPS
from tlslab.constants import NamedGroup
from tlslab.course.rfc8448 import trace
from tlslab.errors import HandshakeFailure, IllegalParameter, InternalError
from tlslab.keyexchange import (
    ALL_GROUPS,
    CLIENT_SHARE_LENGTHS,
    MLKEM_UNAVAILABLE,
    SERVER_SHARE_LENGTHS,
    SUPPORTED_GROUPS,
    generate_key_share,
    respond_to_key_share,
)

try:
    from cryptography.hazmat.primitives.asymmetric import mlkem
except ImportError:  # cryptography < 47: the hybrid tests skip
    mlkem = None

G = NamedGroup
needs_mlkem = pytest.mark.skipif(MLKEM_UNAVAILABLE is not None, reason=f"no ML-KEM: {MLKEM_UNAVAILABLE}")

# RFC 7748 §5.2: (scalar, input u-coordinate, output u-coordinate).
RFC7748_FUNCTION = [
    (
        G.x25519,
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ),
    (
        G.x25519,
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    ),
    (
        G.x448,
        "3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3",
        "06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086",
        "ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f",
    ),
]

# RFC 7748 §6.1 / §6.2: Alice's private, Alice's public, Bob's private, Bob's public, shared K.
RFC7748_DH = [
    (
        G.x25519,
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    ),
    (
        G.x448,
        "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
        "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0",
        "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
        "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609",
        "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d",
    ),
]


@pytest.mark.parametrize(("group", "scalar", "u_in", "u_out"), RFC7748_FUNCTION)
def test_rfc7748_function_vectors(group: NamedGroup, scalar: str, u_in: str, u_out: str) -> None:
    share = generate_key_share(group, bytes.fromhex(scalar))
    assert share.exchange(bytes.fromhex(u_in)).hex() == u_out


@pytest.mark.parametrize(("group", "a_priv", "a_pub", "b_priv", "b_pub", "shared"), RFC7748_DH)
def test_rfc7748_diffie_hellman(
    group: NamedGroup, a_priv: str, a_pub: str, b_priv: str, b_pub: str, shared: str
) -> None:
    alice = generate_key_share(group, bytes.fromhex(a_priv))
    bob = generate_key_share(group, bytes.fromhex(b_priv))
    assert alice.public.hex() == a_pub
    assert bob.public.hex() == b_pub
    assert alice.exchange(bob.public).hex() == shared
    assert bob.exchange(alice.public).hex() == shared


def test_rfc8448_simple_1rtt_x25519() -> None:
    t = trace("simple_1rtt")
    client = generate_key_share(G.x25519, t["client_ephemeral_x25519_private_key"])
    assert client.public == t["client_ephemeral_x25519_public_key"]
    assert client.exchange(t["server_ephemeral_x25519_public_key"]) == t["ecdhe_shared_secret"]
    server = generate_key_share(G.x25519, t["server_ephemeral_x25519_private_key"])
    assert server.exchange(client.public) == t["ecdhe_shared_secret"]


def test_rfc8448_hrr_p256() -> None:
    t = trace("hrr")
    client = generate_key_share(G.secp256r1, t["client_ephemeral_p256_private_key"])
    assert client.public == t["client_ephemeral_p256_public_key"]
    assert client.exchange(t["server_ephemeral_p256_public_key"]) == t["ecdhe_shared_secret"]
    server = generate_key_share(G.secp256r1, t["server_ephemeral_p256_private_key"])
    assert server.exchange(client.public) == t["ecdhe_shared_secret"]


@pytest.mark.parametrize("group", SUPPORTED_GROUPS, ids=lambda g: g.name)
def test_two_generated_shares_agree(group: NamedGroup) -> None:
    a, b = generate_key_share(group), generate_key_share(group)
    assert a.group == group
    secret = a.exchange(b.public)
    assert secret == b.exchange(a.public)
    assert len(secret) == {G.x25519: 32, G.x448: 56, G.secp256r1: 32, G.secp384r1: 48, G.secp521r1: 66}[group]


@pytest.mark.parametrize(
    ("group", "curve"),
    [(G.secp256r1, ec.SECP256R1()), (G.secp384r1, ec.SECP384R1()), (G.secp521r1, ec.SECP521R1())],
)
def test_ecdhe_matches_cryptography_directly(group: NamedGroup, curve: ec.EllipticCurve) -> None:
    """§7.4.1: the shared secret is the X coordinate, as cryptography's ECDH computes it."""
    peer = ec.generate_private_key(curve)
    ours = generate_key_share(group)
    peer_public = peer.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    theirs = ec.EllipticCurvePublicKey.from_encoded_point(curve, ours.public)
    assert ours.exchange(peer_public) == peer.exchange(ec.ECDH(), theirs)


def _off_curve(point: bytes) -> bytes:
    return point[:-1] + bytes([point[-1] ^ 1])


@pytest.mark.parametrize(
    ("group", "bad", "reason"),
    [
        (G.x25519, bytes(31), "x25519 key_exchange must be 32 bytes, got 31"),
        (G.x25519, bytes(32), "x25519 shared secret is all zeros (peer sent a low-order point)"),
        # RFC 7748 / Curve25519 low-order point of order 8
        (
            G.x25519,
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            "x25519 shared secret is all zeros (peer sent a low-order point)",
        ),
        (G.x448, bytes(55), "x448 key_exchange must be 56 bytes, got 55"),
        (G.x448, bytes(56), "x448 shared secret is all zeros (peer sent a low-order point)"),
        (G.secp256r1, b"", "secp256r1 key_exchange must be an uncompressed point of 65 bytes"),
        (G.secp256r1, b"\x04" + bytes(64), "secp256r1 key_exchange is not a point on the curve"),
    ],
)
def test_invalid_peer_shares_are_illegal_parameter(group: NamedGroup, bad: bytes, reason: str) -> None:
    with pytest.raises(IllegalParameter) as info:
        generate_key_share(group).exchange(bad)
    assert info.value.reason.startswith(reason)


@pytest.mark.parametrize("group", [G.secp256r1, G.secp384r1, G.secp521r1], ids=lambda g: g.name)
def test_ec_point_checks(group: NamedGroup) -> None:
    ours, theirs = generate_key_share(group), generate_key_share(group)
    with pytest.raises(IllegalParameter, match="not a point on the curve"):
        ours.exchange(_off_curve(theirs.public))
    compressed = bytes([2 + (theirs.public[-1] & 1)]) + theirs.public[1 : 1 + (len(theirs.public) - 1) // 2]
    with pytest.raises(IllegalParameter, match="uncompressed point"):
        ours.exchange(compressed)  # §4.2.8.2: only the uncompressed form is allowed
    with pytest.raises(IllegalParameter, match="uncompressed point"):
        ours.exchange(theirs.public + b"\x00")


def test_unsupported_group_is_handshake_failure() -> None:
    with pytest.raises(HandshakeFailure, match="ffdhe2048"):
        generate_key_share(G.ffdhe2048)
    with pytest.raises(HandshakeFailure, match="unknown group 0x1234"):
        generate_key_share(0x1234)


def test_default_groups() -> None:
    """The hybrid is opt-in: neither the package default nor the client's default offers it."""
    assert SUPPORTED_GROUPS == (G.x25519, G.secp256r1, G.secp384r1, G.secp521r1, G.x448)
    assert G.X25519MLKEM768 not in SUPPORTED_GROUPS and G.X25519MLKEM768 not in DEFAULT_GROUPS
    assert (G.X25519MLKEM768 in ALL_GROUPS) == (MLKEM_UNAVAILABLE is None)


def test_share_lengths() -> None:
    """RFC 8446 §4.2.8.2 and draft-ietf-tls-ecdhe-mlkem-01 §3.1.1, §3.1.2."""
    assert CLIENT_SHARE_LENGTHS == {
        G.x25519: 32,
        G.x448: 56,
        G.secp256r1: 65,
        G.secp384r1: 97,
        G.secp521r1: 133,
        G.X25519MLKEM768: 1184 + 32,
    }
    assert SERVER_SHARE_LENGTHS == {**CLIENT_SHARE_LENGTHS, G.X25519MLKEM768: 1088 + 32}


# --------------------------------------------------------------------------- the server's side


def test_respond_rfc8448_x25519() -> None:
    """The server's side replays RFC 8448 §3: its public value and the shared secret."""
    t = trace("simple_1rtt")
    server_public, secret = respond_to_key_share(
        G.x25519, t["client_ephemeral_x25519_public_key"], t["server_ephemeral_x25519_private_key"]
    )
    assert server_public == t["server_ephemeral_x25519_public_key"]
    assert secret == t["ecdhe_shared_secret"]


def test_respond_rfc8448_p256() -> None:
    t = trace("hrr")
    server_public, secret = respond_to_key_share(
        G.secp256r1, t["client_ephemeral_p256_public_key"], t["server_ephemeral_p256_private_key"]
    )
    assert server_public == t["server_ephemeral_p256_public_key"]
    assert secret == t["ecdhe_shared_secret"]


@pytest.mark.parametrize("group", SUPPORTED_GROUPS, ids=lambda g: g.name)
def test_respond_classic_groups(group: NamedGroup) -> None:
    client = generate_key_share(group)
    server_public, secret = respond_to_key_share(group, client.public)
    assert len(server_public) == SERVER_SHARE_LENGTHS[group]
    assert client.exchange(server_public) == secret


@pytest.mark.parametrize(
    ("group", "bad", "reason"),
    [
        (G.x25519, bytes(33), "x25519 key_exchange must be 32 bytes, got 33"),
        (G.x25519, bytes(32), "x25519 shared secret is all zeros"),
        (G.secp384r1, b"\x04" + bytes(96), "secp384r1 key_exchange is not a point on the curve"),
        (G.X25519MLKEM768, bytes(1215), "X25519MLKEM768 client key_exchange must be 1216 bytes, got 1215"),
        (G.X25519MLKEM768, bytes(1217), "X25519MLKEM768 client key_exchange must be 1216 bytes, got 1217"),
        (G.X25519MLKEM768, bytes(1120), "X25519MLKEM768 client key_exchange must be 1216 bytes, got 1120"),
        (G.X25519MLKEM768, b"", "X25519MLKEM768 client key_exchange must be 1216 bytes, got 0"),
    ],
)
def test_respond_refuses_bad_client_shares(group: NamedGroup, bad: bytes, reason: str) -> None:
    if group == G.X25519MLKEM768 and MLKEM_UNAVAILABLE:
        pytest.skip(MLKEM_UNAVAILABLE)
    with pytest.raises(IllegalParameter) as info:
        respond_to_key_share(group, bad)
    assert info.value.reason.startswith(reason)


def test_respond_unsupported_group_is_handshake_failure() -> None:
    with pytest.raises(HandshakeFailure, match="ffdhe2048"):
        respond_to_key_share(G.ffdhe2048, bytes(256))
    with pytest.raises(HandshakeFailure, match="unknown group 0x1234"):
        respond_to_key_share(0x1234, b"")


def _hybrid_server(client_public: bytes) -> tuple[bytes, bytes]:
    """The server side of X25519MLKEM768, written with cryptography: (server share, shared secret)."""
    assert len(client_public) == 1184 + 32
    kem_public = mlkem.MLKEM768PublicKey.from_public_bytes(client_public[:1184])
    kem_secret, ciphertext = kem_public.encapsulate()
    dh = x25519.X25519PrivateKey.generate()
    dh_secret = dh.exchange(x25519.X25519PublicKey.from_public_bytes(client_public[1184:]))
    return ciphertext + dh.public_key().public_bytes_raw(), kem_secret + dh_secret


@needs_mlkem
def test_x25519mlkem768_round_trip() -> None:
    client = generate_key_share(G.X25519MLKEM768)
    server_share, server_secret = _hybrid_server(client.public)
    assert len(server_share) == 1088 + 32
    assert len(server_secret) == 64
    assert client.exchange(server_share) == server_secret


@needs_mlkem
def test_x25519mlkem768_injected_private_key() -> None:
    seed, dh = bytes(range(64)), bytes(range(64, 96))
    share = generate_key_share(G.X25519MLKEM768, seed + dh)
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
    assert share.public[:1184] == kem.public_key().public_bytes_raw()
    assert (
        share.public[1184:] == x25519.X25519PrivateKey.from_private_bytes(dh).public_key().public_bytes_raw()
    )


@needs_mlkem
def test_x25519mlkem768_refuses_bad_server_shares() -> None:
    client = generate_key_share(G.X25519MLKEM768)
    server_share, _ = _hybrid_server(client.public)
    with pytest.raises(IllegalParameter, match="must be 1120 bytes, got 1119"):
        client.exchange(server_share[:-1])
    with pytest.raises(IllegalParameter, match="all zeros"):
        client.exchange(server_share[:1088] + bytes(32))


# --------------------------------------------------------------------------- X25519MLKEM768, server side


def _cryptography_client() -> tuple[object, x25519.X25519PrivateKey, bytes]:
    """A hybrid client share built with cryptography alone (§3.1.1: ML-KEM key first)."""
    kem, dh = mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate()
    share = kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
    return kem, dh, share


@needs_mlkem
def test_x25519mlkem768_respond_against_cryptography() -> None:
    """§3.1.2/§3.1.3: ciphertext || X25519 public; secret = ML-KEM secret || X25519 secret."""
    kem, dh, client_share = _cryptography_client()
    server_share, secret = respond_to_key_share(G.X25519MLKEM768, client_share)
    assert (len(client_share), len(server_share), len(secret)) == (1216, 1120, 64)
    ciphertext, server_x25519 = server_share[:1088], server_share[1088:]
    assert secret[:32] == kem.decapsulate(ciphertext)
    assert secret[32:] == dh.exchange(x25519.X25519PublicKey.from_public_bytes(server_x25519))


@needs_mlkem
def test_x25519mlkem768_respond_injected_x25519_key() -> None:
    _, _, client_share = _cryptography_client()
    dh = bytes(range(100, 132))
    server_share, _ = respond_to_key_share(G.X25519MLKEM768, client_share, dh)
    expected = x25519.X25519PrivateKey.from_private_bytes(dh).public_key().public_bytes_raw()
    assert server_share[1088:] == expected


@needs_mlkem
def test_x25519mlkem768_client_and_server_agree() -> None:
    client = generate_key_share(G.X25519MLKEM768)
    server_share, secret = respond_to_key_share(G.X25519MLKEM768, client.public)
    assert client.exchange(server_share) == secret


def _with_coefficient(ek: bytes, value: int) -> bytes:
    """``ek`` with its first polynomial coefficient set to ``value`` (FIPS 203 ByteEncode_12)."""
    b0, b1 = value & 0xFF, (ek[1] & 0xF0) | (value >> 8)
    return bytes([b0, b1]) + ek[2:]


@needs_mlkem
def test_x25519mlkem768_encapsulation_key_check() -> None:
    """§3.1.2: FIPS 203 §7.2 modulus check: every 12-bit coefficient must be < q = 3329."""
    _, _, client_share = _cryptography_client()
    ek, rest = client_share[:1184], client_share[1184:]
    respond_to_key_share(G.X25519MLKEM768, _with_coefficient(ek, 3328) + rest)  # q - 1: fine
    for value in (3329, 4095):
        with pytest.raises(IllegalParameter, match=r"invalid ML-KEM-768 encapsulation key"):
            respond_to_key_share(G.X25519MLKEM768, _with_coefficient(ek, value) + rest)


@needs_mlkem
def test_x25519mlkem768_client_low_order_x25519() -> None:
    """§3.1.2: the X25519 half gets the RFC 8446 §7.4.2 all-zero check."""
    _, _, client_share = _cryptography_client()
    with pytest.raises(IllegalParameter, match="all zeros"):
        respond_to_key_share(G.X25519MLKEM768, client_share[:1184] + bytes(32))


@needs_mlkem
def test_x25519mlkem768_tampered_ciphertext_implicit_rejection() -> None:
    """A forged ciphertext still decapsulates, to J(z || c) (FIPS 203 Alg. 18), not the server's secret."""
    seed, dh = bytes(range(64)), bytes(range(64, 96))
    client = generate_key_share(G.X25519MLKEM768, seed + dh)
    server_share, server_secret = respond_to_key_share(G.X25519MLKEM768, client.public)
    forged = bytes([server_share[0] ^ 0x01]) + server_share[1:]
    secret = client.exchange(forged)
    assert len(secret) == 64 and secret != server_secret
    assert secret[32:] == server_secret[32:]  # the X25519 half is untouched
    z = seed[32:]  # the seed is d || z (FIPS 203 §7.1 ML-KEM.KeyGen_internal(d, z))
    assert secret[:32] == hashlib.shake_256(z + forged[:1088]).digest(32)
    assert client.exchange(forged) == secret  # deterministic: no error leaks to an attacker


@needs_mlkem
def test_x25519mlkem768_decapsulation_failure_is_internal_error() -> None:
    """§3.1.2: decapsulation failing for a reason other than the length is internal_error."""

    class Broken:
        def decapsulate(self, ciphertext: bytes) -> bytes:
            raise ValueError("simulated backend failure")

    client = generate_key_share(G.X25519MLKEM768)
    server_share, _ = respond_to_key_share(G.X25519MLKEM768, client.public)
    client._private.mlkem = Broken()
    with pytest.raises(InternalError, match="decapsulation failed"):
        client.exchange(server_share)


NO_MLKEM_MODULE = """
import cryptography.x509  # cryptography's own modules load first (they import mlkem)
from cryptography.hazmat.primitives import asymmetric
del asymmetric.mlkem  # then "from ...asymmetric import mlkem" fails, as before 47.0.0
sys.modules["cryptography.hazmat.primitives.asymmetric.mlkem"] = None
"""
NO_MLKEM_BACKEND = """
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import mlkem
def generate():  # as on a cryptography >= 47 built against a library without ML-KEM
    raise UnsupportedAlgorithm("ML-KEM-768 is not supported by this backend")
mlkem.MLKEM768PrivateKey.generate = generate
"""


@pytest.mark.parametrize(
    ("setup", "reason"),
    [(NO_MLKEM_MODULE, "has no ML-KEM (it arrived in 47.0.0)"), (NO_MLKEM_BACKEND, "built without ML-KEM")],
    ids=["cryptography<47", "backend-without-mlkem"],
)
def test_without_mlkem_tlslab_still_imports(setup: str, reason: str) -> None:
    """No ML-KEM: tlslab imports, the hybrid is left out of ALL_GROUPS and fails with a clear error."""
    script = (
        "import sys\n"
        + setup
        + textwrap.dedent(
            """
        import tlslab, tlslab.client, tlslab.server, tlslab.cli
        from tlslab.constants import NamedGroup as G
        from tlslab.errors import HandshakeFailure
        from tlslab import keyexchange as kx
        assert G.X25519MLKEM768 not in kx.ALL_GROUPS and kx.HYBRID_GROUPS == ()
        assert kx.ALL_GROUPS == kx.SUPPORTED_GROUPS
        print(kx.MLKEM_UNAVAILABLE)
        for call in (lambda: kx.generate_key_share(G.X25519MLKEM768),
                     lambda: kx.respond_to_key_share(G.X25519MLKEM768, bytes(1216))):
            try:
                call()
            except HandshakeFailure as err:
                print(err.reason)
        print(len(kx.respond_to_key_share(G.x25519, kx.generate_key_share(G.x25519).public)[1]))
        """
        )
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert reason in lines[0]
    assert lines[1] == lines[2] == f"X25519MLKEM768 is not available: {lines[0]}"
    assert lines[3] == "32"
