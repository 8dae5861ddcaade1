"""Tests for helpers.engine.models: the paper's member CNN (Table 1) and the fused graph."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from helpers.core.config import load_config
from helpers.engine import models


@pytest.fixture(scope="module")
def cfg():
    return load_config("smoke")


def test_member_matches_table1(cfg):
    member = models.build_member(cfg, seed=0)
    rows = [(layer.__class__.__name__, layer.count_params(), tuple(layer.output_shape[1:])) for layer in member.layers]
    assert rows == [
        ("Conv2D", 3 * 3 * 1 * 28 + 28, (26, 26, 28)),  # 280
        ("MaxPooling2D", 0, (13, 13, 28)),
        ("Conv2D", 5 * 5 * 28 * 32 + 32, (9, 9, 32)),  # 22,432
        ("MaxPooling2D", 0, (4, 4, 32)),
        ("Flatten", 0, (512,)),
        ("Dense", 512 * 10 + 10, (10,)),  # 5,130
    ]
    assert [r[1] for r in rows] == [280, 0, 22_432, 0, 0, 5_130]
    assert member.count_params() == 27_842
    assert member.layers[-1].activation.__name__ == "softmax"
    assert member.layers[0].activation.__name__ == "relu"


def test_member_outputs_probabilities(cfg):
    member = models.build_member(cfg, seed=3)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    p = member(x).numpy()
    assert p.shape == (4, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def test_layer_names_carry_the_prefix(cfg):
    member = models.build_member(cfg, seed=0, prefix="m3_")
    assert [layer.name for layer in member.layers] == ["m3_conv1", "m3_pool1", "m3_conv2", "m3_pool2", "m3_flatten1", "m3_dense1"]


def test_same_seed_same_initial_weights_other_seed_differs(cfg):
    a = models.build_member(cfg, seed=7).get_weights()
    b = models.build_member(cfg, seed=7, prefix="m1_").get_weights()  # names don't matter
    c = models.build_member(cfg, seed=8).get_weights()
    assert len(a) == len(b) == len(c) == 6  # kernel and bias of 3 layers
    for wa, wb in zip(a, b):
        assert np.array_equal(wa, wb)
    for wa, wc in zip(a[0::2], c[0::2]):  # every kernel differs; biases start at zero
        assert not np.array_equal(wa, wc)
    for bias in a[1::2]:
        assert not bias.any()


def test_initial_weights_do_not_depend_on_global_random_state(cfg):
    import tensorflow as tf

    tf.random.set_seed(1)
    np.random.seed(1)
    a = models.build_member(cfg, seed=5).get_weights()
    tf.random.set_seed(2)
    np.random.seed(2)
    b = models.build_member(cfg, seed=5).get_weights()
    assert all(np.array_equal(wa, wb) for wa, wb in zip(a, b))


def test_fuse_shares_layers_with_members(cfg):
    members = [models.build_member(cfg, seed=s, prefix=f"m{s}_") for s in range(2)]
    fused = models.fuse(members)
    assert len(fused.inputs) == len(fused.outputs) == 2
    assert fused.count_params() == 2 * 27_842
    # the very same layer objects, not copies
    assert fused.get_layer("m1_conv2") is members[1].layers[2]
    kernel, bias = fused.get_layer("m1_dense1").get_weights()
    fused.get_layer("m1_dense1").set_weights([kernel + 1.0, bias - 2.0])
    k_member, b_member = members[1].layers[-1].get_weights()
    np.testing.assert_array_equal(k_member, kernel + 1.0)
    np.testing.assert_array_equal(b_member, bias - 2.0)
    # member 0 is untouched
    assert not members[0].layers[-1].get_weights()[1].any()
    # the fused model computes each member's own output
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    outs = fused([x, x])
    for member, out in zip(members, outs):
        np.testing.assert_allclose(out.numpy(), member(x).numpy(), rtol=1e-6, atol=1e-7)


def test_unfuse_round_trip(cfg):
    members = [models.build_member(cfg, seed=10 + m, prefix=f"m{m}_") for m in range(3)]
    back = models.unfuse(models.fuse(members), cfg, 3)
    assert len(back) == 3
    for a, b in zip(members, back):
        assert b is not a
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)


def test_compile_for_training_one_loss_per_member(cfg):
    members = [models.build_member(cfg, seed=s, prefix=f"m{s}_") for s in range(2)]
    fused = models.fuse(members)
    models.compile_for_training(fused, cfg)
    assert fused.output_names == ["m0_dense1", "m1_dense1"]
    assert sorted(fused.loss) == ["m0_dense1", "m1_dense1"]
    assert float(fused.optimizer.learning_rate.numpy()) == pytest.approx(cfg.learning_rate)


def test_unknown_layer_type_is_one_clear_error(cfg):
    model = dict(cfg.model, layers=[{"type": "lstm", "units": 3}])
    bad = dataclasses.replace(cfg, model=model)
    with pytest.raises(
        ValueError,
        match="Layer type 'lstm' of layer lstm1 in the model section of the config "
        "is not supported; use one of conv2d, maxpool2d, "
        "flatten, dense.",
    ):
        models.build_member(bad, seed=0)


def test_a_layer_without_its_size_is_one_clear_error(cfg):
    model = dict(cfg.model, layers=[{"type": "conv2d", "filters": 4}, *cfg.model["layers"][1:]])
    bad = dataclasses.replace(cfg, model=model)
    with pytest.raises(
        ValueError,
        match=r"Layer conv1 \(conv2d\) in the model section of the config has no "
        r"'kernel_size'; give it, e.g. \{type: conv2d, kernel_size: ...\}",
    ):
        models.build_member(bad, seed=0)


def test_a_member_is_named_alike_whatever_was_built_before(cfg):
    first = models.build_member(cfg, seed=0).to_json()
    models.build_member(cfg, seed=1)  # Keras' global name counter moves on
    models.fuse([models.build_member(cfg, seed=2)])
    assert models.build_member(cfg, seed=0).to_json() == first
    assert json.loads(first)["config"]["layers"][0]["config"]["name"] == "input"
