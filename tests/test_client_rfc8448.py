"""Replay RFC 8448's traces through the sans-I/O client, byte for byte.

The client is given the trace's random and ephemeral private key and the
ClientHello contents NSS sent (read off the RFC's hex: the groups, the signature
algorithms, and three extensions tlslab does not send by itself). Everything
else it computes: the key share, the encodings, the key schedule, the server
flight's decryption and checks, and the client's Finished record.
Source of every expected value: RFC 8448 (tlslab/course/data/rfc8448.json).
"""

from __future__ import annotations

from support.nss import (
    KS,
    NSS_GROUPS,
    PSKM,
    RECORD_SIZE_LIMIT,
    RENEGOTIATION_INFO,
    SA,
    SG,
    SN,
    SV,
    nss_client,
    nss_hook,
)

from tlslab import extensions as ext
from tlslab.client import (
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    NewTicket,
)
from tlslab.constants import CipherSuite, ContentType, ExtensionType, NamedGroup
from tlslab.course.rfc8448 import raw, trace
from tlslab.keylog import MemoryKeyLog
from tlslab.keyschedule import finished_verify_data, transcript_hash
from tlslab.messages import Certificate, Finished, HandshakeBuffer, decode_handshake
from tlslab.record import RecordProtection, RecordReader
from tlslab.suites import SUITES


def test_simple_1rtt_client_hello_is_byte_exact():
    t = trace("simple_1rtt")
    client = nss_client(t)
    assert client.data_to_send() == t["client_hello_record"]


def test_simple_1rtt_full_replay():
    t = trace("simple_1rtt")
    keylog = MemoryKeyLog()
    client = nss_client(t, keylog)
    client.data_to_send()
    assert client.receive_data(t["server_hello_record"]) == []
    assert client.data_to_send() == b""  # nothing to say until the server's Finished
    events = client.receive_data(t["server_handshake_flight_record"])
    assert len(events) == 1 and isinstance(events[0], HandshakeComplete)
    assert events[0].cipher_suite == CipherSuite.TLS_AES_128_GCM_SHA256
    assert events[0].group == NamedGroup.x25519
    assert client.data_to_send() == t["client_finished_record"]
    assert client.resumption_master_secret == t["resumption_master_secret"]
    assert client.exporter_master_secret == t["exporter_master_secret"]

    (ticket_event,) = client.receive_data(t["new_session_ticket_record"])
    assert isinstance(ticket_event, NewTicket)
    assert ticket_event.ticket.psk == t["resumption_psk"]
    assert ticket_event.ticket.nonce == t["ticket_nonce"]

    values = raw()["simple_1rtt"]["values"]
    client.send_application_data(bytes.fromhex(values["client_application_data_record"]["payload"]))
    assert client.data_to_send() == t["client_application_data_record"]
    (data_event,) = client.receive_data(t["server_application_data_record"])
    assert isinstance(data_event, ApplicationData)
    assert data_event.data == bytes.fromhex(values["server_application_data_record"]["payload"])

    client.close()
    assert client.data_to_send() == t["client_alert_record"]

    cr = t["client_hello"][6:38].hex()
    assert set(keylog.lines) == {
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {t['client_handshake_traffic_secret'].hex()}",
        f"SERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {t['server_handshake_traffic_secret'].hex()}",
        f"CLIENT_TRAFFIC_SECRET_0 {cr} {t['client_application_traffic_secret_0'].hex()}",
        f"SERVER_TRAFFIC_SECRET_0 {cr} {t['server_application_traffic_secret_0'].hex()}",
        f"EXPORTER_SECRET {cr} {t['exporter_master_secret'].hex()}",
    }


def test_simple_1rtt_server_close_notify():
    t = trace("simple_1rtt")
    client = nss_client(t)
    client.data_to_send()
    client.receive_data(t["server_hello_record"] + t["server_handshake_flight_record"])
    client.receive_data(t["new_session_ticket_record"] + t["server_application_data_record"])
    (event,) = client.receive_data(t["server_alert_record"])
    assert isinstance(event, ConnectionClosed)


def test_simple_1rtt_server_flight_one_byte_at_a_time():
    t = trace("simple_1rtt")
    client = nss_client(t)
    client.data_to_send()
    wire = t["server_hello_record"] + t["server_handshake_flight_record"]
    for i in range(len(wire)):
        client.receive_data(wire[i : i + 1])
    assert client.handshake_complete
    assert client.data_to_send() == t["client_finished_record"]


