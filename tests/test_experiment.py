"""End-to-end test of helpers.stages.experiment on the smoke profile (real MNIST/NotMNIST subsets,
M=2, sparsities 50 % and 95 %) in a temporary artifacts folder."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import needs_real_data, real_data_dir
from helpers.core import variants
from helpers.core.config import load_config
from helpers.core.fileio import atomic_write_bytes
from helpers.engine import compression, ensemble
from helpers.stages import experiment as E
from helpers.store.artifacts import Store, StoreError

SMOKE_VARIANTS = [
    "baseline",
    "q8",
    "int8full",
    "ft",
    "ft_q8",
    "ft_int8full",
    "s50_float",
    "s50_q8",
    "s50_int8full",
    "s95_float",
    "s95_q8",
    "s95_int8full",
]


def test_variant_names_and_labels():
    cfg = load_config("smoke")
    assert [v["name"] for v in variants.variants(cfg)] == SMOKE_VARIANTS
    assert variants.variant_name(0.5, "int8") == "s50_q8"
    assert variants.variant_name(0.25, "float32") == "s25_float"
    assert variants.variant_name(0.95, "int8full") == "s95_int8full"
    assert variants.variant_name(0.0, "float32") == "baseline"
    info = E.variant_info(cfg, "s50_q8")
    assert (info["name"], info["sparsity"], info["quantization"]) == ("s50_q8", 0.5, "int8")
    info = E.variant_info(cfg, "int8full")
    assert (info["sparsity"], info["quantization"]) == (0.0, "int8full")
    paper = [v["name"] for v in variants.variants(load_config("paper"))]
    assert len(paper) == 18 and {"s25_q8", "s75_q8", "s95_q8", "ft_q8"} <= set(paper)


def test_unknown_variant_is_one_clear_error():
    cfg = load_config("smoke")
    with pytest.raises(
        ValueError, match="Variant 's25_q8' is not part of this config; known variants: " + ", ".join(SMOKE_VARIANTS) + r"\."
    ):
        E.variant_info(cfg, "s25_q8")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke experiment built once: baseline, both pruned variants, every .tflite file
    and sizes.json, in a temporary artifacts folder."""
    tmp = tmp_path_factory.mktemp("experiment")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDE_ARTIFACTS_DIR", str(tmp / "artifacts"))
        mp.setenv("CDE_CACHE_DIR", str(tmp / "cache"))
        mp.setenv("CDE_DATA_DIR", str(real_data_dir()))
        exp = E.Experiment(load_config("smoke"))
        base = exp.baseline()
        pruned = {s: exp.pruned(s) for s in (0.5, 0.95)}
        sizes = exp.sizes()
        yield {"exp": exp, "base": base, "pruned": pruned, "sizes": sizes, "tmp": tmp}


def _reopen(smoke, monkeypatch) -> E.Experiment:
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(smoke["tmp"] / "artifacts"))
    monkeypatch.setenv("CDE_CACHE_DIR", str(smoke["tmp"] / "cache"))
    monkeypatch.setenv("CDE_DATA_DIR", str(real_data_dir()))
    return E.Experiment(load_config("smoke"))


@needs_real_data
@pytest.mark.slow
def test_store_layout_and_manifest(smoke):
    exp = smoke["exp"]
    cfg = exp.config
    assert exp.store.root == smoke["tmp"] / "artifacts" / "smoke"
    manifest = exp.store.manifest()
    assert manifest["config_hash"] == cfg.hash
    expected = {
        f"models/{v['name']}/member_{m}{suffix}"
        for v in variants.variants(cfg)
        for m in range(2)
        for suffix in ((".tflite", ".keras") if v["quantization"] == "float32" else (".tflite",))
    }
    assert set(manifest["files"]) == expected  # 24 .tflite + 8 float .keras files
    assert len(expected) == 32
    assert {"training", "pruning", "quantization"} <= set(manifest["timings"])
    assert set(manifest["data_digests"])
    hist = exp.store.read_json("histories.json")
    assert set(hist) == {"train", "retrain_ft", "retrain_s50_float", "retrain_s95_float"}
    for key in hist:
        assert len(hist[key]) == 2  # members
        assert set(hist[key][0][0]) == set(ensemble.HISTORY_KEYS)
    assert len(hist["train"][0]) == cfg.epochs and len(hist["retrain_s50_float"][0]) == cfg.retrain_epochs


@needs_real_data
@pytest.mark.slow
def test_pruned_members_reach_their_sparsity(smoke):
    for s, members in smoke["pruned"].items():
        assert len(members) == 2
        for member in members:
            for layer, value in compression.kernel_sparsity(member).items():
                assert abs(value - s) <= 0.005, (s, layer, value)
    for member in smoke["base"]:
        assert max(compression.kernel_sparsity(member).values()) < 0.01


