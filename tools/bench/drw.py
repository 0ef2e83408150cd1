"""Dynamic reward weighting on the digits testbed: fixed vs hypervolume vs gradient weights.

Run: ``.venv/bin/python -m tools.bench.drw [--smoke] [--jobs 2] [--seeds 0 1 2 3 4]``

Protocol. Every run trains the digits tiny model (``moalign.llm.digits``) with TRL's
GRPOTrainer for the same steps, prompts, batch and rollouts (equal compute) on three
objectives that can all improve and conflict: ``sevens``, ``threes`` (their sum is at most
1) and ``near_len`` (closeness to 8 digits). The learning rate is constant. After every
step each run records a validation vector: the mean of each objective over 64 held-out
prompts x 8 samples. Arms: ``fixed``, ``hypervolume`` and ``gradient`` weighting, all
with ``preset: reference`` (the rules as the authors' code runs them), each under the
paper's three user weightings; ``--preset moalign`` measures moalign's defaults instead
(``--fixed-from`` reuses an earlier run's fixed arm, which no preset changes).

Reported per arm, mean ± standard error over seeds: the final validation vector; the
hypervolume of the run's validation vectors w.r.t. the run's initial vector ``v_0`` (what
the runner logs) and w.r.t. one fixed reference :data:`FIXED_REF` shared by every arm;
the first step at which the latter reaches :data:`THRESHOLD`; wall time. For each dynamic
arm the paired (same seed) difference from the fixed arm under the same weighting.

Writes section ``drw`` of docs/benchmarks.md and docs/img/drw_hv.png; raw numbers go to
``--out`` (JSON) so ``--report-only`` can redraw them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from tools.bench.report import mean_se

ROOT = Path(__file__).resolve().parents[2]
OBJECTIVES = ["sevens", "threes", "near_len"]
MODES = ["fixed", "hypervolume", "gradient"]
WEIGHTINGS = {"(1/3, 1/3, 1/3)": [1 / 3, 1 / 3, 1 / 3], "(1/2, 1/4, 1/4)": [0.5, 0.25, 0.25],
              "(1/4, 3/8, 3/8)": [0.25, 0.375, 0.375]}
COMMON = {"per_device_train_batch_size": 16, "num_generations": 4, "max_completion_length": 16,
          "learning_rate": 5e-4, "lr_scheduler_type": "constant", "eval_every": 1,
          "n_val_samples": 8, "torch_threads": 1, "save_every": 10_000}
N_VALIDATION = 64
FIXED_REF = np.array([0.2, 0.2, 0.6])
"""Shared HV reference (sevens, threes, near_len): just below the initial policy's ≈
(0.25, 0.25, 0.65), so every gain over the initial model counts and arms compare."""
THRESHOLD = 0.02
"""HV (w.r.t. :data:`FIXED_REF`) that counts as reached for steps-to-threshold."""


def make_problem() -> Any:
    from moalign.problems import get_problem

    return get_problem("text")(prompts="digits", n_prompts=256 + N_VALIDATION,
                               n_validation=N_VALIDATION, policy="tiny",
                               objectives=["sevens", "threes",
                                           {"fn": "near_len", "params": {"target": 8}}])


def run_arm(mode: str, weighting: str, seed: int, steps: int, preset: str) -> dict[str, Any]:
    """One training run; returns its validation vectors, weights and timing."""
    import torch

    from moalign.solvers import Budget, RunContext, get_solver

    torch.set_num_threads(1)
    problem = make_problem()
    logged: list[dict[str, float]] = []
    ctx = RunContext(problem, Budget(steps=steps), seed=seed,
                     on_record=[lambda c, m: logged.append({**m, "step": float(c.step)})])
    cfg = {**COMMON, "mode": mode, "preset": preset, "weights": WEIGHTINGS[weighting]}
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    result = get_solver("drw")(cfg).solve(problem, ctx)
    return {"mode": mode, "weighting": weighting, "seed": seed, "preset": preset,
            "seconds": time.monotonic() - t0, "load": load, "F": ctx.archive.F.tolist(),
            "steps": [int(m["step"]) for m in logged], "metrics": logged,
            "final_weights": result.info["weights"]}


def _hv_curve(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Cumulative HV of the first t+1 vectors, t = 0..len(F)-1 (all objectives maximized)."""
    from moalign.indicators import hypervolume

    out = []
    for t in range(len(F)):
        pts = F[: t + 1][np.all(np.isfinite(F[: t + 1]), axis=1)]
        out.append(hypervolume(pts, ref, maximize=True) if len(pts) else 0.0)
    return np.asarray(out)


