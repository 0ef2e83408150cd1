"""Worker processes: several ``study.optimize`` loops on one shared storage, supervised.

``--n-workers K`` starts K processes (``multiprocessing`` with ``spawn``: no state is
inherited, each imports moalign, opens the same storage and loads the study). The workers
take their trials from a shared semaphore of ``n_trials`` claims, so ``n_trials`` trials
run in all, however fast each worker is, and each worker writes into its slot of a shared
array what it holds: nothing, a claim, or the number of the trial it runs.

The ``tune`` process waits for any worker to end. A worker that dies abnormally — killed by
a signal, or ended with its trial still ``RUNNING`` — is handled at once, whatever the
storage (:func:`moalign.tuning.recovery.recover_trial`): its trial is marked FAIL, the
trial's MLflow run ended FAILED, its parameters queued again (at most
``tune.heartbeat.max_retry`` times), its claim given back, and a new worker replaces it
(at most ``n_trials`` replacements in a session). A worker that stops on an error (its
trial raised: the trial is FAIL already) is not replaced, as before: the other workers
finish and ``tune`` reports the error.
"""

from __future__ import annotations

import signal
import sys
import traceback
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.config import ConfigError
from moalign.recipes.schema import Recipe
from moalign.tuning.recovery import Recovery, TrialRuns, find_trial, recover_trial
from moalign.tuning.spec import TuneSpec
from moalign.tuning.target import Target

if TYPE_CHECKING:
    import optuna

#: Slot values besides a trial number: the worker holds nothing / a claim, no trial yet.
IDLE = -1
CLAIMED = -2


@dataclass(frozen=True)
class WorkerJob:
    """What a worker needs (picklable: sent to ``spawn`` processes)."""

    recipe: Recipe
    spec: TuneSpec
    target: Target
    storage: str | None
    study_name: str
    parent_run_id: str | None
    worker: int = 0
    n_existing: int = 0


def open_study(job: WorkerJob, storage: Any = None) -> Any:
    """Load the study with this worker's sampler and pruner."""
    import optuna

    from moalign.tuning.components import make_pruner, make_sampler, make_storage

    sampler_spec = job.spec.sampler
    seed = sampler_spec.options.get("seed")
    if seed is not None:  # distinct streams per worker and per session, reproducible
        seq = np.random.SeedSequence([int(seed), job.worker, job.n_existing])
        sampler_spec = replace(sampler_spec, options={**sampler_spec.options,
                                                      "seed": int(seq.generate_state(1)[0])})
    sampler = make_sampler(sampler_spec, job.target.multi_objective)
    pruner = make_pruner(job.spec.pruner)
    if storage is None:
        storage = make_storage(job.storage, job.spec.heartbeat, TrialRuns.of(job.recipe))
    return optuna.load_study(study_name=job.study_name, storage=storage, sampler=sampler,
                             pruner=pruner)


def make_objective(job: WorkerJob) -> Any:
    from moalign.tuning.objective import TrialObjective

    return TrialObjective(job.recipe, job.spec, job.target, study_name=job.study_name,
                          parent_run_id=job.parent_run_id)


class _Announced:
    """The objective, writing the trial's number into the worker's slot before it runs."""

    def __init__(self, objective: Any, slots: Any, slot: int) -> None:
        self.objective = objective
        self.slots = slots
        self.slot = slot

    def __call__(self, trial: optuna.Trial) -> Any:
        self.slots[self.slot] = trial.number
        return self.objective(trial)


def _claim(claims: Any, slots: Any, slot: int) -> bool:
    """Take one of the session's trials (a semaphore: a worker killed here holds no lock)."""
    if not claims.acquire(block=False):
        return False
    slots[slot] = CLAIMED
    return True


