"""The pieces of TLS 1.3 a learner may replace, as one object: ``Provider`` (like rustls' CryptoProvider).

tlslab's client and server never call the key schedule's HKDF, the record AEAD, Finished,
the CertificateVerify content, the certificate checks or the key exchange by module name:
they call the ``Provider`` their config holds (``ClientConfig(provider=...)``,
``ServerConfig(provider=...)``; default ``DEFAULT_PROVIDER``, tlslab's own functions). So a
notebook can run a real handshake on the learner's code without touching tlslab's modules::

    from tlslab.provider import Provider
    mine = Provider(hkdf_expand_label=my_hkdf_expand_label, per_record_nonce=my_nonce)
    conn = ClientConnection(ClientConfig(server_name="example.com", provider=mine))

Each field has the signature of the tlslab function of the same name (the default):

=============================  =====================================================  ==========
field                          signature                                              RFC 8446
=============================  =====================================================  ==========
``hkdf_extract``               ``(salt, ikm, hash_name) -> prk``                      §7.1 (5869)
``hkdf_expand``                ``(prk, info, length, hash_name) -> okm``              §7.1 (5869)
``hkdf_expand_label``          ``(secret, label, context, length, hash_name)``        §7.1
``derive_secret``              ``(secret, label, messages, hash_name)``               §7.1
``per_record_nonce``           ``(iv, seq) -> nonce``                                 §5.3
``protect_record``             ``(suite, key, iv, seq, content_type, data, padding)`` §5.2
                               ``-> the whole TLSCiphertext record``
``unprotect_record``           ``(suite, key, iv, seq, record) -> (type, content)``   §5.2, §5.4
``finished_verify_data``       ``(base_key, transcript_hash, hash_name)``             §4.4.4
``certificate_verify_content`` ``(transcript_hash, *, server) -> bytes to sign``      §4.4.3
``match_hostname``             ``(cert, name) -> bool``                               RFC 6125
``verify_chain``               ``(chain_der, server_name, *, trust_roots, now,``      §4.4.2
                               ``client) -> path leaf..root``
``generate_key_share``         ``(group, private) -> KeyShare``                       §4.2.8
``respond_to_key_share``       ``(group, client_share, private) -> (share, secret)``  §4.2.8, §7.4
=============================  =====================================================  ==========

Labels are bytes without ``"tls13 "``; ``hash_name`` is a hashlib name; ``record`` is a whole
record, header included (the header is the AEAD's additional data); ``unprotect_record``
raises ``cryptography.exceptions.InvalidTag`` when the tag does not verify, which the record
layer turns into bad_record_mac. ``verify_chain`` checks the server's chain for
``server_name`` (``None``: no name check) or, with ``client=True``, a client's chain (mutual
TLS); it raises a ``TLSError`` naming the alert. ``generate_key_share`` returns an object with
``.public`` (bytes for the wire) and ``.exchange(peer_public) -> shared secret``
(``tlslab.keyexchange.KeyShare``). The record layer keeps what is not cryptography: lengths,
content types, sequence numbers and their 2^64 limit.

RFC 8446 builds some pieces on others, and so does the Provider: tlslab's ``hkdf_expand_label``
runs on the provider's ``hkdf_expand``; ``derive_secret`` and ``finished_verify_data`` on its
``hkdf_expand_label``; ``protect_record``/``unprotect_record`` on its ``per_record_nonce``;
``verify_chain`` on its ``match_hostname``. Replace a lower piece and tlslab's higher pieces
use it (so a learner's ``hkdf_expand`` alone carries a whole handshake); replace a higher one
and it is used as given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from cryptography import x509

from . import certverify, keyexchange, keyschedule, record, signatures
from .keyexchange import KeyShare
from .suites import Suite


class CertificateVerifyContent(Protocol):
    def __call__(self, transcript_hash: bytes, *, server: bool = True) -> bytes: ...


class VerifyChain(Protocol):
    def __call__(
        self,
        chain_der: Sequence[bytes],
        server_name: str | None,
        *,
        trust_roots: Sequence[x509.Certificate],
        now: dt.datetime | None = None,
        client: bool = False,
    ) -> list[x509.Certificate]: ...


@dataclass(frozen=True)
class Provider:
    """The replaceable pieces of TLS 1.3; each field defaults to tlslab's function of that name.

    See the module docstring for each signature and for how the pieces build on each other.
    ``dataclasses.replace(DEFAULT_PROVIDER, per_record_nonce=mine)`` or
    ``Provider(per_record_nonce=mine)`` replaces one piece and keeps the rest.
    """

    hkdf_extract: Callable[[bytes, bytes, str], bytes] = keyschedule.hkdf_extract
    hkdf_expand: Callable[[bytes, bytes, int, str], bytes] = keyschedule.hkdf_expand
    hkdf_expand_label: Callable[[bytes, bytes, bytes, int, str], bytes] = keyschedule.hkdf_expand_label
    derive_secret: Callable[[bytes, bytes, bytes, str], bytes] = keyschedule.derive_secret
    per_record_nonce: Callable[[bytes, int], bytes] = record.per_record_nonce
    protect_record: Callable[[Suite, bytes, bytes, int, int, bytes, int], bytes] = record.protect_record
    unprotect_record: Callable[[Suite, bytes, bytes, int, bytes], tuple[int, bytes]] = record.unprotect_record
    finished_verify_data: Callable[[bytes, bytes, str], bytes] = keyschedule.finished_verify_data
    certificate_verify_content: CertificateVerifyContent = signatures.certificate_verify_content
    match_hostname: Callable[[x509.Certificate, str], bool] = certverify.match_hostname
    verify_chain: VerifyChain = certverify.verify_chain
    generate_key_share: Callable[[int, bytes | None], KeyShare] = keyexchange.generate_key_share
    respond_to_key_share: Callable[[int, bytes, bytes | None], tuple[bytes, bytes]] = (
        keyexchange.respond_to_key_share
    )

    def __post_init__(self) -> None:
        # Where a field is still tlslab's own, build it on this provider's lower pieces (in
        # order: hkdf_expand_label first, as derive_secret and Finished stand on it).
        for name, default, lower in _BUILT_ON:
            current = getattr(self, name)
            if not (current is default or (isinstance(current, partial) and current.func is default)):
                continue  # the caller's own: used as given
            replaced = {
                piece: getattr(self, piece) for piece in lower if getattr(self, piece) is not _DEFAULT[piece]
            }
            object.__setattr__(self, name, partial(default, **replaced) if replaced else default)

    def pieces(self) -> dict[str, Callable[..., Any]]:
        """``{field name: the function in use}``, in the order of the fields."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# tlslab's own function for each field, and, for those RFC 8446 builds on other pieces, which
# (each is a keyword parameter of tlslab's function, defaulting to tlslab's piece).
_DEFAULT: dict[str, Callable[..., Any]] = {
    f.name: f.default for f in dataclasses.fields(Provider) if f.default is not dataclasses.MISSING
}
_BUILT_ON: tuple[tuple[str, Callable[..., Any], tuple[str, ...]], ...] = (
    ("hkdf_expand_label", keyschedule.hkdf_expand_label, ("hkdf_expand",)),
    ("derive_secret", keyschedule.derive_secret, ("hkdf_expand_label",)),
    ("finished_verify_data", keyschedule.finished_verify_data, ("hkdf_expand_label",)),
    ("protect_record", record.protect_record, ("per_record_nonce",)),
    ("unprotect_record", record.unprotect_record, ("per_record_nonce",)),
    ("verify_chain", certverify.verify_chain, ("match_hostname",)),
)

DEFAULT_PROVIDER = Provider()

__all__ = ["DEFAULT_PROVIDER", "CertificateVerifyContent", "Provider", "VerifyChain"]
