"""The server defects of issue 13, found by an outside conformance suite and a Go peer.

Each test failed before its fix (RFC 8446 §5.1, §5.2, §5.4, §4.2.10, §4.1.2, Appendix D.5,
Appendix A.1/A.2). Everything runs in memory except the s_client case of the large chain.
"""

from __future__ import annotations

import subprocess

import pytest
from support.hostile import SERVER_NAME, client_config, secrets, server_config, split_records
from support.peers import require_tool

from tlslab.client import ClientConnection
from tlslab.constants import ContentType, NamedGroup
from tlslab.errors import AlertDescription as A
from tlslab.errors import AlertError, PeerAlert, TLSError
from tlslab.lab import pki as tp
from tlslab.lab.serve import TLSLabServer
from tlslab.psk import TicketStore
from tlslab.record import Record, RecordProtection, plaintext_record
from tlslab.server import ServerConnection

# --------------------------------------------------------------------------- helpers


def hello(client: ClientConnection) -> bytes:
    """The ClientHello message (not the record) the client wants to send first."""
    (record, *rest) = split_records(client.data_to_send())
    assert record.content_type == ContentType.handshake
    return record.fragment


def alert_of(server: ServerConnection, data: bytes) -> A:
    with pytest.raises(AlertError) as info:
        server.receive_data(data)
    return info.value.alert


def to_server_flight(pki, client_options=None, **server_options):
    """Client and server after the server's first flight; the client's answer not yet sent."""
    client = ClientConnection(client_config(pki, **(client_options or {})))
    server = ServerConnection(server_config(pki, **server_options))
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    return client, server


def client_handshake_protection(server: ServerConnection) -> RecordProtection:
    """The client's handshake write keys, from the server's key log (what the client seals with)."""
    secret = secrets(server.config.keylog)["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    return RecordProtection(server.suite, secret)


# --------------------------------------------------------------------------- 1. §5.1 large messages


@pytest.fixture(scope="module")
def big_leaf(pki):
    """A leaf of about 24 KB (1000 DNS names): its Certificate message needs two records."""
    names = (SERVER_NAME, *(f"name-{i:04d}.tlslab.test" for i in range(1000)))
    return tp.issue(pki.intermediate, common_name=SERVER_NAME, dns_names=names, ip_addresses=("127.0.0.1",))


def test_certificate_larger_than_a_record_is_split(pki, big_leaf):
    client, server = to_server_flight(
        pki, certificate_chain=[big_leaf.cert, pki.intermediate.cert], private_key=big_leaf.key
    )
    server.receive_data(client.data_to_send())
    assert client.handshake_complete and server.handshake_complete
    assert client.peer_certificates[0] == big_leaf.cert


def test_certificate_request_with_many_cas_is_split(pki):
    cas = [tp.make_ca(f"tlslab CA number {i:03d} with a long enough name to add up") for i in range(400)]
    user = tp.issue(cas[-1], common_name="user", extended_key_usage=("clientAuth",))
    client_options = {"certificate_chain": [user.cert], "private_key": user.key}
    client, server = to_server_flight(pki, client_options, client_ca=[ca.cert for ca in cas])
    server.receive_data(client.data_to_send())
    assert server.handshake_complete and server.peer_certificates[0] == user.cert


class LongTickets(TicketStore):
    """Tickets of 20 000 bytes (a ticket may be up to 2^16-1, §4.6.1): a NewSessionTicket
    that needs two records."""

    def issue(self, state):
        ticket = super().issue(state)
        long = ticket + bytes(20_000 - len(ticket))
        self._sessions[long] = self._sessions.pop(ticket)
        return long


def test_new_session_ticket_larger_than_a_record_is_split(pki):
    store = LongTickets()
    client, server = to_server_flight(pki, ticket_store=store, num_tickets=2)
    server.receive_data(client.data_to_send())
    records = split_records(server.data_to_send())
    assert all(len(r.fragment) <= 16384 + 256 for r in records)  # §5.2: TLSCiphertext.length
    client.receive_data(b"".join(r.encode() for r in records))
    assert [len(t.ticket) for t in client.tickets] == [20_000, 20_000]

    # and the ticket resumes: the client's ClientHello, now over 16 KB, is split too
    again = ClientConnection(client_config(pki, session=client.tickets[0]))
    resumed = ServerConnection(server_config(pki, ticket_store=store))
    resumed.receive_data(again.data_to_send())
    again.receive_data(resumed.data_to_send())
    resumed.receive_data(again.data_to_send())
    assert again.handshake_complete and again.session_resumed and resumed.handshake_complete


@pytest.mark.interop
def test_large_chain_with_openssl_s_client(pki, big_leaf, tmp_path):
    require_tool("openssl")

    def config(store: TicketStore):
        return server_config(
            pki,
            certificate_chain=[big_leaf.cert, pki.intermediate.cert],
            private_key=big_leaf.key,
            keylog=None,
        )

    with TLSLabServer(config) as server:
        result = subprocess.run(
            ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_3"]
            + ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error", "-ign_eof"],
            input=b"GET / HTTP/1.0\r\n\r\n",
            capture_output=True,
            timeout=30,
        )
    out = result.stdout.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in out and "tlslab server" in out, out + result.stderr.decode()


# --------------------------------------------------------------------------- 2. §5.4 empty alerts


@pytest.mark.parametrize("padding", [0, 5])
def test_empty_protected_alert_under_handshake_keys_is_unexpected_message(pki, padding):
    client, server = to_server_flight(pki)
    record = client_handshake_protection(server).encrypt(ContentType.alert, b"", padding)
    assert alert_of(server, record) == A.unexpected_message


@pytest.mark.parametrize("padding", [0, 5])
def test_empty_protected_alert_under_application_keys_is_unexpected_message(pki, padding):
    client, server = to_server_flight(pki)
    server.receive_data(client.data_to_send())
    assert alert_of(server, client._write.encrypt(ContentType.alert, b"", padding)) == A.unexpected_message


# --------------------------------------------------------------------------- 3. §4.2.10 rejected 0-RTT


def _ticket(pki, store: TicketStore):
    client = ClientConnection(client_config(pki))
    server = ServerConnection(server_config(pki, ticket_store=store, max_early_data_size=1024))
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    assert client.tickets
    return client.tickets[-1]


GARBAGE = Record(ContentType.application_data, 0x0303, bytes(range(60))).encode()


def test_undecryptable_record_after_client_hello2_is_bad_record_mac(pki):
    store = TicketStore()
    ticket = _ticket(pki, store)
    client = ClientConnection(client_config(pki, session=ticket, early_data=b"GET /0rtt"))
    server = ServerConnection(
        server_config(pki, ticket_store=store, max_early_data_size=1024, groups=[NamedGroup.secp384r1])
    )
    server.receive_data(client.data_to_send())  # ClientHello1 + 0-RTT: HelloRetryRequest
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())  # ClientHello2: the 0-RTT is over (§4.2.10)
    assert server.suite is not None and not server.handshake_complete
    assert alert_of(server, GARBAGE) == A.bad_record_mac


