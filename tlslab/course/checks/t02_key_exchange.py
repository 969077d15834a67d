"""Notebook 02, key exchange (RFC 7748): ``decode_scalar``, ``ladder_step``, ``x25519``."""

from __future__ import annotations

import random
from collections.abc import Callable

from tlslab.course.checks.common import _T, _rand_bytes
from tlslab.course.checks.core import Case, Mistake, Task, register

P25519 = 2**255 - 19
A24 = 121665


def decode_scalar_ref(k: bytes) -> int:
    """decodeScalar25519 (RFC 7748 §5): clear bits 0, 1, 2 and 255, set bit 254; little-endian."""
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def ladder_step_ref(x1: int, x2: int, z2: int, x3: int, z3: int, a24: int = A24) -> tuple[int, int, int, int]:
    """One step of the Montgomery ladder (RFC 7748 §5): (x2, z2) doubled, (x3, z3) the sum."""
    p = P25519
    a, b = (x2 + z2) % p, (x2 - z2) % p
    aa, bb = a * a % p, b * b % p
    e = (aa - bb) % p
    c, d = (x3 + z3) % p, (x3 - z3) % p
    da, cb = d * a % p, c * b % p
    x3n = (da + cb) ** 2 % p
    z3n = x1 * (da - cb) ** 2 % p
    return aa * bb % p, e * (aa + a24 * e) % p, x3n, z3n


def _ladder(k: int, u: int, step: Callable[..., tuple[int, int, int, int]] = ladder_step_ref) -> int:
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        x2, z2, x3, z3 = step(x1, x2, z2, x3, z3)
    if swap:
        x2, z2 = x3, z3
    return x2 * pow(z2, P25519 - 2, P25519) % P25519


def x25519_ref(k: bytes, u: bytes) -> bytes:
    """X25519(k, u) (RFC 7748 §5), written out; tests compare it with ``cryptography``."""
    u_int = int.from_bytes(u[:31] + bytes([u[31] & 127]), "little") % P25519
    return _ladder(decode_scalar_ref(k), u_int).to_bytes(32, "little")


def _scalar_cases() -> list[Case]:
    return [
        Case(
            (bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),),
            "RFC 7748 §5.2 scalar 1",
        ),
        Case((_T["client_ephemeral_x25519_private_key"],), "RFC 8448 client private key"),
        Case((bytes(32),), "32 zero bytes"),
        Case((b"\xff" * 32,), "32 bytes 0xff"),
    ]


def _no_clamp(k: bytes) -> int:
    return int.from_bytes(k, "little")


def _clamp_big(k: bytes) -> int:
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "big")


def _clamp_bits(clear_low: bool, clear_top: bool, set_254: bool) -> Callable[[bytes], int]:
    def variant(k: bytes) -> int:
        b = bytearray(k)
        if clear_low:
            b[0] &= 248
        if clear_top:
            b[31] &= 127
        if set_254:
            b[31] |= 64
        return int.from_bytes(b, "little")

    return variant


