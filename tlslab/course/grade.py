"""The instructor's grader: run each submitted exercises notebook and score it.

    python -m tlslab.course.grade SUBMISSIONS_DIR --out grades.csv

Submissions are ``SUBMISSIONS_DIR/<learner>.ipynb`` (the file stem is the learner) or
``SUBMISSIONS_DIR/<learner>/<anything>.ipynb`` (one folder per learner, several notebooks). Each
notebook runs in its own fresh kernel (nbclient, errors allowed, every cell time-limited and
interrupted when it runs over). Then one cell is appended that calls
``tlslab.course.checks.grade_all(globals(), notebook=...)`` in that same kernel and prints the result as
JSON behind a random marker. Tasks are found by function name, never by cell metadata, so moved,
deleted or re-ordered cells cost nothing but the functions they held.

Which exercises notebook a submission is: a known slug in the file name (``04-key-schedule``),
else the ``check("task-id")`` calls in its code, else the functions it defines, else the
``tlslab.exercises`` entry the generator puts in the notebook metadata.

Writes ``grades.csv`` (learner, notebook, task, points, max_points, status) and, next to it,
``<learner>.feedback.md`` per learner. Grading runs learners' code: it is not a sandbox. For
high stakes run it in a container.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from tlslab.course.checks import NOTEBOOKS, TASKS, tasks_for

CELL_TIMEOUT = 30  # seconds per learner cell
GRADE_TIMEOUT = 300  # seconds for the appended grading cell
FIELDS = ("learner", "notebook", "task", "points", "max_points", "status", "note")
MAX_RERUNS = 3  # a notebook whose cells kill the kernel is re-run without them, this often at most
_CHECK_CALL = re.compile(r"""check\(\s*["']([a-z0-9-]+)["']""")
_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)", re.MULTILINE)


@dataclass
class Submission:
    learner: str
    path: Path


@dataclass
class Result:
    """The grade of one submission: ``tasks`` is ``grade_all``'s dict, or empty with ``problem``."""

    submission: Submission
    notebook: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str = ""
    dropped: list[int] = field(default_factory=list)  # cells left out because they killed the kernel

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for task in tasks_for(self.notebook):
            got = self.tasks.get(task.id, {})
            notes = [got.get("note", "")] + [
                f"graded without cell {i} (it stopped the kernel)" for i in self.dropped
            ]
            rows.append(
                {
                    "learner": self.submission.learner,
                    "notebook": self.notebook,
                    "task": task.id,
                    "points": got.get("points", 0),
                    "max_points": task.points,
                    "status": got.get("status", self.problem or "not graded"),
                    "note": "; ".join(n for n in notes if n),
                }
            )
        return rows


def learner_id(stem: str) -> str:
    """The learner a file stem names, without the notebook's slug: ``carol-04-key-schedule`` -> ``carol``."""
    forms = [re.escape(f) for slug in NOTEBOOKS for f in (slug, slug.replace("-", "_"))]
    forms += [rf"(?<![0-9A-Za-z]){slug[:2]}(?![0-9A-Za-z])" for slug in NOTEBOOKS]
    for form in forms:
        m = re.search(form, stem)
        if m:
            return (stem[: m.start()] + stem[m.end() :]).strip("-_. ") or stem
    return stem


def find_submissions(root: Path) -> list[Submission]:
    """``root/<learner>.ipynb`` and ``root/<learner>/*.ipynb``; checkpoints and hidden files skipped."""
    found = [Submission(learner_id(p.stem), p) for p in sorted(root.glob("*.ipynb"))]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += [Submission(folder.name, p) for p in sorted(folder.glob("*.ipynb"))]
    return found


def _code(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def identify(path: Path, nb: nbformat.NotebookNode | None) -> str | None:
    """Which exercises notebook ``path`` is (see the module docstring), or None."""
    for slug in NOTEBOOKS:
        if slug in path.name:
            return slug
    if nb is None:
        return None
    code = _code(nb)
    votes = Counter(
        TASKS[t].notebook for t in _CHECK_CALL.findall(code) if t in TASKS and TASKS[t].runner is None
    )
    for t in _CHECK_CALL.findall(code):
        if t in TASKS and TASKS[t].runner is not None:
            votes[TASKS[t].notebook] += 10  # the capstone is only in its own notebook
    if not votes:
        names = set(_DEF.findall(code))
        votes = Counter(t.notebook for t in TASKS.values() if t.func_name in names)
    if votes:
        return max(reversed(NOTEBOOKS), key=lambda nb_: votes.get(nb_, 0))
    meta = nb.metadata.get("tlslab", {}).get("exercises")
    return meta if meta in NOTEBOOKS else None


def grading_cell(
    slug: str, marker: str, case_time_limit: float, only: str | None = None
) -> nbformat.NotebookNode:
    """The appended cell that grades the notebook (or, with ``only``, one task) and prints JSON."""
    source = (
        "import importlib as _tlslab_il, json as _tlslab_json\n"
        "import tlslab.course.checks as _tlslab_checks\n"
        "_tlslab_checks = _tlslab_il.reload(_tlslab_checks)\n"
        f"print({marker!r} + _tlslab_json.dumps(_tlslab_checks.grade_all(globals(), {slug!r}, "
        f"time_limit={case_time_limit!r}, only={only!r})))"
    )
    cell: nbformat.NotebookNode = nbformat.v4.new_code_cell(source)
    cell.id = "tlslab-grade" + (f"-{only}" if only else "")
    cell.metadata["tlslab_task"] = only or ""
    return cell


def _parse(cell: nbformat.NotebookNode, marker: str) -> dict[str, Any] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            for line in output.get("text", "").splitlines():
                if line.startswith(marker):
                    result: dict[str, Any] = json.loads(line[len(marker) :])
                    return result
    return None


def _error_of(cell: nbformat.NotebookNode) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return "no result printed"


def _read(path: Path) -> nbformat.NotebookNode | None:
    try:
        nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)
    except Exception:
        return None
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def grade_one(sub: Submission, cell_timeout: int, grade_timeout: int, case_time_limit: float) -> Result:
    """Run one submission in a fresh kernel and collect ``grade_all``'s result."""
    nb = _read(sub.path)
    slug = identify(sub.path, nb)
    if slug is None:
        return Result(sub, NOTEBOOKS[0], problem="not an exercises notebook")
    if nb is None:
        return Result(sub, slug, problem="unreadable notebook")
    marker = f"TLSLAB-GRADE-{secrets.token_hex(8)}:"
    for cell_index, cell in enumerate(nb.cells):
        cell.metadata["tlslab_index"] = cell_index  # the learner's cell number, kept when cells are dropped
    result = _run_graded(
        sub, slug, nb, [grading_cell(slug, marker, case_time_limit)], marker, cell_timeout, grade_timeout
    )
    if result.problem == "kernel died in grading":
        # A task's function kills the kernel when called: grade each task in a cell of its own, so
        # only that task is lost.
        cells = [grading_cell(slug, marker, case_time_limit, only=t.id) for t in tasks_for(slug)]
        result = _run_graded(sub, slug, nb, cells, marker, cell_timeout, grade_timeout)
    return result


def _run_graded(
    sub: Submission,
    slug: str,
    nb: nbformat.NotebookNode,
    grading: list[nbformat.NotebookNode],
    marker: str,
    cell_timeout: int,
    grade_timeout: int,
) -> Result:
    """Run the learner's cells and then ``grading``, leaving out any cell that kills the kernel."""
    learner = len(nb.cells)
    for i, cell in enumerate(grading):
        cell.metadata["tlslab_index"] = learner + i
    dropped: list[int] = []  # learner cells left out
    lost: dict[str, dict[str, Any]] = {}  # tasks whose own grading cell killed the kernel
    for _attempt in range(MAX_RERUNS + len(grading) + 1):
        run = nbformat.from_dict(json.loads(json.dumps({**nb, "cells": nb.cells + grading})))
        run.cells = [
            c
            for c in run.cells
            if c.metadata["tlslab_index"] not in dropped and c.metadata.get("tlslab_task", None) not in lost
        ]
        started: list[int] = []
        try:
            _execute(run, cell_timeout, grade_timeout, started)
        except DeadKernelError:
            killer = started[-1] if started else None
            if killer is None:
                return Result(sub, slug, problem="kernel died", dropped=dropped)
            if killer >= learner:  # a grading cell: one of the learner's functions killed it
                task = grading[killer - learner].metadata["tlslab_task"]
                if not task:
                    return Result(sub, slug, problem="kernel died in grading", dropped=dropped)
                lost[task] = {"points": 0, "status": "kernel died", "note": "calling it stopped the kernel"}
                continue
            if len(dropped) >= MAX_RERUNS:
                break
            dropped.append(killer)  # the kernel died in this cell: run the notebook again without it
            continue
        except Exception as exc:
            return Result(sub, slug, problem=f"could not run: {type(exc).__name__}", dropped=dropped)
        tasks: dict[str, dict[str, Any]] = dict(lost)
        for cell in run.cells[len(run.cells) - (len(grading) - len(lost)) :]:
            got = _parse(cell, marker)
            if got is None:
                return Result(sub, slug, problem=f"grading failed ({_error_of(cell)})", dropped=dropped)
            tasks.update(got)
        return Result(sub, slug, tasks, dropped=dropped)
    return Result(sub, slug, problem="kernel died", dropped=dropped)


def _execute(nb: nbformat.NotebookNode, cell_timeout: int, grade_timeout: int, started: list[int]) -> None:
    """Run ``nb`` in a fresh kernel; ``started`` collects the learner cell numbers as they begin."""
    with tempfile.TemporaryDirectory(prefix="tlslab-grade-") as workdir:
        client = NotebookClient(
            nb,
            timeout=cell_timeout,
            timeout_func=lambda c: (
                grade_timeout if c.get("id", "").startswith("tlslab-grade") else cell_timeout
            ),
            kernel_name="python3",
            # quiet ipykernel's own log (its "running over TCP without encryption" warning, once per
            # submission): the kernel runs on loopback for us alone; errors still show
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "cell timed out", "traceback": []},
            resources={"metadata": {"path": workdir}},
            on_cell_start=lambda cell, cell_index: started.append(cell.metadata["tlslab_index"]),
        )
        client.execute()


