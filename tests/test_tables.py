"""Tests for helpers.tables: Table 1 from a fake model, Table 2 formatting, the claims table."""

import math

import pandas as pd
import pytest

from helpers import tables as t

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


def test_model_rows_reads_layers_duck_typed():
    rows = t.model_rows(FakeModel())
    assert rows[0] == {"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280}
    assert rows[2] == {"layer": "Conv2D", "output_shape": (9, 9, 32), "params": 22_432}
    assert rows[3]["output_shape"] == (10,)
    assert [r["layer"] for r in rows] == ["Conv2D", "MaxPooling2D", "Conv2D", "Dense"]


def test_table1_formats_shapes_and_params():
    hyperparameters = {"Epochs": 20, "Optimizer": "Adam", "Validation split": 0.1, "Ensemble size M": 5}
    layers, hyper = t.table1(t.model_rows(FakeModel()), hyperparameters)
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


def test_table2_numeric_values_are_preserved():
    table = t.table2(ROWS)
    assert list(table.numeric.index) == ["baseline", "s25_q8", "s50_q8", "s95_q8", "s50_float"]
    assert table.numeric.loc["s25_q8", "accuracy"] == 0.9916
    assert table.numeric.loc["s50_q8", "accuracy_diff"] == -0.0001
    assert math.isnan(table.numeric.loc["baseline", "accuracy_diff"])
    assert table.numeric.loc["s50_q8", "zipped_bytes"] == 1_234_567


def test_table2_display_columns_and_formats():
    d = t.table2(ROWS).display
    assert list(d.columns) == list(t.TABLE2_COLUMNS)
    assert list(d.index) == ["Baseline ensemble", "25 % + int8", "50 % + int8", "95 % + int8", "50 % float"]
    assert d.loc["Baseline ensemble", "Accuracy (%)"] == "99.12 [99.02, 99.21]"
    assert d.loc["25 % + int8", "Δ acc. vs baseline (pp)"] == f"+0.04 [{MINUS}0.03, +0.11]"
    assert d.loc["50 % + int8", "Δ acc. vs baseline (pp)"] == f"{MINUS}0.01 [{MINUS}0.08, +0.06]"
    assert d.loc["50 % float", "Δ acc. vs baseline (pp)"] == f"0.00 [{MINUS}0.07, +0.07]"
    assert d.loc["Baseline ensemble", "Δ acc. vs baseline (pp)"] == "—"
    assert d.loc["Baseline ensemble", "NLL"] == "0.0312"
    assert d.loc["Baseline ensemble", "Brier"] == "0.0151"
    assert d.loc["Baseline ensemble", "ECE (%)"] == "0.42"
    assert d.loc["Baseline ensemble", "Zipped size (kB)"] == "1,234.6"
    assert d.loc["Baseline ensemble", "Compression ratio (×)"] == "4.12"


def test_table2_paper_columns_align_with_variants():
    table = t.table2(ROWS)
    d, n = table.display, table.numeric
    assert d.loc["25 % + int8", "Paper Δ (pp)"] == "+0.04"
    assert d.loc["25 % + int8", "Paper ratio (×)"] == "4"
    assert d.loc["50 % + int8", "Paper Δ (pp)"] == f"{MINUS}0.01"
    assert d.loc["50 % + int8", "Paper ratio (×)"] == "5"
    assert d.loc["95 % + int8", "Paper Δ (pp)"] == f"≈ {MINUS}1"
    assert d.loc["95 % + int8", "Paper ratio (×)"] == "—"
    assert d.loc["Baseline ensemble", "Paper Δ (pp)"] == "—"
    assert d.loc["50 % float", "Paper Δ (pp)"] == "—"  # the paper's claims are for the quantized variants
    assert n.loc["s50_q8", "paper_accuracy_diff_pp"] == -0.01
    assert n.loc["s25_q8", "paper_compression_ratio"] == 4.0
    assert math.isnan(n.loc["baseline", "paper_compression_ratio"])


def test_paper_claims_match_claims_md():
    assert {k: (c.accuracy_diff_pp, c.compression_ratio) for k, c in t.PAPER_CLAIMS.items() if k != "s95_q8"} == {
        "s25_q8": (0.04, 4.0), "s50_q8": (-0.01, 5.0), "s75_q8": (-0.05, 8.0),
    }  # fmt: skip
    assert t.PAPER_CLAIMS["s95_q8"].approximate and t.PAPER_CLAIMS["s95_q8"].accuracy_diff_pp == -1.0


def test_table2_missing_key_names_key_and_variant():
    bad = [r.copy() for r in ROWS]
    del bad[2]["nll"]
    with pytest.raises(ValueError, match="table2 row for variant 's50_q8' is missing key 'nll'"):
        t.table2(bad)
    with pytest.raises(ValueError, match="table2 row 0 is missing key 'variant'"):
        t.table2([{"label": "x"}])


def test_table2_rejects_percentages_and_duplicates():
    with pytest.raises(ValueError, match="variant 'baseline' has accuracy = 99.12; expected a fraction in \\[0, 1\\]"):
        t.table2([row("baseline", "B", 0.0, 99.12)])
    with pytest.raises(ValueError, match="two rows for variant 'baseline'"):
        t.table2([ROWS[0], ROWS[0]])


def test_table2_styler_renders_html():
    html = t.table2(ROWS).style(caption="Table 2").to_html()
    assert "Table 2" in html and "99.12 [99.02, 99.21]" in html and "text-align: right" in html
    assert t.table2(ROWS)._repr_html_().startswith("<style")


@pytest.mark.parametrize(
    "value, text",
    [(0.04, "+0.04"), (-0.01, f"{MINUS}0.01"), (-0.001, "0.00"), (0.0, "0.00"), (1.005, "+1.00"), (math.nan, "—")],
)
def test_fmt_signed(value, text):
    assert t.fmt_signed(value) == text


def test_fmt_number_never_prints_negative_zero():
    assert t.fmt_number(-0.0001, 2) == "0.00"
    assert t.fmt_number(-12345.678, 1, thousands=True) == f"{MINUS}12,345.7"


# ---------------------------------------------------------------------------- claims table

CLAIM = {"id": "C2", "claim": "25 % + int8 keeps accuracy", "paper": "+0.04 pp", "ours": "+0.02 pp",
         "criterion": "paper value inside our 95 % CI", "verdict": "holds"}  # fmt: skip


def test_claims_table_builds_and_styles():
    frame = t.claims_table([CLAIM, {**CLAIM, "id": "C4", "verdict": "does not hold"}])
    assert list(frame.index) == ["C2", "C4"]
    assert list(frame.columns) == ["Statement", "Paper", "Reproduction", "Criterion", "Verdict"]
    assert frame.loc["C4", "Verdict"] == "does not hold"
    assert "background-color" in t.style_claims(frame).to_html()


def test_claims_table_validates():
    expected = "claims row 'C2' has verdict 'maybe'; expected one of 'holds', 'partly holds', 'does not hold'"
    with pytest.raises(ValueError, match=expected):
        t.claims_table([{**CLAIM, "verdict": "maybe"}])
    with pytest.raises(ValueError, match="claims row 0 \\('C2'\\) is missing key 'criterion'"):
        t.claims_table([{k: v for k, v in CLAIM.items() if k != "criterion"}])
    with pytest.raises(ValueError, match="duplicates"):
        t.claims_table([CLAIM, CLAIM])


def test_display_frames_are_strings():
    assert all(pd.api.types.is_string_dtype(c) or c == object for c in t.table2(ROWS).display.dtypes)
