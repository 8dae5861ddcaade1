"""Paired comparisons a statistician would sign: t-intervals, TOST equivalence, McNemar.

The same two functions serve both levels of evidence the book uses:

- within one run, over test images (x, y = per-image values of two ensembles on the same
  images): the spread of the test sample;
- between runs, over seeds (x, y = one value per seed of each ensemble): the spread of
  training itself, which is what a claim about the *method* must survive.

Established implementations are used (statsmodels' `ttost_paired`, `DescrStatsW`,
`mcnemar`); only the degenerate case of identical differences is handled here, where a
t statistic is undefined.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """x − y for paired samples: the mean difference, its (1 − α) t-interval, a test of
    "no difference" and an equivalence test of "the difference lies in [band_low, band_high]".

    `p_difference` is the two-sided paired t-test of mean 0; `p_equivalence` the TOST p
    (the larger of the two one-sided p-values): below α means equivalence is shown.
    """

    estimate: float
    low: float
    high: float
    p_difference: float
    p_equivalence: float
    band_low: float
    band_high: float
    n: int
    alpha: float = ALPHA

    def as_dict(self) -> dict:
        return asdict(self)


def _check_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired samples must have the same length, got {x.size} and {y.size}.")
    if x.size < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {x.size}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("paired samples contain NaN or infinite values; drop or fix them first.")
    return x, y


def compare_paired(x, y, band: tuple[float, float], alpha: float = ALPHA) -> Comparison:
    """Paired comparison of x − y with the equivalence band `band` = (low, high), low < high."""
    from scipy import stats as sps
    from statsmodels.stats.weightstats import DescrStatsW, ttost_paired

    low_b, high_b = float(band[0]), float(band[1])
    if not low_b < high_b:
        raise ValueError(f"equivalence band {band!r} must have low < high.")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r} must lie in (0, 0.5).")
    x, y = _check_pairs(x, y)
    d = x - y
    estimate = float(d.mean())
    if np.ptp(d) == 0:  # every pair differs by the same amount: no sampling spread at all
        inside = low_b < estimate < high_b
        return Comparison(
            estimate, estimate, estimate, 0.0 if estimate != 0 else 1.0, 0.0 if inside else 1.0, low_b, high_b, int(d.size), alpha
        )
    low, high = DescrStatsW(d).tconfint_mean(alpha)
    p_diff = float(sps.ttest_1samp(d, 0.0).pvalue)
    p_equiv = float(ttost_paired(x, y, low_b, high_b)[0])
    return Comparison(estimate, float(low), float(high), p_diff, p_equiv, low_b, high_b, int(d.size), alpha)


def t_interval(values, alpha: float = ALPHA) -> tuple[float, float, float]:
    """(mean, low, high): the (1 − α) t-interval of the mean of `values` (e.g. over seeds).

    With one value the interval is undefined: (value, nan, nan)."""
    from statsmodels.stats.weightstats import DescrStatsW

    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("t_interval needs at least one value.")
    mean = float(v.mean())
    if v.size == 1:
        return mean, math.nan, math.nan
    if np.ptp(v) == 0:
        return mean, mean, mean
    low, high = DescrStatsW(v).tconfint_mean(alpha)
    return mean, float(low), float(high)


def mcnemar_test(correct_a, correct_b) -> dict:
    """McNemar's test of equal accuracy of two classifiers on the same images.

    correct_a, correct_b: (N,) booleans. Returns {"a_only", "b_only", "p"}: the discordant
    counts (a right and b wrong; b right and a wrong) and the two-sided p-value — exact
    binomial when there are fewer than 25 discordant pairs, else the continuity-corrected
    chi-square (statsmodels' recommendation).
    """
    from statsmodels.stats.contingency_tables import mcnemar

    a = np.asarray(correct_a).astype(bool).ravel()
    b = np.asarray(correct_b).astype(bool).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"McNemar needs two equally long, non-empty correctness vectors, got {a.size} and {b.size}.")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    table = [[int(np.sum(a & b)), a_only], [b_only, int(np.sum(~a & ~b))]]
    if a_only + b_only == 0:
        return {"a_only": 0, "b_only": 0, "p": 1.0}
    exact = a_only + b_only < 25
    result = mcnemar(table, exact=exact, correction=True)
    return {"a_only": a_only, "b_only": b_only, "p": float(result.pvalue)}


def crossed_mean(diffs, alpha: float = ALPHA) -> dict:
    """The mean of per-seed, per-image differences with an interval that counts both
    sources of variation: seeds (training) and test images (the test sample).

    `diffs` is (S, N): row s holds seed s's differences on the same N test images, so seeds
    and images are crossed. The model is the two-way random-effects model without
    replication, d[s, i] = mu + a_s + b_i + e_si, and the variance of the grand mean,
    var(a)/S + var(b)/N + var(e)/(S N), is estimated from the ANOVA mean squares as
    (MS_seeds + MS_images - MS_residual) / (S N), with Satterthwaite's degrees of freedom
    (Searle, Casella & McCulloch 1992, ch. 4). With no image effect it is the t-interval of
    the seed means (MS_images = MS_residual); with one seed's worth of spread it tends to
    the seeds' t-interval, with a large image effect to a normal interval.

    Returns {"mean", "se", "df", "low", "high" (the 1 − α t-interval), "tost_low",
    "tost_high" (1 − 2α), "components": {"seeds", "images", "residual"} (each variance
    component's share of the grand mean's variance, truncated at zero)}. The mean squares
    are statsmodels' `anova_lm` of d ~ C(seed) + C(image) (tests/test_per_image.py checks);
    computed here in closed form because that fit on S × N rows builds a dense design of
    N columns.
    """
    from scipy.stats import t as t_dist

    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError(f"crossed_mean needs a (seeds, images) array; got shape {d.shape}.")
    s, n = d.shape
    if s < 2 or n < 2:
        raise ValueError(f"crossed_mean needs at least 2 seeds and 2 images; got {s} seeds, {n} images.")
    if not np.isfinite(d).all():
        raise ValueError("crossed_mean got a NaN or infinite difference; every cell must be finite.")
    grand, rows, cols = d.mean(), d.mean(axis=1), d.mean(axis=0)
    df_a, df_b, df_e = s - 1, n - 1, (s - 1) * (n - 1)
    ms_a = n * float(((rows - grand) ** 2).sum()) / df_a
    ms_b = s * float(((cols - grand) ** 2).sum()) / df_b
    ms_e = float(((d - rows[:, None] - cols[None, :] + grand) ** 2).sum()) / df_e
    combo = ms_a + ms_b - ms_e
    if combo <= 0:  # sampling noise can make it negative: fall back on the larger main effect
        combo, terms = max(ms_a, ms_b), [(max(ms_a, ms_b), df_a if ms_a >= ms_b else df_b)]
    else:
        terms = [(ms_a, df_a), (ms_b, df_b), (ms_e, df_e)]
    var = combo / (s * n)
    se = math.sqrt(var)
    denom = sum(m * m / f for m, f in terms)
    df = combo * combo / denom if denom > 0 else math.inf
    out = {"mean": float(grand), "se": se, "df": float(df)}
    for key, a in (("", alpha), ("tost_", 2 * alpha)):
        half = float(t_dist.ppf(1 - a / 2, df)) * se if se > 0 else 0.0
        out[f"{key}low"], out[f"{key}high"] = float(grand) - half, float(grand) + half
    parts = {"seeds": max(0.0, (ms_a - ms_e) / n) / s, "images": max(0.0, (ms_b - ms_e) / s) / n, "residual": ms_e / (s * n)}
    total = sum(parts.values())
    out["components"] = {k: (v / total if total > 0 else math.nan) for k, v in parts.items()}
    return out
