"""Real TLS 1.3 peers on loopback for the interop tests: openssl s_server, Python's ssl, tlslite-ng.

Every peer listens on 127.0.0.1 only, every process runs under ``timeout`` and is killed when
its context manager exits, and every socket has a timeout, so a broken peer fails a test
instead of hanging it. The traps these helpers avoid are listed in /work/shared/notes/peers.md
(s_server serves one connection at a time, quits when its stdin closes, and only reacts to
``k``/``K``/``Q`` lines in plain interactive mode).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tlslab.lab import http
from tlslab.lab.loopback import LoopbackServer

LOOPBACK = "127.0.0.1"
PEER_LIFETIME = 120  # seconds: the `timeout` bound on any peer process
SOCKET_TIMEOUT = 10.0

Handler = Callable[[socket.socket], None]

HTTP_BODY = b"<html><body><h1>tlslab interop peer</h1></body></html>\n"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _listening_ports() -> set[int] | None:
    """Ports in LISTEN state according to /proc/net/tcp, or None where /proc is not available."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    ports = set()
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # 0A = TCP_LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_for_port(port: int, timeout: float = 10.0, process: subprocess.Popen | None = None) -> None:
    """Return once something listens on 127.0.0.1:port; raise TimeoutError after ``timeout`` seconds.

    We read /proc/net/tcp rather than connect, because a probe connection would take s_server's
    one connection slot. If ``process`` dies first, raise RuntimeError at once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"peer exited with status {process.returncode} before listening")
        ports = _listening_ports()
        if ports is None:
            try:
                socket.create_connection((LOOPBACK, port), timeout=0.2).close()
                return
            except OSError:
                pass
        elif port in ports:
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {LOOPBACK}:{port} after {timeout} s")


def require_tool(name: str) -> str:
    """The path of an external tool, or skip the test with the tool's name as the reason."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


# --- openssl s_server -------------------------------------------------------------------------


@dataclass
class OpenSSLServer:
    """A running ``openssl s_server``: where it listens, its key log, and its stdin/stdout."""

    port: int
    keylog_path: Path | None
    stdout_path: Path
    process: subprocess.Popen
    args: list[str] = field(default_factory=list)

    def send_line(self, text: str) -> None:
        """Write one line to s_server's stdin (interactive mode: ``k``, ``K``, ``q``, ``Q`` or data)."""
        if self.process.stdin is None:
            raise RuntimeError("s_server was started without interactive=True")
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def key_update(self, requested: bool = False, timeout: float = 5.0) -> None:
        """Make s_server send KeyUpdate (``K``: update_requested, ``k``: not), and wait until it has.

        s_server reads stdin in chunks and only recognises ``k``/``K`` at the start of a chunk,
        discarding the rest; a line written right behind it would be lost. So we wait for the
        ``SSL_do_handshake -> 1`` it prints after sending the KeyUpdate before writing more.
        """
        done = self.output().count("SSL_do_handshake -> ")
        self.send_line("K" if requested else "k")
        deadline = time.monotonic() + timeout
        while self.output().count("SSL_do_handshake -> ") <= done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"s_server did not send KeyUpdate; output:\n{self.output()}")
            time.sleep(0.02)

    def output(self) -> str:
        """Everything s_server wrote to stdout and stderr so far."""
        return self.stdout_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 5.0) -> None:
        """Wait until ``text`` appears in s_server's output (e.g. data it received from us)."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                raise TimeoutError(f"s_server did not print {text!r}; output:\n{self.output()}")
            time.sleep(0.02)

    def keylog_lines(self) -> set[str]:
        """The NSS key log lines s_server wrote (comments and blank lines dropped)."""
        return read_keylog(self.keylog_path)


def read_keylog(path: Path | str | None) -> set[str]:
    """The set of NSS key log lines in ``path``, without comments and blank lines."""
    if path is None or not Path(path).exists():
        return set()
    lines = Path(path).read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _kill(process: subprocess.Popen) -> None:
    """Kill the process group we started (``timeout`` and the peer under it), then reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for stream in (process.stdin,):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    process.wait(timeout=5)


def _unbuffered() -> list[str]:
    """``stdbuf -oL`` where available: s_server's printf output reaches its file line by line."""
    return ["stdbuf", "-oL"] if shutil.which("stdbuf") else []


def _s_server_args(
    port: int,
    cert: Path | str,
    key: Path | str,
    chain: Path | str | None,
    ciphersuites: str | Sequence[str] | None,
    groups: str | Sequence[str] | None,
    sigalgs: str | Sequence[str] | None,
    num_tickets: int | None,
    keylog: Path | None,
    www: bool,
    interactive: bool,
) -> list[str]:
    """The ``openssl s_server`` command line for these options."""
    args = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-tls1_3", "-cert", str(cert)]
    args += ["-key", str(key)]
    if chain is not None:
        args += ["-cert_chain", str(chain)]
    for option, value in (("-ciphersuites", ciphersuites), ("-groups", groups), ("-sigalgs", sigalgs)):
        if value is not None:
            args += [option, value if isinstance(value, str) else ":".join(value)]
    if num_tickets is not None:
        args += ["-num_tickets", str(num_tickets)]
    if keylog is not None:
        args += ["-keylogfile", str(keylog)]
    if www and not interactive:
        args.append("-www")
    return args


