"""Notebook 08, beyond the happy path: ``ticket_psk``, ``psk_binder``, ``client_early_traffic_secret``."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable

from tlslab import keyschedule, psk
from tlslab.course.checks.common import SHA384, SHA384_SECRET, _hlen, _rand_bytes, _v
from tlslab.course.checks.core import Case, Mistake, Task, register
from tlslab.course.rfc8448 import trace

_RES = trace("resumed_0rtt")


def _early_secret(psk_: bytes, hash_name: str) -> bytes:
    return keyschedule.hkdf_extract(b"", psk_, hash_name)


def _tpsk_variant(kind: str) -> Callable[..., bytes]:
    def variant(rms: bytes, ticket_nonce: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        if kind == "label":
            return keyschedule.hkdf_expand_label(rms, b"res master", ticket_nonce, n, hash_name)
        if kind == "hashed":
            return keyschedule.derive_secret(rms, b"resumption", ticket_nonce, hash_name)
        if kind == "no-nonce":
            return keyschedule.hkdf_expand_label(rms, b"resumption", b"", n, hash_name)
        if kind == "rms":
            return rms
        return keyschedule.hkdf_expand_label(rms, b"resumption", ticket_nonce, 32, hash_name)

    return variant


def _tpsk_random(rng: random.Random) -> list[Case]:
    return [
        Case(
            (_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, rng.choice((1, 2, 8, 32))), h),
            f"random {i + 1} ({h})",
            False,
        )
        for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
    ]


register(
    Task(
        id="ticket-psk",
        notebook="08-beyond-the-happy-path",
        func_name="ticket_psk",
        title="the PSK a ticket names (RFC 8446 §4.6.1)",
        reference=keyschedule.resumption_psk,
        fixed=lambda: [
            Case(
                (_v("resumption_master_secret"), _v("ticket_nonce"), "sha256"),
                "RFC 8448 §3: the ticket's PSK (nonce 00 00)",
            ),
            Case((_v("resumption_master_secret"), b"\x01", "sha256"), "the same secret, ticket nonce 01"),
            Case((SHA384_SECRET, b"\x00\x01", "sha384"), f"{SHA384}: ticket nonce 00 01"),
        ],
        randomized=_tpsk_random,
        mistakes=[
            Mistake(
                _tpsk_variant("rms"),
                "every ticket gets its own PSK: expand the resumption_master_secret, do not return it",
            ),
            Mistake(
                _tpsk_variant("label"),
                'the label is "resumption" ("res master" is the label that made the resumption_master_secret)',
            ),
            Mistake(
                _tpsk_variant("hashed"),
                "the context is the ticket_nonce itself, not its hash: HKDF-Expand-Label, not Derive-Secret",
            ),
            Mistake(
                _tpsk_variant("no-nonce"),
                "put the ticket_nonce in the context: without it, every ticket of the connection has the same PSK",
            ),
            Mistake(_tpsk_variant("32"), "the PSK is Hash.length bytes: 48 for SHA-384; yours is always 32"),
        ],
        hints=(
            "One HKDF-Expand-Label on the resumption_master_secret; the ticket nonce goes in as the context.",
            'RFC 8446 §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).',
            "length = hashlib.new(hash_name).digest_size\nreturn hkdf_expand_label(resumption_master_secret, ____, ____, length, hash_name)",
        ),
        fill=("b'resumption'", "ticket_nonce"),
    )
)


def _binder_variant(kind: str) -> Callable[..., bytes]:
    def variant(psk_: bytes, truncated_client_hello: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = _early_secret(psk_, hash_name)
        if kind == "salt":
            early = keyschedule.hkdf_extract(psk_, bytes(n), hash_name)
        label = b"ext binder" if kind == "ext" else b"res binder"
        binder_key = keyschedule.derive_secret(early, label, b"", hash_name)
        if kind == "empty-ctx":
            binder_key = keyschedule.hkdf_expand_label(early, label, b"", n, hash_name)
        th = hashlib.new(hash_name, truncated_client_hello).digest()
        if kind == "no-finished-key":
            return hmac.digest(binder_key, th, hash_name)
        if kind == "unhashed":
            return hmac.digest(
                keyschedule.finished_key(binder_key, hash_name), truncated_client_hello, hash_name
            )
        if kind == "psk-key":
            return keyschedule.finished_verify_data(psk_, th, hash_name)
        return keyschedule.finished_verify_data(binder_key, th, hash_name)

    return variant


def _binder_random(rng: random.Random) -> list[Case]:
    out = []
    for i, h in enumerate(("sha256", "sha384", "sha256", "sha384")):
        body = _rand_bytes(rng, rng.randint(60, 400))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), b"\x01" + len(body).to_bytes(3, "big") + body, h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


register(
    Task(
        id="psk-binder",
        forbidden=(psk.compute_binder,),
        notebook="08-beyond-the-happy-path",
        func_name="psk_binder",
        title="the PSK binder over the truncated ClientHello (RFC 8446 §4.2.11.2)",
        reference=lambda psk_, truncated, hash_name="sha256": psk.compute_binder(psk_, hash_name, truncated),
        fixed=lambda: [
            Case(
                (_RES["psk"], _RES["client_hello_truncated"], "sha256"),
                "RFC 8448 §4: the resumed ClientHello's binder",
            ),
            Case(
                (SHA384_SECRET, _RES["client_hello_truncated"], "sha384"), f"{SHA384}: the same ClientHello"
            ),
        ],
        randomized=_binder_random,
        mistakes=[
            Mistake(
                _binder_variant("ext"),
                'a ticket is a resumption PSK: the label is "res binder" ("ext binder" is for external PSKs)',
            ),
            Mistake(
                _binder_variant("salt"),
                "Early Secret = HKDF-Extract(salt=0, IKM=PSK): the PSK is the IKM, the salt is zeros",
            ),
            Mistake(
                _binder_variant("empty-ctx"),
                'binder_key = Derive-Secret(Early Secret, "res binder", ""): its context is Hash(""), not b""',
            ),
            Mistake(
                _binder_variant("no-finished-key"),
                'the binder is computed like Finished: HMAC with finished_key = HKDF-Expand-Label(binder_key, "finished", "", Hash.length), not with binder_key itself',
            ),
            Mistake(
                _binder_variant("unhashed"),
                "HMAC the transcript *hash*: Transcript-Hash(truncated ClientHello), not the ClientHello bytes",
            ),
            Mistake(
                _binder_variant("psk-key"),
                "the base key is binder_key, derived from the Early Secret, not the PSK itself",
            ),
        ],
        hints=(
            "Early Secret from the PSK, then binder_key, then a Finished-style HMAC over the hash of the truncated ClientHello.",
            'RFC 8446 §4.2.11.2 and §7.1: binder_key = Derive-Secret(HKDF-Extract(0, PSK), "res binder", ""); the binder is computed as Finished (§4.4.4) with BaseKey = binder_key.',
            "length = hashlib.new(hash_name).digest_size\nearly_secret = hkdf_extract(b'', ____, hash_name)\nbinder_key = derive_secret(early_secret, ____, b'', hash_name)\nfinished_key = hkdf_expand_label(binder_key, b'finished', b'', length, hash_name)\ntranscript_hash = hashlib.new(hash_name, ____).digest()\nreturn hmac.digest(finished_key, transcript_hash, hash_name)",
        ),
        fill=("psk", "b'res binder'", "truncated_client_hello"),
    )
)


def _cets_ref(psk_: bytes, client_hello: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.KeySchedule(hash_name, psk_).client_early_traffic_secret(client_hello)


def _cets_variant(kind: str) -> Callable[..., bytes]:
    def variant(psk_: bytes, client_hello: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = _early_secret(psk_, hash_name)
        label = b"c e traffic"
        if kind == "no-psk":
            early = keyschedule.hkdf_extract(b"", bytes(n), hash_name)
        elif kind == "salt":
            early = keyschedule.hkdf_extract(psk_, bytes(n), hash_name)
        elif kind == "derived":
            early = keyschedule.derive_secret(early, b"derived", b"", hash_name)
        elif kind == "exporter":
            label = b"e exp master"
        elif kind == "binder":
            label = b"res binder"
        elif kind == "long-label":
            label = b"client early traffic"
        elif kind == "psk-direct":
            early = psk_
        messages = b"" if kind == "binder" else client_hello
        return keyschedule.derive_secret(early, label, messages, "sha256" if kind == "sha256" else hash_name)

    return variant


register(
    Task(
        id="early-traffic-secret",
        forbidden=(keyschedule.KeySchedule.client_early_traffic_secret,),
        notebook="08-beyond-the-happy-path",
        func_name="client_early_traffic_secret",
        title="client_early_traffic_secret, the key of 0-RTT data (RFC 8446 §7.1)",
        reference=_cets_ref,
        fixed=lambda: [
            Case((_RES["psk"], _RES["client_hello"], "sha256"), "RFC 8448 §4: the 0-RTT ClientHello"),
            Case((SHA384_SECRET, _RES["client_hello"], "sha384"), f"{SHA384}: the same ClientHello"),
        ],
        randomized=lambda rng: [
            Case(
                (_rand_bytes(rng, _hlen(h)), b"\x01\x00\x00\x40" + _rand_bytes(rng, 64), h),
                f"random {i + 1} ({h})",
                False,
            )
            for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
        ],
        mistakes=[
            Mistake(
                _cets_variant("no-psk"),
                "the Early Secret's IKM is the PSK here; zeros are only for a handshake without a PSK",
            ),
            Mistake(
                _cets_variant("salt"),
                "Early Secret = HKDF-Extract(salt=0, IKM=PSK): the PSK is the IKM, the salt is zeros",
            ),
            Mistake(
                _cets_variant("derived"),
                'derive from the Early Secret itself, not from Derive-Secret(Early Secret, "derived", "") (that one salts the Handshake Secret)',
            ),
            Mistake(
                _cets_variant("exporter"),
                'the label is "c e traffic" ("e exp master" gives the early_exporter_master_secret)',
            ),
            Mistake(
                _cets_variant("binder"),
                'the label is "c e traffic" over the ClientHello; "res binder" over "" gives the binder_key',
            ),
            Mistake(_cets_variant("sha256"), "use hash_name throughout (48-byte secrets for SHA-384 suites)"),
            Mistake(
                _cets_variant("long-label"),
                'the label is the short "c e traffic" (client_early_traffic_secret is only the name of the result)',
            ),
            Mistake(
                _cets_variant("psk-direct"),
                "the PSK is not the Early Secret: extract first, Early Secret = HKDF-Extract(0, PSK)",
            ),
        ],
        hints=(
            "Two steps: the Early Secret from the PSK, then one Derive-Secret over the ClientHello.",
            'RFC 8446 §7.1: Early Secret = HKDF-Extract(0, PSK); client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).',
            "early_secret = hkdf_extract(b'', ____, hash_name)\nreturn derive_secret(early_secret, ____, client_hello, hash_name)",
        ),
        fill=("psk", "b'c e traffic'"),
    )
)
