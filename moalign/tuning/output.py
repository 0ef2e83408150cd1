"""The tuning (parent) MLflow run, the printed summary and Optuna's plots.

The parent run is created once per study: its id is kept in the study's user attribute
``moalign.parent_run_id``, so resuming a study (same storage, same name) continues the
same parent run and its child runs accumulate under it.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from moalign.recipes.schema import TrackingSpec
from moalign.tuning.target import Target

if TYPE_CHECKING:
    import optuna

PARENT_ATTR = "moalign.parent_run_id"


#: Suffix of the short-lived study that :func:`first_opener` uses as a lock.
LOCK_SUFFIX = ":moalign-parent-run-lock"


@contextmanager
def first_opener(study: optuna.Study, timeout: float = 60.0) -> Iterator[bool]:
    """Let one process at a time create the study's tuning run.

    Several ``moalign tune`` commands (machines) starting on a new study at once would
    each create a tuning run and overwrite each other's ``moalign.parent_run_id``,
    leaving some trials' runs under a parent the study does not name (and out of reach
    of the recovery of dead trials). Creating a study is atomic in every Optuna storage
    (a study name is unique), so the process that creates the study
    ``<name>:moalign-parent-run-lock`` holds the lock; it is deleted on leaving. The
    others wait until the tuning run is named in the study's user attributes (or the
    lock is gone), then adopt it. After ``timeout`` seconds (a holder that died) the
    lock is taken over.

    Yields:
        True when this process holds the lock.
    """
    from optuna.exceptions import DuplicatedStudyError
    from optuna.study import StudyDirection

    store = study._storage
    name = study.study_name + LOCK_SUFFIX
    deadline = time.monotonic() + timeout
    lock_id: int | None = None
    while lock_id is None:
        try:
            lock_id = store.create_new_study([StudyDirection.MINIMIZE], name)
        except DuplicatedStudyError:
            if study.user_attrs.get(PARENT_ATTR) is not None:
                yield False
                return
            if time.monotonic() > deadline:  # its holder died: take it over
                try:
                    lock_id = store.get_study_id_from_name(name)
                except KeyError:  # released meanwhile: try again
                    continue
                break
            time.sleep(0.2)
    try:
        yield True
    finally:
        try:
            store.delete_study(lock_id)
        except Exception:  # deleted by a process that took it over
            pass


class ParentRun:
    """The MLflow run of a tuning study (no-op with ``tracking.backend: none``)."""

    def __init__(self, tracking: TrackingSpec) -> None:
        self.tracking = tracking
        self.tracker: Any = None
        self.run_id: str | None = None

    def open(self, study: optuna.Study, raw_tune: dict[str, Any], target: Target,
             storage: str | None) -> str | None:
        """Start (or continue) the study's tuning run; returns its id (None without
        tracking). The first session of a study creates it, under :func:`first_opener`."""
        if self.tracking.backend != "mlflow":
            return None
        existing = study.user_attrs.get(PARENT_ATTR)
        if existing is not None:
            return self._open(study, raw_tune, target, storage)
        with first_opener(study):  # machines starting a new study at once: one creates it
            return self._open(study, raw_tune, target, storage)

    def _open(self, study: optuna.Study, raw_tune: dict[str, Any], target: Target,
              storage: str | None) -> str | None:
        from moalign.tracking.mlflow_tracker import MLflowTracker

        existing = study.user_attrs.get(PARENT_ATTR)
        tracker = MLflowTracker(self.tracking.uri, self.tracking.experiment)
        if existing is not None:
            try:
                tracker.client.get_run(existing)
                tracker.run_id = existing
            except Exception:  # another tracking store: start a new parent run
                existing = None
        tags = {"moalign.study_name": study.study_name, "moalign.role": "tune",
                "moalign.storage": storage or "in-memory", **self.tracking.tags}
        self.run_id = tracker.start(f"tune-{study.study_name}", tags)
        self.tracker = tracker
        if existing is None:
            study.set_user_attr(PARENT_ATTR, self.run_id)
            tracker.log_params({"study_name": study.study_name, "target": target.kind,
                                "target_metrics": ",".join(target.metrics),
                                "directions": ",".join(target.directions),
                                "storage": storage or "in-memory",
                                **{f"space.{k}": json.dumps(v) for k, v in
                                   (raw_tune.get("params") or {}).items()}})
            tracker.log_text(yaml.safe_dump({"tune": raw_tune}, sort_keys=False), "tune.yaml")
        return self.run_id

    def finish(self, study: optuna.Study, target: Target, status: str = "FINISHED") -> None:
        """Log the summary, the trials table, the best trials and the plots; end the run."""
        if self.tracker is None:
            return
        from optuna.trial import TrialState

        tr = self.tracker
        trials = study.get_trials(deepcopy=False)
        counts = {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}
        metrics = {"n_trials": float(len(trials)), **{f"n_{k}": float(v)
                                                       for k, v in counts.items()}}
        best = best_trials(study, target)
        if best and not target.multi_objective and best[0].value is not None:
            metrics["best_value"] = float(best[0].value)
        if target.multi_objective:
            metrics["n_pareto"] = float(len(best))
        tr.log_metrics(metrics, len(trials))
        if best:
            tr.set_tag("moalign.best_trials", ",".join(str(t.number) for t in best))
        running = [str(t.number) for t in trials if t.state == TrialState.RUNNING]
        tr.set_tag("moalign.running_trials", ",".join(running) or "none")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            (out / "best_trials.json").write_text(json.dumps(
                [trial_summary(t, target) for t in best], indent=2, default=str))
            tr.log_artifact(out / "best_trials.json", "tune")
            try:
                study.trials_dataframe().to_csv(out / "trials.csv", index=False)
                tr.log_artifact(out / "trials.csv", "tune")
            except Exception as exc:  # pragma: no cover - pandas missing/odd attrs
                print(f"note: no trials table ({exc})")
            (out / "plots").mkdir()
            saved = save_plots(study, target, out / "plots")
            if saved:
                tr.log_artifacts(out / "plots", "plots")
        tr.end(status)

    def end(self, status: str) -> None:
        if self.tracker is not None:
            self.tracker.end(status)


def best_trials(study: optuna.Study, target: Target) -> list[optuna.trial.FrozenTrial]:
    """The best trial (single objective) or the Pareto-optimal trials; empty if none
    completed."""
    from optuna.trial import TrialState

    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return []
    if target.multi_objective:
        return sorted(study.best_trials, key=lambda t: t.number)
    return [study.best_trial]


def trial_summary(t: optuna.trial.FrozenTrial, target: Target) -> dict[str, Any]:
    vals = t.values or []
    return {
        "number": t.number,
        "values": dict(zip(target.value_names, vals, strict=False)),
        "params": dict(t.params),
        "metrics": t.user_attrs.get("metrics", {}),
        "desirabilities": t.user_attrs.get("desirabilities", {}),
        "mlflow_run_id": t.user_attrs.get("mlflow_run_id"),
    }


def _plots(study: optuna.Study, target: Target) -> list[tuple[str, Callable[[], Any]]]:
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as ovm

    names = target.value_names
    out: list[tuple[str, Callable[[], Any]]] = []
    if target.multi_objective:
        if len(names) in (2, 3):
            out.append(("pareto_front", lambda: ovm.plot_pareto_front(study,
                                                                      target_names=names)))
        for i, n in enumerate(names):
            slug = n.replace("/", "_")
            out.append((f"optimization_history_{slug}", _per_objective(
                ovm.plot_optimization_history, study, i, n)))
            out.append((f"param_importances_{slug}", _per_objective(
                ovm.plot_param_importances, study, i, n)))
    else:
        out.append(("optimization_history", lambda: ovm.plot_optimization_history(
            study, target_name=names[0])))
        out.append(("param_importances", lambda: ovm.plot_param_importances(
            study, target_name=names[0])))
        if any(t.intermediate_values for t in study.get_trials(
                deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))):
            out.append(("intermediate_values", lambda: ovm.plot_intermediate_values(study)))
    return out


def _per_objective(plot: Any, study: optuna.Study, i: int, name: str) -> Callable[[], Any]:
    def value(t: optuna.trial.FrozenTrial) -> float:
        return float(t.values[i])

    return lambda: plot(study, target=value, target_name=name)


def save_plots(study: optuna.Study, target: Target, directory: Path) -> list[str]:
    """Save Optuna's matplotlib plots as PNG files; a plot that cannot be drawn (e.g.
    importances with fewer than 2 completed trials) is skipped with a note."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    n_complete = sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
    saved = []
    for name, draw in _plots(study, target):
        if name.startswith("param_importances") and n_complete < 2:
            print(f"note: skipped plot {name} (needs 2 completed trials, have {n_complete})")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax = draw()
            fig = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
            fig.savefig(directory / f"{name}.png", dpi=110, bbox_inches="tight")
            plt.close(fig)
            saved.append(name)
        except Exception as exc:
            print(f"note: skipped plot {name} ({type(exc).__name__}: {exc})")
        finally:
            plt.close("all")
    return saved


