"""The softmax audit's reader (helpers.engine.logits): a TFLite model's own logits."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def files(trained_member):
    import tf_keras

    from helpers.engine import compression

    cfg, member, x = trained_member
    confident = tf_keras.models.clone_model(member)  # logits x 8: probabilities below 1/512 appear
    weights = member.get_weights()
    confident.set_weights([*weights[:-2], 8 * weights[-2], 8 * weights[-1]])
    return (
        compression.to_tflite(confident, "int8full", representative=x[:64]),
        compression.to_tflite(member, "int8"),
        x,
    )


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_int8_softmax_is_the_float_softmax_of_its_logits_rounded(files):
    from helpers.engine.logits import output_zero_fraction, tflite_logits
    from helpers.engine.predict import TFLiteMember

    full, _, x = files
    logits = tflite_logits(full, x)
    int8, floats = TFLiteMember(full)(x), _softmax(logits)
    assert logits.shape == (len(x), 10)
    # the output is floats rounded to steps of 1/256 (then renormalized): within about two steps
    assert np.abs(int8 - floats).max() < 2.5 / 256
    assert (int8.argmax(axis=1) == floats.argmax(axis=1)).mean() >= 0.99
    assert output_zero_fraction(int8) > 0 and output_zero_fraction(floats) == 0
    assert floats[int8 == 0].max() < 1.5 / 256  # only what rounds below half a step becomes 0


def test_a_float_softmax_model_gives_back_its_own_output(files):
    from helpers.engine.logits import tflite_logits
    from helpers.engine.predict import TFLiteMember

    _, q8, x = files  # (the trained member itself, float softmax)
    assert np.abs(_softmax(tflite_logits(q8, x)) - TFLiteMember(q8)(x)).max() < 1e-6


def test_a_model_without_a_softmax_is_refused(trained_member, tmp_path):
    import tf_keras as keras

    from helpers.engine import compression
    from helpers.engine.logits import LogitsError, tflite_logits

    _, member, x = trained_member
    linear = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp_path / "linear.tflite"
    path.write_bytes(compression.to_tflite(linear, "int8"))
    with pytest.raises(LogitsError, match=r"linear.tflite has no SOFTMAX operator; the softmax audit reads the input of one"):
        tflite_logits(path, x)
