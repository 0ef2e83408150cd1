"""Objectives for the parallel-evaluation tests, importable by the worker processes (they
travel by reference: module path and name)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

import moalign


def f1(x: np.ndarray) -> np.ndarray:
    """ZDT1's first objective."""
    return x[:, 0]


def f2(x: np.ndarray) -> np.ndarray:
    """ZDT1's second objective."""
    g = 1 + 9 * x[:, 1:].mean(axis=1)
    return g * (1 - np.sqrt(x[:, 0] / g))


def slow_reversed(x: np.ndarray) -> np.ndarray:
    """f1, sleeping longer for smaller x[0]: chunks finish out of order."""
    time.sleep(float(0.2 * (1 - x[:, 0].min())))
    return x[:, 0]


def raises_above(x: np.ndarray) -> np.ndarray:
    """f2, raising when some x[0] > 0.8 (Objective then goes point by point)."""
    if np.any(x[:, 0] > 0.8):
        raise ValueError("simulation diverged")
    return f2(x)


def constraint_raises(x: np.ndarray) -> np.ndarray:
    """A constraint ``x[1] - 0.5 <= 0`` that raises when some x[0] > 0.8."""
    if np.any(x[:, 0] > 0.8):
        raise RuntimeError("mesh failed")
    return x[:, 1:2] - 0.5


class KillOnce:
    """f2 that kills its own worker process (SIGKILL) the first time it runs anywhere
    (a marker file says it happened), as if the machine lost the worker mid-batch."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.__name__ = "f2"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return f2(x)
        os.close(fd)
        time.sleep(0.2)  # let the other workers take their chunks
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


class KillAbove:
    """f2 that kills its worker whenever some x[0] > threshold (each time it is tried)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.__name__ = "f2"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if np.any(x[:, 0] > self.threshold):
            os.kill(os.getpid(), signal.SIGKILL)
        return f2(x)


def forget_path(folder: str) -> None:
    """Worker initializer: ``folder`` is not on this worker's import path."""
    import sys

    while folder in sys.path:
        sys.path.remove(folder)


def zdt_like(second: object = f2, constraints: object = None) -> moalign.Problem:
    """A 4-variable ZDT1-like problem with the given second objective."""
    return moalign.Problem(moalign.Box([0] * 4, [1] * 4),
                           [moalign.Objective("f1", f1),
                            moalign.Objective("f2", second)],  # type: ignore[arg-type]
                           constraints=constraints,  # type: ignore[arg-type]
                           ref_point=[1.1, 10])


def marker_in(folder: Path) -> str:
    """The marker file of a :class:`KillOnce` in ``folder``."""
    return str(folder / "killed-once")


def uneven(x: np.ndarray) -> np.ndarray:
    """f1, taking 0.3 s for a chunk holding a point with x[0] < 0.5, 0.05 s otherwise:
    batches with stragglers."""
    time.sleep(0.3 if np.any(x[:, 0] < 0.5) else 0.05)
    return x[:, 0]


def same_archive(a: moalign.Archive, b: moalign.Archive) -> None:
    """Assert two archives hold the same points, values and steps."""
    np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))
    np.testing.assert_array_equal(a.F, b.F)
    np.testing.assert_array_equal(a.step, b.step)


def check_killed_worker_run(tmp_path: Path, backend: str) -> None:
    """NSGA-II on ``backend`` with 2 workers, one killed mid-batch once: the archive is the
    serial one, a point was retried and none was lost."""
    serial = moalign.optimize(zdt_like(), "nsga2", {"pop_size": 8}, budget=24, seed=3)
    problem = zdt_like(KillOnce(marker_in(tmp_path)))
    par = moalign.optimize(problem, "nsga2", {"pop_size": 8}, budget=24, seed=3,
                           executor={"backend": backend, "workers": 2, "chunk": 2})
    assert Path(marker_in(tmp_path)).exists()
    np.testing.assert_array_equal(serial.archive.F, par.archive.F)
    np.testing.assert_array_equal(np.asarray(serial.archive.X), np.asarray(par.archive.X))
    stats = par.info["evaluation"]
    assert stats["backend"] == backend and stats["lost_points"] == 0
    assert stats["retried_points"] >= 1 and par.archive.n_failed == 0
