"""tlslab.course.figures.handshake: the state machine matches the client, the recorder names what was on the wire."""

from __future__ import annotations

import socket
import warnings

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
from tlslab.client import ClientConfig, ClientConnection, State
from tlslab.constants import CipherSuite, ContentType, ExtensionType, NamedGroup
from tlslab.course.annotate import annotate_record, walk
from tlslab.course.figures.handshake import (
    ConnectionRecorder,
    figure_texts,
    nesting_figure,
    sequence_diagram,
    state_machine_figure,
)
from tlslab.course.rfc8448 import trace
from tlslab.keylog import MemoryKeyLog
from tlslab.lab import StandIn
from tlslab.messages import HandshakeBuffer, decode_handshake
from tlslab.record import RecordProtection, RecordReader
from tlslab.states import CLIENT
from tlslab.suites import SUITES


def test_state_machine_figure_has_every_state_and_message() -> None:
    texts = " ".join(figure_texts(state_machine_figure()))
    for state in State:
        assert state.value in texts
    for name in (
        "ServerHello",
        "HelloRetryRequest",
        "EncryptedExtensions",
        "CertificateRequest",
        "Certificate",
        "CertificateVerify",
        "Finished",
        "NewSessionTicket",
        "KeyUpdate",
        "send ClientHello",
    ):
        assert f"{name}" in texts, name
    assert "Appendix A.1" in texts


def test_the_figure_draws_the_clients_own_table() -> None:
    texts = " ".join(figure_texts(state_machine_figure()))
    for edge in CLIENT.edges:
        if not edge.only_if:
            assert edge.label in texts and edge.does in texts, edge
    assert ClientConnection.TABLE is CLIENT  # the table the client runs on


def one_message_per_record(t: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The trace's server flight re-encrypted one message per record, so each transition shows."""
    suite = SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
    reader = RecordReader()
    reader.feed(t["server_handshake_flight_record"])
    opener, buffer = RecordProtection(suite, t["server_handshake_traffic_secret"]), HandshakeBuffer()
    for record in reader:
        buffer.feed(opener.decrypt(record)[1])
    sealer = RecordProtection(suite, t["server_handshake_traffic_secret"])
    return [
        (type(decode_handshake(raw)).__name__, sealer.encrypt(ContentType.handshake, raw))
        for raw in buffer.pop_all()
    ]


def observed_transitions(
    client: ClientConnection, named: list[tuple[str, bytes]]
) -> list[tuple[State, str, State]]:
    seen = []
    for name, record in named:
        before = client.state
        client.receive_data(record)
        seen.append((before, name, client.state))
    return seen


def drawn() -> set[tuple[State, str, State]]:
    return {(edge.state, edge.label, edge.to) for edge in CLIENT.receiving()}


def test_transitions_match_the_running_client_simple_and_client_auth() -> None:
    hook = nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)
    for trace_name, extra in (("simple_1rtt", {}), ("client_auth", {"extensions_hook": hook})):
        t = trace(trace_name)
        client = nss_client(t, **extra)
        client.data_to_send()
        seen = observed_transitions(client, [("ServerHello", t["server_hello_record"])])
        seen += observed_transitions(client, one_message_per_record(t))
        assert set(seen) <= drawn(), (trace_name, set(seen) - drawn())
        assert seen[-1] == (State.WAIT_FINISHED, "Finished", State.CONNECTED)
        assert len(seen) == (6 if trace_name == "client_auth" else 5)
    assert (State.WAIT_CERT_CR, "CertificateRequest", State.WAIT_CERT) in seen


def test_hello_retry_request_loops_in_wait_sh() -> None:
    t = trace("hrr")
    hook = nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)

    def first_only(exts: list[ext.Extension]) -> list[ext.Extension]:
        return hook(exts) if not any(e.type == ExtensionType.cookie for e in exts) else exts

    client = nss_client(
        t,
        groups=NSS_GROUPS[:3],
        extensions_hook=first_only,
        key_share_private_keys={
            NamedGroup.x25519: t["client_ephemeral_x25519_private_key"],
            NamedGroup.secp256r1: t["client_ephemeral_p256_private_key"],
        },
    )
    client.data_to_send()
    seen = observed_transitions(client, [("HelloRetryRequest", t["hello_retry_request_record"])])
    assert seen == [(State.WAIT_SH, "HelloRetryRequest", State.WAIT_SH)]
    assert set(seen) <= drawn()


def replay_simple() -> ConnectionRecorder:
    t = trace("simple_1rtt")
    client = nss_client(t)
    rec = ConnectionRecorder(client, clock=iter(range(100)).__next__)
    assert rec.send() == t["client_hello_record"]
    rec.receive(t["server_hello_record"])
    rec.receive(t["server_handshake_flight_record"][:100])  # half a record: nothing yet
    rec.receive(t["server_handshake_flight_record"][100:])
    assert rec.send() == t["client_finished_record"]
    rec.receive(t["new_session_ticket_record"] + t["server_application_data_record"])
    client.close()
    rec.send()
    return rec


