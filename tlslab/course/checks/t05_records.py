"""Notebook 05, AEAD and records: ``per_record_nonce``, ``pad_inner_plaintext``, ``decrypt_record``,
``encrypt_record``, and the messages inside: ``split_handshake``, ``certificate_list``.

Notebook 05 writes ``inner_plaintext(content_type, content, padding)`` and its inverse in full, so
the inner-plaintext task asks for a padding *policy* instead (RFC 8446 §5.4): pad the whole
TLSInnerPlaintext to a multiple of N bytes, within the 2^14 + 1 bytes §5.4 allows. Taking the
inner plaintext apart is graded inside ``decrypt_record``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlslab import record
from tlslab.constants import ContentType
from tlslab.course.checks.common import _rand_bytes, _v
from tlslab.course.checks.core import Case, Mistake, Outcome, Task, register
from tlslab.extensions import Extension
from tlslab.messages import Certificate, CertificateEntry, decode_handshake


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
            "return (int.from_bytes(iv, 'big') ____ seq).to_bytes(____, 'big')",
        ),
        fill=("^", "len(iv)"),
    )
)


def pad_inner_plaintext_ref(content_type: int, content: bytes, multiple: int) -> bytes:
    """TLSInnerPlaintext (RFC 8446 §5.2) padded with zeros to a multiple of ``multiple`` bytes, a
    padding policy of §5.4, but never beyond the 2^14 + 1 bytes §5.4 allows."""
    n = len(content) + 1
    target = min(-(-n // multiple) * multiple, record.MAX_INNER_PLAINTEXT)
    return record.encode_inner_plaintext(content_type, content, target - n)


def _pad_variant(
    whole_block: bool = False,
    content_only: bool = False,
    cap: int | None = record.MAX_INNER_PLAINTEXT,
    type_last: bool = False,
) -> Callable[[int, bytes, int], bytes]:
    def variant(content_type: int, content: bytes, multiple: int) -> bytes:
        n = len(content) if content_only else len(content) + 1
        target = (n // multiple + 1) * multiple if whole_block else -(-n // multiple) * multiple
        if cap is not None:
            target = min(target, cap)
        padding = bytes(max(target - n, 0))
        if type_last:
            return content + padding + bytes([content_type])
        return content + bytes([content_type]) + padding

    return variant


def _pad_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        multiple = rng.choice((16, 32, 100, 256, 1000, 4096))
        size = rng.randint(15_900, 16_384) if i == 5 else rng.choice((multiple - 1, rng.randint(0, 600)))
        out.append(
            Case(
                (rng.choice((21, 22, 23)), _rand_bytes(rng, max(size, 0)), multiple),
                f"random {i + 1} ({max(size, 0)} bytes, to a multiple of {multiple})",
                False,
            )
        )
    return out


register(
    Task(
        id="inner-plaintext",
        notebook="05-aead-and-records",
        func_name="pad_inner_plaintext",
        title="TLSInnerPlaintext padded to a multiple of N bytes (RFC 8446 §5.2, §5.4)",
        reference=pad_inner_plaintext_ref,
        forbidden=(record.encode_inner_plaintext,),
        fixed=lambda: [
            Case((23, b"hello", 32), "b'hello' of type 23, to a multiple of 32"),
            Case((22, bytes(range(31)), 32), "31 bytes: with the type byte already 32, no padding"),
            Case((23, b"", 16), "an empty content (type 23 alone) to 16 bytes"),
            Case((21, b"\x02\x28", 1), "a multiple of 1: no padding"),
            Case((23, b"\x00" * 300, 256), "content of zero bytes, to a multiple of 256"),
            Case((23, bytes(16_300), 1000), "16,300 bytes to a multiple of 1000: 17,000 is over 2^14 + 1"),
        ],
        randomized=_pad_random,
        mistakes=[
            Mistake(
                _pad_variant(content_only=True),
                "the type byte counts: it is the whole TLSInnerPlaintext (content, type, zeros) whose length is a multiple of N",
            ),
            Mistake(
                _pad_variant(whole_block=True),
                "when content + type is already a multiple of N, add no padding (yours adds N zero bytes)",
            ),
            Mistake(
                _pad_variant(cap=None),
                "RFC 8446 §5.4: the whole TLSInnerPlaintext may not exceed 2^14 + 1 bytes: pad less near the limit",
            ),
            Mistake(
                _pad_variant(cap=2**14),
                "the limit is 2^14 + 1 bytes (16,385: a full 2^14-byte content and its type byte), not 2^14",
            ),
            Mistake(
                _pad_variant(type_last=True),
                "the content type comes right after the content; the zeros come last",
            ),
        ],
        hints=(
            "Count the bytes of content + type, round up to the next multiple of N, but stop at 2^14 + 1; the rest is zeros.",
            "RFC 8446 §5.2 (struct TLSInnerPlaintext: content, type, zeros) and §5.4 (padding; at most 2^14 + 1 bytes in all).",
            "n = len(content) + ____\ntarget = min(-(-n // multiple) * multiple, 2**14 + ____)\nreturn content + bytes([content_type]) + bytes(____)",
        ),
        fill=("1", "1", "target - n"),
    )
)


# --- what the learner gives the AEAD, found from outside: records sealed with each mistake ------
#
# A decrypt_record that fails is handed records sealed the way a common mistake would open them
# (the IV as the nonce, the tag cut off, no additional data...). A correct function opens none of
# them; the one a wrong function opens names its mistake. Nothing of the learner's is patched or
# looked into: the function only ever sees records.

_NONCE_MISTAKES = {
    "iv": "the nonce is the IV itself: XOR the sequence number into it (per_record_nonce(iv, seq))",
    "seq+1": "the nonce is off by one record: use seq as given",
    "seq-1": "the nonce is off by one record: use seq as given",
    "function": "the nonce is not per_record_nonce(iv, seq): check your nonce function and its arguments",
}
_DATA_MISTAKES = {
    "no-tag": "you cut off the 16-byte tag: AESGCM.decrypt wants the ciphertext *with* its tag, record[5:]",
    "whole": "you decrypt the header too: the ciphertext is record[5:]",
}
_AD_MISTAKES = {
    "none": "there is no additional data: it is the 5-byte record header, record[:5]",
    "whole": "the additional data is only the 5-byte header, record[:5], not the whole record",
}


def _wrong_nonces(iv: bytes, seq: int) -> list[tuple[str | None, bytes]]:
    nonces: list[tuple[str | None, bytes]] = [(None, record.per_record_nonce(iv, seq)), ("iv", iv)]
    nonces.append(("seq+1", record.per_record_nonce(iv, seq + 1)))
    if seq > 0:
        nonces.append(("seq-1", record.per_record_nonce(iv, seq - 1)))
    nonces += [("function", _nonce_variant(kind)(iv, seq)) for kind in ("left", "little", "gcm", "add")]
    # A slip that gives the right nonce for this seq (iv + seq with no carry) shows nothing.
    distinct: dict[bytes, str | None] = {}
    for mistake, nonce in nonces:
        distinct.setdefault(nonce, mistake)
    return [(mistake, nonce) for nonce, mistake in distinct.items()]


def _what_went_to_the_aead(func: Callable[..., object], outcome: Outcome) -> str | None:
    """Hand the learner's decrypt_record records sealed with each mistake; the one it opens names it."""
    key, iv, seq, _ = outcome.case.args
    seq = seq if seq >= 2 else seq + 2  # at 0 the IV is the right nonce: that mistake would not show
    tries = [
        (nonce_mistake, nonce, data, ad)
        for nonce_mistake, nonce in _wrong_nonces(iv, seq)
        for data in (None, "no-tag", "whole")
        for ad in (None, "none", "whole")
        if (nonce_mistake, data, ad) != (None, None, None) and not (ad == "whole" and data is not None)
    ]
    tries.sort(key=lambda t: sum(part is not None for part in (t[0], t[2], t[3])))  # one mistake first
    for nonce_mistake, nonce, data, ad in tries:
        probe = _sealed_with_mistake(key, nonce, data, ad)
        if probe is None:
            continue
        rec, expected = probe
        with contextlib.suppress(Exception):  # core._explain runs this quietly, under the time limit
            if func(key, iv, seq, rec) == expected:
                named = ((nonce_mistake, _NONCE_MISTAKES), (data, _DATA_MISTAKES), (ad, _AD_MISTAKES))
                problems = [table[mistake] for mistake, table in named if mistake is not None]
                return (
                    "Your function opens a record sealed the wrong way, which shows what it gives the AEAD: "
                    + "; ".join(problems)
                    + "."
                )
    return None


