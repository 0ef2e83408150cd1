"""Accept problems users already have: moalign, pymoo and BoTorch problems, or factories.

``as_problem(obj)`` turns any of these into a :class:`~moalign.core.Problem`:

- a moalign ``Problem``: returned as is;
- a pymoo ``Problem`` instance: objectives ``f1..fm`` minimized (pymoo's convention),
  inequality constraints ``G <= 0`` kept, equality constraints ``H`` mapped to
  ``|H| - 1e-4 <= 0`` (pymoo's default tolerance), bounds ``xl, xu`` -> ``Box``, and the
  true front from ``pareto_front()`` where the problem implements one. The ideal and
  nadir points are that front's best and worst values, so the hypervolume reference point
  is the built-in problems' (nadir + 10% of the ideal-nadir range: ``[1.1, 1.1]`` for
  ZDT1/2); they are read from pymoo when first needed (at the start of a run), and left
  unknown, with a warning, when pymoo cannot produce the front;
- a BoTorch ``MultiObjectiveTestProblem`` instance: values exactly as ``problem(X)``
  returns them (so observation noise, if configured, is kept; it draws from torch's
  global RNG, as in BoTorch). BoTorch problems are minimization problems whose values and
  ``ref_point`` are both negated when ``negate=True``; the objectives are therefore
  ``"maximize"`` when ``negate=True`` and ``"minimize"`` otherwise, and the reference
  point is ``problem.ref_point`` unchanged. ``moalign.hypervolume`` with these directions
  then equals BoTorch's ``Hypervolume(ref_point)`` on the maximization view. Constraint
  slacks ``c >= 0`` (``ConstrainedBaseTestProblem``) become ``g = -c <= 0``; the true front
  comes from ``gen_pareto_front(n)`` where BoTorch implements it;
- a callable without arguments (a factory, or a pymoo/BoTorch class) returning any of
  the above.

Both libraries are detected by class name in the MRO, so neither is imported here.

Example:
    >>> from pymoo.problems import get_problem
    >>> p = as_problem(get_problem("zdt1", n_var=5))
    >>> p.objectives.names, p.space.dim
    (['f1', 'f2'], 5)
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from moalign.core import Box, Direction, Objective, Problem
from moalign.problems._common import Column, LastBatch

#: pymoo's default tolerance on equality constraints (``cv_eq`` eps in pymoo.core.individual).
PYMOO_EQ_EPS = 1e-4


class AdaptedProblem(Problem):
    """A :class:`Problem` whose front comes from another library and may be unavailable.

    ``pareto_front(n)`` returns ``None`` (with a warning) when the wrapped library has no
    front for this instance or fails to produce one (e.g. pymoo needs to download it).
    """

    def __init__(self, *args: Any,
                 bounds: Callable[[], tuple[np.ndarray, np.ndarray] | None] | None = None,
                 **kwargs: Any) -> None:
        self._bounds_source = bounds  # read on first use of ``ideal`` or ``nadir``
        super().__init__(*args, **kwargs)

    @property
    def ideal(self) -> np.ndarray | None:
        self._load_bounds()
        return self._ideal

    @ideal.setter
    def ideal(self, value: np.ndarray | None) -> None:
        self._ideal = value

    @property
    def nadir(self) -> np.ndarray | None:
        self._load_bounds()
        return self._nadir

    @nadir.setter
    def nadir(self, value: np.ndarray | None) -> None:
        self._nadir = value

    def _load_bounds(self) -> None:
        """Ideal and nadir from the wrapped library's front, once (None when it has none)."""
        source, self._bounds_source = self._bounds_source, None
        if source is None or (self._ideal is not None and self._nadir is not None):
            return
        try:
            got = source()
        except Exception as exc:  # noqa: BLE001 - an unknown nadir is not an error
            warnings.warn(f"{self.name}: ideal and nadir unknown, the true front is "
                          f"unavailable ({exc})", stacklevel=3)
            return
        if got is not None:
            self._ideal, self._nadir = got

    def pareto_front(self, n: int = 1000) -> np.ndarray | None:
        if self._pareto_front is None:
            return None
        try:
            pf = self._pareto_front(n)
        except Exception as exc:  # noqa: BLE001 - a missing front is not an error
            warnings.warn(f"{self.name}: true front unavailable ({exc})", stacklevel=2)
            return None
        return None if pf is None else np.asarray(pf, dtype=np.float64)


