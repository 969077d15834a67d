"""The offline stand-in for example.com: a real TLS 1.3 server on 127.0.0.1 with a CA minted on the spot.

The course talks to https://example.com. Without internet (a train, a classroom firewall, the test
suite) it talks to this instead: Python's ``ssl`` module (OpenSSL) as a TLS 1.3-only server on
loopback, with a certificate chain root CA -> intermediate CA -> leaf for example.com and
www.example.com, minted by ``tlslab.lab.pki`` a moment ago. It serves a page that looks like
example.com's to ``GET``. The server sends leaf + intermediate, exactly like the real site, so the
client has a chain to verify; the root goes in ``cafile`` for the client to trust.

    >>> with StandIn() as server:
    ...     sock = tlslab.connect(server.host, server.port, server_hostname=server.server_name,
    ...                           cafile=server.cafile)

``reach_example_com()`` decides which one a notebook talks to: the real example.com:443 when a
TLS 1.3 handshake with it completes and its certificate verifies, else the stand-in, saying why.
A TCP connection alone proves nothing: behind a captive portal or an intercepting proxy port 443
answers, with someone else's certificate. ``TLSLAB_REAL_SERVER=host:port`` (and
``TLSLAB_REAL_SERVER_CAFILE``) point that check, and what the notebook then talks to, at another
server: the tests use it to run the notebooks' online path against a real-server-like peer on
127.0.0.1.
``Target.connect()`` then connects to whichever it is, and ``Target.describe()`` says which:

    >>> with reach_example_com() as example, example.connect() as tls:   # doctest: +SKIP
    ...     print(example.describe(), tls.version())

The protocol core never imports this module: ``tlslab.connect("example.com")`` is the real
example.com, as ``ssl`` would reach it; the stand-in is the course's, chosen here.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tlslab.connection import TLSSocket
from tlslab.lab import http, pki
from tlslab.lab.loopback import LoopbackServer

SERVER_NAME = "example.com"
SERVER_NAMES = ("example.com", "www.example.com")
LOOPBACK = "127.0.0.1"
CONNECTION_TIMEOUT = 5.0  # seconds a client may stay silent before its connection is dropped

# A page shaped like example.com's (title, <h1>, one paragraph), saying what it really is.
PAGE = b"""<!doctype html>
<html>
<head>
    <title>Example Domain</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
</head>
<body>
<div>
    <h1>Example Domain</h1>
    <p>This domain is for use in illustrative examples in documents. You may use this
    domain in literature without prior coordination or asking for permission.</p>
    <p>(Served by the tlslab offline stand-in for example.com on your own machine.)</p>
</div>
</body>
</html>
"""


@dataclass
class MintedPKI:
    """The certificates of the stand-in: root -> intermediate -> leaf, and where they are on disk."""

    root: pki.Issued
    intermediate: pki.Issued
    leaf: pki.Issued
    cafile: Path  # the root's PEM: what a client trusts
    certfile: Path  # leaf + intermediate PEM: what the server sends
    keyfile: Path  # the leaf's private key


def mint_pki(
    directory: Path | str, *, server_names: tuple[str, ...] = SERVER_NAMES, key_kind: str = "ecdsa-p256"
) -> MintedPKI:
    """Mint a root CA, an intermediate and a leaf for ``server_names``; write their PEM to ``directory``.

    ``key_kind`` is one of ``tlslab.lab.pki.KEY_KINDS`` and chooses the leaf's key (the CAs use P-256).
    """
    directory = Path(directory)
    root = pki.make_ca("tlslab Stand-in Root CA", path_length=1)
    intermediate = pki.issue(root, common_name="tlslab Stand-in Intermediate CA", is_ca=True, path_length=0)
    leaf = pki.issue(intermediate, common_name=server_names[0], key_kind=key_kind, dns_names=server_names)
    cafile, _ = root.write(directory, "root-ca")
    certfile, keyfile = leaf.write(directory, "leaf")
    fullchain = directory / "fullchain.pem"
    fullchain.write_bytes(leaf.cert_pem() + intermediate.cert_pem())
    return MintedPKI(root, intermediate, leaf, Path(cafile), fullchain, Path(keyfile))


def http_response(path: str, method: str = "GET") -> bytes:
    """The stand-in's HTTP/1.1 answer: the page at ``/``, a 404 elsewhere, 405 for other methods."""
    if method not in ("GET", "HEAD"):
        status, body = "405 Method Not Allowed", b"method not allowed\n"
    elif path in ("/", "/index.html"):
        status, body = "200 OK", PAGE
    else:
        status, body = "404 Not Found", PAGE
    return http.response(
        body,
        status,
        content_type="text/html; charset=UTF-8",
        server="tlslab-stand-in",
        head_only=method == "HEAD",
    )


