"""A run's plots: legends, the front above the evaluated points, 3-D and parallel views,
hypervolume against evaluations with its reference point, titles that name the run, and
the solver metric curves and rounds drawn from the metrics the run logged."""

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from mlflow import MlflowClient

from moalign.core.archive import Archive
from moalign.problems import get_problem
from moalign.recipes import parse_recipe
from moalign.recipes.runner import run_recipe
from moalign.tracking.mlflow_tracker import MLflowTracker
from moalign.tracking.plots import (
    RunLabel,
    plot_front,
    plot_hypervolume,
    plot_metrics,
    plot_pairs,
    plot_parallel,
    plot_rounds,
    save_run_plots,
    solver_plots,
)


def _archive(m, n_steps=4, batch=10, seed=0, maximize=None):
    """Random points in [0, 1]^m, recorded in `n_steps` batches, reference point 1.1."""
    rng = np.random.default_rng(seed)
    maximize = [False] * m if maximize is None else maximize
    a = Archive([f"f{j + 1}" for j in range(m)], maximize, [1.1] * m)
    for step in range(1, n_steps + 1):
        F = rng.random((batch, m))
        a.append(rng.random((batch, 2)), F, step=step)
    return a


def _sphere_front(m, n):
    """`n` points of the unit sphere's positive orthant (DTLZ2's front)."""
    P = np.abs(np.random.default_rng(1).normal(size=(n, m)))
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def _by_label(ax):
    """{first word(s) of the label: artist} of an axes' collections."""
    return {c.get_label().split(" (")[0]: c for c in ax.collections
            if not c.get_label().startswith("_")}


def _legend_texts(legend):
    return [t.get_text().split(" (")[0] for t in legend.get_texts()]


def test_2d_front_has_a_legend_and_draws_the_front_above_the_points():
    a = _archive(2)
    fig = plot_front(a, _sphere_front(2, 500), title="zdt1 (nsga2)")
    ax = fig.axes[0]
    assert _legend_texts(ax.get_legend()) == ["evaluated", "true front", "front"]
    layers = _by_label(ax)
    assert (layers["evaluated"].get_zorder() < layers["true front"].get_zorder()
            < layers["front"].get_zorder())
    assert len(layers["front"].get_offsets()) == len(a.pareto())
    assert fig.get_suptitle().startswith("zdt1 (nsga2)\nPareto front")
    assert ax.get_xlabel() == "f1 (min)"


def test_a_small_true_front_is_drawn_as_large_rings_not_dots():
    fig = plot_front(_archive(2), np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]))
    rings = _by_label(fig.axes[0])["true front"]
    assert rings.get_sizes()[0] >= 50
    assert rings.get_facecolors().size == 0 or rings.get_facecolors()[0][3] == 0  # hollow
    assert rings.get_linewidths()[0] >= 1


def test_3_objectives_get_a_3d_scatter_and_parallel_coordinates():
    a, tf = _archive(3), _sphere_front(3, 300)
    fig = plot_front(a, tf, title="dtlz2 (nsga2)")
    ax = fig.axes[0]
    assert ax.name == "3d" and not ax.computed_zorder  # z-order is honoured in 3-D
    assert ax.get_zlabel() == "f3 (min)"
    assert _legend_texts(ax.get_legend()) == ["evaluated", "true front", "front"]
    layers = _by_label(ax)
    assert layers["front"].get_zorder() > layers["evaluated"].get_zorder()

    fig = plot_parallel(a, tf, title="dtlz2 (nsga2)")
    ax = fig.axes[0]
    lines = _by_label(ax)
    assert all(isinstance(c, LineCollection) for c in lines.values())
    assert set(lines) == {"evaluated", "true front", "front"}
    assert lines["front"].get_zorder() > lines["true front"].get_zorder() > \
        lines["evaluated"].get_zorder()
    assert len(lines["front"].get_segments()) == len(a.pareto())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["f1 (min)", "f2 (min)", "f3 (min)"]
    assert _legend_texts(ax.get_legend()) == ["evaluated", "true front", "front"]
    assert "parallel coordinates" in fig.get_suptitle()


