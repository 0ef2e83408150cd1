"""The benchmark's smoke mode runs end to end and produces a complete table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


# ~7 s on an idle 2-core machine (over a minute when the machine was heavily shared)
def test_bench_smoke_produces_full_table() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.bench.mogfn", "--smoke", "--no-write", "--budget",
         "4096"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    tables: list[list[str]] = []  # the distinct-cell (headline) and the charged regimes
    tests: list[list[str]] = []  # their significance tables
    current: list[str] = []
    for line in proc.stdout.splitlines():
        if line.startswith("| method"):
            tables.append(current := [])
        elif line.startswith("| comparison"):
            tests.append(current := [])
        elif line.startswith("| ") and "---" not in line:
            current.append(line)
    assert len(tables) == 2 and len(tests) == 2
    assert proc.stdout.index("Equal budget (headline)") < proc.stdout.index("Every sample charged")
    for rows in tables:
        labels = [r.split("|")[1].strip() for r in rows]
        assert labels[:4] == ["random", "NSGA-II (pop 64)", "NSGA-II (pop 16)",
                              "NSGA-II (pop 8)"]
        assert len(labels) == 9 and any(lb.startswith("OP-GFN") for lb in labels)
        for r in rows:
            cells = [c.strip() for c in r.split("|")[2:-1]]
            assert all(re.match(r"^[-\d.]", c) or c.startswith("—") for c in cells), r
            recall = float(cells[5])  # Pareto recall at the full budget
            assert 0.0 <= recall <= 1.0
    for rows in tests:  # 4 GFlowNet rows x 4 baselines, each cell "Δ (p=..., verdict)"
        assert len(rows) == 16
        for r in rows:
            assert all(re.search(r"\(p=[\d.]+, (wins|loses|n\.s\.)\)", c)
                       for c in r.split("|")[2:-1]), r


def test_uniform_sampler_l1_is_zero_at_beta_zero_and_grows_with_beta() -> None:
    import numpy as np

    from moalign.problems import get_problem
    from moalign.solvers.mogfn import exact_l1
    from tools.bench.mogfn import _UniformSampler

    problem = get_problem("hypergrid")(height=4)
    uni = _UniformSampler(problem.space.env)
    prefs = np.array([[0.5, 0.5]])
    l1 = [exact_l1(problem, uni, prefs, b) for b in (1e-9, 1.0, 16.0)]
    assert l1[0] < 1e-6 and l1[0] < l1[1] < l1[2] < 2.0
