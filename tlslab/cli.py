"""The ``tlslab`` command: ``tlslab connect HOST`` shows a TLS 1.3 handshake's outcome; ``tlslab serve`` the stand-in.

    $ tlslab connect example.com --get /
    server   the real example.com:443
    version  TLSv1.3
    cipher   TLS_AES_256_GCM_SHA384
    group    x25519
    subject  CN=example.com
    issuer   CN=...
    expires  2026-12-26
    alpn     http/1.1
    status   HTTP/1.1 200 OK

Names are spelled as IANA registers them: groups ``x25519,secp256r1,...``, suites
``TLS_AES_128_GCM_SHA256,...``. Failures print one line ``error: <alert>: <reason>`` and exit 1;
a bad command line exits 2.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterable, Sequence
from enum import IntEnum

from .errors import TLSError
from .keyexchange import ALL_GROUPS
from .lab import SERVER_NAME, StandIn, Target, reach_example_com
from .suites import SUITES

LABEL_WIDTH = 9


class UsageError(Exception):
    """A command-line mistake the parser cannot see (unknown name, --offline with another host)."""


def parse_names(text: str | None, choices: Iterable[IntEnum], what: str) -> list[str] | None:
    """Split a comma-separated LIST and check each name against ``choices`` (case-insensitively).

    Returns the IANA spellings, or None for an absent option. Raises UsageError on an unknown name.
    """
    if text is None:
        return None
    known = {member.name.lower(): member.name for member in choices}
    names = []
    for raw in text.split(","):
        name = raw.strip()
        if name.lower() not in known:
            raise UsageError(f"unknown {what} {name!r} (choose from {', '.join(known.values())})")
        names.append(known[name.lower()])
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tlslab", description="A readable TLS 1.3 client, for learning.")
    commands = parser.add_subparsers(dest="command", required=True)

    connect = commands.add_parser("connect", help="handshake with a server and show what was negotiated")
    connect.add_argument("host", help="server name or address; example.com may be the offline stand-in")
    connect.add_argument("port", nargs="?", type=int, default=None, help="TCP port (default 443)")
    connect.add_argument("--servername", help="SNI and the name to verify (default: HOST)")
    connect.add_argument("--cafile", help="PEM file of trusted roots (default: certifi)")
    connect.add_argument("--alpn", help="comma-separated ALPN protocols, e.g. http/1.1")
    connect.add_argument("--groups", help="comma-separated groups, e.g. x25519,secp256r1")
    connect.add_argument("--ciphers", help="comma-separated suites, e.g. TLS_AES_128_GCM_SHA256")
    connect.add_argument("--keylog", help="append NSS key log lines to FILE (for Wireshark)")
    connect.add_argument("--get", metavar="PATH", help="send GET PATH and print the status line")
    connect.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    connect.add_argument(
        "--offline", action="store_true", help="talk to the offline stand-in for example.com"
    )

    serve = commands.add_parser("serve", help="run the offline stand-in for example.com until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    return parser


def _line(label: str, value: object) -> None:
    print(f"{label:<{LABEL_WIDTH}}{value}")


def resolve_target(args: argparse.Namespace) -> Target:
    """Where to connect: the stand-in or the real example.com for HOST example.com, else HOST:PORT."""
    if args.offline and args.host != SERVER_NAME:
        raise UsageError(
            f"--offline only replaces {SERVER_NAME} (a stand-in for {args.host!r} would prove nothing)"
        )
    if args.host == SERVER_NAME and args.port in (None, 443) and args.servername in (None, SERVER_NAME):
        return reach_example_com(offline=True if args.offline else None)
    port = 443 if args.port is None else args.port
    return Target(args.host, port, args.servername or args.host, args.cafile)


def http_get(sock: object, host: str, path: str, limit: int = 1 << 20) -> bytes:
    """Send a minimal HTTP/1.1 GET and read the answer until the server closes (or ``limit`` bytes)."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: tlslab\r\n\r\n"
    sock.sendall(request.encode("ascii"))  # type: ignore[attr-defined]
    data = b""
    while len(data) < limit:
        chunk = sock.recv(65536)  # type: ignore[attr-defined]
        if not chunk:
            break
        data += chunk
    return data


def print_session(sock: object) -> None:
    """The negotiated parameters and the server certificate, one ``label  value`` line each."""
    _line("version", sock.version())  # type: ignore[attr-defined]
    _line("cipher", sock.cipher()[0])  # type: ignore[attr-defined]
    _line("group", sock.group())  # type: ignore[attr-defined]
    leaf = sock.peer_certificates[0]  # type: ignore[attr-defined]
    _line("subject", leaf.subject.rfc4514_string())
    _line("issuer", leaf.issuer.rfc4514_string())
    _line("expires", leaf.not_valid_after_utc.date().isoformat())
    _line("alpn", sock.selected_alpn_protocol() or "-")  # type: ignore[attr-defined]


def run_connect(args: argparse.Namespace) -> int:
    """``tlslab connect``: handshake, print what was negotiated, optionally GET a path."""
    from .connection import connect

    groups = parse_names(args.groups, ALL_GROUPS, "group")
    suites = parse_names(args.ciphers, SUITES, "cipher suite")
    alpn = [p.strip() for p in args.alpn.split(",") if p.strip()] if args.alpn else None
    with resolve_target(args) as target:
        if args.host == SERVER_NAME:
            _line("server", target.describe())
        cafile = target.cafile if target.is_stand_in else args.cafile
        with connect(
            target.host,
            target.port,
            server_hostname=target.server_hostname,
            cafile=cafile,
            alpn_protocols=alpn,
            groups=groups,
            cipher_suites=suites,
            keylog=args.keylog,
            timeout=args.timeout,
        ) as sock:
            print_session(sock)
            if args.get is not None:
                response = http_get(sock, target.server_hostname, args.get)
                status = response.split(b"\r\n", 1)[0].decode("latin-1")
                _line("status", status or "(no answer)")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """``tlslab serve``: start the stand-in, say how to reach it, serve until Ctrl-C."""
    with StandIn(args.host, args.port) as stand_in:
        print(f"serving  {stand_in.describe()}")
        print(f"port     {stand_in.port}")
        print(f"cafile   {stand_in.cafile}")
        print(
            f"try      tlslab connect {stand_in.host} {stand_in.port} --servername {SERVER_NAME} "
            f"--cafile {stand_in.cafile} --get /"
        )
        print("Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlslab`` console script and ``python -m tlslab``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "connect":
            return run_connect(args)
        return run_serve(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (TLSError, OSError, ValueError) as exc:
        print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
