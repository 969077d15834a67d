"""A gallery of good and bad server chains (RFC 5280 §6, RFC 6125 §6), each refused for its own reason.

Every verdict of ``verify_server_chain`` is compared with an independent verifier:
``cryptography.x509.verification`` (the CA/Browser Forum web-PKI policy) wherever
its policy allows the key types, and ``openssl verify`` for the key types that
policy forbids (RSA-PSS SPKI, Ed25519, Ed448).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab.certverify import MAX_SIGNATURE_CHECKS, hostname_matches, match_hostname, verify_server_chain
from tlslab.errors import AlertError, BadCertificate, CertificateExpired, UnknownCA, UnsupportedCertificate
from tlslab.lab import pki

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)
WEB_PKI_KINDS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa")  # what cryptography's policy accepts


def cryptography_accepts(chain: list[bytes], name: str, roots: list[x509.Certificate]) -> bool:
    """The reference verdict: cryptography's web-PKI server verifier."""
    try:
        leaf, *intermediates = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return False
    try:
        ip = ipaddress.ip_address(name)
        subject: x509.GeneralName = x509.IPAddress(ip)
    except ValueError:
        subject = x509.DNSName(name)
    verifier = PolicyBuilder().store(Store(roots)).time(NOW).build_server_verifier(subject)
    try:
        verifier.verify(leaf, intermediates)
        return True
    except VerificationError:
        return False


@dataclass
class Case:
    chain: list[bytes]
    name: str
    error: type[AlertError] | None  # None: accepted
    reason: str = ""


@pytest.fixture(scope="session")
def ca() -> tuple[pki.Issued, pki.Issued]:
    root = pki.make_ca("tlslab Gallery Root")
    intermediate = pki.issue(root, common_name="tlslab Gallery Intermediate", is_ca=True, path_length=0)
    return root, intermediate


def _leaf(issuer: pki.Issued, **kw: object) -> pki.Issued:
    kw.setdefault("dns_names", ("example.com",))
    kw.setdefault("common_name", next(iter(kw["dns_names"]), "example.com"))  # CABF BR 7.1.4.3
    return pki.issue(issuer, **kw)


