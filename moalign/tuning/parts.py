"""The Optuna samplers and pruners a ``tune:`` block can name, in moalign's registries.

Each entry loads its Optuna class on first use (``import moalign.tuning`` does not import
Optuna). Plug-ins add their own with ``@SAMPLERS.register("name")`` on a function that
returns the class, or through the ``moalign.samplers`` / ``moalign.pruners`` entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moalign.core.registry import Registry

ClassLoader = Callable[[], Any]  # () -> an Optuna sampler or pruner class

SAMPLERS: Registry[ClassLoader] = Registry("sampler", "moalign.samplers")
PRUNERS: Registry[ClassLoader] = Registry("pruner", "moalign.pruners")


def _optuna_class(attr: str) -> ClassLoader:
    """A loader of ``optuna.<attr>`` (e.g. ``samplers.TPESampler``)."""
    def load() -> Any:
        import optuna

        obj: Any = optuna
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    return load


for _name, _attr in (("tpe", "samplers.TPESampler"), ("nsga2", "samplers.NSGAIISampler"),
                     ("random", "samplers.RandomSampler")):
    SAMPLERS.register(_name)(_optuna_class(_attr))
for _name, _attr in (("median", "pruners.MedianPruner"),
                     ("hyperband", "pruners.HyperbandPruner"),
                     ("successive_halving", "pruners.SuccessiveHalvingPruner"),
                     ("none", "pruners.NopPruner")):
    PRUNERS.register(_name)(_optuna_class(_attr))