def _sealed_with_mistake(
    key: bytes, nonce: bytes, data: str | None, ad: str | None
) -> tuple[bytes, tuple[int, bytes]] | None:
    """(record, what decrypt_record returns for it) for a record that AES-GCM opens with ``nonce``,
    the ciphertext the ``data`` mistake takes and the additional data the ``ad`` mistake takes."""
    if ad == "whole":
        return _sealed_over_itself(key, nonce)
    gcm, ctype = AESGCM(key), ContentType.application_data
    if data == "whole":
        # The header must be the ciphertext's first 5 bytes: choose the plaintext under it (CTR mode).
        # The record is all ciphertext: 5 bytes under the header, the content, the type, the tag.
        content = b"whole-record"
        header = _header(len(content) + 1 + 16)  # the record's length less its 5-byte header
        keystream = gcm.encrypt(nonce, bytes(5), None)[:5]
        inner = bytes(h ^ k for h, k in zip(header, keystream, strict=True)) + content + bytes([ctype])
        rec = gcm.encrypt(nonce, inner, header if ad is None else None)
        return (rec, (ctype, inner[:-1])) if rec[:5] == header else None
    inner = b"probe-record" + bytes([ctype])
    body_len = len(inner) + 16 + (16 if data == "no-tag" else 0)
    header = _header(body_len)
    body = gcm.encrypt(nonce, inner, header if ad is None else None)
    return header + body + bytes(16 if data == "no-tag" else 0), (ctype, inner[:-1])


