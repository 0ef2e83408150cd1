"""N-grams additions: one preference per batch, and the N-grams benchmark's pieces."""

from __future__ import annotations

import numpy as np

from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext
from moalign.solvers.mogfn import MOGFN, PreferencePrior
from tools.bench import ngrams as bench


def test_shared_preference_draws_one_condition_per_batch() -> None:
    prior = PreferencePrior(3, alpha=1.0, beta_shape=2.0, beta_scale=1.0, shared=True)
    pref, beta = prior.sample(np.random.default_rng(3), 6)
    rng = np.random.default_rng(3)
    one = rng.dirichlet(np.ones(3), size=1)
    assert np.array_equal(pref, np.repeat(one, 6, axis=0))
    assert np.array_equal(beta, np.full(6, np.clip(rng.gamma(2.0, 1.0, size=1), 1e-3, 32.0)))


def test_shared_preference_is_off_by_default_and_reaches_the_prior() -> None:
    problem = get_problem("ngrams")(ngrams=["AV", "VC"], min_length=3, max_length=4)
    assert not MOGFN({}).trainer(problem).prior.shared  # type: ignore[attr-defined]
    solver = MOGFN({"batch_size": 8, "n_hidden": 16, "n_layers": 1, "n_bins": 4,
                    "shared_preference": True, "beta": 4.0})
    assert solver.trainer(problem).prior.shared  # type: ignore[attr-defined]
    ctx = RunContext(problem, Budget(evaluations=16), seed=0)
    assert solver.solve(problem, ctx).archive.n_evals == 16


def test_sequence_encoding_decodes_lengths_in_range_and_mutation_stays_in_bounds() -> None:
    problem = get_problem("ngrams")(ngrams=["AV", "VC"], min_length=5, max_length=8)
    enc = bench.sequence_encoding(problem)
    assert enc.n_var == 9
    G = np.array([[0, 19, 1, 2, 3, 4, 5, 6, 5], [19] * 8 + [8]])
    assert enc.decode(G) == ["AVRND", "V" * 8]

    class P:
        n_var, xl, xu = enc.n_var, enc.xl, enc.xu

    X = np.tile(enc.xl, (200, 1))
    out = bench.RandomReset(prob=0.5)._do(P(), X, random_state=np.random.default_rng(0))
    assert np.all(out >= enc.xl) and np.all(out <= enc.xu) and (out != X).mean() > 0.3
    lengths = {len(s) for s in enc.decode(out.astype(np.int64))}
    assert lengths <= set(range(5, 9)) and len(lengths) > 1


def test_archive_metrics_hv_r2_and_topk() -> None:
    problem = get_problem("ngrams")(ngrams=["AV", "VC"], min_length=2, max_length=4)
    X = np.array(["AVC", "AVAV", "VCVC", "AAAA", "AVC"], dtype=object)
    F = problem.evaluate(list(X)).F
    prefs = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    m = bench.archive_metrics(problem, X, F, prefs)
    assert np.isclose(m["hv"], 0.25)  # only AVC = (0.5, 0.5) dominates an area
    # R2 with utopia (1, 1): ω=(1,0) -> AVAV reaches 0; ω=(.5,.5) -> AVC 0.25; ω=(0,1) -> 0
    assert np.isclose(m["r2"], 0.25 / np.linalg.norm(prefs))
    assert m["topk_div"] > 0 and 0 < m["topk_reward"] <= 1


def test_bench_smoke_produces_the_table_and_the_tests() -> None:
    text = bench.main(["--smoke", "--no-write"])
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and "---" not in ln]
    labels = [r.split("|")[1].strip() for r in rows]
    assert labels[1:4] == ["random", "NSGA-II (pop 32)", "MOGFN-PC (recipe)"]
    assert any(lb.startswith("MOGFN-PC (recipe) vs random") for lb in labels)
