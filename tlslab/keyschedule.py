"""The TLS 1.3 key schedule (RFC 8446 §7.1-§7.5, HKDF from RFC 5869).

Every secret of a TLS 1.3 connection comes out of one chain of HKDF calls.
Three secrets are *extracted* in turn, each salted with the one before
(RFC 8446 §7.1)::

                 0
                 |
                 v
       PSK ->  HKDF-Extract = Early Secret  --> binder_key, c e traffic, e exp master
                 |
           Derive-Secret(., "derived", "")
                 |
                 v
    (EC)DHE -> HKDF-Extract = Handshake Secret --> c hs traffic, s hs traffic
                 |
           Derive-Secret(., "derived", "")
                 |
                 v
       0 -> HKDF-Extract = Master Secret --> c ap traffic, s ap traffic, exp master, res master

and every traffic secret is then *expanded* into an AEAD key and IV (§7.3).
Each expansion is bound to its purpose by a label ("c hs traffic", "key", ...)
and to the handshake so far by the transcript hash (§4.4.1), so two
connections, or two directions, never share a key.

Labels are passed without the ``"tls13 "`` prefix, which ``hkdf_label`` adds::

    >>> hkdf_label(b"key", b"", 16).hex()
    '001009746c733133206b657900'

HKDF is written out here from HMAC (RFC 5869 §2) because it is short and the
course reads it; the HMAC itself is the standard library's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from .errors import InternalError
from .messages import MessageHash
from .suites import HASH_LENS, Suite

if TYPE_CHECKING:
    from .provider import Provider

# The shapes of the pieces a Provider may replace (provider.py): HKDF-Expand and Expand-Label.
Expand = Callable[[bytes, bytes, int, str], bytes]
ExpandLabel = Callable[[bytes, bytes, bytes, int, str], bytes]

# ---------------------------------------------------------------- RFC 5869 HKDF


_HASH_FUNCTIONS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}  # hashlib.new, without the lookup


def _hash_len(hash_name: str) -> int:
    return HASH_LENS.get(hash_name) or hashlib.new(hash_name).digest_size


def hkdf_extract(salt: bytes, ikm: bytes, hash_name: str = "sha256") -> bytes:
    """HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2).

    An empty salt means HashLen zero bytes, as RFC 5869 says (HMAC pads the
    key with zeros anyway, so both give the same PRK).
    """
    return hmac.digest(salt or bytes(_hash_len(hash_name)), ikm, hash_name)


def hkdf_expand(prk: bytes, info: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """HKDF-Expand(PRK, info, L) (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i)."""
    hash_len = _hash_len(hash_name)
    if not 0 <= length <= 255 * hash_len:
        raise ValueError(f"HKDF-Expand can produce at most {255 * hash_len} bytes, not {length}")
    okm, block = b"", b""
    for counter in range(1, -(-length // hash_len) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), hash_name)
        okm += block
    return okm[:length]


# ---------------------------------------------------------------- RFC 8446 §7.1


@lru_cache(maxsize=256)  # the same few labels, contexts and lengths come back on every handshake
def hkdf_label(label: bytes, context: bytes, length: int) -> bytes:
    """The ``info`` of HKDF-Expand-Label: the HkdfLabel struct of RFC 8446 §7.1.

    struct {
        uint16 length = Length;
        opaque label<7..255> = "tls13 " + Label;
        opaque context<0..255> = Context;
    } HkdfLabel;
    """
    full_label = b"tls13 " + label
    if not 7 <= len(full_label) <= 255:
        raise ValueError(f"HkdfLabel.label must be 7..255 bytes, {full_label!r} is {len(full_label)}")
    if len(context) > 255:
        raise ValueError(f"HkdfLabel.context must be at most 255 bytes, not {len(context)}")
    if not 0 <= length < 1 << 16:
        raise ValueError(f"HkdfLabel.length {length} does not fit in a uint16")
    return length.to_bytes(2, "big") + bytes([len(full_label)]) + full_label + bytes([len(context)]) + context


def hkdf_expand_label(
    secret: bytes,
    label: bytes,
    context: bytes,
    length: int,
    hash_name: str = "sha256",
    *,
    hkdf_expand: Expand = hkdf_expand,
) -> bytes:
    """HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1).

    ``hkdf_expand``: the HKDF-Expand it stands on (a ``Provider`` passes its own).
    """
    return hkdf_expand(secret, hkdf_label(label, context, length), length, hash_name)


@lru_cache(maxsize=8)  # one transcript is hashed for two or three secrets in a row (§7.1)
def transcript_hash(messages: bytes, hash_name: str = "sha256") -> bytes:
    """Transcript-Hash(M1 || M2 ... Mn) (RFC 8446 §4.4.1): the hash of the handshake messages."""
    hash_function = _HASH_FUNCTIONS.get(hash_name)
    return hash_function(messages).digest() if hash_function else hashlib.new(hash_name, messages).digest()


def hrr_message_hash(client_hello1: bytes, hash_name: str = "sha256") -> bytes:
    """The synthetic ``message_hash`` message that replaces ClientHello1 after a HelloRetryRequest.

    RFC 8446 §4.4.1: the transcript then starts with
    ``handshake_type message_hash (254) || 00 00 Hash.length || Hash(ClientHello1)``,
    so a stateless server can keep just the hash of ClientHello1 in its cookie.
    """
    return MessageHash(transcript_hash(client_hello1, hash_name)).encode()


def derive_secret(
    secret: bytes,
    label: bytes,
    messages: bytes,
    hash_name: str = "sha256",
    *,
    hkdf_expand_label: ExpandLabel = hkdf_expand_label,
) -> bytes:
    """Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1).

    = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length)
    (``hkdf_expand_label``: the one it stands on; a ``Provider`` passes its own).
    """
    context = transcript_hash(messages, hash_name)
    return hkdf_expand_label(secret, label, context, len(context), hash_name)


class KeySchedule:
    """The chain of RFC 8446 §7.1, one extracted secret at a time.

    Create it with the PSK (or ``None`` for a full handshake: then the IKM is
    Hash.length zeros); ``early_secret`` is ready at once. Call
    ``set_handshake_secret(shared_secret)`` once the key exchange is done and
    ``set_master_secret()`` after the server Finished. Each traffic secret is a
    method taking the handshake messages its transcript hash covers (§7.1
    table: "ClientHello...ServerHello" and so on). HKDF-Extract and
    Derive-Secret are the ``provider``'s (default: tlslab's own).

        >>> ks = KeySchedule("sha256")
        >>> ks.early_secret.hex()[:16]          # RFC 8448 §3, "extract secret early"
        '33ad0a1c607ec03b'
    """

    def __init__(
        self, hash_name: str = "sha256", psk: bytes | None = None, provider: Provider | None = None
    ) -> None:
        if provider is None:
            from .provider import DEFAULT_PROVIDER  # here: provider.py imports this module

            provider = DEFAULT_PROVIDER
        self.provider = provider
        self.hash_name = hash_name
        self.hash_len = _hash_len(hash_name)
        self.early_secret = provider.hkdf_extract(
            b"", psk if psk is not None else bytes(self.hash_len), hash_name
        )
        self.derived_for_handshake = self._derive(self.early_secret, b"derived", b"")
        self.handshake_secret: bytes | None = None
        self.derived_for_master: bytes | None = None
        self.master_secret: bytes | None = None

    def _derive(self, secret: bytes | None, label: bytes, messages: bytes) -> bytes:
        if secret is None:
            raise InternalError(f"key schedule: {label.decode()!r} needs a secret that is not set yet")
        return self.provider.derive_secret(secret, label, messages, self.hash_name)

    # Early Secret (§7.1, §4.2.11.2)
    def binder_key(self, resumption: bool = True) -> bytes:
        """Derive-Secret(Early, "res binder", ""); "ext binder" for an external PSK (§4.2.11.2)."""
        return self._derive(self.early_secret, b"res binder" if resumption else b"ext binder", b"")

    def client_early_traffic_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "c e traffic", ...) over ClientHello: protects 0-RTT data."""
        return self._derive(self.early_secret, b"c e traffic", messages)

    def early_exporter_master_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "e exp master", ...) over ClientHello."""
        return self._derive(self.early_secret, b"e exp master", messages)

    # Handshake Secret
    def set_handshake_secret(self, shared_secret: bytes | None) -> bytes:
        """Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE).

        ``None`` is psk_ke mode: no (EC)DHE, so the IKM is Hash.length zeros.
        """
        ikm = shared_secret if shared_secret is not None else bytes(self.hash_len)
        self.handshake_secret = self.provider.hkdf_extract(self.derived_for_handshake, ikm, self.hash_name)
        self.derived_for_master = self._derive(self.handshake_secret, b"derived", b"")
        return self.handshake_secret

    def client_handshake_traffic_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "c hs traffic", ...) over ClientHello...ServerHello."""
        return self._derive(self.handshake_secret, b"c hs traffic", messages)

    def server_handshake_traffic_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "s hs traffic", ...) over ClientHello...ServerHello."""
        return self._derive(self.handshake_secret, b"s hs traffic", messages)

    # Master Secret
    def set_master_secret(self) -> bytes:
        """Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0)."""
        if self.derived_for_master is None:
            raise InternalError("key schedule: the master secret needs the handshake secret first")
        self.master_secret = self.provider.hkdf_extract(
            self.derived_for_master, bytes(self.hash_len), self.hash_name
        )
        return self.master_secret

    def client_application_traffic_secret_0(self, messages: bytes) -> bytes:
        """Derive-Secret(., "c ap traffic", ...) over ClientHello...server Finished."""
        return self._derive(self.master_secret, b"c ap traffic", messages)

    def server_application_traffic_secret_0(self, messages: bytes) -> bytes:
        """Derive-Secret(., "s ap traffic", ...) over ClientHello...server Finished."""
        return self._derive(self.master_secret, b"s ap traffic", messages)

    def exporter_master_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "exp master", ...) over ClientHello...server Finished."""
        return self._derive(self.master_secret, b"exp master", messages)

    def resumption_master_secret(self, messages: bytes) -> bytes:
        """Derive-Secret(., "res master", ...) over ClientHello...client Finished."""
        return self._derive(self.master_secret, b"res master", messages)


