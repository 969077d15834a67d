"""tlslab.lab.measure: the arithmetic of the timing helpers (with a fake clock), and the timing server.

No test here asserts a speed: a clock that we move by hand gives exact answers,
and the server is checked for what it answers, not how fast.
"""

from __future__ import annotations

import os
import socket
import ssl

import pytest

import tlslab
from tlslab.constants import CipherSuite
from tlslab.lab import measure
from tlslab.lab.http import split_response
from tlslab.lab.measure import (
    MIB,
    ProfileRow,
    ServerProcess,
    TimingServer,
    bulk_path,
    format_profile,
    format_seconds,
    http_get,
    median_time,
    median_times,
    profile_top,
    record_overhead,
    record_round_trip,
    sample_times,
    throughput,
    timing_response,
)
from tlslab.suites import SUITES


class FakeClock:
    """A clock that only moves when a timed function says how long it "took"."""

    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def costing(self, *seconds: float):
        """A function whose n-th call advances the clock by seconds[n] (cycling)."""
        calls = []

        def fn() -> None:
            self.now += seconds[len(calls) % len(seconds)]
            calls.append(None)

        fn.calls = calls  # type: ignore[attr-defined]
        return fn


# ---------------------------------------------------------------- timing arithmetic


def test_sample_times_divides_each_sample_by_number():
    clock = FakeClock()
    fn = clock.costing(0.001, 0.003)  # two calls per sample: 4 ms, so 2 ms per call
    assert sample_times(fn, repeat=3, number=2, clock=clock) == pytest.approx([0.002, 0.002, 0.002])
    assert len(fn.calls) == 6
    assert clock.reads == 6  # one start and one stop per sample, none per call


def test_median_time_is_the_median_and_warmup_is_not_timed():
    clock = FakeClock()
    # the warm-up call costs 10 s and must not count; then samples of 1, 5, 2, 9, 3 ms
    fn = clock.costing(10.0, 0.001, 0.005, 0.002, 0.009, 0.003)
    assert median_time(fn, repeat=5, warmup=1, clock=clock) == pytest.approx(0.003)
    assert len(fn.calls) == 6


def test_median_time_of_an_even_number_of_samples_averages_the_middle_two():
    clock = FakeClock()
    fn = clock.costing(0.001, 0.002, 0.004, 0.100)
    assert median_time(fn, repeat=4, warmup=0, clock=clock) == pytest.approx(0.003)


def test_median_times_interleaves_the_samples():
    clock = FakeClock()
    order: list[str] = []

    def costing(name: str, *seconds: float):
        step = clock.costing(*seconds)

        def fn() -> None:
            order.append(name)
            step()

        return fn

    fns = {"a": costing("a", 0.5, 0.001, 0.002, 0.003), "b": costing("b", 0.5, 0.010, 0.030, 0.020)}
    assert median_times(fns, repeat=3, clock=clock) == pytest.approx({"a": 0.002, "b": 0.020})
    assert order == ["a", "b"] + ["a", "b"] * 3  # warm-ups first, then one sample of each in turn


@pytest.mark.parametrize(("repeat", "number"), [(0, 1), (1, 0), (-1, 5)])
def test_sample_times_refuses_no_samples(repeat, number):
    with pytest.raises(ValueError, match="at least 1"):
        sample_times(lambda: None, repeat=repeat, number=number)


def test_median_time_with_the_real_clock_returns_a_duration():
    assert median_time(lambda: sum(range(100)), repeat=3, number=10) > 0


def test_throughput_is_mib_per_second():
    assert throughput(8 * MIB, 0.5) == 16.0
    assert throughput(3 * 1024, 1.0) == pytest.approx(3 / 1024)
    with pytest.raises(ValueError, match="positive"):
        throughput(MIB, 0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2.5, "2.50 s"),
        (123.4, "123 s"),
        (0.0123, "12.3 ms"),
        (0.001, "1.00 ms"),
        (0.000812, "812 µs"),
        (4.2e-6, "4.20 µs"),
        (5e-9, "5.00 ns"),
    ],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


# ---------------------------------------------------------------- records


def test_record_overhead_is_header_type_byte_and_tag():
    assert record_overhead() == 5 + 1 + 16
    assert record_overhead(SUITES[CipherSuite.TLS_AES_128_CCM_8_SHA256]) == 5 + 1 + 8


