"""Pre-shared keys from tickets: binders, ticket ages, session files, a server ticket store (RFC 8446 §4.2.11).

Resumption in one paragraph (RFC 8446 §2.2): after a full handshake the server sends
NewSessionTicket messages (§4.6.1). Each ticket names a PSK that both sides derive from the
resumption_master_secret and the ticket nonce. A later ClientHello offers the ticket in a
``pre_shared_key`` extension (the last extension, §4.2.11) and proves it knows the PSK with a
*binder*: an HMAC, built like Finished, over the ClientHello cut just before the binders
(§4.2.11.2). A server that accepts answers with ``pre_shared_key`` (selected_identity) in its
ServerHello and skips Certificate and CertificateVerify: the PSK authenticates it.

The client side lives here as small functions (``client.py`` calls them); the server side is
``TicketStore``: a ticket is a random id, and the session state stays on the server, keyed by
that id (simpler to read than an encrypted ticket, and single-use 0-RTT is one set away).

Session files (``tlslab connect --sess-out FILE / --sess-in FILE``) are JSON::

    {
      "format": "tlslab-session/1",
      "server_name": "localhost",          # the SNI of the original connection
      "cipher_suite": "TLS_AES_128_GCM_SHA256",
      "ticket": "<hex>",                   # the opaque ticket (the PSK identity)
      "lifetime": 7200,                    # seconds, from NewSessionTicket.ticket_lifetime
      "age_add": 123456789,                # NewSessionTicket.ticket_age_add
      "nonce": "<hex>",
      "psk": "<hex>",                      # SECRET: the resumption PSK; the file is written mode 0600
      "max_early_data_size": 0,            # 0: the ticket allows no 0-RTT
      "received_at": 1790000000.5,         # Unix time the ticket arrived
      "alpn_protocol": null
    }
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from . import extensions as ext
from .constants import CipherSuite
from .events import Ticket
from .keyschedule import KeySchedule, transcript_hash
from .messages import ClientHello
from .provider import DEFAULT_PROVIDER, Provider
from .suites import SUITES

SESSION_FORMAT = "tlslab-session/1"
MAX_TICKET_LIFETIME = 604800  # §4.6.1: seven days
# §8.3: how far the client's idea of the ticket age may be from ours before 0-RTT is refused.
TICKET_AGE_WINDOW_MS = 10_000


# ----------------------------------------------------------------------------- binders (§4.2.11.2)


def compute_binder(
    psk: bytes, hash_name: str, transcript: bytes, provider: Provider = DEFAULT_PROVIDER
) -> bytes:
    """The PSK binder: HMAC(finished_key(binder_key), Transcript-Hash(transcript)) (RFC 8446 §4.2.11.2).

    ``transcript`` is the ClientHello truncated before the binders list, preceded, after a
    HelloRetryRequest, by message_hash(ClientHello1) and the HelloRetryRequest. The key schedule
    and Finished are the ``provider``'s.
    """
    binder_key = KeySchedule(hash_name, psk, provider).binder_key(resumption=True)
    return provider.finished_verify_data(binder_key, transcript_hash(transcript, hash_name), hash_name)


def truncated_client_hello(client_hello: bytes, offered: ext.OfferedPsks) -> bytes:
    """The ClientHello up to (not including) the binders list: the binders sit at its very end."""
    return client_hello[: len(client_hello) - offered.binders_length()]


def binder_matches(expected: bytes, received: bytes) -> bool:
    return hmac.compare_digest(expected, received)


def suite_hash(suite: int) -> str:
    return SUITES[CipherSuite(suite)].hash_name


# ----------------------------------------------------------------------------- the client's offer


def offerable_ticket(
    ticket: Ticket | None, server_name: str | None, cipher_suites: Sequence[int], now: float | None = None
) -> Ticket | None:
    """``ticket``, if a client may offer it at ``now`` (RFC 8446 §4.6.1, §4.2.11); else None."""
    if ticket is None or ticket.expired(now):
        return None  # §4.6.1: not after ticket_lifetime seconds
    if ticket.server_name != server_name:
        return None  # §4.6.1: only with the server name of the original connection
    if suite_hash(ticket.cipher_suite) not in {suite_hash(s) for s in cipher_suites if s in SUITES}:
        return None  # §4.2.11: the PSK's hash must be that of a suite we offer
    return ticket


def offer_psk(
    ch: ClientHello, ticket: Ticket, age_ms: int, transcript: bytes, provider: Provider = DEFAULT_PROVIDER
) -> ext.OfferedPsks:
    """Append ``pre_shared_key`` to ``ch`` (last, §4.2.11) with the binder filled in (§4.2.11.2).

    The binder covers ``transcript`` (empty, or message_hash(ClientHello1) + HelloRetryRequest)
    and ``ch`` encoded up to, not including, the binders list; so ``ch`` is encoded first with
    a placeholder binder of the right length, then again with the real one.
    """
    identity = ext.PskIdentity(ticket.ticket, ticket.obfuscated_age(age_ms))  # §4.2.11.1
    offered = ext.OfferedPsks([identity], [bytes(SUITES[ticket.cipher_suite].hash_len)])
    ch.extensions.append(offered.to_extension())
    partial = truncated_client_hello(ch.encode(), offered)
    binder = compute_binder(ticket.psk, suite_hash(ticket.cipher_suite), transcript + partial, provider)
    offered.binders = [binder]
    ch.extensions[-1] = offered.to_extension()
    return offered


# ----------------------------------------------------------------------------- session files


def save_session(ticket: Ticket, path: str | os.PathLike[str]) -> None:
    """Write ``ticket`` as a JSON session file (see the module docstring), readable by us only."""
    doc = {
        "format": SESSION_FORMAT,
        "server_name": ticket.server_name,
        "cipher_suite": CipherSuite(ticket.cipher_suite).name,
        "ticket": ticket.ticket.hex(),
        "lifetime": ticket.lifetime,
        "age_add": ticket.age_add,
        "nonce": ticket.nonce.hex(),
        "psk": ticket.psk.hex(),
        "max_early_data_size": ticket.max_early_data_size,
        "received_at": ticket.received_at,
        "alpn_protocol": ticket.alpn_protocol,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def load_session(path: str | os.PathLike[str], *, now: float | None = None) -> Ticket:
    """Read a session file; ValueError if it is not one, or if its ticket has expired (§4.6.1)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format") != SESSION_FORMAT:
            raise ValueError(f"not a {SESSION_FORMAT} file")
        ticket = Ticket(
            ticket=bytes.fromhex(doc["ticket"]),
            lifetime=int(doc["lifetime"]),
            age_add=int(doc["age_add"]),
            nonce=bytes.fromhex(doc["nonce"]),
            psk=bytes.fromhex(doc["psk"]),
            cipher_suite=CipherSuite[doc["cipher_suite"]],
            max_early_data_size=int(doc["max_early_data_size"]),
            received_at=float(doc["received_at"]),
            server_name=doc["server_name"],
            alpn_protocol=doc.get("alpn_protocol"),
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a tlslab session file ({exc!r})") from exc
    if ticket.expired(now):
        raise ValueError(f"{path}: the ticket expired {ticket.age_ms(now) // 1000 - ticket.lifetime} s ago")
    return ticket


# ----------------------------------------------------------------------------- the server's store


@dataclass
class SessionState:
    """What the server remembers about a ticket it issued (RFC 8446 §4.6.1)."""

    psk: bytes
    cipher_suite: CipherSuite
    age_add: int
    lifetime: int
    issued_at: float
    max_early_data_size: int
    alpn_protocol: str | None
    server_name: str | None
    peer_certificates: list[x509.Certificate] = field(default_factory=list)

    def age_ms(self, now: float | None = None) -> int:
        return max(0, int(((time.time() if now is None else now) - self.issued_at) * 1000))


class TicketStore:
    """Tickets as random ids mapped to session state, shared by a server's connections.

    0-RTT is single-use (RFC 8446 §8.1): ``claim_early_data`` says yes once per ticket, so a
    replayed ClientHello has its early data rejected (the handshake itself goes on: without
    the client's (EC)DHE share an attacker cannot finish it).
    """

    def __init__(self) -> None:
        self._sessions: dict[bytes, SessionState] = {}
        self._early_data_used: set[bytes] = set()
        self._lock = threading.Lock()

    def issue(self, state: SessionState) -> bytes:
        ticket = secrets.token_bytes(32)
        with self._lock:
            self._sessions[ticket] = state
        return ticket

    def lookup(self, ticket: bytes, now: float | None = None) -> SessionState | None:
        """The state of a live ticket, or None (unknown or expired: then a full handshake, §4.2.11)."""
        with self._lock:
            state = self._sessions.get(ticket)
            if state is not None and state.age_ms(now) >= state.lifetime * 1000:
                del self._sessions[ticket]
                return None
        return state

    def claim_early_data(self, ticket: bytes) -> bool:
        """True the first time 0-RTT comes with ``ticket``, False ever after (§8.1)."""
        with self._lock:
            if ticket in self._early_data_used:
                return False
            self._early_data_used.add(ticket)
            return True

    def __len__(self) -> int:
        return len(self._sessions)


__all__ = [
    "MAX_TICKET_LIFETIME",
    "SESSION_FORMAT",
    "SessionState",
    "TicketStore",
    "compute_binder",
    "load_session",
    "offer_psk",
    "offerable_ticket",
    "save_session",
    "truncated_client_hello",
]
