"""The socket driver's transport (connection.TLSSocket): deadlines, recv_into, and the bulk fast path.

The fast path (records decrypted straight into the caller's buffer, sealed in place) must give
the same bytes as the readable path, ``ClientConnection.receive_data`` and
``RecordProtection.decrypt``/``encrypt`` (record level: tests/test_record.py). Here whole
record streams a tlslab server wrote (data of every size, zero-length and padded records,
KeyUpdate, tickets, close_notify) are read back through ``TLSSocket`` in random pieces.
No timed assertions: a deadline test passes because the peer would otherwise keep it alive.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import LOOPBACK, client_config, conversation, server_config
from support.peers import openssl_server

import tlslab
from tlslab.connection import TLSSocket
from tlslab.constants import ContentType
from tlslab.errors import BadRecordMac, TLSTimeout

# --------------------------------------------------------------------------- a peer that drips


def _drip_server(
    payload: bytes, interval: float, stop: threading.Event
) -> tuple[socket.socket, threading.Thread]:
    """Accept one connection and send ``payload`` one byte every ``interval`` s, then close.

    Each byte arrives well within any per-read timeout, so only an overall deadline ends it.
    """
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(10)

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            for byte in payload:
                if stop.wait(interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


# A ServerHello record header announcing 16 KiB that never come: the handshake cannot finish.
_NEVER_ENDING_RECORD = bytes([ContentType.handshake, 3, 3, 0x40, 0x00]) + bytes(60)


def test_a_dripping_peer_cannot_stretch_the_handshake_past_its_deadline():
    # Before the handshake deadline, each byte reset the per-read timeout: this connect waited
    # for the whole drip (13 s) and then ended in ConnectionClosed, not TLSTimeout.
    stop = threading.Event()
    listener, thread = _drip_server(_NEVER_ENDING_RECORD, 0.2, stop)
    try:
        with pytest.raises(TLSTimeout, match="handshake not complete within 1.0 s"):
            tlslab.connect(LOOPBACK, listener.getsockname()[1], server_hostname="localhost", timeout=1.0)
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_after_the_handshake_each_call_has_its_deadline(pki):
    """A record dripped byte by byte after the handshake: recv() ends in TLSTimeout."""
    conv = _connected(pki)
    ours, theirs = socket.socketpair()
    stop = threading.Event()
    record = conv.server._write.encrypt(ContentType.application_data, b"x" * 40)  # 62 bytes: 12 s of drip

    def drip() -> None:
        for byte in record:
            if stop.wait(0.2):
                return
            theirs.sendall(bytes([byte]))

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        tls = TLSSocket(ours, conv.client, timeout=1.0)
        with pytest.raises(TLSTimeout, match="no complete record from the peer within 1.0 s"):
            tls.recv(4096)
    finally:
        stop.set()
        thread.join(5)
        ours.close()
        theirs.close()


# --------------------------------------------------------------------------- record streams


def _connected(pki: Any, **client: Any):
    conv = conversation(server_config(pki, num_tickets=0), client_config(pki, **client))
    conv.run()
    assert conv.client.handshake_complete
    conv.client.data_to_send()
    return conv


class ChunkedSocket:
    """Just enough of a socket for TLSSocket: hands out ``data`` in the given piece sizes."""

    def __init__(self, data: bytes, pieces: list[int]) -> None:
        self.data, self.pieces, self.pos, self.sent = data, list(pieces), 0, bytearray()

    def settimeout(self, timeout: float | None) -> None:
        pass

    def recv_into(self, buffer: memoryview) -> int:
        size = self.pieces.pop(0) if self.pieces else 1 << 20
        chunk = self.data[self.pos : self.pos + min(size, len(buffer))]
        self.pos += len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        pass


_ACTIONS = st.one_of(
    st.tuples(st.just("data"), st.integers(0, 40000)),
    st.tuples(st.just("padded"), st.integers(0, 3000), st.integers(1, 300)),
    st.tuples(st.just("empty")),
    st.tuples(st.just("key_update"), st.booleans()),
)


def _server_stream(conv, actions: list[tuple]) -> tuple[bytes, bytes]:
    """What the server writes for ``actions``, then close_notify; and the data it carried."""
    server, sent = conv.server, bytearray()
    for n, action in enumerate(actions):
        if action[0] == "data":
            data = bytes([n % 251]) * action[1]
            server.send_application_data(data)
            sent += data
        elif action[0] == "padded":  # the server has no API for padding: seal one by hand
            data = bytes([n % 251 + 1]) * action[1]
            server._out += server._write.encrypt(ContentType.application_data, data, padding=action[2])
            sent += data
        elif action[0] == "empty":
            server._out += server._write.encrypt(ContentType.application_data, b"")
        else:
            server.key_update(request_peer_update=action[1])
    server.close()
    return server.data_to_send(), bytes(sent)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    actions=st.lists(_ACTIONS, max_size=12),
    pieces=st.lists(st.integers(1, 70000), max_size=30),
    sizes=st.lists(st.integers(1, 70000), min_size=1, max_size=20),
    into=st.booleans(),
)
def test_the_fast_path_delivers_what_the_server_sent(pki, actions, pieces, sizes, into):
    conv = _connected(pki)
    stream, sent = _server_stream(conv, actions)
    tls = TLSSocket(ChunkedSocket(stream, pieces), conv.client, timeout=5)
    got, i = bytearray(), 0
    while True:
        size = sizes[i % len(sizes)]
        i += 1
        if into:
            buffer = bytearray(size)
            n = tls.recv_into(buffer)
            assert n <= size
            got += buffer[:n]
        else:
            chunk = tls.recv(size)
            assert len(chunk) <= size
            n = len(chunk)
            got += chunk
        if n == 0:
            break
    assert bytes(got) == sent
    # What the client answered (KeyUpdate, close_notify) the server can read.
    conv.server.receive_data(bytes(tls.sock.sent))


def test_a_tampered_record_is_bad_record_mac_on_the_fast_path_too(pki):
    conv = _connected(pki)
    conv.server.send_application_data(b"a" * 5000)
    stream = bytearray(conv.server.data_to_send())
    stream[100] ^= 1
    tls = TLSSocket(ChunkedSocket(bytes(stream), []), conv.client, timeout=5)
    with pytest.raises(BadRecordMac):
        tls.recv(65536)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 70000), max_size=6))
def test_the_fast_send_path_seals_what_the_server_reads(pki, sizes):
    conv = _connected(pki)
    sock = ChunkedSocket(b"", [])
    tls = TLSSocket(sock, conv.client, timeout=5)
    expected = b""
    for n, size in enumerate(sizes):
        data = bytes([n]) * size
        tls.sendall(memoryview(data))
        expected += data
    got = b"".join(e.data for e in conv.server.receive_data(bytes(sock.sent)) if hasattr(e, "data"))
    assert got == expected


@pytest.mark.interop
def test_recv_into_against_openssl(pki, tmp_path):
    """recv_into over TCP, as ``ssl`` has it: a 100 kB file from s_server -WWW into small buffers."""
    body = bytes(range(256)) * 400
    (tmp_path / "f.bin").write_bytes(body)
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(
        tmp_path,
        cert=leaf.cert,
        key=leaf.key,
        chain=leaf.chain,
        www=False,
        extra_args=("-WWW",),
        cwd=tmp_path,
    ) as server:
        with tlslab.connect(
            LOOPBACK, server.port, server_hostname="localhost", cafile=str(pki.cafile), timeout=10
        ) as tls:
            tls.sendall(b"GET /f.bin HTTP/1.0\r\n\r\n")
            buffer, got = bytearray(3000), bytearray()
            while n := tls.recv_into(buffer, 2999):
                got += buffer[:n]
    assert bytes(got).endswith(body) and bytes(got).startswith(b"HTTP/1.0 200 ok")
