"""The verdict vocabulary and the rules that pick a verdict from the evidence.

Four verdicts, one meaning each:

- "supported": the data show what the claim says (an equivalence shown by TOST, every
  step of a trend significant in the claimed direction, a measured size past its bound);
- "consistent, not resolved": nothing contradicts the claim, but the data cannot tell at
  this resolution (intervals too wide for the margin, too few seeds for a trend);
- "contradicted": the data show the opposite (an interval entirely outside the claimed
  band, a significant step against the claimed direction, a size short of its bound);
- "not tested": this build lacks what the claim is about (e.g. no 25 % sparsity).

The margins and α are stated in `_config.yml` (section `verdicts`), were fixed before the
paper-profile seeds ran, and are read here, nowhere else. Rules are pure functions of
numbers; tests/test_verdicts.py builds inputs for every branch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.stats.inference import Comparison, t_interval

SUPPORTED = "supported"
UNRESOLVED = "consistent, not resolved"
CONTRADICTED = "contradicted"
NOT_TESTED = "not tested"
VERDICTS = (SUPPORTED, UNRESOLVED, CONTRADICTED, NOT_TESTED)


@dataclass(frozen=True)
class Rules:
    """The numbers the rules use (see `_config.yml`, section `verdicts`, for each reason)."""

    alpha: float
    accuracy_margin_pp: float
    nll_margin_relative: float
    brier_margin_relative: float
    about_one_pp_margin: float
    ratio_tolerance: float
    same_size_factor: float
    min_seeds: int


_RULE_KEYS = {f: t for f, t in Rules.__annotations__.items()}


def config_section(path: Path, name: str, keys, what: str) -> dict:
    """The mapping `name:` of `_config.yml` at `path`, holding exactly `keys`, each a positive
    number; one-sentence ValueError naming the file, the key and the fix otherwise."""
    import yaml

    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f) or {}
    section = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise ValueError(f"{path} lacks the mapping '{name}:' ({what}); restore it from the repository's _config.yml.")
    missing = sorted(set(keys) - set(section))
    extra = sorted(set(section) - set(keys))
    if missing or extra:
        raise ValueError(
            f"The '{name}' section of {path} must hold exactly "
            f"{', '.join(sorted(keys))}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(extra)}" if extra else "")
            + "."
        )
    for key, value in section.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name}.{key}={value!r} in {path} must be a positive number.")
    return dict(section)


def load_rules(config_path: str | Path | None = None) -> Rules:
    """Read the `verdicts` section of `_config.yml`; one-sentence ValueError when it is off."""
    from helpers.core.config import DEFAULT_CONFIG_PATH

    path = Path(config_path or DEFAULT_CONFIG_PATH)
    values = config_section(path, "verdicts", _RULE_KEYS, "the margins of the verdict rules")
    if not values["alpha"] < 0.5:
        raise ValueError(f"verdicts.alpha={values['alpha']!r} in {path} must be below 0.5.")
    if not isinstance(values["min_seeds"], int) or values["min_seeds"] < 2:
        raise ValueError(
            f"verdicts.min_seeds={values['min_seeds']!r} in {path} must be an "
            "integer >= 2 (an interval over seeds needs two of them)."
        )
    return Rules(**{k: (int(v) if k == "min_seeds" else float(v)) for k, v in values.items()})


# --- rules ------------------------------------------------------------------------------
def _get(c, key):
    return c[key] if isinstance(c, dict) else getattr(c, key)


def equivalence(c: Comparison | dict, alpha: float) -> str:
    """A claim that a difference lies in a band (no change; the paper's value ± margin).

    Supported when TOST shows equivalence (p < α); contradicted when the (1 − α) interval
    lies entirely outside the band; otherwise not resolved.
    """
    low, high = _get(c, "low"), _get(c, "high")
    band_low, band_high = _get(c, "band_low"), _get(c, "band_high")
    if _get(c, "p_equivalence") < alpha:
        return SUPPORTED
    if high < band_low or low > band_high:
        return CONTRADICTED
    return UNRESOLVED


def region(low: float, high: float, region_low: float = -math.inf, region_high: float = math.inf) -> str:
    """A claim that a quantity lies in a region: its interval inside (supported), disjoint
    (contradicted), or overlapping the edge (not resolved). NaN bounds: not resolved."""
    if math.isnan(low) or math.isnan(high):
        return UNRESOLVED
    if region_low <= low and high <= region_high:
        return SUPPORTED
    if high < region_low or low > region_high:
        return CONTRADICTED
    return UNRESOLVED


def trend(values_by_seed, increasing: bool, alpha: float, min_seeds: int) -> tuple[str, list]:
    """A claim that a quantity moves one way at every step of a sequence (sparsity).

    values_by_seed: (n_seeds, n_points) values of each seed at each point. Each step's
    seed-level paired difference gets a t-interval at α / n_steps (Bonferroni over the
    steps). Contradicted if any step's interval lies entirely against the claimed
    direction; supported if every step's lies entirely with it; otherwise — and whenever
    there are fewer than `min_seeds` seeds — not resolved.
    Returns (verdict, [(mean, low, high) per step]).
    """
    v = np.asarray(values_by_seed, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2:
        raise ValueError(f"trend needs an (n_seeds, n_points >= 2) array, got shape {v.shape}.")
    steps = np.diff(v, axis=1)
    sign = 1.0 if increasing else -1.0
    level = alpha / steps.shape[1]
    intervals = [t_interval(steps[:, k], level) for k in range(steps.shape[1])]
    if v.shape[0] < min_seeds:
        return UNRESOLVED, intervals
    # Flip a decreasing claim into an increasing one: then "along" means the interval is
    # above zero and "against" that it is below.
    flipped = [sorted((sign * low, sign * high)) for _, low, high in intervals]
    against = [high < 0 for low, high in flipped]
    along = [low > 0 for low, high in flipped]
    if any(against):
        return CONTRADICTED, intervals
    if all(along):
        return SUPPORTED, intervals
    return UNRESOLVED, intervals


def measured(passes: list[bool]) -> str:
    """A deterministic measurement (a size, a count) checked in every run: all pass
    (supported), none (contradicted), some (not resolved: it depends on the run)."""
    if not passes:
        return NOT_TESTED
    if all(passes):
        return SUPPORTED
    return CONTRADICTED if not any(passes) else UNRESOLVED


def combine(verdicts: list[str]) -> str:
    """One verdict for a claim made of parts: contradicted if any part is, supported if all
    tested parts are, not tested if none was, otherwise not resolved."""
    tested = [v for v in verdicts if v != NOT_TESTED]
    if not tested:
        return NOT_TESTED
    if CONTRADICTED in tested:
        return CONTRADICTED
    if all(v == SUPPORTED for v in tested):
        return SUPPORTED
    return UNRESOLVED