def summarize(run: dict[str, Any]) -> dict[str, Any]:
    """Final vector, HV vs v_0, HV vs the fixed reference (curve), steps to threshold."""
    F = np.asarray(run["F"], dtype=float)
    fixed = _hv_curve(F, FIXED_REF)
    reached = np.nonzero(fixed >= THRESHOLD)[0]
    return {"final": F[-1], "hv_v0": float(_hv_curve(F, F[0])[-1]), "hv_fixed": fixed,
            "to_threshold": int(run["steps"][reached[0]]) if len(reached) else None,
            "seconds": run["seconds"]}


def _steps_cell(values: list[int | None], steps: int) -> str:
    hit = [v for v in values if v is not None]
    if not hit:
        return f"> {steps} (0/{len(values)})"
    mean = f"{np.mean(hit):.1f}"
    return mean if len(hit) == len(values) else f"{mean} ({len(hit)}/{len(values)})"


def table(runs: list[dict[str, Any]], steps: int) -> tuple[str, str]:
    """The per-arm table and the paired-difference table (markdown)."""
    from tools.bench.report import markdown_table

    rows, diffs = [], []
    for weighting in WEIGHTINGS:
        by_mode = {m: {r["seed"]: summarize(r) for r in runs
                       if r["mode"] == m and r["weighting"] == weighting} for m in MODES}
        for mode, per_seed in by_mode.items():
            if not per_seed:
                continue
            s = list(per_seed.values())
            finals = np.stack([x["final"] for x in s])
            rows.append([weighting, mode, len(s),
                         *(mean_se(finals[:, j]) for j in range(len(OBJECTIVES))),
                         mean_se([x["hv_v0"] for x in s], 4),
                         mean_se([x["hv_fixed"][-1] for x in s], 4),
                         _steps_cell([x["to_threshold"] for x in s], steps),
                         mean_se([x["seconds"] for x in s], 0)])
            if mode == "fixed" or not by_mode["fixed"]:
                continue
            seeds = sorted(set(per_seed) & set(by_mode["fixed"]))
            d_fixed = [per_seed[k]["hv_fixed"][-1] - by_mode["fixed"][k]["hv_fixed"][-1]
                       for k in seeds]
            d_v0 = [per_seed[k]["hv_v0"] - by_mode["fixed"][k]["hv_v0"] for k in seeds]
            d_obj = [per_seed[k]["final"] - by_mode["fixed"][k]["final"] for k in seeds]
            diffs.append([weighting, f"{mode} − fixed", len(seeds), mean_se(d_fixed, 4),
                          _z(d_fixed), mean_se(d_v0, 4),
                          *(mean_se(np.asarray(d_obj)[:, j]) for j in range(len(OBJECTIVES)))])
    arms = markdown_table(["weights", "arm", "seeds", *OBJECTIVES, "HV vs v_0",
                           "HV vs fixed ref", f"steps to HV ≥ {THRESHOLD}", "seconds"], rows)
    paired = markdown_table(["weights", "difference", "seeds", "HV vs fixed ref", "in s.e.",
                             "HV vs v_0", *(f"Δ {o}" for o in OBJECTIVES)], diffs)
    return arms, paired


