"""``moalign report RUN_ID``: a run's front and hypervolume, and its plots drawn again.

Everything comes from the run's own artifacts: ``evaluations.csv`` (every evaluated point,
its step, feasibility and failure) and ``archive.json`` (objective names, directions and
the reference point the run used), both logged by the runner's post-run phase.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moalign.core.archive import Archive
from moalign.core.config import ConfigError
from moalign.tracking.mlflow_tracker import MLflowTracker

ARCHIVE_META = "archive.json"


def archive_meta(archive: Archive) -> dict[str, Any]:
    """What ``evaluations.csv`` does not say: names, directions, reference point."""
    ref = archive.ref_point
    return {"objectives": list(archive.names),
            "directions": ["maximize" if m else "minimize" for m in archive.maximize],
            "ref_point": None if ref is None else [float(v) for v in ref]}


def load_archive(tracker: MLflowTracker) -> Archive:
    """Rebuild the archive of the tracker's run from its artifacts.

    Raises:
        ConfigError: the run has no ``archive.json``/``evaluations.csv`` (it has not
            finished its post-run phase, or an older moalign logged it).
    """
    run_id = tracker.run_id
    logged = {a.path for a in tracker.client.list_artifacts(run_id)}
    missing = sorted({ARCHIVE_META, "evaluations.csv"} - logged)
    if missing:
        raise ConfigError(f"run {run_id} has no {' or '.join(missing)} artifact: it has not "
                          "finished (resume it) or an older moalign logged it")
    with tempfile.TemporaryDirectory() as tmp:
        meta = json.loads(Path(tracker.client.download_artifacts(
            run_id, ARCHIVE_META, tmp)).read_text())
        df = pd.read_csv(tracker.client.download_artifacts(run_id, "evaluations.csv", tmp))
    return Archive.from_frame(df, meta["objectives"],
                              [d == "maximize" for d in meta["directions"]],
                              meta["ref_point"])


def report(run_id: str, uri: str | None = None) -> int:
    """Print the front and final hypervolume of ``run_id`` and re-log its plots.

    Raises:
        ConfigError: no such run in the store, or a run without the artifacts it needs.
    """
    from moalign.tracking.plots import RunLabel, save_run_plots

    tracker = MLflowTracker(uri, run_id=run_id)
    if tracker.run_status() is None:
        raise ConfigError(f"report {run_id}: no such run in the tracking store {tracker.uri}")
    run = tracker.client.get_run(run_id)
    archive = load_archive(tracker)
    front = archive.pareto()
    print(f"run {run_id} ({run.info.run_name}, {run.info.status}): "
          f"{run.data.params.get('solver')} on {run.data.params.get('problem')}")
    ref = None if archive.ref_point is None else np.round(archive.ref_point, 6).tolist()
    print(f"evaluations {archive.n_evals} ({archive.n_failed} failed), front of "
          f"{len(front)} points, hypervolume {archive.hypervolume():.6g} (reference {ref})")
    with pd.option_context("display.max_rows", 30, "display.width", 120):
        print(pd.DataFrame(front.F, columns=list(front.names)).sort_values(
            list(front.names)).to_string(index=False))
    with tempfile.TemporaryDirectory() as tmp:
        params = run.data.params
        label = RunLabel(params.get("problem", ""), params.get("solver", ""), run.info.run_name)
        save_run_plots(archive, Path(tmp), label, history=tracker.metric_history)
        tracker.log_artifacts(tmp, "plots")
    print(f"plots re-logged under runs:/{run_id}/plots")
    return 0
