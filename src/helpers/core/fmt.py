"""One formatter per kind of number, used by prose, tables and figure tables alike.

    pct(0.99361)              -> '99.36 %'
    pp(-0.0004)               -> '−0.04 pp'     (a difference of fractions; true minus)
    nats(0.4571)              -> '0.457 nats'
    kb(128282)                -> '128.3 kB'     (SI kilobytes, as the TF guides)
    ratio(4.0935)             -> '4.09×'
    pvalue(0.0004)            -> 'p < 0.001'
    interval(pp, -0.0004, -0.0015, 0.0007) -> '−0.04 pp [−0.15, +0.07]'
    level(0.05)               -> '95 %'         (the confidence level of a two-sided α)

Values that are missing (None or NaN) print as an em dash.
"""

from __future__ import annotations

import math
import re
from typing import Callable

MINUS = "\u2212"
MISSING = "\u2014"
BYTES_PER_KB = 1000


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def number(value, decimals: int = 2, signed: bool = False, thousands: bool = False) -> str:
    """A plain number: 0.0213 -> '0.0213' (decimals=4); signed adds '+'; true minus sign."""
    if _missing(value):
        return MISSING
    spec = ("+" if signed else "") + ("," if thousands else "") + f".{decimals}f"
    if float(format(value, f".{decimals}f")) == 0:
        value = 0.0  # a value that rounds to zero prints without a minus ("0.000", not "−0.000")
    return _minus(format(value, spec))


def pct(fraction, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.99361 -> '99.36 %'."""
    return MISSING if _missing(fraction) else f"{number(100 * fraction, decimals)} %"


def level(alpha: float) -> str:
    """The confidence level of intervals at two-sided `alpha`: 0.05 -> '95 %', 0.025 -> '97.5 %'."""
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r} is not a two-sided level: it must lie in (0, 0.5), e.g. 0.05 for 95 % intervals.")
    return f"{100 * (1 - alpha):.10g} %"


def pp(diff, decimals: int = 2) -> str:
    """A difference of fractions in percentage points, signed: -0.0004 -> '−0.04 pp'."""
    return MISSING if _missing(diff) else f"{number(100 * diff, decimals, signed=True)} pp"


def nats(value, decimals: int = 3, signed: bool = False) -> str:
    """An entropy, a disagreement or an NLL: 0.4571 -> '0.457 nats'."""
    return MISSING if _missing(value) else f"{number(value, decimals, signed=signed)} nats"


def kb(n_bytes, decimals: int = 1) -> str:
    """A size in SI kilobytes: 128282 -> '128.3 kB'."""
    return MISSING if _missing(n_bytes) else f"{number(n_bytes / BYTES_PER_KB, decimals, thousands=True)} kB"


def span(values, decimals: int = 2) -> str:
    """The range of `values` as numbers: '0.03–0.06', or one number when both ends print alike."""
    low, high = number(min(values), decimals), number(max(values), decimals)
    return low if low == high else f"{low}–{high}"


def ratio(value, decimals: int = 2) -> str:
    """A ratio: 4.0935 -> '4.09×'. The book prints compression ratios (a size against the
    float32 baseline's) with one decimal, '4.1×', everywhere; speed ratios and sizes over
    their bound with two."""
    return MISSING if _missing(value) else f"{number(value, decimals)}×"


def pvalue(p) -> str:
    """'p = 0.58', 'p = 0.012', 'p < 0.001'."""
    if _missing(p):
        return MISSING
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


_UNIT_GAP = re.compile(r"(?<=[\d\]]) (?=(nats|pp|%|kB|MB|min|s)\b|%)")


def keep_units(text: str) -> str:
    """A number and its unit held together on one line: the space before 'nats', 'pp', '%',
    'kB', 'MB', 'min' and 's' after a digit (or an interval's ']') becomes a non-breaking
    space, so a 400 px screen never breaks '0.457 | nats'. The book applies it where text is
    shown (glued sentences and table cells); the formatters keep plain spaces."""
    return _UNIT_GAP.sub("\u00a0", text)


def bare(formatter: Callable, value, **kwargs) -> str:
    """The formatted number without its unit: bare(pp, -0.0004) -> '−0.04'."""
    text = formatter(value, **kwargs)
    for unit in (" pp", " %", " nats", " kB", "×"):
        if text.endswith(unit):
            return text[: -len(unit)]
    return text


def interval(formatter: Callable, estimate, low, high, **kwargs) -> str:
    """'estimate [low, high]' with the unit once: interval(pct, .9936, .992, .9951) ->
    '99.36 % [99.20, 99.51]'. Missing bounds give the estimate alone."""
    if _missing(low) or _missing(high):
        return formatter(estimate, **kwargs)
    lo, hi = bare(formatter, low, **kwargs), bare(formatter, high, **kwargs)
    return f"{formatter(estimate, **kwargs)} [{lo}, {hi}]"


def shape(dims) -> str:
    """(26, 26, 28) -> '26 × 26 × 28'; a leading batch dimension must already be dropped."""
    return " × ".join("?" if d is None else str(d) for d in dims)


def _seed_runs(seeds, dash: str) -> list[str]:
    seeds = sorted(seeds)
    runs, start = [], 0
    for i in range(1, len(seeds) + 1):
        if i == len(seeds) or seeds[i] != seeds[i - 1] + 1:
            run = seeds[start:i]
            runs += [f"{run[0]}{dash}{run[-1]}"] if len(run) > 2 else [str(s) for s in run]
            start = i
    return runs


def seed_option(seeds) -> str:
    """Seeds as the command line's --seeds takes them: [0, 1, 2, 3, 5] -> '0-3,5'."""
    return ",".join(_seed_runs(seeds, "-"))


def and_list(items) -> str:
    """Words as a sentence lists them: 'a', 'a and b', 'a, b and c'; no items give ''."""
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def seed_list(seeds) -> str:
    """Seeds as a reader writes them: every run of three or more as '5–10', the rest one by
    one: '0–4', '5 and 6', '0, 5 and 9', '0 and 5–10'."""
    return and_list(_seed_runs(seeds, "–"))
