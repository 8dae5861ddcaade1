"""helpers.evaluation on a stand-in experiment with known member probabilities."""

import numpy as np
import pytest

from helpers import evaluation, metrics, tables
from helpers.config import load_config
from helpers.variants import variants
from helpers.store import Store

N_IN, N_OUT, K = 400, 300, 10


class FakeExperiment:
    """Serves fixed Dirichlet member probabilities; labels agree with the baseline mostly."""

    def __init__(self, root):
        self.config = load_config("smoke")
        self.store = Store(self.config, root=root)
        rng = np.random.default_rng(0)
        self.labels = rng.integers(0, K, N_IN)
        self.calls = 0
        self._probs = {}
        for i, v in enumerate(variants(self.config)):
            for dataset, n in (("mnist_test", N_IN), ("notmnist", N_OUT)):
                alpha = np.ones(K) * (0.3 + v["sparsity"])  # sparser -> flatter
                p = np.random.default_rng(i * 7 + n).dirichlet(alpha, size=(2, n))
                if dataset == "mnist_test":  # make the true class likely
                    p[:, np.arange(n), self.labels] += 1.5
                    p /= p.sum(axis=-1, keepdims=True)
                self._probs[v["name"], dataset] = p.astype(np.float64)

    def dataset(self, name):
        return (None, self.labels) if name == "mnist_test" else (None, np.zeros(N_OUT, int))

    def member_probabilities(self, variant, dataset):
        self.calls += 1
        return self._probs[variant, dataset]

    def sizes(self):
        out = {}
        for v in variants(self.config):
            z = int(200_000 / (1 + 10 * v["sparsity"]) / (4 if v["quantization"] != "float32" else 1))
            out[v["name"]] = {"zipped_bytes": z, "member_zipped_bytes": [z // 2, z - z // 2]}
        return out


@pytest.fixture
def fake(tmp_path):
    return FakeExperiment(tmp_path / "store")


def test_results_hold_every_variant_with_the_schema_and_known_values(fake):
    r = evaluation.evaluate(fake)
    names = ["single"] + [v["name"] for v in variants(fake.config)]
    assert list(r["variants"]) == names and r["config_hash"] == fake.config.hash
    base = r["variants"]["baseline"]
    mean = metrics.ensemble_mean(fake._probs["baseline", "mnist_test"])
    assert base["mnist"]["accuracy"] == pytest.approx(metrics.accuracy(mean, fake.labels))
    assert base["mnist"]["accuracy_low"] <= base["mnist"]["accuracy"] <= base["mnist"]["accuracy_high"]
    # The baseline paired with itself: exactly zero, with a zero-width interval.
    assert (base["mnist"]["accuracy_diff"], base["mnist"]["accuracy_diff_low"],
            base["mnist"]["accuracy_diff_high"]) == (0.0, 0.0, 0.0)
    assert base["compression_ratio"] == 1.0 and base["zipped_bytes"] == 200_000
    single = r["variants"]["single"]
    assert single["members"] == 1 and single["zipped_bytes"] == 100_000
    assert single["compression_ratio"] == pytest.approx(2.0)
    assert single["notmnist"]["mean_disagreement"] == pytest.approx(0.0, abs=1e-12)
    s50 = r["variants"]["s50_q8"]
    expected_diff = metrics.accuracy(metrics.ensemble_mean(fake._probs["s50_q8", "mnist_test"]),
                                     fake.labels) - base["mnist"]["accuracy"]
    assert s50["mnist"]["accuracy_diff"] == pytest.approx(expected_diff)
    ood = s50["notmnist"]
    ent = metrics.entropy(metrics.ensemble_mean(fake._probs["s50_q8", "notmnist"]))
    assert ood["mean_entropy"] == pytest.approx(ent.mean())
    assert set(ood) >= {"conf_frac_090", "auroc", "aupr", "fpr_at_95_tpr", "mean_disagreement"}
    assert fake.store.read_json("results.json") == r


def test_second_evaluation_is_served_from_results_json(fake):
    evaluation.evaluate(fake)
    calls = fake.calls
    evaluation.evaluate(fake)
    assert fake.calls == calls
    evaluation.evaluate(fake, force=True)
    assert fake.calls > calls


def test_table2_rows_feed_table2_with_nan_delta_for_the_baseline(fake):
    r = evaluation.evaluate(fake)
    rows = evaluation.table2_rows(r, ["baseline", "single", "s50_q8"])
    t = tables.table2(rows)
    assert np.isnan(t.numeric.loc["baseline", "accuracy_diff"])
    assert t.numeric.loc["s50_q8", "paper_compression_ratio"] == 5.0
    assert t.numeric.loc["s50_q8", "accuracy"] == r["variants"]["s50_q8"]["mnist"]["accuracy"]


@pytest.mark.parametrize("profile, expected", [
    ("paper", ("quick", [0, 1, 2, 3, 4])), ("smoke", ("smoke", [0, 1])),
    ("quick", ("quick", [0, 1, 2, 3, 4]))])
def test_spread_plan(profile, expected):
    assert evaluation.spread_plan(profile) == expected
