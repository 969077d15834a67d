"""The TLS 1.3 server, sans-I/O (RFC 8446 Appendix A.2, §4), built from the client's parts.

Same shape as ``client.py``: bytes in through ``receive_data()``, bytes out of
``data_to_send()``, events out of ``receive_data()`` (the client's event classes).
It exists so that the course can look at the other side of a handshake, and so
that tests have a peer that can misbehave on purpose: ``ServerConfig.tamper``
sees every message and record before it leaves (see "Tampering" below).

The states are those of RFC 8446 Appendix A.2: ``states.SERVER`` is the table, with the RFC's
diagram beside it. The states the server passes through while it answers one message
(RECVD_CH, NEGOTIATED, WAIT_FLIGHT2) are not kept: a ClientHello leads straight to where the
server then waits (WAIT_EOED, WAIT_CERT or WAIT_FINISHED, or START again after a
HelloRetryRequest).

Negotiation, in the order ``_on_client_hello`` runs it:

* version: ``supported_versions`` must offer TLS 1.3, else protocol_version (§4.2.1);
* cipher suite: the first of ``config.cipher_suites`` the client offers, else
  handshake_failure (§4.1.1);
* group: the first of ``config.groups`` the client sent a key share for; else a
  HelloRetryRequest for the first of ``config.groups`` in its supported_groups
  (§4.1.4); else handshake_failure;
* signature scheme: the first scheme that fits our key (``schemes_for_key``) and
  is in the client's ``signature_algorithms`` (§4.2.3), else handshake_failure;
* ALPN: our first protocol the client offers, else no_application_protocol (RFC 7301 §3.2);
* PSK (§4.2.11): the first offered identity that ``config.ticket_store`` knows, that has not
  expired, was issued for the same server name and has the hash of the chosen suite; its
  binder must verify (else decrypt_error). Unknown tickets mean a full handshake. Only
  psk_dhe_ke (§4.2.9): a PSK always comes with (EC)DHE;
* 0-RTT (§4.2.10): accepted when the PSK is identity 0, there was no HelloRetryRequest, the
  ticket allowed it (``config.max_early_data_size``), suite and ALPN are the ticket's, the
  client's ticket age is within ``TICKET_AGE_WINDOW_MS`` of ours (§8.3), and the ticket has
  not carried early data before (single use, §8.1). Otherwise its 0-RTT records are skipped
  (§4.2.10), up to ``MAX_SKIPPED_EARLY_DATA`` bytes.

Tickets (§4.6.1) are random ids into ``config.ticket_store`` (``psk.TicketStore``), which
keeps the session state; share one store between the connections of a server. Client
authentication (§4.3.2, §4.4.2): with ``config.client_ca`` we send a CertificateRequest in
full handshakes and verify the client's chain against those roots and its CertificateVerify;
``request_client_certificate()`` asks again after the handshake if the client offered
post_handshake_auth (§4.6.2).

Tampering. ``ServerConfig.tamper(stage, data) -> data`` is called with:

* ``"hello_retry_request"``, ``"server_hello"``, ``"encrypted_extensions"``,
  ``"certificate_request"``, ``"certificate"``, ``"certificate_verify"``, ``"finished"``,
  ``"new_session_ticket"``, ``"key_update"``: the whole handshake message
  (header included) before it is encrypted. What it returns is sent *and* goes
  into our transcript: the server is a consistent liar, not a man in the middle.
* ``"record"``: every record as it goes on the wire (plaintext or protected).
  Our transcript and keys do not see the change: this is the man in the middle.

``ServerConfig.extra_extensions`` appends raw extensions to a message by stage name.
A typical driver::

    conn = ServerConnection(ServerConfig(certificate_chain=[leaf], private_key=key))
    while not conn.handshake_complete:
        conn.receive_data(sock.recv(16384))
        sock.sendall(conn.data_to_send())
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tlslab import extensions as ext
from tlslab.client import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS
from tlslab.constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    SSL3,
    TLS12,
    TLS13,
    CipherSuite,
    ContentType,
    ExtensionType,
    KeyUpdateRequest,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
    name_of,
)
from tlslab.endpoint import Endpoint
from tlslab.errors import (
    AlertDescription,
    AlertError,
    CertificateRequired,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    InternalError,
    MissingExtension,
    NoApplicationProtocol,
    ProtocolVersion,
    TLSError,
    UnexpectedMessage,
)
from tlslab.events import (
    ApplicationData,
    ClientAuthenticated,
    EarlyData,
    Event,
)
from tlslab.extensions import U16_MAX
from tlslab.keyexchange import ALL_GROUPS
from tlslab.keylog import KeyLogCallback
from tlslab.keyschedule import (
    KeySchedule,
    hrr_message_hash,
    resumption_psk,
    transcript_hash,
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
    HandshakeMessage,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
)
from tlslab.provider import DEFAULT_PROVIDER, Provider
from tlslab.psk import (
    MAX_TICKET_LIFETIME,
    TICKET_AGE_WINDOW_MS,
    SessionState,
    TicketStore,
    binder_matches,
    compute_binder,
    suite_hash,
    truncated_client_hello,
)
from tlslab.record import Record, RecordProtection
from tlslab.signatures import (
    SUPPORTED_SIGNATURE_SCHEMES,
    PrivateKey,
    schemes_for_key,
    sign,
    verify_signature,
)
from tlslab.states import SERVER
from tlslab.states import ServerState as State
from tlslab.suites import SUITES
from tlslab.wire import vector

MAX_SKIPPED_EARLY_DATA = 1 << 16  # bytes of rejected 0-RTT we skip before calling it an attack

Tamper = Callable[[str, bytes], bytes]


# States in which a change_cipher_spec of one byte 0x01 is dropped (§5, Appendix D.4).
CCS_ALLOWED = {
    State.START,
    State.WAIT_EOED,
    State.WAIT_CERT,
    State.WAIT_CV,
    State.WAIT_FINISHED,
}


@dataclass
class ServerConfig:
    """What the server has and prefers (most preferred first).

    ``random`` and ``key_share_private_keys`` (group -> private key bytes, as for
    ``generate_key_share``) let a test replay a trace; leave them alone otherwise.

    ``ticket_store`` holds the sessions our tickets name (share one between connections to
    resume); ``max_early_data_size`` > 0 lets tickets carry 0-RTT (§4.2.10). ``client_ca``:
    ask every full handshake for a client certificate and verify it against these roots;
    ``client_certificate_required`` (default True) refuses an empty one (certificate_required).
    """

    certificate_chain: list[x509.Certificate]
    private_key: PrivateKey
    cipher_suites: Sequence[int] = DEFAULT_CIPHER_SUITES
    groups: Sequence[int] = DEFAULT_GROUPS
    alpn_protocols: Sequence[str] = ()
    signature_schemes: Sequence[int] = tuple(SUPPORTED_SIGNATURE_SCHEMES)
    random: bytes | None = None
    key_share_private_keys: dict[int, bytes] = field(default_factory=dict)
    hello_retry_if_needed: bool = True
    num_tickets: int = 1
    ticket_lifetime: int = 7200
    ticket_store: TicketStore = field(default_factory=TicketStore)
    max_early_data_size: int = 0
    client_ca: list[x509.Certificate] | None = None
    client_certificate_required: bool = True
    keylog: KeyLogCallback | None = None
    tamper: Tamper | None = None
    extra_extensions: dict[str, list[ext.Extension]] = field(default_factory=dict)
    # The pieces a learner may replace (HKDF, nonces, Finished, ...): provider.py.
    provider: Provider = DEFAULT_PROVIDER

    def __post_init__(self) -> None:
        if not self.certificate_chain:
            raise ValueError("ServerConfig needs at least the end-entity certificate")
        unknown = [g for g in self.groups if g not in ALL_GROUPS]  # with the hybrid when ML-KEM is there
        if unknown:
            raise ValueError(
                f"the server cannot do key exchange for {[name_of(NamedGroup, g) for g in unknown]}"
            )


class ServerConnection(Endpoint):
    """One TLS 1.3 server connection, as a state machine over bytes (RFC 8446 Appendix A.2).

    Records, alerts, close and KeyUpdate are done as on the client, by ``Endpoint`` (endpoint.py).
    """

    State, TABLE = State, SERVER
    SIDE, PEER, PEER_NOUN = "server", "client", "client"
    config: ServerConfig

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self._skip_early_data = 0  # bytes of 0-RTT we may still drop (§4.2.10)
        self.server_random = config.random or os.urandom(32)
        # Negotiated parameters, readable after the handshake (and those of Endpoint).
        self.signature_scheme: SignatureScheme | None = None
        self.server_name: str | None = None
        self._psk: tuple[int, SessionState] | None = None  # (selected_identity, state)
        self._early_read: RecordProtection | None = None
        self._early_data_left = 0  # bytes of accepted 0-RTT still allowed (§4.2.10)
        self._post_handshake: _PostHandshakeAuth | None = None
        self._obfuscated_age = 0

    # --------------------------------------------------------------- the public interface

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes read from the transport; returns the new events (also in ``events``).

        Raises:
            AlertError: the client broke RFC 8446; the alert is queued in ``data_to_send()``.
            PeerAlert: the client sent a fatal alert.
            TLSError: the connection is closed, or the client already sent close_notify (§6.1).
        """
        if self._read_closed:
            raise TLSError("connection is closed")
        return super().receive_data(data)

    def send_application_data(self, data: bytes) -> None:
        """Encrypt ``data`` into records of at most 2^14 bytes (RFC 8446 §5.1).

        Allowed once our Finished is sent (0.5-RTT data, Appendix A.2), not only when CONNECTED.
        """
        if self.state not in (State.WAIT_FINISHED, State.CONNECTED):
            raise TLSError(f"cannot send application data in state {self.state.value}")
        self._send_application_data(data)

    def key_update(self, request_peer_update: bool = True) -> None:
        """Send KeyUpdate and move our send keys on (RFC 8446 §4.6.3)."""
        if self.state is not State.CONNECTED:
            raise TLSError("KeyUpdate is only allowed after the handshake")
        self._send_key_update(request_peer_update)

    def request_client_certificate(self) -> None:
        """Post-handshake authentication: send a CertificateRequest now (RFC 8446 §4.6.2).

        Only if the client offered post_handshake_auth (§4.2.6) and ``config.client_ca`` is set;
        its answer (Certificate, CertificateVerify, Finished) comes as ``ClientAuthenticated``.
        """
        assert self._client_hello is not None
        if self.state is not State.CONNECTED or self._post_handshake is not None:
            raise TLSError("a post-handshake CertificateRequest needs a connected, idle connection")
        if self._client_hello.get(ExtensionType.post_handshake_auth) is None:
            raise TLSError("the client did not offer post_handshake_auth (RFC 8446 §4.2.6)")
        if not self.config.client_ca:
            raise TLSError("ServerConfig.client_ca is needed to verify a client certificate")
        cr = self._new_certificate_request(os.urandom(8))  # §4.3.2: unique within the connection
        raw = self._send_handshake(cr)  # CONNECTED: not in the main transcript (§4.4.1)
        self._post_handshake = _PostHandshakeAuth(cr, self._transcript + raw)

    def _reads_after_close(self) -> bool:
        """After our close_notify we still read, once our flight is out, until the client's (§6.1)."""
        return self._write is not None

    # --------------------------------------------------------------- records (RFC 8446 §5)

    def _on_record(self, record: Record) -> None:
        if self._read_closed:
            return  # §6.1: "Any data received after a closure alert has been received MUST be ignored."
        if record.content_type == ContentType.change_cipher_spec:
            return self._on_change_cipher_spec(record)
        if self._read is None:
            if record.content_type == ContentType.application_data:
                # §4.2.10: 0-RTT after our HRR, skipped. Never an empty record (no AEAD output is
                # empty) nor one inside a fragmented ClientHello (§5.1: no interleaving).
                skippable = record.fragment and not self._handshake.has_partial()
                if skippable and self._skip_early_data >= len(record.fragment):
                    self._skip_early_data -= len(record.fragment)
                    return
                raise UnexpectedMessage("application_data record before the ClientHello was answered")
            content_type, data = record.content_type, record.fragment
        elif record.content_type == ContentType.alert and self.state is not State.CONNECTED:
            # Appendix A.1: a client that rejects our certificate may send its alert before it
            # has handshake keys, so in plaintext; read it as the client's alert (unknown_ca ...).
            content_type, data = record.content_type, record.fragment
        elif record.content_type != ContentType.application_data:
            raise UnexpectedMessage(
                f"plaintext {name_of(ContentType, record.content_type)} record after encryption started"
            )
        else:
            decrypted = self._decrypt(record)
            if decrypted is None:
                return
            content_type, data = decrypted
        self._on_content(content_type, data)

    def _on_application_data(self, data: bytes) -> None:
        if self.state is State.WAIT_EOED:
            return self._on_early_data(data)
        if self.state is not State.CONNECTED:
            raise UnexpectedMessage("application data before the client's Finished")
        self._emit(ApplicationData(data))

    def _on_early_data(self, data: bytes) -> None:
        """Accepted 0-RTT data (§4.2.10); replayable by nature, so it is its own event (§8)."""
        if len(data) > self._early_data_left:
            # §4.2.10: "more than max_early_data_size ... SHOULD abort ... unexpected_message".
            raise UnexpectedMessage("client sent more 0-RTT data than max_early_data_size allows")
        self._early_data_left -= len(data)
        self._emit(EarlyData(data))

    def _decrypt(self, record: Record) -> tuple[int, bytes] | None:
        """Decrypt, or skip a record of rejected 0-RTT data (§4.2.10); None when skipped."""
        assert self._read is not None
        seq = self._read.seq
        try:
            decrypted = self._read.decrypt(record)
        except AlertError as err:
            if err.alert != AlertDescription.bad_record_mac or self._skip_early_data < len(record.fragment):
                raise
            # "the server ... skips past early data": same key, same sequence number next time.
            self._skip_early_data -= len(record.fragment)
            self._read.seq = seq
            return None
        # §4.2.10: the client's early data ends where its second flight begins; from the first
        # record that deprotects on, a record that does not is bad_record_mac (§5.2).
        self._skip_early_data = 0
        return decrypted

    def _on_change_cipher_spec(self, record: Record) -> None:
        # §5: a plaintext CCS of the single byte 0x01 may arrive between the first ClientHello
        # and the client's Finished (middlebox compatibility, Appendix D.4); drop it.
        super()._on_change_cipher_spec(record)
        if self.state not in CCS_ALLOWED or (self.state is State.START and self._hello_retry is None):
            raise UnexpectedMessage(f"change_cipher_spec in state {self.state.value}")

    # --------------------------------------------------------------- handshake dispatch

    def _asked_for(self) -> set[str]:
        """After our post-handshake CertificateRequest, the next message of the answer (§4.6.2)."""
        if self.state is State.CONNECTED and self._post_handshake is not None:
            return {self._post_handshake.state.value}
        return set()

    def _handle(self, msg: HandshakeMessage, raw: bytes) -> str | None:
        if self.state is State.CONNECTED and not isinstance(msg, KeyUpdate):
            self._on_post_handshake_auth(msg, raw)
            return "post-handshake"
        if isinstance(msg, ClientHello):
            return self._on_client_hello(msg, raw)
        if isinstance(msg, EndOfEarlyData):
            self._on_end_of_early_data()
        elif isinstance(msg, Certificate):
            return self._on_certificate(msg)
        elif isinstance(msg, CertificateVerify):
            self._on_certificate_verify(msg)
        elif isinstance(msg, Finished):
            self._on_finished(msg)
        else:
            assert isinstance(msg, KeyUpdate)  # the table lets nothing else arrive
            self._on_key_update(msg)
        return None

    # --------------------------------------------------------------- ClientHello (§4.1.2)

    def _on_client_hello(self, ch: ClientHello, raw: bytes) -> str | None:
        """Answer a ClientHello: our whole first flight, or a HelloRetryRequest ("retry")."""
        if self._handshake.has_partial():  # §5.1: our answer changes the receive keys
            raise UnexpectedMessage("handshake data after the ClientHello in the same record")
        self._check_client_hello(ch)
        suite = self._select_cipher_suite(ch)
        client_shares = self._client_key_shares(ch)
        if self._hello_retry is not None:
            # §4.2.10: 0-RTT after our HRR is skipped only up to ClientHello2 (which carries none).
            self._skip_early_data = 0
            self._check_second_client_hello(ch, suite, client_shares)
        group = self._select_group(ch, client_shares)
        if group not in client_shares:
            return self._send_hello_retry_request(ch, raw, suite, group)
        self.alpn_protocol = self._select_alpn(ch)
        sni = ch.body(ext.ServerNameList)
        if sni is not None:
            self.server_name = sni.host_names[0].decode("ascii", "replace")
        self._psk = self._select_psk(ch, raw, suite)
        self.session_resumed = self._psk is not None
        if self._psk is None:
            self.signature_scheme = self._select_signature_scheme(ch)
        self.suite, self.group, self._client_hello = SUITES[CipherSuite(suite)], NamedGroup(group), ch
        self.client_random = ch.random
        if ch.get(ExtensionType.early_data) is not None:
            self.early_data_accepted = self._accept_early_data(ch)
            if not self.early_data_accepted:
                self._skip_early_data = MAX_SKIPPED_EARLY_DATA  # §4.2.10: rejected 0-RTT is skipped
        return self._send_server_flight(ch, client_shares[group])

    # --------------------------------------------------------------- PSK and 0-RTT (§4.2.11, §4.2.10)

    def _select_psk(self, ch: ClientHello, raw: bytes, suite: int) -> tuple[int, SessionState] | None:
        """The first offered ticket we can resume, its binder checked (§4.2.11, §4.2.11.2)."""
        if ch.get(ExtensionType.pre_shared_key) is None:
            return None
        modes = ch.body(ext.PskKeyExchangeModes)
        if modes is None:  # §4.2.9: "clients MUST supply" it with pre_shared_key
            raise MissingExtension("ClientHello offers a PSK without psk_key_exchange_modes")
        if PskKeyExchangeMode.psk_dhe_ke not in modes.ke_modes:
            return None  # we only do psk_dhe_ke: a full handshake then
        offered = ch.body(ext.OfferedPsks)
        assert offered is not None
        hash_name = suite_hash(suite)
        for index, identity in enumerate(offered.identities):
            state = self.config.ticket_store.lookup(identity.identity)
            if state is None or suite_hash(state.cipher_suite) != hash_name:
                continue  # unknown, expired, or another hash: not an error (§4.2.11)
            if state.server_name != self.server_name:
                continue  # §4.6.1: a ticket is for the server name it was issued under
            # §4.2.11.2: over the transcript so far (message_hash + HRR after a retry) and the
            # ClientHello up to the binders.
            expected = compute_binder(
                state.psk,
                hash_name,
                self._transcript_before + truncated_client_hello(raw, offered),
                self.provider,
            )
            if not binder_matches(expected, offered.binders[index]):
                raise DecryptError("PSK binder does not verify")  # §4.2.11.2
            self._obfuscated_age = identity.obfuscated_ticket_age
            return index, state
        return None

    def _accept_early_data(self, ch: ClientHello) -> bool:
        """Take the client's 0-RTT data? Every condition of §4.2.10, and single use (§8.1)."""
        if self._psk is None or self._hello_retry is not None:
            return False
        index, state = self._psk
        client_age = (self._obfuscated_age - state.age_add) % (1 << 32)  # §4.2.11.1
        pre_shared_key = ch.body(ext.OfferedPsks)
        assert pre_shared_key is not None  # else no PSK was selected
        accept = (
            index == 0
            and 0 < state.max_early_data_size <= self.config.max_early_data_size
            and self.suite is not None
            and self.suite.code == state.cipher_suite
            and self.alpn_protocol == state.alpn_protocol
            and abs(client_age - state.age_ms()) <= TICKET_AGE_WINDOW_MS  # §8.3
            and self.config.ticket_store.claim_early_data(pre_shared_key.identities[0].identity)
        )
        if accept:
            assert self.suite is not None
            early_secret = KeySchedule(
                self.suite.hash_name, state.psk, self.provider
            ).client_early_traffic_secret(self._transcript)
            self._keylog("CLIENT_EARLY_TRAFFIC_SECRET", early_secret)
            self._early_read = self._protection(early_secret)
            self._early_data_left = state.max_early_data_size
        return accept

    def _check_client_hello(self, ch: ClientHello) -> None:
        """The rules every TLS 1.3 ClientHello must follow (§4.1.2, §4.2.1, §9.2)."""
        if ch.legacy_version <= SSL3:
            # Appendix D.5: "Any endpoint receiving a Hello message with ClientHello.legacy_version
            # ... set to 0x0300 MUST abort the handshake with a "protocol_version" alert." Values
            # 0x0301 and 0x0302 with supported_versions offering TLS 1.3 are accepted, as OpenSSL
            # 3.0's s_server does (measured: it answers them with a TLS 1.3 ServerHello).
            raise ProtocolVersion(f"ClientHello.legacy_version {ch.legacy_version:#06x} is SSL 3.0 or older")
        versions = ch.body(ext.SupportedVersionsClientHello)
        if versions is None:
            # Non-feature: tlslab speaks only TLS 1.3, and a ClientHello without supported_versions
            # negotiates TLS 1.2 or older (§4.2.1). RFC 5246 App. E.1: protocol_version.
            raise ProtocolVersion(
                f"ClientHello offers only {ch.legacy_version:#06x}; tlslab speaks only TLS 1.3"
            )
        if TLS13 not in versions.versions:
            raise ProtocolVersion("ClientHello's supported_versions does not offer TLS 1.3")  # §4.2.1
        if ch.legacy_compression_methods != b"\x00":
            # §4.1.2: "any other value ... MUST abort the handshake with an illegal_parameter alert".
            raise IllegalParameter("ClientHello legacy_compression_methods must be the single byte 0")
        has_psk = ch.get(ExtensionType.pre_shared_key) is not None
        groups, shares = ch.get(ExtensionType.supported_groups), ch.get(ExtensionType.key_share)
        if (groups is None) != (shares is None):  # §9.2: one requires the other
            missing = "key_share" if shares is None else "supported_groups"
            raise MissingExtension(f"ClientHello has no {missing} (RFC 8446 §9.2)")
        if ch.get(ExtensionType.signature_algorithms) is None or groups is None:
            # §9.2: without pre_shared_key both are mandatory. With one, we still need key shares:
            # we do psk_dhe_ke only (§4.2.9); signature_algorithms is checked if we cannot resume.
            what = "signature_algorithms" if groups is not None else "supported_groups and key_share"
            if not has_psk:
                raise MissingExtension(f"ClientHello has no {what} (RFC 8446 §9.2)")
            if groups is None:
                raise HandshakeFailure(
                    "ClientHello offers a PSK without key shares; tlslab does psk_dhe_ke only"
                )

    def _select_cipher_suite(self, ch: ClientHello) -> int:
        for suite in self.config.cipher_suites:  # our preference (§4.1.1)
            if suite in ch.cipher_suites:
                return suite
        raise HandshakeFailure("no cipher suite in common")

    def _client_key_shares(self, ch: ClientHello) -> dict[int, bytes]:
        """The client's key shares by group; each must be for a group it supports (§4.2.8)."""
        supported = self._supported_groups(ch)
        key_share = ch.body(ext.KeyShareClientHello)
        assert key_share is not None  # _check_client_hello: with supported_groups, or a failure
        shares = key_share.client_shares
        for entry in shares:
            if entry.group not in supported:
                raise IllegalParameter(
                    f"ClientHello has a key share for {name_of(NamedGroup, entry.group)}, "
                    "which its supported_groups does not list (RFC 8446 §4.2.8)"
                )
        return {entry.group: entry.key_exchange for entry in shares}

    def _select_group(self, ch: ClientHello, client_shares: dict[int, bytes]) -> int:
        """Our favourite group the client sent a share for; else our favourite it supports (HRR)."""
        for group in self.config.groups:
            if group in client_shares:
                return group
        supported = self._supported_groups(ch)
        for group in self.config.groups:
            if group in supported:
                if not self.config.hello_retry_if_needed:
                    raise HandshakeFailure(
                        "no key share for a group we support, and HelloRetryRequest is off"
                    )
                return group
        raise HandshakeFailure("no (EC)DHE group in common")

    @staticmethod
    def _supported_groups(ch: ClientHello) -> list[int]:
        groups = ch.body(ext.SupportedGroups)
        assert groups is not None  # _check_client_hello: with key_share, or a failure
        return groups.named_group_list

    def _select_signature_scheme(self, ch: ClientHello) -> SignatureScheme:
        offered = ch.body(ext.SignatureAlgorithms)
        if offered is None:  # §9.2: mandatory for certificate authentication
            raise MissingExtension("ClientHello has no signature_algorithms (RFC 8446 §9.2)")
        fitting = schemes_for_key(self.config.certificate_chain[0])
        for scheme in self.config.signature_schemes:
            if scheme in fitting and scheme in offered.supported_signature_algorithms:
                return SignatureScheme(scheme)
        raise HandshakeFailure("no signature scheme that fits our certificate's key in signature_algorithms")

    def _select_alpn(self, ch: ClientHello) -> str | None:
        alpn = ch.body(ext.ALPN) if self.config.alpn_protocols else None
        if alpn is None:
            return None
        offered = alpn.protocol_name_list
        for protocol in self.config.alpn_protocols:
            if protocol.encode() in offered:
                return protocol
        raise NoApplicationProtocol(f"client offers ALPN {offered!r}, none of ours")  # RFC 7301 §3.2

    # --------------------------------------------------------------- HelloRetryRequest (§4.1.4)

    def _send_hello_retry_request(self, ch: ClientHello, raw: bytes, suite: int, group: int) -> str:
        if self._hello_retry is not None:
            # §4.1.4: a ClientHello answering our HRR must carry the share we asked for.
            raise IllegalParameter(
                f"second ClientHello has no key share for {name_of(NamedGroup, group)}, which we asked for"
            )
        hrr = HelloRetryRequest(
            random=HELLO_RETRY_REQUEST_RANDOM,
            legacy_session_id_echo=ch.legacy_session_id,
            cipher_suite=suite,
            extensions=[
                ext.SupportedVersionsServerHello(TLS13).to_extension(),
                ext.KeyShareHelloRetryRequest(group).to_extension(),
                *self.config.extra_extensions.get("hello_retry_request", []),
            ],
        )
        hash_name = SUITES[CipherSuite(suite)].hash_name
        # §4.4.1: ClientHello1 is replaced by a synthetic message_hash in the transcript.
        self._transcript = hrr_message_hash(raw, hash_name)
        self._hello_retry = hrr
        if ch.get(ExtensionType.early_data) is not None:
            self._skip_early_data = MAX_SKIPPED_EARLY_DATA  # §4.2.10: 0-RTT may follow ClientHello1
        self._client_hello = ch
        self._send_handshake(hrr, plaintext=TLS12)
        self._send_change_cipher_spec_if_compat(ch)
        return "retry"

    def _check_second_client_hello(self, ch: ClientHello, suite: int, shares: dict[int, bytes]) -> None:
        """§4.1.2: ClientHello2 is ClientHello1 with only the key_share (and cookie) changed."""
        assert self._hello_retry is not None and self._client_hello is not None
        if ch.legacy_session_id != self._client_hello.legacy_session_id:
            raise IllegalParameter("second ClientHello changed legacy_session_id")
        if suite != self._hello_retry.cipher_suite:  # §4.1.4: we must negotiate the same suite
            raise IllegalParameter("second ClientHello no longer offers the cipher suite we chose")
        selected = self._hello_retry.body(ext.KeyShareHelloRetryRequest)
        assert selected is not None  # our own HelloRetryRequest always asks for a group
        if set(shares) != {selected.selected_group}:  # §4.2.8
            raise IllegalParameter(
                f"second ClientHello must hold exactly one key share, for "
                f"{name_of(NamedGroup, selected.selected_group)}, which we asked for"
            )

    # --------------------------------------------------------------- our flight (§4.1.3, §4.3, §4.4)

    def _send_server_flight(self, ch: ClientHello, client_share: bytes) -> str | None:
        """ServerHello ... Finished (§4.1.3, §4.3, §4.4); the case says what we wait for next."""
        assert self.suite is not None and self.group is not None
        # IllegalParameter for a bad share (§4.2.8; draft-ietf-tls-ecdhe-mlkem §3.1.2)
        server_share, shared_secret = self.provider.respond_to_key_share(
            self.group, client_share, self.config.key_share_private_keys.get(self.group)
        )
        sh = ServerHello(
            random=self.server_random,
            legacy_session_id_echo=ch.legacy_session_id,
            cipher_suite=self.suite.code,
            extensions=[
                ext.SupportedVersionsServerHello(TLS13).to_extension(),
                ext.KeyShareServerHello(ext.KeyShareEntry(self.group, server_share)).to_extension(),
                *self._pre_shared_key_extension(),
                *self.config.extra_extensions.get("server_hello", []),
            ],
        )
        self._send_handshake(sh, plaintext=TLS12)
        self._send_change_cipher_spec_if_compat(ch)
        self._derive_handshake_secrets(shared_secret, self._psk[1].psk if self._psk is not None else None)
        self._send_handshake(EncryptedExtensions(self._encrypted_extensions(ch)))
        if self._psk is None:  # §2.2: with a PSK, the PSK authenticates us
            if self.config.client_ca:  # §4.3.2: never in a PSK handshake
                self._certificate_request = self._new_certificate_request(b"")
                self._send_handshake(self._certificate_request)
            self._send_handshake(self._certificate())
            self._send_certificate_verify()
        self._send_finished()
        self._derive_application_secrets()
        if self.early_data_accepted:
            self._read = self._early_read  # K_recv = early data
            return "0-RTT"
        return "client auth" if self._certificate_request is not None else None

    def _pre_shared_key_extension(self) -> list[ext.Extension]:
        if self._psk is None:
            return []
        return [ext.PreSharedKeyServerHello(self._psk[0]).to_extension()]  # §4.2.11

    def _derive_handshake_secrets(self, shared_secret: bytes, psk: bytes | None) -> None:
        super()._derive_handshake_secrets(shared_secret, psk)
        assert self.suite is not None
        self._write = self._protection(self._server_hs_secret)  # K_send = handshake
        self._read = self._protection(self._client_hs_secret)  # K_recv = handshake (0-RTT: later)

    def _encrypted_extensions(self, ch: ClientHello) -> list[ext.Extension]:
        exts = []
        if ch.get(ExtensionType.server_name) is not None:
            exts.append(ext.Extension(ExtensionType.server_name))  # RFC 6066 §3: we saw the name (empty)
        if self.alpn_protocol is not None:
            exts.append(ext.ALPN([self.alpn_protocol.encode()]).to_extension())
        if self.early_data_accepted:
            exts.append(ext.EarlyDataIndication().to_extension())  # §4.2.10: we take the 0-RTT data
        return exts + self.config.extra_extensions.get("encrypted_extensions", [])

    def _certificate(self) -> Certificate:
        entries = [
            CertificateEntry(cert.public_bytes(Encoding.DER)) for cert in self.config.certificate_chain
        ]
        extra = self.config.extra_extensions.get("certificate", [])
        if extra:
            entries[0] = CertificateEntry(entries[0].cert_data, list(extra))
        return Certificate(b"", entries)

    def _send_certificate_verify(self) -> None:
        assert self.suite is not None and self.signature_scheme is not None
        content = self.provider.certificate_verify_content(
            transcript_hash(self._transcript, self.suite.hash_name), server=True
        )
        signature = sign(self.config.private_key, self.signature_scheme, content)
        self._send_handshake(CertificateVerify(self.signature_scheme, signature))

    def _send_finished(self) -> None:
        assert self.suite is not None
        hash_name = self.suite.hash_name
        verify_data = self.provider.finished_verify_data(
            self._server_hs_secret, transcript_hash(self._transcript, hash_name), hash_name
        )
        self._send_handshake(Finished(verify_data))

    def _derive_application_secrets(self) -> None:
        super()._derive_application_secrets()
        assert self.suite is not None
        self._write = self._protection(self._server_app_secret)  # K_send = application

    # --------------------------------------------------------------- the client's second flight

    def _on_end_of_early_data(self) -> None:
        """EndOfEarlyData: the 0-RTT data is over; handshake keys from now on (§4.5).

        0-RTT means a PSK, and a PSK handshake has no CertificateRequest (§4.3.2): the client's
        Finished comes next.
        """
        if self._handshake.has_partial():  # §5.1: the receive keys change now
            raise UnexpectedMessage("handshake message spans the key change after EndOfEarlyData")
        self._read = self._protection(self._client_hs_secret)

    def _new_certificate_request(self, context: bytes) -> CertificateRequest:
        """CertificateRequest with our signature schemes (§4.3.2) and the names of the CAs we
        accept client certificates from (certificate_authorities, §4.2.4), as OpenSSL and Go do."""
        schemes = ext.SignatureAlgorithms(list(self.config.signature_schemes))
        extensions = [schemes.to_extension()]
        # struct { DistinguishedName authorities<3..2^16-1>; }; opaque DistinguishedName<1..2^16-1>;
        names = b"".join(vector(2, ca.subject.public_bytes()) for ca in self.config.client_ca or ())
        # The extension block is <2..2^16-1> bytes in all (§4.3.2); with more names than fit we
        # send none, which leaves the choice of certificate to the client.
        if 3 <= len(names) <= U16_MAX - 1024:
            extensions.append(ext.Extension(ExtensionType.certificate_authorities, vector(2, names)))
        return CertificateRequest(context, extensions)

    def _on_certificate(self, cert: Certificate) -> str | None:
        """The client's Certificate (§4.4.2); empty means it has none that fits (§4.4.2.4)."""
        assert self._certificate_request is not None
        self.peer_certificates = self._check_client_certificate(cert, self._certificate_request)
        return None if self.peer_certificates else "empty"

    def _check_client_certificate(self, cert: Certificate, cr: CertificateRequest) -> list[x509.Certificate]:
        if cert.certificate_request_context != cr.certificate_request_context:
            raise IllegalParameter(
                "client Certificate does not echo the certificate_request_context"
            )  # §4.4.2
        if not cert.certificate_list:
            if self.config.client_certificate_required:
                raise CertificateRequired("client sent no certificate, and we require one")  # §4.4.2.4
            return []
        if not self.config.client_ca:
            raise InternalError("no client_ca to verify a client certificate against")
        chain = [e.cert_data for e in cert.certificate_list]
        return self.provider.verify_chain(chain, None, trust_roots=self.config.client_ca, client=True)

    def _on_certificate_verify(self, cv: CertificateVerify) -> None:
        assert self._certificate_request is not None
        self._check_client_certificate_verify(cv, self._certificate_request, self._transcript_before)

    def _check_client_certificate_verify(
        self, cv: CertificateVerify, cr: CertificateRequest, transcript: bytes
    ) -> None:
        """The client signed the transcript with a scheme we asked for (§4.4.3, §4.3.2)."""
        assert self.suite is not None
        asked = cr.body(ext.SignatureAlgorithms)
        assert asked is not None  # our own CertificateRequest
        if cv.algorithm not in asked.supported_signature_algorithms:
            raise IllegalParameter(
                f"client signed with {name_of(SignatureScheme, cv.algorithm)}, not asked for"
            )
        content = self.provider.certificate_verify_content(
            transcript_hash(transcript, self.suite.hash_name), server=False
        )
        verify_signature(self.peer_certificates[0], cv.algorithm, cv.signature, content)

    # --------------------------------------------------------------- the client's Finished (§4.4.4)

    def _on_finished(self, fin: Finished) -> None:
        assert self.suite is not None and self._schedule is not None
        hash_name = self.suite.hash_name
        if len(fin.verify_data) != self.suite.hash_len:
            raise DecodeError(
                f"client Finished is {len(fin.verify_data)} bytes, expected {self.suite.hash_len}"
            )
        expected = self.provider.finished_verify_data(
            self._client_hs_secret, transcript_hash(self._transcript_before, hash_name), hash_name
        )
        if not hmac.compare_digest(expected, fin.verify_data):
            raise DecryptError("client Finished does not verify: the handshake was tampered with")  # §4.4.4
        if self._handshake.has_partial():  # §5.1: the receive keys change now
            raise UnexpectedMessage("handshake message spans the key change after the client's Finished")
        self.resumption_master_secret = self._schedule.resumption_master_secret(self._transcript)
        self._read = self._protection(self._client_app_secret)  # K_recv = application
        self._skip_early_data = 0
        if self._psk is not None:
            self.peer_certificates = list(self._psk[1].peer_certificates)  # who the ticket was for
        for n in range(self.config.num_tickets):
            self._send_new_session_ticket(n)
        self._emit_handshake_complete()

    # --------------------------------------------------------------- after the handshake (§4.6)

    def _send_new_session_ticket(self, n: int) -> None:
        """A ticket: a random id under which ``config.ticket_store`` keeps the session (§4.6.1)."""
        assert self.suite is not None
        nonce = n.to_bytes(8, "big")
        state = SessionState(
            psk=resumption_psk(
                self.resumption_master_secret,
                nonce,
                self.suite.hash_name,
                hkdf_expand_label=self.provider.hkdf_expand_label,
            ),
            cipher_suite=CipherSuite(self.suite.code),
            age_add=int.from_bytes(os.urandom(4), "big"),
            lifetime=min(self.config.ticket_lifetime, MAX_TICKET_LIFETIME),
            issued_at=time.time(),
            max_early_data_size=self.config.max_early_data_size,
            alpn_protocol=self.alpn_protocol,
            server_name=self.server_name,
            peer_certificates=list(self.peer_certificates),
        )
        extensions = list(self.config.extra_extensions.get("new_session_ticket", []))
        if state.max_early_data_size > 0:
            extensions.insert(0, ext.EarlyDataIndication(state.max_early_data_size).to_extension())  # §4.2.10
        nst = NewSessionTicket(
            ticket_lifetime=state.lifetime,
            ticket_age_add=state.age_add,
            ticket_nonce=nonce,
            ticket=self.config.ticket_store.issue(state),
            extensions=extensions,
        )
        self._send_handshake(nst)

    def _on_post_handshake_auth(self, msg: HandshakeMessage, raw: bytes) -> None:
        """The client's answer to our post-handshake CertificateRequest (§4.6.2, §4.4).

        The answer is the messages of client authentication in the handshake, so it walks the
        same edges of the state table (WAIT_CERT, WAIT_CV, WAIT_FINISHED) while the connection
        stays CONNECTED; it is done when they lead to CONNECTED.
        """
        pha = self._post_handshake
        assert pha is not None and self.suite is not None
        case = ""
        if isinstance(msg, Certificate):
            pha.certificates = self._check_client_certificate(msg, pha.request)
            case = "" if pha.certificates else "empty"
        elif isinstance(msg, CertificateVerify):
            self.peer_certificates, saved = pha.certificates, self.peer_certificates
            try:
                self._check_client_certificate_verify(msg, pha.request, pha.transcript)
            finally:
                self.peer_certificates = saved
        else:
            assert isinstance(msg, Finished)
            hash_name = self.suite.hash_name
            expected = self.provider.finished_verify_data(
                self._client_app_secret, transcript_hash(pha.transcript, hash_name), hash_name
            )
            if not hmac.compare_digest(expected, msg.verify_data):
                raise DecryptError("client's post-handshake Finished does not verify")  # §4.4.4
        pha.state = self.TABLE.next(pha.state, msg.msg_type, case)
        if pha.state is State.CONNECTED:
            self._post_handshake = None
            self.peer_certificates = pha.certificates or self.peer_certificates
            self._emit(ClientAuthenticated(pha.certificates))
            return
        pha.transcript += raw

    def _on_key_update(self, ku: KeyUpdate) -> None:
        self._update_read_keys()
        if ku.request_update == KeyUpdateRequest.update_requested and not self._write_closed:
            self._send_key_update(request_peer_update=False)  # §4.6.3: answer before sending more

    # --------------------------------------------------------------- sending

    def _tampered(self, stage: str, data: bytes) -> bytes:
        return self.config.tamper(stage, data) if self.config.tamper is not None else data

    def _send_record(self, content_type: int, data: bytes) -> None:
        if self._write_closed:
            raise TLSError("cannot send after close_notify (RFC 8446 §6.1)")
        super()._send_record(content_type, data)

    def _send_change_cipher_spec_if_compat(self, ch: ClientHello) -> None:
        # Appendix D.4: a client that sent a session id is in compatibility mode; we send one
        # dummy change_cipher_spec right after our first handshake message.
        if ch.legacy_session_id and not self._sent_ccs:
            self._send_change_cipher_spec()


@dataclass
class _PostHandshakeAuth:
    """A post-handshake CertificateRequest in flight (§4.6.2) and the transcript of §4.4 for it."""

    request: CertificateRequest
    transcript: bytes  # ClientHello ... client Finished + CertificateRequest, then the answer
    state: State = State.WAIT_CERT  # where the answer stands, on the handshake's own edges
    certificates: list[x509.Certificate] = field(default_factory=list)


__all__ = [
    "MAX_SKIPPED_EARLY_DATA",
    "ServerConfig",
    "ServerConnection",
    "State",
    "Tamper",
    "TicketStore",
]
