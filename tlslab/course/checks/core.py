"""Graded exercises: the task registry, instant feedback in the notebook, and grading.

Every exercise of ``exercises/NN-slug.ipynb`` asks the learner to write one function
(``hkdf_expand_label``, ``per_record_nonce``, ...). A *task* knows:

* the **reference**: tlslab's own function (or a short one written here when tlslab has none);
* its **cases**: fixed ones (RFC 8448, RFC 5869, RFC 7748 vectors), random ones, and, when
  grading, more random ones the learner never sees ("hidden");
* its **typical mistakes**, each as a known-wrong variant of the reference plus a hint. When the
  learner's output equals a variant's output (and not the reference's), the hint is exact: "the
  HkdfLabel length prefix should be 2 bytes; yours is 1";
* three general **hints** given in steps (a nudge, the RFC section, the shape of the answer), one
  more each time ``check`` fails for that task in this kernel.

In a notebook::

    from tlslab.course.checks import check
    check("hkdf-expand-label", hkdf_expand_label)     # a table: cases, points, a hint

``check`` never shows a traceback: an untouched stub is "not attempted", an exception is one line,
and a case that runs longer than a few seconds fails (a SIGALRM timer, where the platform has one).
Expected values are shown only for public cases (RFC vectors), never for random ones.

For the instructor, ``grade_all(globals(), notebook="04-key-schedule")`` runs every task of that
notebook, hidden cases included, and returns ``{task id: {"points", "max_points", "status",
"feedback"}}``; ``python -m tlslab.course.grade`` calls it in each submission's own kernel.

The capstone (notebook 07) plugs the learner's functions into tlslab's client through the
client's plug-point object: ``learner_provider(...)`` builds a ``tlslab.provider.Provider`` with
them (and counts their calls), and the client runs one handshake on it. Nothing is patched: a
learner sees *their* ``hkdf_expand_label`` and ``per_record_nonce`` carry a real connection.

This module is the machinery. The tasks live next to it, one module per notebook
(``t01_bytes.py`` ... ``t08_resumption.py``, and ``capstone.py`` for notebook 07's capstone and
``learner_provider``), with ``common.py`` for what their random cases share. Each builds its
tasks as ``register(Task(id=..., notebook=..., func_name=..., reference=..., fixed=...,
randomized=..., mistakes=[Mistake(variant, hint), ...], hints=(nudge, section, shape)))``;
``tlslab/course/checks/__init__.py`` imports them all, in notebook order, so ``TASKS`` is complete.
"""

from __future__ import annotations

import contextlib
import html
import io
import random
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

CASE_TIME_LIMIT = 5.0  # seconds one call of the learner's function may take
NOTEBOOKS = (
    "01-bytes-on-the-wire",
    "02-key-exchange",
    "03-hmac-hkdf",
    "04-key-schedule",
    "05-aead-and-records",
    "06-certificates",
    "07-the-handshake",
    "08-beyond-the-happy-path",
)

# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: ``func(*args)``."""

    args: tuple[Any, ...]
    label: str
    public: bool = True  # True: the expected value may be shown (an RFC vector, a worked example)
    hidden: bool = False  # True: only when grading


