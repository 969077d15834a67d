"""The key schedule (RFC 8446 §7) against RFC 5869's HKDF vectors and all five RFC 8448 traces.

Every expected value comes from an RFC or from an independent implementation
(``cryptography``'s HKDF, tlslite-ng's HKDF-Expand-Label): the trace tests
start from the trace's *inputs* (the ECDHE shared secret, the PSK, the
handshake messages) and must reproduce every secret, key, IV, finished key,
verify_data and binder that RFC 8448 prints.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from support.peers import python_ssl_server, require_tool

from tlslab.constants import CipherSuite
from tlslab.course.rfc8448 import TRACES, raw, trace
from tlslab.errors import InternalError
from tlslab.keyschedule import (
    KeySchedule,
    derive_secret,
    exporter,
    finished_key,
    finished_verify_data,
    hkdf_expand,
    hkdf_expand_label,
    hkdf_extract,
    hkdf_label,
    hrr_message_hash,
    next_traffic_secret,
    resumption_psk,
    traffic_keys,
    transcript_hash,
)
from tlslab.suites import SUITES

SUITE = SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]  # every RFC 8448 trace negotiates 0x1301

# ---------------------------------------------------------------- RFC 5869 Appendix A, cases 1-3

RFC5869 = [
    pytest.param(
        "0b" * 22,
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        42,
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        id="case1",
    ),
    pytest.param(
        bytes(range(0x00, 0x50)).hex(),
        bytes(range(0x60, 0xB0)).hex(),
        bytes(range(0xB0, 0x100)).hex(),
        82,
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
        id="case2",
    ),
    pytest.param(
        "0b" * 22,
        "",
        "",
        42,
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        id="case3-empty-salt",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "prk", "okm"), RFC5869)
def test_rfc5869_vectors(ikm: str, salt: str, info: str, length: int, prk: str, okm: str) -> None:
    assert hkdf_extract(bytes.fromhex(salt), bytes.fromhex(ikm)).hex() == prk
    assert hkdf_expand(bytes.fromhex(prk), bytes.fromhex(info), length).hex() == okm


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("length", [0, 1, 31, 32, 33, 48, 100, 255 * 32])
def test_hkdf_agrees_with_cryptography(hash_name: str, length: int) -> None:
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[hash_name]
    salt, ikm, info = b"salt" * 5, b"input keying material", b"info"
    prk = hkdf_extract(salt, ikm, hash_name)
    assert prk == hmac.digest(salt, ikm, hash_name)
    if length:
        assert hkdf_expand(prk, info, length, hash_name) == HKDFExpand(algorithm, length, info).derive(prk)
        assert HKDF(algorithm, length, salt, info).derive(ikm) == hkdf_expand(prk, info, length, hash_name)
    else:
        assert hkdf_expand(prk, info, 0, hash_name) == b""


def test_hkdf_expand_refuses_more_than_255_blocks() -> None:
    with pytest.raises(ValueError, match="at most 8160"):
        hkdf_expand(bytes(32), b"", 255 * 32 + 1)


def test_empty_salt_is_hashlen_zeros() -> None:
    assert hkdf_extract(b"", b"x", "sha384") == hmac.digest(bytes(48), b"x", "sha384")


# ---------------------------------------------------------------- HkdfLabel (§7.1)


def test_hkdf_label_layout() -> None:
    # RFC 8448 §3 prints this info for the server handshake key: 00 10 | 09 "tls13 key" | 00
    assert hkdf_label(b"key", b"", 16).hex() == "001009746c733133206b657900"
    assert hkdf_label(b"c hs traffic", b"\xaa" * 32, 32) == (
        b"\x00\x20" + b"\x12tls13 c hs traffic" + b"\x20" + b"\xaa" * 32
    )


@pytest.mark.parametrize(
    ("label", "context", "length"),
    [(b"x" * 250, b"", 32), (b"", b"", 32), (b"key", b"c" * 256, 16), (b"key", b"", 1 << 16)],
    ids=["label-too-long", "label-too-short", "context-too-long", "length-too-big"],
)
def test_hkdf_label_bounds(label: bytes, context: bytes, length: int) -> None:
    with pytest.raises(ValueError):
        hkdf_label(label, context, length)


def test_hkdf_label_accepts_the_extremes() -> None:
    assert len(hkdf_label(b"x" * 249, b"c" * 255, 0xFFFF)) == 2 + 1 + 255 + 1 + 255


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_expand_label_and_derive_secret_agree_with_tlslite(hash_name: str) -> None:
    cryptomath = pytest.importorskip("tlslite.utils.cryptomath", reason="tlslite-ng")
    secret = hashlib.new(hash_name, b"some secret").digest()
    messages = b"\x01\x00\x00\x04abcd\x02\x00\x00\x02ef"
    for label, context, length in [(b"key", b"", 32), (b"iv", b"", 12), (b"finished", b"", 48)]:
        theirs = bytes(cryptomath.HKDF_expand_label(secret, label, context, length, hash_name))
        assert hkdf_expand_label(secret, label, context, length, hash_name) == theirs
    theirs = bytes(cryptomath.derive_secret(secret, b"c hs traffic", _TlsliteHashes(messages), hash_name))
    assert derive_secret(secret, b"c hs traffic", messages, hash_name) == theirs
    upd = bytes(cryptomath.HKDF_expand_label(secret, b"traffic upd", b"", len(secret), hash_name))
    assert next_traffic_secret(secret, hash_name) == upd


class _TlsliteHashes:
    """The one method tlslite's derive_secret calls on its HandshakeHashes argument."""

    def __init__(self, messages: bytes) -> None:
        self.messages = messages

    def digest(self, hash_name: str) -> bytes:
        return hashlib.new(hash_name, self.messages).digest()


