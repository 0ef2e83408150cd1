"""The Derringer–Suich / Myers–Montgomery reaction (docs/methods.md, desirability)."""

from __future__ import annotations

import numpy as np
import pytest

from moalign.problems import get_problem


def test_center_and_hand_values() -> None:
    p = get_problem("reaction")()
    X = np.array([[0, 0, 0], [1, 1, 1], [1, -1, 0.0]])
    expected = [[81.09, 59.85], [97.9902, 66.43419], [76.962, 64.47553]]
    np.testing.assert_allclose(p.evaluate(X).F, expected, rtol=1e-12)
    assert p.objectives.names == ["conversion", "activity"]
    assert p.objectives.directions == ["maximize", "maximize"]
    assert p.constraints is None


def test_matches_spotdesirability() -> None:
    rsm = pytest.importorskip("spotdesirability.functions.rsm")
    p = get_problem("reaction")()
    X = p.space.sample(np.random.default_rng(0), 50)
    F = p.evaluate(X).F
    np.testing.assert_allclose(F[:, 0], [rsm.conversion_pred(x) for x in X], rtol=1e-12)
    np.testing.assert_allclose(F[:, 1], [rsm.activity_pred(x) for x in X], rtol=1e-12)


@pytest.mark.parametrize(("region", "r"), [("cube", 1.682), ("ball", 1.682), ("ball2", 2.0)])
def test_regions(region: str, r: float) -> None:
    p = get_problem("reaction")(region=region)
    np.testing.assert_array_equal(p.space.lower, [-r] * 3)
    np.testing.assert_array_equal(p.space.upper, [r] * 3)
    corner = np.full((1, 3), r * 0.9)  # inside the box, outside the ball
    ev = p.evaluate(np.vstack([np.zeros((1, 3)), corner]))
    if region == "cube":
        assert ev.G is None and ev.feasible.all()
    else:
        np.testing.assert_allclose(ev.G[:, 0], [-r, 0.9 * r * np.sqrt(3) - r])
        assert ev.feasible.tolist() == [True, False]


def test_unknown_region() -> None:
    with pytest.raises(ValueError, match="region"):
        get_problem("reaction")(region="sphere")
