"""Core contracts: objectives, spaces (compositional ones included), problems and the archive
of a run."""

from moalign.core.archive import Archive, Front
from moalign.core.compositional import AutoregressiveEnv, Compositional, CompositionalEnv
from moalign.core.objective import Direction, Objective, ObjectiveSet, objective
from moalign.core.problem import Evaluation, Problem
from moalign.core.space import Box, Discrete, Sequence, Space, Text

__all__ = [
    "Archive",
    "AutoregressiveEnv",
    "Box",
    "Compositional",
    "CompositionalEnv",
    "Direction",
    "Discrete",
    "Evaluation",
    "Front",
    "Objective",
    "ObjectiveSet",
    "Problem",
    "Sequence",
    "Space",
    "Text",
    "objective",
]
