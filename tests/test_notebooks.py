"""Hygiene of the course notebooks (notebooks/README.md), and unit tests of tlslab.course.nb.

nbval (in pyproject's addopts) runs every notebook and compares its outputs; these tests
check what nbval does not: names, the fixed first and last cells, clean metadata, that the
committed outputs come from one top-to-bottom run, and the nbval markers are spelled right.
"""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tlslab.course import build as course
from tlslab.course import nb

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALL_NOTEBOOKS = (
    COURSE + sorted((ROOT / "exercises").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
)

NAME = re.compile(r"^(?P<number>\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")
INSTALL_CELL = course.INSTALL_CELL
COLAB = "https://colab.research.google.com/github/tlslab/tlslab/blob/main/notebooks/{name}"
NBVAL_MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP"}
MAX_CODE_LINES = 20  # the convention says ~15; this is the hard limit
LOCAL_PATH = re.compile(r"(?:/home/|/root/|/Users/|/tmp/|/work/|/private/var/|[A-Za-z]:\\\\)")


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


def load(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def number_of(path: Path) -> str:
    match = NAME.match(path.name)
    assert match, f"{path.name}: name must be NN-slug.ipynb (lowercase slug, words joined by '-')"
    return match["number"]


def code_cells(notebook: Any) -> list[Any]:
    return [c for c in notebook.cells if c.cell_type == "code"]


def markdown(notebook: Any) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "markdown"]


def output_texts(cell: Any) -> list[str]:
    """Every piece of text a code cell's outputs hold (streams, text/* data, errors)."""
    texts = []
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts.extend(
            v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str)
        )
        texts.extend([output.get("evalue", ""), *output.get("traceback", [])])
    return texts


# ---------------------------------------------------------------- every notebook


def test_there_are_notebooks() -> None:
    assert COURSE, "notebooks/ holds no .ipynb: the hygiene tests below would test nothing"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_name_and_first_code_cell(path: Path) -> None:
    number_of(path)
    cells = code_cells(load(path))
    assert cells, "no code cells"
    assert cells[0].source == INSTALL_CELL, "the first code cell must be exactly the Colab install cell"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_metadata_is_normalised(path: Path) -> None:
    notebook = load(path)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    assert notebook.metadata["kernelspec"].get("language") == "python"
    assert "widgets" not in notebook.metadata, "widget state saved: run `python3 tools/nbtool.py normalise`"
    for index, cell in enumerate(notebook.cells):
        extra = set(cell.metadata) - {"tags"}
        assert not extra, f"cell {index}: metadata {sorted(extra)} (run tools/nbtool.py normalise)"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_nbval_markers(path: Path) -> None:
    """Markers must be alone on their line (nbval ignores "# NBVAL_SKIP: because"), reason below."""
    for index, cell in enumerate(code_cells(load(path))):
        lines = cell.source.splitlines()
        markers = [line.strip().lstrip("#").strip() for line in lines if line.strip().startswith("# NBVAL")]
        for marker in markers:
            assert marker in NBVAL_MARKERS, f"code cell {index}: {marker!r} is not a marker nbval knows"
        if "NBVAL_IGNORE_OUTPUT" in markers:
            assert lines[0] == "# NBVAL_IGNORE_OUTPUT", (
                f"code cell {index}: the marker must be the first line"
            )
            assert len(lines) > 1 and lines[1].startswith("# "), f"code cell {index}: say why on line 2"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_runs_with_cell_tags_ignored(path: Path) -> None:
    """Colab's and VS Code's Run all ignore cell tags and stop at the first error.

    So no cell may be allowed to raise (tag ``raises-exception`` or ``# NBVAL_RAISES_EXCEPTION``)
    or be skipped (``# NBVAL_SKIP``, tag ``nbval-skip``), and no stored output may be an error:
    an expected error is caught in the cell and printed. With this, nbval's strict run of each
    course notebook (and tests/test_course.py's run of exercises and solutions) is a run with
    the tags ignored, since an uncaught exception fails it.
    """
    for index, cell in enumerate(code_cells(load(path))):
        tags = set(cell.metadata.get("tags", []))
        assert not tags & {"raises-exception", "nbval-raises-exception", "nbval-skip", "skip-execution"}, (
            f"code cell {index}: tags {sorted(tags)} are ignored by Colab; catch and print the error instead"
        )
        for marker in ("NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP"):
            assert f"# {marker}" not in cell.source, f"code cell {index}: {marker} is ignored by Colab"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"code cell {index}: stored output is an error ({errors[0].get('ename')})"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_no_local_paths_in_outputs(path: Path) -> None:
    for index, cell in enumerate(code_cells(load(path))):
        for text in output_texts(cell):
            found = LOCAL_PATH.search(text)
            assert not found, f"code cell {index}: local path {text[found.start() : found.start() + 60]!r}"


