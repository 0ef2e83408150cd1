"""``moalign compare RUN_ID...``: several runs' hypervolumes at one reference point.

Each run's front comes from its own artifacts (``evaluations.csv`` and ``archive.json``,
as for ``moalign report``). The runs must have the same objectives (names and
directions). The common reference point is, in this order:

1. the one given (``--ref v1,v2,...``, user orientation);
2. the reference stored on the runs' experiment (tag ``moalign.hv_reference``, see
   :mod:`moalign.tracking.reference`), when every run's experiment stores the same one
   for these objectives;
3. the worst value of each objective over all the runs' fronts, pushed out by 10% of
   the fronts' range in that objective (1.0 where the range is 0).

The output names which one it is, prints one row per run (run, solver, seed, front size,
hypervolume at the common reference, the hypervolume the run logged and the reference
it logged it at) and writes ``compare.csv`` and ``fronts.png`` (all fronts overlaid).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moalign.core.archive import Archive
from moalign.core.config import ConfigError
from moalign.indicators import hypervolume
from moalign.tracking.mlflow_tracker import MLflowTracker
from moalign.tracking.reference import describe_objectives, experiment_reference, show_values
from moalign.tracking.report import _say, load_archive

PUSH = 0.1
"""How far past the fronts' worst values the fallback reference lies, in their range."""


@dataclass(frozen=True)
class ComparedRun:
    """One run of a comparison.

    Attributes:
        run_id: the MLflow run.
        name: its run name.
        solver, problem, seed: its params (as logged; ``""`` when missing).
        experiment_id: its experiment.
        archive: every evaluated point and the reference the run used.
        logged_hv: the last ``hypervolume`` the run logged (None when it logged none).
    """

    run_id: str
    name: str
    solver: str
    problem: str
    seed: str
    experiment_id: str
    archive: Archive
    logged_hv: float | None

    @property
    def front(self) -> np.ndarray:
        return self.archive.pareto().F

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple("maximize" if mx else "minimize" for mx in self.archive.maximize)

    @property
    def label(self) -> str:
        """``"<name> (<solver>, seed <seed>)"``, the run id's start when it has no name."""
        name = self.name or self.run_id[:8]
        return f"{name} ({self.solver}, seed {self.seed})"


def load_run(run_id: str, uri: str | None = None) -> ComparedRun:
    """A run's archive and params.

    Raises:
        ConfigError: no such run, or a run without the artifacts ``moalign report`` needs.
    """
    tracker = MLflowTracker(uri, run_id=run_id)
    if tracker.run_status() is None:
        raise ConfigError(f"compare {run_id}: no such run in the tracking store {tracker.uri}")
    run = tracker.client.get_run(run_id)
    archive = load_archive(tracker)
    params = run.data.params
    hv = run.data.metrics.get("hypervolume")
    return ComparedRun(run_id, run.info.run_name or "", params.get("solver", ""),
                       params.get("problem", ""), params.get("seed", ""),
                       str(run.info.experiment_id), archive,
                       None if hv is None else float(hv))


def check_same_objectives(runs: Sequence[ComparedRun]) -> None:
    """Raises ConfigError naming the first run whose objectives differ from the first's."""
    first = runs[0]
    for run in runs[1:]:
        if run.archive.names != first.archive.names or run.directions != first.directions:
            raise ConfigError(
                f"compare: run {run.run_id} has objectives "
                f"{describe_objectives(run.archive.names, run.directions)}, run "
                f"{first.run_id} has {describe_objectives(first.archive.names, first.directions)}"
                "; compare runs of one problem")


def parse_ref(text: str | Sequence[float], m: int) -> np.ndarray:
    """``"1.1,1.1"`` (or a sequence) -> an `m` point; ConfigError when it is not one."""
    try:
        values = ([float(v) for v in text.split(",")] if isinstance(text, str)
                  else [float(v) for v in text])
    except ValueError:
        raise ConfigError(f"--ref {text!r}: give {m} numbers separated by commas, e.g. "
                          f"--ref {','.join(['1.1'] * m)}") from None
    if len(values) != m or not np.all(np.isfinite(values)):
        raise ConfigError(f"--ref {text!r}: give {m} finite numbers (one per objective), "
                          f"e.g. --ref {','.join(['1.1'] * m)}")
    return np.asarray(values, dtype=np.float64)