def worker_main(job: WorkerJob, claims: Any, slots: Any, slot: int) -> None:
    """Entry point of a worker process: run trials while claims are left.

    Args:
        job: what to run (``job.worker`` numbers the worker).
        claims: the session's semaphore of trials left to start.
        slots: the shared array where each worker says what it holds.
        slot: this worker's index in ``slots``.
    """
    try:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
        study = open_study(job)
        objective = _Announced(make_objective(job), slots, slot)
        while _claim(claims, slots, slot):
            study.optimize(objective, n_trials=1)
            slots[slot] = IDLE
    except KeyboardInterrupt:
        sys.exit(130)
    except ConfigError as exc:
        print(f"error: worker {job.worker}: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        print(f"error: worker {job.worker} failed:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)


def exit_text(code: int) -> str:
    """``exit 1``, or ``killed by SIGKILL`` for a negative exit code."""
    if code >= 0:
        return f"exit {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


@dataclass(frozen=True)
class WorkerExit:
    """How one worker process ended.

    Attributes:
        worker: its number (replacements get numbers after the first ``n_workers``).
        pid: its process id.
        exitcode: as ``multiprocessing`` reports it (negative: killed by that signal).
        trial: the trial it was running when it ended (None: none).
        killed: it died abnormally (a signal, or its trial left ``RUNNING``); its trial
            and claim were taken back.
        recovery: what was done to its trial.
        replaced_by: the worker started in its place.
    """

    worker: int
    pid: int | None
    exitcode: int
    trial: int | None = None
    killed: bool = False
    recovery: Recovery | None = None
    replaced_by: int | None = None

    @property
    def ok(self) -> bool:
        """A clean end, or a death whose trial was retried (or that held none)."""
        if self.exitcode == 0:
            return True
        lost = self.recovery is not None and self.recovery.failed and not self.recovery.retried
        return self.killed and not lost

    def describe(self) -> str:
        """One line: how it ended and what was done."""
        text = f"worker {self.worker} (pid {self.pid}): {exit_text(self.exitcode)}"
        if self.trial is not None:
            text += f" in trial {self.trial}"
        rec = self.recovery
        if rec is not None and rec.failed:
            text += f"; trial {rec.trial} marked FAIL"
            if rec.runs:
                text += ", its MLflow run FAILED"
            text += (", its parameters queued again" if rec.retried else
                     ", not retried (tune.heartbeat.max_retry reached)")
        elif rec is not None:
            text += f"; trial {rec.trial} had already ended"
        if self.replaced_by is not None:
            text += f"; worker {self.replaced_by} replaces it"
        return text


@dataclass
class WorkersReport:
    """The outcome of :func:`run_workers`.

    Attributes:
        exits: one entry per worker process, in the order they ended.
        unclaimed: trials of the session no worker started (replacements exhausted).
    """

    exits: list[WorkerExit] = field(default_factory=list)
    unclaimed: int = 0

    @property
    def recovered(self) -> list[WorkerExit]:
        """Workers that died abnormally and whose trial was taken care of."""
        return [e for e in self.exits if e.killed and e.ok]

    def errors(self) -> list[str]:
        """What makes the session fail (empty: it ran its trials)."""
        out = [e.describe() for e in self.exits if not e.ok]
        if self.unclaimed:
            out.append(f"{self.unclaimed} trial(s) not run: no worker left "
                       "(replacement limit reached)")
        return out

    @property
    def config_error(self) -> bool:
        """Every failure is a worker that stopped on a recipe error (exit 2)."""
        bad = [e for e in self.exits if not e.ok]
        return bool(bad) and not self.unclaimed and all(e.exitcode == 2 for e in bad)


def _unclaimed(claims: Any) -> int:
    try:
        return int(claims.get_value())
    except NotImplementedError:  # pragma: no cover - macOS: assume work is left
        return 1


