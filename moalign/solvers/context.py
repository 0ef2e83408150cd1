"""RunContext: a solver's only door to the outside world.

The runner builds a context per run. The solver draws randomness from ``ctx.rng``, records
every evaluation with ``ctx.evaluate``/``ctx.record``, asks ``ctx.should_stop()`` and hands
its state to ``ctx.save_state``. The context keeps the archive and the budget; hooks given
by the runner do tracking, progress, pruning and checkpoint writing. A step that takes
long announces its parts with ``with ctx.phase("fit GP"):`` or
``with ctx.phase("train", total=n) as p: ... p.advance()``; the runner's progress display
shows them inside the current step (the solver never sees the display).

Checkpoint contract: a solver calls ``ctx.save_state(state)`` at a point where ``state``,
the archive and ``ctx.rng`` are consistent (right after a record). On resume the runner
restores the archive and the RNG, and ``ctx.load_state()`` returns that ``state``; the
solver then continues exactly as an uninterrupted run would.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.archive import Archive
from moalign.core.problem import Evaluation, PendingEvaluation, Problem
from moalign.core.progress import Phase


@dataclass(frozen=True)
class Budget:
    """When a run stops: after `evaluations` points, `steps` records or `seconds` of wall
    time, whichever comes first. ``None`` means unlimited; at least one must be set."""

    evaluations: int | None = None
    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.steps is None and self.seconds is None:
            raise ValueError("budget: set at least one of evaluations, steps, seconds")
        for name in ("evaluations", "steps", "seconds"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"budget.{name} must be positive, got {v}")


RecordHook = Callable[["RunContext", dict[str, float]], None]
CheckpointHook = Callable[["RunContext"], Any]


@dataclass
class Checkpoint:
    """What a checkpoint holds: enough to continue the run exactly."""

    archive: Archive
    rng_state: dict[str, Any]
    step: int
    elapsed: float
    solver_state: Any
    runner_state: Any = None


class RunContext:
    """The run a solver works in. See the module docstring for the contract.

    Args:
        problem: the problem being solved (its objectives define the archive).
        budget: when to stop.
        seed: the run's seed; ``rng`` is ``np.random.default_rng(seed)``.
        checkpoint_dir: where checkpoints go (None: no checkpoints).
        checkpoint_every: write a checkpoint every this many steps (and at the end).
        resume_from: a :class:`Checkpoint` to continue from.
        on_record: hooks called after each record with the step's metrics.
        on_checkpoint: called when a checkpoint is about to be written; its return value is
            stored as the checkpoint's ``runner_state`` (e.g. metrics not yet flushed).
        log_artifact: function storing a file with the run (tracking), or None.
    """

    def __init__(
        self,
        problem: Problem,
        budget: Budget,
        *,
        seed: int = 0,
        checkpoint_dir: str | Path | None = None,
        checkpoint_every: int = 10,
        resume_from: Checkpoint | None = None,
        on_record: list[RecordHook] | None = None,
        on_checkpoint: CheckpointHook | None = None,
        log_artifact: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self.problem = problem
        self.budget = budget
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.checkpoint_every = max(1, int(checkpoint_every))
        self._on_record = list(on_record or [])
        self._on_checkpoint = on_checkpoint
        self._log_artifact = log_artifact
        self.stop_requested = False
        self.phases: list[Phase] = []  # open phases of the current step, outermost first
        self._solver_state: Any = None
        self._last_checkpoint_step = 0
        self._in_flight: list[Submitted] = []  # submitted, not yet collected (in order)
        if resume_from is None:
            self.archive = Archive(
                problem.objectives.names, problem.objectives.maximize, problem.reference_point()
            )
            self.step = 0
            self._elapsed_before = 0.0
        else:
            self.archive = resume_from.archive
            self.rng.bit_generator.state = resume_from.rng_state
            self.step = resume_from.step
            self._elapsed_before = resume_from.elapsed
            self._solver_state = resume_from.solver_state
            self._last_checkpoint_step = resume_from.step
        self._t0 = time.monotonic()

    # -- budget ------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        """Wall seconds spent in this run, across resumes."""
        return self._elapsed_before + time.monotonic() - self._t0

    @property
    def remaining_evaluations(self) -> int | None:
        """Evaluations left in the budget, beyond those recorded and those in flight
        (:meth:`submit`); None without an evaluation budget."""
        if self.budget.evaluations is None:
            return None
        in_flight = sum(len(s.X) for s in self._in_flight)
        return max(0, self.budget.evaluations - self.archive.n_evals - in_flight)

    def should_stop(self) -> bool:
        """True once the budget is spent or a stop was requested (Ctrl-C, pruning)."""
        b = self.budget
        return (
            self.stop_requested
            or (b.evaluations is not None and self.archive.n_evals >= b.evaluations)
            or (b.steps is not None and self.step >= b.steps)
            or (b.seconds is not None and self.elapsed >= b.seconds)
        )

    # -- recording ---------------------------------------------------------------------
    def evaluate(self, X: Any, *, metrics: dict[str, float] | None = None, **kwargs: Any
                 ) -> Evaluation:
        """Evaluate `X` on the problem and record it. Rows beyond the remaining evaluation
        budget are dropped, so the returned Evaluation may be shorter than `X`."""
        left = self.remaining_evaluations
        if left is not None and len(X) > left:
            X = X[:left]
        with self.phase(f"evaluate {len(X)} points"):
            ev = self.problem.evaluate(X, **kwargs)
        self.record(X, ev.F, feasible=ev.feasible, failed=ev.failed, metrics=metrics)
        return ev

    def may_submit(self) -> bool:
        """Whether another batch may be submitted now: the run is not stopping and the
        budget (evaluations, steps) has room beyond the batches in flight."""
        b = self.budget
        if self.should_stop():
            return False
        if b.steps is not None and self.step + len(self._in_flight) >= b.steps:
            return False
        left = self.remaining_evaluations
        return left is None or left > 0

    def submit(self, X: Any, **kwargs: Any) -> Submitted:
        """Start evaluating `X` (on parallel workers, if the run has them: then this
        returns at once); :meth:`collect` records it. Rows beyond the remaining evaluation
        budget (net of the batches in flight) are dropped. Batches are collected in the
        order they were submitted, so a solver whose proposals do not depend on results
        (random search) can keep workers busy and still record the serial run's archive."""
        left = self.remaining_evaluations
        if left is not None and len(X) > left:
            X = X[:left]
        sub = Submitted(X, self.problem.submit(X, **kwargs))
        self._in_flight.append(sub)
        return sub

    def collect(self, sub: Submitted, *, metrics: dict[str, float] | None = None
                ) -> Evaluation:
        """Wait for the oldest submitted batch ``sub`` and record it as one step."""
        if not self._in_flight or self._in_flight[0] is not sub:
            raise ValueError("collect the submitted batches in the order they were submitted")
        with self.phase(f"evaluate {len(sub.X)} points"):
            ev = sub.pending.result()
        self._in_flight.pop(0)
        self.record(sub.X, ev.F, feasible=ev.feasible, failed=ev.failed, metrics=metrics)
        return ev

    def drop_in_flight(self) -> list[Any]:
        """Cancel the batches in flight (a stopping run); their points, in order, for the
        solver's checkpoint state (to submit them again on resume)."""
        dropped = [s.X for s in self._in_flight]
        for s in self._in_flight:
            s.pending.cancel()
        self._in_flight.clear()
        return dropped

    def record(
        self,
        X: Any,
        F: np.ndarray,
        *,
        feasible: np.ndarray | None = None,
        failed: np.ndarray | None = None,
        metrics: dict[str, float] | None = None,
        step: int | None = None,
    ) -> None:
        """Append a batch (`F`: `n x m`, NaN where failed) to the archive as one step.

        ``metrics`` are solver metrics for this step (loss, weights, ...); the runner adds
        hypervolume, per-objective best/mean and failure counts and logs them.
        """
        self.step = self.step + 1 if step is None else int(step)
        self.archive.append(X, F, step=self.step, feasible=feasible, failed=failed)
        m = dict(metrics or {})
        for hook in self._on_record:
            hook(self, m)

    @contextmanager
    def phase(self, label: str, total: int | None = None) -> Iterator[Phase]:
        """Announce a long part of the current step (a GP fit, an inner training loop) for
        the progress display; phases nest.

        Args:
            label: what is being done, e.g. ``"round 3: fit GP"``.
            total: units of work (call ``advance()`` on the yielded :class:`Phase` after
                each); None when unknown (the display shows the time spent).

        Example:
            >>> from moalign.testing import toy_zdt1
            >>> ctx = RunContext(toy_zdt1(), Budget(steps=1))
            >>> with ctx.phase("train", total=100) as p:
            ...     p.advance(40)
            ...     [q.describe(now=q.started) for q in ctx.phases]
            ['train 40/100']
        """
        p = Phase(label, total)
        self.phases.append(p)
        try:
            yield p
        finally:
            self.phases.remove(p)

    # -- state -------------------------------------------------------------------------
    def save_state(self, state: Any) -> None:
        """Offer the solver's state for checkpointing. Written every ``checkpoint_every``
        steps and whenever the run is about to stop; otherwise a no-op."""
        due = self.step - self._last_checkpoint_step >= self.checkpoint_every
        if self.checkpoint_dir is None or not (due or self.should_stop()):
            return
        self.write_checkpoint(state)

    def write_checkpoint(self, state: Any) -> None:
        """Write a checkpoint now (atomically: a crash leaves the previous one intact)."""
        if self.checkpoint_dir is None:
            return
        ckpt = Checkpoint(
            archive=self.archive,
            rng_state=dict(self.rng.bit_generator.state),
            step=self.step,
            elapsed=self.elapsed,
            solver_state=state,
            runner_state=self._on_checkpoint(self) if self._on_checkpoint else None,
        )
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = self.checkpoint_dir / "checkpoint.pkl"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(ckpt, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        self._last_checkpoint_step = self.step

    def load_state(self) -> Any:
        """The solver state of the checkpoint this run resumed from, or None."""
        return self._solver_state

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Store a file with the run (no-op without tracking)."""
        if self._log_artifact is not None:
            self._log_artifact(str(path), artifact_path)

    # -- helpers for solvers -------------------------------------------------------------
    def batch_size(self, wanted: int) -> int:
        """``wanted`` capped by the remaining evaluation budget."""
        left = self.remaining_evaluations
        return wanted if left is None else min(wanted, left)

    def spawn_seed(self) -> int:
        """A fresh integer seed drawn from ``ctx.rng``: the one way a solver seeds anything
        else (a ``torch.Generator``, :func:`~moalign.core.seeding.seeded_torch`, a child
        ``numpy`` generator). Resumed runs draw the same seeds, since ``ctx.rng`` is
        restored from the checkpoint."""
        return int(self.rng.integers(0, 2**31 - 1))


@dataclass
class Submitted:
    """A batch submitted with :meth:`RunContext.submit`: its points and its evaluation."""

    X: Any
    pending: PendingEvaluation


def load_checkpoint(path: str | Path) -> Checkpoint:
    with open(Path(path), "rb") as fh:
        ckpt = pickle.load(fh)
    if not isinstance(ckpt, Checkpoint):
        raise ValueError(f"{path}: not a moalign checkpoint")
    return ckpt


def standard_metrics(ctx: RunContext) -> dict[str, float]:
    """Hypervolume, evaluation counts and per-objective best/mean of the last batch."""
    a = ctx.archive
    out: dict[str, float] = {
        "hypervolume": a.hypervolume(),
        "n_evals": float(a.n_evals),
        "n_failed": float(a.n_failed),
        "front_size": float(a.front_size),
    }
    last = a.last_batch()
    best = a.best()
    for j, name in enumerate(a.names):
        if math.isfinite(best[j]):
            out[f"{name}/best"] = float(best[j])
        if len(last):
            out[f"{name}/mean"] = float(last[:, j].mean())
    return out
