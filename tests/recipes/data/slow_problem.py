"""A ZDT1-like problem the subprocess tests of killed, interrupted and resumed runs write
next to their recipe (``problem.py:make``). Environment variables keep the recipe the same
in every process: ``SLOW_EVAL`` (seconds per evaluation batch), ``POST_RUN_MARKER`` (the
post-run phase writes that file and sleeps, once), ``BAD_SHAPE`` (an objective returns
`n x 2` values), ``FRONT_RAISES`` (the post-run phase fails)."""
import os
import time

import numpy as np

import moalign


def make():
    delay = float(os.environ.get("SLOW_EVAL", "0"))
    def f1(x):
        time.sleep(delay)
        return np.stack([x[:, 0]] * 2, axis=1) if os.environ.get("BAD_SHAPE") else x[:, 0]
    def f2(x):
        g = 1 + 9 * x[:, 1:].mean(axis=1)
        return g * (1 - np.sqrt(x[:, 0] / g))
    def front(n):
        if os.environ.get("FRONT_RAISES"):
            raise RuntimeError("no front today")
        marker = os.environ.get("POST_RUN_MARKER")
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(120)
        t = np.linspace(0, 1, n)
        return np.stack([t, 1 - np.sqrt(t)], axis=1)
    return moalign.Problem(moalign.Box([0] * 4, [1] * 4), [f1, f2], ref_point=[1.1, 10],
                           pareto_front=front, name="zdt1-like")