def test_exporter_agrees_with_tlslite() -> None:
    # tlslite-ng's TLS 1.3 keyingMaterialExporter (empty context), written with its own primitives.
    cryptomath = pytest.importorskip("tlslite.utils.cryptomath", reason="tlslite-ng")
    ems = hashlib.sha256(b"exporter master secret").digest()
    derived = bytes(cryptomath.derive_secret(ems, b"EXPORTER-test", None, "sha256"))
    theirs = bytes(
        cryptomath.HKDF_expand_label(derived, b"exporter", hashlib.sha256().digest(), 20, "sha256")
    )
    assert exporter(ems, b"EXPORTER-test", b"", 20) == theirs


@pytest.mark.parametrize(
    ("suite", "hash_name"), [("TLS_AES_128_GCM_SHA256", "sha256"), ("TLS_AES_256_GCM_SHA384", "sha384")]
)
def test_exporter_agrees_with_openssl(pki, tmp_path: Path, suite: str, hash_name: str) -> None:
    """openssl s_client -keymatexport prints TLS-Exporter(label, "", L); its key log has EXPORTER_SECRET."""
    openssl = require_tool("openssl")
    leaf = next(iter(pki.leaves.values()))
    keylog = tmp_path / "s_client.keys"
    with python_ssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain) as server:
        args = [openssl, "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_3", "-ciphersuites", suite,
                "-keylogfile", str(keylog), "-keymatexport", "EXPORTER-tlslab", "-keymatexportlen", "40"]  # fmt: skip
        done = subprocess.run(args, input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=30)
    material = re.search(rb"Keying material: ([0-9A-Fa-f]+)", done.stdout)
    assert material, done.stdout.decode(errors="replace")[-2000:]
    secrets = [
        line.split() for line in keylog.read_text().splitlines() if line.startswith("EXPORTER_SECRET ")
    ]
    assert len(secrets) == 1
    ems = bytes.fromhex(secrets[0][2])
    assert len(ems) == {"sha256": 32, "sha384": 48}[hash_name]
    assert exporter(ems, b"EXPORTER-tlslab", b"", 40, hash_name).hex() == material.group(1).decode().lower()


# ---------------------------------------------------------------- RFC 8448: the HKDF steps as printed


def _printed_steps(kind: str) -> list[tuple[str, str, dict]]:
    out = []
    for name in TRACES:
        for key, value in raw()[name]["values"].items():
            inputs = value.get("inputs", {})
            if (kind == "extract") == ("salt" in inputs) and inputs:
                out.append(pytest.param(name, key, value, id=f"{name}-{key}"))
    return out


