"""Small attackers for notebook 09: a server with a chosen certificate, a tampering relay, crafted hellos.

Each helper plays one attacker of RFC 8446 Appendix E (the security
properties TLS 1.3 claims) against tlslab's client, on 127.0.0.1 only:

* ``ChosenCertServer``: a TLS 1.3 server (Python ``ssl``) that presents the
  certificate you give it, answers one HTTP request, and then closes with or
  without close_notify (RFC 8446 §6.1: truncation).
* ``Relay``: a man in the middle that forwards records between a client and a
  real server, calls ``tamper(direction, index, record)`` on each, and keeps a
  log of what crossed the wire. Returning ``None`` cuts the connection.
* ``run_in_memory``: the same, with no sockets: a sans-I/O ``ClientConnection``
  and ``ServerConnection`` exchange bytes through the same kind of tamper hook.
* ``downgrade_server_hello``: a ServerHello that picks TLS 1.2, with or
  without the downgrade sentinel in its random (RFC 8446 §4.1.3).
* ``client_hello_fields``: the fields of a ClientHello record, to show that
  the server_name (SNI) travels in the clear (RFC 6066 §3).

These are teaching tools: short, readable, and no better than they need to be.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tlslab import extensions as ext
from tlslab.client import ClientConfig, ClientConnection
from tlslab.constants import DOWNGRADE_TLS12, TLS12, ContentType, ExtensionType, name_of
from tlslab.errors import AlertDescription, TLSError
from tlslab.lab import http, pki
from tlslab.lab.loopback import LoopbackServer
from tlslab.messages import ClientHello, ServerHello, decode_handshake
from tlslab.record import RecordProtection, plaintext_record
from tlslab.server import ServerConfig, ServerConnection
from tlslab.suites import Suite

LOOPBACK = "127.0.0.1"
TIMEOUT = 5.0
HEADER = 5  # bytes of a record header: type, legacy_record_version, length (RFC 8446 §5.1)
REPLY = http.response(b"hello from the attacker\n")

# tamper(direction, index, record) -> the record to forward, or None to cut the connection.
# direction is "client" (client -> server) or "server"; index counts records per direction from 0.
Tamper = Callable[[str, int, bytes], bytes | None]


# ---------------------------------------------------------------------- records


def split_records(data: bytes) -> tuple[list[bytes], bytes]:
    """Whole TLS records in ``data`` (header included), and the incomplete rest."""
    records = []
    while len(data) >= HEADER:
        end = HEADER + int.from_bytes(data[3:5], "big")
        if len(data) < end:
            break
        records.append(data[:end])
        data = data[end:]
    return records, data


def flip_bit(record: bytes, position: int = -1, bit: int = 0) -> bytes:
    """``record`` with one bit changed: bit ``bit`` of the byte at ``position`` (default: the last byte)."""
    out = bytearray(record)
    out[position] ^= 1 << bit
    return bytes(out)


def describe_record(record: bytes) -> str:
    """``handshake, 90 bytes`` for a record as a passer-by on the wire sees it."""
    return f"{name_of(ContentType, record[0])}, {len(record) - HEADER} bytes"


def alert_in(record: bytes) -> str:
    """The alert in a *plaintext* alert record, by name (``bad_record_mac``)."""
    if record[0] != ContentType.alert or len(record) != HEADER + 2:
        return f"not a plaintext alert record ({describe_record(record)})"
    return AlertDescription(record[HEADER + 1]).name


def reencrypt(
    record: bytes, suite: Suite, secret: bytes, seq: int, change: Callable[[bytes], bytes]
) -> bytes:
    """Decrypt a protected record with the sender's traffic ``secret``, apply ``change``, encrypt again.

    Only someone who has the traffic secret can do this: here, a notebook that
    asked the server for its key log. ``seq`` is the record's sequence number
    under that secret (RFC 8446 §5.3).
    """
    from tlslab.record import Record

    protection = RecordProtection(suite, secret)
    protection.seq = seq
    content_type, plaintext = protection.decrypt(Record(record[0], TLS12, record[HEADER:]))
    protection.seq = seq
    return protection.encrypt(content_type, change(plaintext))


def rewrite_alpn(message: bytes, protocol: str) -> bytes:
    """An EncryptedExtensions message (RFC 8446 §4.3.1) whose ALPN choice now says ``protocol``."""
    ee = decode_handshake(message)
    alpn = ext.Extension(
        ExtensionType.application_layer_protocol_negotiation, ext.ALPN([protocol.encode()]).encode()
    )
    ee.extensions = [alpn if e.type == alpn.type else e for e in ee.extensions]  # type: ignore[attr-defined]
    return ee.encode()


# ---------------------------------------------------------------------- a server with a chosen certificate


class ChosenCertServer:
    """A TLS 1.3 server on 127.0.0.1 that presents ``leaf`` (and ``chain``) to every client.

    It answers the first HTTP request with ``reply``, then closes: with
    close_notify when ``close_notify`` is true, else by just closing the TCP
    connection, as an attacker who wants to truncate the data would.
    """

    def __init__(
        self,
        leaf: pki.Issued,
        chain: Sequence[pki.Issued] = (),
        *,
        reply: bytes = REPLY,
        close_notify: bool = True,
    ) -> None:
        self.reply, self.close_notify = reply, close_notify
        self._context = _server_context(leaf, chain)
        self._server = LoopbackServer(self._handle, timeout=TIMEOUT, concurrent=False, name="chosen-cert")
        self.host, self.port = self._server.host, self._server.port
        self.errors = self._server.errors  # e.g. the client refused our certificate

    def _handle(self, raw: socket.socket) -> None:
        conn = self._context.wrap_socket(raw, server_side=True)
        http.read_head(conn)
        conn.sendall(self.reply)
        if self.close_notify:
            conn.unwrap()
        conn.close()  # without unwrap(): the TCP connection ends with no close_notify

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> ChosenCertServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _server_context(leaf: pki.Issued, chain: Sequence[pki.Issued]) -> ssl.SSLContext:
    import tempfile
    from pathlib import Path

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
    with tempfile.TemporaryDirectory(prefix="tlslab-attacker-") as tmp:
        certfile, keyfile = Path(tmp, "chain.pem"), Path(tmp, "leaf.key")
        certfile.write_bytes(leaf.cert_pem() + b"".join(c.cert_pem() for c in chain))
        keyfile.write_bytes(leaf.key_pem())
        context.load_cert_chain(certfile, keyfile)
    return context


# ---------------------------------------------------------------------- a relay in the middle


class Relay:
    """A man in the middle on 127.0.0.1: forwards records to ``target`` and back, through ``tamper``.

    ``log`` holds ``(direction, record)`` for every record as it was forwarded
    (after tampering). One connection at a time is enough for the notebook.
    """

    def __init__(self, target: tuple[str, int], tamper: Tamper | None = None) -> None:
        if target[0] != LOOPBACK:
            raise ValueError("the relay only talks to 127.0.0.1")
        self.target, self.tamper = target, tamper
        self.log: list[tuple[str, bytes]] = []
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._server = LoopbackServer(self._relay, timeout=TIMEOUT, name="relay")
        self.host, self.port = self._server.host, self._server.port

    def _relay(self, client: socket.socket) -> None:
        """One client: connect to the target and pump each direction on a thread of its own."""
        server = socket.create_connection(self.target, timeout=TIMEOUT)
        self._sockets += [client, server]
        cut = threading.Event()
        pumps = []
        for source, sink, direction in ((client, server, "client"), (server, client, "server")):
            thread = threading.Thread(target=self._pump, args=(source, sink, direction, cut), daemon=True)
            pumps.append(thread)
            thread.start()
        self._threads += pumps
        for thread in pumps:  # the client's socket stays open until both directions are done
            thread.join()

    def _pump(self, source: socket.socket, sink: socket.socket, direction: str, cut: threading.Event) -> None:
        pending, index = b"", 0
        try:
            while not cut.is_set() and (chunk := source.recv(65536)):
                records, pending = split_records(pending + chunk)
                for record in records:
                    forwarded = self.tamper(direction, index, record) if self.tamper else record
                    index += 1
                    if forwarded is None:  # the attacker cuts the TCP connection here
                        cut.set()
                        for s in self._sockets:
                            _shutdown(s)
                        return
                    self.log.append((direction, forwarded))
                    sink.sendall(forwarded)
            _shutdown(sink, socket.SHUT_WR)  # pass the end of stream on
        except OSError:  # one side went away: stop writing to the other, but let it finish reading
            _shutdown(sink, socket.SHUT_WR)

    def records(self, direction: str) -> list[bytes]:
        """The records forwarded in one direction, ``"client"`` or ``"server"``."""
        return [record for who, record in self.log if who == direction]

    def stop(self) -> None:
        """Let both directions drain (up to a second each), then close everything."""
        self._server.stop()
        for thread in self._threads:
            thread.join(timeout=1)
        for s in self._sockets:
            _shutdown(s)
            s.close()
        for thread in self._threads:
            thread.join(timeout=1)

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _shutdown(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass


# ---------------------------------------------------------------------- no sockets at all


@dataclass
class Exchange:
    """What happened when a client and a server talked through ``run_in_memory``."""

    client: ClientConnection
    server: ServerConnection
    client_error: TLSError | None = None
    server_error: TLSError | None = None
    log: list[tuple[str, bytes]] = field(default_factory=list)  # (direction, record) as delivered

    @property
    def client_alert(self) -> bytes:
        """The last record the client sent (its alert, when it refused the handshake)."""
        sent = [record for who, record in self.log if who == "client"]
        return sent[-1] if sent else b""


def server_config(leaf: pki.Issued, chain: Sequence[pki.Issued] = (), **options: Any) -> ServerConfig:
    """A tlslab ``ServerConfig`` for ``leaf`` (its key signs CertificateVerify) and its ``chain``."""
    return ServerConfig(
        certificate_chain=[leaf.cert, *(c.cert for c in chain)], private_key=leaf.key, **options
    )


def run_in_memory(
    client: ClientConnection, server: ServerConnection, tamper: Tamper | None = None
) -> Exchange:
    """Pass bytes between a sans-I/O client and server, record by record, through ``tamper``.

    Stops when the client has completed the handshake, or when either side
    raised (the error is kept; its alert is delivered to the other side's log).
    """
    exchange = Exchange(client, server)
    counters = {"client": 0, "server": 0}
    for _ in range(20):  # a handshake takes three flights; 20 rounds means something is stuck
        moved = False
        for direction, sender, receiver in (("client", client, server), ("server", server, client)):
            records, _ = split_records(sender.data_to_send())
            for record in records:
                forwarded = tamper(direction, counters[direction], record) if tamper else record
                counters[direction] += 1
                if forwarded is None:
                    return exchange
                exchange.log.append((direction, forwarded))
                moved = True
                try:
                    receiver.receive_data(forwarded)
                except TLSError as error:
                    _note_error(exchange, receiver, error)
                    return exchange
        if client.handshake_complete and not moved:
            return exchange
    return exchange


def _note_error(exchange: Exchange, receiver: object, error: TLSError) -> None:
    if receiver is exchange.client:
        exchange.client_error = error
        exchange.log += [("client", r) for r in split_records(exchange.client.data_to_send())[0]]
    else:
        exchange.server_error = error
        exchange.log += [("server", r) for r in split_records(exchange.server.data_to_send())[0]]


# ---------------------------------------------------------------------- downgrade (RFC 8446 §4.1.3)


def downgrade_server_hello(client_hello_record: bytes, *, sentinel: bool = True) -> bytes:
    """A plaintext ServerHello record that answers ``client_hello_record`` by choosing TLS 1.2.

    It has no supported_versions extension (that is how a TLS 1.2 server
    answers) and picks ECDHE-ECDSA-AES128-GCM-SHA256. A TLS 1.3 server that was
    pushed down to TLS 1.2 ends its random with ``DOWNGRD\\x01``; with
    ``sentinel=False`` the random ends in zeros instead, as from a real TLS
    1.2-only server. The first 24 bytes are fixed, so the output is stable.
    """
    hello = decode_handshake(client_hello_record[HEADER:])
    assert isinstance(hello, ClientHello)
    random = bytes(range(24)) + (DOWNGRADE_TLS12 if sentinel else bytes(8))
    server_hello = ServerHello(
        random=random,
        legacy_session_id_echo=hello.legacy_session_id,
        cipher_suite=0xC02B,  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
        # renegotiation_info and extended_master_secret, as TLS 1.2 servers send them (RFC 5746, RFC 7627)
        extensions=[ext.Extension(0xFF01, b"\x00"), ext.Extension(0x0017, b"")],
    )
    return plaintext_record(ContentType.handshake, server_hello.encode())


@dataclass
class ClientVerdict:
    """What a fresh client did with some server bytes: the error it raised and the record it sent back."""

    error: TLSError | None
    sent: bytes


def feed_client(server_bytes: Callable[[bytes], bytes], config: ClientConfig | None = None) -> ClientVerdict:
    """Start a sans-I/O client, hand its ClientHello record to ``server_bytes``, feed the answer back."""
    client = ClientConnection(config or ClientConfig(server_name="example.com"))
    answer = server_bytes(client.data_to_send())
    try:
        client.receive_data(answer)
    except TLSError as error:
        return ClientVerdict(error, client.data_to_send())
    return ClientVerdict(None, client.data_to_send())


# ---------------------------------------------------------------------- what a passer-by sees (SNI)


def client_hello_fields(record: bytes) -> list[Any]:
    """Fields of a plaintext ClientHello record for ``tlslab.course.nb.annotated_hex``, SNI in detail.

    The offsets are where the core's decoders read each field (RFC 8446 §4.1.2, RFC 6066 §3),
    told to a recorder: the layout is not written a second time here.
    """
    heard = _Heard(HEADER)
    decode_handshake(record[HEADER:], recorder=heard)
    version, random = heard.span("legacy_version"), heard.span("random")
    fields: list[Any] = [
        (0, HEADER, "record header: handshake, legacy_record_version, length"),
        (HEADER, version[0], "handshake header: client_hello, length"),
        (*version, "legacy_version 0x0303"),
        (*random, "random (32 bytes)"),
        *(
            (*heard.span(name), name)
            for name in ("legacy_session_id", "cipher_suites", "legacy_compression_methods")
        ),
    ]
    extensions: list[Any] = []
    fields.append((*heard.span("extensions"), "extensions", extensions))
    for (start, end, _), (_, _, kind), (data_start, _, _) in zip(
        heard.spans["Extension"], heard.spans["extension_type"], heard.spans["extension_data"], strict=True
    ):
        assert isinstance(kind, int)  # extension_type is a uint16
        label = f"extension {name_of(ExtensionType, kind)}"
        sni = _sni_fields(record, start, data_start, end) if kind == ExtensionType.server_name else []
        extensions.append((start, end, label, sni))
    return fields


class _Heard:
    """A recorder: the spans (offset by ``base``) and values of each named field, in reading order."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.spans: dict[str, list[tuple[int, int, object]]] = {}

    def __call__(self, name: str, start: int, end: int, value: object) -> None:
        self.spans.setdefault(name, []).append((self.base + start, self.base + end, value))

    def span(self, name: str) -> tuple[int, int]:
        start, end, _ = self.spans[name][0]
        return start, end


def _sni_fields(record: bytes, start: int, data_start: int, end: int) -> list[Any]:
    """Inside server_name: type and length, list length, name_type host_name (0), name length, the name."""
    heard = _Heard(data_start + 2)  # extension_data's body, after its 2-byte length
    names = ext.ServerNameList.decode(record[data_start + 2 : end], recorder=heard)
    name_type, host_name = heard.span("name_type"), heard.span("host_name")
    list_start = heard.span("server_name_list")[0]
    name = names.host_names[0].decode("ascii", "replace")
    return [
        (start, data_start + 2, "type 0x0000 server_name, length"),
        (list_start, list_start + 2, "server_name_list length"),
        (*name_type, "name_type 0 = host_name"),
        (host_name[0], host_name[0] + 2, "host_name length"),
        (host_name[0] + 2, host_name[1], f"host_name {name!r}: in the clear"),
    ]


def server_name_of(record: bytes) -> str | None:
    """The host name in a ClientHello record's server_name extension, as anyone on the path reads it."""
    hello = decode_handshake(record[HEADER:])
    assert isinstance(hello, ClientHello)
    data = hello.get(ExtensionType.server_name)
    return None if data is None else ext.ServerNameList.decode(data).host_names[0].decode("ascii")
