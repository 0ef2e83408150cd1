import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from moalign.scalarize import (
    SCALARIZERS,
    dirichlet,
    get_scalarizer,
    inverse_weighted_tchebycheff,
    linear,
    pbi,
    simplex_grid,
    smooth_tchebycheff,
    weighted_tchebycheff,
    worst_case,
)

WEIGHTED = SCALARIZERS.names()


@pytest.mark.parametrize("name", WEIGHTED)
def test_numpy_and_torch_agree(name):
    rng = np.random.default_rng(0)
    F, w, z = rng.random((7, 3)), dirichlet(rng, 7, 3), np.zeros(3)
    fn = get_scalarizer(name)
    args = (w,) if name == "linear" else (w, z)
    out_np = fn(F, *args)
    F_t = torch.tensor(F, requires_grad=True)
    out_t = fn(F_t, *args)
    np.testing.assert_allclose(out_t.detach().numpy(), out_np, rtol=1e-10)
    out_t.sum().backward()
    assert F_t.grad is not None and torch.isfinite(F_t.grad).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(WEIGHTED))
def test_monotone_in_each_objective(seed, name):
    """Making one objective worse never makes the scalarized value better."""
    rng = np.random.default_rng(seed)
    F = rng.random(3)
    w = dirichlet(rng, 1, 3)[0] + 0.05
    fn = get_scalarizer(name)
    args = (w,) if name == "linear" else (w, np.zeros(3))
    worse = F.copy()
    worse[rng.integers(3)] += 0.1
    if name == "pbi":  # PBI is monotone only along the weight direction
        worse = F + 0.1 * w
    assert fn(worse, *args) >= fn(F, *args) - 1e-12


def test_one_hot_weights_recover_one_objective():
    F = np.array([[0.3, 0.9, 0.5]])
    for i in range(3):
        w = np.eye(3)[i]
        assert linear(F, w)[0] == F[0, i]
        assert weighted_tchebycheff(F, w, np.zeros(3))[0] == F[0, i]


def test_inverse_tchebycheff_optimum_lies_on_the_weight_ray():
    """On the front f2 = 1 - f1, argmin max_i f_i / w_i is the point where f ∝ w."""
    t = np.linspace(0, 1, 100001)
    F = np.stack([t, 1 - t], axis=1)
    w = np.array([0.25, 0.75])
    best = F[np.argmin(inverse_weighted_tchebycheff(F, w, np.zeros(2)))]
    np.testing.assert_allclose(best / best.sum(), w, atol=1e-4)


def test_smooth_tchebycheff_bounds():
    rng = np.random.default_rng(3)
    F, w = rng.random((50, 4)), dirichlet(rng, 50, 4)
    tch = weighted_tchebycheff(F, w, np.zeros(4))
    smooth = smooth_tchebycheff(F, w, np.zeros(4), mu=0.05)
    assert (smooth >= tch - 1e-12).all() and (smooth <= tch + 0.05 * np.log(4) + 1e-12).all()


def test_pbi_on_the_ray_has_no_penalty_and_worst_case_is_max():
    w = np.array([0.6, 0.8])
    assert pbi(2 * w, w, np.zeros(2)) == pytest.approx(2.0)
    assert worst_case(np.array([[0.1, 0.7, 0.3]]))[0] == 0.7


def test_preferences():
    G = simplex_grid(3, 4)
    assert G.shape == (15, 3) and np.allclose(G.sum(axis=1), 1) and (G >= 0).all()
    D = dirichlet(np.random.default_rng(0), 100, 4, alpha=1.5)
    assert np.allclose(D.sum(axis=1), 1)
    with pytest.raises(ValueError, match="unknown scalarizer 'foo'; valid names: augmented"):
        get_scalarizer("foo")
