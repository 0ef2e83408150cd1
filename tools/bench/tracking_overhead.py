"""Cost of tracking in a long run: NSGA-II on DTLZ2 (3 objectives), 20,000 evaluations,
population 100 (200 steps), checkpoint every 10 steps, MLflow SQLite store.

Each repetition runs the recipe twice, interleaved so that a change in the machine's load
hits both alike: tracked (everything a run logs: params, tags with the git commit, the
recipe, per-step metrics, the final CSVs, table and plots) and untracked
(``tracking: {backend: none}``, which computes no per-step metrics). Reported, as medians
over the repetitions:

- "tracking in the solve": the time the runner spends on per-step tracking inside the
  solve (``result.info["tracking_seconds"]``: the metrics of the logged steps, the
  normalized hypervolume, buffering, the ``log_batch`` writes and the wait for them), as
  a share of the tracked solve;
- the tracked solve against the untracked one run just after it (wall clock, the median
  of the pairs' differences; it includes what the first number cannot see, such as the
  garbage collections the tracking's objects cause, and the noise of a shared machine);
- the time outside the solve (opening the run, then the final artifacts).

The load average (``os.getloadavg()``, 1 minute) is read before each run; a loaded machine
makes every number larger and noisier. All runs share one process; each starts after a
full garbage collection, so that a collection of the earlier runs' garbage does not land
in one run's solve and not in another's.

    .venv/bin/python -m tools.bench.tracking_overhead               # writes docs/benchmarks.md
    .venv/bin/python -m tools.bench.tracking_overhead --smoke       # 2,000 evaluations, prints
    .venv/bin/python -m tools.bench.tracking_overhead --repeats 3   # fewer pairs (default 5)
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.bench.report import markdown_table, write_section


def measure(evaluations: int, workdir: Path, backend: str = "mlflow") -> dict[str, float]:
    """One run of the recipe; seconds of the solve, of tracking inside it, outside it."""
    from mlflow import MlflowClient

    from moalign.recipes import parse_recipe
    from moalign.recipes.runner import run_recipe

    workdir.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    if backend == "mlflow":
        MlflowClient(tracking_uri=uri).search_experiments()  # open + migrate before timing
    recipe = parse_recipe({
        "name": "tracking-overhead",
        "problem": {"name": "dtlz2", "params": {"n_obj": 3}},
        "solver": {"name": "nsga2", "config": {"pop_size": 100}},
        "budget": {"evaluations": evaluations},
        "tracking": {"backend": backend, "uri": uri, "experiment": "overhead"},
        "checkpoint": {"every": 10, "dir": str(workdir / f"ckpt-{backend}")},
    })
    gc.collect()  # each run starts from a collected heap: earlier runs' garbage is not its
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = run_recipe(recipe, progress=False)
    total = time.perf_counter() - t0
    logged = 0
    if res.run_id is not None:
        logged = len(MlflowClient(tracking_uri=uri).get_metric_history(res.run_id,
                                                                       "hypervolume"))
    return {
        "solve": res.info["wall_seconds"],
        "tracking": res.info["tracking_seconds"],
        "outside": total - res.info["wall_seconds"],
        "logged_steps": logged,
        "front": len(res.front),
        "load": load,
    }


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(n: int, tracked: list[dict[str, float]], untracked: list[dict[str, float]]
           ) -> str:
    solve, tracking = median(tracked, "solve"), median(tracked, "tracking")
    bare = median(untracked, "solve")
    shares = sorted(100 * r["tracking"] / r["solve"] for r in tracked)
    paired = sorted(100 * (t["solve"] - u["solve"]) / u["solve"]
                    for t, u in zip(tracked, untracked, strict=True))
    bare_runs = [u["solve"] for u in untracked]
    spread = 100 * (max(bare_runs) / min(bare_runs) - 1)
    loads = [r["load"] for r in tracked + untracked]
    rows: list[list[Any]] = [
        ["solve, tracked", f"{solve:.2f} s", "100%"],
        ["of which tracking in the solve", f"{tracking:.2f} s",
         f"**{statistics.median(shares):.1f}%** (median; runs: "
         + ", ".join(f"{s:.1f}%" for s in shares) + ")"],
        ["solve, untracked (`backend: none`)", f"{bare:.2f} s",
         f"tracked - untracked, pair by pair: median {statistics.median(paired):+.1f}% "
         "(pairs: " + ", ".join(f"{p:+.1f}%" for p in paired) + ")"],
        ["outside the solve, tracked: open the run (params, tags, git, recipe), then "
         "CSVs, table, plots", f"{median(tracked, 'outside'):.2f} s", "-"],
        ["outside the solve, untracked", f"{median(untracked, 'outside'):.2f} s", "-"],
    ]
    steps = int(n / 100)
    return (
        "## Tracking overhead in a long run\n\n"
        f"NSGA-II on DTLZ2 (m = 3), {n} evaluations in {steps} steps, checkpoint every 10 "
        f"steps, MLflow SQLite store; the run logs its params, tags (version, git commit), "
        f"recipe, the per-step metrics at {int(median(tracked, 'logged_steps'))} of the "
        f"{steps} steps (the first 20, then about 1% of the run's time, and the last; "
        f"[tracking.md](tracking.md#cost)), and the final front "
        f"({int(median(tracked, 'front'))} points), CSVs and plots. Medians of "
        f"{len(tracked)} tracked and {len(untracked)} untracked runs, interleaved. "
        f"Measured {datetime.date.today()} on {platform.machine()} ({os.cpu_count()} cores, "
        f"shared with other work): load average (1 min) before the runs "
        f"{min(loads):.1f} to {max(loads):.1f}, median {statistics.median(loads):.1f} (the "
        "benchmark's own process counts for about 1).\n\n"
        "Command: `.venv/bin/python -m tools.bench.tracking_overhead`\n\n"
        + markdown_table(["part", "seconds", "share of the tracked solve"], rows)
        + "\n\nThe first share is the runner's own clock around everything it does per step "
        "for tracking. The tracked - untracked difference is wall clock: it also counts "
        "what that clock cannot see (garbage collections set off by the tracking's "
        "objects, a larger process) and carries the noise of the shared machine, where "
        "two identical untracked runs differ by up to "
        f"{spread:.0f}% here.\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n = 2000 if args.smoke else 20000
    tracked: list[dict[str, float]] = []
    untracked: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        measure(min(n, 2000), Path(tmp) / "warm")  # imports and first-use costs
        for i in range(args.repeats):
            for backend, runs in (("mlflow", tracked), ("none", untracked)):
                runs.append(measure(n, Path(tmp) / f"{backend}-{i}", backend))
                r = runs[-1]
                print(f"{backend:6s} solve {r['solve']:.2f} s, tracking {r['tracking']:.3f} s"
                      f", outside {r['outside']:.2f} s, load {r['load']:.2f}", flush=True)
    body = report(n, tracked, untracked)
    print(body)
    if not args.smoke:
        write_section("tracking", body)


if __name__ == "__main__":
    main()
