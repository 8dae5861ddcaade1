"""Tests for helpers.stats.metrics, uncertainty and bootstrap: hand-computed cases, analytic extremes,
identities, sklearn agreement."""

import math
import time

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from helpers.stats import metrics as m
from helpers.stats import uncertainty as u
from helpers.stats.bootstrap import bootstrap_ci

# Three samples, three classes; labels 0, 1, 2.
P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.3, 0.2]])
Y3 = np.array([0, 1, 2])


def dirichlet(rng, shape, alpha=0.5):
    return rng.dirichlet(np.full(shape[-1], alpha), size=shape[:-1])


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ------------------------------------------------------------------------- hand-computed


def test_accuracy_hand():
    # argmax = 0, 1, 0 vs labels 0, 1, 2 -> 2 of 3 correct
    assert m.accuracy(P3, Y3) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(m.correct(P3, Y3), [True, True, False])


def test_nll_hand():
    # mean(-log 0.7, -log 0.6, -log 0.2)
    assert m.nll(P3, Y3) == pytest.approx(-(math.log(0.7) + math.log(0.6) + math.log(0.2)) / 3)


def test_brier_hand():
    # sample 1: (0.7-1)^2 + 0.2^2 + 0.1^2 = 0.14; sample 2: 0.1^2 + (0.6-1)^2 + 0.3^2 = 0.26;
    # sample 3: 0.5^2 + 0.3^2 + (0.2-1)^2 = 0.98
    assert m.brier(P3, Y3) == pytest.approx((0.14 + 0.26 + 0.98) / 3)


def test_entropy_hand():
    # H = -sum p log p per row
    expected = [-sum(p * math.log(p) for p in row) for row in P3]
    np.testing.assert_allclose(u.entropy(P3), expected)


def test_confidence_and_mean_hand():
    np.testing.assert_allclose(m.confidence(P3), [0.7, 0.6, 0.5])
    members = np.stack([P3, P3[::-1]])
    np.testing.assert_allclose(m.ensemble_mean(members), (P3 + P3[::-1]) / 2)


def test_disagreement_hand():
    # Two members on one sample: p1 = (1, 0), p2 = (0.5, 0.5), mean q = (0.75, 0.25).
    # KL(p1||q) = log(1/0.75); KL(p2||q) = 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25)
    members = np.array([[[1.0, 0.0]], [[0.5, 0.5]]])
    kl1 = math.log(1 / 0.75)
    kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    np.testing.assert_allclose(u.disagreement(members), [(kl1 + kl2) / 2])


def test_ece_hand():
    # confidences 0.9 (correct), 0.9 (wrong), 0.6 (correct); 10 bins of width 0.1.
    # bin (0.8, 0.9]: acc 0.5, conf 0.9, weight 2/3; bin (0.5, 0.6]: acc 1, conf 0.6, weight 1/3
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    labels = np.array([0, 1, 1])
    assert m.ece(probs, labels, n_bins=10) == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.4)


