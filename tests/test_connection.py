"""The socket driver against the offline stand-in: ssl-shaped API, checks on by default, loud when off."""

from __future__ import annotations

import os
import socket
import ssl

import pytest

import tlslab
from tlslab.errors import BadCertificate, TLSTimeout, UnknownCA
from tlslab.lab import StandIn

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def stand_in():
    with StandIn() as server:
        yield server


def _connect(server: StandIn, **kw) -> tlslab.TLSSocket:
    kw.setdefault("server_hostname", server.server_name)
    kw.setdefault("cafile", server.cafile)
    return tlslab.connect(server.host, server.port, timeout=5, **kw)


def test_getpeercert_has_the_shape_and_values_of_ssl(stand_in):
    context = ssl.create_default_context(cafile=stand_in.cafile)
    with socket.create_connection((stand_in.host, stand_in.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=stand_in.server_name) as ours:
            expected = ours.getpeercert()
    with _connect(stand_in) as tls:
        got = tls.getpeercert()
        der = tls.getpeercert(binary_form=True)
    for key in ("subject", "issuer", "version", "serialNumber", "notBefore", "notAfter", "subjectAltName"):
        assert got[key] == expected[key], key
    assert der == tls.peer_certificates[0].public_bytes(ssl_der_encoding())


def ssl_der_encoding():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_version_cipher_alpn_and_http(stand_in):
    with _connect(
        stand_in,
        alpn_protocols=["h2", "http/1.1"],
        cipher_suites=["TLS_CHACHA20_POLY1305_SHA256"],
        groups=["secp256r1"],
    ) as tls:
        assert tls.version() == "TLSv1.3"
        assert tls.cipher() == ("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256)
        assert tls.group() == "secp256r1"
        assert tls.selected_alpn_protocol() == "http/1.1"
        tls.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
        assert tls.recv_all().startswith(b"HTTP/1.1 200 OK")


def test_wrong_name_refused_by_default_and_accepted_loudly_when_asked(stand_in):
    with pytest.raises(BadCertificate, match="does not match wrong.example.net"):
        _connect(stand_in, server_hostname="wrong.example.net")
    with pytest.warns(UserWarning, match="hostname verification is OFF"):
        with _connect(stand_in, server_hostname="wrong.example.net", check_hostname=False) as tls:
            assert tls.version() == "TLSv1.3"


def test_chain_is_still_checked_when_only_the_hostname_check_is_off(stand_in):
    with pytest.warns(UserWarning), pytest.raises(UnknownCA):
        _connect(stand_in, cafile=None, check_hostname=False)  # certifi's roots do not know the stand-in


def test_silent_server_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(TLSTimeout, match="within 0.3 s"):
            tlslab.connect("127.0.0.1", listener.getsockname()[1], server_hostname="localhost", timeout=0.3)


def test_unknown_group_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown group 'x9999'") as caught:
        tlslab.connect("127.0.0.1", 9, groups=["x9999"])
    assert "x25519" in str(caught.value) and "ffdhe" not in str(caught.value)  # FFDHE is a non-feature


def test_hostname_check_without_a_name_is_refused_up_front():
    with pytest.raises(ValueError, match="needs a server_name"):
        tlslab.ClientConfig(server_name=None)


def test_group_and_suite_names_are_parsed_once_for_the_cli_and_connect():
    from tlslab.constants import CipherSuite, NamedGroup, parse_names
    from tlslab.keyexchange import ALL_GROUPS
    from tlslab.suites import SUITES

    assert parse_names(" X25519,secp384r1", ALL_GROUPS, "group") == (NamedGroup.x25519, NamedGroup.secp384r1)
    assert parse_names(["tls_aes_128_gcm_sha256", 0x1302], SUITES, "cipher suite") == (
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
    )
    with pytest.raises(ValueError, match="unknown group 'ffdhe2048'") as caught:
        parse_names("ffdhe2048", ALL_GROUPS, "group")
    assert "ffdhe" not in str(caught.value).split("choose from")[1]  # offers only what tlslab supports


def test_errors_are_caught_where_code_written_for_ssl_catches_them():
    from tlslab.errors import ConnectionLost, DecodeError, PeerAlert

    assert issubclass(tlslab.TLSError, OSError) and issubclass(ssl.SSLError, OSError)
    assert issubclass(tlslab.TLSTimeout, TimeoutError) and issubclass(tlslab.TLSTimeout, tlslab.TLSError)
    for error in (DecodeError("short"), PeerAlert(40), ConnectionLost("gone")):
        assert isinstance(error, OSError) and error.errno is None
    assert (
        str(DecodeError("short")).endswith("short")
        and str(PeerAlert(40)) == "peer sent alert handshake_failure"
    )
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(TimeoutError):  # what `except TimeoutError` written for ssl expects
            tlslab.connect("127.0.0.1", listener.getsockname()[1], server_hostname="localhost", timeout=0.2)


def test_getpeercert_has_email_uri_ocsp_ca_issuers_and_crl_points_as_ssl_does(tmp_path):
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

    from tlslab.connection import certificate_dict

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = dt.datetime.now(dt.timezone.utc)
    san = [
        x509.DNSName("example.com"),
        x509.RFC822Name("admin@example.com"),
        x509.UniformResourceIdentifier("https://example.com/id"),
        x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    aia = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.test")
        ),
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("http://ca.test/i.crt")
        ),
    ]
    crl = [
        x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.test/r.crl")], None, None, None)
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), False)
        .add_extension(x509.AuthorityInformationAccess(aia), False)
        .add_extension(x509.CRLDistributionPoints(crl), False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    expected = ssl._ssl._test_decode_cert(str(path))  # what ssl's getpeercert() returns for it
    assert certificate_dict(cert) == expected
    assert ("email", "admin@example.com") in expected["subjectAltName"] and expected["OCSP"] == (
        "http://ocsp.test",
    )


def test_the_readme_package_snippet_runs_offline_and_says_which_server(tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    snippet = re.search(r"## The package\n\n```python\n(.*?)```", readme, re.S).group(1)
    env = {**os.environ, "TLSLAB_OFFLINE": "1", "PYTHONPATH": str(Path(tlslab.__file__).parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("reached the offline stand-in for example.com on 127.0.0.1:")
    assert lines[1].startswith("TLSv1.3 ") and lines[2] == "b'HTTP/1.1 200 OK'"


def test_help_mentions_the_stand_in():
    assert "stand-in" in tlslab.__doc__ and "reach_example_com" in tlslab.__doc__
    assert "stand-in" in tlslab.connect.__doc__
