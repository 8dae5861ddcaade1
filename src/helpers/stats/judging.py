"""The parts of a claim under rules v2 (helpers.stats.rules), each judged on numbers, and the
verdict of a claim from its parts.

Three kinds of part, each a pure function of numbers (tests/test_rules.py builds inputs
for every branch):

- `step_part`: a paired difference over seeds that the claim says moves one way
  (a sparsity step of a trend claim). Holds when its (1 − α) t-interval lies on the
  claimed side of 0 and it is not equivalent to 0; fails when a one-sided t-test shows it
  short of the margin (it moves the claimed way by less than the margin, or the other way).
- `equivalence_part`: a paired difference the claim puts inside a band (no change; the
  paper's value ± a margin). Holds when TOST shows it inside (p < α); fails when a
  two-sided test shows it outside (the (1 − α) interval clear of the band).
- `region_part`: a seed mean the claim puts inside a region (C5's fractions). Holds when
  its (1 − α) interval lies inside; fails when a two-sided test shows it outside.
- `measured_part`: a deterministic measurement (a size) checked in every seed.

Each open part also says how many seeds its observed mean and SD would need to be
resolved with 80 % power (`seeds_needed`, statsmodels' power of the t-test; for TOST the
standard bound P(both one-sided tests reject) >= P1 + P2 − 1).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.stats.rules import (
    CONTRADICTED,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NOT_TESTED,
    OPEN,
    SPLIT,
    SUPPORTED,
    RulesV2,
)

MAX_SEEDS = 200
"""seeds_needed searches up to this many seeds; beyond it says None ("more than 200")."""


# --- one-sample statistics of seed-level differences ------------------------------------
def _clean(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("a part needs at least one seed-level value, got none.")
    if not np.all(np.isfinite(v)):
        raise ValueError("seed-level values contain NaN or infinite values; drop or fix them first.")
    return v


def _t_sf(t: float, df: int) -> float:
    from scipy import stats as sps

    return float(sps.t.sf(t, df))


def one_sided_p(values, null: float, alternative: str) -> float:
    """p of the one-sample t-test of H0: mean = `null` against mean > null ("larger") or
    mean < null ("smaller"). No spread at all: 0 when every value lies on the alternative's
    side, else 1. Fewer than 2 values: NaN."""
    v = _clean(values)
    if alternative not in ("larger", "smaller"):
        raise ValueError(f"alternative={alternative!r} must be 'larger' or 'smaller'.")
    if v.size < 2:
        return math.nan
    sign = 1.0 if alternative == "larger" else -1.0
    if np.ptp(v) == 0:  # no spread at all: the t statistic is undefined
        return 0.0 if sign * (v[0] - null) > 0 else 1.0
    sd = float(v.std(ddof=1))
    t = sign * (float(v.mean()) - null) / (sd / math.sqrt(v.size))
    return _t_sf(t, v.size - 1)


def summary(values, alpha: float) -> dict:
    """{"n", "mean", "sd", "low", "high"}: the (1 − α) t-interval of the mean (NaN with one)."""
    from helpers.stats.inference import t_interval

    v = _clean(values)
    mean, low, high = t_interval(v, alpha)
    return {"n": int(v.size), "mean": mean, "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan, "low": low, "high": high}


# --- power ----------------------------------------------------------------------------------
def _power_one_sided(effect: float, n: int, alpha: float) -> float:
    from statsmodels.stats.power import ttest_power

    if effect <= 0:
        return 0.0
    return float(ttest_power(effect, nobs=n, alpha=alpha, alternative="larger"))


def seeds_needed(
    mean: float, sd: float, kind: str, alpha: float, power: float, margin: float = 0.0, band: tuple[float, float] | None = None
) -> int | None:
    """Fewest seeds with which a paired t-test at the observed mean and SD would resolve a
    part with probability `power` (statsmodels' t-test power); None past MAX_SEEDS or when
    the observed mean points nowhere (e.g. exactly on the margin).

    kind: "along" (show mean > 0, two-sided α, i.e. one-sided α/2), "short" (show
    mean < margin, one-sided α), "inside" (TOST of `band` at α: P1 + P2 − 1),
    "outside" (show the mean outside `band`, two-sided α).
    """
    if not (math.isfinite(mean) and math.isfinite(sd)) or sd <= 0:
        return None
    for n in range(2, MAX_SEEDS + 1):
        if kind == "along":
            p = _power_one_sided(mean / sd, n, alpha / 2)
        elif kind == "short":
            p = _power_one_sided((margin - mean) / sd, n, alpha)
        elif kind == "inside":
            lo, hi = band
            p = _power_one_sided((mean - lo) / sd, n, alpha) + _power_one_sided((hi - mean) / sd, n, alpha) - 1
        elif kind == "outside":
            lo, hi = band
            p = max(_power_one_sided((lo - mean) / sd, n, alpha / 2), _power_one_sided((mean - hi) / sd, n, alpha / 2))
        else:
            raise ValueError(f"kind={kind!r} must be along, short, inside or outside.")
        if p >= power:
            return n
    return None


# --- parts ------------------------------------------------------------------------------------
def _part(name: str, holds: bool | None, p_fail: float, stats: dict, **extra) -> dict:
    """holds None: not testable (too few seeds); p_fail NaN: cannot fail by a test."""
    return {"name": name, "holds": holds, "p_fail": p_fail, **stats, **extra}


def step_part(name: str, diffs, increasing: bool, margin: float, rules: RulesV2) -> dict:
    """A seed-level paired difference (one per seed) that the claim says rises (or falls).

    Label (what the data show, whatever the claim): "no change" when TOST shows the mean
    inside ±margin; else "rises" / "falls" when the (1 − α) interval is clear of 0; else
    "unclear". holds: the label is the claimed direction. p_fail: one-sided p that the
    step, in the claimed direction, is short of the margin.
    """
    from statsmodels.stats.weightstats import ttost_paired

    a = rules.alpha
    v = _clean(diffs)
    s = summary(v, a)
    sign = 1.0 if increasing else -1.0
    if v.size < max(2, rules.min_seeds):
        return _part(
            name,
            None,
            math.nan,
            s,
            label="unclear",
            margin=margin,
            p_equivalence=math.nan,
            seeds_needed=None,
            increasing=increasing,
        )
    if np.ptp(v) == 0:
        p_eq = 0.0 if abs(s["mean"]) < margin else 1.0
    else:
        p_eq = float(ttost_paired(v, np.zeros_like(v), -margin, margin)[0])
    if p_eq < a:
        label = "no change"
    elif s["low"] > 0:
        label = "rises"
    elif s["high"] < 0:
        label = "falls"
    else:
        label = "unclear"
    claimed = "rises" if increasing else "falls"
    p_fail = one_sided_p(sign * v, margin, "smaller")
    part = _part(
        name,
        label == claimed,
        p_fail,
        s,
        label=label,
        margin=margin,
        p_equivalence=p_eq,
        increasing=increasing,
        seeds_needed=None,
    )
    if label == "unclear":
        d = sign * s["mean"]
        kind = "along" if d >= margin / 2 else "short"
        part["seeds_needed"] = seeds_needed(d, s["sd"], kind, a, rules.power, margin=margin)
        part["resolves_to"] = HOLDS if kind == "along" else FAILS
    return part


def equivalence_part(name: str, diffs, band: tuple[float, float], rules: RulesV2) -> dict:
    """A seed-level paired difference that the claim puts inside `band` (TOST)."""
    from statsmodels.stats.weightstats import ttost_paired

    a = rules.alpha
    v = _clean(diffs)
    lo, hi = float(band[0]), float(band[1])
    if not lo < hi:
        raise ValueError(f"equivalence band {band!r} must have low < high.")
    s = summary(v, a)
    if v.size < max(2, rules.min_seeds):
        return _part(name, None, math.nan, s, band=[lo, hi], p_equivalence=math.nan, seeds_needed=None)
    if np.ptp(v) == 0:
        p_eq = 0.0 if lo < s["mean"] < hi else 1.0
    else:
        p_eq = float(ttost_paired(v, np.zeros_like(v), lo, hi)[0])
    p_out = min(1.0, 2 * min(one_sided_p(v, lo, "smaller"), one_sided_p(v, hi, "larger")))
    part = _part(name, p_eq < a, p_out, s, band=[lo, hi], p_equivalence=p_eq, seeds_needed=None)
    if p_eq >= a:
        inside = lo < s["mean"] < hi
        part["seeds_needed"] = seeds_needed(s["mean"], s["sd"], "inside" if inside else "outside", a, rules.power, band=(lo, hi))
        part["resolves_to"] = HOLDS if inside else FAILS
    return part


def se_equivalence_part(name: str, mean: float, se: float, df: float, band: tuple[float, float], rules: RulesV2, n: int) -> dict:
    """equivalence_part's test from a mean, its standard error and degrees of freedom (e.g.
    helpers.stats.inference.crossed_mean over seeds and test images) in place of the per-seed values:
    TOST p = the larger of the two one-sided t p-values against the band's edges; p_fail =
    twice the smaller p of the tests that the mean lies below the low or above the high
    edge. With the seed means' own SE and n − 1 df it is equivalence_part. `n`: seeds."""
    from scipy.stats import t as t_dist

    a = rules.alpha
    lo, hi = float(band[0]), float(band[1])
    if not lo < hi:
        raise ValueError(f"equivalence band {band!r} must have low < high.")
    if not (math.isfinite(se) and se >= 0 and df > 0):
        raise ValueError(f"se_equivalence_part needs a finite se >= 0 and df > 0; got se={se}, df={df}.")
    half = float(t_dist.ppf(1 - a / 2, df)) * se
    stats = {
        "n": int(n),
        "mean": float(mean),
        "sd": math.nan,
        "se": float(se),
        "df": float(df),
        "low": float(mean) - half,
        "high": float(mean) + half,
    }
    if n < max(2, rules.min_seeds):
        return _part(name, None, math.nan, stats, band=[lo, hi], p_equivalence=math.nan, seeds_needed=None)
    if se == 0:
        p_eq = 0.0 if lo < mean < hi else 1.0
        p_out = 0.0 if not lo <= mean <= hi else 1.0
    else:
        p_eq = float(max(t_dist.sf((mean - lo) / se, df), t_dist.cdf((mean - hi) / se, df)))
        p_out = float(min(1.0, 2 * min(t_dist.cdf((mean - lo) / se, df), t_dist.sf((mean - hi) / se, df))))
    return _part(name, p_eq < a, p_out, stats, band=[lo, hi], p_equivalence=p_eq, seeds_needed=None)


