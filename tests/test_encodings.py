"""Tests for helpers.engine.encodings: the sparse container round-trips .tflite files byte for
byte, its mask codes round-trip, LiteRT runs TFLite's own sparse files with the dense
file's outputs, and the float32 kernel the converter keeps is found and priced."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import synthetic_digits
from helpers.core.config import load_config
from helpers.engine import compression, encodings, models
from helpers.engine.predict import TFLiteMember


def _magnitude_pruned(sparsity: float, seed: int = 0):
    """A Table 1 member whose conv2 and dense kernels have their smallest `sparsity`
    fraction of weights set to zero (what magnitude pruning leaves, without training)."""
    member = models.build_member(load_config("smoke"), seed)
    for layer in member.layers:
        weights = layer.get_weights()
        if layer.__class__.__name__ in compression.PRUNABLE_TYPES and weights[0].size >= 1024:
            kernel = weights[0]
            cut = np.quantile(np.abs(kernel), sparsity)
            weights[0] = np.where(np.abs(kernel) <= cut, 0.0, kernel).astype(np.float32)
            layer.set_weights(weights)
    return member


@pytest.fixture(scope="module")
def members():
    """{sparsity: (float member, its int8-weights .tflite bytes)}."""
    out = {}
    for s in (0.0, 0.5, 0.95):
        m = _magnitude_pruned(s)
        out[s] = (m, compression.to_tflite(m, "int8"))
    return out


@pytest.mark.parametrize(
    "mask",
    [
        np.zeros(10, bool),
        np.ones(10, bool),
        np.r_[np.zeros(254, bool), [True]],
        np.r_[np.zeros(255, bool), [True]],
        np.r_[[True], np.zeros(600, bool), [True], np.zeros(510, bool)],
        np.random.default_rng(0).random(5000) < 0.05,
    ],
)
def test_mask_codes_round_trip(mask):
    assert np.array_equal(encodings._ungaps(encodings._gaps(mask), mask.size), mask)
    for kind in ("bits", "gaps"):
        code = np.packbits(mask).tobytes() if kind == "bits" else encodings._gaps(mask)
        assert np.array_equal(encodings._mask_decode(kind, code, mask.size), mask)


def test_gap_code_counts_zero_runs():
    # runs of zeros before each non-zero, and after the last: 2, 0, 255 (= 255 then 0), 1
    mask = np.r_[[False, False, True, True], np.zeros(255, bool), [True, False]]
    assert encodings._gaps(mask) == bytes([2, 0, 255, 0, 1])


def test_mask_code_is_a_bitmap_at_half_density_and_gaps_when_sparse():
    rng = np.random.default_rng(1)
    assert encodings._mask_code(rng.random(20000) < 0.5)[0] == "bits"
    assert encodings._mask_code(rng.random(20000) < 0.03)[0] == "gaps"


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.95])
def test_container_decodes_to_the_identical_file_which_litert_runs(members, sparsity):
    _, tflite = members[sparsity]
    packed = encodings.pack_sparse(tflite)
    assert packed.startswith(encodings.MAGIC)
    decoded = encodings.unpack_sparse(packed)
    assert decoded == tflite
    x, _ = synthetic_digits(20, seed=2)
    np.testing.assert_array_equal(TFLiteMember(decoded)(x), TFLiteMember(tflite)(x))


def test_container_cuts_out_the_two_large_int8_kernels(members):
    _, tflite = members[0.5]
    segments = encodings._segments(tflite)
    # conv2 (5*5*28*32 = 22,400 weights) and dense (512*10 = 5,120); conv1 (252) stays float
    assert sorted(length for _, length in segments) == [5120, 22400]
    assert len(encodings.non_weight_bytes(tflite)) == len(tflite) - 5120 - 22400


def test_container_beats_zip_when_sparse_and_costs_little_when_dense(members):
    dense, sparse = members[0.0][1], members[0.95][1]
    container = lambda b: encodings.deflate_size(encodings.pack_sparse(b), 9)  # noqa: E731
    assert container(sparse) < 0.97 * encodings.deflate_size(sparse, 9)
    assert container(dense) < 1.05 * encodings.deflate_size(dense, 9)


def test_unpack_refuses_what_is_not_a_container(members):
    with pytest.raises(encodings.EncodingError, match="not a sparse container"):
        encodings.unpack_sparse(members[0.5][1])
    packed = encodings.pack_sparse(members[0.5][1])
    with pytest.raises(encodings.EncodingError, match="corrupt"):
        encodings.unpack_sparse(packed[:-10])


def test_deflate_size_with_the_file_name_is_the_paper_measure(members, tmp_path):
    path = tmp_path / "member_0.tflite"
    path.write_bytes(members[0.5][1])
    assert encodings.deflate_size(path.read_bytes(), None, path.name) == compression.zipped_size(path)
    assert encodings.deflate_size(path.read_bytes(), 9, path.name) <= compression.zipped_size(path)


@pytest.mark.slow
def test_tflite_sparse_file_runs_in_litert_with_the_dense_outputs(members):
    model, dense = members[0.95]
    sparse = encodings.sparse_tflite(model)
    ops = {op["op_name"] for op in encodings._interpreter(sparse)._get_ops_details()}
    assert "DENSIFY" in ops  # the kernels really are stored sparse
    x, _ = synthetic_digits(16, seed=4)
    np.testing.assert_allclose(
        encodings.reference_probabilities(sparse, x), encodings.reference_probabilities(dense, x), atol=1e-6
    )


def test_float_kernel_cost_finds_conv1(members):
    cost = encodings.float_kernel_cost([members[0.5][1], members[0.95][1]])
    assert cost["weights_per_member"] == 252 and len(cost["names"]) == 1
    assert "conv1" in cost["names"][0]
    assert cost["float32_bytes"] == 2 * 252 * 4 and cost["int8_bytes"] == 2 * 252
    assert cost["int8_deflated"] < cost["float32_deflated"]


@pytest.mark.parametrize("inputs,units,stays_float", [(33, 31, True), (32, 32, False)])
def test_converter_quantizes_weights_from_1024_elements_on(inputs, units, stays_float):
    import tf_keras as keras

    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units)])
    tensors = encodings.constant_tensors(compression._convert(lambda x: model(x, training=False), (inputs,), model, "int8", None))
    kernel = [t for t in tensors if len(t["shape"]) == 2]
    assert len(kernel) == 1 and kernel[0]["values"].size == inputs * units
    assert (kernel[0]["dtype"] == "float32") == stays_float
    assert (inputs * units >= encodings.CONVERTER_MIN_WEIGHTS) != stays_float