class StandIn:
    """The offline example.com: start it, point a client at ``host``, ``port`` and ``cafile``, stop it.

    Args:
        host, port: where to listen; port 0 lets the kernel pick a free one.
        key_kind: the leaf certificate's key, one of ``tlslab.lab.pki.KEY_KINDS``.
        keylog_filename: if given, OpenSSL appends the NSS key log of every connection there.
        alpn_protocols: what the server agrees to in ALPN (``http/1.1`` by default).
        nodelay: send each answer at once (TCP_NODELAY); see ``tlslab.lab.loopback``.
    """

    server_name = SERVER_NAME

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        key_kind: str = "ecdsa-p256",
        keylog_filename: str | os.PathLike[str] | None = None,
        alpn_protocols: tuple[str, ...] = ("http/1.1",),
        nodelay: bool = True,
    ) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="tlslab-stand-in-"))
        try:
            self.pki = mint_pki(self._directory, key_kind=key_kind)
            self._context = self._make_context(keylog_filename, alpn_protocols)
            # TCP_NODELAY: without it, Nagle's algorithm holds the answer behind the session tickets'
            # small segments until the client's delayed ACK: ~40 ms per request (notebook 10).
            self._server = LoopbackServer(
                self._handle, host, port, timeout=CONNECTION_TIMEOUT, nodelay=nodelay, name="stand-in"
            )
        except BaseException:
            shutil.rmtree(self._directory, ignore_errors=True)
            raise
        self.host, self.port = self._server.host, self._server.port
        self.errors = self._server.errors

    @property
    def connections(self) -> int:
        """How many connections the stand-in has accepted."""
        return self._server.connections

    @property
    def cafile(self) -> str:
        """Path of the root CA's PEM, the one certificate a client must trust."""
        return str(self.pki.cafile)

    @property
    def ca(self) -> pki.Issued:
        """The root CA (certificate and key)."""
        return self.pki.root

    def _make_context(
        self, keylog_filename: str | os.PathLike[str] | None, alpn_protocols: tuple[str, ...]
    ) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
        context.load_cert_chain(self.pki.certfile, self.pki.keyfile)
        if alpn_protocols:
            context.set_alpn_protocols(list(alpn_protocols))
        if keylog_filename is not None:
            context.keylog_filename = os.fspath(keylog_filename)
        return context

    def _handle(self, raw: socket.socket) -> None:
        """One connection: TLS handshake, read one request, answer it, close_notify, close.

        A client that hangs up or fails the handshake raises ``OSError`` (``ssl.SSLError`` is
        one), which ends up in ``errors``.
        """
        with self._context.wrap_socket(raw, server_side=True) as conn:
            method, path = http.parse_request_line(http.read_head(conn))
            if method:
                conn.sendall(http_response(path, method))
            try:
                conn.unwrap()  # close_notify: the client reads a clean end of stream
            except OSError:
                pass

    def stop(self) -> None:
        """Stop listening, wait for the accept loop, and delete the keys and certificates."""
        self._server.stop()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def describe(self) -> str:
        return f"the offline stand-in for example.com on {self.host}:{self.port} (CA minted just now)"

    def __repr__(self) -> str:
        return f"<StandIn {self.server_name} on {self.host}:{self.port}>"


def start_stand_in(**kwargs: object) -> StandIn:
    """Start a ``StandIn`` (same keywords); call ``.stop()`` when done, or use it in ``with``."""
    return StandIn(**kwargs)  # type: ignore[arg-type]


