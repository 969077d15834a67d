"""Child processes for the CLI tests."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def default_sigint() -> None:
    """In the child: Ctrl-C as at a terminal, even when this test runs as a background job
    (a shell without job control starts those with SIGINT ignored, and Python keeps it so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def killed_at_exit(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """``with killed_at_exit(Popen(...)) as process:``: a child still running at the end is killed and reaped."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
