from helpers.core.config import load_config
from helpers.engine import flops


def test_table1_network_by_hand():
    cfg = load_config("paper")
    # conv1: 26*26 outputs x 28 filters x 3*3*1; conv2: 9*9 x 32 x 5*5*28; dense: 512 x 10
    assert flops.layer_macs(cfg) == [("conv2d", 26 * 26 * 28 * 9), ("conv2d", 9 * 9 * 32 * 5 * 5 * 28), ("dense", 512 * 10)]
    assert flops.forward_flops(cfg) == 2 * (170_352 + 1_814_400 + 5_120) == 3_979_744
    assert flops.training_flops_per_image(cfg) == 11_939_232  # the speed issue's "about 12 MFLOP"


def test_conv_layers_of_table1_by_hand():
    # conv1 sees the 28x28 grey image; conv2 sees conv1's 26x26x28 output after 2x2 pooling
    assert flops.conv_layers(load_config("paper")) == [
        {"input": (28, 28, 1), "kernel_size": 3, "filters": 28},
        {"input": (13, 13, 28), "kernel_size": 5, "filters": 32},
    ]


def test_run_flops_counts_every_retraining_group():
    cfg = load_config("paper")
    expected = 11_939_232 * 54_000 * 5 * (20 + 5 * 5)
    assert flops.run_flops(cfg, 54_000) == expected


def test_unknown_layer_type():
    import dataclasses

    import pytest

    cfg = load_config("smoke")
    bad = dataclasses.replace(cfg, model={**cfg.model, "layers": [{"type": "lstm"}]})
    with pytest.raises(ValueError, match="has no FLOP count"):
        flops.layer_macs(bad)
