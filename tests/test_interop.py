"""tlslab's client against real TLS 1.3 servers on loopback: openssl s_server, Python's ssl, tlslite-ng.

Each test makes the server accept only what is under test (one suite, one group, one certificate
kind), runs a GET, and checks both what the client says it negotiated and what the server saw or
sent (the s_server status page names the cipher; ``-trace`` shows a HelloRetryRequest and
KeyUpdate messages; ``-keylogfile`` has the secrets). Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from support.peers import openssl_server, python_ssl_server, read_keylog, tlslite_server

import tlslab
from tlslab.errors import TLSError
from tlslab.lab.http import read_until

pytestmark = pytest.mark.interop

SERVER_NAME = "localhost"
SUITES = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
]
# IANA name (what tlslab takes and reports) -> OpenSSL's spelling for s_server -groups.
GROUPS = {
    "x25519": "X25519",
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "x448": "X448",
}
WWW_END = b"</BODY></HTML>"


@dataclass
class Session:
    """What a client saw on one connection, captured before the socket closed."""

    version: str | None
    cipher: tuple[str, str, int] | None
    group: str | None
    alpn: str | None
    peer_certificates: list[Any]
    tickets: list[Any]
    response: bytes


def https_get(
    port: int,
    cafile: Path | str,
    *,
    server_hostname: str = SERVER_NAME,
    request: bytes = b"GET / HTTP/1.0\r\n\r\n",
    marker: bytes | None = None,
    **options: Any,
) -> Session:
    """Connect with ``tlslab.connect``, send ``request``, read the answer, and record what we saw."""
    with tlslab.connect(
        "127.0.0.1", port, server_hostname=server_hostname, cafile=str(cafile), timeout=10.0, **options
    ) as sock:
        sock.sendall(request)
        response = read_until(sock, marker)
        return Session(
            sock.version(),
            sock.cipher(),
            sock.group(),
            sock.selected_alpn_protocol(),
            list(sock.peer_certificates),
            list(sock.tickets),
            response,
        )


def trace_count(server: Any, what: str) -> int:
    """How many times s_server's ``-trace`` output shows handshake message ``what``."""
    return server.output().count(f"    {what}, Length=")


# --- suites x groups ---------------------------------------------------------------------------


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("suite", SUITES)
def test_suite_and_group(pki, tmp_path: Path, suite: str, group: str) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(
        tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, ciphersuites=suite, groups=GROUPS[group]
    ) as server:
        session = https_get(server.port, pki.cafile, cipher_suites=[suite], groups=[group], marker=WWW_END)
    assert session.version == "TLSv1.3"
    assert session.cipher[0] == suite
    assert session.group == group
    assert session.response.startswith(b"HTTP/1.0 200 ok")
    assert f"Cipher is {suite}".encode() in session.response  # what the server says it used


def test_default_offer_gets_the_servers_first_choice(pki, tmp_path: Path) -> None:
    """Without options the client offers all it has; s_server then picks its preferred suite."""
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        session = https_get(server.port, pki.cafile, marker=WWW_END)
    assert session.response.startswith(b"HTTP/1.0 200 ok")
    assert f"Cipher is {session.cipher[0]}".encode() in session.response


# --- certificates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa", "rsa-pss", "ed25519", "ed448"]
)
def test_certificate_kind(pki, tmp_path: Path, kind: str) -> None:
    leaf = pki.leaves[kind]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        session = https_get(server.port, pki.cafile, marker=WWW_END)
    assert session.response.startswith(b"HTTP/1.0 200 ok")
    assert session.peer_certificates[0].public_bytes(Encoding.DER) == leaf.issued.der()


def test_chain_with_intermediate(pki, tmp_path: Path) -> None:
    """The server sends leaf + intermediate; the client trusts only the root and builds the path."""
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        session = https_get(server.port, pki.cafile, marker=WWW_END)
    ders = [cert.public_bytes(Encoding.DER) for cert in session.peer_certificates]
    assert ders[:2] == [leaf.issued.der(), pki.intermediate.der()]
    assert ders[2:] in ([], [pki.root.der()])  # the verified path may end with the root we trust


def test_chain_without_intermediate_is_rejected(pki, tmp_path: Path) -> None:
    """Without the intermediate there is no path to the root: the handshake must fail."""
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key) as server:
        with pytest.raises(TLSError):
            https_get(server.port, pki.cafile, marker=WWW_END)


def test_wrong_server_name_is_rejected(pki, tmp_path: Path) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        with pytest.raises(TLSError):
            https_get(server.port, pki.cafile, server_hostname="example.org", marker=WWW_END)


# --- HelloRetryRequest, tickets, KeyUpdate ------------------------------------------------------


def test_hello_retry_request(pki, tmp_path: Path) -> None:
    """s_server only takes P-384; our first key share is X25519, so it must ask again (§4.1.4)."""
    leaf = pki.leaves["ecdsa-p256"]
    args = {"cert": leaf.cert, "key": leaf.key, "chain": leaf.chain, "groups": "P-384"}
    with openssl_server(tmp_path, **args, extra_args=("-trace",)) as server:
        session = https_get(server.port, pki.cafile, groups=["x25519", "secp384r1"], marker=WWW_END)
        assert trace_count(server, "ClientHello") == 2  # the second one answers the HRR
    assert session.group == "secp384r1"
    assert session.response.startswith(b"HTTP/1.0 200 ok")