def test_parallel_coordinates_put_the_best_value_at_the_bottom_of_every_axis():
    a = _archive(4, maximize=[False, True, False, True])
    segments = _by_label(plot_parallel(a).axes[0])["front"].get_segments()
    U = np.array([s[:, 1] for s in segments])
    F = a.pareto().F
    for j in range(4):
        best = np.argmax(F[:, j]) if a.maximize[j] else np.argmin(F[:, j])
        assert U[best, j] == pytest.approx(U[:, j].min())


def test_4_or_more_objectives_get_parallel_coordinates_and_a_pairwise_grid():
    a = _archive(5)
    fig = plot_front(a, title="dtlz2 (random)")
    assert fig.axes[0].name == "rectilinear"
    assert any(isinstance(c, LineCollection) for c in fig.axes[0].collections)
    fig = plot_pairs(a, title="dtlz2 (random)")
    assert len(fig.axes) == 25
    scatters = [ax for ax in fig.axes if ax.collections]
    assert len(scatters) == 10  # one per pair of objectives
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1 and _legend_texts(legends[0]) == ["evaluated", "front"]
    for ax in scatters:
        layers = _by_label(ax)
        assert layers["front"].get_zorder() > layers["evaluated"].get_zorder()


def test_hypervolume_is_drawn_against_evaluations_with_the_reference_point():
    a = _archive(2, n_steps=5, batch=7)
    fig = plot_hypervolume(a, title="zdt1 (nsga2)")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "evaluations"
    x, y = ax.lines[0].get_data()
    assert list(x) == [7, 14, 21, 28, 35]
    assert y[-1] == pytest.approx(a.hypervolume())
    (caption,) = [t for t in fig.texts if t.get_gid() == "reference_point"]
    assert caption.get_text() == "HV reference point: f1 (min) = 1.1, f2 (min) = 1.1"


@pytest.mark.parametrize(("label", "objectives", "title"), [
    (RunLabel("Problem", "random"), ("cost", "quality"), "cost vs quality (random)"),
    (RunLabel("text", "drw", "drw-tiny"), ("a", "b"), "drw-tiny (drw)"),
    (RunLabel("two-bar truss", "nsga2", "quickstart-truss"), (),
     "quickstart-truss: two-bar truss (nsga2)"),
    (RunLabel("zdt1", "nsga2", "zdt1"), (), "zdt1 (nsga2)"),
])
def test_titles_name_the_run_and_the_solver_never_a_generic_class_name(label, objectives,
                                                                       title):
    assert label.title(objectives) == title


def test_saved_plots_follow_the_number_of_objectives(tmp_path):
    expected = {2: {"front.png", "hypervolume.png"},
                3: {"front.png", "front_parallel.png", "hypervolume.png"},
                4: {"front.png", "front_pairs.png", "hypervolume.png"}}
    for m, files in expected.items():
        folder = tmp_path / str(m)
        written = save_run_plots(_archive(m), folder, RunLabel("Problem", "random"))
        assert {p.name for p in written} == {p.name for p in folder.iterdir()} == files


def test_metric_panels_group_a_prefix_and_skip_what_was_not_logged():
    history = {"weights/helpful": [(1, 0.5), (2, 0.6), (3, 0.7)],
               "weights/short": [(1, 0.5), (2, 0.4), (3, 0.3)],
               "meta_reward": [(1, 1.0), (2, 1.2), (3, 0.9)],
               "loss": [(1, 3.0)]}
    fig = plot_metrics(history, solver_plots("drw").metrics, title="drw-tiny (drw)")
    drawn = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_title() for ax in drawn] == ["weights", "meta_reward"]
    assert [t.get_text() for t in drawn[0].get_legend().get_texts()] == ["helpful", "short"]
    assert [list(line.get_xdata()) for line in drawn[0].lines] == [[1, 2, 3]] * 2
    assert len({line.get_linestyle() for line in drawn[0].lines}) == 2  # equal curves show
    assert all(ax.get_xlabel() == "step" for ax in drawn)
    assert plot_metrics(history, ("eval/l1",)) is None


