"""Claims C1-C10 on constructed evidence: one world per branch of each claim's rule."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from helpers.core import paper
from helpers.stats import claims
from helpers.stats.claims import Evidence
from helpers.stats.inference import Comparison
from helpers.stats.verdicts import CONTRADICTED, NOT_TESTED, SUPPORTED, UNRESOLVED, Rules

RULES = Rules(
    alpha=0.05,
    accuracy_margin_pp=0.1,
    nll_margin_relative=0.1,
    brier_margin_relative=0.1,
    about_one_pp_margin=0.5,
    ratio_tolerance=0.8,
    same_size_factor=1.25,
    min_seeds=3,
)
PAPER_ROWS = [
    {"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280},
    {"layer": "MaxPooling2D", "output_shape": (13, 13, 28), "params": 0},
    {"layer": "Conv2D", "output_shape": (9, 9, 32), "params": 22432},
    {"layer": "MaxPooling2D", "output_shape": (4, 4, 32), "params": 0},
    {"layer": "Flatten", "output_shape": (512,), "params": 0},
    {"layer": "Dense", "output_shape": (10,), "params": 5130},
]
PAPER_CFG = SimpleNamespace(
    epochs=20, retrain_epochs=5, validation_split=0.1, ensemble_size=5, sparsities=(0.25, 0.5, 0.75, 0.95), profile="paper"
)
VARIANTS = ("baseline", "single", "q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8")
# A paper-like world: accuracy differences as claimed, fractions in their regions,
# uncertainty rising with sparsity (q8 first), sizes as claimed.
ACC_DIFF = {"baseline": 0, "single": -0.003, "q8": 0, "s25_q8": 0.0004, "s50_q8": -0.0001, "s75_q8": -0.0005, "s95_q8": -0.01}
ENTROPY = {"baseline": 0.50, "single": 0.4, "q8": 0.50, "s25_q8": 0.55, "s50_q8": 0.60, "s75_q8": 0.70, "s95_q8": 0.90}
DISAGREEMENT = {k: v / 10 for k, v in ENTROPY.items()}
MNIST_FRAC = {"baseline": 0.98, "single": 0.97, "q8": 0.98, "s25_q8": 0.97, "s50_q8": 0.96, "s75_q8": 0.95, "s95_q8": 0.93}
OOD_FRAC = {"baseline": 0.30, "single": 0.3, "q8": 0.30, "s25_q8": 0.28, "s50_q8": 0.25, "s75_q8": 0.22, "s95_q8": 0.18}
RATIO = {"baseline": 1.0, "single": 5.0, "q8": 3.9, "s25_q8": 4.1, "s50_q8": 5.2, "s75_q8": 8.5, "s95_q8": 18.0}


def _cmp(estimate, half, band, p_equivalence):
    return Comparison(estimate, estimate - half, estimate + half, 0.5, p_equivalence, *band, 10000).as_dict()


def _run(seed: int, jitter: float = 0.0) -> dict:
    """results.json of one seed; `jitter` moves every value by a seed-dependent amount."""
    rng = np.random.default_rng(seed)
    out = {}
    for v in VARIANTS:
        j = lambda: jitter * rng.normal()  # noqa: E731
        acc_diff = ACC_DIFF[v] + j() / 100
        nll = 0.02 * (1 + (0.02 * (v != "baseline"))) + j() / 1000
        brier = 0.01 + j() / 1000
        mnist = {
            "accuracy": 0.9936 + acc_diff,
            "nll": nll,
            "brier": brier,
            "classified_fraction": MNIST_FRAC[v] + j() / 100,
            "classified_fraction_low": MNIST_FRAC[v] - 0.003,
            "classified_fraction_high": MNIST_FRAC[v] + 0.003,
            "vs_baseline": {
                "accuracy": {
                    "mcnemar": {"a_only": 5, "b_only": 4, "p": 0.9},
                    "no_change": _cmp(acc_diff, 0.0005, (-0.001, 0.001), 0.01),
                },
                "nll": {"no_change": _cmp(0.0, 0.0001, (-0.002, 0.002), 0.01)},
                "brier": {"no_change": _cmp(0.0, 0.0001, (-0.001, 0.001), 0.01)},
            },
        }
        if v in paper.COMPRESSED:
            band = claims.accuracy_band(v, RULES)
            mnist["vs_baseline"]["accuracy"]["paper"] = _cmp(acc_diff, 0.0005, band, 0.01)
        ood = {
            "classified_fraction": OOD_FRAC[v] + j() / 100,
            "classified_fraction_low": OOD_FRAC[v] - 0.01,
            "classified_fraction_high": OOD_FRAC[v] + 0.01,
            "mean_entropy": ENTROPY[v] + j() / 100,
            "mean_disagreement": DISAGREEMENT[v] + j() / 1000,
        }
        out[v] = {"mnist": mnist, "notmnist": ood, "compression_ratio": RATIO[v], "zipped_bytes": 500_000 / RATIO[v]}
    for v in VARIANTS:  # each stored test judged with the band the rules give around this run's baseline
        for metric in ("accuracy", "nll", "brier"):
            test = out[v]["mnist"]["vs_baseline"][metric]["no_change"]
            test["band_low"], test["band_high"] = claims.no_change_band(metric, out["baseline"]["mnist"][metric], RULES)
    return {"seed": seed, "variants": out}


def seeds(n: int, jitter: float = 0.02) -> Evidence:
    return Evidence([_run(s, jitter) for s in range(n)], RULES)


def verdicts(ev: Evidence, cfg=PAPER_CFG) -> dict:
    return {r["id"]: r["verdict"] for r in claims.assess(ev, PAPER_ROWS, cfg)}


def test_the_paper_world_between_seeds_supports_every_claim():
    got = verdicts(seeds(5))
    assert got == {f"C{i}": SUPPORTED for i in range(1, 11)}, got


def test_one_run_supports_equivalences_but_cannot_resolve_trends():
    got = verdicts(seeds(1))
    assert got["C2"] == got["C3"] == got["C4"] == got["C8"] == SUPPORTED
    assert got["C6"] == got["C7"] == got["C10"] == UNRESOLVED
    row = {r["id"]: r for r in claims.assess(seeds(1), PAPER_ROWS, PAPER_CFG)}
    assert "test-image spread of seed 0" in row["C2"]["evidence"]
    assert "a trend needs ≥ 3 seeds" in row["C7"]["evidence"]


def test_c1_contradicted_by_other_counts_and_untested_settings_on_another_profile():
    rows = copy.deepcopy(PAPER_ROWS)
    rows[0]["params"] = 281
    assert claims.c1(rows, PAPER_CFG)["verdict"] == CONTRADICTED
    quick = SimpleNamespace(**{**vars(PAPER_CFG), "epochs": 3})
    row = claims.c1(PAPER_ROWS, quick)
    assert row["verdict"] == SUPPORTED and dict(row["parts"])["settings"] == NOT_TESTED


def _edit(ev: Evidence, fn) -> Evidence:
    runs = copy.deepcopy(ev.runs)
    for r in runs:
        fn(r["variants"])
    return Evidence(runs, ev.rules)


def test_c2_accuracy_far_from_the_papers_is_contradicted_between_seeds():
    def shift(v):
        v["s25_q8"]["mnist"]["accuracy"] -= 0.005  # 0.5 pp below the baseline, not +0.04

    assert verdicts(_edit(seeds(5), shift))["C2"] == CONTRADICTED


def test_c2_noisy_seeds_leave_it_unresolved():
    assert verdicts(seeds(5, jitter=0.2))["C2"] == UNRESOLVED


def test_c2_one_run_uses_the_stored_within_run_test():
    def wide(v):
        v["s25_q8"]["mnist"]["vs_baseline"]["accuracy"]["paper"].update(low=-0.002, high=0.003, p_equivalence=0.3)

    assert verdicts(_edit(seeds(1), wide))["C2"] == UNRESOLVED


def test_size_short_of_the_claim_contradicts_and_a_mixed_one_is_unresolved():
    def small(v):
        v["s50_q8"]["compression_ratio"] = 3.0

    assert verdicts(_edit(seeds(5), small))["C3"] == CONTRADICTED
    ev = seeds(5)
    ev.runs[0]["variants"]["s50_q8"]["compression_ratio"] = 3.0
    assert verdicts(ev)["C3"] == UNRESOLVED


def test_c4_outside_about_one_pp_is_contradicted():
    def drop(v):
        v["s95_q8"]["mnist"]["accuracy"] -= 0.03

    assert verdicts(_edit(seeds(5), drop))["C4"] == CONTRADICTED


def test_c5_same_scope_for_both_halves():
    def low_mnist(v):
        v["s95_q8"]["mnist"]["classified_fraction"] = 0.86

    assert verdicts(_edit(seeds(5), low_mnist))["C5"] == CONTRADICTED

    def edge(v):
        v["baseline"]["notmnist"]["classified_fraction_low"] = 0.12

    assert verdicts(_edit(seeds(1), edge))["C5"] == UNRESOLVED


def test_c6_c7_c10_contradicted_by_a_significant_reversal():
    def fall(v):
        v["s25_q8"]["notmnist"]["mean_entropy"] = 0.45  # below q8 in every seed
        v["s25_q8"]["notmnist"]["mean_disagreement"] = 0.040

    got = verdicts(_edit(seeds(5), fall))
    assert got["C7"] == CONTRADICTED and got["C10"] == CONTRADICTED and got["C6"] == SUPPORTED

    def flat(v):
        v["s50_q8"]["mnist"]["classified_fraction"] = v["s25_q8"]["mnist"]["classified_fraction"]

    assert verdicts(_edit(seeds(5, jitter=0.2), flat))["C6"] == UNRESOLVED


def test_c8_change_beyond_the_margin_contradicts():
    def worse(v):
        v["s50_q8"]["mnist"]["nll"] *= 1.5

    got = verdicts(_edit(seeds(5), worse))
    assert got["C8"] == CONTRADICTED
    row = {r["id"]: r for r in claims.assess(_edit(seeds(5), worse), PAPER_ROWS, PAPER_CFG)}["C8"]
    assert "nll at 50 % contradicted" in row["ours"]


def test_c9_measured_in_every_run():
    def big(v):
        v["s50_q8"]["zipped_bytes"] = 2 * v["single"]["zipped_bytes"]

    assert verdicts(_edit(seeds(3), big))["C9"] == CONTRADICTED


def test_not_tested_without_the_variants():
    smoke = SimpleNamespace(**{**vars(PAPER_CFG), "sparsities": (0.5, 0.95)})

    def drop(v):
        for name in ("s25_q8", "s75_q8"):
            v.pop(name)

    got = verdicts(_edit(seeds(5), drop), smoke)
    assert got["C2"] == got["C3"] == NOT_TESTED
    assert got["C4"] == SUPPORTED


def test_every_row_names_its_criterion_and_evidence():
    for row in claims.assess(seeds(5), PAPER_ROWS, PAPER_CFG):
        assert row["criterion"] and row["verdict"] in claims.verdicts_vocabulary()
        assert row["evidence"]


def test_a_stored_within_run_test_judged_with_other_margins_is_refused():
    """One run: the verdict uses results.json's own test, so it must be the rules' band."""
    import dataclasses

    ev = seeds(1, jitter=0.0)
    claims.assess(ev, PAPER_ROWS, PAPER_CFG)  # the bands the rules give: judged
    wider = dataclasses.replace(RULES, nll_margin_relative=0.2)
    with pytest.raises(
        ValueError,
        match=r"within-run test of s25_q8's nll \(no_change\) was judged with the band "
        r"\[-0\.002, 0\.002\] at α = 0\.05, but _config.yml's verdict rules now give "
        r"\[-0\.004, 0\.004\] .* `python -m helpers evaluate --profile paper --force`",
    ):
        claims.assess(Evidence(ev.runs, wider), PAPER_ROWS, PAPER_CFG)


def prose_with_internal_keys(source: str) -> list[str]:
    """String literals with a space (sentences, not keys), placeholders removed, that still
    name an internal variant key."""
    import re

    keys = re.compile(r"\b(s\d\d_(q8|float|int8full)|q8_m\d|single_q8|ft_q8)\b")
    literals = [re.sub(r"\{[^}]*\}", "", q) for q in re.findall(r'"[^"\n]*"', source)]
    return [q for q in literals if " " in q and keys.search(q)]


def test_no_claim_text_names_an_internal_variant_key():
    """Criteria and evidence are read in the book: no 's50_q8' or 'q8_m3' there."""
    import inspect

    from helpers.stats import claims

    assert prose_with_internal_keys(inspect.getsource(claims)) == []
    assert prose_with_internal_keys('criterion = f"zipped s50_q8 ensemble <= {x}"') == ['"zipped s50_q8 ensemble <= "']