@pytest.fixture(scope="session")
def gallery(ca: tuple[pki.Issued, pki.Issued]) -> dict[str, Case]:
    root, inter = ca
    i = inter.der()
    expired_on, starts_on = NOW - 30 * DAY, NOW + 10 * DAY
    not_a_ca = pki.issue(root, common_name="Not A CA", key_usage=("digitalSignature", "keyCertSign"))
    second = pki.issue(inter, common_name="Second Intermediate", is_ca=True)
    old_inter = pki.issue(
        root, common_name="Old Intermediate", is_ca=True, not_before=NOW - 90 * DAY, not_after=NOW - DAY
    )
    no_certsign = pki.issue(
        root, common_name="CRL-only CA", is_ca=True, key_usage=("cRLSign", "digitalSignature")
    )
    evil = pki.make_ca("Evil CA")
    self_signed = pki.issue(None, common_name="example.com", dns_names=("example.com",), self_signed=True)
    good = _leaf(inter, dns_names=("example.com", "*.example.com"), ip_addresses=("127.0.0.1", "::1"))
    tampered = bytearray(good.der())
    tampered[-1] ^= 0x01  # the last byte of the signature value
    unrelated = pki.make_ca("Unrelated CA")
    return {
        "valid": Case([good.der(), i], "example.com", None),
        "valid, extra and shuffled": Case([good.der(), unrelated.der(), i], "www.example.com", None),
        "valid, root sent too": Case([good.der(), root.der(), i], "example.com", None),
        "valid, IPv4 SAN": Case([good.der(), i], "127.0.0.1", None),
        "valid, IPv6 SAN": Case([good.der(), i], "::1", None),
        "wildcard is one label": Case(
            [good.der(), i], "a.b.example.com", BadCertificate,
            "certificate for example.com, *.example.com, 127.0.0.1, ::1 does not match a.b.example.com",
        ),
        "IP not in SAN": Case(
            [good.der(), i], "127.0.0.2", BadCertificate,
            "certificate for example.com, *.example.com, 127.0.0.1, ::1 does not match 127.0.0.2",
        ),
        "wrong host": Case(
            [_leaf(inter, dns_names=("wrong.example.net",)).der(), i], "example.com", BadCertificate,
            "certificate for wrong.example.net does not match example.com",
        ),
        "expired": Case(
            [_leaf(inter, not_before=NOW - 60 * DAY, not_after=expired_on).der(), i], "example.com",
            CertificateExpired, f"certificate for example.com expired on {expired_on.date().isoformat()}",
        ),
        "not yet valid": Case(
            [_leaf(inter, not_before=starts_on, not_after=NOW + 40 * DAY).der(), i], "example.com",
            CertificateExpired, f"certificate for example.com is not valid before {starts_on.date().isoformat()}",
        ),
        "expired intermediate": Case(
            [_leaf(old_inter, not_before=NOW - 60 * DAY, not_after=NOW + 10 * DAY).der(), old_inter.der()], "example.com", CertificateExpired,
            f"issuer certificate 'CN=Old Intermediate' expired on {(NOW - DAY).date().isoformat()}",
        ),
        "self-signed leaf": Case(
            [self_signed.der()], "example.com", UnknownCA, "self-signed certificate for example.com is not trusted"
        ),
        "CA:FALSE intermediate": Case(
            [_leaf(not_a_ca).der(), not_a_ca.der()], "example.com", UnknownCA,
            "intermediate 'CN=Not A CA' is not a CA (basicConstraints CA:FALSE)",
        ),
        "issuer without keyCertSign": Case(
            [_leaf(no_certsign).der(), no_certsign.der()], "example.com", UnknownCA,
            "intermediate 'CN=CRL-only CA' may not sign certificates (keyUsage lacks keyCertSign)",
        ),
        "pathlen exceeded": Case(
            [_leaf(second).der(), second.der(), i], "example.com", UnknownCA,
            "intermediate 'CN=tlslab Gallery Intermediate' allows 0 intermediate(s) below it "
            "(pathLenConstraint), the chain has 1",
        ),
        "missing intermediate": Case(
            [good.der()], "example.com", UnknownCA,
            "certificate chain for example.com does not lead to a trusted root: "
            "issuer 'CN=tlslab Gallery Intermediate' is unknown",
        ),
        "untrusted root": Case(
            [_leaf(evil).der()], "example.com", UnknownCA,
            "certificate chain for example.com does not lead to a trusted root: issuer 'CN=Evil CA' is unknown",
        ),
        "untrusted root sent": Case(
            [_leaf(evil).der(), evil.der()], "example.com", UnknownCA,
            "certificate chain for example.com ends in the untrusted root 'CN=Evil CA'",
        ),
        "bad signature": Case(
            [bytes(tampered), i], "example.com", BadCertificate,
            "signature of 'CN=example.com' does not verify with the key of 'CN=tlslab Gallery Intermediate'",
        ),
        "wrong EKU": Case(
            [_leaf(inter, extended_key_usage=("clientAuth",)).der(), i], "example.com", UnsupportedCertificate,
            "certificate for example.com is not for TLS servers (extendedKeyUsage lacks serverAuth)",
        ),
        "only a CN": Case(
            [_leaf(inter, dns_names=()).der(), i], "example.com", BadCertificate,
            "certificate for example.com has no subjectAltName "
            "(tlslab never falls back to the common name; RFC 9525 dropped that fallback)",
        ),
        "garbage DER": Case(
            [b"\x30\x03not a certificate", i], "example.com", BadCertificate,
            "could not parse certificate (the server's certificate)",
        ),
        "garbage intermediate": Case(
            [good.der(), b"\x00\x01"], "example.com", BadCertificate,
            "could not parse certificate (certificate #1 in the chain)",
        ),
    }  # fmt: skip


