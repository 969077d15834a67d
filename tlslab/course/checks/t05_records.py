"""Notebook 05, AEAD and records: ``per_record_nonce``, ``decode_inner_plaintext``, ``decrypt_record``."""

from __future__ import annotations

import random
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlslab import record
from tlslab.course.checks.common import _rand_bytes, _v
from tlslab.course.checks.core import Case, Mistake, Task, register


def _nonce_variant(kind: str) -> Callable[[bytes, int], bytes]:
    def variant(iv: bytes, seq: int) -> bytes:
        n = len(iv)
        if kind == "left":
            pad = seq.to_bytes(8, "big") + bytes(n - 8)
            return bytes(a ^ b for a, b in zip(iv, pad, strict=True))
        if kind == "little":
            return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(n, "little"), strict=True))
        if kind == "gcm":
            return iv[:4] + seq.to_bytes(8, "big")
        if kind == "add":
            return ((int.from_bytes(iv, "big") + seq) % (1 << (8 * n))).to_bytes(n, "big")
        if kind == "plus1":
            return record.per_record_nonce(iv, seq + 1)
        return iv

    return variant


register(
    Task(
        id="per-record-nonce",
        notebook="05-aead-and-records",
        func_name="per_record_nonce",
        title="the per-record nonce (RFC 8446 §5.3)",
        reference=record.per_record_nonce,
        fixed=lambda: [
            Case((_v("server_handshake_write_iv"), 0), "RFC 8448 server handshake IV, record 0"),
            Case((_v("server_application_write_iv"), 1), "RFC 8448 server application IV, record 1"),
            Case((bytes(12), 258), "zero IV, record 258"),
        ],
        randomized=lambda rng: [
            Case(
                (_rand_bytes(rng, 12), rng.choice((rng.randrange(1, 300), rng.randrange(1 << 64)))),
                f"random {i + 1}",
                False,
            )
            for i in range(6)
        ],
        mistakes=[
            Mistake(
                _nonce_variant("left"),
                "XOR the sequence number into the *right* end of the IV: pad it on the left to 12 bytes",
            ),
            Mistake(
                _nonce_variant("little"),
                "the sequence number is big-endian (64 bits, left-padded with zeros)",
            ),
            Mistake(
                _nonce_variant("gcm"),
                "that is a TLS 1.2 GCM nonce (4 IV bytes + explicit counter); TLS 1.3 XORs the sequence number into all 12 IV bytes",
            ),
            Mistake(_nonce_variant("add"), "XOR, do not add: carries change the bytes to the left"),
            Mistake(
                _nonce_variant("plus1"),
                "the first record has sequence number 0: use seq as given, not seq + 1",
            ),
            Mistake(_nonce_variant("iv"), "the nonce changes with every record: XOR the sequence number in"),
        ],
        hints=(
            "Turn seq into as many bytes as the IV, then XOR the two byte strings.",
            "RFC 8446 §5.3: the 64-bit record sequence number, encoded in network byte order and padded to the left with zeros to iv_length, is XORed with the IV.",
            "return (int.from_bytes(iv, 'big') ^ seq).to_bytes(len(iv), 'big')",
        ),
    )
)


def _inner_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        content = _rand_bytes(rng, rng.randint(1, 60))
        if i % 2:
            content += bytes(rng.randint(1, 3))  # content that itself ends in zeros
        ctype = rng.choice((21, 22, 23))
        out.append(
            Case(
                (record.encode_inner_plaintext(ctype, content, rng.choice((0, 0, 1, 7, 40))),),
                f"random {i + 1}",
                False,
            )
        )
    return out


register(
    Task(
        id="inner-plaintext",
        notebook="05-aead-and-records",
        func_name="decode_inner_plaintext",
        title="TLSInnerPlaintext: content type and padding (RFC 8446 §5.2, §5.4)",
        reference=record.decode_inner_plaintext,
        fixed=lambda: [
            Case((b"hello\x17",), "b'hello\\x17' (no padding)"),
            Case((b"hello\x17\x00\x00\x00",), "b'hello\\x17' + 3 zero bytes of padding"),
            Case((b"\x01\x00\x00\x00\x16\x00",), "content with zeros of its own, then type 22 and padding"),
        ],
        randomized=_inner_random,
        mistakes=[
            Mistake(
                lambda p: (p[-1], p[:-1]),
                "strip the zero padding first: the content type is the last *non-zero* byte",
            ),
            Mistake(
                lambda p: (p.rstrip(b"\0")[-1], p.rstrip(b"\0")),
                "the content is everything before the type byte: drop the type byte from it",
            ),
            Mistake(
                lambda p: (p[0], p.rstrip(b"\0")[1:]),
                "the content type comes after the content (the last non-zero byte), not first",
            ),
            Mistake(
                lambda p: (p.replace(b"\0", b"")[-1], p.replace(b"\0", b"")[:-1]),
                "strip zeros only from the end: the content may contain zero bytes of its own",
            ),
            Mistake(
                lambda p: (p.rstrip(b"\0")[-1], p[:-1]),
                "remove the padding from the content as well: content = plaintext.rstrip(b'\\0')[:-1]",
            ),
        ],
        hints=(
            "Walk back from the end over the zero bytes; the first non-zero byte is the type.",
            "RFC 8446 §5.4 (record padding) and the TLSInnerPlaintext struct in §5.2.",
            "stripped = plaintext.rstrip(b'\\x00'); return stripped[-1], stripped[:-1]",
        ),
    )
)


