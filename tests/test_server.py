"""The tlslab server (RFC 8446 Appendix A.2): against the tlslab client in memory, and against
Python's ssl, openssl s_client and gnutls-cli on 127.0.0.1.

Expected values come from the RFC (which scheme fits which key, §4.2.3; which alert for which
fault, §4.1.2, §9.2, §6.2) or from the other side of the connection (the client's view must
match the server's), never from the server's own output.
"""

from __future__ import annotations

import socket
import ssl
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import (
    HTTP_RESPONSE_BODY,
    LOOPBACK,
    SERVER_NAME,
    alert_record,
    client_config,
    conversation,
    secrets,
    server_config,
    split_records,
    tlslab_server,
)
from support.peers import require_tool

import tlslab
from tlslab import extensions as ext
from tlslab.client import ApplicationData, ClientConnection, ConnectionClosed, HandshakeComplete, NewTicket
from tlslab.constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ContentType,
    ExtensionType,
    NamedGroup,
    SignatureScheme,
)
from tlslab.errors import AlertDescription, PeerAlert, TLSError
from tlslab.keyexchange import SUPPORTED_GROUPS
from tlslab.messages import ClientHello, Finished, decode_handshake
from tlslab.record import RecordProtection, plaintext_record
from tlslab.server import ServerConnection, State

ALL_SUITES = list(CipherSuite)
ET = ExtensionType


def handshake(pki, kind="ecdsa-p256", server=None, client=None):
    """Run a handshake in memory; returns the Conversation (both sides CONNECTED)."""
    conv = conversation(server_config(pki, kind, **(server or {})), client_config(pki, **(client or {})))
    conv.run()
    assert conv.client.handshake_complete and conv.server.handshake_complete
    return conv


def completed(events) -> HandshakeComplete:
    (done,) = [e for e in events if isinstance(e, HandshakeComplete)]
    return done


def exchange_data(conv) -> None:
    """Application data both ways, one message larger than a record (RFC 8446 §5.1)."""
    big = bytes(range(256)) * 100  # 25600 bytes: two records
    conv.client.send_application_data(big)
    got = conv.server.receive_data(conv.client.data_to_send())
    assert b"".join(e.data for e in got if isinstance(e, ApplicationData)) == big
    conv.server.send_application_data(b"pong")
    assert conv.client.receive_data(conv.server.data_to_send()) == [ApplicationData(b"pong")]


# --------------------------------------------------------------------------- negotiation


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_every_cipher_suite(pki, suite):
    conv = handshake(pki, server={"cipher_suites": ALL_SUITES}, client={"cipher_suites": [suite]})
    assert completed(conv.client_events).cipher_suite == suite
    assert completed(conv.server.events).cipher_suite == suite
    exchange_data(conv)
    # Both sides derived the same secrets independently (RFC 8446 §7.1); the key logs agree.
    assert secrets(conv.client.config.keylog) == secrets(conv.server.config.keylog)


@pytest.mark.parametrize("group", SUPPORTED_GROUPS, ids=lambda g: g.name)
def test_every_group_without_hello_retry(pki, group):
    conv = handshake(pki, client={"groups": [group]})
    for done in (completed(conv.client_events), completed(conv.server.events)):
        assert (done.group, done.hello_retry) == (group, False)
    exchange_data(conv)


@pytest.mark.parametrize("compat", [True, False], ids=["middlebox-compat", "no-compat"])
def test_hello_retry_request(pki, compat):
    """Client shares x25519, server wants P-384: HelloRetryRequest, then a second ClientHello (§4.1.4)."""
    first_flights = []
    conv = conversation(
        server_config(pki, groups=[NamedGroup.secp384r1]),
        client_config(pki, groups=[NamedGroup.x25519, NamedGroup.secp384r1], middlebox_compatibility=compat),
        wire=lambda data, n: first_flights.append(data) or data,
    )
    conv.run()
    for done in (completed(conv.client_events), completed(conv.server.events)):
        assert (done.group, done.hello_retry) == (NamedGroup.secp384r1, True)
    records = split_records(first_flights[0])
    hrr = decode_handshake(records[0].fragment)
    assert hrr.random == HELLO_RETRY_REQUEST_RANDOM
    assert ext.KeyShareHelloRetryRequest.decode(hrr.get(ET.key_share)).selected_group == NamedGroup.secp384r1
    # Appendix D.4: a compatibility-mode client gets one dummy change_cipher_spec after the HRR.
    assert [r.content_type for r in records[1:]] == ([ContentType.change_cipher_spec] if compat else [])
    exchange_data(conv)


