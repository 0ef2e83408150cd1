"""Desirability functions: hand-computed values, R semantics (missing, tol), invalid
parameters, and agreement with the published Python port spotdesirability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moalign.scalarize.desirability import (
    DArb,
    DBox,
    DCategorical,
    DMax,
    DMin,
    DOverall,
    DTarget,
    desirability_from_dict,
)


# -- hand-computed values ----------------------------------------------------------------
def test_dmax_boundaries_interior_and_scale() -> None:
    d = DMax(80, 97)
    np.testing.assert_allclose(d([79.0, 80.0, 88.5, 97.0, 120.0]), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(DMax(0, 10, scale=2)([5.0, 2.0]), [0.25, 0.04])
    np.testing.assert_allclose(DMax(0, 10, scale=0.5)([2.5]), [0.5])
    np.testing.assert_allclose(DMax(0, 1)([-np.inf, np.inf]), [0.0, 1.0])


def test_dmin_boundaries_interior_and_scale() -> None:
    d = DMin(0, 10, scale=2)
    np.testing.assert_allclose(d([-1.0, 0.0, 5.0, 8.0, 10.0, 11.0]), [1, 1, 0.25, 0.04, 0, 0])


def test_dtarget_both_sides() -> None:
    d = DTarget(55, 57.5, 60)
    np.testing.assert_allclose(d([54.0, 55.0, 56.25, 57.5, 59.85, 60.0, 61.0]),
                               [0, 0, 0.5, 1, 0.06, 0, 0], atol=1e-12)
    d2 = DTarget(0, 4, 6, low_scale=2, high_scale=0.5)
    np.testing.assert_allclose(d2([2.0, 4.0, 5.5]), [0.25, 1.0, 0.5])


def test_dbox_and_darb() -> None:
    np.testing.assert_allclose(DBox(1, 2)([0.999, 1.0, 1.5, 2.0, 2.001]), [0, 1, 1, 1, 0])
    # unsorted points are sorted by x, as R does; ends hold outside
    d = DArb([2, 0, 1], [0.5, 0.0, 1.0])
    np.testing.assert_allclose(d([-5.0, 0.25, 1.0, 1.5, 9.0]), [0, 0.25, 1, 0.75, 0.5])


def test_dcategorical_lookup_missing_and_unknown() -> None:
    d = DCategorical({"low": 0.0, "mid": 0.5, "high": 1.0})
    np.testing.assert_allclose(d(["high", "low", "mid"]), [1.0, 0.0, 0.5])
    assert d.missing == pytest.approx(0.5)
    np.testing.assert_allclose(d([None, float("nan")]), [0.5, 0.5])
    with pytest.raises(ValueError, match="unknown level 'huge'"):
        d(["huge"])


# -- missing and tol ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (DMax(0, 1), 0.5),  # mean of linspace(0, 1, 100)
        (DMin(0, 1, scale=2), float(np.mean(np.linspace(1, 0, 100) ** 2))),
        (DTarget(0, 1, 3), float(np.mean(np.minimum(np.linspace(0, 3, 100),
                                                    (3 - np.linspace(0, 3, 100)) / 2)))),
        (DBox(-1, 1), 1.0),
        (DArb([0, 1], [1.0, 0.0]), 0.5),
    ],
)
def test_non_informative_value_is_mean_over_100_points(d: object, expected: float) -> None:
    assert d.missing == pytest.approx(expected, abs=1e-12)  # type: ignore[attr-defined]
    out = d([np.nan, None])  # type: ignore[operator]
    np.testing.assert_allclose(out, [expected, expected])


def test_missing_override_and_tol_after_imputation() -> None:
    d = DMax(0, 1, tol=0.01, missing=0.0)
    # NaN -> missing 0 -> tol; below low -> 0 -> tol
    np.testing.assert_allclose(d([np.nan, -1.0, 0.5]), [0.01, 0.01, 0.5])
    # default missing is computed with tol in effect: one grid point (y = low) has d = tol
    d2 = DMax(0, 1, tol=0.1)
    assert d2.missing == pytest.approx(0.5 + 0.1 / 100)
    assert DOverall(DMax(0, 1, tol=0.1), DMax(0, 1))([[-1.0, 0.4]])[0] == pytest.approx(0.2)


def test_shortfall_is_distance_to_positive_d_in_ramp_widths() -> None:
    np.testing.assert_allclose(DMax(80, 97).shortfall([63.0, 80.0, 90.0]), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(DMin(0, 2).shortfall([-1.0, 3.0]), [0.0, 0.5])
    np.testing.assert_allclose(DTarget(55, 57.5, 60).shortfall([50.0, 57.0, 62.5]),
                               [1.0, 0.0, 0.5])
    np.testing.assert_allclose(DBox(0, 4).shortfall([-2.0, 1.0, 5.0]), [0.5, 0.0, 0.25])
    # DArb: distance to the nearest knot with d > 0, over the knot span
    np.testing.assert_allclose(DArb([0, 1, 2], [0, 0, 1]).shortfall([-1.0, 0.5, 1.5]),
                               [1.5, 0.75, 0.0])
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    np.testing.assert_allclose(D.shortfall([[63.0, 62.5], [90.0, 57.0]]), [1.5, 0.0])


# -- overall -----------------------------------------------------------------------------
def test_overall_geometric_mean_and_weights() -> None:
    D = DOverall(DMax(0, 1), DMin(0, 1), DBox(0, 1))
    Y = np.array([[0.5, 0.5, 0.5], [0.81, 0.1, 0.3], [1.0, 1.0, 0.5], [0.5, 0.5, 2.0]])
    np.testing.assert_allclose(D(Y), [0.25**(1 / 3), (0.81 * 0.9) ** (1 / 3), 0.0, 0.0])
    Dw = DOverall(DMax(0, 1), DMin(0, 1), weights=[3, 1])
    np.testing.assert_allclose(Dw([[0.64, 1.0], [0.64, 0.5]]), [0.0, 0.64**0.75 * 0.5**0.25])
    # a 1-d input is one row; individual desirabilities come back n x R
    assert D([0.5, 0.5, 0.5]).shape == (1,)
    ind, overall = D.predict(Y[:2], all=True)
    assert ind.shape == (2, 3) and overall.shape == (2,)


def test_reaction_center_point() -> None:
    """Myers & Montgomery reaction at x = 0: conversion 81.09, activity 59.85."""
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    value = float(D([[81.09, 59.85]])[0])
    assert round(value, 4) == 0.0620
    assert value == pytest.approx(np.sqrt(1.09 / 17 * 0.15 / 2.5), rel=1e-12)


def test_reaction_center_through_the_problem() -> None:
    from moalign.problems.reaction import reaction

    F = reaction().evaluate(np.zeros((1, 3))).F
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    assert round(float(D(F)[0]), 4) == 0.0620


def test_overall_mixed_categorical_columns() -> None:
    D = DOverall(DMax(0, 10), DCategorical({"a": 1.0, "b": 0.25}))
    Y = np.array([[10.0, "b"], [5.0, "a"]], dtype=object)
    np.testing.assert_allclose(D(Y), [0.5, np.sqrt(0.5)])


# -- invalid parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DMax(1, 1), r"DMax: low \(1\) must be below high \(1\)"),
        (lambda: DMin(2, 1), r"DMin: low \(2\) must be below high"),
        (lambda: DMax(0, 1, scale=0), r"DMax: scale must be > 0"),
        (lambda: DMin(0, 1, scale=-1), r"DMin: scale must be > 0"),
        (lambda: DTarget(0, 0, 1), r"DTarget: target \(0\) must lie strictly between"),
        (lambda: DTarget(0, 2, 1), r"DTarget: target \(2\) must lie strictly between"),
        (lambda: DTarget(1, 0.5, 0), r"DTarget: low \(1\) must be below high"),
        (lambda: DTarget(0, 1, 2, high_scale=0), r"DTarget: high_scale must be > 0"),
        (lambda: DBox(3, 3), r"DBox: low \(3\) must be below high"),
        (lambda: DArb([0, 1], [0, 1.5]), r"DArb: every d must lie in \[0, 1\]"),
        (lambda: DArb([0, 1], [-0.1, 1]), r"DArb: every d must lie in \[0, 1\]"),
        (lambda: DArb([0], [1]), r"DArb: give at least two"),
        (lambda: DArb([0, 1, 2], [0, 1]), r"DArb: x and d must be 1-d of equal length"),
        (lambda: DArb([0, 0], [0, 1]), r"DArb: x values must be distinct"),
        (lambda: DCategorical({"a": 1.0}), r"DCategorical: mapping must be a dict of at least"),
        (lambda: DCategorical({"a": 1.0, "b": 2.0}), r"DCategorical: .* fix \{'b': 2.0\}"),
        (lambda: DMax(0, 1, tol=2), r"DMax: tol must lie in \[0, 1\]"),
        (lambda: DMax(0, 1, missing=-1), r"DMax: missing must lie in \[0, 1\]"),
        (lambda: DOverall(DMax(0, 1), weights=[0]), r"DOverall: weights must be 1 positive"),
        (lambda: DOverall(), r"DOverall: give at least one"),
    ],
)
def test_invalid_parameters_raise_clear_errors(make: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()  # type: ignore[operator]


def test_overall_rejects_wrong_shape_and_types() -> None:
    D = DOverall(DMax(0, 1), DMin(0, 1))
    with pytest.raises(ValueError, match=r"expected an n x 2 array"):
        D(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="argument 1 is a str"):
        DOverall(DMax(0, 1), "dmin")  # type: ignore[arg-type]


def test_from_dict() -> None:
    d = desirability_from_dict({"type": "dtarget", "low": 55, "target": 57.5, "high": 60})
    assert isinstance(d, DTarget) and d.target == 57.5
    assert isinstance(desirability_from_dict({"type": "DMax", "low": 0, "high": 1}), DMax)
    with pytest.raises(ValueError, match="unknown desirability type 'dmaxx'; valid names: darb"):
        desirability_from_dict({"type": "dmaxx"})
    with pytest.raises(ValueError, match=r"DMax: bad arguments \['hi', 'low'\]"):
        desirability_from_dict({"type": "dmax", "low": 0, "hi": 1})


# -- against spotdesirability (the published Python port) --------------------------------
def _spot() -> Any:
    return pytest.importorskip("spotdesirability.utils.desirability",
                               reason="spotdesirability (dev extra) not installed")


def _random_inputs(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    span = high - low
    y = rng.uniform(low - 0.5 * span, high + 0.5 * span, 200)
    y[:5] = [low, high, (low + high) / 2, np.nan, np.nan]
    return y


@pytest.mark.parametrize("seed", range(5))
def test_matches_spotdesirability_on_random_inputs(seed: int) -> None:
    spot = _spot()
    rng = np.random.default_rng(seed)
    low, high = sorted(rng.uniform(-10, 10, 2))
    target = rng.uniform(low + 0.1 * (high - low), high - 0.1 * (high - low))
    s1, s2 = rng.uniform(0.2, 3, 2)
    tol = [None, 0.05][seed % 2]
    pairs = [
        (DMax(low, high, s1, tol=tol), spot.DMax(low, high, s1, tol=tol)),
        (DMin(low, high, s2, tol=tol), spot.DMin(low, high, s2, tol=tol)),
        (DTarget(low, target, high, s1, s2, tol=tol),
         spot.DTarget(low, target, high, s1, s2, tol=tol)),
        (DBox(low, high, tol=tol), spot.DBox(low, high, tol=tol)),
    ]
    xs = np.sort(rng.uniform(low, high, 4))
    ds = rng.uniform(0, 1, 4)
    pairs.append((DArb(xs, ds, tol=tol), spot.DArb(xs, ds, tol=tol)))
    y = _random_inputs(rng, low, high)
    for ours, theirs in pairs:
        assert ours.missing == pytest.approx(theirs.missing, abs=1e-12), type(ours).__name__
        np.testing.assert_allclose(ours(y), theirs.predict(y), atol=1e-12,
                                   err_msg=type(ours).__name__)
    Y = np.column_stack([y, y[::-1], np.roll(y, 7)])
    ours_all = DOverall(pairs[0][0], pairs[2][0], pairs[4][0])
    theirs_all = spot.DOverall(pairs[0][1], pairs[2][1], pairs[4][1])
    np.testing.assert_allclose(ours_all(Y), theirs_all.predict(Y), atol=1e-12)


def test_categorical_matches_spotdesirability() -> None:
    spot = _spot()
    mapping = {"a": 0.0, "b": 0.4, "c": 1.0}
    ours, theirs = DCategorical(mapping, tol=0.1), spot.DCategorical(mapping, tol=0.1)
    levels = ["c", "a", "b", "a"]
    np.testing.assert_allclose(ours(levels), theirs.predict(levels))
    # the default missing is the plain mean of the values (tol not applied), as in the port
    assert ours.missing == pytest.approx(theirs.missing) == pytest.approx(1.4 / 3)
    np.testing.assert_allclose(ours([None]), [theirs.missing])  # spot raises on None


# -- properties --------------------------------------------------------------------------

_finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(lo=_finite, width=st.floats(1e-3, 1e3), s=st.floats(0.1, 5),
       ys=st.lists(_finite, min_size=2, max_size=20))
def test_ramps_are_monotone_and_in_unit_interval(lo: float, width: float, s: float,
                                                  ys: list[float]) -> None:
    y = np.sort(np.asarray(ys))
    up, down = DMax(lo, lo + width, s)(y), DMin(lo, lo + width, s)(y)
    assert np.all((up >= 0) & (up <= 1)) and np.all((down >= 0) & (down <= 1))
    assert np.all(np.diff(up) >= 0) and np.all(np.diff(down) <= 0)
    # DMax and DMin with scale 1 mirror each other
    np.testing.assert_allclose(DMax(lo, lo + width)(y) + DMin(lo, lo + width)(y), 1.0,
                               atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(d=st.lists(st.floats(0, 1), min_size=1, max_size=6),
       w=st.lists(st.floats(0.1, 10), min_size=6, max_size=6))
def test_overall_between_min_and_max_and_equal_weights_match(d: list[float],
                                                             w: list[float]) -> None:
    R = len(d)
    ds = [DMax(0, 1)] * R
    row = np.asarray([d])
    plain = DOverall(*ds)(row)[0]
    assert min(d) - 1e-12 <= plain <= max(d) + 1e-12
    assert DOverall(*ds, weights=[w[0]] * R)(row)[0] == pytest.approx(plain, abs=1e-12)
    weighted = DOverall(*ds, weights=w[:R])(row)[0]
    assert min(d) - 1e-12 <= weighted <= max(d) + 1e-12
