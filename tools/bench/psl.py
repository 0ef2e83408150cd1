"""PSL and SVH-PSL against qNEHVI, qParEGO, NSGA-II and random search at equal budgets.

Metric: hypervolume in the normalized objective space ``(f - ideal) / (nadir - ideal)``
with reference point 1.1 in every objective, and the log10 hypervolume difference
``LHD = log10(HV(reference front) - HV(found))``. The reference front is the true front
where the problem has one (ZDT, DTLZ2, VLMOP2: ``problem.pareto_front``; ZDT1/ZDT2 in
closed form: ``1.21 - 1/3`` and ``1.21 - 2/3``). RE problems have none: their reference is
the non-dominated union of a long NSGA-II run (population 100, 20,000 evaluations, seed 0)
and every point any method found, so LHD there is relative to the best known front.

Runs append one JSON line each to a results file (default
``docs/bench_results/psl/psl.jsonl``, committed, so the table can be rebuilt and later
sessions add seeds to it; ``--results`` per worker so that parallel pieces never share a
file). Cells already in any ``psl*.jsonl`` beside it are skipped, so the grid runs in
pieces; ``--report`` reads them all::

    .venv/bin/python -m tools.bench.psl --methods psl svh-psl \
        --results docs/bench_results/psl/psl_gp.jsonl
    .venv/bin/python -m tools.bench.psl --methods qnehvi qparego nsga2 random \
        --results docs/bench_results/psl/psl_base.jsonl
    .venv/bin/python -m tools.bench.psl --report      # table + plot into docs/
    .venv/bin/python -m tools.bench.psl --smoke       # minutes; prints, writes nothing

``--plan two-hour --jobs 2`` runs the reduced grid of :data:`PLANS` on two worker
processes (one record writer), longest cells first within each seed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import math
import multiprocessing
import platform
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "bench_results" / "psl" / "psl.jsonl"  # raw results, committed
PLOT = ROOT / "docs" / "img" / "psl_lhd.png"
METHODS = ("psl", "psl-all", "svh-psl", "qnehvi", "qparego", "nsga2", "random")
# psl: the reference code's settings (REFERENCE_SETTINGS); psl-all: the psl solver's defaults
PROBLEMS: dict[str, dict[str, Any]] = {
    "zdt1": {"n_var": 30}, "zdt2": {"n_var": 30}, "zdt3": {"n_var": 30},
    "dtlz2": {"n_var": 6}, "vlmop2": {"n_var": 6}, "re21": {}, "re37": {},
}  # DTLZ2 and VLMOP2 with n = 6 as in the PSL paper's code (Xi-L/PSL-MOBO)
CLOSED_FORM_HV = {"zdt1": 1.21 - 1 / 3, "zdt2": 1.21 - 2 / 3}
REFERENCE_SETTINGS = {"selection_ref": "candidates", "ideal": "observed", "explore_slots": 0}
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "psl-run-ref": ("psl", {"selection_ref": "run"}),
    "psl-round": ("psl", {"ideal": "round"}),
    "psl-explore": ("psl", {"explore_slots": 1}),
    "psl-all": ("psl", {"selection_ref": "run", "ideal": "round", "explore_slots": 1}),
    "psl-run-explore": ("psl", {"selection_ref": "run", "explore_slots": 1}),
    "svh-psl-all": ("svh-psl", {"selection_ref": "run", "ideal": "round", "explore_slots": 1}),
    "qnehvi-inferred": ("qnehvi", {"ref_point": "inferred"}),
}  # PSL options measured one at a time and together (``--methods psl-all ...``)
PLANS: dict[str, dict[str, int]] = {
    "full": {},
    "two-hour": {"svh-psl": 1, "qnehvi": 1, "qparego": 1},
}  # seeds per method (the first n of --seeds); a method not named takes them all


def make_problem(name: str) -> Any:
    from moalign.problems import get_problem

    return get_problem(name)(**PROBLEMS[name])


def normalizer(problem: Any) -> tuple[np.ndarray, np.ndarray]:
    """Minimization-view ideal and span."""
    lo = problem.objectives.to_min(problem.ideal[None])[0]
    hi = problem.objectives.to_min(problem.nadir[None])[0]
    return np.minimum(lo, hi), np.abs(hi - lo)


def normalized_hv(problem: Any, F: np.ndarray) -> float:
    from moalign.indicators import hypervolume

    F = np.asarray(F, dtype=np.float64)
    F = F[np.all(np.isfinite(F), axis=1)]
    if len(F) == 0:
        return 0.0
    lo, span = normalizer(problem)
    return hypervolume((problem.objectives.to_min(F) - lo) / span, np.full(F.shape[1], 1.1))


def solver_config(method: str, n_initial: int, batch: int, n_steps: int, smoke: bool
                  ) -> dict[str, Any]:
    if method in ("psl", "svh-psl"):
        cfg: dict[str, Any] = {"n_initial": n_initial, "batch_size": batch, "n_steps": n_steps}
        if method == "psl":  # the reference code's settings; psl's defaults are psl-all's
            cfg.update(REFERENCE_SETTINGS)
        if smoke:
            cfg.update(n_candidates=50, hidden=32)
        return cfg
    if method in ("qnehvi", "qparego"):
        cfg = {"n_initial": n_initial, "batch_size": batch}
        cfg.update({"num_restarts": 2, "raw_samples": 32, "maxiter": 20} if smoke else
                   {"num_restarts": 4, "raw_samples": 128, "maxiter": 100})
        return cfg
    if method == "nsga2":
        return {"pop_size": batch * 2 if smoke else 10}
    return {"batch_size": batch}


Cell = tuple[Any, Any, Any, dict[str, Any], int, float]


def solve_cell(problem_name: str, method: str, seed: int, *, n_steps: int, smoke: bool,
               overrides: dict[str, Any] | None = None) -> Cell:
    """Run one benchmark cell; returns ``(problem, ctx, result, cfg, n_initial, wall_s)``.

    ``overrides`` replaces solver options (e.g. ``{"standardize": False}`` in the GP probe).
    """
    import torch

    from moalign.solvers import Budget, RunContext, get_solver

    torch.set_num_threads(1)
    problem = make_problem(problem_name)
    method, variant = VARIANTS.get(method, (method, {}))
    n_initial = 20 if method == "svh-psl" else 10
    rounds, batch = (2, 5) if smoke else (20, 5)
    cfg = {**solver_config(method, n_initial, batch, n_steps, smoke), **variant,
           **(overrides or {})}
    ctx = RunContext(problem, Budget(evaluations=n_initial + rounds * batch), seed=seed)
    t0 = time.perf_counter()
    result = get_solver(method)(cfg).solve(problem, ctx)
    return problem, ctx, result, cfg, n_initial, time.perf_counter() - t0


def run_one(problem_name: str, method: str, seed: int, *, n_steps: int, smoke: bool
            ) -> dict[str, Any]:
    """One run; returns the JSON record (HV after every recorded step)."""
    problem, ctx, _, cfg, n_initial, wall = solve_cell(problem_name, method, seed,
                                                       n_steps=n_steps, smoke=smoke)
    budget = ctx.budget.evaluations
    a = ctx.archive
    steps = np.unique(a.step)
    curve = [[int(np.sum(a.step <= s)), normalized_hv(problem, a.F[(a.step <= s) & a.feasible])]
             for s in steps]
    return {
        "problem": problem_name, "method": method, "seed": seed, "budget": budget,
        "n_initial": n_initial,
        "n_steps": n_steps if VARIANTS.get(method, (method,))[0] in ("psl", "svh-psl") else None,
        "config": cfg, "wall_s": wall, "n_iterations": int(len(steps) - 1),
        "hv": curve[-1][1], "curve": curve, "F": a.F[a.feasible].tolist(),
        "date": datetime.date.today().isoformat(), "smoke": smoke,
    }


def reference_hv(problem_name: str, records: list[dict[str, Any]]) -> tuple[float, str]:
    """HV of the reference front and where it comes from (see the module docstring)."""
    from moalign.indicators import pareto_mask

    if problem_name in CLOSED_FORM_HV:
        return CLOSED_FORM_HV[problem_name], "true front (closed form)"
    problem = make_problem(problem_name)
    front = problem.pareto_front(5000)
    if front is not None:
        return normalized_hv(problem, front), "true front (5000 points)"
    from moalign.solvers import Budget, RunContext, get_solver

    ctx = RunContext(problem, Budget(evaluations=20_000), seed=0)
    get_solver("nsga2")({"pop_size": 100}).solve(problem, ctx)
    pts = [ctx.archive.F[ctx.archive.feasible]] + [np.asarray(r["F"]) for r in records if r["F"]]
    F = np.vstack(pts)
    F = F[pareto_mask(problem.objectives.to_min(F))]
    return normalized_hv(problem, F), "best known (NSGA-II 20k evals + all runs)"


def load(path: Path) -> list[dict[str, Any]]:
    """Every record of ``path`` and of the other ``psl*.jsonl`` files beside it."""
    files = sorted(set(path.parent.glob("psl*.jsonl")) | ({path} if path.exists() else set()))
    seen, out = set(), []
    for f in files:
        for line in f.read_text().splitlines():
            rec = json.loads(line) if line.strip() else None
            key = None if rec is None else (rec["problem"], rec["method"], rec["seed"])
            if rec is not None and key not in seen:  # one record per cell: the first
                seen.add(key)
                out.append(rec)
    return out


def lhd(ref: float, hv: float) -> float:
    return math.log10(max(ref - hv, 1e-12))


def report(records: list[dict[str, Any]], command: str, write: bool = True) -> str:
    """Markdown section: table of median [min, max] LHD and HV per problem and method, with a
    two-sided Mann-Whitney U test of each method's HV against qNEHVI's."""
    from scipy.stats import mannwhitneyu

    from tools.bench.report import markdown_table

    rows, curves = [], {}
    for pname in [p for p in PROBLEMS if any(r["problem"] == p for r in records)]:
        recs = [r for r in records if r["problem"] == pname]
        ref, source = reference_hv(pname, recs)
        bo = [r["hv"] for r in recs if r["method"] == "qnehvi"]
        for method in METHODS:
            mr = [r for r in recs if r["method"] == method]
            if not mr:
                continue
            hv = np.array([r["hv"] for r in mr])
            ld = np.array([lhd(ref, h) for h in hv])
            it = np.array([r["wall_s"] / max(r["n_iterations"], 1) for r in mr])
            steps = mr[0]["n_steps"]
            ratio = f"{np.median(hv) / np.median(bo):.2f}" if bo and np.median(bo) > 0 else "-"
            p = ("" if method == "qnehvi" or not bo else
                 f"{mannwhitneyu(hv, bo, alternative='two-sided').pvalue:.3f}")
            rows.append([pname, method, len(mr), mr[0]["budget"],
                         f"{np.median(ld):.3f} [{ld.min():.3f}, {ld.max():.3f}]",
                         f"{np.median(hv):.4f} [{hv.min():.4f}, {hv.max():.4f}]", ratio, p,
                         f"{np.median(it):.1f}", "-" if steps is None else steps])
            curves[(pname, method)] = (ref, mr)
        rows.append([pname, f"*reference: {source}, HV {ref:.4f}*", *[""] * 8])
    table = markdown_table(["problem", "method", "seeds", "evals", "LHD median [min, max]",
                            "normalized HV median [min, max]", "HV / qNEHVI (medians)",
                            "p vs qNEHVI (Mann-Whitney)", "s / iteration",
                            "train steps"], rows)
    if write:
        _plot(curves)
    hours = {m: sum(r["wall_s"] for r in records if r["method"] == m) / 3600 for m in METHODS}
    compute = ", ".join(f"{m} {h:.1f}" for m, h in hours.items() if h >= 0.05)
    bo_min = [r["wall_s"] / 60 for r in records if r["method"] in ("qnehvi", "qparego")]
    bo_range = f"{min(bo_min):.0f}-{max(bo_min):.0f}" if bo_min else "-"
    counts = Counter((r["problem"], r["method"]) for r in records)
    most = max(counts.values(), default=0)
    short = ", ".join(f"{p} {m} {counts[(p, m)]}" for p in PROBLEMS for m in METHODS
                      if 0 < counts.get((p, m), most) < most) or "none"
    body = (
        "## psl: Pareto set learning vs BoTorch and pymoo at equal budgets\n\n"
        f"Runs: {command}; table and plot: `.venv/bin/python -m tools.bench.psl --report`.\n"
        f"Machine: 2-core CPU ({platform.processor() or platform.machine()}), two to four "
        "runs at once, torch 1 thread each (wall times include that sharing). "
        f"Date: {datetime.date.today().isoformat()}.\n\n"
        "`psl` runs with the reference code's selection settings (`selection_ref: "
        "candidates`, `ideal: observed`, `explore_slots: 0`), `psl-all` with the `psl` "
        "solver's defaults (`selection_ref: run`, `ideal: round`, `explore_slots: 1`; "
        "docs/psl.md says why). "
        "LHD = log10(HV(reference front) - HV(found)), normalized objectives "
        "(ideal/nadir), reference point 1.1; lower is better. Budgets: PSL, qNEHVI, qParEGO, "
        "NSGA-II, random 10 + 20 x 5 = 110; SVH-PSL 20 + 20 x 5 = 120 (published settings). "
        "PSL and SVH-PSL with the published 1000 training steps per round; qNEHVI/qParEGO "
        "with 4 restarts, 128 raw samples, 100 L-BFGS iterations (BoTorch tutorial: "
        "10/512/200) to fit the time. `seeds` is the number of seeds a cell has; BoTorch "
        f"runs take {bo_range} min each here, and the cells with fewer than {most} seeds are: "
        f"{short}. Summed wall time of all runs in the table: {sum(hours.values()):.1f} hours "
        f"({compute}; NSGA-II and random search take seconds); with runs sharing the cores "
        "their CPU time is at most that. p: two-sided Mann-Whitney U test of the cell's HVs "
        "against qNEHVI's (5 seeds against 5: the smallest possible p is 0.008).\n\n"
        + table + "\n\n![LHD vs evaluations](img/psl_lhd.png)\n"
    )
    return body


SYMMETRIC: dict[str, tuple[str, list[str]]] = {
    "the problem's point for all": ("qnehvi", ["psl-run-ref", "psl-run-explore", "psl-all",
                                             "svh-psl-all"]),
    "a point inferred from the data for all": (
        "qnehvi-inferred", ["psl", "psl-round", "psl-explore", "svh-psl"]),
}  # the variants report's two symmetric comparisons: baseline and the arms set against it

VARIANTS_HEADER = (
    "## psl: the PSL options against qNEHVI, one reference point for all\n\n"
    "Runs: `.venv/bin/python -m tools.bench.psl --methods psl-run-ref psl-run-explore psl-all "
    "psl-round psl-explore qnehvi-inferred --jobs 2 --results "
    "docs/bench_results/psl/psl_variants.jsonl` (with "
    "`--problems`/`--seeds` to run it in parts); table: `.venv/bin/python -m "
    "tools.bench.psl --report-variants`. Same protocol, budget and scoring as the table "
    "above (normalized HV, reference point 1.1); the psl, svh-psl and qnehvi rows are that "
    "table's records. What differs is the reference point the methods *select* with. "
    "First table: the problem's point for all (`qnehvi` as above; `psl-run-ref`: PSL's "
    "greedy selection uses the run's point; `psl-run-explore`: that and one "
    "exploration pick per round; `psl-all`: the run's point, z recomputed each round and "
    "one exploration pick per round, the `psl` solver's defaults; `svh-psl-all`: the "
    "same options on SVH-PSL). Second "
    "table: a point inferred from the data for all (`qnehvi-inferred`: BoTorch's "
    "`infer_reference_point` on the observed front; `psl`: the reference code's settings, "
    "whose selection point is the maximum over front and candidates; `psl-round`: z "
    "recomputed each round; `psl-explore`: one "
    "exploration pick per round). p: two-sided Mann-Whitney U against the table's "
    "baseline (with 3 seeds against 5 the smallest possible is 0.036, 5 against 5 0.008); "
    "paired change: median over common seeds of the arm minus its base method (psl or "
    "svh-psl with the reference settings). s / iteration: median wall time per round; "
    "comparable only between records run under the same load (see the dates in "
    "docs/psl.md).\n\n")


def variants_report(records: list[dict[str, Any]]) -> str:
    """Markdown: per :data:`SYMMETRIC` comparison and problem, the baseline and each arm:
    median normalized HV [min, max], the ratio of medians, a two-sided Mann-Whitney U test
    against the baseline, the paired (same seed) median change from the arm's base method
    and the median seconds per iteration."""
    from scipy.stats import mannwhitneyu

    from tools.bench.report import markdown_table

    def cell(pname: str, method: str) -> dict[int, dict[str, Any]]:
        return {r["seed"]: r for r in records if r["problem"] == pname and r["method"] == method}

    parts = []
    for title, (baseline, arms) in SYMMETRIC.items():
        rows = []
        for pname in PROBLEMS:
            bo_recs = cell(pname, baseline)
            if not any(cell(pname, m) for m in [baseline, *arms] if m in VARIANTS):
                continue  # nothing beyond the main table's records
            bo = np.array([r["hv"] for r in bo_recs.values()])
            if bo_recs:
                rows.append([pname, baseline, len(bo), _hv_cell(bo), "1.00", "", "",
                             _per_iteration(bo_recs)])
            else:
                rows.append([pname, f"{baseline}: not run", 0, "", "", "", "", ""])
            for m in arms:
                recs = cell(pname, m)
                if not recs:
                    continue
                hv = np.array([r["hv"] for r in recs.values()])
                p = f"{mannwhitneyu(hv, bo, alternative='two-sided').pvalue:.3f}" if len(bo) else ""
                base = cell(pname, VARIANTS.get(m, (m,))[0])
                pairs = [recs[s]["hv"] - base[s]["hv"] for s in recs if s in base]
                diff = f"{np.median(pairs):+.3f} ({len(pairs)})" if m in VARIANTS and pairs else ""
                ratio = (f"{np.median(hv) / np.median(bo):.2f}" if len(bo) and np.median(bo) > 0
                         else "")
                rows.append([pname, m, len(hv), _hv_cell(hv), ratio, p, diff,
                             _per_iteration(recs)])
        if rows:
            parts.append(f"### {title[0].upper()}{title[1:]}\n\n" + markdown_table(
                ["problem", "method", "seeds", "normalized HV median [min, max]",
                 f"median / {baseline}'s", f"p vs {baseline}", "paired change vs base (seeds)",
                 "s / iteration"], rows))
    return "\n\n".join(parts)


def _per_iteration(recs: dict[int, dict[str, Any]]) -> str:
    return f"{np.median([r['wall_s'] / max(r['n_iterations'], 1) for r in recs.values()]):.1f}"


def _hv_cell(hv: np.ndarray) -> str:
    return f"{np.median(hv):.3f} [{hv.min():.3f}, {hv.max():.3f}]"


def _plot(curves: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs = [p for p in ("zdt1", "re21") if any(k[0] == p for k in curves)]
    if not probs:
        return
    fig, axes = plt.subplots(1, len(probs), figsize=(5.5 * len(probs), 4), squeeze=False)
    for ax, pname in zip(axes[0], probs, strict=True):
        for (p, method), (ref, recs) in curves.items():
            if p != pname:
                continue
            grid = sorted({c[0] for r in recs for c in r["curve"]})
            med = [np.median([lhd(ref, max([h for n, h in r["curve"] if n <= e] or [0.0]))
                              for r in recs]) for e in grid]
            ax.plot(grid, med, marker=".", label=method)
        ax.set_title(f"{pname}: median LHD vs evaluations")
        ax.set_xlabel("evaluations")
        ax.set_ylabel("log10 HV difference")
        ax.legend()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--n-steps", type=int, default=1000)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--plan", choices=list(PLANS), default="full",
                    help="seeds per method: full (all) or two-hour (see PLANS)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--report", action="store_true", help="write the docs section and plot")
    ap.add_argument("--report-variants", action="store_true",
                    help="write the section comparing the PSL options with qNEHVI")
    ap.add_argument("--smoke", action="store_true", help="tiny grid; prints, writes nothing")
    ap.add_argument("--repeats", type=Path, metavar="FILE",
                    help="count FILE's records whose evaluations equal the committed ones")
    args = ap.parse_args(argv)
    if args.repeats:
        print(repeats(load(RESULTS), [json.loads(x) for x in args.repeats.read_text().splitlines()
                                      if x.strip()]))
        return
    if args.smoke:
        recs = [run_one("zdt1", m, 0, n_steps=5, smoke=True) for m in args.methods]
        print(report(recs, "python -m tools.bench.psl --smoke", write=False))
        return
    if args.report_variants:
        from tools.bench.report import write_section

        write_section("psl-variants", VARIANTS_HEADER + variants_report(load(args.results)))
        return
    if args.report:
        from tools.bench.report import write_section

        records = load(args.results)
        command = ("`.venv/bin/python -m tools.bench.psl` (every problem, method and seed "
                   "0-4; it skips cells already in `docs/bench_results/psl/psl*.jsonl`, so "
                   "it runs in parts: here workers per method or method group, e.g. "
                   "`--methods psl svh-psl` or `--methods qnehvi --problems zdt1 --seeds 2 3 4`, "
                   "each with its own `--results` file, stopped when the time was up). "
                   "The reduced grid `.venv/bin/python -m tools.bench.psl --plan two-hour "
                   "--jobs 2` (5 seeds of PSL, NSGA-II and random search, seed 0 of SVH-PSL, "
                   "qNEHVI and qParEGO: 126 runs) took 104 min wall on this machine; it "
                   "repeated the table's PSL, NSGA-II, random, qNEHVI and qParEGO records "
                   "evaluation for evaluation, and its SVH-PSL records are the table's seed 0)")
        write_section("psl", report(records, command))
        return
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["problem"], r["method"], r["seed"]) for r in load(args.results)}
    cells = planned_cells(args.problems, args.methods, args.seeds, PLANS[args.plan], done,
                          cell_costs(load(RESULTS)))
    t0 = time.perf_counter()
    for rec in run_cells(cells, args.n_steps, args.jobs):
        with open(args.results, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(f"{rec['problem']} {rec['method']} seed {rec['seed']}: HV {rec['hv']:.4f} "
              f"({rec['wall_s']:.0f} s)", flush=True)
    print(f"{len(cells)} runs in {(time.perf_counter() - t0) / 60:.1f} min wall "
          f"({args.jobs} job(s))")


def repeats(committed: list[dict[str, Any]], rerun: list[dict[str, Any]]) -> str:
    """Per method: how many re-run records evaluated exactly what the committed record of the
    same cell did."""
    by_cell = {(r["problem"], r["method"], r["seed"]): r["F"] for r in committed}
    same = Counter(r["method"] for r in rerun
                   if by_cell.get((r["problem"], r["method"], r["seed"])) == r["F"])
    total = Counter(r["method"] for r in rerun)
    return ", ".join(f"{m} {same[m]}/{n} identical" for m, n in total.items())


def cell_costs(records: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Median wall seconds per (problem, method) in ``records``."""
    walls: dict[tuple[str, str], list[float]] = {}
    for r in records:
        walls.setdefault((r["problem"], r["method"]), []).append(r["wall_s"])
    return {k: float(np.median(v)) for k, v in walls.items()}


