"""Small timing helpers for notebook 10 and ``benchmarks/``: medians, rates, profiles, a server.

Timings on a shared machine are noisy, so every figure is the *median* of a few
repeats, each repeat timing several calls back to back with ``time.perf_counter``
(the same idea as ``timeit``, which takes the minimum instead)::

    >>> median_time(lambda: sum(range(1000)), repeat=5, number=100)   # doctest: +SKIP
    1.2e-05
    >>> throughput(8 * MIB, 0.5)                                       # MiB per second
    16.0

``TimingServer`` is the offline stand-in for example.com (``tlslab.lab.StandIn``)
taught two more things for measuring: it keeps a connection open for more
requests (HTTP/1.1 keep-alive), and ``GET /bytes/N`` answers with N bytes.
``http_get`` is the matching client; it works over ``ssl`` and ``tlslab`` sockets alike.

Nothing here asserts a speed: numbers are for reading, and they vary run to run.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tlslab.constants import CipherSuite, ContentType
from tlslab.lab import http
from tlslab.lab import standin as lab
from tlslab.record import HEADER_LEN, RecordProtection, RecordReader, split_fragments
from tlslab.suites import SUITES, Suite

MIB = 1 << 20
KIB = 1 << 10
MAX_BULK = 256 * MIB  # the largest GET /bytes/N the TimingServer serves
DEFAULT_SUITE = SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]

Clock = Callable[[], float]


# ---------------------------------------------------------------- timing


def sample_times(
    fn: Callable[[], object], repeat: int = 5, number: int = 1, *, clock: Clock = time.perf_counter
) -> list[float]:
    """Seconds per call of ``fn``, one sample per repeat; each sample times ``number`` calls in a row.

    Timing several calls together keeps the clock's own cost and resolution out of
    very short measurements.
    """
    if repeat < 1 or number < 1:
        raise ValueError(f"repeat and number must be at least 1, not {repeat} and {number}")
    samples = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - start) / number)
    return samples


def median_time(
    fn: Callable[[], object],
    repeat: int = 5,
    number: int = 1,
    *,
    warmup: int = 1,
    clock: Clock = time.perf_counter,
) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` samples of ``number`` calls each.

    ``warmup`` untimed calls run first (imports, caches, a first TCP connection).
    The median, unlike the mean, ignores the odd run slowed down by another process.
    """
    for _ in range(warmup):
        fn()
    return statistics.median(sample_times(fn, repeat, number, clock=clock))


