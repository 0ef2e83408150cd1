"""PSL building blocks against closed forms and oracles: the GP predictor equals BoTorch's
posterior, the inverse Tchebycheff optimum lies on the preference ray, the greedy batch
maximizes the hypervolume gain (pymoo as the oracle), the SVH kernel and Stein update
(per-particle gradients from ``torch.func`` as the oracle), finite differences agree with
autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from moalign.core import Box, Objective, Problem
from moalign.scalarize import inverse_weighted_tchebycheff, weighted_tchebycheff
from moalign.solvers.psl._gp import _botorch_model, correlation, fit_gp, predictor_from_botorch
from moalign.solvers.psl._loop import RoundData, greedy_hv_batch, latin_hypercube
from moalign.solvers.psl._model import SetNetwork, backprop_signals
from moalign.solvers.psl.grad import PSLGradConfig, _Objectives, torch_objectives
from moalign.solvers.psl.svh import SVHPSLConfig, local_kernel, stein_step
from moalign.testing import toy_zdt1


def _data(n: int = 12, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    Y = np.stack([np.sin(3 * X[:, 0]) + X[:, 1], ((X - 0.3) ** 2).sum(1)], axis=1)
    return X, (Y - Y.mean(0)) / Y.std(0)


@pytest.mark.parametrize("kernel", ["matern52", "botorch"])
def test_closed_form_gp_equals_botorch_posterior(kernel: str) -> None:
    from botorch.fit import fit_gpytorch_mll
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X, Y = _data()
    tx, ty = torch.tensor(X), torch.tensor(Y)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = _botorch_model(tx, ty, kernel)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    pred = predictor_from_botorch(model, tx, ty, kernel)
    xt = torch.tensor(np.random.default_rng(1).random((9, 4)))
    post = model.posterior(xt)
    mean, std = pred.predict(xt)
    assert torch.allclose(mean, post.mean.detach(), atol=1e-6)
    assert torch.allclose(std, post.variance.detach().sqrt(), atol=1e-6)


@pytest.mark.parametrize("kind", ["matern52", "rbf"])
def test_correlation_equals_the_pairwise_formula(kind: str) -> None:
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(0)
    x1, x2 = rng.random((7, 5)), rng.random((6, 5))
    x2[:2] = x1[:2]  # coincident points correlate exactly 1
    ls = np.array([[0.3, 1.0, 2.0, 0.05, 31.6], [1.0, 1.0, 1.0, 1.0, 1.0]])
    got = correlation(torch.tensor(x1), torch.tensor(x2).expand(2, 6, 5),
                      torch.tensor(ls).reshape(2, 1, 5), kind).numpy()
    for j in range(2):
        d = cdist(x1 / ls[j], x2 / ls[j])
        want = ((1 + math.sqrt(5) * d + 5 / 3 * d**2) * np.exp(-math.sqrt(5) * d)
                if kind == "matern52" else np.exp(-0.5 * d**2))
        np.testing.assert_allclose(got[j], want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[:, [0, 1], [0, 1]], 1.0, atol=1e-12)


def test_gp_interpolates_and_fit_is_deterministic() -> None:
    X, Y = _data()
    a, b = fit_gp(X, Y, seed=3), fit_gp(X, Y, seed=3)
    mean, std = a.predict(torch.tensor(X))
    assert torch.allclose(mean, torch.tensor(Y), atol=1e-2)  # near-noiseless: interpolates
    assert float(std.max()) < 0.05
    assert torch.equal(a.lengthscale, b.lengthscale)


def test_lcb_gradient_matches_finite_differences() -> None:
    X, Y = _data()
    gp = fit_gp(X, Y, seed=0)
    x = torch.tensor([[0.2, 0.4, 0.6, 0.8]], requires_grad=True)
    (g,) = torch.autograd.grad(gp.lcb(x, 0.1)[0, 1], x)
    h = 1e-6
    for j in range(4):
        e = torch.zeros(1, 4, dtype=torch.float64)
        e[0, j] = h
        with torch.no_grad():
            fd = (gp.lcb(x + e, 0.1)[0, 1] - gp.lcb(x - e, 0.1)[0, 1]) / (2 * h)
        assert abs(float(fd) - float(g[0, j])) < 1e-5


@pytest.mark.parametrize("w1", [0.1, 0.3, 0.5, 0.8])
def test_inverse_tchebycheff_optimum_lies_on_the_preference_ray(w1: float) -> None:
    # dense ZDT1 front f2 = 1 - sqrt(f1); z below the ideal point as in PSL
    f1 = np.linspace(0, 1, 200_001)
    F = np.stack([f1, 1 - np.sqrt(f1)], axis=1)
    z, w = np.array([-0.1, -0.1]), np.array([w1, 1 - w1])
    best = F[np.argmin(inverse_weighted_tchebycheff(F, w, z))]
    d = (best - z) / np.linalg.norm(best - z)
    assert np.allclose(d, w / np.linalg.norm(w), atol=1e-4)  # on the ray z + t w
    # the multiplying convention is not interchangeable: its optimum is on the ray 1/w
    best_mul = F[np.argmin(weighted_tchebycheff(F, w, z))]
    inv = (1 / w) / np.linalg.norm(1 / w)
    assert np.allclose((best_mul - z) / np.linalg.norm(best_mul - z), inv, atol=1e-4)
    if w1 != 0.5:
        assert not np.allclose(best, best_mul, atol=1e-2)


def test_greedy_batch_maximizes_hv_gain_pymoo_oracle() -> None:
    from pymoo.indicators.hv import HV

    rng = np.random.default_rng(0)
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    cand = rng.random((40, 2)) * 0.9
    picks = greedy_hv_batch(cand, front, 3, rng)
    ref = np.max(np.vstack([front, cand]), axis=0)
    current = front
    for pick in picks:  # each pick is the brute-force argmax of the gain
        hv = HV(ref_point=ref)
        gains = [hv(np.vstack([current, c])) - hv(current) for c in cand]
        assert gains[pick] == pytest.approx(max(gains), abs=1e-12)
        current = np.vstack([current, cand[pick]])
    assert len(set(picks)) == 3


def test_greedy_batch_without_gain_falls_back_to_distinct_points() -> None:
    front = np.array([[0.0, 0.0]])  # dominates everything
    cand = np.ones((5, 2))
    picks = greedy_hv_batch(cand, front, 3, np.random.default_rng(0))
    assert len(set(picks)) == 3


def test_latin_hypercube_has_one_point_per_stratum() -> None:
    X = latin_hypercube(np.random.default_rng(0), 8, 3)
    for j in range(3):
        assert sorted(np.floor(X[:, j] * 8).astype(int).tolist()) == list(range(8))


def test_local_kernel_closed_form() -> None:
    v = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    active = torch.tensor([0, 1, 0])
    K = local_kernel(v, active)
    sq = (v[:, None, :] - v[None, :, :]) ** 2
    med = sq.reshape(9, 2).median(dim=0).values  # torch's lower median of 9 values
    h = med / math.log(3)
    expected = torch.stack([torch.exp(-sq[k, :, int(active[k])] / h[int(active[k])])
                            for k in range(3)])
    assert torch.allclose(K, expected)
    assert torch.allclose(torch.diagonal(K), torch.ones(3, dtype=torch.float64))


def _per_sample_grads(net: SetNetwork, pref: torch.Tensor, vec: torch.Tensor
                      ) -> dict[str, torch.Tensor]:
    """Oracle: ``d (x_k . v_k) / d theta`` for each `k` by ``torch.func`` (vmap of grad)."""
    from torch.func import functional_call, grad, vmap

    params = {k: p.detach() for k, p in net.named_parameters()}

    def dot(p: dict[str, torch.Tensor], lam: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (functional_call(net, p, (lam.unsqueeze(0),)).squeeze(0) * v).sum()

    out: dict[str, torch.Tensor] = vmap(grad(dot), in_dims=(None, 0, 0))(params, pref, vec)
    return out


def test_backprop_signals_factor_the_per_sample_gradients() -> None:
    net = SetNetwork(3, 7, hidden=16, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    pref = torch.rand(5, 3, generator=g, dtype=torch.float64)
    vec = torch.randn(5, 7, generator=g, dtype=torch.float64)
    oracle = _per_sample_grads(net, pref, vec)
    for name, (d, a) in backprop_signals(net, pref, vec).items():
        w = d[:, :, None] * a[:, None, :]
        assert torch.allclose(w, oracle[f"{name}.weight"], atol=1e-6)
        assert torch.allclose(d, oracle[f"{name}.bias"], atol=1e-6)


def test_stein_step_gradient_equals_the_explicit_per_particle_rule() -> None:
    X, Y = _data(n=15, d=5)
    gp = fit_gp(X, Y, seed=0)
    net = SetNetwork(2, 5, hidden=8, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(2)
    pref = torch.rand(6, 2, generator=g, dtype=torch.float64) + 1e-4
    cfg = SVHPSLConfig(alpha=0.3, lcb_coef=0.1)  # a large alpha so the repulsion shows
    data = RoundData(gp=gp, z=torch.as_tensor(Y.min(0) - 0.1), y_front=Y, n_var=5,
                     prng=np.random.default_rng(0), gen=g)
    # explicit rule (module docstring of svh.py): per-particle gradients, normalized per
    # parameter across particles, weighted by sum_k K_kl, plus alpha * d sum K / d theta
    x = net(pref)
    v = gp.lcb(x, cfg.lcb_coef)
    loss, active = (pref * (v - data.z)).max(dim=1)
    kern = local_kernel(v, active)
    (u,) = torch.autograd.grad(loss.sum(), x, retain_graph=True)
    per = _per_sample_grads(net, pref, u)
    k_grads = dict(zip([k for k, _ in net.named_parameters()],
                       torch.autograd.grad(kern.sum(), list(net.parameters())), strict=True))
    weights = kern.detach().sum(0).to(torch.float32)
    expected = {}
    for name, G in per.items():
        G = G / (G * G).sum(0, keepdim=True).sqrt().clamp_min(1e-12)
        expected[name] = (torch.tensordot(weights, G, dims=1) + cfg.alpha * k_grads[name]) / 6
    stein_step(net, torch.optim.SGD(net.parameters(), lr=0.0), cfg, data, pref)
    for name, p in net.named_parameters():
        assert p.grad is not None
        assert torch.allclose(p.grad, expected[name], rtol=1e-4, atol=1e-6), name


def _torch_zdt1(n_var: int = 4) -> Problem:
    def g(x):  # type: ignore[no-untyped-def]
        return 1 + 9 * x[:, 1:].sum(1) / (x.shape[1] - 1)

    return Problem(
        Box(np.zeros(n_var), np.ones(n_var)),
        [Objective("f1", lambda x: x[:, 0] * 1.0),
         Objective("f2", lambda x: g(x) * (1 - (x[:, 0] / g(x)) ** 0.5))],
        ref_point=[1.1, 1.1], ideal=[0, 0], nadir=[1, 1],
    )


def test_torch_objectives_detected_only_when_differentiable() -> None:
    assert torch_objectives(_torch_zdt1()) is not None
    assert torch_objectives(toy_zdt1()) is None  # np.sqrt: numpy only


def test_finite_differences_agree_with_autograd() -> None:
    p = _torch_zdt1()
    auto = _Objectives(p, PSLGradConfig())
    fd = _Objectives(p, PSLGradConfig(gradient="finite_difference"))
    xu = torch.tensor([[0.3, 0.2, 0.5, 0.7], [0.6, 0.1, 0.9, 0.99999999]], dtype=torch.float64,
                      requires_grad=True)
    F, _ = auto.values_and_jacobian(xu)
    jac = torch.stack([torch.autograd.grad(F[:, i].sum(), xu, retain_graph=True)[0]
                       for i in range(2)], dim=1)
    F0, jac_fd = fd.values_and_jacobian(xu.detach())
    assert torch.allclose(F0, F.detach())
    assert torch.allclose(jac_fd, jac, atol=1e-4)
    assert fd.n_evals == 2 * 5


def test_greedy_batch_with_the_front_reference_uses_that_point_pymoo_oracle() -> None:
    from pymoo.indicators.hv import HV

    from moalign.solvers.psl._loop import selection_reference

    rng = np.random.default_rng(1)
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    cand = np.vstack([rng.random((30, 2)) * 0.9, [[0.05, 4.0], [4.0, 0.05]]])
    ref = selection_reference(cand, front, "front")
    assert ref.tolist() == pytest.approx([1.1, 1.1])
    picks = greedy_hv_batch(cand, front, 2, rng, ref=ref)
    hv, current = HV(ref_point=ref), front
    for pick in picks:
        gains = [hv(np.vstack([current, c])) - hv(current) for c in cand]
        assert gains[pick] == pytest.approx(max(gains), abs=1e-12)
        current = np.vstack([current, cand[pick]])
    # the reference code's point stretches to the far-out candidates
    assert selection_reference(cand, front, "candidates").tolist() == [4.0, 4.0]
    run = np.array([2.0, 3.0])
    assert selection_reference(cand, front, "run", run).tolist() == [2.0, 3.0]
    assert selection_reference(cand, front, "run", None).tolist() == pytest.approx([1.1, 1.1])


def test_exploration_redraws_only_stuck_coordinates() -> None:
    from moalign.solvers.psl._loop import explore_picks, stuck_coordinates

    rng = np.random.default_rng(0)
    x = rng.random((20, 6)) * 0.8 + 0.1
    x[:, 1], x[:, 4] = 1.0, 0.0                       # two coordinates stuck at a bound
    assert stuck_coordinates(x).tolist() == [1, 4]
    picks = explore_picks(x, [3, 7], 3, n_coords=5, rng=rng)
    assert picks.shape == (3, 6)
    for row, src in zip(picks, [3, 7, 3], strict=True):
        free = [0, 2, 3, 5]
        assert np.array_equal(row[free], x[src, free])  # the rest of the pick is kept
        assert 0 <= row[1] <= 1 and 0 <= row[4] <= 1
    assert not np.allclose(picks[:, [1, 4]], x[[3, 7, 3]][:, [1, 4]])
    one = explore_picks(x, [3], 1, n_coords=1, rng=rng)[0]
    assert int(np.sum(one != x[3])) == 1               # at most n_coords redrawn
    assert explore_picks(rng.random((5, 3)) * 0.5 + 0.2, [0], 2, 5, rng).shape == (0, 3)


def test_psl_options_are_validated_and_run() -> None:
    from moalign.solvers.context import Budget, RunContext
    from moalign.solvers.psl._config import ExpensivePSLConfig
    from moalign.solvers.psl.psl import PSL
    from moalign.testing import toy_zdt1

    with pytest.raises(ValueError, match="explore_slots"):
        ExpensivePSLConfig(explore_slots=-1)
    with pytest.raises(ValueError, match="selection_ref"):
        ExpensivePSLConfig(selection_ref="max")  # type: ignore[arg-type]
    problem = toy_zdt1()
    cfg = {"n_initial": 4, "batch_size": 3, "n_steps": 4, "n_candidates": 16, "hidden": 16,
           "ideal": "round", "selection_ref": "run", "explore_slots": 1}
    ctx = RunContext(problem, Budget(evaluations=10), seed=0)
    PSL(cfg).solve(problem, ctx)
    assert ctx.archive.n_evals == 10
    # a batch of 1 keeps its one greedy pick: the default exploration slot is not an error
    ctx = RunContext(problem, Budget(evaluations=6), seed=0)
    PSL(n_initial=4, batch_size=1, n_steps=4, n_candidates=16, hidden=16).solve(problem, ctx)
    assert ctx.archive.n_evals == 6


def test_psl_defaults_are_the_measured_options_and_svh_psl_keeps_the_reference() -> None:
    from moalign.solvers.psl.psl import PSLConfig
    from moalign.solvers.psl.svh import SVHPSLConfig

    psl, svh = PSLConfig(), SVHPSLConfig()
    assert (psl.selection_ref, psl.ideal, psl.explore_slots) == ("run", "round", 1)
    assert (svh.selection_ref, svh.ideal, svh.explore_slots) == ("candidates", "predicted", 0)
