"""The ``tlslab`` command: ``tlslab connect HOST`` shows a TLS 1.3 handshake's outcome; ``tlslab serve`` the stand-in.

    $ tlslab connect example.com --alpn h2,http/1.1 --get /
    server   the real example.com:443
    version  TLSv1.3
    cipher   TLS_AES_256_GCM_SHA384
    group    x25519
    subject  CN=example.com
    issuer   CN=...
    expires  2026-12-26
    alpn     http/1.1
    status   HTTP/1.1 200 OK

Resumption (RFC 8446 §2.2): ``--sess-out FILE`` saves the newest ticket (JSON, described in
``tlslab/psk.py``; it holds the PSK, so it is written mode 0600), ``--sess-in FILE`` offers it
(an expired ticket is refused) and adds a ``resumed  yes/no`` line. ``--early-data FILE`` sends FILE as 0-RTT if the ticket allows it
(§2.3), else right after the handshake. ``--cert/--key`` answer a CertificateRequest (§4.4.2).

``tlslab serve --cert PEM --key PEM [--client-ca PEM [--client-auth optional|required]] [--early-data]
[--ciphers LIST] [--groups LIST] [--alpn LIST] [--echo] [--host ::1]`` runs the tlslab server
(``tlslab/lab/serve.py``); without ``--cert`` it runs the stand-in for example.com.

Names are spelled as IANA registers them: groups ``x25519,secp256r1,...``, suites
``TLS_AES_128_GCM_SHA256,...``. Failures print one line ``error: <alert>: <reason>`` and exit 1;
a bad command line exits 2.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar

from .constants import parse_names
from .errors import TLSError
from .keyexchange import ALL_GROUPS
from .lab import SERVER_NAME, StandIn, Target, http, reach_example_com
from .suites import SUITES

if TYPE_CHECKING:
    from .events import Ticket
    from .lab.serve import TLSLabServer

LABEL_WIDTH = 9


E = TypeVar("E", bound=IntEnum)


class UsageError(Exception):
    """A command-line mistake the parser cannot see (unknown name, --offline with another host)."""


def _names(text: str | None, choices: Iterable[E], what: str) -> tuple[E, ...] | None:
    """The code points a comma-separated LIST option names, None when absent; UsageError for an unknown name."""
    if text is None:
        return None
    try:
        return parse_names(text, choices, what)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    connect.add_argument("--sess-out", metavar="FILE", help="save the session ticket to FILE (JSON)")
    connect.add_argument("--sess-in", metavar="FILE", help="resume the session saved in FILE")
    connect.add_argument("--early-data", metavar="FILE", help="send FILE's bytes as 0-RTT data")
    connect.add_argument("--cert", metavar="PEM", help="client certificate chain, leaf first")
    connect.add_argument("--key", metavar="PEM", help="private key of the client certificate")
    connect.add_argument("--key-update", action="store_true", help="send KeyUpdate after the handshake")
    connect.add_argument(
        "--offline", action="store_true", help="talk to the offline stand-in for example.com"
    )

    serve = commands.add_parser(
        "serve", help="serve a page with the tlslab server (--cert), or run the stand-in, until Ctrl-C"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve.add_argument("--cert", metavar="PEM", help="certificate chain, leaf first: use the tlslab server")
    serve.add_argument("--key", metavar="PEM", help="private key of --cert")
    serve.add_argument("--client-ca", metavar="PEM", help="ask for client certificates issued under PEM")
    serve.add_argument(
        "--client-auth",
        choices=("optional", "required"),
        help="with --client-ca: refuse clients without a certificate (required, the default) or "
        "go on without one (optional, like openssl s_server -verify)",
    )
    serve.add_argument("--early-data", action="store_true", help="let tickets carry 0-RTT data")
    serve.add_argument("--ciphers", help="comma-separated suites, in preference order")
    serve.add_argument("--groups", help="comma-separated groups, e.g. X25519MLKEM768,x25519")
    serve.add_argument("--alpn", default="http/1.1", help="comma-separated ALPN protocols (default http/1.1)")
    serve.add_argument(
        "--echo", action="store_true", help="no page: send each line back, until the client closes"
    )

    # Listed for --help; main() hands `tlslab lab ...` to JupyterLab and `tlslab grade ...` to
    # tlslab.course.grade, which have their own options.
    commands.add_parser(
        "lab", help="open the course in JupyterLab at notebook 00 (extra options go to jupyter lab)"
    )
    commands.add_parser("grade", help="grade a folder of submitted exercise notebooks (exercises/README.md)")
    return parser


def _line(label: str, value: object) -> None:
    print(f"{label:<{LABEL_WIDTH}}{value}")


def _sleep_until_interrupted() -> None:
    """Block until Ctrl-C (KeyboardInterrupt)."""
    while True:
        time.sleep(3600)


WELCOME = "notebooks/00-welcome.ipynb"
LAB_STOP_WAIT = 20.0  # seconds JupyterLab gets to shut its kernels down and remove its runtime files


def lab_command(root: Path, jupyter_args: Sequence[str] = ()) -> list[str]:
    """``jupyter lab`` rooted at the checkout (so notebooks/ and exercises/ both open), at notebook 00."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{WELCOME}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root, which JupyterLab refuses by default
    return [*command, *jupyter_args]


