"""Text objectives on TRL's reward signature ``fn(prompts, completions, **kw) -> list``.

Every objective here is a :class:`moalign.core.Objective` whose ``fn`` has TRL's reward
signature, so it is both a moalign objective (``obj(prompts=..., completions=...)`` gives a
float array with NaN where it failed) and, through :func:`as_reward_func`, a TRL reward
function (a list of ``float | None``, never raising, maximized). Conversely any TRL reward
function is an objective: ``Objective("acc", trl_fn, direction="maximize")``.

Built-ins (registered in ``TEXT_OBJECTIVES``): ``length``, ``regex``, ``keywords``, ``repetition``,
``exact_answer``, ``reward_model``; :func:`normalized` wraps any objective with a running
z-score or a bounds rescaling. Objectives with running statistics (``length`` below the
running mean, running normalization) expose :class:`RunningStats` whose updates can be
frozen during validation (:func:`frozen_stats`).

Example:
    >>> acc = exact_answer()
    >>> acc(prompts=["Q: 1+1=?\\nA:"], completions=[" #### 2"], answer=["2"]).tolist()
    [1.0]
    >>> rf = as_reward_func(acc)
    >>> rf(prompts=["p"], completions=["no number"], answer=["2"])
    [0.0]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from moalign.core.objective import Direction, Objective
from moalign.core.registry import Registry

TEXT_OBJECTIVES: Registry[Callable[..., Objective]] = Registry(
    "text objective", "moalign.text_objectives")
register_text_objective = TEXT_OBJECTIVES.register

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def completion_text(c: Any) -> str:
    """The text of a completion: a string, or the last message's content of a chat turn."""
    if isinstance(c, str):
        return c
    if isinstance(c, list | tuple) and c and isinstance(c[-1], dict):
        return "".join(str(m.get("content", "")) for m in c if m.get("role") == "assistant") \
            or str(c[-1].get("content", ""))
    if isinstance(c, dict):
        return str(c.get("content", ""))
    return str(c)


def prompt_text(p: Any) -> str:
    """The text of a prompt (a string, or chat messages joined)."""
    if isinstance(p, str):
        return p
    if isinstance(p, list | tuple):
        return "\n".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in p)
    return str(p)


