"""Child processes for the CLI tests."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """In the child: Ctrl-C as at a terminal, even when this test runs as a background job
    (a shell without job control starts those with SIGINT ignored, and Python keeps it so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
