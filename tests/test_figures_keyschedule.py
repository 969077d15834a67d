"""tlslab.course.figures.keyschedule: the values against RFC 8448, the explorer's inputs, the figure's texts.

Expected values come from RFC 8448 (tlslab/course/data/rfc8448.json, including the
HKDF inputs the RFC prints) and, for SHA-384, from cryptography's HKDF.
"""

from __future__ import annotations

import hashlib
import hmac

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from tlslab.constants import CipherSuite  # noqa: E402
from tlslab.course.figures.keyschedule import (  # noqa: E402
    STEPS,
    compute_key_schedule,
    default_suite,
    derivation_html,
    derivation_inputs,
    key_schedule_explorer,
    key_schedule_figure,
)
from tlslab.course.nb import short_hex
from tlslab.course.rfc8448 import trace, value_info  # noqa: E402
from tlslab.suites import SUITES  # noqa: E402


def transcripts_of(name: str) -> dict[str, bytes]:
    """The four transcript stages of an RFC 8448 trace (simple_1rtt or resumed_0rtt)."""
    t = trace(name)
    ch, sh = t["client_hello"], t["server_hello"]
    flight = t["encrypted_extensions"] + t.get("server_certificate", b"")
    flight += t.get("server_certificate_verify", b"") + t["server_finished"]
    eoed = t.get("end_of_early_data", b"")
    return {
        "client_hello": ch,
        "server_hello": ch + sh,
        "server_finished": ch + sh + flight,
        "client_finished": ch + sh + flight + eoed + t["client_finished"],
    }