class _Supervisor:
    """Starts the workers, waits for them, and handles a worker that dies."""

    def __init__(self, job: WorkerJob, n_trials: int, study: optuna.Study | None,
                 n_slots: int) -> None:
        import multiprocessing

        self.mp = multiprocessing.get_context("spawn")
        self.job = job
        self.study = study
        self.runs = TrialRuns.of(job.recipe)
        self.claims = self.mp.BoundedSemaphore(n_trials)
        self.slots = self.mp.RawArray("i", [IDLE] * n_slots)
        self.procs: dict[int, tuple[Any, int]] = {}  # slot -> (process, worker number)
        self.next_worker = n_slots
        self.restarts_left = n_trials
        self.report = WorkersReport()

    def start(self, slot: int, worker: int) -> None:
        self.slots[slot] = IDLE
        p = self.mp.Process(target=worker_main, name=f"moalign-tune-worker-{worker}",
                            args=(replace(self.job, worker=worker), self.claims, self.slots,
                                  slot))
        p.start()
        self.procs[slot] = (p, worker)

    def run(self) -> WorkersReport:
        from multiprocessing.connection import wait

        for slot in range(len(self.slots)):
            self.start(slot, slot)
        try:
            while self.procs:
                ended = set(wait([p.sentinel for p, _ in self.procs.values()]))
                for slot, (p, worker) in list(self.procs.items()):
                    if p.sentinel in ended:
                        p.join()
                        del self.procs[slot]
                        self.report.exits.append(self.ended(slot, p, worker))
        except KeyboardInterrupt:
            for p, _ in self.procs.values():  # they got the same SIGINT; let them stop
                p.join(timeout=30)
            raise
        self.report.unclaimed = _unclaimed(self.claims)
        return self.report

    def ended(self, slot: int, p: Any, worker: int) -> WorkerExit:
        """Handle the end of the worker in ``slot``: a clean exit, an error, or a death."""
        code = int(p.exitcode if p.exitcode is not None else -1)
        held = int(self.slots[slot])
        self.slots[slot] = IDLE
        trial = held if held >= 0 else None
        if code == 0:
            return WorkerExit(worker, p.pid, code)
        if not self.died(code, trial):
            return WorkerExit(worker, p.pid, code, trial)
        recovery = None
        if trial is not None and self.study is not None:
            recovery = recover_trial(self.study, trial, self.job.spec.heartbeat.max_retry,
                                     self.runs)
        if held == CLAIMED or (recovery is not None and recovery.failed):
            self.claims.release()  # its trial is to be run again, by another worker
        replaced_by = self.replace(slot)
        ex = WorkerExit(worker, p.pid, code, trial, True, recovery, replaced_by)
        print(f"warning: {ex.describe()}", file=sys.stderr, flush=True)
        return ex

    def died(self, code: int, trial: int | None) -> bool:
        """Killed by a signal, or ended with its trial still ``RUNNING``."""
        from optuna.trial import TrialState

        if code < 0:
            return True
        if trial is None or self.study is None:
            return False
        t = find_trial(self.study, trial)
        return t is not None and t.state == TrialState.RUNNING

    def replace(self, slot: int) -> int | None:
        """Start a worker in ``slot`` if trials are left and the limit allows."""
        if _unclaimed(self.claims) <= 0 or self.restarts_left <= 0:
            return None
        self.restarts_left -= 1
        worker, self.next_worker = self.next_worker, self.next_worker + 1
        self.start(slot, worker)
        return worker


def run_workers(job: WorkerJob, n_workers: int, n_trials: int,
                study: optuna.Study | None = None) -> WorkersReport:
    """Run ``n_trials`` trials on ``n_workers`` spawned processes, replacing a worker that
    dies (see the module docstring).

    Args:
        job: what every worker runs.
        n_workers: processes running at a time.
        n_trials: trials to run in all.
        study: the study, opened in this process: the trial of a worker that dies is
            failed and queued again through it (None: a dead worker's trial is left as is).

    Returns:
        How each worker ended.
    """
    return _Supervisor(job, n_trials, study, n_workers).run()
