"""Trials whose process died: fail the trial and its MLflow run, queue its parameters again.

A trial is left ``RUNNING`` when the process running it dies (a signal, the OOM killer, a
lost machine). It is found in one of three ways:

* local workers (``--n-workers K``): the ``tune`` process knows which trial each worker
  runs and handles a worker's death at once (:func:`moalign.tuning.workers.run_workers`),
  with any storage;
* RDB storages: Optuna's heartbeat. Any worker of the study, on any machine, fails a trial
  whose heartbeat is older than ``grace_period`` before it starts its next trial, and calls
  :class:`StaleTrialCallback`;
* on request (``tune(..., fail_stale=True)``): every ``RUNNING`` trial of the study, for
  when the caller knows that no other process runs the study.

Either way the same three things happen: the trial is marked ``FAIL``; its MLflow child
run, if still ``RUNNING``, is ended ``FAILED`` with tag ``moalign.trial_state = FAIL``;
and its parameters are queued again as a ``WAITING`` trial, which the next free worker
runs. The retry carries Optuna's system attributes ``failed_trial`` and
``retry_history`` (as ``RetryHeartbeatStaleTrialCallback``, so Optuna's
``retried_trial_number`` and ``retry_history`` work) and the user attribute
``moalign.retry_of`` (the number of the trial it repeats). A series of retries of one
trial stops after ``max_retry`` retries (``tune.heartbeat.max_retry``).
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moalign.recipes.schema import Recipe, TrackingSpec
from moalign.tuning.objective import TAG_STATE, TAG_STUDY, TAG_TRIAL, trial_run_name
from moalign.tuning.output import PARENT_ATTR

if TYPE_CHECKING:
    import optuna

#: User attribute of a retried trial: the number of the trial it runs again.
RETRY_ATTR = "moalign.retry_of"


@dataclass(frozen=True)
class TrialRuns:
    """Where the MLflow child runs of a study's trials are (picklable).

    Attributes:
        tracking: the recipe's tracking spec (URI and experiment).
        base_name: the recipe's name; trial t's run is named ``<base_name>-trial-<t>``.
    """

    tracking: TrackingSpec
    base_name: str

    @classmethod
    def of(cls, recipe: Recipe) -> TrialRuns | None:
        """The runs of a recipe's trials; None with ``tracking.backend: none``."""
        if recipe.tracking.backend != "mlflow":
            return None
        return cls(recipe.tracking, recipe.name or "moalign")

    def fail(self, study: optuna.Study, number: int) -> list[str]:
        """End trial ``number``'s child runs that are still ``RUNNING`` as ``FAILED``.

        Never raises: a tracking store that cannot be reached is reported on stderr.

        Returns:
            The ids of the runs ended.
        """
        try:
            return self._fail(study.study_name, number, study.user_attrs.get(PARENT_ATTR))
        except Exception as exc:  # the trial's recovery must not depend on MLflow
            print(f"warning: could not mark the MLflow run of trial {number} FAILED "
                  f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return []

    def _fail(self, study_name: str, number: int, parent_run_id: str | None) -> list[str]:
        from moalign.tracking.mlflow_tracker import open_client

        client = open_client(self.tracking.uri)  # an explicit MlflowClient, no global URI
        exp = client.get_experiment_by_name(self.tracking.experiment)
        if exp is None:
            return []
        ended = []
        for run in self._find(client, exp.experiment_id, study_name, number, parent_run_id):
            if run.info.status == "RUNNING":
                client.set_tag(run.info.run_id, TAG_STATE, "FAIL")
                client.set_terminated(run.info.run_id, status="FAILED")
                ended.append(run.info.run_id)
        return ended

    def _find(self, client: Any, experiment_id: str, study_name: str, number: int,
              parent_run_id: str | None) -> list[Any]:
        """The trial's runs: by their trial tags, and by their name under the study's
        tuning run (a run created before its tags were set)."""
        clauses = [f"tags.`{TAG_TRIAL}` = '{number}'"]
        if _quotable(study_name):
            clauses.append(f"tags.`{TAG_STUDY}` = {_quote(study_name)}")
        if parent_run_id is not None:
            clauses.append(f"tags.`mlflow.parentRunId` = '{parent_run_id}'")
        filters = [" and ".join(clauses)]
        name = trial_run_name(self.base_name, number)
        if parent_run_id is not None and _quotable(name):
            filters.append(f"tags.`mlflow.parentRunId` = '{parent_run_id}' and "
                           f"attributes.run_name = {_quote(name)}")
        runs: dict[str, Any] = {}
        for f in filters:
            for run in client.search_runs([experiment_id], f, max_results=100):
                runs[run.info.run_id] = run
        return list(runs.values())


def _quotable(value: str) -> bool:
    return "'" not in value or '"' not in value


def _quote(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


def requeue(study: optuna.Study, trial: optuna.trial.FrozenTrial, max_retry: int | None
            ) -> bool:
    """Queue a failed trial's parameters again as a ``WAITING`` trial (see module doc).

    Args:
        study: the trial's study.
        trial: the failed trial.
        max_retry: retries allowed per original trial (None: no limit).

    Returns:
        False when the limit is reached (nothing queued).
    """
    import optuna

    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if max_retry is not None and len(history) > max_retry:
        return False
    system_attrs = {**trial.system_attrs, "retry_history": history,
                    "failed_trial": trial.system_attrs.get("failed_trial", trial.number)}
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params=trial.params,
        distributions=trial.distributions, user_attrs={RETRY_ATTR: trial.number},
        system_attrs=system_attrs))
    return True


