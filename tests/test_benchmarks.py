"""benchmarks/bench.py still runs: a tiny run, for its output's shape, never for its figures.

The speed goals are read from a full run of the script (issue 13), not asserted here: this test
only keeps the script from rotting when the package or tests/support move.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl s_server")
def test_bench_runs_and_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "-n", "2", "--mib", "1", "--rounds", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for heading in ("full handshake", "bulk receive, recv,", "bulk receive, recv_into", "bulk send, sendall"):
        assert heading in done.stdout, done.stdout
    assert done.stdout.count("target: tlslab") == 4
    assert done.stdout.count("the server was busy") == 3  # one per bulk figure: whose pace it is
