"""Tests for helpers.engine.compression: pruning (tfmot), TFLite conversion, zipped sizes and the
information-theoretic lower bound."""

from __future__ import annotations

import math
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from conftest import synthetic_digits
from helpers.core.config import load_config
from helpers.core.variants import CONTROL
from helpers.engine import compression, models
from helpers.engine.predict import TFLiteMember


# ------------------------------------------------------------------------------ pruning
@pytest.fixture(scope="module")
def pruning_run():
    """Two members (M=2, smoke: 576 training images, 18 steps, masks every 9) pruned to
    50 % and 95 %, and member 1 pruned to 50 % alone."""
    cfg = load_config("smoke")
    x, y = synthetic_digits(cfg.train_subset, seed=3)
    base = [models.build_member(cfg, cfg.member_seed(m), prefix=f"m{m}_") for m in range(2)]
    before = [m.get_weights() for m in base]
    pruned = {s: compression.prune_ensemble(cfg, base, x, y, s) for s in (0.5, 0.95)}
    alone, alone_hist = compression.prune_ensemble(cfg, [base[1]], x, y, 0.5, member_ids=[1])
    together, together_hist = compression.prune_all(cfg, base, x, y, [0.5, CONTROL, 0.95])
    return {
        "cfg": cfg,
        "base": base,
        "before": before,
        "pruned": pruned,
        "alone": alone[0],
        "alone_hist": alone_hist,
        "together": together,
        "together_hist": together_hist,
    }


@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [0.5, 0.95])
def test_every_prunable_kernel_reaches_the_target(pruning_run, sparsity):
    members, hist = pruning_run["pruned"][sparsity]
    assert len(members) == 2 and len(hist) == 2 and len(hist[0]) == 1
    for m, member in enumerate(members):
        achieved = compression.kernel_sparsity(member)
        assert list(achieved) == [f"m{m}_conv1", f"m{m}_conv2", f"m{m}_dense1"]
        for layer_name, value in achieved.items():
            assert abs(value - sparsity) <= 0.005, (layer_name, value)
        for layer in member.layers:
            weights = layer.get_weights()
            if weights:  # biases are not pruned (a few may be 0 by chance, not by masking)
                bias = weights[1]
                assert np.mean(bias == 0) < 0.1, layer.name


@pytest.mark.slow
def test_pruning_leaves_the_baseline_untouched(pruning_run):
    for member, before in zip(pruning_run["base"], pruning_run["before"]):
        for w_now, w_before in zip(member.get_weights(), before):
            assert np.array_equal(w_now, w_before)
        assert all(v == 0.0 for v in compression.kernel_sparsity(member).values())
    pruned, _ = pruning_run["pruned"][0.5]
    assert pruned[0] is not pruning_run["base"][0]
    # the surviving weights were re-trained, not just masked
    kept = pruned[0].get_weights()[4] != 0
    assert not np.allclose(pruned[0].get_weights()[4][kept], pruning_run["before"][0][4][kept])


@pytest.mark.slow
def test_fused_pruning_equals_pruning_a_member_alone(pruning_run):
    in_ensemble = pruning_run["pruned"][0.5][0][1]
    alone = pruning_run["alone"]
    for a, b in zip(in_ensemble.get_weights(), alone.get_weights()):
        np.testing.assert_array_equal(a == 0, b == 0)  # same masks
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    hist_fused = pruning_run["pruned"][0.5][1][1][0]
    assert hist_fused["loss"] == pytest.approx(pruning_run["alone_hist"][0][0]["loss"], rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [0.5, 0.95])
def test_all_sparsities_in_one_graph_equal_each_pruned_alone(pruning_run, sparsity):
    """M x S members in one fused graph: each sparsity's members equal that sparsity's
    ensemble pruned on its own (same masks, same weights up to summation order)."""
    alone, alone_hist = pruning_run["pruned"][sparsity]
    together = pruning_run["together"][sparsity]
    for a, b in zip(alone, together):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-6)
            assert np.array_equal(wa == 0, wb == 0)  # the masks are identical
    for ha, hb in zip(alone_hist, pruning_run["together_hist"][sparsity]):
        assert ha[-1]["loss"] == pytest.approx(hb[-1]["loss"], abs=1e-5)


