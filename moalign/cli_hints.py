"""Commands the CLI prints for the user to type next, in a form that works as printed.

After ``make run`` moalign runs from ``.venv/bin``, which is usually not on ``PATH``: a
hint says ``.venv/bin/mlflow ui ...``, as the README does, not ``mlflow ui ...``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def script(name: str) -> str:
    """How to call the console script ``name`` of this environment from the working folder.

    ``name`` when ``PATH`` finds this environment's script (or the environment has none);
    else its path beside ``sys.executable``: relative to the working folder when below it
    (``.venv/bin/moalign``), absolute otherwise.
    """
    path = Path(sys.executable).parent / name
    if not path.is_file():
        return name
    found = shutil.which(name)
    if found is not None and os.path.samefile(found, path):
        return name
    try:
        rel = path.absolute().relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(path.absolute()))
    return shlex.quote(str(rel) if len(rel.parts) > 1 else f"./{rel}")


def command(name: str, *args: str) -> str:
    """A shell command line: ``script(name)`` followed by the quoted ``args``."""
    return " ".join([script(name), *(shlex.quote(a) for a in args)])


def ui_hint(uri: str) -> str:
    """How to open the MLflow UI on the store ``uri``."""
    if uri.startswith(("http://", "https://")):
        return uri  # a server: it is the UI
    return command("mlflow", "ui", "--backend-store-uri", uri)


def resume_command(checkpoint_dir: str | Path) -> str:
    """``moalign run --resume RUN_ID``, with ``--checkpoint-dir`` when the run's checkpoint
    folder is not under the default root."""
    from moalign.recipes.runner import DEFAULT_CHECKPOINT_ROOT

    folder = Path(checkpoint_dir)
    args = ["run", "--resume", folder.name]
    if folder.parent.absolute() != Path(DEFAULT_CHECKPOINT_ROOT).absolute():
        args += ["--checkpoint-dir", str(folder.parent)]
    return command("moalign", *args)


__all__ = ["command", "resume_command", "script", "ui_hint"]
