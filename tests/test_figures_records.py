"""tlslab.course.figures.records: fields, figures and nonce rows drawn from RFC 8448's server flight record.

Expected values: RFC 8448 §3 (the record, its key and IV, the handshake
messages inside it), decrypted with cryptography's AESGCM.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from tlslab.course.figures.records import (  # noqa: E402
    inner_parts,
    inner_plaintext_fields,
    nonce_figure,
    nonce_rows,
    record_fields,
    record_figure,
)
from tlslab.course.nb import annotated_hex, flatten_fields  # noqa: E402
from tlslab.course.rfc8448 import trace  # noqa: E402
from tlslab.record import encode_inner_plaintext  # noqa: E402

T = trace("simple_1rtt")
RECORD = T["server_handshake_flight_record"]
KEY, IV = T["server_handshake_write_key"], T["server_handshake_write_iv"]
INNER = AESGCM(KEY).decrypt(IV, RECORD[5:], RECORD[:5])  # record 0: nonce = iv
MESSAGES = (
    T["encrypted_extensions"]
    + T["server_certificate"]
    + T["server_certificate_verify"]
    + T["server_finished"]
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def test_inner_parts_of_the_server_flight() -> None:
    assert INNER == MESSAGES + b"\x16"
    assert inner_parts(INNER) == (len(MESSAGES), 22, 0)
    assert inner_parts(encode_inner_plaintext(23, b"hi", padding=5)) == (2, 23, 5)


def test_record_fields_cover_the_record() -> None:
    spans = flatten_fields(record_fields(RECORD, INNER))
    by_label = {s.label: (s.start, s.end) for s in spans}
    assert by_label["header = additional data"] == (0, 5)
    assert by_label["opaque_type = 23 (application_data)"] == (0, 1)
    assert by_label["legacy_record_version = 0x0303"] == (1, 3)
    odd = RECORD[:2] + b"\x01" + RECORD[3:]  # labels are read from the bytes, not assumed
    assert "legacy_record_version = 0x0301" in [s.label for s in flatten_fields(record_fields(odd))]
    assert by_label[f"length = {len(RECORD) - 5}"] == (3, 5)
    assert by_label[f"encrypted_record ({len(INNER)} bytes)"] == (5, 5 + len(INNER))
    assert by_label["encrypted type (handshake)"] == (5 + len(MESSAGES), 6 + len(MESSAGES))
    assert by_label["tag (16 bytes)"] == (len(RECORD) - 16, len(RECORD))
    annotated_hex(RECORD, record_fields(RECORD, INNER))  # the spans fit inside the record


def test_record_fields_with_padding_and_without_inner() -> None:
    inner = encode_inner_plaintext(23, b"abc", padding=4)
    record = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big") + bytes(len(inner) + 16)
    labels = [s.label for s in flatten_fields(record_fields(record, inner))]
    assert "encrypted zeros (4 bytes)" in labels
    assert "encrypted content (3 bytes)" in labels
    plain = [s.label for s in flatten_fields(record_fields(record))]
    assert not any(label.startswith("encrypted content") for label in plain)


def test_record_fields_refuse_mismatches() -> None:
    with pytest.raises(ValueError, match="whole protected record"):
        record_fields(RECORD[:-1])
    with pytest.raises(ValueError, match="inner plaintext"):
        record_fields(RECORD, INNER[:-1])


def test_inner_plaintext_fields() -> None:
    fields = inner_plaintext_fields(encode_inner_plaintext(21, b"\x01\x00", padding=3))
    assert fields == [
        (0, 2, "content (2 bytes)"),
        (2, 3, "type = 21 (alert)"),
        (3, 6, "zeros: padding (3 bytes)"),
    ]


def test_record_figure_texts_come_from_the_record() -> None:
    text = _texts(record_figure(RECORD, INNER))
    assert "17 03 03 02 a2" in text  # the header, as on the wire
    assert f"length {len(RECORD) - 5}" in text
    assert f"encrypted_record · {len(INNER)} bytes" in text
    assert RECORD[5:15].hex(" ") in text
    assert RECORD[-16:-11].hex(" ") in text  # start of the tag
    assert f"content · {len(MESSAGES)} bytes" in text
    assert MESSAGES[:6].hex(" ") in text  # EncryptedExtensions header
    assert "0x16\nhandshake" in text
    assert "zeros\n0 B" in text


def test_record_figure_refuses_a_wrong_inner() -> None:
    with pytest.raises(ValueError):
        record_figure(RECORD, INNER + b"\x00")


@pytest.mark.parametrize("seq", [0, 1, 255, 256, 2**64 - 1])
def test_nonce_rows(seq: int) -> None:
    iv, padded, nonce = nonce_rows(IV, seq)
    assert iv == IV and len(padded) == 12 and padded[:4] == bytes(4)
    assert int.from_bytes(padded, "big") == seq
    assert bytes(a ^ b for a, b in zip(iv, padded, strict=True)) == nonce


def test_nonce_figure_shows_the_bytes() -> None:
    texts = [t.get_text() for t in nonce_figure(IV, 1).findobj(Text)]
    cells = [t for t in texts if len(t) == 2]
    assert cells == [f"{b:02x}" for b in IV] + ["00"] * 11 + ["01"] + [
        f"{b:02x}" for b in nonce_rows(IV, 1)[2]
    ]
    assert cells[-1] == f"{IV[-1] ^ 1:02x}"
    assert "seq = 1, 64-bit, padded" in texts
    assert any("§5.3" in t for t in texts)


def test_nonce_figure_draws_the_nonce_it_is_given() -> None:
    """A notebook passes its own nonce; the figure draws it as given, even a wrong one."""
    wrong = bytes(len(IV))
    texts = [t.get_text() for t in nonce_figure(IV, 1, wrong).findobj(Text)]
    cells = [t for t in texts if len(t) == 2]
    assert cells[-len(IV) :] == ["00"] * len(IV)
    with pytest.raises(ValueError, match="as long as the IV"):
        nonce_figure(IV, 1, b"short")