def run_lab(jupyter_args: Sequence[str]) -> int:
    """Open the course: JupyterLab at the root of this checkout, on notebooks/00-welcome.ipynb.

    Ctrl-C or SIGTERM stop JupyterLab the way it likes to be stopped (SIGTERM: it shuts its kernels
    down and removes its runtime files), then this command ends with one line.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / WELCOME).exists():
        print(
            "error: no notebooks/ beside this tlslab (installed from a wheel?): clone the repository, "
            "or use the Binder or Colab badges in its README",
            file=sys.stderr,
        )
        return 2
    # Its own session: a Ctrl-C at the terminal reaches only us, not JupyterLab's "Shutdown? (y/n)".
    process = subprocess.Popen(lab_command(root, jupyter_args), cwd=root, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=LAB_STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print("stopped JupyterLab", file=sys.stderr)
        return 130


def check_connect_args(args: argparse.Namespace) -> None:
    """The mistakes argparse lets through, each a UsageError naming its option."""
    if args.port is not None and not 1 <= args.port <= 65535:
        raise UsageError(f"port {args.port} is not a TCP port (1 to 65535)")
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout {args.timeout} is not a number of seconds above 0")
    if args.alpn is not None and not all(p.strip() for p in args.alpn.split(",")):
        raise UsageError(f"--alpn {args.alpn!r} has an empty protocol name (leave --alpn out to offer none)")
    if args.get is not None:
        try:
            http.check_path(args.get)
        except ValueError as exc:
            raise UsageError(f"--get: {exc}") from None
    if args.offline and args.cafile:
        raise UsageError("--cafile does not apply with --offline: the stand-in's own CA is trusted")
    if args.offline and args.port not in (None, 443):
        raise UsageError(f"--offline plays {SERVER_NAME}:443; port {args.port} would not be it")


def resolve_target(args: argparse.Namespace) -> Target:
    """Where to connect: the stand-in or the real example.com for HOST example.com, else HOST:PORT."""
    if args.offline and args.host != SERVER_NAME:
        raise UsageError(
            f"--offline only replaces {SERVER_NAME} (a stand-in for {args.host!r} would prove nothing)"
        )
    if args.host == SERVER_NAME and args.port in (None, 443):
        target = reach_example_com(offline=True if args.offline else None)
        if args.servername:  # e.g. --servername wrong.example.net, to watch the name check refuse it
            target.server_hostname = args.servername
        return target
    port = 443 if args.port is None else args.port
    return Target(args.host, port, args.servername or args.host, args.cafile)


def print_session(sock: object, offered_session: bool = False) -> None:
    """The negotiated parameters and the server certificate, one ``label  value`` line each.

    ``resumed yes/no`` is printed when a session was offered (--sess-in), and always when
    the server resumed one.
    """
    _line("version", sock.version())  # type: ignore[attr-defined]
    _line("cipher", sock.cipher()[0])  # type: ignore[attr-defined]
    _line("group", sock.group())  # type: ignore[attr-defined]
    if sock.peer_certificates:  # type: ignore[attr-defined]
        leaf = sock.peer_certificates[0]  # type: ignore[attr-defined]
        _line("subject", leaf.subject.rfc4514_string())
        _line("issuer", leaf.issuer.rfc4514_string())
        _line("expires", leaf.not_valid_after_utc.date().isoformat())
    else:  # RFC 8446 §2.2: in a resumed handshake the PSK, not a certificate, authenticates the server
        _line("subject", "- (resumed: the ticket's PSK authenticated the server)")
    _line("alpn", sock.selected_alpn_protocol() or "-")  # type: ignore[attr-defined]
    if offered_session or sock.session_reused:  # type: ignore[attr-defined]
        _line("resumed", "yes" if sock.session_reused else "no")  # type: ignore[attr-defined]
    accepted = sock.early_data_accepted  # type: ignore[attr-defined]
    if accepted is not None:
        _line("0-rtt", "accepted" if accepted else "rejected (sent again after the handshake)")


def run_connect(args: argparse.Namespace) -> int:
    """``tlslab connect``: handshake, print what was negotiated, optionally GET a path."""
    from .connection import connect

    check_connect_args(args)
    groups = _names(args.groups, ALL_GROUPS, "group")
    suites = _names(args.ciphers, SUITES, "cipher suite")
    alpn = [p.strip() for p in args.alpn.split(",")] if args.alpn is not None else None
    resumption = _resumption_options(args)
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
            **resumption,
        ) as sock:
            print_session(sock, offered_session="session" in resumption)
            if args.key_update:
                sock.key_update(True)  # RFC 8446 §4.6.3: and ask the server to update too
                _line("update", "KeyUpdate sent (update_requested)")
            if args.get is not None:
                sock.sendall(http.request(args.get, target.server_hostname))
                answer = http.read_until(sock, limit=1 << 20)  # to the end: --sess-out reads on after it
                _line("status", http.status_line(answer) or "(no answer)")
            if args.sess_out:
                _save_session(sock, args.sess_out)
    return 0


class _ResumptionOptions(TypedDict, total=False):
    """The ``connect()`` options that --sess-in, --early-data, --cert and --key set."""

    session: Ticket
    early_data: bytes
    cert: str
    key: str


def _resumption_options(args: argparse.Namespace) -> _ResumptionOptions:
    """``connect()`` options from --sess-in, --early-data, --cert and --key."""
    from .psk import load_session

    options: _ResumptionOptions = {}
    if args.sess_in:
        options["session"] = load_session(args.sess_in)  # ValueError for an expired ticket
    if args.early_data:
        with open(args.early_data, "rb") as f:
            options["early_data"] = f.read()
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key go together")
    if args.cert:
        options["cert"] = args.cert
        options["key"] = args.key
    return options


def _save_session(sock: object, path: str) -> None:
    from .psk import save_session

    ticket = sock.session or sock.wait_for_ticket()  # type: ignore[attr-defined]
    if ticket is None:
        _line("session", "no ticket received: nothing saved")
        return
    save_session(ticket, path)
    _line("session", f"saved to {path}")


def run_serve(args: argparse.Namespace) -> int:
    """``tlslab serve``: the tlslab server with --cert, else the stand-in; serve until Ctrl-C."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (0 to 65535; 0 picks a free one)")
    if args.cert or args.key or args.client_ca or args.early_data:
        return run_tlslab_server(args)
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
            _sleep_until_interrupted()
        except KeyboardInterrupt:
            print("stopped")
    return 0


