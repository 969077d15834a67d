"""0-RTT (RFC 8446 §2.3, §4.2.10): RFC 8448 §4 replayed byte for byte, and the tlslab server's side.

The ticket comes from replaying RFC 8448 §3 through the client (its NewSessionTicket allows
early data); the resumed handshake's every record must then be the RFC's. Against the tlslab
server: accepted early data, a ticket without 0-RTT, a replayed ClientHello (refused: single
use, §8.1), too much early data (unexpected_message), and the keylog's CLIENT_EARLY_TRAFFIC_SECRET.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from support.hostile import SERVER_NAME, client_config, conversation, secrets, server_config, split_records
from support.nss import (
    KS,
    PSKM,
    RECORD_SIZE_LIMIT,
    RENEGOTIATION_INFO,
    SA,
    SG,
    SN,
    SV,
    nss_client,
    nss_extensions,
    nss_hook,
)
from support.peers import openssl_server, require_tool

import tlslab
from tlslab import extensions as ext
from tlslab.client import ApplicationData, ClientConnection, HandshakeComplete, NewTicket
from tlslab.constants import ContentType, ExtensionType, NamedGroup
from tlslab.course.rfc8448 import raw, trace
from tlslab.errors import AlertDescription, PeerAlert
from tlslab.events import EarlyData
from tlslab.keylog import MemoryKeyLog
from tlslab.lab.serve import TLSLabServer
from tlslab.messages import HandshakeBuffer, decode_handshake
from tlslab.psk import TicketStore
from tlslab.record import RecordProtection
from tlslab.server import ServerConnection

EARLY = ExtensionType.early_data
PADDING = ext.Extension(0x0015, bytes(87))  # RFC 7685 padding, as long as NSS made it in RFC 8448 §4


def rfc8448_ticket():
    """The ticket of RFC 8448 §3, received by our client (so its PSK is our derivation)."""
    t = trace("simple_1rtt")
    client = nss_client(t, extensions_hook=nss_extensions)
    client.data_to_send()
    client.receive_data(t["server_hello_record"] + t["server_handshake_flight_record"])
    (event,) = client.receive_data(t["new_session_ticket_record"])
    assert isinstance(event, NewTicket)
    return event.ticket


def resumed_client(keylog=None):
    t = trace("resumed_0rtt")
    ticket = rfc8448_ticket()
    offered = decode_handshake(t["client_hello"]).get(ExtensionType.pre_shared_key)
    age = (ext.OfferedPsks.decode(offered).identities[0].obfuscated_ticket_age - ticket.age_add) % (1 << 32)
    assert age == 6  # milliseconds, as NSS measured it (RFC 8448 §4)
    early = bytes.fromhex(raw()["resumed_0rtt"]["values"]["client_early_data_record"]["payload"])
    hook = nss_hook(SN, RENEGOTIATION_INFO, SG, KS, EARLY, SV, SA, PSKM, RECORD_SIZE_LIMIT, PADDING)
    return nss_client(t, keylog, extensions_hook=hook, session=ticket, early_data=early, ticket_age_ms=age), t


def test_resumed_0rtt_client_hello_binder_and_early_data_are_byte_exact():
    keylog = MemoryKeyLog()
    client, t = resumed_client(keylog)
    first = client.data_to_send()
    assert first == t["client_hello_record"] + t["client_early_data_record"]
    cr = t["client_hello"][6:38].hex()
    assert f"CLIENT_EARLY_TRAFFIC_SECRET {cr} {t['client_early_traffic_secret'].hex()}" in keylog.lines
    assert f"EARLY_EXPORTER_SECRET {cr} {t['early_exporter_master_secret'].hex()}" in keylog.lines
    assert t["client_hello"].endswith(t["binder"])


def test_resumed_0rtt_full_replay():
    keylog = MemoryKeyLog()
    client, t = resumed_client(keylog)
    client.data_to_send()
    client.receive_data(t["server_hello_record"])
    (done,) = client.receive_data(t["server_handshake_flight_record"])
    assert isinstance(done, HandshakeComplete)
    assert done.session_resumed and done.early_data_accepted
    assert done.peer_certificates == []  # the PSK authenticated the server (Appendix A.1)
    assert client.data_to_send() == t["end_of_early_data_record"] + t["client_finished_record"]
    assert client.resumption_master_secret == t["resumption_master_secret"]
    values = raw()["resumed_0rtt"]["values"]
    client.send_application_data(bytes.fromhex(values["client_application_data_record"]["payload"]))
    assert client.data_to_send() == t["client_application_data_record"]
    (data,) = client.receive_data(t["server_application_data_record"])
    assert isinstance(data, ApplicationData)
    client.close()
    assert client.data_to_send() == t["client_alert_record"]
    cr = t["client_hello"][6:38].hex()
    assert f"CLIENT_TRAFFIC_SECRET_0 {cr} {t['client_application_traffic_secret_0'].hex()}" in keylog.lines


def first_connection(pki, store: TicketStore, **server_options):
    """A full handshake with the tlslab server; the client keeps the tickets."""
    conv = conversation(server_config(pki, ticket_store=store, **server_options), client_config(pki))
    conv.run()
    assert conv.client.tickets and not conv.client.session_resumed
    return conv


def resumed(pki, store: TicketStore, ticket, early: bytes, **server_options):
    client = client_config(pki, session=ticket, early_data=early)
    conv = conversation(server_config(pki, ticket_store=store, **server_options), client)
    conv.run()
    done = next(e for e in conv.client_events if isinstance(e, HandshakeComplete))
    return conv, done


def server_data(conv, kind) -> bytes:
    return b"".join(e.data for e in conv.server.events if isinstance(e, kind))


def test_accepted_early_data_reaches_the_server_before_the_handshake_ends(pki):
    store = TicketStore()
    ticket = first_connection(pki, store, max_early_data_size=1024).client.tickets[0]
    assert ticket.max_early_data_size == 1024
    conv, done = resumed(pki, store, ticket, b"GET / 0-RTT", max_early_data_size=1024)
    assert done.session_resumed and done.early_data_accepted
    assert conv.server.early_data_accepted
    assert server_data(conv, EarlyData) == b"GET / 0-RTT"
    assert server_data(conv, ApplicationData) == b""  # not sent twice
    # Both ends derived the same client_early_traffic_secret (RFC 8446 §7.1).
    ours = secrets(conv.client.config.keylog)["CLIENT_EARLY_TRAFFIC_SECRET"]
    assert ours == secrets(conv.server.config.keylog)["CLIENT_EARLY_TRAFFIC_SECRET"]


def test_rejected_early_data_is_sent_again_after_the_handshake(pki):
    """The ticket allowed 0-RTT, but this server takes none: resent under application keys."""
    store = TicketStore()
    ticket = first_connection(pki, store, max_early_data_size=1024).client.tickets[0]
    conv, done = resumed(pki, store, ticket, b"GET /early", max_early_data_size=0)
    assert done.session_resumed and done.early_data_accepted is False
    assert server_data(conv, ApplicationData) == b"GET /early"
    assert server_data(conv, EarlyData) == b""


def test_ticket_without_early_data_sends_it_after_the_handshake(pki):
    store = TicketStore()
    ticket = first_connection(pki, store).client.tickets[0]
    assert ticket.max_early_data_size == 0
    conv, done = resumed(pki, store, ticket, b"hello")
    assert done.session_resumed and done.early_data_accepted is None  # never offered
    assert ExtensionType.early_data not in {e.type for e in conv.client._client_hello.extensions}
    assert server_data(conv, ApplicationData) == b"hello"


def test_replayed_0rtt_client_hello_is_refused(pki):
    """RFC 8446 §8: the same ClientHello and 0-RTT data, captured and sent again. The ticket
    store is single-use for early data, so the copy's early data is rejected; the handshake
    goes on (an attacker without the client's (EC)DHE secret cannot finish it)."""
    store = TicketStore()
    ticket = first_connection(pki, store, max_early_data_size=1024).client.tickets[0]
    client = ClientConnection(client_config(pki, session=ticket, early_data=b"transfer 100"))
    first_flight = client.data_to_send()

    def serve(flight: bytes) -> ServerConnection:
        server = ServerConnection(server_config(pki, ticket_store=store, max_early_data_size=1024))
        server.receive_data(flight)
        return server

    original = serve(first_flight)
    assert [e.data for e in original.events if isinstance(e, EarlyData)] == [b"transfer 100"]
    replay = serve(first_flight)
    assert not any(isinstance(e, EarlyData) for e in replay.events)
    assert replay.session_resumed and replay.early_data_accepted is False
    encrypted_extensions = _first_protected_message(replay)
    assert encrypted_extensions.get(ExtensionType.early_data) is None
    # The genuine client still completes with the original server.
    client.receive_data(original.data_to_send())
    assert client.handshake_complete and client.early_data_accepted


def _first_protected_message(server: ServerConnection):
    """The server's first encrypted handshake message, read with its own key log."""
    keys = secrets(server.config.keylog)
    protection = RecordProtection(server.suite, keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"])
    records = [
        r for r in split_records(server.data_to_send()) if r.content_type == ContentType.application_data
    ]
    _, plaintext = protection.decrypt(records[0])
    buffer = HandshakeBuffer()
    buffer.feed(plaintext)
    return decode_handshake(buffer.pop())


def test_early_data_beyond_max_early_data_size_is_unexpected_message(pki):
    """§4.2.10: a client that sends more 0-RTT than the ticket allows: unexpected_message."""
    store = TicketStore()
    ticket = first_connection(pki, store, max_early_data_size=16).client.tickets[0]
    ticket.max_early_data_size = 1 << 20  # a client that ignores the limit
    with pytest.raises(PeerAlert) as info:
        resumed(pki, store, ticket, b"x" * 100, max_early_data_size=16)
    assert info.value.alert == AlertDescription.unexpected_message


def test_hello_retry_request_rejects_early_data(pki):
    """§4.2.10: after a HelloRetryRequest the 0-RTT records are skipped, the data sent later."""
    store = TicketStore()
    ticket = first_connection(pki, store, max_early_data_size=1024).client.tickets[0]
    client = client_config(
        pki, session=ticket, early_data=b"early", groups=[NamedGroup.x25519, NamedGroup.secp384r1]
    )
    server = server_config(pki, ticket_store=store, max_early_data_size=1024, groups=[NamedGroup.secp384r1])
    conv = conversation(server, client)
    conv.run()
    done = next(e for e in conv.client_events if isinstance(e, HandshakeComplete))
    assert done.hello_retry and done.session_resumed and done.early_data_accepted is False
    assert server_data(conv, ApplicationData) == b"early"


# --------------------------------------------------------------------------- real peers


@pytest.mark.interop
def test_tlslab_client_0rtt_with_openssl(pki, tmp_path):
    """s_server -early_data prints the 0-RTT bytes it read between two markers."""
    leaf = pki.leaves["ecdsa-p256"]
    kw = {"server_hostname": SERVER_NAME, "cafile": str(pki.cafile)}
    with openssl_server(
        tmp_path,
        cert=leaf.cert,
        key=leaf.key,
        chain=leaf.chain,
        interactive=True,
        extra_args=("-early_data",),
    ) as server:
        with tlslab.connect("127.0.0.1", server.port, **kw) as tls:
            tls.sendall(b"first\n")
            server.wait_for_output("first")
            session = tls.wait_for_ticket()
        assert session is not None and session.max_early_data_size > 0
        with tlslab.connect(
            "127.0.0.1", server.port, session=session, early_data=b"zero-rtt-hello\n", **kw
        ) as tls:
            assert tls.session_reused and tls.early_data_accepted
            tls.sendall(b"second\n")
            server.wait_for_output("second")
        output = server.output()
    early = output.split("Early data received:", 1)[1].split("End of early data", 1)[0]
    assert "zero-rtt-hello" in early


@pytest.mark.interop
def test_openssl_s_client_early_data_to_the_tlslab_server(pki, tmp_path):
    require_tool("openssl")
    sess, early = tmp_path / "openssl.sess", tmp_path / "early.txt"
    early.write_bytes(b"GET /0rtt HTTP/1.0\r\n\r\n")
    common = ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error", "-ign_eof"]
    with TLSLabServer(
        lambda store: server_config(pki, ticket_store=store, keylog=None, max_early_data_size=4096)
    ) as server:
        outputs = []
        for extra, stdin in (
            (["-sess_out", str(sess)], b"GET / HTTP/1.0\r\n\r\n"),
            (["-sess_in", str(sess), "-early_data", str(early)], b""),
        ):
            args = ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_3"]
            result = subprocess.run([*args, *common, *extra], input=stdin, capture_output=True, timeout=30)
            outputs.append(result.stdout.decode(errors="replace"))
        time.sleep(0.2)
    assert "Early data was accepted" in outputs[1], outputs[1]
    assert f"early data  accepted ({len(early.read_bytes())} bytes)" in outputs[1]
    assert "request     GET /0rtt" in outputs[1]
    assert server.served[1].early_data == early.read_bytes()


@pytest.mark.interop
def test_gnutls_cli_early_data_to_the_tlslab_server(pki, tmp_path):
    gnutls = require_tool("gnutls-cli")
    early = tmp_path / "early.txt"
    early.write_bytes(b"GET /gnutls-0rtt HTTP/1.0\r\n\r\n")
    with TLSLabServer(
        lambda store: server_config(pki, ticket_store=store, keylog=None, max_early_data_size=4096)
    ) as server:
        args = [gnutls, "--x509cafile", str(pki.cafile), "-p", str(server.port), "127.0.0.1", "--resume"]
        args += ["--sni-hostname", SERVER_NAME, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"]
        args += ["--earlydata", str(early)]
        result = subprocess.run(
            ["timeout", "20", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
        time.sleep(0.2)
    assert "This is a resumed session" in result.stdout.decode(errors="replace")
    assert [c.early_data for c in server.served] == [b"", early.read_bytes()]
