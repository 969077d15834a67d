"""PSK resumption (RFC 8446 §2.2, §4.2.11, §4.6.1): tlslab client and server, in memory and with real peers.

Expected values come from the other side: the peer says whether it resumed (OpenSSL's
"Reused", Python's ``session_reused``, GnuTLS's "This is a resumed session"), or from the RFC
(what must not be offered, which alert a wrong binder gets).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time

import pytest
from support.hostile import SERVER_NAME, client_config, conversation, secrets, server_config
from support.peers import openssl_server, require_tool

import tlslab
from tlslab import extensions as ext
from tlslab.client import ClientConfig, ClientConnection, HandshakeComplete
from tlslab.constants import CipherSuite, ExtensionType, NamedGroup
from tlslab.errors import AlertDescription, PeerAlert
from tlslab.lab.serve import TLSLabServer
from tlslab.psk import TicketStore, load_session, save_session

# --------------------------------------------------------------------------- in memory


def full_then_resumed(pki, store=None, first=None, second=None, client=None):
    store = store or TicketStore()
    conv = conversation(server_config(pki, ticket_store=store, **(first or {})), client_config(pki))
    conv.run()
    ticket = conv.client.tickets[0]
    options = {"session": ticket, **(client or {})}
    again = conversation(
        server_config(pki, ticket_store=store, **(second or {})), client_config(pki, **options)
    )
    again.run()
    return conv, again


def complete(conv) -> HandshakeComplete:
    return next(e for e in conv.client_events if isinstance(e, HandshakeComplete))


def test_resumption_skips_the_certificate(pki):
    first, again = full_then_resumed(pki)
    assert not complete(first).session_resumed and complete(first).peer_certificates
    done = complete(again)
    assert done.session_resumed and again.server.session_resumed
    assert done.peer_certificates == []  # Appendix A.1: WAIT_EE -> WAIT_FINISHED
    assert secrets(again.client.config.keylog) == secrets(again.server.config.keylog)
    assert again.client.tickets  # a resumed connection gets fresh tickets


def test_resumption_after_hello_retry_request(pki):
    """§4.2.11.2: the binder of ClientHello2 covers message_hash(ClientHello1) and the HRR."""
    groups = {"groups": [NamedGroup.x25519, NamedGroup.secp384r1]}
    _, again = full_then_resumed(pki, second={"groups": [NamedGroup.secp384r1]}, client=groups)
    assert complete(again).hello_retry and complete(again).session_resumed


def test_unknown_ticket_means_a_full_handshake(pki):
    """A server that does not know the ticket just does a full handshake (§4.2.11): not an error."""
    conv = conversation(server_config(pki, ticket_store=TicketStore()), client_config(pki))
    conv.run()
    again = conversation(
        server_config(pki, ticket_store=TicketStore()), client_config(pki, session=conv.client.tickets[0])
    )
    again.run()
    assert not complete(again).session_resumed and complete(again).peer_certificates


def test_server_preferring_another_hash_does_a_full_handshake(pki):
    sha384 = {"cipher_suites": [CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_AES_128_GCM_SHA256]}
    _, again = full_then_resumed(
        pki, first={"cipher_suites": [CipherSuite.TLS_AES_128_GCM_SHA256]}, second=sha384
    )
    assert not complete(again).session_resumed
    assert complete(again).cipher_suite == CipherSuite.TLS_AES_256_GCM_SHA384


def test_bad_binder_is_decrypt_error(pki):
    """§4.2.11.2: a binder that does not verify aborts the handshake with decrypt_error."""
    store = TicketStore()
    conv = conversation(server_config(pki, ticket_store=store), client_config(pki))
    conv.run()
    ticket = conv.client.tickets[0]
    ticket.psk = bytes(len(ticket.psk))
    again = conversation(server_config(pki, ticket_store=store), client_config(pki, session=ticket))
    with pytest.raises(PeerAlert) as info:
        again.run()
    assert info.value.alert == AlertDescription.decrypt_error
    assert "binder" in str(again.server_error)


def _offered(ticket, **options) -> set[int]:
    client = ClientConnection(client_config_for(ticket, **options))
    client.data_to_send()
    return {e.type for e in client._client_hello.extensions}


def client_config_for(ticket, **options):
    return ClientConfig(server_name=options.pop("server_name", "localhost"), session=ticket, **options)


def test_tickets_that_must_not_be_offered(pki):
    _, again = full_then_resumed(pki)
    ticket = again.client.tickets[0]
    assert ExtensionType.pre_shared_key in _offered(ticket)
    assert ExtensionType.pre_shared_key not in _offered(ticket, server_name="other.example")  # §4.6.1
    assert ExtensionType.pre_shared_key not in _offered(
        ticket, cipher_suites=[CipherSuite.TLS_AES_256_GCM_SHA384]
    )  # §4.2.11: no suite with the PSK's hash
    ticket.received_at -= ticket.lifetime + 1
    assert ExtensionType.pre_shared_key not in _offered(ticket)  # §4.6.1: expired


def test_pre_shared_key_is_last_and_age_is_obfuscated(pki):
    _, again = full_then_resumed(pki)
    ticket = again.client.tickets[0]
    client = ClientConnection(client_config_for(ticket, ticket_age_ms=1234))
    client.data_to_send()
    last = client._client_hello.extensions[-1]
    assert last.type == ExtensionType.pre_shared_key  # §4.2.11
    identity = ext.OfferedPsks.decode(last.data).identities[0]
    assert identity.obfuscated_ticket_age == (1234 + ticket.age_add) % (1 << 32)  # §4.2.11.1


def test_session_file_round_trip(pki, tmp_path):
    _, again = full_then_resumed(pki)
    ticket = again.client.tickets[0]
    path = tmp_path / "session.json"
    save_session(ticket, path)
    assert os.stat(path).st_mode & 0o777 == 0o600  # it holds the PSK
    assert json.loads(path.read_text())["format"] == "tlslab-session/1"
    assert load_session(path) == ticket
    with pytest.raises(ValueError, match="expired"):
        load_session(path, now=ticket.received_at + ticket.lifetime + 1)


def test_key_update_both_ways_on_a_resumed_connection(pki):
    """§4.6.3, §7.2: requested and unrequested updates; the _N key log lines match on both ends."""
    _, conv = full_then_resumed(pki)
    conv.client.key_update(request_peer_update=False)
    conv.server.receive_data(conv.client.data_to_send())
    assert conv.server.data_to_send() == b""  # not requested: no answer
    conv.client.key_update(request_peer_update=True)
    conv.server.receive_data(conv.client.data_to_send())
    conv.client.receive_data(conv.server.data_to_send())  # the server's own KeyUpdate
    conv.server.key_update(request_peer_update=True)
    conv.client.receive_data(conv.server.data_to_send())
    conv.server.receive_data(conv.client.data_to_send())
    client_keys, server_keys = secrets(conv.client.config.keylog), secrets(conv.server.config.keylog)
    for label in ("CLIENT_TRAFFIC_SECRET_3", "SERVER_TRAFFIC_SECRET_2"):
        assert client_keys[label] == server_keys[label]
    assert "CLIENT_TRAFFIC_SECRET_4" not in client_keys
    conv.client.send_application_data(b"after three updates")
    (event,) = conv.server.receive_data(conv.client.data_to_send())
    assert event.data == b"after three updates"


# --------------------------------------------------------------------------- real peers


@pytest.mark.interop
def test_tlslab_client_resumes_with_openssl(pki, tmp_path):
    leaf = pki.leaves["ecdsa-p256"]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, num_tickets=2) as server:
        kw = {"server_hostname": SERVER_NAME, "cafile": str(pki.cafile)}
        with tlslab.connect("127.0.0.1", server.port, **kw) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            first_page = tls.recv_all()
            session = tls.session
        assert session is not None and not tls.session_reused
        with tlslab.connect("127.0.0.1", server.port, session=session, **kw) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            page = tls.recv_all()
            assert tls.session_reused and tls.peer_certificates == []
    assert b"New, TLSv1.3" in first_page
    assert b"Reused, TLSv1.3" in page  # s_server's status page: OpenSSL resumed our session


def _tlslab_server(pki, **options):
    def make(store):
        return server_config(pki, ticket_store=store, keylog=None, **options)

    return TLSLabServer(make)


@pytest.mark.interop
def test_python_ssl_resumes_with_the_tlslab_server(pki):
    context = ssl.create_default_context(cafile=str(pki.cafile))
    with _tlslab_server(pki) as server:
        pages, reused = [], []
        session = None
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname=SERVER_NAME, session=session) as tls:
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    page = b""
                    while chunk := tls.recv(4096):
                        page += chunk
                    pages.append(page)
                    reused.append(tls.session_reused)
                    session = tls.session
    assert reused == [False, True]
    assert b"resumed     yes" in pages[1] and b"resumed     no" in pages[0]
    assert [c.error for c in server.served] == [None, None]


def _s_client(port: int, *extra: str) -> list[str]:
    require_tool("openssl")
    return ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3", *extra]


@pytest.mark.interop
def test_openssl_s_client_sess_out_sess_in(pki, tmp_path):
    sess = tmp_path / "openssl.sess"
    common = ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error", "-ign_eof"]
    with _tlslab_server(pki) as server:
        outputs = []
        for option in ("-sess_out", "-sess_in"):
            result = subprocess.run(
                _s_client(server.port, *common, option, str(sess)),
                input=b"GET / HTTP/1.0\r\n\r\n",
                capture_output=True,
                timeout=30,
            )
            outputs.append(result.stdout.decode(errors="replace"))
            time.sleep(0.1)
    assert "New, TLSv1.3" in outputs[0] and "resumed     no" in outputs[0]
    assert "Reused, TLSv1.3" in outputs[1] and "resumed     yes" in outputs[1]


@pytest.mark.interop
def test_gnutls_cli_resume(pki):
    gnutls = require_tool("gnutls-cli")
    with _tlslab_server(pki) as server:
        args = [gnutls, "--x509cafile", str(pki.cafile), "-p", str(server.port), "127.0.0.1", "--resume"]
        args += ["--sni-hostname", SERVER_NAME, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"]
        result = subprocess.run(
            ["timeout", "20", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
    out = result.stdout.decode(errors="replace")
    assert "This is a resumed session" in out, out
    assert [c.handshake.session_resumed for c in server.served if c.handshake] == [False, True]


@pytest.mark.interop
def test_tlslab_client_and_server_over_tcp(pki):
    kw = {"server_hostname": SERVER_NAME, "cafile": str(pki.cafile)}
    with _tlslab_server(pki) as server:
        with tlslab.connect("127.0.0.1", server.port, **kw) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            tls.recv_all()
            session = tls.session
        with tlslab.connect("127.0.0.1", server.port, session=session, **kw) as tls:
            tls.key_update(True)  # rotate keys on the resumed connection (§4.6.3)
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            page = tls.recv_all()
            assert tls.session_reused
    assert b"resumed     yes" in page