@pytest.mark.parametrize(("name", "key", "value"), _printed_steps("extract"))
def test_every_printed_extract(name: str, key: str, value: dict) -> None:
    inputs = value["inputs"]
    salt = b"" if inputs["salt"].startswith("0 (") else bytes.fromhex(inputs["salt"])
    assert hkdf_extract(salt, bytes.fromhex(inputs["ikm"])).hex() == value["hex"]


def _label_of(key: str, value: dict) -> bytes:
    quoted = re.search(r'"tls13 ([^"]+)"', value["label"])
    if quoted:
        return quoted.group(1).encode()
    if key.endswith("_iv"):
        return b"iv"
    if key.endswith("finished_key"):  # the binder's finished key: "calculate PSK binder -> expanded"
        return b"finished"
    assert key.endswith("_key"), key
    return b"key"


@pytest.mark.parametrize(("name", "key", "value"), _printed_steps("expand"))
def test_every_printed_expand(name: str, key: str, value: dict) -> None:
    """The RFC prints PRK, context hash and the HkdfLabel info of each expansion: rebuild the info."""
    inputs = value["inputs"]
    context = bytes.fromhex(inputs.get("hash", ""))
    info = hkdf_label(_label_of(key, value), context, value["octets"])
    assert info.hex() == inputs["info"]
    assert hkdf_expand(bytes.fromhex(inputs["prk"]), info, value["octets"]).hex() == value["hex"]


# ---------------------------------------------------------------- RFC 8448: the whole chain from inputs

# The handshake messages of each trace in the order they enter the transcript (RFC 8446 §4.4.1).
ORDER = {
    "simple_1rtt": ["client_hello", "server_hello", "encrypted_extensions", "server_certificate",
                    "server_certificate_verify", "server_finished", "client_finished"],
    "resumed_0rtt": ["client_hello", "server_hello", "encrypted_extensions", "server_finished",
                     "end_of_early_data", "client_finished"],
    "hrr": ["client_hello_1", "hello_retry_request", "client_hello_2", "server_hello", "encrypted_extensions",
            "server_certificate", "server_certificate_verify", "server_finished", "client_finished"],
    "client_auth": ["client_hello", "server_hello", "encrypted_extensions", "certificate_request",
                    "server_certificate", "server_certificate_verify", "server_finished",
                    "client_certificate", "client_certificate_verify", "client_finished"],
    "compat_mode": ["client_hello", "server_hello", "encrypted_extensions", "server_certificate",
                    "server_certificate_verify", "server_finished", "client_finished"],
}  # fmt: skip


@pytest.mark.parametrize("name", TRACES)
def test_order_matches_the_trace_records(name: str) -> None:
    """ORDER is written by hand; the trace's records (in step order) must carry the same messages."""
    values = raw()[name]["values"]
    records = sorted(
        (v for v in values.values() if v.get("inner_content_type") == "handshake"), key=lambda v: v["step"]
    )
    records = [r for r in records if r["handshake_messages"] != ["new_session_ticket"]]  # post-handshake
    carried = [msg for record in records for msg in record["handshake_messages"]]
    payloads = b"".join(bytes.fromhex(record["payload"]) for record in records)
    assert b"".join(trace(name)[m] for m in ORDER[name]) == payloads
    assert [re.sub(r"_[12]$", "", m) for m in ORDER[name]] == carried


def _transcript(name: str, upto: str) -> bytes:
    """The handshake messages up to and including ``upto``; after an HRR, ClientHello1 is replaced
    by the message_hash message built here from §4.4.1 directly: FE 00 00 20 || SHA-256(CH1)."""
    t, order = trace(name), ORDER[name]
    parts = [t[m] for m in order[: order.index(upto) + 1]]
    if name == "hrr":
        parts[0] = bytes.fromhex("fe000020") + hashlib.sha256(t["client_hello_1"]).digest()
    return b"".join(parts)


