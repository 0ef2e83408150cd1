"""The expensive-problem loop shared by ``psl`` and ``svh-psl`` (Lin et al., NeurIPS 2022).

1. Initial design: `n_initial` Latin-hypercube points of the box.
2. Each round: take every valid evaluation (failed/NaN rows dropped), map `X` to the unit
   cube and standardize the minimization-view objectives (zero mean, unit variance per
   objective, as the reference's ``StandardTransform``; ``standardize: false`` keeps the raw
   values, as the SVH-PSL code does for ZDT); fit one GP per objective; update
   the ideal point ``z <- min(z, min_i y_i - margin)`` (running over rounds, starting at 0,
   as the reference code does); train a fresh :class:`SetNetwork` with the solver's
   training rule; propose candidates from random preferences; pick the batch greedily by
   hypervolume improvement of the predicted (LCB) front; evaluate it.
3. The returned set: each round, the new network and the one kept so far are scored by the
   hypervolume of their sets on an even preference grid as the *new* GP's mean predicts
   them (one reference point for both: the maximum over the observed front and both
   predicted sets); the better one is kept (ties: the new one). Proposals always come from
   the new network, so this choice never changes what is evaluated; it guards the returned
   model against a last round whose training went astray.

Reference points (a trap named in docs/methods.md): the greedy batch step measures
hypervolume in the *standardized GP space*, with the reference point set to the
per-objective maximum over the observed non-dominated points and all candidates (as the
reference code); the run's reported hypervolume uses the *problem's* reference point in the
original objective space (the runner computes it from the archive).

Randomness: each round draws one seed from ``ctx.rng``; it seeds the round's numpy
generator (preferences), a ``torch.Generator`` (network initialization) and the
``fork_rng`` inside GP fitting. Since the runner restores ``ctx.rng`` on resume, a resumed
run repeats the uninterrupted one exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from moalign.core.progress import Phase
from moalign.core.space import Box
from moalign.indicators import hypervolume, pareto_mask
from moalign.scalarize import dirichlet, simplex_grid
from moalign.solvers.psl._config import ExpensivePSLConfig
from moalign.solvers.psl._gp import GPPredictor, fit_gp
from moalign.solvers.psl._model import PREF_SHIFT, ParetoSetModel, SetNetwork

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


@dataclass
class RoundData:
    """What a training rule sees in one round.

    Attributes:
        gp: the fitted surrogate (standardized minimization view).
        z: `m` ideal point in the same space.
        y_front: `p x m` observed non-dominated standardized values.
        n_var: design dimension.
        prng: the round's numpy generator (preferences).
        gen: the round's torch generator (initial weights).
        margin: the ideal point's margin.
        track_predictions: also lower ``z`` to the predicted values seen in training.
        phase: the training rule calls ``phase.advance()`` after each training step (the
            run's progress display shows it: ``ctx.phase``).
    """

    gp: GPPredictor
    z: torch.Tensor
    y_front: np.ndarray
    n_var: int
    prng: np.random.Generator
    gen: torch.Generator
    margin: float = 0.1
    track_predictions: bool = False
    phase: Phase = field(default_factory=lambda: Phase("train"))

    def update_ideal(self, values: torch.Tensor) -> None:
        """``z <- min(z, min_k values_k - margin)`` when tracking predictions (the rule of
        the PSL paper's synthetic-problem code); a no-op otherwise."""
        if self.track_predictions:
            low = values.detach().min(dim=0).values - self.margin
            self.z = torch.minimum(self.z, low)


Trainer = Callable[[RoundData], tuple[SetNetwork, dict[str, float]]]
Proposer = Callable[[SetNetwork, RoundData], tuple[np.ndarray, np.ndarray]]


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """`n x d` Latin-hypercube sample of the unit cube (one point per stratum and axis)."""
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return np.asarray((strata + rng.random((n, d))) / n)


def sample_preferences(prng: np.random.Generator, k: int, m: int) -> torch.Tensor:
    """`k x m` uniform (Dirichlet(1)) preferences plus the reference code's 1e-4 shift."""
    return torch.as_tensor(dirichlet(prng, k, m)) + PREF_SHIFT


def even_preferences(m: int) -> torch.Tensor:
    """An even simplex grid of about ``100 m`` preferences (plus the 1e-4 shift)."""
    parts = 1
    while math.comb(parts + m, m - 1) <= 100 * m:
        parts += 1
    return torch.as_tensor(simplex_grid(m, parts)) + PREF_SHIFT


def predicted_set_hv(nets: list[SetNetwork], gp: GPPredictor, y_front: np.ndarray
                     ) -> list[float]:
    """Hypervolume of each network's set on :func:`even_preferences`, predicted by the GP's
    mean, against one reference point: the maximum over ``y_front`` and all predictions."""
    pref = even_preferences(gp.n_obj)
    with torch.no_grad():
        ys = [gp.predict(net(pref))[0].numpy() for net in nets]
    ref = np.max(np.vstack([y_front, *ys]), axis=0)
    return [hypervolume(y, ref) for y in ys]


def selection_reference(y_cand: np.ndarray, y_front: np.ndarray, rule: str,
                        run_ref: np.ndarray | None = None) -> np.ndarray:
    """The greedy selection's reference point: ``"candidates"``: the per-objective maximum of
    ``y_front`` and ``y_cand`` (the reference code); ``"front"``: ``y_front``'s maximum plus
    10% of its range (1e-6 at least); ``"run"``: ``run_ref`` (the run's reference point in
    the same space; without one, the ``"front"`` rule).

    Example:
        >>> front = np.array([[0.0, 1.0], [1.0, 0.0]]); cand = np.array([[5.0, 5.0]])
        >>> selection_reference(cand, front, "candidates").tolist()
        [5.0, 5.0]
        >>> selection_reference(cand, front, "front").tolist()
        [1.1, 1.1]
    """
    if rule == "candidates":
        return np.asarray(np.max(np.vstack([y_front, y_cand]), axis=0))
    if rule == "run" and run_ref is not None and np.all(np.isfinite(run_ref)):
        return np.asarray(run_ref, dtype=float)
    hi, lo = y_front.max(axis=0), y_front.min(axis=0)
    return np.asarray(hi + 0.1 * np.maximum(hi - lo, 1e-6))


def stuck_coordinates(x_cand: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """Indices of the coordinates at which every candidate (unit cube) lies within ``tol``
    of the same bound.

    Example:
        >>> stuck_coordinates(np.array([[0.0, 0.5, 1.0], [0.0005, 0.2, 1.0]])).tolist()
        [0, 2]
    """
    at_low = np.all(x_cand <= tol, axis=0)
    at_high = np.all(x_cand >= 1.0 - tol, axis=0)
    return np.flatnonzero(at_low | at_high)


def explore_picks(x_cand: np.ndarray, picks: list[int], n: int, n_coords: int,
                  rng: np.random.Generator) -> np.ndarray:
    """`n` exploration points: copies of greedy picks (in turn) with up to ``n_coords``
    stuck coordinates (:func:`stuck_coordinates`) redrawn uniformly in [0, 1]; `0 x d`
    when no coordinate is stuck."""
    stuck = stuck_coordinates(x_cand)
    if n == 0 or stuck.size == 0 or not picks:
        return np.empty((0, x_cand.shape[1]))
    out = []
    for i in range(n):
        x = x_cand[picks[i % len(picks)]].copy()
        cols = rng.choice(stuck, size=min(n_coords, stuck.size), replace=False)
        x[cols] = rng.random(cols.size)
        out.append(x)
    return np.asarray(out)


def greedy_hv_batch(y_cand: np.ndarray, y_front: np.ndarray, k: int,
                    rng: np.random.Generator, ref: np.ndarray | None = None) -> list[int]:
    """Pick `k` candidates one by one, each maximizing the hypervolume gain.

    The reference point is ``ref``, by default the per-objective maximum of ``y_front`` and
    ``y_cand`` (the reference code's choice; :func:`selection_reference`). Candidates
    weakly dominated by the current set gain nothing and are skipped; if no candidate gains
    anything, an unchosen one is drawn at random.

    Args:
        y_cand: `c x m` predicted candidate values (minimization).
        y_front: `p x m` current non-dominated values.
        k: batch size.
        rng: generator for the no-gain fallback.
        ref: the reference point (`m`), or None.

    Returns:
        `k` distinct candidate indices.
    """
    if ref is None:
        ref = selection_reference(y_cand, y_front, "candidates")
    front = y_front.copy()
    chosen: list[int] = []
    for _ in range(min(k, len(y_cand))):
        base = hypervolume(front, ref)
        weak_dom = np.any(np.all(front[:, None, :] <= y_cand[None, :, :], axis=2), axis=0)
        gains = np.zeros(len(y_cand))
        for i in np.flatnonzero(~weak_dom):
            if i not in chosen:
                gains[i] = hypervolume(np.vstack([front, y_cand[i]]), ref) - base
        if gains.max() > 0:
            best = int(np.argmax(gains))
        else:
            best = int(rng.choice(np.setdiff1d(np.arange(len(y_cand)), chosen)))
        chosen.append(best)
        front = np.vstack([front, y_cand[best]])
    return chosen


def box_of(problem: Problem) -> Box:
    """The problem's :class:`Box` (PSL learns a map into a continuous box)."""
    if not isinstance(problem.space, Box):
        raise TypeError(f"{type(problem.space).__name__} space: PSL needs a continuous Box")
    return problem.space


def _valid_data(problem: Problem, ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
    a, box = ctx.archive, box_of(problem)
    if a.n_evals == 0:
        return np.empty((0, box.dim)), np.empty((0, problem.n_obj))
    F = problem.objectives.to_min(a.F)
    ok = ~a.failed & np.all(np.isfinite(F), axis=1)
    return box.to_unit(np.asarray(a.X[ok], dtype=np.float64)), F[ok]


def _standardize(F: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, std = F.mean(axis=0), F.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return (F - mean) / std, mean, std


def run_rounds(problem: Problem, ctx: RunContext, cfg: ExpensivePSLConfig, train: Trainer,
               propose: Proposer) -> ParetoSetModel | None:
    """Run the loop of the module docstring until the budget is spent.

    Args:
        problem: a problem with a :class:`~moalign.core.space.Box` space.
        ctx: the run context.
        cfg: the solver's config (the loop reads the shared options of
            :class:`~moalign.solvers.psl._config.ExpensivePSLConfig`).
        train: the training rule (``psl`` or ``svh-psl``).
        propose: `(net, data) -> (x_cand, y_cand)` candidate generator.

    Returns:
        The kept Pareto-set model (step 3 of the module docstring; None if no round ran).
    """
    box = box_of(problem)
    state = ctx.load_state()
    if state is None:
        n0 = ctx.batch_size(cfg.n_initial)
        ctx.evaluate(box.from_unit(latin_hypercube(ctx.rng, n0, box.dim)),
                     metrics={"round": 0.0})
        state = {"round": 0, "z": [0.0] * problem.n_obj, "model": None}
        ctx.save_state(state)
    while not ctx.should_stop():
        state = _one_round(problem, ctx, cfg, train, propose, state)
        ctx.save_state(state)
    return _model_from_state(problem, state)


def _one_round(problem: Problem, ctx: RunContext, cfg: ExpensivePSLConfig, train: Trainer,
               propose: Proposer, state: dict[str, Any]) -> dict[str, Any]:
    box = box_of(problem)
    seed = ctx.spawn_seed()
    prng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    k = ctx.batch_size(cfg.batch_size)
    X, F = _valid_data(problem, ctx)
    if len(X) < 2:  # nothing to model yet: explore
        ctx.evaluate(box.from_unit(prng.random((k, box.dim))),
                     metrics={"round": float(state["round"] + 1)})
        return {**state, "round": state["round"] + 1}
    t0 = time.perf_counter()
    Y, y_mean, y_std = _standardize(F) if cfg.standardize else (F, np.zeros(F.shape[1]),
                                                                 np.ones(F.shape[1]))
    label = f"round {state['round'] + 1}"
    with ctx.phase(f"{label}: fit GP on {len(X)} points"):
        gp = fit_gp(X, Y, seed, cfg.gp_kernel)
    carried = np.asarray(state["z"]) if cfg.ideal != "round" else np.full(Y.shape[1], np.inf)
    z = np.minimum(carried, Y.min(axis=0) - cfg.ideal_margin)
    data = RoundData(gp=gp, z=torch.as_tensor(z), y_front=Y[pareto_mask(Y)],
                     n_var=box.dim, prng=prng, gen=gen, margin=cfg.ideal_margin,
                     track_predictions=cfg.ideal == "predicted")
    t1 = time.perf_counter()
    with ctx.phase(f"{label}: train", total=cfg.n_steps) as phase:
        data.phase = phase
        net, metrics = train(data)
    t2 = time.perf_counter()
    with ctx.phase(f"{label}: select {k} points"):
        x_cand, y_cand = propose(net, data)
        slots = min(cfg.explore_slots, k - 1) if stuck_coordinates(x_cand).size else 0
        ref = selection_reference(y_cand, data.y_front, cfg.selection_ref,
                                  _run_reference(problem, ctx, y_mean, y_std))
        idx = greedy_hv_batch(y_cand, data.y_front, k - slots, prng, ref=ref)
        x_new = np.vstack([x_cand[idx], explore_picks(x_cand, idx, slots, cfg.explore_coords,
                                                      prng)])
        kept, kept_round = net, state["round"] + 1
        if state.get("model") is not None:
            previous = _net_from_state(problem, state["model"]["net"])
            new_hv, kept_hv = predicted_set_hv([net, previous], gp, data.y_front)
            if kept_hv > new_hv:
                kept, kept_round = previous, state.get("model_round", state["round"])
    metrics.update(round=float(state["round"] + 1), gp_fit_s=t1 - t0, train_s=t2 - t1,
                   select_s=time.perf_counter() - t2, model_round=float(kept_round),
                   n_stuck=float(stuck_coordinates(x_cand).size))
    ctx.evaluate(box.from_unit(x_new), metrics=metrics)
    model_state = {"net": {k_: v.clone() for k_, v in kept.state_dict().items()},
                   "gp": gp.state(), "y_mean": y_mean.tolist(), "y_std": y_std.tolist()}
    return {"round": state["round"] + 1, "z": data.z.tolist(), "model": model_state,
            "model_round": kept_round, "torch_rng": gen.get_state()}


def _run_reference(problem: Problem, ctx: RunContext, y_mean: np.ndarray, y_std: np.ndarray
                   ) -> np.ndarray | None:
    """The run's reference point in the round's standardized minimization space."""
    ref = ctx.archive.ref_point
    if ref is None:
        return None
    return np.asarray((problem.objectives.to_min(np.asarray(ref, float)[None, :])[0] - y_mean)
                      / y_std)


def _net_from_state(problem: Problem, net_state: dict[str, torch.Tensor]) -> SetNetwork:
    hidden = int(net_state["fc1.weight"].shape[0])
    net = SetNetwork(problem.n_obj, box_of(problem).dim, hidden=hidden)
    net.load_state_dict(net_state)
    return net.eval()


def _model_from_state(problem: Problem, state: dict[str, Any]) -> ParetoSetModel | None:
    ms = state.get("model")
    if ms is None:
        return None
    net = _net_from_state(problem, ms["net"])
    box = box_of(problem)
    return ParetoSetModel(net, box.lower, box.upper,
                          problem.objectives.names, problem.objectives.maximize,
                          gp=GPPredictor(**ms["gp"]), y_mean=ms["y_mean"], y_std=ms["y_std"])
