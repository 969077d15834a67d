"""The socket driver: moves bytes between a TCP socket and the sans-I/O client.

Shaped like Python's ``ssl`` so that code written for it works by swapping
one name::

    import tlslab
    with tlslab.connect("example.com") as tls:
        print(tls.version(), tls.cipher())
        tls.sendall(b"GET / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n")
        print(tls.recv(4096))

The handshake has a deadline and so has every read after it (``TLSTimeout``; see ``TLSSocket``
for what ``timeout`` bounds); a peer that closes the TCP
connection without close_notify gets ``ConnectionLost`` (the data may have
been truncated by an attacker, RFC 8446 §6.1). All the protocol lives in
``client.py``; this module only does I/O.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from .certverify import load_trust_roots
from .client import (
    DEFAULT_CIPHER_SUITES,
    DEFAULT_GROUPS,
    ApplicationData,
    ClientConfig,
    ClientConnection,
    ConnectionClosed,
    Ticket,
)
from .constants import MAX_CIPHERTEXT, MAX_PLAINTEXT, ContentType, parse_names
from .errors import ConnectionLost, TLSError, TLSTimeout
from .keyexchange import ALL_GROUPS
from .keylog import KeyLog, KeyLogCallback
from .record import HEADER_LEN
from .record import RECORD_HEADER as _HEADER
from .suites import SUITES

RECV_SIZE = 1 << 17  # bytes we ask the socket for at once: several records
SEND_BATCH = 3 * MAX_PLAINTEXT  # application data sealed into one send buffer before it is written
_MAX_OVERHEAD = HEADER_LEN + 1 + 16  # per record: header, inner content type, AEAD tag


def _records_in(size: int) -> int:
    return -(-size // MAX_PLAINTEXT)


def connect(
    host: str,
    port: int = 443,
    *,
    server_hostname: str | None = None,
    cafile: str | None = None,
    alpn_protocols: Iterable[str] | None = None,
    groups: Iterable[str | int] | None = None,
    cipher_suites: Iterable[str | int] | None = None,
    keylog: str | os.PathLike[str] | KeyLogCallback | None = None,
    timeout: float = 10.0,
    session: Ticket | None = None,
    early_data: bytes | None = None,
    cert: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
    **options: Any,
) -> TLSSocket:
    """Open a TCP connection to ``host:port`` and complete a TLS 1.3 handshake.

    This is the real ``host``: offline, ``tlslab.lab.reach_example_com().connect()`` reaches the
    course's stand-in for example.com instead (and says which one it reached).

    ``session`` is a ``Ticket`` from an earlier connection's ``tls.session`` (RFC 8446 §2.2);
    ``early_data`` goes out as 0-RTT if that ticket allows it, else right after the handshake
    (``tls.early_data_accepted`` says which, §4.2.10). ``cert``/``key`` are PEM files of a
    client certificate chain (leaf first) and its private key, for servers that ask (§4.4.2);
    they also offer post-handshake authentication (§4.6.2).
    ``options`` go to ``ClientConfig`` (e.g. ``check_hostname=False``, which warns loudly).
    ``timeout`` bounds the TCP connect, then the whole handshake, then each call after it
    (``TLSSocket`` says exactly what); it raises ``TLSTimeout``.
    """
    options.update(_resumption_and_identity(session, early_data, cert, key))
    config = make_config(
        server_hostname or host, cafile, alpn_protocols, groups, cipher_suites, keylog, **options
    )
    sock = socket.create_connection((host, port), timeout=timeout)
    return _handshake(sock, config, timeout)


def wrap_socket(
    sock: socket.socket,
    *,
    server_hostname: str | None,
    cafile: str | None = None,
    alpn_protocols: Iterable[str] | None = None,
    groups: Iterable[str | int] | None = None,
    cipher_suites: Iterable[str | int] | None = None,
    keylog: str | os.PathLike[str] | KeyLogCallback | None = None,
    timeout: float | None = 10.0,
    session: Ticket | None = None,
    early_data: bytes | None = None,
    cert: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
    **options: Any,
) -> TLSSocket:
    """Run a TLS 1.3 handshake over a connected socket and return the secured connection."""
    options.update(_resumption_and_identity(session, early_data, cert, key))
    config = make_config(server_hostname, cafile, alpn_protocols, groups, cipher_suites, keylog, **options)
    return _handshake(sock, config, timeout)


def make_config(
    server_hostname: str | None,
    cafile: str | None = None,
    alpn_protocols: Iterable[str] | None = None,
    groups: Iterable[str | int] | None = None,
    cipher_suites: Iterable[str | int] | None = None,
    keylog: str | os.PathLike[str] | KeyLogCallback | None = None,
    **options: Any,
) -> ClientConfig:
    """A ``ClientConfig`` from ``ssl``-style arguments (names as IANA spells them).

    The files are checked here, before any connection: a missing or unreadable ``cafile``, one
    with no PEM certificate, or a ``keylog`` (or ``$SSLKEYLOGFILE``) that cannot be written is
    a ``ValueError`` naming the file, not a failure in the middle of the handshake.
    """
    check_files(cafile, keylog)
    return ClientConfig(
        server_name=server_hostname,
        cafile=cafile,
        alpn_protocols=tuple(alpn_protocols or ()),
        groups=parse_names(groups, ALL_GROUPS, "group") if groups else DEFAULT_GROUPS,
        cipher_suites=parse_names(cipher_suites, SUITES, "cipher suite")
        if cipher_suites
        else DEFAULT_CIPHER_SUITES,
        keylog=KeyLog(keylog) if isinstance(keylog, (str, os.PathLike)) else keylog,
        **options,
    )


def check_files(cafile: str | None, keylog: str | os.PathLike[str] | KeyLogCallback | None) -> None:
    """Raise ValueError, naming the file, unless ``cafile`` holds PEM certificates and the key logs can be written."""
    if cafile is not None:
        try:
            load_trust_roots(cafile)
        except IsADirectoryError:
            raise ValueError(f"cafile {cafile}: is a directory, not a PEM file of certificates") from None
        except (TLSError, ValueError):  # before OSError: a TLSError is one (BadCertificate: no PEM)
            raise ValueError(f"cafile {cafile}: no PEM certificate in it") from None
        except OSError as exc:
            raise ValueError(f"cafile {cafile}: {exc.strerror or exc}") from None
    path: str | os.PathLike[str] | None
    if keylog is None:  # then the client writes to $SSLKEYLOGFILE, if set (tlslab.keylog)
        what, path = "SSLKEYLOGFILE", os.environ.get("SSLKEYLOGFILE")
    else:
        what, path = "keylog", keylog if isinstance(keylog, (str, os.PathLike)) else None
    if path:
        try:  # what KeyLog does for each line: append, creating the file owner-only
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        except OSError as exc:
            raise ValueError(
                f"{what} {os.fspath(path)}: cannot write to it ({exc.strerror or exc})"
            ) from None


def _resumption_and_identity(
    session: Ticket | None,
    early_data: bytes | None,
    cert: str | os.PathLike[str] | None,
    key: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    """ClientConfig options for a ticket to resume, 0-RTT data and a client certificate."""
    options: dict[str, Any] = {}
    if session is not None:
        options["session"] = session
    if early_data is not None:
        options["early_data"] = bytes(early_data)
    if (cert is None) != (key is None):
        raise ValueError("a client certificate needs both cert= and key=")
    if cert is not None and key is not None:
        options["certificate_chain"] = x509.load_pem_x509_certificates(Path(cert).read_bytes())
        options["private_key"] = load_pem_private_key(Path(key).read_bytes(), password=None)
        options["post_handshake_auth"] = True
    return options


def _handshake(sock: socket.socket, config: ClientConfig, timeout: float | None) -> TLSSocket:
    try:
        tls = TLSSocket(sock, ClientConnection(config), timeout)
        tls.do_handshake()
    except BaseException:
        sock.close()
        raise
    return tls


class TLSSocket:
    """A TLS 1.3 connection over a socket, with the methods of ``ssl.SSLSocket`` one expects.

    What ``timeout`` (seconds; ``None``: wait forever) bounds:

    * the handshake as a whole: a peer that sends a byte now and then cannot stretch it; after
      ``timeout`` seconds it ends in ``TLSTimeout``;
    * after the handshake, each call: ``recv``/``recv_into``/``read`` return as soon as one
      record's data has arrived, and raise ``TLSTimeout`` if no whole record arrived within
      ``timeout`` seconds of the call; ``sendall`` must have written everything by then.

    Bulk data takes a fast path: records are read into one buffer and plain application_data
    records are decrypted from there straight into the caller's buffer (``recv_into``) or into
    the bytes ``recv`` returns; sealing is done in place in one send buffer. Every other record
    (KeyUpdate, NewSessionTicket, alerts, padding, anything wrong) goes through the readable
    path, ``ClientConnection.receive_data``, which decides (``Endpoint.bulk_read_keys``).
    """

    def __init__(self, sock: socket.socket, connection: ClientConnection, timeout: float | None) -> None:
        self.sock = sock
        self.connection = connection
        self.timeout = timeout
        sock.settimeout(timeout)
        self._sock_timeout = timeout  # what the socket's timeout is set to right now
        self._deadline: float | None = None  # when the current call (or the handshake) must end
        self._plaintext: deque[bytes] = deque()  # decrypted data not yet read
        self._rbuf = bytearray(RECV_SIZE)  # bytes read from the socket, not yet handled
        self._rview = memoryview(self._rbuf)
        self._rstart = self._rend = 0
        self._scratch = memoryview(bytearray(MAX_CIPHERTEXT))  # a record too big for the caller's buffer
        self._sbuf = memoryview(bytearray(SEND_BATCH + _records_in(SEND_BATCH) * _MAX_OVERHEAD))
        self._eof = False
        self._closed = False

    # ------------------------------------------------------------------ deadlines

    def _begin_call(self) -> None:
        """Start the clock: this call (or the handshake) must be done within ``timeout``."""
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if self._sock_timeout != self.timeout:
            self.sock.settimeout(self.timeout)
            self._sock_timeout = self.timeout

    def _timeout_reason(self) -> str:
        if self.connection.handshake_complete:
            return f"no complete record from the peer within {self.timeout} s"
        return f"handshake not complete within {self.timeout} s"

    def _shrink_socket_timeout(self) -> None:
        """Before a socket read: what is left of the deadline becomes the socket's timeout."""
        if self._deadline is None:
            return
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TLSTimeout(self._timeout_reason())
        if self._sock_timeout is None or self._sock_timeout - left > 0.001:
            self.sock.settimeout(left)
            self._sock_timeout = left

    # ------------------------------------------------------------------ I/O

    def _send_raw(self, data: bytes | memoryview) -> None:
        try:
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise TLSTimeout(f"could not send within {self.timeout} s") from exc
        except OSError as exc:
            raise ConnectionLost(f"connection lost while sending: {exc}") from exc

    def _flush(self) -> None:
        data = self.connection.data_to_send()
        if data:
            self._send_raw(data)

    def _fill(self) -> None:
        """One read from the socket into our buffer, behind what it already holds."""
        start, end = self._rstart, self._rend
        if start == end:
            self._rstart = self._rend = start = end = 0
        elif len(self._rbuf) - end < HEADER_LEN + MAX_CIPHERTEXT:  # make room for a whole record
            self._rview[: end - start] = self._rview[start:end]
            self._rstart, self._rend = 0, end - start
            end = self._rend
        self._shrink_socket_timeout()
        try:
            n = self.sock.recv_into(self._rview[end:])
        except TimeoutError as exc:
            raise TLSTimeout(self._timeout_reason()) from exc
        except OSError as exc:
            raise ConnectionLost(f"connection lost: {exc}") from exc
        if not n:
            if self.connection.handshake_complete:
                raise ConnectionLost(
                    "peer closed the connection without close_notify: the data may be truncated"
                )
            raise ConnectionLost("peer closed the connection during the handshake")
        self._rend = end + n

    def _read_more(self) -> None:
        """The readable path: what we hold (or one more read) fed to the client, answers sent."""
        if self._rstart == self._rend:
            self._fill()
        data = bytes(self._rview[self._rstart : self._rend])
        self._rstart = self._rend = 0
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        try:
            events = self.connection.receive_data(data)
        except TLSError:
            self._send_alert_quietly()
            raise
        self._flush()
        for event in events:
            if isinstance(event, ApplicationData):
                if event.data:  # a zero-length record carries nothing, and b"" would mean EOF
                    self._plaintext.append(event.data)
            elif isinstance(event, ConnectionClosed):
                self._eof = True

    def _send_alert_quietly(self) -> None:
        """Best effort: tell the peer which alert ended the connection (RFC 8446 §6.2)."""
        try:
            self.sock.sendall(self.connection.data_to_send())
        except OSError:
            pass
        self.sock.close()
        self._closed = True

    def do_handshake(self) -> None:
        """Run the handshake to its end, within ``timeout`` seconds in all."""
        self._begin_call()
        self._flush()
        while not self.connection.handshake_complete:
            self._read_more()

    def _receive(self, into: memoryview | None, limit: int) -> bytes | int:
        """The next application data: at most ``limit`` bytes, as bytes (``into`` is None) or
        copied into ``into`` (then the count). At most one record's worth, like ``ssl``."""
        self._begin_call()
        while True:
            if self._plaintext:
                return self._take_pending(into, limit)
            if self._eof:
                return b"" if into is None else 0
            keys = self.connection.bulk_read_keys()
            if keys is None:
                self._read_more()
                continue
            start, end = self._rstart, self._rend
            if end - start < HEADER_LEN:
                self._fill()
                continue
            content_type, version, length = _HEADER.unpack_from(self._rbuf, start)
            tag_len = keys.suite.tag_len
            if (
                content_type != ContentType.application_data
                or version >> 8 != 3
                or length > MAX_CIPHERTEXT
                or length <= tag_len
            ):
                self._read_more()  # not ours to judge: the readable path raises what is due
                continue
            record_end = start + HEADER_LEN + length
            if end < record_end:
                self._fill()
                continue
            size = length - tag_len
            direct = into is not None and size <= limit
            out = into[:size] if into is not None and direct else self._scratch[:size]
            view = self._rview
            n = keys.decrypt_application_data_into(
                view[start : start + HEADER_LEN], view[start + HEADER_LEN : record_end], out
            )
            self._rstart = record_end
            if n < 0:  # KeyUpdate, ticket, alert, padding, a bad tag: the readable path decides
                self._feed(bytes(view[start:record_end]))
            elif n and direct:
                return n
            elif n and into is None and n <= limit:
                return bytes(out[:n])
            elif n:
                self._plaintext.append(bytes(out[:n]))

    def _take_pending(self, into: memoryview | None, limit: int) -> bytes | int:
        chunk = self._plaintext[0]
        if len(chunk) <= limit:
            self._plaintext.popleft()
        else:
            self._plaintext[0], chunk = chunk[limit:], chunk[:limit]
        if into is None:
            return chunk
        into[: len(chunk)] = chunk
        return len(chunk)

    def recv(self, bufsize: int = 16384) -> bytes:
        """Up to ``bufsize`` bytes of application data; ``b""`` once the peer sent close_notify.

        Like ``ssl``, one call returns at most one record's worth.
        """
        data = self._receive(None, bufsize)
        assert isinstance(data, bytes)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """Read up to ``nbytes`` (0: the buffer's size) bytes of application data into ``buffer``,
        as ``ssl.SSLSocket.recv_into`` does; returns how many, 0 once the peer sent close_notify.

        A record that fits is decrypted straight into ``buffer``, without another copy.
        """
        view = memoryview(buffer).cast("B")
        limit = nbytes or len(view)
        if limit < 0 or limit > len(view):
            raise ValueError(f"nbytes={nbytes} but the buffer holds {len(view)} bytes")
        if limit == 0:
            return 0
        n = self._receive(view, limit)
        assert isinstance(n, int)
        return n

    def read(self, n: int = 16384) -> bytes:
        return self.recv(n)

    def recv_all(self) -> bytes:
        """Everything until the peer's close_notify."""
        chunks = []
        while chunk := self.recv(RECV_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data`` in records of at most 2^14 bytes (RFC 8446 §5.1)."""
        self._begin_call()
        view = memoryview(data).cast("B")
        keys = self.connection.bulk_write_keys()
        if keys is None or not view:  # not connected, closed, or something queued: readable path
            self.connection.send_application_data(bytes(view))
            self._flush()
            return
        overhead = HEADER_LEN + 1 + keys.suite.tag_len
        out = self._sbuf
        for batch in range(0, len(view), SEND_BATCH):
            pos = 0
            for start in range(batch, min(batch + SEND_BATCH, len(view)), MAX_PLAINTEXT):
                piece = view[start : min(start + MAX_PLAINTEXT, batch + SEND_BATCH, len(view))]
                size = len(piece) + overhead
                keys.encrypt_application_data_into(piece, out[pos : pos + size])
                pos += size
            self._send_raw(out[:pos])

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    write = send

    def wait_for_ticket(self, timeout: float = 2.0) -> Ticket | None:
        """Read until a NewSessionTicket has arrived, for at most ``timeout`` seconds (§4.6.1).

        Servers send tickets right after the handshake; data read meanwhile stays buffered.
        """
        self._begin_call()
        self._deadline = time.monotonic() + timeout
        try:
            while not self.connection.tickets and not self._eof:
                self._read_more()
        except TLSTimeout:
            pass
        return self.session

    def key_update(self, request_peer_update: bool = True) -> None:
        """Move our send keys on, and ask the peer to do the same (RFC 8446 §4.6.3)."""
        self.connection.key_update(request_peer_update)
        self._flush()

    def close(self) -> None:
        """Send close_notify and close the socket."""
        if self._closed:
            return
        self._closed = True
        try:
            self.connection.close()
            self.sock.sendall(self.connection.data_to_send())
        except (OSError, TLSError):
            pass
        finally:
            self.sock.close()

    unwrap = close

    def __enter__(self) -> TLSSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ what was negotiated

    def version(self) -> str:
        return "TLSv1.3"

    def cipher(self) -> tuple[str, str, int]:
        """``(name, "TLSv1.3", secret bits)``, like ``ssl.SSLSocket.cipher()``."""
        suite = self.connection.suite
        assert suite is not None
        return suite.name, "TLSv1.3", suite.key_len * 8

    def group(self) -> str:
        assert self.connection.group is not None
        return self.connection.group.name

    def selected_alpn_protocol(self) -> str | None:
        return self.connection.alpn_protocol

    @property
    def peer_certificates(self) -> list[x509.Certificate]:
        return self.connection.peer_certificates

    @property
    def tickets(self) -> list[Ticket]:
        """The NewSessionTickets received so far (RFC 8446 §4.6.1), oldest first."""
        return self.connection.tickets

    @property
    def session(self) -> Ticket | None:
        """The newest ticket, to pass as ``connect(..., session=...)`` later (like ``ssl``'s)."""
        return self.connection.tickets[-1] if self.connection.tickets else None

    @property
    def session_reused(self) -> bool:
        """Did the server accept our ticket (RFC 8446 §2.2)? Named as in ``ssl``."""
        return self.connection.session_resumed

    @property
    def early_data_accepted(self) -> bool | None:
        """None: no 0-RTT offered; True: the server took it; False: it was sent again (§4.2.10)."""
        return self.connection.early_data_accepted

    @property
    def server_hostname(self) -> str | None:
        return self.connection.config.server_name

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The server's certificate: DER bytes, or a dict shaped like ``ssl``'s."""
        if not self.peer_certificates:
            return None
        cert = self.peer_certificates[0]
        if binary_form:
            return cert.public_bytes(Encoding.DER)
        return certificate_dict(cert)

    def fileno(self) -> int:
        return self.sock.fileno()


def _name_tuple(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    names = {v: k for k, v in vars(NameOID).items() if isinstance(v, x509.ObjectIdentifier)}
    ssl_names = {
        "COMMON_NAME": "commonName",
        "COUNTRY_NAME": "countryName",
        "ORGANIZATION_NAME": "organizationName",
        "ORGANIZATIONAL_UNIT_NAME": "organizationalUnitName",
        "LOCALITY_NAME": "localityName",
        "STATE_OR_PROVINCE_NAME": "stateOrProvinceName",
        "EMAIL_ADDRESS": "emailAddress",
        "SERIAL_NUMBER": "serialNumber",
    }
    return tuple(
        tuple((ssl_names.get(names.get(a.oid, ""), a.oid.dotted_string), str(a.value)) for a in rdn)
        for rdn in name.rdns
    )


def _ssl_time(when: datetime) -> str:
    """OpenSSL's time format, as ``ssl`` prints it: ``'Feb  5 12:00:00 2027 GMT'``."""
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S %Y} GMT"


def _ssl_serial(serial: int) -> str:
    """The serial in hex as OpenSSL prints it: whole bytes, so an even number of digits."""
    digits = f"{serial:X}"
    return digits if len(digits) % 2 == 0 else "0" + digits


def certificate_dict(cert: x509.Certificate) -> dict[str, Any]:
    """``ssl.SSLSocket.getpeercert()``'s dict for a cryptography certificate."""
    out: dict[str, Any] = {
        "subject": _name_tuple(cert.subject),
        "issuer": _name_tuple(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": _ssl_serial(cert.serial_number),
        "notBefore": _ssl_time(cert.not_valid_before_utc),
        "notAfter": _ssl_time(cert.not_valid_after_utc),
    }
    extensions = {e.oid: e.value for e in cert.extensions}
    san = extensions.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if isinstance(san, x509.SubjectAlternativeName):
        entries = tuple(entry for name in san if (entry := _san_entry(name)) is not None)
        out["subjectAltName"] = entries
    aia = extensions.get(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if isinstance(aia, x509.AuthorityInformationAccess):
        for key, method in (
            ("OCSP", AuthorityInformationAccessOID.OCSP),
            ("caIssuers", AuthorityInformationAccessOID.CA_ISSUERS),
        ):
            uris = tuple(
                d.access_location.value
                for d in aia
                if d.access_method == method and isinstance(d.access_location, x509.UniformResourceIdentifier)
            )
            if uris:
                out[key] = uris
    crl = extensions.get(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if isinstance(crl, x509.CRLDistributionPoints):
        uris = tuple(
            n.value
            for point in crl
            for n in point.full_name or ()
            if isinstance(n, x509.UniformResourceIdentifier)
        )
        if uris:
            out["crlDistributionPoints"] = uris
    return out


def _san_entry(name: x509.GeneralName) -> tuple[str, str] | None:
    """One subjectAltName entry as ``ssl`` spells it (OpenSSL's names; IPv6 in upper-case hex groups)."""
    if isinstance(name, x509.DNSName):
        return ("DNS", name.value)
    if isinstance(name, x509.RFC822Name):
        return ("email", name.value)
    if isinstance(name, x509.UniformResourceIdentifier):
        return ("URI", name.value)
    if isinstance(name, x509.IPAddress):
        ip = name.value
        if isinstance(ip, ipaddress.IPv6Address):
            packed = ip.packed
            return (
                "IP Address",
                ":".join(f"{int.from_bytes(packed[i : i + 2], 'big'):X}" for i in range(0, 16, 2)),
            )
        return ("IP Address", str(ip))
    if isinstance(name, x509.RegisteredID):
        return ("Registered ID", name.value.dotted_string)
    return None