def find_trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial | None:
    """Trial ``number`` of the study, as stored now."""
    for t in study.get_trials(deepcopy=False):
        if t.number == number:
            return t
    return None


def fail_if_running(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial | None:
    """Mark trial ``number`` FAIL if it is ``RUNNING`` (as Optuna's ``fail_stale_trials``).

    Returns:
        The failed trial, or None if it was not ``RUNNING`` or another process finished
        it first.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    trial = find_trial(study, number)
    if trial is None or trial.state != TrialState.RUNNING:
        return None
    storage = study._storage  # the study's own (cached) view, as Optuna's heartbeat uses
    try:
        if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            return None
    except UpdateFinishedTrialError:
        return None
    return copy.deepcopy(storage.get_trial(trial._trial_id))


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover_trial` did to one trial.

    Attributes:
        trial: the trial's number.
        failed: this call marked it FAIL (False: it was no longer ``RUNNING``).
        retried: its parameters were queued again.
        runs: MLflow runs ended ``FAILED``.
    """

    trial: int
    failed: bool
    retried: bool = False
    runs: tuple[str, ...] = ()


def recover_trial(study: optuna.Study, number: int, max_retry: int | None,
                  runs: TrialRuns | None) -> Recovery:
    """Fail trial ``number`` if it is still ``RUNNING``, end its MLflow run ``FAILED`` and
    queue its parameters again (at most ``max_retry`` times)."""
    failed = fail_if_running(study, number)
    if failed is None:
        return Recovery(number, failed=False)
    ended = tuple(runs.fail(study, number)) if runs is not None else ()
    return Recovery(number, failed=True, retried=requeue(study, failed, max_retry),
                    runs=ended)


def fail_running_trials(study: optuna.Study, max_retry: int | None,
                        runs: TrialRuns | None) -> list[Recovery]:
    """:func:`recover_trial` for every ``RUNNING`` trial (only safe when no other process
    runs the study)."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [recover_trial(study, t.number, max_retry, runs) for t in running]


class StaleTrialCallback:
    """Optuna's ``heartbeat_stale_trial_callback`` for RDB storages: end the stale trial's
    MLflow run ``FAILED`` and queue its parameters again.

    Args:
        max_retry: retries allowed per original trial.
        runs: where the trials' MLflow runs are (None: no tracking).
    """

    def __init__(self, max_retry: int | None, runs: TrialRuns | None = None) -> None:
        self.max_retry = max_retry
        self.runs = runs

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.runs is not None:
            self.runs.fail(study, trial.number)
        requeue(study, trial, self.max_retry)
