"""Parallel evaluation on a real local Ray cluster (skipped without the ray extra; slow:
starting Ray takes ~10 s)."""

from __future__ import annotations

import os
from pathlib import Path

import parallel_objectives as po
import pytest

pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_survives_a_killed_worker(tmp_path, monkeypatch):
    """``backend: ray`` starts Ray locally; a worker killed mid-batch costs nothing: the
    archive is the serial one, and a raising objective costs only its points."""
    here = str(Path(po.__file__).parent)  # Ray's workers import the objectives from here
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p))
    po.check_killed_worker_run(tmp_path, "ray")