def _header(length: int) -> bytes:
    return bytes([ContentType.application_data, 3, 3]) + length.to_bytes(2, "big")


def _sealed_over_itself(key: bytes, nonce: bytes) -> tuple[bytes, tuple[int, bytes]] | None:
    """A record that opens with the *whole record* as additional data, its own tag included.

    The tag is the last additional-data block when header + ciphertext fill whole 16-byte blocks,
    so GCM's tag equation (NIST SP 800-38D §7.1) T = E_K(J0) + GHASH_H(header|C, T, C, lengths)
    is linear in T: T * (1 + H^(n+2)) = E_K(J0) + GHASH with T's block zero, n blocks of C.
    """
    ctype = ContentType.application_data
    inner = b"whole-ad10" + bytes([ctype])  # 5 + 11 bytes: header and ciphertext end a block
    ciphertext = AESGCM(key).encrypt(nonce, inner, None)[:-16]
    header = _header(len(ciphertext) + 16)
    aes = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    h = int.from_bytes(aes.update(bytes(16)), "big")
    e_j0 = int.from_bytes(aes.update(nonce + b"\x00\x00\x00\x01"), "big")
    ad_len, c_len = len(header) + len(ciphertext) + 16, len(ciphertext)
    blocks = header + ciphertext + bytes(16) + ciphertext.ljust(16, b"\x00")
    blocks += (ad_len * 8).to_bytes(8, "big") + (c_len * 8).to_bytes(8, "big")
    one = 1 << 127  # the field's 1 in GCM's bit order
    factor = one ^ _gf_power(h, 3)  # n = 1 block of ciphertext: H^(n+2)
    tag = _gf_mul(e_j0 ^ _ghash(h, blocks), _gf_power(factor, (1 << 128) - 2)).to_bytes(16, "big")
    rec = header + ciphertext + tag
    try:
        AESGCM(key).decrypt(nonce, rec[5:], rec)
    except Exception:  # noqa: BLE001 -- InvalidTag: then this probe is not made, nothing else
        return None
    return rec, (ctype, inner[:-1])


def _gf_mul(x: int, y: int) -> int:
    """Multiplication in GF(2^128) as GCM writes blocks (NIST SP 800-38D §6.3, Algorithm 1)."""
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ (0xE1 << 120) if v & 1 else v >> 1
    return z


