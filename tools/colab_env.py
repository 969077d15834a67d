"""Imitate Google Colab: run each course notebook alone, with Colab's package versions.

    python3 tools/colab_env.py                         # every notebook, prints PASS/FAIL and timings
    python3 tools/colab_env.py notebooks/02-*.ipynb    # some of them
    python3 tools/colab_env.py --venv /tmp/colab-venv  # keep (and reuse) the virtual environment

What Colab gives a notebook, and what this imitates:

- Colab opens ONE file: nothing beside it (no sibling modules, images or data). Each notebook is
  copied alone into an empty temporary folder and executed there, top to bottom, with nbclient.
- Colab's own packages (googlecolab/backend-info): ipywidgets 7.7.1, matplotlib 3.10, IPython
  7.34, ipykernel 6.17, nbformat 5.11, cryptography 50. This builds a fresh ``python -m venv``
  with those pins (``COLAB_PINS``), except cryptography, which is pinned to the LOWEST version
  tlslab claims to support (``cryptography>=N`` in pyproject.toml), to test that claim too
  (``TLSLAB_COLAB_CRYPTOGRAPHY=50.0.0`` pins Colab's own instead).
- The notebook's first cell installs tlslab with ``%pip`` on Colab only. Here ``google.colab`` is
  not imported, so that cell does nothing; tlslab comes from a wheel built from this checkout
  (``pip wheel --no-deps``), never from the source tree, so a file missing from the wheel
  (package data) fails here as it would on Colab.
- ``TLSLAB_OFFLINE=1``: "example.com" is tlslab's loopback stand-in; nothing leaves the machine
  except pip's requests to the package index while the venv is built.

Colab runs Python 3.12 or 3.13. The venv uses python3.12 when one is found (on PATH or under
pyenv), else the interpreter running this script; ``TLSLAB_COLAB_PYTHON`` overrides the choice.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# Colab's versions (googlecolab/backend-info, pip-freeze.txt), or the closest that install.
COLAB_PINS = [
    "ipywidgets==7.7.1",
    "matplotlib==3.10.0",
    "ipython==7.34.0",
    "ipykernel==6.17.1",
    "notebook==6.5.7",
    "nbformat==5.11.1",
    "nbclient",  # runs the notebooks inside the venv (Colab has its own front end)
    "certifi",
]
COLAB_CRYPTOGRAPHY = "50.0.0"  # what Colab ships; the venv uses tlslab's claimed floor instead
PREFERRED_PYTHON = "3.12"  # Colab's pinnable runtime; 3.13 is its newest
CELL_TIMEOUT = 120  # seconds, per cell
PIP_TIMEOUT = 600  # seconds, for the whole venv install

# Runs INSIDE the venv: executes one notebook in the folder that holds it, then asks the same kernel
# what it ran on. Prints one JSON object.
_DRIVER = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, timeout = sys.argv[1], int(sys.argv[2])
nb = nbformat.read(path, as_version=4)
probe = nbformat.v4.new_code_cell(
    "import json as _j, sys as _s, importlib.metadata as _m, tlslab as _t\n"
    "print('PROBE' + _j.dumps({'executable': _s.executable, 'version': _s.version.split()[0],"
    " 'colab': 'google.colab' in _s.modules, 'tlslab': _t.__file__,"
    " 'packages': {n: _m.version(n) for n in ('ipywidgets', 'matplotlib', 'cryptography', 'ipython',"
    " 'ipykernel')}}))"
)
nb.cells.append(probe)
client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                        resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}})
error = None
try:
    client.execute()
except CellExecutionError as exc:
    error = {"ename": exc.ename, "evalue": exc.evalue}
failed = None
for index, cell in enumerate(nb.cells[:-1]):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and "raises-exception" not in cell.metadata.get("tags", []):
            failed = failed or {"cell": index, "source": cell.source[:300], "ename": output["ename"],
                                "evalue": output["evalue"][:500]}
probe_text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
print(json.dumps({"error": error, "failed": failed,
                  "probe": json.loads(probe_text[5:]) if probe_text.startswith("PROBE") else None}))
"""


@dataclass
class ColabEnv:
    """A virtual environment with Colab's pins and tlslab installed from a wheel."""

    python: Path
    wheel: Path
    seconds: float
    packages: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    notebook: str
    seconds: float
    ok: bool
    detail: str
    probe: dict[str, Any] | None


