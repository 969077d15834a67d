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

    from tlslab.checks import check
    check("hkdf-expand-label", hkdf_expand_label)     # a table: cases, points, a hint

``check`` never shows a traceback: an untouched stub is "not attempted", an exception is one line,
and a case that runs longer than a few seconds fails (a SIGALRM timer, where the platform has one).
Expected values are shown only for public cases (RFC vectors), never for random ones.

For the instructor, ``grade_all(globals(), notebook="04-key-schedule")`` runs every task of that
notebook, hidden cases included, and returns ``{task id: {"points", "max_points", "status",
"feedback"}}``; ``python -m tlslab.grade`` calls it in each submission's own kernel.

The capstone (notebook 07) plugs the learner's functions into tlslab's client with
``learner_functions(...)``, a context manager that swaps module attributes for the duration of one
handshake and puts the originals back afterwards. This is a teaching device, not an API: it lets a
learner see *their* ``hkdf_expand_label`` and ``per_record_nonce`` carry a real connection.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import hmac
import html
import io
import random
import signal
import string
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import certverify, client, keyschedule, psk, record, signatures
from .extensions import ServerNameList, SupportedVersionsClientHello
from .rfc8448 import trace
from .suites import SUITES
from .wire import Reader, vector

__all__ = [
    "TASKS",
    "Case",
    "CheckReport",
    "Mistake",
    "Task",
    "check",
    "grade_all",
    "learner_functions",
    "reset_attempts",
    "tasks_for",
]

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


# ================================================================ the tasks
#
# Helpers for random inputs. Every task below has: a reference, fixed cases, random cases,
# mistakes (variants + hints) and three stepped hints.


def _rand_bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _rand_label(rng: random.Random) -> bytes:
    return "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(1, 20))).encode()


def _hash(i: int) -> str:
    """Random cases alternate the two hashes, so a SHA-256-only answer always meets a SHA-384 case."""
    return ("sha256", "sha384")[i % 2]


def _hlen(hash_name: str) -> int:
    return hashlib.new(hash_name).digest_size


_T = trace("simple_1rtt")
_HRR = trace("hrr")

# ---------------------------------------------------------------- 01 bytes on the wire


def _vector_cases() -> list[Case]:
    return [
        Case((1, b"\x01\x02"), "1-byte prefix, 2 bytes"),
        Case((2, b"example.com"), "2-byte prefix, b'example.com'"),
        Case((3, bytes(300)), "3-byte prefix, 300 zero bytes"),
        Case((2, b""), "2-byte prefix, empty"),
    ]


def _vector_random(rng: random.Random) -> list[Case]:
    cases = []
    for i in range(6):
        size = rng.randint(1, 3)
        cases.append(
            Case(
                (size, _rand_bytes(rng, rng.randint(0, 255 if size == 1 else 700))), f"random {i + 1}", False
            )
        )
    return cases


def _prefix(width: int, order: str = "big") -> Callable[[int, bytes], bytes]:
    return lambda n, d: len(d).to_bytes(width, order) + d


register(
    Task(
        id="encode-vector",
        notebook="01-bytes-on-the-wire",
        func_name="encode_vector",
        title="encode_vector (RFC 8446 §3.4)",
        reference=vector,
        fixed=_vector_cases,
        randomized=_vector_random,
        mistakes=[
            Mistake(
                lambda n, d: len(d).to_bytes(n, "little") + d,
                "the length prefix is big-endian (network byte order, RFC 8446 §3.3); yours is little-endian",
            ),
            *[
                Mistake(
                    _prefix(w),
                    lambda n, d, w=w: f"the length prefix should be {n} bytes (length_size); yours is {w}",
                )
                for w in (1, 2, 3, 4)
            ],
            Mistake(
                lambda n, d: len(d.hex()).to_bytes(n, "big") + d,
                "the prefix counts bytes, not hex digits: use len(data)",
            ),
            Mistake(lambda n, d: d, "the length prefix is missing: put len(data) in length_size bytes first"),
            Mistake(
                lambda n, d: d + len(d).to_bytes(n, "big"),
                "the length goes in front of the data, not after it",
            ),
        ],
        hints=(
            "A vector is its length, as an unsigned integer of length_size bytes, followed by the bytes.",
            "RFC 8446 §3.4 (vectors) and §3.3 (numbers are big-endian).",
            "return len(data).to_bytes(length_size, 'big') + data",
        ),
    )
)


def _decode_vector_ref(data: bytes, length_size: int) -> tuple[bytes, bytes]:
    r = Reader(data, "vector")
    body = r.vector(length_size)
    return body, r.rest()


def _decode_cases() -> list[Case]:
    return [
        Case((b"\x02\x01\x02", 1), "b'\\x02\\x01\\x02', 1-byte prefix"),
        Case((b"\x00\x0bexample.com\x00\x17", 2), "b'\\x00\\x0bexample.com\\x00\\x17', 2-byte prefix"),
        Case((b"\x00\x01\x04" + bytes(260) + b"tail", 3), "3-byte prefix, 260 bytes, then b'tail'"),
        Case((b"\x00\x00\xff", 2), "empty vector, then b'\\xff'"),
    ]


def _decode_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        size = rng.randint(1, 3)
        body = _rand_bytes(rng, rng.randint(0, 255 if size == 1 else 600))
        out.append(
            Case((vector(size, body) + _rand_bytes(rng, rng.randint(0, 8)), size), f"random {i + 1}", False)
        )
    return out


def _decode_little(data: bytes, n: int) -> tuple[bytes, bytes]:
    length = int.from_bytes(data[:n], "little")
    return data[n : n + length], data[n + length :]


register(
    Task(
        id="decode-vector",
        notebook="01-bytes-on-the-wire",
        func_name="decode_vector",
        title="decode_vector (RFC 8446 §3.4)",
        reference=_decode_vector_ref,
        fixed=_decode_cases,
        randomized=_decode_random,
        mistakes=[
            Mistake(
                _decode_little, "read the length big-endian (RFC 8446 §3.3); yours reads it little-endian"
            ),
            Mistake(
                lambda d, n: (d[: n + int.from_bytes(d[:n], "big")], d[n + int.from_bytes(d[:n], "big") :]),
                "the body should not include the length prefix: it starts after length_size bytes",
            ),
            Mistake(
                lambda d, n: (d[n : n + int.from_bytes(d[:n], "big")], d[int.from_bytes(d[:n], "big") :]),
                "the rest starts after the prefix *and* the body: at length_size + length",
            ),
            Mistake(
                lambda d, n: (d[n:], b""), "the body is only `length` bytes long; what follows is the rest"
            ),
            Mistake(
                lambda d, n: (d[1 : 1 + d[0]], d[1 + d[0] :]),
                lambda d, n: f"the prefix is length_size = {n} bytes; yours reads 1",
            ),
        ],
        hints=(
            "Read length_size bytes as a big-endian number; that many bytes follow.",
            "RFC 8446 §3.4: 'opaque mandatory<300..400>; /* length field is two bytes */'.",
            "n = int.from_bytes(data[:length_size], 'big'); return data[length_size:length_size + n], data[length_size + n:]",
        ),
    )
)


def _sv_ref(versions: list[int]) -> bytes:
    return SupportedVersionsClientHello(list(versions)).encode()


def _sv_random(rng: random.Random) -> list[Case]:
    return [
        Case(([rng.randrange(0x10000) for _ in range(rng.randint(1, 12))],), f"random {i + 1}", False)
        for i in range(5)
    ]


def _u16s(vs: list[int], order: str = "big") -> bytes:
    return b"".join(v.to_bytes(2, order) for v in vs)


register(
    Task(
        id="supported-versions",
        notebook="01-bytes-on-the-wire",
        func_name="encode_supported_versions",
        title="supported_versions extension data (RFC 8446 §4.2.1)",
        reference=_sv_ref,
        fixed=lambda: [
            Case(([0x0304],), "[0x0304] (TLS 1.3 only)"),
            Case(([0x0304, 0x0303],), "[0x0304, 0x0303]"),
            Case(([0x7A7A, 0x0304, 0x0303],), "GREASE 0x7a7a, then 1.3 and 1.2"),
        ],
        randomized=_sv_random,
        mistakes=[
            Mistake(
                lambda vs: vector(2, _u16s(vs)),
                "the list of versions has a 1-byte length prefix (versions<2..254>); yours is 2 bytes",
            ),
            Mistake(
                lambda vs: bytes([len(vs)]) + _u16s(vs),
                "the prefix counts bytes (2 per version), not versions",
            ),
            Mistake(
                lambda vs: vector(1, bytes(v & 0xFF for v in vs)),
                "each ProtocolVersion is a uint16: 2 bytes, e.g. 0x0304 -> 03 04",
            ),
            Mistake(
                lambda vs: vector(1, _u16s(vs, "little")),
                "write each version big-endian: 0x0304 is 03 04, not 04 03",
            ),
            Mistake(lambda vs: _u16s(vs), "the versions need their 1-byte length prefix in front"),
        ],
        hints=(
            "In a ClientHello, supported_versions is a vector of 2-byte versions.",
            "RFC 8446 §4.2.1: ProtocolVersion versions<2..254>; the prefix width follows from the maximum 254.",
            "vector(1, b''.join(v.to_bytes(2, 'big') for v in versions))",
        ),
    )
)


def _sni_ref(host: str) -> bytes:
    return ServerNameList([host.encode("ascii")]).encode()


def _rand_host(rng: random.Random) -> str:
    labels = [
        "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(2, 4))
    ]
    return ".".join(labels)


