"""Trajectory balance, exact terminal distributions and the saved sampler."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext
from moalign.solvers.mogfn import ConditionalSampler, MOGFNConfig, exact_l1
from moalign.solvers.mogfn.evaluation import log_scalarized_reward, reward_view
from moalign.solvers.mogfn.networks import thermometer
from moalign.solvers.mogfn.solver import MOGFN


class TablePolicy(nn.Module):
    """A forward policy given as a table of log-probabilities over all states."""

    def __init__(self, states: np.ndarray, log_pf: np.ndarray) -> None:
        super().__init__()
        self.index = {s.tobytes(): i for i, s in enumerate(states)}
        self.table = nn.Parameter(torch.tensor(log_pf, dtype=torch.float64))

    def state_logits(self, env, states, cond):
        return self.table[[self.index[s.tobytes()] for s in states]]

    def stepper(self, env, cond):
        return lambda idx, states: self.state_logits(env, states, cond)

    def step_logits(self, env, states, traj, pos, final, cond):
        return self.state_logits(env, states, cond)


class ConstLogZ(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.tensor(value, dtype=torch.float64))

    def forward(self, cond):
        return self.value.expand(cond.shape[0])


def exact_flow(env, states, child, mask, log_r):
    """Flows of the uniform-P_B GFlowNet with terminal reward r: F(s) = r(s) +
    sum_c F(c) / n_parents(c); P_F(stop|s) = r(s)/F(s), P_F(c|s) = F(c)/(n_par(c) F(s))."""
    r = np.exp(log_r)
    npar = env.n_parents(states)
    F = r.copy()
    for s in range(len(states) - 1, -1, -1):
        for a in range(env.n_actions - 1):
            c = child[s, a]
            if c >= 0:
                F[s] += F[c] / npar[c]
    P = np.zeros(mask.shape)
    P[:, env.stop] = r / F
    for a in range(env.n_actions - 1):
        rows = np.flatnonzero(child[:, a] >= 0)
        P[rows, a] = F[child[rows, a]] / (npar[child[rows, a]] * F[rows])
    return F[0], P


def tiny_setup(pref=(0.3, 0.7), beta=2.0):
    problem = get_problem("hypergrid")(height=3)
    trainer = MOGFN(MOGFNConfig(beta=beta, preference=pref, batch_size=64)).trainer(problem)
    ctx = RunContext(problem, Budget(evaluations=64), seed=0)
    trainer.setup(ctx)
    model = trainer.model
    model._table = None
    from moalign.core.compositional import transition_table

    states, mask, child = transition_table(model.env)
    R = reward_view(problem, problem.evaluate(model.env.to_objects(states)).F)
    log_r = beta * log_scalarized_reward(R, np.asarray(pref), "convex")
    Z, P = exact_flow(model.env, states, child, mask, log_r)
    assert np.allclose(P.sum(1), 1.0)
    return problem, trainer, ctx, states, P, Z, log_r


def tb_loss(trainer, ctx):
    model = trainer.model
    pref, beta = trainer.prior.sample(ctx.rng, 64)
    cond = model.encode(pref, beta)
    tr = model.rollout(cond, trainer.gen, epsilon=0.3)  # off-policy: TB holds on any path
    R = reward_view(trainer.problem, trainer.problem.evaluate(model.env.to_objects(tr.final)).F)
    batch = trainer.loss_batch(tr, cond, R, pref, beta, np.arange(64))
    return float(trainer.loss(batch).detach()), tr


def test_tb_loss_zero_for_hand_built_exact_flow() -> None:
    problem, trainer, ctx, states, P, Z, log_r = tiny_setup()
    with np.errstate(divide="ignore"):
        trainer.model.policy = TablePolicy(states, np.log(P))
    trainer.model.logz = ConstLogZ(float(np.log(Z)))
    loss, tr = tb_loss(trainer, ctx)
    assert len(np.unique(tr.final, axis=0)) > 3  # many different trajectories were checked
    assert loss < 1e-10
    # the same flow with a wrong log Z is penalized by exactly (log 2)^2
    trainer.model.logz = ConstLogZ(float(np.log(2 * Z)))
    assert tb_loss(trainer, ctx)[0] == pytest.approx(np.log(2) ** 2, rel=1e-6)


def test_tb_loss_positive_for_uniform_policy() -> None:
    problem, trainer, ctx, states, P, Z, log_r = tiny_setup()
    uniform = np.where(P > 0, 0.0, -np.inf)
    trainer.model.policy = TablePolicy(states, uniform)
    trainer.model.logz = ConstLogZ(float(np.log(Z)))
    assert tb_loss(trainer, ctx)[0] > 0.01


def test_dp_distribution_of_exact_flow_equals_target_and_sums_to_one() -> None:
    problem, trainer, ctx, states, P, Z, log_r = tiny_setup()
    with np.errstate(divide="ignore"):
        trainer.model.policy = TablePolicy(states, np.log(P))
    _, PT = trainer.model.terminal_distribution(np.array([[0.3, 0.7]]), 2.0)
    assert PT.sum() == pytest.approx(1.0)
    assert np.allclose(PT[0], np.exp(log_r) / Z)
    assert exact_l1(problem, trainer.model, np.array([[0.3, 0.7]]), 2.0) < 1e-9


def test_dp_distribution_of_network_agrees_with_monte_carlo() -> None:
    problem = get_problem("hypergrid")(height=4)
    spec = {"policy": "mlp", "n_hidden": 16, "n_layers": 2, "n_heads": 1, "n_bins": 8,
            "beta_max": 8.0, "default_beta": 2.0, "conditional": True}
    model = ConditionalSampler(problem.space.env, 2, spec, init_seed=3)
    with torch.no_grad():  # sharpen the random policy so the distribution is not uniform
        model.policy.net[-1].weight.mul_(20)
    states, P = model.terminal_distribution(np.array([[0.2, 0.8]]))
    assert P.sum() == pytest.approx(1.0, abs=1e-6)  # float32 softmax
    X = model.sample([0.2, 0.8], 20000, seed=0)
    freq = np.bincount(X[:, 0] * 4 + X[:, 1], minlength=16) / len(X)
    se = np.sqrt(P[0] * (1 - P[0]) / len(X))
    assert np.abs(P[0] - 1 / 16).max() > 0.05
    assert np.all(np.abs(freq - P[0]) < 5 * se + 1e-6)


def test_convex_and_logconvex_rewards() -> None:
    R = np.array([[0.5, 0.25]])
    w = np.array([0.5, 0.5])
    assert log_scalarized_reward(R, w, "convex")[0] == pytest.approx(np.log(0.375))
    assert log_scalarized_reward(R, w, "logconvex")[0] == pytest.approx(
        0.5 * np.log(0.5) + 0.5 * np.log(0.25))
    assert log_scalarized_reward(np.zeros((1, 2)), w, "convex")[0] == pytest.approx(
        np.log(1e-80))


def test_thermometer() -> None:
    enc = thermometer(torch.tensor([[0.0, 0.55, 1.0]]), 0.0, 1.0, 4)
    assert enc.tolist()[0] == pytest.approx([0, 0, 0, 0, 1, 1, 0.2, 0, 1, 1, 1, 1])


def test_sampler_save_load_roundtrip(tmp_path) -> None:
    problem = get_problem("hypergrid")(height=4)
    ctx = RunContext(problem, Budget(evaluations=32), seed=0)
    result = MOGFN(batch_size=16, n_hidden=16, n_layers=2).solve(problem, ctx)
    model = result.model
    assert model.artifact_name == "sampler"
    model.save(tmp_path)
    again = ConditionalSampler.load(tmp_path)
    a = model.sample([0.7, 0.3], 50, seed=5)
    b = again.sample([0.7, 0.3], 50, seed=5)
    assert np.array_equal(a, b)
    assert np.allclose(model.terminal_distribution([[0.5, 0.5]])[1],
                       again.terminal_distribution([[0.5, 0.5]])[1])


def test_transformer_cached_rollout_logits_equal_full_forward() -> None:
    problem = get_problem("ngrams")(ngrams=["AV", "VC"], min_length=2, max_length=6)
    spec = {"policy": "auto", "n_hidden": 16, "n_layers": 2, "n_heads": 2, "n_bins": 4,
            "beta_max": 8.0, "default_beta": 4.0, "conditional": True}
    model = ConditionalSampler(problem.space.env, 2, spec, init_seed=0)
    env = model.env
    rng = np.random.default_rng(0)
    cond = model.encode(rng.dirichlet([1, 1], size=5), np.full(5, 4.0))
    step = model.policy.stepper(env, cond)
    states = env.initial_states(5)
    idx = np.arange(5)
    with torch.no_grad():
        for t in range(6):
            cached = step(idx, states[idx])
            full = model.policy.state_logits(env, states[idx], cond[torch.from_numpy(idx)])
            assert torch.allclose(cached, full, atol=1e-5), t
            states[idx] = env.step(states[idx], rng.integers(0, 20, len(idx)))
            idx = idx[[i for i in range(len(idx)) if not (t == 2 and i in (1, 3))]]
