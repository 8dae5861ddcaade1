"""Post-hoc temperature scaling (Guo et al. 2017) of models known only by their probabilities.

A TFLite member gives probabilities, not logits; log p equals the logits up to a per-sample
constant, which the softmax ignores, so softmax(log p / T) is temperature scaling of the model.
Probabilities of exactly 0 (a full-integer model's int8 softmax, helpers.engine.logits) are
clipped at EPS first (helpers.stats.metrics.EPS, the floor its NLL uses), so they stay finite.

    temps = calibrate(member_probs_val, labels_val)     # {"pooled": T, "members": [T_m, ...]}
    out = apply(member_probs_test, temps)               # {"pooled": (N, K), "members": (M, N, K)}

"pooled" calibrates the ensemble's averaged probabilities with one temperature (pool, then
calibrate); "members" scales each member by its own and leaves averaging to the caller (the
ensemble of calibrated members; calibrate, then pool), so its disagreement is defined.
SciPy's bounded scalar minimizer finds T; scikit-learn has no temperature scaling (its
CalibratedClassifierCV fits Platt or isotonic maps per class, not one temperature).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from helpers.stats.metrics import EPS, _as_labels, _as_probs

LOG_T_BOUNDS = (-3.0, 3.0)
"""Search range of log T: T from 0.05 to 20, far beyond any fitted value of these models."""


def _logits(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, EPS, 1.0))


def scale(probs, temperature: float) -> np.ndarray:
    """softmax(log(clip(p)) / T) along the last axis, for (N, K) or (M, N, K) probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    _as_probs(p, "probs", ndim=p.ndim if p.ndim in (2, 3) else 2)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature={temperature!r} is invalid; expected a positive finite number.")
    return np.exp(log_softmax(_logits(p) / temperature, axis=-1))


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(-log_softmax(logits / temperature, axis=-1)[np.arange(len(labels)), labels].mean())


def fit_temperature(probs, labels) -> float:
    """The temperature minimizing the mean NLL of scale(probs, T) on (probs, labels)."""
    p = _as_probs(probs, "probs")
    y = _as_labels(labels, p.shape[0], p.shape[1])
    logits = _logits(p)
    result = minimize_scalar(
        lambda t: _nll(logits, y, float(np.exp(t))), bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-6}
    )
    return float(np.exp(result.x))


def calibrate(member_probs_val, labels_val) -> dict:
    """{"pooled": T of the ensemble mean, "members": [T of each member]} fitted on the validation split."""
    m = _as_probs(member_probs_val, "member_probs_val", ndim=3)
    return {"pooled": fit_temperature(m.mean(axis=0), labels_val), "members": [fit_temperature(p, labels_val) for p in m]}


def apply(member_probs, temps: dict) -> dict:
    """{"pooled": the ensemble mean scaled by temps["pooled"], "members": each member scaled by its own}."""
    m = _as_probs(member_probs, "member_probs", ndim=3)
    if len(temps["members"]) != m.shape[0]:
        raise ValueError(
            f"temps has {len(temps['members'])} member temperatures for {m.shape[0]} members; fit them on the same ensemble."
        )
    return {
        "pooled": scale(m.mean(axis=0), temps["pooled"]),
        "members": np.stack([scale(p, t) for p, t in zip(m, temps["members"])]),
    }
