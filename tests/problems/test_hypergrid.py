"""HyperGrid: environment mechanics, reward normalization and exact Pareto set."""

from __future__ import annotations

import numpy as np
import pytest

from moalign.core.compositional import (
    Compositional,
    random_rollout,
    terminal_distribution,
    transition_table,
)
from moalign.indicators import pareto_mask
from moalign.problems import get_problem
from moalign.problems.hypergrid import HyperGridEnv, beale, branin, currin, hypergrid, shubert


def test_cell_to_x_maps_corners_to_minus_one_and_one() -> None:
    env = HyperGridEnv(height=32)
    assert env.cell_to_x(np.array([[0, 31]])).tolist() == [[-1.0, 1.0]]
    assert env.cell_to_x(np.array([[31, 0]])).tolist() == [[1.0, -1.0]]


def test_branin_normalized_maximum_at_known_minimizer() -> None:
    # Branin's global minimum 0.397887 at (pi, 2.275); mapped back to [-1, 1]^2.
    x = np.array([[((np.pi + 5) / 15 - 0.5) * 2, (2.275 / 15 - 0.5) * 2]])
    assert branin(x)[0] == pytest.approx(1 - 0.397887 / 308.13, abs=1e-7)


def test_currin_closed_form_at_u_1_0() -> None:
    # u = (1, 0): factor 1 - exp(-1e10) = 1, ratio 6352 / 624.
    assert currin(np.array([[1.0, -1.0]]))[0] == pytest.approx(6352 / 624 / 13.77)


def test_beale_closed_form_at_corner() -> None:
    val = (3.5**2 + 2.25**2 + 4.625**2) / 38.8
    assert beale(np.array([[-1.0, -1.0]]))[0] == pytest.approx(val)


@pytest.mark.parametrize("fn", [branin, currin, shubert, beale])
def test_rewards_lie_in_unit_interval_on_a_fine_grid(fn) -> None:
    g = np.linspace(-1, 1, 201)
    X = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    v = fn(X)
    assert v.min() >= -0.01 and v.max() <= 1.01
    assert v.max() - v.min() > 0.5  # not degenerate


def test_env_masks_edges_and_counts_parents() -> None:
    env = HyperGridEnv(height=3, ndim=2)
    s = np.array([[0, 0], [2, 1], [2, 2]])
    assert env.forward_mask(s).tolist() == [[True, True, True], [False, True, True],
                                            [False, False, True]]
    assert env.n_parents(s).tolist() == [0, 2, 2]
    assert [a for _, a in env.parents(np.array([2, 1]))] == [0, 1]
    assert env.step(s[:1], np.array([0])).tolist() == [[1, 0]]
    z = env.features(np.array([[1, 2]]))
    assert z.tolist() == [[0, 1, 0, 0, 0, 1]]


def test_all_states_topological() -> None:
    env = HyperGridEnv(height=4, ndim=2)
    states, mask, child = transition_table(env)
    assert len(states) == 16
    rows, acts = np.nonzero(child >= 0)
    assert np.all(child[rows, acts] > rows)


def test_uniform_policy_terminal_distribution_closed_form_2x2() -> None:
    # From (0,0): 1/3 each; (1,0) and (0,1): stop or move, 1/2 each; (1,1): stop only.
    env = HyperGridEnv(height=2, ndim=2)
    states, mask, child = transition_table(env)
    probs = (mask / mask.sum(1, keepdims=True))[None]
    P = terminal_distribution(child, probs, env.stop)[0]
    expect = {(0, 0): 1 / 3, (0, 1): 1 / 6, (1, 0): 1 / 6, (1, 1): 1 / 3}
    for s, p in zip(states, P, strict=True):
        assert p == pytest.approx(expect[tuple(s)])


def test_dp_matches_monte_carlo_of_random_rollouts() -> None:
    env = HyperGridEnv(height=4, ndim=2)
    states, mask, child = transition_table(env)
    P = terminal_distribution(child, (mask / mask.sum(1, keepdims=True))[None], env.stop)[0]
    assert P.sum() == pytest.approx(1.0)
    final = random_rollout(env, np.random.default_rng(0), 40000)
    idx = final[:, 0] * 4 + final[:, 1]
    freq = np.bincount(idx, minlength=16) / len(idx)
    se = np.sqrt(P * (1 - P) / len(idx))
    assert np.all(np.abs(freq - P) < 5 * se + 1e-9)


def test_problem_registered_with_exact_front() -> None:
    p = get_problem("hypergrid")(height=16, objectives=["branin", "currin", "beale"])
    assert isinstance(p.space, Compositional) and p.n_obj == 3
    cells = p.space.env.all_states()
    F = p.evaluate(cells).F
    front = p.pareto_front()
    assert np.allclose(np.sort(front, 0), np.sort(F[pareto_mask(F, maximize=True)], 0))
    assert np.allclose(p.ideal, F.max(0))
    assert p.reference_point().tolist() == [0.0, 0.0, 0.0]
    assert p.space.sample(np.random.default_rng(0), 5).shape == (5, 2)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="2-D"):
        hypergrid(ndim=3)
    with pytest.raises(ValueError, match="objectives"):
        hypergrid(objectives=["branin", "rosenbrock"])
