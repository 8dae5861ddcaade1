"""Paired comparisons, t-intervals and McNemar against hand computations and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from helpers.stats.inference import compare_paired, mcnemar_test, t_interval


def test_t_interval_by_hand():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = t_interval(v, 0.05)
    half = sps.t.ppf(0.975, 3) * v.std(ddof=1) / 2
    assert mean == 2.5 and low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)


def test_t_interval_degenerate():
    assert t_interval([0.3])[0] == 0.3 and math.isnan(t_interval([0.3])[1])
    assert t_interval([0.3, 0.3]) == (0.3, 0.3, 0.3)
    with pytest.raises(ValueError, match="at least one value"):
        t_interval([])


def test_compare_paired_matches_hand_tost():
    x = np.array([0.992, 0.994, 0.993, 0.995, 0.991])
    y = np.array([0.991, 0.993, 0.993, 0.994, 0.991])
    c = compare_paired(x, y, (-0.002, 0.002))
    d = x - y
    se = d.std(ddof=1) / math.sqrt(5)
    p_lower = sps.t.sf((d.mean() + 0.002) / se, 4)
    p_upper = sps.t.cdf((d.mean() - 0.002) / se, 4)
    assert c.estimate == pytest.approx(d.mean())
    assert c.p_equivalence == pytest.approx(max(p_lower, p_upper))
    assert c.p_difference == pytest.approx(sps.ttest_rel(x, y).pvalue)
    assert c.low < c.estimate < c.high and c.n == 5


def test_equivalence_needs_the_interval_inside_the_band():
    rng = np.random.default_rng(0)
    y = rng.random(2000)
    near = compare_paired(y + 0.001 + rng.normal(0, 0.01, 2000), y, (-0.01, 0.01))
    far = compare_paired(y + 0.02 + rng.normal(0, 0.01, 2000), y, (-0.01, 0.01))
    assert near.p_equivalence < 0.05 and far.p_equivalence > 0.5


def test_constant_differences_have_no_spread():
    c = compare_paired([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], (-0.1, 0.1))
    assert (c.estimate, c.low, c.high, c.p_equivalence, c.p_difference) == (0, 0, 0, 0.0, 1.0)
    c = compare_paired([1.5, 2.5], [1.0, 2.0], (-0.1, 0.1))
    assert c.p_equivalence == 1.0 and c.p_difference == 0.0


@pytest.mark.parametrize(
    "x, y, band, message",
    [
        ([1, 2], [1], (-1, 1), "same length"),
        ([1], [1], (-1, 1), "at least 2 pairs"),
        ([1, 2], [1, 2], (1, -1), "low < high"),
        ([1, np.nan], [1, 2], (-1, 1), "NaN or infinite"),
    ],
)
def test_compare_paired_errors(x, y, band, message):
    with pytest.raises(ValueError, match=message):
        compare_paired(x, y, band)


def test_mcnemar_exact_by_hand():
    a = np.array([1] * 90 + [1] * 7 + [0] * 2 + [0])
    b = np.array([1] * 90 + [0] * 7 + [1] * 2 + [0])
    t = mcnemar_test(a, b)
    assert (t["a_only"], t["b_only"]) == (7, 2)
    assert t["p"] == pytest.approx(2 * sps.binom.cdf(2, 9, 0.5))


def test_mcnemar_chi_square_for_many_discordant_pairs():
    a = np.array([1] * 30 + [0] * 10 + [1] * 60)
    b = np.array([0] * 30 + [1] * 10 + [1] * 60)
    t = mcnemar_test(a, b)
    chi2 = (abs(30 - 10) - 1) ** 2 / 40
    assert t["p"] == pytest.approx(sps.chi2.sf(chi2, 1))


def test_mcnemar_identical_and_errors():
    assert mcnemar_test([1, 0, 1], [1, 0, 1]) == {"a_only": 0, "b_only": 0, "p": 1.0}
    with pytest.raises(ValueError, match="equally long"):
        mcnemar_test([1, 0], [1])
