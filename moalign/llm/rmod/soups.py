"""Rewarded soups (Ramé et al., 2023): one policy per objective, their weights interpolated.

Ramé, A., Couairon, G., Shukor, M., Dancette, C., Gaya, J.-B., Soulier, L. & Cord, M.
(2023). *Rewarded soups: towards Pareto-optimal alignment by interpolating weights
fine-tuned on diverse rewards.* With policies ``θ_g`` each fine-tuned for objective ``g``
from the same initialization, the soup for user weights ``w`` (normalized to the simplex)
is ``θ = Σ_g w_g θ_g``. The ``drw`` solver in ``fixed`` mode with one-hot weights trains the
per-objective policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def policy_folder(spec: str, uri: str | None = None) -> Path:
    """A policy folder: a path, or ``run:<run id>`` (the ``model`` artifact of a drw run)."""
    if spec.startswith("run:"):
        from moalign.tracking.mlflow_tracker import default_tracking_uri, open_client

        client = open_client(uri or default_tracking_uri())
        return Path(client.download_artifacts(spec.removeprefix("run:"), "model"))
    if not Path(spec).is_dir():
        raise FileNotFoundError(f"rewarded soup: {spec!r} is neither a model folder nor "
                                "run:<run id>")
    return Path(spec)


def soup(specs: Sequence[str], weights: Sequence[float], *, dtype: str = "float32") -> Any:
    """The interpolated policy ``Σ_g w_g θ_g`` (a transformers causal LM).

    Args:
        specs: one policy per objective (see :func:`policy_folder`), same architecture.
        weights: user weights, one per policy (normalized here).
        dtype: the soup's weights.

    Raises:
        ValueError: lengths differ, or the policies' parameters do not match.
    """
    from transformers import AutoModelForCausalLM

    if len(specs) != len(weights) or not specs:
        raise ValueError(f"rewarded soup: {len(specs)} policies for {len(weights)} weights")
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    models = [AutoModelForCausalLM.from_pretrained(policy_folder(s), dtype=dtype)
              for s in specs]
    states = [m.state_dict() for m in models]
    if any(set(s) != set(states[0]) for s in states[1:]):
        raise ValueError("rewarded soup: the policies have different parameters")
    mixed = {k: sum(float(wg) * s[k].double() for wg, s in zip(w, states, strict=True))
             for k in states[0]}
    base = models[0]
    base.load_state_dict({k: v.to(states[0][k].dtype) for k, v in mixed.items()})
    return base
