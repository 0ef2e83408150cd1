"""``moalign report RUN_ID``: a summary of a run's front and hypervolume, and its plots.

Everything comes from the run's own artifacts: ``evaluations.csv`` (every evaluated point,
its step, feasibility and failure) and ``archive.json`` (objective names, directions and
the reference point the run used), both logged by the runner's post-run phase.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    with tempfile.TemporaryDirectory() as tmp, _no_download_bars():
        meta = json.loads(Path(tracker.client.download_artifacts(
            run_id, ARCHIVE_META, tmp)).read_text())
        df = pd.read_csv(tracker.client.download_artifacts(run_id, "evaluations.csv", tmp))
    return Archive.from_frame(df, meta["objectives"],
                              [d == "maximize" for d in meta["directions"]],
                              meta["ref_point"])


FRONT_ROWS = 10
"""Rows of the front ``moalign report`` prints unless ``--all``."""


@contextmanager
def _no_download_bars() -> Iterator[None]:
    """Without MLflow's "Downloading artifacts" progress bars (unless the user set them)."""
    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    if name in os.environ:
        yield
        return
    os.environ[name] = "false"
    try:
        yield
    finally:
        os.environ.pop(name, None)


def report(run_id: str, uri: str | None = None, *, out: str | Path | None = None,
           log: bool = False, all_rows: bool = False) -> int:
    """Print a summary of ``run_id`` and draw its plots into ``out``.

    Args:
        run_id: the MLflow run.
        uri: its tracking store (default: ``$MLFLOW_TRACKING_URI``, else the local store).
        out: folder for the plots (default ``./moalign-report-<run_id>``).
        log: also log the plots to the run, replacing its ``plots/``.
        all_rows: print every row of the front, not the first :data:`FRONT_ROWS`.

    Raises:
        ConfigError: no such run in the store, or a run without the artifacts it needs.
    """
    from moalign.tracking.plots import RunLabel, save_run_plots
    from moalign.tracking.uri_check import check_tracking_uri

    check_tracking_uri(uri, name="--uri" if uri else None)  # seconds, not minutes of retries
    tracker = MLflowTracker(uri, run_id=run_id)
    if tracker.run_status() is None:
        raise ConfigError(f"report {run_id}: no such run in the tracking store {tracker.uri}")
    run = tracker.client.get_run(run_id)
    archive = load_archive(tracker)
    _say(f"run {run_id} ({run.info.run_name}, {run.info.status}): "
         f"{run.data.params.get('solver')} on {run.data.params.get('problem')}",
         *summary_lines(archive, None if all_rows else FRONT_ROWS))
    folder = Path(out or f"moalign-report-{run_id}")
    with tempfile.TemporaryDirectory() as tmp:
        params = run.data.params
        label = RunLabel(params.get("problem", ""), params.get("solver", ""), run.info.run_name)
        save_run_plots(archive, Path(tmp), label, history=tracker.metric_history)
        folder.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in Path(tmp).iterdir() if p.is_file())
        for name in names:
            shutil.copyfile(Path(tmp) / name, folder / name)
        _say(f"plots: {folder}{os.sep} ({', '.join(names)})")
        if log:
            tracker.log_artifacts(tmp, "plots")
            _say(f"plots logged under runs:/{run_id}/plots")
    return 0


def _say(*lines: str) -> None:
    """Print ``lines``; a closed pipe (``| head -3``) silences the rest of the output
    instead of stopping the report before its plots."""
    try:
        print(*lines, sep="\n", flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def summary_lines(archive: Archive, rows: int | None = FRONT_ROWS) -> list[str]:
    """Counts, hypervolume and its reference, the front's ideal and nadir, and its first
    ``rows`` rows (all when None), best first on the first objective."""
    front = archive.pareto()
    ref = archive.ref_point
    where = ("no reference point: no feasible evaluation" if ref is None
             else f"reference {_values(ref)}")
    lines = [f"evaluations {archive.n_evals} ({archive.n_failed} failed), front of "
             f"{len(front)} points, hypervolume {archive.hypervolume():.6g} ({where})"]
    if not len(front):
        return lines
    columns = [f"{n} ({'max' if mx else 'min'})" for n, mx in zip(front.names,
                                                                     front.maximize,
                                                                     strict=True)]
    F = pd.DataFrame(front.F, columns=columns)
    best = np.where(front.maximize, front.F.max(axis=0), front.F.min(axis=0))
    worst = np.where(front.maximize, front.F.min(axis=0), front.F.max(axis=0))
    bounds = pd.DataFrame([best, worst], columns=columns, index=["ideal", "nadir"])
    lines += ["the front's ideal and nadir (best and worst value of each objective):",
              _table(bounds, index=True)]
    F = F.sort_values(columns[0], ascending=not front.maximize[0], kind="stable")
    shown = len(F) if rows is None else min(rows, len(F))
    more = "" if shown == len(F) else f", first {shown} of {len(F)} (--all for every row)"
    lines += [f"front, best {front.names[0]} first{more}:", _table(F.head(shown))]
    return lines


def _table(df: pd.DataFrame, index: bool = False) -> str:
    return df.to_string(index=index, float_format=lambda v: f"{v:.6g}")


def _values(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6g}" for x in v) + "]"
