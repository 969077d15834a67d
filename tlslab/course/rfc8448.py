"""The five example traces of RFC 8448, as bytes.

The data file ``tlslab/course/data/rfc8448.json`` was transcribed from the plain text of
RFC 8448, "Example Handshake Traces for TLS 1.3" (January 2019): every hex block
of every trace, with the octet counts the RFC states. Notebooks use it for
worked examples with fixed keys; tests replay the traces byte for byte.

    >>> simple = trace("simple_1rtt")
    >>> simple["client_hello"][:4].hex()
    '010000c0'
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

TRACES = ("simple_1rtt", "resumed_0rtt", "hrr", "client_auth", "compat_mode")


@cache
def raw() -> dict[str, Any]:
    """The whole JSON document (steps, labels, inputs), for those who want more."""
    text = resources.files("tlslab.course").joinpath("data/rfc8448.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def trace(name: str) -> dict[str, bytes]:
    """``{value name: bytes}`` for one trace, e.g. ``trace("hrr")["hello_retry_request"]``."""
    if name not in TRACES and name != "server_rsa_private_key":
        raise KeyError(f"no RFC 8448 trace {name!r}; choose from {TRACES}")
    return {key: bytes.fromhex(v["hex"]) for key, v in raw()[name]["values"].items()}


def value_info(name: str, key: str) -> dict[str, Any]:
    """The RFC's own label and HKDF inputs for one value of one trace."""
    info: dict[str, Any] = raw()[name]["values"][key]
    return info
