"""The numbers of TLS 1.3: IANA code points (RFC 8446 §4, §5, Appendix B.3-B.4).

Every enum here is an ``IntEnum`` so that a value read off the wire compares
equal to its name, and prints by name. Values we do not know (GREASE, newer
extensions) stay plain ``int``: use ``name_of`` to print either.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TypeVar

E = TypeVar("E", bound=IntEnum)

TLS13 = 0x0304  # ProtocolVersion of TLS 1.3 (§4.2.1)
SSL3 = 0x0300  # Appendix D.5: a legacy_version this low or lower is refused
TLS12 = 0x0303  # legacy_version in hellos and records (§4.1.2, §5.1)
TLS11 = 0x0302  # TLS 1.1, named when a peer offers it (RFC 4346)
TLS10 = 0x0301  # legacy_record_version of a first ClientHello (§5.1)

MAX_PLAINTEXT = 1 << 14  # §5.1: TLSPlaintext.length <= 2^14
MAX_CIPHERTEXT = (1 << 14) + 256  # §5.2: TLSCiphertext.length <= 2^14 + 256

# §4.1.3: a ServerHello with this random is a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# §4.1.3: the last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates an older version.
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")  # "DOWNGRD" 01
DOWNGRADE_TLS11 = bytes.fromhex("444f574e47524400")  # "DOWNGRD" 00


class ContentType(IntEnum):
    """§5.1 enum ContentType."""

    invalid = 0
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23


class HandshakeType(IntEnum):
    """§4 enum HandshakeType."""

    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    certificate_request = 13
    certificate_verify = 15
    finished = 20
    key_update = 24
    message_hash = 254


class ExtensionType(IntEnum):
    """§4.2 enum ExtensionType (the ones tlslab understands)."""

    server_name = 0
    max_fragment_length = 1
    status_request = 5
    supported_groups = 10
    signature_algorithms = 13
    use_srtp = 14
    heartbeat = 15
    application_layer_protocol_negotiation = 16
    signed_certificate_timestamp = 18
    client_certificate_type = 19
    server_certificate_type = 20
    padding = 21
    record_size_limit = 28
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51


class NameType(IntEnum):
    """RFC 6066 §3 enum NameType (of server_name): one kind of name."""

    host_name = 0


class NamedGroup(IntEnum):
    """§4.2.7 enum NamedGroup, plus the X25519MLKEM768 hybrid."""

    secp256r1 = 0x0017
    secp384r1 = 0x0018
    secp521r1 = 0x0019
    x25519 = 0x001D
    x448 = 0x001E
    ffdhe2048 = 0x0100
    ffdhe3072 = 0x0101
    X25519MLKEM768 = 0x11EC


class SignatureScheme(IntEnum):
    """§4.2.3 enum SignatureScheme."""

    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203


class CipherSuite(IntEnum):
    """Appendix B.4: the five TLS 1.3 cipher suites."""

    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305


class PskKeyExchangeMode(IntEnum):
    """§4.2.9 enum PskKeyExchangeMode."""

    psk_ke = 0
    psk_dhe_ke = 1


class KeyUpdateRequest(IntEnum):
    """§4.6.3 enum KeyUpdateRequest."""

    update_not_requested = 0
    update_requested = 1


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE values: 0x0A0A, 0x1A1A, ... 0xFAFA."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


# Code points that real clients send and tlslab does not use, named for display only (``name_of``):
# an enum member would let the core accept them. Older TLS versions' suites and extensions appear
# in every browser's ClientHello, because the client does not know yet which version the server speaks.
OTHER_NAMES: dict[str, dict[int, str]] = {
    "ExtensionType": {
        0x000B: "ec_point_formats",  # RFC 8422, for TLS 1.2 ECDHE
        0x0016: "encrypt_then_mac",  # RFC 7366, for TLS 1.2 CBC suites
        0x0017: "extended_master_secret",  # RFC 7627, a TLS 1.2 fix
        0x001B: "compress_certificate",  # RFC 8879
        0x0023: "session_ticket",  # RFC 5077, TLS 1.2 tickets
        0x3374: "next_protocol_negotiation",  # draft, ALPN's predecessor
        0x4469: "application_settings",  # draft (ALPS), Chrome
        0xFE0D: "encrypted_client_hello",  # draft-ietf-tls-esni
        0xFF01: "renegotiation_info",  # RFC 5746, a TLS 1.2 safety signal
    },
    "NamedGroup": {0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192"},  # RFC 7919
    "SignatureScheme": {  # RFC 8446 §4.2.3: reserved for TLS 1.2's DSA
        0x0202: "dsa_sha1_RESERVED",
        0x0402: "dsa_sha256_RESERVED",
        0x0502: "dsa_sha384_RESERVED",
        0x0602: "dsa_sha512_RESERVED",
    },
    "CipherSuite": {  # TLS 1.2 suites (RFC 5289, RFC 7905, RFC 5246 Appendix A.5) and a signalling value
        0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",  # RFC 5746 §3.3
    },
}


def name_of(enum: type[IntEnum], value: int) -> str:
    """``enum(value).name`` if known, a name from ``OTHER_NAMES``, else ``GREASE(0x0a0a)`` or ``unknown(0x1234)``."""
    try:
        return enum(value).name
    except ValueError:
        if (other := OTHER_NAMES.get(enum.__name__, {}).get(value)) is not None:
            return other
        return f"GREASE({value:#06x})" if is_grease(value) else f"unknown({value:#06x})"


def parse_names(names: str | Iterable[str | int], choices: Iterable[E], what: str) -> tuple[E, ...]:
    """The members of ``choices`` that ``names`` spell, as IANA registers them (case does not matter).

    ``names`` is a comma-separated string (``"x25519,secp256r1"``) or a sequence of names; an int
    is taken as a code point of the same enum as it is. The one name parser of the CLI and of
    ``tlslab.connect``: ``parse_names("X25519", ALL_GROUPS, "group") == (NamedGroup.x25519,)``.

    Raises:
        ValueError: a name that is not one of ``choices``; the message lists the choices.
    """
    members = tuple(choices)
    by_name = {member.name.lower(): member for member in members}
    if isinstance(names, str):
        names = names.split(",")
    parsed = []
    for name in names:
        if isinstance(name, int):
            parsed.append(type(members[0])(name))
            continue
        member = by_name.get(name.strip().lower())
        if member is None:
            choice = ", ".join(m.name for m in members)
            raise ValueError(f"unknown {what} {name.strip()!r} (choose from {choice})")
        parsed.append(member)
    return tuple(parsed)