GALLERY = [
    "valid", "valid, extra and shuffled", "valid, root sent too", "valid, IPv4 SAN", "valid, IPv6 SAN",
    "wildcard is one label", "IP not in SAN", "wrong host", "expired", "not yet valid", "expired intermediate",
    "self-signed leaf", "CA:FALSE intermediate", "issuer without keyCertSign", "pathlen exceeded",
    "missing intermediate", "untrusted root", "untrusted root sent", "bad signature", "wrong EKU", "only a CN",
    "garbage DER", "garbage intermediate",
]  # fmt: skip


@pytest.mark.parametrize("case_name", GALLERY)
def test_gallery(gallery: dict[str, Case], ca: tuple[pki.Issued, pki.Issued], case_name: str) -> None:
    case, roots = gallery[case_name], [ca[0].cert]
    if case.error is None:
        path = verify_server_chain(case.chain, case.name, trust_roots=roots, now=NOW)
        assert path[0] == x509.load_der_x509_certificate(case.chain[0])
        assert path[-1] == ca[0].cert
    else:
        with pytest.raises(case.error) as info:
            verify_server_chain(case.chain, case.name, trust_roots=roots, now=NOW)
        assert type(info.value) is case.error
        assert info.value.reason.startswith(case.reason), info.value.reason
    assert cryptography_accepts(case.chain, case.name, roots) == (case.error is None)


def test_gallery_lists_every_case(gallery: dict[str, Case]) -> None:
    assert sorted(GALLERY) == sorted(gallery)


# --- every key kind -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chains() -> dict[str, tuple[pki.Issued, pki.Issued, pki.Issued]]:
    out = {}
    for kind in pki.KEY_KINDS:
        root = pki.make_ca(f"Root {kind}", key_kind=kind)
        inter = pki.issue(root, common_name=f"Intermediate {kind}", key_kind=kind, is_ca=True, path_length=0)
        leaf = pki.issue(inter, common_name="example.com", key_kind=kind, dns_names=("example.com",))
        out[kind] = (root, inter, leaf)
    return out


@pytest.mark.parametrize("kind", pki.KEY_KINDS)
def test_valid_chain_for_every_key_kind(chains: dict, kind: str, tmp_path: Path) -> None:
    root, inter, leaf = chains[kind]
    path = verify_server_chain([leaf.der(), inter.der()], "example.com", trust_roots=[root.cert])
    assert path == [leaf.cert, inter.cert, root.cert]
    with pytest.raises(BadCertificate, match="does not match example.org"):
        verify_server_chain([leaf.der(), inter.der()], "example.org", trust_roots=[root.cert])
    if kind in WEB_PKI_KINDS:
        assert cryptography_accepts([leaf.der(), inter.der()], "example.com", [root.cert])
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    files = {
        name: issued.write(tmp_path, name)[0]
        for name, issued in [("root", root), ("inter", inter), ("leaf", leaf)]
    }
    command = ["openssl", "verify", "-purpose", "sslserver", "-verify_hostname", "example.com"]
    command += ["-CAfile", str(files["root"]), "-untrusted", str(files["inter"]), str(files["leaf"])]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", pki.KEY_KINDS)
def test_signatures_are_checked_as_cryptography_checks_them(chains: dict, kind: str) -> None:
    """certverify verifies with the issuer's parsed key over the TBS bytes as sent; on every key kind
    it agrees with cryptography's verify_directly_issued_by, on the signature as issued and flipped,
    and an issuer of another key kind is not one (ValueError), not a bad signature."""
    from cryptography.exceptions import InvalidSignature

    from tlslab.certverify import _parse, _verify_signature

    root, inter, leaf = chains[kind]
    der = leaf.der()
    flipped = bytearray(der)
    flipped[-3] ^= 0x01  # inside signatureValue, the last field of the certificate
    for blob, good in ((der, True), (bytes(flipped), False)):
        cert = _parse(blob, 0)
        expected: type[Exception] | None = None
        try:
            cert.verify_directly_issued_by(inter.cert)
        except InvalidSignature:
            expected = InvalidSignature
        assert (expected is None) == good
        if expected is None:
            _verify_signature(cert, inter.cert)
        else:
            with pytest.raises(expected):
                _verify_signature(cert, inter.cert)
    other = {"ecdsa": "ed25519", "rsa": "ecdsa-p256", "ed25519": "rsa", "ed448": "ecdsa-p384"}[
        kind.split("-")[0]
    ]
    with pytest.raises(ValueError):
        _verify_signature(_parse(der, 0), chains[other][1].cert)


