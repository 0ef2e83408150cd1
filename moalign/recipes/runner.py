"""The runner: one solver on one problem, tracked, checkpointed, resumable.

:func:`optimize` is the Python API (like pymoo's ``minimize``); :func:`run_recipe` runs a
validated recipe; the CLI is a thin layer over both. Per step the runner logs the
hypervolume of the archive's front, per-objective best/mean and failure counts (at the
steps :class:`~moalign.tracking.schedule.MetricSchedule` picks: all of a run of slow
steps, a thinned set of a run of fast ones, always the last) and the solver's own metrics
(every step); buffered and written with ``log_batch`` at most every ``flush_seconds`` at
checkpoints; the unwritten rest is stored in the checkpoint, so a resumed run logs every
step at most once. At the end it logs the front (CSV and MLflow
table), all evaluations, plots and the solver's learned model.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from moalign.core.parallel import open_evaluator
from moalign.core.problem import Problem
from moalign.core.space import Box
from moalign.recipes.interrupts import Interrupted, graceful_stop
from moalign.recipes.loader import RecipeError, dump_recipe, prepare
from moalign.recipes.portable import portable_recipe_yaml
from moalign.recipes.progress import RunProgress
from moalign.recipes.schema import Recipe
from moalign.solvers import Budget, Result, RunContext, Solver, get_solver
from moalign.solvers.context import (
    Checkpoint,
    RecordHook,
    load_checkpoint,
    standard_metrics,
)
from moalign.tracking.base import NullTracker, Tracker
from moalign.tracking.mlflow_tracker import DEFAULT_DIR, MLflowTracker, default_tracking_uri
from moalign.tracking.reference import prepare_run_reference
from moalign.tracking.run_info import default_run_name, flatten, problem_params, source_tags
from moalign.tracking.schedule import MetricSchedule
from moalign.tracking.uri_check import check_tracking_uri

DEFAULT_CHECKPOINT_ROOT = f"{DEFAULT_DIR}/checkpoints"
API_EXPERIMENT = "moalign-api"
"""The MLflow experiment of :func:`optimize` runs unless told otherwise."""


@dataclass
class RunSettings:
    """How to run, besides what to run."""

    seed: int = 0
    run_name: str | None = None
    tracker: Tracker = field(default_factory=NullTracker)
    checkpoint_dir: Path | None = None
    checkpoint_every: int = 10
    resume_from: Checkpoint | None = None
    progress: bool = True
    plots: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    recipe_yaml: str | None = None
    recipe_artifact: str | None = None
    on_record: list[RecordHook] = field(default_factory=list)
    step_hooks: list[RecordHook] = field(default_factory=list)
    flush_seconds: float = 10.0
    evaluation: Any = None
    """``recipe_yaml``: the resolved recipe kept with the checkpoints (absolute file
    references, for ``--resume``); ``recipe_artifact``: the copy logged as ``recipe.yaml``
    (:mod:`moalign.recipes.portable`; default ``recipe_yaml``). ``on_record`` hooks run
    after every record; ``step_hooks`` only track, and run with the runner's metrics at the
    steps :class:`~moalign.tracking.schedule.MetricSchedule` logs. ``evaluation``: where
    batches are evaluated (None: here; else a recipe's ``evaluation``, a backend name or an
    Executor, :func:`~moalign.core.parallel.open_evaluator`)."""


class RunFinishedError(Exception):
    """``--resume`` of a run that has already finished: there is nothing to continue."""


FINISHED_MARKER = "finished.json"


def run_tags(problem: Problem, solver: Solver, settings: RunSettings) -> dict[str, str]:
    """The solver, the problem, the moalign version and git commit
    (:func:`~moalign.tracking.run_info.source_tags`), then ``settings.tags``."""
    return {"moalign.solver": solver.name, "moalign.problem": problem.name,
            **source_tags(), **settings.tags}


def execute(problem: Problem, solver: Solver, budget: Budget, settings: RunSettings) -> Result:
    """Run ``solver`` on ``problem`` within ``budget``; see the module docstring.

    Opens the tracker's run unless the caller already did. Any exception, in the solver or
    in the post-run phase, ends the run as FAILED (KILLED for Ctrl-C) before it propagates;
    a run whose every evaluation failed ends FAILED with ``result.info["failure"]``. A run
    stopped by SIGINT/SIGTERM ends KILLED with ``result.info["interrupted"]`` (the signal
    and the checkpoint folder; :mod:`moalign.recipes.interrupts`).
    """
    tracker = settings.tracker
    if tracker.run_id is None:
        tracker.start(settings.run_name or default_run_name(problem, solver.name),
                      run_tags(problem, solver, settings))
    try:  # the HV reference shared by the experiment's runs (moalign.tracking.reference)
        problem, ref_hook = prepare_run_reference(
            problem, tracker, resumed=settings.resume_from is not None)
        settings = replace(settings, step_hooks=[ref_hook, *settings.step_hooks])
        with open_evaluator(settings.evaluation) as evaluator:
            if evaluator is not None:  # batches go to its workers (moalign.core.parallel)
                problem = problem.with_evaluator(evaluator)
            result, status = _solve(problem, solver, budget, settings)
            if evaluator is not None:
                result.info["evaluation"] = vars(evaluator.stats)
    except BaseException as exc:
        if settings.checkpoint_dir is not None:
            tracker.discard_buffer()  # steps after the last checkpoint are redone on resume
        _end_quietly(tracker, exc, settings.checkpoint_dir)
        raise
    try:
        archive = result.archive
        if status == "FINISHED" and archive.n_evals and archive.n_failed == archive.n_evals:
            status = "FAILED"
            result.info["failure"] = all_failed_message(problem, archive.n_evals)
            tracker.set_tag("moalign.failure", result.info["failure"][:500])
        _log_outputs(result, problem, tracker, settings.plots, solver.name, settings.run_name)
        tracker.end(status)
    except BaseException as exc:
        _end_quietly(tracker, exc, settings.checkpoint_dir)
        raise
    if settings.checkpoint_dir is not None and status != "KILLED":
        marker = {"status": status, "failure": result.info.get("failure")}
        (settings.checkpoint_dir / FINISHED_MARKER).write_text(json.dumps(marker))
    return result


def _solve(problem: Problem, solver: Solver, budget: Budget, settings: RunSettings
           ) -> tuple[Result, str]:
    """Log the run's parameters, run the solver with tracking hooks, flush the metrics.
    Returns the result and the run's status (FINISHED, or KILLED after a Ctrl-C stop)."""
    tracker = settings.tracker
    if settings.checkpoint_dir is not None:
        ckpt_dir = settings.checkpoint_dir
        if settings.recipe_yaml is not None:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            (ckpt_dir / "recipe.yaml").write_text(settings.recipe_yaml)
        tracker.set_tag("moalign.checkpoint_dir", str(ckpt_dir.resolve()))
    if settings.resume_from is None:
        tracker.log_params(_run_params(problem, solver, budget, settings))
        recipe_artifact = settings.recipe_artifact or settings.recipe_yaml
        if recipe_artifact is not None:
            tracker.log_text(recipe_artifact, "recipe.yaml")
    timer = _Timer()
    progress = RunProgress(budget, enabled=settings.progress)
    schedule = MetricSchedule()
    tracking = tracker.run_id is not None or settings.progress
    steps: dict[str, Any] = {"hv": 0.0, "recorded": None, "logged": None}

    def track(ctx: RunContext, metrics: dict[str, float]) -> None:
        """The runner's metrics and the step hooks, for the step just recorded."""
        start = time.perf_counter()
        values = standard_metrics(ctx)
        values.update(metrics)
        tracker.log_metrics(values, ctx.step)
        for hook in settings.step_hooks:
            hook(ctx, metrics)
        schedule.mark(time.perf_counter() - start, rows=len(values) + len(settings.step_hooks))
        steps.update(hv=values["hypervolume"], logged=ctx.step)

    def log_step(ctx: RunContext, metrics: dict[str, float]) -> None:
        steps["recorded"] = ctx.step
        if not tracking:  # nothing to show or record
            return
        with timer:
            if schedule.due(final=ctx.should_stop()):
                track(ctx, metrics)
            elif metrics:  # the solver's own metrics: every step
                tracker.log_metrics(metrics, ctx.step)
        progress.update(ctx, steps["hv"])

    last_flush = [time.monotonic()]

    def on_checkpoint(ctx: RunContext) -> list[Any]:
        """Flush if due; the rest of the buffer travels inside the checkpoint."""
        with timer:
            if time.monotonic() - last_flush[0] >= settings.flush_seconds:
                tracker.flush()
                last_flush[0] = time.monotonic()
            return tracker.pending()

    if settings.resume_from is not None and settings.resume_from.runner_state:
        tracker.restore_pending(settings.resume_from.runner_state)

    ctx = RunContext(
        problem, budget, seed=settings.seed,
        checkpoint_dir=settings.checkpoint_dir, checkpoint_every=settings.checkpoint_every,
        resume_from=settings.resume_from, on_record=[log_step, *settings.on_record],
        on_checkpoint=on_checkpoint,
        log_artifact=tracker.log_artifact if tracker.run_id else None,
    )
    t0 = time.monotonic()
    with progress.watching(ctx), graceful_stop(ctx) as stop:
        result = solver.solve(problem, ctx)
    result.run_id = tracker.run_id
    if stop.signum is not None:  # resumable from the checkpoint the solver just wrote
        ckpt = settings.checkpoint_dir
        result.info["interrupted"] = {"signal": stop.name,
                                      "checkpoint_dir": None if ckpt is None else str(ckpt)}
    with timer:
        if tracking and steps["recorded"] not in (None, steps["logged"]):
            track(ctx, {})  # the last step is always logged
        tracker.flush()
        tracker.wait()
    result.info.setdefault("wall_seconds", time.monotonic() - t0)
    result.info["tracking_seconds"] = timer.total
    return result, "KILLED" if ctx.stop_requested else "FINISHED"


