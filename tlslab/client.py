r"""The TLS 1.3 client, sans-I/O (RFC 8446 Appendix A.1, §4).

Bytes go in through ``receive_data()``, bytes to send come out of
``data_to_send()``, and what happened comes out as events. Nothing here touches
a socket, so a notebook can feed the server's messages one at a time, tamper
with them, or replay an RFC 8448 trace. ``connection.py`` is the thin driver
that moves the bytes over TCP.

The states are those of RFC 8446 Appendix A.1: ``states.CLIENT`` is the table (what may
arrive in each state, and where it leads) with the RFC's diagram beside it. ``Endpoint``
checks each message against it, adds it to the transcript and moves the state; the handlers
here, in the order the handshake runs, check the message and say which case it was.

The PSK branch is resumption (RFC 8446 §2.2): ``ClientConfig(session=ticket)`` offers a ticket
from an earlier connection (``pre_shared_key``, psk_dhe_ke only, §4.2.9); if the server
accepts it, the PSK authenticates the server and no Certificate/CertificateVerify follow.
With ``ClientConfig(early_data=...)`` and a ticket that allows it, the data goes out right
after the ClientHello under the client_early_traffic_secret (0-RTT, §2.3, §4.2.10); if the
server rejects it, it is sent again after the handshake and ``early_data_accepted`` says so.
The binder and session-file helpers live in ``psk.py``.

Client certificates (§4.4.2): with ``certificate_chain`` and ``private_key`` configured, a
CertificateRequest is answered with Certificate and CertificateVerify, signed with the first
scheme that fits our key and that the server listed; if none fits (or no certificate is
configured) we send an empty Certificate, which §4.4.2.4 allows, and the server decides.
With ``post_handshake_auth=True`` the same happens for a CertificateRequest after the
handshake (§4.6.2), followed by a Finished keyed with our application traffic secret (§4.4).

A typical driver::

    conn = ClientConnection(ClientConfig(server_name="example.com"))
    sock.sendall(conn.data_to_send())                  # ClientHello
    while not conn.handshake_complete:
        conn.receive_data(sock.recv(16384))
        sock.sendall(conn.data_to_send())
"""

from __future__ import annotations

import hmac
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from . import extensions as ext
from .certverify import ip_literal, load_trust_roots
from .constants import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    TLS10,
    TLS12,
    TLS13,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
    name_of,
)
from .endpoint import Endpoint
from .errors import (
    BadCertificate,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    ProtocolVersion,
    TLSError,
    UnexpectedMessage,
    UnsupportedExtension,
)
from .events import (
    ApplicationData,
    CertificateRequested,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    KeyUpdated,
    NewTicket,
    Ticket,
)
from .keyexchange import KeyShare
from .keylog import KeyLogCallback
from .keyschedule import (
    KeySchedule,
    hrr_message_hash,
    resumption_psk,
    transcript_hash,
)
from .messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HandshakeMessage,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
    decode_handshake,
)
from .provider import DEFAULT_PROVIDER, Provider
from .psk import offer_psk, offerable_ticket, suite_hash
from .record import Record
from .signatures import (
    SUPPORTED_SIGNATURE_SCHEMES,
    PrivateKey,
    schemes_for_key,
    sign,
    verify_signature,
)
from .states import CLIENT
from .states import ClientState as State
from .suites import SUITES

DEFAULT_CIPHER_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
DEFAULT_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
    NamedGroup.x448,
)


# RFC 8446 §4.2: the extensions each server message may carry.
ALLOWED_IN: dict[str, set[int]] = {
    "ServerHello": {ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key},
    "HelloRetryRequest": {ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie},
    "EncryptedExtensions": {
        ExtensionType.server_name,
        ExtensionType.max_fragment_length,
        ExtensionType.supported_groups,
        ExtensionType.use_srtp,
        ExtensionType.heartbeat,
        ExtensionType.application_layer_protocol_negotiation,
        ExtensionType.client_certificate_type,
        ExtensionType.server_certificate_type,
        ExtensionType.early_data,
        ExtensionType.record_size_limit,  # RFC 8449
    },
    "Certificate": {ExtensionType.status_request, ExtensionType.signed_certificate_timestamp},
    "CertificateRequest": {
        ExtensionType.status_request,
        ExtensionType.signature_algorithms,
        ExtensionType.signed_certificate_timestamp,
        ExtensionType.certificate_authorities,
        ExtensionType.oid_filters,
        ExtensionType.signature_algorithms_cert,
    },
    "NewSessionTicket": {ExtensionType.early_data},
}


# ----------------------------------------------------------------------------- config


