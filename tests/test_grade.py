"""python -m tlslab.course.grade on the sample submissions: full, empty, partly wrong, hanging, broken, cheating."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tlslab.course import grade

SUBMISSIONS = Path(__file__).resolve().parent / "fixtures" / "submissions"

EXPECTED = {  # (learner, task): (points, status)
    ("alice", "hkdf-expand-label"): (2, "passed"),
    ("alice", "derive-secret"): (2, "passed"),
    ("alice", "traffic-keys"): (2, "passed"),
    ("alice", "handshake-secret"): (2, "passed"),
    ("bob", "hkdf-expand-label"): (0, "not attempted"),
    ("bob", "derive-secret"): (0, "not attempted"),
    ("bob", "traffic-keys"): (0, "not attempted"),
    ("bob", "handshake-secret"): (0, "not attempted"),
    ("carol", "hkdf-expand-label"): (2, "passed"),
    ("carol", "derive-secret"): (0, "failed"),
    ("carol", "traffic-keys"): (0, "failed"),
    ("carol", "handshake-secret"): (2, "passed"),
    ("dave", "hkdf-expand-label"): (2, "passed"),
    ("dave", "derive-secret"): (0, "timeout"),
    ("dave", "traffic-keys"): (0, "missing"),
    ("dave", "handshake-secret"): (0, "missing"),
    ("erin", "hkdf-expand-label"): (0, "missing"),
    ("erin", "derive-secret"): (0, "failed"),
    ("erin", "traffic-keys"): (0, "missing"),
    ("erin", "handshake-secret"): (2, "passed"),
    ("mallory", "hkdf-expand-label"): (0, "failed"),
    ("mallory", "derive-secret"): (0, "missing"),
    ("mallory", "traffic-keys"): (0, "missing"),
    ("mallory", "handshake-secret"): (0, "missing"),
    ("grace", "hkdf-expand-label"): (0, "failed"),
    ("grace", "derive-secret"): (0, "uses tlslab"),  # imported tlslab's under the task's name
    ("grace", "traffic-keys"): (2, "passed"),  # right, but calls her failing hkdf_expand_label
    ("grace", "handshake-secret"): (2, "passed"),  # defined after a cell that kills the kernel
    ("heidi", "hkdf-expand-label"): (0, "uses tlslab"),  # wraps tlslab's
    ("heidi", "derive-secret"): (2, "passed"),  # calls her own hkdf_expand_label, which is tlslab's
    ("heidi", "traffic-keys"): (0, "kernel died"),  # calling it runs os._exit: graded alone, lost alone
    ("heidi", "handshake-secret"): (0, "missing"),
    **{
        ("judy", t): (2, "passed")
        for t in (
            "parse-server-hello",
            "handshake-traffic-keys",
            "certificate-verify-ok",
            "finished-verify-data",
            "hrr-transcript",
            "server-finished-ok",
            "client-finished-record",
        )
    },
    ("judy", "capstone"): (0, "failed"),  # her derive_secret is wrong for "s ap traffic" only
    ("judy", "my-client"): (0, "failed"),
    ("frank", "per-record-nonce"): (2, "passed"),
    ("frank", "inner-plaintext"): (0, "failed"),
    ("frank", "decrypt-record"): (0, "missing"),
    ("frank", "encrypt-record"): (0, "missing"),
    ("frank", "split-handshake"): (0, "missing"),
    ("frank", "certificate-list"): (0, "missing"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    args = [str(SUBMISSIONS), "--out", str(out), "--cell-timeout", "3", "--case-timeout", "1", "--jobs", "2"]
    assert grade.main(args) == 0
    return out


def test_points_and_status_per_learner_and_task(graded: Path) -> None:
    with graded.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(grade.FIELDS)
    got = {(r["learner"], r["task"]): (int(r["points"]), r["status"]) for r in rows}
    assert got == EXPECTED
    notebooks = {r["learner"]: r["notebook"] for r in rows}
    assert notebooks["frank"] == "05-aead-and-records" and notebooks["alice"] == "04-key-schedule"
    assert all(r["max_points"] == "2" for r in rows if r["task"] not in ("capstone", "my-client"))
    notes = {(r["learner"], r["task"]): r["note"] for r in rows}
    assert notes["grace", "derive-secret"] == "your derive_secret uses tlslab's derive_secret" + (
        "; graded without cell 5 (it stopped the kernel)"
    )
    assert notes["heidi", "hkdf-expand-label"] == "your hkdf_expand_label uses tlslab's hkdf_expand_label"
    assert notes["heidi", "traffic-keys"] == "calling it stopped the kernel"
    assert notes["grace", "traffic-keys"].startswith(
        "passes with tlslab's hkdf_expand_label in place of yours, which fails its own task"
    )
    assert notes["alice", "derive-secret"] == "" and notes["grace", "handshake-secret"].startswith(
        "graded without"
    )


def test_feedback_files_next_to_the_csv(graded: Path) -> None:
    carol = (graded.parent / "carol.feedback.md").read_text()
    assert "Total: 4 / 8 points" in carol
    assert "the hash of the messages, not the messages themselves" in carol
    assert "return (key, iv) in that order" in carol
    dave = (graded.parent / "dave.feedback.md").read_text()
    assert "took longer than 1 s" in dave
    assert sorted(p.name for p in graded.parent.glob("*.feedback.md")) == [
        f"{n}.feedback.md"
        for n in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "judy", "mallory")
    ]
    judy = (graded.parent / "judy.feedback.md").read_text()
    for capstone in ("| capstone | 0/4 | failed |", "| my-client | 0/6 | failed |"):
        row = next(line for line in judy.splitlines() if line.startswith(capstone))
        assert "the first wrong value" in row and "derive_secret(" in row and "b's ap traffic'" in row
        assert "Derive-Secret (RFC 8446 §7.1)" in row
    grace = (graded.parent / "grace.feedback.md").read_text()
    assert "Cell 5 stopped the kernel, so the notebook was graded without it." in grace
    assert "uses tlslab's derive_secret" in grace


def test_learner_ids_drop_the_notebook_name() -> None:
    assert grade.learner_id("carol-04-key-schedule") == "carol"
    assert grade.learner_id("04-key-schedule_carol") == "carol"
    assert grade.learner_id("carol_04") == "carol"
    assert grade.learner_id("carol") == "carol"
    assert grade.learner_id("04-key-schedule") == "04-key-schedule"


def test_identify_by_name_check_calls_and_definitions(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    assert grade.identify(Path("x/06-certificates.ipynb"), None) == "06-certificates"
    nb.cells = [nbformat.v4.new_code_cell("def der_length(data, offset):\n    pass")]
    assert grade.identify(Path("zoe.ipynb"), nb) == "06-certificates"
    nb.cells.append(nbformat.v4.new_code_cell("check('capstone')\ndef hkdf_expand_label(): pass"))
    assert grade.identify(Path("zoe.ipynb"), nb) == "07-the-handshake"
    assert grade.identify(Path("zoe.ipynb"), nbformat.v4.new_notebook()) is None


def test_unreadable_and_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "zed-04-key-schedule.ipynb").write_text("{not json")
    out = tmp_path / "g.csv"
    assert grade.main([str(tmp_path / "sub"), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {r["status"] for r in rows} == {"unreadable notebook"} and len(rows) == 4
    assert grade.main([str(tmp_path / "nope"), "--out", str(out)]) == 2


def test_grading_prints_no_kernel_transport_warnings(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("alice.ipynb", "bob.ipynb"):
        shutil.copy(SUBMISSIONS / name, folder / name)
    done = subprocess.run(
        [sys.executable, "-m", "tlslab", "grade", str(folder), "--out", str(tmp_path / "g.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Kernel is running over TCP" not in done.stderr + done.stdout