def _compute(name: str) -> dict[str, bytes]:
    """Everything the key schedule yields for one trace, under the trace's own value names."""
    t, out = trace(name), {}
    ks = KeySchedule("sha256", psk=t.get("psk"))
    out["early_secret"] = ks.early_secret
    if "psk" in t:
        out.update(_early(name, ks))
    out["derived_secret_for_handshake"] = ks.derived_for_handshake
    out["handshake_secret"] = ks.set_handshake_secret(t["ecdhe_shared_secret"])
    hello = _transcript(name, "server_hello")
    c_hs = out["client_handshake_traffic_secret"] = ks.client_handshake_traffic_secret(hello)
    s_hs = out["server_handshake_traffic_secret"] = ks.server_handshake_traffic_secret(hello)
    out["derived_secret_for_master"] = ks.derived_for_master
    out["master_secret"] = ks.set_master_secret()
    server_fin = _transcript(name, "server_finished")
    c_ap = out["client_application_traffic_secret_0"] = ks.client_application_traffic_secret_0(server_fin)
    s_ap = out["server_application_traffic_secret_0"] = ks.server_application_traffic_secret_0(server_fin)
    out["exporter_master_secret"] = ks.exporter_master_secret(server_fin)
    rms = out["resumption_master_secret"] = ks.resumption_master_secret(_transcript(name, "client_finished"))
    for prefix, secret in [("server_handshake", s_hs), ("client_handshake", c_hs),
                           ("server_application", s_ap), ("client_application", c_ap)]:  # fmt: skip
        out[f"{prefix}_write_key"], out[f"{prefix}_write_iv"] = traffic_keys(secret, SUITE)
    order = ORDER[name]
    out["server_finished_key"] = finished_key(s_hs)
    before_sf = _transcript(name, order[order.index("server_finished") - 1])
    out["server_finished_verify_data"] = finished_verify_data(s_hs, transcript_hash(before_sf))
    out["client_finished_key"] = finished_key(c_hs)
    before_cf = _transcript(name, order[order.index("client_finished") - 1])
    out["client_finished_verify_data"] = finished_verify_data(c_hs, transcript_hash(before_cf))
    if "ticket_nonce" in t:
        out["resumption_psk"] = resumption_psk(rms, t["ticket_nonce"])
    return out


def _early(name: str, ks: KeySchedule) -> dict[str, bytes]:
    """0-RTT values (RFC 8446 §4.2.11.2, §7.1): binder over the truncated ClientHello, early traffic."""
    t, out = trace(name), {}
    binder_key = out["binder_key"] = ks.binder_key(resumption=True)
    out["binder_transcript_hash"] = transcript_hash(t["binder_client_hello_prefix"])
    out["binder_finished_key"] = finished_key(binder_key)
    out["binder"] = finished_verify_data(binder_key, out["binder_transcript_hash"])
    c_e = out["client_early_traffic_secret"] = ks.client_early_traffic_secret(t["client_hello"])
    out["early_exporter_master_secret"] = ks.early_exporter_master_secret(t["client_hello"])
    out["client_early_write_key"], out["client_early_write_iv"] = traffic_keys(c_e, SUITE)
    return out


def _derived_names(name: str) -> list[str]:
    """Every value the RFC derives (anything with printed HKDF inputs, plus HMAC outputs)."""
    values = raw()[name]["values"]
    hmac_outputs = ("verify_data", "binder", "binder_key", "binder_transcript_hash")
    return [k for k, v in values.items() if "inputs" in v or k.endswith(hmac_outputs)]


CHAIN = [pytest.param(n, k, id=f"{n}-{k}") for n in TRACES for k in _derived_names(n)]


@pytest.mark.parametrize(("name", "key"), CHAIN)
def test_chain_reproduces_rfc8448(name: str, key: str) -> None:
    computed = _compute(name)
    assert key in computed, f"the test does not compute {key}"
    assert computed[key].hex() == trace(name)[key].hex()


def test_chain_covers_every_kind_of_secret() -> None:
    """Guard against CHAIN silently shrinking: the kinds the brief lists all appear."""
    keys = {k for _, k in (p.values for p in CHAIN)}
    for needed in ["client_handshake_traffic_secret", "server_handshake_write_key", "client_finished_verify_data",
                   "resumption_master_secret", "binder", "binder_key", "client_early_traffic_secret",
                   "early_exporter_master_secret", "exporter_master_secret", "resumption_psk",
                   "client_early_write_iv", "derived_secret_for_master"]:  # fmt: skip
        assert needed in keys
    assert len(CHAIN) >= 120  # 124 when written: about 25 values per trace


