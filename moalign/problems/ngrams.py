"""N-grams: sequences rewarded for containing given n-grams (registered as ``ngrams``).

The synthetic sequence task of Jain et al., "Multi-Objective GFlowNets" (ICML 2023) and
Stanton et al. (2022): strings over a vocabulary of 20 letters, one objective per n-gram,
``f_i(x) = overlapping_count(x, g_i) / c_i`` (maximized), where the normalizer `c_i` is the
largest count possible at the maximum length, so every objective lies in ``[0, 1]``:
for an n-gram of length `k` with smallest period `p` (``g[j] == g[j + p]``), at most
``floor((L_max - k) / p) + 1`` overlapping occurrences fit in ``L_max`` letters.

Traps handled:

- An n-gram with a letter outside the vocabulary can never occur (the reference config
  ``regex_4.yaml`` has one: its objective is identically 0). Such n-grams are rejected with
  an error naming the letter instead of silently giving a constant objective.
- Lengths count vocabulary letters only: no BOS/EOS token is counted, and the generator's
  stop action is masked while the length is below ``min_length`` and forced at
  ``max_length`` (both inclusive).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moalign.core.compositional import AutoregressiveEnv, Compositional
from moalign.core.objective import Objective
from moalign.core.problem import Problem
from moalign.problems.registry import register_problem

AMINO_ACIDS = "ARNDCQEGHILKMFPSTWYV"


def count_overlapping(text: str, gram: str) -> int:
    """Number of (possibly overlapping) occurrences of ``gram`` in ``text``.

    Example:
        >>> count_overlapping("AAAA", "AA")
        3
    """
    k = len(gram)
    return sum(1 for i in range(len(text) - k + 1) if text[i : i + k] == gram)


def max_overlapping_count(gram: str, length: int) -> int:
    """The largest overlapping count of ``gram`` in a string of ``length`` letters.

    Example:
        >>> max_overlapping_count("AV", 36), max_overlapping_count("AA", 36)
        (18, 35)
    """
    k = len(gram)
    if length < k:
        return 0
    period = next(p for p in range(1, k + 1) if all(
        gram[j] == gram[j + p] for j in range(k - p)))
    return (length - k) // period + 1


class NGramsEnv(AutoregressiveEnv):
    """Left-to-right strings over ``vocabulary``; terminal objects are ``str``."""

    def __init__(self, vocabulary: str, min_length: int, max_length: int) -> None:
        super().__init__(len(vocabulary), min_length, max_length)
        self.vocabulary = vocabulary

    def to_objects(self, states: np.ndarray) -> list[str]:
        voc = self.vocabulary
        return ["".join(voc[t] for t in s[1 : 1 + s[0]]) for s in states]

    def sample_objects(self, rng: np.random.Generator, n: int) -> list[str]:
        """`n` strings with a uniform length in the range and uniform letters."""
        lengths = rng.integers(self.min_length, self.max_length + 1, size=n)
        voc = np.array(list(self.vocabulary))
        return ["".join(voc[rng.integers(0, len(voc), size=k)]) for k in lengths]


def _ngram_objective(gram: str, normalizer: float) -> Objective:
    def reward(seqs: Sequence[str]) -> np.ndarray:
        return np.array([count_overlapping(s, gram) / normalizer for s in seqs])

    return Objective(f"count_{gram}", reward, direction="maximize", ref=0.0, bounds=(0.0, 1.0))


@register_problem("ngrams")
def ngrams(
    ngrams: Sequence[str] = ("AV", "VC", "CA"),
    vocabulary: str = AMINO_ACIDS,
    min_length: int = 32,
    max_length: int = 36,
) -> Problem:
    """The N-grams problem.

    Args:
        ngrams: the n-grams, one objective each.
        vocabulary: the letters (20 amino-acid letters by default).
        min_length: shortest sequence (letters, inclusive).
        max_length: longest sequence (letters, inclusive).

    Raises:
        ValueError: an n-gram is empty, repeated, longer than ``max_length`` or uses a
            letter outside the vocabulary.

    Example:
        >>> p = ngrams(["AV", "VC"], min_length=4, max_length=6)
        >>> p.evaluate(["AVAVC"]).F.tolist()
        [[0.6666666666666666, 0.3333333333333333]]
    """
    grams = [str(g) for g in ngrams]
    if not grams or len(set(grams)) != len(grams) or any(not g for g in grams):
        raise ValueError(f"ngrams: need distinct non-empty n-grams, got {grams}")
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError("ngrams: the vocabulary has repeated letters")
    for g in grams:
        bad = sorted(set(g) - set(vocabulary))
        if bad:
            raise ValueError(f"ngrams: n-gram {g!r} uses {bad}, not in the vocabulary "
                             f"{vocabulary!r}; its count would always be 0")
        if len(g) > max_length:
            raise ValueError(f"ngrams: n-gram {g!r} is longer than max_length={max_length}")
    env = NGramsEnv(vocabulary, min_length, max_length)
    objs = [_ngram_objective(g, max_overlapping_count(g, max_length)) for g in grams]
    return Problem(Compositional(env), objs, ref_point=np.zeros(len(objs)),
                   ideal=np.ones(len(objs)), name=f"ngrams_{'_'.join(grams)}")
