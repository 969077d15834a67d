"""``tlslab serve --cert``: the tlslab server (``server.py``) behind a small threaded socket driver.

Each connection gets its own thread and a ``ServerConnection``; every socket has a timeout.
The page answers any HTTP request with what was negotiated, so a client can see from the
outside that it resumed (RFC 8446 §2.2), that its 0-RTT data arrived (§2.3), or which client
certificate it showed (§4.4.2). All connections share one ``TicketStore``, so tickets from
one connection resume the next.

0-RTT data is replayable (§8): a real server would accept only idempotent requests in it.
This one serves the same static page either way, which is what makes that safe here.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509

from tlslab.errors import TLSError
from tlslab.events import (
    ApplicationData,
    ClientAuthenticated,
    ConnectionClosed,
    EarlyData,
    Event,
    HandshakeComplete,
)
from tlslab.lab import http
from tlslab.lab.loopback import LoopbackServer
from tlslab.psk import TicketStore
from tlslab.server import ServerConfig, ServerConnection, State

RECV_SIZE = 65536
MAX_REQUEST = 1 << 16


@dataclass
class ServedConnection:
    """What one connection looked like from the server, for the page and for tests."""

    handshake: HandshakeComplete | None = None
    early_data: bytes = b""
    request: bytes = b""
    error: str | None = None
    peer_certificates: list[x509.Certificate] = field(default_factory=list)


def http_page(conn: ServerConnection, served: ServedConnection) -> bytes:
    """A small text/plain answer: the request line and what the handshake negotiated."""
    request_line = (served.early_data + served.request).split(b"\r\n", 1)[0].decode("latin-1")
    assert conn.suite is not None and conn.group is not None
    lines = [
        "tlslab server",
        f"request     {request_line}",
        f"cipher      {conn.suite.name}",
        f"group       {conn.group.name}",
        f"resumed     {'yes' if conn.session_resumed else 'no'}",
        f"early data  {_early(conn.early_data_accepted, served.early_data)}",
        f"client      {_client(conn.peer_certificates)}",
        f"alpn        {conn.alpn_protocol or '-'}",
    ]
    return http.response(("\n".join(lines) + "\n").encode(), content_type="text/plain")


def _early(accepted: bool | None, data: bytes) -> str:
    if accepted is None:
        return "not offered"
    return f"accepted ({len(data)} bytes)" if accepted else "rejected"


def _client(certificates: list[x509.Certificate]) -> str:
    return certificates[0].subject.rfc4514_string() if certificates else "(no certificate)"


def serve_connection(sock: socket.socket, config: ServerConfig) -> ServedConnection:
    """Run one connection: handshake, read an HTTP request, answer it, close_notify (§6.1)."""
    conn, served, answered = ServerConnection(config), ServedConnection(), False
    try:
        while conn.state is not State.CLOSED:
            data = sock.recv(RECV_SIZE)
            if not data:
                break
            try:
                events = conn.receive_data(data)
            finally:
                sock.sendall(conn.data_to_send())
            if _absorb(events, served):
                break
            head = served.early_data + served.request
            if (
                conn.handshake_complete
                and not answered
                and (http.END_OF_HEAD in head or len(head) > MAX_REQUEST)
            ):
                conn.send_application_data(http_page(conn, served))
                conn.close()
                answered = True
                sock.sendall(conn.data_to_send())
    except (TLSError, OSError) as exc:
        served.error = f"{type(exc).__name__}: {exc}"
    served.peer_certificates = conn.peer_certificates
    return served


def _absorb(events: list[Event], served: ServedConnection) -> bool:
    """Sort the events into ``served``; True once the client closed (close_notify)."""
    for event in events:
        if isinstance(event, HandshakeComplete):
            served.handshake = event
        elif isinstance(event, EarlyData):
            served.early_data += event.data
        elif isinstance(event, ApplicationData):
            served.request += event.data
        elif isinstance(event, ClientAuthenticated):
            served.peer_certificates = event.peer_certificates
        elif isinstance(event, ConnectionClosed):
            return True
    return False


class TLSLabServer:
    """Accept on ``host:port`` in a thread; each connection is served in a thread of its own."""

    def __init__(
        self,
        make_config: Callable[[TicketStore], ServerConfig],
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 10.0,
    ) -> None:
        self.store = TicketStore()
        self.make_config = make_config
        self.timeout = timeout
        self.served: list[ServedConnection] = []
        self._server = LoopbackServer(self._handle, host, port, timeout=timeout, name="serve")
        self.host, self.port = self._server.host, self._server.port

    def start(self) -> TLSLabServer:
        """Kept for ``with``: the server accepts from the moment it is made."""
        return self

    def _handle(self, sock: socket.socket) -> None:
        self.served.append(serve_connection(sock, self.make_config(self.store)))

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TLSLabServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


__all__ = ["ServedConnection", "TLSLabServer", "http_page", "serve_connection"]