def _gf_power(x: int, e: int) -> int:
    result = 1 << 127
    while e:
        if e & 1:
            result = _gf_mul(result, x)
        x, e = _gf_mul(x, x), e >> 1
    return result


def _ghash(h: int, data: bytes) -> int:
    """GHASH_H over whole 16-byte blocks (SP 800-38D §6.4)."""
    y = 0
    for i in range(0, len(data), 16):
        y = _gf_mul(y ^ int.from_bytes(data[i : i + 16], "big"), h)
    return y


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
        if kind == "strip":
            return p.strip(b"\0")[-1], p.strip(b"\0")[:-1]
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
        forbidden=(record.RecordProtection.decrypt,),
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
            Case(
                (bytes(16), bytes(12), 6, _encrypt(bytes(16), bytes(12), 6, 22, b"\x00\x00\x01hi\x00", 4)),
                "a padded record whose content starts and ends with zero bytes, seq 6",
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
                _decrypt_variant("strip"),
                "strip zeros only from the end: zero bytes at the start belong to the content (rstrip, not strip)",
            ),
            Mistake(
                _decrypt_variant("raw"),
                "return (content type, content) after removing the type byte and the padding",
            ),
        ],
        names=("content type", "content"),
        explain=_what_went_to_the_aead,
        on_error={
            "InvalidTag": "The AEAD rejected the record: the nonce is per_record_nonce(iv, seq), the additional data is the 5-byte header record[:5], the ciphertext (with its 16-byte tag) is record[5:].",
            "IndexError": "Is the plaintext empty? Check which bytes you decrypt: record[5:].",
        },
        hints=(
            "Split the record into header and ciphertext, decrypt with AESGCM, then undo TLSInnerPlaintext.",
            "RFC 8446 §5.2 (additional_data = the record header) and §5.3 (the nonce).",
            "header, ciphertext = record[:____], record[____:]\nplaintext = AESGCM(key).decrypt(____, ciphertext, ____)\nstripped = plaintext.rstrip(b'\\x00')\nreturn stripped[-1], stripped[:-1]",
        ),
        fill=("5", "5", "per_record_nonce(iv, seq)", "header"),
    )
)


# ---------------------------------------------------------------- the other direction: protect a record


def _encrypt_ref(key: bytes, iv: bytes, seq: int, content_type: int, content: bytes) -> bytes:
    return _encrypt(key, iv, seq, content_type, content, 0)


def _encrypt_variant(kind: str) -> Callable[..., bytes]:
    def variant(key: bytes, iv: bytes, seq: int, content_type: int, content: bytes) -> bytes:
        inner = content if kind == "no-type" else content + bytes([content_type])
        outer = content_type if kind == "outer-type" else 23
        version = b"\x03\x04" if kind == "version" else b"\x03\x03"
        length = len(inner) + (0 if kind == "no-tag-length" else 16)
        header = bytes([outer]) + version + length.to_bytes(2, "big")
        nonce = iv if kind == "iv" else record.per_record_nonce(iv, seq)
        return header + AESGCM(key).encrypt(nonce, inner, b"" if kind == "no-aad" else header)

    return variant


def _encrypt_random(rng: random.Random) -> list[Case]:
    return [
        Case(
            (
                _rand_bytes(rng, rng.choice((16, 32))),
                _rand_bytes(rng, 12),
                rng.randrange(0, 1 << rng.choice((3, 16, 64))),
                rng.choice((21, 22, 23)),
                _rand_bytes(rng, rng.randint(0, 90)),
            ),
            f"random {i + 1}",
            False,
        )
        for i in range(5)
    ]


