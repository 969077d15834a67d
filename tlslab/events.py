"""What a connection reports: the events of the sans-I/O client and server (RFC 8446 §4, §6.1).

``receive_data()`` returns these; a driver (``connection.py``) or a notebook acts on them.
Both ``client.py`` and ``server.py`` use them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography import x509

from .constants import CipherSuite, NamedGroup

# How many events a connection keeps in its ``events`` history (a long download would otherwise
# keep every record it ever received).
EVENT_HISTORY = 256


@dataclass
class HandshakeComplete:
    """The handshake finished: both Finished messages checked and sent."""

    cipher_suite: CipherSuite
    group: NamedGroup
    alpn_protocol: str | None
    peer_certificates: list[x509.Certificate]
    hello_retry: bool
    session_resumed: bool = False  # a PSK from a ticket was accepted (RFC 8446 §2.2)
    early_data_accepted: bool | None = None  # None: no 0-RTT offered; False: rejected (§4.2.10)


@dataclass
class ApplicationData:
    data: bytes


@dataclass
class EarlyData:
    """0-RTT application data the server accepted (RFC 8446 §2.3, §4.2.10): replayable, see §8."""

    data: bytes


@dataclass
class Ticket:
    """A NewSessionTicket, kept for resumption (RFC 8446 §4.6.1).

    ``psk`` is the resumption PSK already derived from the ticket nonce; ``received_at`` is
    a Unix time (seconds), from which the ticket age of §4.2.11.1 is counted.
    """

    ticket: bytes
    lifetime: int
    age_add: int
    nonce: bytes
    psk: bytes
    cipher_suite: CipherSuite
    max_early_data_size: int
    received_at: float
    server_name: str | None
    alpn_protocol: str | None = None  # §4.2.10: 0-RTT must use the ALPN of the original connection

    def age_ms(self, now: float | None = None) -> int:
        """The ticket age in milliseconds (§4.2.11.1)."""
        return max(0, int(((time.time() if now is None else now) - self.received_at) * 1000))

    def expired(self, now: float | None = None) -> bool:
        """§4.6.1: not to be used after ``ticket_lifetime`` seconds."""
        return self.age_ms(now) >= self.lifetime * 1000

    def obfuscated_age(self, age_ms: int) -> int:
        """obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32 (§4.2.11.1)."""
        return (age_ms + self.age_add) % (1 << 32)


@dataclass
class NewTicket:
    ticket: Ticket


@dataclass
class KeyUpdated:
    """Our receive keys (``direction="read"``) or send keys (``"write"``) moved on (§4.6.3)."""

    direction: str
    generation: int


@dataclass
class CertificateRequested:
    """The server asked for our certificate after the handshake, and we answered (RFC 8446 §4.6.2)."""

    context: bytes
    sent_certificate: bool


@dataclass
class ClientAuthenticated:
    """The client proved its certificate after the handshake (RFC 8446 §4.6.2), server side."""

    peer_certificates: list[x509.Certificate]


@dataclass
class ConnectionClosed:
    """The peer sent close_notify (RFC 8446 §6.1)."""


Event = (
    HandshakeComplete
    | ApplicationData
    | EarlyData
    | NewTicket
    | KeyUpdated
    | CertificateRequested
    | ClientAuthenticated
    | ConnectionClosed
)
