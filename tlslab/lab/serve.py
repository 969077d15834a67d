"""``tlslab serve --cert``: the tlslab server (``server.py``) behind a small threaded socket driver.

Each connection gets its own thread and a ``ServerConnection``; every socket has a timeout.
The page answers any HTTP request with what was negotiated, so a client can see from the
outside that it resumed (RFC 8446 §2.2), that its 0-RTT data arrived (§2.3), or which client
certificate it showed (§4.4.2). All connections share one ``TicketStore``, so tickets from
one connection resume the next.

0-RTT data is replayable (§8): a real server would accept only idempotent requests in it.
This one serves the same static page either way, which is what makes that safe here.

Two paths make the server act before it answers, so a client can be tested on them:
``/key-update`` sends KeyUpdate(update_requested) (§4.6.3), ``/post-handshake-auth`` asks for a
client certificate after the handshake (§4.6.2; the client must have offered
post_handshake_auth, and the server needs a client CA) and answers once the client has.
With ``echo=True`` there is no page: each line the client sends comes back (like
``openssl s_server -rev``, without the reversing) until the client closes.
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
KEY_UPDATE_PATH = "/key-update"
POST_HANDSHAKE_AUTH_PATH = "/post-handshake-auth"
ACTION_PATHS = (KEY_UPDATE_PATH, POST_HANDSHAKE_AUTH_PATH)


@dataclass
class ServedConnection:
    """What one connection looked like from the server, for the page and for tests."""

    handshake: HandshakeComplete | None = None
    early_data: bytes = b""
    request: bytes = b""
    error: str | None = None
    peer_certificates: list[x509.Certificate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the server did on request (the page shows it)
    answered: bool = False
    auth_requested: bool = False  # post-handshake CertificateRequest sent (§4.6.2)
    auth_answered: bool = False  # ... and the client's Finished for it checked
    pending_line: bytes = b""  # echo mode: the start of a line not yet complete


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
        *served.notes,  # what a /key-update or /post-handshake-auth request made us do
    ]
    return http.response(("\n".join(lines) + "\n").encode(), content_type="text/plain")


def _early(accepted: bool | None, data: bytes) -> str:
    if accepted is None:
        return "not offered"
    return f"accepted ({len(data)} bytes)" if accepted else "rejected"


def _client(certificates: list[x509.Certificate]) -> str:
    return certificates[0].subject.rfc4514_string() if certificates else "(no certificate)"


def serve_connection(sock: socket.socket, config: ServerConfig, *, echo: bool = False) -> ServedConnection:
    """Run one connection: handshake, read an HTTP request, answer it, close_notify (§6.1).

    With ``echo``, send each line back instead, until the client's close_notify.
    """
    conn, served = ServerConnection(config), ServedConnection()
    try:
        while conn.state is not State.CLOSED:
            data = sock.recv(RECV_SIZE)
            if not data:
                break
            try:
                events = conn.receive_data(data)
            finally:
                sock.sendall(conn.data_to_send())
            closed = _absorb(events, served)
            if conn.handshake_complete:
                if echo:
                    _echo(conn, served, closed)
                elif not closed:
                    _answer(conn, served)
                sock.sendall(conn.data_to_send())
            if closed:
                break
    except (TLSError, OSError) as exc:
        served.error = f"{type(exc).__name__}: {exc}"
    served.peer_certificates = conn.peer_certificates
    return served


def _answer(conn: ServerConnection, served: ServedConnection) -> None:
    """Once the request is in: do what its path asks, then the page and close_notify."""
    head = served.early_data + served.request
    if served.answered or (http.END_OF_HEAD not in head and len(head) <= MAX_REQUEST):
        return
    path = _request_path(head)
    if path == POST_HANDSHAKE_AUTH_PATH and not served.auth_requested:
        try:
            conn.request_client_certificate()
        except TLSError as exc:  # the client did not offer it, or no --client-ca
            served.notes.append(f"post-handshake auth not possible: {exc}")
        else:
            served.auth_requested = True
            served.notes.append("post-handshake auth: sent CertificateRequest (RFC 8446 §4.6.2)")
            return  # answer once the client's Certificate ... Finished are in
    if served.auth_requested and not served.auth_answered:
        return
    if path == KEY_UPDATE_PATH:
        conn.key_update(request_peer_update=True)
        served.notes.append("key update: sent KeyUpdate(update_requested) (RFC 8446 §4.6.3)")
    conn.send_application_data(http_page(conn, served))
    conn.close()
    served.answered = True


def _request_path(head: bytes) -> str:
    parts = head.split(b"\r\n", 1)[0].split()
    return parts[1].decode("latin-1") if len(parts) > 1 else ""


def _echo(conn: ServerConnection, served: ServedConnection, closed: bool) -> None:
    """Each complete line the client sent goes back; at its close_notify, ours (§6.1)."""
    data = served.pending_line + served.request
    served.request = b""
    *lines, served.pending_line = data.split(b"\n")
    if lines:
        conn.send_application_data(b"".join(line + b"\n" for line in lines))
    if closed:
        if served.pending_line:
            conn.send_application_data(served.pending_line)
        conn.close()


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
            served.auth_answered = True
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
        *,
        echo: bool = False,
    ) -> None:
        self.store = TicketStore()
        self.make_config = make_config
        self.timeout = timeout
        self.echo = echo
        self.served: list[ServedConnection] = []
        self._server = LoopbackServer(self._handle, host, port, timeout=timeout, name="serve")
        self.host, self.port = self._server.host, self._server.port

    def start(self) -> TLSLabServer:
        """Kept for ``with``: the server accepts from the moment it is made."""
        return self

    def _handle(self, sock: socket.socket) -> None:
        self.served.append(serve_connection(sock, self.make_config(self.store), echo=self.echo))

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TLSLabServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


__all__ = ["ServedConnection", "TLSLabServer", "http_page", "serve_connection"]
