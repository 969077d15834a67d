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


def _patches(path: Path) -> list[str]:
    """Where ``path`` writes into another module: setattr, ``module.name = ...``, or a write into
    a namespace taken from some function's ``__globals__`` (issue 9: plug points, not patching)."""
    import ast

    tree = ast.parse(path.read_text(), str(path))
    modules = {
        a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    modules |= {  # "from package import module": the names that are modules
        a.asname or a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module
        for a in n.names
        if _is_module(f"{n.module}.{a.name}")
    }
    namespaces = {  # ns = getattr(f, "__globals__") / f.__globals__
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and "__globals__" in ast.dump(n.value)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            found.append(f"{path.name}:{node.lineno} setattr")
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "object.__setattr__":
            if not (node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "self"):
                found.append(f"{path.name}:{node.lineno} object.__setattr__ on something not self")
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign)
            else []
        )
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in modules
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(target)} = ...")
            if isinstance(target, ast.Subscript) and (
                "__globals__" in ast.dump(target.value)
                or (isinstance(target.value, ast.Name) and target.value.id in namespaces)
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(target)} = ... (a function's globals)")
    return found


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def test_nothing_in_tlslab_patches_another_module() -> None:
    """The course plugs the learner's pieces in through the Provider; the referee only calls them."""
    found = [hit for path in sorted((ROOT / "tlslab").rglob("*.py")) for hit in _patches(path)]
    assert found == []


def test_the_patch_rule_sees_every_kind_of_patch(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import hmac\nfrom cryptography.hazmat.primitives.ciphers import aead\n"
        "def f(g):\n    setattr(aead, 'AESGCM', None)\n    hmac.digest = None\n"
        "    ns = getattr(g, '__globals__', {})\n    ns['AESGCM'] = None\n"
        "    g.__globals__['x'] = 1\n    object.__setattr__(aead, 'x', 1)\n"
        "class C:\n    def __init__(self):\n        object.__setattr__(self, 'x', 1)\n        self.y = 2\n"
    )
    assert sorted(hit.split(" ", 1)[0] for hit in _patches(sample)) == [
        f"sample.py:{line}" for line in (4, 5, 7, 8, 9)
    ]


def _modules_in_the_tree() -> set[str]:
    """The .py files docs/architecture.md's tree lists, as paths under tlslab/."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    listed: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, folder) of the folders above the current line
    for line in block.splitlines()[1:]:
        if not line.strip() or line.startswith(" " * 28):  # a description's second line
            continue
        indent = len(line) - len(line.lstrip())
        entry = line.strip().split("  ", 1)[0]
        folders = [(i, f) for i, f in folders if i < indent]
        prefix = "".join(f for _, f in folders)
        if entry.endswith("/"):
            folders.append((indent, "" if entry == "tlslab/" else entry))
            continue
        names = [n.strip() for n in entry.split(",")]
        if "..." in entry:  # "t01_bytes.py ... t08_resumption.py": every module between
            first, last = (n.strip() for n in entry.split("..."))
            here = ROOT / "tlslab" / prefix
            names = [p.name for p in sorted(here.glob("t0*_*.py")) if first <= p.name <= last]
        listed.update(prefix + name for name in names)
    return listed


def test_the_architecture_tree_lists_every_module() -> None:
    """docs/architecture.md's tree is the code's: no module missing, none that is gone."""
    actual = {
        str(p.relative_to(ROOT / "tlslab"))
        for p in (ROOT / "tlslab").rglob("*.py")
        if p.name != "__init__.py"
    }
    assert _modules_in_the_tree() == actual


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