# --- RFC 6125 wildcard rules ----------------------------------------------------------------

WILDCARDS = [
    ("example.com", "example.com", True),
    ("example.com", "EXAMPLE.com", True),
    ("Example.COM", "example.com", True),
    ("example.com", "example.com.", True),
    ("example.com", "www.example.com", False),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "A.EXAMPLE.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False),
    ("*.example.com", ".example.com", False),
    ("*.example.com", "www.example.org", False),
    ("*.example.com", "xn--bcher-kva.example.com", True),
    ("xn--bcher-kva.example", "xn--bcher-kva.example", True),
    ("xn--bcher-kva.example", "bücher.example", True),  # a U-label name is converted to its A-label
    ("f*.example.com", "foo.example.com", False),  # partial wildcards: never
    ("*oo.example.com", "foo.example.com", False),
    ("w*w.example.com", "www.example.com", False),
    ("www.*.example.com", "www.a.example.com", False),  # only the left-most label
    ("*.*.example.com", "a.b.example.com", False),
    ("*", "com", False),
    ("*.com", "example.com", False),  # at least two labels after the wildcard
    ("*.example.com", "*.example.com", False),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), WILDCARDS)
def test_hostname_matches(pattern: str, name: str, expected: bool) -> None:
    assert hostname_matches(pattern, name) is expected


@pytest.fixture(scope="session")
def wildcard_ca() -> pki.Issued:
    return pki.make_ca("Wildcard Root")


def _cryptography_name_verdict(root: pki.Issued, pattern: str, name: str) -> bool:
    leaf = pki.issue(root, common_name="leaf", dns_names=(pattern,))
    return cryptography_accepts([leaf.der()], name, [root.cert])


# Not comparable with cryptography: its DNSName only takes ASCII; it does not strip the trailing dot
# of an absolute name (tlslab does, like browsers); and it lets "*.com" match "example.com": the
# two-label rule is RFC 6125 §7.2 advice that tlslab follows and cryptography does not.
NOT_COMPARABLE = {
    ("xn--bcher-kva.example", "bücher.example"),
    ("example.com", "example.com."),
    ("*.com", "example.com"),
    ("*", "com"),
}


@pytest.mark.parametrize(
    ("pattern", "name", "expected"), [w for w in WILDCARDS if w[:2] not in NOT_COMPARABLE]
)
def test_wildcard_table_agrees_with_cryptography(
    wildcard_ca: pki.Issued, pattern: str, name: str, expected: bool
) -> None:
    try:
        reference = _cryptography_name_verdict(wildcard_ca, pattern, name)
    except ValueError:  # cryptography refuses to even build the name ("*.example.com" as a host)
        reference = False
    assert reference is expected


def test_two_label_rule_is_where_we_differ_from_cryptography(wildcard_ca: pki.Issued) -> None:
    """Documents the one known difference: cryptography lets ``*.com`` cover ``example.com``."""
    assert hostname_matches("*.com", "example.com") is False
    assert _cryptography_name_verdict(wildcard_ca, "*.com", "example.com") is True


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
NAME = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


