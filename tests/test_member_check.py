"""helpers.engine.member_check: a member file is what its variant's name says (adopt's check)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.core.config import load_config
from helpers.engine import compression, models
from helpers.engine.member_check import check_member, keras_sparsity, tflite_facts
from helpers.store.keras_archive import save_keras


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    cfg = load_config("smoke")
    dense, sparse = models.build_member(cfg, seed=0), models.build_member(cfg, seed=0)
    for layer in sparse.layers:  # half of every kernel zeroed, as 50 % pruning leaves it
        if layer.__class__.__name__ in compression.PRUNABLE_TYPES:
            w = layer.get_weights()
            k = w[0].copy()
            k.flat[: k.size // 2] = 0.0
            layer.set_weights([k, *w[1:]])
    folder = tmp_path_factory.mktemp("members")
    out = {"dense.keras": folder / "dense.keras", "sparse.keras": folder / "sparse.keras"}
    save_keras(dense, out["dense.keras"])
    save_keras(sparse, out["sparse.keras"])
    for name, model, mode in (("float.tflite", dense, "float32"), ("q8_sparse.tflite", sparse, "int8")):
        out[name] = folder / name
        out[name].write_bytes(compression.to_tflite(model, mode))
    return out


def test_keras_members_must_hold_their_variants_sparsity(files):
    assert keras_sparsity(files["dense.keras"]) < 0.01 and abs(keras_sparsity(files["sparse.keras"]) - 0.5) < 0.01
    check_member(files["dense.keras"], "baseline")
    check_member(files["sparse.keras"], "s50_float")
    with pytest.raises(
        ValueError,
        match=r"sparse.keras has 50.0 % zeros in its kernels, but s95_float is "
        r"95 % sparse: it is another variant's file",
    ):
        check_member(files["sparse.keras"], "s95_float")
    with pytest.raises(ValueError, match=r"but ft is 0 % sparse"):
        check_member(files["sparse.keras"], "ft")


def test_tflite_members_must_hold_their_variants_quantization_and_sparsity(files):
    facts = tflite_facts(files["q8_sparse.tflite"])
    assert facts["int8_weights"] and facts["input"] == "float32" and abs(facts["sparsity"] - 0.5) < 0.02
    assert tflite_facts(files["float.tflite"])["int8_weights"] is False
    check_member(files["float.tflite"], "baseline")
    check_member(files["q8_sparse.tflite"], "s50_q8")
    with pytest.raises(ValueError, match=r"holds int8 weights, but baseline is float32"):
        check_member(files["q8_sparse.tflite"], "baseline")
    with pytest.raises(ValueError, match=r"holds no int8 weights, but q8 is quantized"):
        check_member(files["float.tflite"], "q8")
    with pytest.raises(ValueError, match=r"takes float32 input, but s50_int8full takes int8"):
        check_member(files["q8_sparse.tflite"], "s50_int8full")
    with pytest.raises(ValueError, match=r"but s95_q8 is 95 % sparse"):
        check_member(files["q8_sparse.tflite"], "s95_q8")
    assert np.isclose(tflite_facts(files["q8_sparse.tflite"])["sparsity"], facts["sparsity"])
