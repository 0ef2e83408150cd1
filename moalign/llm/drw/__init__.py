"""Dynamic reward weighting (``drw``) over TRL's GRPOTrainer; importing registers it."""

from moalign.llm.aligned import AlignedModel
from moalign.llm.drw.config import DRWConfig
from moalign.llm.drw.solver import DRW
from moalign.llm.drw.weighting import (
    hypervolume_step,
    influence,
    meta_reward,
    mirror_descent_update,
)

__all__ = [
    "DRW",
    "AlignedModel",
    "DRWConfig",
    "hypervolume_step",
    "influence",
    "meta_reward",
    "mirror_descent_update",
]
