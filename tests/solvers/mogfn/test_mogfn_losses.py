"""The GFlowNet losses as objects: closed forms on tiny batches, and their injection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext, get_solver
from moalign.solvers.mogfn import (
    MOGFN,
    OPGFN,
    GFNLoss,
    LossBatch,
    OrderPreserving,
    PreferencePrior,
    TrajectoryBalance,
    Unconditioned,
)

TINY = {"batch_size": 8, "n_hidden": 16, "n_layers": 2, "n_bins": 8}


def batch(log_z, log_pf, log_pb, rewards, log_reward=None, beta=None, grad=False) -> LossBatch:
    n = len(log_z)
    return LossBatch(
        log_z=torch.tensor(log_z, dtype=torch.float32, requires_grad=grad),
        log_pf=torch.tensor(log_pf, dtype=torch.float32),
        log_pb=torch.tensor(log_pb, dtype=torch.float32),
        rewards=np.asarray(rewards, dtype=np.float64),
        log_reward=np.zeros(n) if log_reward is None else np.asarray(log_reward, np.float64),
        beta=np.ones(n) if beta is None else np.asarray(beta, dtype=np.float64))


# -- trajectory balance ---------------------------------------------------------------------
def test_trajectory_balance_equals_its_closed_form_on_three_trajectories() -> None:
    log_z, log_pf, log_pb = [0.5, -0.2, 1.0], [-2.0, -1.5, -3.0], [-0.7, 0.0, -1.1]
    log_r, beta = [-0.3, -1.2, -0.05], [2.0, 0.5, 8.0]
    b = batch(log_z, log_pf, log_pb, np.ones((3, 2)), log_r, beta, grad=True)
    loss = TrajectoryBalance()(b)
    # (log Z + Σ log P_F - β log R - Σ log P_B)² by hand, then the mean
    d = [0.5 - 2.0 - 2.0 * -0.3 + 0.7, -0.2 - 1.5 - 0.5 * -1.2 - 0.0,
         1.0 - 3.0 - 8.0 * -0.05 + 1.1]
    assert d == pytest.approx([-0.2, -1.1, -0.5])
    assert float(loss.detach()) == pytest.approx((0.04 + 1.21 + 0.25) / 3, rel=1e-6)
    loss.backward()  # d L / d log Z_i = 2 d_i / n
    assert b.log_z.grad.tolist() == pytest.approx([2 * -0.2 / 3, 2 * -1.1 / 3, 2 * -0.5 / 3],
                                                  rel=1e-6)


def test_trajectory_balance_is_zero_when_the_flow_balances_the_reward() -> None:
    # log Z + log P_F - log P_B = β log R on every trajectory
    b = batch([1.0, 2.0], [-1.0, -0.5], [-0.5, 0.0], np.ones((2, 2)), [0.25, 0.75], [2.0, 2.0])
    assert float(TrajectoryBalance()(b)) == 0.0


def test_trajectory_balance_penalizes_a_wrong_log_z_by_its_square() -> None:
    b = batch([np.log(2), np.log(2)], [0.0, 0.0], [0.0, 0.0], np.ones((2, 2)))
    assert float(TrajectoryBalance()(b)) == pytest.approx(np.log(2) ** 2, rel=1e-6)


# -- order preserving -----------------------------------------------------------------------
def test_order_preserving_equals_its_closed_form() -> None:
    R = [[1.0, 0.0], [0.0, 1.0], [0.4, 0.4], [0.5, 0.5]]  # row 2 is dominated by row 3
    log_rhat = np.array([0.3, -0.4, 1.2, -1.0])
    b = batch(log_rhat, np.zeros(4), np.zeros(4), R)
    log_softmax = log_rhat - np.log(np.exp(log_rhat).sum())
    expected = -(log_softmax[[0, 1, 3]] / 3).sum()  # uniform over the 3 non-dominated
    assert float(OrderPreserving()(b)) == pytest.approx(expected, rel=1e-6)


def test_order_preserving_is_cross_entropy_to_uniform_over_nondominated() -> None:
    R = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.1, 0.1]]
    assert float(OrderPreserving()(batch([0.0] * 4, [0.0] * 4, [0.0] * 4, R))) \
        == pytest.approx(np.log(4))
    # all mass on the 3 non-dominated: the entropy of the uniform target
    b = batch([0.0, 0.0, 0.0, -50.0], [0.0] * 4, [0.0] * 4, R)
    assert float(OrderPreserving()(b)) == pytest.approx(np.log(3), abs=1e-6)


def test_order_preserving_ignores_log_z_and_the_scalarized_reward() -> None:
    R = [[1.0, 0.0], [0.2, 0.2], [0.0, 1.0]]
    a = OrderPreserving()(batch([0.0] * 3, [-1.0, -2.0, -0.5], [0.0] * 3, R))
    b = OrderPreserving()(batch([7.0] * 3, [-1.0, -2.0, -0.5], [0.0] * 3, R,
                                log_reward=[5.0, -3.0, 1.0], beta=[4.0, 4.0, 4.0]))
    assert float(a) == pytest.approx(float(b), abs=1e-6)


def test_conditional_flags() -> None:
    assert TrajectoryBalance.conditional and not OrderPreserving.conditional


# -- injection ------------------------------------------------------------------------------
class SpyLoss(GFNLoss):
    """Trajectory balance that remembers the batches it was called on."""

    conditional = True

    def __init__(self) -> None:
        self.batches: list[LossBatch] = []

    def __call__(self, batch: LossBatch) -> torch.Tensor:
        self.batches.append(batch)
        return TrajectoryBalance()(batch)


def test_registered_solvers_pick_their_default_loss() -> None:
    assert isinstance(get_solver("mogfn")({}).loss, TrajectoryBalance)
    assert isinstance(get_solver("op-gfn")({}).loss, OrderPreserving)


def test_the_training_loop_calls_the_injected_loss() -> None:
    problem = get_problem("hypergrid")(height=3)
    spy = SpyLoss()
    ctx = RunContext(problem, Budget(evaluations=16), seed=0)
    OPGFN(TINY, loss=spy).solve(problem, ctx)  # a conditional loss in the op-gfn loop
    assert len(spy.batches) == 2
    b = spy.batches[0]
    assert b.log_z.shape == b.log_pf.shape == b.log_pb.shape == (8,)
    assert b.rewards.shape == (8, 2) and b.log_reward.shape == b.beta.shape == (8,)
    assert b.log_z.requires_grad and b.log_pf.requires_grad


def test_injected_loss_decides_whether_the_sampler_is_conditional() -> None:
    problem = get_problem("hypergrid")(height=3)
    assert MOGFN(TINY, loss=OrderPreserving()).trainer(problem).spec["conditional"] is False
    assert OPGFN(TINY, loss=TrajectoryBalance()).trainer(problem).spec["conditional"] is True


def test_a_loss_that_is_not_a_gfn_loss_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="GFNLoss"):
        MOGFN(TINY, loss="tb")  # type: ignore[arg-type]


def test_config_maps_to_the_prior_and_the_scalarization_once() -> None:
    problem = get_problem("hypergrid")(height=3)
    trainer = MOGFN({**TINY, "reward_type": "logconvex", "beta": 4.0, "alpha": 2.0}
                    ).trainer(problem)
    assert trainer.reward_type == "logconvex"
    assert trainer.prior == PreferencePrior(2, alpha=2.0, beta=4.0, beta_max=32.0,
                                            eval_beta=4.0)
    op = OPGFN(TINY).trainer(problem)
    assert op.reward_type == "convex" and op.prior == Unconditioned(2)
    assert op.spec["default_beta"] == 1.0
    with pytest.raises(ValueError, match="preference has 3 weights"):
        MOGFN({**TINY, "preference": [0.2, 0.3, 0.5]}).trainer(problem)


# -- conditioning priors --------------------------------------------------------------------
def test_preference_prior_draws_dirichlet_then_clipped_gamma() -> None:
    prior = PreferencePrior(3, alpha=1.5, beta_shape=2.0, beta_scale=1.0, beta_max=2.5)
    pref, beta = prior.sample(np.random.default_rng(7), 50)
    rng = np.random.default_rng(7)
    assert np.array_equal(pref, rng.dirichlet(np.full(3, 1.5), size=50))
    assert np.array_equal(beta, np.clip(rng.gamma(2.0, 1.0, size=50), 1e-3, 2.5))
    assert beta.max() == 2.5


def test_fixed_preference_and_unconditioned_prior_draw_nothing() -> None:
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    pref, beta = PreferencePrior(2, beta=3.0, preference=(0.25, 0.75)).sample(rng, 4)
    assert pref.tolist() == [[0.25, 0.75]] * 4 and beta.tolist() == [3.0] * 4
    pref, beta = Unconditioned(2).sample(rng, 3)
    assert pref.tolist() == [[0.5, 0.5]] * 3 and beta.tolist() == [1.0] * 3
    assert rng.bit_generator.state == state