@pytest.mark.parametrize("name", TRACES)
def test_finished_messages_carry_the_verify_data(name: str) -> None:
    t, computed = trace(name), _compute(name)
    for side in ("server", "client"):
        assert t[f"{side}_finished"] == b"\x14\x00\x00\x20" + computed[f"{side}_finished_verify_data"]


def test_binder_closes_the_client_hello() -> None:
    """§4.2.11.2: the binder list (len 0x21, binder len 0x20) is all that follows the hashed prefix."""
    t, computed = trace("resumed_0rtt"), _compute("resumed_0rtt")
    assert t["client_hello"] == t["binder_client_hello_prefix"] + b"\x00\x21\x20" + computed["binder"]


def test_resumed_psk_is_the_ticket_of_the_first_trace() -> None:
    """RFC 8448 §4 resumes the session of §3: its PSK is §3's resumption PSK (§4.6.1)."""
    first = trace("simple_1rtt")
    assert (
        resumption_psk(first["resumption_master_secret"], first["ticket_nonce"])
        == trace("resumed_0rtt")["psk"]
    )


def test_hrr_message_hash() -> None:
    ch1 = trace("hrr")["client_hello_1"]
    assert hrr_message_hash(ch1) == b"\xfe\x00\x00\x20" + hashlib.sha256(ch1).digest()
    assert hrr_message_hash(ch1, "sha384")[:4] == b"\xfe\x00\x00\x30"


@pytest.mark.parametrize("name", TRACES)
def test_ecdhe_shared_secret_from_the_private_keys(name: str) -> None:
    """The ECDHE input itself, recomputed with cryptography from the printed key pairs."""
    t = trace(name)
    if name == "hrr":
        private = ec.derive_private_key(
            int.from_bytes(t["client_ephemeral_p256_private_key"], "big"), ec.SECP256R1()
        )
        peer = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), t["server_ephemeral_p256_public_key"]
        )
        shared = private.exchange(ec.ECDH(), peer)
    else:
        private = x25519.X25519PrivateKey.from_private_bytes(t["client_ephemeral_x25519_private_key"])
        public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert public == t["client_ephemeral_x25519_public_key"]
        peer = x25519.X25519PublicKey.from_public_bytes(t["server_ephemeral_x25519_public_key"])
        shared = private.exchange(peer)
    assert shared == t["ecdhe_shared_secret"]


# ---------------------------------------------------------------- the object's guard rails


def test_external_binder_uses_ext_binder_label() -> None:
    ks = KeySchedule("sha256", psk=bytes(32))
    assert ks.binder_key(resumption=False) == derive_secret(ks.early_secret, b"ext binder", b"")
    assert ks.binder_key(resumption=False) != ks.binder_key(resumption=True)


def test_psk_ke_mode_uses_zero_ikm() -> None:
    ks = KeySchedule("sha384", psk=b"p" * 48)
    assert ks.set_handshake_secret(None) == hkdf_extract(ks.derived_for_handshake, bytes(48), "sha384")


def test_secrets_out_of_order_are_refused() -> None:
    ks = KeySchedule()
    with pytest.raises(InternalError):
        ks.client_handshake_traffic_secret(b"")
    with pytest.raises(InternalError):
        ks.set_master_secret()
    ks.set_handshake_secret(bytes(32))
    with pytest.raises(InternalError):
        ks.client_application_traffic_secret_0(b"")


@pytest.mark.parametrize("code", list(SUITES))
def test_traffic_keys_sizes(code: CipherSuite) -> None:
    suite = SUITES[code]
    key, iv = traffic_keys(bytes(suite.hash_len), suite)
    assert (len(key), len(iv)) == (suite.key_len, 12)
    assert key == hkdf_expand_label(bytes(suite.hash_len), b"key", b"", suite.key_len, suite.hash_name)
