"""tlslab.lab.pki: a given key and extra extensions end up in the certificate, signed by the issuer."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tlslab.lab import pki


def test_issue_with_a_given_key_and_extra_extensions() -> None:
    root = pki.make_ca("Extra Root")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    permitted = x509.NameConstraints(permitted_subtrees=[x509.DNSName("a.example")], excluded_subtrees=None)
    leaf = pki.issue(
        root,
        common_name="w.a.example",
        dns_names=["w.a.example"],
        key=weak,
        extensions=[(unknown, True), (permitted, False)],
    )
    assert leaf.key is weak and leaf.cert.public_key().key_size == 1024
    extension = leaf.cert.extensions.get_extension_for_oid(unknown.oid)
    assert extension.critical and extension.value.value == b"\x05\x00"
    assert leaf.cert.extensions.get_extension_for_class(x509.NameConstraints).value == permitted
    assert leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)  # the usual ones stay
    leaf.cert.verify_directly_issued_by(root.cert)
