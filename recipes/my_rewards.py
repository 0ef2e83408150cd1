"""A user's own reward function, written for TRL and used by recipes/drw_tiny_math.yaml unchanged.

Any function with TRL's reward signature ``fn(prompts, completions, **kwargs)`` returning a
list of floats (or None where it cannot score) works as a moalign objective.
"""

import re

_FINAL = re.compile(r"####\s*-?\d+\s*$")


def hash_format(prompts, completions, **kwargs):
    """1.0 when the completion ends with a GSM8K-style final answer ``#### <number>``."""
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [1.0 if _FINAL.search(t) else 0.0 for t in texts]