def _end_quietly(tracker: Tracker, exc: BaseException, checkpoint_dir: Path | None = None
                 ) -> None:
    """End the run after ``exc``; a tracking failure here must not hide ``exc``. An
    :class:`Interrupted` learns the run's checkpoint folder (to say how to resume)."""
    if isinstance(exc, Interrupted) and exc.checkpoint_dir is None:
        exc.checkpoint_dir = checkpoint_dir
    with suppress(Exception):
        tracker.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")


def all_failed_message(problem: Problem, n_evals: int) -> str:
    """Why every evaluation failed, as far as the objectives know."""
    reasons = [f"objective {o.name!r} {o.failures.first_error}"
               for o in problem.objectives if o.failures.first_error]
    why = "; ".join(reasons) or "the objectives returned NaN or None"
    return f"every evaluation failed ({n_evals} of {n_evals}): {why}"


def _run_params(problem: Problem, solver: Solver, budget: Budget, s: RunSettings
                ) -> dict[str, Any]:
    from moalign.core.config import config_to_dict

    ref = problem.reference_point()
    params: dict[str, Any] = {
        "solver": solver.name, "problem": problem.name, "seed": s.seed,
        "objectives": ",".join(problem.objectives.names),
        "directions": ",".join(problem.objectives.directions),
        "ref_point": "initial" if ref is None else ",".join(f"{v:.10g}" for v in ref),
        **{f"budget.{k}": v for k, v in vars(budget).items() if v is not None},
        **flatten("solver", config_to_dict(solver.config)),
    }
    params.update(s.params)
    params.update(problem_params(problem))
    return params


