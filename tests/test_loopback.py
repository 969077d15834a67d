"""tlslab.lab.loopback and tlslab.lab.http: the one accept loop and the minimal HTTP/1.1 everything uses."""

from __future__ import annotations

import socket
import threading

import pytest

from tlslab.lab import http
from tlslab.lab.loopback import LoopbackServer


def _echo(sock: socket.socket) -> None:
    sock.sendall(sock.recv(100).upper())


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_each_connection_is_handled_and_counted(host: str) -> None:
    with LoopbackServer(_echo, host) as server:
        for word in (b"one", b"two"):
            with socket.create_connection((server.host, server.port), timeout=5) as client:
                client.sendall(word)
                assert client.recv(100) == word.upper()
        assert server.finished.wait(5)
    assert server.host == host and server.connections == 2 and server.errors == []


def test_what_the_handler_raises_is_kept_and_the_socket_closed() -> None:
    def fail(sock: socket.socket) -> None:
        raise ValueError("handler broke")

    with LoopbackServer(fail) as server:
        with socket.create_connection((server.host, server.port), timeout=5) as client:
            assert client.recv(10) == b""  # closed by the loop after the handler raised
        assert server.finished.wait(5)
    assert [str(e) for e in server.errors] == ["handler broke"]


def test_every_connection_gets_the_timeout_and_nodelay() -> None:
    seen: list[tuple[float | None, int]] = []

    def look(sock: socket.socket) -> None:
        seen.append((sock.gettimeout(), sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))

    for nodelay in (False, True):
        with LoopbackServer(look, timeout=1.5, nodelay=nodelay) as server:
            socket.create_connection((server.host, server.port), timeout=5).close()
            assert server.finished.wait(5)
    assert seen[0] == (1.5, 0) and seen[1][0] == 1.5 and seen[1][1] != 0


def test_one_at_a_time_runs_on_the_accept_thread() -> None:
    threads: list[str] = []
    with LoopbackServer(
        lambda s: threads.append(threading.current_thread().name), concurrent=False
    ) as server:
        for _ in range(2):
            socket.create_connection((server.host, server.port), timeout=5).close()
        while server.handled < 2:
            assert server.finished.wait(5)
            server.finished.clear()
    assert threads == [f"loopback:{server.port}"] * 2


def test_stop_closes_the_listener() -> None:
    server = LoopbackServer(_echo)
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection((server.host, server.port), timeout=1)


def test_request_and_response_bytes() -> None:
    assert http.request("/a?b=1", "example.com") == (
        b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    )
    assert http.request("/", "h", method="HEAD", keep_alive=True).startswith(b"HEAD / HTTP/1.1\r\n")
    assert http.response(b"hi", "404 Not Found", content_type="text/plain", server="x", keep_alive=True) == (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nServer: x\r\n"
        b"Connection: keep-alive\r\n\r\nhi"
    )
    assert http.response(b"hi", head_only=True).endswith(b"Content-Length: 2\r\nConnection: close\r\n\r\n")


@pytest.mark.parametrize("path", ["/é", "no-slash", "/a b", "/\x7f", ""])
def test_a_path_that_cannot_go_in_a_request_line_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        http.request(path)


@pytest.mark.parametrize(
    ("head", "parsed"),
    [
        (b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", ("GET", "/x")),
        (b"POST / HTTP/1.0\r\n\r\n", ("POST", "/")),
        (b"hello\r\n\r\n", ("", "")),
        (b"GET / FTP/1\r\n\r\n", ("", "")),
        (b"", ("", "")),
    ],
)
def test_parse_request_line(head: bytes, parsed: tuple[str, str]) -> None:
    assert http.parse_request_line(head) == parsed


def test_split_response_and_connection_close() -> None:
    status, fields, body = http.split_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A:  b \r\n\r\nabc")
    assert (status, fields, body) == ("HTTP/1.1 200 OK", {"content-length": "3", "x-a": "b"}, b"abc")
    assert http.wants_close(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
    assert not http.wants_close(b"GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n")


class _Chunks:
    """A socket that hands out the given chunks, then end of stream."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def recv(self, size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def test_read_head_stops_at_the_blank_line_or_the_end() -> None:
    assert (
        http.read_head(_Chunks(b"GET / HT", b"TP/1.1\r\n", b"\r\n", b"never read"))
        == b"GET / HTTP/1.1\r\n\r\n"
    )
    assert http.read_head(_Chunks(b"GET / HT")) == b"GET / HT"
    assert len(http.read_head(_Chunks(*[b"x" * 1000] * 40), limit=5000)) == 5000


def test_read_response_reads_exactly_content_length() -> None:
    sock = _Chunks(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", b"cde", b"next answer")
    assert http.read_response(sock) == (b"HTTP/1.1 200 OK\r\nContent-Length: 5", b"abcde")
    assert sock.chunks == [b"next answer"]
    with pytest.raises(ConnectionError, match="middle of an answer"):
        http.read_response(_Chunks(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"))
    with pytest.raises(ValueError, match="no Content-Length"):
        http.read_response(_Chunks(b"HTTP/1.1 200 OK\r\n\r\nab"))
