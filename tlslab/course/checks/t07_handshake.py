"""Notebook 07, the handshake: ``finished_verify_data``, ``server_finished_ok``, ``client_finished_record``,
``transcript_after_hrr``.

The notebook's capstone, which plugs the learner's functions into tlslab's client, is in ``capstone``.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable

from tlslab import keyschedule
from tlslab.course.checks.common import _HRR, _T, SHA384, SHA384_SECRET, _hlen, _rand_bytes, _v
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
        if kind == "sha256":
            fk = keyschedule.finished_key(base_key, "sha256")[: _hlen("sha256")]
            return hmac.digest(fk, transcript_hash, "sha256")
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
            Case((SHA384_SECRET, bytes(48), "sha384"), f"{SHA384}: over 48 zero bytes"),
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
            Mistake(
                _fin_variant("sha256"),
                "use hash_name for both finished_key and the HMAC: SHA-384 suites have 48-byte verify_data",
            ),
        ],
        hints=(
            "First derive finished_key from the base key, then one HMAC over the transcript hash.",
            'RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length); verify_data = HMAC(finished_key, Transcript-Hash(...)).',
            "finished_key = hkdf_expand_label(base_key, ____, b'', hashlib.new(hash_name).digest_size, hash_name)\nreturn hmac.digest(____, ____, hash_name)",
        ),
        fill=("b'finished'", "finished_key", "transcript_hash"),
    )
)


# ---------------------------------------------------------------- the server's Finished, the client's


def server_finished_ok_ref(
    server_handshake_traffic_secret: bytes, transcript_hash: bytes, finished: bytes, hash_name: str = "sha256"
) -> bool:
    """Is ``finished`` (the whole message) the server's Finished over ``transcript_hash``? (§4.4.4)"""
    verify_data = keyschedule.finished_verify_data(
        server_handshake_traffic_secret, transcript_hash, hash_name
    )
    return hmac.compare_digest(finished, bytes([20, 0, 0, len(verify_data)]) + verify_data)


def _sha384_finished() -> bytes:
    vd = keyschedule.finished_verify_data(SHA384_SECRET, bytes(48), "sha384")
    return bytes([20, 0, 0, 48]) + vd


def _sfo_th() -> bytes:
    return _th(
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "server_certificate",
        "server_certificate_verify",
    )


def _sfo_random(rng: random.Random) -> list[Case]:
    out = []
    for i, h in enumerate(("sha256", "sha384", "sha256", "sha384")):
        secret, th = _rand_bytes(rng, _hlen(h)), _rand_bytes(rng, _hlen(h))
        vd = keyschedule.finished_verify_data(secret, th, h)
        fin = bytes([20, 0, 0, len(vd)]) + vd
        if i % 2:
            fin = fin[:-1] + bytes([fin[-1] ^ 1])
        out.append(Case((secret, th, fin, h), f"random {i + 1} ({h})", False))
    return out


register(
    Task(
        id="server-finished-ok",
        forbidden=(),
        notebook="07-the-handshake",
        func_name="server_finished_ok",
        title="check the server's Finished (RFC 8446 §4.4.4)",
        reference=server_finished_ok_ref,
        fixed=lambda: [
            Case(
                (_v("server_handshake_traffic_secret"), _sfo_th(), _v("server_finished"), "sha256"),
                "RFC 8448: the server Finished",
            ),
            Case(
                (_v("client_handshake_traffic_secret"), _sfo_th(), _v("server_finished"), "sha256"),
                "the same Finished, checked with the client's secret",
            ),
            Case(
                (_v("server_handshake_traffic_secret"), bytes(32), _v("server_finished"), "sha256"),
                "the same Finished over another transcript",
            ),
            Case(
                (SHA384_SECRET, bytes(48), _sha384_finished(), "sha384"),
                f"{SHA384}: a Finished with 48 bytes of verify_data",
            ),
        ],
        randomized=_sfo_random,
        mistakes=[
            Mistake(
                lambda s, th, f, h="sha256": True,
                "a Finished that does not match must be refused: return False then",
            ),
            Mistake(
                lambda s, th, f, h="sha256": f == keyschedule.finished_verify_data(s, th, h),
                "finished is the whole message: compare its verify_data, after the 4-byte header (type 20)",
            ),
        ],
        hints=(
            "Compute the verify_data the server should have sent, then compare it with what it sent.",
            "RFC 8446 §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(ClientHello...CertificateVerify)),"
            " finished_key from server_handshake_traffic_secret; a mismatch is a decrypt_error alert.",
            "expected = finished_verify_data(server_handshake_traffic_secret, transcript_hash, hash_name)\n"
            "header = bytes([____, 0, 0, len(expected)])\n"
            "return hmac.compare_digest(finished, ____ + expected)",
        ),
        fill=("20", "header"),
    )
)


