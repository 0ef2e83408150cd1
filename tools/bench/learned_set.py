"""True hypervolume of the learned Pareto set that a run logged: load
``runs:/RUN/pareto_set``, map an even preference grid through it, evaluate the designs on
the recipe's problem and print their hypervolume at the problem's reference point (the
number a user of the set gets, unlike the run's hypervolume of its evaluated points)::

    .venv/bin/python -m tools.bench.learned_set recipes/psl_zdt1.yaml RUN [RUN ...] \\
        [--tracking-uri sqlite:///mlruns/mlflow.db] [--detail]

``--detail`` also prints the run's ``model_round`` metric per round (which round's network
was returned), the GP's smallest lengthscales per objective, and for five preferences the
design's spread, true objectives and the GP's predicted ones (:func:`detail`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from moalign.indicators import hypervolume
from moalign.scalarize import simplex_grid


def set_hypervolume(predict: Callable[[pd.DataFrame], pd.DataFrame], problem: Any,
                    parts: int = 99) -> tuple[float, np.ndarray]:
    """Hypervolume and objective values of ``predict``'s designs (columns ``x0..``) for the
    preference grid ``simplex_grid(m, parts)``, evaluated on ``problem``."""
    m = problem.n_obj
    W = simplex_grid(m, parts)
    out = predict(pd.DataFrame(W, columns=[f"w{i + 1}" for i in range(m)]))
    X = out[[f"x{j}" for j in range(problem.space.dim)]].to_numpy()
    F = problem.evaluate(X).F
    ref = problem.reference_point()
    if ref is None:
        raise ValueError(f"{problem.name}: no reference point; give the problem one "
                         "(reference_point=...) to score its learned set")
    return hypervolume(F, ref), F


def detail(run: str, model: Any, problem: Any) -> None:
    """Print ``model_round`` per round, the GP's smallest lengthscales and five designs."""
    from mlflow.tracking import MlflowClient

    rounds = [int(m.value) for m in MlflowClient().get_metric_history(run, "model_round")]
    print(f"  model_round per round: {rounds}")
    learned = model.unwrap_python_model().model
    if learned.gp is not None:
        for j, ls in enumerate(learned.gp.lengthscale.reshape(problem.n_obj, -1).numpy()):
            print(f"  GP lengthscales, objective {j}: smallest {np.sort(ls)[:3].round(3).tolist()}"
                  f" at x{np.argsort(ls)[:3].tolist()}")
    W = simplex_grid(problem.n_obj, 4)[::-1]
    out = model.predict(pd.DataFrame(W, columns=[f"w{i + 1}" for i in range(problem.n_obj)]))
    X = out[[f"x{j}" for j in range(problem.space.dim)]].to_numpy()
    F = problem.evaluate(X).F
    pred = out[[c for c in out.columns if c.startswith("pred_")]].to_numpy()
    for w, x, f, fp in zip(W, X, F, pred, strict=False):
        print(f"  w {w.round(2).tolist()}: x0 {x[0]:.3f}, max of x1.. {x[1:].max():.3f}; "
              f"true F {f.round(3).tolist()}, GP mean {fp.round(3).tolist()}")


def main(argv: list[str] | None = None) -> None:
    import mlflow

    from moalign.recipes import load_recipe
    from moalign.recipes.loader import build_problem
    from moalign.tracking import default_tracking_uri

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe")
    ap.add_argument("runs", nargs="+", help="MLflow run ids with a pareto_set model")
    ap.add_argument("--tracking-uri", default=default_tracking_uri())
    ap.add_argument("--detail", action="store_true", help="see the module docstring")
    ap.add_argument("--parts", type=int, default=None,
                    help="grid divisions (default 99 for 2 objectives, 12 for more)")
    args = ap.parse_args(argv)
    problem = build_problem(load_recipe(args.recipe))
    parts = args.parts or (99 if problem.n_obj == 2 else 12)
    mlflow.set_tracking_uri(args.tracking_uri)
    for run in args.runs:
        model = mlflow.pyfunc.load_model(f"runs:/{run}/pareto_set")
        hv, F = set_hypervolume(model.predict, problem, parts)
        print(f"{run}: HV of the learned set {hv:.6g} ({len(F)} preferences); "
              f"objective ranges {F.min(0).round(4).tolist()} .. {F.max(0).round(4).tolist()}")
        if args.detail:
            detail(run, model, problem)


if __name__ == "__main__":
    main()
