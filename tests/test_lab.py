"""The offline stand-in for example.com, checked with clients that are not ours (Python's ssl, openssl).

The stand-in is what every notebook talks to offline, so it is tested without tlslab's client:
a bug in one must not hide a bug in the other.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from support.peers import read_keylog, require_tool

from tlslab.lab import StandIn, Target, reach_example_com, standin, start_stand_in
from tlslab.lab.http import read_until, split_response


@pytest.fixture(scope="module")
def stand_in():
    with StandIn() as server:
        yield server


def client_context(cafile: str | None, **kw) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    for name, value in kw.items():
        setattr(context, name, value)
    return context


def fetch(
    server: StandIn,
    request: bytes = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    *,
    name: str = "example.com",
    context: ssl.SSLContext | None = None,
) -> tuple[ssl.SSLSocket, bytes]:
    """One request with Python's ssl client; returns the (closed) socket and the whole answer."""
    context = context or client_context(server.cafile)
    raw = socket.create_connection((server.host, server.port), timeout=5)
    with context.wrap_socket(raw, server_hostname=name) as sock:
        sock.sendall(request)
        return sock, read_until(sock)


@pytest.mark.parametrize("name", ["example.com", "www.example.com"])
def test_serves_example_domain_page(stand_in: StandIn, name: str) -> None:
    context = client_context(stand_in.cafile)
    raw = socket.create_connection((stand_in.host, stand_in.port), timeout=5)
    with context.wrap_socket(raw, server_hostname=name) as sock:
        assert sock.version() == "TLSv1.3"
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        status, headers, body = split_response(read_until(sock))
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    assert b"<title>Example Domain</title>" in body
    assert b"<h1>Example Domain</h1>" in body


def test_alpn_http11(stand_in: StandIn) -> None:
    context = client_context(stand_in.cafile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    raw = socket.create_connection((stand_in.host, stand_in.port), timeout=5)
    with context.wrap_socket(raw, server_hostname="example.com") as sock:
        assert sock.selected_alpn_protocol() == "http/1.1"


@pytest.mark.parametrize(
    ("request_line", "status", "has_body"),
    [
        (b"GET /index.html HTTP/1.1", "HTTP/1.1 200 OK", True),
        (b"GET /nope HTTP/1.1", "HTTP/1.1 404 Not Found", True),
        (b"HEAD / HTTP/1.1", "HTTP/1.1 200 OK", False),
        (b"POST / HTTP/1.1", "HTTP/1.1 405 Method Not Allowed", True),
    ],
)
def test_http_answers(stand_in: StandIn, request_line: bytes, status: str, has_body: bool) -> None:
    _, response = fetch(stand_in, request_line + b"\r\nHost: example.com\r\n\r\n")
    got_status, headers, body = split_response(response)
    assert got_status == status
    assert int(headers["content-length"]) > 0
    assert len(body) == (int(headers["content-length"]) if has_body else 0)


def test_garbage_request_gets_no_answer(stand_in: StandIn) -> None:
    _, response = fetch(stand_in, b"hello\r\n\r\n")
    assert response == b""


def test_only_tls13() -> None:
    with StandIn() as server:
        context = client_context(server.cafile, maximum_version=ssl.TLSVersion.TLSv1_2)
        with pytest.raises(ssl.SSLError):
            fetch(server, context=context)


def test_wrong_name_and_unknown_ca_fail(stand_in: StandIn) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|match"):
        fetch(stand_in, name="example.org")
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(stand_in, context=ssl.create_default_context())  # the system roots do not know our CA


def test_sends_leaf_and_intermediate(stand_in: StandIn) -> None:
    """openssl s_client sees two certificates and a path to our root (Verify return code 0)."""
    require_tool("openssl")
    cmd = [
        "openssl",
        "s_client",
        "-connect",
        f"{stand_in.host}:{stand_in.port}",
        "-servername",
        "example.com",
    ]
    cmd += ["-CAfile", stand_in.cafile, "-verify_return_error", "-showcerts", "-tls1_3"]
    done = subprocess.run(["timeout", "10", *cmd], input=b"", capture_output=True, timeout=20, check=False)
    out = done.stdout.decode()
    assert out.count("-----BEGIN CERTIFICATE-----") == 2
    assert "Verify return code: 0 (ok)" in out
    chain = x509.load_pem_x509_certificates(out.encode())
    assert chain[0] == stand_in.pki.leaf.cert and chain[1] == stand_in.pki.intermediate.cert
    assert chain[1].issuer == stand_in.ca.cert.subject


def test_certificates(stand_in: StandIn) -> None:
    leaf = stand_in.pki.leaf.cert
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["example.com", "www.example.com"]
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    assert leaf.not_valid_before_utc <= datetime.now(timezone.utc) < leaf.not_valid_after_utc
    cafile_root = x509.load_pem_x509_certificate(Path(stand_in.cafile).read_bytes())
    assert cafile_root == stand_in.ca.cert
    assert cafile_root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize(
    ("kind", "key_type"), [("ed25519", ed25519.Ed25519PublicKey), ("rsa", rsa.RSAPublicKey)]
)
def test_key_kind(kind: str, key_type: type) -> None:
    with start_stand_in(key_kind=kind) as server:
        assert isinstance(server.pki.leaf.cert.public_key(), key_type)
        _, response = fetch(server)
    assert response.startswith(b"HTTP/1.1 200 OK")


def test_keylog_matches_client_keylog(tmp_path: Path) -> None:
    server_log, client_log = tmp_path / "server.keys", tmp_path / "client.keys"
    with StandIn(keylog_filename=server_log) as server:
        context = client_context(server.cafile)
        context.keylog_filename = str(client_log)
        fetch(server, context=context)
    lines = read_keylog(server_log)
    assert {line.split()[0] for line in lines} >= {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    }
    assert lines == read_keylog(client_log)


def test_a_silent_client_does_not_block_others(stand_in: StandIn) -> None:
    """One thread per connection: a client that never speaks does not hold up the next one."""
    with socket.create_connection((stand_in.host, stand_in.port), timeout=5):
        start = time.monotonic()
        _, response = fetch(stand_in)
        assert time.monotonic() - start < standin.CONNECTION_TIMEOUT / 2
    assert response.startswith(b"HTTP/1.1 200 OK")


def test_silent_client_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standin, "CONNECTION_TIMEOUT", 0.3)
    with StandIn() as server, socket.create_connection((server.host, server.port), timeout=5) as silent:
        assert silent.recv(100) == b""  # the server gave up on us and closed


