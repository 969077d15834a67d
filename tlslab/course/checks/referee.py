"""The referee: which of the learner's functions went wrong first in a live handshake.

While the learner's client runs (or tlslab's client with the learner's pieces in it), every call of
a graded learner function is recorded with its arguments and its result (``Referee.wrap``). After
the handshake, each call is recomputed with that task's reference, in the order the calls
*returned* (so a wrong helper is named before the function that called it), and the first call
whose result differs is reported: the function, the label or message it was given, both values
around the first differing byte, and the RFC section (the task's title).

The other side of the story comes from the server: the stand-in used here is tlslab's own
``ServerConnection`` (``serve_one``), whose alerts carry a reason in plain words ("your Finished
does not verify" is ``decrypt_error: Finished verify_data does not match``).
"""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tlslab.course.checks.core import TASKS, Task, _first_diff_at, _normalize, _one_line, _window, same


@dataclass
class Call:
    """One call of a learner function during the handshake."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any = None
    error: str = ""


def _task_of(func_name: str) -> Task | None:
    return next((t for t in TASKS.values() if t.func_name == func_name and t.runner is None), None)


def describe_args(args: tuple[Any, ...]) -> str:
    """Arguments the way a person reads them: short labels as b"c hs traffic", long bytes as their size."""
    out = []
    for a in args:
        a = _normalize(a)
        if isinstance(a, bytes):
            printable = all(32 <= b < 127 for b in a)
            out.append(repr(a) if (printable and 0 < len(a) <= 40) or len(a) <= 8 else f"<{len(a)} bytes>")
        elif isinstance(a, str | int | bool):
            out.append(repr(a))
        elif isinstance(a, tuple) and len(a) <= 8 and all(isinstance(x, int) for x in a):
            out.append("[" + ", ".join(f"{x:#06x}" if x > 255 else str(x) for x in a) + "]")
        else:
            out.append(f"<{type(a).__name__}>")
    return ", ".join(out)


@dataclass
class Finding:
    call: Call
    task: Task
    expected: Any
    index: int  # the call's number, in the order calls returned

    def text(self) -> str:
        c, t = self.call, self.task
        head = f"the first wrong value: call {self.index + 1} of your functions, {c.name}({describe_args(c.args)})"
        if c.error:
            return f"{head} raised {c.error}, where tlslab's reference returns a value ({t.title})"
        got, exp = _normalize(c.result), _normalize(self.expected)
        if isinstance(got, tuple) and isinstance(exp, tuple) and len(got) == len(exp):
            i = next(i for i, (g, e) in enumerate(zip(got, exp, strict=True)) if not same(g, e))
            got, exp, head = got[i], exp[i], f"{head}, element {i} of the result"
        if isinstance(got, bytes) and isinstance(exp, bytes):
            at = _first_diff_at(got, exp)
            detail = f"differs at byte {at}: yours {_window(got, at)}, tlslab's {_window(exp, at)}"
        else:
            detail = f"gives {got!r:.80}, tlslab's reference {exp!r:.80}"
        return f"{head} {detail} ({t.title})"


@dataclass
class Referee:
    """Records the calls of the learner's functions; ``first_wrong`` recomputes them with the references."""

    calls: list[Call] = field(default_factory=list)
    limit: int = 5000  # calls recorded at most (a runaway loop must not eat the memory)

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            call = Call(name, args, kwargs)
            try:
                call.result = func(*args, **kwargs)
            except Exception as exc:
                call.error = _one_line(exc)
                raise
            finally:
                if len(self.calls) < self.limit:
                    self.calls.append(call)
            return call.result

        recorded.__wrapped__ = func  # type: ignore[attr-defined]
        return recorded

    @contextmanager
    def watching(self, scope: MutableMapping[str, Any], names: list[str]) -> Iterator[Referee]:
        """Put recording wrappers around ``names`` in ``scope`` (the learner's globals) for the block."""
        saved = {n: scope[n] for n in names if callable(scope.get(n))}
        try:
            scope.update({n: self.wrap(n, f) for n, f in saved.items()})
            yield self
        finally:
            scope.update(saved)

    def first_wrong(self) -> Finding | None:
        for index, call in enumerate(self.calls):
            task = _task_of(call.name)
            if task is None:
                continue
            try:
                expected = task.reference(*call.args, **call.kwargs)
            except Exception:  # arguments the reference refuses: a caller's problem, found elsewhere
                continue
            if call.error or not same(call.result, expected):
                return Finding(call, task, expected, index)
        return None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.calls:
            out[c.name] = out.get(c.name, 0) + 1
        return out


