"""An extension costs what it adds (helpers.store.reuse): on the smoke profile, adding a sparsity
opens a new store that copies every member another store already made from the same values
and re-trains only the new sparsity's; counted, not timed."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from conftest import needs_real_data
from helpers.core.config import load_config
from helpers.core.fileio import sha256_file
from helpers.engine import compression, ensemble
from helpers.stages.experiment import Experiment
from helpers.store import reuse
from helpers.store.artifacts import Store


def test_member_keys_separate_what_shapes_a_member_from_what_does_not():
    base = load_config("smoke").values()
    more = load_config("smoke", sparsities=[0.5, 0.75, 0.95]).values()
    other_seed = load_config("smoke", seed=1).values()
    longer = load_config("smoke", retrain_epochs=2).values()
    assert reuse.member_key(base, "baseline") == reuse.member_key(more, "baseline") == reuse.member_key(longer, "baseline")
    assert reuse.member_key(base, "s50_float") == reuse.member_key(more, "s50_float")
    assert reuse.member_key(base, "baseline") != reuse.member_key(other_seed, "baseline")
    assert reuse.member_key(base, "ft") != reuse.member_key(longer, "ft")  # re-training values shape it


@needs_real_data
@pytest.mark.slow
def test_adding_a_sparsity_trains_only_its_members(artifacts_dir, monkeypatch, capsys):
    first = Experiment(load_config("smoke"))
    first.retrained()  # the baseline, the control and 50 %, 95 %
    trained, pruned = [], []
    real_train, real_prune = ensemble.train_ensemble, compression.prune_all
    monkeypatch.setattr(ensemble, "train_ensemble", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    monkeypatch.setattr(
        compression,
        "prune_all",
        lambda cfg, members, x, y, targets, **k: pruned.append(list(targets)) or real_prune(cfg, members, x, y, targets, **k),
    )
    cfg = load_config("smoke", sparsities=[0.5, 0.75, 0.95])
    second = Experiment(cfg)
    assert second.store.root != first.store.root  # another pruning hash: its own store
    second.retrained()
    assert trained == [] and pruned == [[0.75]]  # the baseline and 50 %, 95 % were copied
    for variant in ("baseline", "ft", "s50_float", "s95_float"):
        ours = [sha256_file(p) for p in second._paths(variant, ".keras")]
        assert ours == [sha256_file(p) for p in first._paths(variant, ".keras")]
    manifest = second.store.manifest()
    assert manifest["copied"]["baseline"]["from"] == first.store.root.name
    assert "s75_float" not in manifest["copied"]
    histories = json.loads(second.store.path("histories.json").read_text())
    assert {"train", "retrain_s50_float", "retrain_s75_float"} <= set(histories)
    assert "copied from the store smoke (the same values shape them): not trained again." in capsys.readouterr().out


# -------------------------------------------------------------- a new out-of-distribution set


def _again(monkeypatch):
    """Register Fashion-MNIST's files a second time, under another name: one entry."""
    from helpers.core import datasets

    entry = dataclasses.replace(datasets.DATASETS["fashion_mnist"], name="fashion_again", label="Fashion-MNIST again")
    monkeypatch.setitem(datasets.DATASETS, "fashion_again", entry)
    return entry


def test_a_registered_ood_set_is_evaluated_on_every_variant_without_touching_a_model(tmp_path, monkeypatch):
    """One registry entry: the next evaluation (not served from the cached results, which lack
    it) scores it on every variant like the other sets, and the aggregate labels it."""
    from helpers.stages import evaluation
    from helpers.stages.seed_numbers import numbers
    from test_evaluation import FakeExperiment

    fake = FakeExperiment(tmp_path / "store")
    before = evaluation.evaluate(fake, force=True)
    assert "fashion_again" not in before["datasets"]
    _again(monkeypatch)
    served = fake.member_probabilities
    asked = []
    fake.member_probabilities = lambda v, d: asked.append(d) or served(v, "fashion_mnist" if d == "fashion_again" else d)
    after = evaluation.evaluate(fake)  # no force: the cached results lack the new set
    assert after["datasets"]["fashion_again"] == {**before["datasets"]["fashion_mnist"], "family": "fashion_again"}
    assert "fashion_again" in asked
    for name, entry in after["variants"].items():  # the same images, so the same numbers
        if "fashion_mnist" in entry:
            assert entry["fashion_again"] == entry["fashion_mnist"], name
        assert entry["notmnist"] == before["variants"][name]["notmnist"], name  # the rest unchanged
    summary = numbers([after], [0], 0.05)
    assert summary["datasets"]["fashion_again"] == {"label": "Fashion-MNIST again", "kind": "ood"}


@needs_real_data
def test_a_registered_ood_set_loads_through_the_registry(tmp_path, monkeypatch):
    """The loader follows the entry (its files, digests, subset key); the experiment serves it
    by name and the config's data: section is checked against the registry."""
    from helpers.core import datasets
    from helpers.data.loaders import load_dataset

    entry = _again(monkeypatch)
    cfg = load_config("smoke")
    exp = Experiment(cfg, store=Store(cfg, root=tmp_path / "store"), compute=False)
    x, y = exp.dataset("fashion_again")
    x_ref, y_ref = load_dataset("fashion_mnist", subset=exp.config.ood_subset, subset_seed=exp.config.subset_seed)
    assert len(x) == exp.config.ood_subset and np.array_equal(x, x_ref) and np.array_equal(y, y_ref)
    assert datasets.ood_names()[0] == "notmnist" and "fashion_again" in datasets.ood_names()
    assert datasets.label("fashion_again") == entry.label and datasets.label("rotated_mnist") == "rotated MNIST"
    broken = dataclasses.replace(entry, content_sha256="0" * 64)
    monkeypatch.setitem(datasets.DATASETS, "fashion_again", broken)
    with pytest.raises(ValueError, match="decoded Fashion-MNIST again arrays have sha256 .* but 0{64} was expected"):
        load_dataset("fashion_again")


# ---------------------------------------------------------------------------- a new metric


def test_a_new_metric_is_one_function_and_its_name(tmp_path, monkeypatch):
    """helpers.stats.metrics.LABELLED: the evaluation scores every variant with it, on MNIST
    and the shifted sets; the aggregate describes it across seeds. Known answer: the top-2
    error of an ensemble is at most its error, and equal to it when one class takes it all."""
    from helpers.stages import evaluation
    from helpers.stages.seed_numbers import numbers
    from helpers.stats import metrics
    from test_evaluation import FakeExperiment

    def top2_error(probs, labels):
        return float(np.mean([label not in np.argsort(p)[-2:] for p, label in zip(probs, labels)]))

    monkeypatch.setitem(metrics.LABELLED, "top2_error", top2_error)
    results = evaluation.evaluate(FakeExperiment(tmp_path / "store"), force=True)
    for name, entry in results["variants"].items():
        assert 0.0 <= entry["mnist"]["top2_error"] <= 1.0 - entry["mnist"]["accuracy"] + 1e-12, name
    assert "top2_error" in results["variants"]["q8"]["rot_090"]
    assert set(metrics.LABELLED) - {"top2_error"} == {"nll", "brier", "ece"}  # the others unchanged
    stats = numbers([results, results], [0, 1], 0.05)["stats"]
    described = stats["q8"]["mnist"]["top2_error"]
    assert described["n"] == 2 and described["mean"] == results["variants"]["q8"]["mnist"]["top2_error"]
    assert top2_error(np.eye(10)[[3, 4]], [3, 5]) == 0.5  # one-hot: top-2 error is the error
