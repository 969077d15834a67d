"""Every record of the five RFC 8448 traces through the record layer (RFC 8446 §5).

Protected records are decrypted with the trace's traffic secrets, and the
plaintext re-encrypted (RFC 8448 uses no padding) must give back the record
byte for byte. The sequence number of each record is its position among the
records sent under the same key (RFC 8446 §5.3), which this file counts.
"""

from __future__ import annotations

import pytest

from tlslab.constants import TLS10, TLS12, CipherSuite, ContentType
from tlslab.course.rfc8448 import TRACES, raw, trace
from tlslab.errors import BadRecordMac, UnexpectedMessage
from tlslab.record import Record, RecordProtection, RecordReader, plaintext_record
from tlslab.suites import SUITES

SUITE = SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]

# Which traffic secret protects which record, by the record's name in the trace (RFC 8446 §2, §7.1).
SECRET_OF = {
    "client_early_data_record": "client_early_traffic_secret",
    "end_of_early_data_record": "client_early_traffic_secret",  # §4.5: EndOfEarlyData uses the 0-RTT keys
    "server_handshake_flight_record": "server_handshake_traffic_secret",
    "client_handshake_flight_record": "client_handshake_traffic_secret",
    "client_finished_record": "client_handshake_traffic_secret",
    "new_session_ticket_record": "server_application_traffic_secret_0",
    "server_application_data_record": "server_application_traffic_secret_0",
    "server_alert_record": "server_application_traffic_secret_0",
    "client_application_data_record": "client_application_traffic_secret_0",
    "client_alert_record": "client_application_traffic_secret_0",
}
# The trace names keys by sender and phase: the write key of each secret above.
KEY_PREFIX = {
    "client_early_traffic_secret": "client_early",
    "server_handshake_traffic_secret": "server_handshake",
    "client_handshake_traffic_secret": "client_handshake",
    "server_application_traffic_secret_0": "server_application",
    "client_application_traffic_secret_0": "client_application",
}


def _records(name: str) -> list[tuple[str, dict]]:
    values = raw()[name]["values"]
    found = [(k, v) for k, v in values.items() if "protected" in v]
    return sorted(found, key=lambda kv: kv[1]["step"])


def _protected(name: str) -> list[tuple[str, dict, str, int]]:
    """(record name, value, secret name, sequence number) of each protected record, in sending order."""
    out, counters = [], {}
    for key, value in _records(name):
        if value["protected"]:
            secret = SECRET_OF[key]
            out.append((key, value, secret, counters.get(secret, 0)))
            counters[secret] = counters.get(secret, 0) + 1
    return out


PROTECTED = [pytest.param(n, *rec, id=f"{n}-{rec[0]}") for n in TRACES for rec in _protected(n)]
PLAINTEXT = [
    pytest.param(n, k, v, id=f"{n}-{k}") for n in TRACES for k, v in _records(n) if not v["protected"]
]


def test_every_protected_record_is_listed() -> None:
    names = {(p.values[0], p.values[1]) for p in PROTECTED}
    every = {(n, k) for n in TRACES for k, v in raw()[n]["values"].items() if v.get("protected")}
    assert names == every and len(every) >= 25


def _protection(name: str, secret: str, seq: int) -> RecordProtection:
    t = trace(name)
    protection = RecordProtection(SUITE, t[secret])
    prefix = KEY_PREFIX[secret]
    assert (protection.key, protection.iv) == (t[f"{prefix}_write_key"], t[f"{prefix}_write_iv"])
    protection.seq = seq
    return protection


