"""The ``tlslab`` command line: ``connect`` against the stand-in and s_server, errors, ``serve``.

TLSLAB_OFFLINE=1 (conftest.py) makes ``tlslab connect example.com`` use the stand-in.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from support.children import default_sigint, killed_at_exit
from support.peers import openssl_server, read_keylog

from tlslab.cli import main
from tlslab.lab import StandIn
from tlslab.lab.http import read_until

SUITE_NAMES = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, str], str]:
    """Run ``tlslab ARGV`` in-process; return the exit status, the ``label  value`` lines, stderr."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    lines = {}
    for line in out.splitlines():
        label, _, value = line.partition(" ")
        lines[label] = value.strip()
    return status, lines, err


def test_connect_example_com_offline(capsys) -> None:
    status, lines, err = run(capsys, "connect", "example.com", "--get", "/")
    assert (status, err) == (0, "")
    assert list(lines) == [
        "server",
        "version",
        "cipher",
        "group",
        "subject",
        "issuer",
        "expires",
        "alpn",
        "status",
    ]
    assert re.fullmatch(
        r"the offline stand-in for example\.com on 127\.0\.0\.1:\d+ \(CA minted just now\)", lines["server"]
    )
    assert lines["version"] == "TLSv1.3"
    assert lines["cipher"] in SUITE_NAMES
    assert lines["group"] == "x25519"
    assert lines["subject"] == "CN=example.com"
    assert lines["issuer"] == "CN=tlslab Stand-in Intermediate CA"
    assert date.fromisoformat(lines["expires"]) > date.today()
    assert lines["alpn"] == "-"
    assert lines["status"] == "HTTP/1.1 200 OK"