def common_reference(runs: Sequence[ComparedRun], ref: str | Sequence[float] | None = None,
                     client: Any = None) -> tuple[np.ndarray, str]:
    """The common reference point and where it comes from (see the module docstring)."""
    first = runs[0].archive
    m = len(first.names)
    if ref is not None:
        return parse_ref(ref, m), "given (--ref)"
    if client is not None:
        stored = _stored_reference(runs, client)
        if stored is not None:
            return stored
    fronts = [r.front for r in runs if len(r.front)]
    if not fronts:
        raise ConfigError("compare: no run has a feasible point, so no reference can be "
                          "derived; give one with --ref")
    signs = np.where(first.maximize, -1.0, 1.0)
    F = np.vstack(fronts) * signs  # minimization view
    worst, best = F.max(axis=0), F.min(axis=0)
    span = np.where(worst > best, worst - best, 1.0)
    return (worst + PUSH * span) * signs, (
        f"the worst value of each objective over the {len(runs)} runs' fronts, pushed out "
        f"by {PUSH:.0%} of their range (no --ref, and the runs' experiments store no "
        "common reference)")


def _stored_reference(runs: Sequence[ComparedRun], client: Any
                      ) -> tuple[np.ndarray, str] | None:
    """The reference every run's experiment stores for these objectives, if one."""
    first = runs[0]
    found = []
    for exp_id in dict.fromkeys(r.experiment_id for r in runs):
        stored = experiment_reference(client, exp_id)
        if stored is None or not stored.matches(first.archive.names, first.archive.maximize):
            return None
        found.append((exp_id, stored))
    values = found[0][1].values
    if any(not np.allclose(s.values, values, rtol=1e-9) for _, s in found):
        return None
    names = [str(client.get_experiment(e).name) for e, _ in found]
    where = "experiments " + ", ".join(f"'{n}'" for n in names) if len(names) > 1 \
        else f"experiment '{names[0]}'"
    return np.asarray(values, dtype=np.float64), (
        f"stored on {where} ({found[0][1].origin()})")


def compare_table(runs: Sequence[ComparedRun], ref: np.ndarray) -> pd.DataFrame:
    """One row per run: its hypervolume at ``ref`` beside what it logged."""
    rows = []
    for r in runs:
        own = r.archive.ref_point
        rows.append({
            "run": r.run_id, "name": r.name, "solver": r.solver, "seed": r.seed,
            "front": len(r.front),
            "hv": hypervolume(r.front, ref, maximize=r.archive.maximize) if len(r.front)
            else 0.0,
            "hv_logged": np.nan if r.logged_hv is None else r.logged_hv,
            "logged_at": "-" if own is None else show_values(own),
        })
    return pd.DataFrame(rows)


def compare(run_ids: Sequence[str], uri: str | None = None, *,
            ref: str | Sequence[float] | None = None, out: str | Path | None = None) -> int:
    """Print the runs' hypervolumes at one reference, write ``compare.csv`` and
    ``fronts.png`` into ``out`` (default ``./moalign-compare``).

    Args:
        run_ids: the MLflow runs (at least one).
        uri: their tracking store (default: ``$MLFLOW_TRACKING_URI``, else the local store).
        ref: the common reference point (``"v1,v2,..."`` or a sequence), or None.
        out: folder for the table and the plot.

    Raises:
        ConfigError: an unknown run, runs on different objectives, a bad ``ref``.
    """
    if not run_ids:
        raise ConfigError("compare: give at least one run id")
    from moalign.tracking.uri_check import check_tracking_uri

    check_tracking_uri(uri, name="--uri" if uri else None)  # seconds, not minutes of retries
    runs = [load_run(rid, uri) for rid in dict.fromkeys(run_ids)]
    check_same_objectives(runs)
    client = MLflowTracker(uri, run_id=runs[0].run_id).client
    point, source = common_reference(runs, ref, client)
    table = compare_table(runs, point)
    like = runs[0].archive
    _say(f"common reference {show_values(point)} for "
         f"{describe_objectives(like.names, runs[0].directions)}: {source}",
         _format(table))
    folder = Path(out or "moalign-compare")
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "compare.csv", index=False)
    _plot(runs, point, source, folder / "fronts.png")
    _say(f"written: {folder}{os.sep}compare.csv, {folder}{os.sep}fronts.png")
    return 0


def _format(table: pd.DataFrame) -> str:
    shown = table.rename(columns={"hv": "HV (common ref)", "hv_logged": "HV logged",
                                  "logged_at": "logged at reference"})
    return shown.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep="-")


def _plot(runs: Sequence[ComparedRun], ref: np.ndarray, source: str, path: Path) -> None:
    from moalign.tracking.plots import plot_fronts

    fronts: dict[str, np.ndarray] = {}
    for r in runs:
        label = r.label if r.label not in fronts else f"{r.label} {r.run_id[:8]}"
        fronts[label] = r.front
    problems = sorted({r.problem for r in runs if r.problem})
    title = f"compare: {', '.join(problems)}" if problems else "compare"
    caption = f"common HV reference point {show_values(ref)}: {source}"
    fig = plot_fronts(fronts, runs[0].archive, ref=ref, title=title, caption=caption)
    fig.savefig(path, dpi=110)


__all__ = ["ComparedRun", "common_reference", "compare", "compare_table", "load_run",
           "parse_ref"]