register(
    Task(
        id="server-name",
        notebook="01-bytes-on-the-wire",
        func_name="encode_server_name",
        title="server_name extension data (RFC 6066 §3)",
        reference=_sni_ref,
        fixed=lambda: [
            Case(("example.com",), "'example.com'"),
            Case(("server",), "'server' (RFC 8448's name)"),
        ],
        randomized=lambda rng: [Case((_rand_host(rng),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                lambda h: b"\x00" + vector(2, h.encode()),
                "the ServerName entry needs the outer list length (server_name_list<1..2^16-1>, 2 bytes) in front",
            ),
            Mistake(
                lambda h: vector(2, b"\x00" + vector(1, h.encode())),
                "each entry is name_type host_name (one byte, 0) and then HostName with a 2-byte length (opaque HostName<1..2^16-1>); yours has one of them missing or short",
            ),
            Mistake(
                lambda h: len(h).to_bytes(2, "big") + b"\x00" + vector(2, h.encode()),
                "the list length counts the whole entry (1 + 2 + len(name) bytes), not just the name",
            ),
            Mistake(
                lambda h: vector(2, h.encode()),
                "a ServerNameList is a list of entries, each name_type (0) + HostName vector",
            ),
        ],
        hints=(
            "Two nested vectors: the list (2-byte length) holds one entry: a type byte 0 and the host name (2-byte length).",
            "RFC 6066 §3 (ServerNameList, ServerName, NameType, HostName).",
            "entry = b'\\x00' + vector(2, host.encode('ascii')); return vector(2, entry)",
        ),
    )
)

# ---------------------------------------------------------------- 02 key exchange (RFC 7748)

P25519 = 2**255 - 19
A24 = 121665


def decode_scalar_ref(k: bytes) -> int:
    """decodeScalar25519 (RFC 7748 §5): clear bits 0, 1, 2 and 255, set bit 254; little-endian."""
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def ladder_step_ref(x1: int, x2: int, z2: int, x3: int, z3: int, a24: int = A24) -> tuple[int, int, int, int]:
    """One step of the Montgomery ladder (RFC 7748 §5): (x2, z2) doubled, (x3, z3) the sum."""
    p = P25519
    a, b = (x2 + z2) % p, (x2 - z2) % p
    aa, bb = a * a % p, b * b % p
    e = (aa - bb) % p
    c, d = (x3 + z3) % p, (x3 - z3) % p
    da, cb = d * a % p, c * b % p
    x3n = (da + cb) ** 2 % p
    z3n = x1 * (da - cb) ** 2 % p
    return aa * bb % p, e * (aa + a24 * e) % p, x3n, z3n


def _ladder(k: int, u: int, step: Callable[..., tuple[int, int, int, int]] = ladder_step_ref) -> int:
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        x2, z2, x3, z3 = step(x1, x2, z2, x3, z3)
    if swap:
        x2, z2 = x3, z3
    return x2 * pow(z2, P25519 - 2, P25519) % P25519


def x25519_ref(k: bytes, u: bytes) -> bytes:
    """X25519(k, u) (RFC 7748 §5), written out; tests compare it with ``cryptography``."""
    u_int = int.from_bytes(u[:31] + bytes([u[31] & 127]), "little") % P25519
    return _ladder(decode_scalar_ref(k), u_int).to_bytes(32, "little")


def _scalar_cases() -> list[Case]:
    return [
        Case(
            (bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),),
            "RFC 7748 §5.2 scalar 1",
        ),
        Case((_T["client_ephemeral_x25519_private_key"],), "RFC 8448 client private key"),
        Case((bytes(32),), "32 zero bytes"),
        Case((b"\xff" * 32,), "32 bytes 0xff"),
    ]


def _no_clamp(k: bytes) -> int:
    return int.from_bytes(k, "little")


def _clamp_big(k: bytes) -> int:
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "big")


def _clamp_bits(clear_low: bool, clear_top: bool, set_254: bool) -> Callable[[bytes], int]:
    def variant(k: bytes) -> int:
        b = bytearray(k)
        if clear_low:
            b[0] &= 248
        if clear_top:
            b[31] &= 127
        if set_254:
            b[31] |= 64
        return int.from_bytes(b, "little")

    return variant


register(
    Task(
        id="x25519-scalar",
        notebook="02-key-exchange",
        func_name="decode_scalar",
        title="decodeScalar25519 (RFC 7748 §5)",
        reference=decode_scalar_ref,
        fixed=_scalar_cases,
        randomized=lambda rng: [Case((_rand_bytes(rng, 32),), f"random {i + 1}", False) for i in range(5)],
        mistakes=[
            Mistake(
                _no_clamp, "the scalar must be clamped: clear the 3 lowest bits, clear bit 255, set bit 254"
            ),
            Mistake(_clamp_big, "X25519 numbers are little-endian: int.from_bytes(..., 'little')"),
            Mistake(
                _clamp_bits(False, True, True),
                "clear the three lowest bits too (k[0] &= 248): the scalar is a multiple of 8",
            ),
            Mistake(_clamp_bits(True, False, True), "clear the top bit, bit 255 (k[31] &= 127)"),
            Mistake(
                _clamp_bits(True, True, False),
                "set bit 254 (k[31] |= 64): every scalar has the same highest bit",
            ),
        ],
        hints=(
            "Three operations on a copy of the bytes, then read them as one number.",
            "RFC 7748 §5, decodeScalar25519.",
            "b = bytearray(k); b[0] &= 248; b[31] &= 127; b[31] |= 64; return int.from_bytes(b, 'little')",
        ),
    )
)


def _ladder_random(rng: random.Random) -> list[Case]:
    return [Case(tuple(rng.randrange(P25519) for _ in range(5)), f"random {i + 1}", False) for i in range(6)]


def _step_unreduced(x1: int, x2: int, z2: int, x3: int, z3: int) -> tuple[int, int, int, int]:
    a, b = x2 + z2, x2 - z2
    aa, bb = a * a, b * b
    e = aa - bb
    c, d = x3 + z3, x3 - z3
    da, cb = d * a, c * b
    return aa * bb, e * (aa + A24 * e), (da + cb) ** 2, x1 * (da - cb) ** 2


def _step_swapped(*args: int) -> tuple[int, int, int, int]:
    x2, z2, x3, z3 = ladder_step_ref(*args)
    return x3, z3, x2, z2


def _step_z3_plus(x1: int, x2: int, z2: int, x3: int, z3: int) -> tuple[int, int, int, int]:
    x2n, z2n, x3n, _ = ladder_step_ref(x1, x2, z2, x3, z3)
    a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
    c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
    return x2n, z2n, x3n, x1 * (d * a + c * b) ** 2 % P25519


register(
    Task(
        id="x25519-ladder-step",
        notebook="02-key-exchange",
        func_name="ladder_step",
        title="one Montgomery ladder step (RFC 7748 §5)",
        reference=lambda *a: ladder_step_ref(*a),
        fixed=lambda: [
            Case((9, 1, 0, 9, 1), "first step from u = 9: (x2, z2, x3, z3) = (1, 0, 9, 1)"),
            Case((9, 9, 1, 1, 0), "the same after a swap"),
        ],
        randomized=_ladder_random,
        mistakes=[
            Mistake(
                lambda *a: ladder_step_ref(*a, a24=121666),
                "a24 is 121665 = (486662 - 2) / 4 in RFC 7748 §5; yours uses 121666",
            ),
            Mistake(
                _step_unreduced, "reduce every result mod p = 2**255 - 19 (the values are field elements)"
            ),
            Mistake(_step_swapped, "return (x2, z2, x3, z3): the doubled point first, then the sum"),
            Mistake(_step_z3_plus, "z3 = x1 * (DA - CB)^2: a minus, where x3 = (DA + CB)^2 has the plus"),
        ],
        hints=(
            "Follow RFC 7748's pseudo-code line by line: A, AA, B, BB, E, C, D, DA, CB, then the four results.",
            "RFC 7748 §5, the loop body after the conditional swap.",
            "A = x2 + z2; AA = A*A % p; B = x2 - z2; ...; return AA*BB % p, E*(AA + a24*E) % p, (DA+CB)**2 % p, x1*(DA-CB)**2 % p",
        ),
    )
)


def _x25519_cases() -> list[Case]:
    return [
        Case(
            (
                bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            ),
            "RFC 7748 §5.2 vector 1",
        ),
        Case(
            (
                bytes.fromhex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                bytes.fromhex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            ),
            "RFC 7748 §5.2 vector 2 (u has its top bit set)",
        ),
        Case(
            (_T["client_ephemeral_x25519_private_key"], _T["server_ephemeral_x25519_public_key"]),
            "RFC 8448 shared secret",
        ),
        Case(
            (_T["client_ephemeral_x25519_private_key"], (9).to_bytes(32, "little")),
            "RFC 8448 client public key (u = 9)",
        ),
    ]


def _x25519_random(rng: random.Random) -> list[Case]:
    return [Case((_rand_bytes(rng, 32), _rand_bytes(rng, 32)), f"random {i + 1}", False) for i in range(3)]


def _x25519_variant(
    clamp: Callable[[bytes], int], mask: bool = True, order: str = "little"
) -> Callable[[bytes, bytes], bytes]:
    def variant(k: bytes, u: bytes) -> bytes:
        uu = bytearray(u)
        if mask:
            uu[31] &= 127
        return _ladder(clamp(k), int.from_bytes(uu, "little") % P25519).to_bytes(32, order)

    return variant


register(
    Task(
        id="x25519",
        notebook="02-key-exchange",
        func_name="x25519",
        title="X25519 (RFC 7748 §5)",
        reference=x25519_ref,
        fixed=_x25519_cases,
        randomized=_x25519_random,
        mistakes=[
            Mistake(
                _x25519_variant(_no_clamp),
                "clamp the scalar first: use your decode_scalar(k), not the raw bytes",
            ),
            Mistake(
                _x25519_variant(decode_scalar_ref, mask=False),
                "decodeUCoordinate masks the top bit of u: u[31] & 127 before reading it",
            ),
            Mistake(
                _x25519_variant(decode_scalar_ref, order="big"),
                "encode the result little-endian: (x).to_bytes(32, 'little')",
            ),
        ],
        hints=(
            "Decode k and u, run 255 ladder steps with conditional swaps, then x2 * z2^(p-2) mod p.",
            "RFC 7748 §5: decodeScalar25519, decodeUCoordinate, the ladder, encodeUCoordinate.",
            "k = decode_scalar(k); x1 = int.from_bytes(u[:31] + bytes([u[31] & 127]), 'little'); loop t = 254..0 { swap; ladder_step; } ...",
        ),
    )
)

