"""``tlslab serve --cert``: each option and action path, driven by openssl s_client or tlslab's client.

The server is the one the command line builds (``cli.tlslab_server_from_args``), run in this
process; one test runs the command itself (``--host ::1 --echo``). What the peer printed and the
server's own record (``TLSLabServer.served``) are the referee.
"""

from __future__ import annotations

import subprocess

import pytest
from support.hostile import SERVER_NAME
from support.peers import require_tool
from support.serve import serve_process

import tlslab
from tlslab.cli import build_parser, main, tlslab_server_from_args
from tlslab.errors import PeerAlert
from tlslab.events import KeyUpdated
from tlslab.keyexchange import MLKEM_UNAVAILABLE
from tlslab.lab import pki as tp

pytestmark = pytest.mark.interop  # sockets on 127.0.0.1 and ::1


@pytest.fixture(scope="module")
def files(pki, tmp_path_factory):
    """The server's chain file, a client CA and a client certificate under it."""
    directory = tmp_path_factory.mktemp("serve")
    leaf = pki.leaves["ecdsa-p256"]
    chain = directory / "chain.pem"
    chain.write_bytes(leaf.cert.read_bytes() + leaf.chain.read_bytes())
    ca = tp.make_ca("serve Client CA")
    ca_file, _ = ca.write(directory, "client-ca")
    cert, key = tp.issue(ca, common_name="serve-user", extended_key_usage=("clientAuth",)).write(
        directory, "user"
    )
    return {"chain": str(chain), "key": str(leaf.key), "client_ca": str(ca_file), "cert": cert, "ckey": key}


def serve(files, *options: str):
    args = build_parser().parse_args(["serve", "--cert", files["chain"], "--key", files["key"], *options])
    return tlslab_server_from_args(args)


def s_client(pki, port: int, request: bytes, *extra: str) -> str:
    require_tool("openssl")
    command = ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3"]
    command += ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error", "-ign_eof"]
    result = subprocess.run([*command, *extra], input=request, capture_output=True, timeout=30)
    return result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")


def get(pki, port: int, path: str = "/", **kw) -> tuple[bytes, tlslab.TLSSocket]:
    tls = tlslab.connect(
        "127.0.0.1", port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), timeout=10, **kw
    )
    with tls:
        tls.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        return tls.recv_all(), tls


GET = b"GET / HTTP/1.0\r\n\r\n"


@pytest.mark.parametrize("suite", ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"])
def test_ciphers_and_groups_reach_ccm_and_p384(pki, files, suite):
    offered = "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_8_SHA256:TLS_AES_128_CCM_SHA256"
    with serve(files, "--ciphers", suite, "--groups", "secp384r1") as server:
        out = s_client(pki, server.port, GET, "-ciphersuites", offered, "-groups", "X25519:P-384")
    assert f"cipher      {suite}" in out and "group       secp384r1" in out, out
    assert server.served[0].handshake.hello_retry  # X25519 share first, the server wants P-384


@pytest.mark.skipif(MLKEM_UNAVAILABLE is not None, reason=f"no ML-KEM: {MLKEM_UNAVAILABLE}")
def test_groups_x25519mlkem768(pki, files):
    with serve(files, "--groups", "X25519MLKEM768") as server:
        page, tls = get(pki, server.port, groups=["X25519MLKEM768", "x25519"])
    assert tls.group() == "X25519MLKEM768" and b"group       X25519MLKEM768" in page


def test_unknown_group_is_a_usage_error(files, capsys):
    args = ["serve", "--cert", files["chain"], "--key", files["key"], "--groups", "x9999"]
    assert main(args) == 2
    assert "unknown group 'x9999'" in capsys.readouterr().err


def test_alpn_is_configurable(pki, files):
    with serve(files, "--alpn", "h2,http/1.1") as server:
        out = s_client(pki, server.port, GET, "-alpn", "h2")
    assert "ALPN protocol: h2" in out and "alpn        h2" in out, out


def test_client_auth_optional_goes_on_without_a_certificate(pki, files):
    with serve(files, "--client-ca", files["client_ca"], "--client-auth", "optional") as server:
        anonymous = s_client(pki, server.port, GET)
        shown = s_client(pki, server.port, GET, "-cert", str(files["cert"]), "-key", str(files["ckey"]))
    assert "client      (no certificate)" in anonymous, anonymous
    assert "client      CN=serve-user" in shown, shown


def test_client_auth_required_refuses_a_client_without_one(pki, files):
    with serve(files, "--client-ca", files["client_ca"], "--client-auth", "required") as server:
        with pytest.raises(PeerAlert, match="certificate_required"):
            get(pki, server.port)
        page, _ = get(pki, server.port, cert=files["cert"], key=files["ckey"])
    assert b"client      CN=serve-user" in page


def test_client_auth_needs_a_client_ca(files, capsys):
    assert main(["serve", "--cert", files["chain"], "--key", files["key"], "--client-auth", "optional"]) == 2
    assert "--client-auth needs --client-ca" in capsys.readouterr().err


def test_post_handshake_auth_from_s_client(pki, files):
    with serve(files, "--client-ca", files["client_ca"]) as server:
        out = s_client(
            pki,
            server.port,
            b"GET /post-handshake-auth HTTP/1.0\r\n\r\n",
            "-enable_pha",
            "-cert",
            str(files["cert"]),
            "-key",
            str(files["ckey"]),
        )
    assert "post-handshake auth: sent CertificateRequest" in out and "client      CN=serve-user" in out, out
    assert server.served[0].auth_answered


def test_post_handshake_auth_from_tlslab(pki, files):
    with serve(files, "--client-ca", files["client_ca"], "--client-auth", "optional") as server:
        page, _ = get(pki, server.port, "/post-handshake-auth", cert=files["cert"], key=files["ckey"])
        refused, _ = get(pki, server.port, "/post-handshake-auth")  # offered no post_handshake_auth
    assert b"client      CN=serve-user" in page and b"sent CertificateRequest" in page
    assert b"post-handshake auth not possible" in refused


def test_server_initiated_key_update(pki, files):
    with serve(files) as server:
        page, tls = get(pki, server.port, "/key-update")
    assert b"key update: sent KeyUpdate(update_requested)" in page
    updates = [e for e in tls.connection.events if isinstance(e, KeyUpdated)]
    assert ("read", 1) in [(e.direction, e.generation) for e in updates]  # the server's KeyUpdate
    assert ("write", 1) in [(e.direction, e.generation) for e in updates]  # and our answer (§4.6.3)
    assert server.served[0].error is None


def test_echo_over_ipv6_from_the_command(pki, files):
    """``tlslab serve --host ::1 --echo`` as a process: each line comes back."""
    with serve_process("--cert", files["chain"], "--key", files["key"], "--host", "::1", "--echo") as (
        first,
        _,
    ):
        assert first.startswith("serving  tlslab server on [::1]:"), first
        port = int(first.rsplit(":", 1)[1])
        with tlslab.connect(
            "::1", port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), timeout=10
        ) as tls:
            tls.sendall(b"hello\nwor")
            tls.sendall(b"ld\n")
            got = b""
            while got.count(b"\n") < 2:
                got += tls.recv(100)
    assert got == b"hello\nworld\n"
