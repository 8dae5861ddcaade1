"""Percentile bootstrap intervals of a metric over samples, plain or paired: vectorized NumPy.

``bootstrap_ci`` resamples the sample axis of the arrays a metric takes (e.g. probs (N, K)
and labels (N,), or one per-sample array (N,) such as helpers.stats.metrics.correct) and
returns a ``CI``; every argument error is a one-sentence ``ValueError``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np


class CI(NamedTuple):
    """A point estimate with a percentile bootstrap interval [low, high]."""

    estimate: float
    low: float
    high: float


_CHUNK_ELEMENTS = 4_000_000  # resample indices drawn per chunk in the fast path (~32 MB)


def _check_bootstrap_args(arrays, paired_with, n, level) -> int:
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n is {n!r}; expected a positive integer number of resamples.")
    if not 0 < level < 1:
        raise ValueError(f"level is {level!r}; expected a coverage strictly between 0 and 1, e.g. 0.95.")
    if not arrays:
        raise ValueError("bootstrap_ci got no arrays; expected at least one per-sample array after metric.")
    if paired_with is not None and len(paired_with) != len(arrays):
        raise ValueError(
            f"paired_with has {len(paired_with)} arrays but {len(arrays)} were given; expected the "
            "same arguments for the other variant."
        )
    everything = list(arrays) + list(paired_with or [])
    lengths = {np.shape(a)[0] if np.ndim(a) else None for a in everything}
    if len(lengths) != 1 or None in lengths or 0 in lengths:
        raise ValueError(
            f"bootstrap_ci arrays have first-axis lengths {sorted(map(str, lengths))}; expected all "
            "arrays (and paired_with) to share one non-zero sample count N on axis 0."
        )
    return lengths.pop()


def _mean_replicates(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n`` resamples of a 1-D array, gathered in chunks (vectorized)."""
    size = len(values)
    chunk = max(1, _CHUNK_ELEMENTS // size)
    out = [values[rng.integers(0, size, size=(min(chunk, n - i), size))].mean(axis=1) for i in range(0, n, chunk)]
    return np.concatenate(out)


def bootstrap_ci(
    metric: Callable[..., float],
    *arrays,
    n: int = 1000,
    seed: int = 0,
    paired_with: Sequence | None = None,
    level: float = 0.95,
) -> CI:
    """Percentile bootstrap interval of ``metric(*arrays)`` over samples (axis 0 of each array).

    Without ``paired_with``: estimate = metric(*arrays), interval = the (1 - level)/2 and
    (1 + level)/2 quantiles of metric(*[a[idx] for a in arrays]) over ``n`` index
    resamples ``idx`` drawn with replacement. With ``paired_with`` (the same arguments for
    another variant on the same samples, e.g. ``(probs_b, labels)``), everything is for the
    paired difference metric(*arrays) - metric(*paired_with), and each resample uses the
    same ``idx`` for both variants, so shared per-sample difficulty cancels out.

    Shapes: each array has the sample axis first, e.g. probs (N, K), labels (N,), or a
    per-sample metric (N,). Deterministic for a given ``seed``.

    Hand-rolled rather than ``scipy.stats.bootstrap`` because our metrics take (N, K)
    arrays and are not vectorized over a resample axis (scipy then calls them once per
    resample anyway), and scipy's default BCa method adds an O(N^2) jackknife at N = 10,000.
    Fast path: when ``metric is np.mean`` and the arrays are one 1-D per-sample array
    (e.g. ``correct(probs, labels)``), the resample means are computed in one vectorized
    gather (about 0.1 s for N = 10,000 and n = 1000).
    """
    n_samples = _check_bootstrap_args(arrays, paired_with, n, level)
    arrays = [np.asarray(a) for a in arrays]
    other = None if paired_with is None else [np.asarray(a) for a in paired_with]
    rng = np.random.default_rng(seed)
    estimate = float(metric(*arrays)) - (0.0 if other is None else float(metric(*other)))
    if metric is np.mean and len(arrays) == 1 and all(a.ndim == 1 for a in arrays + (other or [])):
        values = arrays[0].astype(np.float64)
        if other is not None:
            values = values - other[0].astype(np.float64)  # mean(a[idx]) - mean(b[idx]) = mean((a - b)[idx])
        replicates = _mean_replicates(values, n, rng)
    else:
        replicates = np.empty(n)
        for i in range(n):
            idx = rng.integers(0, n_samples, size=n_samples)
            replicates[i] = metric(*[a[idx] for a in arrays])
            if other is not None:
                replicates[i] -= metric(*[a[idx] for a in other])
    low, high = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return CI(estimate, float(low), float(high))
