"""Graded exercises: the task registry, instant feedback in the notebook, and grading.

``from tlslab.course.checks import check`` in a notebook; ``grade_all`` for the grader. How a task is
built, checked and graded: the docstring of ``core``. The package:

* ``core``: the machinery (``Task``, ``Case``, ``Mistake``, ``register``, ``TASKS``, ``check``,
  ``grade_all``, the reports, the time limit, the stepped hints);
* ``common``: what the tasks' random cases share;
* ``t01_bytes`` ... ``t08_resumption``: one module per notebook (07 has two: ``t07_client`` and
  ``t07_handshake``), registering its tasks;
* ``referee``: records the learner's calls in a live handshake and names the first wrong one;
  a stand-in served by tlslab's server, which says why it refused;
* ``capstone``: notebook 07's two capstones (tlslab's client with the learner's pieces; the
  learner's own client), ``learner_provider`` and ``serve_in_memory``.

Importing the package registers every task, in notebook order, so ``TASKS`` is complete.
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys

_PARTS = (
    "core",
    "common",
    "t01_bytes",
    "t02_key_exchange",
    "t03_hmac_hkdf",
    "t04_key_schedule",
    "t05_records",
    "t06_certificates",
    "t07_client",
    "t07_handshake",
    "t08_resumption",
    "referee",
    "capstone",
)

# Import the parts in this order: each notebook's module registers its tasks on import, so this
# is the order of ``TASKS``. ``importlib.reload(tlslab.course.checks)`` (the grader does it in the
# learner's kernel, to undo whatever the notebook changed) re-runs only this file: then re-run
# every part as well, in the same order. A fresh ``core`` starts with an empty ``TASKS``, so each
# task registers once, and nothing the notebook changed is left over.
for _part in _PARTS:
    _module = _sys.modules.get(f"{__name__}.{_part}")
    if _module is None:
        _importlib.import_module(f"{__name__}.{_part}")
    else:
        _importlib.reload(_module)

# The API of ``tlslab.course.checks``, as it was when it was one module (notebooks, tests, the grader).
from tlslab.course.checks.capstone import (  # noqa: E402, F401
    CAPSTONE_PIECES,
    PLUG_POINTS,
    fetch_example_com,
    learner_provider,
    serve_in_memory,
)
from tlslab.course.checks.core import (  # noqa: E402, F401
    CASE_TIME_LIMIT,
    NOTEBOOKS,
    TASKS,
    Case,
    CaseTimeout,
    CheckReport,
    Hint,
    Mistake,
    Outcome,
    Report,
    Task,
    _with_time_limit,
    check,
    diagnose,
    grade_all,
    guess_notebook,
    register,
    reset_attempts,
    run_case,
    run_task,
    same,
    tasks_for,
    time_limit,
)
from tlslab.course.checks.t02_key_exchange import (  # noqa: E402, F401
    A24_448,
    P448,
    decode_scalar_ref,
    ladder_step_ref,
    x448_ref,
)
from tlslab.course.checks.t03_hmac_hkdf import HASHES, HashFunction, hmac_with_ref  # noqa: E402, F401
from tlslab.course.checks.t04_key_schedule import _suite_for  # noqa: E402, F401
from tlslab.course.checks.t06_certificates import der_length_ref  # noqa: E402, F401

__all__ = [
    "NOTEBOOKS",
    "TASKS",
    "Case",
    "CheckReport",
    "Mistake",
    "Task",
    "check",
    "grade_all",
    "learner_provider",
    "reset_attempts",
    "tasks_for",
]
