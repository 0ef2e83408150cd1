"""The preference-conditioned set network and the saved Pareto-set model.

:class:`SetNetwork` is the PSL model of Lin et al. (NeurIPS 2022): an MLP
``m -> 256 -> 256 -> n`` with ReLU hidden layers and a sigmoid output, so that every output
lies in the open unit cube (scaled to the problem's box outside). Note the trap: a sigmoid
never reaches 0 or 1, so Pareto sets on the box boundary (ZDT's ``x_2..x_n = 0``) are only
approached.

:class:`ParetoSetModel` is what a run leaves behind (``Result.model``): preferences in,
designs (and, for the GP-based solvers, GP-predicted objectives) out; it saves to and
loads from a directory with torch alone and serves as an MLflow pyfunc model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from moalign.solvers.psl._gp import GPPredictor

PREF_SHIFT = 1e-4  # added to every preference before the network, as in the reference code


class SetNetwork(nn.Module):
    """``h_theta(lambda)``: `k x m` preferences -> `k x n` points of the unit cube.

    Weights are initialized like ``nn.Linear`` (uniform in ``+-1/sqrt(fan_in)``) but from
    the given generator, so construction never touches torch's global RNG.

    Args:
        n_obj: `m`, the preference dimension.
        n_var: `n`, the design dimension.
        hidden: width of the two hidden layers (256 in the paper).
        generator: torch generator for the initial weights (None: zeros, for loading).
    """

    def __init__(self, n_obj: int, n_var: int, *, hidden: int = 256,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.fc1 = nn.utils.skip_init(nn.Linear, n_obj, hidden)
        self.fc2 = nn.utils.skip_init(nn.Linear, hidden, hidden)
        self.fc3 = nn.utils.skip_init(nn.Linear, hidden, n_var)
        for layer in (self.fc1, self.fc2, self.fc3):
            bound = 1.0 / math.sqrt(layer.in_features)
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    if generator is None:
                        p.zero_()
                    else:
                        p.uniform_(-bound, bound, generator=generator)

    def forward(self, pref: torch.Tensor) -> torch.Tensor:
        """`k x m` float preferences -> `k x n` float64 unit-cube points."""
        h = torch.relu(self.fc1(pref.to(torch.float32)))
        h = torch.relu(self.fc2(h))
        return torch.sigmoid(self.fc3(h)).to(torch.float64)


def backprop_signals(net: SetNetwork, pref: torch.Tensor, vec: torch.Tensor
                     ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per-sample gradients of ``x_k . v_k`` (``x_k = h_theta(lambda_k)``), in factored form.

    For each linear layer, back-propagation of sample `k` gives the signal ``d_k`` at the
    layer's output and its input ``a_k``; the sample's gradient is ``d_k a_k^T`` for the
    weight and ``d_k`` for the bias. Returning the factors lets callers form sums over
    samples (``sum_k c_k d_k a_k^T = (c * d)^T a``) without materializing `k` weight-sized
    gradients. ReLU's derivative is 0 at 0, as torch's.

    Args:
        net: the network.
        pref: `k x m` preferences.
        vec: `k x n` vectors, one per sample.

    Returns:
        Layer name (``fc1``, ``fc2``, ``fc3``) -> ``(d, a)``: `k x out` and `k x in`.
    """
    with torch.no_grad():
        a0 = pref.to(torch.float32)
        z1 = net.fc1(a0)
        a1 = torch.relu(z1)
        z2 = net.fc2(a1)
        a2 = torch.relu(z2)
        s = torch.sigmoid(net.fc3(a2))
        d3 = vec.to(torch.float32) * s * (1.0 - s)
        d2 = (d3 @ net.fc3.weight) * (z2 > 0)
        d1 = (d2 @ net.fc2.weight) * (z1 > 0)
    return {"fc1": (d1, a0), "fc2": (d2, a1), "fc3": (d3, a2)}


def as_preferences(data: Any, n_obj: int) -> np.ndarray:
    """Coerce user preferences (DataFrame, array, list; `k x m`) to rows on the simplex.

    Raises:
        ValueError: wrong width, negative entries or an all-zero row.
    """
    arr = np.asarray(data.to_numpy() if isinstance(data, pd.DataFrame) else data,
                     dtype=np.float64)
    arr = np.atleast_2d(arr)
    if arr.shape[1] != n_obj:
        raise ValueError(f"preferences must have {n_obj} columns (one per objective), "
                         f"got shape {arr.shape}")
    sums = arr.sum(axis=1, keepdims=True)
    if np.any(arr < 0) or np.any(sums <= 0) or not np.all(np.isfinite(arr)):
        raise ValueError("preferences must be finite, non-negative and not all zero")
    return np.asarray(arr / sums)