def _decrypt_ref(key: bytes, iv: bytes, seq: int, rec: bytes) -> tuple[int, bytes]:
    plaintext = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], rec[:5])
    return record.decode_inner_plaintext(plaintext)


def _decrypt_variant(kind: str) -> Callable[..., tuple[int, bytes]]:
    def variant(key: bytes, iv: bytes, seq: int, rec: bytes) -> tuple[int, bytes]:
        p = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], rec[:5])
        if kind == "no-strip":
            return p[-1], p[:-1]
        if kind == "keep-type":
            return p.rstrip(b"\0")[-1], p.rstrip(b"\0")
        if kind == "outer-type":
            return rec[0], p.rstrip(b"\0")[:-1]
        return p[-1], p

    return variant


def _encrypt(key: bytes, iv: bytes, seq: int, ctype: int, content: bytes, padding: int) -> bytes:
    inner = record.encode_inner_plaintext(ctype, content, padding)
    header = bytes([23, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    return header + AESGCM(key).encrypt(record.per_record_nonce(iv, seq), inner, header)


def _decrypt_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        key, iv, seq = _rand_bytes(rng, rng.choice((16, 32))), _rand_bytes(rng, 12), rng.randrange(0, 1000)
        rec = _encrypt(
            key,
            iv,
            seq,
            rng.choice((21, 22, 23)),
            _rand_bytes(rng, rng.randint(1, 80)),
            rng.choice((0, 3, 20)),
        )
        out.append(Case((key, iv, seq, rec), f"random {i + 1}", False))
    return out


register(
    Task(
        id="decrypt-record",
        notebook="05-aead-and-records",
        func_name="decrypt_record",
        title="decrypt a record (RFC 8446 §5.2)",
        reference=_decrypt_ref,
        fixed=lambda: [
            Case(
                (
                    _v("server_handshake_write_key"),
                    _v("server_handshake_write_iv"),
                    0,
                    _v("server_handshake_flight_record"),
                ),
                "RFC 8448: the server's encrypted flight",
            ),
            Case(
                (
                    _v("client_handshake_write_key"),
                    _v("client_handshake_write_iv"),
                    0,
                    _v("client_finished_record"),
                ),
                "RFC 8448: the client Finished",
            ),
            Case(
                (bytes(16), bytes(12), 5, _encrypt(bytes(16), bytes(12), 5, 23, b"GET / HTTP/1.1\r\n", 10)),
                "a padded application_data record, seq 5",
            ),
        ],
        randomized=_decrypt_random,
        mistakes=[
            Mistake(_decrypt_variant("no-strip"), "remove the zero padding before you read the content type"),
            Mistake(
                _decrypt_variant("keep-type"), "the content type byte is not part of the content: drop it"
            ),
            Mistake(
                _decrypt_variant("outer-type"),
                "the outer header always says 23 (application_data); the real type is the last non-zero byte inside",
            ),
            Mistake(
                _decrypt_variant("raw"),
                "return (content type, content) after removing the type byte and the padding",
            ),
        ],
        on_error={
            "InvalidTag": "The AEAD rejected the record: the nonce is per_record_nonce(iv, seq), the additional data is the 5-byte header record[:5], the ciphertext (with its 16-byte tag) is record[5:].",
            "IndexError": "Is the plaintext empty? Check which bytes you decrypt: record[5:].",
        },
        hints=(
            "Split the record into header and ciphertext, decrypt with AESGCM, then undo TLSInnerPlaintext.",
            "RFC 8446 §5.2 (additional_data = the record header) and §5.3 (the nonce).",
            "p = AESGCM(key).decrypt(per_record_nonce(iv, seq), record[5:], record[:5]); s = p.rstrip(b'\\0'); return s[-1], s[:-1]",
        ),
    )
)
