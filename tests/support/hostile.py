"""Helpers for tests/test_server.py and tests/test_hostile.py: a tlslab server to misbehave with.

* ``server_config`` / ``client_config``: a ``ServerConfig`` for one of the ``pki`` fixture's leaves
  and a ``ClientConfig`` that trusts its root, both keeping their secrets in a ``MemoryKeyLog``.
* ``Conversation``: a tlslab client and a tlslab server talking in memory. Every chunk the server
  writes can be rewritten on the way (``wire``: raw bytes, a man in the middle; ``pieces``: the
  decrypted records, re-encrypted afterwards with the server's own keys, read from its key log).
* ``queued_alert``: the alert a client queued in ``data_to_send()`` after a failure, read from the
  bytes themselves (plaintext, or decrypted with the client's write secrets from its key log).
* ``tlslab_server`` / ``scripted_server``: the tlslab server, or a raw script, on 127.0.0.1 in a
  thread, every socket with a timeout.

RFC 8446 §5 (records), §6 (alerts); nothing here is protocol logic: all of that is tlslab's.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tlslab.client import ApplicationData, ClientConfig, ClientConnection, ConnectionClosed
from tlslab.constants import ContentType
from tlslab.errors import AlertDescription, TLSError
from tlslab.keylog import MemoryKeyLog
from tlslab.lab import http
from tlslab.lab.loopback import LoopbackServer
from tlslab.record import Record, RecordProtection, RecordReader, plaintext_record
from tlslab.server import ServerConfig, ServerConnection, State
from tlslab.suites import Suite

LOOPBACK = "127.0.0.1"
SERVER_NAME = "localhost"


# --------------------------------------------------------------------------- configurations


def server_config(pki: Any, kind: str = "ecdsa-p256", **overrides: Any) -> ServerConfig:
    """A server with the ``pki`` leaf of ``kind`` and the intermediate, logging keys in memory."""
    leaf = pki.leaves[kind].issued
    options: dict[str, Any] = {
        "certificate_chain": [leaf.cert, pki.intermediate.cert],
        "private_key": leaf.key,
        "keylog": MemoryKeyLog(),
    }
    options.update(overrides)
    return ServerConfig(**options)


def client_config(pki: Any, **overrides: Any) -> ClientConfig:
    """A client for ``localhost`` that trusts the ``pki`` root, logging keys in memory."""
    options: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "trust_roots": [pki.root.cert],
        "keylog": MemoryKeyLog(),
    }
    options.update(overrides)
    return ClientConfig(**options)


def secrets(keylog: MemoryKeyLog) -> dict[str, bytes]:
    """label -> secret from an NSS key log held in memory."""
    out = {}
    for line in keylog.lines:
        label, _, secret = line.split()
        out[label] = bytes.fromhex(secret)
    return out


# --------------------------------------------------------------------------- records in and out


def split_records(data: bytes) -> list[Record]:
    """The records in ``data`` (which must hold whole, well-formed records)."""
    reader = RecordReader()
    reader.feed(data)
    records = list(reader)
    assert reader.buffered == 0, "trailing bytes after the last record"
    return records


@dataclass
class Piece:
    """One record the server sent, decrypted: ``epoch`` names the key ("plain" for none)."""

    epoch: str
    content_type: int
    data: bytes


# The server's write secrets in the order it uses them (RFC 8446 §7.1, §7.2).
SERVER_EPOCHS = ("SERVER_HANDSHAKE_TRAFFIC_SECRET",) + tuple(f"SERVER_TRAFFIC_SECRET_{n}" for n in range(4))


class Resealer:
    """Decrypts what the server writes, with its own secrets, and re-encrypts the rewritten pieces.

    Seals keep their own sequence numbers (RFC 8446 §5.3), so a row may drop, add or reorder
    records and the client still sees correctly numbered records: only what the row meant to
    break is broken.
    """

    def __init__(self, server: ServerConnection) -> None:
        self.server = server
        self._epoch = 0
        self._opens: dict[str, RecordProtection] = {}
        self._seals: dict[str, RecordProtection] = {}

    def _protection(self, table: dict[str, RecordProtection], epoch: str) -> RecordProtection:
        if epoch not in table:
            keylog = self.server.config.keylog
            assert isinstance(keylog, MemoryKeyLog) and self.server.suite is not None
            table[epoch] = RecordProtection(self.server.suite, secrets(keylog)[epoch])
        return table[epoch]

    def open(self, data: bytes) -> list[Piece]:
        pieces = []
        for record in split_records(data):
            if record.content_type != ContentType.application_data:
                pieces.append(Piece("plain", record.content_type, record.fragment))
                continue
            while True:  # the epoch moves on when the current key no longer authenticates
                epoch = SERVER_EPOCHS[self._epoch]
                protection = self._protection(self._opens, epoch)
                try:
                    content_type, plain = protection.decrypt(record)
                    break
                except TLSError:
                    protection.seq -= 1
                    self._epoch += 1
            pieces.append(Piece(epoch, content_type, plain))
        return pieces

    def seal(self, pieces: list[Piece]) -> bytes:
        out = b""
        for piece in pieces:
            if piece.epoch == "plain":
                out += Record(piece.content_type, 0x0303, piece.data).encode()
            else:
                out += self._protection(self._seals, piece.epoch).encrypt(piece.content_type, piece.data)
        return out


# --------------------------------------------------------------------------- in memory


Wire = Callable[[bytes, int], bytes]
Pieces = Callable[[list[Piece], int], list[Piece]]


@dataclass
class Conversation:
    """A tlslab client and a tlslab server in memory; the server's output may be rewritten.

    If the server fails, its alert is delivered to the client (whose ``PeerAlert`` propagates) and
    the server's error is kept in ``server_error``. ``wire(data, n)`` rewrites the n-th chunk the server writes as raw bytes; ``pieces(pieces, n)``
    rewrites it as decrypted records. ``after_handshake(server)`` runs once the server is
    CONNECTED (e.g. ``server.key_update()``), before its output goes to the client.
    """

    server: ServerConnection
    client: ClientConnection
    wire: Wire | None = None
    pieces: Pieces | None = None
    after_handshake: Callable[[ServerConnection], None] | None = None
    client_events: list[Any] = field(default_factory=list)
    server_error: TLSError | None = None

    def run(self, max_rounds: int = 8) -> None:
        """Pass bytes both ways until nobody has anything to say; the client's errors propagate."""
        resealer = Resealer(self.server)
        to_server = self.client.data_to_send()
        hook_done = False
        for n in range(max_rounds):
            if to_server:
                try:
                    self.server.receive_data(to_server)
                except TLSError as err:  # the client must hear the server's alert
                    self.server_error = err
                    self.client.receive_data(self.server.data_to_send())
                    raise
            if self.after_handshake and self.server.handshake_complete and not hook_done:
                hook_done = True
                self.after_handshake(self.server)
            to_client = self.server.data_to_send()
            if not to_client:
                return
            if self.pieces is not None:
                to_client = resealer.seal(self.pieces(resealer.open(to_client), n))
            if self.wire is not None:
                to_client = self.wire(to_client, n)
            self.client_events += self.client.receive_data(to_client)
            to_server = self.client.data_to_send()


