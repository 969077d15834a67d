"""Just enough HTTP/1.1 (RFC 9112) for the course's servers, clients and tests: one place for it.

A TLS course needs something to carry, and HTTP/1.1 is what example.com speaks. Everything
here is the minimum: a request line and ``Host``, a status line with ``Content-Length``
(so a connection can carry the next request) and ``Connection``, a head read up to its blank
line. No chunked encoding, no pipelining, no header folding: not an HTTP library.

    >>> request("/", "example.com")
    b'GET / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n'
    >>> split_response(response(b"hi", content_type="text/plain"))
    ('HTTP/1.1 200 OK', {'content-type': 'text/plain', 'content-length': '2', 'connection': 'close'}, b'hi')
"""

from __future__ import annotations

from typing import Any

END_OF_HEAD = b"\r\n\r\n"
MAX_HEAD = 16384  # bytes: a request or response head longer than this is not read further
MAX_BODY = 1 << 26  # bytes a reader keeps at most (64 MiB)
RECV_SIZE = 65536


def check_path(path: str) -> str:
    """``path`` if it can go in a request line as it is (RFC 9112 §3.2: ASCII, no spaces), else ValueError."""
    if not path.startswith("/") or not path.isascii() or not path.isprintable() or " " in path:
        raise ValueError(
            f"path {path!r} must start with / and be printable ASCII without spaces (percent-encode the rest)"
        )
    return path


def request(
    path: str = "/", host: str = "example.com", *, method: str = "GET", keep_alive: bool = False
) -> bytes:
    """A request head: ``GET /path HTTP/1.1``, ``Host``, ``Connection: close`` (or ``keep-alive``)."""
    connection = "keep-alive" if keep_alive else "close"
    head = f"{method} {check_path(path)} HTTP/1.1\r\nHost: {host}\r\nConnection: {connection}\r\n\r\n"
    return head.encode("ascii")


def response(
    body: bytes = b"",
    status: str = "200 OK",
    *,
    content_type: str | None = None,
    server: str | None = None,
    keep_alive: bool = False,
    head_only: bool = False,
) -> bytes:
    """A whole answer: status line, ``Content-Length``, ``Connection``; the body unless ``head_only`` (HEAD)."""
    lines = [f"HTTP/1.1 {status}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    if server is not None:
        lines.append(f"Server: {server}")
    lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head if head_only else head + body


def parse_request_line(head: bytes) -> tuple[str, str]:
    """``(method, path)`` from the first line of a request head; ``("", "")`` if it is not one."""
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return "", ""
    return parts[0], parts[1]


def status_line(data: bytes) -> str:
    """The first line of an answer (``HTTP/1.1 200 OK``); "" for no answer."""
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def headers(head: bytes) -> dict[str, str]:
    """The header fields of a head (after its first line), names in lower case."""
    fields = {}
    for line in head.split(END_OF_HEAD, 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    return fields


def split_response(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """``(status line, headers, body)`` of a whole answer."""
    head, _, body = data.partition(END_OF_HEAD)
    return status_line(head), headers(head), body


def wants_close(head: bytes) -> bool:
    """True when a request head says ``Connection: close``."""
    return headers(head).get("connection", "").lower() == "close"


def read_until(sock: Any, marker: bytes | None = None, limit: int = MAX_BODY) -> bytes:
    """Read from a socket (``socket``, ``ssl``, tlslab's, tlslite's) until end of stream or ``marker``.

    Stops early after ``limit`` bytes. Returns all that was read, marker included.
    """
    data = bytearray()
    while len(data) < limit and (marker is None or marker not in data):
        chunk = sock.recv(RECV_SIZE)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_head(sock: Any, limit: int = MAX_HEAD) -> bytes:
    """Read a head up to its blank line (or what came before the stream ended, or ``limit`` bytes)."""
    return read_until(sock, END_OF_HEAD, limit)


def read_response(sock: Any) -> tuple[bytes, bytes]:
    """``(head, body)`` of one answer, reading exactly ``Content-Length`` bytes of body.

    Raises:
        ConnectionError: the server closed the connection in the middle of the answer.
        ValueError: the answer has no ``Content-Length`` (then only the end of the stream ends it).
    """
    data = read_head(sock, MAX_BODY)
    if END_OF_HEAD not in data:
        raise ConnectionError("the server closed the connection in the middle of an answer")
    head, _, body = data.partition(END_OF_HEAD)
    length = headers(head).get("content-length")
    if length is None or not length.isdigit():
        raise ValueError("the answer has no Content-Length")
    rest = bytearray(body)
    while len(rest) < int(length):
        chunk = sock.recv(RECV_SIZE)
        if not chunk:
            raise ConnectionError("the server closed the connection in the middle of an answer")
        rest += chunk
    return head, bytes(rest)


__all__ = [
    "MAX_HEAD",
    "check_path",
    "headers",
    "parse_request_line",
    "read_head",
    "read_response",
    "read_until",
    "request",
    "response",
    "split_response",
    "status_line",
    "wants_close",
]