class ParetoSetModel:
    """A learned Pareto set: ``model(preferences) -> designs``.

    Args:
        net: the trained :class:`SetNetwork`.
        lower: `n` lower bounds of the design box.
        upper: `n` upper bounds.
        objective_names: the `m` objective names (column names of predictions).
        maximize: `m` bools, the objectives' directions.
        gp: the GP surrogate the network was trained on (None for ``psl-grad``).
        y_mean: `m` means of the standardized minimization-view objectives (GP space).
        y_std: `m` standard deviations of the same.

    Example:
        >>> import torch
        >>> net = SetNetwork(2, 3, generator=torch.Generator().manual_seed(0))
        >>> model = ParetoSetModel(net, [0, 0, 0], [1, 1, 1], ["f1", "f2"], [False, False])
        >>> model([[0.5, 0.5]]).shape
        (1, 3)
    """

    artifact_name = "pareto_set"

    def __init__(self, net: SetNetwork, lower: Any, upper: Any, objective_names: list[str],
                 maximize: Any, *, gp: GPPredictor | None = None, y_mean: Any = None,
                 y_std: Any = None) -> None:
        self.net = net.eval()
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.objective_names = list(objective_names)
        self.maximize = np.asarray(maximize, dtype=bool)
        self.gp = gp
        m = len(self.objective_names)
        self.y_mean = np.zeros(m) if y_mean is None else np.asarray(y_mean, dtype=np.float64)
        self.y_std = np.ones(m) if y_std is None else np.asarray(y_std, dtype=np.float64)

    @property
    def n_obj(self) -> int:
        return len(self.objective_names)

    def _unit(self, preferences: Any) -> torch.Tensor:
        pref = torch.as_tensor(as_preferences(preferences, self.n_obj)) + PREF_SHIFT
        with torch.no_grad():
            return self.net(pref)

    def __call__(self, preferences: Any) -> np.ndarray:
        """`k x m` preferences -> `k x n` designs in the problem's box."""
        u = self._unit(preferences).numpy()
        return np.asarray(self.lower + u * (self.upper - self.lower))

    def predict_objectives(self, preferences: Any) -> np.ndarray | None:
        """`k x m` GP posterior means of the objectives (user orientation), or None."""
        if self.gp is None:
            return None
        with torch.no_grad():
            mean, _ = self.gp.predict(self._unit(preferences))
        f_min = mean.numpy() * self.y_std + self.y_mean
        return np.asarray(np.where(self.maximize, -f_min, f_min))

    def input_example(self) -> np.ndarray:
        """`1 x m` float64: the even preference, the example of the model's signature."""
        return np.full((1, self.n_obj), 1.0 / self.n_obj)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """pyfunc entry point: preferences in, one row per preference out.

        Columns: ``x0..x{n-1}`` (the design) and, when a GP is attached,
        ``pred_<objective>`` (its predicted value).
        """
        X = self(data)
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        F = self.predict_objectives(data)
        if F is not None:
            for j, name in enumerate(self.objective_names):
                df[f"pred_{name}"] = F[:, j]
        return df

    # -- persistence -------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write ``weights.pt`` (tensors only) and ``meta.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, Any] = {"net": self.net.state_dict()}
        if self.gp is not None:
            tensors["gp"] = self.gp.state()
        torch.save(tensors, directory / "weights.pt")
        meta = {
            "n_obj": self.n_obj, "n_var": int(self.lower.shape[0]),
            "hidden": int(self.net.fc1.out_features),
            "lower": self.lower.tolist(), "upper": self.upper.tolist(),
            "objective_names": self.objective_names, "maximize": self.maximize.tolist(),
            "y_mean": self.y_mean.tolist(), "y_std": self.y_std.tolist(),
        }
        (directory / "meta.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> ParetoSetModel:
        """Rebuild a model written by :meth:`save`."""
        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text())
        tensors = torch.load(directory / "weights.pt", weights_only=True)
        net = SetNetwork(meta["n_obj"], meta["n_var"], hidden=meta["hidden"])
        net.load_state_dict(tensors["net"])
        gp = GPPredictor(**tensors["gp"]) if "gp" in tensors else None
        return cls(net, meta["lower"], meta["upper"], meta["objective_names"],
                   meta["maximize"], gp=gp, y_mean=meta["y_mean"], y_std=meta["y_std"])
