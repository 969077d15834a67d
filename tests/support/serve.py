"""``tlslab serve`` as a child process, for the tests that drive it from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from support.children import default_sigint


@contextmanager
def serve_process(*options: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m tlslab serve OPTIONS`` as a child process: (its first line, the process);
    stopped with SIGINT, as Ctrl-C would."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tlslab", "serve", *options],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=default_sigint,
    )
    try:
        yield process.stdout.readline(), process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        process.stdout.close()