def test_hello_retry_can_be_turned_off(pki):
    conv = conversation(
        server_config(pki, groups=[NamedGroup.secp384r1], hello_retry_if_needed=False),
        client_config(pki, groups=[NamedGroup.x25519, NamedGroup.secp384r1]),
    )
    with pytest.raises(PeerAlert) as info:
        conv.run()
    assert info.value.alert == AlertDescription.handshake_failure


def test_server_preference_wins(pki):
    conv = handshake(
        pki,
        server={
            "cipher_suites": [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256],
            "groups": [NamedGroup.secp256r1, NamedGroup.x25519],
        },
        client={
            "cipher_suites": [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256],
            "groups": [NamedGroup.x25519, NamedGroup.secp256r1],
            "key_share_groups": [NamedGroup.x25519, NamedGroup.secp256r1],
        },
    )
    done = completed(conv.client_events)
    assert (done.cipher_suite, done.group) == (CipherSuite.TLS_CHACHA20_POLY1305_SHA256, NamedGroup.secp256r1)


@pytest.mark.parametrize(
    "server_alpn, client_alpn, chosen",
    [
        (["h2", "http/1.1"], ["http/1.1", "h2"], "h2"),
        (["http/1.1"], ["h2", "http/1.1"], "http/1.1"),
        (["h2"], [], None),
        ([], ["h2"], None),
    ],
)
def test_alpn(pki, server_alpn, client_alpn, chosen):
    conv = handshake(pki, server={"alpn_protocols": server_alpn}, client={"alpn_protocols": client_alpn})
    assert completed(conv.client_events).alpn_protocol == chosen
    assert conv.server.alpn_protocol == chosen


def test_alpn_without_overlap_is_no_application_protocol(pki):
    conv = conversation(
        server_config(pki, alpn_protocols=["h2"]), client_config(pki, alpn_protocols=["spdy/3"])
    )
    with pytest.raises(PeerAlert) as info:  # RFC 7301 §3.2
        conv.run()
    assert info.value.alert == AlertDescription.no_application_protocol


# RFC 8446 §4.2.3: the scheme a key can sign a CertificateVerify with (server's first choice).
SCHEME_FOR_KIND = {
    "ecdsa-p256": SignatureScheme.ecdsa_secp256r1_sha256,
    "ecdsa-p384": SignatureScheme.ecdsa_secp384r1_sha384,
    "ecdsa-p521": SignatureScheme.ecdsa_secp521r1_sha512,
    "rsa": SignatureScheme.rsa_pss_rsae_sha256,
    "rsa-pss": SignatureScheme.rsa_pss_pss_sha256,
    "ed25519": SignatureScheme.ed25519,
    "ed448": SignatureScheme.ed448,
}


@pytest.mark.parametrize("kind", list(SCHEME_FOR_KIND))
def test_every_certificate_key_kind(pki, kind):
    conv = handshake(pki, kind)
    assert conv.server.signature_scheme == SCHEME_FOR_KIND[kind]
    assert completed(conv.client_events).peer_certificates[0] == pki.leaves[kind].issued.cert


def test_signature_scheme_follows_the_client(pki):
    conv = handshake(pki, "rsa", client={"signature_schemes": [SignatureScheme.rsa_pss_rsae_sha512]})
    assert conv.server.signature_scheme == SignatureScheme.rsa_pss_rsae_sha512


