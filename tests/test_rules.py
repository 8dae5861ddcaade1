"""Rules v2 (helpers.stats.rules, helpers.stats.judging): every branch of every part and of the verdict, on constructed inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from helpers.stats import judging as J
from helpers.stats import rules as R


@pytest.fixture(scope="module")
def rules():
    return R.load_rules_v2()


def with_rules(rules, **changes):
    import dataclasses

    return dataclasses.replace(rules, **changes)


class TestLoad:
    def test_reads_both_sections(self, rules):
        assert rules.alpha == 0.05 and rules.accuracy_margin_pp == 0.10
        assert rules.entropy_margin_nats == 0.02 and rules.disagreement_margin_nats == 0.02
        assert rules.fraction_margin_pp == 1.0 and rules.power == 0.8
        assert rules.margin("classified_fraction") == pytest.approx(0.01)
        assert rules.margin("mean_disagreement") == 0.02

    def test_unknown_measure_has_no_margin(self, rules):
        with pytest.raises(ValueError, match="no margin for 'accuracy'"):
            rules.margin("accuracy")

    def test_missing_section_names_the_file_and_fix(self, tmp_path):
        from helpers.core.config import DEFAULT_CONFIG_PATH

        text = open(DEFAULT_CONFIG_PATH, encoding="utf-8").read().split("verdicts_v2:")[0]
        path = tmp_path / "_config.yml"
        path.write_text(text)
        with pytest.raises(ValueError, match=r"lacks the mapping 'verdicts_v2:'.*restore it"):
            R.load_rules_v2(path)

    def test_bad_values_are_refused(self, tmp_path):
        from helpers.core.config import DEFAULT_CONFIG_PATH

        text = open(DEFAULT_CONFIG_PATH, encoding="utf-8").read()
        path = tmp_path / "_config.yml"
        path.write_text(text.replace("power: 0.8", "power: 1.5"))
        with pytest.raises(ValueError, match=r"verdicts_v2.power=1.5 .* must lie in \(0, 1\)"):
            R.load_rules_v2(path)
        path.write_text(text.replace("fraction_margin_pp: 1.0", "fraction_margin_pp: -1"))
        with pytest.raises(ValueError, match="verdicts_v2.fraction_margin_pp=-1 .* positive number"):
            R.load_rules_v2(path)
        path.write_text(text.replace("power: 0.8", "power: 0.8\n  extra_margin: 1"))
        with pytest.raises(ValueError, match="unknown: extra_margin"):
            R.load_rules_v2(path)


class TestOneSided:
    def test_matches_scipy(self):
        v = np.array([0.1, 0.3, 0.2, 0.5, 0.4])
        assert J.one_sided_p(v, 0.0, "larger") == pytest.approx(sps.ttest_1samp(v, 0.0, alternative="greater").pvalue)
        assert J.one_sided_p(v, 0.6, "smaller") == pytest.approx(sps.ttest_1samp(v, 0.6, alternative="less").pvalue)

    def test_no_spread(self):
        assert J.one_sided_p([0.2, 0.2, 0.2], 0.0, "larger") == 0.0
        assert J.one_sided_p([0.2, 0.2, 0.2], 0.0, "smaller") == 1.0

    def test_one_value_and_bad_input(self):
        assert math.isnan(J.one_sided_p([0.2], 0.0, "larger"))
        with pytest.raises(ValueError, match="'larger' or 'smaller'"):
            J.one_sided_p([0.1, 0.2], 0.0, "up")
        with pytest.raises(ValueError, match="NaN or infinite"):
            J.one_sided_p([0.1, math.nan], 0.0, "larger")


class TestStepPart:
    margin = 0.02

    def test_a_clear_rise_holds(self, rules):
        p = J.step_part("s", [0.10, 0.12, 0.11, 0.13, 0.09], True, self.margin, rules)
        assert p["label"] == "rises" and p["holds"] is True and p["low"] > 0
        assert p["p_fail"] > 0.5  # far above the margin: no evidence of falling short

    def test_a_decreasing_claim_on_a_fall_holds(self, rules):
        p = J.step_part("s", [-0.10, -0.12, -0.11, -0.13, -0.09], False, self.margin, rules)
        assert p["label"] == "falls" and p["holds"] is True

    def test_a_flat_step_is_no_change_and_can_fail(self, rules):
        d = [0.001, -0.002, 0.0005, 0.0015, -0.001, 0.0, 0.002, -0.0015]
        p = J.step_part("s", d, True, self.margin, rules)
        assert p["label"] == "no change" and p["holds"] is False
        assert p["p_equivalence"] < 0.05 and p["p_fail"] < 0.001

    def test_a_real_rise_below_the_margin_is_no_change(self, rules):
        # significantly above 0, but inside ±margin: negligible by the rules' own margin
        d = [0.005, 0.006, 0.0055, 0.0052, 0.0058, 0.0049]
        p = J.step_part("s", d, True, self.margin, rules)
        assert p["low"] > 0 and p["label"] == "no change" and not p["holds"]

    def test_a_fall_against_the_claim_fails(self, rules):
        p = J.step_part("s", [-0.10, -0.12, -0.11, -0.13, -0.09], True, self.margin, rules)
        assert p["label"] == "falls" and p["holds"] is False and p["p_fail"] < 1e-4

    def test_a_wide_step_is_unclear_with_seeds_needed(self, rules):
        d = [0.05, -0.01, 0.03, 0.00, 0.04]
        p = J.step_part("s", d, True, self.margin, rules)
        assert p["label"] == "unclear" and p["holds"] is False
        assert p["resolves_to"] == R.HOLDS and p["seeds_needed"] > 5

    def test_too_few_seeds_is_not_judged(self, rules):
        p = J.step_part("s", [0.10, 0.12], True, self.margin, rules)
        assert p["holds"] is None and math.isnan(p["p_fail"]) and p["n"] == 2


class TestEquivalencePart:
    band = (-0.001, 0.001)

    def test_inside_holds(self, rules):
        p = J.equivalence_part("e", [0.0001, -0.0002, 0.0, 0.0001, -0.0001], self.band, rules)
        assert p["holds"] and p["p_equivalence"] < 0.05 and "seeds_needed" in p

    def test_outside_fails_by_a_two_sided_test(self, rules):
        d = [0.003, 0.0031, 0.0029, 0.0032, 0.003]
        p = J.equivalence_part("e", d, self.band, rules)
        assert not p["holds"] and p["p_fail"] < 0.001
        expected = 2 * sps.ttest_1samp(d, 0.001, alternative="greater").pvalue
        assert p["p_fail"] == pytest.approx(expected)

    def test_over_the_edge_is_open_with_power(self, rules):
        p = J.equivalence_part("e", [0.0012, -0.0004, 0.0015, 0.0001, -0.0006], self.band, rules)
        assert not p["holds"] and p["p_fail"] > 0.05
        assert p["resolves_to"] == R.HOLDS and p["seeds_needed"] > 5

    def test_bad_band(self, rules):
        with pytest.raises(ValueError, match="must have low < high"):
            J.equivalence_part("e", [0.0, 0.1, 0.2], (0.1, 0.0), rules)


class TestRegionPart:
    def test_inside_holds_outside_fails(self, rules):
        inside = J.region_part("r", [0.24, 0.25, 0.26, 0.25], (0.16, 0.32), rules)
        assert inside["holds"]
        below = J.region_part("r", [0.05, 0.06, 0.055, 0.052], (0.16, 0.32), rules)
        assert not below["holds"] and below["p_fail"] < 0.001

    def test_open_region_above(self, rules):
        p = J.region_part("r", [0.97, 0.975, 0.98], (0.9, math.inf), rules)
        assert p["holds"]
        p = J.region_part("r", [0.85, 0.86, 0.855], (0.9, math.inf), rules)
        assert not p["holds"] and p["p_fail"] < 0.01


class TestMeasuredPart:
    def test_branches(self):
        assert J.measured_part("m", [True, True])["holds"] is True
        none = J.measured_part("m", [False, False])
        assert none["holds"] is False and none["p_fail"] == 0.0
        some = J.measured_part("m", [True, False])
        assert some["holds"] is False and math.isnan(some["p_fail"])
        assert J.measured_part("m", [])["holds"] is None


def part(name, holds, p_fail):
    return {"name": name, "holds": holds, "p_fail": p_fail, "n": 5}


class TestJudge:
    def test_every_part_holds_is_supported_without_correction(self):
        j = J.judge([part("a", True, 0.9), part("b", True, 0.8)], 0.05)
        assert j["verdict"] == R.SUPPORTED and j["holds"] == ["a", "b"]

    def test_holm_decides_failure(self):
        # 0.03 alone fails at 0.05; with a second p-value in the family Holm makes it 0.06
        assert J.judge([part("a", False, 0.03)], 0.05)["verdict"] == R.CONTRADICTED
        j = J.judge([part("a", False, 0.03), part("b", False, 0.5)], 0.05)
        assert j["verdict"] == R.INCONCLUSIVE
        assert j["parts"][0]["p_fail_holm"] == pytest.approx(0.06)

    def test_holds_and_fails_is_split(self):
        j = J.judge([part("a", True, 0.9), part("b", False, 0.001)], 0.05)
        assert j["verdict"] == R.SPLIT and j["holds"] == ["a"] and j["fails"] == ["b"]

    def test_open_part_is_inconclusive(self):
        j = J.judge([part("a", True, 0.9), part("b", False, 0.4)], 0.05)
        assert j["verdict"] == R.INCONCLUSIVE and j["open"] == ["b"]

    def test_untestable(self):
        assert J.judge([], 0.05)["verdict"] == R.NOT_TESTED
        assert J.judge([{"name": "a", "holds": None, "p_fail": math.nan, "n": 0}], 0.05)["verdict"] == R.NOT_TESTED
        assert J.judge([part("a", None, math.nan)], 0.05)["verdict"] == R.INCONCLUSIVE

    def test_holm_matches_statsmodels_and_skips_nan(self):
        from statsmodels.stats.multitest import multipletests

        p = [0.01, 0.04, 0.03]
        assert J.holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
        out = J.holm([0.01, math.nan, 0.04])
        assert math.isnan(out[1]) and out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)

    def test_verdict_words_have_no_comma(self):
        assert all("," not in v for v in R.VERDICTS)


class TestTrendParts:
    names = ["0 %", "25 %", "50 %"]

    def rising_then_flat(self, n=8, seed=0):
        rng = np.random.default_rng(seed)
        base = 0.7 + 0.01 * rng.standard_normal(n)
        first = base + 0.10 + 0.005 * rng.standard_normal(n)  # a clear rise
        second = first + 0.002 * rng.standard_normal(n)  # flat
        return np.stack([base, first, second], axis=1)

    def test_steps_and_endpoint(self, rules):
        parts = J.trend_parts({"entropy": self.rising_then_flat()}, self.names, True, {"entropy": 0.02}, rules)
        assert [p["step"] for p in parts] == ["0 % → 25 %", "25 % → 50 %", "0 % → 50 %"]
        assert [p["endpoint"] for p in parts] == [False, False, True]
        assert [p["label"] for p in parts] == ["rises", "no change", "rises"]

    def test_a_rise_then_a_flat_step_is_split_and_says_where(self, rules):
        parts = J.trend_parts({"entropy": self.rising_then_flat()}, self.names, True, {"entropy": 0.02}, rules)
        j = J.judge(parts, rules.alpha)
        assert j["verdict"] == R.SPLIT
        assert J.where(j, R.FAILS) == "entropy: 25 % → 50 %"
        assert J.where(j, R.HOLDS) == "entropy: 0 % → 25 %, 0 % → 50 %"

    def test_flat_everywhere_is_contradicted(self, rules):
        rng = np.random.default_rng(1)
        v = 0.5 + 0.001 * rng.standard_normal((10, 3))
        j = J.judge(J.trend_parts({"d": v}, self.names, True, {"d": 0.02}, rules), rules.alpha)
        assert j["verdict"] == R.CONTRADICTED and len(j["fails"]) == 3

    def test_two_points_have_no_separate_endpoint(self, rules):
        v = np.array([[0.1, 0.2], [0.1, 0.21], [0.1, 0.19]])
        parts = J.trend_parts({"x": v}, ["0 %", "95 %"], True, {"x": 0.02}, rules)
        assert len(parts) == 1 and parts[0]["holds"]

    def test_shape_is_checked(self, rules):
        with pytest.raises(ValueError, match=r"series 'x' must be \(n_seeds, 3\) values"):
            J.trend_parts({"x": np.zeros((3, 2))}, self.names, True, {"x": 0.02}, rules)


class TestSeedsNeeded:
    def test_matches_statsmodels_solve_power(self):
        from statsmodels.stats.power import TTestPower

        n = J.seeds_needed(0.01, 0.02, "along", 0.05, 0.8)
        exact = TTestPower().solve_power(effect_size=0.5, alpha=0.025, power=0.8, alternative="larger")
        assert n == math.ceil(exact)

    def test_more_seeds_for_smaller_effects_and_none_past_the_limit(self):
        assert J.seeds_needed(0.02, 0.02, "along", 0.05, 0.8) < J.seeds_needed(0.01, 0.02, "along", 0.05, 0.8)
        assert J.seeds_needed(1e-6, 1.0, "along", 0.05, 0.8) is None
        assert J.seeds_needed(0.0, 0.0, "along", 0.05, 0.8) is None

    def test_tost_and_outside(self):
        inside = J.seeds_needed(0.0, 0.01, "inside", 0.05, 0.8, band=(-0.01, 0.01))
        assert 5 < inside < 40
        outside = J.seeds_needed(0.02, 0.01, "outside", 0.05, 0.8, band=(-0.01, 0.01))
        assert 5 < outside < 20
        with pytest.raises(ValueError, match="kind='x'"):
            J.seeds_needed(0.1, 0.1, "x", 0.05, 0.8)