# ---------------------------------------------------------------- 03 HMAC and HKDF


def _hmac_ref(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def _hmac_variant(
    block: int = 64, swap_pads: bool = False, hash_long_key: bool = True
) -> Callable[[bytes, bytes], bytes]:
    def variant(key: bytes, message: bytes) -> bytes:
        if len(key) > block and hash_long_key:
            key = hashlib.sha256(key).digest()
        key = key[:block].ljust(block, b"\x00")
        ipad, opad = (0x5C, 0x36) if swap_pads else (0x36, 0x5C)
        inner = hashlib.sha256(bytes(b ^ ipad for b in key) + message).digest()
        return hashlib.sha256(bytes(b ^ opad for b in key) + inner).digest()

    return variant


register(
    Task(
        id="hmac",
        notebook="03-hmac-hkdf",
        func_name="hmac_sha256",
        title="HMAC-SHA256 (RFC 2104)",
        reference=_hmac_ref,
        fixed=lambda: [
            Case((b"\x0b" * 20, b"Hi There"), "RFC 4231 test case 1"),
            Case((b"Jefe", b"what do ya want for nothing?"), "RFC 4231 test case 2"),
            Case(
                (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
                "RFC 4231 test case 6 (131-byte key)",
            ),
        ],
        randomized=lambda rng: [
            Case(
                (
                    _rand_bytes(rng, rng.choice((0, 16, 32, 64, 65, 100, 200))),
                    _rand_bytes(rng, rng.randint(0, 200)),
                ),
                f"random {i + 1}",
                False,
            )
            for i in range(6)
        ],
        mistakes=[
            Mistake(
                _hmac_variant(swap_pads=True),
                "ipad (0x36) goes with the inner hash, opad (0x5c) with the outer one; yours are swapped",
            ),
            Mistake(
                _hmac_variant(block=32),
                "pad the key to the hash's *block* size, 64 bytes for SHA-256, not its 32-byte output size",
            ),
            Mistake(
                _hmac_variant(hash_long_key=False),
                "a key longer than 64 bytes is hashed first: key = sha256(key).digest()",
            ),
            Mistake(
                lambda k, m: hashlib.sha256(k + m).digest(),
                "HMAC is not sha256(key + message): it hashes twice, with the key XORed with ipad and opad",
            ),
            Mistake(
                lambda k, m: hashlib.sha256(
                    bytes(b ^ 0x5C for b in k.ljust(64, b"\0"))
                    + bytes(b ^ 0x36 for b in k.ljust(64, b"\0"))
                    + m
                ).digest(),
                "the outer hash takes the *digest* of the inner hash, not the inner input itself",
            ),
        ],
        hints=(
            "Two nested hashes: H((K ^ opad) || H((K ^ ipad) || message)), K padded to 64 bytes.",
            "RFC 2104 §2 (and RFC 4231 for the test vectors).",
            "K = sha256(key) if longer than 64, then ljust(64, b'\\0'); inner = sha256(xor(K, 0x36) + msg).digest(); return sha256(xor(K, 0x5c) + inner).digest()",
        ),
    )
)

_RFC5869_1 = (
    bytes.fromhex("0b" * 22),
    bytes.fromhex("000102030405060708090a0b0c"),
    bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
)


def _extract_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        h = _hash(i)
        out.append(
            Case(
                (_rand_bytes(rng, rng.choice((0, 13, _hlen(h)))), _rand_bytes(rng, rng.randint(1, 80)), h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-extract",
        notebook="03-hmac-hkdf",
        func_name="hkdf_extract",
        title="HKDF-Extract (RFC 5869 §2.2)",
        reference=keyschedule.hkdf_extract,
        fixed=lambda: [
            Case((_RFC5869_1[1], _RFC5869_1[0], "sha256"), "RFC 5869 A.1"),
            Case((b"", bytes.fromhex("0b" * 22), "sha256"), "RFC 5869 A.3 (no salt)"),
            Case((b"", bytes(32), "sha256"), "RFC 8448 early secret"),
            Case((b"", bytes(48), "sha384"), "early secret for SHA-384 suites"),
        ],
        randomized=_extract_random,
        mistakes=[
            Mistake(
                lambda s, ikm, h="sha256": hmac.digest(ikm, s or bytes(_hlen(h)), h),
                "HKDF-Extract is HMAC(salt, IKM): the salt is the HMAC key; yours swaps them",
            ),
            Mistake(
                lambda s, ikm, h="sha256": hmac.digest(s, ikm, "sha256"),
                lambda s, ikm, h="sha256": (
                    f"use the hash named by hash_name ({h}: {_hlen(h)} bytes); yours always uses SHA-256"
                ),
            ),
            Mistake(
                lambda s, ikm, h="sha256": hashlib.new(h, s + ikm).digest(),
                "Extract is an HMAC keyed with the salt, not a hash of salt + IKM",
            ),
        ],
        hints=(
            "One HMAC call. Which argument is the key?",
            "RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM).",
            "return hmac.digest(salt, ikm, hash_name)",
        ),
    )
)


def _expand_variant(
    start: int = 1,
    chain: bool = True,
    truncate: bool = True,
    info_first: bool = False,
    fixed_hash: str | None = None,
) -> Callable[..., bytes]:
    def variant(prk: bytes, info: bytes, length: int, hash_name: str = "sha256") -> bytes:
        h = fixed_hash or hash_name
        okm, block, counter = b"", b"", start
        while len(okm) < length:
            prev = block if chain else b""
            data = info + prev if info_first else prev + info
            block = hmac.digest(prk, data + bytes([counter]), h)
            okm += block
            counter += 1
        return okm[:length] if truncate else okm

    return variant


def _expand_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        length = rng.choice((12, 16, 42, 48, 100, 130))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, rng.randint(0, 40)), length, h),
                f"random {i + 1} ({h}, {length} bytes)",
                False,
            )
        )
    return out


register(
    Task(
        id="hkdf-expand",
        notebook="03-hmac-hkdf",
        func_name="hkdf_expand",
        title="HKDF-Expand (RFC 5869 §2.3)",
        reference=keyschedule.hkdf_expand,
        fixed=lambda: [
            Case(
                (keyschedule.hkdf_extract(_RFC5869_1[1], _RFC5869_1[0]), _RFC5869_1[2], 42, "sha256"),
                "RFC 5869 A.1 (42 bytes)",
            ),
            Case(
                (keyschedule.hkdf_extract(b"", bytes.fromhex("0b" * 22)), b"", 42, "sha256"),
                "RFC 5869 A.3 (empty info)",
            ),
            Case(
                (
                    _T["server_handshake_traffic_secret"],
                    bytes.fromhex("001009746c733133206b657900"),
                    16,
                    "sha256",
                ),
                "RFC 8448 server handshake key",
            ),
        ],
        randomized=_expand_random,
        mistakes=[
            Mistake(_expand_variant(start=0), "the counter byte starts at 1 (0x01), not 0"),
            Mistake(
                _expand_variant(chain=False),
                "each block feeds the previous one in: T(i) = HMAC(PRK, T(i-1) | info | i)",
            ),
            Mistake(
                _expand_variant(info_first=True),
                "the order inside HMAC is T(i-1), then info, then the counter",
            ),
            Mistake(
                _expand_variant(truncate=False), "cut the output to exactly `length` bytes: okm[:length]"
            ),
            Mistake(
                _expand_variant(fixed_hash="sha256"),
                "use the hash named by hash_name: SHA-384 blocks are 48 bytes",
            ),
        ],
        hints=(
            "Keep computing HMAC blocks until you have `length` bytes; each block depends on the one before.",
            "RFC 5869 §2.3: T(0) = empty, T(i) = HMAC-Hash(PRK, T(i-1) | info | i).",
            "okm, t, i = b'', b'', 1; while len(okm) < length: t = hmac.digest(prk, t + info + bytes([i]), hash_name); okm += t; i += 1; return okm[:length]",
        ),
    )
)

# ---------------------------------------------------------------- 04 key schedule


def _label_variant(
    length_width: int = 2,
    prefix: bytes = b"tls13 ",
    label_prefixed: bool = True,
    context_prefixed: bool = True,
    order: str = "big",
    fixed_hash: str | None = None,
) -> Callable[..., bytes]:
    def variant(secret: bytes, label: bytes, context: bytes, length: int, hash_name: str = "sha256") -> bytes:
        full = prefix + label
        info = length.to_bytes(length_width, order)
        info += (bytes([len(full)]) if label_prefixed else b"") + full
        info += (bytes([len(context)]) if context_prefixed else b"") + context
        return keyschedule.hkdf_expand(secret, info, length, fixed_hash or hash_name)

    return variant


def _hel_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        ctx = _rand_bytes(rng, rng.choice((0, _hlen(h), rng.randint(1, 60))))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), _rand_label(rng), ctx, rng.choice((12, 16, 32, 48)), h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


def _v(name: str) -> bytes:
    return _T[name]


