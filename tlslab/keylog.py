"""The NSS key log format: how Wireshark decrypts a capture of our connections.

Each line is ``LABEL <client_random hex> <secret hex>``, one per traffic secret, as
written by Firefox, curl and Python's ``ssl`` (``keylog_filename``) when the
environment variable ``SSLKEYLOGFILE`` names a file. TLS 1.3 labels:

==================================  ==========================================
label                               secret (RFC 8446 §7.1)
==================================  ==========================================
CLIENT_EARLY_TRAFFIC_SECRET         client_early_traffic_secret
CLIENT_HANDSHAKE_TRAFFIC_SECRET     client_handshake_traffic_secret
SERVER_HANDSHAKE_TRAFFIC_SECRET     server_handshake_traffic_secret
CLIENT_TRAFFIC_SECRET_0             client_application_traffic_secret_0
SERVER_TRAFFIC_SECRET_0             server_application_traffic_secret_0
EXPORTER_SECRET                     exporter_master_secret
CLIENT_TRAFFIC_SECRET_N             after the N-th KeyUpdate (RFC 8446 §7.2)
==================================  ==========================================

Anyone holding these lines can read the session: write them only where you mean to.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

KeyLogCallback = Callable[[str, bytes, bytes], None]


def format_line(label: str, client_random: bytes, secret: bytes) -> str:
    """One NSS key log line, without the newline."""
    return f"{label} {client_random.hex()} {secret.hex()}"


class KeyLog:
    """Appends NSS key log lines to a file (path or open text file); safe across threads."""

    _lock = threading.Lock()

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        self.target = target

    def __call__(self, label: str, client_random: bytes, secret: bytes) -> None:
        line = format_line(label, client_random, secret) + "\n"
        with self._lock:
            if isinstance(self.target, (str, os.PathLike)):
                # Owner-only when we create the file: every line is a key to the session.
                fd = os.open(Path(self.target), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="ascii") as f:
                    f.write(line)
            else:
                self.target.write(line)
                self.target.flush()


class MemoryKeyLog:
    """Collects key log lines in ``lines``: for notebooks and tests."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, label: str, client_random: bytes, secret: bytes) -> None:
        self.lines.append(format_line(label, client_random, secret))


def keylog_from_env() -> KeyLog | None:
    """A ``KeyLog`` for ``$SSLKEYLOGFILE`` when it is set, as curl and Python's ssl do."""
    path = os.environ.get("SSLKEYLOGFILE")
    return KeyLog(path) if path else None
