"""The presentation language on the wire (RFC 8446 §3).

TLS structures are built from big-endian unsigned integers (uint8, uint16,
uint24, uint32) and *vectors*: a length prefix of 1, 2 or 3 bytes followed by
that many bytes. ``Reader`` takes them apart strictly: a length that runs past
the end of the buffer, a vector outside its declared bounds, or bytes left
over at the end are a ``DecodeError`` (alert ``decode_error``), never an
``IndexError``. ``Writer`` puts them together.

    >>> w = Writer()
    >>> w.u16(0x0303).vector(1, b"\\x01\\x02")
    ... # doctest: +ELLIPSIS
    <tlslab.wire.Writer object at ...>
    >>> w.getvalue().hex()
    '0303020102'
    >>> r = Reader(bytes.fromhex("0303020102"))
    >>> hex(r.u16()), r.vector(1), r.finish()
    ('0x303', b'\\x01\\x02', None)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from .errors import DecodeError

_STRUCT_CODES = {2: "H", 4: "I"}  # uint16, uint32 lists unpacked in one call


class Recorder(Protocol):
    """Told where each named field lies, as a decoder reads it (the annotator listens).

    ``data[start:end]`` of the outermost buffer is the field ``name``; ``value`` is what
    was read (an int, the bytes of a vector, ``None`` for a structure). Fields nest by
    their offsets: a vector or structure is heard before the fields inside it are read,
    or (``Reader.mark``) after them; a recorder that wants a tree sorts by
    ``(start, -end)``.
    """

    def __call__(self, name: str, start: int, end: int, value: object) -> None: ...


class Reader:
    """Reads RFC 8446 §3 values from ``data``, front to back.

    Each read may name the field it reads (the RFC's name, ``r.u16("legacy_version")``);
    with a ``recorder`` the reader reports every named field's span, offset by ``base``
    (where ``data`` starts in the outer buffer). Without one, names cost nothing.
    """

    def __init__(
        self, data: bytes, what: str = "message", recorder: Recorder | None = None, base: int = 0
    ) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.what = what  # named in error messages: "ClientHello", "key_share", ...
        self.recorder = recorder
        self.base = base

    def mark(self, name: str, start: int) -> None:
        """Name a structure made of several reads, from ``start`` (a ``pos``) to here."""
        if self.recorder is not None:
            self.recorder(name, self.base + start, self.base + self.pos, None)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def done(self) -> bool:
        return self.pos == len(self.data)

    def take(self, n: int, name: str | None = None) -> bytes:
        """Exactly ``n`` bytes."""
        start = self.pos
        end = start + n
        if n < 0 or end > len(self.data):
            raise DecodeError(f"{self.what}: needs {n} more bytes, only {self.remaining} left")
        self.pos = end
        if name is not None and self.recorder is not None:
            self.recorder(name, self.base + start, self.base + end, self.data[start:end])
        return self.data[start:end]

    def uint(self, size: int, name: str | None = None) -> int:
        start = self.pos
        end = start + size
        if end > len(self.data):
            raise DecodeError(f"{self.what}: needs {size} more bytes, only {self.remaining} left")
        self.pos = end
        value = int.from_bytes(self.data[start:end], "big")
        if name is not None and self.recorder is not None:
            self.recorder(name, self.base + start, self.base + end, value)
        return value

    def u8(self, name: str | None = None) -> int:
        return self.uint(1, name)

    def u16(self, name: str | None = None) -> int:
        return self.uint(2, name)

    def u24(self, name: str | None = None) -> int:
        return self.uint(3, name)

    def u32(self, name: str | None = None) -> int:
        return self.uint(4, name)

    def vector(
        self, length_size: int, min_len: int = 0, max_len: int | None = None, *, name: str | None = None
    ) -> bytes:
        """``opaque data<min_len..max_len>`` with a ``length_size``-byte prefix.

        A named vector is recorded whole; its length prefix is recorded inside it as
        ``"length"``.
        """
        start = self.pos
        n = self.uint(length_size)
        limit = (1 << (8 * length_size)) - 1 if max_len is None else max_len
        if not min_len <= n <= limit:
            raise DecodeError(f"{self.what}: vector length {n} outside <{min_len}..{limit}>")
        out = self.take(n)
        if name is not None and self.recorder is not None:
            self.recorder(name, self.base + start, self.base + self.pos, out)
            self.recorder("length", self.base + start, self.base + start + length_size, n)
        return out

    def uint_list(
        self,
        size: int,
        length_size: int,
        min_len: int = 0,
        max_len: int | None = None,
        *,
        name: str | None = None,
        item: str | None = None,
    ) -> list[int]:
        """``T list<min_len..max_len>`` of ``size``-byte uints, e.g. ``NamedGroup named_group_list<2..2^16-1>``.

        The bounds are in bytes, as the RFC writes them; a length that is not a whole number
        of items is a DecodeError. Each item is recorded as ``item`` (the type's name:
        ``"NamedGroup"``).
        """
        first = self.base + self.pos + length_size
        data = self.vector(length_size, min_len, max_len, name=name)
        if len(data) % size:
            raise DecodeError(
                f"{self.what}: {name or 'list'} of {len(data)} bytes is not a list of uint{8 * size}"
            )
        if size == 1:
            values = list(data)
        elif size in _STRUCT_CODES:
            values = list(struct.unpack(f">{len(data) // size}{_STRUCT_CODES[size]}", data))
        else:
            values = [int.from_bytes(data[i : i + size], "big") for i in range(0, len(data), size)]
        if item is not None and self.recorder is not None:
            for i, value in enumerate(values):
                self.recorder(item, first + i * size, first + (i + 1) * size, value)
        return values

    def sub(
        self,
        length_size: int,
        min_len: int = 0,
        max_len: int | None = None,
        what: str | None = None,
        name: str | None = None,
    ) -> Reader:
        """A Reader over a length-prefixed vector, for lists of structures.

        The inner reader reports to the same recorder, at the vector's offsets.
        """
        base = self.base + self.pos + length_size
        data = self.vector(length_size, min_len, max_len, name=name)
        return Reader(data, what or self.what, self.recorder, base)

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def finish(self) -> None:
        """Insist that everything was read (RFC 8446 §4: no trailing bytes)."""
        if self.remaining:
            raise DecodeError(f"{self.what}: {self.remaining} unexpected trailing bytes")


class Writer:
    """Builds RFC 8446 §3 values; every method returns the writer for chaining."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def uint(self, size: int, value: int) -> Writer:
        if not 0 <= value < 1 << (8 * size):
            raise ValueError(f"{value} does not fit in uint{8 * size}")
        self.buf += value.to_bytes(size, "big")
        return self

    def u8(self, value: int) -> Writer:
        return self.uint(1, value)

    def u16(self, value: int) -> Writer:
        return self.uint(2, value)

    def u24(self, value: int) -> Writer:
        return self.uint(3, value)

    def u32(self, value: int) -> Writer:
        return self.uint(4, value)

    def uint_list(self, size: int, length_size: int, values: Sequence[int]) -> Writer:
        """``T list<..>`` of ``size``-byte uints with its ``length_size``-byte length prefix
        (``Reader.uint_list`` reads it back)."""
        if size in _STRUCT_CODES:
            try:
                data = struct.pack(f">{len(values)}{_STRUCT_CODES[size]}", *values)
            except struct.error:
                raise ValueError(f"{list(values)} do not all fit in uint{8 * size}") from None
        else:
            data = b"".join(Writer().uint(size, v).buf for v in values)
        return self.vector(length_size, data)

    def raw(self, data: bytes) -> Writer:
        self.buf += data
        return self

    def vector(self, length_size: int, data: bytes) -> Writer:
        """``opaque data<..>`` with a ``length_size``-byte length prefix."""
        return self.uint(length_size, len(data)).raw(data)

    @contextmanager
    def prefixed(self, length_size: int) -> Iterator[Writer]:
        """Write a nested structure, then go back and fill in its length."""
        inner = Writer()
        yield inner
        self.vector(length_size, bytes(inner.buf))

    def getvalue(self) -> bytes:
        return bytes(self.buf)


def vector(length_size: int, data: bytes) -> bytes:
    """``data`` with its length prefix: ``vector(2, b"ab") == b"\\x00\\x02ab"``."""
    return Writer().vector(length_size, data).getvalue()