register(
    Task(
        id="encrypt-record",
        forbidden=(record.RecordProtection.encrypt,),
        notebook="05-aead-and-records",
        func_name="encrypt_record",
        title="protect a record (RFC 8446 §5.2)",
        reference=_encrypt_ref,
        fixed=lambda: [
            Case(
                (
                    _v("client_handshake_write_key"),
                    _v("client_handshake_write_iv"),
                    0,
                    22,
                    _v("client_finished"),
                ),
                "RFC 8448: the client Finished record",
            ),
            Case((bytes(16), bytes(12), 1, 23, b"GET / HTTP/1.1\r\n"), "application_data, zero key, seq 1"),
            Case((bytes(32), bytes(12), 7, 21, b"\x01\x00"), "an alert (close_notify), 32-byte key, seq 7"),
        ],
        randomized=_encrypt_random,
        mistakes=[
            Mistake(
                _encrypt_variant("no-type"),
                "the real content type goes inside, after the content: TLSInnerPlaintext = content + type byte",
            ),
            Mistake(
                _encrypt_variant("outer-type"),
                "the outer header always says 23 (application_data); the real type is hidden inside",
            ),
            Mistake(
                _encrypt_variant("version"),
                "legacy_record_version is 0x0303 in every TLS 1.3 record, not 0x0304",
            ),
            Mistake(
                _encrypt_variant("no-tag-length"),
                "the header's length counts the ciphertext *with* its 16-byte tag: len(inner) + 16",
            ),
            Mistake(_encrypt_variant("no-aad"), "the additional data is the 5-byte header you send"),
            Mistake(_encrypt_variant("iv"), "the nonce is per_record_nonce(iv, seq), not the IV itself"),
        ],
        hints=(
            "Inner plaintext first, then the header (it is the additional data), then encrypt.",
            "RFC 8446 §5.2: TLSInnerPlaintext, TLSCiphertext and additional_data = the header.",
            "inner = content + bytes([____])\n"
            "header = bytes([____, 3, 3]) + (len(inner) + ____).to_bytes(2, 'big')\n"
            "return header + AESGCM(key).encrypt(per_record_nonce(iv, seq), inner, ____)",
        ),
        fill=("content_type", "23", "16", "header"),
    )
)


# ---------------------------------------------------------------- handshake messages in a flight


def split_handshake_ref(data: bytes) -> list[bytes]:
    """The handshake messages in ``data``, each with its 4-byte header (RFC 8446 §4)."""
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i + 1 : i + 4], "big")
        out.append(data[i : i + 4 + n])
        i += 4 + n
    return out


def _split_variant(kind: str) -> Callable[[bytes], list[bytes]]:
    def variant(data: bytes) -> list[bytes]:
        out, i = [], 0
        while i < len(data):
            n = int.from_bytes(data[i + 1 : i + 4], "little" if kind == "little" else "big")
            out.append(data[i + 4 : i + 4 + n] if kind == "bodies" else data[i : i + 4 + n])
            i += 4 + n
            if kind == "first":
                break
        return out

    return variant


def _flight() -> bytes:
    return _decrypt_ref(
        _v("server_handshake_write_key"),
        _v("server_handshake_write_iv"),
        0,
        _v("server_handshake_flight_record"),
    )[1]


def _split_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        msgs = [
            bytes([rng.choice((2, 8, 11, 13, 15, 20, 24))]) + rng.randint(0, 300).to_bytes(3, "big")
            for _ in range(rng.randint(1, 5))
        ]
        data = b"".join(m + _rand_bytes(rng, int.from_bytes(m[1:], "big")) for m in msgs)
        out.append(Case((data,), f"random {i + 1}", False))
    return out


register(
    Task(
        id="split-handshake",
        forbidden=(),
        notebook="05-aead-and-records",
        func_name="split_handshake",
        title="split a flight into handshake messages (RFC 8446 §4)",
        reference=split_handshake_ref,
        fixed=lambda: [
            Case((_flight(),), "RFC 8448: the server's decrypted flight (4 messages)"),
            Case((bytes.fromhex("14000003abcdef"),), "one Finished-like message, 3-byte body"),
            Case(
                (bytes.fromhex("0800000200000b000000"),), "an empty EncryptedExtensions, then an empty body"
            ),
        ],
        randomized=_split_random,
        mistakes=[
            Mistake(
                _split_variant("bodies"),
                "keep each message whole, its 4-byte header included: the transcript hashes whole messages",
            ),
            Mistake(_split_variant("little"), "the 3-byte length is big-endian"),
            Mistake(
                _split_variant("first"), "a flight holds several messages: keep going until the data ends"
            ),
        ],
        hints=(
            "Each message: 1 byte type, 3 bytes length, then that many bytes. Repeat until the data is used up.",
            "RFC 8446 §4: struct { HandshakeType msg_type; uint24 length; ... } Handshake.",
            "messages, i = [], 0\n"
            "while i < len(data):\n"
            "    n = int.from_bytes(data[____ : ____], 'big')\n"
            "    messages.append(data[i : ____])\n"
            "    i += ____\n"
            "return messages",
        ),
        fill=("i + 1", "i + 4", "i + 4 + n", "4 + n"),
    )
)