@pytest.mark.parametrize(("name", "key", "value", "secret", "seq"), PROTECTED)
def test_decrypt_and_reencrypt(name: str, key: str, value: dict, secret: str, seq: int) -> None:
    wire = bytes.fromhex(value["hex"])
    reader = RecordReader()
    reader.feed(wire)
    record = reader.next_record()
    assert record is not None and reader.next_record() is None
    assert (record.content_type, record.legacy_version) == (ContentType.application_data, TLS12)
    content_type, data = _protection(name, secret, seq).decrypt(record)
    assert content_type == ContentType[value["inner_content_type"]]
    assert data.hex() == value["payload"]
    assert len(data) == value["payload_octets"]
    writer = _protection(name, secret, seq)
    assert writer.encrypt(content_type, data).hex() == value["hex"]
    assert writer.seq == seq + 1


@pytest.mark.parametrize("name", TRACES)
def test_each_direction_in_order_with_counted_sequence_numbers(name: str) -> None:
    """One RecordProtection per secret, fresh at seq 0, decrypting its records in sending order."""
    readers: dict[str, RecordProtection] = {}
    for key, value, secret, _seq in _protected(name):
        if secret not in readers:
            readers[secret] = _protection(name, secret, 0)
        record = Record(ContentType.application_data, TLS12, bytes.fromhex(value["hex"])[5:])
        assert readers[secret].decrypt(record)[1].hex() == value["payload"], key


@pytest.mark.parametrize(("name", "key", "value", "secret", "seq"), PROTECTED)
def test_every_bit_flip_is_caught(name: str, key: str, value: dict, secret: str, seq: int) -> None:
    wire = bytes.fromhex(value["hex"])
    protection = _protection(name, secret, seq)
    positions = [1, 2] + list(range(5, len(wire)))  # the legacy version (in the AAD) and the whole fragment
    for pos in positions:
        for bit in range(8):
            damaged = bytearray(wire)
            damaged[pos] ^= 1 << bit
            record = Record(damaged[0], int.from_bytes(damaged[1:3], "big"), bytes(damaged[5:]))
            protection.seq = seq
            with pytest.raises(BadRecordMac):
                protection.decrypt(record)


@pytest.mark.parametrize(("name", "key", "value", "secret", "seq"), PROTECTED[:3])
def test_wrong_sequence_number_fails(name: str, key: str, value: dict, secret: str, seq: int) -> None:
    record = Record(ContentType.application_data, TLS12, bytes.fromhex(value["hex"])[5:])
    with pytest.raises(BadRecordMac):
        _protection(name, secret, seq + 1).decrypt(record)


def test_outer_type_must_be_application_data() -> None:
    name, key, value, secret, seq = PROTECTED[0].values
    record = Record(ContentType.handshake, TLS12, bytes.fromhex(value["hex"])[5:])
    with pytest.raises(UnexpectedMessage):
        _protection(name, secret, seq).decrypt(record)


@pytest.mark.parametrize(("name", "key", "value"), PLAINTEXT)
def test_plaintext_records(name: str, key: str, value: dict) -> None:
    wire = bytes.fromhex(value["hex"])
    reader = RecordReader()
    reader.feed(wire)
    record = reader.next_record()
    assert record is not None
    content_type = ContentType[value["inner_content_type"]]
    assert record.content_type == content_type
    assert record.fragment.hex() == value["payload"]
    # §5.1: 0x0301 is allowed only for an initial ClientHello (not the one after an HRR); the rest say 0x0303.
    initial_client_hello = key in ("client_hello_record", "client_hello_record_1")
    assert record.legacy_version == (TLS10 if initial_client_hello else TLS12)
    assert plaintext_record(content_type, record.fragment, record.legacy_version) == wire


@pytest.mark.parametrize("name", TRACES)
@pytest.mark.parametrize("chunk", [1, 7, 5000])
def test_whole_trace_through_one_reader(name: str, chunk: int) -> None:
    """All records of a trace back to back, delivered in pieces: the same records come out."""
    wires = [bytes.fromhex(v["hex"]) for _, v in _records(name)]
    stream = b"".join(wires)
    reader, out = RecordReader(), []
    for start in range(0, len(stream), chunk):
        reader.feed(stream[start : start + chunk])
        out.extend(reader)
    assert [r.encode() for r in out] == wires
    assert reader.buffered == 0
