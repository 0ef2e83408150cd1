"""Validation metrics of a text problem with judges, shared by the LLM training solvers.

For validation samples scored with the problem's objectives (``F``) and judges (``G``, one
column per judge in the constraint convention: pass -1, violate +1, could not judge NaN):

* ``val/pass/<judge>``: the share of samples the judge passes (could not judge is not a
  pass), ``val/pass/all``: the share every judge passes;
* ``val/judged/<objective>``: the objective's mean when every sample a judge rejects is
  worth the objective's worst bound (0 for a fraction to maximize). A reward that rises
  while this falls is being hacked. Only for objectives with finite bounds.

Example:
    >>> from moalign.core.objective import Objective, ObjectiveSet
    >>> objs = ObjectiveSet([Objective("frac", lambda x: x, "maximize", bounds=(0.0, 1.0))])
    >>> F = np.array([[0.9], [0.5]]); G = np.array([[1.0], [-1.0]])
    >>> judged_metrics(objs, ["short"], F, G)
    {'val/pass/short': 0.5, 'val/pass/all': 0.5, 'val/judged/frac': 0.25}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moalign.core.objective import ObjectiveSet


def judged_metrics(objectives: ObjectiveSet, judge_names: Sequence[str], F: np.ndarray,
                   G: np.ndarray) -> dict[str, float]:
    """Pass rates and judged objective means of `n` validation samples.

    Args:
        objectives: the problem's objectives (their bounds and directions).
        judge_names: one name per column of ``G``.
        F: `n x m` objective values (NaN where failed).
        G: `n x k` judge constraint values.
    """
    F, G = np.asarray(F, dtype=float), np.asarray(G, dtype=float).reshape(len(F), -1)
    if len(F) == 0:
        return {}
    passed = G < 0  # NaN (could not judge) compares False
    ok = np.all(passed, axis=1)
    out = {f"val/pass/{name}": float(passed[:, j].mean()) for j, name in enumerate(judge_names)}
    out["val/pass/all"] = float(ok.mean())
    for j, obj in enumerate(objectives):
        lo, hi = obj.bounds if obj.bounds is not None else (None, None)
        worst = lo if obj.direction == "maximize" else hi
        if worst is None or not np.isfinite(worst):
            continue
        values = np.where(ok & np.isfinite(F[:, j]), F[:, j], float(worst))
        out[f"val/judged/{obj.name}"] = float(values.mean())
    return out
