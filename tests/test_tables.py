"""Tests for helpers.book.tables: Table 1 from a fake model, Table 2 formatting, the claims table."""

import math

import pytest

from helpers.book import tables as t

MINUS = "\u2212"


# -------------------------------------------------------------------------------- Table 1


class FakeLayer:
    def __init__(self, shape, params, use_output=False):
        self._params = params
        if use_output:  # Keras 3 style: no output_shape, shape on the output tensor
            self.output = type("Tensor", (), {"shape": shape})()
        else:
            self.output_shape = shape

    def count_params(self):
        return self._params


class Conv2D(FakeLayer):
    pass


class MaxPooling2D(FakeLayer):
    pass


class Dense(FakeLayer):
    pass


class FakeModel:
    layers = [
        Conv2D((None, 26, 26, 28), 280),
        MaxPooling2D((None, 13, 13, 28), 0),
        Conv2D((None, 9, 9, 32), 22_432, use_output=True),
        Dense([(None, 10)], 5_130),
    ]


def test_layer_rows_reads_layers_duck_typed():
    from helpers.engine.models import layer_rows

    rows = layer_rows(FakeModel())
    assert rows[0] == {"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280}
    assert rows[2] == {"layer": "Conv2D", "output_shape": (9, 9, 32), "params": 22_432}
    assert rows[3]["output_shape"] == (10,)
    assert [r["layer"] for r in rows] == ["Conv2D", "MaxPooling2D", "Conv2D", "Dense"]


def test_table1_formats_shapes_and_params():
    hyperparameters = {"Epochs": 20, "Optimizer": "Adam", "Validation split": 0.1, "Ensemble size M": 5}
    # the rows as summary.json holds them (helpers.engine.models.layer_rows, shapes as lists)
    rows = [
        {"layer": "Conv2D", "output_shape": [26, 26, 28], "params": 280},
        {"layer": "MaxPooling2D", "output_shape": [13, 13, 28], "params": 0},
        {"layer": "Conv2D", "output_shape": [9, 9, 32], "params": 22_432},
        {"layer": "Dense", "output_shape": [10], "params": 5_130},
    ]
    layers, hyper = t.table1(rows, hyperparameters)
    assert layers.display.loc["Dense", "Output shape"] == "10"
    assert layers.display["Output shape"].iloc[0] == "26 × 26 × 28"
    assert layers.display["Parameters"].iloc[2] == "22,432"
    assert layers.display.loc["Total", "Parameters"] == "27,842"
    assert layers.numeric.loc["Total", "Parameters"] == 280 + 22_432 + 5_130
    assert list(hyper.display.index) == ["Epochs", "Optimizer", "Validation split", "Ensemble size M"]
    assert list(hyper.display["Value"]) == ["20", "Adam", "0.1", "5"]
    assert hyper.numeric.loc["Validation split", "Value"] == 0.1


def test_table1_missing_key():
    with pytest.raises(ValueError, match="model row 0 \\('Dense'\\) is missing key 'params'"):
        t.table1([{"layer": "Dense", "output_shape": (10,)}], {})


# -------------------------------------------------------------------------------- Table 2


def row(variant, label, sparsity, acc, diff=math.nan, **extra):
    base = {
        "variant": variant, "label": label, "sparsity": sparsity, "quantized": variant != "baseline",
        "accuracy": acc, "accuracy_low": acc - 0.001, "accuracy_high": acc + 0.0009,
        "accuracy_diff": diff, "accuracy_diff_low": diff - 0.0007, "accuracy_diff_high": diff + 0.0007,
        "nll": 0.031234, "brier": 0.0151, "ece": 0.0042, "zipped_bytes": 1_234_567, "compression_ratio": 4.1234,
    }  # fmt: skip
    base.update(extra)
    return base


ROWS = [
    row("baseline", "Baseline ensemble", 0.0, 0.9912),
    row("s25_q8", "25 % + int8", 0.25, 0.9916, diff=0.0004),
    row("s50_q8", "50 % + int8", 0.5, 0.9911, diff=-0.0001),
    row("s95_q8", "95 % + int8", 0.95, 0.9812, diff=-0.01),
    row("s50_float", "50 % float", 0.5, 0.9911, diff=0.0),
]


def test_shapes_print_with_times_signs():
    from helpers.core import fmt

    assert fmt.shape((26, 26, 28)) == "26 × 26 × 28" and fmt.shape((None, 10)) == "? × 10"


# ---------------------------------------------------------------------------- claims table

CLAIM = {"id": "C2", "claim": "25 % + int8 keeps accuracy", "paper": "+0.04 pp", "ours": "+0.02 pp",
         "criterion": "paper value inside our 95 % CI", "verdict": "holds"}  # fmt: skip


def test_digests_print_in_two_halves_and_stay_whole():
    from helpers.book import appendix_tables

    digest = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
    table = appendix_tables.digest_table({"mnist (decoded)": digest, "odd": "not-a-digest"})
    shown = table.loc["mnist (decoded)", "sha256"]
    assert shown == "06b0d1f124c4e5fa796686ade41a9b77 8edacc8622f2195a352ef479ad44fc16"
    assert shown.replace(" ", "") == digest and table.loc["odd", "sha256"] == "not-a-digest"


def test_shift_table_names_its_unit_once_in_the_corner():
    from helpers.book import report
    from helpers.core import fmt

    results = {
        "datasets": {
            "rot15": {"family": "rotated_mnist", "intensity": 15},
            "fog": {"family": "corrupted_mnist", "intensity": "zig_zag"},
        },
        "variants": {"baseline": {"rot15": {"mean_entropy": 0.0491}, "fog": {"mean_entropy": 0.3}}},
    }
    table = report.shift_table(results, ["baseline"], ["rot15", "fog"], "mean_entropy", fmt.nats, "mean entropy, nats")
    assert table.index.name == "Shift (mean entropy, nats)"
    assert list(table.index) == ["rotated 15°", "zig zag"]
    assert list(table.iloc[:, 0]) == ["0.049", "0.300"]
