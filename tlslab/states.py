r"""The TLS 1.3 state machines as data (RFC 8446 Appendix A.1 client, A.2 server).

Each side's states, what each state may receive, and where each message leads are written
once, here, as a ``StateTable`` of ``Edge``\ s. The connections read it: ``Endpoint`` refuses a
message the table does not expect in the current state (unexpected_message, RFC 8446 §6.2) and
moves along the edge the handler names; the course's figure (``tlslab.course.figures``) draws
the same edges. A handler whose message may lead to several states returns which case happened
(``"PSK"``, ``"HelloRetryRequest"``, ``"0-RTT"``...), and the table says where that goes.

The client (Appendix A.1)::

                              START <----+
               Send ClientHello |        | Recv HelloRetryRequest
          [K_send = early data] |        |
                                v        |
           /                 WAIT_SH ----+
           |                    | Recv ServerHello
           |                    | K_recv = handshake
       Can |                    v
      send |                 WAIT_EE
     early |                    | Recv EncryptedExtensions
      data |           +--------+--------+
           |     Using |                 | Using certificate
           |       PSK |                 v
           |           |            WAIT_CERT_CR
           |           |        Recv |       | Recv CertificateRequest
           |           | Certificate |       v
           |           |             |    WAIT_CERT
           |           |             |       | Recv Certificate
           |           |             v       v
           |           |              WAIT_CV
           |           |                 | Recv CertificateVerify
           |           +> WAIT_FINISHED <+
           |                  | Recv Finished
           \                  | [Send EndOfEarlyData]
                              | K_send = handshake
                              | [Send Certificate [+ CertificateVerify]]
    Can send                  | Send Finished
    app data   -->            | K_send = K_recv = application
    after here                v
                          CONNECTED

The server (Appendix A.2). RECVD_CH, NEGOTIATED and WAIT_FLIGHT2 are passed through within the
handling of one message (the ClientHello, EndOfEarlyData), so the server never rests in them
and they are not states here: the ClientHello leads straight to where the server then waits::

                              START <-----+
               Recv ClientHello |         | Send HelloRetryRequest
                                v         |
                             RECVD_CH ----+
                                | Select parameters
                                v
                             NEGOTIATED
                                | Send ServerHello
                                | K_send = handshake
                                | Send EncryptedExtensions
                                | [Send CertificateRequest]
 Can send                       | [Send Certificate + CertificateVerify]
 app data                       | Send Finished
 after   -->                    | K_send = application
 here                  +--------+--------+
              No 0-RTT |                 | 0-RTT
                       |                 |
   K_recv = handshake  |                 | K_recv = early data
 [Skip decrypt errors] |    +------> WAIT_EOED -+
                       |    |       Recv |      | Recv EndOfEarlyData
                       |    | early data |      | K_recv = handshake
                       |    +------------+      |
                       |                        |
                       +> WAIT_FLIGHT2 <--------+
                                |
                       +--------+--------+
               No auth |                 | Client auth
                       |                 |
                       |                 v
                       |             WAIT_CERT
                       |        Recv |       | Recv Certificate
                       |       empty |       v
                       | Certificate |    WAIT_CV
                       |             |       | Recv
                       |             v       | CertificateVerify
                       +-> WAIT_FINISHED <---+
                                | Recv Finished
                                | K_recv = application
                                | Send NewSessionTicket(s)
                                v
                            CONNECTED

Both sides also have CLOSED (after a fatal alert, or close_notify both ways, §6). After the
handshake, KeyUpdate (§4.6.3), NewSessionTicket (§4.6.1) and post-handshake authentication
(§4.6.2) arrive in CONNECTED; the last only when the side has asked for it (an ``Edge`` with
``only_if``), and none of them enters the main transcript (§4.4.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from .constants import HandshakeType, name_of
from .errors import InternalError, UnexpectedMessage

HT = HandshakeType


class ClientState(Enum):
    """RFC 8446 Appendix A.1 client states (plus CLOSED)."""

    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    CONNECTED = "CONNECTED"
    CLOSED = "CLOSED"


class ServerState(Enum):
    """RFC 8446 Appendix A.2 server states the server waits in (plus CLOSED)."""

    START = "START"
    WAIT_EOED = "WAIT_EOED"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    CONNECTED = "CONNECTED"
    CLOSED = "CLOSED"


S = TypeVar("S", ClientState, ServerState)


@dataclass(frozen=True)
class Edge(Generic[S]):
    """One arrow: in ``state``, ``message`` leads to ``to``.

    ``case`` names the arrow when one message may lead to several states (the handler returns
    it); ``does`` is what the endpoint does on the way (the K_send/K_recv lines of Appendix A);
    ``only_if`` names what the endpoint must have asked for before the message may come;
    ``sent``: an arrow taken by sending, not receiving (the client's ClientHello).
    """

    state: S
    message: HandshakeType
    to: S
    case: str = ""
    does: str = ""
    only_if: str = ""
    sent: bool = False

    @property
    def label(self) -> str:
        """The message's name as RFC 8446 writes it, and the case: "EncryptedExtensions (PSK)"."""
        name = _MESSAGE_NAMES[self.message]
        if self.case in ("", name):
            return name
        # A HelloRetryRequest is a ServerHello by type (§4.1.4), with a name of its own.
        return self.case if self.case == "HelloRetryRequest" else f"{name} ({self.case})"


class StateTable(Generic[S]):
    """The edges of one side's state machine, and the three questions the dispatcher asks of them."""

    def __init__(self, side: str, states: type[S], edges: Sequence[Edge[S]]) -> None:
        self.side = side
        self.states: type[S] = states
        self.edges: tuple[Edge[S], ...] = tuple(edges)
        self._to: dict[tuple[S, HandshakeType, str], S] = {
            (e.state, e.message, e.case): e.to for e in self.edges if not e.sent
        }
        self._arriving: dict[S, list[tuple[HandshakeType, str]]] = {}  # state -> (message, only_if)
        for e in self.edges:
            if not e.sent:
                self._arriving.setdefault(e.state, []).append((e.message, e.only_if))

    def expected(self, state: S, asked_for: Iterable[str] = ()) -> frozenset[HandshakeType]:
        """The message types that may arrive in ``state`` (with the ``only_if`` conditions ``asked_for``)."""
        asked = set(asked_for)
        return frozenset(
            message for message, only_if in self._arriving.get(state, ()) if not only_if or only_if in asked
        )

    def check(self, state: S, msg_type: int, asked_for: Iterable[str] = ()) -> None:
        """Raises UnexpectedMessage if ``msg_type`` may not arrive in ``state`` (RFC 8446 §6.2)."""
        allowed = self.expected(state, asked_for)
        if msg_type not in allowed:
            expected = ", ".join(sorted(t.name for t in allowed)) or "nothing"
            raise UnexpectedMessage(
                f"got {name_of(HandshakeType, msg_type)} in state {state.value} (expected {expected})"
            )

    def next(self, state: S, message: int, case: str = "") -> S:
        """Where ``message`` (received in ``state``, in ``case``) leads."""
        try:
            return self._to[state, HandshakeType(message), case]
        except KeyError:
            cases = [e.case or "(none)" for e in self.edges if e.state is state and e.message == message]
            raise InternalError(
                f"tlslab bug: the {self.side} table has no edge from {state.value} on "
                f"{name_of(HandshakeType, message)} for case {case!r} (cases: {cases})"
            ) from None

    def sending(self, state: S, message: HandshakeType) -> S:
        """Where sending ``message`` in ``state`` leads (an edge with ``sent``)."""
        for e in self.edges:
            if e.sent and e.state is state and e.message == message:
                return e.to
        raise InternalError(f"tlslab bug: the {self.side} table has no edge sending {message.name}")

    def receiving(self) -> list[Edge[S]]:
        """The edges taken on receiving a message, in table order (what a figure draws)."""
        return [e for e in self.edges if not e.sent]


_MESSAGE_NAMES = {
    HT.client_hello: "ClientHello",
    HT.server_hello: "ServerHello",
    HT.new_session_ticket: "NewSessionTicket",
    HT.end_of_early_data: "EndOfEarlyData",
    HT.encrypted_extensions: "EncryptedExtensions",
    HT.certificate: "Certificate",
    HT.certificate_request: "CertificateRequest",
    HT.certificate_verify: "CertificateVerify",
    HT.finished: "Finished",
    HT.key_update: "KeyUpdate",
    HT.message_hash: "message_hash",
}

C = ClientState
CLIENT: StateTable[ClientState] = StateTable(
    "client",
    ClientState,
    [
        Edge(C.START, HT.client_hello, C.WAIT_SH, sent=True, does="send ClientHello"),
        Edge(C.WAIT_SH, HT.server_hello, C.WAIT_SH, "HelloRetryRequest", "send ClientHello 2"),
        Edge(C.WAIT_SH, HT.server_hello, C.WAIT_EE, "", "K_recv = handshake"),
        Edge(C.WAIT_EE, HT.encrypted_extensions, C.WAIT_CERT_CR),
        # Resumption: the PSK already authenticates the server, so no Certificate (§2.2).
        Edge(C.WAIT_EE, HT.encrypted_extensions, C.WAIT_FINISHED, "PSK"),
        Edge(C.WAIT_CERT_CR, HT.certificate_request, C.WAIT_CERT),
        Edge(C.WAIT_CERT_CR, HT.certificate, C.WAIT_CV),
        Edge(C.WAIT_CERT, HT.certificate, C.WAIT_CV),
        Edge(C.WAIT_CV, HT.certificate_verify, C.WAIT_FINISHED),
        Edge(
            C.WAIT_FINISHED,
            HT.finished,
            C.CONNECTED,
            "",
            "K_send = handshake\nsend [Certificate] Finished\nK_send = K_recv = application",
        ),
        Edge(C.CONNECTED, HT.new_session_ticket, C.CONNECTED),
        Edge(C.CONNECTED, HT.key_update, C.CONNECTED, "", "K_recv = next"),
        # §4.6.2: only if we offered post_handshake_auth (and have a certificate to answer with).
        Edge(
            C.CONNECTED, HT.certificate_request, C.CONNECTED, "post-handshake", only_if="post_handshake_auth"
        ),
    ],
)

V = ServerState
SERVER: StateTable[ServerState] = StateTable(
    "server",
    ServerState,
    [
        Edge(V.START, HT.client_hello, V.START, "retry", "send HelloRetryRequest"),
        Edge(V.START, HT.client_hello, V.WAIT_EOED, "0-RTT", "send ServerHello ... Finished"),
        Edge(V.START, HT.client_hello, V.WAIT_CERT, "client auth", "send ServerHello ... Finished"),
        Edge(V.START, HT.client_hello, V.WAIT_FINISHED, "", "send ServerHello ... Finished"),
        Edge(V.WAIT_EOED, HT.end_of_early_data, V.WAIT_FINISHED, "", "K_recv = handshake"),
        Edge(V.WAIT_CERT, HT.certificate, V.WAIT_CV),
        Edge(V.WAIT_CERT, HT.certificate, V.WAIT_FINISHED, "empty"),
        Edge(V.WAIT_CV, HT.certificate_verify, V.WAIT_FINISHED),
        Edge(V.WAIT_FINISHED, HT.finished, V.CONNECTED, "", "K_recv = application\nsend NewSessionTicket"),
        Edge(V.CONNECTED, HT.key_update, V.CONNECTED, "", "K_recv = next"),
        # §4.6.2: the client's answer to our post-handshake CertificateRequest. The connection
        # stays CONNECTED; the answer itself walks the WAIT_CERT, WAIT_CV and WAIT_FINISHED edges
        # above, and each message may come only where that walk stands (only_if).
        Edge(V.CONNECTED, HT.certificate, V.CONNECTED, "post-handshake", only_if="WAIT_CERT"),
        Edge(V.CONNECTED, HT.certificate_verify, V.CONNECTED, "post-handshake", only_if="WAIT_CV"),
        Edge(V.CONNECTED, HT.finished, V.CONNECTED, "post-handshake", only_if="WAIT_FINISHED"),
    ],
)

__all__ = ["CLIENT", "SERVER", "ClientState", "Edge", "ServerState", "StateTable"]