@dataclass
class ClientConfig:
    """What the client offers and checks. The security checks are on by default.

    ``random``, ``session_id``, ``key_share_private_keys`` and ``ticket_age_ms`` exist so
    that a test can replay an RFC 8448 trace byte for byte; leave them alone otherwise.

    ``session`` is a ``Ticket`` from an earlier connection to offer (RFC 8446 §2.2); it is
    not offered if it has expired, was issued for another server name, or its cipher suite's
    hash matches none we offer (§4.2.11). ``early_data`` is sent as 0-RTT when the ticket
    allows it (§4.2.10), else (or when the server rejects it) right after the handshake, if
    ``resend_early_data``. ``certificate_chain`` + ``private_key`` answer a CertificateRequest
    (§4.4.2); ``post_handshake_auth`` also offers to be asked after the handshake (§4.6.2).
    ``provider`` holds the cryptographic pieces the connection calls (``tlslab.provider``).
    """

    server_name: str | None = None
    cipher_suites: Sequence[int] = DEFAULT_CIPHER_SUITES
    groups: Sequence[int] = DEFAULT_GROUPS
    key_share_groups: Sequence[int] | None = None  # default: the first group only
    signature_schemes: Sequence[int] = tuple(SUPPORTED_SIGNATURE_SCHEMES)
    alpn_protocols: Sequence[str] = ()
    cafile: str | None = None
    trust_roots: list[x509.Certificate] | None = None
    verify_chain: bool = True
    check_hostname: bool = True
    middlebox_compatibility: bool = True
    keylog: KeyLogCallback | None = None
    now: datetime | None = None  # certificate validation time; None = now
    random: bytes | None = None
    session_id: bytes | None = None
    key_share_private_keys: dict[int, bytes] = field(default_factory=dict)
    # Last say over the ClientHello's extensions (to replay a trace or to teach tampering).
    # pre_shared_key is appended after the hook: it must stay last (§4.2.11).
    extensions_hook: Callable[[list[ext.Extension]], list[ext.Extension]] | None = None
    session: Ticket | None = None
    early_data: bytes | None = None
    resend_early_data: bool = True
    ticket_age_ms: int | None = None  # None: measured from session.received_at
    certificate_chain: list[x509.Certificate] = field(default_factory=list)
    private_key: PrivateKey | None = None
    post_handshake_auth: bool = False
    # The pieces a learner may replace (HKDF, nonces, Finished, ...): provider.py.
    provider: Provider = DEFAULT_PROVIDER

    def __post_init__(self) -> None:
        if bool(self.certificate_chain) != (self.private_key is not None):
            raise ValueError("a client certificate needs both certificate_chain and private_key")
        if self.verify_chain and self.check_hostname and not self.server_name:
            raise ValueError("check_hostname needs a server_name to check the certificate against")
        if not self.verify_chain or not self.check_hostname:
            off = [n for n, v in (("chain", self.verify_chain), ("hostname", self.check_hostname)) if not v]
            warnings.warn(
                f"tlslab: certificate {' and '.join(off)} verification is OFF: "
                "any man in the middle can read and change this connection",
                stacklevel=3,
            )


# ----------------------------------------------------------------------------- the client