@pytest.mark.parametrize("suite", list(SUITES.values()), ids=lambda s: s.name)
def test_record_round_trip_counts_the_bytes_on_the_wire(suite):
    data = bytes(range(256)) * 160  # 40960 bytes: records of 16384, 16384, 8192
    run = record_round_trip(data, 16384, suite)
    assert run() == len(data) + 3 * record_overhead(suite)
    assert run() == len(data) + 3 * record_overhead(suite)  # sequence numbers stay in step
    assert record_round_trip(data, 1000, suite)() == len(data) + 41 * record_overhead(suite)


@pytest.mark.parametrize("size", [0, 16385])
def test_record_round_trip_refuses_impossible_record_sizes(size):
    with pytest.raises(ValueError, match="1 to 16384"):
        record_round_trip(b"x", size)


# ---------------------------------------------------------------- profiles


def _leaf() -> int:
    return sum(range(50))


def _three_leaves() -> None:
    for _ in range(3):
        _leaf()


def test_profile_top_counts_calls_per_run():
    rows = profile_top(_three_leaves, runs=4, top=50, sort="ncalls")
    by_name = {
        row.function.split(" ", 1)[1]: row
        for row in rows
        if row.function.startswith("tests/test_measure.py:")
    }
    assert by_name["_leaf"].calls == 3
    assert by_name["_three_leaves"].calls == 1
    assert by_name["_three_leaves"].cumulative >= by_name["_three_leaves"].own
    assert all(isinstance(row, ProfileRow) for row in rows)


def test_profile_top_sorts_and_keeps_top():
    rows = profile_top(_three_leaves, runs=2, top=2, sort="ncalls")
    assert len(rows) == 2
    assert rows[0].calls >= rows[1].calls
    with pytest.raises(KeyError):
        profile_top(_three_leaves, sort="nonsense")


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (("~", 0, "<method 'recv' of '_socket.socket' objects>"), "socket.recv (built-in)"),
        (
            (
                "~",
                0,
                "<method 'verify' of 'cryptography.hazmat.bindings._rust.openssl.ec.ECPublicKey' objects>",
            ),
            "ECPublicKey.verify (built-in)",
        ),
        (("~", 0, "<built-in method _hashlib.hmac_digest>"), "_hashlib.hmac_digest (built-in)"),
        (("~", 0, "<function socket.close at 0x7f2c149d8cc0>"), "<function socket.close>"),
        (("/x/site-packages/tlslab/record.py", 245, "encrypt"), "tlslab/record.py:245 encrypt"),
        (
            ("/usr/lib/python3.11/socket.py", 828, "create_connection"),
            "python3.11/socket.py:828 create_connection",
        ),
        (("/x/cryptography/x509/extensions.py", 9, "__init__"), "x509/extensions.py:9 __init__"),
        (("<string>", 1, "<module>"), "<string>:1 <module>"),
    ],
)
def test_function_labels_are_short(key, label):
    assert measure._function_label(key) == label


def test_format_profile_has_a_header_and_one_line_per_row():
    rows = [
        ProfileRow("socket.recv (built-in)", 1.0, 0.0011, 0.0011),
        ProfileRow("f.py:1 g", 20.0, 4e-6, 9e-6),
    ]
    lines = format_profile(rows).splitlines()
    assert lines[0].split() == ["calls", "own", "incl.", "function", "(per", "run)"]
    assert lines[1].split() == ["1", "1.10", "ms", "1.10", "ms", "socket.recv", "(built-in)"]
    assert lines[2].split() == ["20", "4.00", "µs", "9.00", "µs", "f.py:1", "g"]


# ---------------------------------------------------------------- the timing server


def test_timing_response_bulk_page_and_errors():
    status, headers, body = split_response(timing_response(bulk_path(1000)))
    assert (status, headers["content-length"], headers["connection"]) == (
        "HTTP/1.1 200 OK",
        "1000",
        "keep-alive",
    )
    assert body == bytes(1000)
    status, headers, body = split_response(timing_response("/"))
    assert (
        status == "HTTP/1.1 200 OK"
        and b"Example Domain" in body
        and int(headers["content-length"]) == len(body)
    )
    assert split_response(timing_response("/nowhere"))[0] == "HTTP/1.1 404 Not Found"
    assert split_response(timing_response(bulk_path(measure.MAX_BULK + 1)))[0] == "HTTP/1.1 404 Not Found"
    assert split_response(timing_response("/bytes/12x"))[0] == "HTTP/1.1 404 Not Found"
    assert split_response(timing_response("/", "POST"))[0] == "HTTP/1.1 405 Method Not Allowed"
    status, headers, body = split_response(timing_response(bulk_path(10), "HEAD"))
    assert headers["content-length"] == "10" and body == b""


