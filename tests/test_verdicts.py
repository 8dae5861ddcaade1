"""Every branch of every verdict rule, on constructed inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.stats import verdicts as V
from helpers.stats.inference import Comparison


def comparison(estimate, low, high, p_equivalence, band=(-0.001, 0.001)):
    return Comparison(estimate, low, high, 0.5, p_equivalence, band[0], band[1], 10)


class TestEquivalence:
    def test_tost_below_alpha_is_supported(self):
        assert V.equivalence(comparison(0.0, -0.0005, 0.0005, 0.01), 0.05) == V.SUPPORTED

    def test_interval_above_band_is_contradicted(self):
        assert V.equivalence(comparison(0.003, 0.002, 0.004, 0.99), 0.05) == V.CONTRADICTED

    def test_interval_below_band_is_contradicted(self):
        assert V.equivalence(comparison(-0.003, -0.004, -0.002, 0.99), 0.05) == V.CONTRADICTED

    def test_wide_interval_over_the_edge_is_unresolved(self):
        assert V.equivalence(comparison(0.0, -0.003, 0.003, 0.4), 0.05) == V.UNRESOLVED

    def test_accepts_the_dict_that_evaluation_stores(self):
        c = comparison(0.0, -0.0005, 0.0005, 0.2).as_dict()
        assert V.equivalence(c, 0.05) == V.UNRESOLVED
        assert V.equivalence(c, 0.25) == V.SUPPORTED


class TestRegion:
    @pytest.mark.parametrize(
        "low, high, expected",
        [
            (0.20, 0.30, V.SUPPORTED),
            (0.16, 0.32, V.SUPPORTED),  # inside, edges count
            (0.05, 0.10, V.CONTRADICTED),
            (0.33, 0.40, V.CONTRADICTED),  # disjoint either side
            (0.10, 0.20, V.UNRESOLVED),
            (0.30, 0.35, V.UNRESOLVED),  # over an edge
            (math.nan, math.nan, V.UNRESOLVED),
        ],
    )
    def test_band(self, low, high, expected):
        assert V.region(low, high, 0.16, 0.32) == expected

    def test_open_region(self):
        assert V.region(0.95, 0.97, region_low=0.9) == V.SUPPORTED
        assert V.region(0.80, 0.86, region_low=0.9) == V.CONTRADICTED


class TestTrend:
    rising = np.array([[0.40, 0.42, 0.44], [0.41, 0.43, 0.45], [0.39, 0.415, 0.44]])

    def test_every_step_significant_the_claimed_way_is_supported(self):
        verdict, steps = V.trend(self.rising, True, 0.05, 3)
        assert verdict == V.SUPPORTED
        assert len(steps) == 2 and all(low > 0 for _, low, _ in steps)

    def test_a_decreasing_claim_on_falling_values_is_supported(self):
        assert V.trend(-self.rising, False, 0.05, 3)[0] == V.SUPPORTED

    def test_a_significant_step_against_the_claim_contradicts(self):
        v = self.rising.copy()
        v[:, 2] = v[:, 1] - np.array([0.02, 0.021, 0.019])  # the last step falls in every seed
        assert V.trend(v, True, 0.05, 3)[0] == V.CONTRADICTED
        assert V.trend(self.rising, False, 0.05, 3)[0] == V.CONTRADICTED

    def test_a_step_whose_interval_spans_zero_is_unresolved(self):
        v = self.rising.copy()
        v[:, 2] = v[:, 1] + np.array([0.01, -0.01, 0.002])
        assert V.trend(v, True, 0.05, 3)[0] == V.UNRESOLVED

    def test_too_few_seeds_is_unresolved_even_when_every_point_rises(self):
        verdict, steps = V.trend(self.rising[:2], True, 0.05, 3)
        assert verdict == V.UNRESOLVED and len(steps) == 2
        assert V.trend(self.rising[:1], True, 0.05, 3)[0] == V.UNRESOLVED

    def test_bonferroni_widens_each_step(self):
        # Three steps: each interval is at alpha/3, so wider than a single step's at alpha.
        from helpers.stats.inference import t_interval

        v = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 1.2, 2.1, 3.3], [0.0, 0.9, 1.8, 2.7]])
        _, steps = V.trend(v, True, 0.05, 3)
        _, low_single, high_single = t_interval(np.diff(v, axis=1)[:, 0], 0.05)
        assert steps[0][1] < low_single and steps[0][2] > high_single

    def test_shape_errors(self):
        with pytest.raises(ValueError, match=r"n_points >= 2"):
            V.trend(np.ones((3, 1)), True, 0.05, 3)


class TestMeasuredAndCombine:
    def test_measured(self):
        assert V.measured([True, True]) == V.SUPPORTED
        assert V.measured([False, False]) == V.CONTRADICTED
        assert V.measured([True, False]) == V.UNRESOLVED
        assert V.measured([]) == V.NOT_TESTED

    @pytest.mark.parametrize(
        "parts, expected",
        [
            ([V.SUPPORTED, V.SUPPORTED], V.SUPPORTED),
            ([V.SUPPORTED, V.UNRESOLVED], V.UNRESOLVED),
            ([V.SUPPORTED, V.CONTRADICTED, V.UNRESOLVED], V.CONTRADICTED),
            ([V.SUPPORTED, V.NOT_TESTED], V.SUPPORTED),
            ([V.NOT_TESTED], V.NOT_TESTED),
            ([], V.NOT_TESTED),
        ],
    )
    def test_combine(self, parts, expected):
        assert V.combine(parts) == expected


class TestRules:
    def test_the_repository_rules(self):
        r = V.load_rules()
        assert (r.alpha, r.accuracy_margin_pp, r.min_seeds) == (0.05, 0.1, 3)
        assert r.ratio_tolerance == 0.8 and r.same_size_factor == 1.25

    def _write(self, tmp_path, body):
        path = tmp_path / "_config.yml"
        path.write_text(body)
        return path

    def test_missing_section(self, tmp_path):
        path = self._write(tmp_path, "model: {}\n")
        with pytest.raises(ValueError, match=r"lacks the mapping 'verdicts:'"):
            V.load_rules(path)

    def test_missing_and_unknown_keys(self, tmp_path):
        path = self._write(tmp_path, "verdicts: {alpha: 0.05, margin: 1}\n")
        with pytest.raises(ValueError, match=r"missing: about_one_pp_margin.*; unknown: margin\."):
            V.load_rules(path)

    def test_bad_values(self, tmp_path):
        good = {k: 1 for k in V.Rules.__annotations__} | {"alpha": 0.05, "min_seeds": 3}
        for key, value, message in (
            ("alpha", 0.7, "must be below 0.5"),
            ("ratio_tolerance", -1, "must be a positive number"),
            ("min_seeds", 1, "must be an integer >= 2"),
        ):
            body = "verdicts:\n" + "".join(f"  {k}: {value if k == key else v}\n" for k, v in good.items())
            with pytest.raises(ValueError, match=message):
                V.load_rules(self._write(tmp_path, body))