def client_finished_record_ref(
    client_handshake_traffic_secret: bytes, transcript_hash: bytes, key_length: int, hash_name: str = "sha256"
) -> bytes:
    """The client's Finished, protected as record 0 under the client handshake key (§4.4.4, §5.2)."""
    from tlslab.course.checks.t04_key_schedule import _tk_ref
    from tlslab.course.checks.t05_records import _encrypt_ref

    verify_data = keyschedule.finished_verify_data(
        client_handshake_traffic_secret, transcript_hash, hash_name
    )
    key, iv = _tk_ref(client_handshake_traffic_secret, key_length, hash_name)
    return _encrypt_ref(key, iv, 0, 22, bytes([20, 0, 0, len(verify_data)]) + verify_data)


def _cfr_variant(kind: str) -> Callable[..., bytes]:
    def variant(secret: bytes, th: bytes, key_length: int, hash_name: str = "sha256") -> bytes:
        from tlslab.course.checks.t04_key_schedule import _tk_ref
        from tlslab.course.checks.t05_records import _encrypt_ref

        vd = keyschedule.finished_verify_data(secret, th, hash_name)
        key, iv = _tk_ref(secret, key_length, hash_name)
        message = vd if kind == "no-header" else bytes([20, 0, 0, len(vd)]) + vd
        return _encrypt_ref(key, iv, 1 if kind == "seq1" else 0, 23 if kind == "type23" else 22, message)

    return variant


def _cfr_th() -> bytes:
    return _th(
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "server_certificate",
        "server_certificate_verify",
        "server_finished",
    )


register(
    Task(
        id="client-finished-record",
        forbidden=(),
        notebook="07-the-handshake",
        func_name="client_finished_record",
        title="the client's Finished record (RFC 8446 §4.4.4, §5.2)",
        reference=client_finished_record_ref,
        fixed=lambda: [
            Case(
                (_v("client_handshake_traffic_secret"), _cfr_th(), 16, "sha256"),
                "RFC 8448: the client Finished record",
            ),
            Case((SHA384_SECRET, bytes(48), 32, "sha384"), f"{SHA384}: TLS_AES_256_GCM_SHA384"),
        ],
        randomized=lambda rng: [
            Case(
                (_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, _hlen(h)), k, h), f"random {i + 1} ({h})", False
            )
            for i, (k, h) in enumerate(((16, "sha256"), (32, "sha384"), (32, "sha256")))
        ],
        mistakes=[
            Mistake(
                _cfr_variant("no-header"),
                "encrypt the whole Finished message: type 20, a 3-byte length, then verify_data",
            ),
            Mistake(
                _cfr_variant("seq1"),
                "it is the first record under the client handshake key: sequence number 0",
            ),
            Mistake(
                _cfr_variant("type23"),
                "the inner content type of a handshake message is 22 (handshake), not 23",
            ),
        ],
        hints=(
            "verify_data, then the Finished message around it, then the record: four of your functions in a row.",
            "RFC 8446 §4.4.4 (Finished) and §5.2 (the record; the client handshake key's first record is number 0).",
            "verify_data = finished_verify_data(client_handshake_traffic_secret, transcript_hash, hash_name)\n"
            "finished = bytes([____, 0, 0, len(verify_data)]) + verify_data\n"
            "key, iv = traffic_key_iv(client_handshake_traffic_secret, key_length, hash_name)\n"
            "return encrypt_record(key, iv, ____, ____, finished)",
        ),
        fill=("20", "0", "22"),
    )
)


# ---------------------------------------------------------------- after a HelloRetryRequest


def _hrr_ref(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.hrr_message_hash(ch1, hash_name) + hrr + ch2


def _hrr_variant(kind: str) -> Callable[..., bytes]:
    def variant(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
        digest = hashlib.new(hash_name, ch1).digest()
        if kind == "raw":
            return ch1 + hrr + ch2
        if kind == "hashed":
            return hashlib.new(hash_name, bytes([254, 0, 0, len(digest)]) + digest + hrr + ch2).digest()
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
        forbidden=(keyschedule.hrr_message_hash,),
        notebook="07-the-handshake",
        func_name="transcript_after_hrr",
        title="the transcript after a HelloRetryRequest (RFC 8446 §4.4.1)",
        reference=_hrr_ref,
        fixed=lambda: [
            Case(
                (_HRR["client_hello_1"], _HRR["hello_retry_request"], _HRR["client_hello_2"], "sha256"),
                "RFC 8448 §5: ClientHello1, HRR, ClientHello2",
            ),
            Case(
                (_HRR["client_hello_1"], _HRR["hello_retry_request"], _HRR["client_hello_2"], "sha384"),
                f"{SHA384}: the same messages, SHA-384",
            ),
        ],
        randomized=_hrr_random,
        mistakes=[
            Mistake(
                _hrr_variant("raw"),
                "ClientHello1 is replaced by a synthetic message_hash message; it does not stay in the transcript as it is",
            ),
            Mistake(
                _hrr_variant("hashed"),
                "return the transcript's bytes (message_hash + HelloRetryRequest + ClientHello2), not their hash",
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
            "digest = hashlib.new(hash_name, ____).digest()\nmessage_hash = bytes([____, 0, 0, len(digest)]) + digest\nreturn message_hash + ____ + ____",
        ),
        fill=("client_hello1", "254", "hello_retry_request", "client_hello2"),
    )
)
