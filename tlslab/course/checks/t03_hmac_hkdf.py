"""Notebook 03, HMAC and HKDF (RFC 2104, RFC 5869) for a hash handed over as a function:
``hmac_with``, ``hkdf_extract``, ``hkdf_expand``.

Notebook 03 builds HMAC and HKDF in front of the learner for a hashlib *name* (``my_hmac(key,
message, hash_name)``, which asks ``hashlib.new(hash_name)`` for its block and digest sizes). The
exercises hand the hash over as a plain function ``bytes -> bytes`` and its block size as a number,
as RFC 2104 §2 states it ("H", "B", "L"): nothing to ask for a size, ``hmac.digest`` out of reach,
and hashes the notebook never used (SHA-3, whose block is 136 or 72 bytes; BLAKE2s). Pasting the
notebook's cells does not answer them; knowing where B and L enter does.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from tlslab import keyschedule
from tlslab.course.checks.common import _T, SHA384_SECRET, _rand_bytes
from tlslab.course.checks.core import Case, Mistake, Task, register


class HashFunction:
    """H of RFC 2104: a function from bytes to a digest, and nothing else (no block or digest size)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, data: bytes) -> bytes:
        return hashlib.new(self._name, data).digest()

    def __repr__(self) -> str:
        return self._name


# (hash, its block size B): every hash the tasks use, the random cases cycle through all of them
HASHES = [
    (HashFunction(n), hashlib.new(n).block_size)
    for n in ("sha256", "sha384", "sha3_256", "sha512", "blake2s", "sha3_512")
]
SHA256, SHA384_H = HASHES[0], HASHES[1]


def _hash_case(i: int) -> tuple[HashFunction, int]:
    return HASHES[i % len(HASHES)]


def hmac_with_ref(key: bytes, message: bytes, hash_fn: Callable[[bytes], bytes], block_size: int) -> bytes:
    """HMAC(K, text) = H(K XOR opad, H(K XOR ipad, text)) with H's block size B (RFC 2104 §2)."""
    if len(key) > block_size:
        key = hash_fn(key)
    key = key.ljust(block_size, b"\x00")
    inner = hash_fn(bytes(b ^ 0x36 for b in key) + message)
    return hash_fn(bytes(b ^ 0x5C for b in key) + inner)


def _hmac_variant(
    block: str = "B", swap_pads: bool = False, hash_long_key: bool = True
) -> Callable[[bytes, bytes, Callable[[bytes], bytes], int], bytes]:
    def variant(key: bytes, message: bytes, hash_fn: Callable[[bytes], bytes], block_size: int) -> bytes:
        b = {"B": block_size, "L": len(hash_fn(b"")), "64": 64}[block]
        if len(key) > b and hash_long_key:
            key = hash_fn(key)
        key = key[:b].ljust(b, b"\x00")
        ipad, opad = (0x5C, 0x36) if swap_pads else (0x36, 0x5C)
        inner = hash_fn(bytes(x ^ ipad for x in key) + message)
        return hash_fn(bytes(x ^ opad for x in key) + inner)

    return variant


