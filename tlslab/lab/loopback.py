"""One threaded accept loop for every server the course and the tests run on loopback.

The stand-in for example.com, the attackers of notebook 09, ``tlslab serve``, the timing
server of notebook 10 and the tests' peers all do the same thing: listen on 127.0.0.1 (or
::1), accept in a thread, give each connection a timeout and hand it to ``handle(sock)``,
keep what went wrong for whoever asks, and stop promptly. ``LoopbackServer`` does that once.

    >>> def echo(sock):
    ...     sock.sendall(sock.recv(100))
    >>> with LoopbackServer(echo) as server:                  # doctest: +SKIP
    ...     client = socket.create_connection((server.host, server.port))
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
ACCEPT_POLL = 0.1  # seconds: how quickly the accept loop notices stop()

Handler = Callable[[socket.socket], None]


class LoopbackServer:
    """Accept on ``host:port`` in a thread and run ``handle(sock)`` for each connection.

    Args:
        handle: called with the connected socket; the socket is closed when it returns. What it
            raises is kept in ``errors`` (a server in a thread has nobody else to tell).
        host, port: where to listen (``::1`` and other IPv6 literals too); port 0 picks a free one.
        timeout: seconds every connection's socket waits for the peer before giving up.
        nodelay: turn off Nagle's algorithm on each connection (TCP_NODELAY), so an answer goes out
            at once instead of waiting for the peer's delayed ACK.
        concurrent: each connection on a thread of its own (the default), or one after another on
            the accept thread.
        name: the threads' name, for a debugger.

    ``connections`` counts accepted connections; ``handled`` counts those ``handle`` finished, and
    ``finished`` is set each time one does.
    """

    def __init__(
        self,
        handle: Handler,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        timeout: float | None = 5.0,
        nodelay: bool = False,
        concurrent: bool = True,
        name: str = "loopback",
    ) -> None:
        self.handle, self.timeout, self.nodelay, self.concurrent = handle, timeout, nodelay, concurrent
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family)
        self._listener.settimeout(ACCEPT_POLL)
        self.host, self.port = self._listener.getsockname()[:2]
        self.connections = 0
        self.handled = 0
        self.errors: list[BaseException] = []
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept_loop, name=f"{name}:{self.port}", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: stop() was called
                return
            self.connections += 1
            if self.concurrent:
                self._workers = [w for w in self._workers if w.is_alive()]
                worker = threading.Thread(target=self._run, args=(sock,), name=self._thread.name, daemon=True)
                self._workers.append(worker)
                worker.start()
            else:
                self._run(sock)

    def _run(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(self.timeout)
            if self.nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.handle(sock)
        except Exception as exc:  # kept for the caller to look at, never silently lost
            self.errors.append(exc)
        finally:
            sock.close()
            self.handled += 1
            self.finished.set()

    def stop(self, wait: float = 0.0) -> None:
        """Stop accepting; wait up to ``wait`` seconds for each connection still being handled."""
        self._stop.set()
        self._listener.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join(timeout=wait)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.host}:{self.port}, {self.connections} connections>"


__all__ = ["LOOPBACK", "Handler", "LoopbackServer"]