def test_no_hello_retry_when_the_first_share_fits(pki, tmp_path: Path) -> None:
    """The contrast to the test above: same server, our first share is P-384, one ClientHello."""
    leaf = pki.leaves["ecdsa-p256"]
    args = {"cert": leaf.cert, "key": leaf.key, "chain": leaf.chain, "groups": "P-384"}
    with openssl_server(tmp_path, **args, extra_args=("-trace",)) as server:
        session = https_get(server.port, pki.cafile, groups=["secp384r1", "x25519"], marker=WWW_END)
        assert trace_count(server, "ClientHello") == 1
    assert session.group == "secp384r1"


@pytest.mark.parametrize("count", [0, 2, 3])
def test_session_tickets_are_recorded(pki, tmp_path: Path, count: int) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(
        tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, num_tickets=count
    ) as server:
        # Read to the end of the stream: s_server sends its tickets right after the handshake.
        session = https_get(server.port, pki.cafile)
    assert session.response.startswith(b"HTTP/1.0 200 ok")
    assert len(session.tickets) == count
    assert len({ticket.ticket for ticket in session.tickets}) == count


def _interactive_session(pki, tmp_path: Path, requested: bool) -> tuple[str, bytes]:
    """Handshake, exchange a line, make s_server send a KeyUpdate, exchange lines again."""
    leaf = pki.leaves["ecdsa-p256"]
    args = {"cert": leaf.cert, "key": leaf.key, "chain": leaf.chain}
    with openssl_server(tmp_path, **args, interactive=True, extra_args=("-trace",)) as server:
        with tlslab.connect(
            "127.0.0.1", server.port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), timeout=10.0
        ) as sock:
            sock.sendall(b"ping-before\n")
            server.wait_for_output("ping-before")  # the server finished its handshake too
            server.key_update(requested=requested)
            server.send_line("data-after-update")
            received = read_until(sock, b"data-after-update")
            sock.sendall(b"pong-after\n")
            server.wait_for_output("pong-after")
        return server.output(), received


def test_key_update_from_server(pki, tmp_path: Path) -> None:
    """Data after the server's KeyUpdate is under new keys: reading it proves we updated ours."""
    output, received = _interactive_session(pki, tmp_path, requested=False)
    assert b"data-after-update" in received
    assert output.count("    KeyUpdate, Length=") == 1  # the server's; we did not answer
    assert "update_not_requested" in output


def test_key_update_requested_by_server(pki, tmp_path: Path) -> None:
    """With update_requested the client must answer with its own KeyUpdate (RFC 8446 §4.6.3)."""
    output, received = _interactive_session(pki, tmp_path, requested=True)
    assert b"data-after-update" in received
    assert output.count("    KeyUpdate, Length=") == 2  # the server's, then ours
    assert "pong-after" in output  # read under our new sending keys


# --- key log -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"])
def test_keylog_matches_openssl(pki, tmp_path: Path, suite: str) -> None:
    """Our NSS key log lines are the very lines OpenSSL writes for the same session."""
    leaf = pki.leaves["ecdsa-p256"]
    ours = tmp_path / "tlslab.keys"
    args = {"cert": leaf.cert, "key": leaf.key, "chain": leaf.chain, "ciphersuites": suite}
    with openssl_server(tmp_path, **args, keylog=True) as server:
        https_get(server.port, pki.cafile, keylog=str(ours), marker=WWW_END)
        theirs = server.keylog_lines()
    assert len(theirs) >= 5  # handshake and application secrets at least
    assert read_keylog(ours) == theirs


# --- the other servers -------------------------------------------------------------------------


def test_stand_in() -> None:
    from tlslab.lab import StandIn

    with StandIn() as stand_in:
        session = https_get(
            stand_in.port,
            stand_in.cafile,
            server_hostname=stand_in.server_name,
            request=b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
            alpn_protocols=["http/1.1"],
        )
    assert session.alpn == "http/1.1"
    assert session.response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"<h1>Example Domain</h1>" in session.response
    assert session.peer_certificates[0].public_bytes(Encoding.DER) == stand_in.pki.leaf.der()


def test_python_ssl_server(pki, tmp_path: Path) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    body = b"<p>served by Python's ssl</p>\n"
    with python_ssl_server(
        tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, alpn=["h2", "http/1.1"], body=body
    ) as server:
        session = https_get(server.port, pki.cafile, alpn_protocols=["http/1.1"])
    assert not server.errors
    assert server.requests == [b"GET / HTTP/1.0\r\n\r\n"]
    assert session.alpn == "http/1.1"
    assert session.response.endswith(b"\r\n\r\n" + body)


def test_python_ssl_server_keylog(pki, tmp_path: Path) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    ours = tmp_path / "tlslab.keys"
    with python_ssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, keylog=True) as server:
        https_get(server.port, pki.cafile, keylog=str(ours))
    assert read_keylog(ours) == read_keylog(server.keylog_path)


def test_tlslite_server(pki, tmp_path: Path) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    with tlslite_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        session = https_get(server.port, pki.cafile)
    assert not server.errors
    assert session.version == "TLSv1.3"
    assert session.response.startswith(b"HTTP/1.1 200 OK\r\n")


# --- the harness itself, checked with Python's ssl as the client --------------------------------


def test_harness_sanity_with_python_ssl_client(pki, tmp_path: Path) -> None:
    """Python's ssl client against the same s_server setup, and its key log against OpenSSL's."""
    leaf = pki.leaves["ecdsa-p256"]
    context = ssl.create_default_context(cafile=str(pki.cafile))
    context.keylog_filename = str(tmp_path / "python.keys")
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, keylog=True) as server:
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with context.wrap_socket(raw, server_hostname=SERVER_NAME) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            response = read_until(sock, WWW_END)
            suite = sock.cipher()[0]
        theirs = server.keylog_lines()
    assert response.startswith(b"HTTP/1.0 200 ok")
    assert f"Cipher is {suite}".encode() in response
    assert read_keylog(tmp_path / "python.keys") == theirs
