"""Benchmark: MOGFN-PC vs NSGA-II vs random search on N-grams at equal evaluations.

The problem and MOGFN-PC settings are those of ``recipes/ngrams_bigrams.yaml`` (bigrams AV,
VC, CA over 20 letters, lengths 32-36; causal Transformer 3 x 64, β = 96, policy lr 1e-4,
log Z lr 1e-3, batch 128). Every method gets the same number of objective evaluations
(every sequence a GFlowNet samples while training is one; the budget is a multiple of 128):

- **random**: uniform sequences (uniform length, uniform letters), batches of 128;
- **NSGA-II**: pymoo NSGA-II (population 128) on 36 letter genes plus one length gene
  (a sequence is the first `length` letters), two-point crossover and a random-reset
  mutation (each gene redrawn with probability 1/37); ``tools.bench.mogfn.run_nsga2``;
- **MOGFN-PC**: the recipe's solver config (no periodic evaluation).

Reported per method (over seeds: mean ± standard error), on the *archive* (everything the
method evaluated, so the comparison is at equal evaluations):

- hypervolume of the archive's Pareto front (reference 0, maximizing) at 1/4, 1/2 and all
  of the budget; R2 of that front (15 weight vectors, the simplex grid with 4 partitions;
  utopia = (1, 1, 1); lower is better);
- top-k (k = 10): for each of the 15 weight vectors ω, the k distinct evaluated sequences
  with the largest ω·R; their mean ω·R ("top-k reward") and mean pairwise Levenshtein
  distance ("top-k diversity"), averaged over the weight vectors;
- the MOGFN protocol (outside the budget): best of 128 sampler draws per weight vector,
  then HV / R2 / diversity of the kept candidates (MOGFN-PC: the trained sampler; random:
  uniform sequences; NSGA-II: its final population);
- a two-sided Mann-Whitney U test of MOGFN-PC against each baseline per metric (with 5
  seeds the smallest attainable p is 0.008).

Run: ``.venv/bin/python -m tools.bench.ngrams`` (``--smoke`` for a seconds-long check).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from pymoo.core.mutation import Mutation
from pymoo.operators.crossover.pntx import TwoPointCrossover
from scipy.stats import mannwhitneyu

from moalign.core.problem import Problem
from moalign.indicators import diversity, hypervolume, pareto_mask, r2
from moalign.problems import get_problem
from moalign.scalarize import simplex_grid
from moalign.solvers import Budget, RunContext
from moalign.solvers.mogfn import evaluate_sampler
from tools.bench.mogfn import GAEncoding, run_gfn, run_nsga2
from tools.bench.report import DOC, markdown_table, mean_se, write_section

Run = dict[str, Any]
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "ngrams_bigrams.yaml"
TOP_K = 10
RECIPE_LABEL = "MOGFN-PC (recipe)"
RESULTS = DOC.parent / "bench_results" / "mogfn_ngrams.json"


class RandomReset(Mutation):
    """Each integer gene is redrawn uniformly in ``[xl, xu]`` with probability ``prob``
    (default 1 / n_var): the categorical counterpart of polynomial mutation."""

    def __init__(self, prob: float | None = None) -> None:
        super().__init__()
        self.gene_prob = prob

    def _do(self, problem: Any, X: np.ndarray, random_state: Any = None, **kwargs: Any
            ) -> np.ndarray:
        rng = random_state
        p = self.gene_prob if self.gene_prob is not None else 1.0 / problem.n_var
        X = np.asarray(X).copy()
        hit = rng.random(X.shape) < p
        lo = np.broadcast_to(problem.xl, X.shape)
        hi = np.broadcast_to(problem.xu, X.shape)
        new = np.floor(lo + rng.random(X.shape) * (hi - lo + 1)).clip(lo, hi)
        X[hit] = new[hit]
        return X


def sequence_encoding(problem: Problem) -> GAEncoding:
    """`max_length` letter genes + one length gene; the sequence is the first `length`
    letters. Two-point crossover, random-reset mutation."""
    env = problem.space.env  # type: ignore[attr-defined]
    lmax, lmin, voc = env.max_length, env.min_length, env.vocabulary
    letters = np.array(list(voc))

    def decode(G: np.ndarray) -> list[str]:
        return ["".join(letters[g[:g[-1]]]) for g in G]

    xl = np.r_[np.zeros(lmax), lmin]
    xu = np.r_[np.full(lmax, len(voc) - 1), lmax]
    return GAEncoding(n_var=lmax + 1, xl=xl, xu=xu, decode=decode,
                      crossover=TwoPointCrossover(), mutation=RandomReset())


def run_random(problem: Problem, budget: int, seed: int) -> Run:
    """Uniform sequences in batches of 128."""
    ctx = RunContext(problem, Budget(evaluations=budget), seed=seed)
    t0 = time.perf_counter()
    while not ctx.should_stop():
        ctx.evaluate(problem.space.sample(ctx.rng, ctx.batch_size(128)))
    rng = np.random.default_rng(seed + 10_000)
    return {"parts": [(ctx.archive.X, ctx.archive.F)], "wall": time.perf_counter() - t0,
            "n": ctx.archive.n_evals, "sample": lambda w, n: problem.space.sample(rng, len(w) * n)}


def recipe_config() -> dict[str, Any]:
    """The MOGFN-PC solver config of recipes/ngrams_bigrams.yaml, periodic evaluation off."""
    cfg = dict(yaml.safe_load(RECIPE.read_text())["solver"]["config"])
    cfg["eval_every"] = 0
    return cfg


def methods(smoke: bool, budget: int, variants: bool
            ) -> list[tuple[str, Callable[[Problem, int], Run]]]:
    cfg = recipe_config()
    pop = 128
    if smoke:
        cfg.update(n_hidden=16, n_layers=1, batch_size=32, n_bins=8)
        pop = 32
    out: list[tuple[str, Callable[[Problem, int], Run]]] = [
        ("random", lambda p, s: run_random(p, budget, s)),
        (f"NSGA-II (pop {pop})",
         lambda p, s: run_nsga2(p, budget, s, pop, encoding=sequence_encoding(p))),
        (RECIPE_LABEL, lambda p, s: run_gfn(p, "mogfn", cfg, budget, s)),
    ]
    if variants:
        out.append(("MOGFN-PC (one ω per batch)",
                    lambda p, s: run_gfn(p, "mogfn", {**cfg, "shared_preference": True},
                                         budget, s)))
    return out


def archive_metrics(problem: Problem, X: np.ndarray, F: np.ndarray, prefs: np.ndarray
                    ) -> dict[str, float]:
    """HV and R2 of the archive's Pareto front; top-k reward and diversity per weight."""
    ok = np.all(np.isfinite(F), axis=1)
    X, F = X[ok], F[ok]
    U = np.unique(F, axis=0)
    front = U[pareto_mask(U, maximize=True)]
    m = problem.n_obj
    out = {"hv": hypervolume(front, np.zeros(m), maximize=True) if len(front) else 0.0,
           "r2": r2(front, prefs, np.ones(m), maximize=True) if len(front) else float("inf")}
    _, first = np.unique(X.astype(str), return_index=True)  # distinct sequences
    Xd, Fd = X[first], F[first]
    rewards, divs = [], []
    for w in prefs:
        s = Fd @ w
        top = np.argsort(-s, kind="stable")[:TOP_K]
        rewards.append(float(s[top].mean()))
        divs.append(diversity(list(Xd[top])))
    out["topk_reward"] = float(np.mean(rewards))
    out["topk_div"] = float(np.mean(divs))
    return out


