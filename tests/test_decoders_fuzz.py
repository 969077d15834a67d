"""Property tests for the decoders of RFC 8446 §4 messages and §4.2 extensions.

Two properties:

* On any input, a decoder either returns a value or raises a ``TLSError``
  subclass: never IndexError, ValueError, struct.error... (a peer controls these bytes).
* Decoders are strict, so whatever they accept is the canonical encoding:
  ``decode(data).encode() == data``; and generated valid values survive
  ``decode(encode(v)) == v``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab.constants import HELLO_RETRY_REQUEST_RANDOM, ExtensionType, HandshakeType
from tlslab.course.rfc8448 import trace
from tlslab.errors import TLSError
from tlslab.extensions import (
    ALPN,
    Cookie,
    EarlyDataIndication,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    OfferedPsks,
    PreSharedKeyServerHello,
    PskIdentity,
    PskKeyExchangeModes,
    RecordSizeLimit,
    ServerNameList,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
)
from tlslab.messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HandshakeBuffer,
    HelloRetryRequest,
    KeyUpdate,
    MessageHash,
    NewSessionTicket,
    ServerHello,
    decode_handshake,
)

FAST = settings(max_examples=500, deadline=None)
SLOW = settings(max_examples=200, deadline=None)

TYPED = [
    ServerNameList,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    SupportedGroups,
    KeyShareEntry,
    KeyShareClientHello,
    KeyShareServerHello,
    KeyShareHelloRetryRequest,
    SignatureAlgorithms,
    ALPN,
    PskKeyExchangeModes,
    OfferedPsks,
    PreSharedKeyServerHello,
    EarlyDataIndication,
    Cookie,
    RecordSizeLimit,
]

SAMPLES = [
    trace("simple_1rtt")[k]
    for k in (
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "server_certificate",
        "server_certificate_verify",
        "new_session_ticket",
    )
] + [trace("hrr")["hello_retry_request"], trace("resumed_0rtt")["client_hello"]]


def _decodes_canonically(decode: Callable[[bytes], Any], data: bytes) -> None:
    """decode(data) either raises a TLSError or returns something that encodes back to data."""
    try:
        value = decode(data)
    except TLSError:
        return
    assert value.encode() == data


# --- Arbitrary bytes ---------------------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=300))
def test_decode_handshake_on_arbitrary_bytes(data: bytes) -> None:
    _decodes_canonically(decode_handshake, data)


@FAST
@given(st.sampled_from(list(HandshakeType)), st.binary(max_size=200))
def test_decode_handshake_on_arbitrary_bodies(msg_type: HandshakeType, body: bytes) -> None:
    wire = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    _decodes_canonically(decode_handshake, wire)


@SLOW
@given(st.sampled_from(SAMPLES), st.data())
def test_decode_handshake_on_mutated_rfc8448_messages(wire: bytes, data: st.DataObject) -> None:
    mutated = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = data.draw(st.integers(0, 255))
    _decodes_canonically(decode_handshake, bytes(mutated))


@FAST
@given(st.sampled_from(TYPED), st.binary(max_size=120))
def test_typed_extensions_on_arbitrary_bytes(cls: type, data: bytes) -> None:
    _decodes_canonically(cls.decode, data)


@SLOW
@given(st.lists(st.binary(max_size=40), max_size=10))
def test_handshake_buffer_on_arbitrary_fragments(fragments: list[bytes]) -> None:
    buf = HandshakeBuffer(max_message_length=64)
    fed = b""
    popped = b""
    try:
        for fragment in fragments:
            buf.feed(fragment)
            fed += fragment
            popped += b"".join(buf.pop_all())
    except TLSError:
        return
    assert fed.startswith(popped)
    assert buf.has_partial() == (len(popped) < len(fed))


# --- Generated valid values round-trip -----------------------------------------------------------------------

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def extension_lists(min_size: int = 0, exclude: tuple[int, ...] = ()) -> st.SearchStrategy[list[Extension]]:
    ext = st.builds(Extension, u16.filter(lambda t: t not in exclude), st.binary(max_size=24))
    return st.lists(ext, min_size=min_size, max_size=6, unique_by=lambda e: e.type)


randoms = st.binary(min_size=32, max_size=32).filter(lambda r: r != HELLO_RETRY_REQUEST_RANDOM)
session_ids = st.binary(max_size=32)

client_hellos = st.builds(
    ClientHello,
    random=randoms,
    legacy_session_id=session_ids,
    cipher_suites=st.lists(u16, min_size=1, max_size=8),
    legacy_compression_methods=st.binary(min_size=1, max_size=4),
    # two extensions are >= 8 bytes, RFC 8446 §4.1.2; pre_shared_key would have to come last
    extensions=extension_lists(2, exclude=(ExtensionType.pre_shared_key,)),
    legacy_version=u16,
)
server_hellos = st.builds(
    ServerHello,
    randoms,
    session_ids,
    u16,
    extension_lists(2),
    legacy_version=u16,
    legacy_compression_method=st.just(0),
)
hello_retry_requests = st.builds(
    HelloRetryRequest, st.just(HELLO_RETRY_REQUEST_RANDOM), session_ids, u16, extension_lists(2)
)
certificate_entries = st.builds(CertificateEntry, st.binary(min_size=1, max_size=60), extension_lists())
messages = st.one_of(
    client_hellos,
    server_hellos,
    hello_retry_requests,
    st.builds(EncryptedExtensions, extension_lists()),
    st.builds(CertificateRequest, st.binary(max_size=255), extension_lists(1)),
    st.builds(Certificate, st.binary(max_size=255), st.lists(certificate_entries, max_size=4)),
    st.builds(CertificateVerify, u16, st.binary(max_size=300)),
    st.builds(Finished, st.binary(max_size=64)),
    st.builds(
        NewSessionTicket,
        u32,
        u32,
        st.binary(max_size=255),
        st.binary(min_size=1, max_size=200),
        extension_lists(),
    ),
    st.builds(KeyUpdate, st.sampled_from([0, 1])),
    st.just(EndOfEarlyData()),
    st.builds(MessageHash, st.binary(max_size=64)),
)


@FAST
@given(messages)
def test_generated_messages_round_trip(msg: Any) -> None:
    wire = msg.encode()
    assert wire[0] == msg.msg_type and int.from_bytes(wire[1:4], "big") == len(wire) - 4
    assert decode_handshake(wire) == msg
    assert decode_handshake(wire).encode() == wire


@SLOW
@given(st.lists(messages, min_size=1, max_size=5), st.data())
def test_handshake_buffer_reassembles_any_fragmentation(msgs: list[Any], data: st.DataObject) -> None:
    stream = b"".join(m.encode() for m in msgs)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=8)) if len(stream) > 1 else [])
    buf = HandshakeBuffer()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        buf.feed(stream[start:end])
        out += buf.pop_all()
    assert [decode_handshake(m) for m in out] == msgs
    assert not buf.has_partial()


key_share_entries = st.builds(KeyShareEntry, u16, st.binary(min_size=1, max_size=40))
psk_identities = st.builds(PskIdentity, st.binary(min_size=1, max_size=40), u32)


@st.composite
def offered_psks(draw: st.DrawFn) -> OfferedPsks:
    identities = draw(st.lists(psk_identities, min_size=1, max_size=3))
    binders = [draw(st.binary(min_size=32, max_size=48)) for _ in identities]
    return OfferedPsks(identities, binders)


typed_values = st.one_of(
    st.builds(ServerNameList, st.lists(st.binary(min_size=1, max_size=30), min_size=1, max_size=1)),
    st.builds(SupportedVersionsClientHello, st.lists(u16, min_size=1, max_size=127)),
    st.builds(SupportedVersionsServerHello, u16),
    st.builds(SupportedGroups, st.lists(u16, min_size=1, max_size=20)),
    key_share_entries,
    st.builds(KeyShareClientHello, st.lists(key_share_entries, max_size=4, unique_by=lambda e: e.group)),
    st.builds(KeyShareServerHello, key_share_entries),
    st.builds(KeyShareHelloRetryRequest, u16),
    st.builds(SignatureAlgorithms, st.lists(u16, min_size=1, max_size=20)),
    st.builds(ALPN, st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=5)),
    st.builds(PskKeyExchangeModes, st.lists(u8, min_size=1, max_size=10)),
    offered_psks(),
    st.builds(PreSharedKeyServerHello, u16),
    st.builds(EarlyDataIndication, st.none() | u32),
    st.builds(Cookie, st.binary(min_size=1, max_size=100)),
)


@FAST
@given(typed_values)
def test_generated_extension_bodies_round_trip(value: Any) -> None:
    data = value.encode()
    assert type(value).decode(data) == value
    assert type(value).decode(data).encode() == data


@SLOW
@given(offered_psks())
def test_binders_length_is_the_tail_of_the_encoding(psk: OfferedPsks) -> None:
    data = psk.encode()
    assert data[: -psk.binders_length()] == psk.encode_identities()
