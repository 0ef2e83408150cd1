"""Gaussian-process surrogates for PSL: fitted with BoTorch, predicted in closed form.

One independent GP per objective (a batched BoTorch ``SingleTaskGP`` with batch shape `m`),
as in PSL-MOBO (Lin et al., NeurIPS 2022): constant mean, ``ScaleKernel(Matern-5/2 ARD)``
with lengthscales bounded to ``[sqrt(1e-3), sqrt(1e3)]`` (the reference code's bounds), an
almost noiseless likelihood (fixed noise ``1e-6``; the reference uses scikit-learn's
``alpha = 1e-10``), hyperparameters by maximum marginal likelihood
(``botorch.fit_gpytorch_mll``). Inputs are in the unit cube, outputs standardized.

Prediction uses the fitted hyperparameters in closed form,

    mu_j(x)    = c_j + k_j(x, X) (K_j + s2_j I)^{-1} (y_j - c_j)
    var_j(x)   = o_j - k_j(x, X) (K_j + s2_j I)^{-1} k_j(X, x),

which equals BoTorch's posterior (tested) but is a plain differentiable torch function of
`x`, cheap enough to call 1000 times per round, and picklable without BoTorch objects, so a
saved Pareto-set model predicts objectives with torch alone.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from moalign.core.seeding import seeded_torch

_LS_BOUNDS = (math.sqrt(1e-3), math.sqrt(1e3))
_NOISE = 1e-6


def correlation(x1: torch.Tensor, x2: torch.Tensor, lengthscale: torch.Tensor,
                kind: str = "matern52") -> torch.Tensor:
    """ARD correlation: Matern-5/2 ``(1 + sqrt5 d + 5/3 d^2) exp(-sqrt5 d)`` or RBF
    ``exp(-d^2 / 2)``, with ``d`` the lengthscale-scaled distance.

    Args:
        x1: `m x a x d` (or `a x d`) points.
        x2: `m x b x d` points.
        lengthscale: `m x 1 x d` lengthscales.

    Returns:
        `m x a x b` correlations.
    """
    a, b = x1 / lengthscale, x2 / lengthscale
    sq = (a.unsqueeze(-2) - b.unsqueeze(-3)).pow(2).sum(-1)
    if kind == "rbf":
        return torch.exp(-0.5 * sq)
    d = torch.sqrt(sq.clamp_min(1e-30))
    s5d = math.sqrt(5.0) * d
    return (1.0 + s5d + 5.0 / 3.0 * sq) * torch.exp(-s5d)


@dataclass
class GPPredictor:
    """Closed-form posterior of `m` independent GPs (float64 tensors).

    Attributes:
        train_x: `N x d` training inputs (unit cube).
        train_y: `N x m` standardized training outputs.
        mean_const: `m` constant means.
        outputscale: `m` output scales.
        lengthscale: `m x 1 x d` lengthscales.
        noise: `m` noise variances.
        kind: ``"matern52"`` or ``"rbf"``.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    mean_const: torch.Tensor
    outputscale: torch.Tensor
    lengthscale: torch.Tensor
    noise: torch.Tensor
    kind: str = "matern52"

    def __post_init__(self) -> None:
        m, n = self.train_y.shape[1], self.train_y.shape[0]
        xb = self.train_x.expand(m, n, -1)
        k = self.outputscale[:, None, None] * correlation(xb, xb, self.lengthscale, self.kind)
        k = k + (self.noise[:, None, None] + 1e-9) * torch.eye(n, dtype=k.dtype)
        self._chol = torch.linalg.cholesky(k)
        resid = (self.train_y - self.mean_const).T.unsqueeze(-1)  # m x N x 1
        self._alpha = torch.cholesky_solve(resid, self._chol)

    @property
    def n_obj(self) -> int:
        return int(self.train_y.shape[1])

    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation of the latent functions.

        Args:
            x: `k x d` inputs (unit cube), float64; may require grad.

        Returns:
            ``(mean, std)``, each `k x m`.
        """
        m = self.n_obj
        xs = x.expand(m, *x.shape)
        train = self.train_x.expand(m, *self.train_x.shape)
        kx = self.outputscale[:, None, None] * correlation(  # m x k x N
            xs, train, self.lengthscale, self.kind)
        mean = (kx @ self._alpha).squeeze(-1) + self.mean_const[:, None]
        v = torch.linalg.solve_triangular(self._chol, kx.transpose(-1, -2), upper=False)
        var = self.outputscale[:, None] - v.pow(2).sum(-2)
        std = torch.sqrt(var.clamp_min(1e-12))
        return mean.T, std.T

    def lcb(self, x: torch.Tensor, coef: float) -> torch.Tensor:
        """Lower confidence bound ``mean - coef * std`` (`k x m`), minimization view."""
        mean, std = self.predict(x)
        return mean - coef * std

    def state(self) -> dict[str, Any]:
        """Tensors that rebuild this predictor with ``GPPredictor(**state)``."""
        return {
            "train_x": self.train_x, "train_y": self.train_y, "mean_const": self.mean_const,
            "outputscale": self.outputscale, "lengthscale": self.lengthscale,
            "noise": self.noise, "kind": self.kind,
        }


def _botorch_model(x: torch.Tensor, y: torch.Tensor, kernel: str  # type: ignore[no-untyped-def]
                   ):
    from botorch.models import SingleTaskGP

    if kernel == "botorch":  # BoTorch's defaults: RBF-ARD, dimension-scaled priors, noise
        return SingleTaskGP(x, y, outcome_transform=None, input_transform=None)
    from gpytorch.constraints import Interval
    from gpytorch.kernels import MaternKernel, ScaleKernel

    m, d = y.shape[1], x.shape[1]
    batch = torch.Size([m]) if m > 1 else torch.Size([])
    covar = ScaleKernel(
        MaternKernel(nu=2.5, ard_num_dims=d, batch_shape=batch,
                     lengthscale_constraint=Interval(*_LS_BOUNDS)),
        batch_shape=batch,
    )
    return SingleTaskGP(x, y, train_Yvar=torch.full_like(y, _NOISE), covar_module=covar,
                        outcome_transform=None, input_transform=None)


def fit_gp(x: np.ndarray, y: np.ndarray, seed: int, kernel: str = "matern52") -> GPPredictor:
    """Fit one GP per objective by maximum marginal likelihood (BoTorch).

    Args:
        x: `N x d` inputs in the unit cube.
        y: `N x m` standardized outputs (no NaN).
        kernel: ``"matern52"`` (the reference code's model, see the module docstring) or
            ``"botorch"`` (``SingleTaskGP``'s defaults: RBF-ARD with BoTorch's
            dimension-scaled lengthscale prior and a learned noise, as BoTorch's qNEHVI).
        seed: seeds the global torch RNG inside
            :func:`~moalign.core.seeding.seeded_torch` (BoTorch may draw random restarts
            from it); the caller's global state is restored after.

    Returns:
        The fitted :class:`GPPredictor`.
    """
    from botorch.fit import fit_gpytorch_mll
    from gpytorch.mlls import ExactMarginalLogLikelihood

    tx = torch.as_tensor(x, dtype=torch.float64)
    ty = torch.as_tensor(y, dtype=torch.float64)
    with seeded_torch(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _botorch_model(tx, ty, kernel)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        try:
            fit_gpytorch_mll(mll)
        except Exception:  # noqa: BLE001 - keep the prior hyperparameters, as BoTorch does
            pass
    return predictor_from_botorch(model, tx, ty, kernel)


def predictor_from_botorch(model, tx: torch.Tensor, ty: torch.Tensor,  # type: ignore[no-untyped-def]
                           kernel: str = "matern52") -> GPPredictor:
    """The closed-form predictor with the hyperparameters of a fitted ``SingleTaskGP``."""
    m = ty.shape[1]
    one = torch.ones(m, dtype=torch.float64)
    with torch.no_grad():
        if kernel == "botorch":
            ls, scale = model.covar_module.lengthscale, one
            noise = model.likelihood.noise.detach().reshape(m).to(torch.float64)
        else:
            ls = model.covar_module.base_kernel.lengthscale
            scale = model.covar_module.outputscale.detach().reshape(m).to(torch.float64)
            noise = torch.full((m,), _NOISE, dtype=torch.float64)
        return GPPredictor(
            train_x=tx, train_y=ty,
            mean_const=model.mean_module.constant.detach().reshape(m).to(torch.float64),
            outputscale=scale, lengthscale=ls.detach().reshape(m, 1, -1).to(torch.float64),
            noise=noise, kind="rbf" if kernel == "botorch" else "matern52",
        )
