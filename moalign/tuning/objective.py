"""The Optuna objective: one trial is one full moalign run, an MLflow child run.

For trial ``t`` the objective samples every ``tune.params`` entry (Optuna parameter name =
the dotted recipe path), applies the values to the recipe with
:func:`~moalign.recipes.loader.apply_overrides`, validates it with
:func:`~moalign.recipes.loader.parse_recipe`, and runs it with
:func:`~moalign.recipes.runner.run_recipe` as a child of the tuning run (tags
``moalign.study_name`` and ``moalign.trial_number``). A :class:`TrialMonitor` reports the
hypervolume each step and stops the run when it is pruned. The run's final metrics are
kept in the trial's user attribute ``metrics`` and the MLflow run id in ``mlflow_run_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moalign.recipes.loader import apply_overrides, parse_recipe, recipe_to_dict
from moalign.recipes.schema import Recipe, TrackingSpec
from moalign.tuning.pruning import TrialMonitor, make_rule
from moalign.tuning.spec import TuneSpec
from moalign.tuning.target import Target, final_metrics

if TYPE_CHECKING:
    import optuna

TAG_STUDY = "moalign.study_name"
TAG_TRIAL = "moalign.trial_number"
TAG_STATE = "moalign.trial_state"


def trial_run_name(base_name: str, number: int) -> str:
    """The MLflow run name of trial ``number`` of a recipe named ``base_name``."""
    return f"{base_name}-trial-{number}"


class TrialObjective:
    """Callable ``objective(trial) -> value(s)`` for ``study.optimize``.

    Args:
        recipe: the validated recipe being tuned.
        spec: its validated ``tune:`` block.
        target: the resolved target.
        study_name: tagged on every child run.
        parent_run_id: the MLflow tuning run (None without tracking).
    """

    def __init__(self, recipe: Recipe, spec: TuneSpec, target: Target, *, study_name: str,
                 parent_run_id: str | None) -> None:
        self.data = recipe_to_dict(recipe)
        self.base_name = recipe.name or "moalign"
        self.tracking = recipe.tracking
        self.spec = spec
        self.target = target
        self.study_name = study_name
        self.parent_run_id = parent_run_id
        if spec.pruner.name == "none":
            self.mode = "off"
        else:
            self.mode = "moalign" if target.multi_objective else "optuna"
        self.rule = make_rule(spec.pruner) if self.mode == "moalign" else None

    def __call__(self, trial: optuna.Trial) -> float | list[float]:
        import optuna

        from moalign.recipes.runner import run_recipe

        values = {path: p.suggest(trial, path) for path, p in self.spec.params.items()}
        data = apply_overrides(self.data, values)
        data["name"] = trial_run_name(self.base_name, trial.number)
        recipe = parse_recipe(data)
        monitor = TrialMonitor(trial, self.mode, self.rule, self.target.intermediate_sign())
        result = run_recipe(recipe, progress=False, parent_run_id=self.parent_run_id,
                            on_record=[monitor],
                            tags={TAG_STUDY: self.study_name, TAG_TRIAL: str(trial.number)})
        if monitor.ctx is not None and monitor.ctx.stop_requested and not monitor.pruned:
            raise KeyboardInterrupt(f"trial {trial.number} interrupted")
        last = monitor.last or {"hypervolume": result.hypervolume,
                                "n_evals": float(result.archive.n_evals)}
        metrics = final_metrics(last, result.info)
        trial.set_user_attr("metrics", metrics)
        if result.run_id is not None:
            trial.set_user_attr("mlflow_run_id", result.run_id)
        if monitor.pruned:
            step = monitor.pruned_at
            assert step is not None
            self._annotate(result.run_id, values, "PRUNED", None)
            raise optuna.TrialPruned(
                f"hypervolume {monitor.history[step]:.6g} at step {step}")
        value = self.target.value(metrics)
        if self.target.kind == "desirability":
            trial.set_user_attr("desirabilities", self.target.desirabilities(metrics))
        self._annotate(result.run_id, values, "COMPLETE", value)
        return value

    def _annotate(self, run_id: str | None, values: Mapping[str, Any], state: str,
                  value: float | list[float] | None) -> None:
        """Log the trial's parameters, state and value(s) to its MLflow run."""
        if run_id is None or self.tracking.backend != "mlflow":
            return
        import time

        from mlflow.entities import Metric, Param, RunTag

        client = _client(self.tracking)
        params = [Param(f"tune.{k}", str(v)) for k, v in values.items()]
        metrics = []
        if value is not None:
            vals = value if isinstance(value, list) else [value]
            ts = int(time.time() * 1000)
            metrics = [Metric(f"tune/{n}", float(v), ts, 0)
                       for n, v in zip(self.target.value_names, vals, strict=True)]
        client.log_batch(run_id, metrics=metrics, params=params,
                         tags=[RunTag(TAG_STATE, state)])


def _client(tracking: TrackingSpec) -> Any:
    from mlflow import MlflowClient

    from moalign.tracking.mlflow_tracker import default_tracking_uri

    return MlflowClient(tracking_uri=tracking.uri or default_tracking_uri())