def test_rounds_colour_each_steps_points_by_step(tmp_path):
    a = _archive(2, n_steps=3, batch=6)
    fig = plot_rounds(a, title="zdt1 (psl)")
    ax = fig.axes[0]
    colored = _by_label(ax)["evaluated"]
    assert list(colored.get_array()) == list(a.step.astype(float))
    assert len(fig.axes) == 2  # the colorbar
    assert _legend_texts(ax.get_legend()) == ["evaluated", "front"]
    written = save_run_plots(a, tmp_path, RunLabel("zdt1", "psl-grad"),
                             history=lambda names: {"loss": [(1, 2.0), (2, 1.0)]})
    assert {p.name for p in written} == {"front.png", "hypervolume.png", "rounds.png",
                                         "metrics.png"}


def test_metric_history_reads_names_and_prefixes_from_the_store(mlflow_uri):
    tracker = MLflowTracker(mlflow_uri, "plots-history")
    tracker.start("h", {})
    for step in (1, 2, 3):
        tracker.log_metrics({"weights/a": 0.1 * step, "weights/b": 1 - 0.1 * step,
                             "meta_reward": float(step), "other": 0.0}, step)
    tracker.flush()
    tracker.wait()
    history = tracker.metric_history(("weights/", "meta_reward", "never_logged"))
    assert set(history) == {"weights/a", "weights/b", "meta_reward"}
    assert history["meta_reward"] == [(1, 1.0), (2, 2.0), (3, 3.0)]
    tracker.end()


def _tiny_run(mlflow_uri, tmp_path, experiment, solver):
    recipe = parse_recipe({
        "name": f"tiny-{solver['name']}",
        "problem": {"name": "hypergrid",
                    "params": {"height": 6, "ndim": 2, "objectives": ["branin", "currin"]}},
        "solver": solver, "budget": {"evaluations": 96}, "seed": 0,
        "tracking": {"uri": mlflow_uri, "experiment": experiment},
        "checkpoint": {"dir": str(tmp_path / "ckpt")}})
    return run_recipe(recipe, progress=False)


def test_a_tiny_mogfn_run_logs_its_metric_curves_and_a_visible_true_front(mlflow_uri,
                                                                         tmp_path):
    res = _tiny_run(mlflow_uri, tmp_path, "plots-mogfn", {
        "name": "mogfn", "config": {"batch_size": 16, "eval_every": 2, "eval_samples": 8,
                                    "eval_partitions": 4}})
    client = MlflowClient(tracking_uri=mlflow_uri)
    plots = {a.path for a in client.list_artifacts(res.run_id, "plots")}
    assert plots == {"plots/front.png", "plots/hypervolume.png", "plots/metrics.png"}

    tracker = MLflowTracker(mlflow_uri, run_id=res.run_id)
    panels = solver_plots("mogfn").metrics
    history = tracker.metric_history(panels)
    assert {"eval/pareto_recall", "eval/l1", "loss"} <= set(history)
    assert [s for s, _ in history["eval/l1"]] == [2, 4, 6]
    fig = plot_metrics(history, panels, title="tiny-mogfn (mogfn)")
    titles = [ax.get_title() for ax in fig.axes if ax.lines]
    assert titles[:2] == ["eval/pareto_recall", "eval/l1"]

    label = RunLabel(client.get_run(res.run_id).data.params["problem"], "mogfn", "tiny-mogfn")
    assert label.title() == "tiny-mogfn: hypergrid_6x6_branin_currin (mogfn)"

    problem = get_problem("hypergrid")(height=6, ndim=2, objectives=["branin", "currin"])
    true_front = problem.pareto_front(500)
    assert len(true_front) < 50  # an exact, discrete front: a few points
    rings = _by_label(plot_front(res.archive, true_front).axes[0])["true front"]
    assert len(rings.get_offsets()) == len(true_front) and rings.get_sizes()[0] >= 50


def test_a_tiny_random_run_logs_no_metric_curves(mlflow_uri, tmp_path):
    res = _tiny_run(mlflow_uri, tmp_path, "plots-random",
                    {"name": "random", "config": {"batch_size": 16}})
    client = MlflowClient(tracking_uri=mlflow_uri)
    plots = {a.path for a in client.list_artifacts(res.run_id, "plots")}
    assert plots == {"plots/front.png", "plots/hypervolume.png"}
