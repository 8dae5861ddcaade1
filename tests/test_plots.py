"""Tests for helpers.book.plots on synthetic Dirichlet data (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.book import plots as P  # noqa: E402
from helpers.core import variants

VARIANTS = ["baseline", "q8", "s25_q8", "s50_q8", "s50_float", "s95_q8"]
K, M = 10, 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, K, 400)
    mnist, notmnist, members_out = {}, {}, {}
    for i, v in enumerate(VARIANTS):
        onehot = np.eye(K)[labels]
        mnist[v] = (0.7 * onehot + 0.3 * rng.dirichlet(np.ones(K) * (0.2 + 0.1 * i), 400), labels)
        members_out[v] = rng.dirichlet(np.ones(K) * (0.3 + 0.1 * i), size=(M, 300))
        notmnist[v] = members_out[v].mean(0)
    return mnist, notmnist, members_out


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def lines_by_gid(ax):
    return {line.get_gid(): line for line in ax.get_lines()}


# ------------------------------------------------------------------------------ variants


@pytest.mark.parametrize(
    "name, expected",
    [
        ("baseline", (0.0, "float32")),
        ("single", (0.0, "float32")),
        ("q8", (0.0, "int8")),
        ("s25_q8", (0.25, "int8")),
        ("s50_float", (0.5, "float32")),
        ("s95_int8full", (0.95, "int8full")),
        ("s5_q8", (0.05, "int8")),
    ],
)
def test_parse_variant(name, expected):
    assert variants.parse_variant(name) == expected


@pytest.mark.parametrize("name", ["", "s50", "s50_q4", "s100_q8", "S50_q8", "pruned50", "s50_q8 ", None])
def test_parse_variant_rejects_bad_names(name):
    with pytest.raises(
        ValueError,
        match="is not recognised; expected 'baseline', 'single', 'q8', the re-training "
        "control 'ft' / 'ft_q8' / 'ft_int8full', or 'sNN_q8'",
    ):
        variants.parse_variant(name)


def test_colors_follow_sparsity_and_styles_follow_format():
    assert P.variant_color("baseline") == P.variant_color("q8") == "#000000"
    assert P.variant_color("s50_q8") == P.variant_color("s50_float") == P.variant_color("s50_int8full")
    assert len({P.variant_color(v) for v in ["q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8", "single"]}) == 6
    assert P.variant_linestyle("s50_q8") == "-" and P.variant_linestyle("s50_float") == "--"
    assert P.variant_linestyle("baseline") != P.variant_linestyle("q8")
    assert P.variant_color("s60_q8").startswith("#")  # unlisted sparsity still gets a fixed colour
    ordered = ["baseline", "q8", "s50_float", "s50_q8", "s95_q8"]
    assert P.sort_variants(["s95_q8", "q8", "s50_q8", "baseline", "s50_float"]) == ordered


# ------------------------------------------------------------------------------ Figure 1


# ------------------------------------------------------------------------------ Figure 2


# ---------------------------------------------------------------------------- extensions


# ------------------------------------------------------------------------------------ I/O


def test_save_figure_writes_png_and_svg(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png, svg = P.save_figure(fig, tmp_path / "sub" / "fig1")
    assert png == tmp_path / "sub" / "fig1.png" and svg == tmp_path / "sub" / "fig1.svg"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 1000
    assert b"<svg" in svg.read_bytes()
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["fig1.png", "fig1.svg"]  # no temp files left
    P.save_figure(fig, tmp_path / "sub" / "fig1")  # overwriting is fine
    first = svg.read_bytes()
    P.save_figure(fig, tmp_path / "sub" / "fig1")
    assert svg.read_bytes() == first  # deterministic SVG


def test_save_figure_rejects_suffix(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="expected a path without a file suffix"):
        P.save_figure(fig, tmp_path / "fig1.png")


# ------------------------------------------------------------------- chapter 1-3 figures


def test_sample_grid_shows_per_class_images_in_class_rows():
    x = np.zeros((30, 28, 28, 1), np.float32)
    y = np.repeat(np.arange(3), 10)
    x[y == 1] = 1.0  # class 1 all ink
    fig, caption = P.sample_grid(x, y, ["a", "b", "c"], per_class=4, title="Toy")
    axes = np.array(fig.axes).reshape(3, 4)
    assert axes.shape == (3, 4)
    assert float(axes[1, 0].images[0].get_array().mean()) == 1.0
    assert float(axes[0, 3].images[0].get_array().mean()) == 0.0
    assert [t.get_text() for t in axes[2, 0].texts] == ["c"]
    assert caption.startswith("Toy: the first 4 images of each class")


def test_learning_curves_draw_train_and_validation_per_member():
    hist = [
        [
            {"loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.1 * e, "val_loss": 1.2 / (e + 1), "val_accuracy": 0.45 + 0.1 * e}
            for e in range(3)
        ]
        for _ in range(2)
    ]
    fig, _ = P.learning_curves(hist)
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.get_lines()) == 4 and len(acc_ax.get_lines()) == 4  # 2 members x train/val
    assert list(acc_ax.get_lines()[0].get_ydata()) == pytest.approx([50, 60, 70])
    assert loss_ax.get_ylabel() == "NLL (nats)" and acc_ax.get_xlabel() == "epoch"
    fig.canvas.draw()
    assert all(float(t.get_text()).is_integer() for t in acc_ax.get_xticklabels() if t.get_text())  # whole epochs
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["member 0", "member 1", "training", "validation"]


def test_members_vs_ensemble_plots_percentages():
    fig, _ = P.members_vs_ensemble([0.98, 0.97], [0.98, 0.985])
    ax = fig.axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([98.0, 98.5])
    assert ax.collections[0].get_offsets()[:, 1].tolist() == pytest.approx([98.0, 97.0])
    assert ax.get_ylabel() == "MNIST test accuracy (%)"


def test_sparsity_schedules_one_line_per_target_in_its_colour():
    steps = np.arange(5)
    fig, _ = P.sparsity_schedules({0.5: (steps, np.linspace(0, 0.5, 5)), 0.95: (steps, np.linspace(0, 0.95, 5))})
    lines = fig.axes[0].get_lines()
    assert [to_hex(line.get_color()) for line in lines] == [P.sparsity_color(0.5).lower(), P.sparsity_color(0.95).lower()]
    assert lines[1].get_ydata()[-1] == pytest.approx(95.0)
    assert P.sparsity_color(0.5) == P.variant_color("s50_q8")


def test_the_memory_budget_reads_at_page_width():
    """Plain kB ticks at 1-3-10 steps (no overprinted log labels), a colour key for the
    sparsities, and the Pareto front's points named."""
    from helpers.book import figures
    from helpers.book.summary import Summary

    sizes = {"baseline": 110000, "q8": 28000, "s50_q8": 18000, "s95_q8": 5500, "single": 22000}
    stat = lambda m: {"n": 3, "mean": m, "sd": 0.0, "low": m - 0.001, "high": m + 0.001}  # noqa: E731
    data = {
        "stats": {
            n: {
                "size": {"zipped_bytes": stat(b)},
                "mnist": {"nll": stat(0.02 + k / 100), "ece": stat(0.003)},
                "notmnist": {"detection.entropy.auroc": stat(0.95)},
            }
            for k, (n, b) in enumerate(sizes.items())
        },
        "fronts": {"nll": ["s95_q8", "s50_q8", "q8", "baseline"], "ece": ["s95_q8"], "detection.entropy.auroc": ["s95_q8"]},
        "seeds": [0, 1, 2],
        "n_seeds": 3,
    }
    fig = figures.memory_budget(Summary(data), list(sizes))
    ax = fig.axes[0]
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "30", "100"]
    assert all(t.get_text() == "" for t in ax.get_xticklabels(minor=True))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[-4:] == ["0 % pruned", "50 % pruned", "95 % pruned", "single model"]
    assert [a.get_text() for a in ax.texts] == ["95 % q8", "50 % q8", "0 % q8", "float32 ensemble"]  # reader labels, no keys
    ece = fig.axes[1]  # in percent, as the tables print it
    assert ece.get_ylabel() == "MNIST ECE (%)"
    dots = [line for line in ece.get_lines() if line.get_gid() == "q8"]
    assert dots[0].get_ydata()[0] == pytest.approx(0.3)


def test_progress_bars_follow_epochs_and_stay_off_without_a_terminal():
    from helpers.core import progress

    ticks = []
    on_epoch = progress.epochs("training", 3, then=lambda e, h: ticks.append(e))
    assert on_epoch.bar.disable  # pytest's stderr is no terminal: no bar is drawn
    on_epoch(1, None)  # a resumed run reports its first epoch after the checkpoint
    on_epoch(2, None)
    assert ticks == [1, 2]
    assert list(progress.each(["a", "b"], "evaluating")) == ["a", "b"]