def test_undecryptable_record_inside_the_second_flight_is_bad_record_mac(pki):
    """Rejected 0-RTT without HRR: skipping ends at the first record that deprotects (§4.2.10)."""
    store = TicketStore()
    ticket = _ticket(pki, store)
    client = ClientConnection(client_config(pki, session=ticket, early_data=b"GET /0rtt"))
    server = ServerConnection(server_config(pki, ticket_store=store, max_early_data_size=0))
    server.receive_data(client.data_to_send())  # ClientHello + 0-RTT, which the server skips
    assert server.early_data_accepted is False
    client.receive_data(server.data_to_send())
    client.data_to_send()
    # The client's Finished in two records, an undecryptable one between them.
    finished = client._transcript[-(4 + server.suite.hash_len) :]
    keys = client_handshake_protection(server)
    first = keys.encrypt(ContentType.handshake, finished[:10])
    server.receive_data(first)
    assert alert_of(server, GARBAGE) == A.bad_record_mac


# --------------------------------------------------------------------------- 4. §5.1 interleaving


def test_empty_application_data_inside_a_fragmented_client_hello_is_unexpected_message(pki):
    ch = hello(ClientConnection(client_config(pki)))
    server = ServerConnection(server_config(pki))
    server.receive_data(plaintext_record(ContentType.handshake, ch[:50], 0x0301))
    interleaved = plaintext_record(ContentType.application_data, b"")
    assert (
        alert_of(server, interleaved + plaintext_record(ContentType.handshake, ch[50:]))
        == A.unexpected_message
    )


# --------------------------------------------------------------------------- 5. Appendix D.5 legacy_version


@pytest.mark.parametrize("legacy_version", [0x0300, 0x0200, 0x0000])
def test_legacy_version_0x0300_or_less_is_protocol_version(pki, legacy_version):
    ch = bytearray(hello(ClientConnection(client_config(pki))))
    ch[4:6] = legacy_version.to_bytes(2, "big")
    assert alert_of(
        ServerConnection(server_config(pki)), plaintext_record(ContentType.handshake, bytes(ch))
    ) == (A.protocol_version)


@pytest.mark.parametrize("legacy_version", [0x0301, 0x0302])
def test_legacy_version_tls10_or_11_with_supported_versions_negotiates_tls13_as_openssl_does(
    pki, legacy_version
):
    ch = bytearray(hello(ClientConnection(client_config(pki))))
    ch[4:6] = legacy_version.to_bytes(2, "big")
    server = ServerConnection(server_config(pki))
    server.receive_data(plaintext_record(ContentType.handshake, bytes(ch)))
    assert server.suite is not None  # answered with a ServerHello, as OpenSSL 3.0 s_server does


# --------------------------------------------------------------------------- 6. the client's plaintext alert


def test_client_that_rejects_the_certificate_is_logged_with_its_alert(pki):
    stranger = tp.make_ca("not the server's CA")
    client = ClientConnection(client_config(pki, trust_roots=[stranger.cert]))
    server = ServerConnection(server_config(pki))
    server.receive_data(client.data_to_send())
    with pytest.raises(TLSError):
        client.receive_data(server.data_to_send())  # unknown_ca, sent in plaintext (Appendix A.1)
    with pytest.raises(PeerAlert) as info:
        server.receive_data(client.data_to_send())
    assert info.value.alert == A.unknown_ca


# --------------------------------------------------------------------------- 7. §4.1.2 TLS 1.2 extensions


@pytest.mark.parametrize(
    "extensions", [bytes.fromhex("00170000"), bytes.fromhex("ff01000100"), bytes.fromhex("000b00020100")]
)
def test_tls12_client_hello_with_few_extension_bytes_is_protocol_version(pki, extensions):
    body = (
        bytes.fromhex("0303")
        + bytes(32)
        + b"\x00"
        + bytes.fromhex("0002c02f")
        + b"\x01\x00"
        + len(extensions).to_bytes(2, "big")
        + extensions
    )
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    assert alert_of(
        ServerConnection(server_config(pki)), plaintext_record(ContentType.handshake, message)
    ) == (A.protocol_version)