# ---------------------------------------------------------------- the certificates in a Certificate message


def certificate_list_ref(message: bytes) -> list[bytes]:
    """The cert_data of each CertificateEntry of a Certificate message (RFC 8446 §4.4.2)."""
    cert = decode_handshake(message)
    if not isinstance(cert, Certificate):
        raise ValueError("not a Certificate message")
    return [entry.cert_data for entry in cert.certificate_list]


def _certs_variant(kind: str) -> Callable[[bytes], list[bytes]]:
    def variant(message: bytes) -> list[bytes]:
        pos = 4 + (1 if kind == "no-context" else 1 + message[4])
        end = pos + 3 + int.from_bytes(message[pos : pos + 3], "big")
        pos += 3
        certs = []
        while pos < end:
            n = int.from_bytes(message[pos : pos + 3], "big")
            pos += 3
            ext = int.from_bytes(message[pos + n : pos + n + 2], "big")
            certs.append(message[pos : pos + n + 2 + ext] if kind == "with-ext" else message[pos : pos + n])
            pos += n + 2 + (0 if kind == "no-ext" else ext)
        return certs

    return variant


def _cert_message(rng: random.Random) -> bytes:
    entries = [
        CertificateEntry(
            _rand_bytes(rng, rng.randint(1, 400)),
            [Extension(5, _rand_bytes(rng, rng.randint(0, 20)))] if rng.random() < 0.5 else [],
        )
        for _ in range(rng.randint(1, 3))
    ]
    return Certificate(_rand_bytes(rng, rng.choice((0, 0, 4, 32))), entries).encode()


register(
    Task(
        id="certificate-list",
        forbidden=(Certificate.decode_body,),
        notebook="05-aead-and-records",
        func_name="certificate_list",
        title="the certificates in a Certificate message (RFC 8446 §4.4.2)",
        reference=certificate_list_ref,
        fixed=lambda: [
            Case((_v("server_certificate"),), "RFC 8448: the server's Certificate (one certificate)"),
            Case(
                (_cert_message(random.Random("two")),), "a Certificate with a request context and extensions"
            ),
        ],
        randomized=lambda rng: [Case((_cert_message(rng),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                _certs_variant("no-context"),
                "skip the certificate_request_context first: a 1-byte length, then that many bytes",
            ),
            Mistake(
                _certs_variant("with-ext"),
                "cert_data is only the certificate: its entry's extensions (2-byte length) come after it",
            ),
            Mistake(
                _certs_variant("no-ext"),
                "every CertificateEntry ends with an extensions vector (2-byte length), even when it is empty",
            ),
        ],
        hints=(
            "Skip the 4-byte header and the request context; then walk the entries: a certificate, its extensions.",
            "RFC 8446 §4.4.2: opaque certificate_request_context<0..2^8-1>; CertificateEntry certificate_list<0..2^24-1>;"
            " each entry is opaque cert_data<1..2^24-1> and Extension extensions<0..2^16-1>.",
            "pos = 4                                  # after the handshake header\n"
            "pos += 1 + ____                          # the certificate_request_context\n"
            "end = pos + 3 + int.from_bytes(message[pos : pos + 3], 'big')\n"
            "pos += 3\n"
            "certs = []\n"
            "while pos < end:\n"
            "    n = int.from_bytes(message[pos : pos + ____], 'big')\n"
            "    pos += 3\n"
            "    certs.append(message[pos : pos + n])\n"
            "    pos += n\n"
            "    pos += 2 + int.from_bytes(message[pos : pos + ____], 'big')  # the entry's extensions\n"
            "return certs",
        ),
        fill=("message[4]", "3", "2"),
    )
)
