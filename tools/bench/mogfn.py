"""Benchmark: MOGFN-PC vs OP-GFN vs baselines on HyperGrid (Branin-Currin), equal budgets.

Every method gets the same number of objective evaluations (every terminal object a
GFlowNet samples while training is one). Reported, mean ± std over seeds:

- archive metrics at several evaluation counts: hypervolume of everything evaluated so far
  (reference 0, maximizing) and the fraction of the true Pareto set (Pareto filter over all
  H x H cells) among the evaluated cells;
- the MOGFN evaluation protocol at the end (docs/methods.md): for each preference of an
  11-point simplex grid, the best of 128 candidates from the method's sampler (GFlowNets:
  the trained sampler; random: uniform cells; NSGA-II: its final population; fixed-weight
  GFlowNets: the model whose weight is nearest), then HV, R2, diversity and recall of the
  kept candidates (these samples are diagnostics, outside the budget);
- the exact L1 between the learned terminal distribution and ``∝ (ω·R)^β`` (GFlowNets);
- wall time of the run and trajectories (= evaluations) per second.

Run: ``.venv/bin/python -m tools.bench.mogfn`` (``--smoke`` for a seconds-long check).
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.problem import Problem as PymooProblem
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling

from moalign.core.problem import Problem
from moalign.indicators import hypervolume, pareto_mask
from moalign.problems import get_problem
from moalign.scalarize import simplex_grid
from moalign.solvers import Budget, RunContext, get_solver
from moalign.solvers.memo import EvaluationMemo
from moalign.solvers.mogfn import evaluate_sampler, exact_l1
from moalign.solvers.mogfn.evaluation import pareto_recall, true_pareto_set
from tools.bench.report import DOC, markdown_table, write_section

Run = dict[str, Any]


def _archive_metrics(problem: Problem, X: np.ndarray, F: np.ndarray) -> tuple[float, float]:
    ok = np.all(np.isfinite(F), axis=1)
    front = F[ok][pareto_mask(F[ok], maximize=True)]
    hv = hypervolume(front, np.zeros(problem.n_obj), maximize=True) if len(front) else 0.0
    truth = true_pareto_set(problem) or []
    return hv, pareto_recall(list(X[ok]), truth)


def run_gfn(problem: Problem, name: str, cfg: dict[str, Any], budget: int, seed: int) -> Run:
    """Train a registered GFlowNet solver; return its archive, model and wall time."""
    ctx = RunContext(problem, Budget(evaluations=budget), seed=seed)
    solver = get_solver(name)(cfg)
    t0 = time.perf_counter()
    result = solver.solve(problem, ctx)
    wall = time.perf_counter() - t0
    model = result.model
    sc = solver.config  # with reuse, trajectories outnumber the (distinct) evaluations
    n_traj = (result.info["train_steps"] * sc.batch_size if sc.reuse_evaluations
              else ctx.archive.n_evals)
    return {"parts": [(ctx.archive.X, ctx.archive.F)], "wall": wall, "n": n_traj,
            "sample": lambda w, n: model.sample(np.repeat(w, n, 0), len(w) * n, seed=seed),
            "l1": lambda prefs: exact_l1(problem, model, prefs,
                                         float(model.spec["default_beta"])),
            "beta": float(model.spec["default_beta"])}


def run_fixed_weights(problem: Problem, cfg: dict[str, Any], budget: int, seed: int,
                      weights: np.ndarray) -> Run:
    """One single-objective GFlowNet per fixed weight, each with ``budget / k``."""
    runs = [run_gfn(problem, "mogfn", {**cfg, "preference": tuple(w)}, budget // len(weights),
                    seed) for w in weights]

    def sample(prefs: np.ndarray, n: int) -> Any:
        out = []
        for w in prefs:
            j = int(np.argmin(np.abs(weights - w).sum(axis=1)))
            out.append(runs[j]["sample"](w[None], n))
        return np.concatenate(out)

    return {"parts": [r["parts"][0] for r in runs], "wall": sum(r["wall"] for r in runs),
            "n": sum(r["n"] for r in runs), "sample": sample, "l1": None, "beta": None}


def _evaluate(ctx: RunContext, X: np.ndarray, memo: EvaluationMemo | None) -> np.ndarray:
    """Evaluate and record `X`; with a memo only unseen cells cost (and are recorded).
    Returns F for every row (NaN where the budget ran out)."""
    if memo is None:
        return ctx.evaluate(X).F
    ev, new = memo.evaluate(ctx.problem, X, ctx.remaining_evaluations)
    if len(new):
        ctx.record(X[new], ev.F[new], feasible=ev.feasible[new], failed=ev.failed[new])
    return ev.F


def run_random(problem: Problem, budget: int, seed: int, distinct: bool = False) -> Run:
    """Uniformly random cells, in batches of 128 (``distinct``: repeats cost nothing,
    i.e. sampling without replacement)."""
    ctx = RunContext(problem, Budget(evaluations=budget), seed=seed)
    memo = EvaluationMemo() if distinct else None
    t0 = time.perf_counter()
    stalled = 0  # batches without a new cell (every cell seen)
    while not ctx.should_stop() and stalled < 200:
        n_before = ctx.archive.n_evals
        _evaluate(ctx, problem.space.sample(ctx.rng, ctx.batch_size(128)), memo)
        stalled = 0 if ctx.archive.n_evals > n_before else stalled + 1
    rng = np.random.default_rng(seed + 10_000)
    return {"parts": [(ctx.archive.X, ctx.archive.F)], "wall": time.perf_counter() - t0,
            "n": ctx.archive.n_evals, "l1": None, "beta": None,
            "sample": lambda w, n: problem.space.sample(rng, len(w) * n)}


def run_nsga2(problem: Problem, budget: int, seed: int, pop_size: int = 64,
              distinct: bool = False) -> Run:
    """pymoo NSGA-II on the integer grid (integer sampling, SBX + PM with rounding);
    ``distinct``: cells evaluated in earlier generations are answered from memory."""
    env = problem.space.env  # type: ignore[attr-defined]
    pp = PymooProblem(n_var=env.ndim, n_obj=problem.n_obj, xl=0, xu=env.height - 1,
                      vtype=int)
    algo = NSGA2(pop_size=pop_size, sampling=IntegerRandomSampling(),
                 crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                 mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                 eliminate_duplicates=True)
    algo.setup(pp, termination=("n_eval", 10**12), seed=seed, verbose=False)
    ctx = RunContext(problem, Budget(evaluations=budget), seed=seed)
    memo = EvaluationMemo() if distinct else None
    t0 = time.perf_counter()
    stalled = 0
    while not ctx.should_stop() and stalled < 200:
        pop = algo.ask()
        if pop is None or len(pop) == 0:  # no new (non-duplicate) offspring: converged
            break
        X = np.asarray(pop.get("X")).round().astype(np.int64)
        n_before = ctx.archive.n_evals
        F = _evaluate(ctx, X, memo)
        stalled = 0 if ctx.archive.n_evals > n_before else stalled + 1
        if len(F) < len(X) or (memo is not None and not np.all(np.isfinite(F))):  # budget out
            break
        pop.set("F", np.nan_to_num(-F, nan=0.0))
        algo.tell(infills=pop)
    final = np.asarray(algo.opt.get("X") if algo.pop is None else algo.pop.get("X"))
    final = final.round().astype(np.int64)

    def sample(prefs: np.ndarray, n: int) -> np.ndarray:
        reps = int(np.ceil(n / len(final)))
        block = np.tile(final, (reps, 1))[:n]
        return np.tile(block, (len(prefs), 1))

    return {"parts": [(ctx.archive.X, ctx.archive.F)], "wall": time.perf_counter() - t0,
            "n": ctx.archive.n_evals, "sample": sample, "l1": None, "beta": None}


def measure(problem: Problem, run: Run, checkpoints: list[int]) -> dict[str, float]:
    """Archive metrics at each checkpoint (each part contributes its share), protocol
    metrics, L1, wall time and trajectories per second of one run."""
    out: dict[str, float] = {}
    k = len(run["parts"])
    for c in checkpoints:
        X = np.concatenate([p[0][: c // k] for p in run["parts"]])
        F = np.concatenate([p[1][: c // k] for p in run["parts"]])
        out[f"hv@{c}"], out[f"recall@{c}"] = _archive_metrics(problem, X, F)
    prot = evaluate_sampler(problem, run["sample"], n_partitions=10, n_samples=128)
    out.update({f"eval_{key}": v for key, v in prot.items()})
    if run["l1"] is not None:
        out["l1"] = run["l1"](simplex_grid(problem.n_obj, 4))
        out["beta"] = run["beta"]
    out["wall_s"] = run["wall"]
    out["traj_per_s"] = run["n"] / max(run["wall"], 1e-9)
    return out


def _fmt(vals: list[float], digits: int = 3) -> str:
    a = np.asarray(vals, dtype=float)
    if len(a) == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} ± {a.std(ddof=1):.{digits}f}"


def methods(smoke: bool, budget: int, distinct: bool = False
            ) -> list[tuple[str, Callable[[Problem, int], Run]]]:
    """(label, runner(problem, seed)) of the compared methods at one budget; ``distinct``:
    every method evaluates each cell once (repeats are answered from memory)."""
    tiny: dict[str, Any] = {"n_hidden": 16, "n_layers": 2, "n_bins": 8} if smoke else {}
    if distinct:
        tiny = {**tiny, "reuse_evaluations": True, "stall_steps": 200}
    small = {**tiny, "batch_size": 16}
    weights = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    return [
        ("random", lambda p, s: run_random(p, budget, s, distinct)),
        ("NSGA-II (pop 64)", lambda p, s: run_nsga2(p, budget, s, distinct=distinct)),
        ("NSGA-II (pop 16)", lambda p, s: run_nsga2(p, budget, s, 16, distinct)),
        ("NSGA-II (pop 8)", lambda p, s: run_nsga2(p, budget, s, 8, distinct)),
        ("MOGFN-PC (defaults: batch 128, β~Γ(2,1))",
         lambda p, s: run_gfn(p, "mogfn", tiny, budget, s)),
        ("MOGFN-PC (batch 16, β~Γ(16,1))",
         lambda p, s: run_gfn(p, "mogfn", {**small, "beta_shape": 16.0}, budget, s)),
        ("OP-GFN (batch 128)", lambda p, s: run_gfn(p, "op-gfn", tiny, budget, s)),
        ("OP-GFN (batch 16)", lambda p, s: run_gfn(p, "op-gfn", small, budget, s)),
        ("3 fixed-weight GFNs (batch 16, β=16)",
         lambda p, s: run_fixed_weights(p, {**small, "beta": 16.0}, budget, s, weights)),
    ]


def table(problem: Problem, results: dict[str, list[dict[str, float]]],
          checkpoints: list[int]) -> str:
    header = ["method"]
    for c in checkpoints:
        header += [f"HV @{c}", f"Pareto recall @{c}"]
    header += ["protocol HV", "protocol R2 ↓", "protocol diversity", "protocol recall",
               "L1 ↓ (β)", "wall s", "traj/s"]
    rows = []
    for label, runs in results.items():
        row: list[object] = [label]
        for c in checkpoints:
            row += [_fmt([r[f"hv@{c}"] for r in runs], 4), _fmt([r[f"recall@{c}"] for r in runs])]
        row += [_fmt([r["eval_hv"] for r in runs], 4), _fmt([r["eval_r2"] for r in runs]),
                _fmt([r["eval_diversity"] for r in runs], 2),
                _fmt([r["eval_pareto_recall"] for r in runs])]
        row.append(f"{_fmt([r['l1'] for r in runs])} ({runs[0]['beta']:g})"
                   if "l1" in runs[0] else "—")
        row += [_fmt([r["wall_s"] for r in runs], 1), _fmt([r["traj_per_s"] for r in runs], 0)]
        rows.append(row)
    return markdown_table(header, rows)


def summary(results: dict[str, list[dict[str, float]]], checkpoints: list[int]) -> str:
    """The acceptance comparison: each MOGFN-PC / OP-GFN row against random and NSGA-II
    (mean archive recall and HV at equal evaluation counts)."""
    base = {lb: runs for lb, runs in results.items() if lb.startswith(("random", "NSGA-II"))}
    lines = []
    for label, runs in results.items():
        if not label.startswith(("MOGFN-PC", "OP-GFN")):
            continue
        for c in checkpoints:
            rec = np.mean([r[f"recall@{c}"] for r in runs])
            hv = np.mean([r[f"hv@{c}"] for r in runs])
            parts = []
            for b, bruns in base.items():
                brec = np.mean([r[f"recall@{c}"] for r in bruns])
                bhv = np.mean([r[f"hv@{c}"] for r in bruns])
                # a win must show at the printed precision (recall 3, HV 4 decimals)
                won = round(rec, 3) > round(brec, 3) and round(hv, 4) > round(bhv, 4)
                verdict = "wins" if won else "does not win"
                parts.append(f"vs {b} recall {rec - brec:+.3f}, HV {hv - bhv:+.4f} "
                             f"({verdict})")
            lines.append(f"- {label} @{c}: recall {rec:.3f}, HV {hv:.4f}; " + "; ".join(parts))
    return "\n".join(lines)


def run_regime(problem: Problem, budget: int, checkpoints: list[int], seeds: list[int],
               smoke: bool, only: set[str] | None = None, distinct: bool = False) -> str:
    results: dict[str, list[dict[str, float]]] = {}
    for label, runner in methods(smoke, budget, distinct):
        if only is not None and not any(label.startswith(o) for o in only):
            continue
        for seed in seeds:
            t0 = time.perf_counter()
            m = measure(problem, runner(problem, seed), checkpoints)
            results.setdefault(label, []).append(m)
            print(f"[{budget}] {label} seed {seed}: {time.perf_counter() - t0:.1f}s "
                  f"recall@{checkpoints[-1]}={m[f'recall@{checkpoints[-1]}']:.3f}", flush=True)
    RAW.setdefault(f"{budget}{' distinct' if distinct else ''}", results)
    return (table(problem, results, checkpoints) + "\n\nEqual-budget comparison "
            "(archive = everything evaluated):\n\n" + summary(results, checkpoints))


RAW: dict[str, Any] = {}


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=4096, help="small-budget regime")
    ap.add_argument("--long-budget", type=int, default=25600, help="0 skips that regime")
    ap.add_argument("--distinct-budget", type=int, default=512,
                    help="distinct-cell regime (repeats free); 0 skips it")
    ap.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    height = 8 if args.smoke else 32
    seeds = list(range(1 if args.smoke else args.seeds))
    budget = 128 if args.smoke else args.budget
    problem = get_problem("hypergrid")(height=height)
    truth = true_pareto_set(problem) or []
    hv_true = hypervolume(problem.pareto_front(), np.zeros(2), maximize=True)
    run_gfn(get_problem("hypergrid")(height=4), "mogfn", {"batch_size": 8}, 16, 0)  # warm-up
    t0 = time.perf_counter()
    checkpoints = sorted({max(budget // 4, 1), budget // 2, budget})
    body = [f"### Small budget: {budget} evaluations\n",
            run_regime(problem, budget, checkpoints, seeds, args.smoke)]
    distinct = min(args.distinct_budget, 64) if args.smoke else args.distinct_budget
    if distinct:
        body += [f"\n### Distinct-cell budget: {distinct} evaluations (every method evaluates "
                 "each cell once; a repeated cell is answered from memory and costs nothing: "
                 "random = sampling without replacement, NSGA-II with a memo, GFlowNets with "
                 "`reuse_evaluations: true`, stopping after 200 steps without a new cell)\n",
                 run_regime(problem, distinct, sorted({distinct // 4, distinct // 2, distinct}),
                            seeds, args.smoke, distinct=True)]
    long_budget = 0 if args.smoke else args.long_budget
    if long_budget:
        body += [f"\n### Long budget: {long_budget} evaluations (GFlowNets at METHODS "
                 f"defaults, and the baselines)\n",
                 run_regime(problem, long_budget, [long_budget], seeds, args.smoke,
                            only={"random", "NSGA-II", "MOGFN-PC (defaults", "OP-GFN (batch 128"})]
    total = time.perf_counter() - t0
    head = (f"## mogfn — MOGFN-PC vs OP-GFN vs baselines, HyperGrid {height}x{height} "
            f"Branin–Currin\n\n"
            f"Command: `.venv/bin/python -m tools.bench.mogfn{' --smoke' if args.smoke else ''}"
            f"` ({len(seeds)} seed(s)); machine: 2-core CPU shared with other jobs, "
            f"torch 1 thread; date {datetime.date.today().isoformat()}; total "
            f"{total / 60:.1f} min. True Pareto set: {len(truth)} cells, its HV "
            f"{hv_true:.4f}. HV reference 0 (maximize); R2 utopia = ideal point; "
            f"mean ± std over seeds.\n")
    text = head + "\n".join(body) + "\n"
    print(text)
    if not args.no_write:
        write_section("mogfn", text)
        out = DOC.parent / "bench_results" / "mogfn.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(RAW, indent=1))
    return text


if __name__ == "__main__":
    main()