@pytest.fixture(scope="module")
def server():
    with TimingServer() as running:
        yield running


def _ssl_socket(server: TimingServer) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=server.cafile)
    raw = socket.create_connection((server.host, server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server.server_name)


def test_one_ssl_connection_carries_many_requests(server):
    before = server.connections
    with _ssl_socket(server) as tls:
        assert tls.version() == "TLSv1.3"
        answers = [http_get(tls, path) for path in ("/", bulk_path(100_000), "/missing", "/")]
    assert [status for status, _ in answers] == [
        "HTTP/1.1 200 OK",
        "HTTP/1.1 200 OK",
        "HTTP/1.1 404 Not Found",
    ] + ["HTTP/1.1 200 OK"]
    assert answers[1][1] == 100_000
    assert answers[0][1] == answers[3][1] > 0
    assert server.connections == before + 1


def test_tlslab_reads_a_bulk_answer_and_keeps_the_connection(server):
    with tlslab.connect(
        server.host, server.port, server_hostname=server.server_name, cafile=server.cafile
    ) as tls:
        assert http_get(tls, bulk_path(3 * MIB + 7)) == ("HTTP/1.1 200 OK", 3 * MIB + 7)
        assert http_get(tls, "/")[0] == "HTTP/1.1 200 OK"


def test_connection_close_ends_the_connection(server):
    with _ssl_socket(server) as tls:
        assert http_get(tls, "/", keep_alive=False)[0] == "HTTP/1.1 200 OK"
        assert tls.recv(100) == b""  # close_notify after the answer


def test_http_get_says_when_the_server_hangs_up():
    class Closed:
        def sendall(self, data: bytes) -> None:
            pass

        def recv(self, size: int) -> bytes:
            return b""

    with pytest.raises(ConnectionError, match="closed"):
        http_get(Closed())


def test_http_get_needs_a_content_length():
    class NoLength:
        def sendall(self, data: bytes) -> None:
            pass

        def recv(self, size: int) -> bytes:
            return b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody"

    with pytest.raises(ValueError, match="Content-Length"):
        http_get(NoLength())


def test_describe_says_what_the_server_is(server):
    assert server.describe().endswith(f"{server.host}:{server.port}")
    assert "keep-alive" in server.describe()


def test_timing_server_turns_nagle_off_unless_asked():
    with TimingServer() as default, TimingServer(nodelay=False) as nagle:
        assert default.nodelay is True and nagle.nodelay is False
        for server in (default, nagle):
            with _ssl_socket(server) as tls:
                assert http_get(tls, "/")[0] == "HTTP/1.1 200 OK"


@pytest.mark.parametrize("nodelay", [True, False])
def test_server_process_serves_from_a_child_and_stops(nodelay):
    from tlslab.certverify import verify_server_chain

    with ServerProcess(nodelay=nodelay) as server:
        assert server._process.pid != os.getpid() and server._process.poll() is None
        assert server.host == "127.0.0.1" and server.server_name == "example.com"
        assert f"process {server._process.pid}" in server.describe()
        path = verify_server_chain(server.chain, "example.com", cafile=server.cafile)
        assert [c.subject.rfc4514_string() for c in path][0] == "CN=example.com" and len(path) == 3
        with _ssl_socket(server) as tls:
            assert tls.getpeercert(binary_form=True) == server.chain[0]
            assert http_get(tls, bulk_path(1000)) == ("HTTP/1.1 200 OK", 1000)
        with tlslab.connect(
            server.host, server.port, server_hostname=server.server_name, cafile=server.cafile
        ) as tls:
            assert http_get(tls, "/")[0] == "HTTP/1.1 200 OK"
    assert server._process.returncode == 0
    assert not os.path.exists(server.cafile)  # the child cleaned up its keys and certificates