def _base_class(obj: Any, module: str, name: str) -> type | None:
    """The class ``module.name`` if it is in the MRO of `obj`'s type, else None."""
    for cls in type(obj).__mro__:
        if cls.__module__ == module and cls.__name__ == name:
            return cls
    return None


def _has_base(obj: Any, module: str, name: str) -> bool:
    return _base_class(obj, module, name) is not None


def is_pymoo_problem(obj: Any) -> bool:
    """True for instances of ``pymoo.core.problem.Problem``."""
    return _has_base(obj, "pymoo.core.problem", "Problem")


def is_botorch_problem(obj: Any) -> bool:
    """True for instances of BoTorch's ``MultiObjectiveTestProblem``."""
    return _has_base(obj, "botorch.test_functions.base", "MultiObjectiveTestProblem")


def as_problem(obj: Any) -> Problem:
    """Convert `obj` to a moalign :class:`Problem` (see the module docstring).

    Args:
        obj: A moalign ``Problem``, a pymoo ``Problem`` instance, a BoTorch multi-objective
            test problem instance, or a no-argument callable returning one of these.

    Returns:
        The problem.

    Raises:
        TypeError: If `obj` is none of the accepted kinds.
    """
    if isinstance(obj, Problem):
        return obj
    if is_pymoo_problem(obj):
        return from_pymoo(obj)
    if is_botorch_problem(obj):
        return from_botorch(obj)
    if callable(obj):
        made = obj()
        if isinstance(made, Problem) or is_pymoo_problem(made) or is_botorch_problem(made):
            return as_problem(made)
        raise TypeError(
            f"{getattr(obj, '__name__', obj)!r} returned {type(made).__name__}; a problem "
            "factory must return a moalign Problem, a pymoo Problem or a BoTorch "
            "multi-objective test problem"
        )
    raise TypeError(
        f"cannot make a problem from {type(obj).__name__}; pass a moalign Problem, a pymoo "
        "Problem, a BoTorch multi-objective test problem, or a factory returning one"
    )


# ---------------------------------------------------------------------------- pymoo


class _PymooEval:
    """`n x d` -> pymoo's output dict ``{"F", "G"}`` (G with equality rows mapped)."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.keys = ["F"]
        if problem.n_ieq_constr > 0:
            self.keys.append("G")
        if problem.n_eq_constr > 0:
            self.keys.append("H")

    def __call__(self, X: np.ndarray) -> dict[str, np.ndarray]:
        out = self.problem.evaluate(X, return_values_of=self.keys, return_as_dictionary=True)
        n = X.shape[0]
        res = {"F": np.asarray(out["F"], dtype=np.float64).reshape(n, -1)}
        gs = []
        if "G" in out:
            gs.append(np.asarray(out["G"], dtype=np.float64).reshape(n, -1))
        if "H" in out:
            H = np.asarray(out["H"], dtype=np.float64).reshape(n, -1)
            gs.append(np.abs(H) - PYMOO_EQ_EPS)
        if gs:
            res["G"] = np.hstack(gs)
        return res


class _ConstraintsOf:
    """``X -> G`` from a shared evaluation cache."""

    def __init__(self, source: Callable[[Any], Any]) -> None:
        self.source = source

    def __call__(self, X: Any) -> np.ndarray:
        return np.asarray(self.source(X)["G"], dtype=np.float64)


class _PymooFront:
    """``n -> front`` through pymoo's ``pareto_front``, passing `n` where pymoo takes one."""

    _N_ARGS = ("n_pareto_points", "n_points")

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        params = inspect.signature(problem._calc_pareto_front).parameters
        self.n_arg = next((a for a in self._N_ARGS if a in params), None)

    def __call__(self, n: int) -> Any:  # `n x m` array, or None when pymoo has none
        if self.n_arg is None:
            pf = self.problem.pareto_front()
        else:
            pf = self.problem.pareto_front(use_cache=False, **{self.n_arg: n})
        return None if pf is None else np.asarray(pf, dtype=np.float64)


