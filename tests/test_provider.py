"""tlslab.provider: every piece a learner may replace is called, on both sides, through the config.

A counting wrapper stands in for each piece; a full handshake with mutual TLS, then a resumed
one (PSK binders), must call each piece on the side that uses it. A wrong piece must break the
handshake (so the pieces really are what runs), and a lower piece alone must carry the higher
ones built on it (RFC 8446 §7.1: Derive-Secret on Expand-Label on HKDF-Expand).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.hostile import client_config, conversation, secrets, server_config

from tlslab import keyschedule, record
from tlslab.errors import TLSError
from tlslab.lab import pki as tp
from tlslab.provider import DEFAULT_PROVIDER, Provider
from tlslab.psk import TicketStore

PIECES = [f.name for f in dataclasses.fields(Provider)]


def counting(calls: Counter[str], **only: Callable[..., Any]) -> Provider:
    """A provider whose every piece (or those in ``only``) is tlslab's own behind a counter."""

    def wrap(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def piece(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return func(*args, **kwargs)

        return piece

    chosen = only or {name: getattr(DEFAULT_PROVIDER, name) for name in PIECES}
    return Provider(**{name: wrap(name, func) for name, func in chosen.items()})


@pytest.fixture(scope="module")
def client_identity() -> dict[str, Any]:
    ca = tp.make_ca("tlslab Test Provider Client CA")
    leaf = tp.issue(ca, common_name="client", extended_key_usage=("clientAuth",))
    return {"ca": ca.cert, "certificate_chain": [leaf.cert], "private_key": leaf.key}


def test_every_piece_runs_through_the_config_on_both_sides(pki, client_identity) -> None:
    client_calls: Counter[str] = Counter()
    server_calls: Counter[str] = Counter()
    store = TicketStore()
    identity = {k: v for k, v in client_identity.items() if k != "ca"}
    server = server_config(pki, ticket_store=store, client_ca=[client_identity["ca"]])
    conv = conversation(
        dataclasses.replace(server, provider=counting(server_calls)),
        client_config(pki, provider=counting(client_calls), **identity),
    )
    conv.run()
    assert conv.client.handshake_complete and conv.server.handshake_complete
    again = conversation(
        server_config(pki, ticket_store=store, provider=counting(server_calls)),
        client_config(pki, session=conv.client.tickets[0], provider=counting(client_calls)),
    )
    again.run()
    assert again.client.session_resumed and again.server.session_resumed
    # The lower pieces are called by tlslab's own higher ones only; here those are replaced too.
    used_by_both = set(PIECES) - {"hkdf_expand", "per_record_nonce", "match_hostname"}
    client_only, server_only = {"generate_key_share"}, {"respond_to_key_share"}
    assert {p for p in used_by_both - server_only if not client_calls[p]} == set()
    assert {p for p in used_by_both - client_only if not server_calls[p]} == set()
    assert client_calls["respond_to_key_share"] == 0 and server_calls["generate_key_share"] == 0


def test_a_lower_piece_carries_the_higher_ones(pki) -> None:
    calls: Counter[str] = Counter()
    lower = {
        "hkdf_expand": keyschedule.hkdf_expand,
        "per_record_nonce": record.per_record_nonce,
        "match_hostname": DEFAULT_PROVIDER.match_hostname,
    }
    conv = conversation(
        server_config(pki, provider=counting(calls, **lower)), client_config(pki, provider=counting(calls))
    )
    conv.run()
    assert conv.server.handshake_complete
    assert calls["hkdf_expand"] > 0 and calls["per_record_nonce"] > 0
    client_calls: Counter[str] = Counter()
    conv = conversation(server_config(pki), client_config(pki, provider=counting(client_calls, **lower)))
    conv.run()
    assert conv.client.handshake_complete
    assert client_calls["match_hostname"] == 1  # inside tlslab's own verify_chain
    assert secrets(conv.client.config.keylog) == secrets(conv.server.config.keylog)


def test_replacing_the_lower_pieces_back_restores_tlslab_own() -> None:
    mine = Provider(hkdf_expand=lambda prk, info, length, hash_name: bytes(length))
    assert mine.derive_secret is not keyschedule.derive_secret  # built on the replaced hkdf_expand
    assert dataclasses.replace(mine, hkdf_expand=keyschedule.hkdf_expand) == DEFAULT_PROVIDER


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize(
    "piece, wrong",
    [
        ("hkdf_expand_label", lambda secret, label, context, length, hash_name: bytes(length)),
        ("per_record_nonce", lambda iv, seq: bytes(len(iv))),
        ("finished_verify_data", lambda base_key, transcript_hash, hash_name: bytes(len(transcript_hash))),
        ("certificate_verify_content", lambda transcript_hash, *, server=True: b"not what the peer signs"),
    ],
)
def test_a_wrong_piece_breaks_the_handshake(pki, side: str, piece: str, wrong: Callable[..., Any]) -> None:
    provider = Provider(**{piece: wrong})
    server = server_config(pki, **({"provider": provider} if side == "server" else {}))
    client = client_config(pki, **({"provider": provider} if side == "client" else {}))
    conv = conversation(server, client)
    with pytest.raises(TLSError):
        conv.run()


def _fields(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def test_a_shared_config_is_not_changed_by_its_connections(pki, monkeypatch) -> None:
    """One ServerConfig serves many connections (tlslab serve); none may write into it (nor the client's)."""
    monkeypatch.setenv("SSLKEYLOGFILE", "/dev/null")
    shared, client = server_config(pki, keylog=None), client_config(pki, keylog=None)
    before = _fields(shared), _fields(client)
    for _ in range(2):
        conv = conversation(shared, client)
        conv.run()
        assert conv.server.keylog is not None and conv.client.keylog is not None  # SSLKEYLOGFILE
    assert (_fields(shared), _fields(client)) == before
    assert shared.keylog is None and client.keylog is None
