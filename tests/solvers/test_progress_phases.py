"""Solvers whose one step is long announce its parts with ``ctx.phase`` (shown by the
runner's progress display inside the step): PSL's GP fit and training loop, BoTorch's fit
and acquisition optimization, MOGFN's training step and sampler evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moalign.core.progress import Phase
from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext, get_solver
from moalign.testing import toy_zdt1


class _Recording(RunContext):
    """Records ``(labels of the open phases, done, total)`` of every phase when it closes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str, int, int | None]] = []

    @contextmanager
    def phase(self, label: str, total: int | None = None) -> Iterator[Phase]:
        with super().phase(label, total) as p:
            yield p
            path = " > ".join(q.label for q in self.phases)
        self.seen.append((path, p.done, p.total))


def _phases(solver: str, config: dict[str, Any], problem: Any, budget: Budget
            ) -> list[tuple[str, int, int | None]]:
    ctx = _Recording(problem, budget, seed=0)
    get_solver(solver)(config).solve(problem, ctx)
    assert ctx.phases == []  # every phase closed
    return ctx.seen


def test_psl_shows_the_gp_fit_and_the_training_loop_of_a_round() -> None:
    seen = _phases("psl", {"n_initial": 4, "batch_size": 2, "n_steps": 5, "n_candidates": 16,
                           "hidden": 16}, toy_zdt1(), Budget(evaluations=8))
    assert ("round 1: fit GP on 4 points", 0, None) in seen
    assert ("round 1: train", 5, 5) in seen and ("round 2: train", 5, 5) in seen
    assert ("round 2: select 2 points", 0, None) in seen
    assert ("evaluate 4 points", 0, None) in seen  # ctx.evaluate: the initial design


def test_svh_psl_advances_its_stein_steps() -> None:
    seen = _phases("svh-psl", {"n_initial": 4, "batch_size": 2, "n_steps": 3,
                               "n_candidates": 16, "n_pref_update": 4, "hidden": 16},
                   toy_zdt1(), Budget(evaluations=6))
    assert ("round 1: train", 3, 3) in seen


def test_psl_grad_shows_the_training_steps_between_records() -> None:
    seen = _phases("psl-grad", {"n_steps": 3, "n_eval": 4, "hidden": 16}, toy_zdt1(),
                   Budget(steps=2))
    assert ("step 1: train", 3, 3) in seen and ("step 2: train", 3, 3) in seen


def test_botorch_shows_the_fit_and_the_acquisition() -> None:
    cfg = {"n_initial": 4, "batch_size": 2, "num_restarts": 2, "raw_samples": 8,
           "mc_samples": 8, "maxiter": 5}
    labels = [s[0] for s in _phases("qparego", cfg, toy_zdt1(), Budget(evaluations=6))]
    assert "step 2: fit GP on 4 points" in labels
    assert "step 2: optimize the acquisition (q=2)" in labels


def test_mogfn_shows_the_training_step_and_the_sampler_evaluation() -> None:
    cfg = {"batch_size": 4, "n_hidden": 16, "n_layers": 2, "n_bins": 8, "eval_every": 2,
           "eval_partitions": 2, "eval_samples": 4, "eval_l1_partitions": 0}
    seen = _phases("mogfn", cfg, get_problem("hypergrid")(height=3), Budget(evaluations=8))
    labels = [s[0] for s in seen]
    assert "training step 1" in labels and "training step 2" in labels
    assert "training step 2 > evaluate the sampler" in labels
    assert "training step 1 > evaluate the sampler" not in labels