@needs_real_data
@pytest.mark.slow
def test_sizes_and_compression_ratios(smoke):
    sizes = smoke["sizes"]
    assert list(sizes) == SMOKE_VARIANTS
    assert sizes == smoke["exp"].store.read_json("sizes.json")
    assert sizes["baseline"]["compression_ratio"] == 1.0
    assert sizes["q8"]["compression_ratio"] > 3
    for entry in sizes.values():
        assert entry["zipped_bytes"] == sum(entry["member_zipped_bytes"])
        assert len(entry["member_zipped_bytes"]) == 2
        assert entry["compression_ratio"] == pytest.approx(sizes["baseline"]["zipped_bytes"] / entry["zipped_bytes"])
    for quant in ("float", "q8", "int8full"):  # sparser -> smaller, in every container
        dense = "baseline" if quant == "float" else quant
        assert sizes[dense]["zipped_bytes"] > sizes[f"s50_{quant}"]["zipped_bytes"] > sizes[f"s95_{quant}"]["zipped_bytes"], quant
    for name in ("q8", "s50_q8", "s95_q8"):  # the bound is below what zip achieves
        assert 0 < sizes[name]["lower_bound_bytes"] < sizes[name]["zipped_bytes"]
    # the .tflite files on disk are what was measured
    exp = smoke["exp"]
    path = exp.store.model_path("s50_q8", 1, ".tflite")
    assert compression.zipped_size(path) == sizes["s50_q8"]["member_zipped_bytes"][1]


@needs_real_data
@pytest.mark.slow
def test_member_probabilities_shape_and_cache(smoke, monkeypatch):
    exp = smoke["exp"]
    probs = exp.member_probabilities("s50_q8", "mnist_test")
    assert probs.shape == (2, 300, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-5)
    _, labels = exp.dataset("mnist_test")
    assert np.mean(probs.mean(axis=0).argmax(axis=1) == labels) > 0.6
    base = exp.member_probabilities("baseline", "mnist_test")
    np.testing.assert_allclose(base[1], smoke["base"][1].predict(exp.dataset("mnist_test")[0], verbose=0), rtol=1e-5, atol=1e-6)
    # int8 weights barely change the predictions of the float model they come from
    pruned_float = exp.member_probabilities("s50_float", "mnist_test")
    assert np.abs(pruned_float - probs).mean() < 0.02
    assert np.mean(pruned_float.mean(0).argmax(1) == probs.mean(0).argmax(1)) > 0.95
    ood = exp.member_probabilities("s95_int8full", "notmnist")
    assert ood.shape == (2, 300, 10)

    def boom(*args, **kwargs):
        raise AssertionError("the predictor ran although the result is cached")

    from helpers.engine import predict  # Experiment imports its predictors when it predicts

    monkeypatch.setattr(predict, "tflite_probabilities", boom)
    monkeypatch.setattr(predict, "keras_probabilities", boom)
    np.testing.assert_array_equal(exp.member_probabilities("s50_q8", "mnist_test"), probs)
    np.testing.assert_array_equal(exp.member_probabilities("baseline", "mnist_test"), base)
    with pytest.raises(ValueError, match="Dataset 'cifar' is unknown; use one of mnist_test, notmnist."):
        exp.member_probabilities("q8", "cifar")
    with pytest.raises(ValueError, match="Variant 'q4' is not part of this config"):
        exp.member_probabilities("q4", "mnist_test")


@needs_real_data
@pytest.mark.slow
def test_a_rerun_loads_everything_from_the_store(smoke, monkeypatch):
    exp = _reopen(smoke, monkeypatch)
    assert exp.store.root == smoke["exp"].store.root

    def boom(*args, **kwargs):
        raise AssertionError("recomputed although the store has it")

    monkeypatch.setattr(ensemble, "train_ensemble", boom)
    monkeypatch.setattr(compression, "prune_all", boom)
    monkeypatch.setattr(compression, "to_tflite", boom)
    for trained, loaded in zip(smoke["base"], exp.baseline()):
        for a, b in zip(trained.get_weights(), loaded.get_weights()):
            assert np.array_equal(a, b)
    for a, b in zip(smoke["pruned"][0.95][0].get_weights(), exp.pruned(0.95)[0].get_weights()):
        assert np.array_equal(a, b)
    assert exp.sizes() == smoke["sizes"]
    assert exp.tflite_paths("q8") == [exp.store.model_path("q8", m, ".tflite") for m in range(2)]


@needs_real_data
@pytest.mark.slow
def test_corrupt_keras_file_is_a_store_error(smoke, tmp_path):
    cfg = load_config("smoke")
    root = tmp_path / "copy"
    shutil.copytree(smoke["exp"].store.root, root)
    exp = E.Experiment(cfg, store=Store(cfg, root=root))
    path = exp.store.model_path("baseline", 1, ".keras")
    with open(path, "r+b") as f:  # a truncated file: its checksum no longer matches
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(StoreError, match=f"{path} is corrupt or was not written by this pipeline"):
        exp.baseline()
    atomic_write_bytes(path, b"not a zip archive")  # checksum recorded, content unreadable
    exp.store.record_files([path])
    with pytest.raises(
        StoreError,
        match=f"{path} could not be loaded as a Keras model "
        r"\([A-Za-z]+\); delete it and re-run the pipeline\.",
    ):
        exp.baseline()


@needs_real_data
@pytest.mark.slow
def test_conversion_steps_a_progress_bar_per_member(smoke, tmp_path, monkeypatch):
    """Converting a variant is a stage with its own bar: one step per member file."""
    from helpers.core import progress

    cfg = load_config("smoke")
    root = tmp_path / "copy"
    shutil.copytree(smoke["exp"].store.root, root)
    exp = E.Experiment(cfg, store=Store(cfg, root=root))
    for path in exp.store.root.glob("models/q8/member_*.tflite"):
        path.unlink()  # q8 is converted again from the stored baseline members
    steps = []

    def each(items, what):
        steps.append((what, len(items)))
        return items

    monkeypatch.setattr(progress, "each", each)
    paths = exp.tflite_paths("q8")
    assert steps == [("converting q8", cfg.ensemble_size)] and all(p.exists() for p in paths)
