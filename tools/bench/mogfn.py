"""Benchmark: MOGFN-PC vs OP-GFN vs baselines on HyperGrid (Branin-Currin), equal budgets.

Every method gets the same number of objective evaluations. The headline regime counts
*distinct* cells (``--distinct-budget``, 512): a repeated cell is answered from memory and
costs nothing, for every method (GFlowNets with ``reuse_evaluations``). The regimes where
every sample is charged (``--budget``, ``--long-budget``) are off by default: on 32 x 32
cells random sampling nearly enumerates the grid within a few thousand samples, so even a
perfect sampler can beat it by at most half a cell of recall there. Reported, mean ±
standard error over seeds, with a two-sided Mann-Whitney U test of each GFlowNet against
each baseline:

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

Run: ``.venv/bin/python -m tools.bench.mogfn`` (``--smoke`` for a seconds-long check;
``--budget 4096 --long-budget 25600`` adds the charged regimes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.problem import Problem as PymooProblem
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from scipy.stats import mannwhitneyu

from moalign.core.problem import Problem
from moalign.indicators import hypervolume, pareto_mask
from moalign.problems import get_problem
from moalign.scalarize import simplex_grid
from moalign.solvers import Budget, RunContext, get_solver
from moalign.solvers.memo import EvaluationMemo
from moalign.solvers.mogfn import evaluate_sampler, exact_l1
from moalign.solvers.mogfn.evaluation import pareto_recall, true_pareto_set
from tools.bench.report import DOC, markdown_table, mean_se, write_section

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
            "beta": float(model.spec["default_beta"]), "model": model}


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


@dataclass(frozen=True)
class GAEncoding:
    """How NSGA-II sees a discrete space: integer genes in ``[xl, xu]``, a ``decode`` from
    the `n x n_var` gene matrix to the objects the problem evaluates, and the variation
    operators (pymoo crossover and mutation instances)."""

    n_var: int
    xl: np.ndarray
    xu: np.ndarray
    decode: Callable[[np.ndarray], Any]
    crossover: Any
    mutation: Any


def grid_encoding(problem: Problem) -> GAEncoding:
    """HyperGrid cells as integer coordinates: SBX + PM with rounding (genes = cells)."""
    env = problem.space.env  # type: ignore[attr-defined]
    return GAEncoding(
        n_var=env.ndim, xl=np.zeros(env.ndim), xu=np.full(env.ndim, env.height - 1),
        decode=lambda X: X,
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()))


def run_nsga2(problem: Problem, budget: int, seed: int, pop_size: int = 64,
              distinct: bool = False, encoding: GAEncoding | None = None) -> Run:
    """pymoo NSGA-II on integer genes (default: the HyperGrid cells, integer sampling,
    SBX + PM with rounding); ``distinct``: objects evaluated in earlier generations are
    answered from memory; ``encoding``: another discrete space (e.g. sequences)."""
    enc = encoding or grid_encoding(problem)
    pp = PymooProblem(n_var=enc.n_var, n_obj=problem.n_obj, xl=enc.xl, xu=enc.xu, vtype=int)
    algo = NSGA2(pop_size=pop_size, sampling=IntegerRandomSampling(),
                 crossover=enc.crossover, mutation=enc.mutation, eliminate_duplicates=True)
    algo.setup(pp, termination=("n_eval", 10**12), seed=seed, verbose=False)
    ctx = RunContext(problem, Budget(evaluations=budget), seed=seed)
    memo = EvaluationMemo() if distinct else None
    t0 = time.perf_counter()
    stalled = 0
    while not ctx.should_stop() and stalled < 200:
        pop = algo.ask()
        if pop is None or len(pop) == 0:  # no new (non-duplicate) offspring: converged
            break
        X = enc.decode(np.asarray(pop.get("X")).round().astype(np.int64))
        n_before = ctx.archive.n_evals
        F = _evaluate(ctx, X, memo)
        stalled = 0 if ctx.archive.n_evals > n_before else stalled + 1
        if len(F) < len(X) or (memo is not None and not np.all(np.isfinite(F))):  # budget out
            break
        pop.set("F", np.nan_to_num(-F, nan=0.0))
        algo.tell(infills=pop)
    genes = np.asarray(algo.opt.get("X") if algo.pop is None else algo.pop.get("X"))
    final = enc.decode(genes.round().astype(np.int64))

    def sample(prefs: np.ndarray, n: int) -> Any:
        idx = np.tile(np.arange(n) % len(final), len(prefs))
        return final[idx] if isinstance(final, np.ndarray) else [final[i] for i in idx]

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
            row += [mean_se([r[f"hv@{c}"] for r in runs], 4),
                    mean_se([r[f"recall@{c}"] for r in runs])]
        row += [mean_se([r["eval_hv"] for r in runs], 4), mean_se([r["eval_r2"] for r in runs]),
                mean_se([r["eval_diversity"] for r in runs], 2),
                mean_se([r["eval_pareto_recall"] for r in runs])]
        row.append(f"{mean_se([r['l1'] for r in runs])} ({runs[0]['beta']:g})"
                   if "l1" in runs[0] else "—")
        row += [mean_se([r["wall_s"] for r in runs], 1),
                mean_se([r["traj_per_s"] for r in runs], 0)]
        rows.append(row)
    return markdown_table(header, rows)


def _mwu(a: list[float], b: list[float]) -> float:
    """Two-sided Mann-Whitney U p-value (1.0 when both samples are constant and equal)."""
    if len(a) < 2 or len(b) < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0 and a[0] == b[0]):
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def summary(results: dict[str, list[dict[str, float]]], checkpoints: list[int]) -> str:
    """The acceptance comparison: each MOGFN-PC / OP-GFN row against random and NSGA-II,
    archive Pareto recall at equal evaluation counts: mean difference, two-sided
    Mann-Whitney p, and the verdict at p < 0.05 (``n.s.`` otherwise)."""
    base = {lb: runs for lb, runs in results.items() if lb.startswith(("random", "NSGA-II"))}
    rows = []
    for label, runs in results.items():
        if not label.startswith(("MOGFN-PC", "OP-GFN")):
            continue
        for b, bruns in base.items():
            row: list[object] = [f"{label} vs {b}"]
            for c in checkpoints:
                x = [r[f"recall@{c}"] for r in runs]
                y = [r[f"recall@{c}"] for r in bruns]
                d, pv = float(np.mean(x) - np.mean(y)), _mwu(x, y)
                verdict = ("wins" if d > 0 else "loses") if pv < 0.05 else "n.s."
                row.append(f"{d:+.3f} (p={pv:.3f}, {verdict})")
            rows.append(row)
    return markdown_table(["comparison"] + [f"recall Δ @{c}" for c in checkpoints], rows)


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
    return (table(problem, results, checkpoints) + "\n\nGFlowNets minus baselines, archive "
            "Pareto recall (everything evaluated) at equal evaluations; two-sided "
            "Mann-Whitney U p over seeds, verdict at p < 0.05:\n\n"
            + summary(results, checkpoints))


RAW: dict[str, Any] = {}


class _UniformSampler:
    """The uniform distribution over the terminal cells, as a sampler for ``exact_l1``."""

    def __init__(self, env: Any) -> None:
        self.env = env

    def terminal_distribution(self, prefs: np.ndarray, beta: float
                              ) -> tuple[np.ndarray, np.ndarray]:
        states = self.env.all_states()
        term = self.env.can_stop(states).astype(float)
        return states, np.tile(term / term.sum(), (len(prefs), 1))


REFERENCE_BETAS = (1.0, 2.0, 4.0, 8.0, 16.0)


def reference_protocol(trajectories: int, seed: int, beta_shape: float = 2.0) -> str:
    """The MOGFN paper's HyperGrid measure: exact L1 between the learned terminal
    distribution and ``∝ (ω·R)^β`` for the 11 preferences of a 2-objective simplex grid
    and each β of :data:`REFERENCE_BETAS`, after ``trajectories`` training trajectories
    (every sample charged) of MOGFN-PC at the METHODS defaults but the training
    β ~ Gamma(``beta_shape``, 1); the uniform sampler's L1 is the floor a model must beat."""
    problem = get_problem("hypergrid")(height=32)
    prefs = simplex_grid(2, 10)
    t0 = time.perf_counter()
    run = run_gfn(problem, "mogfn", {"beta_shape": beta_shape}, trajectories, seed)
    wall = time.perf_counter() - t0
    model = run["model"]
    uni = _UniformSampler(problem.space.env)
    rows = []
    for beta in REFERENCE_BETAS:
        per = [exact_l1(problem, model, w[None], beta) for w in prefs]
        base = exact_l1(problem, uni, prefs, beta)
        rows.append([f"{beta:g}", f"{np.mean(per):.3f}", f"{min(per):.3f} – {max(per):.3f}",
                     f"{base:.3f}"])
    RAW[f"reference beta_shape={beta_shape:g}"] = {
        "trajectories": run["n"], "wall_s": wall, "seed": seed,
        "l1": {r[0]: float(r[1]) for r in rows}}
    return (f"**Training β ~ Gamma({beta_shape:g}, 1)**: "
            f"{run['n']} trajectories (batch 128), seed {seed}, {wall / 60:.1f} min "
            f"({run['n'] / wall:.0f} trajectories/s).\n\n"
            + markdown_table(["β", "L1 ↓ mean over 11 ω", "L1 range over ω",
                              "uniform sampler L1"], rows))


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--distinct-budget", type=int, default=512,
                    help="the headline regime: distinct cells (repeats free); 0 skips it")
    ap.add_argument("--budget", type=int, default=0,
                    help="every sample charged (repeats cost again); 0 (default) skips it")
    ap.add_argument("--long-budget", type=int, default=0,
                    help="every sample charged, METHODS-default GFlowNets only; 0 skips it")
    ap.add_argument("--reference", type=int, default=0, metavar="TRAJECTORIES",
                    help="only the paper's L1 protocol (11 ω x β in 1..16) after this many "
                         "trajectories, seed 0; written to the section mogfn-reference")
    ap.add_argument("--reference-beta-shapes", type=float, nargs="+", default=[2.0],
                    metavar="K", help="with --reference: one run per training β ~ Gamma(K, 1)")
    ap.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.UTC)
    if args.reference:
        ref_body = "\n\n".join(reference_protocol(args.reference, 0, k)
                                 for k in args.reference_beta_shapes)
        shapes = ("" if args.reference_beta_shapes == [2.0] else " --reference-beta-shapes "
                  + " ".join(f"{k:g}" for k in args.reference_beta_shapes))
        text = (f"## mogfn-reference — MOGFN-PC on HyperGrid 32x32 Branin–Currin, the "
                f"paper's L1 protocol\n\n"
                f"Command: `.venv/bin/python -m tools.bench.mogfn --reference "
                f"{args.reference}{shapes}`; METHODS defaults (MLP 3 x 64, batch 128, lr "
                f"1e-2, β ~ Gamma(k, 1) clipped to 32 with k = 2 by default, α = 1.5); "
                f"started {started:%Y-%m-%d %H:%M} "
                f"UTC, load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
                f"on a 2-core CPU shared with other jobs, torch 1 thread. L1 = Σ_x |P_T(x | "
                f"ω, β) − (ω·R(x))^β / Z| (exact, dynamic programming over the grid), "
                f"ω on the 11-point simplex grid.\n\n" + ref_body + "\n")
        print(text)
        out = DOC.parent / "bench_results" / "mogfn_reference.json"
        out.write_text(json.dumps({"load": load, "results": RAW, "section": text}, indent=1))
        if not args.no_write:
            write_section("mogfn-reference", text)
        return text
    height = 8 if args.smoke else 32
    seeds = list(range(1 if args.smoke else args.seeds))
    problem = get_problem("hypergrid")(height=height)
    truth = true_pareto_set(problem) or []
    hv_true = hypervolume(problem.pareto_front(), np.zeros(2), maximize=True)
    run_gfn(get_problem("hypergrid")(height=4), "mogfn", {"batch_size": 8}, 16, 0)  # warm-up
    t0 = time.perf_counter()
    body: list[str] = []
    distinct = min(args.distinct_budget, 64) if args.smoke else args.distinct_budget
    if distinct:
        body += [f"### Equal budget (headline): {distinct} distinct evaluations (every method "
                 "evaluates each cell once; a repeated cell is answered from memory and costs "
                 "nothing: random = sampling without replacement, NSGA-II with a memo, "
                 "GFlowNets with `reuse_evaluations: true`, stopping after 200 steps without "
                 "a new cell)\n",
                 run_regime(problem, distinct, sorted({distinct // 4, distinct // 2, distinct}),
                            seeds, args.smoke, distinct=True)]
    budget = min(args.budget, 128) if args.smoke else args.budget
    if budget:
        body += [f"\n### Every sample charged: {budget} evaluations (repeats cost again; on "
                 f"{height}x{height} cells random sampling nearly enumerates the grid, so "
                 "this regime cannot separate the methods)\n",
                 run_regime(problem, budget, sorted({max(budget // 4, 1), budget // 2, budget}),
                            seeds, args.smoke)]
    long_budget = 0 if args.smoke else args.long_budget
    if long_budget:
        body += [f"\n### Long budget, every sample charged: {long_budget} evaluations "
                 f"(GFlowNets at METHODS defaults, and the baselines)\n",
                 run_regime(problem, long_budget, [long_budget], seeds, args.smoke,
                            only={"random", "NSGA-II", "MOGFN-PC (defaults", "OP-GFN (batch 128"})]
    total = time.perf_counter() - t0
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in (
        ("seeds", args.seeds), ("distinct_budget", args.distinct_budget),
        ("budget", args.budget), ("long_budget", args.long_budget))
        if v != ap.get_default(k) and not args.smoke]
    cmd = " ".join([".venv/bin/python -m tools.bench.mogfn"] + (["--smoke"] if args.smoke
                                                                 else flags))
    head = (f"## mogfn — MOGFN-PC vs OP-GFN vs baselines, HyperGrid {height}x{height} "
            f"Branin–Currin\n\n"
            f"Command: `{cmd}`; seeds {seeds[0]}-{seeds[-1]}; started "
            f"{started:%Y-%m-%d %H:%M} UTC, load average at start {load[0]:.2f} / "
            f"{load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min) on a 2-core CPU shared with "
            f"other jobs, torch 1 thread; total {total / 60:.1f} min. True Pareto set: "
            f"{len(truth)} cells, its HV {hv_true:.4f}. HV reference 0 (maximize); R2 utopia "
            f"= ideal point; mean ± standard error over seeds.\n")
    text = head + "\n".join(body) + "\n"
    print(text)
    if not args.smoke:  # raw numbers and the section text, even with --no-write
        out = DOC.parent / "bench_results" / "mogfn.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"command": cmd, "load": load, "results": RAW,
                                   "section": text}, indent=1))
    if not args.no_write:
        write_section("mogfn", text)
    return text


if __name__ == "__main__":
    main()
