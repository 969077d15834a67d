"""User mistakes on the command line and Ctrl-C: one ``error:`` line naming what is wrong, no traceback.

Files are checked before any connection: a listener on loopback counts the connections it saw.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support.children import default_sigint, killed_at_exit

import tlslab
from tlslab.cli import main
from tlslab.lab.loopback import LoopbackServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["connect", "127.0.0.1", "70000"], "error: port 70000 is not a TCP port"),
        (["connect", "127.0.0.1", "0"], "error: port 0 is not a TCP port"),
        (["connect", "example.com", "--timeout", "-1"], "error: --timeout -1.0 is not"),
        (["connect", "example.com", "--timeout", "0"], "error: --timeout 0.0 is not"),
        (["connect", "example.com", "--timeout", "nan"], "error: --timeout nan is not"),
        (["connect", "example.com", "--alpn", ""], "error: --alpn '' has an empty protocol name"),
        (["connect", "example.com", "--alpn", "h2,,http/1.1"], "error: --alpn 'h2,,http/1.1' has an empty"),
        (
            ["connect", "example.com", "--offline", "--cafile", "x.pem"],
            "error: --cafile does not apply with --offline",
        ),
        (
            ["connect", "example.com", "8443", "--offline"],
            "error: --offline plays example.com:443; port 8443",
        ),
        (
            ["connect", "example.com", "--get", "/é"],
            "error: --get: path '/é' must start with / and be printable",
        ),
        (["connect", "example.com", "--get", "x"], "error: --get: path 'x' must start with /"),
        (["serve", "--port", "70000"], "error: --port 70000 is not a TCP port"),
    ],
)
def test_bad_values_get_one_line_naming_the_option(capsys, argv: list[str], message: str) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert one_error_line(err).startswith(message)


@pytest.fixture
def listener():
    with LoopbackServer(lambda sock: None) as server:
        yield server


def _file_mistakes(tmp_path: Path) -> dict[str, tuple[list[str], dict[str, str], str]]:
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    return {
        "cafile missing": (["--cafile", str(tmp_path / "nope.pem")], {}, f"cafile {tmp_path / 'nope.pem'}: "),
        "cafile not PEM": (["--cafile", str(not_pem)], {}, f"cafile {not_pem}: no PEM certificate"),
        "cafile a directory": (["--cafile", str(tmp_path)], {}, f"cafile {tmp_path}: is a directory"),
        "keylog a directory": (["--keylog", str(locked)], {}, f"keylog {locked}: cannot write"),
        "keylog in no folder": (["--keylog", str(tmp_path / "no" / "k.log")], {}, "keylog "),
        "SSLKEYLOGFILE a directory": ([], {"SSLKEYLOGFILE": str(locked)}, f"SSLKEYLOGFILE {locked}: cannot"),
    }


@pytest.mark.parametrize(
    "mistake",
    [
        "cafile missing",
        "cafile not PEM",
        "cafile a directory",
        "keylog a directory",
        "keylog in no folder",
        "SSLKEYLOGFILE a directory",
    ],
)
def test_file_mistakes_are_named_before_connecting(capsys, monkeypatch, tmp_path, listener, mistake) -> None:
    options, env, message = _file_mistakes(tmp_path)[mistake]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, out, err = run(capsys, "connect", "127.0.0.1", str(listener.port), *options)
    assert status == 1 and out == ""
    assert one_error_line(err).startswith(f"error: {message}"), err
    assert "tlslab bug" not in err
    assert listener.connections == 0  # nothing was sent, so no internal_error alert either


def test_the_package_checks_files_before_connecting_too(tmp_path, listener) -> None:
    with pytest.raises(ValueError, match="no PEM certificate"):
        (tmp_path / "empty.pem").write_text("")
        tlslab.connect(
            "127.0.0.1", listener.port, server_hostname="localhost", cafile=str(tmp_path / "empty.pem")
        )
    assert listener.connections == 0


def _tlslab(*argv: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "tlslab", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **kw.pop("env", {})},
        preexec_fn=default_sigint,
        **kw,
    )


def test_ctrl_c_on_connect_is_one_line() -> None:
    held = []
    with LoopbackServer(lambda sock: held.append(sock.recv(100)) or time.sleep(20), timeout=30) as silent:
        with killed_at_exit(_tlslab("connect", "127.0.0.1", str(silent.port), "--timeout", "30")) as process:
            deadline = time.monotonic() + 30
            while not held and time.monotonic() < deadline:  # the ClientHello arrived: it waits for us
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=10)
    assert held and process.returncode == 130
    assert one_error_line(err) == "error: interrupted (Ctrl-C)\n" and out == ""


def test_serve_refuses_a_key_that_is_not_the_certificates(capsys, pki) -> None:
    cert, other_key = pki.leaves["ecdsa-p256"].cert, pki.leaves["ed25519"].key
    status, out, err = run(capsys, "serve", "--cert", str(cert), "--key", str(other_key))
    assert status == 2 and out == ""
    assert one_error_line(err).startswith(f"error: --key {other_key} is not the private key of --cert {cert}")


def test_serve_with_cert_listens_on_ipv6_loopback(pki, tmp_path) -> None:
    leaf = pki.leaves["ecdsa-p256"]
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.cert.read_bytes() + leaf.chain.read_bytes())
    process = _tlslab("serve", "--cert", str(chain), "--key", str(leaf.key), "--host", "::1", "--port", "0")
    try:
        first = process.stdout.readline()
        assert first.startswith("serving  tlslab server on [::1]:"), first  # an IPv6 address in brackets
        port = int(first.rsplit(":", 1)[1])
        with tlslab.connect("::1", port, server_hostname="localhost", cafile=str(pki.cafile)) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert tls.recv_all().startswith(b"HTTP/1.1 200 OK")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_lab_opens_the_repository_at_notebook_00_and_stops_cleanly(tmp_path, how) -> None:
    pytest.importorskip("jupyterlab")
    runtime = tmp_path / "runtime"
    process = _tlslab(
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        env={"JUPYTER_RUNTIME_DIR": str(runtime)},
    )
    with killed_at_exit(process):
        deadline = time.monotonic() + 90
        while not list(runtime.glob("jpserver-*.json")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        info = json.loads(next(runtime.glob("jpserver-*.json")).read_text())
        assert (
            Path(info["root_dir"]) == Path(__file__).resolve().parent.parent
        )  # the checkout, not notebooks/
        for path in ("exercises", "notebooks/00-welcome.ipynb", "exercises/README.md"):
            url = f"{info['url']}api/contents/{urllib.parse.quote(path)}?content=0&token={info['token']}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert answer.status == 200, path
        process.send_signal(how)
        out, err = process.communicate(timeout=40)
    assert "/lab/tree/notebooks/00-welcome.ipynb?token=" in err  # the page it opens
    assert err.rstrip().splitlines()[-1] == "stopped JupyterLab" and "Traceback" not in err, err
    assert process.returncode == 130, err
    with pytest.raises(ProcessLookupError):  # JupyterLab is gone, not left running
        os.kill(info["pid"], 0)
    assert not list(runtime.glob("jpserver-*")), list(runtime.iterdir())  # no stale runtime files


def test_sigterm_on_the_stand_in_removes_its_keys() -> None:
    with killed_at_exit(_tlslab("serve", "--port", "0")) as process:
        lines = {}
        deadline = time.monotonic() + 30
        while "Ctrl-C" not in lines and time.monotonic() < deadline:  # its last line before serving
            label, _, value = process.stdout.readline().partition(" ")
            lines[label] = value.strip()
        folder = Path(lines["cafile"]).parent
        assert any(folder.glob("*.key"))
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopped" in out and "Traceback" not in err
    assert not folder.exists()  # the CA's private key went with it
