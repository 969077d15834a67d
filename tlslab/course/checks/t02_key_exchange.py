"""Notebook 02, key exchange (RFC 7748): ``decode_scalar``, ``ladder_step``, ``x448``.

Notebook 02 builds X25519 in front of the learner, so the exercises ask for its sibling, X448
(RFC 7748 §5, TLS group x448 = 30): the same ladder with another prime, another a24, 56-byte
keys and other clamping. Copying the notebook's cells does not answer them; understanding them does.
"""

from __future__ import annotations

from collections.abc import Callable

from tlslab.course.checks.common import ByteOrder, _rand_bytes
from tlslab.course.checks.core import Case, Mistake, Task, register

P448 = 2**448 - 2**224 - 1
A24_448 = 39081  # (156326 - 2) / 4
P25519, A24_25519 = 2**255 - 19, 121665  # what a copy of notebook 02's X25519 uses


def decode_scalar_ref(k: bytes) -> int:
    """decodeScalar448 (RFC 7748 §5): clear bits 0 and 1, set bit 447; little-endian."""
    b = bytearray(k)
    b[0] &= 252
    b[55] |= 128
    return int.from_bytes(b, "little")


def ladder_step_ref(
    x1: int, x2: int, z2: int, x3: int, z3: int, a24: int = A24_448, p: int = P448
) -> tuple[int, int, int, int]:
    """One step of the Montgomery ladder (RFC 7748 §5): (x2, z2) doubled, (x3, z3) the sum."""
    a, b = (x2 + z2) % p, (x2 - z2) % p
    aa, bb = a * a % p, b * b % p
    e = (aa - bb) % p
    c, d = (x3 + z3) % p, (x3 - z3) % p
    da, cb = d * a % p, c * b % p
    return aa * bb % p, e * (aa + a24 * e) % p, (da + cb) ** 2 % p, x1 * (da - cb) ** 2 % p


def _ladder(
    k: int, u: int, bits: int = 448, step: Callable[..., tuple[int, int, int, int]] = ladder_step_ref
) -> int:
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(bits)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        x2, z2, x3, z3 = step(x1, x2, z2, x3, z3)
    if swap:
        x2, z2 = x3, z3
    return x2 * pow(z2, P448 - 2, P448) % P448


def x448_ref(k: bytes, u: bytes) -> bytes:
    """X448(k, u) (RFC 7748 §5), written out; tests compare it with ``cryptography``."""
    return _ladder(decode_scalar_ref(k), int.from_bytes(u, "little") % P448).to_bytes(56, "little")


_RFC7748_K = bytes.fromhex(
    "3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3"
)
_RFC7748_U = bytes.fromhex(
    "06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086"
)


def _clamp(
    low: int = 252, top: str = "set", order: ByteOrder = "little", like_25519: bool = False
) -> Callable[[bytes], int]:
    def variant(k: bytes) -> int:
        b = bytearray(k)
        if like_25519:
            b[0] &= 248
            b[31] &= 127
            b[31] |= 64
            return int.from_bytes(b, "little")
        b[0] &= low
        if top == "set":
            b[55] |= 128
        elif top == "clear":
            b[55] &= 127
        return int.from_bytes(b, order)

    return variant


