"""Notebook 07, the handshake: ``finished_verify_data``, ``transcript_after_hrr``.

The notebook's capstone, which plugs the learner's functions into tlslab's client, is in ``capstone``.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable

from tlslab import keyschedule
from tlslab.course.checks.common import _HRR, _T, _hlen, _rand_bytes, _v
from tlslab.course.checks.core import Case, Mistake, Task, register


def _fin_variant(kind: str) -> Callable[..., bytes]:
    def variant(base_key: bytes, transcript_hash: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        fk = keyschedule.finished_key(base_key, hash_name)
        if kind == "no-finished-key":
            return hmac.digest(base_key, transcript_hash, hash_name)
        if kind == "double-hash":
            return hmac.digest(fk, hashlib.new(hash_name, transcript_hash).digest(), hash_name)
        if kind == "swapped":
            return hmac.digest(transcript_hash, fk, hash_name)
        if kind == "ctx":
            fk = keyschedule.hkdf_expand_label(
                base_key, b"finished", hashlib.new(hash_name).digest(), n, hash_name
            )
        return hmac.digest(fk, transcript_hash, hash_name)

    return variant


def _th(*names: str, t: dict[str, bytes] = _T) -> bytes:
    return hashlib.sha256(b"".join(t[n] for n in names)).digest()


register(
    Task(
        id="finished-verify-data",
        notebook="07-the-handshake",
        func_name="finished_verify_data",
        title="Finished verify_data (RFC 8446 §4.4.4)",
        reference=keyschedule.finished_verify_data,
        fixed=lambda: [
            Case(
                (
                    _v("server_handshake_traffic_secret"),
                    _th(
                        "client_hello",
                        "server_hello",
                        "encrypted_extensions",
                        "server_certificate",
                        "server_certificate_verify",
                    ),
                    "sha256",
                ),
                "RFC 8448: server Finished",
            ),
            Case(
                (
                    _v("client_handshake_traffic_secret"),
                    _th(
                        "client_hello",
                        "server_hello",
                        "encrypted_extensions",
                        "server_certificate",
                        "server_certificate_verify",
                        "server_finished",
                    ),
                    "sha256",
                ),
                "RFC 8448: client Finished",
            ),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, _hlen(h)), h), f"random {i + 1} ({h})", False)
            for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
        ],
        mistakes=[
            Mistake(
                _fin_variant("no-finished-key"),
                'key the HMAC with finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length), not with the traffic secret itself',
            ),
            Mistake(
                _fin_variant("double-hash"),
                "transcript_hash is already the hash: HMAC it as it is, do not hash it again",
            ),
            Mistake(_fin_variant("swapped"), "HMAC(finished_key, transcript_hash): the key comes first"),
            Mistake(_fin_variant("ctx"), 'finished_key has an empty context (""), not Hash("")'),
        ],
        hints=(
            "First derive finished_key from the base key, then one HMAC over the transcript hash.",
            'RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length); verify_data = HMAC(finished_key, Transcript-Hash(...)).',
            "fk = hkdf_expand_label(base_key, b'finished', b'', n, hash_name); return hmac.digest(fk, transcript_hash, hash_name)",
        ),
    )
)


def _hrr_ref(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.hrr_message_hash(ch1, hash_name) + hrr + ch2


def _hrr_variant(kind: str) -> Callable[..., bytes]:
    def variant(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
        digest = hashlib.new(hash_name, ch1).digest()
        if kind == "raw":
            return ch1 + hrr + ch2
        if kind == "no-header":
            return digest + hrr + ch2
        if kind == "short-header":
            return bytes([254, len(digest)]) + digest + hrr + ch2
        if kind == "body-only":
            return bytes([254, 0, 0, len(digest)]) + hashlib.new(hash_name, ch1[4:]).digest() + hrr + ch2
        if kind == "no-hrr":
            return bytes([254, 0, 0, len(digest)]) + digest + ch2
        return bytes([254, 0, 0, 32]) + hashlib.sha256(ch1).digest() + hrr + ch2

    return variant


def _hrr_random(rng: random.Random) -> list[Case]:
    out = []
    for i, h in enumerate(("sha256", "sha384", "sha384")):
        msgs = [
            bytes([t]) + (n := rng.randint(10, 300)).to_bytes(3, "big") + _rand_bytes(rng, n)
            for t in (1, 2, 1)
        ]
        out.append(Case((*msgs, h), f"random {i + 1} ({h})", False))
    return out


register(
    Task(
        id="hrr-transcript",
        notebook="07-the-handshake",
        func_name="transcript_after_hrr",
        title="the transcript after a HelloRetryRequest (RFC 8446 §4.4.1)",
        reference=_hrr_ref,
        fixed=lambda: [
            Case(
                (_HRR["client_hello_1"], _HRR["hello_retry_request"], _HRR["client_hello_2"], "sha256"),
                "RFC 8448 §5: ClientHello1, HRR, ClientHello2",
            )
        ],
        randomized=_hrr_random,
        mistakes=[
            Mistake(
                _hrr_variant("raw"),
                "ClientHello1 is replaced by a synthetic message_hash message; it does not stay in the transcript as it is",
            ),
            Mistake(
                _hrr_variant("no-header"),
                "message_hash is a handshake message: it needs its 4-byte header 0xfe 00 00 Hash.length before Hash(ClientHello1)",
            ),
            Mistake(
                _hrr_variant("short-header"),
                "the handshake header is 4 bytes: type 254, then a 3-byte length (00 00 20 for SHA-256)",
            ),
            Mistake(
                _hrr_variant("body-only"), "hash the whole ClientHello1, its 4-byte handshake header included"
            ),
            Mistake(
                _hrr_variant("no-hrr"),
                "the HelloRetryRequest itself stays in the transcript, between message_hash and ClientHello2",
            ),
            Mistake(
                _hrr_variant("sha256"),
                "hash ClientHello1 with hash_name (48 bytes for SHA-384), also in the header's length",
            ),
        ],
        hints=(
            "Replace ClientHello1 by a tiny handshake message that carries only its hash; keep the rest as it is.",
            "RFC 8446 §4.4.1: Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) = Hash(message_hash || 00 00 Hash.length || Hash(ClientHello1) || HelloRetryRequest || ... || Mn).",
            "d = hashlib.new(hash_name, client_hello1).digest(); return bytes([254, 0, 0, len(d)]) + d + hello_retry_request + client_hello2",
        ),
    )
)