@pytest.mark.slow
def test_the_control_is_fine_tuned_but_never_pruned(pruning_run):
    control = pruning_run["together"][CONTROL]
    for member, base in zip(control, pruning_run["base"]):
        assert all(v < 0.01 for v in compression.kernel_sparsity(member).values())
        moved = [np.abs(a - b).max() for a, b in zip(member.get_weights(), base.get_weights())]
        assert min(moved) > 1e-4  # every tensor was re-trained
    assert len(pruning_run["together_hist"][CONTROL]) == 2


def test_prune_all_refuses_repeats_and_nothing():
    cfg = load_config("smoke")
    x, y = synthetic_digits(64)
    member = models.build_member(cfg, 0, prefix="m0_")
    for bad in ([], [0.5, 0.5]):
        with pytest.raises(ValueError, match="non-empty list without repeats"):
            compression.prune_all(cfg, [member], x, y, bad)


def test_member_ids_must_match_members():
    cfg = load_config("smoke")
    x, y = synthetic_digits(64)
    member = models.build_member(cfg, seed=0, prefix="m0_")
    with pytest.raises(
        ValueError,
        match=r"member_ids=\[0, 1\] must name one ensemble index per "
        r"member \(1 members were passed\)\.",
    ):
        compression.prune_ensemble(cfg, [member], x, y, 0.5, member_ids=[0, 1])


@pytest.mark.parametrize(
    "n_train, batch, epochs, frequency, expected",
    [
        (576, 32, 1, 10, (18, 9, 18)),  # smoke: frequency capped at half the steps
        (54_000, 32, 5, 100, (8440, 100, 8400)),  # paper: 1,688 steps x 5 epochs
        (100, 32, 1, 10, (4, 2, 4)),
        (1000, 64, 3, 7, (48, 7, 42)),
        (10, 32, 1, 100, (1, 1, 1)),
    ],
)
def test_pruning_schedule_ends_on_a_mask_update(n_train, batch, epochs, frequency, expected):
    cfg = load_config("smoke", batch_size=batch, retrain_epochs=epochs, pruning_frequency=frequency)
    total, freq, end = expected
    assert math.ceil(n_train / batch) * epochs == total
    schedule = compression.pruning_schedule(cfg, 0.75, n_train)
    assert (schedule.frequency, schedule.end_step, schedule.begin_step) == (freq, end, 0)
    assert schedule.end_step % schedule.frequency == 0
    assert total - schedule.frequency < schedule.end_step <= total
    update, target = schedule(tf.constant(end, tf.int64))
    assert bool(update) and float(target) == pytest.approx(0.75)
    update, target = schedule(tf.constant(0, tf.int64))
    assert bool(update) and float(target) == 0.0


def test_kernel_sparsity_counts_exact_zeros():
    cfg = load_config("smoke")
    member = models.build_member(cfg, seed=0)
    kernel, bias = member.layers[-1].get_weights()
    kernel[:128] = 0.0  # 128 of 512 input rows: exactly 25 %
    member.layers[-1].set_weights([kernel, bias])
    assert compression.kernel_sparsity(member) == {"conv1": 0.0, "conv2": 0.0, "dense1": 0.25}


# ------------------------------------------------------------------------------ TFLite
def test_tflite_variants_follow_the_keras_model(trained_member, tflite_blobs):
    _, member, x = trained_member
    reference = member.predict(x, verbose=0)
    assert np.mean(reference.max(axis=1)) > 0.5  # a trained, confident model
    for mode in ("float32", "int8", "int8full"):
        probs = TFLiteMember(tflite_blobs[mode])(x)
        assert probs.shape == reference.shape == (200, 10)
        diff = np.abs(probs - reference)
        agreement = np.mean(probs.argmax(1) == reference.argmax(1))
        if mode == "float32":
            np.testing.assert_allclose(probs, reference, atol=1e-5)
        else:
            assert diff.mean() < 0.02, (mode, diff.mean())
            assert agreement > 0.95, (mode, agreement)