def print_summary(study: optuna.Study, target: Target, *, n_run: int, storage: str | None,
                  parent_run_id: str | None, tracking: TrackingSpec) -> None:
    """Print the study's counts, the best (or Pareto-optimal) trials and where they are."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    print(f"study '{study.study_name}' ({storage or 'in-memory'}): {len(trials)} trials "
          f"({counts_text(trials)}); {n_run} run now")
    running = [t.number for t in trials if t.state == TrialState.RUNNING]
    if running:
        print(f"still RUNNING: trial {', '.join(map(str, running))} (run by another "
              "process, or left by one that died: see docs/tuning.md, 'When a worker dies')")
    best = best_trials(study, target)
    if not best:
        print("no completed trial yet")
    elif target.multi_objective:
        print(f"Pareto-optimal trials ({len(best)}):")
        for t in best:
            _print_trial(t, target)
    else:
        print("best trial:")
        _print_trial(best[0], target)
    if parent_run_id is not None:
        from moalign.tracking.mlflow_tracker import default_tracking_uri

        uri = tracking.uri or default_tracking_uri()
        print(f"MLflow tuning run {parent_run_id} (experiment '{tracking.experiment}', "
              f"store {uri}): one child run per trial")
        print("  artifacts: tune/best_trials.json, tune/trials.csv, plots/*.png")
    if storage is not None:
        print("  continue the study: run the same command again")


def counts_text(trials: list[optuna.trial.FrozenTrial]) -> str:
    """``10 complete, 1 pruned, 1 failed, 0 running`` (``, 2 waiting`` when some are)."""
    from optuna.trial import TrialState

    n = {s: sum(t.state == s for t in trials) for s in TrialState}
    text = (f"{n[TrialState.COMPLETE]} complete, {n[TrialState.PRUNED]} pruned, "
            f"{n[TrialState.FAIL]} failed, {n[TrialState.RUNNING]} running")
    if n[TrialState.WAITING]:
        text += f", {n[TrialState.WAITING]} waiting"
    return text


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    return str(v)


def _print_trial(t: optuna.trial.FrozenTrial, target: Target) -> None:
    vals = ", ".join(f"{n} = {_fmt(v)}" for n, v in
                     zip(target.value_names, t.values or [], strict=False))
    print(f"  trial {t.number}: {vals}")
    print("    params: " + ", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items()))
    metrics = t.user_attrs.get("metrics", {})
    shown = {k: metrics[k] for k in target.metrics if k in metrics and k not in
             target.value_names}
    if shown:
        print("    metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()))
    ds = t.user_attrs.get("desirabilities") or {}
    if ds:
        print("    desirabilities: " + ", ".join(f"d({k})={_fmt(v)}" for k, v in ds.items()))
    if t.user_attrs.get("mlflow_run_id"):
        print(f"    MLflow run: {t.user_attrs['mlflow_run_id']}")
