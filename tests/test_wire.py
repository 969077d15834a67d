"""wire.Reader's recorder: the decoders name each field once, and a recorder hears its span."""

from __future__ import annotations

import pytest

from tlslab import extensions as ext
from tlslab.constants import ExtensionType, HandshakeType, NamedGroup
from tlslab.course import rfc8448
from tlslab.errors import DecodeError, TLSError
from tlslab.messages import ClientHello, decode_handshake
from tlslab.wire import Reader, Writer

Node = tuple[str, int, int, object, list["Node"]]


class Tree:
    """A recorder that nests what it hears by offsets: (name, start, end, value, children)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, int, object]] = []

    def __call__(self, name: str, start: int, end: int, value: object) -> None:
        self.heard.append((name, start, end, value))

    @property
    def root(self) -> list[Node]:
        order = sorted(range(len(self.heard)), key=lambda i: (self.heard[i][1], -self.heard[i][2], i))
        root: list[Node] = []
        stack: list[Node] = []
        for i in order:
            name, start, end, value = self.heard[i]
            while stack and not (start >= stack[-1][1] and end <= stack[-1][2]):
                stack.pop()
            node: Node = (name, start, end, value, [])
            (stack[-1][4] if stack else root).append(node)
            stack.append(node)
        return root


def test_named_reads_are_recorded_at_absolute_offsets() -> None:
    tree = Tree()
    r = Reader(bytes.fromhex("030303020102"), recorder=tree)
    assert r.u16("legacy_version") == 0x0303
    inner = r.sub(1, name="outer")
    assert inner.vector(1, name="inner") == b"\x01\x02"
    r.finish()
    assert [(n[0], n[1], n[2]) for n in tree.root] == [("legacy_version", 0, 2), ("outer", 2, 6)]
    outer = tree.root[1][4]
    assert [(n[0], n[1], n[2]) for n in outer] == [("length", 2, 3), ("inner", 3, 6)]  # type: ignore[union-attr]
    assert [(n[0], n[1], n[2], n[3]) for n in outer[1][4]] == [("length", 3, 4, 2)]  # type: ignore[index]


def test_unnamed_reads_and_no_recorder_record_nothing() -> None:
    tree = Tree()
    r = Reader(b"\x00\x01\x02", recorder=tree)
    r.u8(), r.vector(1)
    assert tree.heard == []
    assert Reader(b"\x05").u8("x") == 5  # a name without a recorder is free


def test_client_hello_spans_tile_the_message_with_rfc_names() -> None:
    raw = rfc8448.trace("simple_1rtt")["client_hello"]
    tree = Tree()
    msg = decode_handshake(raw, tree)
    assert isinstance(msg, ClientHello)
    assert [n[0] for n in tree.root] == ["msg_type", "body"]
    body = tree.root[1]
    assert (body[1], body[2]) == (1, len(raw))
    names = [n[0] for n in body[4]]  # type: ignore[attr-defined]
    assert names == [
        "length", "legacy_version", "random", "legacy_session_id", "cipher_suites",
        "legacy_compression_methods", "extensions",
    ]  # fmt: skip
    fields = body[4][1:]  # type: ignore[index]
    for a, b in zip(fields, fields[1:], strict=False):  # adjacent: nothing is skipped or read twice
        assert a[2] == b[1]
    assert fields[-1][2] == len(raw)
    exts = fields[-1][4][1:]
    assert len(exts) == len(msg.extensions)
    assert all(e[0] == "Extension" for e in exts)
    assert [e[4][0][3] for e in exts] == [e.type for e in msg.extensions]
    assert raw[fields[1][1] : fields[1][2]] == msg.random


def test_every_rfc8448_message_is_named_field_by_field() -> None:
    """Each body's top-level named fields tile it: the decoders name every field they read."""
    for trace in rfc8448.TRACES:
        for key, raw in rfc8448.trace(trace).items():
            if len(raw) < 4 or int.from_bytes(raw[1:4], "big") != len(raw) - 4:
                continue
            tree = Tree()
            try:
                decode_handshake(raw, tree)
            except TLSError:
                continue
            body = tree.root[1]
            fields = body[4][1:]  # after the body's length
            if raw[0] == HandshakeType.end_of_early_data:
                assert fields == []
                continue
            assert fields, (trace, key)
            assert fields[0][1] == 4 and fields[-1][2] == len(raw), (trace, key)
            for a, b in zip(fields, fields[1:], strict=False):
                assert a[2] == b[1], (trace, key, a[0], b[0])


