"""Notebook 01, bytes on the wire: its tasks, their cases and planted mistakes.

``encode_vector``, ``decode_vector``, ``encode_supported_versions``, ``encode_server_name``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tlslab.course.checks.common import ByteOrder, _rand_bytes, _rand_host
from tlslab.course.checks.core import Case, Mistake, Task, register
from tlslab.extensions import ServerNameList, SupportedVersionsClientHello
from tlslab.wire import Reader, vector


def _vector_cases() -> list[Case]:
    return [
        Case((1, b"\x01\x02"), "1-byte prefix, 2 bytes"),
        Case((2, b"example.com"), "2-byte prefix, b'example.com'"),
        Case((3, bytes(300)), "3-byte prefix, 300 zero bytes"),
        Case((2, b""), "2-byte prefix, empty"),
    ]


def _vector_random(rng: random.Random) -> list[Case]:
    cases = []
    for i in range(6):
        size = rng.randint(1, 3)
        cases.append(
            Case(
                (size, _rand_bytes(rng, rng.randint(0, 255 if size == 1 else 700))), f"random {i + 1}", False
            )
        )
    return cases


def _prefix(width: int, order: ByteOrder = "big") -> Callable[[int, bytes], bytes]:
    return lambda n, d: len(d).to_bytes(width, order) + d


register(
    Task(
        id="encode-vector",
        notebook="01-bytes-on-the-wire",
        func_name="encode_vector",
        title="encode_vector (RFC 8446 §3.4)",
        reference=vector,
        fixed=_vector_cases,
        randomized=_vector_random,
        mistakes=[
            Mistake(
                lambda n, d: len(d).to_bytes(n, "little") + d,
                "the length prefix is big-endian (network byte order, RFC 8446 §3.3); yours is little-endian",
            ),
            *[
                Mistake(
                    _prefix(w),
                    lambda n, d, w=w: f"the length prefix should be {n} bytes (length_size); yours is {w}",
                )
                for w in (1, 2, 3, 4)
            ],
            Mistake(
                lambda n, d: len(d.hex()).to_bytes(n, "big") + d,
                "the prefix counts bytes, not hex digits: use len(data)",
            ),
            Mistake(lambda n, d: d, "the length prefix is missing: put len(data) in length_size bytes first"),
            Mistake(
                lambda n, d: d + len(d).to_bytes(n, "big"),
                "the length goes in front of the data, not after it",
            ),
        ],
        hints=(
            "A vector is its length, as an unsigned integer of length_size bytes, followed by the bytes.",
            "RFC 8446 §3.4 (vectors) and §3.3 (numbers are big-endian).",
            "return len(data).to_bytes(____, ____) + ____",
        ),
        fill=("length_size", "'big'", "data"),
    )
)


def _decode_vector_ref(data: bytes, length_size: int) -> tuple[bytes, bytes]:
    r = Reader(data, "vector")
    body = r.vector(length_size)
    return body, r.rest()


def _decode_cases() -> list[Case]:
    return [
        Case((b"\x02\x01\x02", 1), "b'\\x02\\x01\\x02', 1-byte prefix"),
        Case((b"\x00\x0bexample.com\x00\x17", 2), "b'\\x00\\x0bexample.com\\x00\\x17', 2-byte prefix"),
        Case((b"\x00\x01\x04" + bytes(260) + b"tail", 3), "3-byte prefix, 260 bytes, then b'tail'"),
        Case((b"\x00\x00\xff", 2), "empty vector, then b'\\xff'"),
    ]


def _decode_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        size = rng.randint(1, 3)
        body = _rand_bytes(rng, rng.randint(0, 255 if size == 1 else 600))
        out.append(
            Case((vector(size, body) + _rand_bytes(rng, rng.randint(0, 8)), size), f"random {i + 1}", False)
        )
    return out


def _decode_little(data: bytes, n: int) -> tuple[bytes, bytes]:
    length = int.from_bytes(data[:n], "little")
    return data[n : n + length], data[n + length :]


register(
    Task(
        id="decode-vector",
        forbidden=(Reader.vector,),
        notebook="01-bytes-on-the-wire",
        func_name="decode_vector",
        title="decode_vector (RFC 8446 §3.4)",
        reference=_decode_vector_ref,
        fixed=_decode_cases,
        randomized=_decode_random,
        mistakes=[
            Mistake(
                _decode_little, "read the length big-endian (RFC 8446 §3.3); yours reads it little-endian"
            ),
            Mistake(
                lambda d, n: (d[: n + int.from_bytes(d[:n], "big")], d[n + int.from_bytes(d[:n], "big") :]),
                "the body should not include the length prefix: it starts after length_size bytes",
            ),
            Mistake(
                lambda d, n: (d[n : n + int.from_bytes(d[:n], "big")], d[int.from_bytes(d[:n], "big") :]),
                "the rest starts after the prefix *and* the body: at length_size + length",
            ),
            Mistake(
                lambda d, n: (d[n:], b""), "the body is only `length` bytes long; what follows is the rest"
            ),
            Mistake(
                lambda d, n: (d[1 : 1 + d[0]], d[1 + d[0] :]),
                lambda d, n: f"the prefix is length_size = {n} bytes; yours reads 1",
            ),
        ],
        hints=(
            "Read length_size bytes as a big-endian number; that many bytes follow.",
            "RFC 8446 §3.4: 'opaque mandatory<300..400>; /* length field is two bytes */'.",
            "n = int.from_bytes(data[:____], 'big')\nreturn data[____ : ____], data[____:]",
        ),
        fill=("length_size", "length_size", "length_size + n", "length_size + n"),
    )
)


def _sv_ref(versions: list[int]) -> bytes:
    return SupportedVersionsClientHello(list(versions)).encode()


def _sv_random(rng: random.Random) -> list[Case]:
    return [
        Case(([rng.randrange(0x10000) for _ in range(rng.randint(1, 12))],), f"random {i + 1}", False)
        for i in range(5)
    ]


def _u16s(vs: list[int], order: ByteOrder = "big") -> bytes:
    return b"".join(v.to_bytes(2, order) for v in vs)


register(
    Task(
        id="supported-versions",
        forbidden=(SupportedVersionsClientHello.encode,),
        notebook="01-bytes-on-the-wire",
        func_name="encode_supported_versions",
        title="supported_versions extension data (RFC 8446 §4.2.1)",
        reference=_sv_ref,
        fixed=lambda: [
            Case(([0x0304],), "[0x0304] (TLS 1.3 only)"),
            Case(([0x0304, 0x0303],), "[0x0304, 0x0303]"),
            Case(([0x7A7A, 0x0304, 0x0303],), "GREASE 0x7a7a, then 1.3 and 1.2"),
        ],
        randomized=_sv_random,
        mistakes=[
            Mistake(
                lambda vs: vector(2, _u16s(vs)),
                "the list of versions has a 1-byte length prefix (versions<2..254>); yours is 2 bytes",
            ),
            Mistake(
                lambda vs: bytes([len(vs)]) + _u16s(vs),
                "the prefix counts bytes (2 per version), not versions",
            ),
            Mistake(
                lambda vs: vector(1, bytes(v & 0xFF for v in vs)),
                "each ProtocolVersion is a uint16: 2 bytes, e.g. 0x0304 -> 03 04",
            ),
            Mistake(
                lambda vs: vector(1, _u16s(vs, "little")),
                "write each version big-endian: 0x0304 is 03 04, not 04 03",
            ),
            Mistake(lambda vs: _u16s(vs), "the versions need their 1-byte length prefix in front"),
            Mistake(
                lambda vs: b"\x00\x2b" + vector(2, vector(1, _u16s(vs))),
                "return only the extension_data: the extension header (type 00 2b and its 2-byte length) is added by whoever builds the extensions list",
            ),
        ],
        hints=(
            "In a ClientHello, supported_versions is a vector of 2-byte versions.",
            "RFC 8446 §4.2.1: ProtocolVersion versions<2..254>; the prefix width follows from the maximum 254.",
            "body = b''.join(v.to_bytes(____, 'big') for v in versions)\nreturn encode_vector(____, body)",
        ),
        fill=("2", "1"),
    )
)


def _sni_ref(host: str) -> bytes:
    return ServerNameList([host.encode("ascii")]).encode()


register(
    Task(
        id="server-name",
        forbidden=(ServerNameList.encode,),
        notebook="01-bytes-on-the-wire",
        func_name="encode_server_name",
        title="server_name extension data (RFC 6066 §3)",
        reference=_sni_ref,
        fixed=lambda: [
            Case(("example.com",), "'example.com'"),
            Case(("server",), "'server' (RFC 8448's name)"),
        ],
        randomized=lambda rng: [Case((_rand_host(rng),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                lambda h: b"\x00" + vector(2, h.encode()),
                "the ServerName entry needs the outer list length (server_name_list<1..2^16-1>, 2 bytes) in front",
            ),
            Mistake(
                lambda h: vector(2, b"\x00" + vector(1, h.encode())),
                "each entry is name_type host_name (one byte, 0) and then HostName with a 2-byte length (opaque HostName<1..2^16-1>); yours has one of them missing or short",
            ),
            Mistake(
                lambda h: len(h).to_bytes(2, "big") + b"\x00" + vector(2, h.encode()),
                "the list length counts the whole entry (1 + 2 + len(name) bytes), not just the name",
            ),
            Mistake(
                lambda h: vector(2, h.encode()),
                "a ServerNameList is a list of entries, each name_type (0) + HostName vector",
            ),
            Mistake(
                lambda h: b"\x00\x00" + vector(2, vector(2, b"\x00" + vector(2, h.encode()))),
                "return only the extension_data: the extension header (type 00 00 and its 2-byte length) comes from whoever builds the extensions list",
            ),
        ],
        hints=(
            "Two nested vectors: the list (2-byte length) holds one entry: a type byte 0 and the host name (2-byte length).",
            "RFC 6066 §3 (ServerNameList, ServerName, NameType, HostName).",
            "entry = bytes([____]) + encode_vector(____, host_name.encode('ascii'))\nreturn encode_vector(____, entry)",
        ),
        fill=("0", "2", "2"),
    )
)