@pytest.fixture(scope="module")
def simple() -> dict[str, bytes]:
    t = trace("simple_1rtt")
    return compute_key_schedule(t["ecdhe_shared_secret"], transcripts_of("simple_1rtt"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- compute_key_schedule vs RFC 8448

SIMPLE_NAMES = [
    "early_secret",
    "derived_secret_for_handshake",
    "handshake_secret",
    "client_handshake_traffic_secret",
    "server_handshake_traffic_secret",
    "derived_secret_for_master",
    "master_secret",
    "client_application_traffic_secret_0",
    "server_application_traffic_secret_0",
    "exporter_master_secret",
    "resumption_master_secret",
    "client_handshake_write_key",
    "client_handshake_write_iv",
    "server_handshake_write_key",
    "server_handshake_write_iv",
    "client_application_write_key",
    "client_application_write_iv",
    "server_application_write_key",
    "server_application_write_iv",
    "server_finished_key",
    "client_finished_key",
]


@pytest.mark.parametrize("name", SIMPLE_NAMES)
def test_simple_trace_values_match_rfc8448(simple: dict[str, bytes], name: str) -> None:
    assert simple[name] == trace("simple_1rtt")[name]


@pytest.mark.parametrize(
    "name",
    [
        "early_secret",
        "binder_key",
        "client_early_traffic_secret",
        "early_exporter_master_secret",
        "client_early_write_key",
        "client_early_write_iv",
        "handshake_secret",
        "master_secret",
        "server_application_traffic_secret_0",
        "resumption_master_secret",
    ],
)
def test_resumed_trace_with_psk_matches_rfc8448(name: str) -> None:
    t = trace("resumed_0rtt")
    values = compute_key_schedule(t["ecdhe_shared_secret"], transcripts_of("resumed_0rtt"), psk=t["psk"])
    assert values[name] == t[name]


def test_missing_stages_skip_their_secrets() -> None:
    t = trace("simple_1rtt")
    values = compute_key_schedule(
        t["ecdhe_shared_secret"], {"server_hello": transcripts_of("simple_1rtt")["server_hello"]}
    )
    assert values["server_handshake_traffic_secret"] == t["server_handshake_traffic_secret"]
    assert "client_early_traffic_secret" not in values
    assert "client_application_traffic_secret_0" not in values
    assert "resumption_master_secret" not in values
    assert values["master_secret"] == t["master_secret"]  # needs no transcript


def _hkdf_expand_label_cryptography(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label of RFC 8446 §7.1 on cryptography's HKDFExpand, for SHA-384."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(hashes.SHA384(), length, info).derive(secret)


def test_sha384_chain_agrees_with_cryptography() -> None:
    t = trace("simple_1rtt")
    transcripts = transcripts_of("simple_1rtt")
    values = compute_key_schedule(t["ecdhe_shared_secret"], transcripts, "sha384")
    zeros = bytes(48)
    empty_hash = hashlib.sha384().digest()
    early = hmac.digest(zeros, zeros, "sha384")
    derived = _hkdf_expand_label_cryptography(early, b"derived", empty_hash, 48)
    hs = hmac.digest(derived, t["ecdhe_shared_secret"], "sha384")
    th = hashlib.sha384(transcripts["server_hello"]).digest()
    s_hs = _hkdf_expand_label_cryptography(hs, b"s hs traffic", th, 48)
    assert values["early_secret"] == early
    assert values["handshake_secret"] == hs
    assert values["server_handshake_traffic_secret"] == s_hs
    assert values["server_handshake_write_key"] == _hkdf_expand_label_cryptography(s_hs, b"key", b"", 32)
    assert values["server_handshake_write_iv"] == _hkdf_expand_label_cryptography(s_hs, b"iv", b"", 12)
    assert len(values["master_secret"]) == 48


def test_suite_must_match_hash() -> None:
    with pytest.raises(ValueError, match="sha256"):
        compute_key_schedule(bytes(32), {}, "sha384", suite=SUITES[CipherSuite.TLS_AES_128_GCM_SHA256])
    with pytest.raises(ValueError, match="sha512"):
        default_suite("sha512")


def test_chacha_suite_gives_32_byte_keys() -> None:
    t = trace("simple_1rtt")
    suite = SUITES[CipherSuite.TLS_CHACHA20_POLY1305_SHA256]
    values = compute_key_schedule(t["ecdhe_shared_secret"], transcripts_of("simple_1rtt"), suite=suite)
    assert len(values["server_handshake_write_key"]) == 32
    assert values["server_handshake_traffic_secret"] == t["server_handshake_traffic_secret"]


# ---------------------------------------------------------------- derivation_inputs (the widget's logic)


@pytest.mark.parametrize("name", [n for n in STEPS if not n.startswith("client_early") and n != "binder_key"])
def test_every_step_recomputes_its_value(simple: dict[str, bytes], name: str) -> None:
    if name not in simple:
        pytest.skip(f"{name} needs a PSK")
    derivation = derivation_inputs(name, simple, transcripts_of("simple_1rtt"))
    assert derivation.output == simple[name]


@pytest.mark.parametrize(
    "name",
    ["client_handshake_traffic_secret", "server_application_traffic_secret_0", "server_handshake_write_iv"],
)
def test_derivation_inputs_are_the_ones_rfc8448_prints(simple: dict[str, bytes], name: str) -> None:
    printed = value_info("simple_1rtt", name)["inputs"]
    derivation = derivation_inputs(name, simple, transcripts_of("simple_1rtt"))
    assert derivation.secret.hex() == printed["prk"]
    assert derivation.info.hex() == printed["info"]
    assert derivation.context.hex() == printed.get("hash", "")


def test_derivation_fields_of_s_hs_traffic(simple: dict[str, bytes]) -> None:
    d = derivation_inputs("server_handshake_traffic_secret", simple, transcripts_of("simple_1rtt"))
    assert (d.operation, d.secret_name, d.label, d.length) == (
        "Derive-Secret",
        "handshake_secret",
        b"s hs traffic",
        32,
    )
    assert d.context_name == "Transcript-Hash(ClientHello...ServerHello)"
    assert (
        d.formula()
        == 'Derive-Secret(handshake_secret, "s hs traffic", Transcript-Hash(ClientHello...ServerHello))'
    )
    rows = dict(d.rows())
    assert rows["label"] == '"tls13 s hs traffic" (18 bytes)'
    assert rows["output"] == trace("simple_1rtt")["server_handshake_traffic_secret"].hex()


def test_derivation_of_extract_and_key(simple: dict[str, bytes]) -> None:
    t = trace("simple_1rtt")
    hs = derivation_inputs("handshake_secret", simple, transcripts_of("simple_1rtt"))
    assert hs.operation == "HKDF-Extract"
    assert (hs.secret, hs.ikm) == (t["derived_secret_for_handshake"], t["ecdhe_shared_secret"])
    key = derivation_inputs("server_handshake_write_key", simple, transcripts_of("simple_1rtt"))
    assert (key.label, key.length, key.context) == (b"key", 16, b"")
    assert key.formula() == 'HKDF-Expand-Label(server_handshake_traffic_secret, "key", "", 16)'


def test_derived_uses_hash_of_empty_string(simple: dict[str, bytes]) -> None:
    d = derivation_inputs("derived_secret_for_master", simple, {})
    assert d.context == hashlib.sha256(b"").digest()
    assert d.output == trace("simple_1rtt")["derived_secret_for_master"]


def test_derivation_errors(simple: dict[str, bytes]) -> None:
    with pytest.raises(KeyError, match="not a key schedule value"):
        derivation_inputs("master_key", simple, {})
    with pytest.raises(KeyError, match="server_hello"):
        derivation_inputs("client_handshake_traffic_secret", simple, {})


def test_derivation_html_says_whether_it_matches(simple: dict[str, bytes]) -> None:
    d = derivation_inputs("client_handshake_traffic_secret", simple, transcripts_of("simple_1rtt"))
    page = derivation_html(d, simple["client_handshake_traffic_secret"])
    assert "✓ matches" in page and "tls13 c hs traffic" in page and d.info.hex() in page
    assert "✗ differs" in derivation_html(d, bytes(32))


def test_explorer_widget_follows_the_dropdown(simple: dict[str, bytes]) -> None:
    pytest.importorskip("ipywidgets")
    box = key_schedule_explorer(simple, transcripts_of("simple_1rtt"))
    dropdown, view = box.children
    assert "early_secret" in view.value
    dropdown.value = "server_handshake_write_iv"
    assert "tls13 iv" in view.value
    assert trace("simple_1rtt")["server_handshake_write_iv"].hex() in view.value


# ---------------------------------------------------------------- the figure


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def test_figure_shows_every_secret_with_its_rfc8448_value(simple: dict[str, bytes]) -> None:
    fig = key_schedule_figure(simple)
    text = _texts(fig)
    t = trace("simple_1rtt")
    for title in ("Early Secret", "Handshake Secret", "Master Secret", "(EC)DHE"):
        assert title in text
    for label in ("c hs traffic", "s hs traffic", "c ap traffic", "s ap traffic", "exp master", "res master"):
        assert f'"{label}"' in text
    for name in SIMPLE_NAMES:
        assert short_hex(t[name]) in text, name
    assert short_hex(t["ecdhe_shared_secret"]) in text
    assert "no PSK" in text


def test_figure_with_psk_and_sha384() -> None:
    t = trace("resumed_0rtt")
    values = compute_key_schedule(t["ecdhe_shared_secret"], transcripts_of("resumed_0rtt"), psk=t["psk"])
    text = _texts(key_schedule_figure(values))
    assert short_hex(t["binder_key"]) in text and short_hex(t["client_early_write_key"]) in text
    assert "no PSK" not in text
    values384 = compute_key_schedule(t["ecdhe_shared_secret"], transcripts_of("resumed_0rtt"), "sha384")
    text384 = _texts(key_schedule_figure(values384, "sha384", nbytes=4))
    assert "SHA384 (Hash.length 48)" in text384 and "TLS_AES_256_GCM_SHA384" in text384
    assert short_hex(values384["master_secret"], 4) in text384


def test_short_hex() -> None:
    assert short_hex(bytes(range(10)), 4) == "00010203…"
    assert short_hex(b"\xab", 4) == "ab"
    assert short_hex(bytes(range(5)), 2, sep=" ", more=" …") == "00 01 …"
    assert short_hex(b"", 4) == ""


def test_figure_of_secrets_alone(simple: dict[str, bytes]) -> None:
    """A notebook's own key schedule gives secrets only: no inputs, no keys; the figure draws them."""
    t = trace("simple_1rtt")
    keys = ("_write_key", "_write_iv", "finished_key")
    secrets = {name: simple[name] for name in STEPS if name in simple and not name.endswith(keys)}
    assert len(secrets) == 14 and "binder_key" in secrets
    text = _texts(key_schedule_figure(secrets))
    for name, value in secrets.items():
        assert short_hex(t.get(name, value)) in text, name
    assert "(EC)DHE" in text and "0 (no PSK)" in text
    assert short_hex(t["ecdhe_shared_secret"]) not in text
    assert "keys and IVs" not in text and short_hex(t["server_handshake_write_key"]) not in text
    assert "RFC 8446 §7.1." in text and "§7.3" not in text


def test_derivation_of_early_secret_without_zeros_in_values(simple: dict[str, bytes]) -> None:
    """A notebook's own values carry no "zeros": the salt and IKM of the Early Secret are zeros anyway."""
    values = {name: value for name, value in simple.items() if name != "zeros"}
    d = derivation_inputs("early_secret", values, {})
    assert (d.secret, d.ikm) == (bytes(32), bytes(32))
    assert d.output == trace("simple_1rtt")["early_secret"]