def test_confidence_curve_hand():
    # confidences 0.7, 0.6, 0.5; correct T, T, F
    curve = m.confidence_curve(P3, Y3, thresholds=[0.0, 0.55, 0.6, 0.65, 0.8])
    np.testing.assert_allclose(curve.fraction, [1, 2 / 3, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(curve.accuracy, [2 / 3, 1, 1, 1, np.nan])


# ---------------------------------------------------------------------------- invariants


def test_uniform_entropy_is_log_k():
    for k in (2, 10):
        np.testing.assert_allclose(u.entropy(np.full((4, k), 1 / k)), math.log(k))


def test_identical_members_have_zero_disagreement_and_mi(rng):
    members = np.repeat(dirichlet(rng, (1, 50, 10)), 5, axis=0)
    np.testing.assert_allclose(u.disagreement(members), 0, atol=1e-12)
    np.testing.assert_allclose(u.mutual_information(members), 0, atol=1e-12)


def test_disagreement_equals_mutual_information(rng):
    """mean_m KL(p_m || p_mean) (rel_entr route) == H(p_mean) - mean_m H(p_m) (entr route)."""
    members = dirichlet(rng, (5, 200, 10), alpha=0.3)
    np.testing.assert_allclose(u.disagreement(members), u.mutual_information(members), rtol=1e-9, atol=1e-12)
    assert (u.disagreement(members) >= 0).all()
    assert (u.mutual_information(members) <= math.log(5) + 1e-12).all()


def test_disagreement_invariant_to_member_order(rng):
    members = dirichlet(rng, (5, 100, 10))
    np.testing.assert_allclose(u.disagreement(members), u.disagreement(members[rng.permutation(5)]))


def test_brier_range(rng):
    probs = dirichlet(rng, (500, 10), alpha=0.1)
    values = m.brier_per_sample(probs, rng.integers(0, 10, 500))
    assert values.min() >= 0 and values.max() <= 2


def test_one_hot_extremes():
    onehot = np.eye(3)
    right, wrong = np.array([0, 1, 2]), np.array([1, 2, 0])
    assert m.nll(onehot, right) == 0
    assert m.brier(onehot, right) == 0
    assert m.brier(onehot, wrong) == 2
    assert m.nll(onehot, wrong) == pytest.approx(-math.log(m.EPS))  # clipped, finite


def test_confidence_curve_properties(rng):
    probs = dirichlet(rng, (1000, 10))
    curve = m.confidence_curve(probs)
    assert curve.accuracy is None
    assert curve.fraction[0] == 1
    assert (np.diff(curve.fraction) <= 0).all()
    assert len(curve.thresholds) == 101


def test_confidence_curve_matches_brute_force(rng):
    probs, labels = dirichlet(rng, (300, 4)), rng.integers(0, 4, 300)
    curve = m.confidence_curve(probs, labels)
    conf, hits = probs.max(1), probs.argmax(1) == labels
    for tau, frac, acc in zip(curve.thresholds, curve.fraction, curve.accuracy):
        kept = conf >= tau
        assert frac == pytest.approx(kept.mean())
        if kept.any():
            assert acc == pytest.approx(hits[kept].mean())
        else:
            assert np.isnan(acc)


def test_ece_zero_when_perfectly_calibrated():
    # Bin (0.7, 0.8]: 4 samples at confidence 0.75, 3 correct; bin (0.9, 1]: 2 at 1.0, both correct.
    probs = np.array([[0.75, 0.25]] * 4 + [[1.0, 0.0]] * 2)
    labels = np.array([0, 0, 0, 1, 0, 0])
    assert m.ece(probs, labels, n_bins=10) == pytest.approx(0, abs=1e-15)


def test_calibration_bins_edges_are_right_closed():
    # confidence exactly 0.2 belongs to (0.1333, 0.2], bin index 2 of 15, not 3
    probs = np.array([[0.2] * 5])
    bins = m.calibration_bins(probs, np.array([0]), n_bins=15)
    assert bins.count[2] == 1 and bins.count.sum() == 1


# ------------------------------------------------------------------ agreement with sklearn


def test_nll_matches_sklearn_log_loss(rng):
    probs, labels = dirichlet(rng, (400, 10)), rng.integers(0, 10, 400)
    assert m.nll(probs, labels) == pytest.approx(log_loss(labels, probs, labels=range(10)), rel=1e-9)


def test_ood_scores_match_sklearn(rng):
    p_in, p_out = dirichlet(rng, (300, 10), alpha=0.2), dirichlet(rng, (200, 10), alpha=1.0)
    result = u.ood_scores(p_in, p_out, score="entropy")
    y = np.r_[np.zeros(300), np.ones(200)]
    s = np.r_[u.entropy(p_in), u.entropy(p_out)]
    assert result["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert result["aupr"] == pytest.approx(average_precision_score(y, s))
    conf = u.ood_scores(p_in, p_out, score="one_minus_confidence")
    s = np.r_[1 - p_in.max(1), 1 - p_out.max(1)]
    assert conf["auroc"] == pytest.approx(roc_auc_score(y, s))


def test_auroc_extremes(rng):
    same = rng.normal(size=2000)
    assert u.ood_scores_from_scores(same, same)["auroc"] == pytest.approx(0.5)
    separated = u.ood_scores_from_scores(np.linspace(0, 1, 50), np.linspace(2, 3, 50))
    assert separated == {"auroc": 1.0, "aupr": 1.0, "fpr_at_95_tpr": 0.0}


def test_fpr_at_95_tpr_hand():
    # OOD scores 1..20: TPR >= 0.95 first at threshold 2 (19 of 20 flagged);
    # in-distribution scores 0, 1.5, 2.5, 3.5: those >= 2 are 2.5, 3.5 -> FPR 2/4
    result = u.ood_scores_from_scores([0, 1.5, 2.5, 3.5], np.arange(1, 21))
    assert result["fpr_at_95_tpr"] == 0.5


def test_ood_scores_from_disagreement(rng):
    m_in, m_out = dirichlet(rng, (5, 100, 10), alpha=0.1), dirichlet(rng, (5, 100, 10), alpha=1.0)
    result = u.ood_scores_from_scores(u.disagreement(m_in), u.disagreement(m_out))
    assert 0 <= result["auroc"] <= 1


# ------------------------------------------------------------------------------ bootstrap


def test_bootstrap_contains_estimate_and_is_deterministic(rng):
    probs, labels = dirichlet(rng, (500, 10), alpha=0.2), rng.integers(0, 10, 500)
    ci = bootstrap_ci(m.nll, probs, labels, n=200, seed=3)
    assert ci.low <= ci.estimate <= ci.high
    assert ci.estimate == pytest.approx(m.nll(probs, labels))
    assert ci == bootstrap_ci(m.nll, probs, labels, n=200, seed=3)
    assert ci != bootstrap_ci(m.nll, probs, labels, n=200, seed=4)


def test_bootstrap_fast_path_equals_generic(rng):
    probs, labels = dirichlet(rng, (500, 10)), rng.integers(0, 10, 500)
    fast = bootstrap_ci(np.mean, m.correct(probs, labels), n=300, seed=1)
    generic = bootstrap_ci(m.accuracy, probs, labels, n=300, seed=1)
    assert fast.estimate == pytest.approx(generic.estimate)
    assert abs(fast.low - generic.low) < 0.03 and abs(fast.high - generic.high) < 0.03


def test_bootstrap_narrows_with_n_samples(rng):
    small, large = rng.random(200) < 0.9, rng.random(20000) < 0.9
    ci_small, ci_large = bootstrap_ci(np.mean, small), bootstrap_ci(np.mean, large)
    assert ci_large.high - ci_large.low < (ci_small.high - ci_small.low) / 5  # width ~ 1/sqrt(N)


def test_paired_bootstrap_with_itself_is_exactly_zero(rng):
    probs, labels = dirichlet(rng, (300, 10)), rng.integers(0, 10, 300)
    assert tuple(bootstrap_ci(m.accuracy, probs, labels, n=100, paired_with=(probs, labels))) == (0, 0, 0)
    hits = m.correct(probs, labels)
    assert tuple(bootstrap_ci(np.mean, hits, paired_with=(hits,))) == (0, 0, 0)


def test_paired_bootstrap_is_narrower_than_unpaired_for_correlated_variants(rng):
    a = rng.random(2000) < 0.9
    b = a.copy()
    b[:20] = ~b[:20]  # the two variants differ on 1 % of samples
    paired = bootstrap_ci(np.mean, a, paired_with=(b,))
    assert paired.low <= paired.estimate <= paired.high
    assert paired.high - paired.low < 0.01


def test_bootstrap_accuracy_is_fast():
    rng = np.random.default_rng(0)
    hits = rng.random(10_000) < 0.99
    start = time.perf_counter()
    bootstrap_ci(np.mean, hits, n=1000)
    assert time.perf_counter() - start < 1.0


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "probs, labels, message",
    [
        (np.ones(3) / 3, np.array([0]), r"probs has shape \(3,\); expected a 2-D array of shape \(N, K\)"),
        (np.array([[0.5, 0.6]]), np.array([0]), r"probs rows do not sum to 1 .* within 0.001"),
        (np.array([[1.2, -0.2]]), np.array([0]), r"probs contains negative values"),
        (np.array([[np.nan, 1.0]]), np.array([0]), r"probs contains NaN"),
        (np.zeros((0, 3)), np.zeros(0, int), r"expected a non-empty array"),
        (P3, np.array([0, 1, 3]), r"labels has values in \[0, 3\]; expected class indices in \[0, 2\]"),
        (P3, np.array([0, 1, -1]), r"labels has values in \[-1, 1\]"),
        (P3, np.array([0.0, 1.0, 2.0]), r"labels has dtype float64; expected integer class indices"),
        (P3, np.array([0, 1]), r"labels has 2 entries but probs has 3 samples"),
        (P3, np.array([[0, 1, 2]]), r"labels has shape \(1, 3\); expected a 1-D array"),
    ],
)
def test_bad_inputs_raise_clear_errors(probs, labels, message):
    with pytest.raises(ValueError, match=message):
        m.accuracy(probs, labels)


def test_bad_member_probs_and_scores():
    with pytest.raises(ValueError, match=r"member_probs has shape \(3, 3\); expected a 3-D array of shape \(M, N, K\)"):
        u.disagreement(P3)
    with pytest.raises(ValueError, match="score is 'variance'; expected one of 'entropy', 'one_minus_confidence'"):
        u.ood_scores(P3, P3, score="variance")
    with pytest.raises(ValueError, match="score_out contains NaN"):
        u.ood_scores_from_scores([0.1, 0.2], [np.nan])
    with pytest.raises(ValueError, match="n_bins is 0; expected a positive integer"):
        m.ece(P3, Y3, n_bins=0)


def test_bad_bootstrap_arguments():
    x = np.ones(10)
    with pytest.raises(ValueError, match="n is 0; expected a positive integer"):
        bootstrap_ci(np.mean, x, n=0)
    with pytest.raises(ValueError, match="level is 95; expected a coverage strictly between 0 and 1"):
        bootstrap_ci(np.mean, x, level=95)
    with pytest.raises(ValueError, match="share one non-zero sample count N"):
        bootstrap_ci(m.accuracy, P3, np.array([0, 1]))
    with pytest.raises(ValueError, match="paired_with has 1 arrays but 2 were given"):
        bootstrap_ci(m.accuracy, P3, Y3, paired_with=(P3,))
