"""A one-variable two-objective problem whose every batch takes ``delay`` seconds, for the
MLflow-server tests (a run that lasts while the server is stopped and restarted).

``f1 = x``, ``f2 = 1 - sqrt(x)``, reference point (1.1, 1.1).
"""

from __future__ import annotations

import time

import numpy as np

import moalign


def make_problem(delay: float = 0.0) -> moalign.Problem:
    """The problem; each evaluation of a batch sleeps ``delay`` seconds first."""

    def f1(x: np.ndarray) -> np.ndarray:
        time.sleep(delay)
        return x[:, 0]

    def f2(x: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(x[:, 0])

    return moalign.Problem(moalign.Box([0.0], [1.0]), [f1, f2], ref_point=[1.1, 1.1],
                           name="slow")
