"""The repository's promises: the README's test command is what CI runs; Binder and pip agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_two_commands_and_ci_runs_the_test_one():
    open_course, run_tests = readme_commands()
    assert "tlslab lab" in open_course
    assert "pytest" in run_tests
    ci_lines = (ROOT / ".ci/run").read_text().splitlines()
    assert run_tests in ci_lines, ".ci/run must run the README's test command word for word"


def _names(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        m = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", req.strip())
        assert m, req
        out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"] + project["optional-dependencies"]["lab"])
    env_text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    deps = [line.strip()[2:] for line in env_text.splitlines() if line.startswith("  - ")]
    have = _names([d for d in deps if not d.startswith(("python=", "pip"))])
    assert have == wanted


def test_mypy_is_clean_on_the_protocol_core():
    """The core's type gate (pyproject.toml [tool.mypy]: strict, tlslab/*.py)."""
    import subprocess
    import sys

    pytest.importorskip("mypy")
    check = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_ruff_is_clean():
    """The project's style standard (pyproject.toml [tool.ruff]), notebooks included."""
    import shutil
    import subprocess

    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed")
    check = subprocess.run(
        [ruff, "check", "--output-format", "concise", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff, "format", "--check", "tlslab", "tests", "tools", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout
