"""The five TLS 1.3 cipher suites (RFC 8446 §5.3, Appendix B.4).

A TLS 1.3 cipher suite names only two things: the AEAD that protects records
(RFC 8446 §5.2) and the hash that drives HKDF in the key schedule (§7.1).
Key exchange and signatures are negotiated separately (§4.2.7, §4.2.3), which
is why there are just five suites, all listed in Appendix B.4::

    >>> suite = SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
    >>> suite.hash_name, suite.key_len, suite.iv_len, suite.tag_len
    ('sha256', 16, 12, 16)

The AEADs themselves come from ``cryptography``; ``Suite.aead(key)`` returns an
object with ``encrypt(nonce, data, aad)`` and ``decrypt(nonce, data, aad)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from .constants import CipherSuite


class AEAD(Protocol):
    """What record protection needs from an AEAD (RFC 5116 interface)."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    # The same into a buffer of exactly the output's size (connection.py's bulk fast path).
    def encrypt_into(
        self, nonce: bytes, data: memoryview, associated_data: memoryview | None, buf: memoryview
    ) -> int: ...

    def decrypt_into(
        self, nonce: bytes, data: memoryview, associated_data: memoryview | None, buf: memoryview
    ) -> int: ...


HASH_LENS = {"sha256": 32, "sha384": 48}  # Hash.length of the two hashes TLS 1.3's suites use


@dataclass(frozen=True)
class Suite:
    """One row of RFC 8446 Appendix B.4, with the sizes §5.3 and §7.3 need."""

    code: CipherSuite
    name: str
    hash_name: str  # hashlib name of the HKDF hash (§7.1)
    hash_len: int  # Hash.length
    key_len: int  # AEAD key length, the "key" of §7.3
    iv_len: int  # the "iv" of §7.3: max(8 bytes, N_MIN) = 12 for every suite (§5.3)
    tag_len: int  # AEAD expansion: 16, or 8 for CCM_8 (RFC 6655)
    _factory: Callable[[bytes], AEAD] = field(repr=False, compare=False)

    def aead(self, key: bytes) -> AEAD:
        """A ``cryptography`` AEAD keyed with ``key`` (``encrypt``/``decrypt(nonce, data, aad)``)."""
        if len(key) != self.key_len:
            raise ValueError(f"{self.name} needs a {self.key_len}-byte key, got {len(key)}")
        return self._factory(key)


def _ccm(tag_len: int) -> Callable[[bytes], AEAD]:
    return lambda key: AESCCM(key, tag_length=tag_len)


def _suite(
    code: CipherSuite, hash_name: str, key_len: int, tag_len: int, factory: Callable[[bytes], AEAD]
) -> Suite:
    return Suite(code, code.name, hash_name, HASH_LENS[hash_name], key_len, 12, tag_len, factory)


SUITES: dict[CipherSuite, Suite] = {
    s.code: s
    for s in (
        _suite(CipherSuite.TLS_AES_128_GCM_SHA256, "sha256", 16, 16, AESGCM),
        _suite(CipherSuite.TLS_AES_256_GCM_SHA384, "sha384", 32, 16, AESGCM),
        _suite(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "sha256", 32, 16, ChaCha20Poly1305),
        _suite(CipherSuite.TLS_AES_128_CCM_SHA256, "sha256", 16, 16, _ccm(16)),
        _suite(CipherSuite.TLS_AES_128_CCM_8_SHA256, "sha256", 16, 8, _ccm(8)),
    )
}


def suite_by_name(name: str) -> Suite:
    """The suite with IANA name ``name``, e.g. ``"TLS_AES_128_GCM_SHA256"``.

    Raises:
        ValueError: no TLS 1.3 suite has that name; the message lists the valid ones.
    """
    for suite in SUITES.values():
        if suite.name == name:
            return suite
    valid = ", ".join(s.name for s in SUITES.values())
    raise ValueError(f"unknown TLS 1.3 cipher suite {name!r}; choose from {valid}")
