"""What the last round's GP believes along a ZDT Pareto set: one benchmark cell of PSL or
SVH-PSL, then the GP posterior of ``f2`` at ``x1 = 0, 0.05, ..., 1`` with
``x2..xn = 0`` (the Pareto set of ZDT1-3) next to the true values; for an even preference
sweep, the ``x1`` the learned set returns and the ``x1`` on the Pareto set that minimizes the
method's training loss under that GP (PSL: dividing Tchebycheff of the LCB plus the
augmentation; SVH-PSL: multiplying Tchebycheff of the LCB; the ideal point replayed from
the archive as the loop computes it), and the ``x1`` of the last evaluations. On DTLZ2 it
prints the distance term ``g`` instead (:func:`dtlz2_distance`)::

    .venv/bin/python -m tools.bench.psl_gp_probe --method svh-psl --problem zdt3 --seed 0
    .venv/bin/python -m tools.bench.psl_gp_probe ... --raw     # standardize: false
    .venv/bin/python -m tools.bench.psl_gp_probe --method psl --problem dtlz2 --seed 3 \
        --selection   # which candidates the greedy batch picks (selection_dtlz2)
    .venv/bin/python -m tools.bench.psl_gp_probe --corners    # corner_counts, runs nothing
    .venv/bin/python -m tools.bench.psl_gp_probe --problem zdt2 \
        --score-run X.npy Y.npy --n-initial 20   # a run saved elsewhere (score_run)
"""

from __future__ import annotations

import argparse

import numpy as np


def main(argv: list[str] | None = None) -> None:
    import torch

    from tools.bench.psl import normalized_hv, solve_cell

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["psl", "svh-psl"], default="svh-psl")
    ap.add_argument("--problem", choices=["zdt1", "zdt2", "zdt3", "dtlz2"], default="zdt3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--raw", action="store_true", help="fit the GP on raw objectives")
    ap.add_argument("--n-steps", type=int, default=1000, help="training steps per round")
    ap.add_argument("--selection", action="store_true",
                    help="psl on dtlz2: true vs predicted g of the greedy batch's picks")
    ap.add_argument("--trace", action="store_true",
                    help="psl: retrain on the last GP; x1 (ZDT) or g (DTLZ2) as steps grow")
    ap.add_argument("--corners", action="store_true",
                    help="DTLZ2 corner evaluations in the committed results (runs nothing)")
    ap.add_argument("--score-run", nargs=2, metavar=("X_NPY", "Y_NPY"),
                    help="score another code's saved ZDT run with the benchmark's metric")
    ap.add_argument("--n-initial", type=int, default=20, help="with --score-run")
    args = ap.parse_args(argv)
    if args.corners:
        corner_counts()
        return
    if args.score_run:
        x_npy, y_npy = args.score_run
        score_run(args.problem, x_npy, y_npy, n_initial=args.n_initial)
        return
    problem, ctx, result, _, _, _ = solve_cell(
        args.problem, args.method, args.seed, n_steps=args.n_steps, smoke=False,
        overrides={"standardize": not args.raw})
    model = result.model
    print(f"normalized HV {normalized_hv(problem, ctx.archive.F):.4f}")
    if args.problem == "dtlz2":
        dtlz2_distance(problem, model, ctx.archive.F)
        if args.trace and args.method == "psl":
            trace_dtlz2(problem, model, replayed_ideal(ctx, not args.raw), args.n_steps)
        if args.selection and args.method == "psl":
            selection_dtlz2(problem, model, ctx, replayed_ideal(ctx, not args.raw),
                            args.n_steps)
        return
    X = np.zeros((21, problem.space.dim))
    X[:, 0] = np.linspace(0.0, 1.0, 21)
    with torch.no_grad():
        mean, std = model.gp.predict(torch.as_tensor(problem.space.to_unit(X)))
    mean = mean.numpy() * model.y_std + model.y_mean
    std = std.numpy() * model.y_std
    true = problem.objectives.to_min(problem.evaluate(X).F)
    print("x1     true f2   GP mean f2 +- std")
    for x1, t, mu, sd in zip(X[:, 0], true[:, 1], mean[:, 1], std[:, 1], strict=True):
        print(f"{x1:.2f}  {t:+.3f}    {mu:+.3f} +- {sd:.3f}")
    w = np.linspace(0.0, 1.0, 11)
    sweep = model(np.stack([w, 1.0 - w], axis=1))
    print("learned x1 for preferences (0, 1) .. (1, 0):", np.round(sweep[:, 0], 2))
    lcb = (mean - 0.1 * std - model.y_mean) / model.y_std  # back in the GP's space
    print("loss-minimizing x1 on the Pareto set:     ",
          np.round(X[loss_argmin(args.method, lcb, w, replayed_ideal(ctx, not args.raw)), 0], 2))
    print("learned mean of x2..xn:", np.round(sweep[:, 1:].mean(axis=1), 3))
    print("x1 of the last 30 evaluations:", np.round(ctx.archive.X[-30:, 0], 2))
    if args.trace and args.method == "psl":
        trace_zdt(model, replayed_ideal(ctx, not args.raw), problem.space.dim, args.n_steps)