register(
    Task(
        id="x448-scalar",
        notebook="02-key-exchange",
        func_name="decode_scalar",
        title="decodeScalar448 (RFC 7748 §5)",
        reference=decode_scalar_ref,
        fixed=lambda: [
            Case((_RFC7748_K,), "RFC 7748 §5.2 X448 scalar"),
            Case((bytes(56),), "56 zero bytes"),
            Case((b"\xff" * 56,), "56 bytes 0xff"),
        ],
        randomized=lambda rng: [Case((_rand_bytes(rng, 56),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                _clamp(like_25519=True),
                "that is decodeScalar25519 (bytes 0 and 31): X448 clears the 2 lowest bits of k[0] and sets the top bit of k[55]",
            ),
            Mistake(_clamp(low=248), "X448's cofactor is 4: clear only the two lowest bits (k[0] &= 252)"),
            Mistake(
                _clamp(low=255), "clear the two lowest bits (k[0] &= 252): the scalar is a multiple of 4"
            ),
            Mistake(_clamp(top="none"), "set bit 447, the top bit of the last byte (k[55] |= 128)"),
            Mistake(_clamp(top="clear"), "for X448 the top bit is *set* (k[55] |= 128), not cleared"),
            Mistake(_clamp(order="big"), "the scalar is little-endian: int.from_bytes(..., 'little')"),
        ],
        hints=(
            "Same idea as decodeScalar25519 (a copy of the bytes, a few bits changed, one little-endian number), other bits.",
            "RFC 7748 §5, decodeScalar448: k_list[0] &= 252, k_list[55] |= 128.",
            "b = bytearray(k)\nb[0] &= ____\nb[55] |= ____\nreturn int.from_bytes(b, ____)",
        ),
        fill=("252", "128", "'little'"),
    )
)


def _step_unreduced(x1: int, x2: int, z2: int, x3: int, z3: int) -> tuple[int, int, int, int]:
    a, b = x2 + z2, x2 - z2
    aa, bb = a * a, b * b
    e = aa - bb
    c, d = x3 + z3, x3 - z3
    da, cb = d * a, c * b
    return aa * bb, e * (aa + A24_448 * e), (da + cb) ** 2, x1 * (da - cb) ** 2


def _step_swapped(*args: int) -> tuple[int, int, int, int]:
    x2, z2, x3, z3 = ladder_step_ref(*args)
    return x3, z3, x2, z2


register(
    Task(
        id="x448-ladder-step",
        notebook="02-key-exchange",
        func_name="ladder_step",
        title="one Montgomery ladder step on Curve448 (RFC 7748 §5)",
        reference=lambda x1, x2, z2, x3, z3: ladder_step_ref(x1, x2, z2, x3, z3),
        fixed=lambda: [
            Case((5, 1, 0, 5, 1), "first step from u = 5: (x2, z2, x3, z3) = (1, 0, 5, 1)"),
            Case((5, 5, 1, 1, 0), "the same after a swap"),
            Case((P448 - 1, 2, 3, P448 - 2, 7), "values near p"),
        ],
        randomized=lambda rng: [
            Case(tuple(rng.randrange(P448) for _ in range(5)), f"random {i + 1}", False) for i in range(6)
        ],
        mistakes=[
            Mistake(
                lambda x1, x2, z2, x3, z3: ladder_step_ref(x1, x2, z2, x3, z3, a24=A24_25519, p=P25519),
                "those are Curve25519's constants: for X448 p = 2**448 - 2**224 - 1 and a24 = 39081",
            ),
            Mistake(
                lambda x1, x2, z2, x3, z3: ladder_step_ref(x1, x2, z2, x3, z3, a24=A24_25519),
                "a24 is 39081 for X448 ((156326 - 2) / 4); 121665 is Curve25519's",
            ),
            Mistake(
                lambda x1, x2, z2, x3, z3: ladder_step_ref(x1, x2, z2, x3, z3, p=P25519),
                "reduce mod X448's prime, p = 2**448 - 2**224 - 1, not 2**255 - 19",
            ),
            Mistake(
                lambda x1, x2, z2, x3, z3: ladder_step_ref(x1, x2, z2, x3, z3, a24=39082),
                "a24 = (A - 2) / 4 = 39081 for A = 156326",
            ),
            Mistake(_step_unreduced, "reduce every result mod p (the values are field elements)"),
            Mistake(_step_swapped, "return (x2, z2, x3, z3): the doubled point first, then the sum"),
        ],
        hints=(
            "The loop body of RFC 7748 §5 is the same for both curves; only p and a24 change.",
            "RFC 7748 §5: for X448, p = 2^448 - 2^224 - 1 and a24 = 39081.",
            "p, a24 = ____, ____\n"
            "a, b = (x2 + z2) % p, (x2 - z2) % p\n"
            "aa, bb = a * a % p, b * b % p\n"
            "e = (aa - bb) % p\n"
            "c, d = (x3 + z3) % p, (x3 - z3) % p\n"
            "da, cb = d * a % p, c * b % p\n"
            "return aa * bb % p, e * (aa + a24 * e) % p, (da + cb) ** 2 % p, x1 * (da - cb) ** 2 % p",
        ),
        fill=("2**448 - 2**224 - 1", "39081"),
    )
)


def _x448_variant(
    bits: int = 448, mask: bool = False, size: int = 56, clamp: Callable[[bytes], int] = decode_scalar_ref
) -> Callable[[bytes, bytes], bytes]:
    def variant(k: bytes, u: bytes) -> bytes:
        uu = bytearray(u)
        if mask:
            uu[-1] &= 127
        out = _ladder(clamp(k), int.from_bytes(uu, "little") % P448, bits)
        return out.to_bytes(56, "little")[:size]

    return variant


register(
    Task(
        id="x448",
        notebook="02-key-exchange",
        func_name="x448",
        title="X448 (RFC 7748 §5)",
        reference=x448_ref,
        fixed=lambda: [
            Case((_RFC7748_K, _RFC7748_U), "RFC 7748 §5.2 X448 vector"),
            Case((_RFC7748_K, (5).to_bytes(56, "little")), "the public key of that scalar (u = 5)"),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, 56), _rand_bytes(rng, 56)), f"random {i + 1}", False) for i in range(3)
        ],
        mistakes=[
            Mistake(
                _x448_variant(bits=255), "X448's scalars have 448 bits: run the ladder for t = 447 down to 0"
            ),
            Mistake(
                _x448_variant(mask=True),
                "X448 does not mask u's top bit (that is an X25519 rule): read all 56 bytes",
            ),
            Mistake(_x448_variant(size=32), "X448 values are 56 bytes long"),
            Mistake(
                _x448_variant(clamp=lambda k: int.from_bytes(k, "little")),
                "decode the scalar first: use your decode_scalar(k), not the raw bytes",
            ),
        ],
        hints=(
            "Notebook 02's x25519 with X448's numbers: 448 ladder steps, 56-byte values, u read as it is.",
            "RFC 7748 §5: decodeScalar448, decodeUCoordinate (bits = 448), the ladder, encodeUCoordinate.",
            "p = 2**448 - 2**224 - 1\n"
            "scalar, x1 = decode_scalar(k), int.from_bytes(u, 'little') % p\n"
            "x2, z2, x3, z3, swap = 1, 0, x1, 1, 0\n"
            "for t in reversed(range(____)):\n"
            "    bit = (scalar >> t) & 1\n"
            "    swap ^= bit\n"
            "    if swap:\n"
            "        x2, z2, x3, z3 = x3, z3, x2, z2\n"
            "    swap = bit\n"
            "    x2, z2, x3, z3 = ladder_step(x1, x2, z2, x3, z3)\n"
            "if swap:\n"
            "    x2, z2 = x3, z3\n"
            "return (x2 * pow(z2, p - 2, p) % p).to_bytes(____, 'little')",
        ),
        fill=("448", "56"),
    )
)