def test_concurrent_clients(stand_in: StandIn) -> None:
    results: list[bytes] = []

    def one() -> None:
        results.append(fetch(stand_in)[1])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == 8
    assert all(r.startswith(b"HTTP/1.1 200 OK") for r in results)


def test_stop_closes_port_and_removes_files() -> None:
    server = StandIn()
    cafile, port = Path(server.cafile), server.port
    assert cafile.exists() and server.pki.keyfile.exists()
    server.stop()
    assert not cafile.parent.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = StandIn(host="::1")
    except OSError as exc:
        pytest.skip(f"cannot listen on ::1 ({exc})")
    with server:
        _, response = fetch(server)
    assert response.startswith(b"HTTP/1.1 200 OK")


# --- reach_example_com: never touches the network in tests ----------------------------------------


def test_environment_says_offline() -> None:
    assert os.environ["TLSLAB_OFFLINE"] == "1"  # set by conftest.py for the whole run
    with reach_example_com() as target:
        assert target.is_stand_in
        assert (target.host, target.server_hostname) == ("127.0.0.1", "example.com")
        assert target.describe() == (
            f"the offline stand-in for example.com on 127.0.0.1:{target.port} (CA minted just now)"
        )
        _, response = fetch(target.stand_in)
    assert b"Example Domain" in response


def test_offline_false_is_the_real_site_without_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standin, "verified_handshake_failure", lambda *args: pytest.fail("must not probe"))
    target = reach_example_com(offline=False)
    assert target == Target("example.com", 443, "example.com", None)
    assert not target.is_stand_in
    assert target.describe() == "the real example.com:443"


def test_probe_decides_when_not_told(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("TLSLAB_OFFLINE")
    monkeypatch.setattr(standin, "verified_handshake_failure", lambda *args: None)
    target = reach_example_com()
    assert not target.is_stand_in
    assert target.reason == "a TLS 1.3 handshake with example.com:443 verified example.com's certificate"
    monkeypatch.setattr(standin, "verified_handshake_failure", lambda *args: "UnknownCA: no path")
    with reach_example_com() as target:
        assert target.is_stand_in
    assert (
        "no verified TLS handshake with example.com at example.com:443 (UnknownCA: no path); "
        "using the offline stand-in instead"
    ) in capsys.readouterr().err


def test_probe_failure_message() -> None:
    """The probe reports why the handshake failed (here a refused loopback port, not the internet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens there once s is closed
    failure = standin.verified_handshake_failure("127.0.0.1", port, None, 1.0)
    assert failure is not None and "refused" in failure.lower()