def test_tflite_tensor_types_and_sizes(tflite_blobs):
    sizes = {mode: len(blob) for mode, blob in tflite_blobs.items()}
    # 27,842 float32 parameters are about 111 kB; int8 weights cut that about 4x
    assert 27_842 * 4 < sizes["float32"] < 27_842 * 4 + 10_000
    assert sizes["int8"] < sizes["float32"] / 3
    assert sizes["int8full"] < sizes["float32"] / 3
    io_types = {}
    for mode, blob in tflite_blobs.items():
        member = TFLiteMember(blob)
        io_types[mode] = (member.input["dtype"], member.output["dtype"])
    assert io_types == {"float32": (np.float32, np.float32), "int8": (np.float32, np.float32), "int8full": (np.int8, np.int8)}


def test_bad_tflite_mode_and_missing_calibration_data(trained_member):
    _, member, _ = trained_member
    with pytest.raises(ValueError, match="TFLite mode 'int4' is unknown; use 'float32', 'int8', 'int8sparse' or 'int8full'."):
        compression.to_tflite(member, "int4")
    with pytest.raises(ValueError, match="Full-integer conversion needs representative images"):
        compression.to_tflite(member, "int8full")


def test_representative_images_are_a_seeded_sorted_sample():
    cfg = load_config("smoke")  # representative_samples = 32
    x = np.arange(100, dtype=np.float32).reshape(100, 1, 1, 1)
    a = compression.representative_images(cfg, x)
    b = compression.representative_images(cfg, x)
    assert a.shape == (32, 1, 1, 1)
    np.testing.assert_array_equal(a, b)
    values = a.ravel()
    assert np.all(np.diff(values) > 0)  # sorted, no repeats
    assert len(compression.representative_images(cfg, x[:10])) == 10


