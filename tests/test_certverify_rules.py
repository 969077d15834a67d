"""One case per rule of ``tlslab.certverify`` (RFC 5280, CA/Browser Forum Baseline Requirements).

Each case is minted here (``certforge.mint``, or ``certforge.forge`` where cryptography's builder
refuses to make the broken certificate), and says three things: tlslab's verdict, tlslab's
reason, and the verdict of ``cryptography.x509.verification`` on the same chain. The last is
asserted too, so the table below is the measured comparison; where they differ, tlslab refuses
what cryptography accepts (a rule cryptography does not have) or the case is listed in
docs/features.md ("Certificate checks: where tlslab and cryptography differ").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from support.certforge import (
    CLIENT_AUTH,
    NOW,
    PLACEHOLDER,
    PLACEHOLDER_DER,
    SERVER_AUTH,
    Node,
    cryptography_verdict,
    dns,
    explicit_p256_spki,
    id_ce,
    load,
    mint,
    name,
    nets,
    p256,
    replace,
    with_serial,
    with_sha1_signature,
    with_spki,
)

from tlslab.certverify import load_trust_roots, verify_client_chain, verify_server_chain
from tlslab.errors import AlertError, BadCertificate, CertificateExpired, UnknownCA, UnsupportedCertificate


@dataclass
class Case:
    chain: list[bytes]
    roots: list[x509.Certificate]
    error: type[AlertError] | None  # None: tlslab accepts
    reason: str  # tlslab's reason (a substring of it)
    cryptography: bool  # does cryptography.x509.verification accept?
    server_name: str | None = "example.com"
    client: bool = False
    max_depth: int | None = None
    now: dt.datetime = NOW
    extra: dict = field(default_factory=dict)


CASES: dict[str, Callable[[], Case]] = {}


def case(fn: Callable[[], Case]) -> Callable[[], Case]:
    CASES[fn.__name__.removeprefix("case_").replace("_", " ")] = fn
    return fn


def pki(**root_kw: object) -> tuple[Node, Node]:
    root = mint("Rules Root", ca=True, **root_kw)
    return root, mint("Rules Intermediate", root, ca=True)


def chain(*nodes: Node | bytes) -> list[bytes]:
    return [n if isinstance(n, bytes) else n.der() for n in nodes]


def server(leaf: Node | bytes, inter: Node | bytes, root: Node, error, reason, crypto, **kw) -> Case:
    return Case(chain(leaf, inter), [root.cert], error, reason, crypto, **kw)


# --- name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g)) ------------------------


def constrained(permitted=None, excluded=None, *, critical=True, on_root=False) -> tuple[Node, Node]:
    nc = x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)
    if on_root:
        return pki(name_constraints=nc, nc_critical=critical)
    root = mint("Rules Root", ca=True)
    return root, mint("Constrained CA", root, ca=True, name_constraints=nc, nc_critical=critical)


@case
def case_nc_permitted_dns_inside() -> Case:
    root, inter = constrained(dns("example.com"))
    return server(mint("www.example.com", inter), inter, root, None, "", True, server_name="www.example.com")


@case
def case_nc_permitted_dns_outside() -> Case:
    root, inter = constrained(dns("example.org"))
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Constrained CA' may not certify example.com "
                  "(nameConstraints permits only example.org)", False)  # fmt: skip


@case
def case_nc_permitted_dns_is_label_wise() -> Case:
    root, inter = constrained(dns("example.com"))
    return server(mint("badexample.com", inter), inter, root, BadCertificate,
                  "may not certify badexample.com", False, server_name="badexample.com")  # fmt: skip


@case
def case_nc_excluded_dns() -> Case:
    root, inter = constrained(excluded=dns("example.com"))
    return server(mint("www.example.com", inter), inter, root, BadCertificate,
                  "may not certify www.example.com (nameConstraints excludes example.com)", False,
                  server_name="www.example.com")  # fmt: skip


@case
def case_nc_on_the_root() -> Case:
    root, inter = constrained(dns("example.org"), on_root=True)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "root 'CN=Rules Root' may not certify example.com", False)  # fmt: skip


@case
def case_nc_not_critical_still_applies() -> Case:
    root, inter = constrained(dns("example.org"), critical=False)
    return server(
        mint("example.com", inter), inter, root, BadCertificate, "may not certify example.com", False
    )


@case
def case_nc_ipv4_mask_inside() -> Case:
    root, inter = constrained(nets("192.0.2.0/24"))
    leaf = mint("example.com", inter, san=["example.com", "192.0.2.10"])
    return server(leaf, inter, root, None, "", True, server_name="192.0.2.10")


@case
def case_nc_ipv4_mask_outside() -> Case:
    root, inter = constrained(nets("192.0.2.0/24"))
    leaf = mint("example.com", inter, san=["example.com", "198.51.100.1"])
    return server(leaf, inter, root, BadCertificate,
                  "may not certify 198.51.100.1 (nameConstraints permits only 192.0.2.0/24)", False)  # fmt: skip


@case
def case_nc_ipv6_excluded() -> Case:
    root, inter = constrained(excluded=nets("2001:db8::/32"))
    leaf = mint("example.com", inter, san=["example.com", "2001:db8::1"])
    return server(leaf, inter, root, BadCertificate,
                  "may not certify 2001:db8::1 (nameConstraints excludes 2001:db8::/32)", False)  # fmt: skip


@case
def case_nc_ipv4_name_under_ipv6_only_permits() -> Case:
    root, inter = constrained(nets("2001:db8::/32"))
    leaf = mint("example.com", inter, san=["example.com", "192.0.2.1"])
    return server(leaf, inter, root, BadCertificate, "may not certify 192.0.2.1", False)


@case
def case_nc_wildcard_not_all_permitted() -> Case:
    root, inter = constrained(dns("www.example.com"))
    leaf = mint("*.example.com", inter)
    return server(leaf, inter, root, BadCertificate, "may not certify *.example.com", True,
                  server_name="www.example.com")  # fmt: skip


@case
def case_nc_wildcard_overlaps_excluded() -> Case:
    root, inter = constrained(excluded=dns("www.example.com"))
    leaf = mint("*.example.com", inter)
    return server(leaf, inter, root, BadCertificate,
                  "may not certify *.example.com (nameConstraints excludes www.example.com)", False,
                  server_name="api.example.com")  # fmt: skip


@case
def case_nc_wildcard_inside() -> Case:
    root, inter = constrained(dns("example.com"))
    return server(mint("*.example.com", inter), inter, root, None, "", True, server_name="www.example.com")


@case
def case_nc_self_issued_intermediate_names_are_skipped() -> Case:
    """§6.1.3 (b): a self-issued intermediate (a key rollover) is not held to the constraints
    above it; the leaf under it is."""
    root, inter = constrained(dns("example.com"))
    rollover = mint("Constrained CA", inter, ca=True, san=["rollover.test"])
    return Case(chain(mint("example.com", rollover), rollover, inter), [root.cert], None, "", True)


@case
def case_nc_of_a_self_issued_intermediate_apply() -> Case:
    """§6.1.4 (g): the constraints of a self-issued intermediate apply below it."""
    root, inter = pki()
    nc = x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=dns("www.example.com"))
    rollover = mint("Rules Intermediate", inter, ca=True, name_constraints=nc)
    leaf = mint("www.example.com", rollover)
    return Case(chain(leaf, rollover, inter), [root.cert], BadCertificate,
                "intermediate 'CN=Rules Intermediate' may not certify www.example.com", False,
                server_name="www.example.com")  # fmt: skip


@case
def case_nc_directory_name_checks_the_subject() -> Case:
    """§6.1.3 (b): directoryName constraints apply to the subject; cryptography ignores the subject."""
    root, inter = constrained([x509.DirectoryName(name(None, O="Allowed"))])
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "may not certify 'CN=example.com' (nameConstraints permits only 'O=Allowed')", True)  # fmt: skip


@case
def case_nc_directory_name_inside() -> Case:
    root, inter = constrained([x509.DirectoryName(name(None, O="Allowed"))])
    leaf = mint(name("example.com", O="Allowed"), inter, san=["example.com"])
    return server(leaf, inter, root, None, "", True)


@case
def case_nc_critical_type_we_cannot_check() -> Case:
    root, inter = constrained([x509.RFC822Name("example.com")])
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "has a critical RFC822Name name constraint, which tlslab cannot check", True)  # fmt: skip


@case
def case_nc_malformed_dns_constraint() -> Case:
    root, inter = constrained(dns(".example.com"))
    return server(mint("www.example.com", inter), inter, root, BadCertificate,
                  "has the malformed dNSName constraint '.example.com'", False, server_name="www.example.com")  # fmt: skip


@case
def case_nc_that_does_not_parse() -> Case:
    root = mint("Rules Root", ca=True)
    bad = x509.UnrecognizedExtension(PLACEHOLDER, b"\x30\x05\xa0\x03\x30\x01")  # a truncated subtree
    inter = mint("Broken NC CA", root, ca=True, extra=[(bad, True)])
    der = replace(inter, root.key, PLACEHOLDER_DER, id_ce(30))
    return server(mint("example.com", Node(x509.load_der_x509_certificate(der), inter.key)), der, root,
                  BadCertificate, "could not parse certificate (certificate #1 in the chain)", False)  # fmt: skip


# --- criticality (RFC 5280 §4.2) -------------------------------------------------------------

UNKNOWN = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")


@case
def case_unknown_critical_extension_in_leaf() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, extra=[(UNKNOWN, True)]), inter, root, UnsupportedCertificate,
                  "certificate for example.com has a critical extension tlslab does not process: "
                  "1.3.6.1.4.1.55555.1 (RFC 5280 §4.2)", False)  # fmt: skip


@case
def case_unknown_critical_extension_in_intermediate() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, extra=[(UNKNOWN, True)])
    return server(mint("example.com", inter), inter, root, UnsupportedCertificate,
                  "intermediate 'CN=Rules Intermediate' has a critical extension tlslab does not process", False)  # fmt: skip


@case
def case_unknown_critical_extension_in_root() -> Case:
    root, inter = pki(extra=[(UNKNOWN, True)])
    return server(mint("example.com", inter), inter, root, UnsupportedCertificate,
                  "root 'CN=Rules Root' has a critical extension tlslab does not process", False)  # fmt: skip


@case
def case_unknown_non_critical_extension_is_fine() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, extra=[(UNKNOWN, False)]), inter, root, None, "", True)


@case
def case_ca_basic_constraints_not_critical() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, bc_critical=False)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' has a non-critical basicConstraints "
                  "(RFC 5280 §4.2.1.9: critical in a CA)", False)  # fmt: skip


@case
def case_critical_authority_key_identifier() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, aki_critical=True), inter, root, BadCertificate,
                  "certificate for example.com marks authorityKeyIdentifier critical "
                  "(RFC 5280 §4.2.1.1: it must not be)", False)  # fmt: skip


@case
def case_critical_subject_key_identifier_in_leaf() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, ski_critical=True), inter, root, BadCertificate,
                  "marks subjectKeyIdentifier critical (RFC 5280 §4.2.1.2: it must not be)", True)  # fmt: skip


@case
def case_critical_subject_key_identifier_in_ca() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, ski_critical=True)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' marks subjectKeyIdentifier critical", False)  # fmt: skip


@case
def case_critical_san_with_a_subject() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, san_critical=True), inter, root, BadCertificate,
                  "certificate for example.com has a subject but a critical subjectAltName (RFC 5280 §4.2.1.6)",
                  False)  # fmt: skip


@case
def case_empty_subject_needs_a_critical_san() -> Case:
    root, inter = pki()
    leaf = mint(None, inter, san=["example.com"], san_critical=False)
    return server(leaf, inter, root, BadCertificate,
                  "has an empty subject but a non-critical subjectAltName (RFC 5280 §4.2.1.6)", False)  # fmt: skip


@case
def case_empty_subject_with_critical_san() -> Case:
    root, inter = pki()
    return server(mint(None, inter, san=["example.com"]), inter, root, None, "", True)


@case
def case_critical_extended_key_usage() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, eku_critical=True), inter, root, BadCertificate,
                  "marks extendedKeyUsage critical (CABF BR 7.1.2.7.10: it must not be)", False)  # fmt: skip


# --- the leaf's own constraints (CABF BR 7.1.2.7) ---------------------------------------------


@case
def case_ca_as_the_leaf() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, ca=True, san=["example.com"], eku=SERVER_AUTH)
    return server(leaf, inter, root, UnsupportedCertificate,
                  "certificate for example.com is a CA certificate (basicConstraints CA:TRUE), not a leaf", False)  # fmt: skip


@case
def case_leaf_with_key_cert_sign() -> Case:
    root, inter = pki()
    usage = x509.KeyUsage(True, False, False, False, False, True, False, False, False)
    return server(mint("example.com", inter, key_usage=usage), inter, root, UnsupportedCertificate,
                  "certificate for example.com may sign certificates (keyUsage keyCertSign), not a leaf", False)  # fmt: skip


@case
def case_leaf_with_name_constraints() -> Case:
    root, inter = pki()
    nc = x509.NameConstraints(permitted_subtrees=dns("example.com"), excluded_subtrees=None)
    return server(mint("example.com", inter, name_constraints=nc), inter, root, UnsupportedCertificate,
                  "certificate for example.com has nameConstraints, which only a CA may carry", False)  # fmt: skip


# --- keys and signature algorithms (CABF BR 6.1.5, 7.1.3) -------------------------------------


_RSA1024: list[rsa.RSAPrivateKey] = []


def weak_rsa() -> rsa.RSAPrivateKey:
    if not _RSA1024:
        _RSA1024.append(rsa.generate_private_key(65537, 1024))
    return _RSA1024[0]


@case
def case_rsa_1024_leaf() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, key=weak_rsa()), inter, root, BadCertificate,
                  "certificate for example.com has a 1024-bit RSA key; at least 2048 (CABF BR 6.1.5)", True)  # fmt: skip


@case
def case_rsa_1024_intermediate() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, key=weak_rsa())
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' has a 1024-bit RSA key", False)  # fmt: skip


@case
def case_rsa_1024_trust_anchor() -> Case:
    root, inter = pki(key=weak_rsa())
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "root 'CN=Rules Root' has a 1024-bit RSA key", False)  # fmt: skip


@case
def case_p192_leaf() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, key=ec.generate_private_key(ec.SECP192R1()))
    return server(leaf, inter, root, UnsupportedCertificate,
                  "certificate for example.com has a key on secp192r1; only P-256, P-384 and P-521", True)  # fmt: skip


@case
def case_p192_intermediate() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, key=ec.generate_private_key(ec.SECP192R1()))
    return server(mint("example.com", inter), inter, root, UnsupportedCertificate,
                  "intermediate 'CN=Rules Intermediate' has a key on secp192r1", False)  # fmt: skip


@case
def case_explicit_curve_parameters() -> Case:
    root, inter = pki()
    leaf = with_spki(mint("example.com", inter), inter.key, explicit_p256_spki())
    return server(leaf, inter, root, UnsupportedCertificate,
                  "certificate for example.com has an EC key with explicit curve parameters; only named curves", True)  # fmt: skip


@case
def case_dsa_leaf() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, key=dsa.generate_private_key(2048))
    return server(leaf, inter, root, UnsupportedCertificate,
                  "certificate for example.com has a DSA key, which TLS 1.3 cannot use", True)  # fmt: skip


@case
def case_sha1_signature_on_leaf() -> Case:
    root, inter = pki()
    return server(with_sha1_signature(mint("example.com", inter), inter.key), inter, root, BadCertificate,
                  "certificate for example.com is signed with SHA1, too weak (CABF BR 7.1.3.2)", False)  # fmt: skip


@case
def case_sha1_signature_on_intermediate() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True)
    return server(mint("example.com", inter), with_sha1_signature(inter, root.key), root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' is signed with SHA1, too weak", False)  # fmt: skip


@case
def case_sha1_self_signature_of_a_root_is_not_looked_at() -> Case:
    root, inter = pki()
    root = Node(x509.load_der_x509_certificate(with_sha1_signature(root, root.key)), root.key)
    return server(mint("example.com", inter), inter, root, None, "", True)


@case
def case_ed25519_chain() -> Case:
    """Accepted (TLS 1.3 signs with Ed25519, RFC 8446 §4.2.3); the web PKI does not allow it."""
    root = mint("Rules Root", ca=True, key=ed25519.Ed25519PrivateKey.generate())
    inter = mint("Rules Intermediate", root, ca=True, key=ed25519.Ed25519PrivateKey.generate())
    return server(mint("example.com", inter), inter, root, None, "", False)


# --- serial numbers (RFC 5280 §4.1.2.2) -------------------------------------------------------


@case
def case_serial_zero() -> Case:
    root, inter = pki()
    leaf = with_serial(mint("example.com", inter), inter.key, b"\x00")
    return server(leaf, inter, root, BadCertificate,
                  "certificate for example.com has serial number 0x0; RFC 5280 §4.1.2.2 wants a positive "
                  "number of at most 20 octets", True)  # fmt: skip


@case
def case_serial_negative() -> Case:
    root, inter = pki()
    leaf = with_serial(mint("example.com", inter), inter.key, b"\xff\x01")
    return server(leaf, inter, root, BadCertificate, "has serial number -0xff", False)


@case
def case_serial_21_octets() -> Case:
    root, inter = pki()
    leaf = with_serial(mint("example.com", inter), inter.key, b"\x00" + b"\xff" * 20)
    return server(leaf, inter, root, BadCertificate, "has serial number 0xffff", True)


@case
def case_serial_22_octets() -> Case:
    root, inter = pki()
    leaf = with_serial(mint("example.com", inter), inter.key, b"\x01" * 22)
    return server(leaf, inter, root, BadCertificate, "has serial number 0x101", False)


@case
def case_serial_20_octets_is_fine() -> Case:
    root, inter = pki()
    leaf = with_serial(mint("example.com", inter), inter.key, b"\x7f" * 20)
    return server(leaf, inter, root, None, "", True)


@case
def case_serial_zero_trust_anchor_is_tolerated() -> Case:
    root = mint("Rules Root", ca=True)
    root = Node(load(with_serial(root, root.key, b"\x00")), root.key)
    inter = mint("Rules Intermediate", root, ca=True)
    return server(mint("example.com", inter), inter, root, None, "", True)


# --- duplicate and undecodable extensions (RFC 5280 §4.2) -------------------------------------


def duplicate(node_fn: Callable[[list], Node], signer_key, oid_number: int) -> bytes:
    node = node_fn([(x509.UnrecognizedExtension(PLACEHOLDER, b"\x30\x00"), False)])
    return replace(node, signer_key, PLACEHOLDER_DER, id_ce(oid_number))


@case
def case_duplicate_extension_in_leaf() -> Case:
    root, inter = pki()
    leaf = duplicate(lambda extra: mint("example.com", inter, extra=extra), inter.key, 19)
    return server(leaf, inter, root, BadCertificate,
                  "could not parse certificate (the server's certificate): two basicConstraints extensions "
                  "(RFC 5280 §4.2: at most one of each)", False)  # fmt: skip


@case
def case_duplicate_extension_in_intermediate() -> Case:
    root = mint("Rules Root", ca=True)
    key = p256()
    inter_der = duplicate(
        lambda extra: mint("Rules Intermediate", root, ca=True, key=key, extra=extra), root.key, 14
    )
    inter = Node(mint("Rules Intermediate", root, ca=True, key=key).cert, key)
    return server(mint("example.com", inter), inter_der, root, BadCertificate,
                  "could not parse certificate (certificate #1 in the chain): two subjectKeyIdentifier extensions",
                  False)  # fmt: skip


@case
def case_duplicate_extension_in_trust_anchor() -> Case:
    key = p256()
    root_der = duplicate(lambda extra: mint("Rules Root", ca=True, key=key, extra=extra), key, 15)
    root = Node(x509.load_der_x509_certificate(root_der), key)
    inter = mint("Rules Intermediate", root, ca=True)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "trust anchor 'CN=Rules Root' is unusable: two keyUsage extensions", False)  # fmt: skip


@case
def case_undecodable_san_in_leaf() -> Case:
    root, inter = pki()
    node = mint(
        "example.com",
        inter,
        san=None,
        extra=[(x509.UnrecognizedExtension(PLACEHOLDER, b"\x30\x03\x82\x05a"), False)],
    )
    leaf = replace(node, inter.key, PLACEHOLDER_DER, id_ce(17))
    return server(
        leaf, inter, root, BadCertificate, "could not parse certificate (the server's certificate)", False
    )


@case
def case_undecodable_extension_in_trust_anchor() -> Case:
    key = p256()
    node = mint("Rules Root", ca=True, key=key, aki=None,
                extra=[(x509.UnrecognizedExtension(PLACEHOLDER, b"\x04\x01"), False)])  # fmt: skip
    root = Node(x509.load_der_x509_certificate(replace(node, key, PLACEHOLDER_DER, id_ce(35))), key)
    inter = mint("Rules Intermediate", root, ca=True)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "trust anchor 'CN=Rules Root' is unusable", False)  # fmt: skip


# --- the subject CN among the SANs (CABF BR 7.1.4.3) ------------------------------------------


@case
def case_common_name_not_among_the_sans() -> Case:
    root, inter = pki()
    return server(mint("www.example.com", inter, san=["example.com"]), inter, root, BadCertificate,
                  "certificate for example.com has the common name 'www.example.com', which is not among its "
                  "subjectAltName entries (CABF BR 7.1.4.3)", True)  # fmt: skip


@case
def case_common_name_differs_in_case() -> Case:
    root, inter = pki()
    return server(mint("Example.com", inter, san=["example.com"]), inter, root, BadCertificate,
                  "has the common name 'Example.com', which is not among", True)  # fmt: skip


@case
def case_common_name_ipv6_not_canonical() -> Case:
    root, inter = pki()
    leaf = mint("2001:DB8:0::1", inter, san=["2001:db8::1"])
    return server(leaf, inter, root, BadCertificate, "has the common name '2001:DB8:0::1'", True,
                  server_name="2001:db8::1")  # fmt: skip


@case
def case_common_name_ipv6_canonical() -> Case:
    root, inter = pki()
    leaf = mint("2001:db8::1", inter, san=["2001:db8::1"])
    return server(leaf, inter, root, None, "", True, server_name="2001:db8::1")


@case
def case_two_common_names() -> Case:
    root, inter = pki()
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "example.com")] * 2)
    return server(mint(subject, inter, san=["example.com"]), inter, root, BadCertificate,
                  "has 2 common names; at most one (CABF BR 7.1.4.3)", True)  # fmt: skip


# --- key identifiers (RFC 5280 §4.2.1.1-2, CABF BR 7.1.2.1, 7.1.2.11.1) -----------------------


@case
def case_intermediate_without_ski() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, ski=False)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' has no subjectKeyIdentifier (RFC 5280 §4.2.1.2)", True)  # fmt: skip


@case
def case_leaf_without_aki() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, aki=None), inter, root, BadCertificate,
                  "certificate for example.com has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)",
                  False)  # fmt: skip


@case
def case_leaf_aki_without_key_identifier() -> Case:
    root, inter = pki()
    aki = x509.AuthorityKeyIdentifier(None, [x509.DirectoryName(inter.cert.issuer)], inter.cert.serial_number)
    return server(mint("example.com", inter, aki=aki), inter, root, BadCertificate,
                  "has no authorityKeyIdentifier keyIdentifier", True)  # fmt: skip


@case
def case_intermediate_without_aki() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, aki=None)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "intermediate 'CN=Rules Intermediate' has no authorityKeyIdentifier keyIdentifier", True)  # fmt: skip


@case
def case_root_aki_with_issuer_and_serial() -> Case:
    key = p256()
    aki = x509.AuthorityKeyIdentifier(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest,
        [x509.DirectoryName(name("Rules Root"))], 1,
    )  # fmt: skip
    root, inter = pki(key=key, aki=aki)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "root 'CN=Rules Root' has authorityCertIssuer/SerialNumber in its authorityKeyIdentifier "
                  "(CABF BR 7.1.2.11.1)", True)  # fmt: skip


@case
def case_root_without_ski_or_aki_is_fine() -> Case:
    root, inter = pki(ski=False, aki=None)
    return server(mint("example.com", inter), inter, root, None, "", True)


# --- extendedKeyUsage (RFC 5280 §4.2.1.12, CABF BR 7.1.2.1, 7.1.2.7.10) -----------------------


@case
def case_leaf_without_eku() -> Case:
    root, inter = pki()
    return server(mint("example.com", inter, eku=None), inter, root, UnsupportedCertificate,
                  "certificate for example.com has no extendedKeyUsage (CABF BR 7.1.2.7.10)", True)  # fmt: skip


@case
def case_leaf_with_any_eku_beside_server_auth() -> Case:
    root, inter = pki()
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    return server(mint("example.com", inter, eku=eku), inter, root, UnsupportedCertificate,
                  "certificate for example.com allows anyExtendedKeyUsage (CABF BR 7.1.2.7.10)", True)  # fmt: skip


@case
def case_root_with_eku() -> Case:
    root, inter = pki(eku=SERVER_AUTH)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "root 'CN=Rules Root' has an extendedKeyUsage, which a root must not (CABF BR 7.1.2.1)", True)  # fmt: skip


@case
def case_intermediate_eku_for_other_purposes() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, eku=CLIENT_AUTH)
    return server(mint("example.com", inter), inter, root, UnsupportedCertificate,
                  "intermediate 'CN=Rules Intermediate' may issue only for other purposes than TLS servers", False)  # fmt: skip


@case
def case_intermediate_eku_server_auth() -> Case:
    root = mint("Rules Root", ca=True)
    inter = mint("Rules Intermediate", root, ca=True, eku=SERVER_AUTH)
    return server(mint("example.com", inter), inter, root, None, "", True)


# --- names (RFC 5280 §4.2.1.6, §4.1.2.4, §4.1.2.6) --------------------------------------------


@case
def case_dns_name_with_underscore() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, san=["example.com", "under_score.example.com"])
    return server(leaf, inter, root, BadCertificate,
                  "certificate for example.com has the malformed dNSName 'under_score.example.com' "
                  "(RFC 5280 §4.2.1.6, RFC 1034 §3.5)", True)  # fmt: skip


@case
def case_dns_name_with_empty_label() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, san=["example.com", "a..example.com"])
    return server(leaf, inter, root, BadCertificate, "has the malformed dNSName 'a..example.com'", True)


@case
def case_ca_with_empty_subject() -> Case:
    """A CA without a name: what it signs has an empty issuer, refused first (RFC 5280 §4.1.2.4)."""
    root = mint("Rules Root", ca=True)
    inter = mint(None, root, ca=True)
    return server(mint("example.com", inter), inter, root, BadCertificate,
                  "certificate for example.com has an empty issuer name (RFC 5280 §4.1.2.4)", False)  # fmt: skip


# --- max_depth (RFC 5280 §6.1.2 (k)) and whole seconds (§4.1.2.5) -----------------------------


def deep(self_issued: bool = False) -> tuple[list[bytes], Node]:
    root = mint("Rules Root", ca=True)
    first = mint("First CA", root, ca=True)
    second = mint("First CA" if self_issued else "Second CA", first, ca=True)
    return chain(mint("example.com", second), second, first), root


@case
def case_max_depth_exceeded() -> Case:
    der, root = deep()
    return Case(der, [root.cert], UnknownCA, "certificate chain needs more than max_depth=1 intermediate(s)",
                False, max_depth=1)  # fmt: skip


@case
def case_max_depth_reached() -> Case:
    der, root = deep()
    return Case(der, [root.cert], None, "", True, max_depth=2)


@case
def case_max_depth_does_not_count_self_issued() -> Case:
    der, root = deep(self_issued=True)
    return Case(der, [root.cert], None, "", False, max_depth=1)


@case
def case_validity_in_whole_seconds() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, not_after=NOW)
    return server(leaf, inter, root, None, "", True, now=NOW + dt.timedelta(microseconds=999_999))


@case
def case_validity_one_second_late() -> Case:
    root, inter = pki()
    leaf = mint("example.com", inter, not_after=NOW)
    return server(leaf, inter, root, CertificateExpired, "certificate for example.com expired on", False,
                  now=NOW + dt.timedelta(seconds=1))  # fmt: skip


# --- the same rules on client chains (verify_client_chain, clientAuth) ------------------------


def client_case(leaf_kw: dict, error, reason, crypto, inter_kw: dict | None = None) -> Case:
    root = mint("Client Root", ca=True)
    inter = mint("Client CA", root, ca=True, **(inter_kw or {}))
    leaf = mint("alice.example", inter, **{"eku": CLIENT_AUTH, **leaf_kw})
    return Case(chain(leaf, inter), [root.cert], error, reason, crypto, server_name=None, client=True)


@case
def case_client_valid() -> Case:
    return client_case({}, None, "", True)


@case
def case_client_without_san() -> Case:
    """Accepted: a client is named by its subject (RFC 5280 §4.2.1.6); cryptography wants a SAN."""
    return client_case({"san": None}, None, "", False)


@case
def case_client_server_auth_only() -> Case:
    return client_case({"eku": SERVER_AUTH}, UnsupportedCertificate,
                       "is not for TLS clients (extendedKeyUsage lacks clientAuth)", False)  # fmt: skip


@case
def case_client_name_constraints() -> Case:
    nc = x509.NameConstraints(permitted_subtrees=dns("example.org"), excluded_subtrees=None)
    return client_case({}, BadCertificate, "intermediate 'CN=Client CA' may not certify alice.example", False,
                       {"name_constraints": nc})  # fmt: skip


@case
def case_client_unknown_critical_extension() -> Case:
    return client_case({"extra": [(UNKNOWN, True)]}, UnsupportedCertificate,
                       "has a critical extension tlslab does not process", False)  # fmt: skip


@case
def case_client_ca_as_the_leaf() -> Case:
    return client_case({"ca": True, "san": ["alice.example"]}, UnsupportedCertificate,
                       "is a CA certificate (basicConstraints CA:TRUE), not a leaf", False)  # fmt: skip


@case
def case_client_weak_key() -> Case:
    return client_case({}, BadCertificate, "intermediate 'CN=Client CA' has a 1024-bit RSA key", False,
                       {"key": weak_rsa()})  # fmt: skip


@case
def case_client_common_name_not_in_san() -> Case:
    return client_case({"san": ["bob.example"]}, BadCertificate,
                       "has the common name 'alice.example', which is not among", True)  # fmt: skip


@case
def case_client_without_eku() -> Case:
    return client_case({"eku": None}, UnsupportedCertificate, "has no extendedKeyUsage", True)


@case
def case_client_intermediate_for_servers_only() -> Case:
    return client_case({}, UnsupportedCertificate, "may issue only for other purposes than TLS clients", False,
                       {"eku": SERVER_AUTH})  # fmt: skip


# --- running them -----------------------------------------------------------------------------


def tlslab_verdict(c: Case) -> list[x509.Certificate]:
    kw = {"trust_roots": c.roots, "now": c.now}
    if c.max_depth is not None:
        kw["max_depth"] = c.max_depth
    if c.client:
        return verify_client_chain(c.chain, **kw)
    return verify_server_chain(c.chain, c.server_name, **kw)


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_rule(case_name: str) -> None:
    c = CASES[case_name]()
    if c.error is None:
        path = tlslab_verdict(c)
        assert path[0] == x509.load_der_x509_certificate(c.chain[0])
    else:
        with pytest.raises(AlertError) as info:
            tlslab_verdict(c)
        assert type(info.value) is c.error, info.value
        assert c.reason in info.value.reason, info.value.reason
    accepted, why = cryptography_verdict(
        c.chain, c.roots, c.server_name, client=c.client, now=c.now, max_depth=c.max_depth
    )
    assert accepted is c.cryptography, why
    # tlslab never accepts what cryptography refuses, except the cases docs/features.md lists.
    if c.error is None and not accepted:
        assert case_name in DOCUMENTED_ACCEPTS, case_name


# docs/features.md, "where tlslab and cryptography differ": accepted by tlslab, refused by cryptography.
DOCUMENTED_ACCEPTS = {"ed25519 chain", "max depth does not count self issued", "client without san"}


def test_bundle_that_does_not_parse_is_a_tls_error(tmp_path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0B\n-----END CERTIFICATE-----\n")
    with pytest.raises(BadCertificate, match="could not parse the trust anchors in"):
        load_trust_roots(str(bad))


def test_certifi_roots_load_and_pass_the_anchor_checks() -> None:
    """Every root of the default store decodes (the rules must not break the Mozilla bundle)."""
    from tlslab.certverify import _anchor_problem, _check_certificate

    roots = load_trust_roots()
    assert len(roots) > 100
    for root in roots:
        assert _anchor_problem(root) is None
        _check_certificate(root, "root", anchor=True)