register(
    Task(
        id="x25519-scalar",
        notebook="02-key-exchange",
        func_name="decode_scalar",
        title="decodeScalar25519 (RFC 7748 §5)",
        reference=decode_scalar_ref,
        fixed=_scalar_cases,
        randomized=lambda rng: [Case((_rand_bytes(rng, 32),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                _no_clamp, "the scalar must be clamped: clear the 3 lowest bits, clear bit 255, set bit 254"
            ),
            Mistake(_clamp_big, "X25519 numbers are little-endian: int.from_bytes(..., 'little')"),
            Mistake(
                _clamp_bits(False, True, True),
                "clear the three lowest bits too (k[0] &= 248): the scalar is a multiple of 8",
            ),
            Mistake(_clamp_bits(True, False, True), "clear the top bit, bit 255 (k[31] &= 127)"),
            Mistake(
                _clamp_bits(True, True, False),
                "set bit 254 (k[31] |= 64): every scalar has the same highest bit",
            ),
        ],
        hints=(
            "Three operations on a copy of the bytes, then read them as one number.",
            "RFC 7748 §5, decodeScalar25519.",
            "b = bytearray(k); b[0] &= 248; b[31] &= 127; b[31] |= 64; return int.from_bytes(b, 'little')",
        ),
    )
)


def _ladder_random(rng: random.Random) -> list[Case]:
    return [Case(tuple(rng.randrange(P25519) for _ in range(5)), f"random {i + 1}", False) for i in range(6)]


def _step_unreduced(x1: int, x2: int, z2: int, x3: int, z3: int) -> tuple[int, int, int, int]:
    a, b = x2 + z2, x2 - z2
    aa, bb = a * a, b * b
    e = aa - bb
    c, d = x3 + z3, x3 - z3
    da, cb = d * a, c * b
    return aa * bb, e * (aa + A24 * e), (da + cb) ** 2, x1 * (da - cb) ** 2


def _step_swapped(*args: int) -> tuple[int, int, int, int]:
    x2, z2, x3, z3 = ladder_step_ref(*args)
    return x3, z3, x2, z2


def _step_z3_plus(x1: int, x2: int, z2: int, x3: int, z3: int) -> tuple[int, int, int, int]:
    x2n, z2n, x3n, _ = ladder_step_ref(x1, x2, z2, x3, z3)
    a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
    c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
    return x2n, z2n, x3n, x1 * (d * a + c * b) ** 2 % P25519


register(
    Task(
        id="x25519-ladder-step",
        notebook="02-key-exchange",
        func_name="ladder_step",
        title="one Montgomery ladder step (RFC 7748 §5)",
        reference=lambda *a: ladder_step_ref(*a),
        fixed=lambda: [
            Case((9, 1, 0, 9, 1), "first step from u = 9: (x2, z2, x3, z3) = (1, 0, 9, 1)"),
            Case((9, 9, 1, 1, 0), "the same after a swap"),
        ],
        randomized=_ladder_random,
        mistakes=[
            Mistake(
                lambda *a: ladder_step_ref(*a, a24=121666),
                "a24 is 121665 = (486662 - 2) / 4 in RFC 7748 §5; yours uses 121666",
            ),
            Mistake(
                _step_unreduced, "reduce every result mod p = 2**255 - 19 (the values are field elements)"
            ),
            Mistake(_step_swapped, "return (x2, z2, x3, z3): the doubled point first, then the sum"),
            Mistake(_step_z3_plus, "z3 = x1 * (DA - CB)^2: a minus, where x3 = (DA + CB)^2 has the plus"),
        ],
        hints=(
            "Follow RFC 7748's pseudo-code line by line: A, AA, B, BB, E, C, D, DA, CB, then the four results.",
            "RFC 7748 §5, the loop body after the conditional swap.",
            "A = x2 + z2; AA = A*A % p; B = x2 - z2; ...; return AA*BB % p, E*(AA + a24*E) % p, (DA+CB)**2 % p, x1*(DA-CB)**2 % p",
        ),
    )
)


def _x25519_cases() -> list[Case]:
    return [
        Case(
            (
                bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            ),
            "RFC 7748 §5.2 vector 1",
        ),
        Case(
            (
                bytes.fromhex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                bytes.fromhex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            ),
            "RFC 7748 §5.2 vector 2 (u has its top bit set)",
        ),
        Case(
            (_T["client_ephemeral_x25519_private_key"], _T["server_ephemeral_x25519_public_key"]),
            "RFC 8448 shared secret",
        ),
        Case(
            (_T["client_ephemeral_x25519_private_key"], (9).to_bytes(32, "little")),
            "RFC 8448 client public key (u = 9)",
        ),
    ]


def _x25519_random(rng: random.Random) -> list[Case]:
    return [Case((_rand_bytes(rng, 32), _rand_bytes(rng, 32)), f"random {i + 1}", False) for i in range(3)]


def _x25519_variant(
    clamp: Callable[[bytes], int], mask: bool = True, order: str = "little"
) -> Callable[[bytes, bytes], bytes]:
    def variant(k: bytes, u: bytes) -> bytes:
        uu = bytearray(u)
        if mask:
            uu[31] &= 127
        return _ladder(clamp(k), int.from_bytes(uu, "little") % P25519).to_bytes(32, order)

    return variant


register(
    Task(
        id="x25519",
        notebook="02-key-exchange",
        func_name="x25519",
        title="X25519 (RFC 7748 §5)",
        reference=x25519_ref,
        fixed=_x25519_cases,
        randomized=_x25519_random,
        mistakes=[
            Mistake(
                _x25519_variant(_no_clamp),
                "clamp the scalar first: use your decode_scalar(k), not the raw bytes",
            ),
            Mistake(
                _x25519_variant(decode_scalar_ref, mask=False),
                "decodeUCoordinate masks the top bit of u: u[31] & 127 before reading it",
            ),
            Mistake(
                _x25519_variant(decode_scalar_ref, order="big"),
                "encode the result little-endian: (x).to_bytes(32, 'little')",
            ),
        ],
        hints=(
            "Decode k and u, run 255 ladder steps with conditional swaps, then x2 * z2^(p-2) mod p.",
            "RFC 7748 §5: decodeScalar25519, decodeUCoordinate, the ladder, encodeUCoordinate.",
            "k = decode_scalar(k); x1 = int.from_bytes(u[:31] + bytes([u[31] & 127]), 'little'); loop t = 254..0 { swap; ladder_step; } ...",
        ),
    )
)
