"""Archive of every evaluated point, and the Pareto front derived from it.

The archive is the single source of truth of a run: trackers, reports, checkpoints and
results all read it. It keeps its non-dominated set incrementally (old front + new batch),
so the hypervolume after each step costs one moocore call on the front, not on the history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.indicators import hypervolume, pareto_mask

if TYPE_CHECKING:
    import pandas as pd


def as_batch(X: Any) -> np.ndarray:
    """A batch as an array: numeric arrays stay as they are, anything else -> 1-d object array."""
    if isinstance(X, np.ndarray):
        return X
    items = list(X)
    if items and all(isinstance(v, int | float | np.number) for v in items):
        return np.asarray(items)
    arr = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        arr[i] = v
    return arr


@dataclass(frozen=True)
class Front:
    """A set of points and their objective values.

    Attributes:
        X: `n x d` decision array (or length-`n` object array for sequences/text).
        F: `n x m` objective values, user orientation.
        maximize: `m` bool array.
        names: objective names.
    """

    X: np.ndarray
    F: np.ndarray
    maximize: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.F.shape[0])

    def hypervolume(self, ref: Sequence[float] | np.ndarray) -> float:
        """Hypervolume dominated by the front w.r.t. ``ref`` (user orientation)."""
        return hypervolume(self.F, ref, maximize=self.maximize)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        df = pd.DataFrame(self.F, columns=list(self.names))
        if self.X.dtype == object or self.X.ndim == 1:
            df.insert(0, "x", list(self.X))
        else:
            for j in range(self.X.shape[1]):
                df.insert(j, f"x{j}", self.X[:, j])
        return df


class Archive:
    """Every evaluated point of a run: ``(X, F, feasible, failed, step)``.

    Args:
        names: objective names (defines `m`).
        maximize: `m` bools, True where the objective is maximized.
        ref_point: hypervolume reference point (user orientation); if None, it is set from
            the first batch that has a valid point (its worst value per objective).
    """

    def __init__(
        self,
        names: Sequence[str],
        maximize: Sequence[bool] | np.ndarray,
        ref_point: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        self.names = tuple(names)
        self.maximize = np.asarray(maximize, dtype=bool)
        self._signs = np.where(self.maximize, -1.0, 1.0)
        self.ref_point = None if ref_point is None else np.asarray(ref_point, dtype=np.float64)
        self._X: list[np.ndarray] = []
        self._F: list[np.ndarray] = []
        self._feasible: list[np.ndarray] = []
        self._failed: list[np.ndarray] = []
        self._step: list[np.ndarray] = []
        self._cache: dict[str, np.ndarray] = {}
        self._front_idx = np.empty(0, dtype=np.int64)
        self._best = np.full(len(self.names), np.nan)
        self._hv_cache: tuple[int, float] | None = None  # (front version, HV at ref_point)
        self._front_version = 0
        self.n_evals = 0
        self.n_failed = 0

    # -- writing -----------------------------------------------------------------------
    def append(
        self,
        X: Any,
        F: np.ndarray,
        *,
        step: int,
        feasible: np.ndarray | None = None,
        failed: np.ndarray | None = None,
    ) -> None:
        """Add a batch of `n` evaluated points (`F`: `n x m`, NaN where failed)."""
        F = np.atleast_2d(np.asarray(F, dtype=np.float64))
        n, m = F.shape
        if m != len(self.names):
            raise ValueError(f"record: F has {m} columns, the problem has {len(self.names)} "
                             f"objectives {list(self.names)}")
        Xb = as_batch(X)
        if len(Xb) != n:
            raise ValueError(f"record: X has {len(Xb)} rows but F has {n}")
        bad = ~np.all(np.isfinite(F), axis=1)
        failed = bad if failed is None else (np.asarray(failed, dtype=bool) | bad)
        feasible = ~failed if feasible is None else (np.asarray(feasible, dtype=bool) & ~failed)
        self._X.append(Xb)
        self._F.append(F)
        self._feasible.append(feasible)
        self._failed.append(failed)
        self._step.append(np.full(n, step, dtype=np.int64))
        self._cache.clear()
        if self.ref_point is None and feasible.any():
            self.ref_point = self._worst(F[feasible])
        self._update_front(self.n_evals + np.flatnonzero(feasible), F[feasible])
        self._update_best(F[feasible])
        self.n_evals += n
        self.n_failed += int(failed.sum())

    def _worst(self, F: np.ndarray) -> np.ndarray:
        return np.where(self.maximize, F.min(axis=0), F.max(axis=0))

    def _update_front(self, new_idx: np.ndarray, F_new: np.ndarray) -> None:
        if len(new_idx) == 0:
            return
        F_all = self._concat("F", self._F)
        cand = np.concatenate([self._front_idx, new_idx])
        mask = pareto_mask(F_all[cand] * self._signs)
        if mask[len(self._front_idx):].any():  # some new point entered the front
            self._front_version += 1
        self._front_idx = cand[mask]

    def _update_best(self, F: np.ndarray) -> None:
        if len(F) == 0:
            return
        batch_best = np.where(self.maximize, F.max(axis=0), F.min(axis=0))
        self._best = np.where(
            np.isnan(self._best), batch_best,
            np.where(self.maximize, np.maximum(self._best, batch_best),
                     np.minimum(self._best, batch_best)))

    # -- reading -----------------------------------------------------------------------
    def _concat(self, key: str, parts: list[np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            if not parts:
                return np.empty((0, len(self.names))) if key == "F" else np.empty(0)
            self._cache[key] = np.concatenate(parts, axis=0)
        return self._cache[key]

    @property
    def X(self) -> np.ndarray:
        return self._concat("X", self._X)

    @property
    def F(self) -> np.ndarray:
        """`n x m` objective values, user orientation."""
        return self._concat("F", self._F)

    @property
    def feasible(self) -> np.ndarray:
        return self._concat("feasible", self._feasible)

    @property
    def failed(self) -> np.ndarray:
        return self._concat("failed", self._failed)

    @property
    def step(self) -> np.ndarray:
        return self._concat("step", self._step)

    def __len__(self) -> int:
        return self.n_evals

    @property
    def front_size(self) -> int:
        return int(len(self._front_idx))

    @property
    def front_version(self) -> int:
        """A counter that grows whenever a new point enters the front (a cache key)."""
        return self._front_version

    def last_batch(self) -> np.ndarray:
        """`k x m` feasible values of the most recent batch."""
        if not self._F:
            return np.empty((0, len(self.names)))
        return self._F[-1][self._feasible[-1]]

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
        """Recorded batches in order: ``(X, F, feasible, failed, step)``."""
        for X, F, feas, fail, st in zip(
            self._X, self._F, self._feasible, self._failed, self._step, strict=True
        ):
            yield X, F, feas, fail, int(st[0]) if len(st) else 0

    def pareto(self) -> Front:
        """The non-dominated feasible points evaluated so far."""
        idx = np.sort(self._front_idx)
        X = self.X[idx] if self.n_evals else np.empty((0,))
        return Front(X=X, F=self.F[idx], maximize=self.maximize, names=self.names)

    def hypervolume(self, ref: Sequence[float] | np.ndarray | None = None) -> float:
        """Hypervolume of the current front (0 before the reference point is known)."""
        own = ref is None
        ref = self.ref_point if own else np.asarray(ref, dtype=np.float64)
        if ref is None or len(self._front_idx) == 0:
            return 0.0
        if own and self._hv_cache is not None and self._hv_cache[0] == self._front_version:
            return self._hv_cache[1]
        hv = hypervolume(self.F[self._front_idx], ref, maximize=self.maximize)
        if own:
            self._hv_cache = (self._front_version, hv)
        return hv

    def best(self) -> np.ndarray:
        """Per-objective best feasible value (user orientation); NaN before any."""
        return self._best.copy()

    def to_frame(self) -> pd.DataFrame:
        """All points as a table: step, x columns, objectives, feasible, failed."""
        front = Front(X=self.X, F=self.F, maximize=self.maximize, names=self.names)
        df = front.to_frame()
        df.insert(0, "step", self.step)
        df["feasible"] = self.feasible
        df["failed"] = self.failed
        return df

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        names: Sequence[str],
        maximize: Sequence[bool],
        ref_point: Sequence[float] | None,
    ) -> Archive:
        """Rebuild an archive from :meth:`to_frame`'s table (one batch per step).

        Designs come back from ``x0, x1, ...`` columns as an `n x d` array, or from an
        ``x`` column as stored (text, after a CSV round trip)."""
        archive = cls(names, maximize, ref_point)
        xcols = [c for c in df.columns if c == "x" or (c[:1] == "x" and c[1:].isdigit())]
        for step, batch in df.groupby("step", sort=True):
            X = batch[xcols].to_numpy() if xcols != ["x"] else batch["x"].to_numpy(object)
            archive.append(X, batch[list(names)].to_numpy(dtype=float), step=int(step),
                           feasible=batch["feasible"].to_numpy(dtype=bool),
                           failed=batch["failed"].to_numpy(dtype=bool))
        return archive

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state
