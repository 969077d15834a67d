"""What a connection reports: the events of the sans-I/O client and server (RFC 8446 §4, §6.1).

``receive_data()`` returns these; a driver (``connection.py``) or a notebook acts on them.
Both ``client.py`` and ``server.py`` use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from .constants import CipherSuite, NamedGroup


@dataclass
class HandshakeComplete:
    """The handshake finished: both Finished messages checked and sent."""

    cipher_suite: CipherSuite
    group: NamedGroup
    alpn_protocol: str | None
    peer_certificates: list[x509.Certificate]
    hello_retry: bool


@dataclass
class ApplicationData:
    data: bytes


@dataclass
class Ticket:
    """A NewSessionTicket, kept for resumption (RFC 8446 §4.6.1)."""

    ticket: bytes
    lifetime: int
    age_add: int
    nonce: bytes
    psk: bytes
    cipher_suite: CipherSuite
    max_early_data_size: int
    received_at: float
    server_name: str | None


@dataclass
class NewTicket:
    ticket: Ticket


@dataclass
class KeyUpdated:
    """Our receive keys (``direction="read"``) or send keys (``"write"``) moved on (§4.6.3)."""

    direction: str
    generation: int


@dataclass
class ConnectionClosed:
    """The peer sent close_notify (RFC 8446 §6.1)."""


Event = HandshakeComplete | ApplicationData | NewTicket | KeyUpdated | ConnectionClosed