@contextmanager
def openssl_server(
    tmpdir: Path | str,
    *,
    cert: Path | str,
    key: Path | str,
    chain: Path | str | None = None,
    ciphersuites: str | Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    sigalgs: str | Sequence[str] | None = None,
    num_tickets: int | None = None,
    keylog: bool | Path | str | None = None,
    extra_args: Sequence[str] = (),
    www: bool = True,
    interactive: bool = False,
    cwd: Path | str | None = None,
) -> Iterator[OpenSSLServer]:
    """Run ``openssl s_server -tls1_3`` on 127.0.0.1 for the duration of the ``with`` block.

    Args:
        ciphersuites, groups, sigalgs: OpenSSL spellings (``TLS_AES_128_CCM_SHA256``, ``X25519``,
            ``P-384``, ``ecdsa_secp256r1_sha256``), a string joined by ':' or a sequence.
        keylog: True for ``tmpdir/s_server.keys``, or a path: s_server writes ``-keylogfile`` there.
        www: answer ``GET /`` with s_server's status page (``-www``); ignored when interactive.
        interactive: keep stdin as a pipe for ``send_line`` (``k``/``K`` KeyUpdate, ``Q`` quit).
        extra_args: more s_server options, e.g. ``("-WWW",)`` with ``cwd`` to serve files.
    """
    require_tool("openssl")
    tmpdir = Path(tmpdir)
    keylog_path = tmpdir / "s_server.keys" if keylog is True else (Path(keylog) if keylog else None)
    port = free_port()
    args = _s_server_args(
        port, cert, key, chain, ciphersuites, groups, sigalgs, num_tickets, keylog_path, www, interactive
    )
    args += list(extra_args)
    stdout_path = tmpdir / f"s_server-{port}.out"
    with open(stdout_path, "wb") as out:
        process = subprocess.Popen(
            ["timeout", str(PEER_LIFETIME), *_unbuffered(), *args],
            stdin=subprocess.PIPE,  # s_server quits at EOF on stdin, so keep a pipe open
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    server = OpenSSLServer(port, keylog_path, stdout_path, process, args)
    try:
        try:
            wait_for_port(port, process=process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}: {' '.join(args)}\n{server.output()}") from exc
        yield server
    finally:
        _kill(process)


# --- Python's ssl as a server -----------------------------------------------------------------


@dataclass
class ThreadServer:
    """A TLS server in a thread: its port, key log, and what each connection asked for."""

    port: int
    keylog_path: Path | None
    requests: list[bytes] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def http_response(body: bytes = HTTP_BODY, status: str = "200 OK") -> bytes:
    """A complete HTTP/1.1 answer that closes the connection."""
    return http.response(body, status, content_type="text/html")


@contextmanager
def thread_server(handle: Handler, keylog_path: Path | None) -> Iterator[ThreadServer]:
    """Listen on 127.0.0.1:0 and run ``handle(raw_socket)`` for every connection, each on its thread."""
    with LoopbackServer(handle, timeout=SOCKET_TIMEOUT, name="test-peer") as loop:
        yield ThreadServer(loop.port, keylog_path, errors=loop.errors)


@contextmanager
def python_ssl_server(
    tmpdir: Path | str,
    *,
    cert: Path | str,
    key: Path | str,
    chain: Path | str | None = None,
    keylog: bool = False,
    alpn: Sequence[str] | None = None,
    body: bytes = HTTP_BODY,
) -> Iterator[ThreadServer]:
    """Python's ``ssl`` TLS 1.3 server in a thread, answering every request with ``body``.

    ``chain`` (the intermediate's PEM) is appended to the leaf so the server sends both.
    """
    tmpdir = Path(tmpdir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
    certfile = Path(cert)
    if chain is not None:
        certfile = tmpdir / "python-ssl-fullchain.pem"
        certfile.write_bytes(Path(cert).read_bytes() + Path(chain).read_bytes())
    context.load_cert_chain(certfile, key)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    keylog_path = tmpdir / "python-ssl.keys" if keylog else None
    if keylog_path is not None:
        context.keylog_filename = str(keylog_path)

    def handle(raw: socket.socket) -> None:
        with context.wrap_socket(raw, server_side=True) as conn:
            server.requests.append(http.read_head(conn))
            conn.sendall(http_response(body))
            try:
                conn.unwrap()  # send close_notify so the client sees a clean end of stream
            except (OSError, ssl.SSLError):
                pass

    with thread_server(handle, keylog_path) as server:
        yield server


# --- tlslite-ng as a server -------------------------------------------------------------------


@contextmanager
def tlslite_server(
    tmpdir: Path | str,
    *,
    cert: Path | str,
    key: Path | str,
    chain: Path | str | None = None,
    body: bytes = HTTP_BODY,
) -> Iterator[ThreadServer]:
    """tlslite-ng's pure-Python TLS 1.3 server in a thread (a third independent implementation)."""
    try:
        from tlslite.api import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
    except ImportError:
        pytest.skip("tlslite-ng not installed")
    pem = Path(cert).read_text() + (Path(chain).read_text() if chain else "")
    cert_chain = X509CertChain()
    cert_chain.parsePemList(pem)
    private_key = parsePEMKey(Path(key).read_text(), private=True, implementations=["python"])
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 4)

    def handle(raw: socket.socket) -> None:
        conn = TLSConnection(raw)
        conn.handshakeServer(certChain=cert_chain, privateKey=private_key, settings=settings)
        server.requests.append(http.read_head(conn))
        conn.sendall(http_response(body))
        conn.close()

    with thread_server(handle, None) as server:
        yield server
