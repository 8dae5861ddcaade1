"""helpers.stages.per_image (a seed's per-image losses, packed to commit), the two-level bootstrap
over seeds and test images (helpers.stats.inference), its equivalence test (helpers.stats.judging) and the
aggregate's use of them: known answers on constructed seeds."""

from __future__ import annotations

import hashlib
import io
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from helpers.book import verdict_tables
from helpers.stages import aggregate as A
from helpers.stages import per_image as P
from helpers.stages import seed_numbers as N
from helpers.stats import claims_v2 as CV
from helpers.stats import judging as J
from helpers.stats import rules as R
from helpers.stats.inference import crossed_mean, t_interval


# --- the pack ---------------------------------------------------------------------------------
def losses_of(rng, n=500, variants=("baseline", "q8", "s50_q8"), shift=0.0):
    out = {}
    for k, v in enumerate(variants):
        out[v] = {
            "accuracy": (rng.random(n) < 0.98).astype(np.float64),
            "nll": (rng.exponential(0.03, n) + shift * k).astype(np.float32).astype(np.float64),
            "brier": rng.exponential(0.02, n).astype(np.float32).astype(np.float64),
        }
    return out


def fake_exp(seed=3):
    return SimpleNamespace(config=SimpleNamespace(seed=seed, profile="smoke", hash="h", test_subset=500, subset_seed=0))


def test_a_pack_round_trips_every_value_and_names_its_images(tmp_path):
    values = losses_of(np.random.default_rng(0))
    path = P.write_pack(fake_exp(), tmp_path, values)
    assert path == tmp_path / "per_image" / "seed_3.per_image.zip"
    meta, back = P.read_pack(path, hashlib.sha256(path.read_bytes()).hexdigest(), seed=3)
    assert meta["n_images"] == 500 and meta["variants"] == ["baseline", "q8", "s50_q8"]
    assert meta["subset"] == {"test_subset": 500, "subset_seed": 0} and meta["config_hash"] == "h"
    for v in values:
        for m in P.METRICS:
            assert np.array_equal(back[v][m], values[v][m])  # float32 losses and bits: exact


