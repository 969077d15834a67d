"""Every notebook runs on Google Colab: badges, the install cell, Colab's packages, one file alone.

The fast tests read the repository. The slow ones (``-m slow``, about 2-3 minutes, mostly pip)
imitate Colab with tools/colab_env.py: a fresh venv with Colab's pins and the lowest cryptography
tlslab claims, tlslab from a wheel, each notebook copied ALONE into an empty folder and run there.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
REPO = "tlslab/tlslab"
COLAB_URL = f"https://colab.research.google.com/github/{REPO}/blob/main/"
COLAB_BADGE = re.compile(
    r"\[!\[Open in Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
    r"\((https://colab\.research\.google\.com/github/[^)\s]+)\)",
    re.IGNORECASE,
)
BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?)\s]+)\?urlpath=lab/tree/([^)\s]+)")
INSTALL_CELL = (
    "import sys\n"
    'if "google.colab" in sys.modules:  # on Colab only: install tlslab from the repository\n'
    f'    %pip install -q "tlslab @ git+https://github.com/{REPO}"'
)
# What Colab's runtime ships (googlecolab/backend-info, pip-freeze.txt; course-tooling.md §4.2).
COLAB_PYTHONS = ["3.12.13", "3.13.15"]
COLAB_VERSIONS = {
    "cryptography": "50.0.0",
    "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1",
    "certifi": "2025.8.3",  # present on Colab (exact version not in our notes); tlslab sets no bound
    "numpy": "2.1.3",
    "ipython": "7.34.0",
    "ipykernel": "6.17.1",
}
# Imported by notebooks without being named in pyproject: always there with what is declared.
COMES_WITH = {"numpy": "matplotlib", "IPython": "ipywidgets", "PIL": "matplotlib"}
INSTALL_COMMAND = re.compile(r"^\s*[%!]\s*(pip|conda|mamba|apt|apt-get)\b|\bpip install\b", re.MULTILINE)
LOCAL_FILE = re.compile(
    r"""["'](?!https?://)[\w./-]+\.(?:json|csv|pem|der|crt|key|png|jpe?g|svg|txt|bin|py|gif)["']"""
)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)|<img[^>]+src=[\"']([^\"']+)")


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def load(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def code_sources(notebook: Any) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(extra: str | None = None) -> list[Requirement]:
    meta = project()
    return [Requirement(r) for r in (meta["optional-dependencies"][extra] if extra else meta["dependencies"])]


def imported_modules(source: str) -> set[str]:
    """Top-level names a cell imports (IPython magics and shell lines become `pass` first)."""
    lines = source.splitlines()
    python = "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
        for line in lines
    )
    names = set()
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no NN-*.ipynb: nothing to check"


# ------------------------------------------------------------------------------------ badges


def test_readme_badges_open_real_notebooks() -> None:
    readme = (ROOT / "README.md").read_text()
    colab = COLAB_BADGE.findall(readme)
    assert colab, "README.md has no Open-in-Colab badge"
    for url in colab:
        assert url.startswith(COLAB_URL), f"{url}: not {COLAB_URL}..."
        assert (ROOT / url.removeprefix(COLAB_URL)).is_file(), f"{url}: no such notebook in the repository"
    binder = BINDER_LINK.findall(readme)
    assert binder, "README.md has no Binder link"
    for repo, ref, path in binder:
        assert (repo, ref) == (REPO, "main")
        assert (ROOT / path).is_file(), f"Binder link opens {path}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_opens_itself_in_colab(path: Path) -> None:
    first = load(path).cells[0]
    assert first.cell_type == "markdown", "the first cell must be the markdown title cell with the badge"
    links = COLAB_BADGE.findall(first.source)
    assert links == [f"{COLAB_URL}notebooks/{path.name}"], f"the Colab badge must open this file, got {links}"


# ------------------------------------------------------------------------------- install cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_only_the_first_code_cell_installs_and_only_tlslab(path: Path) -> None:
    first, *rest = code_sources(load(path))
    assert first == INSTALL_CELL, "the first code cell must be exactly the Colab-only install cell"
    installs = [src.splitlines()[0] for src in rest if INSTALL_COMMAND.search(src)]
    assert not installs, f"only the first cell may install anything (Colab ships the rest): {installs}"


