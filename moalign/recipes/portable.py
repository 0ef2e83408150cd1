"""The recipe a run logs (``recipe.yaml``): the resolved recipe, portable.

The loader resolves ``problem.name`` and ``solver.name`` given as ``file.py:function``
against the recipe's folder (absolute paths) and records that folder as ``base_dir``, so
that problem factories can find files next to the recipe and ``--resume`` can reload the
checkpoint's copy from anywhere. Neither belongs in the copy a user reads or reruns: in
:func:`portable_recipe_yaml` those file references are relative to the recipe's folder
again and ``base_dir`` is left out, so the logged ``recipe.yaml`` runs as it is when put
next to the original recipe. Paths the user wrote (``checkpoint.dir``, ``tracking.uri``,
``problem.params``) are kept as written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from moalign.recipes.loader import recipe_to_dict
from moalign.recipes.schema import Recipe

FILE_REFERENCES = ("problem", "solver")
"""Sections whose ``name`` may be a ``file.py:attr`` the loader made absolute."""


def relative_reference(name: str, base_dir: Path) -> str:
    """``/abs/dir/objs.py:make`` -> ``objs.py:make``, relative to ``base_dir`` (``../x.py``
    for a file beside it). Returned as is: anything that is not an absolute ``.py``
    reference, and a file that shares no folder with ``base_dir`` but the root.

    Example:
        >>> relative_reference("/work/recipes/objs.py:make", Path("/work/recipes"))
        'objs.py:make'
    """
    file_part, sep, attr = name.rpartition(":")
    path = Path(file_part)
    if not (sep and file_part.endswith(".py") and path.is_absolute()):
        return name
    try:
        common = os.path.commonpath([path, base_dir])
    except ValueError:  # another drive
        return name
    if common == path.anchor:  # nothing shared but the root: keep it absolute
        return name
    return f"{Path(os.path.relpath(path, base_dir)).as_posix()}:{attr}"


def portable_recipe_dict(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as plain data, file references relative to its folder and
    without ``base_dir`` (see the module docstring)."""
    data = recipe_to_dict(recipe)
    base = data.pop("base_dir", None)
    if base:
        for key in FILE_REFERENCES:
            section = data.get(key)
            if isinstance(section, dict) and isinstance(section.get("name"), str):
                section["name"] = relative_reference(section["name"], Path(base))
    return data


def portable_recipe_yaml(recipe: Recipe) -> str:
    """:func:`portable_recipe_dict` as YAML: what a run logs as ``recipe.yaml``."""
    return yaml.safe_dump(portable_recipe_dict(recipe), sort_keys=False)
