"""The shared GP fit (:func:`moalign.solvers.gp.fit_gp`): it is BoTorch's tutorial model,
and it is the fit that both ``qnehvi``/``qparego`` and the ``desirability`` surrogate use."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from moalign.problems.reaction import reaction
from moalign.solvers import Budget, RunContext, get_solver
from moalign.solvers import gp as gp_module
from moalign.testing import toy_zdt1


def _tiny_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    U = torch.rand(8, 2, generator=g, dtype=torch.float64)
    Y = torch.stack([torch.sin(3 * U[:, 0]) + U[:, 1], 10 * (U ** 2).sum(-1)], dim=-1)
    return U, Y


def _by_hand(U: torch.Tensor, Y: torch.Tensor) -> Any:
    """The model of BoTorch's multi-objective tutorial, written out with BoTorch."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import SumMarginalLogLikelihood

    model = ModelListGP(*[SingleTaskGP(U, Y[:, [i]], outcome_transform=Standardize(m=1))
                          for i in range(Y.shape[1])])
    fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
    return model


def test_fit_gp_equals_the_model_built_by_hand() -> None:
    U, Y = _tiny_data()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ours = gp_module.fit_gp(U, Y)
        torch.manual_seed(0)
        theirs = _by_hand(U, Y)
    Xt = torch.linspace(0, 1, 7, dtype=torch.float64).unsqueeze(-1).expand(7, 2).contiguous()
    with torch.no_grad():
        a, b = ours.posterior(Xt), theirs.posterior(Xt)
        np.testing.assert_allclose(a.mean.numpy(), b.mean.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.variance.numpy(), b.variance.numpy(), rtol=0, atol=1e-12)
        # the posterior is on the outcomes' scale (Standardize is undone) and interpolates
        at_data = ours.posterior(U).mean.numpy()
    np.testing.assert_allclose(at_data, Y.numpy(), atol=0.05 * float(Y.abs().max()))
    assert ours.num_outputs == 2


def test_both_solvers_fit_through_the_shared_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    import moalign.solvers.baselines.botorch_mobo as mobo
    import moalign.solvers.desirability.surrogate as surrogate

    assert mobo.fit_gp is gp_module.fit_gp
    assert surrogate.fit_gp is gp_module.fit_gp
    calls: list[tuple[str, tuple[int, ...]]] = []

    def spy(who: str) -> Any:
        def fit(U: torch.Tensor, Y: torch.Tensor) -> Any:
            calls.append((who, tuple(Y.shape)))
            return gp_module.fit_gp(U, Y)
        return fit

    monkeypatch.setattr(mobo, "fit_gp", spy("qnehvi"))
    monkeypatch.setattr(surrogate, "fit_gp", spy("desirability"))

    p = toy_zdt1()
    get_solver("qnehvi")({"n_initial": 6, "batch_size": 2, "num_restarts": 1,
                          "raw_samples": 8, "mc_samples": 8, "maxiter": 5}).solve(
        p, RunContext(p, Budget(evaluations=8), seed=0))
    r = reaction()
    cfg = {"desirabilities": [{"type": "dmax", "low": 80, "high": 97},
                              {"type": "dtarget", "low": 55, "target": 57.5, "high": 60}],
           "method": "surrogate", "n_initial": 5, "n_candidates": 32, "mc_samples": 16,
           "local_rounds": 1}
    get_solver("desirability")(cfg).solve(r, RunContext(r, Budget(evaluations=6), seed=0))
    assert calls == [("qnehvi", (6, 2)), ("desirability", (5, 2))]
