"""N-grams: overlapping counts, normalization, length masks and the regex_4 trap."""

from __future__ import annotations

import numpy as np
import pytest

from moalign.core.compositional import random_rollout
from moalign.problems import get_problem
from moalign.problems.ngrams import AMINO_ACIDS, count_overlapping, max_overlapping_count


def test_count_overlapping() -> None:
    assert count_overlapping("AAAA", "AA") == 3
    assert count_overlapping("AVAVA", "AVA") == 2
    assert count_overlapping("CVA", "AV") == 0


@pytest.mark.parametrize("gram,length,expect", [("AV", 36, 18), ("AA", 36, 35),
                                                ("AVA", 7, 3), ("AV", 1, 0)])
def test_max_overlapping_count_is_attained(gram: str, length: int, expect: int) -> None:
    assert max_overlapping_count(gram, length) == expect
    if expect:  # a periodic string attains it
        period = len(gram) if gram != "AVA" else 2
        s = (gram[:period] * length)[:length]
        assert count_overlapping(s, gram) == expect


def test_objectives_normalized_to_one_at_best_string() -> None:
    p = get_problem("ngrams")(ngrams=["AV", "VC", "CA"], min_length=32, max_length=36)
    F = p.evaluate(["AV" * 18, "VC" * 18, "CAV" * 12]).F
    assert F[0, 0] == pytest.approx(1.0) and F[1, 1] == pytest.approx(1.0)
    assert F[2].tolist() == pytest.approx([12 / 18, 11 / 18, 12 / 18])
    assert len(AMINO_ACIDS) == 20 and len(p.space.env.vocabulary) == 20


def test_regex4_trap_letter_outside_vocabulary_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in the vocabulary"):
        get_problem("ngrams")(ngrams=["AV", "BZ"])  # B, Z are not amino-acid letters


def test_lengths_count_letters_only_and_stop_is_masked() -> None:
    p = get_problem("ngrams")(ngrams=["AV"], min_length=3, max_length=5)
    env = p.space.env
    s = env.initial_states(1)
    for k in range(5):
        mask = env.forward_mask(s)[0]
        assert mask[env.stop] == (k >= 3)
        assert mask[: env.vocab_size].all()
        s = env.step(s, np.array([0]))
    assert env.forward_mask(s)[0].tolist() == [False] * 20 + [True]
    assert env.to_objects(s) == ["AAAAA"]
    seqs = env.to_objects(random_rollout(env, np.random.default_rng(0), 300))
    lengths = {len(x) for x in seqs}
    assert lengths <= {3, 4, 5} and len(lengths) == 3
    assert env.n_parents(s).tolist() == [1]
    (parent, action), = env.parents(s[0])
    assert action == 0 and env.step(parent[None], np.array([0])).tolist() == s.tolist()