def test_connect_with_choices(capsys) -> None:
    status, lines, err = run(
        capsys,
        "connect",
        "example.com",
        "--offline",
        "--alpn",
        "h2,http/1.1",
        "--groups",
        "secp384r1",
        "--ciphers",
        "TLS_CHACHA20_POLY1305_SHA256",
        "--get",
        "/missing",
    )
    assert (status, err) == (0, "")
    assert lines["group"] == "secp384r1"
    assert lines["cipher"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert lines["alpn"] == "http/1.1"
    assert lines["status"] == "HTTP/1.1 404 Not Found"


def test_names_are_case_insensitive(capsys) -> None:
    status, lines, _ = run(
        capsys, "connect", "example.com", "--groups", "SECP256R1", "--ciphers", "tls_aes_128_gcm_sha256"
    )
    assert status == 0
    assert (lines["group"], lines["cipher"]) == ("secp256r1", "TLS_AES_128_GCM_SHA256")


def test_connect_any_host_and_port(capsys, pki, tmp_path: Path) -> None:
    """Not example.com: no 'server' line; s_server answers with the suite we forced."""
    leaf = pki.leaves["ed25519"]
    with openssl_server(
        tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, ciphersuites="TLS_CHACHA20_POLY1305_SHA256"
    ) as server:
        status, lines, err = run(
            capsys,
            "connect",
            "127.0.0.1",
            str(server.port),
            "--servername",
            "localhost",
            "--cafile",
            str(pki.cafile),
        )
    assert (status, err) == (0, "")
    assert "server" not in lines
    assert lines["cipher"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert lines["subject"] == "CN=localhost"
    assert lines["issuer"] == "CN=tlslab Test Intermediate CA"


def test_keylog(capsys, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    status, _, _ = run(capsys, "connect", "example.com", "--keylog", str(keylog))
    assert status == 0
    labels = {line.split()[0] for line in read_keylog(keylog)}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} <= labels


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--groups", "x25519,foo"], "error: unknown group 'foo' (choose from x25519, secp256r1, "),
        (
            ["--ciphers", "TLS_RSA_WITH_RC4_128_MD5"],
            "error: unknown cipher suite 'TLS_RSA_WITH_RC4_128_MD5' (",
        ),
    ],
)
def test_unknown_names_exit_2(capsys, argv: list[str], message: str) -> None:
    status, lines, err = run(capsys, "connect", "example.com", *argv)
    assert status == 2
    assert lines == {}
    assert err.startswith(message) and err.count("\n") == 1


def test_offline_needs_example_com(capsys) -> None:
    status, _, err = run(capsys, "connect", "localhost", "443", "--offline")
    assert status == 2
    assert err.startswith("error: --offline only replaces example.com")


def test_refused_connection_is_one_line(capsys) -> None:
    with socket.socket() as s:  # a port that nobody listens on: bind it, do not listen
        s.bind(("127.0.0.1", 0))
        status, lines, err = run(capsys, "connect", "127.0.0.1", str(s.getsockname()[1]), "--timeout", "2")
    assert status == 1
    assert lines == {}
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "refused" in err.lower()


def test_untrusted_certificate_is_an_alert(capsys) -> None:
    with StandIn() as server:  # no --cafile: the stand-in's root is not among certifi's
        status, _, err = run(capsys, "connect", "127.0.0.1", str(server.port), "--servername", "example.com")
    assert status == 1
    assert err.startswith("error: unknown_ca: ") and err.count("\n") == 1


def test_wrong_name_is_an_alert(capsys) -> None:
    with StandIn() as server:
        args = [
            "connect",
            "127.0.0.1",
            str(server.port),
            "--servername",
            "example.org",
            "--cafile",
            server.cafile,
        ]
        status, _, err = run(capsys, *args)
    assert status == 1
    assert err.startswith("error: bad_certificate: ") and "example.org" in err


def test_offline_stand_in_with_another_name_is_refused(capsys) -> None:
    status, out, err = run(capsys, "connect", "example.com", "--offline", "--servername", "wrong.example.net")
    assert status == 1
    assert out["server"].startswith("the offline stand-in for example.com")
    assert (
        err
        == "error: bad_certificate: certificate for example.com, www.example.com does not match wrong.example.net\n"
    )


def test_suite_the_server_refuses_is_one_line(capsys) -> None:
    """Python's ssl server does not enable the CCM suites: the server answers with an alert."""
    status, _, err = run(capsys, "connect", "example.com", "--ciphers", "TLS_AES_128_CCM_8_SHA256")
    assert status == 1
    assert err == "error: peer sent alert handshake_failure\n"


# --- as a process: python -m tlslab, the console script, tlslab serve --------------------------------


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tlslab", "connect", "example.com", "--offline", "--get", "/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "status   HTTP/1.1 200 OK" in done.stdout.splitlines()


def test_console_script_failure_has_no_traceback() -> None:
    script = shutil.which("tlslab")
    if script is None:
        pytest.skip("tlslab console script not installed")
    done = subprocess.run(
        [script, "connect", "example.com", "--ciphers", "nope"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown cipher suite 'nope'")
    assert "Traceback" not in done.stderr


def test_serve_until_ctrl_c() -> None:
    with killed_at_exit(
        subprocess.Popen(
            [sys.executable, "-u", "-m", "tlslab", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=default_sigint,
        )
    ) as process:
        lines = {}
        deadline = time.monotonic() + 30
        while "cafile" not in lines and time.monotonic() < deadline:
            label, _, value = process.stdout.readline().partition(" ")
            lines[label] = value.strip()
        port, cafile = int(lines["port"]), lines["cafile"]
        context = ssl.create_default_context(cafile=cafile)
        with context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="example.com"
        ) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
            assert read_until(sock).startswith(b"HTTP/1.1 200 OK")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert not Path(cafile).exists()  # the stand-in removed its files


def test_lab_opens_jupyterlab_on_notebook_00() -> None:
    """`tlslab lab` hands its options to JupyterLab; --version proves it starts the right program."""
    done = subprocess.run(
        [sys.executable, "-m", "tlslab", "lab", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().split(".")[0].isdigit()
