"""A one-variable two-objective problem whose every batch takes ``delay`` seconds, for the
MLflow-server tests (a run that lasts while the server is stopped and restarted).

``f1 = x``, ``f2 = 1 - sqrt(x)``, reference point (1.1, 1.1). With ``hold_while``, the
batch number ``hold_at`` (from 0) first waits while that file exists (at most 300 s), so
a test can keep the run going until it has restarted the server.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import moalign


def make_problem(delay: float = 0.0, hold_while: str | None = None, hold_at: int = 0
                 ) -> moalign.Problem:
    """The problem; each evaluation of a batch sleeps ``delay`` seconds first."""
    calls = [0]

    def f1(x: np.ndarray) -> np.ndarray:
        if hold_while is not None and calls[0] == hold_at:
            deadline = time.monotonic() + 300
            while Path(hold_while).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        calls[0] += 1
        time.sleep(delay)
        return x[:, 0]

    def f2(x: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(x[:, 0])

    return moalign.Problem(moalign.Box([0.0], [1.0]), [f1, f2], ref_point=[1.1, 1.1],
                           name="slow")