def measure(problem: Problem, run: Run, checkpoints: list[int], prefs: np.ndarray,
            protocol_samples: int) -> dict[str, float]:
    X, F = run["parts"][0]
    out: dict[str, float] = {}
    for c in checkpoints:
        am = archive_metrics(problem, X[:c], F[:c], prefs)
        out[f"hv@{c}"] = am["hv"]
        if c == checkpoints[-1]:
            out.update(am)
    prot = evaluate_sampler(problem, run["sample"], n_partitions=4, n_samples=protocol_samples)
    out.update({f"eval_{k}": v for k, v in prot.items()})
    out["mean_reward"] = float(np.nanmean(F))
    out["wall_s"] = run["wall"]
    out["evals_per_s"] = run["n"] / max(run["wall"], 1e-9)
    return out


COLUMNS = [("hv", "HV (archive)", 4, True), ("r2", "R2 ↓ (archive)", 3, False),
           ("topk_reward", f"top-{TOP_K} reward", 3, True),
           ("topk_div", f"top-{TOP_K} diversity", 2, True),
           ("eval_hv", "protocol HV", 4, True), ("eval_r2", "protocol R2 ↓", 3, False),
           ("eval_diversity", "protocol diversity", 2, True)]


def table(results: dict[str, list[dict[str, float]]], checkpoints: list[int]) -> str:
    header = ["method"] + [f"HV @{c}" for c in checkpoints[:-1]]
    header += [c[1] for c in COLUMNS] + ["mean reward", "wall s"]
    rows = []
    for label, runs in results.items():
        row: list[object] = [label]
        row += [mean_se([r[f"hv@{c}"] for r in runs], 4) for c in checkpoints[:-1]]
        row += [mean_se([r[k] for r in runs], d) for k, _, d, _ in COLUMNS]
        row += [mean_se([r["mean_reward"] for r in runs], 4),
                mean_se([r["wall_s"] for r in runs], 1)]
        rows.append(row)
    return markdown_table(header, rows)


