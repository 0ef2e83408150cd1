"""Write one benchmark's section into docs/benchmarks.md, between named markers.

Each benchmark script owns one section; re-running it replaces only that section, so the
file is regenerated piece by piece and every table names the command that produced it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Measured tables; each section names the command that regenerates it. "
    "Numbers are from the machine and date stated in the section.\n"
)


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section ``name`` of ``doc`` with ``body`` (markdown)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = doc.read_text() if doc.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + block + "\n")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def mean_se(values: Sequence[float] | np.ndarray, digits: int = 3) -> str:
    """``mean ± standard error`` (ddof 1) of ``values``; a single value alone.

    Example:
        >>> mean_se([1.0, 2.0, 3.0], 2), mean_se([0.5])
        ('2.00 ± 0.58', '0.500')
    """
    a = np.asarray(values, dtype=float)
    if len(a) == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} ± {a.std(ddof=1) / np.sqrt(len(a)):.{digits}f}"


def markdown_table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
