"""The frontier's compressions (helpers.engine.collab) on small synthetic data: clustering keeps
its centroids and the zeros, PQAT keeps the zeros in its int8 file, 2:4 holds block by block,
students have the sizes their widths give."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import synthetic_digits


@pytest.fixture(scope="module")
def pruned():
    """(config, 2 members pruned to 50 %, images, labels) on 320 synthetic digits."""
    from helpers.core.config import load_config
    from helpers.engine import compression, ensemble

    cfg = load_config("smoke", epochs=1, train_subset=320)
    x, y = synthetic_digits(320, seed=0)
    members, _ = ensemble.train_ensemble(cfg, x, y)
    return cfg, members, compression.prune_ensemble(cfg, members, x, y, 0.5)[0], x, y


def test_m_by_n_fraction_known_answers():
    from helpers.engine.collab import m_by_n_fraction

    dense = np.ones((8, 3))  # Dense (in=8, out=3): per output, two blocks of 4 inputs
    assert m_by_n_fraction(dense) == 0.0
    half = dense.copy()
    half[[0, 1, 4, 5], :] = 0
    assert m_by_n_fraction(half) == 1.0
    half[1, 0] = 1.0  # one block of output 0 now has three non-zeros
    assert m_by_n_fraction(half) == pytest.approx(5 / 6)
    conv = np.zeros((3, 3, 4, 2))  # Conv2D: blocks run along the 4 input channels
    conv[..., :3, :] = 1
    assert m_by_n_fraction(conv) == 0.0


def test_student_config_scales_the_filters(pruned):
    from helpers.engine import models
    from helpers.engine.collab import student_config

    cfg = pruned[0]
    half = student_config(cfg, 0.5)
    assert [s.get("filters") for s in half.model["layers"] if s["type"] == "conv2d"] == [14, 16]
    # conv1 3*3*1*14 + 14, conv2 5*5*14*16 + 16, dense 16*4*4*10 + 10
    assert models.build_member(half, 0).count_params() == 140 + 5616 + 2570
    assert models.build_member(student_config(cfg, 1.0), 0).count_params() == models.build_member(cfg, 0).count_params()


def test_clustering_keeps_the_centroids_and_every_zero(pruned):
    from helpers.engine.collab import cluster_all, cluster_counts

    cfg, _, members, x, y = pruned
    out = cluster_all(cfg, {"s50_float": members}, x, y, 8, 1)["s50_float"]
    for before, after in zip(members, out):
        assert max(cluster_counts(after).values()) <= 8
        for a, b in zip(after.get_weights()[::2], before.get_weights()[::2]):  # kernels
            assert np.all(a[b == 0] == 0)


def test_pqat_files_keep_the_pruned_zeros(pruned):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from helpers.engine.collab import pqat_all
    from helpers.engine.predict import TFLiteMember

    cfg, _, members, x, y = pruned
    blobs = pqat_all(cfg, {"s50_float": members}, x, y, 1)["s50_float"]
    assert len(blobs) == len(members)
    probs = TFLiteMember(blobs[0])(x[:50])
    # an int8 softmax, dequantized: every probability a multiple of 1/256, each row's sum off 1 by
    # at most the rounding of its ten values (half a step each)
    assert np.allclose(probs * 256, np.round(probs * 256), atol=1e-4)
    assert np.abs(probs.sum(axis=1) - 1).max() <= 5 / 256
    # without XNNPACK, which takes the constant buffers over (get_tensor would find them null)
    interpreter = Interpreter(
        model_content=blobs[0], experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter.allocate_tensors()
    kernels = [
        t for t in interpreter.get_tensor_details() if t["dtype"] == np.int8 and len(t["shape"]) == 4 and t["shape"][-1] == 28
    ]
    assert kernels, "no int8 conv2 kernel (32, 5, 5, 28) in the PQAT file"
    assert np.mean(interpreter.get_tensor(kernels[0]["index"]) == 0) >= 0.49


def test_two_of_four_holds_on_every_eligible_layer(pruned):
    from helpers.engine.collab import m_by_n_eligible, m_by_n_fraction, prune_m_by_n

    cfg, trained, _, x, y = pruned
    out = prune_m_by_n(cfg, trained, x, y)
    for member in out:
        layers = {layer.name.split("_", 1)[1]: layer for layer in member.layers if layer.get_weights()}
        assert not m_by_n_eligible(layers["conv1"])  # one input channel: no block of four
        assert m_by_n_fraction(layers["conv2"].get_weights()[0]) == 1.0
        assert m_by_n_fraction(layers["dense1"].get_weights()[0]) == 1.0
        assert np.mean(layers["conv2"].get_weights()[0] == 0) == pytest.approx(0.5, abs=0.01)


def test_students_learn_the_teachers_probabilities(pruned):
    from helpers.engine.collab import distill_students

    cfg, trained, _, x, _ = pruned
    teacher = np.mean([m.predict(x, verbose=0) for m in trained], axis=0)
    students = distill_students(cfg, teacher, x, [1.0, 0.5])
    assert students[0].count_params() > students[1].count_params()
    p = students[1].predict(x, verbose=0)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match=r"teacher_probs has shape \(3, 10\); expected one probability row per image"):
        distill_students(cfg, teacher[:3], x, [1.0])