def feedback_markdown(learner: str, results: Sequence[Result]) -> str:
    """One learner's feedback: per notebook, per task, points, status and the first hint."""
    total = sum(r["points"] for res in results for r in res.rows())
    out = [
        f"# Feedback for {learner}",
        "",
        f"Total: {total} / {sum(r['max_points'] for res in results for r in res.rows())} points",
        "",
    ]
    for res in results:
        out += [f"## {res.notebook} ({res.submission.path.name})", ""]
        if res.problem:
            out += [f"The notebook could not be graded: {res.problem}.", ""]
        for i in res.dropped:
            out += [f"Cell {i} stopped the kernel, so the notebook was graded without it.", ""]
        out += ["| task | points | status | feedback |", "|---|---|---|---|"]
        for row in res.rows():
            got = res.tasks.get(row["task"], {})
            note = " ".join(t for t in (got.get("feedback", ""), got.get("note", "")) if t)
            note = note.replace("|", "\\|").replace("\n", " ")
            out.append(f"| {row['task']} | {row['points']}/{row['max_points']} | {row['status']} | {note} |")
        out.append("")
    return "\n".join(out)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "learner"


def write_outputs(results: Sequence[Result], out: Path) -> list[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for res in results:
            writer.writerows(res.rows())
    written = [out]
    by_learner: dict[str, list[Result]] = {}
    for res in results:
        by_learner.setdefault(res.submission.learner, []).append(res)
    for learner, group in by_learner.items():
        path = out.parent / f"{_safe(learner)}.feedback.md"
        path.write_text(feedback_markdown(learner, group), "utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlslab.course.grade", description="Grade submitted exercises notebooks."
    )
    parser.add_argument("submissions", type=Path, help="a folder of <learner>.ipynb or <learner>/*.ipynb")
    parser.add_argument(
        "--out", type=Path, default=Path("grades.csv"), help="CSV to write (feedback goes next to it)"
    )
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per learner cell")
    parser.add_argument(
        "--grade-timeout", type=int, default=GRADE_TIMEOUT, help="seconds for the grading cell"
    )
    parser.add_argument(
        "--case-timeout", type=float, default=5.0, help="seconds per call of a learner's function"
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at the same time")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    subs = find_submissions(args.submissions)
    if not subs:
        print(f"error: no .ipynb files in {args.submissions}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(
            pool.map(lambda s: grade_one(s, args.cell_timeout, args.grade_timeout, args.case_timeout), subs)
        )
    for res in results:
        points = sum(r["points"] for r in res.rows())
        most = sum(r["max_points"] for r in res.rows())
        print(f"{res.submission.learner:<16} {res.notebook:<22} {points:>3}/{most:<3} {res.problem}")
    write_outputs(results, args.out)
    print(f"wrote {args.out} and feedback files in {args.out.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
