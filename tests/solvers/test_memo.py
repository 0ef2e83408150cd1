"""EvaluationMemo: each distinct design evaluated once, limits, rebuilt from an archive."""

from __future__ import annotations

import numpy as np

from moalign.core import Objective, ObjectiveSet, Problem
from moalign.core.space import Box
from moalign.solvers import Budget, RunContext
from moalign.solvers.memo import EvaluationMemo, design_key


def counting_problem() -> tuple[Problem, list[int]]:
    calls: list[int] = []

    def f(X: np.ndarray) -> np.ndarray:
        calls.append(len(X))
        return np.where(X[:, 0] > 0.9, np.nan, X[:, 0] + X[:, 1])

    space = Box([0.0, 0.0], [1.0, 1.0])
    return Problem(space, ObjectiveSet([Objective("f", f)])), calls


def test_repeats_are_answered_from_memory() -> None:
    problem, calls = counting_problem()
    memo = EvaluationMemo()
    X = np.array([[0.1, 0.2], [0.1, 0.2], [0.3, 0.3]])
    ev, new = memo.evaluate(problem, X)
    assert new.tolist() == [0, 2] and calls == [2]  # the in-batch repeat is not evaluated
    np.testing.assert_allclose(ev.F[:, 0], [0.3, 0.3, 0.6])
    ev, new = memo.evaluate(problem, X[::-1])
    assert len(new) == 0 and calls == [2] and len(memo) == 2
    np.testing.assert_allclose(ev.F[:, 0], [0.6, 0.3, 0.3])


def test_limit_leaves_the_rest_unknown_and_failures_are_remembered() -> None:
    problem, calls = counting_problem()
    memo = EvaluationMemo()
    ev, new = memo.evaluate(problem, np.array([[0.95, 0.0], [0.1, 0.1], [0.2, 0.2]]), limit=2)
    assert new.tolist() == [0, 1]
    assert ev.failed.tolist() == [True, False, True]  # row 0 failed, row 2 not evaluated
    assert np.isnan(ev.F[2, 0])
    ev, new = memo.evaluate(problem, np.array([[0.95, 0.0]]))
    assert len(new) == 0 and ev.failed[0]  # a failure is not retried
    assert calls == [2]


def test_memo_rebuilt_from_an_archive_knows_every_recorded_design() -> None:
    problem, calls = counting_problem()
    ctx = RunContext(problem, Budget(evaluations=10), seed=0)
    ctx.evaluate(np.array([[0.1, 0.1], [0.4, 0.4]]))
    memo = EvaluationMemo(ctx.archive)
    ev, new = memo.evaluate(problem, np.array([[0.4, 0.4], [0.5, 0.5]]))
    assert new.tolist() == [1] and calls == [2, 1]
    assert ev.F[0, 0] == 0.8


def test_design_keys_tell_dtypes_and_strings_apart() -> None:
    assert design_key(np.array([1, 2])) == design_key(np.array([1, 2]))
    assert design_key(np.array([1, 2])) != design_key(np.array([1.0, 2.0]))
    assert design_key("AVC") == "AVC"
