"""Shared test setup: stay offline, and mint one PKI per session for every key kind.

``TLSLAB_OFFLINE=1`` is set here at import time, before any test or notebook kernel starts,
so that ``tlslab.lab.reach_example_com()`` always picks the loopback stand-in and the
test suite never reaches the internet (kernels started by nbval inherit the environment).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ["TLSLAB_OFFLINE"] = "1"

# Sample submissions for the grader are notebooks on purpose broken (one never ends): they are
# data for tests/test_grade.py, not notebooks for nbval to run.
collect_ignore = ["fixtures"]

SERVER_NAME = "localhost"


@dataclass
class LeafFiles:
    """One server certificate on disk: the leaf, its key, and the intermediate that signed it."""

    kind: str
    cert: Path
    key: Path
    chain: Path
    issued: Any


@dataclass
class PKIFiles:
    """A root CA, an intermediate under it, and one leaf per key kind for localhost/127.0.0.1."""

    directory: Path
    root: Any
    intermediate: Any
    cafile: Path
    chain: Path
    leaves: dict[str, LeafFiles] = field(default_factory=dict)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIFiles:
    """Root -> intermediate -> leaves (every ``tlslab.lab.pki.KEY_KINDS``) for localhost and 127.0.0.1."""
    from tlslab.lab import pki as tp

    directory = tmp_path_factory.mktemp("pki")
    root = tp.make_ca("tlslab Test Root CA")
    intermediate = tp.issue(root, common_name="tlslab Test Intermediate CA", is_ca=True, path_length=0)
    cafile, _ = root.write(directory, "root")
    chain, _ = intermediate.write(directory, "intermediate")
    result = PKIFiles(directory, root, intermediate, Path(cafile), Path(chain))
    for kind in tp.KEY_KINDS:
        leaf = tp.issue(
            intermediate,
            common_name=SERVER_NAME,
            key_kind=kind,
            dns_names=(SERVER_NAME,),
            ip_addresses=("127.0.0.1",),
        )
        cert, key = leaf.write(directory, f"leaf-{kind}")
        result.leaves[kind] = LeafFiles(kind, Path(cert), Path(key), Path(chain), leaf)
    return result
