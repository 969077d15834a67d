"""The repository's promises: the README's test command is what CI runs; Binder and pip agree."""

from __future__ import annotations

import re
import sys
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


def test_mypy_is_clean_on_tlslab_bench_and_tools():
    """The type gate (pyproject.toml [tool.mypy]: strict; tlslab's core, lab and course,
    benchmarks/bench.py and tools/)."""
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


# What the protocol core may not import (docs/architecture.md, "The dependency rule"). cli.py and
# __main__.py are the command line, which opens the lab and runs the grader: they may.
FORBIDDEN_IN_CORE = ("tlslab.lab", "tlslab.course", "matplotlib", "ipywidgets", "IPython", "nbclient")
COMMAND_LINE = {"cli.py", "__main__.py"}


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (functions too), relative imports resolved."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "tlslab" if node.level == 1 else ""  # the core is flat: "." is tlslab
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IN_CORE)


def test_the_protocol_core_imports_nothing_of_the_course_or_the_lab():
    core = [p for p in sorted((ROOT / "tlslab").glob("*.py")) if p.name not in COMMAND_LINE]
    assert {p.name for p in core} >= {"client.py", "server.py", "record.py", "states.py", "provider.py"}
    broken = {p.name: sorted(m for m in _imported_modules(p) if _forbidden(m)) for p in core}
    assert {name: mods for name, mods in broken.items() if mods} == {}


def test_the_import_rule_sees_every_kind_of_import(tmp_path):
    """The checker itself: a relative, an absolute and a function-level import are all caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .lab import standin\nimport matplotlib.pyplot\ndef f():\n    from tlslab.course import nb\n"
    )
    modules = _imported_modules(sample)
    assert {"tlslab.lab", "matplotlib.pyplot", "tlslab.course"} <= modules
    assert all(_forbidden(m) for m in ("tlslab.lab", "matplotlib.pyplot", "tlslab.course.nb"))
    assert not _forbidden("tlslab.labels")


def test_the_virtual_environment_the_readme_makes_is_ignored() -> None:
    assert "python3 -m venv .venv" in (ROOT / "README.md").read_text()
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert ".venv" in ignored


def test_notebook_authoring_rules_do_not_allow_dead_exercise_links() -> None:
    rules = (ROOT / "notebooks" / "README.md").read_text()
    assert "may not exist yet" not in rules and "fails on a dead link" in rules


def test_browser_smoke_says_skip_and_fails_when_it_cannot_run(monkeypatch, capsys) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("browser_smoke", ROOT / "tools" / "browser_smoke.py")
    smoke = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "browser_smoke", smoke)  # its dataclasses look themselves up there
    spec.loader.exec_module(smoke)
    monkeypatch.setattr(smoke, "CHROMIUM", "/nonexistent/chromium")
    assert smoke.main([]) != 0
    assert capsys.readouterr().out.startswith("SKIP /nonexistent/chromium not found")
