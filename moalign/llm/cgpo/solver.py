"""Solver ``cgpo``: constrained generative policy optimization with a mixture of judges.

Xu, T. et al. (2024). *The Perfect Blend: Redefining RLHF with Mixture of Judges.* The
policy maximizes a calibrated reward subject to judges' constraints and a KL budget
``KL_max`` relative to a frozen copy of the initial policy (TRL's
``create_reference_model``). Each step, for every task ``t`` (CGPO's multi-task
stratification; one task ``main`` without ``tasks``): sample ``k`` completions of the task's
prompts at temperature 0.9, score them with its reward ``r`` and judges ``J`` (1 pass, 0
violate, -1 could not judge; only 1 passes), take each sample's KL
``max(0, log pi(a|s) - log pi_ref(a|s))`` (summed token log-probs) and build the loss of the
task's optimizer (:mod:`moalign.llm.cgpo.rollout`: CRPG, CODPO or CRRAFT). The update is
one Adam step on ``sum_t w_t loss_t`` with the mixture weights normalized to sum 1.

Every ``eval_every`` steps (and at the start and the end) the policy samples on the
problem's validation prompts; those completions are recorded with the problem's objectives
and judges, so the run's front and hypervolume count only judged-feasible generations.
Metrics per step and task: ``train/<task>/reward``, ``calibrated_reward``, ``kl``,
``pass/<judge>``, ``pass/all``, ``loss`` and the optimizer's counts; on validation steps
``val/<objective>`` (means over all samples), ``val/pass/<judge>`` and
``val/judged/<objective>`` (:mod:`moalign.llm.validation`). The aligned model is
``Result.model``.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.problem import Problem
from moalign.llm.aligned import AlignedModel
from moalign.llm.cgpo.config import CGPOConfig
from moalign.llm.cgpo.rules import mix_tasks, task_weights
from moalign.llm.cgpo.tasks import build_tasks
from moalign.llm.objectives import frozen_stats
from moalign.llm.problem import TextProblem, as_text_problem
from moalign.llm.runtime import preserved_global_rng, torch_threads
from moalign.llm.validation import judged_metrics
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.context import RunContext

VALIDATION_SEED_OFFSET = 7919
"""Validation samples use ``seed + 7919`` at every step, so steps compare on equal terms."""
KEEP_STATES = 2
"""Solver state files kept in the checkpoint folder."""


@register_solver("cgpo")
class CGPO(Solver[CGPOConfig]):
    """CGPO over a text problem; see the module docstring.

    Example:
        >>> solver = CGPO(kl_max=2.0, optimizer="crpg", max_steps=10)   # doctest: +SKIP
        >>> result = solver.solve(get_problem("text")(prompts="digits",
        ...     objectives=["sevens"], judges=[{"judge": "length", "params": {"max": 9}}]),
        ...     ctx)                                                     # doctest: +SKIP
    """

    Config = CGPOConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        """Train the policy; see the module docstring.

        Raises:
            TypeError: ``problem`` is not a text problem.
        """
        text = as_text_problem(problem, "cgpo")
        with torch_threads(self.config.torch_threads), preserved_global_rng():
            return _Run(self.config, text, ctx).run()


class _Run:
    """One CGPO training run: models, tasks, optimizer, and the step loop."""

    def __init__(self, cfg: CGPOConfig, problem: TextProblem, ctx: RunContext) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl.trainer.utils import disable_dropout_in_model

        from moalign.llm.cgpo.rollout import Models

        self.cfg, self.problem, self.ctx = cfg, problem, ctx
        torch.manual_seed(ctx.seed)  # forked by preserved_global_rng
        policy = AutoModelForCausalLM.from_pretrained(problem.policy)
        tok = AutoTokenizer.from_pretrained(problem.policy)
        disable_dropout_in_model(policy)
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        self.models = Models(policy, _reference(policy), tok, int(pad),
                             cfg.max_completion_length)
        self.tasks = build_tasks(cfg.task_configs(), problem, ctx.seed)
        self.weights = {t.name: t.config.weight for t in self.tasks}
        self.optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.learning_rate,
                                           weight_decay=0.0)
        self.step = 0
        self.state_dir = ctx.checkpoint_dir / "cgpo" if ctx.checkpoint_dir else None
        state = ctx.load_state()
        if state is not None:
            self._restore(state)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> Result:
        ctx, cfg = self.ctx, self.cfg
        steps = int(ctx.budget.steps or cfg.max_steps)
        if self.step == 0:
            self._record(0, {}, validate=True)
        while self.step < steps and not ctx.should_stop():
            t = self.step + 1
            with ctx.phase(f"step {t}/{steps}"):
                metrics = self._train_step(t)
            self.step = t
            validate = t % cfg.eval_every == 0 or t >= steps
            self._record(t, metrics, validate=validate)
            if self.state_dir is not None and (t % cfg.save_every == 0 or ctx.should_stop()):
                self._save()
        if self.state_dir is not None and self.step and self.step % cfg.save_every:
            self._save()
        return Result(ctx.archive, model=self._final_model(), info=self._info())

    def _train_step(self, t: int) -> dict[str, float]:
        from moalign.llm.cgpo.rollout import rollout, task_loss

        losses, metrics = {}, {}
        for task in self.tasks:
            if self.weights[task.name] == 0:
                continue
            with self.ctx.phase(f"task {task.name}: sample, judge, {task.config.optimizer}"):
                ro = rollout(task, t, self.models, self.ctx.seed)
                loss, m = task_loss(task, ro, self.models)
            losses[task.name] = loss
            metrics.update({f"train/{task.name}/{k}": v for k, v in m.items()})
        total = mix_tasks(losses, {k: self.weights[k] for k in losses})
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.cfg.max_grad_norm > 0:
            import torch

            norm = torch.nn.utils.clip_grad_norm_(self.models.policy.parameters(),
                                                  self.cfg.max_grad_norm)
            metrics["train/grad_norm"] = float(norm)
        self.optimizer.step()
        metrics["train/loss"] = float(total.detach())
        return metrics

    # -- validation and recording --------------------------------------------------------
    def _record(self, t: int, metrics: dict[str, float], *, validate: bool) -> None:
        m = {k: v for k, v in metrics.items() if math.isfinite(v)}
        names = self.problem.objectives.names
        if not validate:
            self.ctx.record([], np.empty((0, len(names))), metrics=m, step=t)
            return
        with self.ctx.phase("validate"):
            texts, F, ev, val_metrics = self.validate()
        m.update(val_metrics)
        self.ctx.record(texts, F, feasible=ev.feasible, failed=ev.failed, metrics=m, step=t)

    def validate(self) -> tuple[list[str], np.ndarray, Any, dict[str, float]]:
        """Sample on the validation prompts; ``(texts, F, evaluation, metrics)``."""
        from moalign.llm.generation import sample_completions

        p, cfg = self.problem, self.cfg
        n = cfg.n_val_samples
        val = p.validation
        texts, ids = sample_completions(
            self.models.policy, self.models.tokenizer, list(val.prompts), num_samples=n,
            max_new_tokens=cfg.max_completion_length, temperature=cfg.val_temperature,
            seed=self.ctx.seed + VALIDATION_SEED_OFFSET)
        prompts = [q for q in val.prompts for _ in range(n)]
        extras = {k: [v for v in col for _ in range(n)] for k, col in val.extras.items()}
        with frozen_stats(p.objectives):
            ev = p.evaluate(texts, prompts=prompts, completion_ids=ids, **extras)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(ev.F, axis=0)
        metrics = {f"val/{name}": float(x) for name, x in zip(p.objectives.names, means,
                                                               strict=True) if np.isfinite(x)}
        metrics["val/completion_tokens"] = float(np.mean([len(i) for i in ids]))
        if p.judges is not None and ev.G is not None:
            metrics.update(judged_metrics(p.objectives, p.judges.names, ev.F, ev.G))
        return texts, ev.F, ev, metrics

    # -- state -----------------------------------------------------------------------------
    def _save(self) -> None:
        import torch

        assert self.state_dir is not None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        name = f"state-{self.step}.pt"
        tmp = self.state_dir / (name + ".tmp")
        torch.save({"policy": self.models.policy.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "tasks": {t.name: t.state_dict() for t in self.tasks}}, tmp)
        tmp.replace(self.state_dir / name)
        self.ctx.save_state({"step": self.step, "file": str((self.state_dir / name).resolve())})
        files = sorted(self.state_dir.glob("state-*.pt"),
                       key=lambda f: int(f.stem.partition("-")[2]))
        for old in files[:-KEEP_STATES]:
            old.unlink(missing_ok=True)

    def _restore(self, state: dict[str, Any]) -> None:
        import torch

        path = Path(state["file"])
        if not path.is_file():
            raise FileNotFoundError(f"cgpo: cannot resume, the state file {path} is gone; "
                                    "start a new run")
        saved = torch.load(path, map_location="cpu", weights_only=False)
        self.models.policy.load_state_dict(saved["policy"])
        self.optimizer.load_state_dict(saved["optimizer"])
        for t in self.tasks:
            t.load_state_dict(saved["tasks"].get(t.name, {}))
        self.step = int(state["step"])

    def _final_model(self) -> AlignedModel:
        m = self.models
        if self.state_dir is not None:
            final = self.state_dir / "final"
            m.policy.save_pretrained(str(final))
            m.tokenizer.save_pretrained(str(final))
            return AlignedModel(final)
        with tempfile.TemporaryDirectory(prefix="moalign-cgpo-") as tmp:
            m.policy.save_pretrained(tmp)
            m.tokenizer.save_pretrained(tmp)
            return AlignedModel.take(Path(tmp))

    def _info(self) -> dict[str, Any]:
        tasks: dict[str, Any] = {}
        for t in self.tasks:
            tasks[t.name] = {"optimizer": t.config.optimizer, "kl_max": t.config.kl_max,
                             "weight": t.config.weight, "n_prompts": len(t.prompts.prompts),
                             "baselines_cached": len(t.cache)}
        return {"steps": self.step, "tasks": tasks, "weights": task_weights(self.weights)}


def _reference(policy: Any) -> Any:
    """A frozen copy of the policy (TRL's ``create_reference_model``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trl.experimental's "unstable API" notice
        from trl.experimental.utils import create_reference_model

        return create_reference_model(policy)