register(
    Task(
        id="hkdf-expand-label",
        notebook="04-key-schedule",
        func_name="hkdf_expand_label",
        title="HKDF-Expand-Label (RFC 8446 §7.1)",
        reference=keyschedule.hkdf_expand_label,
        fixed=lambda: [
            Case(
                (_v("server_handshake_traffic_secret"), b"key", b"", 16, "sha256"),
                "RFC 8448: server handshake key",
            ),
            Case(
                (_v("server_handshake_traffic_secret"), b"iv", b"", 12, "sha256"),
                "RFC 8448: server handshake IV",
            ),
            Case(
                (_v("server_handshake_traffic_secret"), b"finished", b"", 32, "sha256"),
                "RFC 8448: server finished_key",
            ),
        ],
        randomized=_hel_random,
        mistakes=[
            Mistake(
                _label_variant(length_width=1),
                "the HkdfLabel length prefix should be 2 bytes; yours is 1 (HkdfLabel.length is a uint16)",
            ),
            Mistake(
                _label_variant(length_width=4), "the HkdfLabel length field is a uint16, 2 bytes; yours is 4"
            ),
            Mistake(
                _label_variant(order="little"), "write HkdfLabel.length big-endian: 16 is 00 10, not 10 00"
            ),
            Mistake(_label_variant(prefix=b""), 'the label needs the "tls13 " prefix: b"tls13 " + label'),
            Mistake(
                _label_variant(prefix=b"tls13"),
                'the prefix is "tls13 " with a space at the end (6 bytes); yours has no space',
            ),
            Mistake(
                _label_variant(prefix=b"TLS 1.3, "),
                'the prefix is lower-case "tls13 ", not "TLS 1.3, " (that one is for CertificateVerify)',
            ),
            Mistake(
                _label_variant(label_prefixed=False),
                "the label is a vector: one length byte, then b'tls13 ' + label",
            ),
            Mistake(
                _label_variant(context_prefixed=False),
                "the context is a vector too: one length byte, then the context (even when empty: 00)",
            ),
            Mistake(_label_variant(fixed_hash="sha256"), "pass hash_name on to HKDF-Expand (SHA-384 suites)"),
        ],
        hints=(
            "Build the HkdfLabel bytes (the `info`), then call HKDF-Expand with them.",
            "RFC 8446 §7.1: struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel.",
            "full = b'tls13 ' + label; info = length.to_bytes(2, 'big') + bytes([len(full)]) + full + bytes([len(context)]) + context; return hkdf_expand(secret, info, length, hash_name)",
        ),
    )
)


def _ds_variant(
    hash_context: bool = True,
    empty_context: bool = False,
    fixed_len: int | None = None,
    fixed_hash: str | None = None,
) -> Callable[..., bytes]:
    def variant(secret: bytes, label: bytes, messages: bytes, hash_name: str = "sha256") -> bytes:
        h = fixed_hash or hash_name
        ctx = (
            b""
            if empty_context and not messages
            else hashlib.new(h, messages).digest()
            if hash_context
            else messages
        )
        return keyschedule.hkdf_expand_label(secret, label, ctx, fixed_len or _hlen(hash_name), hash_name)

    return variant


def _ds_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        h = _hash(i)
        msgs = b"" if i == 0 else _rand_bytes(rng, rng.randint(1, 200))
        out.append(
            Case((_rand_bytes(rng, _hlen(h)), _rand_label(rng), msgs, h), f"random {i + 1} ({h})", False)
        )
    return out


register(
    Task(
        id="derive-secret",
        notebook="04-key-schedule",
        func_name="derive_secret",
        title="Derive-Secret (RFC 8446 §7.1)",
        reference=keyschedule.derive_secret,
        fixed=lambda: [
            Case(
                (_v("early_secret"), b"derived", b"", "sha256"),
                "RFC 8448: Derive-Secret(early, 'derived', '')",
            ),
            Case(
                (_v("handshake_secret"), b"c hs traffic", _v("client_hello") + _v("server_hello"), "sha256"),
                "RFC 8448: client handshake traffic secret",
            ),
            Case(
                (_v("handshake_secret"), b"s hs traffic", _v("client_hello") + _v("server_hello"), "sha256"),
                "RFC 8448: server handshake traffic secret",
            ),
        ],
        randomized=_ds_random,
        mistakes=[
            Mistake(
                _ds_variant(hash_context=False),
                "the context is Transcript-Hash(Messages), the hash of the messages, not the messages themselves",
            ),
            Mistake(
                _ds_variant(empty_context=True),
                'for empty Messages the context is still a hash: Hash("") (32 bytes e3b0c442...), not b""',
            ),
            Mistake(
                _ds_variant(fixed_len=32),
                "the output length is Hash.length: 48 bytes for SHA-384; yours is always 32",
            ),
            Mistake(
                _ds_variant(fixed_hash="sha256"),
                "hash the messages with hash_name (SHA-384 suites), not always SHA-256",
            ),
        ],
        hints=(
            "Derive-Secret is HKDF-Expand-Label with a hashed context and a fixed length.",
            "RFC 8446 §7.1: Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length).",
            "th = hashlib.new(hash_name, messages).digest(); return hkdf_expand_label(secret, label, th, len(th), hash_name)",
        ),
    )
)


def _suite_for(key_length: int, hash_name: str) -> Any:
    for suite in SUITES.values():
        if suite.key_len == key_length and suite.hash_name == hash_name and "CCM" not in suite.name:
            return suite
    raise ValueError(f"no TLS 1.3 suite with a {key_length}-byte key and {hash_name}")


def _tk_ref(secret: bytes, key_length: int, hash_name: str = "sha256") -> tuple[bytes, bytes]:
    return keyschedule.traffic_keys(secret, _suite_for(key_length, hash_name))


def _tk_variant(
    key_label: bytes = b"key",
    iv_label: bytes = b"iv",
    iv_len: int | None = 12,
    swap: bool = False,
    hashed_ctx: bool = False,
) -> Callable[..., tuple[bytes, bytes]]:
    def variant(secret: bytes, key_length: int, hash_name: str = "sha256") -> tuple[bytes, bytes]:
        ctx = hashlib.new(hash_name).digest() if hashed_ctx else b""
        key = keyschedule.hkdf_expand_label(secret, key_label, ctx, key_length, hash_name)
        iv = keyschedule.hkdf_expand_label(secret, iv_label, ctx, iv_len or key_length, hash_name)
        return (iv, key) if swap else (key, iv)

    return variant


_TK_COMBOS = ((16, "sha256"), (32, "sha384"), (32, "sha256"))


def _tk_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        key_len, h = rng.choice(_TK_COMBOS)
        out.append(
            Case((_rand_bytes(rng, _hlen(h)), key_len, h), f"random {i + 1} ({key_len}-byte key, {h})", False)
        )
    return out


register(
    Task(
        id="traffic-keys",
        notebook="04-key-schedule",
        func_name="traffic_key_iv",
        title="traffic key and IV (RFC 8446 §7.3)",
        reference=_tk_ref,
        fixed=lambda: [
            Case(
                (_v("server_handshake_traffic_secret"), 16, "sha256"), "RFC 8448: server handshake key and IV"
            ),
            Case(
                (_v("client_application_traffic_secret_0"), 16, "sha256"),
                "RFC 8448: client application key and IV",
            ),
        ],
        randomized=_tk_random,
        mistakes=[
            Mistake(
                _tk_variant(iv_len=None),
                "the IV is 12 bytes (iv_length) for every TLS 1.3 AEAD; yours has the key's length",
            ),
            Mistake(_tk_variant(swap=True), "return (key, iv) in that order"),
            Mistake(
                _tk_variant(b"tls13 key", b"tls13 iv"),
                'your hkdf_expand_label adds "tls13 " itself: pass b"key" and b"iv", not b"tls13 key"',
            ),
            Mistake(
                _tk_variant(b"write_key", b"write_iv"),
                'the labels are just "key" and "iv" ([sender]_write_key is only the name of the result)',
            ),
            Mistake(_tk_variant(hashed_ctx=True), 'the context is empty here (""), not Hash("")'),
        ],
        hints=(
            "Two HKDF-Expand-Label calls on the same traffic secret, with different labels and lengths.",
            'RFC 8446 §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length), ..._iv likewise with "iv".',
            "return hkdf_expand_label(secret, b'key', b'', key_length, hash_name), hkdf_expand_label(secret, b'iv', b'', 12, hash_name)",
        ),
    )
)


def _hs_ref(shared_secret: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.KeySchedule(hash_name).set_handshake_secret(shared_secret)


def _hs_variant(
    skip_derived: bool = False, swap: bool = False, empty_ctx: bool = False
) -> Callable[..., bytes]:
    def variant(shared_secret: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = keyschedule.hkdf_extract(bytes(n), bytes(n), hash_name)
        if skip_derived:
            salt = early
        elif empty_ctx:
            salt = keyschedule.hkdf_expand_label(early, b"derived", b"", n, hash_name)
        else:
            salt = keyschedule.derive_secret(early, b"derived", b"", hash_name)
        if swap:
            return keyschedule.hkdf_extract(shared_secret, salt, hash_name)
        return keyschedule.hkdf_extract(salt, shared_secret, hash_name)

    return variant


register(
    Task(
        id="handshake-secret",
        notebook="04-key-schedule",
        func_name="handshake_secret",
        title="the Handshake Secret (RFC 8446 §7.1)",
        reference=_hs_ref,
        fixed=lambda: [
            Case((_v("ecdhe_shared_secret"), "sha256"), "RFC 8448 simple 1-RTT"),
            Case((_HRR["ecdhe_shared_secret"], "sha256"), "RFC 8448 HelloRetryRequest trace"),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, 32), h), f"random {i + 1} ({h})", False)
            for i, h in enumerate(("sha256", "sha384", "sha384", "sha256"))
        ],
        mistakes=[
            Mistake(
                _hs_variant(skip_derived=True),
                'the salt is Derive-Secret(Early Secret, "derived", ""), not the Early Secret itself',
            ),
            Mistake(
                _hs_variant(swap=True),
                "HKDF-Extract(salt, IKM): the salt is the derived secret, the IKM is the (EC)DHE shared secret",
            ),
            Mistake(
                _hs_variant(empty_ctx=True),
                'Derive-Secret hashes its (empty) messages: the context is Hash(""), not b""',
            ),
        ],
        hints=(
            "Three steps: Early Secret, then the 'derived' secret, then one more Extract with the shared secret.",
            "RFC 8446 §7.1, the key schedule diagram (no PSK: the Early Secret's IKM is Hash.length zeros).",
            "early = hkdf_extract(b'', bytes(n)); salt = derive_secret(early, b'derived', b''); return hkdf_extract(salt, shared_secret)",
        ),
    )
)

# ---------------------------------------------------------------- 05 AEAD and records


