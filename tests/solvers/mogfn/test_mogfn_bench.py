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
        [sys.executable, "-m", "tools.bench.mogfn", "--smoke", "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    tables: list[list[str]] = []  # the small-budget and the distinct-cell regimes
    for line in proc.stdout.splitlines():
        if line.startswith("| method"):
            tables.append([])
        elif line.startswith("| ") and "---" not in line:
            tables[-1].append(line)
    assert len(tables) == 2
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