class ClientConnection(Endpoint):
    """One TLS 1.3 client connection, as a state machine over bytes (RFC 8446 Appendix A.1).

    Records, alerts, close and KeyUpdate are done as on the server, by ``Endpoint`` (endpoint.py).
    """

    State, TABLE = State, CLIENT
    SIDE, PEER, PEER_NOUN = "client", "server", "peer"
    config: ClientConfig

    def __init__(self, config: ClientConfig | None = None, *, server_name: str | None = None) -> None:
        super().__init__(config or ClientConfig(server_name=server_name))
        self._key_shares: dict[int, KeyShare] = {}
        self.tickets: list[Ticket] = []
        c = self.config
        self._session = offerable_ticket(c.session, c.server_name, c.cipher_suites, self._ticket_clock())
        self._psk_offered: ext.OfferedPsks | None = None
        self._early_data_offered = False
        self._early_data_to_send = self.config.early_data
        self.client_random = self.config.random or os.urandom(32)
        if self.config.session_id is not None:
            self._session_id = self.config.session_id
        else:  # Appendix D.4: a non-empty session id turns on middlebox compatibility mode
            self._session_id = os.urandom(32) if self.config.middlebox_compatibility else b""

    def _ticket_clock(self) -> float | None:
        """Now, as far as ticket expiry goes: a replay's ``ticket_age_ms`` fixes it (None: now)."""
        c = self.config
        if c.session is None or c.ticket_age_ms is None:
            return None
        return c.session.received_at + c.ticket_age_ms / 1000

    # --------------------------------------------------------------- the public interface

    def start(self) -> None:
        """Queue the ClientHello (called by ``data_to_send`` if you forget)."""
        if self.state is State.START:
            self._send_client_hello(self.config.key_share_groups or list(self.config.groups)[:1])
            self.state = CLIENT.sending(State.START, HandshakeType.client_hello)

    def data_to_send(self) -> bytes:
        """Bytes the caller must write to the transport now."""
        self.start()
        return super().data_to_send()

    def send_application_data(self, data: bytes) -> None:
        """Encrypt ``data`` into records of at most 2^14 bytes (RFC 8446 §5.1)."""
        if self.state is not State.CONNECTED or self._write is None or self._write_closed:
            raise TLSError(f"cannot send application data in state {self.state.value}, or after close()")
        self._send_application_data(data)

    def key_update(self, request_peer_update: bool = True) -> None:
        """Send KeyUpdate and move our send keys on (RFC 8446 §4.6.3)."""
        if self.state is not State.CONNECTED or self._write_closed:
            raise TLSError("KeyUpdate is only allowed after the handshake and before close()")
        self._send_key_update(request_peer_update)

    def _reads_after_close(self) -> bool:
        """After our close_notify we still read, once connected, until the server's (§6.1)."""
        return self.state is State.CONNECTED

    # --------------------------------------------------------------- records (RFC 8446 §5)

    def _on_record(self, record: Record) -> None:
        if self._read_closed:
            return  # §6.1: "Any data received after a closure alert has been received MUST be ignored."
        if record.content_type == ContentType.change_cipher_spec:
            return self._on_change_cipher_spec(record)
        if self._read is not None:
            if record.content_type != ContentType.application_data:
                raise UnexpectedMessage(
                    f"plaintext {name_of(ContentType, record.content_type)} record after encryption started"
                )
            content_type, data = self._read.decrypt(record)
        else:
            if record.content_type == ContentType.application_data:
                raise UnexpectedMessage("encrypted record before the ServerHello")
            content_type, data = record.content_type, record.fragment
        self._on_content(content_type, data)

    def _on_application_data(self, data: bytes) -> None:
        if self.state is not State.CONNECTED:
            raise UnexpectedMessage("application data before the handshake finished")
        self._emit(ApplicationData(data))

    def _on_change_cipher_spec(self, record: Record) -> None:
        # RFC 8446 §5: a plaintext CCS of one byte 0x01 is dropped between the first
        # ClientHello and the server's Finished (middlebox compatibility, Appendix D.4).
        super()._on_change_cipher_spec(record)
        if self.state not in (
            State.WAIT_SH,
            State.WAIT_EE,
            State.WAIT_CERT_CR,
            State.WAIT_CERT,
            State.WAIT_CV,
            State.WAIT_FINISHED,
        ):
            raise UnexpectedMessage("change_cipher_spec after the handshake")

    # --------------------------------------------------------------- handshake dispatch

    def _asked_for(self) -> set[str]:
        """§4.6.2: a CertificateRequest after the handshake, only if we offered post_handshake_auth."""
        return (
            {"post_handshake_auth"}
            if self.config.post_handshake_auth and self.config.certificate_chain
            else set()
        )

    def _decode(self, raw: bytes) -> HandshakeMessage:
        try:
            return decode_handshake(raw)
        except (DecodeError, ProtocolVersion):
            # A TLS 1.2 ServerHello need not parse as a TLS 1.3 one; §4.1.3 still wants the sentinel checked.
            if raw[0] == HandshakeType.server_hello and raw[30:38] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
                raise IllegalParameter(
                    "downgrade detected: ServerHello.random ends in the DOWNGRD sentinel"
                ) from None
            raise

    _HANDLERS: ClassVar[dict[int, str]] = {
        HandshakeType.server_hello: "_on_server_hello",
        HandshakeType.encrypted_extensions: "_on_encrypted_extensions",
        HandshakeType.certificate_request: "_on_certificate_request",
        HandshakeType.certificate: "_on_certificate",
        HandshakeType.certificate_verify: "_on_certificate_verify",
        HandshakeType.finished: "_on_finished",
        HandshakeType.new_session_ticket: "_on_new_session_ticket",
        HandshakeType.key_update: "_on_key_update",
    }

    def _handle(self, msg: HandshakeMessage, raw: bytes) -> str | None:
        handler: Callable[[HandshakeMessage, bytes], str | None] = getattr(self, self._HANDLERS[msg.msg_type])
        return handler(msg, raw)

    # --------------------------------------------------------------- ClientHello (§4.1.2)

    def _client_hello_extensions(self) -> list[ext.Extension]:
        c = self.config
        shares = [ext.KeyShareEntry(g, ks.public) for g, ks in self._key_shares.items()]
        bodies: list[ext.ExtensionBody] = []
        if c.server_name and ip_literal(c.server_name) is None:  # RFC 6066 §3: no IP literals in SNI
            bodies.append(ext.ServerNameList([c.server_name.encode("ascii")]))
        bodies += [
            ext.SupportedGroups(list(c.groups)),
            ext.KeyShareClientHello(shares),
            ext.SupportedVersionsClientHello([TLS13]),
            ext.SignatureAlgorithms(list(c.signature_schemes)),
            ext.PskKeyExchangeModes([PskKeyExchangeMode.psk_dhe_ke]),
        ]
        if c.alpn_protocols:
            bodies.append(ext.ALPN([p.encode() for p in c.alpn_protocols]))
        exts = [body.to_extension() for body in bodies]
        if (
            self._hello_retry is not None
            and (cookie := self._hello_retry.get(ExtensionType.cookie)) is not None
        ):
            exts.append(ext.Extension(ExtensionType.cookie, cookie))  # §4.2.2: echo it
        if self._offers_early_data():
            exts.append(ext.EarlyDataIndication().to_extension())  # §4.2.10: empty in a ClientHello
        if c.post_handshake_auth and c.certificate_chain:
            exts.append(ext.Extension(ExtensionType.post_handshake_auth))  # §4.2.6: empty
        return c.extensions_hook(exts) if c.extensions_hook else exts

    def _offers_early_data(self) -> bool:
        """0-RTT only in the first ClientHello, with a ticket that allows it (§4.2.10)."""
        return (
            self._session is not None
            and self._hello_retry is None
            and bool(self.config.early_data)
            and self._session.max_early_data_size > 0
        )

    def _send_client_hello(self, key_share_groups: Sequence[int]) -> None:
        """ClientHello (§4.1.2), first or second: only the key shares and cookie change (§4.1.4)."""
        shares = {g: self._key_shares.get(g) for g in key_share_groups}
        for g, share in shares.items():
            if share is None:
                shares[g] = self.provider.generate_key_share(
                    NamedGroup(g), self.config.key_share_private_keys.get(g)
                )
        self._key_shares = shares  # type: ignore[assignment]
        self._client_hello = ClientHello(
            random=self.client_random,
            legacy_session_id=self._session_id,
            cipher_suites=list(self.config.cipher_suites),
            extensions=self._client_hello_extensions(),
        )
        if self._session is not None:
            self._add_pre_shared_key(self._client_hello, self._session)
        # §5.1: the first ClientHello may carry legacy_record_version 0x0301 for old middleboxes.
        self._send_handshake(self._client_hello, plaintext=TLS10 if self._hello_retry is None else TLS12)
        if self._offers_early_data():
            self._send_early_data()

    # --------------------------------------------------------------- PSK and 0-RTT (§4.2.11, §4.2.10)

    def _add_pre_shared_key(self, ch: ClientHello, ticket: Ticket) -> None:
        """Append pre_shared_key, last (§4.2.11), its binder over what precedes it (§4.2.11.2)."""
        age = self.config.ticket_age_ms if self.config.ticket_age_ms is not None else ticket.age_ms()
        self._psk_offered = offer_psk(ch, ticket, age, self._transcript, self.provider)

    def _send_early_data(self) -> None:
        """0-RTT: early data under the client_early_traffic_secret (§2.3, §4.2.10, §7.1)."""
        assert self._session is not None and self.config.early_data is not None
        ticket = self._session
        if self._session_id and self.config.middlebox_compatibility:
            self._send_change_cipher_spec()  # Appendix D.4: right after the first ClientHello
        ks = KeySchedule(suite_hash(ticket.cipher_suite), ticket.psk, self.provider)
        early_secret = ks.client_early_traffic_secret(self._transcript)
        self._keylog("CLIENT_EARLY_TRAFFIC_SECRET", early_secret)
        self._keylog("EARLY_EXPORTER_SECRET", ks.early_exporter_master_secret(self._transcript))
        self._write = self._protection(early_secret, SUITES[ticket.cipher_suite])
        data = self.config.early_data[: ticket.max_early_data_size]  # §4.2.10: never more
        self._send_application_data(data)
        self._early_data_to_send = self.config.early_data[len(data) :] or None
        self._early_data_offered = True
        self.early_data_accepted = False  # until EncryptedExtensions says otherwise

    def _selected_psk(self, sh: ServerHello) -> bytes | None:
        """The PSK the server accepted, or None; checks selected_identity and the hash (§4.2.11)."""
        body = sh.body(ext.PreSharedKeyServerHello)
        if body is None:
            return None
        assert self._session is not None and self._psk_offered is not None  # else _check_extensions
        selected = body.selected_identity
        if selected >= len(self._psk_offered.identities):
            raise IllegalParameter(
                f"server selected PSK identity {selected}; we offered {len(self._psk_offered.identities)}"
            )
        if suite_hash(sh.cipher_suite) != suite_hash(self._session.cipher_suite):
            raise IllegalParameter("server's cipher suite does not have the hash of the PSK it selected")
        return self._session.psk

    # --------------------------------------------------------------- ServerHello (§4.1.3)

    def _check_server_hello_common(self, sh: ServerHello, what: str) -> None:
        assert self._client_hello is not None
        _check_extensions(sh.extensions, what, sent=self._client_hello.extensions)
        if sh.legacy_session_id_echo != self._client_hello.legacy_session_id:
            raise IllegalParameter(f"{what} does not echo our legacy_session_id")  # §4.1.3
        if sh.cipher_suite not in self.config.cipher_suites:
            raise IllegalParameter(
                f"server chose cipher suite {name_of(CipherSuite, sh.cipher_suite)}, not offered"
            )

    def _check_version(self, sh: ServerHello, what: str) -> None:
        versions = sh.body(ext.SupportedVersionsServerHello)
        if versions is None:
            # The server negotiated TLS 1.2 or older. §4.1.3: look for the downgrade sentinel first.
            if sh.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
                raise IllegalParameter("downgrade detected: ServerHello.random ends in the DOWNGRD sentinel")
            raise ProtocolVersion(f"server chose {sh.legacy_version:#06x}; tlslab speaks only TLS 1.3")
        selected = versions.selected_version
        if selected != TLS13:  # §4.2.1: a version we did not offer
            raise IllegalParameter(f"{what} selected version {selected:#06x}, which we did not offer")
        if sh.legacy_version != TLS12:
            raise IllegalParameter(f"{what} legacy_version must be 0x0303, got {sh.legacy_version:#06x}")

    def _on_server_hello(self, sh: ServerHello, raw: bytes) -> str | None:
        if isinstance(sh, HelloRetryRequest):
            self._on_hello_retry_request(sh, raw)
            return "HelloRetryRequest"
        self._check_version(sh, "ServerHello")
        self._check_server_hello_common(sh, "ServerHello")
        if self._hello_retry is not None and sh.cipher_suite != self._hello_retry.cipher_suite:
            raise IllegalParameter("ServerHello cipher suite differs from the HelloRetryRequest's")  # §4.1.4
        psk = self._selected_psk(sh)
        key_share = sh.body(ext.KeyShareServerHello)
        if key_share is None and psk is not None:  # §4.2.9: psk_ke was not offered
            raise IllegalParameter("server resumed without key_share, but we offered only psk_dhe_ke")
        if key_share is None:  # §4.2.8: without a PSK, the (EC)DHE share is mandatory
            raise MissingExtension("ServerHello has no key_share (and selected no PSK)")
        entry = key_share.server_share
        if entry.group not in self._key_shares:
            raise IllegalParameter(
                f"server's key share is for {name_of(NamedGroup, entry.group)}, not offered"
            )
        self.suite = SUITES[CipherSuite(sh.cipher_suite)]
        self.group = NamedGroup(entry.group)
        shared_secret = self._key_shares[entry.group].exchange(entry.key_exchange)
        self.session_resumed = psk is not None
        self._derive_handshake_secrets(shared_secret, psk)
        return None

    def _derive_handshake_secrets(self, shared_secret: bytes, psk: bytes | None) -> None:
        if self._handshake.has_partial():  # §5.1: a handshake message may not span a key change
            raise UnexpectedMessage("handshake data after ServerHello in the same plaintext record")
        super()._derive_handshake_secrets(shared_secret, psk)
        assert self.suite is not None
        self._read = self._protection(self._server_hs_secret)  # K_recv = handshake

    def _on_hello_retry_request(self, hrr: HelloRetryRequest, raw: bytes) -> None:
        if self._hello_retry is not None:
            raise UnexpectedMessage("a second HelloRetryRequest")  # §4.1.4
        self._check_version(hrr, "HelloRetryRequest")
        self._check_server_hello_common(hrr, "HelloRetryRequest")
        key_share = hrr.body(ext.KeyShareHelloRetryRequest)
        if key_share is None and hrr.get(ExtensionType.cookie) is None:
            raise IllegalParameter("HelloRetryRequest would not change the ClientHello")  # §4.1.4
        if key_share is not None:
            group = key_share.selected_group
            if group not in self.config.groups:
                raise IllegalParameter(
                    f"HelloRetryRequest asks for {name_of(NamedGroup, group)}, not offered"
                )
            if group in self._key_shares:  # §4.2.8
                raise IllegalParameter(
                    f"HelloRetryRequest asks for {name_of(NamedGroup, group)}, already sent"
                )
            groups = [group]
        else:
            groups = list(self._key_shares)
        hash_name = SUITES[CipherSuite(hrr.cipher_suite)].hash_name
        # §4.4.1: the first ClientHello is replaced by a synthetic message_hash message.
        self._transcript = hrr_message_hash(self._transcript_before, hash_name) + raw
        self._hello_retry = hrr
        self._write = None  # §4.2.10: a HelloRetryRequest rejects 0-RTT; ClientHello2 goes in the clear
        if self._session is not None and suite_hash(self._session.cipher_suite) != hash_name:
            self._session = None  # §4.1.4: drop a PSK whose hash does not fit the HRR's suite
        if self._session_id and self.config.middlebox_compatibility:
            self._send_change_cipher_spec()  # Appendix D.4: before the second flight
        self._send_client_hello(groups)

    # --------------------------------------------------------------- server flight (§4.3, §4.4)

    def _on_encrypted_extensions(self, ee: EncryptedExtensions, raw: bytes) -> str | None:
        assert self._client_hello is not None
        _check_extensions(ee.extensions, "EncryptedExtensions", sent=self._client_hello.extensions)
        alpn = ee.body(ext.ALPN)
        if alpn is not None:
            protocols = alpn.protocol_name_list
            if len(protocols) != 1:  # RFC 7301 §3.1: exactly one protocol
                raise IllegalParameter(f"server's ALPN answer must name one protocol, not {len(protocols)}")
            if protocols[0].decode("latin-1") not in self.config.alpn_protocols:
                raise IllegalParameter(f"server chose ALPN {protocols[0]!r}, which we did not offer")
            self.alpn_protocol = protocols[0].decode("latin-1")
        for empty in (ExtensionType.server_name, ExtensionType.early_data):  # RFC 6066 §3; §4.2.10
            if ee.get(empty):
                raise DecodeError(f"{empty.name} in EncryptedExtensions must be empty")
        if ee.get(ExtensionType.early_data) is not None:
            self._check_early_data_accepted()
        # Appendix A.1: with a PSK, the server is already authenticated: straight to its Finished.
        return "PSK" if self.session_resumed else None

    def _check_early_data_accepted(self) -> None:
        """early_data in EncryptedExtensions: the server takes our 0-RTT data (§4.2.10)."""
        assert self._psk_offered is not None and self._session is not None and self.suite is not None
        if not self.session_resumed:
            raise IllegalParameter("server accepted early data without accepting our PSK")
        if self.suite.code != self._session.cipher_suite:  # §4.2.10: the ticket's suite, exactly
            raise IllegalParameter("server accepted early data with another cipher suite than the ticket's")
        self.early_data_accepted = True

    def _on_certificate_request(self, cr: CertificateRequest, raw: bytes) -> str | None:
        _check_placement(cr.extensions, "CertificateRequest")
        if self.state is State.CONNECTED:
            self._on_post_handshake_certificate_request(cr, raw)
            return "post-handshake"
        if cr.certificate_request_context:
            raise IllegalParameter("certificate_request_context must be empty in the handshake")  # §4.3.2
        if cr.get(ExtensionType.signature_algorithms) is None:
            raise MissingExtension("CertificateRequest lacks signature_algorithms")  # §4.3.2
        self._certificate_request = cr
        return None

    def _on_certificate(self, cert: Certificate, raw: bytes) -> None:
        if cert.certificate_request_context:
            raise IllegalParameter("server Certificate must have an empty certificate_request_context")
        if not cert.certificate_list:
            raise DecodeError("server sent an empty Certificate message")  # §4.4.2.4
        assert self._client_hello is not None
        for entry in cert.certificate_list:  # §4.4.2: they "MUST correspond to ones from the ClientHello"
            _check_extensions(entry.extensions, "Certificate", sent=self._client_hello.extensions)
        chain = [entry.cert_data for entry in cert.certificate_list]
        c = self.config
        if c.verify_chain:
            name = c.server_name if c.check_hostname else None
            roots = c.trust_roots if c.trust_roots is not None else load_trust_roots(c.cafile)
            self.peer_certificates = self.provider.verify_chain(chain, name, trust_roots=roots, now=c.now)
        else:
            self.peer_certificates = [_load_certificate(der) for der in chain]

    def _on_certificate_verify(self, cv: CertificateVerify, raw: bytes) -> None:
        assert self.suite is not None
        if cv.algorithm not in self.config.signature_schemes:
            raise IllegalParameter(
                f"server signed with {name_of(SignatureScheme, cv.algorithm)}, not offered"
            )
        content = self.provider.certificate_verify_content(
            transcript_hash(self._transcript_before, self.suite.hash_name), server=True
        )
        verify_signature(self.peer_certificates[0], cv.algorithm, cv.signature, content)

    def _on_finished(self, fin: Finished, raw: bytes) -> None:
        assert self.suite is not None and self._schedule is not None
        hash_name = self.suite.hash_name
        if len(fin.verify_data) != self.suite.hash_len:
            raise DecodeError(f"Finished is {len(fin.verify_data)} bytes, expected {self.suite.hash_len}")
        expected = self.provider.finished_verify_data(
            self._server_hs_secret, transcript_hash(self._transcript_before, hash_name), hash_name
        )
        if not hmac.compare_digest(expected, fin.verify_data):
            raise DecryptError("server Finished does not verify: the handshake was tampered with")  # §4.4.4
        self._derive_application_secrets()
        self._send_client_flight()
        self._emit_handshake_complete()
        self._send_early_data_late()

    def _send_early_data_late(self) -> None:
        """Early data the server did not take (or that was never sent as 0-RTT) goes now (§4.2.10).

        §4.2.10 warns that an application may not want this when the ALPN changed; we do not
        resend then, and the caller sees ``early_data_accepted`` False.
        """
        data = self.config.early_data if self.early_data_accepted is not True else self._early_data_to_send
        if not data or not self.config.resend_early_data:
            return
        if self._early_data_offered and self._session and self.alpn_protocol != self._session.alpn_protocol:
            return
        self._send_application_data(data)  # under the application keys, just installed

    def _derive_application_secrets(self) -> None:
        if self._handshake.has_partial():
            raise UnexpectedMessage("handshake message spans the key change after Finished")  # §5.1
        super()._derive_application_secrets()
        assert self.suite is not None
        self._read = self._protection(self._server_app_secret)  # K_recv = application

    def _send_client_flight(self) -> None:
        """Our second flight: [CCS] [Certificate] Finished, under the handshake keys (§4.4)."""
        assert self.suite is not None and self._schedule is not None and self._client_hello is not None
        if self._session_id and self.config.middlebox_compatibility and not self._sent_ccs:
            self._send_change_cipher_spec()
        if self.early_data_accepted:
            self._send_handshake(EndOfEarlyData())  # §4.5: the last message under the early keys
        self._write = self._protection(self._client_hs_secret)
        flight: list[HandshakeMessage] = []
        if self._certificate_request is not None:
            flight = self._client_certificate_messages(self._certificate_request, self._transcript)
        transcript = self._transcript + b"".join(msg.encode() for msg in flight)
        hash_name = self.suite.hash_name
        verify_data = self.provider.finished_verify_data(
            self._client_hs_secret, transcript_hash(transcript, hash_name), hash_name
        )
        self._send_handshake(*flight, Finished(verify_data))
        self.resumption_master_secret = self._schedule.resumption_master_secret(self._transcript)
        self._write = self._protection(self._client_app_secret)

    # --------------------------------------------------------------- client authentication (§4.4.2)

    def _client_signature_scheme(self, cr: CertificateRequest) -> SignatureScheme | None:
        """The first scheme that fits our key and that the server accepts (§4.2.3, §4.3.2)."""
        c = self.config
        if not c.certificate_chain:
            return None
        offered = cr.body(ext.SignatureAlgorithms)
        assert offered is not None  # _on_certificate_request checked it is there
        for scheme in schemes_for_key(c.certificate_chain[0]):
            if scheme in offered.supported_signature_algorithms and scheme in c.signature_schemes:
                return scheme
        return None

    def _client_certificate_messages(
        self, cr: CertificateRequest, transcript: bytes
    ) -> list[HandshakeMessage]:
        """Certificate [+ CertificateVerify] answering ``cr`` (§4.4.2, §4.4.3).

        Without a certificate, or without a signature scheme the server accepts for our key,
        the Certificate is empty (§4.4.2.4: "the client MUST send a Certificate message
        containing no certificates"); the server then decides whether to go on.
        """
        assert self.suite is not None
        scheme = self._client_signature_scheme(cr)
        chain = self.config.certificate_chain if scheme is not None else []
        entries = [CertificateEntry(cert.public_bytes(Encoding.DER)) for cert in chain]
        certificate = Certificate(cr.certificate_request_context, entries)
        if scheme is None:
            return [certificate]
        assert self.config.private_key is not None
        digest = transcript_hash(transcript + certificate.encode(), self.suite.hash_name)
        content = self.provider.certificate_verify_content(
            digest, server=False
        )  # "TLS 1.3, client CertificateVerify"
        return [certificate, CertificateVerify(scheme, sign(self.config.private_key, scheme, content))]

    def _on_post_handshake_certificate_request(self, cr: CertificateRequest, raw: bytes) -> None:
        """Post-handshake authentication (§4.6.2): Certificate, CertificateVerify, Finished."""
        assert self.suite is not None
        if self._write_closed:
            return  # §6.1: nothing more may follow our close_notify, an answer included
        if not cr.certificate_request_context:
            raise IllegalParameter("post-handshake CertificateRequest needs a non-empty context")  # §4.3.2
        if cr.get(ExtensionType.signature_algorithms) is None:
            raise MissingExtension("CertificateRequest lacks signature_algorithms")  # §4.3.2
        # §4.4: Handshake Context = ClientHello ... client Finished + CertificateRequest;
        # Base Key = client_application_traffic_secret_N. The main transcript stays as it is.
        messages = self._client_certificate_messages(cr, self._transcript + raw)
        transcript = self._transcript + raw + b"".join(msg.encode() for msg in messages)
        hash_name = self.suite.hash_name
        verify_data = self.provider.finished_verify_data(
            self._client_app_secret, transcript_hash(transcript, hash_name), hash_name
        )
        self._send_handshake(*messages, Finished(verify_data))  # CONNECTED: not in the main transcript
        self._emit(CertificateRequested(cr.certificate_request_context, len(messages) == 2))

    # --------------------------------------------------------------- after the handshake (§4.6)

    def _on_new_session_ticket(self, nst: NewSessionTicket, raw: bytes) -> None:
        assert self.suite is not None
        if nst.ticket_lifetime > 604800:
            raise IllegalParameter(f"ticket_lifetime {nst.ticket_lifetime} exceeds 7 days")  # §4.6.1
        _check_placement(nst.extensions, "NewSessionTicket")
        early = nst.get(ExtensionType.early_data)
        if early is not None and len(early) != 4:  # §4.2.10: uint32 max_early_data_size
            raise DecodeError(f"early_data in NewSessionTicket must be 4 bytes, got {len(early)}")
        body = nst.body(ext.EarlyDataIndication)
        max_early = body.max_early_data_size if body is not None else 0
        ticket = Ticket(
            ticket=nst.ticket,
            lifetime=nst.ticket_lifetime,
            age_add=nst.ticket_age_add,
            nonce=nst.ticket_nonce,
            psk=resumption_psk(
                self.resumption_master_secret,
                nst.ticket_nonce,
                self.suite.hash_name,
                hkdf_expand_label=self.provider.hkdf_expand_label,
            ),
            cipher_suite=CipherSuite(self.suite.code),
            max_early_data_size=max_early or 0,
            received_at=time.time(),
            server_name=self.config.server_name,
            alpn_protocol=self.alpn_protocol,
        )
        self.tickets.append(ticket)
        self._emit(NewTicket(ticket))

    def _on_key_update(self, ku: KeyUpdate, raw: bytes) -> None:
        self._update_read_keys()
        if ku.request_update == KeyUpdateRequest.update_requested and not self._write_closed:
            self._send_key_update(request_peer_update=False)  # §4.6.3: answer before sending more


