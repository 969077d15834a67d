"""A hostile or broken server against the tlslab client: the table of RFC 8446 §6 alerts.

The acceptance criterion: garbage, truncation, wrong lengths, wrong versions, a bit flipped
anywhere, or silence gets the right alert sent and a TLSError raised within the timeout; no
other exception type escapes, nothing hangs.

Each row names one misbehaviour, makes the tlslab server commit it (``ServerConfig.tamper``,
``extra_extensions``, or the records rewritten between server and client with the server's own
keys: see tests/support/hostile.py), or runs a raw script on 127.0.0.1 for what lies below TLS. It then
checks the exact ``TLSError`` subclass, its ``.alert``, a specific phrase of the reason, and the
alert the client *queued on the wire*, read back from ``data_to_send()`` (plaintext before the
client has send keys, RFC 8446 Appendix A.1; decrypted with its own write keys after). A
``PeerAlert`` row checks that nothing is sent back (§6.2: the connection is already dead).

Rows the client gets wrong are written as they should be and marked ``xfail(strict=True)``
with ``reason="client bug: ..."``.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import (
    SERVER_NAME,
    Piece,
    alert_record,
    client_config,
    conversation,
    queued_alert,
    scripted_server,
    server_config,
    split_records,
)

import tlslab
from tlslab import extensions as ext
from tlslab.client import ClientConnection
from tlslab.constants import (
    DOWNGRADE_TLS12,
    HELLO_RETRY_REQUEST_RANDOM,
    TLS12,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
)
from tlslab.errors import (
    AlertDescription,
    BadCertificate,
    BadRecordMac,
    CertificateExpired,
    ConnectionLost,
    DecodeError,
    DecryptError,
    IllegalParameter,
    MissingExtension,
    PeerAlert,
    ProtocolVersion,
    RecordOverflow,
    TLSError,
    TLSTimeout,
    UnexpectedMessage,
    UnknownCA,
    UnsupportedExtension,
)
from tlslab.lab import pki as tp
from tlslab.messages import (
    CertificateEntry,
    CertificateRequest,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket,
    decode_handshake,
)
from tlslab.psk import TicketStore
from tlslab.server import ServerConnection
from tlslab.signatures import SUPPORTED_SIGNATURE_SCHEMES

A = AlertDescription
ET = ExtensionType
HT = HandshakeType
SOCKET_TIMEOUT = 0.5
NOW = dt.datetime.now(dt.timezone.utc)


@dataclass
class Outcome:
    error: BaseException | None
    queued: AlertDescription | None  # the alert record the client queued, decoded
    elapsed: float
    extra: Any = None


@dataclass
class Row:
    name: str
    run: Callable[[Any], Outcome]  # pki -> what happened
    error: type[TLSError]
    alert: AlertDescription | None  # what the client must send (None: nothing, e.g. PeerAlert)
    reason: str  # a phrase the error message must contain
    rfc: str
    bug: str | None = None  # "client bug: ..." -> strict xfail


# --------------------------------------------------------------------------- scenario builders


def memory(
    *,
    server: dict | Callable[[Any], dict] | None = None,
    client: dict | None = None,
    tamper: Callable[[str, bytes], bytes] | None = None,
    wire: Callable[[bytes, int], bytes] | None = None,
    pieces: Callable[[list[Piece], int], list[Piece]] | None = None,
    after_handshake: Callable[[ServerConnection], None] | None = None,
    kind: str = "ecdsa-p256",
) -> Callable[[Any], Outcome]:
    """tlslab client <-> (misbehaving) tlslab server in memory."""

    def run(pki: Any) -> Outcome:
        options = server(pki) if callable(server) else dict(server or {})
        if tamper is not None:
            options["tamper"] = tamper
        conv = conversation(
            server_config(pki, kind, **options),
            client_config(pki, **(client or {})),
            wire=wire,
            pieces=pieces,
            after_handshake=after_handshake,
        )
        start, error = time.monotonic(), None
        try:
            conv.run()
        except BaseException as exc:  # judged by the test, whatever it is
            error = exc
        assert conv.server_error is None, f"the server failed first: {conv.server_error}"
        return Outcome(error, queued_alert(conv.client), time.monotonic() - start)

    return run


def reply(data: bytes) -> Callable[[Any], Outcome]:
    """The client's ClientHello is answered by exactly ``data``."""
    return memory(wire=lambda out, n: data)