# ---------------------------------------------------------------- the course notebooks


@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_title_cell(path: Path) -> None:
    first = load(path).cells[0]
    assert first.cell_type == "markdown", "the first cell must be the markdown title cell"
    title = first.source.splitlines()[0]
    assert re.fullmatch(rf"# {number_of(path)} · \S.*", title), f"title {title!r} is not '# NN · Title'"
    assert COLAB.format(name=path.name) in first.source, "no Open-in-Colab badge for this file"
    goals = [line for line in first.source.splitlines() if line.startswith("- ")]
    assert len(goals) >= 2, "list the learning goals as bullets in the title cell"


@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_cells_are_short_and_explained(path: Path) -> None:
    cells = load(path).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or cell.source == INSTALL_CELL:
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert len(lines) <= MAX_CODE_LINES, f"cell {index} has {len(lines)} lines; split it"
        assert cells[index - 1].cell_type == "markdown", (
            f"cell {index}: no markdown cell saying why before it"
        )


@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_outputs_from_one_fresh_run(path: Path) -> None:
    """Execution counts 1..n in cell order: the notebook was run top to bottom, once, in full."""
    cells = code_cells(load(path))
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: re-run tools/nbtool.py run"
    for cell in cells:
        for output in cell.outputs:
            if output.output_type == "execute_result":
                assert output.execution_count == cell.execution_count
    assert any(cell.outputs for cell in cells), "committed without outputs"


@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_closing_cells(path: Path) -> None:
    texts = markdown(load(path))
    headings = [i for i, t in enumerate(texts) if t.startswith("## Summary")]
    questions = [i for i, t in enumerate(texts) if t.startswith("## Check your understanding")]
    assert headings and questions and headings[-1] < questions[-1], "need '## Summary', then the questions"
    items = re.findall(r"^\d+\. ", texts[questions[-1]], re.MULTILINE)
    assert 3 <= len(items) <= 5, f"'Check your understanding' has {len(items)} numbered questions, not 3-5"
    last = texts[-1]
    link = f"](../exercises/{path.name})"
    if (ROOT / "exercises" / path.name).exists():
        assert link in last, "the last cell must link ../exercises/<same name>"
    else:
        assert link not in last, f"no exercises/{path.name} exists: do not link it"


@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_link_to_next_notebook(path: Path) -> None:
    """The last cell links the next notebook of the course (skipping numbers not written yet)."""
    number = int(number_of(path))
    later = sorted(p.name for p in COURSE if int(number_of(p)) > number)
    if not later:
        return
    last = markdown(load(path))[-1]
    links = re.findall(r"\]\((\d\d-[^)]*\.ipynb)\)", last)
    assert later[0] in links, f"the last cell must link the next notebook, {later[0]} (it links {links})"


# ---------------------------------------------------------------- tools/nbtool.py