@dataclass
class Target:
    """Where "example.com" is for this session: the real one, or the stand-in on loopback."""

    host: str
    port: int
    server_hostname: str
    cafile: str | None  # None: the system's trust roots (certifi)
    stand_in: StandIn | None = None
    reason: str = ""

    @property
    def is_stand_in(self) -> bool:
        return self.stand_in is not None

    def describe(self) -> str:
        """One sentence saying which server the learner is talking to."""
        if self.stand_in is not None:
            return self.stand_in.describe()
        if self.host == self.server_hostname:
            return f"the real {self.host}:{self.port}"
        return f"{self.server_hostname} as served by {self.host}:{self.port} ({REAL_SERVER_ENV})"

    def connect(self, **options: Any) -> TLSSocket:
        """``tlslab.connect()`` to this target: its address, name to verify and trust roots.

        ``options`` are ``tlslab.connect``'s (``alpn_protocols``, ``groups``, ``timeout``, ...).
        """
        from tlslab.connection import connect  # lazily, as in verified_handshake_failure

        return connect(
            self.host, self.port, server_hostname=self.server_hostname, cafile=self.cafile, **options
        )

    def close(self) -> None:
        """Stop the stand-in, if this target is one (the real example.com needs nothing)."""
        if self.stand_in is not None:
            self.stand_in.stop()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def offline_requested() -> bool:
    """True when the environment asks for the stand-in: ``TLSLAB_OFFLINE`` set to 1/true/yes."""
    return os.environ.get("TLSLAB_OFFLINE", "").strip().lower() in ("1", "true", "yes")


REAL_SERVER_ENV = "TLSLAB_REAL_SERVER"  # host:port standing for example.com:443 (tests, mirrors)
REAL_SERVER_CAFILE_ENV = "TLSLAB_REAL_SERVER_CAFILE"  # the trust roots for it (default: the system's)


def real_server() -> tuple[str, int, str | None]:
    """``(host, port, cafile)`` of "the real example.com": example.com:443 with the system's roots,
    unless ``TLSLAB_REAL_SERVER=host:port`` (and ``TLSLAB_REAL_SERVER_CAFILE``) say otherwise.

    Raises:
        ValueError: ``TLSLAB_REAL_SERVER`` is not ``host:port`` with a port in 1..65535.
    """
    cafile = os.environ.get(REAL_SERVER_CAFILE_ENV) or None
    value = os.environ.get(REAL_SERVER_ENV, "").strip()
    if not value:
        return SERVER_NAME, 443, cafile
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{REAL_SERVER_ENV}={value!r}: expected host:port, e.g. 127.0.0.1:8443")
    return host.strip("[]"), int(port), cafile


def verified_handshake_failure(host: str, port: int, cafile: str | None, timeout: float) -> str | None:
    """None if a TLS 1.3 handshake with ``host:port`` completes and verifies example.com's
    certificate (chain to ``cafile`` or the system's roots, and the name); else why it did not.

    This, not a TCP connect, is the test: a captive portal or an intercepting proxy accepts TCP
    on port 443 too, and then presents a certificate the client must refuse.
    """
    from tlslab.connection import connect  # lazily: the stand-in itself needs no TLS client
    from tlslab.errors import TLSError

    try:
        with connect(host, port, server_hostname=SERVER_NAME, cafile=cafile, timeout=timeout):
            pass
    except (TLSError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


def reach_example_com(*, offline: bool | None = None, timeout: float = 3.0) -> Target:
    """Decide whether to talk to the real example.com or to the stand-in, and return the target.

    Args:
        offline: True for the stand-in, False for the real site; None decides: the stand-in when
            ``TLSLAB_OFFLINE=1`` is set; else the real site if a verified TLS 1.3 handshake with
            it completes within ``timeout`` seconds; else the stand-in, with the reason in
            ``Target.reason`` and on stderr. ``real_server()`` says where "the real site" is.
    """
    host, port, cafile = real_server()
    reason = ""
    if offline is None:
        if offline_requested():
            offline, reason = True, "TLSLAB_OFFLINE=1"
        else:
            failure = verified_handshake_failure(host, port, cafile, timeout)
            offline = failure is not None
            if failure is not None:
                reason = f"no verified TLS handshake with {SERVER_NAME} at {host}:{port} ({failure})"
                print(f"{reason}; using the offline stand-in instead", file=sys.stderr)
            else:
                reason = f"a TLS 1.3 handshake with {host}:{port} verified {SERVER_NAME}'s certificate"
    if not offline:
        return Target(host, port, SERVER_NAME, cafile, reason=reason)
    stand_in = StandIn()
    return Target(
        stand_in.host, stand_in.port, SERVER_NAME, stand_in.cafile, stand_in, reason or "offline=True"
    )
