"""The options PSL and SVH-PSL share: the expensive loop of :mod:`moalign.solvers.psl._loop`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ExpensivePSLConfig:
    """Options of the expensive Pareto-set-learning loop (defaults: the reference codes';
    :class:`~moalign.solvers.psl.psl.PSLConfig` changes three of them).

    Attributes:
        n_initial: initial Latin-hypercube design size.
        batch_size: points evaluated per round.
        n_steps: training steps per round.
        n_pref_update: preferences per step.
        lr: Adam learning rate.
        lcb_coef: c in ``mu - c * sigma``.
        n_candidates: candidate preferences per proposal.
        ideal_margin: z is the running minimum of the standardized values minus this.
        hidden: width of the network's hidden layers.
        gp_kernel: ``"matern52"`` (the reference code's GP: Matern-5/2 ARD by maximum
            likelihood, lengthscales in ``[0.03, 31.6]``, near-noiseless) or ``"botorch"``
            (BoTorch's ``SingleTaskGP`` defaults, the model qNEHVI uses).
        ideal: how z moves: ``"observed"`` (running minimum of the observed standardized
            values minus the margin, the MOBO reference code), ``"predicted"`` (also lowered
            to the LCB values met during training, so z stays below the predicted front) or
            ``"round"`` (recomputed every round from that round's standardized values minus
            the margin; the running minimum of the reference codes mixes the units of
            earlier rounds' standardizations).
        selection_ref: reference point of the greedy batch selection (standardized GP
            space): ``"candidates"`` (per-objective maximum over the observed front and all
            candidates, the reference code), ``"front"`` (the observed front's maximum
            plus 10% of its range, so candidates far beyond the front do not inflate it) or
            ``"run"`` (the run's reference point, the one the run is scored with and the
            one qNEHVI's acquisition gets, standardized like the data).
        explore_slots: picks per round spent on exploration: a greedy pick whose
            coordinates stuck at a bound (every candidate within 1e-3 of the same bound of
            the unit cube) are redrawn uniformly, at most ``explore_coords`` of them; a round
            with no stuck coordinate picks greedily, and one pick per round is always
            greedy (a batch of 1 never explores).
        explore_coords: stuck coordinates redrawn per exploration pick.
        standardize: standardize the objectives before fitting the GPs (the PSL-MOBO code);
            False fits them on the raw minimization-view values (the SVH-PSL code on ZDT).
    """

    n_initial: int = 10
    batch_size: int = 5
    n_steps: int = 1000
    n_pref_update: int = 10
    lr: float = 1e-3
    lcb_coef: float = 0.1
    n_candidates: int = 1000
    ideal_margin: float = 0.1
    hidden: int = 256
    gp_kernel: Literal["matern52", "botorch"] = "matern52"
    ideal: Literal["observed", "predicted", "round"] = "observed"
    standardize: bool = True
    selection_ref: Literal["candidates", "front", "run"] = "candidates"
    explore_slots: int = 0
    explore_coords: int = 5

    def __post_init__(self) -> None:
        if self.ideal not in ("observed", "predicted", "round"):
            raise ValueError(f"ideal must be 'observed', 'predicted' or 'round', got "
                             f"{self.ideal!r}")
        if self.selection_ref not in ("candidates", "front", "run"):
            raise ValueError(f"selection_ref must be 'candidates', 'front' or 'run', got "
                             f"{self.selection_ref!r}")
        if self.explore_slots < 0:
            raise ValueError(f"explore_slots must be >= 0, got {self.explore_slots}")
        if self.explore_coords < 1:
            raise ValueError(f"explore_coords must be >= 1, got {self.explore_coords}")
        if self.gp_kernel not in ("matern52", "botorch"):
            raise ValueError(f"gp_kernel must be 'matern52' or 'botorch', got {self.gp_kernel!r}")
        for name in ("n_initial", "batch_size", "n_steps", "n_pref_update", "n_candidates",
                     "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name in ("lcb_coef", "ideal_margin"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