def index_unreachable_reason(timeout: float = 60) -> str | None:
    """None if pip can reach its package index, else why not (for a pytest skip)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-q", "-d"]
    with tempfile.TemporaryDirectory() as folder:
        try:
            done = subprocess.run(
                [*command, folder, "--only-binary", ":all:", "ipywidgets==7.7.1"],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return f"pip could not reach a package index within {timeout:.0f} s"
    if done.returncode != 0:
        return "pip cannot reach a package index: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return None


def find_python(preferred: str = PREFERRED_PYTHON) -> str:
    """The interpreter for the venv: TLSLAB_COLAB_PYTHON, else python3.12 if one runs, else this one."""
    if os.environ.get("TLSLAB_COLAB_PYTHON"):
        return os.environ["TLSLAB_COLAB_PYTHON"]
    candidates = [shutil.which(f"python{preferred}") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(f"{pyenv_root}/versions/{preferred}.*/bin/python{preferred}"), reverse=True
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import venv"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return candidate
    return sys.executable


def lowest_cryptography() -> str:
    """The pin for cryptography: TLSLAB_COLAB_CRYPTOGRAPHY, else the floor pyproject.toml claims.

    pyproject's ``cryptography>=N`` becomes ``cryptography==N.0.0`` (every release has abi3 wheels),
    so that the notebooks test the claim: whatever tlslab says it supports, they must run on.
    """
    override = os.environ.get("TLSLAB_COLAB_CRYPTOGRAPHY")
    if override:
        return f"cryptography=={override}"
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"cryptography\s*>=\s*([0-9.]+)', text)
    if not match:
        raise ValueError("pyproject.toml: no 'cryptography>=N' in the dependencies")
    floor = match[1].split(".")
    return "cryptography==" + ".".join((floor + ["0", "0"])[:3])


def build_wheel(out_dir: Path, python: str) -> Path:
    """tlslab's wheel, built from a copy of the files a release holds (the checkout stays untouched)."""
    source = out_dir / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "tlslab", source / "tlslab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = out_dir / "wheels"
    subprocess.run(
        [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=PIP_TIMEOUT,
    )
    (wheel,) = wheels.glob("tlslab-*.whl")
    return wheel


def make_env(folder: Path, python: str | None = None) -> ColabEnv:
    """A fresh venv in folder/venv with COLAB_PINS, the lowest cryptography, and tlslab's wheel."""
    start = time.monotonic()
    python = python or find_python()
    venv = folder / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    venv_python = venv / "bin" / "python"
    wheel = build_wheel(folder, str(venv_python))
    pins = [*COLAB_PINS, lowest_cryptography(), str(wheel)]
    done = subprocess.run(
        [str(venv_python), "-m", "pip", "install", "-q", *pins],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(pins)} failed:\n{done.stderr[-3000:]}")
    return ColabEnv(venv_python, wheel, time.monotonic() - start, installed_versions(venv_python))


def installed_versions(python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {p["name"].lower(): p["version"] for p in json.loads(listing.stdout)}


def kernel_environment() -> dict[str, str]:
    """The parent environment, offline, without anything that would point Python at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["TLSLAB_OFFLINE"] = "1"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def run_alone(env: ColabEnv, notebook: Path, timeout: int = CELL_TIMEOUT) -> RunResult:
    """Copy notebook alone into an empty folder and run it there, top to bottom, in env's kernel."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="colab-") as folder:
        copy = Path(folder) / notebook.name
        shutil.copy2(notebook, copy)
        done = subprocess.run(
            [str(env.python), "-c", _DRIVER, str(copy), str(timeout)],
            capture_output=True,
            text=True,
            cwd=folder,
            env=kernel_environment(),
            timeout=timeout * 20,
        )
        leftovers = sorted(p.name for p in Path(folder).iterdir() if p.name != notebook.name)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        return RunResult(notebook.name, seconds, False, f"driver failed:\n{done.stderr[-3000:]}", None)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failed, probe = report["failed"], report["probe"]
    if failed:
        detail = f"cell {failed['cell']}: {failed['ename']}: {failed['evalue']}\n--- source ---\n{failed['source']}"
        return RunResult(notebook.name, seconds, False, detail, probe)
    if report["error"] or probe is None:
        return RunResult(notebook.name, seconds, False, f"did not finish: {report['error']}", probe)
    return RunResult(notebook.name, seconds, True, f"left behind: {leftovers}" if leftovers else "", probe)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN-*.ipynb")
    parser.add_argument("--venv", type=Path, help="folder to build (or reuse) the environment in")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    folder = args.venv or Path(tempfile.mkdtemp(prefix="colab-env-"))
    if (folder / "venv" / "bin" / "python").exists():
        env = ColabEnv(folder / "venv" / "bin" / "python", next(folder.glob("wheels/*.whl")), 0.0)
        print(f"reusing {folder}/venv (tlslab's wheel NOT rebuilt: delete the folder to rebuild)")
    else:
        env = make_env(folder)
        print(f"venv {folder}/venv built in {env.seconds:.0f} s")
    failures = 0
    for notebook in notebooks:
        result = run_alone(env, notebook)
        failures += not result.ok
        print(f"{'PASS' if result.ok else 'FAIL'} {result.notebook} {result.seconds:5.1f} s {result.detail}")
    if env.packages:
        print({n: env.packages.get(n) for n in ("ipywidgets", "matplotlib", "cryptography", "ipython")})
    if not args.venv:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