def significance(results: dict[str, list[dict[str, float]]]) -> str:
    """Mann-Whitney U (two-sided) of each MOGFN-PC row against each baseline."""
    header = ["comparison"] + [c[1] for c in COLUMNS]
    rows = []
    for label, runs in results.items():
        if not label.startswith("MOGFN"):
            continue
        for base, bruns in results.items():
            if base == label or (base.startswith("MOGFN") and (
                    label == RECIPE_LABEL or base != RECIPE_LABEL)):
                continue  # MOGFN rows against the baselines, variants also against the recipe
            row: list[object] = [f"{label} vs {base}"]
            for key, _, digits, higher in COLUMNS:
                a = [r[key] for r in runs]
                b = [r[key] for r in bruns]
                d = float(np.mean(a) - np.mean(b))
                p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue) if (
                    len(a) > 1 and len(b) > 1) else float("nan")
                better = (d > 0) == higher
                verdict = ("wins" if better else "loses") if p < 0.05 and d != 0 else "n.s."
                row.append(f"{d:+.{digits}f} (p={p:.3f}, {verdict})")
            rows.append(row)
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=32000,
                    help="evaluations per method and seed (a multiple of 128)")
    ap.add_argument("--variants", action="store_true",
                    help="also MOGFN-PC with one preference per batch")
    ap.add_argument("--only", action="append", metavar="LABEL_PREFIX",
                    help="run only the methods whose label starts with this (repeatable); "
                         "the others are taken from the saved results of the same budget "
                         "and seeds (docs/bench_results/mogfn_ngrams.json)")
    ap.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.UTC)
    if args.smoke:
        problem = get_problem("ngrams")(ngrams=["AV", "VC", "CA"], min_length=4, max_length=6)
        budget, seeds, n_prot = 256, [0], 16
    else:
        problem = get_problem("ngrams")(**yaml.safe_load(RECIPE.read_text())["problem"]["params"])
        budget, seeds, n_prot = args.budget, list(range(args.seeds)), 128
    prefs = simplex_grid(problem.n_obj, 4)
    checkpoints = [budget // 4, budget // 2, budget]
    results: dict[str, list[dict[str, float]]] = {}
    t0 = time.perf_counter()
    saved: dict[str, list[dict[str, float]]] = {}
    reused: list[str] = []
    reused_from, reused_load = "", [0.0, 0.0, 0.0]
    if args.only and not args.smoke:
        old = json.loads(RESULTS.read_text())
        if old.get("budget", 32000) != budget or old.get("seeds", [0, 1, 2, 3, 4]) != seeds:
            raise SystemExit(f"{RESULTS}: saved results are for another budget or seeds")
        saved = old["results"]
        reused_from = old["command"]
        reused_load = old["load"]
    for label, runner in methods(args.smoke, budget, args.variants):
        if args.only and not any(label.startswith(o) for o in args.only):
            if label in saved:
                results[label] = saved[label]
                reused.append(label)
            continue
        for seed in seeds:
            t1 = time.perf_counter()
            m = measure(problem, runner(problem, seed), checkpoints, prefs, n_prot)
            results.setdefault(label, []).append(m)
            print(f"{label} seed {seed}: {time.perf_counter() - t1:.1f}s hv={m['hv']:.4f} "
                  f"topk_div={m['topk_div']:.2f} topk_reward={m['topk_reward']:.3f}", flush=True)
    total = time.perf_counter() - t0
    cmd = ".venv/bin/python -m tools.bench.ngrams" + (" --smoke" if args.smoke else "") + (
        f" --budget {budget}" if budget != 32000 and not args.smoke else "") + (
        " --variants" if args.variants else "") + "".join(
        f" --only '{o}'" for o in args.only or [])
    text = (f"## mogfn-ngrams — MOGFN-PC vs NSGA-II vs random search on N-grams "
            f"(bigrams AV, VC, CA; lengths {problem.space.env.min_length}-"
            f"{problem.space.env.max_length}), {budget} evaluations each\n\n"
            f"Command: `{cmd}`; seeds {seeds[0]}-{seeds[-1]}; started "
            f"{started:%Y-%m-%d %H:%M} UTC, load average at start "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min) on a 2-core CPU "
            f"shared with other jobs, torch 1 thread; total {total / 60:.1f} min. "
            f"Mean ± standard error over seeds. Archive = everything the method evaluated "
            f"(equal evaluations); protocol = best of {n_prot} sampler draws for each of "
            f"{len(prefs)} weight vectors (outside the budget)."
            + (f" Rows {', '.join(reused)}: from the saved results of `{reused_from}` (same "
               f"budget and seeds; load average at its start {reused_load[0]:.2f} / "
               f"{reused_load[1]:.2f} / {reused_load[2]:.2f})." if reused else "")
            + "\n\n"
            + table(results, checkpoints)
            + "\n\nMOGFN-PC minus baseline (mean difference; two-sided Mann-Whitney U p; "
              "verdict at p < 0.05):\n\n" + significance(results) + "\n")
    print(text)
    if not args.smoke:  # raw numbers and the section text, even with --no-write
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"command": cmd, "load": load, "budget": budget,
                                       "seeds": seeds, "results": results, "section": text},
                                      indent=1))
    if not args.no_write:
        write_section("mogfn-ngrams", text)
    return text


if __name__ == "__main__":
    main()