# ----------------------------------------------------------------------------- helpers


def _check_extensions(received: list[ext.Extension], what: str, *, sent: list[ext.Extension]) -> None:
    """RFC 8446 §4.2: only extensions we asked for, and only where the RFC allows them."""
    offered = {e.type for e in sent}
    for e in received:
        if e.type == ExtensionType.cookie and what == "HelloRetryRequest":
            continue  # the one extension a server may send unasked
        if e.type not in offered:
            raise UnsupportedExtension(
                f"{what} has a {name_of(ExtensionType, e.type)} extension we did not offer"
            )
        if e.type not in ALLOWED_IN[what]:
            raise IllegalParameter(f"{name_of(ExtensionType, e.type)} extension is not allowed in {what}")


def _check_placement(received: list[ext.Extension], what: str) -> None:
    """RFC 8446 §4.2: a known extension where the RFC does not allow it is illegal_parameter.

    For CertificateRequest and NewSessionTicket the server needs no invitation, and unknown
    extensions are ignored (§4.3.2, §4.6.1).
    """
    known = set(ExtensionType)
    for e in received:
        if e.type in known and e.type not in ALLOWED_IN[what]:
            raise IllegalParameter(f"{name_of(ExtensionType, e.type)} extension is not allowed in {what}")


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
        raise BadCertificate(f"could not parse the server certificate: {exc}") from exc


__all__ = [
    "ApplicationData",
    "CertificateRequested",
    "ClientConfig",
    "ClientConnection",
    "ConnectionClosed",
    "Event",
    "HandshakeComplete",
    "HandshakeFailure",
    "KeyUpdated",
    "NewTicket",
    "State",
    "Ticket",
]