# ---------------------------------------------------------------- §7.2-§7.5, §4.4.4, §4.6.1


def traffic_keys(
    secret: bytes, suite: Suite, *, hkdf_expand_label: ExpandLabel = hkdf_expand_label
) -> tuple[bytes, bytes]:
    """The AEAD write key and IV of a traffic secret (RFC 8446 §7.3).

    [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
    [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
    """
    key = hkdf_expand_label(secret, b"key", b"", suite.key_len, suite.hash_name)
    iv = hkdf_expand_label(secret, b"iv", b"", suite.iv_len, suite.hash_name)
    return key, iv


def finished_key(
    base_key: bytes, hash_name: str = "sha256", *, hkdf_expand_label: ExpandLabel = hkdf_expand_label
) -> bytes:
    """finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446 §4.4.4).

    BaseKey is the sender's handshake traffic secret, or the binder_key for a PSK binder (§4.2.11.2).
    """
    return hkdf_expand_label(base_key, b"finished", b"", _hash_len(hash_name), hash_name)


def finished_verify_data(
    base_key: bytes,
    transcript_hash: bytes,
    hash_name: str = "sha256",
    *,
    hkdf_expand_label: ExpandLabel = hkdf_expand_label,
) -> bytes:
    """verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, ...)) (RFC 8446 §4.4.4)."""
    key = finished_key(base_key, hash_name, hkdf_expand_label=hkdf_expand_label)
    return hmac.digest(key, transcript_hash, hash_name)


def next_traffic_secret(
    secret: bytes, hash_name: str = "sha256", *, hkdf_expand_label: ExpandLabel = hkdf_expand_label
) -> bytes:
    """application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) (§7.2)."""
    return hkdf_expand_label(secret, b"traffic upd", b"", _hash_len(hash_name), hash_name)


def resumption_psk(
    rms: bytes,
    ticket_nonce: bytes,
    hash_name: str = "sha256",
    *,
    hkdf_expand_label: ExpandLabel = hkdf_expand_label,
) -> bytes:
    """The PSK of a ticket (RFC 8446 §4.6.1).

    = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
    """
    return hkdf_expand_label(rms, b"resumption", ticket_nonce, _hash_len(hash_name), hash_name)


def exporter(secret: bytes, label: bytes, context: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """TLS-Exporter(label, context_value, key_length) (RFC 8446 §7.5).

    = HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length)

    ``secret`` is the (early_)exporter_master_secret. Like every label here,
    ``label`` gets the "tls13 " prefix.
    """
    derived = derive_secret(secret, label, b"", hash_name)
    return hkdf_expand_label(derived, b"exporter", transcript_hash(context, hash_name), length, hash_name)