@st.composite
def pattern_and_name(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(NAME)
    labels = name.split(".")
    choice = draw(st.sampled_from(["same", "wildcard-of", "other", "wildcard-other"]))
    if choice == "same":
        pattern = name
    elif choice == "wildcard-of" and len(labels) >= 3:
        pattern = "*." + ".".join(labels[1:])
    elif choice == "wildcard-other":
        pattern = "*." + draw(NAME)
    else:
        pattern = draw(NAME)
    flip = draw(st.booleans())
    return (pattern.upper() if flip else pattern), name


@settings(max_examples=60, deadline=None)
@given(pattern_and_name())
def test_hypothesis_wildcards_agree_with_cryptography(wildcard_ca: pki.Issued, pair: tuple[str, str]) -> None:
    pattern, name = pair
    assert hostname_matches(pattern, name) is _cryptography_name_verdict(wildcard_ca, pattern, name)


# --- match_hostname -------------------------------------------------------------------------


def test_match_hostname(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    leaf = _leaf(inter, dns_names=("example.com", "*.example.net"), ip_addresses=("192.0.2.1", "2001:db8::1"))
    assert match_hostname(leaf.cert, "example.com")
    assert match_hostname(leaf.cert, "www.example.net")
    assert match_hostname(leaf.cert, "192.0.2.1")
    assert match_hostname(leaf.cert, "2001:DB8:0::1")
    assert match_hostname(leaf.cert, "[2001:db8::1]")
    assert not match_hostname(leaf.cert, "192.0.2.2")
    assert not match_hostname(leaf.cert, "example.net")
    cn_only = _leaf(inter, dns_names=())
    assert not match_hostname(cn_only.cert, "example.com")  # no common-name fallback
    dns_ip = _leaf(inter, dns_names=("192.0.2.1",))
    assert not match_hostname(dns_ip.cert, "192.0.2.1")  # an IP literal matches iPAddress entries only


def test_default_trust_roots_refuse_a_private_ca(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, inter = ca
    leaf = _leaf(inter)
    with pytest.raises(UnknownCA, match="issuer 'CN=tlslab Gallery Root' is unknown"):
        verify_server_chain([leaf.der(), inter.der()], "example.com")  # certifi's roots


def test_cafile(ca: tuple[pki.Issued, pki.Issued], tmp_path: Path) -> None:
    root, inter = ca
    cafile, _ = root.write(tmp_path, "root")
    path = verify_server_chain([_leaf(inter).der(), inter.der()], "example.com", cafile=str(cafile))
    assert path[-1] == root.cert


# --- path building: duplicates, self-issued CAs, work limit (RFC 5280 §6, RFC 4158) -----------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    path_length: int | None = None,
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 30 * DAY,
    key_ids: bool = True,
) -> x509.Certificate:
    """A certificate built by hand, for shapes ``pki.issue`` cannot make (shared keys, self-issued)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    if key_ids:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_expired_duplicate_intermediate_does_not_hide_the_renewed_one() -> None:
    """A server sends its old (expired) and renewed intermediate, same name and key, old first.

    RFC 8446 §4.4.2: "implementations SHOULD be prepared to handle potentially extraneous
    certificates"; cryptography's verifier (and OpenSSL, which prefers a currently valid issuer)
    accept the chain. tlslab used to take the first issuer by name and report it expired.
    """
    root_key, inter_key, leaf_key = _key(), _key(), _key()
    root = _cert("Dup Root", root_key, "Dup Root", root_key, ca=True)
    old = _cert("Dup Inter", inter_key, "Dup Root", root_key, ca=True,
                not_before=NOW - 400 * DAY, not_after=NOW - DAY)  # fmt: skip
    new = _cert("Dup Inter", inter_key, "Dup Root", root_key, ca=True)
    leaf = _cert("example.com", leaf_key, "Dup Inter", inter_key, ca=False)
    chain = [_der(leaf), _der(old), _der(new)]
    assert cryptography_accepts(chain, "example.com", [root])
    path = verify_server_chain(chain, "example.com", trust_roots=[root], now=NOW)
    assert path == [leaf, new, root]
    # With only the expired one, the reason is still the expiry.
    with pytest.raises(CertificateExpired, match="issuer certificate 'CN=Dup Inter' expired"):
        verify_server_chain([_der(leaf), _der(old)], "example.com", trust_roots=[root], now=NOW)


def test_expired_duplicate_root_does_not_hide_the_valid_one() -> None:
    """Two trust anchors with the same name and key (a re-issued root): the valid one is used."""
    root_key, leaf_key = _key(), _key()
    old_root = _cert("Re Root", root_key, "Re Root", root_key, ca=True,
                     not_before=NOW - 400 * DAY, not_after=NOW - DAY)  # fmt: skip
    root = _cert("Re Root", root_key, "Re Root", root_key, ca=True)
    leaf = _cert("example.com", leaf_key, "Re Root", root_key, ca=False)
    path = verify_server_chain([_der(leaf)], "example.com", trust_roots=[old_root, root], now=NOW)
    assert path == [leaf, root]


def test_self_issued_intermediates_do_not_count_against_path_length() -> None:
    """RFC 5280 §4.2.1.9: pathLenConstraint limits *non-self-issued* intermediates.

    root -> A (pathLen 0) -> A' (self-issued: same name as A, new key, a key rollover) -> leaf.
    """
    root_key, a_key, a2_key, leaf_key = _key(), _key(), _key(), _key()
    root = _cert("PL Root", root_key, "PL Root", root_key, ca=True)
    a = _cert("PL CA", a_key, "PL Root", root_key, ca=True, path_length=0)
    a2 = _cert("PL CA", a2_key, "PL CA", a_key, ca=True)
    leaf = _cert("example.com", leaf_key, "PL CA", a2_key, ca=False)
    path = verify_server_chain([_der(leaf), _der(a2), _der(a)], "example.com", trust_roots=[root], now=NOW)
    assert path == [leaf, a2, a, root]
    # A non-self-issued intermediate in the same place still breaks pathLen 0.
    b = _cert("PL Sub", a2_key, "PL CA", a_key, ca=True)
    leaf_b = _cert("example.com", leaf_key, "PL Sub", a2_key, ca=False)
    with pytest.raises(
        UnknownCA, match=r"allows 0 intermediate\(s\) below it \(pathLenConstraint\), the chain has 1"
    ):
        verify_server_chain([_der(leaf_b), _der(b), _der(a)], "example.com", trust_roots=[root], now=NOW)
    assert not cryptography_accepts([_der(leaf_b), _der(b), _der(a)], "example.com", [root])


def test_path_building_has_a_work_limit() -> None:
    """Certificates that all share one name and sign each other: the search tree grows exponentially.

    Without a limit, 20 such certificates kept the depth-first search busy for 15 s (and 30 for
    minutes), ending in a misleading bad_certificate; Go's crypto/x509 stops after 100 signature
    checks, and so does tlslab, with unknown_ca.
    """
    keys = [_key() for _ in range(5)]
    mesh = [_cert("Loop CA", k, "Loop CA", j, ca=True) for k in keys for j in keys if k is not j]
    leaf = _cert("example.com", _key(), "Loop CA", keys[0], ca=False)  # AKI: keys[0], four CAs hold it
    unrelated_root = pki.make_ca("Loop Root")
    start = time.monotonic()
    with pytest.raises(UnknownCA, match=f"after {MAX_SIGNATURE_CHECKS} signature checks"):
        verify_server_chain([_der(leaf)] + [_der(c) for c in mesh], "example.com",
                            trust_roots=[unrelated_root.cert], now=NOW)  # fmt: skip
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        (" example.com", "example.com"),  # whitespace is not forgiven
        ("example.com", " example.com"),
        ("example.com", "example.com.."),  # one trailing dot is an absolute name; two are not a name
        ("bücher.example", "xn--bcher-kva.example"),  # a dNSName is IA5String: no U-labels
    ],
)
def test_hostname_matches_is_strict(pattern: str, name: str) -> None:
    assert hostname_matches(pattern, name) is False


def test_client_chain_needs_client_auth_and_a_trusted_root():
    """Mutual TLS (RFC 8446 §4.4.2.4): same path rules, clientAuth instead of serverAuth, no name."""
    from tlslab.certverify import verify_client_chain

    root = pki.make_ca("Client Root")
    inter = pki.issue(root, common_name="Client Intermediate", is_ca=True)
    alice = pki.issue(inter, common_name="alice", extended_key_usage=("clientAuth",))
    server_only = pki.issue(inter, common_name="www", extended_key_usage=("serverAuth",))
    path = verify_client_chain([alice.der(), inter.der()], trust_roots=[root.cert])
    assert [c.subject.rfc4514_string() for c in path] == [
        "CN=alice",
        "CN=Client Intermediate",
        "CN=Client Root",
    ]
    with pytest.raises(UnsupportedCertificate, match="not for TLS clients"):
        verify_client_chain([server_only.der(), inter.der()], trust_roots=[root.cert])
    with pytest.raises(UnknownCA):
        verify_client_chain([alice.der(), inter.der()], trust_roots=[pki.make_ca("Other").cert])


@pytest.mark.parametrize("name", ["0.0.0.0", "192.0.2.1", "::1", "[::1]"])
def test_an_ip_address_never_matches_a_dns_name_entry(name):
    """Found by hypothesis: an IP literal is matched against iPAddress entries only (RFC 6125 §1.7.2)."""
    assert not hostname_matches(name, name)


def _with_version(cert: x509.Certificate, value: int) -> bytes:
    """The certificate's DER with its version field ([0] EXPLICIT INTEGER 2, i.e. v3) set to ``value``."""
    der = bytearray(cert.public_bytes(Encoding.DER))
    at = der.index(bytes.fromhex("a003020102"))
    der[at + 4] = value
    return bytes(der)


def test_a_version_cryptography_does_not_know_is_a_bad_certificate_everywhere(
    ca: tuple[pki.Issued, pki.Issued], tmp_path: Path
) -> None:
    """cryptography raises InvalidVersion, which is no ValueError, for a version field of 3 (v4):
    in the chain, in a trust anchor file, and where the client reads the chain with verification off."""
    import base64
    import warnings

    from tlslab.client import ClientConfig, ClientConnection
    from tlslab.messages import Certificate, CertificateEntry

    root, inter = ca
    leaf = _leaf(inter)
    bad_leaf = _with_version(leaf.cert, 3)
    with pytest.raises(BadCertificate, match="not a valid X509 version"):
        verify_server_chain([bad_leaf], "example.com", trust_roots=[root.cert])
    anchors = tmp_path / "anchors.pem"
    body = base64.encodebytes(_with_version(root.cert, 3)).decode()
    anchors.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
    good_chain = [c.public_bytes(Encoding.DER) for c in (leaf.cert, inter.cert)]
    with pytest.raises(BadCertificate, match="trust anchors"):
        verify_server_chain(good_chain, "example.com", cafile=str(anchors))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # verification off warns, loudly
        client = ClientConnection(ClientConfig(server_name="example.com", verify_chain=False))
    client.data_to_send()  # the ClientHello: the client now expects the server's flight
    message = Certificate(b"", [CertificateEntry(bad_leaf, [])])
    with pytest.raises(BadCertificate, match="not a valid X509 version"):
        client._on_certificate(message, message.encode())


def test_rsa_pss_is_minted_without_the_openssl_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # nothing to run: no openssl to fall back on
    root = pki.make_ca("Root rsa-pss", key_kind="rsa-pss")
    leaf = pki.issue(root, common_name="example.com", key_kind="rsa-pss", dns_names=("example.com",))
    old = pki.issue(
        root,
        common_name="example.com",
        key_kind="rsa-pss",
        dns_names=("example.com",),
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
        not_after=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert root.is_rsa_pss and leaf.is_rsa_pss and old.is_rsa_pss
    pkcs8 = base64.b64decode(b"".join(leaf.key_pem().splitlines()[1:-1]))
    assert pkcs8[7:20] == bytes.fromhex("300b06092a864886f70d01010a")  # PrivateKeyInfo: id-RSASSA-PSS
    leaf.cert.verify_directly_issued_by(root.cert)
    assert verify_server_chain([leaf.der()], "example.com", trust_roots=[root.cert]) == [leaf.cert, root.cert]
    with pytest.raises(CertificateExpired):  # any validity dates now, not only "valid now"
        verify_server_chain([old.der()], "example.com", trust_roots=[root.cert])