def at(stage: str, edit: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    """A tamper hook that edits one stage's bytes and passes the rest through."""
    return lambda s, data: edit(data) if s == stage else data


def fields(**changes: Any) -> Callable[[bytes], bytes]:
    """Decode the handshake message, set fields (a callable gets the old value), re-encode."""

    def edit(data: bytes) -> bytes:
        msg = decode_handshake(data)
        for name, value in changes.items():
            setattr(msg, name, value(getattr(msg, name)) if callable(value) else value)
        return msg.encode()

    return edit


def put(ext_type: int, data: bytes) -> Callable[[list[ext.Extension]], list[ext.Extension]]:
    """Replace (or add) one extension in a list."""

    def edit(exts: list[ext.Extension]) -> list[ext.Extension]:
        kept = [e for e in exts if e.type != ext_type]
        return [*kept, ext.Extension(ext_type, data)]

    return edit


def drop(ext_type: int) -> Callable[[list[ext.Extension]], list[ext.Extension]]:
    return lambda exts: [e for e in exts if e.type != ext_type]


def share(group: int, key_exchange: bytes) -> bytes:
    return ext.KeyShareEntry(group, key_exchange).encode()


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


def flip_in_record(k: int) -> Callable[[bytes, int], bytes]:
    """Flip one bit in the middle of the k-th record of the server's first flight."""

    def wire(data: bytes, n: int) -> bytes:
        if n:
            return data
        records = split_records(data)
        encoded = [r.encode() for r in records]
        protected = [i for i, r in enumerate(records) if r.content_type == ContentType.application_data]
        i = protected[k]
        encoded[i] = flip_bit(encoded[i], 5 + len(records[i].fragment) // 2, 3)
        return b"".join(encoded)

    return wire


def flip_header_version(data: bytes, n: int) -> bytes:
    """Change the first protected record's legacy_record_version 0x0303 -> 0x0302 (it is AAD, §5.2)."""
    if n:
        return data
    records = split_records(data)
    i = next(i for i, r in enumerate(records) if r.content_type == ContentType.application_data)
    encoded = [r.encode() for r in records]
    encoded[i] = flip_bit(encoded[i], 2, 0)
    return b"".join(encoded)


def message_index(pieces: list[Piece], msg_type: int) -> int:
    return next(
        i for i, p in enumerate(pieces) if p.content_type == ContentType.handshake and p.data[0] == msg_type
    )


def first_flight(edit: Callable[[list[Piece]], list[Piece]]) -> Callable[[list[Piece], int], list[Piece]]:
    return lambda pieces, n: edit(list(pieces)) if n == 0 else pieces


def later_flight(edit: Callable[[list[Piece]], list[Piece]]) -> Callable[[list[Piece], int], list[Piece]]:
    return lambda pieces, n: edit(list(pieces)) if n == 1 else pieces


def insert_after(msg_type: int, piece: Piece) -> Callable[[list[Piece]], list[Piece]]:
    def edit(pieces: list[Piece]) -> list[Piece]:
        i = message_index(pieces, msg_type) + 1
        return pieces[:i] + [Piece(pieces[i - 1].epoch, piece.content_type, piece.data)] + pieces[i:]

    return edit


def reorder(*order: int) -> Callable[[list[Piece]], list[Piece]]:
    """Keep the plaintext records, then the protected handshake messages in ``order`` (by type)."""

    def edit(pieces: list[Piece]) -> list[Piece]:
        plain = [p for p in pieces if p.epoch == "plain"]
        return plain + [pieces[message_index(pieces, t)] for t in order]

    return edit


def append_to(msg_type: int, extra: bytes) -> Callable[[list[Piece]], list[Piece]]:
    """Put ``extra`` handshake bytes in the same record, after message ``msg_type``."""

    def edit(pieces: list[Piece]) -> list[Piece]:
        i = message_index(pieces, msg_type)
        pieces[i] = Piece(pieces[i].epoch, pieces[i].content_type, pieces[i].data + extra)
        return pieces

    return edit


# TLS 1.2 ServerHello extension blocks: renegotiation_info (RFC 5746) and ec_point_formats (RFC 8422).
TLS12_EXTENSIONS = {
    "usual": b"\x00\x0b\xff\x01\x00\x01\x00\x00\x0b\x00\x02\x01\x00",
    "renegotiation_info only": b"\x00\x05\xff\x01\x00\x01\x00",
    "none": b"",  # RFC 5246 §7.4.1.3: the extensions field may be absent altogether
}


def tls12_server_hello(extensions: str) -> Callable[[bytes], bytes]:
    """A TLS 1.2 ServerHello from a TLS 1.3-capable server: the DOWNGRD sentinel (§4.1.3)."""

    def edit(data: bytes) -> bytes:
        sh = decode_handshake(data)
        body = TLS12.to_bytes(2, "big") + sh.random[:24] + DOWNGRADE_TLS12
        body += bytes([len(sh.legacy_session_id_echo)]) + sh.legacy_session_id_echo + b"\xc0\x2f\x00"
        body += TLS12_EXTENSIONS[extensions]
        return bytes([HT.server_hello]) + len(body).to_bytes(3, "big") + body

    return edit


def second_hrr(data: bytes) -> bytes:
    sh = decode_handshake(data)
    exts = [
        ext.Extension(ET.supported_versions, b"\x03\x04"),
        ext.Extension(ET.key_share, ext.KeyShareHelloRetryRequest(NamedGroup.secp521r1).encode()),
    ]
    return HelloRetryRequest(
        HELLO_RETRY_REQUEST_RANDOM, sh.legacy_session_id_echo, sh.cipher_suite, exts
    ).encode()


HRR_SERVER = {"groups": [NamedGroup.secp384r1]}
HRR_CLIENT = {"groups": [NamedGroup.x25519, NamedGroup.secp384r1, NamedGroup.secp521r1]}


def other_leaf(**issue: Any) -> Callable[[Any], dict]:
    """Serve a different leaf, issued by the test intermediate unless ``issuer`` says otherwise."""

    def options(pki: Any) -> dict:
        settings = {"dns_names": [SERVER_NAME], **issue}
        issuer = settings.pop("issuer", None) or pki.intermediate
        leaf = tp.issue(issuer, common_name=settings["dns_names"][0], **settings)  # CABF BR 7.1.4.3
        return {"certificate_chain": [leaf.cert, issuer.cert], "private_key": leaf.key}

    return options


# --------------------------------------------------------------------------- socket scenarios


def over_socket(
    script: Callable[[socket.socket, Any], Any], then_recv: bool = False
) -> Callable[[Any], Outcome]:
    """A raw script on 127.0.0.1; the client is ``tlslab.connect(timeout=0.5)``."""

    def run(pki: Any) -> Outcome:
        seen: list[Any] = []
        with scripted_server(lambda sock: seen.append(script(sock, pki))) as served:
            start, error = time.monotonic(), None
            try:
                with tlslab.connect(
                    "127.0.0.1",
                    served.port,
                    server_hostname=SERVER_NAME,
                    cafile=str(pki.cafile),
                    timeout=SOCKET_TIMEOUT,
                ) as tls:
                    if then_recv:
                        tls.recv(100)
            except BaseException as exc:
                error = exc
            elapsed = time.monotonic() - start
            served.done.wait(5)
        return Outcome(error, None, elapsed, extra=seen)

    return run


def read_hello(sock: socket.socket) -> bytes:
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def silence(sock: socket.socket, pki: Any) -> None:
    read_hello(sock)
    sock.recv(100)  # returns when the client gives up and closes


def hang_up(sock: socket.socket, pki: Any) -> None:
    read_hello(sock)


def half_header(sock: socket.socket, pki: Any) -> None:
    read_hello(sock)
    sock.sendall(b"\x16\x03")


def http_answer(sock: socket.socket, pki: Any) -> bytes:
    read_hello(sock)
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    return sock.recv(100)  # the client's alert


def handshake_then_hang_up(sock: socket.socket, pki: Any) -> None:
    server = ServerConnection(server_config(pki, keylog=None))
    while not server.handshake_complete:
        server.receive_data(sock.recv(65536))
        sock.sendall(server.data_to_send())
    # no close_notify: the TCP connection just ends (a truncation attack, RFC 8446 §6.1)


# --------------------------------------------------------------------------- resumption scenarios


def resuming(
    *,
    first: dict | None = None,
    server: dict | None = None,
    client: dict | None = None,
    tamper: Callable[[str, bytes], bytes] | None = None,
    ticket_edit: Callable[[Any], None] | None = None,
    resume: bool = True,
    server_fails: bool = False,
) -> Callable[[Any], Outcome]:
    """A full handshake with the tlslab server for a ticket (RFC 8446 §4.6.1), then a second
    connection offering it (``resume``) to a misbehaving server, or one the server refuses
    (``server_fails``: the client must then raise the server's alert as PeerAlert)."""

    def run(pki: Any) -> Outcome:
        store = TicketStore()
        options: dict[str, Any] = {}
        if resume:
            warm_up = conversation(
                server_config(pki, ticket_store=store, **(first or {})), client_config(pki)
            )
            warm_up.run()
            options["session"] = warm_up.client.tickets[0]
            if ticket_edit is not None:
                ticket_edit(options["session"])
        settings = {"ticket_store": store, **(server or {})}
        if tamper is not None:
            settings["tamper"] = tamper
        conv = conversation(server_config(pki, **settings), client_config(pki, **options, **(client or {})))
        start, error = time.monotonic(), None
        try:
            conv.run()
        except BaseException as exc:  # judged by the test, whatever it is
            error = exc
        assert (conv.server_error is not None) == server_fails, f"server error: {conv.server_error}"
        elapsed = time.monotonic() - start
        try:
            queued = queued_alert(conv.client)
        except AssertionError as exc:  # its last record is handshake data queued before the alert came
            assert server_fails and "not an alert" in str(exc), exc
            queued = None
        return Outcome(error, queued, elapsed)

    return run


def client_identity(pki: Any) -> dict:
    """A client certificate for the rows that need one (the P-256 leaf; EKU is not reached)."""
    leaf = pki.leaves["ecdsa-p256"].issued
    return {"certificate_chain": [leaf.cert], "private_key": leaf.key}


def post_handshake_request(context: bytes) -> Callable[[str, bytes], bytes]:
    """Turn the server's post-handshake KeyUpdate into a CertificateRequest (§4.6.2)."""
    schemes = ext.SignatureAlgorithms(list(SUPPORTED_SIGNATURE_SCHEMES)).encode()
    request = CertificateRequest(context, [ext.Extension(ET.signature_algorithms, schemes)]).encode()
    return at("key_update", lambda data: request)


# --------------------------------------------------------------------------- the table

NST = NewSessionTicket(3600, 0, b"\x00", b"ticket").encode()

ROWS = [
    # --- below the handshake: records (§5) ---
    Row(
        "HTTP answer instead of a ServerHello",
        reply(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
        UnexpectedMessage,
        A.unexpected_message,
        "not a TLS record",
        "§5",
    ),
    Row(
        "record with SSL 2-style version 0x0200",
        reply(b"\x16\x02\x00\x00\x05hello"),
        DecodeError,
        A.decode_error,
        "legacy_record_version 0x0200",
        "§5.1",
    ),
    Row(
        "plaintext record of 2^14+1 bytes",
        reply(b"\x16\x03\x03\x40\x01"),
        RecordOverflow,
        A.record_overflow,
        "16385 bytes exceeds 16384",
        "§5.1",
    ),
    Row(
        "protected record of 2^14+257 bytes",
        reply(b"\x17\x03\x03\x41\x01"),
        RecordOverflow,
        A.record_overflow,
        "16641 bytes exceeds 16640",
        "§5.2",
    ),
    Row(
        "unknown record type 24",
        reply(b"\x18\x03\x03\x00\x01\x01"),
        UnexpectedMessage,
        A.unexpected_message,
        "unknown content type 24",
        "§5",
    ),
    Row(
        "encrypted record before the ServerHello",
        reply(b"\x17\x03\x03\x00\x11" + bytes(17)),
        UnexpectedMessage,
        A.unexpected_message,
        "before the ServerHello",
        "§5",
    ),
    Row(
        "zero-length handshake record",
        reply(b"\x16\x03\x03\x00\x00"),
        UnexpectedMessage,
        A.unexpected_message,
        "zero-length handshake",
        "§5.1",
    ),
    Row(
        "alert record of 3 bytes",
        reply(b"\x15\x03\x03\x00\x03\x02\x28\x00"),
        DecodeError,
        A.decode_error,
        "an alert is 2 bytes",
        "§6",
    ),
    Row(
        "a fatal alert from the server",
        reply(alert_record(A.handshake_failure)),
        PeerAlert,
        None,
        "peer sent alert handshake_failure",
        "§6.2",
    ),
    # --- ServerHello (§4.1.3) ---
    Row(
        "TLS 1.2 ServerHello with the DOWNGRD sentinel",
        memory(tamper=at("server_hello", tls12_server_hello("usual"))),
        IllegalParameter,
        A.illegal_parameter,
        "DOWNGRD",
        "§4.1.3",
    ),
    Row(
        "TLS 1.2 ServerHello with the DOWNGRD sentinel, no extensions",
        memory(tamper=at("server_hello", tls12_server_hello("none"))),
        IllegalParameter,
        A.illegal_parameter,
        "DOWNGRD",
        "§4.1.3",
    ),
    Row(
        "TLS 1.2 ServerHello with the DOWNGRD sentinel, only renegotiation_info",
        memory(tamper=at("server_hello", tls12_server_hello("renegotiation_info only"))),
        IllegalParameter,
        A.illegal_parameter,
        "DOWNGRD",
        "§4.1.3",
    ),
    Row(
        "TLS 1.2 ServerHello without the sentinel",
        memory(tamper=at("server_hello", fields(extensions=drop(ET.supported_versions)))),
        ProtocolVersion,
        A.protocol_version,
        "speaks only TLS 1.3",
        "§4.2.1",
    ),
    Row(
        "supported_versions selects 0x0303",
        memory(tamper=at("server_hello", fields(extensions=put(ET.supported_versions, b"\x03\x03")))),
        IllegalParameter,
        A.illegal_parameter,
        "selected version 0x0303",
        "§4.2.1",
    ),
    Row(
        "legacy_version 0x0304",
        memory(tamper=at("server_hello", fields(legacy_version=0x0304))),
        IllegalParameter,
        A.illegal_parameter,
        "legacy_version must be 0x0303",
        "§4.1.3",
    ),
    Row(
        "cipher suite not offered",
        memory(tamper=at("server_hello", fields(cipher_suite=CipherSuite.TLS_AES_128_CCM_SHA256))),
        IllegalParameter,
        A.illegal_parameter,
        "TLS_AES_128_CCM_SHA256, not offered",
        "§4.1.3",
    ),
    Row(
        "session id not echoed",
        memory(tamper=at("server_hello", fields(legacy_session_id_echo=b""))),
        IllegalParameter,
        A.illegal_parameter,
        "does not echo our legacy_session_id",
        "§4.1.3",
    ),
    Row(
        "compression method 1",
        memory(tamper=at("server_hello", fields(legacy_compression_method=1))),
        IllegalParameter,
        A.illegal_parameter,
        "legacy_compression_method 1",
        "§4.1.3",
    ),
    Row(
        "key share for a group not offered",
        memory(
            tamper=at(
                "server_hello",
                fields(extensions=put(ET.key_share, share(NamedGroup.secp256r1, b"\x04" * 65))),
            )
        ),
        IllegalParameter,
        A.illegal_parameter,
        "secp256r1, not offered",
        "§4.2.8",
    ),
    Row(
        "x25519 key share of 31 bytes",
        memory(
            tamper=at(
                "server_hello", fields(extensions=put(ET.key_share, share(NamedGroup.x25519, b"\x09" * 31)))
            )
        ),
        IllegalParameter,
        A.illegal_parameter,
        "must be 32 bytes",
        "§4.2.8.2",
    ),
    Row(
        "x25519 low-order point",
        memory(
            tamper=at(
                "server_hello", fields(extensions=put(ET.key_share, share(NamedGroup.x25519, bytes(32))))
            )
        ),
        IllegalParameter,
        A.illegal_parameter,
        "all zeros",
        "§7.4.2",
    ),
    Row(
        "P-256 point not on the curve",
        memory(
            client={"groups": [NamedGroup.secp256r1]},
            tamper=at(
                "server_hello",
                fields(extensions=put(ET.key_share, share(NamedGroup.secp256r1, b"\x04" + b"\x01" * 64))),
            ),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "not a point on the curve",
        "§4.2.8.2",
    ),
    Row(
        "P-256 compressed point",
        memory(
            client={"groups": [NamedGroup.secp256r1]},
            tamper=at(
                "server_hello",
                fields(extensions=put(ET.key_share, share(NamedGroup.secp256r1, b"\x02" + b"\x01" * 32))),
            ),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "uncompressed point",
        "§4.2.8.2",
    ),
    Row(
        "ServerHello without key_share",
        memory(tamper=at("server_hello", fields(extensions=drop(ET.key_share)))),
        MissingExtension,
        A.missing_extension,
        "no key_share",
        "§4.2.8, §9.2",
    ),
    Row(
        "pre_shared_key we did not offer",
        memory(
            server={"extra_extensions": {"server_hello": [ext.Extension(ET.pre_shared_key, b"\x00\x00")]}}
        ),
        UnsupportedExtension,
        A.unsupported_extension,
        "pre_shared_key extension we did not offer",
        "§4.2",
    ),
    Row(
        "duplicate extension in ServerHello",
        memory(tamper=at("server_hello", fields(extensions=lambda e: [*e, e[0]]))),
        IllegalParameter,
        A.illegal_parameter,
        "duplicate",
        "§4.2",
    ),
    Row(
        "handshake message spanning the key change after ServerHello",
        memory(pieces=first_flight(append_to(HT.server_hello, b"\x08\x00"))),
        UnexpectedMessage,
        A.unexpected_message,
        "in the same plaintext record",
        "§5.1",
    ),
    # --- HelloRetryRequest (§4.1.4) ---
    Row(
        "second HelloRetryRequest",
        memory(server=HRR_SERVER, client=HRR_CLIENT, tamper=at("server_hello", second_hrr)),
        UnexpectedMessage,
        A.unexpected_message,
        "second HelloRetryRequest",
        "§4.1.4",
    ),
    Row(
        "HelloRetryRequest for a group already sent",
        memory(
            server=HRR_SERVER,
            client=HRR_CLIENT,
            tamper=at(
                "hello_retry_request",
                fields(
                    extensions=put(ET.key_share, ext.KeyShareHelloRetryRequest(NamedGroup.x25519).encode())
                ),
            ),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "already sent",
        "§4.2.8",
    ),
    Row(
        "HelloRetryRequest for a group not offered",
        memory(
            server=HRR_SERVER,
            client=HRR_CLIENT,
            tamper=at(
                "hello_retry_request",
                fields(extensions=put(ET.key_share, ext.KeyShareHelloRetryRequest(NamedGroup.x448).encode())),
            ),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "x448, not offered",
        "§4.2.8",
    ),
    Row(
        "HelloRetryRequest changing nothing",
        memory(
            server=HRR_SERVER,
            client=HRR_CLIENT,
            tamper=at("hello_retry_request", fields(extensions=drop(ET.key_share))),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "would not change the ClientHello",
        "§4.1.4",
    ),
    Row(
        "ServerHello suite differs from the HelloRetryRequest's",
        memory(
            server=HRR_SERVER,
            client=HRR_CLIENT,
            tamper=at("server_hello", fields(cipher_suite=CipherSuite.TLS_AES_256_GCM_SHA384)),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "differs from the HelloRetryRequest",
        "§4.1.4",
    ),
    Row(
        "ServerHello group differs from the HelloRetryRequest's",
        memory(
            server=HRR_SERVER,
            client=HRR_CLIENT,
            tamper=at(
                "server_hello", fields(extensions=put(ET.key_share, share(NamedGroup.x25519, b"\x09" * 32)))
            ),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "x25519, not offered",
        "§4.2.8",
    ),
    # --- EncryptedExtensions (§4.3.1) ---
    Row(
        "extension not offered in EncryptedExtensions",
        memory(server={"extra_extensions": {"encrypted_extensions": [ext.Extension(ET.early_data, b"")]}}),
        UnsupportedExtension,
        A.unsupported_extension,
        "early_data extension we did not offer",
        "§4.2",
    ),
    Row(
        "key_share in EncryptedExtensions",
        memory(
            server={
                "extra_extensions": {
                    "encrypted_extensions": [ext.Extension(ET.key_share, share(29, b"\x09" * 32))]
                }
            }
        ),
        IllegalParameter,
        A.illegal_parameter,
        "not allowed in EncryptedExtensions",
        "§4.2",
    ),
    Row(
        "duplicate extension in EncryptedExtensions",
        memory(server={"extra_extensions": {"encrypted_extensions": [ext.Extension(ET.server_name, b"")]}}),
        IllegalParameter,
        A.illegal_parameter,
        "duplicate server_name",
        "§4.2",
    ),
    Row(
        "ALPN when the client offered none",
        memory(
            server={
                "extra_extensions": {
                    "encrypted_extensions": [
                        ext.Extension(ET.application_layer_protocol_negotiation, ext.ALPN([b"h2"]).encode())
                    ]
                }
            }
        ),
        UnsupportedExtension,
        A.unsupported_extension,
        "application_layer_protocol_negotiation",
        "§4.2, RFC 7301 §3.1",
    ),
    Row(
        "ALPN protocol the client did not offer",
        memory(
            client={"alpn_protocols": ["h2"]},
            server={
                "extra_extensions": {
                    "encrypted_extensions": [
                        ext.Extension(
                            ET.application_layer_protocol_negotiation, ext.ALPN([b"spdy/1"]).encode()
                        )
                    ]
                }
            },
        ),
        IllegalParameter,
        A.illegal_parameter,
        "which we did not offer",
        "RFC 7301 §3.1",
    ),
    Row(
        "ALPN answer with two protocols",
        memory(
            client={"alpn_protocols": ["h2", "http/1.1"]},
            server={
                "extra_extensions": {
                    "encrypted_extensions": [
                        ext.Extension(
                            ET.application_layer_protocol_negotiation, ext.ALPN([b"h2", b"http/1.1"]).encode()
                        )
                    ]
                }
            },
        ),
        IllegalParameter,
        A.illegal_parameter,
        "must name one protocol, not 2",
        "RFC 7301 §3.1",
    ),
    Row(
        "EncryptedExtensions with a wrong length",
        memory(tamper=at("encrypted_extensions", lambda d: b"\x08\x00\x00\x02\x00\x05")),
        DecodeError,
        A.decode_error,
        "EncryptedExtensions: needs 5 more bytes",
        "§4.3.1, §6.2",
    ),
    # --- Certificate (§4.4.2) ---
    Row(
        "empty Certificate",
        memory(
            tamper=at("certificate", fields(certificate_list=[])),
        ),
        DecodeError,
        A.decode_error,
        "empty Certificate",
        "§4.4.2.4",
    ),
    Row(
        "certificate that is not DER",
        memory(
            tamper=at("certificate", fields(certificate_list=[CertificateEntry(b"\x30\x03\x02\x01\x00")]))
        ),
        BadCertificate,
        A.bad_certificate,
        "could not parse",
        "§4.4.2.4",
    ),
    Row(
        "certificate_request_context in a server Certificate",
        memory(tamper=at("certificate", fields(certificate_request_context=b"\x01"))),
        IllegalParameter,
        A.illegal_parameter,
        "empty certificate_request_context",
        "§4.4.2",
    ),
    Row(
        "certificate for the wrong host",
        memory(server=other_leaf(dns_names=["other.example"])),
        BadCertificate,
        A.bad_certificate,
        "does not match localhost",
        "§4.4.2.4, RFC 6125 §6",
    ),
    Row(
        "expired certificate",
        memory(server=other_leaf(not_before=NOW - 3 * tp.LEAF_LIFETIME, not_after=NOW - tp.LEAF_LIFETIME)),
        CertificateExpired,
        A.certificate_expired,
        "expired on",
        "§6.2, RFC 5280 §6.1.3",
    ),
    Row(
        "certificate from an untrusted CA",
        memory(server=other_leaf(issuer=tp.make_ca("Mallory Root CA"))),
        UnknownCA,
        A.unknown_ca,
        "untrusted root 'CN=Mallory Root CA'",
        "§6.2, RFC 5280 §6",
    ),
    # --- CertificateVerify (§4.4.3) ---
    Row(
        "CertificateVerify by the wrong key",
        memory(server=lambda pki: {"private_key": ec.generate_private_key(ec.SECP256R1())}),
        DecryptError,
        A.decrypt_error,
        "does not verify",
        "§4.4.3",
    ),
    Row(
        "CertificateVerify with a flipped bit",
        memory(tamper=at("certificate_verify", fields(signature=lambda s: flip_bit(s, len(s) - 1)))),
        DecryptError,
        A.decrypt_error,
        "does not verify",
        "§4.4.3",
    ),
    Row(
        "CertificateVerify with rsa_pkcs1_sha256 (offered for certificates)",
        memory(
            kind="rsa",
            client={"signature_schemes": [*SUPPORTED_SIGNATURE_SCHEMES, SignatureScheme.rsa_pkcs1_sha256]},
            tamper=at("certificate_verify", fields(algorithm=SignatureScheme.rsa_pkcs1_sha256)),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "not allowed in a TLS 1.3 CertificateVerify",
        "§4.2.3, §4.4.3",
    ),
    Row(
        "CertificateVerify with a scheme not offered",
        memory(
            kind="rsa", tamper=at("certificate_verify", fields(algorithm=SignatureScheme.rsa_pkcs1_sha256))
        ),
        IllegalParameter,
        A.illegal_parameter,
        "rsa_pkcs1_sha256, not offered",
        "§4.4.3",
    ),
    Row(
        "CertificateVerify scheme for another curve",
        memory(tamper=at("certificate_verify", fields(algorithm=SignatureScheme.ecdsa_secp384r1_sha384))),
        IllegalParameter,
        A.illegal_parameter,
        "its key is P-256",
        "§4.2.3",
    ),
    # --- Finished (§4.4.4) ---
    Row(
        "Finished wrong",
        memory(tamper=at("finished", fields(verify_data=lambda v: flip_bit(v, 0)))),
        DecryptError,
        A.decrypt_error,
        "server Finished does not verify",
        "§4.4.4",
    ),
    Row(
        "Finished of the wrong length",
        memory(tamper=at("finished", fields(verify_data=lambda v: v[:-1]))),
        DecodeError,
        A.decode_error,
        "Finished is 31 bytes",
        "§4.4.4",
    ),
    # --- protected records (§5.2) ---
    *[
        Row(
            f"bit flipped in protected record {k} ({what})",
            memory(wire=flip_in_record(k)),
            BadRecordMac,
            A.bad_record_mac,
            f"record {k} failed authentication",
            "§5.2",
        )
        for k, what in enumerate(["EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"])
    ],
    Row(
        "bit flipped in ServerHello.random by a man in the middle",
        memory(wire=lambda data, n: flip_bit(data, 5 + 4 + 2 + 8, 2) if n == 0 else data),
        BadRecordMac,
        A.bad_record_mac,
        "record 0 failed authentication",
        "§4.4.1, §5.2",
    ),
    Row(
        "bit flipped in a protected record's header",
        memory(wire=flip_header_version),
        BadRecordMac,
        A.bad_record_mac,
        "failed authentication",
        "§5.2",
    ),
    # --- order and epochs (§4, §5) ---
    Row(
        "Finished before Certificate",
        memory(
            pieces=first_flight(
                reorder(HT.encrypted_extensions, HT.finished, HT.certificate, HT.certificate_verify)
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "got finished in state WAIT_CERT_CR",
        "§4.4.1, §6.2",
    ),
    Row(
        "Certificate missing",
        memory(pieces=first_flight(reorder(HT.encrypted_extensions, HT.certificate_verify, HT.finished))),
        UnexpectedMessage,
        A.unexpected_message,
        "got certificate_verify in state WAIT_CERT_CR",
        "§4.4.1, §6.2",
    ),
    Row(
        "unknown handshake message type 99",
        memory(
            pieces=first_flight(
                insert_after(HT.encrypted_extensions, Piece("", ContentType.handshake, b"\x63\x00\x00\x00"))
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "in state WAIT_CERT_CR",
        "§4",
    ),
    Row(
        "plaintext handshake record after the keys changed",
        memory(
            pieces=first_flight(
                lambda p: [Piece("plain", x.content_type, x.data) if x.data[:1] == b"\x08" else x for x in p]
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "plaintext handshake record after encryption started",
        "§5, §6.2",
    ),
    Row(
        "application data before Finished",
        memory(
            pieces=first_flight(
                insert_after(HT.encrypted_extensions, Piece("", ContentType.application_data, b"hi"))
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "application data before the handshake finished",
        "§2, §6.2",
    ),
    Row(
        "NewSessionTicket before Finished",
        memory(
            pieces=first_flight(insert_after(HT.encrypted_extensions, Piece("", ContentType.handshake, NST)))
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "got new_session_ticket in state WAIT_CERT_CR",
        "§4.6.1, §6.2",
    ),
    Row(
        "KeyUpdate before Finished",
        memory(
            pieces=first_flight(
                insert_after(HT.encrypted_extensions, Piece("", ContentType.handshake, KeyUpdate(0).encode()))
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "got key_update in state WAIT_CERT_CR",
        "§4.6.3",
    ),
    Row(
        "change_cipher_spec holding 0x02",
        memory(
            pieces=first_flight(
                lambda p: [Piece("plain", 20, b"\x02") if x.content_type == 20 else x for x in p]
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "single byte 0x01",
        "§5",
    ),
    Row(
        "protected change_cipher_spec",
        memory(
            pieces=first_flight(
                insert_after(HT.encrypted_extensions, Piece("", ContentType.change_cipher_spec, b"\x01"))
            )
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "protected record of type change_cipher_spec",
        "§5",
    ),
    Row(
        "change_cipher_spec after the handshake",
        memory(pieces=later_flight(lambda p: [*p, Piece("plain", ContentType.change_cipher_spec, b"\x01")])),
        UnexpectedMessage,
        A.unexpected_message,
        "change_cipher_spec after the handshake",
        "§5",
    ),
    Row(
        "inner plaintext all zeros",
        memory(pieces=first_flight(insert_after(HT.encrypted_extensions, Piece("", 0, b"")))),
        UnexpectedMessage,
        A.unexpected_message,
        "no non-zero content type",
        "§5.4",
    ),
    Row(
        "handshake message spanning the key change after Finished",
        memory(pieces=first_flight(append_to(HT.finished, b"\x04\x00"))),
        UnexpectedMessage,
        A.unexpected_message,
        "spans the key change after Finished",
        "§5.1",
    ),
    # --- after the handshake (§4.6) ---
    Row(
        "NewSessionTicket lifetime over 7 days",
        memory(tamper=at("new_session_ticket", fields(ticket_lifetime=604801))),
        IllegalParameter,
        A.illegal_parameter,
        "exceeds 7 days",
        "§4.6.1",
    ),
    Row(
        "KeyUpdate with request_update 7",
        memory(
            after_handshake=lambda s: s.key_update(False), tamper=at("key_update", lambda d: d[:-1] + b"\x07")
        ),
        IllegalParameter,
        A.illegal_parameter,
        "request_update 7",
        "§4.6.3",
    ),
    Row(
        "handshake message spanning a KeyUpdate",
        memory(
            after_handshake=lambda s: s.key_update(False), tamper=at("key_update", lambda d: d + b"\x04\x00")
        ),
        UnexpectedMessage,
        A.unexpected_message,
        "spans a KeyUpdate",
        "§5.1",
    ),
    # --- resumption, 0-RTT and client authentication (§4.2.10, §4.2.11, §4.3.2, §4.4.2, §4.6.2) ---
    Row(
        "server selects a PSK identity we did not offer",
        resuming(tamper=at("server_hello", fields(extensions=put(ET.pre_shared_key, b"\x00\x01")))),
        IllegalParameter,
        A.illegal_parameter,
        "server selected PSK identity 1; we offered 1",
        "§4.2.11",
    ),
    Row(
        "server resumes under a suite with another hash than the PSK's",
        resuming(
            server={"cipher_suites": [CipherSuite.TLS_AES_256_GCM_SHA384]},
            tamper=at("server_hello", fields(extensions=put(ET.pre_shared_key, b"\x00\x00"))),
        ),
        IllegalParameter,
        A.illegal_parameter,
        "does not have the hash of the PSK",
        "§4.2.11",
    ),
    Row(
        "server accepts early data but not our PSK",
        resuming(
            first={"max_early_data_size": 1024},
            server={
                "ticket_store": TicketStore(),  # it does not know our ticket: a full handshake
                "extra_extensions": {"encrypted_extensions": [ext.Extension(ET.early_data, b"")]},
            },
            client={"early_data": b"GET / 0-RTT"},
        ),
        IllegalParameter,
        A.illegal_parameter,
        "accepted early data without accepting our PSK",
        "§4.2.10",
    ),
    Row(
        "bad binder: server refuses our ticket with decrypt_error",
        resuming(ticket_edit=lambda t: setattr(t, "psk", bytes(len(t.psk))), server_fails=True),
        PeerAlert,
        None,
        "decrypt_error",
        "§4.2.11.2",
    ),
    Row(
        "0-RTT beyond max_early_data_size: server aborts",
        resuming(
            first={"max_early_data_size": 16},
            server={"max_early_data_size": 16},
            client={"early_data": b"x" * 100},
            ticket_edit=lambda t: setattr(t, "max_early_data_size", 1 << 20),  # ignore the limit
            server_fails=True,
        ),
        PeerAlert,
        None,
        "unexpected_message",
        "§4.2.10",
    ),
    Row(
        "CertificateRequest with no signature scheme for our key: empty Certificate, refused",
        lambda pki: resuming(
            resume=False,
            server={"client_ca": [pki.root.cert]},
            client=client_identity(pki),
            tamper=at(
                "certificate_request",
                fields(extensions=put(ET.signature_algorithms, ext.SignatureAlgorithms([0x0808]).encode())),
            ),
            server_fails=True,
        )(pki),
        PeerAlert,
        None,
        "certificate_required",
        "§4.4.2.4",
    ),
    Row(
        "post-handshake CertificateRequest without post_handshake_auth",
        memory(after_handshake=lambda s: s.key_update(False), tamper=post_handshake_request(b"\x01")),
        UnexpectedMessage,
        A.unexpected_message,
        "got certificate_request in state CONNECTED",
        "§4.6.2",
    ),
    Row(
        "post-handshake CertificateRequest with an empty context",
        lambda pki: memory(
            client={**client_identity(pki), "post_handshake_auth": True},
            after_handshake=lambda s: s.key_update(False),
            tamper=post_handshake_request(b""),
        )(pki),
        IllegalParameter,
        A.illegal_parameter,
        "needs a non-empty context",
        "§4.3.2",
    ),
    # --- below TLS: the transport (§6.1 and the driver's timeout) ---
    Row(
        "silence after the ClientHello",
        over_socket(silence),
        TLSTimeout,
        None,
        "handshake not complete within 0.5 s",
        "§6 (driver timeout)",
    ),
    Row(
        "TCP close mid-handshake",
        over_socket(hang_up),
        ConnectionLost,
        None,
        "during the handshake",
        "§6.1",
    ),
    Row(
        "truncated record header, then close",
        over_socket(half_header),
        ConnectionLost,
        None,
        "during the handshake",
        "§5.1, §6.1",
    ),
    Row(
        "TCP close after the handshake without close_notify",
        over_socket(handshake_then_hang_up, then_recv=True),
        ConnectionLost,
        None,
        "may be truncated",
        "§6.1",
    ),
    Row(
        "HTTP server on the port (alert on the wire)",
        over_socket(http_answer),
        UnexpectedMessage,
        A.unexpected_message,
        "looks like HTTP",
        "§5",
    ),
]


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(r, id=r.name, marks=[pytest.mark.xfail(strict=True, reason=r.bug)] if r.bug else [])
        for r in ROWS
    ],
)
def test_hostile_server(pki, row):
    outcome = row.run(pki)
    error = outcome.error
    assert error is not None, "the client accepted a broken server"
    assert isinstance(error, TLSError), f"{type(error).__name__} escaped: {error!r}"
    assert type(error) is row.error, f"{type(error).__name__} ({error}), expected {row.error.__name__}"
    assert row.reason in str(error), str(error)
    assert outcome.elapsed < 5 * SOCKET_TIMEOUT + 2, f"took {outcome.elapsed:.1f} s"
    if isinstance(error, PeerAlert):
        assert outcome.queued is None, "no alert may answer a fatal alert (RFC 8446 §6.2)"
    elif row.alert is not None:
        assert error.alert == row.alert
        if outcome.extra is not None:  # a socket row: the alert the server actually received
            assert outcome.extra == [alert_record(row.alert)]
        else:
            assert outcome.queued == row.alert, f"client queued {outcome.queued}, expected {row.alert.name}"
    else:
        assert outcome.queued is None


def test_table_is_big_enough():
    assert len(ROWS) >= 30
    assert len({r.name for r in ROWS}) == len(ROWS)


def test_client_reads_after_its_own_close_notify(pki):
    conv = conversation(server_config(pki), client_config(pki))
    conv.run()
    conv.client.close()
    conv.server.receive_data(conv.client.data_to_send())
    conv.server.send_application_data(b"last words")
    conv.server.close()
    events = conv.client.receive_data(conv.server.data_to_send())
    assert [type(e).__name__ for e in events] == ["ApplicationData", "ConnectionClosed"]


# --------------------------------------------------------------------------- fuzzing


@pytest.fixture(scope="module")
def genuine(pki):
    """A deterministic ClientHello and the genuine server flight answering it (Ed25519: deterministic)."""
    client_options = {
        "random": b"\x11" * 32,
        "session_id": b"\x22" * 32,
        "key_share_private_keys": {NamedGroup.x25519: b"\x33" * 32},
        "keylog": None,
    }
    server = ServerConnection(server_config(pki, "ed25519", keylog=None))
    server.receive_data(ClientConnection(client_config(pki, **client_options)).data_to_send())
    return client_options, server.data_to_send()


def _fresh_client(pki, client_options) -> ClientConnection:
    client = ClientConnection(client_config(pki, **client_options))
    client.data_to_send()
    return client


def _unauthenticated_bytes(flight: bytes) -> set[int]:
    """legacy_record_version of plaintext records: "MUST be ignored for all purposes" (§5.1)."""
    skip, offset = set(), 0
    for record in split_records(flight):
        if record.content_type != ContentType.application_data:
            skip |= {offset + 1, offset + 2}
        offset += 5 + len(record.fragment)
    return skip


def test_genuine_flight_is_accepted(pki, genuine):
    client_options, flight = genuine
    client = _fresh_client(pki, client_options)
    client.receive_data(flight)
    assert client.handshake_complete  # so a rejected flip below is the flip's doing


def test_a_bit_flipped_in_every_byte_of_the_server_flight_is_caught(pki, genuine):
    """Every byte of the flight, one bit each (the bit rotates with the position)."""
    client_options, flight = genuine
    skip = _unauthenticated_bytes(flight)
    caught = waiting = 0
    for index in range(len(flight)):
        if index in skip:
            continue
        client = _fresh_client(pki, client_options)
        try:
            client.receive_data(flip_bit(flight, index, index % 8))
        except TLSError as exc:
            assert "tlslab bug" not in str(exc), (index, exc)
            caught += 1
            continue
        assert not client.handshake_complete, f"a flipped bit at byte {index} went unnoticed"
        waiting += 1
    assert caught > 0.95 * len(flight), (caught, waiting)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_bit_flip_in_the_server_flight_is_caught(pki, genuine, data):
    client_options, flight = genuine
    skip = _unauthenticated_bytes(flight)
    index = data.draw(st.integers(0, len(flight) - 1).filter(lambda i: i not in skip), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    client = _fresh_client(pki, client_options)
    try:
        client.receive_data(flip_bit(flight, index, bit))
    except TLSError as exc:
        assert "tlslab bug" not in str(exc), exc
        return
    # Not rejected yet: a length grew, so the client waits for bytes that never come (the socket
    # driver then reports ConnectionLost or TLSTimeout). It must never have completed.
    assert not client.handshake_complete


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.binary(max_size=600)
    | st.builds(
        lambda t, b: bytes([t, 3, 3]) + len(b).to_bytes(2, "big") + b,
        st.sampled_from([20, 21, 22, 23]),
        st.binary(max_size=300),
    )
)
def test_random_bytes_after_the_client_hello(pki, junk):
    client = _fresh_client(pki, {"keylog": None})
    try:
        client.receive_data(junk)
    except TLSError as exc:
        assert "tlslab bug" not in str(exc), exc
        return
    assert not client.handshake_complete