def median_times(
    fns: Mapping[str, Callable[[], object]],
    repeat: int = 5,
    number: int = 1,
    *,
    warmup: int = 1,
    clock: Clock = time.perf_counter,
) -> dict[str, float]:
    """``median_time`` for several functions, taking their samples in turn (A, B, A, B, ...).

    Interleaving is fairer than timing A fully and then B: if the machine gets busier
    half-way through, both feel it alike.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name] += sample_times(fn, 1, number, clock=clock)
    return {name: statistics.median(values) for name, values in samples.items()}


def throughput(nbytes: int, seconds: float) -> float:
    """MiB per second for ``nbytes`` moved in ``seconds`` (1 MiB = 2^20 bytes)."""
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, not {seconds}")
    return nbytes / seconds / MIB


def format_seconds(seconds: float) -> str:
    """A duration with three significant digits and a unit people read: ns, µs, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{_three_digits(seconds / scale)} {unit}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def _three_digits(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


# ---------------------------------------------------------------- records


def record_overhead(suite: Suite = DEFAULT_SUITE) -> int:
    """Bytes a protected record adds to its content: 5-byte header, 1 type byte, the AEAD tag (§5.2)."""
    return HEADER_LEN + 1 + suite.tag_len


def record_round_trip(data: bytes, record_size: int, suite: Suite = DEFAULT_SUITE) -> Callable[[], int]:
    """A function that sends ``data`` through record protection and back, as a real pair of peers would.

    Each call encrypts ``data`` in records of ``record_size`` content bytes
    (``tlslab.record.RecordProtection``), cuts the byte stream back into records
    (``RecordReader``) and decrypts them; it returns the bytes that went over the "wire".
    The keys are made once, outside the timed function.
    """
    if not 0 < record_size <= 1 << 14:
        raise ValueError(f"a record carries 1 to 16384 bytes of content, not {record_size}")
    secret = bytes(range(suite.hash_len))  # any fixed secret will do for timing
    writer, reader = RecordProtection(suite, secret), RecordProtection(suite, secret)

    def run() -> int:
        wire = b"".join(
            writer.encrypt(ContentType.application_data, piece)
            for piece in split_fragments(data, record_size)
        )
        incoming = RecordReader()
        incoming.feed(wire)
        received = sum(len(reader.decrypt(record)[1]) for record in incoming)
        if received != len(data):
            raise AssertionError(f"sent {len(data)} bytes, got {received} back")
        return len(wire)

    return run


# ---------------------------------------------------------------- profiles


@dataclass(frozen=True)
class ProfileRow:
    """One function in a profile, averaged per run of the profiled code."""

    function: str
    calls: float  # calls per run
    own: float  # seconds per run spent in the function itself
    cumulative: float  # seconds per run in the function and everything it called


def profile_top(
    fn: Callable[[], object], *, runs: int = 10, top: int = 12, sort: str = "tottime"
) -> list[ProfileRow]:
    """Run ``fn`` ``runs`` times under ``cProfile``; the ``top`` functions by ``sort`` (own time by default).

    Only the calling thread is profiled: time spent waiting for a server shows up as
    the socket ``recv`` that waited, not as the server's own functions.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    stats: dict[Any, tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    index = {"tottime": 2, "cumtime": 3, "ncalls": 1}[sort]
    ranked = sorted(stats.items(), key=lambda item: item[1][index], reverse=True)[:top]
    return [
        ProfileRow(_function_label(key), calls / runs, own / runs, cumulative / runs)
        for key, (_, calls, own, cumulative, _) in ranked
    ]


def _function_label(key: tuple[str, int, str]) -> str:
    """``tlslab/record.py:245 encrypt`` for Python code, ``socket.recv (built-in)`` for code in C or Rust."""
    filename, line, name = key
    if filename == "~":  # built-in functions and methods: "<method 'recv' of '_socket.socket' objects>"
        method = re.fullmatch(r"<method '(\w+)' of '(?:[\w.]*\.)?(\w+)' objects>", name)
        if method:
            return f"{method.group(2)}.{method.group(1)} (built-in)"
        function = re.fullmatch(r"<built-in method ([\w.]+)>", name)
        if function:
            return f"{function.group(1)} (built-in)"
        return re.sub(r" at 0x[0-9a-f]+", "", name)
    where = "/".join(filename.replace(os.sep, "/").split("/")[-2:])  # e.g. tlslab/record.py, x509/...
    return f"{where}:{line} {name}"


def format_profile(rows: list[ProfileRow]) -> str:
    """The rows of ``profile_top`` as a text table: calls, own and cumulative time per run."""
    lines = [f"{'calls':>7} {'own':>9} {'incl.':>9}  function (per run)"]
    for row in rows:
        lines.append(
            f"{row.calls:7.0f} {format_seconds(row.own):>9} {format_seconds(row.cumulative):>9}  {row.function}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- a server and a client to measure with


def bulk_path(nbytes: int) -> str:
    """The path that makes a ``TimingServer`` answer with ``nbytes`` bytes."""
    return f"/bytes/{nbytes}"


def timing_response(path: str, method: str = "GET") -> bytes:
    """The ``TimingServer``'s answer: N zero bytes for ``/bytes/N``, else the stand-in's page (200 or 404).

    Always with Content-Length and ``Connection: keep-alive``, so one connection can carry many requests.
    """
    status, body = "200 OK", lab.PAGE
    if path.startswith("/bytes/") and path[7:].isdigit() and int(path[7:]) <= MAX_BULK:
        body = bytes(int(path[7:]))
    elif path not in ("/", "/index.html"):
        status = "404 Not Found"
    if method not in ("GET", "HEAD"):
        status, body = "405 Method Not Allowed", b"method not allowed\n"
    return http.response(body, status, server="tlslab-timing", keep_alive=True, head_only=method == "HEAD")


class TimingServer(lab.StandIn):
    """The stand-in for example.com (Python ``ssl``, TLS 1.3, 127.0.0.1), with keep-alive and a bulk path.

    Same certificates as ``tlslab.lab.StandIn`` (root -> intermediate -> ECDSA P-256 leaf),
    but each connection answers request after request (no pipelining) until the
    client closes it or asks ``Connection: close``, and ``GET /bytes/N`` returns N bytes.

    ``nodelay`` (the default) turns off Nagle's algorithm on each connection (TCP_NODELAY).
    Without it, a first answer after the handshake waits about 40 ms: the server's session
    tickets went out in small segments that the client does not acknowledge at once (delayed
    ACK), and Nagle holds the answer until they are. ``nodelay=False`` shows the effect.
    """

    def __init__(self, *, nodelay: bool = True, **options: Any) -> None:
        self.nodelay = nodelay
        super().__init__(nodelay=nodelay, **options)

    def _handle(self, raw: socket.socket) -> None:
        with self._context.wrap_socket(raw, server_side=True) as conn:
            while True:
                head = http.read_head(conn)
                method, path = http.parse_request_line(head)
                if not method or http.END_OF_HEAD not in head:
                    break
                conn.sendall(timing_response(path, method))
                if http.wants_close(head):
                    break
            try:
                conn.unwrap()
            except OSError:
                pass

    def describe(self) -> str:
        return f"the stand-in for example.com with keep-alive and /bytes/N, on {self.host}:{self.port}"


class ServerProcess:
    """A ``TimingServer`` in a child process of its own (``python -m tlslab.lab.measure``), as a real server would be.

    A server thread in the client's process competes with the client for Python's
    interpreter lock (the GIL), which slows a Python client like tlslab more than
    ``ssl``, whose handshake runs in C with the lock released. In its own process the
    server costs the client nothing but the wait. It has what clients need (``host``,
    ``port``, ``server_name``, ``cafile``) and ``chain``, the certificates it sends (DER,
    leaf first). ``stop()`` closes the child's stdin, and the child stops.
    """

    server_name = lab.SERVER_NAME

    def __init__(self, *, nodelay: bool = True) -> None:
        command = [sys.executable, "-m", "tlslab.lab.measure"] + ([] if nodelay else ["--no-nodelay"])
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the server process exited with status {self._process.returncode}")
        info = json.loads(line)
        self.host, self.port, self.cafile = info["host"], info["port"], info["cafile"]
        self.chain = [bytes.fromhex(der) for der in info["chain"]]

    def describe(self) -> str:
        return f"the stand-in for example.com in process {self._process.pid}, on {self.host}:{self.port}"

    def stop(self) -> None:
        """Close the child's stdin (it stops and deletes its keys and certificates), and wait for it."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_until_stdin_closes(nodelay: bool = True) -> None:
    """The child's side of ``ServerProcess``: one JSON line saying where the server is, then serve."""
    with TimingServer(nodelay=nodelay) as server:
        chain = [server.pki.leaf.der().hex(), server.pki.intermediate.der().hex()]
        info = {"host": server.host, "port": server.port, "cafile": server.cafile, "chain": chain}
        print(json.dumps(info), flush=True)
        sys.stdin.read()


def http_get(
    sock: Any, path: str = "/", host: str = lab.SERVER_NAME, *, keep_alive: bool = True
) -> tuple[str, int]:
    """Send ``GET path`` over ``sock`` (``ssl`` or ``tlslab``) and read the whole answer.

    Reads the head, then exactly Content-Length bytes of body, so the connection can carry
    the next request. Returns ``(status line, body length)``; the body itself is dropped.
    """
    sock.sendall(http.request(path, host, keep_alive=keep_alive))
    return read_answer(sock)


def read_answer(sock: Any) -> tuple[str, int]:
    """Read one whole HTTP answer from ``sock``: the head, then exactly Content-Length bytes.

    Returns ``(status line, body length)``; the body itself is dropped.
    """
    head, body = http.read_response(sock)
    return http.status_line(head), len(body)


if __name__ == "__main__":
    serve_until_stdin_closes(nodelay="--no-nodelay" not in sys.argv[1:])
