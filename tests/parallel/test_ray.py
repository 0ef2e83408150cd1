"""Parallel evaluation on a real local Ray cluster (skipped without the ray extra; slow:
starting Ray takes ~10 s)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import parallel_objectives as po
import pytest

import moalign

pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_survives_a_killed_worker(tmp_path, monkeypatch):
    """``backend: ray`` starts Ray locally; a worker killed mid-batch costs nothing: the
    archive is the serial one, and a raising objective costs only its points."""
    here = str(Path(po.__file__).parent)  # Ray's workers import the objectives from here
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p))
    serial = moalign.optimize(po.zdt_like(), "nsga2", {"pop_size": 8}, budget=24, seed=3)
    problem = po.zdt_like(po.KillOnce(po.marker_in(tmp_path)))
    par = moalign.optimize(problem, "nsga2", {"pop_size": 8}, budget=24, seed=3,
                           executor={"backend": "ray", "workers": 2, "chunk": 2})
    assert Path(po.marker_in(tmp_path)).exists()
    np.testing.assert_array_equal(serial.archive.F, par.archive.F)
    np.testing.assert_array_equal(np.asarray(serial.archive.X), np.asarray(par.archive.X))
    stats = par.info["evaluation"]
    assert stats["backend"] == "ray" and stats["lost_points"] == 0
    assert stats["retried_points"] >= 1 and par.archive.n_failed == 0