def round_data(model, z: np.ndarray, n_var: int):  # type: ignore[no-untyped-def]
    """The loop's ``RoundData`` for the last GP, with generators seeded 0."""
    import torch

    from moalign.indicators import pareto_mask
    from moalign.solvers.psl._loop import RoundData

    y = model.gp.train_y.numpy()
    return RoundData(gp=model.gp, z=torch.as_tensor(z), y_front=y[pareto_mask(y)],
                     n_var=n_var, prng=np.random.default_rng(0),
                     gen=torch.Generator().manual_seed(0))


def retrained(model, z: np.ndarray, n_var: int, n_steps: int):  # type: ignore[no-untyped-def]
    """PSL's training rule on the last GP, from one fixed seed, stopped after growing step
    counts; yields ``(steps, network, data)`` (each run is a prefix of the longest, the
    generators being reset)."""
    from moalign.solvers.psl.psl import PSLConfig, train_psl

    for k in [s for s in (10, 25, 50, 100, 200, 400, 1000) if s < n_steps] + [n_steps]:
        data = round_data(model, z, n_var)
        yield k, train_psl(PSLConfig(n_steps=k), data)[0], data


def trace_zdt(model, z: np.ndarray, n_var: int, n_steps: int) -> None:  # type: ignore[no-untyped-def]
    """The retrained network's ``x1`` and its pre-sigmoid value for three preferences."""
    import torch

    from moalign.solvers.psl._model import PREF_SHIFT

    p = torch.as_tensor([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float32) + PREF_SHIFT
    print("steps  x1 at lambda1 = 0.1 / 0.5 / 0.9   logit(x1)            mean x2..xn")
    for k, net, _ in retrained(model, z, n_var, n_steps):
        with torch.no_grad():
            x = net(p)
            logit = net.fc3(torch.relu(net.fc2(torch.relu(net.fc1(p)))))[:, 0]
        print(f"{k:5d}  {np.round(x[:, 0].numpy(), 3)}   {np.round(logit.numpy(), 1)}"
              f"   {np.round(x[:, 1:].mean(dim=1).numpy(), 3)}")


DTLZ2_PREFS = np.array([[1, 1, 1], [4, 1, 1], [1, 4, 1], [1, 1, 4], [2, 2, 1], [1, 2, 2]], float)


def distance_terms(problem, model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """DTLZ2's ``g = |f| - 1`` of designs ``x``: true, and from the GP's posterior mean."""
    import torch

    true_g = np.linalg.norm(problem.evaluate(x).F, axis=1) - 1.0
    with torch.no_grad():
        mean, _ = model.gp.predict(torch.as_tensor(problem.space.to_unit(x)))
    return true_g, np.linalg.norm(mean.numpy() * model.y_std + model.y_mean, axis=1) - 1.0


def trace_dtlz2(problem, model, z: np.ndarray, n_steps: int) -> None:  # type: ignore[no-untyped-def]
    """Median true and GP-predicted ``g`` of the retrained network's designs."""
    import torch

    from moalign.solvers.psl._model import PREF_SHIFT

    p = torch.as_tensor(DTLZ2_PREFS / DTLZ2_PREFS.sum(1, keepdims=True)) + PREF_SHIFT
    print("steps  median true g  median GP g")
    for k, net, _ in retrained(model, z, problem.space.dim, n_steps):
        with torch.no_grad():
            x = problem.space.from_unit(net(p).numpy())
        true_g, pred_g = distance_terms(problem, model, x)
        print(f"{k:5d}  {np.median(true_g):.4f}         {np.median(pred_g):+.4f}")


def selection_dtlz2(problem, model, ctx, z: np.ndarray, n_steps: int, batch: int = 5
                    ) -> None:  # type: ignore[no-untyped-def]
    """Which candidates the greedy batch takes on DTLZ2, and how wrong the GP is about them.

    First the run's last batch (proposed from this very GP): its true ``g`` and the ``g`` of
    the GP's mean. Then the last round's proposal replayed on this GP (PSL's training from
    seed 0, ``propose_psl``, ``greedy_hv_batch``): true ``g``, GP-mean ``g``, LCB ``g`` (what
    the selection sees), the GP's error and how near the front's rim (an ``f_i`` of 0) the
    candidates of each group lie; then the picks, and what the first pick weighs."""
    from moalign.indicators import hypervolume
    from moalign.solvers.psl._loop import greedy_hv_batch
    from moalign.solvers.psl.psl import PSLConfig, propose_psl

    last = ctx.archive.step == ctx.archive.step.max()
    true_g, pred_g = distance_terms(problem, model, ctx.archive.X[last])
    print("run's last batch: true g", np.round(true_g, 3), " GP g", np.round(pred_g, 3))
    *_, (_, net, data) = retrained(model, z, problem.space.dim, n_steps)
    x_cand, y_cand = propose_psl(PSLConfig(), net, data)
    chosen = greedy_hv_batch(y_cand, data.y_front, batch, data.prng)
    true_g, pred_g = distance_terms(problem, model, problem.space.from_unit(x_cand))
    lcb_g = np.linalg.norm(y_cand * model.y_std + model.y_mean, axis=1) - 1.0
    front = data.y_front
    gains = ~np.any(np.all(front[:, None, :] <= y_cand[None, :, :], axis=2), axis=0)
    half = len(x_cand) // 2
    groups = {"network (1st half)": np.arange(half), "local step (2nd half)":
              np.arange(half, len(x_cand)), "not dominated by the front": np.flatnonzero(gains),
              "picked": np.asarray(chosen)}
    f = problem.evaluate(problem.space.from_unit(x_cand)).F
    edge = (f / np.linalg.norm(f, axis=1, keepdims=True)).min(axis=1)  # 0 on the front's rim
    groups["rim (smallest f_i / |f| < 0.1)"] = np.flatnonzero(edge < 0.1)
    print("replayed round                count  true g  GP g     LCB g    GP-true  min f_i/|f|")
    for name, idx in groups.items():
        print(f"{name:30s} {len(idx):4d}  {np.median(true_g[idx]):.4f}  "
              f"{np.median(pred_g[idx]):+.4f}  {np.median(lcb_g[idx]):+.4f}  "
              f"{np.median(pred_g[idx] - true_g[idx]):+.4f}  {np.median(edge[idx]):.3f}")
    print("picked: true g", np.round(true_g[chosen], 3), " true f", np.round(f[chosen], 2))
    print("first pick: predicted HV (GP space) of the front plus the best rim / off-rim one:")
    ref = np.max(np.vstack([front, y_cand]), axis=0)
    hv_with = np.array([hypervolume(np.vstack([front, y]), ref) for y in y_cand])
    for name, idx in (("rim", edge < 0.1), ("off rim", edge >= 0.1)):
        best = np.flatnonzero(idx)[np.argmax(hv_with[idx])]
        print(f"  {name}: HV with it {hv_with[best]:.4f}, true g {true_g[best]:.3f}, "
              f"true f {np.round(f[best], 2)}")


def corner_counts(last: int = 40) -> None:
    """From the committed DTLZ2 results, per method and seed: how many of the last
    evaluations are corners of the front (second-smallest ``f_i / |f|`` below 0.05, two
    objectives near 0), the median ``g`` of those and of the others."""
    from tools.bench.psl import RESULTS, load

    print(f"method   seed  corners of the last {last}  median g corners / others")
    for r in sorted(load(RESULTS), key=lambda r: (r["method"], r["seed"])):
        if r["problem"] != "dtlz2" or r["method"] not in ("psl", "svh-psl", "qnehvi"):
            continue
        F = np.asarray(r["F"])[-last:]
        norm = np.linalg.norm(F, axis=1)
        corner = np.sort(F / norm[:, None], axis=1)[:, 1] < 0.05
        g = norm - 1.0
        print(f"{r['method']:8s} {r['seed']:4d}  {corner.sum():3d}  "
              f"{np.median(g[corner]) if corner.any() else np.nan:.3f} / "
              f"{np.median(g[~corner]):.3f}")


def score_run(problem_name: str, x_path: str, y_path: str, n_initial: int,
              batch: int = 5) -> None:
    """A ZDT run saved by another code (evaluated ``X`` and ``Y``, rows in evaluation
    order; the reference implementations save these ``.npy`` files) scored as the benchmark
    scores its own runs: normalized HV after the initial design and each batch, and the
    stuck-coordinate signature: the mean of ``x2..xn`` and how many of them are above
    0.99, per batch of the last evaluations."""
    from tools.bench.psl import make_problem, normalized_hv

    problem = make_problem(problem_name)
    X, Y = np.load(x_path), np.load(y_path)
    F = problem.objectives.from_min(Y)  # the saved Y is in the minimization view
    ends = list(range(n_initial, len(X) + 1, batch))
    print(f"{len(X)} evaluations; normalized HV after n evaluations:")
    print("  ".join(f"{n}: {normalized_hv(problem, F[:n]):.4f}" for n in ends))
    print("last batches: mean of x2..xn, coordinates of x2..xn above 0.99 (per point)")
    for n in ends[-6:]:
        rest = X[n - batch:n, 1:]
        print(f"  {n - batch + 1}-{n}: {np.round(rest.mean(axis=1), 3)}  "
              f"{(rest > 0.99).sum(axis=1)}")


def dtlz2_distance(problem, model, F: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """DTLZ2: ``|f| = 1 + g``, ``g`` the distance term (0 on the Pareto set, where
    ``x3..xn = 0.5``). Prints ``g`` of the last evaluations, and for a few preferences the
    learned set's true ``g``, the ``g`` its last GP predicts (``|mean| - 1``) and
    ``x3..xn``."""
    g_eval = np.linalg.norm(F, axis=1) - 1.0
    print("median g of the last 40 evaluations:", np.round(np.median(g_eval[-40:]), 4))
    x = model(DTLZ2_PREFS / DTLZ2_PREFS.sum(1, keepdims=True))
    true_g, pred_g = distance_terms(problem, model, x)
    print("preference  true g  GP g   x3..xn")
    for w, t, pg, xi in zip(DTLZ2_PREFS, true_g, pred_g, x, strict=True):
        print(f"{w.astype(int)}  {t:.4f}  {pg:+.4f}  {np.round(xi[2:], 3)}")


def replayed_ideal(ctx, standardize: bool) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The loop's last ideal point: ``z <- min(z, min Y - 0.1)`` over the rounds, ``Y`` the
    (standardized) valid objectives before each round (``ideal: observed``; SVH-PSL's default
    also lowers z to predictions met in training, which this does not replay)."""
    from moalign.solvers.psl._loop import _standardize

    a = ctx.archive
    z = np.zeros(a.F.shape[1])
    for s in np.unique(a.step)[1:]:
        keep = (a.step < s) & a.feasible & np.isfinite(a.F).all(axis=1)
        y = _standardize(a.F[keep])[0] if standardize else a.F[keep]
        z = np.minimum(z, y.min(axis=0) - 0.1)
    return z


def loss_argmin(method: str, lcb: np.ndarray, w: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Index of the grid point minimizing each preference's training loss."""
    from moalign.solvers.psl._model import PREF_SHIFT
    from moalign.solvers.psl.psl import AUGMENT

    pref = np.stack([w, 1.0 - w], axis=1) + PREF_SHIFT
    d = lcb[None, :, :] - z  # preferences x grid x m
    if method == "psl":
        loss = (d / pref[:, None, :]).max(-1) + AUGMENT * lcb.sum(-1)[None, :]
    else:
        loss = (d * pref[:, None, :]).max(-1)
    return loss.argmin(axis=1)


if __name__ == "__main__":
    main()
