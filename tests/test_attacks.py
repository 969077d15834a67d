"""tlslab.lab.attacks: each attacker helper does what notebook 09 says, and the client refuses it."""

from __future__ import annotations

import warnings

import pytest

import tlslab
from tlslab import lab
from tlslab.client import ClientConfig, ClientConnection
from tlslab.constants import DOWNGRADE_TLS12
from tlslab.errors import (
    BadCertificate,
    BadRecordMac,
    ConnectionLost,
    DecryptError,
    IllegalParameter,
    ProtocolVersion,
)
from tlslab.lab import attacks, pki
from tlslab.server import ServerConnection

REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.make_ca("Attack Test Root")


@pytest.fixture(scope="module")
def leaf(ca: pki.Issued) -> pki.Issued:
    return pki.issue(ca, common_name="example.com", dns_names=["example.com"])


@pytest.fixture(scope="module")
def attacker_leaf(ca: pki.Issued) -> pki.Issued:
    return pki.issue(ca, common_name="attacker.example", dns_names=["attacker.example"])


def client_for(ca: pki.Issued, **options: object) -> ClientConnection:
    return ClientConnection(ClientConfig(server_name="example.com", trust_roots=[ca.cert], **options))


# ------------------------------------------------------------------ man in the middle


def test_mitm_certificate_refused_by_default(ca: pki.Issued, attacker_leaf: pki.Issued) -> None:
    with attacks.ChosenCertServer(attacker_leaf) as server:
        with pytest.raises(BadCertificate, match="attacker.example does not match example.com"):
            tlslab.connect(server.host, server.port, server_hostname="example.com", trust_roots=[ca.cert])


def test_mitm_accepted_without_verification(ca: pki.Issued, attacker_leaf: pki.Issued) -> None:
    with attacks.ChosenCertServer(attacker_leaf) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        options = {"server_hostname": "example.com", "trust_roots": [ca.cert], "verify_chain": False}
        with tlslab.connect(server.host, server.port, **options) as tls:
            tls.sendall(REQUEST)
            assert tls.recv_all().endswith(b"hello from the attacker\n")
            assert tls.peer_certificates[0].subject == attacker_leaf.cert.subject
    assert any("any man in the middle" in str(w.message) for w in caught)


def test_mitm_accepted_with_check_hostname_false(ca: pki.Issued, attacker_leaf: pki.Issued) -> None:
    with attacks.ChosenCertServer(attacker_leaf) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"server_hostname": "example.com", "trust_roots": [ca.cert], "check_hostname": False}
        with tlslab.connect(server.host, server.port, **options) as tls:
            tls.sendall(REQUEST)
            assert tls.recv_all().endswith(b"hello from the attacker\n")


# ------------------------------------------------------------------ downgrade


def test_downgrade_sentinel_is_illegal_parameter() -> None:
    verdict = attacks.feed_client(lambda hello: attacks.downgrade_server_hello(hello))
    assert isinstance(verdict.error, IllegalParameter)
    assert "DOWNGRD" in str(verdict.error)
    assert verdict.sent == bytes.fromhex("1503030002022f")  # fatal illegal_parameter, in the clear


def test_tls12_without_sentinel_is_protocol_version() -> None:
    verdict = attacks.feed_client(lambda hello: attacks.downgrade_server_hello(hello, sentinel=False))
    assert isinstance(verdict.error, ProtocolVersion)
    assert attacks.alert_in(verdict.sent) == "protocol_version"


def test_downgrade_server_hello_shape() -> None:
    client = ClientConnection(ClientConfig(server_name="example.com"))
    hello = client.data_to_send()
    for sentinel in (True, False):
        record = attacks.downgrade_server_hello(hello, sentinel=sentinel)
        assert record[:3] == bytes.fromhex("160303") and record[5] == 2  # a plaintext ServerHello
        random = record[11:43]
        assert (random[-8:] == DOWNGRADE_TLS12) is sentinel
        assert record[43] == 32 and record[44:76] == hello[44:76]  # legacy_session_id echoed


# ------------------------------------------------------------------ tampering, in memory


def test_in_memory_handshake_untouched(ca: pki.Issued, leaf: pki.Issued) -> None:
    exchange = attacks.run_in_memory(client_for(ca), ServerConnection(attacks.server_config(leaf)))
    assert exchange.client.handshake_complete and exchange.client_error is None
    kinds = [(who, record[0]) for who, record in exchange.log]
    assert kinds[:3] == [("client", 22), ("server", 22), ("server", 20)]


def test_bit_flip_in_encrypted_record_is_bad_record_mac(ca: pki.Issued, leaf: pki.Issued) -> None:
    def flip(direction: str, index: int, record: bytes) -> bytes:
        return attacks.flip_bit(record) if (direction, index) == ("server", 3) else record

    exchange = attacks.run_in_memory(client_for(ca), ServerConnection(attacks.server_config(leaf)), flip)
    assert isinstance(exchange.client_error, BadRecordMac)
    assert attacks.alert_in(exchange.client_alert) == "bad_record_mac"
    assert not exchange.client.handshake_complete


def test_changed_server_hello_changes_the_keys(ca: pki.Issued, leaf: pki.Issued) -> None:
    def change_random(direction: str, index: int, record: bytes) -> bytes:
        return attacks.flip_bit(record, 20) if (direction, index) == ("server", 0) else record

    exchange = attacks.run_in_memory(
        client_for(ca), ServerConnection(attacks.server_config(leaf)), change_random
    )
    assert isinstance(exchange.client_error, BadRecordMac)
    assert "record 0" in str(exchange.client_error)


