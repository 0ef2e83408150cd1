"""Solver ``drw``: dynamic reward weighting over TRL's ``GRPOTrainer`` or ``RLOOTrainer``
(Lu et al., 2025).

Lu, Y. et al. (2025). *Learning to Optimize Multi-Objective Alignment Through Dynamic
Reward Weighting.* The policy is trained on ``r = Σ_k w_k r_k`` with TRL's GRPO/RLOO-style
advantages; the weights change during training:

- ``fixed``: ``w`` constant (TRL's behaviour; with ``normalize_then_sum`` this is GDPO).
- ``hypervolume``: the reward of the next step is multiplied by
  ``m_t = 0.5 + 1.5 tanh(max(ΔHV_t, 0))``, ΔHV the hypervolume that the validation vector
  ``v_t`` adds to the buffer of earlier ones (reference: the initial policy's ``v_0``).
  Because ``(m r − mean(m r)) / std(m r)`` equals the unscaled advantage, the multiplier
  only acts when advantages are not std-normalized: this mode requires
  ``scale_rewards="none"`` with ``sum_then_normalize`` (mean-centred, RLOO/REINFORCE-style).
- ``gradient``: per-objective policy gradients on the last rollouts, influence
  ``s_k = Σ_j <g_k, g_j>``, ``w <- softmax(log w + η s / ρ)``.

Every ``eval_every`` steps the callback samples on the held-out prompts and records the
validation vector (mean of each objective, user orientation) with ``ctx.record``; the
metrics carry the weights, the meta-reward and failure counts. The hypervolume rule sees
that vector with the ``hv_length`` coordinates replaced by the mean length in tokens
(minimized) and divided per coordinate by the ``hv_scale`` scale (see ``DRWConfig``);
``preset="reference"`` runs the rules as the authors' code does. The aligned model is
``Result.model`` (an :class:`AlignedModel` directory).

The solver leaves the caller's process as it found it: the global random states and torch's
thread count are restored when ``solve`` returns or raises, and TRL's work folder is the
run's checkpoint folder (``<checkpoint dir>/trl``) or a temporary one that is removed when
``solve`` ends (the aligned model is then moved to a temporary folder removed when the
process exits, see :meth:`AlignedModel.take`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moalign.core.problem import Problem
from moalign.llm.aligned import AlignedModel
from moalign.llm.drw.config import DRWConfig, grpo_args
from moalign.llm.objectives import as_reward_func
from moalign.llm.problem import as_text_problem
from moalign.llm.runtime import preserved_global_rng, torch_threads
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.context import RunContext

if TYPE_CHECKING:
    from moalign.llm.problem import TextProblem

WORK_PREFIX = "moalign-drw-"
"""Prefix of the temporary TRL work folder (removed when ``solve`` ends)."""


@contextmanager
def work_folder(output_dir: str | None, checkpoint_dir: Path | None) -> Iterator[tuple[Path, bool]]:
    """TRL's output folder for one solve, and whether it is temporary.

    Args:
        output_dir: the config's ``output_dir`` (used as it is, never removed).
        checkpoint_dir: the run's checkpoint folder; TRL then works in
            ``<checkpoint_dir>/trl``, where a resumed run finds TRL's checkpoints.

    Yields:
        ``(folder, temporary)``. Without either folder it is a new ``moalign-drw-*``
        folder under ``tempfile.gettempdir()``, removed when the block ends, also when it
        raises.
    """
    if output_dir:
        yield Path(output_dir), False
    elif checkpoint_dir is not None:
        yield checkpoint_dir / "trl", False
    else:
        with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, ignore_cleanup_errors=True) as tmp:
            yield Path(tmp), True


def rank_fingerprints(trainer: Any, weights: Any) -> list[dict[str, Any]]:
    """Per process: a fingerprint of the trained parameters and the reward weights, gathered
    on every rank (one entry without distributed training), so a multi-process run can show
    that all ranks ended with the same model and weights.

    The fingerprint is the float64 sum of ``p * (i + 1)`` over the flattened parameters
    ``p`` (index ``i`` in ``named_parameters`` order), with their count.
    """
    import torch

    model = trainer.accelerator.unwrap_model(trainer.model)
    total, count = 0.0, 0
    with torch.no_grad():
        for i, (_, p) in enumerate(model.named_parameters()):
            total += float(p.detach().double().sum()) * (i + 1)
            count += p.numel()
    row = torch.tensor([total, float(count), *map(float, weights)], dtype=torch.float64)
    acc = trainer.accelerator
    rows = acc.gather(row[None, :].to(acc.device)).cpu() if acc.num_processes > 1 else row[None]
    return [{"rank": r, "param_fingerprint": float(x[0]), "n_params": int(x[1]),
             "reward_weights": [float(w) for w in x[2:]]} for r, x in enumerate(rows)]


@register_solver("drw")
class DRW(Solver[DRWConfig]):
    """Dynamic reward weighting over TRL's GRPOTrainer; see the module docstring.

    Example:
        >>> solver = DRW(mode="hypervolume", max_steps=10)   # doctest: +SKIP
        >>> result = solver.solve(get_problem("text")(prompts="tiny-math",
        ...     objectives=["exact_answer"]), ctx)           # doctest: +SKIP
    """

    Config = DRWConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        """Train the policy with TRL; see the module docstring.

        Raises:
            TypeError: ``problem`` is not a text problem.
        """
        text = as_text_problem(problem, "drw")
        # TRL seeds the global RNGs (transformers.set_seed); both are restored on exit
        with torch_threads(self.config.torch_threads), preserved_global_rng():
            return self._solve(text, ctx)

    def _solve(self, problem: TextProblem, ctx: RunContext) -> Result:
        from moalign.llm.drw.callback import DRWCallback

        state = ctx.load_state()
        funcs = [as_reward_func(o) for o in problem.objectives]
        callback = DRWCallback(self.config, problem, ctx, funcs, state)
        with work_folder(self.config.output_dir, ctx.checkpoint_dir) as (out_dir, temporary):
            trainer = self._trainer(problem, ctx, funcs, callback, out_dir)
            callback.bind(trainer)
            self._train(trainer, callback.checkpoint if state is not None else None, ctx)
            final = out_dir / "final"
            trainer.save_model(str(final))  # every rank: DeepSpeed/FSDP gather inside
            model = None  # other ranks save nothing: only the main process has the model
            if trainer.accelerator.is_main_process:
                trainer.processing_class.save_pretrained(str(final))
                model = AlignedModel.take(final) if temporary else AlignedModel(final)
            global_step = int(trainer.state.global_step)
            ranks = rank_fingerprints(trainer, callback.effective_weights())
            trainer_name = type(trainer).__name__
        names = problem.objectives.names
        info = {
            "weights": dict(zip(names, callback.effective_weights().tolist(), strict=True)),
            "n_failed": {f.__name__: f.n_failed for f in funcs},
            "global_step": global_step,
            "trainer": trainer_name,
        }
        if len(ranks) > 1:
            info["ranks"] = ranks
        return Result(ctx.archive, model=model, info=info)

    @staticmethod
    def _train(trainer: Any, resume: str | None, ctx: RunContext) -> None:
        """Run TRL's training loop, from TRL checkpoint ``resume`` when it still exists."""
        if resume is not None and not Path(resume).is_dir():
            resume = None  # TRL checkpoint gone (save_total_limit): continue from scratch
        if not ctx.should_stop():
            trainer.train(resume_from_checkpoint=resume)

    def _trainer(self, problem: TextProblem, ctx: RunContext, funcs: list[Any], callback: Any,
                 out_dir: Path) -> Any:
        from datasets import Dataset
        from transformers.trainer_callback import PrinterCallback
        from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

        cfg = self.config
        run = {"output_dir": str(out_dir), "max_steps": int(ctx.budget.steps or cfg.max_steps),
               "seed": int(ctx.seed),
               "reward_weights": [float(w) for w in callback.effective_weights()]}
        config_cls: Any = RLOOConfig if cfg.trainer == "rloo" else GRPOConfig
        trainer_cls: Any = RLOOTrainer if cfg.trainer == "rloo" else GRPOTrainer
        args = config_cls(**grpo_args(cfg, run))
        train = problem.train
        dataset = Dataset.from_dict({"prompt": list(train.prompts),
                                     **{k: list(v) for k, v in train.extras.items()}})
        trainer = trainer_cls(model=problem.policy, reward_funcs=funcs, args=args,
                              train_dataset=dataset, callbacks=[callback])
        # with disable_tqdm, transformers prints every log dict; the callback records them
        # as train/... metrics and the runner shows progress, so the printer goes
        trainer.remove_callback(PrinterCallback)
        return trainer
