"""Property-based tests of ``verify_server_chain`` on random chains (hypothesis).

Random roots, intermediates and leaves, with random extensions, flags, criticality, name
constraints, keys and validity, and random byte edits of valid certificates. Two properties:

1. the verifier returns a path or raises a ``TLSError`` subclass, never anything else, and
   always finishes (the work limit of ``MAX_SIGNATURE_CHECKS`` bounds every search);
2. it never accepts a chain that ``cryptography.x509.verification`` refuses, except the cases
   docs/features.md lists ("where tlslab and cryptography differ"): Ed25519/Ed448 keys, and
   self-issued intermediates that do not count against the depth.
"""

from __future__ import annotations

import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.certforge import (
    CLIENT_AUTH,
    DAY,
    KEEP,
    NOW,
    SERVER_AUTH,
    Node,
    cryptography_verdict,
    dns,
    load,
    mint,
    name,
    nets,
)

from tlslab.certverify import MAX_SIGNATURE_CHECKS, _is_self_issued, verify_server_chain
from tlslab.errors import TLSError, UnknownCA

# A small pool of keys, shared between certificates on purpose: the same key under two names,
# or two certificates with one key, are the shapes that confuse path building.
KEYS = {
    "p256-a": ec.generate_private_key(ec.SECP256R1()),
    "p256-b": ec.generate_private_key(ec.SECP256R1()),
    "p256-c": ec.generate_private_key(ec.SECP256R1()),
    "p384": ec.generate_private_key(ec.SECP384R1()),
    "p192": ec.generate_private_key(ec.SECP192R1()),
    "rsa1024": rsa.generate_private_key(65537, 1024),
    "rsa2048": rsa.generate_private_key(65537, 2048),
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
}
GOOD_KEYS = ["p256-a", "p256-b", "p256-c", "p384", "rsa2048"]
NAMES = ["example.com", "www.example.com", "*.example.com", "192.0.2.1", "2001:db8::1", "example.org",
         "under_score.example.com"]  # fmt: skip
SERVER_NAMES = ["example.com", "www.example.com", "example.org", "192.0.2.1", "2001:db8::1"]
EKUS = {
    "keep": KEEP,
    "none": None,
    "server": SERVER_AUTH,
    "client": CLIENT_AUTH,
    "server+any": x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]
    ),
    "any": x509.ExtendedKeyUsage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]),
}
SUBTREES = [*dns("example.com", "example.org", "www.example.com"), *nets("192.0.2.0/24", "2001:db8::/32"),
            x509.RFC822Name("example.com"), x509.DirectoryName(name(None, O="Allowed"))]  # fmt: skip
UNKNOWN = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00")
USAGES = {
    "keep": KEEP,
    "none": None,
    "leaf": x509.KeyUsage(True, False, False, False, False, False, False, False, False),
    "certsign": x509.KeyUsage(True, False, False, False, False, True, True, False, False),
}


def sometimes(rng: random.Random, one_in: int) -> bool:
    return rng.random() < 1 / one_in


def extensions(rng: random.Random, *, ca: bool) -> dict:
    """Keyword arguments for ``certforge.mint``: mostly valid, each field broken now and then.

    The odds come from a ``Random`` seeded by hypothesis: hypothesis's own choices favour the
    first and last values, which would break nearly every certificate in several places at once.
    """
    kw: dict = {"ca": not ca if sometimes(rng, 30) else ca}
    for flag, value in [("basic_constraints", False), ("bc_critical", False), ("ski", False), ("aki", None),
                        ("eku_critical", True), ("ski_critical", True), ("aki_critical", True)]:  # fmt: skip
        if sometimes(rng, 50):
            kw[flag] = value
    kw["path_length"] = rng.choice([None, None, None, 0, 1])
    kw["key_usage"] = USAGES[rng.choice(["keep"] * 30 + ["none", "leaf", "certsign"])]
    kw["eku"] = EKUS[rng.choice(["keep"] * 30 + ["none", "server", "client", "server+any", "any"])]
    if ca and sometimes(rng, 3):
        permitted = rng.sample(SUBTREES, rng.randint(0, 2)) or None
        excluded = rng.sample(SUBTREES, rng.randint(0, 1)) or None
        if permitted or excluded:
            kw["name_constraints"] = x509.NameConstraints(
                permitted_subtrees=permitted, excluded_subtrees=excluded
            )
            kw["nc_critical"] = rng.random() < 0.5
    if sometimes(rng, 10):
        kw["extra"] = [(UNKNOWN, rng.random() < 0.5)]
    if sometimes(rng, 30):
        kw["not_before"], kw["not_after"] = NOW - 40 * DAY, NOW - DAY
    elif sometimes(rng, 30):
        kw["not_before"], kw["not_after"] = NOW + DAY, NOW + 40 * DAY
    return kw


