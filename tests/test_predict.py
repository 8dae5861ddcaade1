"""Tests for helpers.engine.predict: batched LiteRT inference and the (M, N, K) stacks."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.engine.predict import TFLITE_BATCH, TFLiteMember, keras_probabilities, tflite_probabilities


@pytest.mark.parametrize("mode", ["float32", "int8", "int8full"])
def test_batched_equals_unbatched(trained_member, tflite_blobs, mode):
    _, _, x = trained_member
    x = x[:101]  # 101 = 7 * 14 + 3 = 2 * 50 + 1: no batch size below divides it
    whole = TFLiteMember(tflite_blobs[mode], batch_size=101)(x)
    assert whole.shape == (101, 10) and whole.dtype == np.float32
    for batch_size in (1, 7, 50, 500):
        batched = TFLiteMember(tflite_blobs[mode], batch_size=batch_size)(x)
        assert batched.shape == (101, 10)
        np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6, err_msg=f"{mode}, batch {batch_size}")
    # each row depends on its own image only: zero padding and neighbours do not leak in
    one_by_one = np.concatenate([TFLiteMember(tflite_blobs[mode], batch_size=1)(x[i : i + 1]) for i in (0, 50, 100)])
    np.testing.assert_allclose(one_by_one, whole[[0, 50, 100]], rtol=1e-5, atol=1e-6)


def test_full_int8_rows_are_distributions(trained_member, tflite_blobs):
    _, _, x = trained_member
    member = TFLiteMember(tflite_blobs["int8full"])
    assert member.input["dtype"] == np.int8 and member.output["dtype"] == np.int8
    scale, zero = member.output["quantization"]
    assert scale == pytest.approx(1 / 256) and zero == -128  # softmax output range [0, 1)
    probs = member(x)
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-5)


def test_quantize_and_dequantize_by_hand(tflite_blobs):
    member = TFLiteMember(tflite_blobs["int8full"], batch_size=2)
    scale, zero = member.input["quantization"]
    # inputs in [0, 1] map onto the int8 range through the calibrated (scale, zero_point)
    q = member._quantize(np.array([0.0, 1.0, 5.0], np.float32))
    assert q.dtype == np.int8
    assert q[0] == np.clip(np.round(0.0 / scale + zero), -128, 127)
    assert q[1] == np.clip(np.round(1.0 / scale + zero), -128, 127)
    assert q[2] == 127  # clipped, not wrapped around
    out_scale, out_zero = member.output["quantization"]
    y = np.full((1, 10), out_zero, np.int8)
    y[0, 3] = out_zero + 64
    y[0, 5] = out_zero + 192
    np.testing.assert_allclose(member._dequantize(y)[0], np.eye(10)[3] * 0.25 + np.eye(10)[5] * 0.75)


def test_path_and_bytes_give_the_same_probabilities(tmp_path, trained_member, tflite_blobs):
    _, _, x = trained_member
    path = tmp_path / "member_0.tflite"
    path.write_bytes(tflite_blobs["int8"])
    np.testing.assert_array_equal(TFLiteMember(path)(x), TFLiteMember(tflite_blobs["int8"])(x))


def test_stacks_have_shape_members_by_samples_by_classes(trained_member, tflite_blobs, tmp_path):
    _, member, x = trained_member
    assert TFLITE_BATCH == 500
    x = np.concatenate([x, x, x[:123]])  # 523 images: one full batch of 500 and a partial one
    paths = []
    for i, mode in enumerate(["int8", "int8full"]):
        paths.append(tmp_path / f"member_{i}.tflite")
        paths[-1].write_bytes(tflite_blobs[mode])
    probs = tflite_probabilities(paths, x)
    assert probs.shape == (2, 523, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs[0], TFLiteMember(paths[0], batch_size=523)(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs[:, 200:400], probs[:, :200], rtol=1e-5, atol=1e-6)  # same images
    keras_probs = keras_probabilities([member, member, member], x, batch_size=64)
    assert keras_probs.shape == (3, 523, 10) and keras_probs.dtype == np.float32
    np.testing.assert_allclose(keras_probs[1], member(x[:523]).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras_probs.sum(axis=2), 1.0, rtol=1e-5)
