"""The online path of the course, tested offline: "the real example.com" played by a local peer.

On Colab and Binder the notebooks talk to the real example.com. That path must work with a server
that behaves like a real one, and fall back to the stand-in only when a *verified* TLS handshake
fails (a captive portal or an intercepting proxy answers TCP on port 443 too). ``RealLikePeer`` is
such a server on 127.0.0.1, built on tlslab's ``ServerConnection``:

* a public-CA-like chain: root -> intermediate -> leaf for example.com and www.example.com, the
  leaf an RSA key (CertificateVerify with RSA-PSS), the intermediate sent, the root not;
* ALPN h2 and http/1.1 (it picks h2 when offered), two NewSessionTickets per connection;
* a HelloRetryRequest for P-256 to any client that supports P-256 (tlslab's does; notebook 07's
  x25519-only client gets x25519 at once, as from a server that prefers P-256 but takes X25519);
* an HTTP/1.1 answer with ``Connection: close`` and ``Content-Length``, then either a bare TCP
  close (``ending="tcp"``, as many real servers do) or close_notify first.

``TLSLAB_REAL_SERVER`` / ``TLSLAB_REAL_SERVER_CAFILE`` point ``reach_example_com()`` at it, and
notebook 07's own cells run against it in this process (every code cell but the Colab install
cell), so the test reads the same variables the learner's cells compute.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tlslab import extensions as ext
from tlslab.constants import ExtensionType, NamedGroup
from tlslab.errors import TLSError
from tlslab.events import ApplicationData, ConnectionClosed
from tlslab.lab import http, pki, standin
from tlslab.lab.loopback import LoopbackServer
from tlslab.messages import ClientHello, decode_handshake
from tlslab.record import RecordReader
from tlslab.server import ServerConfig, ServerConnection

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07-the-handshake.ipynb"
MARKER = b"served by the real-server-like test peer"
PAGE = b"<!doctype html><html><head><title>Example Domain</title></head><body>" + MARKER + b"</body></html>\n"


@dataclass
class Seen:
    """What the peer saw on one connection."""

    stages: list[str] = field(default_factory=list)  # every message it sent, by tamper stage name
    alpn: str | None = None
    request: bytes = b""
    error: str | None = None  # a TLS error: the peer refused something
    hung_up: str | None = None  # the client closed the connection while we were still writing

    @property
    def hello_retry(self) -> bool:
        return "hello_retry_request" in self.stages

    @property
    def tickets(self) -> int:
        return self.stages.count("new_session_ticket")


class RealLikePeer:
    """A TLS 1.3 server on 127.0.0.1 that behaves like a public web server (see the module docstring)."""

    def __init__(self, directory: Path, *, ending: str = "tcp") -> None:
        self.ending = ending
        self.root = pki.make_ca("Example Public Root CA G9", path_length=1)
        self.intermediate = pki.issue(
            self.root, common_name="Example Public TLS RSA CA 2026", is_ca=True, path_length=0
        )
        self.leaf = pki.issue(
            self.intermediate,
            common_name="example.com",
            key_kind="rsa",
            dns_names=("example.com", "www.example.com"),
        )
        self.cafile = str(directory / "public-roots.pem")
        Path(self.cafile).write_bytes(self.root.cert_pem())
        self.seen: list[Seen] = []
        self._server = LoopbackServer(self._serve, timeout=5, concurrent=False, name="real-like")
        self.port = self._server.port

    def _serve(self, sock: socket.socket) -> None:
        seen = Seen()
        self.seen.append(seen)
        try:
            self._handle(sock, seen)
        except TLSError as exc:  # before OSError: a TLSError is one
            seen.error = f"{type(exc).__name__}: {exc}"
        except OSError as exc:  # the client hung up first (the probe does, right after its handshake)
            seen.hung_up = f"{type(exc).__name__}: {exc}"

    def _config(self, first_flight: bytes, seen: Seen) -> ServerConfig:
        reader = RecordReader()
        reader.feed(first_flight)
        record = reader.next_record()
        hello = decode_handshake(record.fragment) if record else None
        supported: list[int] = []
        if isinstance(hello, ClientHello) and (data := hello.get(ExtensionType.supported_groups)):
            supported = list(ext.SupportedGroups.decode(data).named_group_list)
        groups = (NamedGroup.secp256r1,) if NamedGroup.secp256r1 in supported else (NamedGroup.x25519,)

        def note(stage: str, data: bytes) -> bytes:
            seen.stages.append(stage)
            return data

        return ServerConfig(
            certificate_chain=[self.leaf.cert, self.intermediate.cert],
            private_key=self.leaf.key,
            groups=groups,
            alpn_protocols=("h2", "http/1.1"),
            num_tickets=2,
            tamper=note,
        )

    def _handle(self, sock: socket.socket, seen: Seen) -> None:
        data = sock.recv(65536)
        while data and len(data) < 5 + int.from_bytes(data[3:5], "big"):  # the whole ClientHello record
            data += sock.recv(65536)
        if not data:
            return
        conn = ServerConnection(self._config(data, seen))
        while data:
            try:
                events = conn.receive_data(data)
            finally:
                sock.sendall(conn.data_to_send())
            seen.alpn = conn.alpn_protocol
            seen.request += b"".join(e.data for e in events if isinstance(e, ApplicationData))
            if any(isinstance(e, ConnectionClosed) for e in events):
                return
            if conn.handshake_complete and http.END_OF_HEAD in seen.request:
                conn.send_application_data(http.response(PAGE, content_type="text/html"))
                if self.ending == "close_notify":
                    conn.close()
                sock.sendall(conn.data_to_send())
                sock.shutdown(socket.SHUT_WR)  # "tcp": a bare FIN, no close_notify before it
                return
            data = sock.recv(65536)

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[RealLikePeer]:
    server = RealLikePeer(tmp_path)
    yield server
    server.stop()


def point_at(monkeypatch: pytest.MonkeyPatch, port: int, cafile: str) -> None:
    """What a test does instead of the internet: the online path, aimed at a loopback peer."""
    monkeypatch.delenv("TLSLAB_OFFLINE", raising=False)
    monkeypatch.setenv(standin.REAL_SERVER_ENV, f"127.0.0.1:{port}")
    monkeypatch.setenv(standin.REAL_SERVER_CAFILE_ENV, cafile)


def run_notebook_cells(path: Path = NOTEBOOK) -> tuple[dict[str, Any], str]:
    """Every code cell of the notebook but the Colab install cell, in order, in one namespace.

    Returns the namespace and what the cells printed. Cell sources go into ``linecache`` so that
    ``inspect.getsource`` (07 counts its own lines) works as in a kernel.
    """
    namespace: dict[str, Any] = {"__name__": "__main__"}
    out = io.StringIO()
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code" or "google.colab" in cell.source:
            continue
        name = f"<{path.stem} cell {index}>"
        linecache.cache[name] = (len(cell.source), None, cell.source.splitlines(True), name)
        with contextlib.redirect_stdout(out):
            exec(compile(cell.source, name, "exec"), namespace)
    return namespace, out.getvalue()


# ------------------------------------------------------------------ reach_example_com's decision


def test_a_verified_handshake_through_a_hello_retry_picks_the_real_server(
    peer: RealLikePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, peer.port, peer.cafile)
    target = standin.reach_example_com(timeout=5)
    assert not target.is_stand_in
    assert (target.host, target.port, target.server_hostname) == ("127.0.0.1", peer.port, "example.com")
    assert target.cafile == peer.cafile
    assert "verified example.com's certificate" in target.reason
    assert target.describe() == f"example.com as served by 127.0.0.1:{peer.port} (TLSLAB_REAL_SERVER)"
    (check,) = peer.seen
    assert check.hello_retry, "tlslab's client supports P-256, so the peer asked for it"
    assert check.error is None and check.alpn is None


def test_a_certificate_from_an_unknown_ca_falls_back_and_says_why(
    peer: RealLikePeer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An intercepting proxy: port 443 answers, with a chain to a CA we do not trust."""
    other_roots = tmp_path / "other-roots.pem"
    other_roots.write_bytes(pki.make_ca("Somebody Else's Root").cert_pem())
    point_at(monkeypatch, peer.port, str(other_roots))
    with standin.reach_example_com(timeout=5) as target:
        assert target.is_stand_in
        assert target.reason.startswith(
            f"no verified TLS handshake with example.com at 127.0.0.1:{peer.port}"
        )
        assert "UnknownCA" in target.reason
    assert "using the offline stand-in instead" in capsys.readouterr().err
    assert peer.seen, "the check did reach the peer: a TCP connect would have said 'online'"