def _nonce_variant(kind: str) -> Callable[[bytes, int], bytes]:
    def variant(iv: bytes, seq: int) -> bytes:
        n = len(iv)
        if kind == "left":
            pad = seq.to_bytes(8, "big") + bytes(n - 8)
            return bytes(a ^ b for a, b in zip(iv, pad, strict=True))
        if kind == "little":
            return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(n, "little"), strict=True))
        if kind == "gcm":
            return iv[:4] + seq.to_bytes(8, "big")
        if kind == "add":
            return ((int.from_bytes(iv, "big") + seq) % (1 << (8 * n))).to_bytes(n, "big")
        if kind == "plus1":
            return record.per_record_nonce(iv, seq + 1)
        return iv

    return variant


register(
    Task(
        id="per-record-nonce",
        notebook="05-aead-and-records",
        func_name="per_record_nonce",
        title="the per-record nonce (RFC 8446 §5.3)",
        reference=record.per_record_nonce,
        fixed=lambda: [
            Case((_v("server_handshake_write_iv"), 0), "RFC 8448 server handshake IV, record 0"),
            Case((_v("server_application_write_iv"), 1), "RFC 8448 server application IV, record 1"),
            Case((bytes(12), 258), "zero IV, record 258"),
        ],
        randomized=lambda rng: [
            Case(
                (_rand_bytes(rng, 12), rng.choice((rng.randrange(1, 300), rng.randrange(1 << 64)))),
                f"random {i + 1}",
                False,
            )
            for i in range(6)
        ],
        mistakes=[
            Mistake(
                _nonce_variant("left"),
                "XOR the sequence number into the *right* end of the IV: pad it on the left to 12 bytes",
            ),
            Mistake(
                _nonce_variant("little"),
                "the sequence number is big-endian (64 bits, left-padded with zeros)",
            ),
            Mistake(
                _nonce_variant("gcm"),
                "that is a TLS 1.2 GCM nonce (4 IV bytes + explicit counter); TLS 1.3 XORs the sequence number into all 12 IV bytes",
            ),
            Mistake(_nonce_variant("add"), "XOR, do not add: carries change the bytes to the left"),
            Mistake(
                _nonce_variant("plus1"),
                "the first record has sequence number 0: use seq as given, not seq + 1",
            ),
            Mistake(_nonce_variant("iv"), "the nonce changes with every record: XOR the sequence number in"),
        ],
        hints=(
            "Turn seq into as many bytes as the IV, then XOR the two byte strings.",
            "RFC 8446 §5.3: the 64-bit record sequence number, encoded in network byte order and padded to the left with zeros to iv_length, is XORed with the IV.",
            "return (int.from_bytes(iv, 'big') ^ seq).to_bytes(len(iv), 'big')",
        ),
    )
)


def _inner_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        content = _rand_bytes(rng, rng.randint(1, 60))
        if i % 2:
            content += bytes(rng.randint(1, 3))  # content that itself ends in zeros
        ctype = rng.choice((21, 22, 23))
        out.append(
            Case(
                (record.encode_inner_plaintext(ctype, content, rng.choice((0, 0, 1, 7, 40))),),
                f"random {i + 1}",
                False,
            )
        )
    return out


register(
    Task(
        id="inner-plaintext",
        notebook="05-aead-and-records",
        func_name="decode_inner_plaintext",
        title="TLSInnerPlaintext: content type and padding (RFC 8446 §5.2, §5.4)",
        reference=record.decode_inner_plaintext,
        fixed=lambda: [
            Case((b"hello\x17",), "b'hello\\x17' (no padding)"),
            Case((b"hello\x17\x00\x00\x00",), "b'hello\\x17' + 3 zero bytes of padding"),
            Case((b"\x01\x00\x00\x00\x16\x00",), "content with zeros of its own, then type 22 and padding"),
        ],
        randomized=_inner_random,
        mistakes=[
            Mistake(
                lambda p: (p[-1], p[:-1]),
                "strip the zero padding first: the content type is the last *non-zero* byte",
            ),
            Mistake(
                lambda p: (p.rstrip(b"\0")[-1], p.rstrip(b"\0")),
                "the content is everything before the type byte: drop the type byte from it",
            ),
            Mistake(
                lambda p: (p[0], p.rstrip(b"\0")[1:]),
                "the content type comes after the content (the last non-zero byte), not first",
            ),
            Mistake(
                lambda p: (p.replace(b"\0", b"")[-1], p.replace(b"\0", b"")[:-1]),
                "strip zeros only from the end: the content may contain zero bytes of its own",
            ),
            Mistake(
                lambda p: (p.rstrip(b"\0")[-1], p[:-1]),
                "remove the padding from the content as well: content = plaintext.rstrip(b'\\0')[:-1]",
            ),
        ],
        hints=(
            "Walk back from the end over the zero bytes; the first non-zero byte is the type.",
            "RFC 8446 §5.4 (record padding) and the TLSInnerPlaintext struct in §5.2.",
            "stripped = plaintext.rstrip(b'\\x00'); return stripped[-1], stripped[:-1]",
        ),
    )
)


def _decrypt_ref(key: bytes, iv: bytes, seq: int, rec: bytes) -> tuple[int, bytes]:
    plaintext = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], rec[:5])
    return record.decode_inner_plaintext(plaintext)


def _decrypt_variant(kind: str) -> Callable[..., tuple[int, bytes]]:
    def variant(key: bytes, iv: bytes, seq: int, rec: bytes) -> tuple[int, bytes]:
        p = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], rec[:5])
        if kind == "no-strip":
            return p[-1], p[:-1]
        if kind == "keep-type":
            return p.rstrip(b"\0")[-1], p.rstrip(b"\0")
        if kind == "outer-type":
            return rec[0], p.rstrip(b"\0")[:-1]
        return p[-1], p

    return variant