def tlslab_server_from_args(args: argparse.Namespace) -> TLSLabServer:
    """The ``TLSLabServer`` that ``tlslab serve --cert PEM --key PEM ...`` runs (not started)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from .client import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS
    from .lab.serve import TLSLabServer
    from .psk import TicketStore
    from .server import ServerConfig

    if not (args.cert and args.key):
        raise UsageError("the tlslab server needs --cert and --key")
    if args.client_auth and not args.client_ca:
        raise UsageError("--client-auth needs --client-ca (the CA that client certificates must chain to)")
    with open(args.cert, "rb") as f:
        chain = x509.load_pem_x509_certificates(f.read())
    with open(args.key, "rb") as f:
        key = load_pem_private_key(f.read(), password=None)
    if chain[0].public_key() != key.public_key():  # else every client fails on CertificateVerify
        raise UsageError(f"--key {args.key} is not the private key of --cert {args.cert}'s first certificate")
    client_ca = None
    if args.client_ca:
        with open(args.client_ca, "rb") as f:
            client_ca = x509.load_pem_x509_certificates(f.read())
    suites = _names(args.ciphers, SUITES, "cipher suite")
    groups = _names(args.groups, ALL_GROUPS, "group")
    alpn = tuple(p.strip() for p in args.alpn.split(",") if p.strip())

    def make_config(store: object) -> ServerConfig:
        return ServerConfig(
            certificate_chain=chain,
            private_key=key,  # type: ignore[arg-type]
            cipher_suites=suites or DEFAULT_CIPHER_SUITES,
            groups=groups or DEFAULT_GROUPS,
            alpn_protocols=alpn,
            num_tickets=2,
            ticket_store=store,  # type: ignore[arg-type]
            max_early_data_size=16384 if args.early_data else 0,
            client_ca=client_ca,
            client_certificate_required=args.client_auth != "optional",
        )

    make_config(TicketStore())  # a bad combination fails here, as one line, not per connection
    return TLSLabServer(make_config, args.host, args.port, echo=args.echo)


def run_tlslab_server(args: argparse.Namespace) -> int:
    """``tlslab serve --cert PEM --key PEM``: the tlslab server with a small HTTP page."""
    from .lab.serve import ACTION_PATHS

    with tlslab_server_from_args(args) as server:
        host = f"[{server.host}]" if ":" in server.host else server.host
        print(f"serving  tlslab server on {host}:{server.port}", flush=True)
        print(f"port     {server.port}")
        print(f"0-rtt    {'on (16384 bytes per ticket)' if args.early_data else 'off'}")
        if args.client_ca:
            print(f"clients  certificate {args.client_auth or 'required'} (--client-ca)")
        else:
            print("clients  anonymous")
        print(f"mode     {'echo: each line back' if args.echo else 'page; also ' + ' '.join(ACTION_PATHS)}")
        print("Ctrl-C stops it.", flush=True)
        try:
            _sleep_until_interrupted()
        except KeyboardInterrupt:
            print("stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: servers stop, JupyterLab too, temporary keys are deleted


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlslab`` console script and ``python -m tlslab``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] not in (["lab"], ["serve"]) or threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["lab"]:
        return run_lab(argv[1:])
    if argv[:1] == ["grade"]:
        try:
            from .course import grade  # nbclient (with JupyterLab, the [lab] extra) is needed only here
        except ImportError as exc:
            print(f"error: grading needs nbclient ({exc}); pip install 'tlslab[lab]'", file=sys.stderr)
            return 2
        return grade.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "connect":
            return run_connect(args)
        return run_serve(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except (TLSError, OSError, ValueError) as exc:
        print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