# ------------------------------------------------------------------------------ sizes
def test_zipped_size_equals_an_independent_zip(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "model.bin"
    path.write_bytes(rng.integers(0, 4, 50_000, dtype=np.uint8).tobytes())  # 2 bits of entropy
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(path, arcname="model.bin")
    assert compression.zipped_size(path) == archive.stat().st_size
    assert 50_000 / 4 < compression.zipped_size(path) < 50_000 * 0.5
    zeros = tmp_path / "zeros.bin"
    zeros.write_bytes(bytes(50_000))
    assert compression.zipped_size(zeros) < 1000


def test_quantize_symmetric_int8_by_hand():
    kernel = np.array([[1.27, -2.54, 0.0], [-0.5, 1.00, 0.0], [0.013, 0.0, 0.0]], dtype=np.float32)  # 3 output channels (columns)
    q, n_scales = compression.quantize_symmetric_int8(kernel)
    # column scales max|w| / 127: 0.01, 0.02 and (all zero) 1
    np.testing.assert_array_equal(q, [[127, -127, 0], [-50, 50, 0], [1, 0, 0]])
    assert q.dtype == np.int8 and n_scales == 3
    conv = np.zeros((3, 3, 4, 8), np.float32)
    conv[0, 0, 0, :] = np.arange(1, 9)
    q, n_scales = compression.quantize_symmetric_int8(conv)
    assert n_scales == 8  # one scale per output channel
    np.testing.assert_array_equal(q[0, 0, 0], [127] * 8)
    assert np.count_nonzero(q) == 8


def test_weight_lower_bound_bits_by_hand():
    k1 = np.array([0, 0, 0, 0, 0, 3, 3, -5], dtype=np.int8)  # 3 of 8 non-zero
    k2 = np.zeros((2, 2), dtype=np.int8)  # all zero: a constant mask
    mask_bits = -(5 * math.log2(5 / 8) + 3 * math.log2(3 / 8))  # n * H_b(3/8)
    value_bits = -(2 * math.log2(2 / 3) + 1 * math.log2(1 / 3))  # {3, 3, -5}
    expected = mask_bits + value_bits + 0.0 + 32 * 4
    assert compression.weight_lower_bound_bits([k1, k2], 4) == pytest.approx(expected)
    assert compression.weight_lower_bound_bits([], 0) == 0.0
    dense = np.arange(-128, 128, dtype=np.int16)[np.arange(256) != 128]  # 255 distinct non-zero
    assert compression.weight_lower_bound_bits([dense], 0) == pytest.approx(255 * math.log2(255))


@pytest.mark.slow
def test_member_lower_bound_bytes_matches_its_parts(pruning_run):
    members = {s: pruning_run["pruned"][s][0][0] for s in (0.5, 0.95)}
    members[0.0] = pruning_run["base"][0]
    bounds = {}
    for s, member in members.items():
        kernels, floats = [], 0
        for layer in member.layers:
            if layer.get_weights():
                kernel, bias = layer.get_weights()
                kernels.append(compression.quantize_symmetric_int8(kernel)[0])
                floats += kernel.shape[-1] + bias.size  # one scale per output channel + biases
        assert floats == 2 * (28 + 32 + 10)
        bounds[s] = compression.member_lower_bound_bytes(member)
        assert bounds[s] == pytest.approx(compression.weight_lower_bound_bits(kernels, floats) / 8)
    assert bounds[0.0] > bounds[0.5] > bounds[0.95]
    # at most 8 bits per int8 value + 1 bit of mask per kernel weight + 32 bits per float
    assert bounds[0.0] < (27_702 * (8 + 1) + 140 * 32) / 8


# ---------------------------------------------------------- schedule curve and per-layer table
def test_schedule_curve_is_flat_between_mask_updates_and_ends_at_the_target():
    cfg = load_config("smoke")  # 576 training images, batch 32 -> 18 steps; masks every 9
    steps, values = compression.schedule_curve(cfg, 0.5, 576)
    assert len(steps) == 19 and values[0] == 0.0 and values[-1] == pytest.approx(0.5)
    # Polynomial decay (power 3) from 0 to 0.5 over 18 steps, updated at steps 0, 9, 18.
    half = 0.5 - 0.5 * (1 - 9 / 18) ** 3
    assert values[9] == pytest.approx(half) and values[8] == 0.0 and values[17] == pytest.approx(half)


def test_layer_sparsity_table_summarizes_members(pruning_run):
    members, _ = pruning_run["pruned"][0.95]
    rows = compression.layer_sparsity_table({0.95: members})
    assert [r["layer"] for r in rows] == ["conv1", "conv2", "dense1"]
    for row in rows:
        assert row["min"] <= row["mean"] <= row["max"] and abs(row["mean"] - 0.95) <= 0.005
        assert row["target"] == 0.95


@pytest.mark.parametrize("mode,atol", [("float32", 1e-6), ("int8", 1e-6), ("int8full", 0.02)])
def test_one_graph_ensemble_gives_each_members_outputs(mode, atol):
    """ensemble_to_tflite: (n, M, K) in one invoke, member m's column equal to member m's
    own file (int8full: calibrated on the whole graph, so within a quantization step)."""
    cfg = load_config("smoke")
    members = [models.build_member(cfg, seed) for seed in (1, 2)]
    rep, _ = synthetic_digits(16, seed=5)
    x, _ = synthetic_digits(30, seed=6)
    one = TFLiteMember(compression.ensemble_to_tflite(members, mode, rep))(x)
    assert one.shape == (30, 2, 10)
    for m, member in enumerate(members):
        alone = TFLiteMember(compression.to_tflite(member, mode, rep))(x)
        np.testing.assert_allclose(one[:, m], alone, atol=atol)


def test_litert_builtin_kernels_match_xnnpack(tflite_blobs, trained_member):
    """The benchmark's two kernel sets compute the same model: float32 to rounding; int8
    weights within 2e-4 (each quantizes the activations on the fly its own way)."""
    _, _, x = trained_member
    for mode, atol in (("float32", 1e-5), ("int8", 2e-4)):
        np.testing.assert_allclose(
            TFLiteMember(tflite_blobs[mode], xnnpack=False)(x), TFLiteMember(tflite_blobs[mode])(x), atol=atol
        )
