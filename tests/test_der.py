"""tlslab.course.der: the from-scratch DER reader, checked against cryptography's view of the same certificates."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab import messages
from tlslab.course import der, rfc8448
from tlslab.errors import DecodeError
from tlslab.lab import pki

NOT_BEFORE = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
NOT_AFTER = dt.datetime(2030, 4, 1, 12, 30, 5, tzinfo=dt.timezone.utc)


def rfc8448_certificate() -> bytes:
    message = messages.decode_handshake(rfc8448.trace("simple_1rtt")["server_certificate"])
    return message.certificate_list[0].cert_data


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.make_ca("DER Test Root", not_before=NOT_BEFORE, not_after=NOT_AFTER)


def issued(ca: pki.Issued, kind: str) -> pki.Issued:
    return pki.issue(
        ca,
        common_name=f"{kind}.example",
        key_kind=kind,
        dns_names=[f"{kind}.example", "*.example.net"],
        ip_addresses=["127.0.0.1"],
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )


def common_name(name: x509.Name) -> str:
    return name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


@pytest.mark.parametrize("kind", ["ecdsa-p256", "ecdsa-p384", "rsa", "ed25519", "ed448"])
def test_certificate_parts_agree_with_cryptography(ca: pki.Issued, kind: str) -> None:
    leaf = issued(ca, kind)
    cert = leaf.cert
    parts = der.certificate_parts(leaf.der())
    assert parts.version == 3
    assert parts.serial_number == cert.serial_number
    assert parts.common_name("issuer") == common_name(cert.issuer) == "DER Test Root"
    assert parts.common_name("subject") == common_name(cert.subject) == f"{kind}.example"
    assert parts.not_before == cert.not_valid_before_utc == NOT_BEFORE
    assert parts.not_after == cert.not_valid_after_utc == NOT_AFTER
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert parts.dns_names() == san.get_values_for_type(x509.DNSName) == [f"{kind}.example", "*.example.net"]
    assert parts.tbs_bytes == cert.tbs_certificate_bytes
    assert parts.signature == cert.signature
    assert parts.signature_algorithm == cert.signature_algorithm_oid.dotted_string
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert parts.spki.raw == spki
    assert parts.public_key_algorithm == cert.public_key_algorithm_oid.dotted_string
    assert spki.endswith(parts.public_key)  # the BIT STRING's bytes close the SPKI
    critical = {e.oid.dotted_string: e.critical for e in cert.extensions}
    assert parts.critical == critical


def test_public_key_bytes_are_the_key(ca: pki.Issued) -> None:
    ec_leaf, ed_leaf = issued(ca, "ecdsa-p256"), issued(ca, "ed25519")
    point = ec_leaf.cert.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert der.certificate_parts(ec_leaf.der()).public_key == point
    raw = ed_leaf.cert.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert der.certificate_parts(ed_leaf.der()).public_key == raw


def test_rfc8448_certificate() -> None:
    data = rfc8448_certificate()
    cert = x509.load_der_x509_certificate(data)
    parts = der.certificate_parts(data)
    assert parts.subject == parts.issuer == [("commonName", "rsa")]
    assert parts.serial_number == cert.serial_number == 2
    assert parts.not_before == dt.datetime(2016, 7, 30, 1, 23, 59, tzinfo=dt.timezone.utc)
    assert parts.signature_algorithm == "1.2.840.113549.1.1.11"
    assert der.OIDS[parts.public_key_algorithm] == "rsaEncryption"
    assert set(parts.extensions) == {"2.5.29.19", "2.5.29.15"}
    # The RSA key inside the BIT STRING is itself DER: SEQUENCE { modulus, publicExponent }.
    key = parts.spki[1][0]
    assert key[1].as_int() == 65537
    assert key[0].as_int() == cert.public_key().public_numbers().n


def test_pretty_tree_of_rfc8448_certificate() -> None:
    text = der.parse_der(rfc8448_certificate()).pretty().splitlines()
    assert text[0] == "    0  4+428 SEQUENCE (3 elements)"
    assert "OBJECT IDENTIFIER 1.2.840.113549.1.1.11 (sha256WithRSAEncryption)" in text[6]
    assert text[12].strip() == "42  2+3             PrintableString 'rsa'"
    assert "UTCTime 2026-07-30 01:23:59 UTC" in text[15]
    assert any("BIT STRING (140 bytes, 0 unused bits) encapsulates" in line for line in text)
    assert any("INTEGER 65537" in line for line in text)


def test_html_tree_is_static_and_folds() -> None:
    page = der.parse_der(rfc8448_certificate()).html(open_depth=1)
    assert page.count("<details") == page.count("</details>") > 10
    assert page.count("<details open") == 1
    assert "<script" not in page
    assert "PrintableString &#x27;rsa&#x27;" in page


def test_raw_bytes_and_offsets_round_trip(ca: pki.Issued) -> None:
    data = issued(ca, "rsa").der()
    tree = der.parse_der(data)
    assert tree.raw == data
    for _, node in tree.walk():
        assert data[node.offset : node.end] == node.raw
        if node.constructed:
            assert b"".join(child.raw for child in node.children) == node.value


# ------------------------------------------------------------------ X.690 edge cases


@pytest.mark.parametrize(
    ("hex_data", "length"),
    [("047f" + "00" * 127, 127), ("048180" + "00" * 128, 128), ("0481ff" + "00" * 255, 255)],
)
def test_lengths_short_and_long(hex_data: str, length: int) -> None:
    node = der.parse_der(bytes.fromhex(hex_data))
    assert node.length == length
    assert node.header_len == (2 if length < 128 else 3)


def test_length_of_two_octets() -> None:
    node = der.parse_der(bytes.fromhex("04820100") + bytes(256))
    assert (node.header_len, node.length) == (4, 256)


@pytest.mark.parametrize(
    ("hex_data", "reason"),
    [
        ("", "found the end"),
        ("04", "found the end"),
        ("0480", "indefinite length"),
        ("3080" + "0000", "indefinite length"),
        ("04ff", "reserved"),
        ("04817f" + "00" * 127, "shortest form"),
        ("0482007f" + "00" * 127, "shortest form"),
        ("04820080" + "00" * 128, "shortest form"),
        ("0485" + "01" * 5, "more than this reader allows"),
        ("0482", "only 0 left"),
        ("0403aabb", "runs past the end"),
        ("0401aabb", "after the DER value"),
        ("9f1e00", "short form"),
        ("9f800100", "leading 0x80"),
        ("9f81", "runs past the end"),
        ("010101", "BOOLEAN"),
        ("0100", "BOOLEAN"),
        ("0200", "empty"),
        ("02020001", "not minimal"),
        ("0202ff80", "not minimal"),
        ("050100", "NULL"),
        ("0600", "empty"),
        ("06022a86", "runs past the end"),
        ("060380012a", "leading 0x80"),
        ("030108", "unused-bits"),
        ("0300", "unused-bits"),
        ("1000", "must be constructed"),
        ("24020400", "must be primitive"),
        ("170d3236303733303031323335395a".replace("5a", "58"), "UTCTime"),
        ("170b323630373330303132335a", "UTCTime"),
        ("1303612a62", "PrintableString"),
        ("0c02c328", "UTF8String"),
    ],
)
def test_malformed_der_is_a_decode_error(hex_data: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        der.parse_der(bytes.fromhex(hex_data))


def test_high_tag_number_form() -> None:
    node = der.parse_der(bytes.fromhex("bf1f03020105"))  # [31] constructed, holding INTEGER 5
    assert (node.tag_class, node.constructed, node.tag_number, node.header_len) == (der.CONTEXT, True, 31, 3)
    assert node[0].as_int() == 5
    node = der.parse_der(bytes.fromhex("9f8148" + "00"))  # [200]: 0x81 0x48 = 1*128 + 72
    assert node.tag_number == 200 and node.tag_name == "[200]"


def test_nesting_limit() -> None:
    data = b""
    for _ in range(40):
        data = (
            b"\x30" + bytes([len(data)]) + data
            if len(data) < 128
            else b"\x30\x81" + bytes([len(data)]) + data
        )
    with pytest.raises(DecodeError, match="nested"):
        der.parse_der(data)


@pytest.mark.parametrize(
    ("hex_data", "oid"),
    [
        ("2a864886f70d01010b", "1.2.840.113549.1.1.11"),
        ("2a8648ce3d030107", "1.2.840.10045.3.1.7"),
        ("2b6570", "1.3.101.112"),
        ("550403", "2.5.4.3"),
        ("8837", "2.999"),
        ("00", "0.0"),
    ],
)
def test_oid_decoding(hex_data: str, oid: str) -> None:
    assert der.decode_oid(bytes.fromhex(hex_data)) == oid


def test_values() -> None:
    assert der.parse_der(bytes.fromhex("0201ff")).as_int() == -1
    assert der.parse_der(bytes.fromhex("020200ff")).as_int() == 255
    assert der.parse_der(bytes.fromhex("0101ff")).as_bool() is True
    when = der.parse_der(b"\x18\x0f20500101000000Z").as_time()
    assert when == dt.datetime(2050, 1, 1, tzinfo=dt.timezone.utc)
    assert der.parse_der(b"\x17\x0d491231235959Z").as_time().year == 2049  # RFC 5280: YY < 50 is 20YY
    assert der.parse_der(b"\x17\x0d500101000000Z").as_time().year == 1950
    with pytest.raises(DecodeError, match="expected INTEGER"):
        der.parse_der(bytes.fromhex("0101ff")).as_int()


def test_not_a_certificate() -> None:
    with pytest.raises(DecodeError, match="Certificate must be a SEQUENCE of 3"):
        der.certificate_parts(bytes.fromhex("3003020105"))
    with pytest.raises(DecodeError, match="not an X.509 certificate"):
        der.certificate_parts(bytes.fromhex("300b" + "3000" + "3003060100" + "03020000"))


# ------------------------------------------------------------------ fuzzing: only DecodeError escapes


def _exercise(data: bytes) -> None:
    try:
        tree = der.parse_der(data)
    except DecodeError:
        return
    assert tree.raw == data
    tree.pretty()
    tree.html()
    try:
        der.certificate_parts(data)
    except DecodeError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_random_bytes(data: bytes) -> None:
    _exercise(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_certificate(data: st.DataObject) -> None:
    cert = bytearray(rfc8448_certificate())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(cert) - 1))
        cert[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(cert)))
    _exercise(bytes(cert[:cut]) if data.draw(st.booleans()) else bytes(cert))
