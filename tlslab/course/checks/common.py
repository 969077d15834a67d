"""What the tasks' cases share: random inputs, the hash of case i, and the RFC 8448 traces.

Every task has: a reference, fixed cases, random cases, mistakes (variants + hints) and three
stepped hints (see ``core``).
"""

from __future__ import annotations

import hashlib
import random
import string
from typing import Literal

from tlslab.course.rfc8448 import trace

ByteOrder = Literal["big", "little"]  # int.to_bytes / int.from_bytes orders, as mistakes swap them


def _rand_bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _rand_label(rng: random.Random) -> bytes:
    return "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(1, 20))).encode()


def _hash(i: int) -> str:
    """Random cases alternate the two hashes, so a SHA-256-only answer always meets a SHA-384 case."""
    return ("sha256", "sha384")[i % 2]


def _hlen(hash_name: str) -> int:
    return hashlib.new(hash_name).digest_size


def _rand_host(rng: random.Random) -> str:
    labels = [
        "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(2, 4))
    ]
    return ".".join(labels)


_T = trace("simple_1rtt")
_HRR = trace("hrr")


def _v(name: str) -> bytes:
    return _T[name]


SHA384_SECRET = bytes(range(0x30, 0x60))  # a fixed 48-byte secret for the public SHA-384 cases
SHA384 = "SHA-384 worked example"
