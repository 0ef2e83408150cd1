"""Robust multi-objective decoding against the decoding baselines on the digits testbed.

Run: ``.venv/bin/python -m tools.bench.rmod [--smoke] [--seeds 0 1 2 3 4] [--values SPEC]
[--soups DIR]``

Every seed decodes the same 64 held-out digits prompts with each method of the ``rmod``
solver (plain sampling, best-of-K by equal-weight sum, blockwise fixed equal weights,
per-objective decoding, RMOD; K = 8, B = 4, 16 tokens, λ = 1, 10 weight steps) with the
value function ``--values`` (default: the objectives on the partial text); with ``--soups
DIR`` also rewarded soups, from one policy per objective that the ``drw`` solver trains
first (fixed one-hot weights, 40 GRPO steps each, saved under DIR). Reported per
method, mean ± standard error over seeds: each objective's mean, the worst-case objective
``min_g E[r_g]``, wall time relative to plain sampling and to best-of-K; and per seed,
RMOD's worst-case objective minus each baseline's.

Writes section ``rmod`` of docs/benchmarks.md (raw numbers to ``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.bench.report import mean_se

OBJECTIVES = ["sevens", "threes", "near_len"]
CONFIG = {"K": 8, "B": 4, "lam": 1.0, "steps": 10, "max_new_tokens": 16, "torch_threads": 1}
N_PROMPTS = 64


def make_problem(n_prompts: int) -> Any:
    from moalign.problems import get_problem

    return get_problem("text")(prompts="digits", n_prompts=2 * n_prompts,
                               n_validation=n_prompts, policy="tiny",
                               objectives=["sevens", "threes",
                                           {"fn": "near_len", "params": {"target": 8}}])


def train_soups(folder: Path, steps: int = 40) -> list[str]:
    """One policy per objective: drw, fixed one-hot weights, ``steps`` GRPO steps."""
    from moalign.solvers import Budget, RunContext, get_solver

    paths = []
    for g, name in enumerate(OBJECTIVES):
        target = folder / name
        if not (target / "config.json").exists():
            problem = make_problem(N_PROMPTS)
            ctx = RunContext(problem, Budget(steps=steps), seed=0)
            cfg = {"mode": "fixed", "weights": [float(g == j) for j in range(3)],
                   "per_device_train_batch_size": 16, "num_generations": 4,
                   "max_completion_length": 16, "learning_rate": 5e-4, "eval_every": steps,
                   "n_val_samples": 1, "torch_threads": 1, "save_every": 10 * steps}
            get_solver("drw")(cfg).solve(problem, ctx).model.save(target)
        paths.append(str(target))
    return paths


def run_seed(seed: int, values: str, n_prompts: int,
             soups: list[str] | None = None) -> dict[str, Any]:
    """One ``rmod`` solve; returns the per-method summary."""
    import torch

    from moalign.solvers import Budget, RunContext, get_solver

    torch.set_num_threads(1)
    problem = make_problem(n_prompts)
    ctx = RunContext(problem, Budget(steps=10), seed=seed)
    t0 = time.monotonic()
    extra: dict[str, Any] = {}
    if soups:
        extra = {"soup_policies": soups, "methods": ["plain", "best_of_k", "fixed",
                                                     "per_objective", "rmod",
                                                     "rewarded_soup"]}
    result = get_solver("rmod")({**CONFIG, "values": values, **extra}).solve(problem, ctx)
    return {"seed": seed, "values": values, "seconds": time.monotonic() - t0,
            "methods": result.info["methods"]}


def report(runs: list[dict[str, Any]], cmd: str, load: tuple[float, float]) -> str:
    from tools.bench.report import markdown_table

    names = list(runs[0]["methods"])
    rows = []
    for m in names:
        s = [r["methods"][m] for r in runs]
        rows.append([m, *(mean_se([x[f"mean/{o}"] for x in s]) for o in OBJECTIVES),
                     mean_se([x["worst"] for x in s]),
                     mean_se([x.get("cost_vs_plain", 1.0) for x in s], 2),
                     mean_se([x["cost_vs_best_of_k"] for x in s], 2)
                     if all("cost_vs_best_of_k" in x for x in s) else "—"])
    diffs = []
    for m in names:
        if m == "rmod":
            continue
        d = [r["methods"]["rmod"]["worst"] - r["methods"][m]["worst"] for r in runs]
        a = np.asarray(d)
        se = a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else 0.0
        diffs.append([f"rmod − {m}", mean_se(d), f"{a.mean() / se:+.1f}" if se > 0 else "n/a"])
    table = markdown_table(["method", *OBJECTIVES, "worst-case", "time / plain",
                            "time / best-of-K"], rows)
    paired = markdown_table(["worst-case difference", "mean ± s.e.", "in s.e."], diffs)
    seeds = [r["seed"] for r in runs]
    return (f"Command: `{cmd}`  \nMachine: shared 2-core CPU, 1 torch thread, one run at a "
            f"time; 1-minute load average {load[0]:.2f} before and {load[1]:.2f} after; date "
            f"{dt.date.today().isoformat()}.  \nSetup: the digits tiny model, "
            f"{N_PROMPTS} held-out prompts, K = {CONFIG['K']}, B = {CONFIG['B']}, "
            f"{CONFIG['max_new_tokens']} tokens, λ = {CONFIG['lam']}, {CONFIG['steps']} "
            f"weight steps, values `{runs[0]['values']}`; seeds {seeds} (sampling seeds; "
            f"every method decodes the same prompts with the same seeds). Objectives "
            f"oriented higher-is-better; cells are mean ± standard error over seeds.\n\n"
            f"{table}\n\nPaired by seed:\n\n{paired}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="1 seed, 4 prompts")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--values", default="objectives")
    ap.add_argument("--out", default="/tmp/moalign_bench_rmod.json")
    ap.add_argument("--section", default="rmod")
    ap.add_argument("--soups", default=None,
                    help="folder for the per-objective policies of rewarded soups (trained "
                         "there when missing)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    n = 4 if args.smoke else N_PROMPTS
    seeds = [0] if args.smoke else args.seeds
    soups = train_soups(Path(args.soups)) if args.soups else None
    load_before = os.getloadavg()[0]
    runs = []
    for seed in seeds:
        runs.append(run_seed(seed, args.values, n, soups))
        Path(args.out).write_text(json.dumps(runs))
        print(f"seed {seed}: {runs[-1]['seconds']:.0f}s", flush=True)
    cmd = ".venv/bin/python -m tools.bench.rmod" + (
        " --smoke" if args.smoke else " --seeds " + " ".join(map(str, seeds)))
    if args.values != "objectives":
        cmd += f" --values {args.values}"
    if args.soups:
        cmd += f" --soups {args.soups}"
    if args.section != "rmod":
        cmd += f" --section {args.section}"
    body = report(runs, cmd, (load_before, os.getloadavg()[0]))
    if args.smoke:
        print(body)
        return
    from tools.bench.report import write_section

    write_section(args.section, f"## rmod: robust multi-objective decoding (digits testbed)"
                  f"{'' if args.section == 'rmod' else ' — ' + args.section}\n\n{body}")


if __name__ == "__main__":
    main()
