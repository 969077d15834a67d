"""What a TLS 1.3 endpoint does whichever side it is on (RFC 8446 §5, §6, §4.6.3, §7.1).

``ClientConnection`` (``client.py``, Appendix A.1) and ``ServerConnection`` (``server.py``,
Appendix A.2) subclass ``Endpoint``. Here is only what the two sides do alike:

* bytes out (``data_to_send``) and in (``receive_data``), errors mapped as §6.2 wants: our
  ``AlertError`` is queued for the peer and closes, a fatal alert from the peer is ``PeerAlert``,
  anything else is an internal_error;
* the events: a bounded ``events`` history, and the new ones that ``receive_data`` returns;
* records once decrypted (§5), alerts (§6), closing one direction at a time (§6.1);
* the key schedule's secrets, which both sides derive alike (§7.1), and KeyUpdate (§4.6.3);
* the key log (NSS format), keyed by the client's random.

* the handshake dispatcher: each message is checked against the side's state table
  (``states.py``), goes into the transcript (§4.4.1), is handled, and the state moves along the
  table's edge; and the one path by which our handshake messages leave.

A subclass says which side it is (``SIDE``, ``PEER``, ``PEER_NOUN``), which ``State`` enum and
``TABLE`` it runs (``states.CLIENT`` or ``states.SERVER``), and does the handshake itself: the
handlers, how records are decrypted, when data may be sent and when a CCS is dropped.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from cryptography import x509

from .constants import (
    MAX_PLAINTEXT,
    CipherSuite,
    ContentType,
    KeyUpdateRequest,
    NamedGroup,
    name_of,
)
from .errors import (
    AlertDescription,
    AlertError,
    InternalError,
    PeerAlert,
    TLSError,
    UnexpectedMessage,
)
from .events import EVENT_HISTORY, ConnectionClosed, Event, HandshakeComplete, KeyUpdated
from .keylog import KeyLogCallback, keylog_from_env
from .keyschedule import KeySchedule, next_traffic_secret
from .messages import (
    CertificateRequest,
    ClientHello,
    HandshakeBuffer,
    HandshakeMessage,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket,
    decode_handshake,
)
from .provider import Provider
from .record import Record, RecordProtection, RecordReader, decode_alert, plaintext_record, split_fragments
from .states import StateTable
from .suites import Suite


class Endpoint:
    """The part of a TLS 1.3 connection that is the same for client and server."""

    State: ClassVar[Any]  # the subclass's states (Appendix A.1 or A.2): START, ..., CONNECTED, CLOSED
    TABLE: ClassVar[StateTable[Any]]  # its state table (states.py)
    SIDE: ClassVar[str]  # "client" or "server": whose traffic secrets we send with
    PEER: ClassVar[str]  # the other one: whose traffic secrets we read with
    PEER_NOUN: ClassVar[str]  # what our messages call the other side

    def __init__(self, config: Any) -> None:
        self.config = config  # read, never changed: one config may serve many connections
        self.provider: Provider = config.provider  # the pieces a learner may replace (provider.py)
        self.keylog: KeyLogCallback | None = config.keylog or keylog_from_env()  # SSLKEYLOGFILE
        self.state: Any = self.State.START
        # The latest events (a bounded history for notebooks and tests); receive_data() returns the new ones.
        self.events: deque[Event] = deque(maxlen=EVENT_HISTORY)
        self._new_events: list[Event] = []
        self._out = bytearray()
        self._records = RecordReader()
        self._handshake = HandshakeBuffer()
        self._transcript = b""  # the handshake messages so far (RFC 8446 §4.4.1)
        # The transcript up to, not including, the message being handled: the Handshake Context
        # that its CertificateVerify or Finished covers (§4.4), or a PSK binder (§4.2.11.2).
        self._transcript_before = b""
        self._read: RecordProtection | None = None
        self._write: RecordProtection | None = None
        self._schedule: KeySchedule | None = None
        self._client_hello: ClientHello | None = None
        self._hello_retry: HelloRetryRequest | None = None
        self._certificate_request: CertificateRequest | None = None
        self._sent_ccs = False
        self._client_hs_secret = self._server_hs_secret = b""
        self._client_app_secret = self._server_app_secret = b""
        self._read_generation = self._write_generation = 0
        self._read_closed = self._write_closed = False  # close_notify received / sent (§6.1)
        self.client_random = b""
        # Negotiated parameters, readable after the handshake.
        self.suite: Suite | None = None
        self.group: NamedGroup | None = None
        self.alpn_protocol: str | None = None
        self.peer_certificates: list[x509.Certificate] = []
        self.session_resumed = False  # a ticket's PSK was accepted (§2.2)
        self.early_data_accepted: bool | None = None  # None: no 0-RTT offered (§4.2.10)
        self.resumption_master_secret = b""
        self.exporter_master_secret = b""

    # --------------------------------------------------------------- the public interface

    @property
    def handshake_complete(self) -> bool:
        return self.state is self.State.CONNECTED

    def data_to_send(self) -> bytes:
        """Bytes the caller must write to the transport now."""
        out, self._out = bytes(self._out), bytearray()
        return out

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes read from the transport; returns the new events (also in ``events``).

        Raises:
            AlertError: the peer broke RFC 8446; the alert is queued in ``data_to_send()``.
            PeerAlert: the peer sent a fatal alert.
        """
        if self.state is self.State.CLOSED:
            raise TLSError("connection is closed")
        self._new_events = []
        try:
            self._records.feed(data)
            while self.state is not self.State.CLOSED and (record := self._records.next_record()) is not None:
                self._on_record(record)
        except AlertError as err:
            self._fail(err.alert)
            raise
        except PeerAlert:
            self.state = self.State.CLOSED
            raise
        except TLSError:
            self._fail(AlertDescription.internal_error)
            raise
        except Exception as exc:  # a bug in tlslab must still surface as a TLSError
            self._fail(AlertDescription.internal_error)
            raise InternalError(f"tlslab bug while processing {self.PEER_NOUN} data: {exc!r}") from exc
        return self._new_events

    def bulk_read_keys(self) -> RecordProtection | None:
        """The read keys, when the next record may be decrypted by a transport's fast path.

        ``connection.TLSSocket`` decrypts plain application_data records itself (one copy, into
        the caller's buffer) and passes every other record to ``receive_data``. That is only
        right when the handshake is complete, the peer has not closed, and nothing is buffered
        here (part of a record, or of a handshake message: §5.1 forbids interleaving). Records
        it decrypts this way raise no ``ApplicationData`` event.
        """
        if (
            self.state is not self.State.CONNECTED
            or self._read_closed
            or self._records.buffered
            or self._handshake.has_partial()
        ):
            return None
        return self._read

    def bulk_write_keys(self) -> RecordProtection | None:
        """The write keys, when a transport may seal application data itself (see bulk_read_keys):
        connected, not closed by us, and nothing of ours waiting in ``data_to_send``."""
        if self.state is not self.State.CONNECTED or self._write_closed or self._out:
            return None
        return self._write

    def next_event(self) -> Event | None:
        return self.events.popleft() if self.events else None

    def close(self) -> None:
        """Send close_notify (RFC 8446 §6.1).

        This closes our write side only: §6.1 says close_notify "does not have any effect on its
        read side", so the peer's last data and its own close_notify still arrive.
        """
        if self.state is self.State.CLOSED or self._write_closed:
            return
        self._send_alert(AlertDescription.close_notify)
        self._write_closed = True
        if self._read_closed or not self._reads_after_close():
            self.state = self.State.CLOSED

    def _reads_after_close(self) -> bool:
        """Whether, after our close_notify, the peer's data is still worth reading (subclasses say)."""
        raise NotImplementedError

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        self._new_events.append(event)

    def _emit_handshake_complete(self) -> None:
        """Both Finished messages checked and sent: what was negotiated (§4.4.4)."""
        assert self.suite is not None and self.group is not None
        self._emit(
            HandshakeComplete(
                CipherSuite(self.suite.code),
                self.group,
                self.alpn_protocol,
                self.peer_certificates,
                self._hello_retry is not None,
                self.session_resumed,
                self.early_data_accepted,
            )
        )

    # --------------------------------------------------------------- records in (RFC 8446 §5)

    def _on_record(self, record: Record) -> None:
        """One record: each side decrypts its own way (the server may skip rejected 0-RTT)."""
        raise NotImplementedError

    def _on_change_cipher_spec(self, record: Record) -> None:
        # §5: a plaintext CCS of one byte 0x01 is dropped during the handshake (Appendix D.4);
        # each side says in which of its states.
        self._handshake.check_not_interleaved(record.content_type)  # §5.1
        if record.fragment != b"\x01":
            raise UnexpectedMessage("change_cipher_spec record must hold the single byte 0x01")

    def _on_content(self, content_type: int, data: bytes) -> None:
        """What one record carried (decrypted, or plaintext during the handshake), by its type."""
        if content_type != ContentType.handshake:
            self._handshake.check_not_interleaved(content_type)  # §5.1: no records inside a split message
        if content_type == ContentType.handshake:
            self._handshake.feed(data)
            while self.state is not self.State.CLOSED and (raw := self._handshake.pop()) is not None:
                self._on_handshake_message(raw)
        elif content_type == ContentType.alert:
            self._on_alert(data)
        elif content_type == ContentType.application_data:
            self._on_application_data(data)
        else:
            raise UnexpectedMessage(f"unexpected {name_of(ContentType, content_type)} record")

    def _on_handshake_message(self, raw: bytes) -> None:
        """One whole handshake message (§4), the one place each goes through.

        The state table says whether it may arrive now (else unexpected_message, §6.2); it goes
        into the transcript (§4.4.1) before its handler runs; the handler says which case it
        was, and the table where that leads.
        """
        state, msg_type = self.state, raw[0]
        self.TABLE.check(state, msg_type, self._asked_for())
        msg = self._decode(raw)
        self._transcript_before = self._transcript
        if self._in_transcript(msg):
            self._transcript += raw
        case = self._handle(msg, raw)
        self.state = self.TABLE.next(state, msg_type, case or "")

    def _asked_for(self) -> set[str]:
        """The ``only_if`` conditions of the state table that hold now (post-handshake authentication)."""
        return set()

    def _decode(self, raw: bytes) -> HandshakeMessage:
        return decode_handshake(raw)

    def _handle(self, msg: HandshakeMessage, raw: bytes) -> str | None:
        """Handle one message; return which case of the state table it was (None: the only one)."""
        raise NotImplementedError

    def _in_transcript(self, msg: HandshakeMessage) -> bool:
        """Whether ``msg``, sent or received, belongs in the transcript (§4.4.1).

        Post-handshake messages do not: NewSessionTicket, KeyUpdate and whatever arrives or
        leaves once CONNECTED (post-handshake authentication keeps its own, §4.4).
        """
        return self.state is not self.State.CONNECTED and not isinstance(msg, (KeyUpdate, NewSessionTicket))

    def _on_application_data(self, data: bytes) -> None:
        """Application data: each side says when it may come (and the server takes 0-RTT)."""
        raise NotImplementedError

    def _on_alert(self, data: bytes) -> None:
        """An alert from the peer (§6): close_notify and user_canceled are warnings, the rest fatal."""
        level, description = decode_alert(data)
        if description == AlertDescription.close_notify:  # §6.1: the peer closed its write side
            self._read_closed = True
            if self._write_closed:
                self.state = self.State.CLOSED
            self._emit(ConnectionClosed())
            return
        if description == AlertDescription.user_canceled:  # §6.1: followed by close_notify
            return
        raise PeerAlert(description, level)

    # --------------------------------------------------------------- secrets (§7.1) and KeyUpdate (§4.6.3)

    def _derive_handshake_secrets(self, shared_secret: bytes, psk: bytes | None) -> None:
        """[sender]_handshake_traffic_secret for both sides (§7.1); each side sets its keys."""
        assert self.suite is not None
        # §7.1: the PSK seeds Early Secret
        ks = self._schedule = KeySchedule(self.suite.hash_name, psk, self.provider)
        ks.set_handshake_secret(shared_secret)
        self._client_hs_secret = ks.client_handshake_traffic_secret(self._transcript)
        self._server_hs_secret = ks.server_handshake_traffic_secret(self._transcript)
        self._keylog("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self._client_hs_secret)
        self._keylog("SERVER_HANDSHAKE_TRAFFIC_SECRET", self._server_hs_secret)

    def _derive_application_secrets(self) -> None:
        """[sender]_application_traffic_secret_0 and the exporter secret (§7.1): after server Finished."""
        assert self._schedule is not None
        ks = self._schedule
        ks.set_master_secret()
        self._client_app_secret = ks.client_application_traffic_secret_0(self._transcript)
        self._server_app_secret = ks.server_application_traffic_secret_0(self._transcript)
        self.exporter_master_secret = ks.exporter_master_secret(self._transcript)
        self._keylog("CLIENT_TRAFFIC_SECRET_0", self._client_app_secret)
        self._keylog("SERVER_TRAFFIC_SECRET_0", self._server_app_secret)
        self._keylog("EXPORTER_SECRET", self.exporter_master_secret)

    def _next_app_secret(self, side: str) -> bytes:
        """``side``'s application_traffic_secret_N+1 (§7.2), which replaces the Nth."""
        assert self.suite is not None
        expand_label = self.provider.hkdf_expand_label
        if side == "client":
            self._client_app_secret = next_traffic_secret(
                self._client_app_secret, self.suite.hash_name, hkdf_expand_label=expand_label
            )
            return self._client_app_secret
        self._server_app_secret = next_traffic_secret(
            self._server_app_secret, self.suite.hash_name, hkdf_expand_label=expand_label
        )
        return self._server_app_secret

    def _update_read_keys(self) -> None:
        """A KeyUpdate arrived: the peer's next secret protects what it sends from now on (§4.6.3)."""
        assert self.suite is not None
        if self._handshake.has_partial():
            raise UnexpectedMessage("handshake message spans a KeyUpdate")  # §5.1
        secret = self._next_app_secret(self.PEER)
        self._read_generation += 1
        self._keylog(f"{self.PEER.upper()}_TRAFFIC_SECRET_{self._read_generation}", secret)
        self._read = self._protection(secret)
        self._emit(KeyUpdated("read", self._read_generation))

    def _send_key_update(self, request_peer_update: bool) -> None:
        """KeyUpdate under our current keys, then move them on (§4.6.3)."""
        request = (
            KeyUpdateRequest.update_requested
            if request_peer_update
            else KeyUpdateRequest.update_not_requested
        )
        self._send_handshake(KeyUpdate(request))
        self._update_write_keys()

    def _update_write_keys(self) -> None:
        assert self.suite is not None
        secret = self._next_app_secret(self.SIDE)
        self._write_generation += 1
        self._keylog(f"{self.SIDE.upper()}_TRAFFIC_SECRET_{self._write_generation}", secret)
        self._write = self._protection(secret)
        self._emit(KeyUpdated("write", self._write_generation))

    def _protection(self, secret: bytes, suite: Suite | None = None) -> RecordProtection:
        """Record protection under ``secret`` with the negotiated suite (or ``suite``), by our provider."""
        suite = suite or self.suite
        assert suite is not None
        return RecordProtection(suite, secret, self.provider)

    # --------------------------------------------------------------- records out

    def _tampered(self, stage: str, data: bytes) -> bytes:
        """What we send, as it leaves; the server's tamper hook (for teaching) overrides this."""
        return data

    def _send_handshake(self, *messages: HandshakeMessage, plaintext: int | None = None) -> bytes:
        """Send handshake messages, coalesced into as few records as fit (§5.1); returns their bytes.

        The one way our handshake messages leave: each goes into the transcript as it is sent
        (§4.4.1, see ``_in_transcript``), then into records under our write keys, or, with
        ``plaintext`` (the legacy_record_version), unprotected: ClientHello, ServerHello, HRR.
        """
        sent = b""
        for msg in messages:
            stage = "hello_retry_request" if isinstance(msg, HelloRetryRequest) else msg.msg_type.name
            raw = self._tampered(stage, msg.encode())
            if self._in_transcript(msg):
                self._transcript += raw
            sent += raw
        for fragment in split_fragments(sent):
            if plaintext is None:
                self._send_record(ContentType.handshake, fragment)
            else:
                self._out += self._tampered(
                    "record", plaintext_record(ContentType.handshake, fragment, plaintext)
                )
        return sent

    def _send_change_cipher_spec(self) -> None:
        """The dummy change_cipher_spec of middlebox compatibility mode (Appendix D.4)."""
        self._out += self._tampered("record", plaintext_record(ContentType.change_cipher_spec, b"\x01"))
        self._sent_ccs = True

    def _send_record(self, content_type: int, data: bytes) -> None:
        assert self._write is not None
        self._out += self._tampered("record", self._write.encrypt(content_type, data))

    def _send_application_data(self, data: bytes) -> None:
        """``data`` in records of at most 2^14 bytes (RFC 8446 §5.1)."""
        view = memoryview(data)
        for start in range(0, len(data), MAX_PLAINTEXT):
            self._send_record(ContentType.application_data, bytes(view[start : start + MAX_PLAINTEXT]))

    def _send_alert(self, description: AlertDescription) -> None:
        level = 1 if description in (AlertDescription.close_notify, AlertDescription.user_canceled) else 2
        payload = bytes([level, description])
        if self._write is not None:
            self._out += self._write.encrypt(ContentType.alert, payload)
        else:
            self._out += plaintext_record(ContentType.alert, payload)

    def _fail(self, alert: AlertDescription) -> None:
        """Queue a fatal alert and close (RFC 8446 §6.2)."""
        if self.state is not self.State.CLOSED:
            try:
                self._send_alert(alert)
            except TLSError:
                pass
            self.state = self.State.CLOSED

    def _keylog(self, label: str, secret: bytes) -> None:
        if self.keylog is not None:
            self.keylog(label, self.client_random, secret)
