"""In-distribution metrics on predicted probabilities: pure, vectorized NumPy (no TensorFlow).

Accuracy, NLL, Brier, calibration (ECE and its bins) and the confidence curve, with the
per-sample quantities they average and the input validation helpers.stats.uncertainty shares.
Uncertainty scores and OOD detection are helpers.stats.uncertainty's; bootstrap intervals
helpers.stats.bootstrap's.

Shapes used throughout:

- ``probs``        (N, K)    one prediction per sample; for an ensemble, the mean over members
- ``member_probs`` (M, N, K) every member's prediction
- ``labels``       (N,)      integer class indices in [0, K)

Conventions (stated once, used by the book):

- Logarithms are natural: NLL is in nats.
- ``nll`` clips probabilities to [EPS, 1] before the log, so a confident mistake costs
  at most -log(EPS) ~ 27.6 nats instead of infinity.
- ``brier`` is *summed* over classes (as in torch-uncertainty), not divided by K, so it
  lies in [0, 2].

Every public function validates its inputs and raises a one-sentence ``ValueError`` that
names the argument, what was wrong and what is expected.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

EPS = 1e-12
"""Lower clip for probabilities inside logarithms (``nll``)."""

SUM_TOLERANCE = 1e-3
"""How far a probability row may sum away from 1 before it is rejected."""


# --------------------------------------------------------------------------- validation


def _as_probs(probs, name: str, ndim: int = 2) -> np.ndarray:
    """Return ``probs`` as a float array after checking shape, NaN, sign and row sums."""
    shape_txt = {2: "(N, K)", 3: "(M, N, K)"}[ndim]
    arr = np.asarray(probs)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} has dtype {arr.dtype}; expected a real-valued array of probabilities.")
    if arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape}; expected a {ndim}-D array of shape {shape_txt}.")
    if 0 in arr.shape:
        raise ValueError(f"{name} has shape {arr.shape}; expected a non-empty array of shape {shape_txt}.")
    arr = arr.astype(np.float64, copy=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; expected finite probabilities in [0, 1].")
    if arr.min() < 0:
        raise ValueError(f"{name} contains negative values (minimum {arr.min():.3g}); expected probabilities in [0, 1].")
    worst = np.abs(arr.sum(axis=-1) - 1.0).max()
    if not worst <= SUM_TOLERANCE:
        raise ValueError(
            f"{name} rows do not sum to 1 over the class axis (worst deviation {worst:.3g}); "
            f"expected each row to sum to 1 within {SUM_TOLERANCE:g}."
        )
    return arr


def _as_labels(labels, n_samples: int, n_classes: int, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int array after checking shape, dtype and range."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {arr.shape}; expected a 1-D array of shape (N,).")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} entries but probs has {n_samples} samples; expected one label per sample.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} has dtype {arr.dtype}; expected integer class indices (cast with .astype(int)).")
    if arr.min() < 0 or arr.max() >= n_classes:
        raise ValueError(f"{name} has values in [{arr.min()}, {arr.max()}]; expected class indices in [0, {n_classes - 1}].")
    return arr.astype(np.intp, copy=False)


def _probs_and_labels(probs, labels):
    p = _as_probs(probs, "probs")
    return p, _as_labels(labels, p.shape[0], p.shape[1])


# ------------------------------------------------------------------ per-sample quantities


def ensemble_mean(member_probs) -> np.ndarray:
    """Ensemble prediction p_mean[n, k] = mean_m p_m[n, k].

    member_probs: (M, N, K). Returns (N, K).
    """
    return _as_probs(member_probs, "member_probs", ndim=3).mean(axis=0)


def confidence(probs) -> np.ndarray:
    """Per-sample confidence c_n = max_k p[n, k].

    probs: (N, K). Returns (N,).
    """
    return _as_probs(probs, "probs").max(axis=1)


def correct(probs, labels) -> np.ndarray:
    """Per-sample correctness 1[argmax_k p[n, k] == y_n] (ties go to the lowest class index).

    probs: (N, K), labels: (N,). Returns bool (N,); its mean is the accuracy, and it is
    what to bootstrap: ``bootstrap_ci(np.mean, correct(probs, labels))``.
    """
    p, y = _probs_and_labels(probs, labels)
    return p.argmax(axis=1) == y


def nll_per_sample(probs, labels) -> np.ndarray:
    """Per-sample negative log-likelihood -log max(p[n, y_n], EPS), in nats.

    probs: (N, K), labels: (N,). Returns (N,).
    """
    p, y = _probs_and_labels(probs, labels)
    return -np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))


def brier_per_sample(probs, labels) -> np.ndarray:
    """Per-sample Brier score sum_k (p[n, k] - 1[k == y_n])^2, summed over classes, in [0, 2].

    probs: (N, K), labels: (N,). Returns (N,).
    """
    p, y = _probs_and_labels(probs, labels)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return ((p - onehot) ** 2).sum(axis=1)


# ------------------------------------------------------------------------ aggregate metrics


def accuracy(probs, labels) -> float:
    """Accuracy = mean_n 1[argmax_k p[n, k] == y_n], a fraction in [0, 1].

    probs: (N, K), labels: (N,).
    """
    return float(correct(probs, labels).mean())


def nll(probs, labels) -> float:
    """Mean negative log-likelihood mean_n -log max(p[n, y_n], EPS), in nats (EPS = 1e-12).

    probs: (N, K), labels: (N,).
    """
    return float(nll_per_sample(probs, labels).mean())


def brier(probs, labels) -> float:
    """Brier score mean_n sum_k (p[n, k] - 1[k == y_n])^2, summed over classes, in [0, 2].

    Convention: summed over the K classes as in torch-uncertainty (not divided by K as in
    uncertainty-baselines). probs: (N, K), labels: (N,).
    """
    return float(brier_per_sample(probs, labels).mean())


class CalibrationBins(NamedTuple):
    """Per-bin statistics on confidence; bins are equal-width (lo, hi] over [0, 1]."""

    edges: np.ndarray  # (B + 1,)
    count: np.ndarray  # (B,) samples per bin
    confidence: np.ndarray  # (B,) mean confidence per bin, NaN if empty
    accuracy: np.ndarray  # (B,) accuracy per bin, NaN if empty


def calibration_bins(probs, labels, n_bins: int = 15) -> CalibrationBins:
    """Bin samples by confidence c_n = max_k p[n, k] into ``n_bins`` equal-width bins (lo, hi].

    probs: (N, K), labels: (N,). Returns a ``CalibrationBins`` of (B,) arrays.
    """
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise ValueError(f"n_bins is {n_bins!r}; expected a positive integer.")
    hits = correct(probs, labels).astype(np.float64)
    conf = confidence(probs)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # side="left" puts c in bin b when edges[b] < c <= edges[b + 1], with the exact edges.
    which = np.searchsorted(edges[1:-1], conf, side="left")
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=conf, minlength=n_bins) / count
        mean_acc = np.bincount(which, weights=hits, minlength=n_bins) / count
    return CalibrationBins(edges, count, mean_conf, mean_acc)


def ece(probs, labels, n_bins: int = 15) -> float:
    """Expected calibration error sum_b (|B_b| / N) |acc(B_b) - conf(B_b)|, a fraction in [0, 1].

    Bins B_b are ``n_bins`` equal-width bins (lo, hi] on the confidence max_k p[n, k].
    probs: (N, K), labels: (N,).
    """
    bins = calibration_bins(probs, labels, n_bins)
    full = bins.count > 0
    gaps = np.abs(bins.accuracy[full] - bins.confidence[full])
    return float((bins.count[full] * gaps).sum() / bins.count.sum())


class ConfidenceCurve(NamedTuple):
    """Coverage and selective accuracy at each confidence threshold tau."""

    thresholds: np.ndarray  # (T,)
    fraction: np.ndarray  # (T,) fraction of samples with confidence >= tau
    accuracy: np.ndarray | None  # (T,) accuracy on those samples, NaN where none; None without labels


def confidence_curve(probs, labels=None, thresholds=None) -> ConfidenceCurve:
    """For each tau: fraction_tau = mean_n 1[c_n >= tau] and accuracy on {n : c_n >= tau}.

    c_n = max_k p[n, k]. probs: (N, K); labels: (N,) or None (then ``accuracy`` is None);
    thresholds: (T,), default ``np.linspace(0, 1, 101)``. Sorting once and counting with
    ``searchsorted`` makes this O(N log N + T).
    """
    p = _as_probs(probs, "probs")
    taus = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if taus.ndim != 1 or taus.size == 0 or np.isnan(taus).any():
        raise ValueError(f"thresholds has shape {taus.shape}; expected a non-empty 1-D array of numbers.")
    conf = p.max(axis=1)
    order = np.argsort(conf, kind="stable")
    first = np.searchsorted(conf[order], taus, side="left")  # first sorted index with c >= tau
    n_kept = len(conf) - first
    fraction = n_kept / len(conf)
    if labels is None:
        return ConfidenceCurve(taus, fraction, None)
    hits = (p.argmax(axis=1) == _as_labels(labels, *p.shape))[order]
    hits_from = np.concatenate([np.cumsum(hits[::-1])[::-1], [0]])  # hits at sorted index >= i
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(n_kept > 0, hits_from[first] / n_kept, np.nan)
    return ConfidenceCurve(taus, fraction, acc)


LABELLED = {"nll": nll, "brier": brier, "ece": ece}
"""The scores of an ensemble's mean probabilities against the labels, by their name in
results.json (accuracy, with its bootstrap interval, comes first). Adding a metric is one
function `f(probs, labels) -> float` and its name here: the evaluation computes it for every
variant on MNIST and every shifted set, and the aggregate gives it seed means, intervals and
paired differences like the others (tests/test_extend.py)."""