def _log_outputs(result: Result, problem: Problem, tracker: Tracker, plots: bool,
                 solver_name: str = "", run_name: str | None = None) -> None:
    """Front CSV + table, all evaluations, plots and the learned model."""
    if tracker.run_id is None:
        return
    from moalign.tracking.plots import RunLabel, save_run_plots
    from moalign.tracking.report import ARCHIVE_META, archive_meta

    archive = result.archive
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        front = archive.pareto().to_frame()
        front.to_csv(out / "front.csv", index=False)
        archive.to_frame().to_csv(out / "evaluations.csv", index=False)
        tracker.log_artifact(out / "front.csv")
        tracker.log_artifact(out / "evaluations.csv")
        tracker.log_text(json.dumps(archive_meta(archive), indent=2), ARCHIVE_META)
        tracker.log_table(front.drop(columns=["x"], errors="ignore"), "front_table.json")
        tracker.log_text(json.dumps(result.info, indent=2, default=_plain), "result_info.json")
        if plots and archive.n_evals:
            true_front = problem.pareto_front(500) if len(problem.objectives) <= 3 else None
            label = RunLabel(problem.name, solver_name, run_name)
            save_run_plots(archive, out / "plots", label, true_front,
                           history=tracker.metric_history)
            tracker.log_artifacts(out / "plots", "plots")
        if result.model is not None and hasattr(result.model, "save"):
            step = int(archive.step.max()) if archive.n_evals else 0
            _log_model(result.model, out, tracker, step)