def test_a_pack_is_checked_on_read(tmp_path):
    path = P.write_pack(fake_exp(), tmp_path, losses_of(np.random.default_rng(0)))
    with pytest.raises(P.PerImageError, match=r"has sha256 .*, not the 000000000000… its seed record names"):
        P.read_pack(path, "0" * 64)
    with pytest.raises(P.PerImageError, match="holds seed 3, not seed 4 as its name says"):
        P.read_pack(path, seed=4)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{"meta.json": np.frombuffer(json.dumps({"per_image_version": 0}).encode(), dtype=np.uint8)})
    path.write_bytes(buf.getvalue())
    with pytest.raises(P.PerImageError, match="is a version 0 pack; this code reads version 1"):
        P.read_pack(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(P.PerImageError, match="is not a per-image pack"):
        P.read_pack(path)
    path.unlink()
    with pytest.raises(P.PerImageError, match="does not exist though its seed record names it"):
        P.read_pack(path)


def test_accuracy_per_image_must_be_zero_or_one():
    values = losses_of(np.random.default_rng(0))
    values["q8"]["accuracy"][0] = 0.5
    with pytest.raises(P.PerImageError, match="accuracy of q8 per image must be 0 or 1"):
        P.encode(values)


# --- the two-level interval ------------------------------------------------------------------
def test_crossed_mean_counts_both_sources_of_variation():
    """d[s, i] = a_s + b_i + e: the SE of the grand mean is about sqrt(var(a)/S + var(b)/N + var(e)/(SN))."""
    rng = np.random.default_rng(1)
    a, b, e = rng.normal(0, 0.002, 11), rng.normal(0, 0.3, 10000), rng.normal(0, 0.1, (11, 10000))
    out = crossed_mean(a[:, None] + b[None, :] + e)
    expected = np.sqrt(a.var(ddof=1) / 11 + b.var(ddof=1) / 10000 + 0.1**2 / 110000)
    assert out["se"] == pytest.approx(expected, rel=0.1)
    assert out["low"] < out["tost_low"] < out["mean"] < out["tost_high"] < out["high"]
    assert sum(out["components"].values()) == pytest.approx(1.0)
    assert out["components"]["images"] > out["components"]["seeds"]  # 0.3²/10⁴ > 0.002²/11


def test_without_image_variation_it_is_the_t_interval_of_the_seed_means():
    a = np.array([0.001, -0.002, 0.0005, 0.003, -0.001])
    out = crossed_mean(np.repeat(a[:, None], 50, axis=1))
    mean, low, high = t_interval(a, 0.05)
    assert out["df"] == pytest.approx(4) and out["mean"] == pytest.approx(mean, abs=1e-15)
    assert (out["low"], out["high"]) == pytest.approx((low, high), abs=1e-12)
    assert out["components"]["seeds"] == pytest.approx(1.0) and out["components"]["images"] < 1e-20


def test_mean_squares_are_those_of_statsmodels_two_way_anova():
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(4)
    d = rng.normal(size=(4, 7)) + rng.normal(size=(4, 1)) + rng.normal(size=(1, 7))
    frame = pd.DataFrame([{"d": d[s, i], "seed": s, "image": i} for s in range(4) for i in range(7)])
    table = anova_lm(smf.ols("d ~ C(seed) + C(image)", frame).fit())
    ms = table["mean_sq"]
    out = crossed_mean(d)
    combo = ms["C(seed)"] + ms["C(image)"] - ms["Residual"]
    assert out["se"] == pytest.approx(np.sqrt(combo / 28), rel=1e-12)
    df = combo**2 / (ms["C(seed)"] ** 2 / 3 + ms["C(image)"] ** 2 / 6 + ms["Residual"] ** 2 / 18)
    assert out["df"] == pytest.approx(df, rel=1e-12)


@pytest.mark.parametrize(
    "diffs, message",
    [
        (np.zeros(4), r"needs a \(seeds, images\) array; got shape \(4,\)"),
        (np.zeros((1, 4)), r"at least 2 seeds and 2 images; got 1 seeds"),
        (np.full((2, 4), np.nan), r"NaN or infinite"),
    ],
)
def test_crossed_mean_errors(diffs, message):
    with pytest.raises(ValueError, match=message):
        crossed_mean(diffs)


# --- the equivalence test from a standard error -------------------------------------------------
@pytest.fixture(scope="module")
def rules():
    return R.load_rules_v2()


def test_with_the_seed_means_own_se_it_is_equivalence_part(rules):
    v = np.array([0.0004, -0.0002, 0.0001, 0.0006, -0.0003, 0.0002])
    band = (-0.001, 0.001)
    ref = J.equivalence_part("acc", v, band, rules)
    se = float(v.std(ddof=1) / np.sqrt(v.size))
    got = J.se_equivalence_part("acc", float(v.mean()), se, v.size - 1, band, rules, v.size)
    assert got["holds"] == ref["holds"] is True
    assert got["p_equivalence"] == pytest.approx(ref["p_equivalence"], rel=1e-9)
    assert got["p_fail"] == pytest.approx(ref["p_fail"], rel=1e-9)
    assert (got["low"], got["high"]) == pytest.approx((ref["low"], ref["high"]), rel=1e-9)


def test_se_equivalence_holds_fails_or_stays_open(rules):
    band = (-0.001, 0.001)
    assert J.se_equivalence_part("a", 0.0, 0.0002, 30, band, rules, 11)["holds"] is True
    out = J.se_equivalence_part("a", -0.01, 0.0005, 30, band, rules, 11)
    assert out["holds"] is False and out["p_fail"] < 1e-10
    wide = J.se_equivalence_part("a", 0.0, 0.002, 30, band, rules, 11)
    assert wide["holds"] is False and wide["p_fail"] == 1.0
    assert J.se_equivalence_part("a", 0.0, 0.0002, 30, band, rules, 2)["holds"] is None  # too few seeds
    with pytest.raises(ValueError, match="needs a finite se >= 0 and df > 0"):
        J.se_equivalence_part("a", 0.0, math.nan, 30, band, rules, 11)


# --- in the aggregate -------------------------------------------------------------------------
def per_seed_world(n_seeds=6, n=2000, image_sd=0.12, seed=0):
    """Seeds whose 50 % ensemble is 0.0005 less accurate than the baseline on average."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in range(n_seeds):
        base = (rng.random(n) < 0.99).astype(np.float64)
        flip = rng.random(n) < 0.004
        s50 = np.where(flip, 1 - base, base)
        nll = rng.exponential(0.03, n)
        out[s] = {
            "baseline": {"accuracy": base, "nll": nll, "brier": nll / 2},
            "s50_q8": {"accuracy": s50, "nll": nll + rng.normal(0, image_sd, n) * 0.01, "brier": nll / 2 + 0.0001},
        }
    return out


def test_two_level_block_gives_both_intervals_on_the_same_seeds():
    per_seed = per_seed_world()
    block, intervals = N.two_level_block(per_seed, 0.05)
    assert block["seeds"] == list(range(6)) and block["n_images"] == 2000
    e = block["variants"]["s50_q8"]["accuracy"]
    per_seed_means = [per_seed[s]["s50_q8"]["accuracy"].mean() - per_seed[s]["baseline"]["accuracy"].mean() for s in range(6)]
    mean, low, high = t_interval(per_seed_means, 0.05)
    assert e["mean"] == pytest.approx(mean, abs=1e-15)
    assert (e["seeds"]["low"], e["seeds"]["high"]) == pytest.approx((low, high), abs=1e-15)
    assert e["two_level"]["low"] < e["mean"] < e["two_level"]["high"]
    assert e["two_level"]["tost_low"] > e["two_level"]["low"]  # the 90 % interval inside the 95 %
    both = crossed_mean(np.stack([per_seed[s]["s50_q8"]["accuracy"] - per_seed[s]["baseline"]["accuracy"] for s in range(6)]))
    assert e["two_level"]["se"] == both["se"] and e["two_level"]["high"] == both["high"]
    assert set(intervals) == {f"s50_q8|{m}" for m in ("accuracy", "nll", "brier")}
    assert intervals["s50_q8|nll"]["n"] == 6 and intervals["s50_q8|nll"]["se"] > 0
    assert N.two_level_block({0: per_seed[0]}, 0.05) == (None, {})


def test_v2_two_level_rejudges_only_the_image_parts(rules):
    per_seed = per_seed_world(n_seeds=8, n=4000)
    _, intervals = N.two_level_block(per_seed, rules.alpha)
    part = J.equivalence_part("accuracy at 50 %", [-0.0005] * 7 + [-0.0004], (-0.002, 0.002), rules)
    size = J.measured_part("size at 50 %", [True] * 8, 5.1)
    parts = [{**part, "variant": "s50_q8", "measure": "accuracy"}, {**size, "variant": "s50_q8", "measure": "size"}]
    judged = {cid: {"mnist": J.judge(parts, rules.alpha)} for cid in CV.IMAGE_CLAIMS}
    assert judged["C3"]["mnist"]["verdict"] == R.SUPPORTED  # no seed spread: the t-test is sure
    out = CV.v2_two_level(judged, intervals, rules)
    parts = out["C3"]["mnist"]["parts"]
    assert [p["name"] for p in parts] == ["accuracy at 50 %", "size at 50 %"]
    assert parts[1]["holds"] is True and parts[1]["status"] == R.HOLDS  # the size part, as it was
    # 4000 images at 0.4 % flips: the image sample's own spread of the difference is ~0.0003
    assert 0.0001 < parts[0]["se"] < 0.001 and parts[0]["band"] == [-0.002, 0.002]
    assert parts[0]["df"] > 7  # the images add degrees of freedom to the seeds' 7


def test_per_image_runs_checks_each_pack_against_its_record(tmp_path):
    rng = np.random.default_rng(0)
    values = losses_of(rng, variants=("baseline", "q8"))
    path = P.write_pack(fake_exp(seed=1), tmp_path, values)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    recorded = {v: {"mnist": {m: float(values[v][m].mean()) for m in P.METRICS}} for v in values}
    record = {
        "seed": 1,
        "config_hash": "h",
        "per_image": {"per_image/seed_1.per_image.zip": sha},
        "results": {"profile": "smoke", "variants": recorded},
    }
    got = A.per_image_runs([record, {"seed": 2, "config_hash": "h", "results": {}}], tmp_path)
    assert list(got) == [1] and np.array_equal(got[1]["q8"]["nll"], values["q8"]["nll"])
    recorded["q8"]["mnist"]["nll"] += 1e-4
    with pytest.raises(A.AggregateError, match=r"the mean nll of q8 over its images .* is not its record's"):
        A.per_image_runs([record], tmp_path)
    with pytest.raises(A.AggregateError, match="was written for config h, not the other of its seed record"):
        A.per_image_runs([{**record, "config_hash": "other"}], tmp_path)


# --- in the book --------------------------------------------------------------------------------
def book_summary(rules, changed: bool):
    """A Summary whose two-level block judges C3 like the seeds (changed False) or not."""
    from helpers.book import answers, report  # noqa: F401
    from helpers.book.summary import Summary

    per_seed = per_seed_world(n_seeds=6, n=2000)
    block, _ = N.two_level_block(per_seed, rules.alpha)
    part = lambda status: {
        "name": "accuracy at 50 %",
        "status": status,
        "variant": "s50_q8",  # noqa: E731
        "measure": "accuracy",
    }
    judged = lambda verdict, status: {"mnist": {"verdict": verdict, "parts": [part(status)]}}  # noqa: E731
    block["verdicts"] = {
        "seeds": {c: judged(R.SUPPORTED, R.HOLDS) for c in CV.IMAGE_CLAIMS},
        "two_level": {c: judged(R.SUPPORTED, R.HOLDS) for c in CV.IMAGE_CLAIMS},
    }
    if changed:
        block["verdicts"]["two_level"]["C3"] = judged(R.INCONCLUSIVE, R.OPEN)
    data = {
        "seeds": list(range(9)),
        "n_seeds": 9,
        "two_level": block,
        "verdicts": {"v2": {"all": {c: judged(R.SUPPORTED, R.HOLDS) for c in CV.IMAGE_CLAIMS}}},
    }
    return Summary(data)


def test_two_level_table_sets_both_intervals_side_by_side(rules):

    S = book_summary(rules, changed=False)
    table = verdict_tables.two_level_table(S, ["s50_q8", "s95_q8"])  # s95_q8 has no per-image losses: no row
    assert list(table.columns) == ["over 6 seeds", "over seeds × 2,000 images", "width ratio"]
    assert [i[1] for i in table.index] == ["accuracy", "NLL", "Brier score"]
    e = S.two_level_diff("s50_q8", "accuracy")
    width = (e["two_level"]["high"] - e["two_level"]["low"]) / (e["seeds"]["high"] - e["seeds"]["low"])
    assert table.iloc[0]["width ratio"] == f"{width:.2f}×"
    assert table.iloc[0]["over 6 seeds"].endswith(" pp [" + table.iloc[0]["over 6 seeds"].split("[")[1])


def test_interval_verdicts_and_the_sentence_name_what_changes(rules):
    from helpers.book import answers

    same = book_summary(rules, changed=False)
    assert "Judged with them, C2, C3, C4 and C8 keep the verdicts" in answers.image_variation(same, ["s50_q8"])
    moved = book_summary(rules, changed=True)
    text = answers.image_variation(moved, ["s50_q8"])
    assert text.startswith("On the 6 seeds with per-image losses (0–5), counting the 2,000 test images")
    assert "makes the intervals of the differences to the baseline " in text and " for accuracy" in text
    assert text.endswith("Judged with them on the same seeds, C3 turns from supported to inconclusive.")
    table = verdict_tables.interval_verdicts(moved)
    assert table.loc["C3", "seeds 0–5, over seeds × images"] == R.INCONCLUSIVE
    assert table.loc["C3", "Parts that change"] == "accuracy at 50 %"
    assert table.loc["C2", "Parts that change"] == "—"


def test_without_per_image_losses_the_book_says_so():
    from helpers.book import answers
    from helpers.book.summary import Summary

    S = Summary({"seeds": [0], "n_seeds": 1, "two_level": None})
    assert answers.image_variation(S, ["q8"]).startswith("No two seeds have per-image losses yet")
    assert verdict_tables.two_level_table(S, ["q8"]).iloc[0, 0].startswith("fewer than two")
