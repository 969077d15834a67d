"""The exercises generator and the exercise notebooks: drift, hygiene, solutions score full marks, stubs zero."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tlslab.course import build as course
from tlslab.course import checks

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
COLAB_CELL = course.INSTALL_CELL


def test_stub_keeps_indentation_and_drops_the_answer() -> None:
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    out = course.strip_regions(source, code=True)
    assert out == "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert course.strip_regions("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", code=False) == (
        "Why?\nYOUR ANSWER HERE"
    )


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nx = 1\n### END SOLUTION",  # top level: the exercise would not run
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n",
        "def f():\n    return 1\n    ### END SOLUTION",
    ],
)
def test_generator_refuses_broken_regions(source: str) -> None:
    with pytest.raises(course.CourseError):
        course.strip_regions(source, code=True)


def test_committed_exercises_match_the_generator() -> None:
    assert course.drift(SOLUTIONS, EXERCISES) == []


def test_drift_check_notices_an_edit(tmp_path: Path) -> None:
    shutil.copytree(SOLUTIONS, tmp_path / "solutions")
    course.build(tmp_path / "solutions", tmp_path / "exercises")
    assert (
        course.main(
            ["check", "--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
        )
        == 0
    )
    path = tmp_path / "exercises" / "04-key-schedule.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source += "\n# edited by hand"
    nbformat.write(nb, path)
    problems = course.drift(tmp_path / "solutions", tmp_path / "exercises")
    assert problems == [f"{path}: differs from what the generator writes (run python -m tlslab.course build)"]
    assert course.build(tmp_path / "solutions", tmp_path / "exercises") == [path]
    assert course.drift(tmp_path / "solutions", tmp_path / "exercises") == []


def test_one_exercises_notebook_per_course_notebook() -> None:
    names = sorted(p.stem for p in EXERCISES.glob("*.ipynb"))
    assert names == list(checks.NOTEBOOKS)
    for nb_path in (ROOT / "notebooks").glob("0[1-7]-*.ipynb"):
        assert nb_path.stem in names, f"{nb_path.name} has no exercises with the same slug"


@pytest.mark.parametrize("slug", checks.NOTEBOOKS)
def test_notebook_hygiene(slug: str) -> None:
    for folder in (SOLUTIONS, EXERCISES):
        nb = nbformat.read(folder / f"{slug}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].source == COLAB_CELL
        assert all(not c.outputs and c.execution_count is None for c in code)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        text = "\n".join(c.source for c in code)
        for task in checks.tasks_for(slug):
            assert f'check("{task.id}"' in text
            if task.runner is None:
                assert f"def {task.func_name}(" in text
        stubs = text.count("raise NotImplementedError()")
        assert (stubs == 0) if folder == SOLUTIONS else (stubs >= len(checks.tasks_for(slug)) - 1)


def _execute(path: Path, slug: str) -> tuple[nbformat.NotebookNode, dict]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            f"import json, tlslab.course.checks\nprint('GRADES' + json.dumps(tlslab.course.checks.grade_all(globals(), {slug!r})))"
        )
    )
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return nb, json.loads(text.split("GRADES", 1)[1])


def _check_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [
        o["data"]["text/plain"]
        for c in nb.cells
        if c.cell_type == "code" and "check(" in c.source
        for o in c.outputs
        if o.get("output_type") == "execute_result"
    ]


@pytest.mark.parametrize("slug", checks.NOTEBOOKS)
def test_solutions_run_and_score_full_marks(slug: str) -> None:
    nb, grades = _execute(SOLUTIONS / f"{slug}.ipynb", slug)
    assert {t: g["status"] for t, g in grades.items()} == {t.id: "passed" for t in checks.tasks_for(slug)}
    assert all(g["points"] == g["max_points"] for g in grades.values())
    shown = _check_outputs(nb)
    assert shown and all(" points" in s and ", 0/" not in s for s in shown)


@pytest.mark.parametrize("slug", checks.NOTEBOOKS)
def test_exercises_run_with_stubs_and_score_zero(slug: str) -> None:
    nb, grades = _execute(EXERCISES / f"{slug}.ipynb", slug)  # raises if any cell errors
    assert {t: g["status"] for t, g in grades.items()} == {
        t.id: "not attempted" for t in checks.tasks_for(slug)
    }
    assert sum(g["points"] for g in grades.values()) == 0
    shown = _check_outputs(nb)
    assert shown and all("not attempted" in s for s in shown)