def test_tickets_key_update_and_close(pki):
    conv = handshake(pki, server={"num_tickets": 3, "ticket_lifetime": 3600})
    tickets = [e.ticket for e in conv.client_events if isinstance(e, NewTicket)]
    assert [t.lifetime for t in tickets] == [3600] * 3 and len({t.nonce for t in tickets}) == 3
    # Client asks for an update; the server answers with its own (RFC 8446 §4.6.3).
    conv.client.key_update(request_peer_update=True)
    conv.server.receive_data(conv.client.data_to_send())
    conv.client.receive_data(conv.server.data_to_send())
    conv.server.key_update(request_peer_update=True)
    conv.client.receive_data(conv.server.data_to_send())
    conv.server.receive_data(conv.client.data_to_send())
    exchange_data(conv)  # both sides are on generation 2 now and still agree
    assert {"CLIENT_TRAFFIC_SECRET_2", "SERVER_TRAFFIC_SECRET_2"} <= set(secrets(conv.server.config.keylog))
    assert secrets(conv.client.config.keylog) == secrets(conv.server.config.keylog)
    conv.server.close()
    assert conv.client.receive_data(conv.server.data_to_send()) == [ConnectionClosed()]
    conv.client.close()
    assert conv.server.receive_data(conv.client.data_to_send()) == [ConnectionClosed()]


def test_rejected_early_data_is_skipped(pki):
    """A client that offered early_data may send 0-RTT records we cannot read: skip them (§4.2.10)."""
    offer = ext.Extension(ET.early_data, b"")
    conv = conversation(server_config(pki), client_config(pki, extensions_hook=lambda exts: [*exts, offer]))
    conv.server.receive_data(conv.client.data_to_send())
    stranger = RecordProtection(conv.server.suite, b"\x01" * 32)  # a key the server never had
    conv.server.receive_data(stranger.encrypt(ContentType.application_data, b"GET / 0-RTT"))
    conv.client.receive_data(conv.server.data_to_send())
    conv.server.receive_data(conv.client.data_to_send())
    assert conv.server.handshake_complete


# --------------------------------------------------------------------------- bad clients


def _hello_rewrite(**changes):
    """Rewrite the client's first ClientHello record (a man in the middle, for the server's checks)."""

    def rewrite(data: bytes) -> bytes:
        (record,) = split_records(data)
        ch = decode_handshake(record.fragment)
        assert isinstance(ch, ClientHello)
        for name, value in changes.items():
            setattr(ch, name, value(getattr(ch, name)) if callable(value) else value)
        return plaintext_record(ContentType.handshake, ch.encode())

    return rewrite


def _drop(ext_type):
    return {"extensions": lambda exts: [e for e in exts if e.type != ext_type]}


def _replace(ext_type, data):
    return {
        "extensions": lambda exts: [ext.Extension(ext_type, data) if e.type == ext_type else e for e in exts]
    }


BAD_CLIENT_HELLOS = [
    # name, ClientHello changes, client config, alert, reason, RFC section
    (
        "no supported_versions",
        _drop(ET.supported_versions),
        {},
        "protocol_version",
        "speaks only TLS 1.3",
        "§4.2.1",
    ),
    (
        "supported_versions without TLS 1.3",
        _replace(ET.supported_versions, b"\x02\x03\x03"),
        {},
        "protocol_version",
        "does not offer TLS 1.3",
        "§4.2.1",
    ),
    (
        "no common cipher suite",
        {},
        {"cipher_suites": [CipherSuite.TLS_AES_128_CCM_8_SHA256]},
        "handshake_failure",
        "no cipher suite in common",
        "§4.1.1",
    ),
    ("no key_share", _drop(ET.key_share), {}, "missing_extension", "no key_share", "§9.2"),
    (
        "no supported_groups",
        _drop(ET.supported_groups),
        {},
        "missing_extension",
        "no supported_groups",
        "§9.2",
    ),
    (
        "no signature_algorithms",
        _drop(ET.signature_algorithms),
        {},
        "missing_extension",
        "no signature_algorithms",
        "§9.2",
    ),
    (
        "compression method 1",
        {"legacy_compression_methods": b"\x01"},
        {},
        "illegal_parameter",
        "legacy_compression_methods",
        "§4.1.2",
    ),
    (
        "key share outside supported_groups",
        _replace(ET.supported_groups, b"\x00\x02\x00\x17"),
        {},
        "illegal_parameter",
        "does not list",
        "§4.2.8",
    ),
    (
        "x25519 share of 31 bytes",
        _replace(ET.key_share, b"\x00\x23\x00\x1d\x00\x1f" + b"\x09" * 31),
        {},
        "illegal_parameter",
        "must be 32 bytes",
        "§4.2.8",
    ),
    (
        "x25519 low-order share",
        _replace(ET.key_share, b"\x00\x24\x00\x1d\x00\x20" + bytes(32)),
        {},
        "illegal_parameter",
        "all zeros",
        "§7.4.2",
    ),
    (
        "no signature scheme for our key",
        {},
        {"signature_schemes": [SignatureScheme.ed448]},
        "handshake_failure",
        "no signature scheme",
        "§4.2.3",
    ),
    (
        "duplicate extension",
        {"extensions": lambda exts: [*exts, exts[-1]]},
        {},
        "illegal_parameter",
        "duplicate",
        "§4.2",
    ),
]


