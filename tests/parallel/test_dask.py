"""Parallel evaluation on a real Dask cluster (skipped without the dask extra)."""

from __future__ import annotations

import numpy as np
import parallel_objectives as po
import pytest

pytest.importorskip("distributed")


def test_dask_local_cluster_survives_a_killed_worker(tmp_path):
    """``backend: dask`` starts a LocalCluster; a worker killed mid-batch costs nothing:
    the archive is the serial one."""
    po.check_killed_worker_run(tmp_path, "dask")


def test_dask_scheduler_address_and_raising_points():
    """``address``: an existing scheduler; a raising objective costs only its points."""
    from distributed import LocalCluster

    X = np.random.default_rng(0).random((9, 4))
    bad = X[:, 0] > 0.8
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster:
        from moalign.core.parallel import open_evaluator

        problem = po.zdt_like(po.raises_above)
        with open_evaluator({"backend": "dask", "address": cluster.scheduler_address,
                             "chunk": 2}) as ev:
            assert ev is not None and ev.workers == 2
            got = problem.with_evaluator(ev).evaluate(X)
    assert got.failed.tolist() == bad.tolist()
    np.testing.assert_array_equal(got.F[~bad], po.zdt_like().evaluate(X[~bad]).F)
    assert problem.objectives[1].failures.count == bad.sum()