def planned_cells(problems: list[str], methods: list[str], seeds: list[int],
                  plan: dict[str, int], done: set[tuple[str, str, int]],
                  costs: dict[tuple[str, str], float]) -> list[tuple[str, str, int]]:
    """The cells still to run, seed by seed, the costliest first within a seed (so that
    parallel workers finish close together and a stopped run has whole seeds)."""
    cells = [(p, m, s) for s in seeds for p in problems for m in methods
             if s in seeds[:plan.get(m, len(seeds))] and (p, m, s) not in done]
    return sorted(cells, key=lambda c: (seeds.index(c[2]), -costs.get(c[:2], 0.0)))


def run_cells(cells: list[tuple[str, str, int]], n_steps: int, jobs: int
              ) -> Iterator[dict[str, Any]]:
    """Yield each cell's record as it finishes; ``jobs > 1`` runs them in worker
    processes (torch 1 thread each)."""
    if jobs == 1:
        for p, m, s in cells:
            yield run_one(p, m, s, n_steps=n_steps, smoke=False)
        return
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        futures = [pool.submit(run_one, p, m, s, n_steps=n_steps, smoke=False)
                   for p, m, s in cells]
        for fut in concurrent.futures.as_completed(futures):
            yield fut.result()


if __name__ == "__main__":
    main()
