"""Notebook 04, the key schedule: its tasks, their cases and planted mistakes.

``hkdf_expand_label``, ``derive_secret``, ``traffic_key_iv``, ``handshake_secret``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

from tlslab import keyschedule
from tlslab.course.checks.common import (
    _HRR,
    SHA384,
    SHA384_SECRET,
    ByteOrder,
    _hash,
    _hlen,
    _rand_bytes,
    _rand_label,
    _v,
)
from tlslab.course.checks.core import Case, Mistake, Task, register
from tlslab.suites import SUITES


def _label_variant(
    length_width: int = 2,
    prefix: bytes = b"tls13 ",
    label_prefixed: bool = True,
    context_prefixed: bool = True,
    order: ByteOrder = "big",
    fixed_hash: str | None = None,
) -> Callable[..., bytes]:
    def variant(secret: bytes, label: bytes, context: bytes, length: int, hash_name: str = "sha256") -> bytes:
        full = prefix + label
        info = length.to_bytes(length_width, order)
        info += (bytes([len(full)]) if label_prefixed else b"") + full
        info += (bytes([len(context)]) if context_prefixed else b"") + context
        return keyschedule.hkdf_expand(secret, info, length, fixed_hash or hash_name)

    return variant


def _hel_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        ctx = _rand_bytes(rng, rng.choice((0, _hlen(h), rng.randint(1, 60))))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), _rand_label(rng), ctx, rng.choice((12, 16, 32, 48)), h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-expand-label",
        forbidden=(keyschedule.hkdf_expand_label, keyschedule.hkdf_label),
        notebook="04-key-schedule",
        func_name="hkdf_expand_label",
        title="HKDF-Expand-Label (RFC 8446 §7.1)",
        reference=keyschedule.hkdf_expand_label,
        fixed=lambda: [
            Case(
                (_v("server_handshake_traffic_secret"), b"key", b"", 16, "sha256"),
                "RFC 8448: server handshake key",
            ),
            Case(
                (_v("server_handshake_traffic_secret"), b"iv", b"", 12, "sha256"),
                "RFC 8448: server handshake IV",
            ),
            Case(
                (_v("server_handshake_traffic_secret"), b"finished", b"", 32, "sha256"),
                "RFC 8448: server finished_key",
            ),
            Case((SHA384_SECRET, b"key", b"", 32, "sha384"), f"{SHA384}: a 32-byte key"),
        ],
        randomized=_hel_random,
        mistakes=[
            Mistake(
                _label_variant(length_width=1),
                "the HkdfLabel length prefix should be 2 bytes; yours is 1 (HkdfLabel.length is a uint16)",
            ),
            Mistake(
                _label_variant(length_width=4), "the HkdfLabel length field is a uint16, 2 bytes; yours is 4"
            ),
            Mistake(
                _label_variant(order="little"), "write HkdfLabel.length big-endian: 16 is 00 10, not 10 00"
            ),
            Mistake(_label_variant(prefix=b""), 'the label needs the "tls13 " prefix: b"tls13 " + label'),
            Mistake(
                _label_variant(prefix=b"tls13 tls13 "),
                'your label has "tls13 " twice: add the prefix once (do the callers pass it already?)',
            ),
            Mistake(
                _label_variant(prefix=b"tls13"),
                'the prefix is "tls13 " with a space at the end (6 bytes); yours has no space',
            ),
            Mistake(
                _label_variant(prefix=b"TLS 1.3, "),
                'the prefix is lower-case "tls13 ", not "TLS 1.3, " (that one is for CertificateVerify)',
            ),
            Mistake(
                _label_variant(label_prefixed=False),
                "the label is a vector: one length byte, then b'tls13 ' + label",
            ),
            Mistake(
                _label_variant(context_prefixed=False),
                "the context is a vector too: one length byte, then the context (even when empty: 00)",
            ),
            Mistake(_label_variant(fixed_hash="sha256"), "pass hash_name on to HKDF-Expand (SHA-384 suites)"),
        ],
        hints=(
            "Build the HkdfLabel bytes (the `info`), then call HKDF-Expand with them.",
            "RFC 8446 §7.1: struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel.",
            "full_label = ____ + label\nhkdf_label = length.to_bytes(____, 'big') + bytes([len(full_label)]) + full_label + ____\nreturn hkdf_expand(secret, hkdf_label, length, hash_name)",
        ),
        fill=("b'tls13 '", "2", "bytes([len(context)]) + context"),
    )
)


def _ds_variant(
    hash_context: bool = True,
    empty_context: bool = False,
    fixed_len: int | None = None,
    fixed_hash: str | None = None,
    twice: bool = False,
) -> Callable[..., bytes]:
    def variant(secret: bytes, label: bytes, messages: bytes, hash_name: str = "sha256") -> bytes:
        h = fixed_hash or hash_name
        if twice:
            ctx = hashlib.new(h, hashlib.new(h, messages).digest()).digest()
            return keyschedule.hkdf_expand_label(secret, label, ctx, _hlen(hash_name), hash_name)
        ctx = (
            b""
            if empty_context and not messages
            else hashlib.new(h, messages).digest()
            if hash_context
            else messages
        )
        return keyschedule.hkdf_expand_label(secret, label, ctx, fixed_len or _hlen(hash_name), hash_name)

    return variant


def _ds_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        msgs = b"" if i == 0 else _rand_bytes(rng, rng.randint(1, 200))
        out.append(
            Case((_rand_bytes(rng, _hlen(h)), _rand_label(rng), msgs, h), f"random {i + 1} ({h})", False)
        )
    return out


register(
    Task(
        id="derive-secret",
        notebook="04-key-schedule",
        func_name="derive_secret",
        title="Derive-Secret (RFC 8446 §7.1)",
        reference=keyschedule.derive_secret,
        fixed=lambda: [
            Case(
                (_v("early_secret"), b"derived", b"", "sha256"),
                "RFC 8448: Derive-Secret(early, 'derived', '')",
            ),
            Case(
                (_v("handshake_secret"), b"c hs traffic", _v("client_hello") + _v("server_hello"), "sha256"),
                "RFC 8448: client handshake traffic secret",
            ),
            Case(
                (_v("handshake_secret"), b"s hs traffic", _v("client_hello") + _v("server_hello"), "sha256"),
                "RFC 8448: server handshake traffic secret",
            ),
            Case(
                (SHA384_SECRET, b"c hs traffic", _v("client_hello") + _v("server_hello"), "sha384"),
                f"{SHA384}: the same messages, SHA-384",
            ),
        ],
        randomized=_ds_random,
        mistakes=[
            Mistake(
                _ds_variant(hash_context=False),
                "the context is Transcript-Hash(Messages), the hash of the messages, not the messages themselves",
            ),
            Mistake(
                _ds_variant(empty_context=True),
                'for empty Messages the context is still a hash: Hash("") (32 bytes e3b0c442...), not b""',
            ),
            Mistake(
                _ds_variant(fixed_len=32),
                "the output length is Hash.length: 48 bytes for SHA-384; yours is always 32",
            ),
            Mistake(
                _ds_variant(twice=True),
                "the messages are hashed twice: Derive-Secret hashes them once; pass it the messages, not their hash",
            ),
            Mistake(
                _ds_variant(fixed_hash="sha256"),
                "hash the messages with hash_name (SHA-384 suites), not always SHA-256",
            ),
        ],
        hints=(
            "Derive-Secret is HKDF-Expand-Label with a hashed context and a fixed length.",
            "RFC 8446 §7.1: Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length).",
            "transcript_hash = ____\nreturn hkdf_expand_label(secret, label, ____, ____, hash_name)",
        ),
        fill=("hashlib.new(hash_name, messages).digest()", "transcript_hash", "len(transcript_hash)"),
    )
)


def _suite_for(key_length: int, hash_name: str) -> Any:
    for suite in SUITES.values():
        if suite.key_len == key_length and suite.hash_name == hash_name and "CCM" not in suite.name:
            return suite
    raise ValueError(f"no TLS 1.3 suite with a {key_length}-byte key and {hash_name}")


def _tk_ref(secret: bytes, key_length: int, hash_name: str = "sha256") -> tuple[bytes, bytes]:
    return keyschedule.traffic_keys(secret, _suite_for(key_length, hash_name))


def _tk_variant(
    key_label: bytes = b"key",
    iv_label: bytes = b"iv",
    iv_len: int | None = 12,
    swap: bool = False,
    hashed_ctx: bool = False,
    fixed_hash: str | None = None,
) -> Callable[..., tuple[bytes, bytes]]:
    def variant(secret: bytes, key_length: int, hash_name: str = "sha256") -> tuple[bytes, bytes]:
        hash_name = fixed_hash or hash_name
        ctx = hashlib.new(hash_name).digest() if hashed_ctx else b""
        key = keyschedule.hkdf_expand_label(secret, key_label, ctx, key_length, hash_name)
        iv = keyschedule.hkdf_expand_label(secret, iv_label, ctx, iv_len or key_length, hash_name)
        return (iv, key) if swap else (key, iv)

    return variant


_TK_COMBOS = ((16, "sha256"), (32, "sha384"), (32, "sha256"))


def _tk_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        key_len, h = rng.choice(_TK_COMBOS)
        out.append(
            Case((_rand_bytes(rng, _hlen(h)), key_len, h), f"random {i + 1} ({key_len}-byte key, {h})", False)
        )
    return out


register(
    Task(
        id="traffic-keys",
        forbidden=(keyschedule.traffic_keys,),
        names=("key", "iv"),
        notebook="04-key-schedule",
        func_name="traffic_key_iv",
        title="traffic key and IV (RFC 8446 §7.3)",
        reference=_tk_ref,
        fixed=lambda: [
            Case(
                (_v("server_handshake_traffic_secret"), 16, "sha256"), "RFC 8448: server handshake key and IV"
            ),
            Case(
                (_v("client_application_traffic_secret_0"), 16, "sha256"),
                "RFC 8448: client application key and IV",
            ),
            Case((SHA384_SECRET, 32, "sha384"), f"{SHA384}: TLS_AES_256_GCM_SHA384"),
        ],
        randomized=_tk_random,
        mistakes=[
            Mistake(
                _tk_variant(iv_len=None),
                "the IV is 12 bytes (iv_length) for every TLS 1.3 AEAD; yours has the key's length",
            ),
            Mistake(_tk_variant(swap=True), "return (key, iv) in that order"),
            Mistake(
                _tk_variant(b"tls13 key", b"tls13 iv"),
                'your hkdf_expand_label adds "tls13 " itself: pass b"key" and b"iv", not b"tls13 key"',
            ),
            Mistake(
                _tk_variant(b"write_key", b"write_iv"),
                'the labels are just "key" and "iv" ([sender]_write_key is only the name of the result)',
            ),
            Mistake(_tk_variant(hashed_ctx=True), 'the context is empty here (""), not Hash("")'),
            Mistake(
                _tk_variant(fixed_hash="sha256"),
                "pass hash_name on to HKDF-Expand-Label: a SHA-384 suite derives its key and IV with SHA-384",
            ),
        ],
        hints=(
            "Two HKDF-Expand-Label calls on the same traffic secret, with different labels and lengths.",
            'RFC 8446 §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length), ..._iv likewise with "iv".',
            "key = hkdf_expand_label(secret, ____, b'', ____, hash_name)\niv = hkdf_expand_label(secret, ____, b'', ____, hash_name)\nreturn key, iv",
        ),
        fill=("b'key'", "key_length", "b'iv'", "12"),
    )
)


def _hs_ref(shared_secret: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.KeySchedule(hash_name).set_handshake_secret(shared_secret)


def _hs_variant(
    skip_derived: bool = False, swap: bool = False, empty_ctx: bool = False
) -> Callable[..., bytes]:
    def variant(shared_secret: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = keyschedule.hkdf_extract(bytes(n), bytes(n), hash_name)
        if skip_derived:
            salt = early
        elif empty_ctx:
            salt = keyschedule.hkdf_expand_label(early, b"derived", b"", n, hash_name)
        else:
            salt = keyschedule.derive_secret(early, b"derived", b"", hash_name)
        if swap:
            return keyschedule.hkdf_extract(shared_secret, salt, hash_name)
        return keyschedule.hkdf_extract(salt, shared_secret, hash_name)

    return variant


register(
    Task(
        id="handshake-secret",
        forbidden=(keyschedule.KeySchedule.set_handshake_secret,),
        notebook="04-key-schedule",
        func_name="handshake_secret",
        title="the Handshake Secret (RFC 8446 §7.1)",
        reference=_hs_ref,
        fixed=lambda: [
            Case((_v("ecdhe_shared_secret"), "sha256"), "RFC 8448 simple 1-RTT"),
            Case((_HRR["ecdhe_shared_secret"], "sha256"), "RFC 8448 HelloRetryRequest trace"),
            Case((_v("ecdhe_shared_secret"), "sha384"), f"{SHA384}: RFC 8448's shared secret, SHA-384"),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, 32), h), f"random {i + 1} ({h})", False)
            for i, h in enumerate(("sha256", "sha384", "sha384", "sha256"))
        ],
        mistakes=[
            Mistake(
                _hs_variant(skip_derived=True),
                'the salt is Derive-Secret(Early Secret, "derived", ""), not the Early Secret itself',
            ),
            Mistake(
                _hs_variant(swap=True),
                "HKDF-Extract(salt, IKM): the salt is the derived secret, the IKM is the (EC)DHE shared secret",
            ),
            Mistake(
                _hs_variant(empty_ctx=True),
                'Derive-Secret hashes its (empty) messages: the context is Hash(""), not b""',
            ),
        ],
        hints=(
            "Three steps: Early Secret, then the 'derived' secret, then one more Extract with the shared secret.",
            "RFC 8446 §7.1, the key schedule diagram (no PSK: the Early Secret's IKM is Hash.length zeros).",
            "zeros = bytes(hashlib.new(hash_name).digest_size)\nearly_secret = hkdf_extract(zeros, ____, hash_name)\nsalt = derive_secret(early_secret, ____, b'', hash_name)\nreturn hkdf_extract(____, ____, hash_name)",
        ),
        fill=("zeros", "b'derived'", "salt", "shared_secret"),
    )
)
