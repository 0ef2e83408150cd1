"""One fitting rule for the BoTorch GP surrogates of the Bayesian-optimization solvers.

:func:`fit_gp` is the model of BoTorch's multi-objective tutorial ("Parallel,
Multi-Objective BO in BoTorch with qNEHVI, qNParEGO"; Balandat et al., "BoTorch: A
Framework for Efficient Monte-Carlo Bayesian Optimization", NeurIPS 2020): one independent
``SingleTaskGP`` per outcome column (BoTorch's default kernel, priors and learned noise),
each with a ``Standardize(m=1)`` outcome transform, gathered in a ``ModelListGP`` whose
hyperparameters maximize the summed exact marginal log likelihood
``sum_r log p(y_r | X, theta_r)`` (``SumMarginalLogLikelihood``) through
``fit_gpytorch_mll``. Inputs are expected in the unit cube; the model is fitted as given
(no input transform).

Used by ``qnehvi``/``qparego`` (:mod:`moalign.solvers.baselines.botorch_mobo`) and by the
``surrogate`` method of the ``desirability`` solver
(:mod:`moalign.solvers.desirability.surrogate`), so that both fit exactly the same model.

Randomness: ``fit_gpytorch_mll`` may draw from torch's global generator (random restarts
after a failed fit); callers seed it inside :func:`~moalign.core.seeding.seeded_torch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from botorch.models import ModelListGP


def fit_gp(U: torch.Tensor, Y: torch.Tensor) -> ModelListGP:
    """One ``SingleTaskGP`` per column of `Y` (standardized outcomes), fitted jointly.

    Args:
        U: `n x d` inputs in the unit cube (float64).
        Y: `n x m` outcomes (float64, no NaN); BoTorch's acquisition functions maximize them.

    Returns:
        The fitted ``ModelListGP`` of the `m` GPs, in the column order of `Y`.

    Raises:
        botorch.exceptions.errors.ModelFittingError: when every fitting attempt fails.

    Example:
        >>> import torch
        >>> U = torch.linspace(0, 1, 5, dtype=torch.float64).unsqueeze(-1)
        >>> fit_gp(U, torch.cat([U.sin(), U.cos()], dim=-1)).num_outputs
        2
    """
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import SumMarginalLogLikelihood

    models = [
        SingleTaskGP(U, Y[:, i : i + 1], outcome_transform=Standardize(m=1))
        for i in range(Y.shape[1])
    ]
    model = ModelListGP(*models)
    fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
    return model
