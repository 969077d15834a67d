"""Graded exercises: the task registry, instant feedback in the notebook, and grading.

Every exercise of ``exercises/NN-slug.ipynb`` asks the learner to write one function
(``hkdf_expand_label``, ``per_record_nonce``, ...). A *task* knows:

* the **reference**: tlslab's own function (or a short one written here when tlslab has none);
* its **cases**: fixed ones (RFC 8448, RFC 5869, RFC 7748 vectors), random ones, and, when
  grading, more random ones the learner never sees ("hidden");
* its **typical mistakes**, each as a known-wrong variant of the reference plus a hint. When the
  learner's output equals a variant's output (and not the reference's), the hint is exact: "the
  HkdfLabel length prefix should be 2 bytes; yours is 1";
* three general **hints** given in steps (a nudge, the RFC section, a skeleton of the answer with
  ``____`` blanks), one more each time ``check`` fails for that task in this kernel, back to the
  nudge once it passes. No hint is runnable code: ``tests/test_checks.py`` pastes each in as the
  body and fails if that scores, and fills the skeleton's blanks with ``Task.fill`` to prove it right;
* the **forbidden** functions: tlslab's own (or cryptography's) that would do the whole task. A
  profile hook sees any call of them during the learner's function, however it was reached
  (imported under the task's name, wrapped, called inside), and the task is "uses tlslab".

In a notebook::

    from tlslab.course.checks import check
    check("hkdf-expand-label", hkdf_expand_label)     # a table: cases, points, a hint

``check`` never shows a traceback: an untouched stub is "not attempted", an exception is one line,
and a case that runs longer than a few seconds fails (a SIGALRM timer, where the platform has one).
Expected values are shown only for public cases (RFC vectors), never for random ones.

For the instructor, ``grade_all(globals(), notebook="04-key-schedule")`` runs every task of that
notebook, hidden cases included, and returns ``{task id: {"points", "max_points", "status",
"feedback"}}``; ``python -m tlslab.course.grade`` calls it in each submission's own kernel.

Notebook 07 has two capstones (``capstone``): tlslab's client (and server) running on a
``tlslab.provider.Provider`` built from the learner's pieces (``learner_provider``; nothing is
patched), and the learner's own client; when one fails, the ``referee`` names the first call of a
learner function whose result differs from the reference.

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
    hints: tuple[str, str, str]  # nudge, RFC section, a skeleton with ____ blanks (never runnable)
    points: int = 2
    fill: tuple[str, ...] = ()  # what goes in the skeleton's blanks, in order (tests only: never shown)
    names: tuple[str, ...] = ()  # names of a returned tuple's elements ("key", "iv")
    forbidden: tuple[Callable[..., Any], ...] | None = None  # tlslab functions doing the whole task
    explain: Callable[[Callable[..., Any], Outcome], str | None] | None = None  # calls func again, says why
    on_error: dict[str, str] = field(default_factory=dict)  # exception type name -> hint
    time_limit: float = CASE_TIME_LIMIT
    runner: Callable[..., Report] | None = None  # replaces the case loop (the capstone)

    def __post_init__(self) -> None:
        ref = self.reference
        own = getattr(ref, "__module__", "") or ""
        if self.forbidden is None:
            ours = own.startswith("tlslab.") and not own.startswith("tlslab.course")
            self.forbidden = (ref,) if ours else ()

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
    status: str  # "pass", "fail", "error", "timeout", "stub", "stopped"
    got: Any = None
    expected: Any = None
    error: str = ""  # "ValueError: ..." for "error"/"timeout"
    used: str = ""  # the tlslab function that did the work, when the learner called one (see ``_watch``)

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


def _code_of(func: object) -> Any:
    func = getattr(func, "__func__", func)
    return getattr(func, "__code__", None)


def _owned(func: Callable[..., Any]) -> str:
    """``tlslab's derive_secret``, ``cryptography's load_der_x509_certificate``."""
    module = getattr(func, "__module__", None) or "tlslab"
    package = "cryptography" if module.startswith(("cryptography", "_rust")) else module.split(".")[0]
    return f"{package}'s {getattr(func, '__qualname__', '?')}"


@contextlib.contextmanager
def _watch(forbidden: tuple[Callable[..., Any], ...] | None) -> Iterator[list[str]]:
    """Record calls of ``forbidden`` (tlslab functions that do the task) made inside the block.

    A profile hook sees every Python call, however the learner reached the function: imported under
    the task's name, wrapped, or called inside their own. The reference's own run is outside the block.
    """
    codes = {c: _owned(f) for f in forbidden or () if (c := _code_of(f)) is not None}
    builtins = {id(f): _owned(f) for f in forbidden or () if _code_of(f) is None}
    hits: list[str] = []
    if not codes and not builtins:
        yield hits
        return

    def profile(frame: Any, event: str, arg: Any) -> None:
        if hits:
            return
        if event == "call" and frame.f_code in codes:
            hits.append(codes[frame.f_code])
        elif event == "c_call" and id(arg) in builtins:
            hits.append(builtins[id(arg)])

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield hits
    finally:
        sys.setprofile(previous)


def _raised_in(exc: BaseException) -> str:
    """The name of the function an exception was raised in (the innermost frame of its traceback)."""
    tb, name = exc.__traceback__, ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return name


def run_case(task: Task, func: Callable[..., Any], case: Case, quiet: bool) -> Outcome:
    expected = task.reference(*_copy_args(case.args))
    sink = io.StringIO()
    hits: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            if quiet:
                stack.enter_context(contextlib.redirect_stdout(sink))
            hits = stack.enter_context(_watch(task.forbidden))
            stack.enter_context(time_limit(task.time_limit))
            got = func(*_copy_args(case.args))
    except NotImplementedError as exc:
        stub = _raised_in(exc)
        own = getattr(_code_of(func), "co_name", stub)
        if stub and stub != own:  # the learner's function is written, a helper of theirs is not
            return Outcome(
                case,
                "error",
                expected=expected,
                error=f"your {stub} is still a stub: write it (or paste it) first",
            )
        return Outcome(case, "stub", expected=expected)
    except CaseTimeout as exc:
        return Outcome(case, "timeout", expected=expected, error=str(exc))
    except KeyboardInterrupt:
        return Outcome(case, "stopped", expected=expected, error="stopped (you pressed Stop)")
    except RecursionError:
        return Outcome(
            case,
            "error",
            expected=expected,
            error="RecursionError: your function calls itself without end (does it call itself by its own name?)",
        )
    except Exception as exc:  # the learner's bug: one line, no traceback
        return Outcome(case, "error", expected=expected, error=_one_line(exc), used=hits[0] if hits else "")
    except SystemExit as exc:
        return Outcome(case, "error", expected=expected, error=f"SystemExit({exc.code!r})")
    return Outcome(
        case, "pass" if same(got, expected) else "fail", got, expected, used=hits[0] if hits else ""
    )


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
    if isinstance(value, str):
        return f"a str of {len(value)} characters"
    return type(value).__name__


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _type_hint(got: Any, expected: Any) -> str | None:
    """A wrong type, named: str vs bytes, a hex string, int vs bytes, a list of ints, bool vs int."""
    if got is None and expected is not None:
        return "your function returned None: did you forget the `return`?"
    if isinstance(expected, bytes) and isinstance(got, str):
        if got.lower() == expected.hex():
            return "right value, but as a hex string: return bytes (drop the `.hex()`, or use bytes.fromhex)"
        if _is_hex(got):
            return "you return a hex string (str); return bytes, and the value differs as well"
        return "return bytes, not a str (text); use bytes.fromhex or .encode()"
    if isinstance(expected, bytes) and isinstance(got, tuple) and all(isinstance(x, int) for x in got):
        return "you return a list of ints; return bytes: bytes(your_list)" + (
            " (then the value is right)" if bytes(x & 0xFF for x in got) == expected else ""
        )
    if isinstance(expected, bytes) and isinstance(got, int) and not isinstance(got, bool):
        return "return bytes, not an int: convert with n.to_bytes(length, 'big')"
    if isinstance(expected, int) and not isinstance(expected, bool) and isinstance(got, bytes):
        return "return an int, not bytes: convert with int.from_bytes(b, 'big')"
    if isinstance(expected, bool) and not isinstance(got, bool):
        return f"return True or False (a bool), not {type(got).__name__}"
    if isinstance(expected, str) and isinstance(got, bytes):
        return "return a str, not bytes: .decode('ascii')"
    if type(got) is not type(expected):
        return f"return {_describe(expected)}, not {_describe(got)}"
    return None


_WINDOW = 6  # bytes shown on each side of the first difference


def _first_diff_at(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _window(value: bytes, at: int) -> str:
    start, end = max(0, at - _WINDOW), min(len(value), at + _WINDOW + 1)
    inner = value[start:at].hex(" ") + (f" [{value[at]:02x}] " if at < len(value) else " [end] ")
    return (
        ("..." if start else "")
        + (inner + value[at + 1 : end].hex(" ")).strip()
        + ("..." if end < len(value) else "")
    )


def _bytes_difference(got: bytes, expected: bytes, public: bool) -> str:
    if not got:
        return f"yours is empty; {len(expected)} bytes are expected"
    if expected.startswith(got):
        return f"yours is the first {len(got)} of the {len(expected)} bytes expected"
    if got.startswith(expected):
        return (
            f"yours starts with the {len(expected)} bytes expected, then has {len(got) - len(expected)} more"
        )
    if got.endswith(expected):
        return f"yours ends with the {len(expected)} bytes expected, after {len(got) - len(expected)} extra bytes in front"
    if expected.endswith(got) and got:
        return f"yours is the last {len(got)} of the {len(expected)} bytes expected: something is missing in front"
    at = _first_diff_at(got, expected)
    size = (
        f"same length ({len(expected)} bytes)"
        if len(got) == len(expected)
        else f"{len(got)} bytes where {len(expected)} are expected"
    )
    where = "from the first byte on" if at == 0 else f"after {at} equal bytes, at offset {at}"
    text = f"{size}; they differ {where}: yours {_window(got, at)}"
    return text + (f", expected {_window(expected, at)}" if public else "")


def _tuple_difference(
    got: tuple[Any, ...], expected: tuple[Any, ...], names: tuple[str, ...], public: bool
) -> str:
    def name(i: int) -> str:
        return f"element {i}" + (f" ({names[i]})" if i < len(names) else "")

    if len(got) != len(expected):
        return f"return a tuple of {len(expected)} values; yours has {len(got)}"
    wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not same(g, e)]
    if len(wrong) >= 2:
        moved = {i: next((j for j in wrong if j != i and same(got[i], expected[j])), None) for i in wrong}
        if all(j is not None for j in moved.values()):
            if len(wrong) == 2:
                return f"{name(wrong[0])} and {name(wrong[1])} are swapped: the values are right, the order is not"
            return "the values are right but in the wrong order: " + ", ".join(
                f"your {name(i)} belongs at {j}" for i, j in moved.items()
            )
    parts = []
    for i in wrong:
        detail = _value_difference(got[i], expected[i], (), public)
        parts.append(f"{name(i)}: {detail}")
    agree = len(expected) - len(wrong)
    tail = f" ({agree} of {len(expected)} agree)" if agree else " (none agree)"
    return "; ".join(parts) + tail


def _value_difference(got: Any, expected: Any, names: tuple[str, ...], public: bool) -> str:
    got, expected = _normalize(got), _normalize(expected)
    typed = _type_hint(got, expected)
    if typed is not None:
        return typed
    if isinstance(expected, bytes):
        return _bytes_difference(got, expected, public)
    if isinstance(expected, tuple):
        return _tuple_difference(got, expected, names, public)
    if isinstance(expected, bool):
        return f"yours says {got}, but it should be {expected}"
    if isinstance(expected, int):
        return (
            f"yours is {_num(got)}"
            + (f", expected {_num(expected)}" if public else "")
            + (f" (off by {got - expected})" if public and abs(got - expected) < 256 else "")
        )
    if isinstance(expected, str) and public:
        return f"yours is {got!r}, expected {expected!r}"
    return "your value differs from the reference" + (f": expected {_short(expected)}" if public else "")


def _num(n: int) -> str:
    return f"{n} ({n:#06x})" if 255 < n < 1 << 64 else str(n)


def _shape_hint(got: Any, expected: Any) -> str | None:
    """Hints that need no variant: None returned, hex strings, wrong types, wrong lengths."""
    got, expected = _normalize(got), _normalize(expected)
    typed = _type_hint(got, expected)
    if typed is not None:
        return typed
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) != len(expected):
        return f"return a tuple of {len(expected)} values; yours has {len(got)}"
    return None


def _first_difference(got: Any, expected: Any, names: tuple[str, ...] = (), public: bool = True) -> str:
    return _value_difference(got, expected, names, public)


def diagnose(task: Task, outcomes: list[Outcome], func: Callable[..., Any] | None = None) -> str:
    """One specific sentence about the first failing case (``func``: the learner's, for ``task.explain``)."""
    first = next((o for o in outcomes if o.status in ("fail", "error", "timeout")), None)
    if first is None:
        return ""
    if first.status == "timeout":
        return f"your function {first.error}: is there a loop that never ends?"
    explained = _explain(task, func, first) if func is not None else None
    if first.status == "error":
        name = first.error.split(":", 1)[0]
        extra = explained or task.on_error.get(name, "")
        return f"your function raised {first.error}" + (f". {extra}" if extra else "")
    mistake = _matching_mistake(task, outcomes, first)
    if mistake is not None:
        return mistake.text(first.case.args)
    return explained or _value_difference(first.got, first.expected, task.names, first.case.public)


def _explain(task: Task, func: Callable[..., Any], first: Outcome) -> str | None:
    if task.explain is None:
        return None
    try:
        # Quietly: a learner's prints, once per call, would bury the verdict.
        with (
            time_limit(task.time_limit),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            return task.explain(func, first)
    except (Exception, CaseTimeout):
        return None


# ---------------------------------------------------------------- reports


def _short(value: Any, limit: int = 48, around: int | None = None) -> str:
    """A value in at most ``limit`` characters; bytes as hex, cut around offset ``around`` if given."""
    value = _normalize(value)
    if isinstance(value, bytes):
        text = value.hex()
        if len(text) <= limit:
            return text
        if around is None or around < limit // 2 - 4:
            return text[: limit - 3] + "..."
        start = max(0, 2 * around - (limit - 12) // 2)
        start -= start % 2
        return f"[{start // 2}:] ..." + text[start : start + limit - 12] + "..."
    if isinstance(value, tuple):
        parts = [(v.hex() or "b''") if isinstance(v, bytes) else repr(v) for v in value]
        text = "(" + ", ".join(p if len(p) <= 18 else p[:15] + "..." for p in parts) + ")"
        return text if len(text) <= limit + 24 else text[: limit + 21] + "..."
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _detail(o: Outcome) -> str:
    got, expected = _normalize(o.got), _normalize(o.expected)
    if isinstance(got, bytes) and isinstance(expected, bytes):
        at = _first_diff_at(got, expected)
        return f"expected {_short(expected, around=at)}, got {_short(got, around=at)}"
    if isinstance(got, tuple) and isinstance(expected, tuple) and len(got) == len(expected):
        wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not same(g, e)]
        if len(wrong) == 1 and isinstance(got[wrong[0]], bytes) and isinstance(expected[wrong[0]], bytes):
            g, e = got[wrong[0]], expected[wrong[0]]
            at = _first_diff_at(g, e)
            return f"element {wrong[0]}: expected {_short(e, around=at)}, got {_short(g, around=at)}"
    return f"expected {_short(expected)}, got {_short(got)}"


_ICONS = {"pass": "✔", "fail": "✘", "error": "✘", "timeout": "✘", "stub": "·", "stopped": "■"}


@dataclass
class Report:
    """The result of running one task: shown in the notebook by ``check``, summed by ``grade_all``."""

    task: Task
    status: (
        str  # "passed", "failed", "not attempted", "missing", "timeout", "error", "stopped", "uses tlslab"
    )
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
    if any(o.status == "stopped" for o in outcomes):
        return "stopped"
    if any(o.used for o in outcomes):
        return "uses tlslab"
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
        if outcome.status in ("stub", "timeout", "stopped"):
            break
    status = _status(outcomes, len(cases))
    report = Report(task, status, outcomes)
    if status in ("failed", "timeout"):
        report.diagnosis = diagnose(task, outcomes, func)
    elif status == "uses tlslab":
        used = next(o.used for o in outcomes if o.used)
        report.diagnosis = (
            f"your {task.func_name} uses {used}, which does this whole task: write it yourself "
            "(that is the reference it is compared with)"
        )
    elif status == "stopped":
        report.diagnosis = "the check was stopped (you pressed Stop) before it finished"
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
                detail = "" if o.ok else _detail(o)
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
            return (
                f"{t.title}: not attempted yet ({r.diagnosis or 'the stub still raises NotImplementedError'})"
            )
        if r.status in ("missing", "stopped", "uses tlslab"):
            return f"{t.title}: {r.diagnosis}"
        if t.runner is not None:
            return f"{t.title}: {r.status}, {r.points}/{t.points} points"
        shown = len(r.outcomes)
        return f"{t.title}: {r.passed_cases}/{shown} cases passed, {r.points}/{t.points} points" + (
            " (grading adds hidden cases)" if r.status == "passed" else ""
        )

    def _advice(self) -> list[tuple[str, str]]:
        items = []
        if self.report.diagnosis and self.report.status not in (
            "missing",
            "stopped",
            "uses tlslab",
            "not attempted",
        ):
            items.append(("What differs", self.report.diagnosis))
        names = ("Nudge", "Where to read", "Skeleton (fill in each ____)")
        items += [(names[i], hint) for i, hint in enumerate(self.hints)]
        items += [("Note", n) for n in self.report.notes]
        return items

    def __repr__(self) -> str:
        lines = [f"[{self.report.task.id}] {self._headline()}"]
        lines += [
            f"  {icon} {label}" + (f"  {detail}" if detail else "") for icon, label, detail in self._rows()
        ]
        for name, text in self._advice():
            first, *more = text.split("\n")
            lines.append(f"{name}: {first}" if not more else f"{name}:")
            lines += [f"    {line}" for line in ([first, *more] if more else [])]
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
            if "\n" in text:
                out.append(f'<div><b>{e(name)}:</b><pre style="margin:2px 0 2px 16px">{e(text)}</pre></div>')
            else:
                out.append(f"<div><b>{e(name)}:</b> {e(text)}</div>")
        out.append("</div>")
        return "".join(out)


_ATTEMPTS: dict[str, int] = {}


def reset_attempts() -> None:
    """Forget how often each task failed (the hints start again from the nudge)."""
    _ATTEMPTS.clear()


def check(task_id: str, func: Any = None, **pieces: Any) -> CheckReport:
    """Check the learner's function for ``task_id`` and return a displayable report.

    ``func`` defaults to the function named like the task in the caller's namespace (so a check run
    before its function's cell says "define ... first", in one line). The capstone takes its pieces
    from the caller's namespace too (or as keyword arguments). Passing resets the hints.
    """
    task = TASKS.get(task_id)
    if task is None:
        raise KeyError(f"no exercise {task_id!r}; known: {', '.join(TASKS)}")
    caller = sys._getframe(1).f_globals
    if task.runner is not None:
        func = {**caller, **pieces}
    elif func is None:
        func = caller.get(task.func_name)
    try:
        report = run_task(task, func, graded=False)
    except KeyboardInterrupt:
        report = Report(
            task, "stopped", diagnosis="the check was stopped (you pressed Stop) before it finished"
        )
    if report.status == "missing" and task.runner is None:
        report.diagnosis = f"no function {task.func_name} yet: run the cell that defines it (def {task.func_name}(...)) first"
    hints: list[str] = []
    if report.status in ("failed", "timeout", "uses tlslab"):
        _ATTEMPTS[task.id] = _ATTEMPTS.get(task.id, 0) + 1
        hints = list(task.hints[: min(_ATTEMPTS[task.id], 3)])
    elif report.status == "passed":
        _ATTEMPTS.pop(task.id, None)  # the next slip starts again from the nudge
    return CheckReport(report, hints)


def grade_all(
    namespace: Mapping[str, Any],
    notebook: str | None = None,
    *,
    time_limit: float | None = None,
    only: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Points per task, hidden cases included: ``{task id: {points, max_points, status, feedback}}``.

    ``notebook`` picks the tasks; without it, the notebook whose function names ``namespace``
    defines most. Functions are looked up by name; a missing one scores 0 ("missing").
    Random cases use a fixed seed per task, so every learner gets the same hidden cases.
    """
    slug = notebook or guess_notebook(namespace)
    tasks = [t if time_limit is None else _with_time_limit(t, time_limit) for t in tasks_for(slug)]
    tasks = [t for t in tasks if only is None or t.id == only]  # the grader's fallback: one task per cell
    reports: dict[str, Report] = {}
    notes: dict[str, str] = {}
    for task in tasks:
        reports[task.id] = _grade_one(task, namespace)
        if reports[task.id].status == "uses tlslab":
            notes[task.id] = reports[task.id].diagnosis.split(",", 1)[0]
    failing = {t.func_name: t for t in tasks if reports[t.id].status != "passed" and t.runner is None}
    for task in tasks:
        if reports[task.id].status not in ("failed", "timeout") or task.runner is not None:
            continue
        second, helpers = _with_tlslab_helpers(task, namespace, failing)
        if second is not None and second.status == "passed":
            reports[task.id] = second
            notes[task.id] = (
                f"passes with tlslab's {', '.join(helpers)} in place of yours, which "
                + ("fails its own task" if len(helpers) == 1 else "fail their own tasks")
                + ": no double penalty"
            )
    return {
        task.id: {
            "notebook": slug,
            "function": task.func_name,
            "points": reports[task.id].points,
            "max_points": task.points,
            "status": reports[task.id].status,
            "feedback": reports[task.id].diagnosis,
            "note": notes.get(task.id, ""),
        }
        for task in tasks
    }


def _grade_one(task: Task, namespace: Mapping[str, Any]) -> Report:
    func = dict(namespace) if task.runner is not None else namespace.get(task.func_name)
    try:
        return run_task(task, func, graded=True, rng=random.Random(f"{task.id}/grade"))
    except Exception as exc:  # a broken namespace must not stop the other tasks
        return Report(task, "error", diagnosis=_one_line(exc))


def _called_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _called_names(const)
    return names


def _with_tlslab_helpers(
    task: Task, namespace: Mapping[str, Any], failing: Mapping[str, Task]
) -> tuple[Report | None, list[str]]:
    """Grade ``task`` again with tlslab's reference for each failing task function it calls."""
    func = namespace.get(task.func_name)
    code, scope = _code_of(func), getattr(func, "__globals__", None)
    if code is None or not isinstance(scope, dict):
        return None, []
    helpers = sorted(n for n in _called_names(code) & set(failing) if n != task.func_name and n in scope)
    if not helpers:
        return None, []
    saved = {n: scope[n] for n in helpers}
    try:
        scope.update({n: failing[n].reference for n in helpers})
        return _grade_one(task, namespace), helpers
    finally:
        scope.update(saved)


def _with_time_limit(task: Task, seconds: float) -> Task:
    copy = Task(**{**task.__dict__, "time_limit": seconds})
    return copy


def guess_notebook(namespace: Mapping[str, Any]) -> str:
    """The notebook whose task functions ``namespace`` defines most (ties: the later notebook)."""
    counts = {nb: sum(callable(namespace.get(t.func_name)) for t in tasks_for(nb)) for nb in NOTEBOOKS}
    return max(reversed(NOTEBOOKS), key=lambda nb: counts[nb])
