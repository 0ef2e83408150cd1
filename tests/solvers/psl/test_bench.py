"""The PSL benchmark harness: its metric against closed forms, a tiny run in the default
test run, and the --smoke mode (slow)."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """tools/ is not a package on the path: import it from the repository root."""
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("tools.bench.psl")


def test_normalized_hv_of_true_zdt_fronts_matches_closed_form(bench: ModuleType) -> None:
    for name, hv in bench.CLOSED_FORM_HV.items():
        problem = bench.make_problem(name)
        assert bench.normalized_hv(problem, problem.pareto_front(20_000)) == pytest.approx(
            hv, abs=2e-4)


def test_lhd_is_log10_of_the_gap(bench: ModuleType) -> None:
    assert bench.lhd(0.9, 0.8) == pytest.approx(math.log10(0.1))
    assert bench.lhd(0.5, 0.6) == -12.0  # found more than the reference: clipped


def test_tiny_run_and_report(bench: ModuleType) -> None:
    rec = bench.run_one("vlmop2", "random", 0, n_steps=5, smoke=True)
    assert rec["budget"] == 20 and len(rec["F"]) == 20
    hv = [h for _, h in rec["curve"]]
    assert hv == sorted(hv) and 0 < rec["hv"] < 1.21  # monotone, inside the 1.1 box
    problem = bench.make_problem("vlmop2")
    assert rec["hv"] == pytest.approx(bench.normalized_hv(problem, np.array(rec["F"])))
    body = bench.report([rec, {**rec, "seed": 1}], "cmd", write=False)
    assert "| vlmop2 | random | 2 | 20 |" in body and "true front" in body


@pytest.mark.slow
def test_smoke_mode_runs(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--smoke"])
    out = capsys.readouterr().out
    for method in bench.METHODS:
        assert f"| zdt1 | {method} |" in out


def test_planned_cells_caps_seeds_per_method_and_runs_costly_cells_first(
        bench: ModuleType) -> None:
    plan = bench.PLANS["two-hour"]
    cells = bench.planned_cells(["zdt1", "re37"], ["psl", "qnehvi"], [0, 1, 2], plan,
                                done={("zdt1", "psl", 1)},
                                costs={("re37", "qnehvi"): 3000.0, ("zdt1", "psl"): 200.0})
    assert cells[:4] == [("re37", "qnehvi", 0), ("zdt1", "psl", 0), ("zdt1", "qnehvi", 0),
                         ("re37", "psl", 0)]
    assert cells[4:] == [("re37", "psl", 1), ("zdt1", "psl", 2), ("re37", "psl", 2)]


def test_parallel_workers_give_the_same_records(bench: ModuleType) -> None:
    cells = [("vlmop2", "random", 0), ("vlmop2", "random", 1)]
    serial = {r["seed"]: r["F"] for r in bench.run_cells(cells, 5, jobs=1)}
    parallel = {r["seed"]: r["F"] for r in bench.run_cells(cells, 5, jobs=2)}
    assert parallel == serial and serial[0] != serial[1]


def test_repeats_counts_identical_evaluations_per_method(bench: ModuleType) -> None:
    rec = {"problem": "zdt1", "method": "psl", "seed": 0, "F": [[0.1, 0.9]]}
    rerun = [rec, {**rec, "seed": 1, "F": [[0.2, 0.8]]}]
    committed = [rec, {**rec, "seed": 1, "F": [[0.2, 0.7]]}]
    assert bench.repeats(committed, rerun) == "psl 1/2 identical"


def test_score_run_scores_saved_arrays_with_the_benchmark_metric(
        bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probe = importlib.import_module("tools.bench.psl_gp_probe")
    problem = bench.make_problem("zdt1")
    X = np.zeros((25, 30))
    X[:, 0] = np.linspace(0.0, 1.0, 25)
    X[20:, 3] = 1.0  # the last batch has one coordinate stuck at 1
    Y = problem.evaluate(X).F
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    probe.score_run("zdt1", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), n_initial=20)
    out = capsys.readouterr().out
    assert f"20: {bench.normalized_hv(problem, Y[:20]):.4f}" in out
    assert "21-25: [0.034 0.034 0.034 0.034 0.034]  [1 1 1 1 1]" in out


def test_learned_set_hypervolume_of_the_true_pareto_set(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """A 'model' that returns ZDT1's Pareto set (x1 = w2, rest 0) scores the front's
    hypervolume on the grid (closed form minus the staircase gap); one off the front, 0."""
    monkeypatch.syspath_prepend(str(ROOT))
    learned_set = importlib.import_module("tools.bench.learned_set")
    from moalign.testing import toy_zdt1

    problem = toy_zdt1()

    def on_front(prefs: pd.DataFrame, rest: float = 0.0) -> pd.DataFrame:
        X = np.full((len(prefs), 3), rest)
        X[:, 0] = prefs["w2"].to_numpy()
        return pd.DataFrame(X, columns=["x0", "x1", "x2"])

    hv, F = learned_set.set_hypervolume(on_front, problem, parts=999)
    assert F.shape == (1000, 2) and np.allclose(F[:, 1], 1 - np.sqrt(F[:, 0]))
    assert hv == pytest.approx(1.21 - 1 / 3, abs=2e-3)
    off, _ = learned_set.set_hypervolume(lambda p: on_front(p, rest=1.0), problem)
    assert off == 0.0


def test_variants_report_sets_each_arm_against_its_symmetric_baseline(
        bench: ModuleType) -> None:
    def recs(method: str, hvs: list[float]) -> list[dict[str, object]]:
        return [{"problem": "zdt1", "method": method, "seed": s, "hv": h, "wall_s": 20.0,
                 "n_iterations": 20} for s, h in enumerate(hvs)]

    records = (recs("qnehvi", [0.80, 0.81, 0.82, 0.83, 0.84])
               + recs("psl", [0.50, 0.60, 0.70, 0.55, 0.65])
               + recs("psl-all", [0.90, 0.91, 0.92])
               + recs("qnehvi-inferred", [0.10, 0.20, 0.30]))
    body = bench.variants_report(records)
    problem_point, inferred = body.split("### A point inferred")
    # 3 seeds all above 5: U = 15, the smallest two-sided p for 3 vs 5
    assert "| zdt1 | psl-all | 3 | 0.910 [0.900, 0.920] | 1.11 | 0.036 | +0.310 (3) | 1.0 |" \
        in problem_point
    assert "| psl |" not in problem_point
    # psl (5 seeds) all above qnehvi-inferred (3 seeds); psl is its own base: no change column
    assert "| zdt1 | psl | 5 | 0.600 [0.500, 0.700] | 3.00 | 0.036 |  | 1.0 |" in inferred