class _PymooBounds:
    """``() -> (ideal, nadir)``: the best and worst values of pymoo's own front (its
    default size, cached by pymoo), or None when the front is not a finite `k x m` array."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem

    def __call__(self) -> tuple[np.ndarray, np.ndarray] | None:
        pf = self.problem.pareto_front()
        if pf is None:
            return None
        pf = np.asarray(pf, dtype=np.float64)
        m = int(self.problem.n_obj)
        if pf.ndim != 2 or pf.shape[1] != m or len(pf) == 0 or not np.isfinite(pf).all():
            return None
        return pf.min(axis=0), pf.max(axis=0)


def from_pymoo(problem: Any) -> Problem:
    """Wrap a pymoo ``Problem`` instance (minimized objectives, ``G <= 0`` constraints)."""
    if not problem.has_bounds():
        raise ValueError(f"pymoo problem {problem.name()} has no bounds (xl, xu); moalign "
                         "needs a box")
    n_var, n_obj = int(problem.n_var), int(problem.n_obj)
    lower = np.broadcast_to(np.asarray(problem.xl, dtype=np.float64), (n_var,))
    upper = np.broadcast_to(np.asarray(problem.xu, dtype=np.float64), (n_var,))
    cache = LastBatch(_PymooEval(problem))
    objectives = [Objective(f"f{i + 1}", Column(cache, i, key="F")) for i in range(n_obj)]
    base = _base_class(problem, "pymoo.core.problem", "Problem")
    has_front = type(problem)._calc_pareto_front is not getattr(base, "_calc_pareto_front", None)
    return AdaptedProblem(
        Box(lower, upper),
        objectives,
        constraints=_ConstraintsOf(cache) if problem.n_constr > 0 else None,
        pareto_front=_PymooFront(problem) if has_front else None,
        name=str(problem.name()),
        bounds=_PymooBounds(problem) if has_front else None,
    )


# -------------------------------------------------------------------------- BoTorch


class _TorchEval:
    """`n x d` numpy -> `n x k` numpy through a BoTorch method (no autograd)."""

    def __init__(self, problem: Any, method: str, sign: float = 1.0) -> None:
        self.problem = problem
        self.method = method
        self.sign = sign

    def __call__(self, X: np.ndarray) -> np.ndarray:
        import torch

        bounds = self.problem.bounds
        Xt = torch.as_tensor(np.asarray(X), dtype=bounds.dtype, device=bounds.device)
        with torch.no_grad():
            Y = getattr(self.problem, self.method)(Xt)
        return self.sign * Y.detach().cpu().numpy().astype(np.float64).reshape(len(X), -1)


class _TorchFront:
    def __init__(self, problem: Any) -> None:
        self.problem = problem

    def __call__(self, n: int) -> np.ndarray:
        pf = self.problem.gen_pareto_front(n)
        return pf.detach().cpu().numpy().astype(np.float64)


def from_botorch(problem: Any) -> Problem:
    """Wrap a BoTorch ``MultiObjectiveTestProblem`` instance (directions from ``negate``)."""
    m = int(problem.num_objectives)
    bounds = problem.bounds.detach().cpu().numpy().astype(np.float64)
    cache = LastBatch(_TorchEval(problem, "forward"))
    direction: Direction = "maximize" if getattr(problem, "negate", False) else "minimize"
    objectives = [
        Objective(f"f{i + 1}", Column(cache, i), direction=direction) for i in range(m)
    ]
    constraints = None
    if _has_base(problem, "botorch.test_functions.base", "ConstrainedBaseTestProblem"):
        constraints = _TorchEval(problem, "evaluate_slack", sign=-1.0)
    base = _base_class(problem, "botorch.test_functions.base", "MultiObjectiveTestProblem")
    has_front = type(problem).gen_pareto_front is not getattr(base, "gen_pareto_front", None)
    return AdaptedProblem(
        Box(bounds[0], bounds[1]),
        objectives,
        constraints=constraints,
        ref_point=problem.ref_point.detach().cpu().numpy().astype(np.float64),
        pareto_front=_TorchFront(problem) if has_front else None,
        name=type(problem).__name__,
    )