def test_uint_list_reads_and_names_each_item() -> None:
    tree = Tree()
    r = Reader(bytes.fromhex("0004001d0017"), recorder=tree, base=10)
    assert r.uint_list(2, 2, 2, name="named_group_list", item="NamedGroup") == [0x1D, 0x17]
    assert sorted(tree.heard) == [
        ("NamedGroup", 12, 14, 0x1D),
        ("NamedGroup", 14, 16, 0x17),
        ("length", 10, 12, 4),
        ("named_group_list", 10, 16, bytes.fromhex("001d0017")),
    ]
    assert Reader(b"\x03\x01\x02\x03").uint_list(1, 1) == [1, 2, 3]
    assert Reader(bytes.fromhex("0008 00000001 ffffffff")).uint_list(4, 2) == [1, 0xFFFFFFFF]
    with pytest.raises(DecodeError, match="not a list of uint16"):
        Reader(bytes.fromhex("0003001d00")).uint_list(2, 2)
    with pytest.raises(DecodeError, match="outside <2..65535>"):
        Reader(bytes.fromhex("0000")).uint_list(2, 2, 2)


def test_extension_bodies_name_their_fields_as_the_rfcs_do() -> None:
    body = ext.KeyShareClientHello([ext.KeyShareEntry(NamedGroup.x25519, b"k" * 32)]).encode()
    tree = Tree()
    ext.KeyShareClientHello.decode(body, tree, base=100)
    ((shares_name, start, end, _, shares),) = tree.root
    assert (shares_name, start, end) == ("client_shares", 100, 100 + len(body))
    entry = shares[1]
    assert entry[0] == "KeyShareEntry" and [f[0] for f in entry[4]] == ["group", "key_exchange"]
    tree = Tree()
    ext.ALPN.decode(ext.ALPN([b"h2", b"http/1.1"]).encode(), tree)
    assert [f[0] for f in tree.root[0][4]] == ["length", "ProtocolName", "ProtocolName"]


def test_every_rfc8448_extension_body_is_named_field_by_field() -> None:
    """The body class ``body_class`` names for each extension reads it, and its named fields tile it."""
    read: set[str] = set()
    for trace in rfc8448.TRACES:
        for raw in rfc8448.trace(trace).values():
            try:
                msg = decode_handshake(raw)
            except TLSError:
                continue
            blocks = [(type(msg).__name__, getattr(msg, "extensions", []))]
            blocks += [("CertificateEntry", e.extensions) for e in getattr(msg, "certificate_list", [])]
            for where, extensions in blocks:
                for extension in extensions:
                    cls = ext.body_class(extension.type, where)
                    if cls is None or not extension.data:
                        continue
                    tree = Tree()
                    cls.decode(extension.data, tree, base=1000)
                    top = tree.root
                    assert top[0][1] == 1000 and top[-1][2] == 1000 + len(extension.data), (trace, where)
                    for a, b in zip(top, top[1:], strict=False):
                        assert a[2] == b[1], (trace, where, a[0], b[0])
                    read.add(cls.__name__)
    assert read == {
        "ServerNameList", "SupportedGroups", "KeyShareClientHello", "KeyShareServerHello",
        "KeyShareHelloRetryRequest", "SupportedVersionsClientHello", "SupportedVersionsServerHello",
        "SignatureAlgorithms", "PskKeyExchangeModes", "OfferedPsks", "PreSharedKeyServerHello",
        "EarlyDataIndication", "Cookie", "RecordSizeLimit",
    }  # fmt: skip


def test_body_class_follows_the_message() -> None:
    assert ext.body_class(ExtensionType.key_share, "ClientHello") is ext.KeyShareClientHello
    assert ext.body_class(ExtensionType.key_share, "HelloRetryRequest") is ext.KeyShareHelloRetryRequest
    assert ext.body_class(ExtensionType.key_share, "ServerHello") is ext.KeyShareServerHello
    assert ext.body_class(ExtensionType.pre_shared_key, "ServerHello") is ext.PreSharedKeyServerHello
    assert ext.body_class(ExtensionType.server_name, "EncryptedExtensions") is None  # empty there
    assert ext.body_class(ExtensionType.signature_algorithms_cert, "ClientHello") is ext.SignatureAlgorithms
    assert (
        ext.body_class(0x2A2A, "ClientHello") is None and ext.body_class(ExtensionType.padding, "x") is None
    )


@pytest.mark.parametrize(
    ("size", "length_size", "values", "wire"),
    [
        (2, 2, [0x1D, 0x17], "0004001d0017"),
        (2, 1, [0x0304], "020304"),
        (1, 1, [1, 2, 3], "03010203"),
        (3, 2, [1, 0xFFFFFF], "0006000001ffffff"),
        (2, 2, [], "0000"),
    ],
)
def test_writer_uint_list_is_what_the_reader_reads(size, length_size, values, wire) -> None:
    data = Writer().uint_list(size, length_size, values).getvalue()
    assert data.hex() == wire
    assert Reader(data).uint_list(size, length_size) == values


@pytest.mark.parametrize(("size", "value"), [(2, 1 << 16), (2, -1), (1, 256), (3, 1 << 24)])
def test_writer_uint_list_refuses_a_value_that_does_not_fit(size, value) -> None:
    with pytest.raises(ValueError, match="fit in uint"):
        Writer().uint_list(size, 2, [1, value])