Hint = str | Callable[..., str]  # a callable gets the case's args


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to do the task: ``variant`` computes its output, ``hint`` says what it is."""

    variant: Callable[..., Any]
    hint: Hint

    def text(self, args: tuple[Any, ...]) -> str:
        return self.hint(*args) if callable(self.hint) else self.hint


@dataclass
class Task:
    """One graded exercise: the learner writes ``func_name``; it must agree with ``reference``."""

    id: str
    notebook: str
    func_name: str
    title: str
    reference: Callable[..., Any]
    fixed: Callable[[], list[Case]]
    randomized: Callable[[random.Random], list[Case]]
    mistakes: list[Mistake]
    hints: tuple[str, str, str]  # nudge, RFC section, shape of the answer
    points: int = 2
    on_error: dict[str, str] = field(default_factory=dict)  # exception type name -> hint
    time_limit: float = CASE_TIME_LIMIT
    runner: Callable[..., Report] | None = None  # replaces the case loop (the capstone)

    def cases(self, rng: random.Random, graded: bool) -> list[Case]:
        cases = list(self.fixed()) + list(self.randomized(rng))
        if graded:
            cases += [Case(c.args, c.label, False, True) for c in self.randomized(rng)]
        return cases


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    if task.id in TASKS:
        raise ValueError(f"task {task.id!r} registered twice")
    if task.notebook not in NOTEBOOKS:
        raise ValueError(f"task {task.id!r}: unknown notebook {task.notebook!r}")
    TASKS[task.id] = task
    return task


def tasks_for(notebook: str) -> list[Task]:
    """The tasks of one exercises notebook, in the order they appear."""
    return [t for t in TASKS.values() if t.notebook == notebook]


# ---------------------------------------------------------------- running one case


class CaseTimeout(BaseException):
    """Raised inside the learner's function when it runs too long (a BaseException: hard to swallow)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` with ``CaseTimeout`` (SIGALRM; main thread only).

    Where there is no SIGALRM (Windows) or we are not on the main thread, the block runs unlimited.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What happened in one case."""

    case: Case
    status: str  # "pass", "fail", "error", "timeout", "stub"
    got: Any = None
    expected: Any = None
    error: str = ""  # "ValueError: ..." for "error"/"timeout"

    @property
    def ok(self) -> bool:
        return self.status == "pass"


def _normalize(value: Any) -> Any:
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return tuple(_normalize(v) for v in value)
    return value


def same(got: Any, expected: Any) -> bool:
    """Equal after bytearray -> bytes and list -> tuple; a bool is not an int here, nor an int a bool."""
    got, expected = _normalize(got), _normalize(expected)
    if isinstance(expected, bool) != isinstance(got, bool):
        return False
    if type(expected) is tuple:
        return type(got) is tuple and len(got) == len(expected) and all(map(same, got, expected))
    return type(got) is type(expected) and got == expected


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _copy_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(list(a) if isinstance(a, list) else a for a in args)


def run_case(task: Task, func: Callable[..., Any], case: Case, quiet: bool) -> Outcome:
    expected = task.reference(*_copy_args(case.args))
    sink = io.StringIO()
    try:
        with contextlib.ExitStack() as stack:
            if quiet:
                stack.enter_context(contextlib.redirect_stdout(sink))
            stack.enter_context(time_limit(task.time_limit))
            got = func(*_copy_args(case.args))
    except NotImplementedError:
        return Outcome(case, "stub", expected=expected)
    except CaseTimeout as exc:
        return Outcome(case, "timeout", expected=expected, error=str(exc))
    except Exception as exc:  # the learner's bug: one line, no traceback
        return Outcome(case, "error", expected=expected, error=_one_line(exc))
    except SystemExit as exc:
        return Outcome(case, "error", expected=expected, error=f"SystemExit({exc.code!r})")
    return Outcome(case, "pass" if same(got, expected) else "fail", got, expected)


# ---------------------------------------------------------------- diagnosis


def _variant_output(mistake: Mistake, args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        return True, mistake.variant(*_copy_args(args))
    except Exception:
        return False, None


def _matching_mistake(task: Task, outcomes: list[Outcome], first: Outcome) -> Mistake | None:
    """The mistake whose variant reproduces the learner's output on the first failing case.

    Among several, the one that agrees with the learner on the most cases wins.
    """
    best, best_score = None, -1
    for mistake in task.mistakes:
        ok, wrong = _variant_output(mistake, first.case.args)
        if not ok or same(wrong, first.expected) or not same(first.got, wrong):
            continue
        score = 0
        for o in outcomes:
            if o.status in ("pass", "fail"):
                ok, v = _variant_output(mistake, o.case.args)
                score += ok and same(o.got, v)
        if score > best_score:
            best, best_score = mistake, score
    return best


def _describe(value: Any) -> str:
    value = _normalize(value)
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return type(value).__name__


def _shape_hint(got: Any, expected: Any) -> str | None:
    """Hints that need no variant: None returned, hex strings, wrong types, wrong lengths."""
    got, expected = _normalize(got), _normalize(expected)
    if got is None:
        return "your function returned None: did you forget the `return`?"
    if isinstance(expected, bytes) and isinstance(got, str):
        if got.lower() == expected.hex():
            return "right value, but as a hex string: return bytes (drop the `.hex()`, or use bytes.fromhex)"
        return "return bytes, not a str (a hex string or text); use bytes.fromhex or .encode()"
    if isinstance(expected, bytes) and isinstance(got, int) and not isinstance(got, bool):
        return "return bytes, not an int: convert with n.to_bytes(length, 'big')"
    if isinstance(expected, int) and isinstance(got, bytes):
        return "return an int, not bytes: convert with int.from_bytes(b, 'big')"
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) != len(expected):
        return f"return a tuple of {len(expected)} values; yours has {len(got)}"
    if type(got) is not type(expected) and not isinstance(expected, tuple):
        return f"return {type(expected).__name__}, not {type(got).__name__}"
    if isinstance(expected, bytes) and len(got) != len(expected):
        return f"the reference gives {len(expected)} bytes here; yours gives {len(got)}"
    return None


def _first_difference(got: Any, expected: Any) -> str:
    got, expected = _normalize(got), _normalize(expected)
    if isinstance(expected, bytes) and isinstance(got, bytes):
        at = next(i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b)
        return f"same length ({len(expected)} bytes), but the bytes differ from offset {at} on"
    if isinstance(expected, tuple) and isinstance(got, tuple):
        at = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if not same(a, b))
        return f"element {at} of the tuple differs ({_describe(got[at])}); the others agree"
    return "your value differs from the reference"


def diagnose(task: Task, outcomes: list[Outcome]) -> str:
    """One specific sentence about the first failing case."""
    first = next((o for o in outcomes if o.status in ("fail", "error", "timeout")), None)
    if first is None:
        return ""
    if first.status == "timeout":
        return f"your function {first.error}: is there a loop that never ends?"
    if first.status == "error":
        name = first.error.split(":", 1)[0]
        extra = task.on_error.get(name, "")
        return f"your function raised {first.error}" + (f". {extra}" if extra else "")
    mistake = _matching_mistake(task, outcomes, first)
    if mistake is not None:
        return mistake.text(first.case.args)
    return _shape_hint(first.got, first.expected) or _first_difference(first.got, first.expected)


# ---------------------------------------------------------------- reports


def _short(value: Any, limit: int = 48) -> str:
    value = _normalize(value)
    if isinstance(value, bytes):
        text = value.hex()
        return text if len(text) <= limit else text[: limit - 3] + "..."
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_ICONS = {"pass": "✔", "fail": "✘", "error": "✘", "timeout": "✘", "stub": "·"}


@dataclass
class Report:
    """The result of running one task: shown in the notebook by ``check``, summed by ``grade_all``."""

    task: Task
    status: str  # "passed", "failed", "not attempted", "missing", "timeout", "error"
    outcomes: list[Outcome] = field(default_factory=list)
    diagnosis: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        return self.task.points if self.status == "passed" else 0

    @property
    def passed_cases(self) -> int:
        return sum(o.ok for o in self.outcomes)


def _status(outcomes: list[Outcome], total: int) -> str:
    if any(o.status == "stub" for o in outcomes):
        return "not attempted"
    if any(o.status == "timeout" for o in outcomes):
        return "timeout"
    if len(outcomes) == total and all(o.ok for o in outcomes):
        return "passed"
    return "failed"


def run_task(task: Task, func: Any, *, graded: bool, rng: random.Random | None = None) -> Report:
    """Run every case of ``task`` on ``func`` (stopping at a stub or a timeout) and diagnose."""
    if task.runner is not None:
        return task.runner(task, func, graded)
    if not callable(func):
        return Report(task, "missing", diagnosis=f"no function named {task.func_name} to check")
    cases = task.cases(rng or random.Random(), graded)
    outcomes: list[Outcome] = []
    for case in cases:
        outcome = run_case(task, func, case, quiet=graded)
        outcomes.append(outcome)
        if outcome.status in ("stub", "timeout"):
            break
    status = _status(outcomes, len(cases))
    report = Report(task, status, outcomes)
    if status in ("failed", "timeout"):
        report.diagnosis = diagnose(task, outcomes)
    return report


@dataclass
class CheckReport:
    """What ``check`` displays: a table of cases (HTML, with a text fallback), points, hints."""

    report: Report
    hints: list[str]

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for o in self.report.outcomes:
            if o.status == "stub" or not o.case.public:
                continue
            if o.status in ("error", "timeout"):
                detail = o.error
            else:
                detail = "" if o.ok else f"expected {_short(o.expected)}, got {_short(o.got)}"
            rows.append((_ICONS[o.status], o.case.label, detail))
        hidden = [o for o in self.report.outcomes if not o.case.public and o.status != "stub"]
        if hidden:
            good = sum(o.ok for o in hidden)
            bad = next((o for o in hidden if not o.ok), None)
            detail = "" if bad is None else bad.error or "expected values of random cases are not shown"
            rows.append(("✔" if bad is None else "✘", f"random cases: {good}/{len(hidden)} passed", detail))
        return rows

    def _headline(self) -> str:
        r, t = self.report, self.report.task
        if r.status == "not attempted":
            return f"{t.title}: not attempted yet (the stub still raises NotImplementedError)"
        if r.status == "missing":
            return f"{t.title}: {r.diagnosis}"
        shown = len(r.outcomes)
        return f"{t.title}: {r.passed_cases}/{shown} cases passed, {r.points}/{t.points} points" + (
            " (grading adds hidden cases)" if r.status == "passed" else ""
        )

    def _advice(self) -> list[tuple[str, str]]:
        items = []
        if self.report.diagnosis and self.report.status not in ("missing",):
            items.append(("What differs", self.report.diagnosis))
        names = ("Nudge", "Where to read", "Shape of the answer")
        items += [(names[i], hint) for i, hint in enumerate(self.hints)]
        items += [("Note", n) for n in self.report.notes]
        return items

    def __repr__(self) -> str:
        lines = [f"[{self.report.task.id}] {self._headline()}"]
        lines += [
            f"  {icon} {label}" + (f"  {detail}" if detail else "") for icon, label, detail in self._rows()
        ]
        lines += [f"{name}: {text}" for name, text in self._advice()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        color = {"passed": "#1a7f37", "not attempted": "#666"}.get(self.report.status, "#b3261e")
        out = [f'<div style="font-family:sans-serif"><b style="color:{color}">{e(self._headline())}</b>']
        rows = self._rows()
        if rows:
            out.append('<table style="border-collapse:collapse;margin:4px 0">')
            for icon, label, detail in rows:
                out.append(
                    f'<tr><td style="padding:0 8px">{e(icon)}</td><td style="padding:0 8px">{e(label)}</td>'
                    f'<td style="padding:0 8px;font-family:monospace">{e(detail)}</td></tr>'
                )
            out.append("</table>")
        for name, text in self._advice():
            out.append(f"<div><b>{e(name)}:</b> {e(text)}</div>")
        out.append("</div>")
        return "".join(out)


_ATTEMPTS: dict[str, int] = {}


def reset_attempts() -> None:
    """Forget how often each task failed (the hints start again from the nudge)."""
    _ATTEMPTS.clear()


def check(task_id: str, func: Any = None, **pieces: Any) -> CheckReport:
    """Check the learner's function for ``task_id`` and return a displayable report.

    ``func`` defaults to the function named like the task in the caller's namespace. The capstone
    takes its pieces from the caller's namespace too (or as keyword arguments).
    """
    task = TASKS.get(task_id)
    if task is None:
        raise KeyError(f"no exercise {task_id!r}; known: {', '.join(TASKS)}")
    caller = sys._getframe(1).f_globals
    if task.runner is not None:
        func = {**caller, **pieces}
    elif func is None:
        func = caller.get(task.func_name)
    report = run_task(task, func, graded=False)
    hints: list[str] = []
    if report.status in ("failed", "timeout"):
        _ATTEMPTS[task.id] = _ATTEMPTS.get(task.id, 0) + 1
        hints = list(task.hints[: min(_ATTEMPTS[task.id], 3)])
    return CheckReport(report, hints)


def grade_all(
    namespace: Mapping[str, Any], notebook: str | None = None, *, time_limit: float | None = None
) -> dict[str, dict[str, Any]]:
    """Points per task, hidden cases included: ``{task id: {points, max_points, status, feedback}}``.

    ``notebook`` picks the tasks; without it, the notebook whose function names ``namespace``
    defines most. Functions are looked up by name; a missing one scores 0 ("missing").
    Random cases use a fixed seed per task, so every learner gets the same hidden cases.
    """
    slug = notebook or guess_notebook(namespace)
    results = {}
    for task in tasks_for(slug):
        if time_limit is not None:
            task = _with_time_limit(task, time_limit)
        func = dict(namespace) if task.runner is not None else namespace.get(task.func_name)
        try:
            report = run_task(task, func, graded=True, rng=random.Random(f"{task.id}/grade"))
        except Exception as exc:  # a broken namespace must not stop the other tasks
            report = Report(task, "error", diagnosis=_one_line(exc))
        results[task.id] = {
            "notebook": slug,
            "function": task.func_name,
            "points": report.points,
            "max_points": task.points,
            "status": report.status,
            "feedback": report.diagnosis,
        }
    return results


def _with_time_limit(task: Task, seconds: float) -> Task:
    copy = Task(**{**task.__dict__, "time_limit": seconds})
    return copy


def guess_notebook(namespace: Mapping[str, Any]) -> str:
    """The notebook whose task functions ``namespace`` defines most (ties: the later notebook)."""
    counts = {nb: sum(callable(namespace.get(t.func_name)) for t in tasks_for(nb)) for nb in NOTEBOOKS}
    return max(reversed(NOTEBOOKS), key=lambda nb: counts[nb])
