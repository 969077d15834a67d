"""``tlslab connect --sess-out/--sess-in/--early-data/--cert/--key/--key-update`` and
``tlslab serve --cert``: the command line over the tlslab server on 127.0.0.1.

What the server saw (``TLSLabServer.served``) and its page are the referee for what the
client printed.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from support.hostile import SERVER_NAME, server_config
from support.peers import openssl_server, require_tool
from support.serve import serve_process

from tlslab.cli import main
from tlslab.lab import pki as tp
from tlslab.lab.serve import TLSLabServer

pytestmark = pytest.mark.interop  # every test here uses sockets on 127.0.0.1


def lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        label, _, value = line.partition(" ")
        out[label] = value.strip()
    return out


def connect(pki, port: int, *extra: str) -> int:
    args = ["connect", "127.0.0.1", str(port), "--servername", SERVER_NAME, "--cafile", str(pki.cafile)]
    return main([*args, *extra])


def tlslab_server(pki, **options):
    return TLSLabServer(lambda store: server_config(pki, ticket_store=store, keylog=None, **options))


def test_sess_out_then_sess_in_with_early_data(pki, tmp_path, capsys):
    sess, early = tmp_path / "s.json", tmp_path / "early.txt"
    early.write_bytes(b"GET /from-0-rtt HTTP/1.0\r\n\r\n")
    with tlslab_server(pki, max_early_data_size=1024) as server:
        assert connect(pki, server.port, "--get", "/", "--sess-out", str(sess)) == 0
        first = lines(capsys.readouterr().out)
        assert json.loads(sess.read_text())["max_early_data_size"] == 1024
        assert connect(pki, server.port, "--sess-in", str(sess), "--early-data", str(early)) == 0
        second = lines(capsys.readouterr().out)
        time.sleep(0.2)
    assert "resumed" not in first and first["session"] == f"saved to {sess}"
    assert second["resumed"] == "yes" and second["0-rtt"] == "accepted"
    assert second["subject"].startswith("- (resumed")
    assert server.served[1].early_data == early.read_bytes()  # the server got it as 0-RTT


def test_expired_session_file_is_refused(pki, tmp_path, capsys):
    sess = tmp_path / "s.json"
    with tlslab_server(pki) as server:
        connect(pki, server.port, "--sess-out", str(sess))
        doc = json.loads(sess.read_text())
        doc["received_at"] -= doc["lifetime"] + 1
        sess.write_text(json.dumps(doc))
        capsys.readouterr()
        assert connect(pki, server.port, "--sess-in", str(sess)) == 1
    assert "expired" in capsys.readouterr().err


def test_client_certificate_and_key_update(pki, tmp_path, capsys):
    ca = tp.make_ca("CLI Client CA")
    cert, key = tp.issue(ca, common_name="cli-user", extended_key_usage=("clientAuth",)).write(
        tmp_path, "user"
    )
    with tlslab_server(pki, client_ca=[ca.cert]) as server:
        code = connect(pki, server.port, "--cert", str(cert), "--key", str(key), "--key-update", "--get", "/")
        out = lines(capsys.readouterr().out)
        time.sleep(0.2)
    assert code == 0 and out["status"] == "HTTP/1.1 200 OK" and out["update"].startswith("KeyUpdate sent")
    assert server.served[0].peer_certificates[0].subject.rfc4514_string() == "CN=cli-user"


def test_sessions_with_openssl_s_server(pki, tmp_path, capsys):
    leaf = pki.leaves["ecdsa-p256"]
    sess = tmp_path / "s.json"
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        assert connect(pki, server.port, "--get", "/", "--sess-out", str(sess)) == 0
        capsys.readouterr()
        assert connect(pki, server.port, "--get", "/", "--sess-in", str(sess)) == 0
    assert lines(capsys.readouterr().out)["resumed"] == "yes"


def test_tlslab_serve_command(pki, tmp_path):
    """``tlslab serve --cert --key --early-data`` in a child process; we stop it with SIGINT."""
    require_tool("openssl")
    leaf = pki.leaves["ecdsa-p256"]
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.cert.read_bytes() + leaf.chain.read_bytes())
    with serve_process("--cert", str(chain), "--key", str(leaf.key), "--early-data") as (first, _):
        assert first.startswith("serving  tlslab server on 127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1])
        result = subprocess.run(
            ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3", "-ign_eof"]
            + ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error"],
            input=b"GET / HTTP/1.0\r\n\r\n",
            capture_output=True,
            timeout=30,
        )
    out = result.stdout.decode(errors="replace")
    assert "tlslab server" in out and "request     GET / HTTP/1.0" in out, out
