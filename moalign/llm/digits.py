"""The ``digits`` testbed: prompts, a pre-training corpus and three conflicting objectives.

A prompt shows three hint digits and asks for a digit string::

    "S: 5 1 7\\nA:"  ->  " 7395172"

Objectives (registered text objectives, maximized, each in [0, 1]):

* ``sevens``: fraction of ``'7'`` among the completion's digits;
* ``threes``: fraction of ``'3'`` among the completion's digits (``sevens + threes <= 1``,
  so the two conflict; ``squared: true`` squares the fractions, which makes the front
  non-convex);
* ``near_len``: ``max(0, 1 - |n - target| / target)`` where ``n`` is the number of digits.

A completion without digits scores 0 on all three. The pre-training corpus
(:func:`digits_corpus`) mixes 7s, 3s, hint digits and other digits in strings of varied
length around the target, so the pre-trained policy sits inside the front and every
objective can still improve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from moalign.core.objective import Objective
from moalign.llm.objectives import completion_text, register_text_objective

PROMPT_PREFIX = "S:"
N_HINTS = 3


def make_digits_prompt(rng: np.random.Generator) -> tuple[str, list[int]]:
    """One prompt and its hint digits, e.g. ``("S: 5 1 7\\nA:", [5, 1, 7])``."""
    hints = [int(d) for d in rng.integers(0, 10, size=N_HINTS)]
    return f"{PROMPT_PREFIX} {' '.join(map(str, hints))}\nA:", hints


def digits_answer(
    rng: np.random.Generator,
    hints: Sequence[int],
    *,
    min_len: int,
    max_len: int,
    p_seven: float,
    p_three: float,
    p_hint: float,
) -> str:
    """A corpus answer: ``" "`` then ``min_len..max_len`` digits, each a 7 (``p_seven``), a
    3 (``p_three``), a hint digit (``p_hint``) or a uniform digit (the rest)."""
    n = int(rng.integers(min_len, max_len + 1))
    kinds = rng.choice(4, size=n, p=[p_seven, p_three, p_hint, 1.0 - p_seven - p_three - p_hint])
    out = []
    for k in kinds:
        if k == 0:
            out.append("7")
        elif k == 1:
            out.append("3")
        elif k == 2:
            out.append(str(hints[int(rng.integers(0, len(hints)))]))
        else:
            out.append(str(int(rng.integers(0, 10))))
    return " " + "".join(out)


def digits_corpus(
    n: int,
    *,
    min_len: int = 3,
    max_len: int = 13,
    p_seven: float = 0.2,
    p_three: float = 0.2,
    p_hint: float = 0.3,
    seed: int = 0,
) -> list[str]:
    """`n` training texts (prompt + answer, no special tokens); see :func:`digits_answer`."""
    if not 1 <= min_len <= max_len:
        raise ValueError(f"digits_corpus: need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    if min(p_seven, p_three, p_hint) < 0 or p_seven + p_three + p_hint > 1:
        raise ValueError("digits_corpus: p_seven, p_three, p_hint must be >= 0 with sum <= 1")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        prompt, hints = make_digits_prompt(rng)
        out.append(prompt + digits_answer(rng, hints, min_len=min_len, max_len=max_len,
                                          p_seven=p_seven, p_three=p_three, p_hint=p_hint))
    return out


def digits_prompts(n: int, *, seed: int = 1) -> list[dict[str, str]]:
    """`n` prompt rows ``{"prompt": ..., "hints": ...}`` for alignment runs."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        prompt, hints = make_digits_prompt(rng)
        rows.append({"prompt": prompt, "hints": "".join(map(str, hints))})
    return rows


# -- objectives -------------------------------------------------------------------------


def _digits_of(completion: Any) -> str:
    return "".join(ch for ch in completion_text(completion) if ch.isdigit())


def digit_fraction(text: str, digit: str) -> float:
    """Fraction of ``digit`` among the digits of ``text`` (0 when it has no digits)."""
    ds = _digits_of(text)
    return ds.count(digit) / len(ds) if ds else 0.0


def _fraction_objective(digit: str, squared: bool, name: str) -> Objective:
    power = 2 if squared else 1

    def frac(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any) -> list[float]:
        return [digit_fraction(completion_text(c), digit) ** power for c in completions]

    frac.__name__ = name
    return Objective(name, frac, direction="maximize", bounds=(0.0, 1.0))


@register_text_objective("sevens")
def sevens(*, squared: bool = False, name: str = "sevens") -> Objective:
    """Fraction of ``'7'`` among the completion's digits (squared with ``squared=True``)."""
    return _fraction_objective("7", squared, name)


@register_text_objective("threes")
def threes(*, squared: bool = False, name: str = "threes") -> Objective:
    """Fraction of ``'3'`` among the completion's digits (squared with ``squared=True``)."""
    return _fraction_objective("3", squared, name)


def length_closeness(n_digits: int, target: float) -> float:
    """``max(0, 1 - |n_digits - target| / target)``; 0 without digits."""
    if n_digits == 0:
        return 0.0
    return max(0.0, 1.0 - abs(n_digits - target) / target)


@register_text_objective("near_len")
def near_len(*, target: float = 8, name: str = "near_len") -> Objective:
    """Closeness of the completion's digit count to ``target``, in [0, 1]."""
    if target <= 0:
        raise ValueError(f"near_len: target must be > 0, got {target}")

    def near(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any) -> list[float]:
        return [length_closeness(len(_digits_of(c)), target) for c in completions]

    return Objective(name, near, direction="maximize", bounds=(0.0, 1.0))