def graded_functions(scope: MutableMapping[str, Any]) -> list[str]:
    """The names in ``scope`` that are the learner's own functions for a graded task."""
    names = {t.func_name for t in TASKS.values() if t.runner is None}
    return sorted(
        n
        for n in names
        if callable(scope.get(n)) and getattr(scope[n], "__module__", "") == scope.get("__name__")
    )


# ---------------------------------------------------------------- a stand-in that says why it refused


@dataclass
class Served:
    """What tlslab's server saw on one connection: its error (the alert's reason), if any."""

    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


class ExplainingStandIn:
    """example.com on loopback, served by tlslab's ServerConnection, one connection at a time.

    Same PKI and page as ``tlslab.lab.StandIn``; when it aborts the handshake, ``last_error`` is the
    reason its alert was sent, in words ("decrypt_error: Finished verify_data does not match").
    """

    def __init__(self, timeout: float = 10.0) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding

        from tlslab.lab.standin import mint_pki
        from tlslab.server import ServerConfig

        self._dir = tempfile.TemporaryDirectory(prefix="tlslab-referee-")
        self.pki = mint_pki(self._dir.name)
        self.root = self.pki.root.cert.public_bytes(Encoding.DER)
        self._config: Callable[[], ServerConfig] = lambda: ServerConfig(
            [self.pki.leaf.cert, self.pki.intermediate.cert], self.pki.leaf.key
        )
        from tlslab.lab.loopback import LoopbackServer

        self.timeout = timeout
        self.served: list[Served] = []
        self._server = LoopbackServer(self._serve, timeout=timeout, name="referee")
        self.host, self.port = self._server.host, self._server.port

    @property
    def last_error(self) -> str:
        for s in reversed(self.served):
            s.done.wait(2)
            if s.error:
                return s.error
        return ""

    def _serve(self, sock: socket.socket) -> None:
        from tlslab.errors import TLSError
        from tlslab.events import ApplicationData, ConnectionClosed
        from tlslab.lab import http
        from tlslab.lab.standin import http_response
        from tlslab.server import ServerConnection, State

        served = Served()
        self.served.append(served)
        conn, request = ServerConnection(self._config()), b""
        try:
            with sock:
                while conn.state is not State.CLOSED:
                    data = sock.recv(65536)
                    if not data:
                        break
                    try:
                        events = conn.receive_data(data)
                    finally:
                        sock.sendall(conn.data_to_send())
                    request += b"".join(e.data for e in events if isinstance(e, ApplicationData))
                    if any(isinstance(e, ConnectionClosed) for e in events):
                        break
                    if http.END_OF_HEAD in request:
                        conn.send_application_data(http_response(http.parse_request_line(request)[1]))
                        conn.close()
                        sock.sendall(conn.data_to_send())
                        break
        except (TLSError, OSError) as exc:
            served.error = str(exc) if isinstance(exc, TLSError) else f"{type(exc).__name__}: {exc}"
        finally:
            served.done.set()

    def describe(self) -> str:
        return f"the offline stand-in for example.com on {self.host}:{self.port}, served by tlslab's server"

    def stop(self) -> None:
        self._server.stop()
        self._dir.cleanup()

    def __enter__(self) -> ExplainingStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