def load_nbtool() -> Any:
    spec = importlib.util.spec_from_file_location("nbtool", ROOT / "tools" / "nbtool.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nbtool_skeleton_has_the_fixed_cells() -> None:
    nbtool = load_nbtool()
    notebook = nbtool.skeleton("07", "some-topic", "Some topic")
    assert nbtool.INSTALL_CELL == INSTALL_CELL
    assert code_cells(notebook)[0].source == INSTALL_CELL
    assert notebook.cells[0].source.startswith("# 07 · Some topic")
    assert COLAB.format(name="07-some-topic.ipynb") in notebook.cells[0].source
    assert "](../exercises/07-some-topic.ipynb)" in notebook.cells[-1].source


def test_nbtool_normalise_strips_noise() -> None:
    nbtool = load_nbtool()
    cell = nbformat.v4.new_code_cell(
        "1 / 0", metadata={"execution": {"iopub.status.idle": "2024"}, "tags": ["raises-exception"]}
    )
    trace = f"File {ROOT / 'tlslab' / 'course' / 'nb.py'}:3, in <module>"
    cell.outputs = [nbformat.v4.new_output("error", ename="E", evalue="", traceback=[trace])]
    formatted = nbformat.v4.new_code_cell(INSTALL_CELL.replace("import sys\n", "import sys\n\n"))
    notebook = nbformat.v4.new_notebook(cells=[formatted, cell], metadata={"widgets": {"state": {}}})
    nbtool.normalise(notebook)
    assert notebook.metadata.kernelspec.name == "python3" and "widgets" not in notebook.metadata
    assert notebook.cells[0].source == INSTALL_CELL, "the blank line ruff format adds is taken out"
    assert dict(notebook.cells[1].metadata) == {"tags": ["raises-exception"]}
    assert notebook.cells[1].outputs[0].traceback == ["File tlslab/course/nb.py:3, in <module>"]


# ---------------------------------------------------------------- tlslab.course.nb

FIELDS = [(0, 2, "length"), (2, 5, "label <b>", [(2, 3, "prefix"), (3, 5, "rest")]), (5, 5, "empty")]
DATA = b"\x00\x20tls"


def test_hexdump_layout() -> None:
    assert nb.hexdump(b"TLS 1.3\x00\xff", width=4) == (
        "0000  54 4c 53 20  |TLS |\n0004  31 2e 33 00  |1.3.|\n0008  ff           |.|"
    )
    assert nb.hexdump(b"") == ""


def test_flatten_puts_parents_before_children() -> None:
    spans = nb.flatten_fields(FIELDS)
    assert [(s.label, s.depth) for s in spans] == [
        ("length", 0),
        ("label <b>", 0),
        ("prefix", 1),
        ("rest", 1),
        ("empty", 0),
    ]
    with pytest.raises(ValueError):
        nb.flatten_fields([(3, 2, "backwards")])


def test_describe_field() -> None:
    assert nb.describe_field(DATA, FIELDS, 0) == "length: bytes 0..1 (2 bytes) = 00 20 (int 32)"
    assert (
        nb.describe_field(DATA, FIELDS, 1)
        == "label <b>: bytes 2..4 (3 bytes) = 74 6c 73 (int 7629939) (ASCII 'tls')"
    )
    assert nb.describe_field(DATA, FIELDS, 2) == "prefix: bytes 2..2 (1 byte) = 74 (int 116)"
    assert nb.describe_field(DATA, FIELDS, 4) == "empty: bytes 5 (empty) (0 bytes) = (empty)"


def test_annotated_hex_html_colours_the_innermost_field() -> None:
    shown = nb.annotated_hex(DATA, FIELDS)
    page = shown._repr_html_()
    spans = re.findall(
        r'<span style="background:(#[0-9a-f]{6});[^"]*"(?: title="([^"]*)")?>([0-9a-f]{2})</span>', page
    )
    assert [(b, t) for _, t, b in spans] == [
        ("00", "length"),
        ("20", "length"),
        ("74", "prefix"),
        ("6c", "rest"),
        ("73", "rest"),
    ]
    colours = [c for c, _, _ in spans]
    assert colours[0] == colours[1] != colours[2] != colours[3]
    assert html.escape("label <b>") in page and "label <b>" not in page
    assert "<script" not in page and "<style" not in page and "class=" not in page


def test_annotated_hex_text_fallback_and_bounds() -> None:
    text = repr(nb.annotated_hex(DATA, FIELDS))
    assert text.startswith(nb.hexdump(DATA))
    assert "  [2..2] prefix: 74" in text and "[5 (empty)] empty:" in text
    with pytest.raises(ValueError, match="past the 5 bytes"):
        nb.annotated_hex(DATA, [(0, 6, "too long")])


def _cited() -> None:
    """A helper for the test below (RFC 8446 §4.4.1, §7.1)."""


def test_show_source_names_module_and_rfc_section() -> None:
    pytest.importorskip("IPython")
    text = nb.source_markdown(_cited)
    assert text.startswith("`test_notebooks._cited`") or text.startswith("`tests.test_notebooks._cited`")
    assert "RFC 8446 §4.4.1, §7.1" in text.splitlines()[0]
    assert "```python\ndef _cited() -> None:" in text
    assert nb.show_source(_cited).data == text
    assert nb.rfc_citation(test_hexdump_layout) == ""


def test_hex_explorer_follows_the_dropdown() -> None:
    pytest.importorskip("ipywidgets")
    box = nb.hex_explorer(DATA, FIELDS)
    choose, view = box.children
    assert nb.describe_field(DATA, FIELDS, 0) in html.unescape(view.value)
    choose.value = 3
    assert html.escape(nb.describe_field(DATA, FIELDS, 3)) in view.value
    assert repr(box) == "hex_explorer: a dropdown over 5 fields (run the notebook to use it)"


def test_importing_tlslab_nb_does_not_import_ipython() -> None:
    code = "import sys, tlslab.course.nb; print(sorted({'IPython', 'ipywidgets'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
