"""Robust multi-objective decoding (Son et al., 2025) and the decoding baselines.

``weights`` solves the worst-case weights of a block; ``decode`` runs blockwise controlled
decoding from token ids with one chooser per method.
"""

from moalign.llm.rmod.decode import (
    Decoded,
    blockwise_decode,
    generate,
    rmod_chooser,
    standardize,
    weighted_chooser,
)
from moalign.llm.rmod.weights import exact_worst_case_weights, worst_case_weights

__all__ = ["Decoded", "blockwise_decode", "exact_worst_case_weights", "generate",
           "rmod_chooser",
           "standardize", "weighted_chooser", "worst_case_weights"]
