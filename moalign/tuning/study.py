"""``tune``: an Optuna study over a recipe's parameters, each trial a full moalign run.

Example:
    >>> from moalign.tuning import tune                                    # doctest: +SKIP
    >>> res = tune("recipes/tune_desirability.yaml", n_trials=20,         # doctest: +SKIP
    ...            storage="sqlite:///tune.db", n_workers=2)
    >>> res.best_trials[0].params                                          # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moalign.core.config import ConfigError
from moalign.recipes.loader import apply_overrides, load_recipe, parse_recipe, recipe_to_dict
from moalign.recipes.schema import Recipe
from moalign.tuning.output import ParentRun, best_trials, print_summary
from moalign.tuning.recovery import RETRY_ATTR, TrialRuns, fail_running_trials
from moalign.tuning.spec import TuneSpec, parse_tune_spec
from moalign.tuning.target import Target, resolve_target
from moalign.tuning.workers import (
    WorkerExit,
    WorkerJob,
    WorkersReport,
    make_objective,
    open_study,
    run_workers,
)

if TYPE_CHECKING:
    import optuna


@dataclass
class TuneResult:
    """The outcome of :func:`tune`.

    Attributes:
        study: the Optuna study (all its trials, also those of earlier sessions).
        target: the resolved target (metric names, directions).
        parent_run_id: the MLflow tuning run, or None without tracking.
        n_run: trials run by this call (a failed trial and its retry count twice).
        storage: the storage URL or journal path (None: in memory).
        worker_exits: how each worker process ended (``n_workers > 1``), replacements
            included; ``[e for e in worker_exits if e.killed]`` are the workers that died.
    """

    study: optuna.Study
    target: Target
    parent_run_id: str | None
    n_run: int
    storage: str | None
    worker_exits: list[WorkerExit] = field(default_factory=list)

    @property
    def best_trials(self) -> list[optuna.trial.FrozenTrial]:
        """The best trial, or the Pareto-optimal trials of a multi-objective study."""
        return best_trials(self.study, self.target)


def check_search_space(recipe: Recipe, spec: TuneSpec) -> None:
    """Every parameter path must be a recipe field that accepts the values the sampler
    can produce: each extreme (``low``, ``high``, every choice) is applied and validated.

    Raises:
        ConfigError: ``tune.params.<path>: ...`` with the recipe's own complaint.
    """
    data = recipe_to_dict(recipe)
    for path, p in spec.params.items():
        for value in p.extremes():
            try:
                parse_recipe(apply_overrides(data, {path: value}))
            except ConfigError as exc:
                raise ConfigError(f"tune.params.{path}: the recipe rejects {value!r} "
                                  f"({exc})") from None


def tune(
    recipe: Recipe | str | Path,
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    n_workers: int = 1,
    *,
    overrides: Iterable[str] = (),
    smoke: bool = False,
    verbose: bool = True,
    fail_stale: bool = False,
) -> TuneResult:
    """Tune a recipe's parameters with Optuna; see docs/tuning.md.

    Args:
        recipe: a validated :class:`Recipe` with a ``tune:`` block, or a recipe file.
        n_trials: trials to run in this call (default ``tune.n_trials``); a resumed study
            keeps its earlier trials and numbers the new ones after them.
        storage: None (in memory), an Optuna RDB URL (``sqlite:///tune.db``,
            ``postgresql://...``) or a journal file path. With a storage, running the same
            call again continues the study.
        study_name: default ``tune.study_name``, else the recipe's name.
        n_workers: worker processes sharing the storage (needs ``storage``).
        overrides, smoke: as ``moalign run`` (only when ``recipe`` is a path).
        verbose: print the summary.
        fail_stale: before the first trial, mark every ``RUNNING`` trial of the study FAIL
            (its MLflow run FAILED, its parameters queued again): for a study left by a
            killed session, when no other process is running it (with a journal file
            nothing else can tell a dead session's trial from a running one).

    Returns:
        A :class:`TuneResult`. A worker that died (e.g. SIGKILL) and whose trial was
        queued again is not an error: the study still ran its trials (a note is printed).

    Raises:
        ConfigError: invalid ``tune:`` block or arguments (the message names the path), or
            every failed worker stopped on a recipe error.
        RuntimeError: a worker failed (its trial raised), a dead worker's trial could not
            be retried (``tune.heartbeat.max_retry``), or trials were left unrun.
    """

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, overrides, smoke=smoke)
    spec = parse_tune_spec(recipe.tune)
    check_search_space(recipe, spec)
    target = resolve_target(spec.target, recipe)
    n = spec.n_trials if n_trials is None else int(n_trials)
    if n < 1:
        raise ConfigError(f"--n-trials: must be >= 1, got {n}")
    if n_workers < 1:
        raise ConfigError(f"--n-workers: must be >= 1, got {n_workers}")
    if n_workers > 1 and storage is None:
        raise ConfigError(f"--n-workers {n_workers}: parallel workers share a study through "
                          "a storage; add --storage sqlite:///tune.db (or a journal file)")
    name = study_name or spec.study_name or recipe.name or "moalign-tune"
    from moalign.tuning.components import make_storage

    runs = TrialRuns.of(recipe)
    store = make_storage(storage, spec.heartbeat, runs)
    study = _create_study(name, store, storage, target)
    if fail_stale:
        _fail_stale(study, spec, runs, verbose)
    n_existing = len(study.get_trials(deepcopy=False))
    parent = ParentRun(recipe.tracking)
    parent_id = parent.open(study, dict(recipe.tune or {}), target, storage)
    job = WorkerJob(recipe, spec, target, storage, name, parent_id, n_existing=n_existing)
    try:
        if n_workers == 1:
            worker_study = open_study(job, storage=store)
            worker_study.optimize(make_objective(job), n_trials=n)
            report = WorkersReport()
        else:
            report = run_workers(job, n_workers, n, study)
    except BaseException as exc:
        parent.finish(study, target, "KILLED" if isinstance(exc, KeyboardInterrupt)
                      else "FAILED")
        raise
    errors = report.errors()
    parent.finish(study, target, "FAILED" if errors else "FINISHED")
    n_run = len(study.get_trials(deepcopy=False)) - n_existing
    if verbose:
        print_summary(study, target, n_run=n_run, storage=storage, parent_run_id=parent_id,
                      tracking=recipe.tracking)
        for note in recovery_notes(study, report):
            print(note)
    if errors:
        if report.config_error:
            raise ConfigError(f"tuning workers stopped on a recipe error "
                              f"({'; '.join(errors)}); see their messages above")
        raise RuntimeError(f"tuning workers failed ({'; '.join(errors)}); see their errors "
                           "above")
    return TuneResult(study, target, parent_id, n_run, storage, report.exits)


def _fail_stale(study: optuna.Study, spec: TuneSpec, runs: TrialRuns | None,
                verbose: bool) -> None:
    for rec in fail_running_trials(study, spec.heartbeat.max_retry, runs):
        if verbose and rec.failed:
            print(f"note: fail_stale: trial {rec.trial} was RUNNING, marked FAIL"
                  + (", its parameters queued again" if rec.retried else ""))


def recovery_notes(study: optuna.Study, report: WorkersReport) -> list[str]:
    """One line per worker that died and whose trial was retried: the retry's fate."""
    trials = study.get_trials(deepcopy=False)
    notes = []
    for ex in report.recovered:
        text = f"note: {ex.describe()}"
        retries = [t for t in trials if ex.trial is not None
                   and t.user_attrs.get(RETRY_ATTR) == ex.trial]
        if ex.recovery is not None and ex.recovery.retried and retries:
            text += "; " + ", ".join(f"retry: trial {t.number} ({t.state.name})"
                                     for t in retries)
        notes.append(text)
    if notes and not report.errors():
        notes.append("note: the study ran its trials; exit status 0")
    return notes


def _create_study(name: str, store: Any, storage: str | None, target: Target
                  ) -> optuna.Study:
    import optuna

    directions: list[Any] = list(target.directions)
    try:
        study = optuna.create_study(storage=store, study_name=name, load_if_exists=True,
                                    directions=directions)
    except ValueError as exc:
        raise ConfigError(f"study '{name}' in {storage}: {exc}") from None
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(
            f"study '{name}' in {storage} has directions "
            f"{[d.name.lower() for d in study.directions]}, this target needs {directions}; "
            "choose another --study-name")
    if study.metric_names is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ExperimentalWarning
            study.set_metric_names(target.value_names)
    elif list(study.metric_names) != target.value_names:
        raise ConfigError(f"study '{name}' in {storage} tunes {study.metric_names}, this "
                          f"recipe's target is {target.value_names}; choose another "
                          "--study-name")
    return study


def tune_from_cli(args: Any) -> int:
    """``moalign tune RECIPE [--n-trials N] [--storage URL] [--study-name S]
    [--n-workers K] [--set k=v] [--smoke]``; returns the exit code."""
    recipe = load_recipe(args.recipe, args.overrides, smoke=args.smoke)
    tune(recipe, n_trials=args.n_trials, storage=args.storage, study_name=args.study_name,
         n_workers=args.n_workers, fail_stale=args.fail_stale)
    return 0
