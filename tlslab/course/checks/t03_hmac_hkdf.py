"""Notebook 03, HMAC and HKDF (RFC 2104, RFC 5869): ``hmac_sha256``, ``hkdf_extract``, ``hkdf_expand``."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable

from tlslab import keyschedule
from tlslab.course.checks.common import _T, SHA384, SHA384_SECRET, _hash, _hlen, _rand_bytes
from tlslab.course.checks.core import Case, Mistake, Task, register


def _hmac_ref(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def _hmac_variant(
    block: int = 64, swap_pads: bool = False, hash_long_key: bool = True
) -> Callable[[bytes, bytes], bytes]:
    def variant(key: bytes, message: bytes) -> bytes:
        if len(key) > block and hash_long_key:
            key = hashlib.sha256(key).digest()
        key = key[:block].ljust(block, b"\x00")
        ipad, opad = (0x5C, 0x36) if swap_pads else (0x36, 0x5C)
        inner = hashlib.sha256(bytes(b ^ ipad for b in key) + message).digest()
        return hashlib.sha256(bytes(b ^ opad for b in key) + inner).digest()

    return variant


register(
    Task(
        id="hmac",
        notebook="03-hmac-hkdf",
        func_name="hmac_sha256",
        title="HMAC-SHA256 (RFC 2104)",
        reference=_hmac_ref,
        fixed=lambda: [
            Case((b"\x0b" * 20, b"Hi There"), "RFC 4231 test case 1"),
            Case((b"Jefe", b"what do ya want for nothing?"), "RFC 4231 test case 2"),
            Case(
                (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
                "RFC 4231 test case 6 (131-byte key)",
            ),
        ],
        randomized=lambda rng: [
            Case(
                (
                    _rand_bytes(rng, rng.choice((0, 16, 32, 64, 65, 100, 200))),
                    _rand_bytes(rng, rng.randint(0, 200)),
                ),
                f"random {i + 1}",
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
                _hmac_variant(block=32),
                "pad the key to the hash's *block* size, 64 bytes for SHA-256, not its 32-byte output size",
            ),
            Mistake(
                _hmac_variant(hash_long_key=False),
                "a key longer than 64 bytes is hashed first: key = sha256(key).digest()",
            ),
            Mistake(
                lambda k, m: hashlib.sha256(k + m).digest(),
                "HMAC is not sha256(key + message): it hashes twice, with the key XORed with ipad and opad",
            ),
            Mistake(
                lambda k, m: hashlib.sha256(
                    bytes(b ^ 0x5C for b in k.ljust(64, b"\0"))
                    + bytes(b ^ 0x36 for b in k.ljust(64, b"\0"))
                    + m
                ).digest(),
                "the outer hash takes the *digest* of the inner hash, not the inner input itself",
            ),
        ],
        hints=(
            "Two nested hashes: H((K ^ opad) || H((K ^ ipad) || message)), K padded to 64 bytes.",
            "RFC 2104 §2 (and RFC 4231 for the test vectors).",
            "if len(key) > 64:\n    key = hashlib.sha256(key).digest()\nkey = key.ljust(64, b'\\x00')\ninner = hashlib.sha256(bytes(b ^ ____ for b in key) + ____).digest()\nreturn hashlib.sha256(bytes(b ^ ____ for b in key) + ____).digest()",
        ),
        fill=("0x36", "message", "0x5C", "inner"),
    )
)

_RFC5869_1 = (
    bytes.fromhex("0b" * 22),
    bytes.fromhex("000102030405060708090a0b0c"),
    bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
)


def _extract_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        h = _hash(i)
        out.append(
            Case(
                (_rand_bytes(rng, rng.choice((0, 13, _hlen(h)))), _rand_bytes(rng, rng.randint(1, 80)), h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-extract",
        notebook="03-hmac-hkdf",
        func_name="hkdf_extract",
        title="HKDF-Extract (RFC 5869 §2.2)",
        reference=keyschedule.hkdf_extract,
        fixed=lambda: [
            Case((_RFC5869_1[1], _RFC5869_1[0], "sha256"), "RFC 5869 A.1"),
            Case((b"", bytes.fromhex("0b" * 22), "sha256"), "RFC 5869 A.3 (no salt)"),
            Case((b"", bytes(32), "sha256"), "RFC 8448 early secret"),
            Case((b"", bytes(48), "sha384"), "early secret for SHA-384 suites"),
        ],
        randomized=_extract_random,
        mistakes=[
            Mistake(
                lambda s, ikm, h="sha256": hmac.digest(ikm, s or bytes(_hlen(h)), h),
                "HKDF-Extract is HMAC(salt, IKM): the salt is the HMAC key; yours swaps them",
            ),
            Mistake(
                lambda s, ikm, h="sha256": hmac.digest(s, ikm, "sha256"),
                lambda s, ikm, h="sha256": (
                    f"use the hash named by hash_name ({h}: {_hlen(h)} bytes); yours always uses SHA-256"
                ),
            ),
            Mistake(
                lambda s, ikm, h="sha256": hashlib.new(h, s + ikm).digest(),
                "Extract is an HMAC keyed with the salt, not a hash of salt + IKM",
            ),
        ],
        hints=(
            "One HMAC call. Which argument is the key?",
            "RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM).",
            "return hmac.digest(____ or bytes(hashlib.new(hash_name).digest_size), ____, hash_name)",
        ),
        fill=("salt", "ikm"),
    )
)


def _expand_variant(
    start: int = 1,
    chain: bool = True,
    truncate: bool = True,
    info_first: bool = False,
    fixed_hash: str | None = None,
) -> Callable[..., bytes]:
    def variant(prk: bytes, info: bytes, length: int, hash_name: str = "sha256") -> bytes:
        h = fixed_hash or hash_name
        okm, block, counter = b"", b"", start
        while len(okm) < length:
            prev = block if chain else b""
            data = info + prev if info_first else prev + info
            block = hmac.digest(prk, data + bytes([counter]), h)
            okm += block
            counter += 1
        return okm[:length] if truncate else okm

    return variant


def _expand_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        length = rng.choice((12, 16, 42, 48, 100, 130))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, rng.randint(0, 40)), length, h),
                f"random {i + 1} ({h}, {length} bytes)",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-expand",
        notebook="03-hmac-hkdf",
        func_name="hkdf_expand",
        title="HKDF-Expand (RFC 5869 §2.3)",
        reference=keyschedule.hkdf_expand,
        fixed=lambda: [
            Case(
                (keyschedule.hkdf_extract(_RFC5869_1[1], _RFC5869_1[0]), _RFC5869_1[2], 42, "sha256"),
                "RFC 5869 A.1 (42 bytes)",
            ),
            Case(
                (keyschedule.hkdf_extract(b"", bytes.fromhex("0b" * 22)), b"", 42, "sha256"),
                "RFC 5869 A.3 (empty info)",
            ),
            Case(
                (
                    _T["server_handshake_traffic_secret"],
                    bytes.fromhex("001009746c733133206b657900"),
                    16,
                    "sha256",
                ),
                "RFC 8448 server handshake key",
            ),
            Case((SHA384_SECRET, b"tlslab", 60, "sha384"), f"{SHA384}: 60 bytes, two blocks"),
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
                _expand_variant(fixed_hash="sha256"),
                "use the hash named by hash_name: SHA-384 blocks are 48 bytes",
            ),
        ],
        hints=(
            "Keep computing HMAC blocks until you have `length` bytes; each block depends on the one before.",
            "RFC 5869 §2.3: T(0) = empty, T(i) = HMAC-Hash(PRK, T(i-1) | info | i).",
            "okm, block, counter = b'', b'', 1\nwhile len(okm) < length:\n    block = hmac.digest(prk, ____ + info + bytes([____]), hash_name)\n    okm += block\n    counter += 1\nreturn okm[:____]",
        ),
        fill=("block", "counter", "length"),
    )
)
