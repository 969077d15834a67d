"""RFC 8448's client: the ClientHello NSS sent, rebuilt with tlslab's client for the trace replays.

The client is given the trace's random and ephemeral private key and the ClientHello contents
NSS sent (read off the RFC's hex: the groups, the signature algorithms, and three extensions
tlslab does not send by itself). Used by test_client_rfc8448, test_early_data, test_client_auth
and test_figures_handshake.
"""

from __future__ import annotations

import pytest

from tlslab import extensions as ext
from tlslab.client import ClientConfig, ClientConnection
from tlslab.constants import ExtensionType, NamedGroup
from tlslab.keylog import MemoryKeyLog

# RFC 8448 §3, the ClientHello's supported_groups: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048..8192.
NSS_GROUPS = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]
# ... its signature_algorithms, in order.
NSS_SCHEMES = [
    0x0403,
    0x0503,
    0x0603,
    0x0203,
    0x0804,
    0x0805,
    0x0806,
    0x0401,
    0x0501,
    0x0601,
    0x0201,
    0x0402,
    0x0502,
    0x0602,
    0x0202,
]
NSS_SUITES = [0x1301, 0x1303, 0x1302]


SN, SG, KS, SV, SA, PSKM = (
    ExtensionType.server_name,
    ExtensionType.supported_groups,
    ExtensionType.key_share,
    ExtensionType.supported_versions,
    ExtensionType.signature_algorithms,
    ExtensionType.psk_key_exchange_modes,
)
# What NSS sent and tlslab does not send by itself (RFC 5746, RFC 5077, RFC 8449, RFC 7685).
RENEGOTIATION_INFO = ext.Extension(0xFF01, b"\x00")
SESSION_TICKET = ext.Extension(0x0023, b"")
RECORD_SIZE_LIMIT = ext.Extension(ExtensionType.record_size_limit, b"\x40\x01")


def nss_hook(*order: int | ext.Extension):
    """An extensions_hook that puts tlslab's extensions and NSS's extras in the trace's order."""

    def hook(exts: list[ext.Extension]) -> list[ext.Extension]:
        ours = {e.type: e for e in exts}
        wanted = [item.type if isinstance(item, ext.Extension) else item for item in order]
        assert set(ours) <= set(wanted), f"tlslab sent {set(ours) - set(wanted)}, not in this trace"
        return [item if isinstance(item, ext.Extension) else ours[item] for item in order]

    return hook


nss_extensions = nss_hook(SN, RENEGOTIATION_INFO, SG, SESSION_TICKET, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT)


def nss_client(t: dict[str, bytes], keylog: MemoryKeyLog | None = None, **kw) -> ClientConnection:
    settings = dict(
        server_name="server",
        cipher_suites=NSS_SUITES,
        groups=NSS_GROUPS,
        signature_schemes=NSS_SCHEMES,
        random=t.get("client_hello", t.get("client_hello_1", b""))[6:38],
        middlebox_compatibility=False,
        key_share_private_keys={NamedGroup.x25519: t["client_ephemeral_x25519_private_key"]},
        verify_chain=False,  # the RFC's certificate is self-signed and long expired
        extensions_hook=nss_extensions,
        keylog=keylog,
    )
    settings.update(kw)
    with pytest.warns(UserWarning, match="verification is OFF"):
        config = ClientConfig(**settings)
    return ClientConnection(config)
