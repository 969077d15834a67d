"""Helpers for course authors: start, run and check a notebook (see notebooks/README.md).

    python3 tools/nbtool.py new 05 record-layer "The record layer"   # skeleton with the fixed cells
    python3 tools/nbtool.py run notebooks/05-record-layer.ipynb      # execute top to bottom + normalise
    python3 tools/nbtool.py check notebooks/05-record-layer.ipynb    # pytest: nbval + hygiene tests

``run`` executes with TLSLAB_OFFLINE=1 in a fresh python3 kernel (nbclient, the engine
behind ``jupyter nbconvert --execute``), then normalises what Jupyter leaves behind:
kernelspec python3, no widget state, no per-cell timing metadata, and absolute paths in
tracebacks made relative, so the committed file diffs cleanly and passes the hygiene tests.
Generator scripts can build cells with nbformat and call ``write_notebook``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tlslab.course.build import INSTALL_CELL

ROOT = Path(__file__).resolve().parents[1]
REPO_URL = "https://github.com/tlslab/tlslab"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
KEPT_CELL_METADATA = ("tags",)


def colab_badge(filename: str) -> str:
    url = f"https://colab.research.google.com/github/tlslab/tlslab/blob/main/notebooks/{filename}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def skeleton(number: str, slug: str, title: str) -> nbformat.NotebookNode:
    """A new notebook with the fixed cells: title, install, summary, questions, links."""
    filename = f"{number}-{slug}.ipynb"
    next_number = f"{int(number) + 1:02d}"
    cells = [
        new_markdown_cell(
            f"# {number} · {title}\n\n{colab_badge(filename)}\n\n"
            "**In this notebook you will:**\n\n- ...\n- ..."
        ),
        new_code_cell(INSTALL_CELL),
        new_markdown_cell("## ...\n\nOne sentence of why, before each code cell."),
        new_code_cell(""),
        new_markdown_cell("## Summary\n\n- ..."),
        new_markdown_cell("## Check your understanding\n\n1. ...\n2. ...\n3. ..."),
        new_markdown_cell(
            f"**Practice:** [exercises for this notebook](../exercises/{filename})  \n"
            f"**Next:** [{next_number} · ...]({next_number}-....ipynb)"
        ),
    ]
    notebook: NotebookNode = new_notebook(cells=cells)
    return notebook


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Make the notebook's metadata the same on every machine (in place; also returned)."""
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    first_code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if first_code is not None and _lines(first_code.source) == _lines(INSTALL_CELL):
        first_code.source = INSTALL_CELL  # exactly, whatever blank lines a formatter added
    for index, cell in enumerate(nb.cells):
        cell.setdefault("id", f"cell-{index:02d}")
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [_relative_paths(line) for line in output["traceback"]]
    return nb


def _lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if line.strip()]


def _relative_paths(text: str) -> str:
    """Absolute paths in a traceback become repo-relative or ``<site-packages>/...``."""
    for prefix, replacement in (
        (sysconfig.get_paths()["purelib"], "<site-packages>"),
        (sysconfig.get_paths()["stdlib"], "<stdlib>"),
        (str(ROOT) + os.sep, ""),
    ):
        text = text.replace(prefix, replacement)
    return re.sub(r"/tmp/ipykernel_\d+/\d+\.py", "<cell>", text)


def write_notebook(path: Path, cells: list[nbformat.NotebookNode]) -> None:
    """Write cells as a normalised notebook with stable cell ids (for generator scripts)."""
    nb = new_notebook(cells=cells)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
    nbformat.write(normalise(nb), path)


def execute(path: Path, timeout: int = 60) -> None:
    """Run the notebook top to bottom in a fresh kernel, offline, and save it normalised."""
    from nbclient import NotebookClient

    os.environ["TLSLAB_OFFLINE"] = "1"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(normalise(nb), path)


def check(paths: list[Path]) -> int:
    """nbval on the notebooks plus the hygiene tests about them (same command as CI)."""
    tests = str(ROOT / "tests" / "test_notebooks.py")
    command = [sys.executable, "-m", "pytest", "-q", *map(str, paths), tests]
    return subprocess.call(command, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create notebooks/NN-slug.ipynb from the skeleton")
    new.add_argument("number")
    new.add_argument("slug")
    new.add_argument("title")
    for name, text in (("run", "execute and normalise"), ("normalise", "normalise only"), ("check", "test")):
        commands.add_parser(name, help=text).add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "new":
        path = ROOT / "notebooks" / f"{args.number}-{args.slug}.ipynb"
        if path.exists():
            parser.error(f"{path} exists")
        write_notebook(path, skeleton(args.number, args.slug, args.title).cells)
        print(path)
    elif args.command == "run":
        for path in args.paths:
            execute(path)
    elif args.command == "normalise":
        for path in args.paths:
            nbformat.write(normalise(nbformat.read(path, as_version=4)), path)
    else:
        return check(args.paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