def _encrypt(key: bytes, iv: bytes, seq: int, ctype: int, content: bytes, padding: int) -> bytes:
    inner = record.encode_inner_plaintext(ctype, content, padding)
    header = bytes([23, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    return header + AESGCM(key).encrypt(record.per_record_nonce(iv, seq), inner, header)


def _decrypt_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(5):
        key, iv, seq = _rand_bytes(rng, rng.choice((16, 32))), _rand_bytes(rng, 12), rng.randrange(0, 1000)
        rec = _encrypt(
            key,
            iv,
            seq,
            rng.choice((21, 22, 23)),
            _rand_bytes(rng, rng.randint(1, 80)),
            rng.choice((0, 3, 20)),
        )
        out.append(Case((key, iv, seq, rec), f"random {i + 1}", False))
    return out


register(
    Task(
        id="decrypt-record",
        notebook="05-aead-and-records",
        func_name="decrypt_record",
        title="decrypt a record (RFC 8446 §5.2)",
        reference=_decrypt_ref,
        fixed=lambda: [
            Case(
                (
                    _v("server_handshake_write_key"),
                    _v("server_handshake_write_iv"),
                    0,
                    _v("server_handshake_flight_record"),
                ),
                "RFC 8448: the server's encrypted flight",
            ),
            Case(
                (
                    _v("client_handshake_write_key"),
                    _v("client_handshake_write_iv"),
                    0,
                    _v("client_finished_record"),
                ),
                "RFC 8448: the client Finished",
            ),
            Case(
                (bytes(16), bytes(12), 5, _encrypt(bytes(16), bytes(12), 5, 23, b"GET / HTTP/1.1\r\n", 10)),
                "a padded application_data record, seq 5",
            ),
        ],
        randomized=_decrypt_random,
        mistakes=[
            Mistake(_decrypt_variant("no-strip"), "remove the zero padding before you read the content type"),
            Mistake(
                _decrypt_variant("keep-type"), "the content type byte is not part of the content: drop it"
            ),
            Mistake(
                _decrypt_variant("outer-type"),
                "the outer header always says 23 (application_data); the real type is the last non-zero byte inside",
            ),
            Mistake(
                _decrypt_variant("raw"),
                "return (content type, content) after removing the type byte and the padding",
            ),
        ],
        on_error={
            "InvalidTag": "The AEAD rejected the record: the nonce is per_record_nonce(iv, seq), the additional data is the 5-byte header record[:5], the ciphertext (with its 16-byte tag) is record[5:].",
            "IndexError": "Is the plaintext empty? Check which bytes you decrypt: record[5:].",
        },
        hints=(
            "Split the record into header and ciphertext, decrypt with AESGCM, then undo TLSInnerPlaintext.",
            "RFC 8446 §5.2 (additional_data = the record header) and §5.3 (the nonce).",
            "p = AESGCM(key).decrypt(per_record_nonce(iv, seq), record[5:], record[:5]); s = p.rstrip(b'\\0'); return s[-1], s[:-1]",
        ),
    )
)

# ---------------------------------------------------------------- 06 certificates


def der_length_ref(data: bytes, offset: int) -> tuple[int, int]:
    """The DER length at ``data[offset]`` (X.690 §8.1.3): (length, offset of the contents)."""
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError(f"unsupported DER length form {first:#04x}")
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


def _der_variant(kind: str) -> Callable[[bytes, int], tuple[int, int]]:
    def variant(data: bytes, offset: int) -> tuple[int, int]:
        first = data[offset]
        if kind == "short-only":
            return first, offset + 1
        if kind == "masked":
            return first & 0x7F, offset + 1
        count = first & 0x7F
        if first < 0x80:
            return first, offset + 1
        n = int.from_bytes(data[offset + 1 : offset + 1 + count], "little" if kind == "little" else "big")
        if kind == "little":
            return n, offset + 1 + count
        if kind == "offset-short":
            return n, offset + 1
        if kind == "offset-count":
            return n, offset + count
        return n, offset

    return variant


def _der_header(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(6):
        length = rng.choice(
            (
                rng.randrange(0x80),
                rng.randrange(0x80, 0x100),
                rng.randrange(0x100, 1 << 16),
                rng.randrange(1 << 16, 1 << 24),
            )
        )
        before = _rand_bytes(rng, rng.randint(0, 5))
        out.append(
            Case((before + _der_header(length) + _rand_bytes(rng, 3), len(before)), f"random {i + 1}", False)
        )
    return out


register(
    Task(
        id="der-length",
        notebook="06-certificates",
        func_name="der_length",
        title="DER length octets (X.690 §8.1.3)",
        reference=der_length_ref,
        fixed=lambda: [
            Case((bytes.fromhex("0500"), 1), "NULL: 05 00, length at offset 1"),
            Case((bytes.fromhex("300d06092a"), 1), "short form: 30 0d ..."),
            Case((_v("server_certificate")[11:20], 1), "RFC 8448 server certificate: 30 82 01 ..."),
            Case((bytes.fromhex("048180") + bytes(4), 1), "long form with one length byte: 04 81 80"),
        ],
        randomized=_der_random,
        mistakes=[
            Mistake(
                _der_variant("short-only"),
                "a first length byte >= 0x80 is the long form: its low 7 bits say how many length bytes follow",
            ),
            Mistake(
                _der_variant("masked"),
                "in the long form, first & 0x7f is the *number of length bytes*, not the length",
            ),
            Mistake(_der_variant("little"), "the long-form length bytes are big-endian"),
            Mistake(
                _der_variant("offset-short"),
                "the contents start after the first byte *and* the length bytes: offset + 1 + count",
            ),
            Mistake(
                _der_variant("offset-count"),
                "the contents start at offset + 1 + count (you forgot the first byte)",
            ),
            Mistake(
                _der_variant("offset-same"),
                "return the offset where the contents start, after the length octets",
            ),
        ],
        hints=(
            "Look at the first byte: below 0x80 it is the length; otherwise it says how many bytes hold the length.",
            "ITU-T X.690 §8.1.3 (short and long form; DER always uses the shortest).",
            "first = data[offset]; if first < 0x80: return first, offset + 1; n = first & 0x7f; return int.from_bytes(data[offset+1:offset+1+n], 'big'), offset + 1 + n",
        ),
    )
)

_HOST_CASES = (
    ("example.com", "example.com"),
    ("example.com", "EXAMPLE.com"),
    ("*.example.com", "www.example.com"),
    ("*.example.com", "WWW.Example.COM"),
    ("*.example.com", "example.com"),
    ("*.example.com", "a.b.example.com"),
    ("*.example.com", "www.example.org"),
    ("www.example.com", "example.com"),
    ("f*.example.com", "foo.example.com"),
    ("*.com", "example.com"),
    ("www.*.com", "www.example.com"),
)


def _host_fnmatch(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _host_case_sensitive(pattern: str, name: str) -> bool:
    if pattern != pattern.lower() or name != name.lower():
        return certverify.hostname_matches(pattern, name) and pattern == name
    return certverify.hostname_matches(pattern, name)


def _host_bare(pattern: str, name: str) -> bool:
    if pattern.startswith("*.") and name.lower() == pattern[2:].lower():
        return True
    return certverify.hostname_matches(pattern, name)


def _host_partial(pattern: str, name: str) -> bool:
    first, _, rest = pattern.lower().partition(".")
    nfirst, _, nrest = name.lower().partition(".")
    if "*" in first and first != "*" and rest.count(".") >= 1:
        return rest == nrest and fnmatch.fnmatchcase(nfirst, first)
    return certverify.hostname_matches(pattern, name)


def _host_tld(pattern: str, name: str) -> bool:
    if pattern.startswith("*.") and "." not in pattern[2:]:
        first, _, rest = name.lower().partition(".")
        return bool(first) and rest == pattern[2:].lower()
    return certverify.hostname_matches(pattern, name)


def _host_random(rng: random.Random) -> list[Case]:
    out = []
    for i in range(8):
        base = _rand_host(rng)
        name = rng.choice((base, "w." + base, "a.b." + base, base.upper()))
        pattern = rng.choice((base, "*." + base, "*." + base.upper()))
        out.append(Case((pattern, name), f"random {i + 1}", False))
    return out


register(
    Task(
        id="hostname-match",
        notebook="06-certificates",
        func_name="hostname_matches",
        title="matching a certificate name (RFC 6125 §6.4)",
        reference=certverify.hostname_matches,
        fixed=lambda: [Case(c, f"{c[0]!r} vs {c[1]!r}") for c in _HOST_CASES],
        randomized=_host_random,
        mistakes=[
            Mistake(
                _host_fnmatch,
                "a wildcard stands for exactly one label: '*.example.com' must not match 'a.b.example.com' (fnmatch's * also matches dots)",
            ),
            Mistake(_host_case_sensitive, "DNS names compare case-insensitively: lower() both sides first"),
            Mistake(
                _host_bare,
                "'*.example.com' does not match 'example.com': the wildcard needs one non-empty label",
            ),
            Mistake(
                _host_partial,
                "partial wildcards like 'f*.example.com' match nothing here: only a whole left-most '*' label counts",
            ),
            Mistake(_host_tld, "'*.com' is refused: a wildcard needs at least two labels after it"),
        ],
        hints=(
            "Without '*' it is a case-insensitive comparison; with one, compare label by label.",
            "RFC 6125 §6.4.1 (case) and §6.4.3 (wildcards).",
            "p, n = pattern.lower(), name.lower(); if '*' not in p: return p == n; if not p.startswith('*.') or '*' in p[2:] or p.count('.') < 2: return False; first, _, rest = n.partition('.'); return bool(first) and rest == p[2:]",
        ),
    )
)


def _cvc_ref(transcript_hash: bytes, server: bool = True) -> bytes:
    return signatures.certificate_verify_content(transcript_hash, server=server)


def _cvc_variant(
    spaces: int = 64,
    pad: bytes = b"\x20",
    sep: bytes = b"\x00",
    swap: bool = False,
    prefix: bytes = b"TLS 1.3, ",
) -> Callable[..., bytes]:
    def variant(transcript_hash: bytes, server: bool = True) -> bytes:
        who = b"server" if server != swap else b"client"
        return pad * spaces + prefix + who + b" CertificateVerify" + sep + transcript_hash

    return variant


def _cv_transcript() -> bytes:
    return hashlib.sha256(
        b"".join(
            _T[k] for k in ("client_hello", "server_hello", "encrypted_extensions", "server_certificate")
        )
    ).digest()


register(
    Task(
        id="certificate-verify-content",
        notebook="06-certificates",
        func_name="certificate_verify_content",
        title="what CertificateVerify signs (RFC 8446 §4.4.3)",
        reference=_cvc_ref,
        fixed=lambda: [
            Case((_cv_transcript(), True), "RFC 8448: the server's CertificateVerify"),
            Case((bytes(32), False), "a client's, over 32 zero bytes"),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, rng.choice((32, 48))), rng.random() < 0.5), f"random {i + 1}", False)
            for i in range(4)
        ],
        mistakes=[
            Mistake(
                _cvc_variant(spaces=32), "the content starts with 64 bytes of 0x20 (spaces); yours has 32"
            ),
            Mistake(_cvc_variant(pad=b"\x00"), "the 64 padding bytes are 0x20 (space), not 0x00"),
            Mistake(
                _cvc_variant(sep=b""),
                "a single 0x00 byte separates the context string from the transcript hash",
            ),
            Mistake(
                _cvc_variant(swap=True),
                'server=True gives "TLS 1.3, server CertificateVerify", server=False the client one; yours are swapped',
            ),
            Mistake(
                _cvc_variant(prefix=b"tls13 "),
                'the context string is "TLS 1.3, server CertificateVerify" ("tls13 " is for HKDF labels)',
            ),
        ],
        hints=(
            "Four parts, concatenated: padding, a context string, a separator, the transcript hash.",
            "RFC 8446 §4.4.3 (the 64 octets of 32 example and the context strings).",
            "who = b'server' if server else b'client'; return b'\\x20' * 64 + b'TLS 1.3, ' + who + b' CertificateVerify' + b'\\x00' + transcript_hash",
        ),
    )
)

# ---------------------------------------------------------------- 07 the handshake


def _fin_variant(kind: str) -> Callable[..., bytes]:
    def variant(base_key: bytes, transcript_hash: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        fk = keyschedule.finished_key(base_key, hash_name)
        if kind == "no-finished-key":
            return hmac.digest(base_key, transcript_hash, hash_name)
        if kind == "double-hash":
            return hmac.digest(fk, hashlib.new(hash_name, transcript_hash).digest(), hash_name)
        if kind == "swapped":
            return hmac.digest(transcript_hash, fk, hash_name)
        if kind == "ctx":
            fk = keyschedule.hkdf_expand_label(
                base_key, b"finished", hashlib.new(hash_name).digest(), n, hash_name
            )
        return hmac.digest(fk, transcript_hash, hash_name)

    return variant


def _th(*names: str, t: dict[str, bytes] = _T) -> bytes:
    return hashlib.sha256(b"".join(t[n] for n in names)).digest()


register(
    Task(
        id="finished-verify-data",
        notebook="07-the-handshake",
        func_name="finished_verify_data",
        title="Finished verify_data (RFC 8446 §4.4.4)",
        reference=keyschedule.finished_verify_data,
        fixed=lambda: [
            Case(
                (
                    _v("server_handshake_traffic_secret"),
                    _th(
                        "client_hello",
                        "server_hello",
                        "encrypted_extensions",
                        "server_certificate",
                        "server_certificate_verify",
                    ),
                    "sha256",
                ),
                "RFC 8448: server Finished",
            ),
            Case(
                (
                    _v("client_handshake_traffic_secret"),
                    _th(
                        "client_hello",
                        "server_hello",
                        "encrypted_extensions",
                        "server_certificate",
                        "server_certificate_verify",
                        "server_finished",
                    ),
                    "sha256",
                ),
                "RFC 8448: client Finished",
            ),
        ],
        randomized=lambda rng: [
            Case((_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, _hlen(h)), h), f"random {i + 1} ({h})", False)
            for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
        ],
        mistakes=[
            Mistake(
                _fin_variant("no-finished-key"),
                'key the HMAC with finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length), not with the traffic secret itself',
            ),
            Mistake(
                _fin_variant("double-hash"),
                "transcript_hash is already the hash: HMAC it as it is, do not hash it again",
            ),
            Mistake(_fin_variant("swapped"), "HMAC(finished_key, transcript_hash): the key comes first"),
            Mistake(_fin_variant("ctx"), 'finished_key has an empty context (""), not Hash("")'),
        ],
        hints=(
            "First derive finished_key from the base key, then one HMAC over the transcript hash.",
            'RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length); verify_data = HMAC(finished_key, Transcript-Hash(...)).',
            "fk = hkdf_expand_label(base_key, b'finished', b'', n, hash_name); return hmac.digest(fk, transcript_hash, hash_name)",
        ),
    )
)


def _hrr_ref(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.hrr_message_hash(ch1, hash_name) + hrr + ch2


def _hrr_variant(kind: str) -> Callable[..., bytes]:
    def variant(ch1: bytes, hrr: bytes, ch2: bytes, hash_name: str = "sha256") -> bytes:
        digest = hashlib.new(hash_name, ch1).digest()
        if kind == "raw":
            return ch1 + hrr + ch2
        if kind == "no-header":
            return digest + hrr + ch2
        if kind == "short-header":
            return bytes([254, len(digest)]) + digest + hrr + ch2
        if kind == "body-only":
            return bytes([254, 0, 0, len(digest)]) + hashlib.new(hash_name, ch1[4:]).digest() + hrr + ch2
        if kind == "no-hrr":
            return bytes([254, 0, 0, len(digest)]) + digest + ch2
        return bytes([254, 0, 0, 32]) + hashlib.sha256(ch1).digest() + hrr + ch2

    return variant


def _hrr_random(rng: random.Random) -> list[Case]:
    out = []
    for i, h in enumerate(("sha256", "sha384", "sha384")):
        msgs = [
            bytes([t]) + (n := rng.randint(10, 300)).to_bytes(3, "big") + _rand_bytes(rng, n)
            for t in (1, 2, 1)
        ]
        out.append(Case((*msgs, h), f"random {i + 1} ({h})", False))
    return out


register(
    Task(
        id="hrr-transcript",
        notebook="07-the-handshake",
        func_name="transcript_after_hrr",
        title="the transcript after a HelloRetryRequest (RFC 8446 §4.4.1)",
        reference=_hrr_ref,
        fixed=lambda: [
            Case(
                (_HRR["client_hello_1"], _HRR["hello_retry_request"], _HRR["client_hello_2"], "sha256"),
                "RFC 8448 §5: ClientHello1, HRR, ClientHello2",
            )
        ],
        randomized=_hrr_random,
        mistakes=[
            Mistake(
                _hrr_variant("raw"),
                "ClientHello1 is replaced by a synthetic message_hash message; it does not stay in the transcript as it is",
            ),
            Mistake(
                _hrr_variant("no-header"),
                "message_hash is a handshake message: it needs its 4-byte header 0xfe 00 00 Hash.length before Hash(ClientHello1)",
            ),
            Mistake(
                _hrr_variant("short-header"),
                "the handshake header is 4 bytes: type 254, then a 3-byte length (00 00 20 for SHA-256)",
            ),
            Mistake(
                _hrr_variant("body-only"), "hash the whole ClientHello1, its 4-byte handshake header included"
            ),
            Mistake(
                _hrr_variant("no-hrr"),
                "the HelloRetryRequest itself stays in the transcript, between message_hash and ClientHello2",
            ),
            Mistake(
                _hrr_variant("sha256"),
                "hash ClientHello1 with hash_name (48 bytes for SHA-384), also in the header's length",
            ),
        ],
        hints=(
            "Replace ClientHello1 by a tiny handshake message that carries only its hash; keep the rest as it is.",
            "RFC 8446 §4.4.1: Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) = Hash(message_hash || 00 00 Hash.length || Hash(ClientHello1) || HelloRetryRequest || ... || Mn).",
            "d = hashlib.new(hash_name, client_hello1).digest(); return bytes([254, 0, 0, len(d)]) + d + hello_retry_request + client_hello2",
        ),
    )
)

# ---------------------------------------------------------------- 08 beyond the happy path

_RES = trace("resumed_0rtt")


def _early_secret(psk_: bytes, hash_name: str) -> bytes:
    return keyschedule.hkdf_extract(b"", psk_, hash_name)


def _tpsk_variant(kind: str) -> Callable[..., bytes]:
    def variant(rms: bytes, ticket_nonce: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        if kind == "label":
            return keyschedule.hkdf_expand_label(rms, b"res master", ticket_nonce, n, hash_name)
        if kind == "hashed":
            return keyschedule.derive_secret(rms, b"resumption", ticket_nonce, hash_name)
        if kind == "no-nonce":
            return keyschedule.hkdf_expand_label(rms, b"resumption", b"", n, hash_name)
        if kind == "rms":
            return rms
        return keyschedule.hkdf_expand_label(rms, b"resumption", ticket_nonce, 32, hash_name)

    return variant


def _tpsk_random(rng: random.Random) -> list[Case]:
    return [
        Case(
            (_rand_bytes(rng, _hlen(h)), _rand_bytes(rng, rng.choice((1, 2, 8, 32))), h),
            f"random {i + 1} ({h})",
            False,
        )
        for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
    ]


register(
    Task(
        id="ticket-psk",
        notebook="08-beyond-the-happy-path",
        func_name="ticket_psk",
        title="the PSK a ticket names (RFC 8446 §4.6.1)",
        reference=keyschedule.resumption_psk,
        fixed=lambda: [
            Case(
                (_v("resumption_master_secret"), _v("ticket_nonce"), "sha256"),
                "RFC 8448 §3: the ticket's PSK (nonce 00 00)",
            ),
            Case((_v("resumption_master_secret"), b"\x01", "sha256"), "the same secret, ticket nonce 01"),
        ],
        randomized=_tpsk_random,
        mistakes=[
            Mistake(
                _tpsk_variant("rms"),
                "every ticket gets its own PSK: expand the resumption_master_secret, do not return it",
            ),
            Mistake(
                _tpsk_variant("label"),
                'the label is "resumption" ("res master" is the label that made the resumption_master_secret)',
            ),
            Mistake(
                _tpsk_variant("hashed"),
                "the context is the ticket_nonce itself, not its hash: HKDF-Expand-Label, not Derive-Secret",
            ),
            Mistake(
                _tpsk_variant("no-nonce"),
                "put the ticket_nonce in the context: without it, every ticket of the connection has the same PSK",
            ),
            Mistake(_tpsk_variant("32"), "the PSK is Hash.length bytes: 48 for SHA-384; yours is always 32"),
        ],
        hints=(
            "One HKDF-Expand-Label on the resumption_master_secret; the ticket nonce goes in as the context.",
            'RFC 8446 §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).',
            "n = hashlib.new(hash_name).digest_size; return hkdf_expand_label(resumption_master_secret, b'resumption', ticket_nonce, n, hash_name)",
        ),
    )
)


def _binder_variant(kind: str) -> Callable[..., bytes]:
    def variant(psk_: bytes, truncated_client_hello: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = _early_secret(psk_, hash_name)
        if kind == "salt":
            early = keyschedule.hkdf_extract(psk_, bytes(n), hash_name)
        label = b"ext binder" if kind == "ext" else b"res binder"
        binder_key = keyschedule.derive_secret(early, label, b"", hash_name)
        if kind == "empty-ctx":
            binder_key = keyschedule.hkdf_expand_label(early, label, b"", n, hash_name)
        th = hashlib.new(hash_name, truncated_client_hello).digest()
        if kind == "no-finished-key":
            return hmac.digest(binder_key, th, hash_name)
        if kind == "unhashed":
            return hmac.digest(
                keyschedule.finished_key(binder_key, hash_name), truncated_client_hello, hash_name
            )
        if kind == "psk-key":
            return keyschedule.finished_verify_data(psk_, th, hash_name)
        return keyschedule.finished_verify_data(binder_key, th, hash_name)

    return variant


def _binder_random(rng: random.Random) -> list[Case]:
    out = []
    for i, h in enumerate(("sha256", "sha384", "sha256", "sha384")):
        body = _rand_bytes(rng, rng.randint(60, 400))
        out.append(
            Case(
                (_rand_bytes(rng, _hlen(h)), b"\x01" + len(body).to_bytes(3, "big") + body, h),
                f"random {i + 1} ({h})",
                False,
            )
        )
    return out


register(
    Task(
        id="psk-binder",
        notebook="08-beyond-the-happy-path",
        func_name="psk_binder",
        title="the PSK binder over the truncated ClientHello (RFC 8446 §4.2.11.2)",
        reference=lambda psk_, truncated, hash_name="sha256": psk.compute_binder(psk_, hash_name, truncated),
        fixed=lambda: [
            Case(
                (_RES["psk"], _RES["client_hello_truncated"], "sha256"),
                "RFC 8448 §4: the resumed ClientHello's binder",
            )
        ],
        randomized=_binder_random,
        mistakes=[
            Mistake(
                _binder_variant("ext"),
                'a ticket is a resumption PSK: the label is "res binder" ("ext binder" is for external PSKs)',
            ),
            Mistake(
                _binder_variant("salt"),
                "Early Secret = HKDF-Extract(salt=0, IKM=PSK): the PSK is the IKM, the salt is zeros",
            ),
            Mistake(
                _binder_variant("empty-ctx"),
                'binder_key = Derive-Secret(Early Secret, "res binder", ""): its context is Hash(""), not b""',
            ),
            Mistake(
                _binder_variant("no-finished-key"),
                'the binder is computed like Finished: HMAC with finished_key = HKDF-Expand-Label(binder_key, "finished", "", Hash.length), not with binder_key itself',
            ),
            Mistake(
                _binder_variant("unhashed"),
                "HMAC the transcript *hash*: Transcript-Hash(truncated ClientHello), not the ClientHello bytes",
            ),
            Mistake(
                _binder_variant("psk-key"),
                "the base key is binder_key, derived from the Early Secret, not the PSK itself",
            ),
        ],
        hints=(
            "Early Secret from the PSK, then binder_key, then a Finished-style HMAC over the hash of the truncated ClientHello.",
            'RFC 8446 §4.2.11.2 and §7.1: binder_key = Derive-Secret(HKDF-Extract(0, PSK), "res binder", ""); the binder is computed as Finished (§4.4.4) with BaseKey = binder_key.',
            "early = hkdf_extract(b'', psk); bk = derive_secret(early, b'res binder', b'', hash_name); fk = hkdf_expand_label(bk, b'finished', b'', n, hash_name); return hmac.digest(fk, hashlib.new(hash_name, truncated_client_hello).digest(), hash_name)",
        ),
    )
)


def _cets_ref(psk_: bytes, client_hello: bytes, hash_name: str = "sha256") -> bytes:
    return keyschedule.KeySchedule(hash_name, psk_).client_early_traffic_secret(client_hello)


def _cets_variant(kind: str) -> Callable[..., bytes]:
    def variant(psk_: bytes, client_hello: bytes, hash_name: str = "sha256") -> bytes:
        n = _hlen(hash_name)
        early = _early_secret(psk_, hash_name)
        label = b"c e traffic"
        if kind == "no-psk":
            early = keyschedule.hkdf_extract(b"", bytes(n), hash_name)
        elif kind == "salt":
            early = keyschedule.hkdf_extract(psk_, bytes(n), hash_name)
        elif kind == "derived":
            early = keyschedule.derive_secret(early, b"derived", b"", hash_name)
        elif kind == "exporter":
            label = b"e exp master"
        elif kind == "binder":
            label = b"res binder"
        messages = b"" if kind == "binder" else client_hello
        return keyschedule.derive_secret(early, label, messages, "sha256" if kind == "sha256" else hash_name)

    return variant


register(
    Task(
        id="early-traffic-secret",
        notebook="08-beyond-the-happy-path",
        func_name="client_early_traffic_secret",
        title="client_early_traffic_secret, the key of 0-RTT data (RFC 8446 §7.1)",
        reference=_cets_ref,
        fixed=lambda: [
            Case((_RES["psk"], _RES["client_hello"], "sha256"), "RFC 8448 §4: the 0-RTT ClientHello"),
        ],
        randomized=lambda rng: [
            Case(
                (_rand_bytes(rng, _hlen(h)), b"\x01\x00\x00\x40" + _rand_bytes(rng, 64), h),
                f"random {i + 1} ({h})",
                False,
            )
            for i, h in enumerate(("sha256", "sha384", "sha256", "sha384"))
        ],
        mistakes=[
            Mistake(
                _cets_variant("no-psk"),
                "the Early Secret's IKM is the PSK here; zeros are only for a handshake without a PSK",
            ),
            Mistake(
                _cets_variant("salt"),
                "Early Secret = HKDF-Extract(salt=0, IKM=PSK): the PSK is the IKM, the salt is zeros",
            ),
            Mistake(
                _cets_variant("derived"),
                'derive from the Early Secret itself, not from Derive-Secret(Early Secret, "derived", "") (that one salts the Handshake Secret)',
            ),
            Mistake(
                _cets_variant("exporter"),
                'the label is "c e traffic" ("e exp master" gives the early_exporter_master_secret)',
            ),
            Mistake(
                _cets_variant("binder"),
                'the label is "c e traffic" over the ClientHello; "res binder" over "" gives the binder_key',
            ),
            Mistake(_cets_variant("sha256"), "use hash_name throughout (48-byte secrets for SHA-384 suites)"),
        ],
        hints=(
            "Two steps: the Early Secret from the PSK, then one Derive-Secret over the ClientHello.",
            'RFC 8446 §7.1: Early Secret = HKDF-Extract(0, PSK); client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).',
            "early = hkdf_extract(b'', psk, hash_name); return derive_secret(early, b'c e traffic', client_hello, hash_name)",
        ),
    )
)

# ---------------------------------------------------------------- the capstone: plug the learner's pieces in


class _Record:
    """Counts calls of a learner's function while it stands in for tlslab's."""

    def __init__(self, name: str, func: Callable[..., Any]) -> None:
        self.name, self.func, self.calls = name, func, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.func(*args, **kwargs)


def _nonce_method(learner: Callable[[bytes, int], bytes]) -> Callable[[Any], bytes]:
    def _next_nonce(self: Any) -> bytes:  # RecordProtection._next_nonce, with the learner's nonce
        if self.seq > record.MAX_SEQ:
            raise record.InternalError("record sequence number would wrap past 2^64")
        nonce = learner(self.iv, self.seq)
        self.seq += 1
        return nonce

    return _next_nonce


# name -> (module, attribute) it replaces while plugged in
PLUG_POINTS: dict[str, tuple[Any, str]] = {
    "hkdf_extract": (keyschedule, "hkdf_extract"),
    "hkdf_expand": (keyschedule, "hkdf_expand"),
    "hkdf_expand_label": (keyschedule, "hkdf_expand_label"),
    "derive_secret": (keyschedule, "derive_secret"),
    "finished_verify_data": (client, "finished_verify_data"),
    "certificate_verify_content": (client, "certificate_verify_content"),
    "hostname_matches": (certverify, "hostname_matches"),
    "per_record_nonce": (record.RecordProtection, "_next_nonce"),
}


@contextlib.contextmanager
def learner_functions(**pieces: Callable[..., Any]) -> Iterator[dict[str, _Record]]:
    """Run tlslab with the learner's functions in place of its own, then put tlslab's back.

    A teaching device for the capstone, not an API: it sets module attributes
    (``tlslab.keyschedule.hkdf_expand_label``, ``tlslab.client.finished_verify_data``,
    ``RecordProtection._next_nonce``...) for the duration of the ``with`` block, like pytest's
    monkeypatch, and restores them even when the block fails. Yields ``{name: counter}`` so you
    can see how often tlslab called each of your functions. Names: ``PLUG_POINTS``.
    """
    unknown = set(pieces) - set(PLUG_POINTS)
    if unknown:
        raise KeyError(f"cannot plug in {sorted(unknown)}; choose from {sorted(PLUG_POINTS)}")
    saved = []
    counters = {name: _Record(name, func) for name, func in pieces.items()}
    try:
        for name, counter in counters.items():
            owner, attr = PLUG_POINTS[name]
            saved.append((owner, attr, owner.__dict__[attr]))
            replacement = _nonce_method(counter) if name == "per_record_nonce" else counter
            setattr(owner, attr, replacement)
        yield counters
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


CAPSTONE_PIECES = ("hkdf_expand_label", "derive_secret", "per_record_nonce", "finished_verify_data")
_PIECE_TASK = {
    "hkdf_expand_label": "hkdf-expand-label",
    "derive_secret": "derive-secret",
    "per_record_nonce": "per-record-nonce",
    "finished_verify_data": "finished-verify-data",
}


def fetch_example_com(*, offline: bool | None = None, timeout: float = 10.0) -> tuple[bytes, str]:
    """GET / from example.com (or the offline stand-in) with tlslab's client: (response, where)."""
    from .connection import connect
    from .lab import reach_example_com

    with reach_example_com(offline=offline) as target:
        sock = connect(
            target.host,
            target.port,
            server_hostname=target.server_hostname,
            cafile=target.cafile,
            timeout=timeout,
        )
        with sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
            return sock.recv_all(), target.describe()


def _precheck(pieces: dict[str, Any], graded: bool) -> tuple[str, str]:
    """Each piece against its own task's fixed cases first: a clear message beats a failed handshake."""
    for name in CAPSTONE_PIECES:
        task = TASKS[_PIECE_TASK[name]]
        for case in task.fixed():
            outcome = run_case(task, pieces[name], case, quiet=graded)
            if outcome.status == "stub":
                return "not attempted", f"{name} is still a stub"
            if not outcome.ok:
                return (
                    "failed",
                    f"{name} does not pass yet ({case.label}); run check({task.id!r}, {name}) to see why",
                )
    return "", ""


def _run_capstone(task: Task, namespace: Any, graded: bool) -> Report:
    namespace = namespace if isinstance(namespace, Mapping) else {}
    pieces = {name: namespace.get(name) for name in CAPSTONE_PIECES}
    missing = [n for n, f in pieces.items() if not callable(f)]
    if missing:
        return Report(task, "missing", diagnosis=f"define {', '.join(missing)} in this notebook first")
    status, why = _precheck(pieces, graded)
    if status:
        return Report(task, status, diagnosis=why)
    try:
        with time_limit(task.time_limit), learner_functions(**pieces) as calls:
            page, where = fetch_example_com(offline=True if graded else None)
    except CaseTimeout as exc:
        return Report(task, "timeout", diagnosis=f"the handshake {exc}")
    except Exception as exc:
        return Report(task, "failed", diagnosis=f"the handshake failed: {_one_line(exc)}")
    unused = [n for n, c in calls.items() if c.calls == 0]
    notes = [f"tlslab called your {n} {c.calls} times" for n, c in calls.items()]
    report = Report(task, "passed", notes=[f"talked to {where}", *notes])
    if b"Example Domain" not in page or unused:
        report.status = "failed"
        report.diagnosis = f"not all pieces were used: {unused}" if unused else "the page did not come back"
    else:
        title = (
            page.split(b"<title>")[1].split(b"</title>")[0].decode(errors="replace")
            if b"<title>" in page
            else ""
        )
        report.notes.insert(0, f"fetched the page: <title>{title}</title>, {len(page)} bytes with headers")
    return report


register(
    Task(
        id="capstone",
        notebook="07-the-handshake",
        func_name="capstone",
        title="capstone: your functions complete a real handshake",
        reference=lambda: None,
        fixed=list,
        randomized=lambda rng: [],
        mistakes=[],
        hints=(
            "Each of your four pieces must pass its own check first.",
            "RFC 8446 §7.1 (key schedule), §5.3 (nonces), §4.4.4 (Finished).",
            "Define hkdf_expand_label, derive_secret, per_record_nonce and finished_verify_data in this notebook, then run check('capstone').",
        ),
        points=4,
        time_limit=30.0,
        runner=_run_capstone,
    )
)
