import copy
from types import SimpleNamespace

import pytest

from helpers import claims
from helpers.tables import claims_table

PAPER_ROWS = [
    {"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280},
    {"layer": "MaxPooling2D", "output_shape": (13, 13, 28), "params": 0},
    {"layer": "Conv2D", "output_shape": (9, 9, 32), "params": 22432},
    {"layer": "MaxPooling2D", "output_shape": (4, 4, 32), "params": 0},
    {"layer": "Flatten", "output_shape": (512,), "params": 0},
    {"layer": "Dense", "output_shape": (10,), "params": 5130},
]
PAPER_CFG = SimpleNamespace(epochs=20, retrain_epochs=5, validation_split=0.1, ensemble_size=5,
                            sparsities=(0.25, 0.5, 0.75, 0.95), profile="paper")


def _variant(diff, low, high, ratio, mnist_frac, ood_frac, entropy, dis, zipped=1000,
             nll=(0.0, -0.001, 0.001), brier=(0.0, -0.001, 0.001)):
    return {"compression_ratio": ratio, "zipped_bytes": zipped,
            "mnist": {"accuracy_diff": diff, "accuracy_diff_low": low, "accuracy_diff_high": high,
                      "nll_diff": nll[0], "nll_diff_low": nll[1], "nll_diff_high": nll[2],
                      "brier_diff": brier[0], "brier_diff_low": brier[1], "brier_diff_high": brier[2],
                      "conf_frac_090": mnist_frac},
            "notmnist": {"conf_frac_090": ood_frac, "mean_entropy": entropy,
                         "mean_disagreement": dis}}


def _results():
    """A paper-like world where every claim holds."""
    return {"variants": {
        "baseline": _variant(0, 0, 0, 1.0, 0.98, 0.30, 0.50, 0.010, zipped=500_000),
        "single": _variant(-0.002, -0.004, 0, 5.0, 0.97, 0.30, 0.40, 0.0, zipped=100_000),
        "q8": _variant(0, -0.001, 0.001, 3.9, 0.97, 0.29, 0.51, 0.011),
        "s25_q8": _variant(0.0004, -0.001, 0.0015, 4.1, 0.96, 0.28, 0.55, 0.012),
        "s50_q8": _variant(-0.0001, -0.0012, 0.001, 5.2, 0.95, 0.25, 0.60, 0.015, zipped=110_000),
        "s75_q8": _variant(-0.0005, -0.0015, 0.0005, 8.5, 0.94, 0.20, 0.70, 0.020),
        "s95_q8": _variant(-0.010, -0.012, -0.008, 20.0, 0.90, 0.17, 0.90, 0.030),
    }}


def _verdicts(results, cfg=PAPER_CFG, rows=PAPER_ROWS):
    return {r["id"]: r["verdict"] for r in claims.assess(results, rows, cfg)}


def test_every_claim_holds_in_a_paper_like_world_and_the_table_accepts_the_rows():
    rows = claims.assess(_results(), PAPER_ROWS, PAPER_CFG)
    assert [r["id"] for r in rows] == [f"C{i}" for i in range(1, 11)]
    assert {r["id"]: r["verdict"] for r in rows} == {f"C{i}": "holds" for i in range(1, 11)}
    assert list(claims_table(rows)["Verdict"]) == ["holds"] * 10


def test_c2_is_partly_when_the_paper_delta_is_outside_our_interval_but_the_ratio_holds():
    r = _results()
    r["variants"]["s25_q8"]["mnist"].update(accuracy_diff_low=-0.003, accuracy_diff_high=-0.001)
    assert _verdicts(r)["C2"] == "partly holds"
    r["variants"]["s25_q8"]["compression_ratio"] = 3.0  # < 0.8 * 4
    assert _verdicts(r)["C2"] == "does not hold"


def test_ratio_tolerance_boundary():
    r = _results()
    r["variants"]["s25_q8"]["compression_ratio"] = 3.2  # exactly 0.8 * 4x
    assert _verdicts(r)["C2"] == "holds"


def test_c4_about_one_point():
    r = _results()
    r["variants"]["s95_q8"]["mnist"]["accuracy_diff"] = -0.016  # 0.6 pp away from -1 pp
    assert _verdicts(r)["C4"] == "does not hold"
    r["variants"]["s95_q8"]["mnist"]["accuracy_diff"] = -0.0055
    assert _verdicts(r)["C4"] == "holds"


def test_c5_needs_mnist_above_90_and_every_notmnist_fraction_in_band():
    r = _results()
    r["variants"]["s95_q8"]["notmnist"]["conf_frac_090"] = 0.10
    assert _verdicts(r)["C5"] == "partly holds"


def test_trend_claims_distinguish_every_step_from_first_to_last():
    r = _results()
    r["variants"]["s50_q8"]["notmnist"]["mean_disagreement"] = 0.025  # non-monotone, still up overall
    v = _verdicts(r)
    assert v["C10"] == "partly holds" and v["C7"] == "partly holds"
    for name, value in zip(("q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8"), (0.05, 0.04, 0.03, 0.02, 0.01)):
        r["variants"][name]["notmnist"]["mean_disagreement"] = value
    assert _verdicts(r)["C10"] == "does not hold"


def test_c8_counts_intervals_that_exclude_zero():
    r = _results()
    r["variants"]["s75_q8"]["mnist"].update(nll_diff=0.01, nll_diff_low=0.005, nll_diff_high=0.02)
    row = [x for x in claims.assess(r, PAPER_ROWS, PAPER_CFG) if x["id"] == "C8"][0]
    assert row["verdict"] == "partly holds"
    assert row["ours"].startswith("8 of 9 intervals contain 0; significant: nll at 75 %")


def test_c9_compares_with_one_member():
    r = _results()
    r["variants"]["s50_q8"]["zipped_bytes"] = 126_000  # 1.26 x one member
    assert _verdicts(r)["C9"] == "does not hold"


def test_c1_fails_on_wrong_counts_and_is_partly_on_another_profile():
    rows = copy.deepcopy(PAPER_ROWS)
    rows[0]["params"] = 281
    assert _verdicts(_results(), rows=rows)["C1"] == "partly holds"
    smoke = SimpleNamespace(**{**vars(PAPER_CFG), "epochs": 1, "ensemble_size": 2})
    assert _verdicts(_results(), cfg=smoke)["C1"] == "partly holds"


def test_missing_sparsities_are_not_tested():
    r = _results()
    for name in ("s25_q8", "s75_q8"):
        del r["variants"][name]
    cfg = SimpleNamespace(**{**vars(PAPER_CFG), "sparsities": (0.5, 0.95), "profile": "smoke"})
    v = _verdicts(r, cfg=cfg)
    assert v["C2"] == "not tested" and v["C3"] == "not tested" and v["C9"] == "holds"


def test_summary_states_counts_ratios_and_trend():
    rows = claims.assess(_results(), PAPER_ROWS, PAPER_CFG)
    text = claims.summary(rows, _results(), PAPER_CFG)
    assert text.startswith("Of the paper's 10 claims, 10 hold, 0 hold in part and 0 do not hold "
                           "in this paper-profile reproduction.")
    assert "shrinks the ensemble 4.1× to 8.5×" in text
    assert "by \u22120.05 to +0.04 pp, a change our 95 % intervals cannot tell from zero." in text
    assert text.endswith("(C7) holds: the members' disagreement rises at every step with sparsity.")


@pytest.mark.parametrize("values, increasing, expected", [
    ([1, 2, 3], True, "holds"), ([1, 3, 2], True, "partly holds"), ([3, 2, 1], True, "does not hold"),
    ([3, 2, 1], False, "holds"), ([2, 2, 1], False, "partly holds")])
def test_monotone_rule(values, increasing, expected):
    assert claims._monotone(values, increasing) == expected