def test_install_cell_installs_this_repository() -> None:
    url = re.search(r'"tlslab @ git\+(https://github\.com/[^"]+)"', INSTALL_CELL)
    assert url and url[1] == f"https://github.com/{REPO}"
    assert project()["name"] == "tlslab", "pip installs the package named in the cell"


# ------------------------------------------------------------------------ Colab's package set


@pytest.mark.parametrize("python", COLAB_PYTHONS)
def test_requires_python_accepts_colab(python: str) -> None:
    assert python in SpecifierSet(project()["requires-python"]), f"Colab runs Python {python}"


def test_requirements_accept_colabs_own_packages() -> None:
    """Installing tlslab on Colab must upgrade nothing (an upgrade of ipywidgets means "restart runtime")."""
    for req in requirements() + requirements("lab"):
        if req.name == "jupyterlab":
            continue  # Colab has its own front end; the install cell does not ask for [lab]
        assert req.name in COLAB_VERSIONS, f"{req.name}: Colab does not ship it, so %pip would install it"
        version = COLAB_VERSIONS[req.name]
        assert req.specifier.contains(version), f"{req}: rejects Colab's {req.name} {version}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_imports_only_what_colab_and_tlslab_give(path: Path) -> None:
    declared = {r.name for r in requirements() + requirements("lab")}
    missing = {}
    for source in code_sources(load(path)):
        for name in imported_modules(source) - set(sys.stdlib_module_names) - {"tlslab"}:
            provider = COMES_WITH.get(name, name)
            if provider.lower() not in declared:
                missing[name] = source.splitlines()[0]
    assert not missing, f"imports that neither the standard library nor tlslab's requirements give: {missing}"


# ------------------------------------------------------------------------- nothing beside it


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_needs_no_file_beside_it(path: Path) -> None:
    """Colab opens one file: data comes from package resources (tlslab/course/data), images from URLs."""
    notebook = load(path)
    files = [m[0] for src in code_sources(notebook) for m in [LOCAL_FILE.search(src)] if m]
    assert not files, f"code names local files, absent on Colab: {files}"
    images = [
        a or b
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for a, b in MARKDOWN_IMAGE.findall(cell.source)
    ]
    local = [src for src in images if not src.startswith(("https://", "http://", "attachment:", "data:"))]
    assert not local, f"markdown shows images by relative path, broken on Colab: {local}"


# ------------------------------------------------------------------ Colab imitation (slow)


def colab_env_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("colab_env", ROOT / "tools" / "colab_env.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["colab_env"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def colab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tool = colab_env_module()
    reason = tool.index_unreachable_reason()
    if reason:
        pytest.skip(f"the Colab imitation builds a venv from the package index: {reason}")
    env = tool.make_env(tmp_path_factory.mktemp("colab"))
    print(f"\nColab venv built in {env.seconds:.0f} s")
    return tool, env


@pytest.mark.slow
def test_colab_venv_has_colabs_pins_and_tlslab_from_a_wheel(colab: Any) -> None:
    tool, env = colab
    assert env.packages["ipywidgets"] == "7.7.1"
    assert env.packages["matplotlib"].startswith("3.10.")
    assert env.packages["ipython"] == "7.34.0"
    assert env.packages["ipykernel"].startswith("6.")
    assert "cryptography==" + env.packages["cryptography"] == tool.lowest_cryptography()
    assert env.packages["tlslab"] == project()["version"]
    assert env.wheel.suffix == ".whl"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_runs_alone_with_colabs_packages(colab: Any, path: Path) -> None:
    tool, env = colab
    result = tool.run_alone(env, path)
    assert result.ok, (
        f"{path.name} fails the Colab imitation ({env.packages['cryptography']=}): {result.detail}"
    )
    probe = result.probe
    assert probe["colab"] is False, "google.colab was imported: the install cell would have run pip"
    assert probe["executable"].startswith(str(env.python.parent.parent)), "the kernel was not the venv's"
    assert "site-packages" in probe["tlslab"] and str(ROOT) not in probe["tlslab"], (
        "tlslab not from the wheel"
    )
    assert probe["packages"]["ipywidgets"] == "7.7.1"
