"""Uncertainty on predicted probabilities and out-of-distribution detection: pure, vectorized
NumPy/SciPy (no TensorFlow).

Per-sample entropy, the paper's disagreement, mutual information and uncertainty scores,
and the AUROC / AUPR / FPR at 95 % TPR and ROC curve of telling OOD samples from
in-distribution ones by such a score. Shapes as in helpers.stats.metrics.

Conventions (stated once, used by the book):

- Logarithms are natural: entropy, disagreement and mutual information are in nats.
- ``disagreement`` is the paper's: the mean over members of KL(p_m || p_mean). It equals
  the mutual information H(p_mean) - mean_m H(p_m) (the BALD score); both routes are
  implemented and the tests check the identity.
- OOD detection: out-of-distribution samples are the positives, in-distribution the
  negatives, and every score grows with uncertainty.

Every public function validates its inputs and raises a one-sentence ``ValueError`` that
names the argument, what was wrong and what is expected.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, rel_entr
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from helpers.stats.metrics import _as_probs, confidence

OOD_SCORES = ("entropy", "one_minus_confidence")
"""Names accepted by ``uncertainty_score`` / ``ood_scores`` (for disagreement, see
``ood_scores_from_scores``)."""


def _as_scores(scores, name: str) -> np.ndarray:
    """Return a 1-D finite, non-empty float array of per-sample scores."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} has shape {arr.shape}; expected a non-empty 1-D array of shape (N,).")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; expected finite scores.")
    return arr


def _entropy_last_axis(p: np.ndarray) -> np.ndarray:
    """H(p) = -sum_k p_k log p_k over the last axis (0 log 0 = 0), unvalidated."""
    return entr(p).sum(axis=-1)


def entropy(probs) -> np.ndarray:
    """Per-sample predictive entropy H(p_n) = -sum_k p[n, k] log p[n, k], in nats (0 log 0 = 0).

    probs: (N, K). Returns (N,), each value in [0, log K].
    """
    return _entropy_last_axis(_as_probs(probs, "probs"))


def disagreement(member_probs) -> np.ndarray:
    """The paper's disagreement: D_n = mean_m KL(p_m[n] || p_mean[n]), in nats.

    KL(p || q) = sum_k p_k log(p_k / q_k), computed with ``scipy.special.rel_entr``; it is
    always finite here because p_mean[n, k] >= p_m[n, k] / M > 0 wherever p_m[n, k] > 0.
    Equal to ``mutual_information`` (see there). Invariant to the order of the members.

    member_probs: (M, N, K). Returns (N,), each value >= 0.
    """
    p = _as_probs(member_probs, "member_probs", ndim=3)
    return rel_entr(p, p.mean(axis=0, keepdims=True)).sum(axis=2).mean(axis=0)


def mutual_information(member_probs) -> np.ndarray:
    """Mutual information (BALD) I_n = H(p_mean[n]) - mean_m H(p_m[n]), in nats.

    Mathematically identical to ``disagreement``: sum_k mean_m p_m log(p_m / p_mean)
    = mean_m sum_k p_m log p_m - sum_k p_mean log p_mean. Computed here by the entropy
    route (``scipy.special.entr``) so the tests can check the identity independently.
    Round-off below zero is clipped to 0.

    member_probs: (M, N, K). Returns (N,), each value in [0, log M].
    """
    p = _as_probs(member_probs, "member_probs", ndim=3)
    total = _entropy_last_axis(p.mean(axis=0))
    expected = _entropy_last_axis(p).mean(axis=0)
    return np.maximum(total - expected, 0.0)


def uncertainty_score(probs, score: str = "entropy") -> np.ndarray:
    """Per-sample uncertainty score that grows with uncertainty.

    score: "entropy" -> H(p_n) (nats); "one_minus_confidence" -> 1 - max_k p[n, k].
    probs: (N, K). Returns (N,).
    """
    if score not in OOD_SCORES:
        raise ValueError(f"score is {score!r}; expected one of {', '.join(map(repr, OOD_SCORES))}.")
    return entropy(probs) if score == "entropy" else 1.0 - confidence(probs)


# ------------------------------------------------------------------------------------- OOD


def ood_scores_from_scores(score_in, score_out) -> dict:
    """AUROC, AUPR and FPR at 95 % TPR for separating OOD (positives) from in-distribution.

    score_in: (N_in,), score_out: (N_out,); larger score = more uncertain = more OOD-like.
    Use it for any score, e.g. ``ood_scores_from_scores(disagreement(m_in), disagreement(m_out))``.
    Returns ``{"auroc", "aupr", "fpr_at_95_tpr"}``, fractions in [0, 1] (AUPR with OOD as
    the positive class; FPR = fraction of in-distribution samples flagged at the first
    threshold whose TPR >= 0.95).
    """
    s_in, s_out = _as_scores(score_in, "score_in"), _as_scores(score_out, "score_out")
    y = np.concatenate([np.zeros(len(s_in)), np.ones(len(s_out))])
    s = np.concatenate([s_in, s_out])
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return {
        "auroc": float(roc_auc_score(y, s)),
        "aupr": float(average_precision_score(y, s)),
        "fpr_at_95_tpr": float(fpr[np.searchsorted(tpr, 0.95, side="left")]),
    }


def ood_roc(score_in, score_out) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve (fpr, tpr) with OOD as positives; score_in: (N_in,), score_out: (N_out,)."""
    s_in, s_out = _as_scores(score_in, "score_in"), _as_scores(score_out, "score_out")
    y = np.concatenate([np.zeros(len(s_in)), np.ones(len(s_out))])
    fpr, tpr, _ = roc_curve(y, np.concatenate([s_in, s_out]))
    return fpr, tpr


def ood_scores(probs_in, probs_out, score: str = "entropy") -> dict:
    """OOD detection metrics from predictions: ``ood_scores_from_scores`` on ``uncertainty_score``.

    probs_in: (N_in, K) in-distribution, probs_out: (N_out, K) OOD; score: "entropy" or
    "one_minus_confidence". Returns ``{"auroc", "aupr", "fpr_at_95_tpr"}``.
    """
    if score not in OOD_SCORES:
        raise ValueError(f"score is {score!r}; expected one of {', '.join(map(repr, OOD_SCORES))}.")
    s_in = uncertainty_score(_as_probs(probs_in, "probs_in"), score)
    s_out = uncertainty_score(_as_probs(probs_out, "probs_out"), score)
    return ood_scores_from_scores(s_in, s_out)