def _log_model(model: Any, out: Path, tracker: Tracker, step: int = 0) -> None:
    """A model that predicts: an MLflow pyfunc LoggedModel (:mod:`moalign.tracking.pyfunc`);
    any other: its ``save`` output as a folder of run artifacts."""
    name = getattr(model, "artifact_name", "model")
    if hasattr(model, "predict"):
        from moalign.tracking.pyfunc import save_pyfunc_model

        def write(path: Path, mlflow_model: Any) -> None:
            save_pyfunc_model(model, path, mlflow_model=mlflow_model)

        tracker.log_model(name, write, step=step)
        return
    target = out / name
    target.mkdir()
    model.save(target)
    tracker.log_artifacts(target, name)


def _plain(value: Any) -> Any:
    """JSON fallback for numpy values in ``Result.info``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class _Timer:
    """Accumulates the seconds spent inside ``with timer:`` blocks."""

    def __init__(self) -> None:
        self.total = 0.0

    def __enter__(self) -> None:
        self._t = time.perf_counter()

    def __exit__(self, *exc: Any) -> None:
        self.total += time.perf_counter() - self._t


# -- public entry points ---------------------------------------------------------------


RANK_VARIABLES = ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")
"""Where launchers put a process's rank: torchrun/``accelerate launch --multi_gpu``, then
the MPI launchers (``accelerate launch --cpu --mpirun_hostfile``), as accelerate reads them."""


def process_rank() -> int:
    """This process's rank under torchrun, ``accelerate launch`` or mpirun, else 0.
    Every rank runs the solver; only rank 0 tracks, checkpoints and shows progress."""
    for name in RANK_VARIABLES:
        if name in os.environ:
            try:
                return int(os.environ[name])
            except ValueError:
                return 0
    return 0


def lone_process_warning(env: Mapping[str, str]) -> str | None:
    """A warning when ``accelerate launch`` was asked for several processes but started one.

    accelerate's simple launcher (``--cpu`` without ``--mpirun_hostfile``) sets
    ``MASTER_PORT`` when ``--num_processes`` > 1 and then starts a single process, which
    trains alone; no rank variable is set.
    """
    asked = "ACCELERATE_USE_CPU" in env and "MASTER_PORT" in env
    if not asked or any(name in env for name in RANK_VARIABLES):
        return None
    return ("warning: accelerate started 1 process although --num_processes > 1 (with --cpu "
            "it starts several only through mpirun, --mpirun_hostfile); for several CPU "
            "processes run `accelerate launch --multi_gpu --num_processes N -m moalign.cli "
            "run ...` (torchrun; the recipe's use_cpu: true keeps it on CPU with gloo) or "
            "`torchrun --nproc_per_node N -m moalign.cli run ...`")


def make_tracker(backend: str, uri: str | None = None, experiment: str = "moalign", *,
                 run_id: str | None = None, parent_run_id: str | None = None) -> Tracker:
    if backend == "none":
        return NullTracker()
    return MLflowTracker(uri, experiment, run_id=run_id, parent_run_id=parent_run_id)


def run_recipe(
    recipe: Recipe,
    *,
    resume_run_id: str | None = None,
    progress: bool = True,
    parent_run_id: str | None = None,
    on_record: Sequence[RecordHook] = (),
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
) -> Result:
    """Run a validated recipe; with ``resume_run_id``, continue that run from its last
    checkpoint (or from the start if it was killed before its first checkpoint).

    The problem and the solver are built before a run is opened, so a recipe that fails
    to build leaves no run behind. One process at a time holds a run (a lock in its
    checkpoint folder). The run is named ``run_name`` (``moalign run`` passes the recipe's
    name and its ``--set`` overrides), else the recipe's ``name``, else
    ``<problem>-<solver>``; a resumed run keeps its name. Params: the problem's factory
    arguments as ``problem.<key>`` besides what :func:`execute` logs; tag
    ``moalign.recipe``: the recipe's name.

    Raises:
        RecipeError: bad recipe, unknown ``resume_run_id``, or a run held by another process.
        RunFinishedError: ``resume_run_id`` names a run that has already finished.
        TrackingStoreError: the tracking store cannot be reached or written (checked
            in seconds, before anything is built).
    """
    if recipe.tracking.backend != "none" and process_rank() == 0:
        check_tracking_uri(recipe.tracking.uri)
    problem, solver = prepare(recipe)
    tr = recipe.tracking
    main_process = process_rank() == 0
    backend = tr.backend if main_process else "none"  # other ranks: no run, no checkpoints
    tracker = make_tracker(backend, tr.uri, tr.experiment, run_id=resume_run_id,
                           parent_run_id=parent_run_id)
    root = Path(recipe.checkpoint.dir or DEFAULT_CHECKPOINT_ROOT)
    recipe_tag = {"moalign.recipe": recipe.name} if recipe.name else {}
    settings = RunSettings(
        seed=recipe.seed, run_name=run_name or recipe.name, tracker=tracker,
        checkpoint_every=recipe.checkpoint.every, progress=progress and main_process,
        plots=tr.plots, tags={**recipe_tag, **tr.tags, **(tags or {})},
        recipe_yaml=dump_recipe(recipe), recipe_artifact=portable_recipe_yaml(recipe),
        params=flatten("problem", recipe.problem.params), on_record=list(on_record),
        evaluation=recipe.evaluation,
    )
    with ExitStack() as held:
        if resume_run_id is not None:
            ckpt_dir = root / resume_run_id
            if backend != "none" and tracker.run_status() is None:
                raise RecipeError(f"--resume {resume_run_id}: no such run in the tracking "
                                  f"store {tr.uri or default_tracking_uri()}")
            if main_process:
                held.enter_context(run_lock(ckpt_dir, resume_run_id))
            settings.resume_from = _resume_point(ckpt_dir, resume_run_id, tracker)
            settings.run_name = tracker.run_name() or settings.run_name
        tracker.start(settings.run_name or default_run_name(problem, solver.name),
                      run_tags(problem, solver, settings))
        run_key = resume_run_id or tracker.run_id or f"local-{uuid.uuid4().hex[:12]}"
        if main_process:
            settings.checkpoint_dir = root / run_key
            if resume_run_id is None:
                try:
                    held.enter_context(run_lock(settings.checkpoint_dir, run_key))
                except BaseException as exc:
                    _end_quietly(tracker, exc)
                    raise
        return execute(problem, solver, recipe.budget, settings)
    raise AssertionError("unreachable")  # pragma: no cover (mypy: ExitStack may swallow)


@contextmanager
def run_lock(ckpt_dir: Path, run_key: str) -> Iterator[None]:
    """Hold ``<ckpt_dir>/run.lock`` while a process runs the run; a second process gets a
    one-line error instead of racing the first on the checkpoint."""
    from filelock import FileLock, Timeout

    ckpt_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(ckpt_dir / "run.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RecipeError(f"run {run_key} is held by another moalign process (lock "
                          f"{ckpt_dir / 'run.lock'}); wait for it to end or stop it") from None
    try:
        yield
    finally:
        lock.release()


def _resume_point(ckpt_dir: Path, run_key: str, tracker: Tracker) -> Checkpoint | None:
    """The checkpoint to resume from (None: killed before its first checkpoint).

    Raises:
        RunFinishedError: the run has already finished.
    """
    marker = ckpt_dir / FINISHED_MARKER
    if marker.exists() or tracker.run_status() == "FINISHED":
        status = json.loads(marker.read_text())["status"] if marker.exists() else "FINISHED"
        raise RunFinishedError(f"run {run_key} has already finished ({status}); nothing to "
                               f"resume. `moalign report {run_key}` shows its results")
    path = ckpt_dir / "checkpoint.pkl"
    if not path.exists():
        return None
    try:
        return load_checkpoint(path)
    except Exception as exc:
        raise RecipeError(f"--resume {run_key}: cannot read {path} ({type(exc).__name__}: "
                          f"{exc}); the run cannot be resumed") from None


def optimize(
    problem: Any,
    solver: str | Solver = "nsga2",
    config: Mapping[str, Any] | None = None,
    *,
    budget: Budget | int | Mapping[str, Any] = 1000,
    bounds: Sequence[tuple[float, float]] | None = None,
    seed: int = 0,
    tracking: str | Tracker | None = None,
    experiment: str = API_EXPERIMENT,
    run_name: str | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 10,
    progress: bool = False,
    executor: Any = None,
) -> Result:
    """Solve a multi-objective problem, like pymoo's ``minimize``.

    Args:
        problem: a :class:`Problem`, a pymoo or BoTorch problem, or a list of objectives
            (callables or :class:`Objective`) together with ``bounds``.
        solver: registered name (``moalign list``) or a Solver instance.
        config: the solver's Config fields (when ``solver`` is a name).
        budget: a Budget, a number of evaluations, or a mapping of Budget fields.
        bounds: ``[(low, high), ...]`` when ``problem`` is a list of objectives.
        seed: same seed, same result.
        tracking: None/"none" (no tracking), "mlflow" (default local store), an MLflow
            tracking URI, or a Tracker.
        experiment: the MLflow experiment (default ``moalign-api``: every API run in one
            place, apart from recipe runs).
        run_name: the MLflow run's name (default ``<problem>-<solver>``, e.g.
            ``zdt1-nsga2``; a plain list of objectives: ``cost+quality-nsga2``).
        checkpoint_dir: write checkpoints there (resume with ``resume=``-style recipes).
        executor: evaluate batches in parallel: any :class:`concurrent.futures.Executor`
            (used as is, not shut down), a backend name (``"processes"``, ``"dask"``,
            ``"ray"``) or a mapping like a recipe's ``evaluation`` (``{"backend": "dask",
            "workers": 4, "chunk": 2}``); None evaluates in this process. Same seed,
            same result, whatever the executor (:mod:`moalign.core.parallel`).

    Returns:
        The :class:`Result` (archive, front, learned model, run id).

    Example:
        >>> import numpy as np
        >>> res = optimize([lambda x: x[:, 0], lambda x: 1 - np.sqrt(x[:, 0])],
        ...                solver="random", bounds=[(0, 1)], budget=50)
        >>> len(res.front) > 0
        True
    """
    from moalign.problems.adapters import as_problem

    if isinstance(problem, list | tuple):
        if bounds is None:
            raise ValueError("optimize: pass bounds=[(low, high), ...] with plain objectives")
        lo, hi = zip(*bounds, strict=True)
        problem = Problem(Box(lo, hi), list(problem))
    problem = as_problem(problem)
    if isinstance(budget, int):
        budget = Budget(evaluations=budget)
    elif isinstance(budget, Mapping):
        budget = Budget(**budget)
    solver_obj = solver if isinstance(solver, Solver) else get_solver(solver)(dict(config or {}))
    if tracking is None or tracking == "none":
        tracker: Tracker = NullTracker()
    elif isinstance(tracking, str):
        check_tracking_uri(None if tracking == "mlflow" else tracking)
        tracker = MLflowTracker(None if tracking == "mlflow" else tracking, experiment)
    else:
        tracker = tracking
    settings = RunSettings(
        seed=seed, run_name=run_name, tracker=tracker,
        checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir else None,
        checkpoint_every=checkpoint_every, progress=progress, evaluation=executor,
    )
    return execute(problem, solver_obj, budget, settings)


def resume_recipe_path(run_id: str, checkpoint_root: str | Path | None = None) -> Path:
    """The resolved recipe saved with a run's checkpoints."""
    root = Path(checkpoint_root or DEFAULT_CHECKPOINT_ROOT)
    path = root / run_id / "recipe.yaml"
    if not path.exists():
        raise FileNotFoundError(
            f"--resume {run_id}: no checkpoint folder {root / run_id}; pass "
            f"--checkpoint-dir if the recipe set checkpoint.dir")
    return path


__all__ = ["RunFinishedError", "RunSettings", "execute", "optimize", "resume_recipe_path",
           "run_recipe"]
