"""A one-variable two-objective problem for the tuning tests.

``f1 = x``, ``f2 = 1 - sqrt(x)`` (+5 with ``bad=True``, which puts every point beyond the
reference point (1.1, 1.1): hypervolume 0 at every step, a trial built to be pruned).
With ``hold_while`` set, each evaluation waits while that file exists (a trial that hangs
until the test releases it); with ``pid_dir`` too, a process that waits there first
creates the file ``<pid_dir>/<its pid>`` (so a test can kill the process running a trial).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

import moalign


def _hold(hold_while: str, pid_dir: str | None) -> None:
    if pid_dir is not None and Path(hold_while).exists():
        (Path(pid_dir) / str(os.getpid())).touch()
    deadline = time.monotonic() + 300
    while Path(hold_while).exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def make_problem(bad: bool = False, hold_while: str | None = None,
                 pid_dir: str | None = None) -> moalign.Problem:
    def f1(x: np.ndarray) -> np.ndarray:
        if hold_while is not None:
            _hold(hold_while, pid_dir)
        return x[:, 0]

    def f2(x: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(x[:, 0]) + (5.0 if bad else 0.0)

    return moalign.Problem(moalign.Box([0.0], [1.0]), [f1, f2], ref_point=[1.1, 1.1],
                           name="toy")
