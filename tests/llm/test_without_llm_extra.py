"""moalign without the llm extra: ``import moalign`` loads none of its packages, and every
``moalign.llm`` module imports (and its pure parts run) when they cannot be imported.

Not marked ``llm``: this is what an install without the extra relies on. Each test starts a
fresh interpreter, so what this session imported does not matter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("trl", "transformers", "accelerate", "datasets", "peft", "tokenizers")


def python(code: str, block: bool) -> str:
    """Run ``code`` in a fresh interpreter (the extra's packages unimportable when
    ``block``) and return its stdout; fails the test on a non-zero exit."""
    prelude = "import sys\n"
    if block:
        prelude += f"for name in {EXTRA!r}:\n    sys.modules[name] = None\n"
    proc = subprocess.run([sys.executable, "-c", prelude + code], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_import_moalign_loads_no_llm_package():
    code = ("import moalign, moalign.llm, moalign.llm.drw\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({EXTRA!r})))")
    assert python(code, block=False).strip() == "[]"


def test_llm_modules_import_and_configure_without_the_extra():
    code = """
import importlib, pkgutil
import moalign.llm
for mod in pkgutil.walk_packages(moalign.llm.__path__, "moalign.llm."):
    importlib.import_module(mod.name)
from moalign.problems import get_problem
from moalign.solvers import get_solver
cfg = get_solver("drw")({"mode": "hypervolume"}).config
problem = get_problem("text")(prompts=[f"q{i}" for i in range(4)], n_validation=1,
                              policy="m", objectives=["exact_answer"])
print(cfg.scale_rewards, len(problem.train.prompts))
"""
    assert python(code, block=True).split() == ["none", "3"]
