"""Notebook 07's capstone: plug the learner's pieces into tlslab's client for one real handshake.

``learner_functions(...)`` swaps module attributes for the duration of a ``with`` block (see
``core``'s docstring); the ``capstone`` task runs it. Imported after every notebook's module, so
the capstone is registered last and ``TASKS`` keeps its order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tlslab import certverify, client, keyschedule, record
from tlslab.course.checks.core import (
    TASKS,
    CaseTimeout,
    Report,
    Task,
    _one_line,
    register,
    run_case,
    time_limit,
)


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
    from tlslab.connection import connect
    from tlslab.lab import reach_example_com

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