def test_nothing_listening_falls_back_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    point_at(monkeypatch, port, "")
    with standin.reach_example_com(timeout=2) as target:
        assert target.is_stand_in
        assert "refused" in target.reason.lower()


def test_offline_environment_never_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLSLAB_OFFLINE", "1")
    monkeypatch.setenv(standin.REAL_SERVER_ENV, "127.0.0.1:9")
    monkeypatch.setattr(standin, "verified_handshake_failure", lambda *a: pytest.fail("must not probe"))
    with standin.reach_example_com() as target:
        assert target.is_stand_in and target.reason == "TLSLAB_OFFLINE=1"


@pytest.mark.parametrize("value", ["example.com", "127.0.0.1:0", "127.0.0.1:70000", ":443", "host:port"])
def test_a_bad_real_server_setting_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(standin.REAL_SERVER_ENV, value)
    with pytest.raises(ValueError, match="TLSLAB_REAL_SERVER"):
        standin.real_server()


# ------------------------------------------------------------------ notebook 07, cell by cell


@pytest.mark.parametrize("ending", ["tcp", "close_notify"])
def test_notebook_07_online_path_against_a_real_like_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    peer = RealLikePeer(tmp_path, ending=ending)
    try:
        point_at(monkeypatch, peer.port, peer.cafile)
        ns, printed = run_notebook_cells()
    finally:
        peer.stop()
    target, c = ns["target"], ns["c"]
    assert not target.is_stand_in, target.reason
    # what the learner's client did, from the notebook's own variables
    assert c.leaf.issuer.rfc4514_string() == "CN=Example Public TLS RSA CA 2026"
    assert c.alpn == "http/1.1" and c.group == b"\x00\x1d" and c.suite == b"\x13\x01"
    assert MARKER in ns["page"], "the page came from the peer, not the stand-in"
    assert ns["ending"] == (
        "close_notify" if ending == "close_notify" else "the server closed TCP without close_notify"
    )
    assert ns["complete"], "Content-Length vouches for the page"
    assert (
        f"ended by {ns['ending']} | Content-Length {len(PAGE)} | page {len(PAGE)} bytes | complete" in printed
    )
    # what the peer saw: the check (HRR for tlslab's client), then the notebook's client
    check, learner = peer.seen[:2]
    assert check.hello_retry and check.error is None
    assert not learner.hello_retry and learner.alpn == "http/1.1" and learner.tickets == 2
    assert learner.request.startswith(b"GET / HTTP/1.1\r\nHost: example.com\r\n")
    assert learner.error is None


def test_notebook_07_falls_back_to_the_stand_in_when_the_handshake_does_not_verify(
    peer: RealLikePeer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other_roots = tmp_path / "other-roots.pem"
    other_roots.write_bytes(pki.make_ca("Captive Portal CA").cert_pem())
    point_at(monkeypatch, peer.port, str(other_roots))
    ns, printed = run_notebook_cells()
    assert ns["target"].is_stand_in
    assert "because: no verified TLS handshake with example.com" in printed
    assert ns["c"].leaf.issuer.rfc4514_string() == "CN=tlslab Stand-in Intermediate CA"
    assert MARKER not in ns["page"] and ns["ending"] == "close_notify"