def test_recorder_names_every_record_of_the_rfc8448_replay() -> None:
    rec = replay_simple()
    rows = [(r.sender, r.size, r.contents, r.state) for r in rec.records]
    assert rows == [
        ("client", 201, ["ClientHello"], State.WAIT_SH),
        ("server", 95, ["ServerHello"], State.WAIT_EE),
        (
            "server",
            679,
            ["EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"],
            State.CONNECTED,
        ),
        ("client", 58, ["Finished"], State.CONNECTED),
        ("server", 227, ["NewSessionTicket"], State.CONNECTED),
        ("server", 72, ["application data (50 bytes)"], State.CONNECTED),
        # §6.1: our close_notify closes our write side only; CLOSED comes with the server's.
        ("client", 24, ["Alert: close_notify"], State.CONNECTED),
    ]
    t = trace("simple_1rtt")
    assert rec.records[2].messages[3] == t["server_finished"]
    assert rec.records[3].messages == [t["client_finished"]]
    assert [r.time for r in rec.records] == [1, 2, 3, 4, 5, 6, 7]  # the injected clock: one tick per record
    assert rec.records[2].describe().startswith("S -> C    679 B  {EncryptedExtensions}, {Certificate}")


def test_recorder_keeps_the_clients_own_keylog() -> None:
    t = trace("simple_1rtt")
    keylog = MemoryKeyLog()
    client = nss_client(t, keylog)
    rec = ConnectionRecorder(client)
    rec.send()
    rec.receive(t["server_hello_record"] + t["server_handshake_flight_record"])
    assert keylog.lines == rec.keylog_lines and len(keylog.lines) == 5
    assert rec.secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"] == t["server_handshake_traffic_secret"]


def test_sequence_diagram_texts() -> None:
    rec = replay_simple()
    texts = figure_texts(sequence_diagram(rec.records, show_times=False, title="RFC 8448"))
    assert {
        "Client",
        "Server",
        "RFC 8448",
        "ClientHello",
        "{Finished}",
        "201 B",
        "{Alert: close_notify}",
    } <= set(texts)
    assert "{EncryptedExtensions}  {Certificate}  {CertificateVerify}  {Finished}" in texts
    assert "WAIT_EE" in texts and not any("ms" in text for text in texts)
    timed = figure_texts(sequence_diagram(rec.records))
    assert "201 B · 1000.0 ms" in timed


def test_recorder_and_diagram_against_the_stand_in() -> None:
    with StandIn() as server:
        keylog = MemoryKeyLog()
        client = ClientConnection(
            ClientConfig(server_name=server.server_name, cafile=server.cafile, keylog=keylog)
        )
        rec = ConnectionRecorder(client)
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(rec.send())
            while not client.handshake_complete:
                rec.receive(sock.recv(65536))
            sock.sendall(rec.send())
    names = [name for r in rec.records for name in r.contents]
    assert names[:2] == ["ClientHello", "ServerHello"]
    handshake = [n for n in names if n[0].isupper() and n != "ChangeCipherSpec"]
    assert handshake[:7] == [
        "ClientHello",
        "ServerHello",
        "EncryptedExtensions",
        "Certificate",
        "CertificateVerify",
        "Finished",
        "Finished",
    ]
    states = [r.state for r in rec.records if r.sender == "server" and r.contents != ["ChangeCipherSpec"]]
    assert states[:5] == [
        State.WAIT_EE,
        State.WAIT_CERT_CR,
        State.WAIT_CV,
        State.WAIT_FINISHED,
        State.CONNECTED,
    ]
    texts = figure_texts(sequence_diagram(rec.records))
    assert "{CertificateVerify}" in texts and any(t.endswith(" ms") for t in texts)


def test_nesting_figure_from_spans() -> None:
    t = trace("simple_1rtt")
    spans = annotate_record(t["client_hello_record"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = figure_texts(nesting_figure(spans, title="ClientHello"))
    assert "record: handshake (ClientHello)" in texts
    assert {"ClientHello", "random", "extensions", "key_share", "signature_algorithms", "byte offset"} <= set(
        texts
    )
    shallow = figure_texts(nesting_figure(spans, max_depth=1))
    assert "random" not in shallow and "ClientHello" in shallow


def test_nesting_figure_is_readable_at_a_notebooks_width() -> None:
    """Shown at its own size (no wider than a notebook's 900-odd pixels), with no label under 8 points."""
    from matplotlib.text import Text

    fig = nesting_figure(annotate_record(trace("simple_1rtt")["client_hello_record"]), title="ClientHello")
    fig.canvas.draw()
    _, shown = fig._repr_png_()
    assert shown["width"] <= 920, shown
    small = {
        t.get_text(): t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_fontsize() < 8
    }
    assert not small, small


def test_nesting_figure_counts_repeats_in_its_key() -> None:
    """Three cipher suites too narrow to name read 'cipher_suite ×3' in the key, not the name three times."""
    key = figure_texts(nesting_figure(annotate_record(trace("simple_1rtt")["client_hello_record"])))[-1]
    assert "cipher_suite ×3" in key and "cipher_suite, cipher_suite" not in key


def test_nesting_figure_names_every_bar() -> None:
    """A bar too narrow for its label is numbered with its neighbours, and the key under the figure names it."""
    from tlslab.course.figures.handshake import _short

    spans = annotate_record(trace("simple_1rtt")["client_hello_record"])
    texts = figure_texts(nesting_figure(spans))
    key = texts[-1]
    for depth, span in walk(spans):
        if depth <= 3 and span.size:
            name = _short(span.label, depth)
            assert name in texts or f" {name}" in f" {key.replace(chr(10), ' ')}", (
                f"{span.label!r} drawn unnamed"
            )
    numbers = [t for t in texts if t.isdigit()]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]  # numbered in reading order
    assert all(f"{n}: " in key for n in numbers) and len(numbers) >= 5
