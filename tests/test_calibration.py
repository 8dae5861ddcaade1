"""Temperature scaling (helpers.stats.calibration): known answers and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from helpers.stats import calibration as C
from helpers.stats import metrics as M


def _overconfident(n: int = 20_000, t0: float = 0.5, seed: int = 0):
    """Labels drawn from softmax(z); the model reports softmax(z / t0): over-confident for t0 < 1,
    so the temperature that undoes it is 1 / t0 (scale(p, 1 / t0) = softmax(z))."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (n, 10))
    truth = softmax(z, axis=1)
    labels = np.array([rng.choice(10, p=row) for row in truth])
    return softmax(z / t0, axis=1), labels


def test_temperature_one_is_the_identity():
    probs, _ = _overconfident(200)
    assert np.allclose(C.scale(probs, 1.0), probs, atol=1e-12)


def test_the_fitted_temperature_undoes_a_known_overconfidence():
    probs, labels = _overconfident()
    t = C.fit_temperature(probs, labels)
    # 20,000 labels: the maximum-likelihood temperature lies within a few percent of 1 / 0.5
    assert t == pytest.approx(2.0, rel=0.05)


def test_the_fitted_temperature_is_a_minimum_and_keeps_every_argmax():
    probs, labels = _overconfident(5_000, t0=2.0, seed=1)
    t = C.fit_temperature(probs, labels)
    nll = lambda s: M.nll(C.scale(probs, s), labels)  # noqa: E731
    assert nll(t) <= min(nll(1.0), nll(t * 1.1), nll(t / 1.1))
    assert np.array_equal(C.scale(probs, t).argmax(axis=1), probs.argmax(axis=1))


def test_exact_zeros_stay_finite():
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    out = C.scale(probs, 3.0)
    assert np.isfinite(out).all() and np.allclose(out.sum(axis=1), 1) and (out > 0).all()


def test_calibrate_and_apply_pool_then_calibrate_and_calibrate_then_pool():
    p1, labels = _overconfident(4_000, t0=0.5, seed=2)
    p2, _ = _overconfident(4_000, t0=0.5, seed=2)
    members = np.stack([p1, C.scale(p2, 0.5)])  # the second member is twice as over-confident
    temps = C.calibrate(members, labels)
    assert temps["members"][0] == pytest.approx(2.0, rel=0.08)
    assert temps["members"][1] == pytest.approx(4.0, rel=0.08)
    assert 2.0 < temps["pooled"] < 4.0  # the average of the two lies between them
    out = C.apply(members, temps)
    assert out["pooled"].shape == (4_000, 10) and out["members"].shape == (2, 4_000, 10)
    assert np.allclose(out["members"][0], C.scale(p1, temps["members"][0]))


def test_bad_input_fails_in_one_sentence():
    with pytest.raises(ValueError, match=r"labels has 2 entries but probs has 3 samples"):
        C.fit_temperature(np.full((3, 2), 0.5), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"temperature=0 is invalid; expected a positive finite number"):
        C.scale(np.full((3, 2), 0.5), 0)
    with pytest.raises(ValueError, match=r"temps has 1 member temperatures for 2 members"):
        C.apply(np.full((2, 3, 2), 0.5), {"pooled": 1.0, "members": [1.0]})