class RunningStats:
    """Running mean/variance (Welford) whose updates can be switched off.

    Attributes:
        count, mean, m2: the statistics.
        update: when False, :meth:`push` leaves the statistics unchanged.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.update = True

    def push(self, values: Iterable[float]) -> None:
        if not self.update:
            return
        for v in values:
            if not math.isfinite(v):
                continue
            self.count += 1
            d = v - self.mean
            self.mean += d / self.count
            self.m2 += d * (v - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0

    def state_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean": self.mean, "m2": self.m2}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.count, self.mean, self.m2 = int(state["count"]), state["mean"], state["m2"]


def running_stats(objective: Objective) -> list[RunningStats]:
    """The :class:`RunningStats` of an objective built here (wrappers included)."""
    out: list[RunningStats] = []
    fn: Any = objective.fn
    while fn is not None:
        if isinstance(getattr(fn, "stats", None), RunningStats):
            out.append(fn.stats)
        inner = getattr(fn, "inner", None)
        fn = inner.fn if isinstance(inner, Objective) else None
    return out


def is_running_conciseness(objective: Objective) -> bool:
    """Whether ``objective`` is (or wraps) the conciseness indicator
    ``length(below="running_mean")``."""
    fn: Any = objective.fn
    while fn is not None:
        if isinstance(fn, _Length) and fn.below == "running_mean":
            return True
        inner = getattr(fn, "inner", None)
        fn = inner.fn if isinstance(inner, Objective) else None
    return False


@contextmanager
def frozen_stats(objectives: Iterable[Objective]) -> Iterator[None]:
    """Within the block, running statistics of ``objectives`` are read but not updated."""
    stats = [s for o in objectives for s in running_stats(o)]
    old = [s.update for s in stats]
    for s in stats:
        s.update = False
    try:
        yield
    finally:
        for s, u in zip(stats, old, strict=True):
            s.update = u


# -- TRL adapter ------------------------------------------------------------------------


class RewardFunc:
    """An :class:`Objective` as a TRL reward function.

    Calls the objective with TRL's keyword arguments and returns ``list[float | None]``
    oriented for maximization (minimized objectives are negated). It never raises: a batch
    that fails becomes all ``None`` and ``n_failed`` counts the ``None`` values, since TRL
    stops training on a raising reward function. The last batch is kept in ``last`` for
    solvers that reuse the rollouts (gradient-based weighting).

    Attributes:
        objective: the wrapped objective.
        n_calls, n_values, n_failed: counters.
        last: the last call's kwargs and values (``prompts``, ``completions``,
            ``completion_ids``, ``values`` in user orientation).
    """

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.__name__ = objective.name
        self.n_calls = 0
        self.n_values = 0
        self.n_failed = 0
        self.last: dict[str, Any] = {}
        self.on_call: Callable[[RewardFunc], None] | None = None

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kw: Any
                 ) -> list[float | None]:
        n = len(completions)
        try:
            values = np.asarray(self.objective(prompts=prompts, completions=completions, **kw),
                                dtype=np.float64).reshape(-1)
            if values.shape[0] != n:
                raise ValueError(f"{self.__name__}: {values.shape[0]} values for {n} completions")
        except Exception:
            values = np.full(n, np.nan)
        self.n_calls += 1
        self.n_values += n
        self.n_failed += int(np.sum(~np.isfinite(values)))
        self.last = {"prompts": list(prompts), "completions": list(completions),
                     "completion_ids": kw.get("completion_ids"), "values": values}
        if self.on_call is not None:
            self.on_call(self)
        oriented = -values if self.objective.direction == "minimize" else values
        return [float(v) if math.isfinite(v) else None for v in oriented]


def as_reward_func(objective: Objective | Callable[..., Any]) -> RewardFunc:
    """Wrap an objective (or a TRL-signature callable, taken as maximized) for TRL."""
    if not isinstance(objective, Objective):
        name = getattr(objective, "__name__", type(objective).__name__)
        objective = Objective(name, objective, direction="maximize")
    return RewardFunc(objective)


# -- built-ins --------------------------------------------------------------------------


def _texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]


class _Length:
    """Length reward: ``-|len - target|``, or ``1[len < running mean]`` (conciseness)."""

    def __init__(self, target: float | None, below: float | str | None, unit: str) -> None:
        self.target, self.below, self.unit = target, below, unit
        self.stats = RunningStats()
        self.__name__ = "length"

    def _len(self, text: str) -> float:
        return float(len(text.split()) if self.unit == "words" else len(text))

    def __call__(self, prompts: Any = None, completions: Sequence[Any] = (), **kw: Any
                 ) -> list[float]:
        lens = [self._len(t) for t in _texts(completions)]
        if self.target is not None:
            return [-abs(v - self.target) for v in lens]
        if self.below is None:
            return lens
        if self.below == "running_mean":
            # compare with the mean of earlier batches (this batch's own mean at first)
            ref = self.stats.mean if self.stats.count else float(np.mean(lens)) if lens else 0.0
            self.stats.push(lens)
        else:
            ref = float(self.below)
        return [1.0 if v < ref else 0.0 for v in lens]


@register_text_objective("length")
def length(
    *, target: float | None = None, below: float | str | None = None, unit: str = "chars",
    name: str = "length",
) -> Objective:
    """Completion length.

    Args:
        target: if set, the reward is ``-|len - target|`` (maximize).
        below: ``"running_mean"`` (conciseness of Lu et al., 2025: 1 if shorter than the
            running mean length of training completions, else 0) or a number (1 if shorter).
        unit: ``"chars"`` or ``"words"``.
        name: objective name.

    Without ``target`` or ``below`` the objective is the raw length, minimized.
    """
    if unit not in ("chars", "words"):
        raise ValueError(f"length: unit must be 'chars' or 'words', got {unit!r}")
    if target is not None and below is not None:
        raise ValueError("length: set target or below, not both")
    if isinstance(below, str) and below != "running_mean":
        raise ValueError(f"length: below must be a number or 'running_mean', got {below!r}")
    direction: Direction = "minimize" if target is None and below is None else "maximize"
    return Objective(name, _Length(target, below, unit), direction=direction)


@register_text_objective("regex")
def regex(pattern: str, *, mode: str = "search", name: str = "format") -> Objective:
    """1 if the completion matches ``pattern`` (``mode``: search | match | fullmatch), else 0."""
    if mode not in ("search", "match", "fullmatch"):
        raise ValueError(f"regex: mode must be search, match or fullmatch, got {mode!r}")
    rx = re.compile(pattern, re.DOTALL)
    test = getattr(rx, mode)

    def fmt(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any) -> list[float]:
        return [1.0 if test(t) else 0.0 for t in _texts(completions)]

    return Objective(name, fmt, direction="maximize", bounds=(0.0, 1.0))


@register_text_objective("keywords")
def keywords(
    words: Sequence[str], *, present: bool = True, case_sensitive: bool = False,
    name: str = "keywords",
) -> Objective:
    """Fraction of ``words`` present in the completion (or absent, with ``present=False``)."""
    if not words:
        raise ValueError("keywords: give at least one word")
    ws = list(words) if case_sensitive else [w.lower() for w in words]

    def kw_fn(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any) -> list[float]:
        out = []
        for t in _texts(completions):
            t = t if case_sensitive else t.lower()
            frac = sum(w in t for w in ws) / len(ws)
            out.append(frac if present else 1.0 - frac)
        return out

    return Objective(name, kw_fn, direction="maximize", bounds=(0.0, 1.0))


@register_text_objective("repetition")
def repetition(*, n: int = 3, unit: str = "words", name: str = "repetition") -> Objective:
    """Fraction of repeated `n`-grams, ``1 - distinct/total`` (minimize; 0 if too short)."""
    if n < 1:
        raise ValueError("repetition: n must be >= 1")

    def rep(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any) -> list[float]:
        out = []
        for t in _texts(completions):
            toks: list[str] = t.split() if unit == "words" else list(t)
            grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
            out.append(1.0 - len(set(grams)) / len(grams) if grams else 0.0)
        return out

    return Objective(name, rep, direction="minimize", bounds=(0.0, 1.0))


def extract_answer(text: str, how: str = "last_number") -> str | None:
    """The answer in a completion: ``last_number``, ``after:<marker>`` or a regex group 1."""
    if how == "last_number":
        nums = _NUMBER.findall(text)
        return nums[-1] if nums else None
    if how.startswith("after:"):
        marker = how[len("after:"):]
        if marker not in text:
            return None
        return text.rsplit(marker, 1)[1].strip().split("\n")[0].strip() or None
    m = re.search(how, text)
    return m.group(1) if m else None


def _same(a: str, b: str) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-9)
    except ValueError:
        return a.strip() == b.strip()


@register_text_objective("exact_answer")
def exact_answer(
    *, column: str = "answer", extract: str = "last_number", name: str = "accuracy"
) -> Objective:
    """1 if the completion's answer equals the prompt's ``column`` value, else 0.

    The dataset column arrives as a keyword list (TRL passes dataset columns to reward
    functions). A reference that is not a bare number (GSM8K's ``"... #### 72"``) is read
    with the same ``extract`` rule. Rows without a reference answer give None (NaN).
    """

    def acc(prompts: Any = None, completions: Sequence[Any] = (), **kw: Any
            ) -> list[float | None]:
        answers = kw.get(column)
        if answers is None:
            raise KeyError(f"exact_answer: the batch has no {column!r} column")
        out: list[float | None] = []
        for t, ref in zip(_texts(completions), answers, strict=True):
            if ref is None:
                out.append(None)
                continue
            want = str(ref).strip()
            if not _NUMBER.fullmatch(want):  # e.g. GSM8K's "reasoning ... #### 72"
                want = extract_answer(want, extract) or want
            got = extract_answer(t, extract)
            out.append(1.0 if got is not None and _same(got, want) else 0.0)
        return out

    return Objective(name, acc, direction="maximize", bounds=(0.0, 1.0))


class _RewardModel:
    """Scores ``prompt + completion`` with a sequence-classification model (logit 0)."""

    def __init__(self, path: str, batch_size: int, max_length: int, device: str) -> None:
        self.path, self.batch_size, self.max_length, self.device = (
            path, batch_size, max_length, device)
        self._model: Any = None
        self._tok: Any = None
        self.__name__ = "reward_model"

    def _load(self) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(self.path)
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token
        self._model = AutoModelForSequenceClassification.from_pretrained(self.path)
        self._model.config.pad_token_id = self._tok.pad_token_id
        self._model.to(self.device).eval()

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kw: Any
                 ) -> list[float]:
        import torch

        if self._model is None:
            self._load()
        texts = [prompt_text(p) + completion_text(c)
                 for p, c in zip(prompts, completions, strict=True)]
        out: list[float] = []
        for i in range(0, len(texts), self.batch_size):
            enc = self._tok(texts[i : i + self.batch_size], return_tensors="pt", padding=True,
                            truncation=True, max_length=self.max_length)
            with torch.inference_mode():
                logits = self._model(**{k: v.to(self.device) for k, v in enc.items()}).logits
            out.extend(logits[:, 0].float().cpu().tolist())
        return out


@register_text_objective("reward_model")
def reward_model(
    path: str, *, batch_size: int = 16, max_length: int = 512, device: str = "cpu",
    name: str = "reward_model",
) -> Objective:
    """A local ``AutoModelForSequenceClassification`` (name or path) as an objective.

    The model is loaded on first use; the score is the first logit of
    ``prompt + completion`` (maximize).
    """
    return Objective(name, _RewardModel(path, batch_size, max_length, device),
                     direction="maximize")


class _Normalized:
    def __init__(self, inner: Objective, method: str) -> None:
        self.inner, self.method = inner, method
        self.stats = RunningStats()
        self.__name__ = inner.name

    def __call__(self, *args: Any, **kw: Any) -> np.ndarray:
        v = self.inner(*args, **kw)
        if self.method == "bounds":
            assert self.inner.bounds is not None
            lo, hi = self.inner.bounds
            return (v - lo) / (hi - lo)
        self.stats.push(v.tolist())
        sd = self.stats.std
        return (v - self.stats.mean) / (sd if sd > 0 else 1.0)


def normalized(objective: Objective, *, method: str = "running") -> Objective:
    """Per-objective normalization: ``"running"`` z-score (statistics of all training
    batches so far, this one included) or ``"bounds"`` rescaling to [0, 1]."""
    if method not in ("running", "bounds"):
        raise ValueError(f"normalized: method must be 'running' or 'bounds', got {method!r}")
    if method == "bounds" and objective.bounds is None:
        raise ValueError(f"normalized: objective {objective.name!r} has no bounds")
    return Objective(objective.name, _Normalized(objective, method),
                     direction=objective.direction, ref=None,
                     bounds=(0.0, 1.0) if method == "bounds" else None)



