"""helpers.stages.evaluation (and the tables and figures drawn from its output) on a stand-in
experiment with known member probabilities."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.book import figures, report
from helpers.core.config import load_config  # noqa: E402
from helpers.core.variants import variants  # noqa: E402
from helpers.engine import models  # noqa: E402
from helpers.stages import evaluation
from helpers.stats import metrics, uncertainty
from helpers.store.artifacts import Store  # noqa: E402

N_IN, N_OUT, K = 400, 300, 10
SHIFTED = ["rot_090", "c_fog"]


class FakeExperiment:
    """Serves fixed Dirichlet member probabilities; labels agree with the baseline mostly."""

    compute = True

    def __init__(self, root):
        self.config = load_config("smoke")
        self.store = Store(self.config, root=root)
        rng = np.random.default_rng(0)
        self.labels = rng.integers(0, K, N_IN)
        self.train_data = (np.zeros((640, 28, 28, 1), np.float32), np.zeros(640, int))
        self.calls = 0
        self._probs = {}
        sets = [("mnist_test", N_IN), ("notmnist", N_OUT), ("fashion_mnist", N_OUT), *((s, N_IN) for s in SHIFTED)]
        for i, v in enumerate(variants(self.config)):
            for j, (dataset, n) in enumerate(sets):
                alpha = np.ones(K) * (0.3 + v["sparsity"] + 0.2 * (dataset in SHIFTED))
                p = np.random.default_rng(i * 7 + j).dirichlet(alpha, size=(2, n))
                if dataset == "mnist_test" or dataset in SHIFTED:  # make the true class likely
                    p[:, np.arange(n), self.labels] += 1.5
                    p /= p.sum(axis=-1, keepdims=True)
                self._probs[v["name"], dataset] = p.astype(np.float64)

    def dataset(self, name):
        if name == "mnist_test" or name in SHIFTED:
            return (None, self.labels)
        return (np.zeros((N_OUT, 28, 28, 1)), np.zeros(N_OUT, int))

    def shift_dataset_names(self):
        return SHIFTED

    def shift_info(self, name):
        return ("rotated_mnist", 90) if name == "rot_090" else ("corrupted_mnist", "fog")

    def member_probabilities(self, variant, dataset):
        self.calls += 1
        return self._probs[variant, dataset]

    def model_files(self):
        return []

    def pruned(self, sparsity):
        return [models.build_member(self.config, m, prefix=f"m{m}_") for m in range(2)]

    def sizes(self):
        out = {}
        for v in variants(self.config):
            z = int(200_000 / (1 + 10 * v["sparsity"]) / (4 if v["quantization"] != "float32" else 1))
            out[v["name"]] = {"zipped_bytes": z, "member_zipped_bytes": [z // 2, z - z // 2]}
        return out


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    return FakeExperiment(tmp_path_factory.mktemp("fake") / "store")


@pytest.fixture(scope="module")
def results(fake):
    return evaluation.evaluate(fake, force=True)


def test_every_variant_with_known_values(fake, results):
    r = results
    names = [v["name"] for v in variants(fake.config)] + ["single", "single_q8"]
    assert list(r["variants"]) == names and r["config_hash"] == fake.config.hash
    base = r["variants"]["baseline"]
    mean = metrics.ensemble_mean(fake._probs["baseline", "mnist_test"])
    assert base["mnist"]["accuracy"] == pytest.approx(metrics.accuracy(mean, fake.labels))
    assert base["mnist"]["accuracy_low"] <= base["mnist"]["accuracy"] <= base["mnist"]["accuracy_high"]
    # The baseline paired with itself: exactly zero, and McNemar finds no discordant pair.
    assert (base["mnist"]["accuracy_diff"], base["mnist"]["accuracy_diff_low"]) == (0.0, 0.0)
    assert base["mnist"]["vs_baseline"]["accuracy"]["mcnemar"] == {"a_only": 0, "b_only": 0, "p": 1.0}
    assert base["compression_ratio"] == 1.0 and base["zipped_bytes"] == 200_000
    single = r["variants"]["single"]
    assert single["members"] == 1 and single["zipped_bytes"] == 100_000
    assert single["notmnist"]["mean_disagreement"] == pytest.approx(0.0, abs=1e-12)
    s50 = r["variants"]["s50_q8"]
    expected = metrics.accuracy(metrics.ensemble_mean(fake._probs["s50_q8", "mnist_test"]), fake.labels)
    assert s50["mnist"]["accuracy_diff"] == pytest.approx(expected - base["mnist"]["accuracy"])
    assert set(s50["mnist"]["vs_baseline"]["accuracy"]) == {"mcnemar", "no_change", "paper"}


def test_entropy_splits_into_member_entropy_and_disagreement(results):
    for name in ("baseline", "s50_q8", "ft_q8"):
        m = results["variants"][name]["notmnist"]
        assert m["mean_entropy"] == pytest.approx(m["mean_member_entropy"] + m["mean_disagreement"], abs=1e-9)


def test_ood_detection_by_three_scores_and_fashion_only_for_shift_variants(results):
    V = results["variants"]
    assert set(V["s50_q8"]["notmnist"]["detection"]) == {"entropy", "disagreement", "one_minus_confidence"}
    assert "fashion_mnist" in V["s50_q8"] and "fashion_mnist" not in V["s50_float"]
    assert "rot_090" in V["q8"] and "rot_090" not in V["int8full"]
    assert results["datasets"]["rot_090"] == {"kind": "shift", "family": "rotated_mnist", "intensity": 90, "n": N_IN}


def test_family_means_average_the_sets(results):
    m = results["variants"]["q8"]
    assert m["rotated_mnist"]["accuracy"] == m["rot_090"]["accuracy"]
    assert m["corrupted_mnist"]["mean_entropy"] == m["c_fog"]["mean_entropy"]


def test_vs_control_is_the_paired_mean_difference(fake, results):
    d = results["vs_control"]["s50_q8"]["notmnist"]["entropy"]
    ent = lambda v: uncertainty.entropy(metrics.ensemble_mean(fake._probs[v, "notmnist"]))  # noqa: E731
    assert d["estimate"] == pytest.approx(float(np.mean(ent("s50_q8") - ent("ft_q8"))))
    assert d["low"] <= d["estimate"] <= d["high"]


def test_curves_boxes_and_schedule(results):
    c = results["curves"]["baseline"]
    assert len(c["tau"]) == 101 and c["mnist_fraction"][0] == 1.0
    b = results["boxes"]["s50_q8"]["notmnist"]["entropy"]
    assert b["whislo"] <= b["q1"] <= b["med"] <= b["q3"] <= b["whishi"]
    assert results["schedule"]["frequency"] >= 1 and set(results["schedule"]["curves"]) == {"0.5", "0.95"}


def test_second_evaluation_is_served_from_results_json(fake, results):
    calls = fake.calls
    assert evaluation.evaluate(fake) == results
    assert fake.calls == calls


def summary_of(runs):
    from helpers.book.summary import Summary
    from helpers.stages.seed_numbers import numbers

    return Summary(numbers(runs, [r["seed"] for r in runs], 0.05))


def test_tables_show_the_stored_numbers(results):
    t = report.table2_accuracy(results, summary_of([results]), ["baseline", "s50_q8"])
    acc = results["variants"]["s50_q8"]["mnist"]["accuracy"]
    assert t.loc["50 % pruned, int8 weights", "Accuracy, seed 0, over images"].startswith(f"{100 * acc:.2f} %")
    # one seed: the seed-level column shows the mean alone (no interval from one value)
    assert t.loc["50 % pruned, int8 weights", "Accuracy, 1 seed"] == f"{100 * acc:.2f} %"
    assert t.loc["baseline ensemble (float32)", "Δ vs baseline, 1 seed"] == "\u2014"
    assert t.loc["50 % pruned, int8 weights", "Paper Δ"] == "\u22120.01 pp"
    s = report.table2_size(results, ["baseline", "s50_q8"])
    assert s.loc["50 % pruned, int8 weights", "Paper ratio"] == "5×"
    d = report.detection_table(results, ["q8"], "notmnist")
    auroc = results["variants"]["q8"]["notmnist"]["detection"]["disagreement"]["auroc"]
    assert d.iloc[0]["AUROC, disagreement"] == f"{auroc:.3f}"


def test_seed_statistics_and_tables_over_two_runs(results):
    import copy

    other = copy.deepcopy(results)
    other["seed"] = 1
    other["variants"]["baseline"]["mnist"]["accuracy"] += 0.002
    summary = summary_of([results, other])
    s = summary.stat("baseline", "mnist", "accuracy")
    assert s["n"] == 2 and s["low"] < s["mean"] < s["high"]
    assert s["values"] == [
        results["variants"]["baseline"]["mnist"]["accuracy"],
        other["variants"]["baseline"]["mnist"]["accuracy"],
    ]
    d = summary.diff("vs_baseline", "s50_q8", "mnist", "accuracy")
    assert d["values"][1] == pytest.approx(d["values"][0] - 0.002)
    table = report.seed_table(summary, ["s50_q8"])
    assert list(table.index) == ["0", "1", "mean [95 % CI]", "standard deviation"]


def test_figures_draw_what_results_hold(results):
    names = ["baseline", "q8", "s50_q8"]
    fig = figures.figure1(results, names, 0.9)
    lines = [line for line in fig.axes[0].get_lines() if line.get_gid() == "s50_q8"]
    curve = results["curves"]["s50_q8"]
    assert curve["tau"][-1] == 1.0 and max(lines[0].get_xdata()) == curve["tau"][-2]  # stops below τ = 1
    assert np.allclose(lines[0].get_ydata(), 100 * np.asarray(curve["mnist_fraction"][:-1]))
    fig = figures.figure2(results, names, "notmnist", summary_of([results]))
    boxes = [p for p in fig.axes[0].patches if p.get_gid() in names]
    assert [p.get_gid() for p in boxes] == names  # one box per ensemble, in order
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["float", "0 %", "50 %"]  # the box plot's own tick labels, not the budget figure's
    fig = figures.memory_budget(summary_of([results]), ["baseline", "q8", "s50_q8", "single_q8"])
    assert fig.axes[0].get_xscale() == "log"
    for f in (figures.reliability(results, names), figures.roc(results, names, "notmnist")):
        assert {line.get_gid() for line in f.axes[0].get_lines()} >= set(names)


def test_roc_has_a_log_false_positive_axis_and_its_legend_off_the_curves(results):
    names = ["baseline", "q8", "s50_q8"]
    fig = figures.roc(results, names, "notmnist")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim()[1] == 1
    r = results["roc"]["q8"]["notmnist"]["entropy"]
    drawn = next(line for line in ax.get_lines() if line.get_gid() == "q8")
    assert min(drawn.get_xdata()) == min(f for f in r["fpr"] if f > 0)  # fpr = 0 cannot sit on a log axis
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # right of the axes


def test_interactive_figures_draw_the_same_numbers_and_name_every_point(results):
    from helpers.book import interactive

    names = ["baseline", "q8", "s50_q8", "single_q8"]
    summary = summary_of([results])
    fig = interactive.memory_budget(summary, names)
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == 3 * len(names)  # every ensemble in each of the three panels
    q8 = next(t for t in points if t.name == "0 % pruned, int8 weights")
    assert q8.x[0] == pytest.approx(summary.mean("q8", None, "zipped_bytes") / 1000)
    assert q8.y[0] == pytest.approx(summary.stat("q8", "mnist", "nll")["mean"])
    assert "0 % pruned, int8 weights" in q8.hovertemplate and fig.layout.xaxis.type == "log"
    assert [t.name for t in fig.data if t.mode == "lines"] == ["Pareto front"] * 3
    roc = interactive.roc(results, names[:3], "notmnist")
    assert [t.name for t in roc.data] == ["baseline ensemble (float32)", "0 % pruned, int8 weights", "50 % pruned, int8 weights"]
    assert min(roc.data[1].x) > 0 and roc.layout.xaxis.type == "log"
    html = interactive.fragment(roc, "roc-demo")
    assert 'id="roc-demo"' in html and "<script src" not in html  # plotly.js comes from the page, once
    rot = interactive.metric_vs_rotation({"q8": {"30": 0.9, "15": 0.95}}, "accuracy")
    assert list(rot.data[0].x) == [15.0, 30.0] and list(rot.data[0].y) == [0.95, 0.9]
