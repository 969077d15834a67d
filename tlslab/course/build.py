"""The exercises generator: ``solutions/`` is the source, ``exercises/`` is written from it.

``python -m tlslab.course build`` rewrites ``exercises/NN-slug.ipynb`` from ``solutions/NN-slug.ipynb``;
``python -m tlslab.course check`` exits 1 when the committed exercises differ from what ``build``
would write (a CI drift check, like nbdev's), or when a notebook has outputs.

In a solution code cell, everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes,
at the indentation of the ``BEGIN`` line::

    # YOUR CODE HERE
    raise NotImplementedError()

(nbgrader's markers and stub, so the convention is familiar). A region must sit inside a function
body, so an exercises notebook still runs top to bottom: ``check()`` reports the stub as "not
attempted" instead of failing. In a Markdown cell the region becomes ``YOUR ANSWER HERE``. Cells
tagged ``solution-only`` are dropped. Outputs and execution counts are stripped and the
kernelspec is normalised to ``python3``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"
DROP_TAG = "solution-only"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SLUG = re.compile(r"^\d\d-[a-z0-9-]+\.ipynb$")

# The first code cell of every notebook, exercise and solution: on Colab, install tlslab; elsewhere, nothing.
INSTALL_CELL = (
    "import sys\n"
    'if "google.colab" in sys.modules:  # on Colab only: install tlslab from the repository\n'
    '    %pip install -q "tlslab @ git+https://github.com/tlslab/tlslab"'
)


class CourseError(Exception):
    """A solutions notebook breaks the conventions (unbalanced markers, a top-level region)."""


def _where(path: str, index: int) -> str:
    return f"{path} cell {index}"


def strip_regions(source: str, code: bool, where: str = "cell") -> str:
    """``source`` with every solution region replaced by its stub."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise CourseError(f"{where}: {BEGIN} inside another region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if code and not indent:
                raise CourseError(f"{where}: a solution region must be inside a function body")
            out += [indent + s for s in CODE_STUB] if code else [TEXT_STUB]
        elif marker == END:
            if not inside:
                raise CourseError(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise CourseError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No outputs, no execution counts, no execution metadata, kernelspec python3."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercises version of one solutions notebook (a new object; ``solution`` is untouched)."""
    nb = nbformat.from_dict(solution)
    cells = []
    for index, cell in enumerate(nb.cells):
        if DROP_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type in ("code", "markdown"):
            cell.source = strip_regions(cell.source, cell.cell_type == "code", _where(name, index))
        cells.append(cell)
    nb.cells = cells
    nb.metadata["tlslab"] = {"exercises": Path(name).stem}
    return clean(nb)


def dumps(nb: nbformat.NotebookNode) -> str:
    """The exact text written to disk (so ``check`` can compare strings)."""
    text: str = nbformat.writes(nb)
    return text + "\n"


def expected_exercises(solutions: Path) -> dict[str, str]:
    """``{file name: text}`` of every exercises notebook that ``build`` would write."""
    out = {}
    for path in sorted(solutions.glob("*.ipynb")):
        if not SLUG.match(path.name):
            raise CourseError(f"{path}: name it NN-slug.ipynb")
        nb = nbformat.read(path, as_version=4)
        out[path.name] = dumps(make_exercise(nb, path.name))
    return out


def build(solutions: Path, exercises: Path) -> list[Path]:
    """Write ``exercises/`` from ``solutions/``; remove exercises without a solution. Returns written paths."""
    wanted = expected_exercises(solutions)
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in wanted.items():
        path = exercises / name
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            written.append(path)
    for stale in exercises.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
            written.append(stale)
    return written


def _has_outputs(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells)


def drift(solutions: Path, exercises: Path) -> list[str]:
    """Problems: exercises that differ from the generator's output, and notebooks with outputs."""
    wanted = expected_exercises(solutions)
    problems = []
    for name, text in wanted.items():
        path = exercises / name
        if not path.exists():
            problems.append(f"{path}: missing (run python -m tlslab.course build)")
        elif path.read_text("utf-8") != text:
            problems.append(
                f"{path}: differs from what the generator writes (run python -m tlslab.course build)"
            )
    for path in sorted(exercises.glob("*.ipynb")):
        if path.name not in wanted:
            problems.append(f"{path}: has no solutions notebook")
    for path in sorted(solutions.glob("*.ipynb")):
        if _has_outputs(path):
            problems.append(f"{path}: commit solutions without outputs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlslab.course", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "check"))
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--exercises", type=Path, default=Path("exercises"))
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for path in build(args.solutions, args.exercises):
                print(f"wrote {path}")
            return 0
        problems = drift(args.solutions, args.exercises)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.exercises} matches {args.solutions}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