def region_part(name: str, values, region: tuple[float, float], rules: RulesV2) -> dict:
    """A seed mean (one value per seed) that the claim puts inside `region` (edges count)."""
    a = rules.alpha
    v = _clean(values)
    lo, hi = float(region[0]), float(region[1])
    s = summary(v, a)
    if v.size < max(2, rules.min_seeds):
        return _part(name, None, math.nan, s, region=[lo, hi], seeds_needed=None)
    holds = lo <= s["low"] and s["high"] <= hi
    p_below = one_sided_p(v, lo, "smaller") if math.isfinite(lo) else 1.0
    p_above = one_sided_p(v, hi, "larger") if math.isfinite(hi) else 1.0
    return _part(name, holds, min(1.0, 2 * min(p_below, p_above)), s, region=[lo, hi], seeds_needed=None)


def measured_part(name: str, passes: list[bool], value: float | None = None) -> dict:
    """A deterministic check in every seed: holds if all pass, fails if none does (p 0),
    open if it depends on the seed."""
    if not passes:
        return _part(name, None, math.nan, {"n": 0}, passes=[])
    fails = not any(passes)
    return _part(name, all(passes), 0.0 if fails else math.nan, {"n": len(passes)}, passes=[bool(p) for p in passes], value=value)


# --- a claim from its parts -------------------------------------------------------------------
def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (statsmodels' multipletests); NaN stays NaN (not in the family)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method="holm")[1]
    return out.tolist()


def judge(parts: list[dict], alpha: float) -> dict:
    """One verdict from a claim's parts (see helpers.stats.rules). Each part gets `status`
    (holds / fails / open) and `p_fail_holm`. Returns {"verdict", "parts", "holds",
    "fails", "open"} (the last three: part names in order)."""
    if not parts:
        return {"verdict": NOT_TESTED, "parts": [], "holds": [], "fails": [], "open": []}
    adjusted = holm([p["p_fail"] for p in parts])
    out = []
    for part, p_adj in zip(parts, adjusted):
        if part["holds"]:
            status = HOLDS
        elif math.isfinite(p_adj) and p_adj < alpha:
            status = FAILS
        else:
            status = OPEN
        out.append({**part, "p_fail_holm": p_adj, "status": status})
    names = {s: [p["name"] for p in out if p["status"] == s] for s in (HOLDS, FAILS, OPEN)}
    if all(p["holds"] is None for p in parts):
        verdict = NOT_TESTED if all(p.get("n", 0) == 0 for p in parts) else INCONCLUSIVE
    elif names[FAILS] and names[HOLDS]:
        verdict = SPLIT
    elif names[FAILS]:
        verdict = CONTRADICTED
    elif not names[OPEN]:
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return {"verdict": verdict, "parts": out, **names}


def trend_parts(
    series: dict, point_names: list[str], increasing: bool, margins: dict, rules: RulesV2, endpoint: bool = True
) -> list[dict]:
    """Step parts of a trend claim: for every series {name: (n_seeds, n_points) values},
    each consecutive step and (when there are more than two points) the endpoint, first to
    last. Part names: "<series>: <from> → <to>"; each part carries `series`, `step`
    ("0 % → 25 %" style labels come from `point_names`) and `endpoint`."""
    parts = []
    for name, values in series.items():
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != len(point_names) or v.shape[1] < 2:
            raise ValueError(f"series {name!r} must be (n_seeds, {len(point_names)}) values, got shape {v.shape}.")
        steps = [(k, k + 1) for k in range(v.shape[1] - 1)]
        if endpoint and v.shape[1] > 2:
            steps.append((0, v.shape[1] - 1))
        for i, j in steps:
            step = f"{point_names[i]} → {point_names[j]}"
            part = step_part(f"{name}: {step}", v[:, j] - v[:, i], increasing, margins[name], rules)
            part.update(series=name, step=step, endpoint=(i, j) == (0, v.shape[1] - 1) and j - i > 1)
            parts.append(part)
    return parts


def where(judged: dict, status: str) -> str:
    """The parts of one status as a reader's phrase, series grouped:
    "entropy: 0 % → 25 %, 75 % → 95 %; disagreement: 0 % → 95 %" ("" when none)."""
    groups: dict[str, list[str]] = {}
    for p in judged["parts"]:
        if p["status"] == status:
            key = p.get("series", "")
            groups.setdefault(key, []).append(p.get("step", p["name"]))
    return "; ".join((f"{k}: " if k else "") + ", ".join(v) for k, v in groups.items())