def _z(d: list[float]) -> str:
    a = np.asarray(d, dtype=float)
    se = a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else 0.0
    return f"{a.mean() / se:+.1f}" if se > 0 else "n/a"


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """HV (fixed reference) over steps, mean ± s.e. over seeds, one panel per weighting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(WEIGHTINGS), figsize=(14, 4), sharey=True)
    for ax, weighting in zip(np.atleast_1d(axes), WEIGHTINGS, strict=True):
        for mode in MODES:
            rs = [r for r in runs if r["mode"] == mode and r["weighting"] == weighting]
            if not rs:
                continue
            Y = np.stack([summarize(r)["hv_fixed"] for r in rs])
            x = np.asarray(rs[0]["steps"])
            mean = Y.mean(0)
            se = Y.std(0, ddof=1) / np.sqrt(len(Y)) if len(Y) > 1 else np.zeros_like(mean)
            ax.plot(x, mean, label=f"{mode} ({len(Y)} seeds)")
            ax.fill_between(x, mean - se, mean + se, alpha=0.2)
        ax.set_title(f"user weights {weighting}")
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("HV of validation vectors (fixed reference)")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def report(runs: list[dict[str, Any]], cmd: str, steps: int, img: str) -> str:
    arms, paired = table(runs, steps)
    seeds = sorted({r["seed"] for r in runs})
    first = runs[0]["F"][0]
    loads = [r["load"] for r in runs if "load" in r]
    load = (f"1-minute load average {min(loads):.2f}-{max(loads):.2f} at the runs' starts"
            if len(loads) == len(runs) else "load average not recorded")
    return (
        f"Command: `{cmd}`  \nMachine: shared 2-core CPU, 1 torch thread per run, {load}; date "
        f"{dt.date.today().isoformat()}.  \nSetup: the digits tiny model "
        f"(`moalign.llm.digits`, 2-layer Llama, character tokenizer); TRL GRPOTrainer, "
        f"{steps} steps x 16 completions (4 prompts x 4 generations), constant lr "
        f"{COMMON['learning_rate']}, loss `dapo`, beta 0, `preset: {runs[-1]['preset']}` "
        f"(the fixed arm does not depend on it); "
        f"validation after every step on {N_VALIDATION} held-out prompts x "
        f"{COMMON['n_val_samples']} samples; seeds {seeds}. Cells are mean ± standard error "
        f"over seeds at the last step. `HV vs v_0`: hypervolume of all the run's validation "
        f"vectors, reference = its initial vector (what MLflow shows). `HV vs fixed ref`: "
        f"the same vectors, reference {FIXED_REF.tolist()} for every arm. Initial vector "
        f"(seed {runs[0]['seed']}): sevens {first[0]:.3f}, threes {first[1]:.3f}, near_len "
        f"{first[2]:.3f}.\n\n{arms}\n\nPaired by seed (same initial model, prompts and "
        f"validation samples), dynamic arm minus the fixed arm under the same weights; "
        f"`in s.e.` is the mean difference over its standard error:\n\n{paired}\n\n"
        f"![HV over steps](img/{img})\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="1 weighting, 1 seed, 3 steps")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    ap.add_argument("--weightings", nargs="+", default=list(WEIGHTINGS), choices=WEIGHTINGS)
    ap.add_argument("--preset", default="reference", choices=["reference", "moalign"])
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel (1 thread each)")
    ap.add_argument("--out", default="/tmp/moalign_bench_drw.json")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--append", action="store_true", help="add runs to those in --out")
    ap.add_argument("--section", default="drw", help="section of docs/benchmarks.md")
    ap.add_argument("--fixed-from", default=None,
                    help="JSON of an earlier run whose fixed arm to reuse (the fixed arm does "
                         "not depend on the preset)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.smoke:
        args.steps, args.seeds, args.weightings = 3, [0], [list(WEIGHTINGS)[0]]
    out = Path(args.out)
    keep = args.report_only or args.append
    runs: list[dict[str, Any]] = json.loads(out.read_text()) if keep else []
    if args.fixed_from:
        runs += [r for r in json.loads(Path(args.fixed_from).read_text())
                 if r["mode"] == "fixed" and r["seed"] in args.seeds]
    if not args.report_only:
        from moalign.llm.tiny import build_tiny_model, tiny_config

        build_tiny_model(config=tiny_config("digits"))  # once, before the workers start
        todo = [(m, w, s) for s in args.seeds for w in args.weightings for m in args.modes]
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_arm, m, w, s, args.steps, args.preset)
                       for m, w, s in todo]
            for fut in futures:
                runs.append(fut.result())
                out.write_text(json.dumps(runs))
                r = runs[-1]
                print(f"{r['mode']} {r['weighting']} seed {r['seed']}: {r['seconds']:.0f}s",
                      flush=True)
    cmd = ".venv/bin/python -m tools.bench.drw" + (
        " --smoke" if args.smoke else f" --steps {args.steps} --jobs {args.jobs} --seeds "
        + " ".join(map(str, sorted({r['seed'] for r in runs}))))
    if args.preset != "reference":
        cmd += f" --preset {args.preset}"
    if args.fixed_from:
        cmd += f" --modes {' '.join(args.modes)} --fixed-from {args.fixed_from}"
    if args.section != "drw":
        cmd += f" --section {args.section}"
    img = f"{args.section.replace('-', '_')}_hv.png"
    if args.smoke:
        print(report(runs, cmd, args.steps, img))
        return
    from tools.bench.report import write_section

    plot(runs, ROOT / "docs" / "img" / img)
    title = "## drw: dynamic reward weighting on the digits testbed" + (
        "" if args.section == "drw" else f" — {args.section}")
    write_section(args.section, title + "\n\n" + report(runs, cmd, args.steps, img))


if __name__ == "__main__":
    main()