register(
    Task(
        id="hmac",
        notebook="03-hmac-hkdf",
        func_name="hmac_with",
        title="HMAC for any hash H with block size B (RFC 2104 §2)",
        reference=hmac_with_ref,
        fixed=lambda: [
            Case((b"Jefe", b"what do ya want for nothing?", *SHA384_H), "RFC 4231 test case 2, SHA-384"),
            Case(
                (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First", *SHA384_H),
                "RFC 4231 test case 6, SHA-384 (131-byte key, longer than B = 128)",
            ),
            Case((b"\x0b" * 20, b"Hi There", *SHA256), "RFC 4231 test case 1, SHA-256"),
            Case((b"\xaa" * 100, b"tlslab", *HASHES[2]), "SHA3-256 (B = 136): a 100-byte key is not hashed"),
        ],
        randomized=lambda rng: [
            Case(
                (
                    _rand_bytes(rng, rng.choice((0, 16, 32, 64, 65, 100, 129, 137, 200))),
                    _rand_bytes(rng, rng.randint(0, 200)),
                    *_hash_case(i),
                ),
                f"random {i + 1} ({_hash_case(i)[0]!r})",
                False,
            )
            for i in range(6)
        ],
        mistakes=[
            Mistake(
                _hmac_variant(swap_pads=True),
                "ipad (0x36) goes with the inner hash, opad (0x5c) with the outer one; yours are swapped",
            ),
            Mistake(
                _hmac_variant(block="L"),
                "pad the key to the *block* size B (the block_size argument), not to the digest's length",
            ),
            Mistake(
                _hmac_variant(block="64"),
                "B is the block_size argument (128 for SHA-384, 136 for SHA3-256): yours pads to 64 whatever the hash",
            ),
            Mistake(
                _hmac_variant(hash_long_key=False),
                "a key longer than B bytes is hashed first: key = hash_fn(key)",
            ),
            Mistake(
                lambda k, m, h, b: h(k + m),
                "HMAC is not H(key + message): it hashes twice, with the key XORed with ipad and opad",
            ),
        ],
        hints=(
            "The same two nested hashes as for SHA-256, with hash_fn for H and block_size for 64.",
            "RFC 2104 §2: H(K XOR opad, H(K XOR ipad, text)), K padded with zeros to B bytes (hashed first if longer).",
            "if len(key) > block_size:\n    key = hash_fn(key)\nkey = key.ljust(____, b'\\x00')\ninner = hash_fn(bytes(b ^ ____ for b in key) + message)\nreturn hash_fn(bytes(b ^ ____ for b in key) + ____)",
        ),
        fill=("block_size", "0x36", "0x5C", "inner"),
    )
)

_RFC5869_1 = (
    bytes.fromhex("0b" * 22),
    bytes.fromhex("000102030405060708090a0b0c"),
    bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
)


def hkdf_extract_ref(salt: bytes, ikm: bytes, hash_fn: Callable[[bytes], bytes], block_size: int) -> bytes:
    """PRK = HMAC-Hash(salt, IKM), salt defaulting to HashLen zeros (RFC 5869 §2.2)."""
    return hmac_with_ref(salt or bytes(len(hash_fn(b""))), ikm, hash_fn, block_size)


def _extract_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h, b = _hash_case(i)
        salt = _rand_bytes(rng, rng.choice((0, 13, len(h(b"")), b + 1)))
        out.append(Case((salt, _rand_bytes(rng, rng.randint(1, 80)), h, b), f"random {i + 1} ({h!r})", False))
    return out


register(
    Task(
        id="hkdf-extract",
        notebook="03-hmac-hkdf",
        func_name="hkdf_extract",
        title="HKDF-Extract for any hash (RFC 5869 §2.2)",
        reference=hkdf_extract_ref,
        forbidden=(keyschedule.hkdf_extract,),
        fixed=lambda: [
            Case((_RFC5869_1[1], _RFC5869_1[0], *SHA256), "RFC 5869 A.1"),
            Case((b"", bytes(32), *SHA256), "RFC 8448 early secret"),
            Case((b"", bytes(48), *SHA384_H), "early secret for SHA-384 suites"),
            Case((b"\x01" * 140, b"ikm", *HASHES[2]), "SHA3-256, a 140-byte salt (longer than B = 136)"),
        ],
        randomized=_extract_random,
        mistakes=[
            Mistake(
                lambda s, ikm, h, b: hmac_with_ref(ikm, s, h, b),
                "HKDF-Extract is HMAC(salt, IKM): the salt is the HMAC key; yours swaps them",
            ),
            Mistake(
                lambda s, ikm, h, b: h(s + ikm),
                "Extract is an HMAC keyed with the salt, not a hash of salt + IKM",
            ),
            Mistake(
                lambda s, ikm, h, b: hmac_with_ref(s, ikm, h, 64),
                "pass block_size on to your HMAC: SHA-384's block is 128 bytes, SHA3-256's 136",
            ),
        ],
        hints=(
            "One call of your hmac_with. Which argument is the key?",
            "RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); no salt means HashLen zero bytes.",
            "return hmac_with(____ or bytes(len(hash_fn(b''))), ____, hash_fn, block_size)",
        ),
        fill=("salt", "ikm"),
    )
)


def hkdf_expand_ref(
    prk: bytes, info: bytes, length: int, hash_fn: Callable[[bytes], bytes], block_size: int
) -> bytes:
    """OKM = first L bytes of T(1) | T(2) | ..., T(i) = HMAC-Hash(PRK, T(i-1) | info | i) (RFC 5869 §2.3)."""
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac_with_ref(prk, block + info + bytes([counter]), hash_fn, block_size)
        okm += block
        counter += 1
    return okm[:length]


def _expand_variant(
    start: int = 1,
    chain: bool = True,
    truncate: bool = True,
    info_first: bool = False,
    step: int | None = None,
) -> Callable[..., bytes]:
    def variant(prk: bytes, info: bytes, length: int, h: Callable[[bytes], bytes], b: int) -> bytes:
        okm, block, counter = b"", b"", start
        while len(okm) < length:
            prev = block if chain else b""
            data = info + prev if info_first else prev + info
            block = hmac_with_ref(prk, data + bytes([counter]), h, b)
            okm += block[:step] if step else block
            counter += 1
        return okm[:length] if truncate else okm

    return variant


def _expand_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h, b = _hash_case(i)
        length = rng.choice((12, 16, 42, 48, 100, 130))
        out.append(
            Case(
                (_rand_bytes(rng, len(h(b""))), _rand_bytes(rng, rng.randint(0, 40)), length, h, b),
                f"random {i + 1} ({h!r}, {length} bytes)",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-expand",
        notebook="03-hmac-hkdf",
        func_name="hkdf_expand",
        title="HKDF-Expand for any hash (RFC 5869 §2.3)",
        reference=hkdf_expand_ref,
        forbidden=(keyschedule.hkdf_expand,),
        fixed=lambda: [
            Case(
                (keyschedule.hkdf_extract(_RFC5869_1[1], _RFC5869_1[0]), _RFC5869_1[2], 42, *SHA256),
                "RFC 5869 A.1 (42 bytes)",
            ),
            Case(
                (
                    _T["server_handshake_traffic_secret"],
                    bytes.fromhex("001009746c733133206b657900"),
                    16,
                    *SHA256,
                ),
                "RFC 8448 server handshake key",
            ),
            Case((SHA384_SECRET, b"tlslab", 60, *SHA384_H), "SHA-384: 60 bytes, two 48-byte blocks"),
            Case((bytes(32), b"tlslab", 70, *HASHES[2]), "SHA3-256: 70 bytes, three 32-byte blocks"),
        ],
        randomized=_expand_random,
        mistakes=[
            Mistake(_expand_variant(start=0), "the counter byte starts at 1 (0x01), not 0"),
            Mistake(
                _expand_variant(chain=False),
                "each block feeds the previous one in: T(i) = HMAC(PRK, T(i-1) | info | i)",
            ),
            Mistake(
                _expand_variant(info_first=True),
                "the order inside HMAC is T(i-1), then info, then the counter",
            ),
            Mistake(
                _expand_variant(truncate=False), "cut the output to exactly `length` bytes: okm[:length]"
            ),
            Mistake(
                _expand_variant(step=32),
                "each block T(i) is a whole digest: HashLen bytes (48 for SHA-384), not 32",
            ),
        ],
        hints=(
            "Keep computing HMAC blocks (your hmac_with) until you have `length` bytes; each block depends on the one before.",
            "RFC 5869 §2.3: T(0) = empty, T(i) = HMAC-Hash(PRK, T(i-1) | info | i).",
            "okm, block, counter = b'', b'', 1\nwhile len(okm) < length:\n    block = hmac_with(prk, ____ + info + bytes([____]), hash_fn, block_size)\n    okm += block\n    counter += 1\nreturn okm[:____]",
        ),
        fill=("block", "counter", "length"),
    )
)
