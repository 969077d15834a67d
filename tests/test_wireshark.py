"""Wireshark decrypts a capture of a tlslab connection with tlslab's key log.

dumpcap captures the loopback session; tshark, given the NSS key log tlslab
wrote, must show the HTTP request and answer in clear, including the records
sent after a KeyUpdate (the _1 key log lines). Needs root for the capture.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import tlslab
from tlslab.lab import StandIn

pytestmark = pytest.mark.interop


def _start_capture(port: int, pcap: Path) -> subprocess.Popen:
    capture = subprocess.Popen(
        ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(pcap)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    seen = ""
    assert capture.stderr is not None
    while time.monotonic() < deadline:
        line = capture.stderr.readline()
        seen += line
        if "Capturing on" in line:
            time.sleep(1.0)  # dumpcap says so a moment before its filter is live (seen: lost handshakes)
            return capture
        if capture.poll() is not None:
            break
    capture.kill()
    pytest.skip(f"dumpcap could not capture on lo: {seen.strip()[:200]}")


def _stop_capture(capture: subprocess.Popen) -> None:
    time.sleep(0.3)  # let the last packets reach the file
    capture.send_signal(signal.SIGINT)
    try:
        capture.wait(timeout=10)
    except subprocess.TimeoutExpired:
        capture.kill()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="dumpcap not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")
def test_tshark_decrypts_a_tlslab_session_with_its_keylog(tmp_path):
    pcap, keys = tmp_path / "cap.pcapng", tmp_path / "keys.log"
    with StandIn() as server:
        capture = _start_capture(server.port, pcap)
        try:
            socket.create_connection((server.host, server.port), timeout=5).close()  # warm-up; may be lost
            time.sleep(0.2)
            with tlslab.connect(
                server.host,
                server.port,
                server_hostname=server.server_name,
                cafile=server.cafile,
                keylog=str(keys),
                timeout=5,
            ) as tls:
                client_port = tls.sock.getsockname()[1]
                tls.key_update(request_peer_update=True)  # later records need the _1 secrets
                tls.sendall(
                    b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Sent: after-key-update\r\nConnection: close\r\n\r\n"
                )
                answer = tls.recv_all()
        finally:
            _stop_capture(capture)
    assert answer.startswith(b"HTTP/1.1 200 OK")
    labels = {line.split()[0] for line in keys.read_text().splitlines()}
    assert {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_TRAFFIC_SECRET_0",
        "CLIENT_TRAFFIC_SECRET_1",
        "SERVER_TRAFFIC_SECRET_1",
    } <= labels

    def follow(keylog: Path | None) -> str:
        args = [
            "tshark",
            "-r",
            str(pcap),
            "-d",
            f"tcp.port=={server.port},tls",
            "-q",
            "-z",
            f"follow,tls,ascii,127.0.0.1:{client_port},127.0.0.1:{server.port}",
        ]
        if keylog is not None:
            args[3:3] = ["-o", f"tls.keylog_file:{keylog}"]
        return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout

    decrypted = follow(keys)
    assert "X-Sent: after-key-update" in decrypted
    assert "Example Domain" in decrypted
    # And without the key log, Wireshark sees nothing readable: the test above is not vacuous.
    assert "after-key-update" not in follow(None)
