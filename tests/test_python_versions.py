"""tlslab installs and works on every Python it claims (pyproject: requires-python >= 3.10).

For each of Python 3.10 to 3.13 found on this machine (pyenv or PATH), a fresh virtual
environment gets ``pip install -e .`` and runs the RFC 8448 replays and a handshake with the
offline stand-in. Versions that are not installed are skipped by name. Needs the package index
(or pip's cache) for cryptography; without it, the test skips with pip's own error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("3.10", "3.11", "3.12", "3.13")

pytestmark = pytest.mark.slow


def find_python(version: str) -> str | None:
    if sys.version_info[:2] == tuple(int(p) for p in version.split(".")):
        return sys.executable
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    return shutil.which(f"python{version}")


SMOKE = """
import tlslab
from tlslab.lab import StandIn
with StandIn() as s:
    with tlslab.connect(s.host, s.port, server_hostname=s.server_name, cafile=s.cafile) as tls:
        tls.sendall(b"GET / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n")
        print(tls.version(), tls.recv_all().split(b"\\r\\n")[0].decode())
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_install_and_run(version: str, tmp_path: Path) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"Python {version} not installed")
    if python == sys.executable:
        pytest.skip(f"Python {version} runs this test suite itself")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    vpy = str(venv / "bin" / "python")
    pip = subprocess.run(
        [vpy, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pip.returncode != 0 and "No matching distribution" in pip.stderr + pip.stdout:
        pytest.skip(f"pip could not reach a package index: {pip.stderr.strip()[-300:]}")
    assert pip.returncode == 0, pip.stderr[-3000:]
    smoke = subprocess.run([vpy, "-c", SMOKE], capture_output=True, text=True, timeout=120)
    assert smoke.stdout.strip() == "TLSv1.3 HTTP/1.1 200 OK", smoke.stderr[-3000:]
    replays = subprocess.run(
        [
            vpy,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "tests/test_client_rfc8448.py",
            "tests/test_keyschedule.py",
            "tests/test_rfc8448_records.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert replays.returncode == 0, replays.stdout[-3000:]