@st.composite
def chains(draw: st.DrawFn) -> tuple[list[bytes], list[x509.Certificate], str, list[Node]]:
    """A root, 0-2 intermediates (sometimes self-issued), a leaf; sent shuffled, the root sometimes."""
    rng = random.Random(draw(st.integers(0, 2**64)))
    weird = sometimes(rng, 4)  # sometimes a key outside the policy somewhere

    def key() -> object:
        return KEYS[rng.choice(sorted(KEYS) if weird else GOOD_KEYS)]

    root = mint("Random Root", key=key(), **extensions(rng, ca=True))
    issuer, nodes = root, []
    for i in range(rng.randint(0, 2)):
        subject = issuer.cert.subject.rfc4514_string()[3:] if sometimes(rng, 4) else f"Random CA {i}"
        node = mint(subject, issuer, key=key(), **extensions(rng, ca=True))
        nodes.append(node)
        issuer = node
    san = rng.sample(NAMES[:5] if not sometimes(rng, 6) else NAMES, rng.randint(0, 3))
    cn = rng.choice([None] + ["first"] * 6 + ["other"])
    subject = None if cn is None else (san[0] if cn == "first" and san else "example.com")
    leaf_kw = extensions(rng, ca=False)
    leaf_kw["san"] = san or None
    if sometimes(rng, 10):
        leaf_kw["san_critical"] = rng.random() < 0.5
    leaf = mint(subject, issuer, key=key(), **leaf_kw)
    sent = [n.der() for n in reversed(nodes)]
    rng.shuffle(sent)
    if sometimes(rng, 5):
        sent.append(root.der())
    server_name = rng.choice(SERVER_NAMES)
    if san and not sometimes(rng, 4):  # mostly a name the leaf has
        server_name = rng.choice(san).replace("*", "www")
    return [leaf.der(), *sent], [root.cert], server_name, [leaf, *reversed(nodes), root]


def documented_difference(path: list[x509.Certificate]) -> bool:
    """docs/features.md: chains tlslab accepts and cryptography refuses, on purpose."""
    eddsa = any(isinstance(c.public_key(), ed25519.Ed25519PublicKey) for c in path)
    self_issued = any(_is_self_issued(c) for c in path[1:-1])  # cryptography counts them for depth/pathLen
    return eddsa or self_issued


def run(chain: list[bytes], roots: list[x509.Certificate], server_name: str) -> list[x509.Certificate] | None:
    """tlslab's verdict: the path, or None after a TLSError. Any other exception fails the test."""
    try:
        return verify_server_chain(chain, server_name, trust_roots=roots, now=NOW)
    except TLSError:
        return None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains(drawn) -> None:
    chain, roots, server_name, _ = drawn
    path = run(chain, roots, server_name)
    if path is not None:
        accepted, why = cryptography_verdict(chain, roots, server_name)
        assert accepted or documented_difference(path), why


@pytest.fixture(scope="module")
def good_chain() -> tuple[list[bytes], Node]:
    root = mint("Mutation Root", ca=True)
    inter = mint(
        "Mutation CA", root, ca=True, name_constraints=x509.NameConstraints(dns("example.com"), None)
    )
    leaf = mint("example.com", inter, san=["example.com", "192.0.2.1"])
    return [leaf.der(), inter.der()], root


@settings(max_examples=150, deadline=None)
@given(
    which=st.sampled_from(["leaf", "intermediate", "root"]),
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=3),
    cut=st.one_of(st.none(), st.integers(1, 600)),
)
def test_edited_der_never_escapes(good_chain, which: str, edits, cut) -> None:
    """Bytes changed anywhere, or cut short, in any certificate of a valid chain, or in the anchor."""
    chain, root = good_chain
    position = {"leaf": 0, "intermediate": 1, "root": 2}[which]
    der = bytearray(root.der() if which == "root" else chain[position])
    for offset, value in edits:
        der[offset % len(der)] = value
    der = bytes(der[:cut] if cut else der)
    roots = [root.cert]
    if which == "root":
        try:
            roots = [load(der)]
        except (ValueError, x509.InvalidVersion):  # InvalidVersion is no ValueError
            assume(False)  # not a certificate at all: nothing to pass as a trust anchor
    else:
        chain = [*chain[:position], der, *chain[position + 1 :]]
    path = run(chain, roots, "example.com")
    if path is not None:
        accepted, why = cryptography_verdict(chain, roots, "example.com")
        assert accepted or documented_difference(path), why


def test_random_mesh_stays_within_the_work_limit() -> None:
    """Many CAs with one name and three shared keys (a mesh): the search gives up, with a TLSError."""
    rng = random.Random(12)
    root = mint("Mesh Root", ca=True)
    pool = [KEYS[k] for k in ("p256-a", "p256-b", "p256-c")]
    signer = Node(mint("Mesh CA", None, ca=True).cert, None)
    mesh = []
    for _ in range(25):
        signer.key = rng.choice(pool)
        mesh.append(mint("Mesh CA", signer, ca=True, key=rng.choice(pool)))
    signer.key = pool[0]
    leaf = mint("example.com", signer)
    with pytest.raises(UnknownCA, match=f"after {MAX_SIGNATURE_CHECKS} signature checks"):
        verify_server_chain(
            [leaf.der(), *(m.der() for m in mesh)], "example.com", trust_roots=[root.cert], now=NOW
        )