@pytest.mark.parametrize(
    ("index", "seq", "reason"),
    [(2, 0, "CertificateVerify signature does not verify"), (5, 3, "server Finished does not verify")],
)
def test_reencrypted_change_caught_by_the_transcript(
    ca: pki.Issued, leaf: pki.Issued, index: int, seq: int, reason: str
) -> None:
    secrets: dict[str, bytes] = {}
    config = attacks.server_config(
        leaf, alpn_protocols=["h2"], keylog=lambda label, _random, secret: secrets.__setitem__(label, secret)
    )
    server = ServerConnection(config)
    client = client_for(ca, alpn_protocols=["h2", "http/1.1"])

    def change(plaintext: bytes) -> bytes:
        return attacks.rewrite_alpn(plaintext, "http/1.1") if index == 2 else attacks.flip_bit(plaintext)

    def tamper(direction: str, i: int, record: bytes) -> bytes:
        if (direction, i) != ("server", index):
            return record
        return attacks.reencrypt(
            record, server.suite, secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"], seq, change
        )

    exchange = attacks.run_in_memory(client, server, tamper)
    assert isinstance(exchange.client_error, DecryptError)
    assert reason in str(exchange.client_error)
    assert attacks.alert_in(exchange.client_alert) == "decrypt_error"


def test_cut_connection_stops_the_exchange(ca: pki.Issued, leaf: pki.Issued) -> None:
    exchange = attacks.run_in_memory(
        client_for(ca),
        ServerConnection(attacks.server_config(leaf)),
        lambda d, i, r: None if d == "server" else r,
    )
    assert [who for who, _ in exchange.log] == ["client"]
    assert exchange.client_error is None and not exchange.client.handshake_complete


# ------------------------------------------------------------------ tampering through a relay


def test_relay_forwards_and_logs() -> None:
    with lab.StandIn() as stand_in, attacks.Relay((stand_in.host, stand_in.port)) as relay:
        with tlslab.connect(
            relay.host, relay.port, server_hostname="example.com", cafile=stand_in.cafile
        ) as tls:
            tls.sendall(REQUEST)
            assert b"Example Domain" in tls.recv_all()
        hello = relay.records("client")[0]
        assert attacks.server_name_of(hello) == "example.com"
        leaf_der = tls.getpeercert(binary_form=True)
        assert not any(leaf_der[-64:] in record for _, record in relay.log)  # the certificate is encrypted


def test_relay_bit_flip_is_bad_record_mac() -> None:
    def flip(direction: str, index: int, record: bytes) -> bytes:
        return attacks.flip_bit(record) if (direction, index) == ("server", 3) else record

    with lab.StandIn() as stand_in, attacks.Relay((stand_in.host, stand_in.port), flip) as relay:
        with pytest.raises(BadRecordMac):
            tlslab.connect(relay.host, relay.port, server_hostname="example.com", cafile=stand_in.cafile)
        relay.stop()  # wait for the pumps: the client's alert has been forwarded
        assert attacks.alert_in(relay.records("client")[-1]) == "bad_record_mac"


def test_relay_refuses_other_hosts() -> None:
    with pytest.raises(ValueError, match="127.0.0.1"):
        attacks.Relay(("192.0.2.1", 443))


# ------------------------------------------------------------------ truncation


@pytest.mark.parametrize("close_notify", [True, False])
def test_truncation(ca: pki.Issued, leaf: pki.Issued, close_notify: bool) -> None:
    with attacks.ChosenCertServer(leaf, close_notify=close_notify) as server:
        with tlslab.connect(
            server.host, server.port, server_hostname="example.com", trust_roots=[ca.cert]
        ) as tls:
            tls.sendall(REQUEST)
            assert tls.recv(4096) == attacks.REPLY
            if close_notify:
                assert tls.recv(4096) == b""
            else:
                with pytest.raises(ConnectionLost, match="truncated"):
                    tls.recv(4096)


# ------------------------------------------------------------------ small helpers


def test_split_records_and_flip_bit() -> None:
    data = bytes.fromhex("1503030002022f" + "170303000101" + "1703")
    records, rest = attacks.split_records(data)
    assert records == [bytes.fromhex("1503030002022f"), bytes.fromhex("170303000101")]
    assert rest == bytes.fromhex("1703")
    assert attacks.flip_bit(b"\x00\x00", 0, 7) == b"\x80\x00"
    assert attacks.describe_record(records[1]) == "application_data, 1 bytes"
    assert attacks.alert_in(records[0]) == "illegal_parameter"


def test_client_hello_fields_find_the_server_name() -> None:
    hello = ClientConnection(ClientConfig(server_name="secret.example")).data_to_send()
    fields = attacks.client_hello_fields(hello)
    extensions = next(f for f in fields if f[2] == "extensions")
    assert extensions[1] == len(hello)
    sni = next(f for f in extensions[3] if f[2] == "extension server_name")
    start, end, label = sni[3][-1]
    assert hello[start:end] == b"secret.example" and "in the clear" in label
    covered = sorted((f[0], f[1]) for f in fields)
    assert covered[0][0] == 0 and all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))