@pytest.mark.parametrize(
    "changes, client, alert, reason",
    [row[1:5] for row in BAD_CLIENT_HELLOS],
    ids=[r[0] for r in BAD_CLIENT_HELLOS],
)
def test_bad_client_hello(pki, changes, client, alert, reason):
    server = ServerConnection(server_config(pki))
    hello = ClientConnection(client_config(pki, **client)).data_to_send()
    if changes:
        hello = _hello_rewrite(**changes)(hello)
    with pytest.raises(TLSError) as info:
        server.receive_data(hello)
    assert info.value.alert == AlertDescription[alert]
    assert reason in str(info.value)
    assert server.data_to_send() == alert_record(AlertDescription[alert])  # plaintext: no keys yet
    assert server.state is State.CLOSED


def _after_server_flight(pki):
    """A conversation up to the client's second flight, which the test then replaces."""
    conv = conversation(server_config(pki), client_config(pki, middlebox_compatibility=False))
    conv.server.receive_data(conv.client.data_to_send())
    conv.client.receive_data(conv.server.data_to_send())
    conv.client.data_to_send()  # the genuine client Finished, dropped
    client_hs = secrets(conv.client.config.keylog)["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    return conv, RecordProtection(conv.client.suite, client_hs)


@pytest.mark.parametrize(
    "records, alert, reason",
    [
        (
            lambda k: k.encrypt(ContentType.handshake, Finished(b"\x00" * 32).encode()),
            "decrypt_error",
            "does not verify",
        ),
        (
            lambda k: k.encrypt(ContentType.handshake, Finished(b"\x00" * 31).encode()),
            "decode_error",
            "31 bytes",
        ),
        (
            lambda k: k.encrypt(ContentType.application_data, b"GET /"),
            "unexpected_message",
            "before the client's Finished",
        ),
        (
            lambda k: plaintext_record(ContentType.handshake, Finished(b"\x00" * 32).encode()),
            "unexpected_message",
            "plaintext handshake record",
        ),
        (
            lambda k: (lambda r: r[:-1] + bytes([r[-1] ^ 1]))(
                k.encrypt(ContentType.handshake, b"\x14\x00\x00\x00")
            ),
            "bad_record_mac",
            "failed authentication",
        ),
    ],
    ids=["wrong Finished", "short Finished", "data before Finished", "plaintext Finished", "bit flip"],
)
def test_bad_client_finished(pki, records, alert, reason):
    conv, keys = _after_server_flight(pki)
    with pytest.raises(TLSError) as info:
        conv.server.receive_data(records(keys))
    assert info.value.alert == AlertDescription[alert] and reason in str(info.value)
    # The server already writes with its application keys: the alert is encrypted (§6).
    server_app = RecordProtection(
        conv.server.suite, secrets(conv.server.config.keylog)["SERVER_TRAFFIC_SECRET_0"]
    )
    (record,) = split_records(conv.server.data_to_send())
    assert server_app.decrypt(record) == (ContentType.alert, bytes([2, AlertDescription[alert]]))


def test_second_client_hello_must_carry_the_requested_share(pki):
    hellos = []

    def hook(exts):
        hellos.append(exts)
        if len(hellos) == 2:  # answer the HRR with a share for x448 instead of P-384
            share = ext.KeyShareClientHello([ext.KeyShareEntry(NamedGroup.x448, b"\x05" * 56)]).encode()
            return [ext.Extension(ET.key_share, share) if e.type == ET.key_share else e for e in exts]
        return exts

    conv = conversation(
        server_config(pki, groups=[NamedGroup.secp384r1, NamedGroup.x448]),
        client_config(
            pki, groups=[NamedGroup.x25519, NamedGroup.secp384r1, NamedGroup.x448], extensions_hook=hook
        ),
    )
    with pytest.raises(PeerAlert) as info:
        conv.run()
    assert info.value.alert == AlertDescription.illegal_parameter
    assert conv.server.state is State.CLOSED


def test_ccs_after_the_handshake_is_unexpected(pki):
    conv = handshake(pki)
    with pytest.raises(TLSError) as info:
        conv.server.receive_data(plaintext_record(ContentType.change_cipher_spec, b"\x01"))
    assert info.value.alert == AlertDescription.unexpected_message


def test_garbage_never_escapes_as_another_exception(pki):
    for junk in (
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
        b"\x17\x03\x03\x00\x01\x00",
    ):
        with pytest.raises(TLSError):
            ServerConnection(server_config(pki)).receive_data(junk)


# --------------------------------------------------------------------------- real clients on 127.0.0.1


def _make(pki, kind="ecdsa-p256", **overrides):
    return lambda: server_config(pki, kind, keylog=None, **overrides)


@pytest.mark.interop
def test_python_ssl_client(pki):
    with tlslab_server(_make(pki, alpn_protocols=["http/1.1"])) as served:
        context = ssl.create_default_context(cafile=str(pki.cafile))
        context.set_alpn_protocols(["http/1.1"])
        with socket.create_connection((LOOPBACK, served.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                assert tls.version() == "TLSv1.3"
                assert tls.selected_alpn_protocol() == "http/1.1"
                tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                response = b""
                while chunk := tls.recv(4096):
                    response += chunk
        assert served.done.wait(5)
    assert response.endswith(HTTP_RESPONSE_BODY) and not served.errors


def _s_client(port, *extra):
    require_tool("openssl")
    return ["timeout", "20", "openssl", "s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3", *extra]


OPENSSL_SUITES = [s.name for s in CipherSuite]


@pytest.mark.interop
@pytest.mark.parametrize("suite", OPENSSL_SUITES)
def test_openssl_s_client(pki, suite):
    with tlslab_server(_make(pki, cipher_suites=ALL_SUITES)) as served:
        args = ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error"]
        args += ["-verify_hostname", SERVER_NAME, "-ciphersuites", suite, "-ign_eof"]
        result = subprocess.run(
            _s_client(served.port, *args), input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=30
        )
        assert served.done.wait(5)
    out = result.stdout.decode(errors="replace")
    assert result.returncode == 0, out + result.stderr.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in out and f"Cipher is {suite}" in out
    assert HTTP_RESPONSE_BODY.decode() in out and not served.errors
    assert completed(served.events).cipher_suite == CipherSuite[suite]


@pytest.mark.interop
def test_openssl_s_client_hello_retry_and_rsa_pss(pki):
    with tlslab_server(_make(pki, "rsa-pss", groups=[NamedGroup.secp384r1])) as served:
        args = ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error"]
        args += ["-groups", "X25519:P-384", "-ign_eof"]
        result = subprocess.run(
            _s_client(served.port, *args), input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=30
        )
        assert served.done.wait(5)
    out = result.stdout.decode(errors="replace")
    assert result.returncode == 0 and HTTP_RESPONSE_BODY.decode() in out, out
    done = completed(served.events)
    assert (done.group, done.hello_retry) == (NamedGroup.secp384r1, True)
    assert "Peer signature type: RSA-PSS" in out


@pytest.mark.interop
def test_gnutls_cli(pki):
    gnutls = require_tool("gnutls-cli")
    with tlslab_server(_make(pki, alpn_protocols=["http/1.1"])) as served:
        args = [gnutls, "--x509cafile", str(pki.cafile), "-p", str(served.port), LOOPBACK]
        args += ["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--alpn", "http/1.1"]
        process = subprocess.Popen(
            ["timeout", "20", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        process.stdin.write(b"GET / HTTP/1.0\r\n\r\n")
        process.stdin.flush()
        process.wait(timeout=30)  # stdin stays open: gnutls-cli ends when the server closes
        out = process.stdout.read().decode(errors="replace")
        process.stdin.close()
        process.stdout.close()
        assert served.done.wait(5)
    assert "Handshake was completed" in out and HTTP_RESPONSE_BODY.decode() in out, out
    assert "TLS1.3" in out and not served.errors
    assert completed(served.events).alpn_protocol == "http/1.1"


@pytest.mark.interop
def test_tlslab_client_over_tcp(pki):
    """Both ends tlslab, through the socket driver: HRR, ALPN, tickets, then a clean close (§6.1)."""
    with tlslab_server(_make(pki, "ed25519", groups=[NamedGroup.secp256r1], alpn_protocols=["h2"])) as served:
        with tlslab.connect(
            LOOPBACK, served.port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), alpn_protocols=["h2"]
        ) as tls:
            assert (tls.group(), tls.selected_alpn_protocol()) == ("secp256r1", "h2")
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            response = tls.recv_all()  # ends at the server's close_notify, not at a bare TCP close
        assert served.done.wait(5)
    assert response.endswith(HTTP_RESPONSE_BODY) and not served.errors
    assert completed(served.events).hello_retry


# --------------------------------------------------------------------------- fuzzing the server


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.binary(max_size=400)
    | st.builds(
        lambda t, b: bytes([t, 3, 1]) + len(b).to_bytes(2, "big") + b,
        st.sampled_from([20, 21, 22, 23]),
        st.binary(max_size=300),
    )
)
def test_random_bytes_to_the_server(pki, junk):
    """Bad client input gives a TLSError and a queued alert, never another exception."""
    server = ServerConnection(server_config(pki, keylog=None))
    try:
        server.receive_data(junk)
    except TLSError as exc:
        assert "tlslab bug" not in str(exc), exc
        if hasattr(exc, "alert") and not isinstance(exc, PeerAlert):
            assert server.data_to_send() == alert_record(exc.alert)
        return
    assert server.state is State.START  # still waiting for a whole ClientHello


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bit_flips_in_a_client_hello(pki, data):
    """A flipped ClientHello is refused with a TLSError, or answered (the client's Finished check
    catches what the server cannot see, §4.4.4); nothing else escapes."""
    hello = ClientConnection(client_config(pki, keylog=None)).data_to_send()
    index = data.draw(st.integers(0, len(hello) - 1), label="byte")
    flipped = hello[:index] + bytes([hello[index] ^ (1 << data.draw(st.integers(0, 7), label="bit"))])
    flipped += hello[index + 1 :]
    server = ServerConnection(server_config(pki, keylog=None))
    try:
        server.receive_data(flipped)
    except TLSError as exc:
        assert "tlslab bug" not in str(exc), exc


def test_a_long_transfer_keeps_a_bounded_event_history(pki) -> None:
    """receive_data returns every new event; the ``events`` history keeps only the latest."""
    from tlslab.events import EVENT_HISTORY

    conv = conversation(server_config(pki), client_config(pki))
    conv.run()
    chunks = [bytes([i % 256]) * 100 for i in range(EVENT_HISTORY + 100)]
    for chunk in chunks:
        conv.server.send_application_data(chunk)
    received = conv.client.receive_data(conv.server.data_to_send())
    assert [e.data for e in received if isinstance(e, ApplicationData)] == chunks
    assert len(conv.client.events) == EVENT_HISTORY


def test_server_ignores_what_follows_the_clients_close_notify(pki) -> None:
    """§6.1: "Any data received after a closure alert has been received MUST be ignored." """
    conv = conversation(server_config(pki), client_config(pki))
    conv.run()
    conv.client.close()
    closing = conv.client.data_to_send()
    events = conv.server.receive_data(closing + b"\x17\x03\x03\x00\x07garbage")  # would be bad_record_mac
    assert any(isinstance(e, ConnectionClosed) for e in events)


def test_server_does_not_answer_a_key_update_after_its_own_close(pki) -> None:
    conv = conversation(server_config(pki), client_config(pki))
    conv.run()
    conv.server.close()
    conv.client.receive_data(conv.server.data_to_send())
    conv.client.key_update(request_peer_update=True)
    conv.server.receive_data(conv.client.data_to_send())
    assert conv.server.data_to_send() == b""  # neither a KeyUpdate nor an alert after close_notify
