"""CGPO's rules: calibrated and CRPG rewards, CODPO pairs and loss, CRRAFT selection,
multi-task mixing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moalign.llm.cgpo import (
    calibrated_reward,
    center_by_prompt,
    codpo_loss_terms,
    codpo_pair,
    codpo_pairs,
    crpg_reward,
    crraft_select,
    mix_tasks,
    task_weights,
)


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_calibrated_reward_is_sigmoid_of_the_difference():
    r, rb = np.array([0.3, -2.0, 5.0]), np.array([1.0, -2.5, 5.0])
    assert np.allclose(calibrated_reward(r, rb), [sig(-0.7), sig(0.5), 0.5])
    assert calibrated_reward(800.0, -800.0) == 1.0 and calibrated_reward(-800.0, 800.0) == 0.0


def test_crpg_reward_equals_the_formula_on_hand_made_values():
    J = [1, 1, 0, -1, 1, 1]
    r = [2.0, -1.0, 3.0, 3.0, 0.5, 0.5]
    rb = [1.0, 0.0, 0.0, 0.0, 0.5, 0.5]
    kl = [0.5, 0.0, 0.0, 0.0, 2.0, 3.0]
    want = [sig(1.0) * 0.75, sig(-1.0), 0.0, 0.0, 0.5 * 0.0, 0.0]  # kl=3 > kl_max: 0, not <0
    got = crpg_reward(J, r, rb, kl, kl_max=2.0)
    assert np.allclose(got, want, atol=1e-12) and np.all(got >= 0)
    R = np.array([[0.2, 0.4, 0.0], [1.0, 1.0, 1.0]])
    assert np.allclose(center_by_prompt(R), [[0.0, 0.2, -0.2], [0, 0, 0]])
    assert np.allclose(center_by_prompt([1.0, 5.0, 3.0, 7.0], groups=["a", "b", "a", "b"]),
                       [-1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="verdicts"):
        crpg_reward([2], [1.0], 0.0, [0.0], 1.0)
    with pytest.raises(ValueError, match="kl_max"):
        crpg_reward([1], [1.0], 0.0, [0.0], 0.0)


def test_codpo_pairs_chosen_best_passing_rejected_worst_failing():
    J = np.array([[1, 0, 1, 0], [1, 1, 1, 1], [0, -1, 0, 0], [1, 1, 1, -1], [1, 0, 0, 0]])
    r = np.array([[1.0, 9.0, 2.0, -5.0], [3.0, 1.0, 2.0, 5.0], [1.0, 2.0, 3.0, 4.0],
                  [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, -1.0]])
    assert codpo_pairs(J, r) == [(2, 3), (3, 1), None, (2, 3), (0, 3)]
    # -1 is a failing sample (row 4: rejected although it has the best reward)
    assert codpo_pair([1], [1.0]) is None  # one passing sample, nothing to reject
    assert codpo_pair([1, 1], [1.0, 1.0]) == (0, 1)  # ties: lower index chosen
    assert codpo_pair([1, 0, 1], [np.nan, 0.0, 1.0]) == (2, 1)  # NaN rewards left out
    ragged = codpo_pairs([[1, 0], [0, 0, 1]], [[0.0, 1.0], [1.0, 2.0, 0.5]])
    assert ragged == [(0, 1), (2, 0)]


def test_codpo_pairs_with_negative_rewards_unlike_trl_pr_2190():
    J = np.array([1, 0, 1, 0])
    r = np.array([-3.0, -0.5, -1.0, -4.0])
    # the buggy rule of TRL PR #2190: argmax(J*r) picks a violating sample (J*r = 0 beats
    # every negative passing reward), argmin((1-J)*r) picks a violating one by luck only
    assert int(np.argmax(J * r)) == 1 and J[int(np.argmax(J * r))] == 0
    assert codpo_pair(J, r) == (2, 3)
    # all rewards negative and all passing: rejected is the worst passing sample
    assert codpo_pair([1, 1, 1], [-2.0, -1.0, -7.0]) == (1, 2)
    # failing samples with positive rewards: (1-J)*r argmin would pick a passing sample
    Jb, rb = np.array([1, 0, 0]), np.array([-1.0, 2.0, 3.0])
    assert Jb[int(np.argmin((1 - Jb) * rb))] == 1  # PR #2190 rejects the passing sample
    assert codpo_pair(Jb, rb) == (0, 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-1, 0, 1]),
                          st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=8))
def test_codpo_pair_properties(samples):
    J = np.array([s[0] for s in samples])
    r = np.array([s[1] for s in samples])
    pair = codpo_pair(J, r)
    good = J == 1
    if not good.any() or (good.sum() == 1 and good.all()):
        assert pair is None
        return
    assert pair is not None
    c, rej = pair
    assert J[c] == 1 and r[c] == r[good].max() and c != rej
    if (~good).any():
        assert J[rej] != 1 and r[rej] == r[~good].min()
    else:
        assert r[rej] == np.delete(r, c).min()


def test_codpo_loss_terms_formula():
    lc, lr, rc, rr, n = np.array([-2.0, -10.0]), np.array([-4.0, -1.0]), \
        np.array([-3.0, -9.0]), np.array([-3.0, -2.0]), np.array([2, 5])
    t = codpo_loss_terms(lc, lr, rc, rr, n)
    m = 0.1 * ((lc - rc) - (lr - rr))
    dpo = -np.log(1 / (1 + np.exp(-m)))
    assert np.allclose(t["dpo"], dpo) and np.allclose(t["nll"], [1.0, 2.0])
    assert np.allclose(t["loss"], dpo + 5.0 * np.array([1.0, 2.0]))
    t2 = codpo_loss_terms(lc, lr, rc, rr, n, beta=1.0, lam=0.0)
    assert np.allclose(t2["loss"], t2["dpo"])
    big = codpo_loss_terms([0.0], [-1e5], [0.0], [0.0], [1], beta=1.0)
    assert np.isfinite(big["dpo"]).all() and big["dpo"][0] == 0.0
    with pytest.raises(ValueError, match="lengths"):
        codpo_loss_terms([0.0], [0.0], [0.0], [0.0], [0])


def test_crraft_selection_and_fallback():
    # best passing within the KL budget: sample 1 has a higher reward but is over budget
    assert crraft_select([1, 1, 1, 0], [1.0, 5.0, 2.0, 9.0], [0.1, 1.5, 1.0, 0.0],
                         kl_max=1.0, baseline_pass=True) == (2, 1.0)
    idx, w = crraft_select([1, 1], [-3.0, -1.0], [0.0, 0.0], 1.0, False, r_base=-2.0)
    assert idx == 1 and w == pytest.approx(sig(1.0))  # weight sigma(r - r_base)
    # nothing qualifies: the baseline at weight 1/2 if it passes, else nothing
    assert crraft_select([0, -1, 1], [1.0, 2.0, 3.0], [0.0, 0.0, 9.0], 1.0,
                         baseline_pass=True) == ("baseline", 0.5)
    assert crraft_select([0, -1], [1.0, 2.0], [0.0, 0.0], 1.0, baseline_pass=1) == (
        "baseline", 0.5)
    assert crraft_select([0, -1], [1.0, 2.0], [0.0, 0.0], 1.0, baseline_pass=-1) == (None, 0.0)
    assert crraft_select([0], [1.0], [0.0], 1.0, baseline_pass=False) == (None, 0.0)
    assert crraft_select([1], [1.0], [1.0], 1.0, baseline_pass=False) == (0, 1.0)  # KL == max
    with pytest.raises(ValueError):
        crraft_select([1, 1], [1.0], [0.0, 0.0], 1.0, True)


def test_mix_tasks_respects_normalized_weights():
    assert mix_tasks({"a": 2.0, "b": 4.0}, {"a": 1.0, "b": 3.0}) == pytest.approx(3.5)
    assert mix_tasks([2.0, 4.0], [2, 2]) == pytest.approx(3.0)
    arr = mix_tasks({"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}, {"a": 1, "b": 0})
    assert arr.tolist() == [1.0, 0.0]
    assert task_weights({"x": 1, "y": 3}) == {"x": 0.25, "y": 0.75}
    torch = pytest.importorskip("torch")
    t = mix_tasks([torch.tensor(1.0, requires_grad=True), torch.tensor(3.0)], [1.0, 1.0])
    assert float(t.detach()) == 2.0 and t.requires_grad
    with pytest.raises(ValueError, match=">= 0"):
        mix_tasks([1.0, 2.0], [1.0, -0.5])
    with pytest.raises(ValueError, match="> 0"):
        mix_tasks([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=">= 0"):
        task_weights({"a": float("nan")})
    with pytest.raises(ValueError, match="differ"):
        mix_tasks({"a": 1.0}, {"b": 1.0})
    with pytest.raises(ValueError, match="updates"):
        mix_tasks([1.0], [1.0, 1.0])