def conversation(server_cfg: ServerConfig, client_cfg: ClientConfig, **kwargs: Any) -> Conversation:
    return Conversation(ServerConnection(server_cfg), ClientConnection(client_cfg), **kwargs)


def queued_alert(client: ClientConnection) -> AlertDescription | None:
    """The fatal alert the client queued, read from the bytes it wants to send (RFC 8446 §6).

    The last record must be the alert: plaintext before the client has send keys (Appendix A.1),
    else encrypted under one of its write secrets, found by trying each with the first few
    sequence numbers (the AEAD tag proves which). None if nothing was queued.
    """
    data = client.data_to_send()
    if not data:
        return None
    record = split_records(data)[-1]
    if record.content_type == ContentType.alert:
        payload = record.fragment
    else:
        payload = _decrypt_alert(client, record)
    assert len(payload) == 2, f"an alert is 2 bytes, not {payload!r}"
    assert payload[0] == 2, f"alert level {payload[0]} is not fatal"
    return AlertDescription(payload[1])


def _decrypt_alert(client: ClientConnection, record: Record) -> bytes:
    keylog = client.config.keylog
    assert isinstance(keylog, MemoryKeyLog) and client.suite is not None
    suite: Suite = client.suite
    for label, secret in secrets(keylog).items():
        if not label.startswith("CLIENT_"):
            continue
        for seq in range(8):
            protection = RecordProtection(suite, secret)
            protection.seq = seq
            try:
                content_type, data = protection.decrypt(record)
            except TLSError:
                continue
            assert content_type == ContentType.alert, f"last record is {content_type}, not an alert"
            return data
    raise AssertionError("the client's last record decrypts under none of its write secrets")


def alert_record(description: int, level: int = 2) -> bytes:
    """A plaintext alert record (RFC 8446 §6)."""
    return plaintext_record(ContentType.alert, bytes([level, description]))


# --------------------------------------------------------------------------- on loopback


@dataclass
class Served:
    """What a loopback server saw: its port, the events of each connection, and its errors.

    ``done`` is set each time a connection has been handled.
    """

    port: int
    events: list[Any] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


HTTP_RESPONSE_BODY = b"hello from the tlslab server\n"


def http_response() -> bytes:
    return http.response(HTTP_RESPONSE_BODY)


@contextmanager
def _listener(handle: Callable[[socket.socket, Served], None], timeout: float) -> Iterator[Served]:
    """Accept connections on 127.0.0.1 in a thread; ``handle`` each on that thread, in turn."""
    served: Served | None = None

    def run(sock: socket.socket) -> None:
        assert served is not None
        handle(sock, served)

    with LoopbackServer(run, timeout=timeout, concurrent=False, name="hostile") as loop:
        served = Served(loop.port, errors=loop.errors, done=loop.finished)
        yield served


@contextmanager
def tlslab_server(make_config: Callable[[], ServerConfig], *, timeout: float = 10.0) -> Iterator[Served]:
    """The tlslab server on 127.0.0.1: one HTTP answer per connection, then close_notify."""

    def handle(sock: socket.socket, served: Served) -> None:
        conn = ServerConnection(make_config())
        request, answered, peer_closed = b"", False, False
        while not peer_closed and conn.state is not State.CLOSED:
            data = sock.recv(65536)
            if not data:
                return
            try:
                events = conn.receive_data(data)
            finally:
                sock.sendall(conn.data_to_send())
            served.events += events
            request += b"".join(e.data for e in events if isinstance(e, ApplicationData))
            peer_closed = any(isinstance(e, ConnectionClosed) for e in events)
            if b"\r\n\r\n" in request and not answered:
                served.requests.append(request)
                conn.send_application_data(http_response())
                conn.close()  # close_notify: our write side is done (RFC 8446 §6.1)
                answered = True
            sock.sendall(conn.data_to_send())

    with _listener(handle, timeout) as served:
        yield served


@contextmanager
def scripted_server(script: Callable[[socket.socket], None], *, timeout: float = 5.0) -> Iterator[Served]:
    """A raw TCP server on 127.0.0.1 that runs ``script(sock)`` for each connection."""

    def handle(sock: socket.socket, served: Served) -> None:
        script(sock)

    with _listener(handle, timeout) as served:
        yield served