def test_client_auth_trace_through_server_flight():
    """The server asks for a certificate; without one we answer with an empty Certificate (§4.4.2.4).

    RFC 8448 §5 (client authentication) shows the client *with* a certificate, so our
    flight differs from the trace's; what must match is everything up to it.
    """
    t = trace("client_auth")
    client = nss_client(
        t, extensions_hook=nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)
    )
    assert client.data_to_send() == t["client_hello_record"]
    events = client.receive_data(t["server_hello_record"] + t["server_handshake_flight_record"])
    assert isinstance(events[0], HandshakeComplete)
    # Decrypt our flight with the trace's client handshake secret: an empty Certificate, then Finished.
    reader = RecordReader()
    reader.feed(client.data_to_send())
    protection = RecordProtection(
        SUITES[CipherSuite.TLS_AES_128_GCM_SHA256], t["client_handshake_traffic_secret"]
    )
    buffer = HandshakeBuffer()
    while (record := reader.next_record()) is not None:
        content_type, data = protection.decrypt(record)
        assert content_type == ContentType.handshake
        buffer.feed(data)
    certificate, finished = (decode_handshake(m) for m in buffer.pop_all())
    assert isinstance(certificate, Certificate) and certificate.certificate_list == []
    transcript = b"".join(
        t[k]
        for k in (
            "client_hello",
            "server_hello",
            "encrypted_extensions",
            "certificate_request",
            "server_certificate",
            "server_certificate_verify",
            "server_finished",
        )
    )
    transcript += certificate.encode()
    assert finished == Finished(
        finished_verify_data(t["client_handshake_traffic_secret"], transcript_hash(transcript))
    )


def test_compat_mode_trace():
    """Middlebox compatibility mode: a 32-byte session id and a CCS before our Finished (Appendix D.4)."""
    t = trace("compat_mode")
    hook = nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)
    client = nss_client(
        t, session_id=t["client_hello"][39:71], middlebox_compatibility=True, extensions_hook=hook
    )
    assert client.data_to_send() == t["client_hello_record"]
    client.receive_data(t["server_hello_record"] + t["server_change_cipher_spec_record"])
    client.receive_data(t["server_handshake_flight_record"])
    assert client.handshake_complete
    assert client.data_to_send() == t["client_change_cipher_spec_record"] + t["client_finished_record"]


def test_hello_retry_request_trace():
    """RFC 8448 §5: x25519 share first; the server asks for P-256 with a cookie; transcript via message_hash."""
    t = trace("hrr")
    keylog = MemoryKeyLog()
    first_hook = nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)
    second_hook = nss_hook(
        SN,
        RENEGOTIATION_INFO,
        SG,
        KS,
        SV,
        SA,
        ExtensionType.cookie,
        PSKM,
        RECORD_SIZE_LIMIT,
        ext.Extension(0x0015, bytes(175)),
    )  # padding (RFC 7685), as long as NSS made it

    def hook(exts: list[ext.Extension]) -> list[ext.Extension]:
        has_cookie = any(e.type == ExtensionType.cookie for e in exts)
        return second_hook(exts) if has_cookie else first_hook(exts)

    client = nss_client(
        t,
        keylog,
        groups=NSS_GROUPS[:3],
        extensions_hook=hook,
        key_share_private_keys={
            NamedGroup.x25519: t["client_ephemeral_x25519_private_key"],
            NamedGroup.secp256r1: t["client_ephemeral_p256_private_key"],
        },
    )
    assert client.data_to_send() == t["client_hello_record_1"]
    client.receive_data(t["hello_retry_request_record"])
    assert client.data_to_send() == t["client_hello_record_2"]
    events = client.receive_data(t["server_hello_record"] + t["server_handshake_flight_record"])
    assert isinstance(events[0], HandshakeComplete) and events[0].hello_retry
    assert events[0].group == NamedGroup.secp256r1
    assert client.data_to_send() == t["client_finished_record"]
    assert client.resumption_master_secret == t["resumption_master_secret"]
    cr = t["client_hello_1"][6:38].hex()
    assert (
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {t['client_handshake_traffic_secret'].hex()}" in keylog.lines
    )
