"""The frontier's between-seed numbers (helpers.stages.frontier_numbers) and the chapter's
sentences (helpers.book.frontier) on constructed seed records with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers.core.config import load_config
from helpers.stages import frontier_numbers as FN

CFG = load_config("paper")


def _block(nll, ece, auroc_n, auroc_f, entropy=1.0, disagreement=0.1):
    ood = lambda a: {
        "mean_entropy": entropy,
        "auroc": a,
        "mean_member_entropy": entropy - disagreement,
        "mean_disagreement": disagreement,
    }  # noqa: E731
    return {
        "mnist": {"accuracy": 0.99, "nll": nll, "brier": 0.015, "ece": ece, "mean_entropy": 0.05},
        "notmnist": ood(auroc_n),
        "fashion_mnist": ood(auroc_f),
    }


def _frontier(seed: int, values: dict, shift: float = 0.0) -> dict:
    """values: {name: (kind, members, bytes, nll, ece, auroc)}; `shift` moves every NLL."""
    variants = {}
    for name, (kind, members, size, nll, ece, auroc) in values.items():
        raw = _block(nll + shift, ece, auroc, auroc - 0.05)
        cal = _block(nll + shift - 0.001, ece / 2, auroc, auroc - 0.05)
        variants[name] = {
            "label": name,
            "kind": kind,
            "members": members,
            "size": {"zipped_bytes": size},
            "temperature": 1.1,
            "member_temperatures": [1.1] * members,
            "raw": raw,
            "calibrated": cal,
            "calibrated_members": cal,
        }
    return {
        "frontier_hash": dataclasses.replace(CFG, seed=seed).stage_hash("frontier"),
        "seed": seed,
        "variants": variants,
        "audit": {},
        "timings": {"clustering": 60.0 + seed},
        "checks": {"c16_s50_q8": {"clusters": [{"conv1": 16, "dense1": 15}], "zeros_kept": [True]}},
    }


VALUES = {  # name: kind, members, bytes, NLL, ECE, AUROC
    "q8": ("ensemble", 5, 139_000, 0.020, 0.004, 0.97),
    "s95_q8": ("ensemble", 5, 27_800, 0.030, 0.006, 0.98),
    "single_q8": ("single", 1, 27_900, 0.028, 0.005, 0.95),
    "student_small_q8": ("student", 1, 9_000, 0.040, 0.008, 0.94),
    "c16_s75_q8": ("clustered", 5, 45_000, 0.024, 0.005, 0.975),
}


def _records(seeds=(5, 6, 7), values=VALUES) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"seed": s, "weights": {"w": "x"}, "frontier": _frontier(s, values, float(rng.normal(0, 1e-4)))} for s in seeds]


def test_stats_and_fronts_are_the_seed_means():
    block = FN.frontier_block(_records(), CFG, 0.05)
    assert block["seeds"] == [5, 6, 7] and block["n_seeds"] == 3
    st = block["stats"]["q8"]
    assert st["size"]["zipped_bytes"]["mean"] == 139_000
    assert st["raw"]["mnist"]["nll"]["mean"] == pytest.approx(0.020, abs=3e-4)
    # NLL: smaller is better; the 9 kB student, the single member (27.9 kB beats s95 at 27.8 kB
    # on NLL but is larger), the clustered 45 kB and q8 lie on the front; s95 (0.030) is
    # dominated by nothing smaller and better: it is on the front too (smaller than single_q8).
    assert block["fronts"]["raw"]["mnist.nll"] == ["student_small_q8", "s95_q8", "single_q8", "c16_s75_q8", "q8"]
    # AUROC: higher is better; s95 (0.98 at 27.8 kB) dominates everything larger.
    assert block["fronts"]["raw"]["notmnist.auroc"] == ["student_small_q8", "s95_q8"]
    assert block["fronts_per_seed"]["raw"]["notmnist.auroc"]["6"] == ["student_small_q8", "s95_q8"]
    assert block["timings"][FN.UNKNOWN_CPU]["clustering"]["mean"] == pytest.approx(66.0)  # 65, 66, 67 s
    assert block["checks"]["c16_s50_q8"] == {"max_clusters": 16, "zeros_kept": True}


def test_budgets_name_the_best_that_fits_and_judge_it_against_the_runner_up():
    block = FN.frontier_block(_records(), CFG, 0.05)
    b10 = block["budgets"]["raw"]["mnist.nll"]["10"]
    assert b10["best"] == "student_small_q8" and b10["runner_up"] is None and b10["verdict"] == "alone"
    b30 = block["budgets"]["raw"]["mnist.nll"]["30"]
    assert (b30["best"], b30["runner_up"]) == ("single_q8", "s95_q8")
    assert b30["diff"]["mean"] == pytest.approx(-0.002) and b30["verdict"] == "better" and b30["wins"] == [5, 6, 7]
    b100 = block["budgets"]["raw"]["notmnist.auroc"]["100"]
    assert (b100["best"], b100["runner_up"]) == ("s95_q8", "c16_s75_q8") and b100["verdict"] == "better"


def test_equal_bytes_compares_each_ensemble_with_the_best_single_no_larger_than_it():
    block = FN.frontier_block(_records(), CFG, 0.05)
    nll = block["equal_bytes"]["raw"]["mnist.nll"]
    # s95 (27.8 kB) can only meet the 9 kB student (single_q8 is 100 bytes larger)
    assert nll["s95_q8"]["reference"] == "student_small_q8" and nll["s95_q8"]["verdict"] == "better"
    # q8 (139 kB) meets the best of all singles on NLL: single_q8 (0.028), and beats it
    assert nll["q8"]["reference"] == "single_q8" and nll["q8"]["verdict"] == "better"
    assert "single_q8" not in nll and "student_small_q8" not in nll  # singles are references only


def test_records_of_other_frontier_values_or_without_numbers_are_left_out_named():
    records = _records()
    records[1]["frontier"]["frontier_hash"] = "0" * 16
    records.append({"seed": 2, "results": {}})
    block = FN.frontier_block(records, CFG, 0.05)
    assert block["seeds"] == [5, 7]
    assert block["left_out"]["6"].startswith("frontier values 0000000000000000, not ")
    assert block["left_out"]["2"] == "no frontier numbers (its models were not kept)"
    assert FN.frontier_block([{"seed": 0, "results": {}}], CFG, 0.05) is None


def test_a_tie_is_not_resolved():
    same = {k: v for k, v in VALUES.items() if k in ("single_q8", "s95_q8")}
    same["s95_q8"] = ("ensemble", 5, 27_800, 0.028, 0.005, 0.95)
    recs = [{"seed": s, "weights": {}, "frontier": _frontier(s, same)} for s in (5, 6, 7)]
    recs[0]["frontier"]["variants"]["s95_q8"]["raw"]["mnist"]["nll"] += 1e-4
    recs[1]["frontier"]["variants"]["s95_q8"]["raw"]["mnist"]["nll"] -= 1e-4
    d, verdict = FN.paired([r["frontier"] for r in recs], "s95_q8", "single_q8", "raw", ("mnist", "nll", False), 0.05)
    assert verdict == "not resolved" and d["mean"] == pytest.approx(0.0, abs=1e-12)


def test_calibrated_runs_take_mnist_from_the_pooled_and_ood_from_the_members():
    f = _frontier(5, VALUES)
    f["variants"]["q8"]["calibrated_members"] = _block(0.5, 0.5, 0.5, 0.5, entropy=2.0, disagreement=0.3)
    (run,) = FN.calibrated_runs([f], "calibrated")
    assert run["variants"]["q8"]["mnist"]["nll"] == f["variants"]["q8"]["calibrated"]["mnist"]["nll"]
    assert run["variants"]["q8"]["notmnist"]["mean_disagreement"] == 0.3
    (raw,) = FN.calibrated_runs([f], "raw")
    assert raw["variants"]["q8"]["notmnist"] == f["variants"]["q8"]["raw"]["notmnist"]


def test_the_chapter_sentences_read_the_block():
    from helpers.book import frontier as F
    from helpers.book import frontier_answers as A

    fv = F.FrontierView(FN.frontier_block(_records(), CFG, 0.05))
    text = A.budget_sentence(fv, "raw", "mnist.nll", 30)
    assert text.startswith("Within 30 kB, the best for MNIST NLL (raw) is the single model, int8 weights (27.9 kB, 0.028 nats)")
    assert "over 3 seeds; best on 3 of them" in text
    assert A.budget_sentence(fv, "raw", "mnist.nll", 10).startswith("Within 10 kB, only the small distilled student")
    eq = A.equal_bytes_answer(fv, "raw")
    assert "On MNIST NLL, 3 of 3 beat it (95 % pruned, int8 weights; 75 % pruned, 16 clusters, int8 weights; " in eq
    assert A.checks_answer(fv).startswith("Over 3 seeds: the 50 % pruned, 16 clusters, int8 weights ensemble keeps at most 16")
    assert A.left_out_answer(fv) == "Every seed of the summary is on the frontier (5–7)."
    table = F.budget_table(fv, "raw")
    assert table.loc[("30 kB", "MNIST NLL"), "Best"] == "single model, int8 weights"
    assert table.loc[("30 kB", "MNIST NLL"), "Seeds won"] == "3 of 3"


def test_too_few_seeds_for_the_calibrated_verdicts_says_how_many_are_needed():
    from helpers.book import frontier as F
    from helpers.book import frontier_answers as A
    from helpers.stats.rules import load_rules_v2

    rules = load_rules_v2(CFG.config_path)
    block = FN.frontier_block(_records()[:2], CFG, 0.05, rules)
    assert block["verdicts"] is None and block["min_seeds"] == rules.min_seeds == 3
    assert A.verdicts_answer(F.FrontierView(block)) == (
        "With 2 seeds on the frontier, rules v2 cannot judge the claims again (they need at least 3)."
    )


def test_stage_times_are_summarized_per_cpu_model_never_pooled_across_models():
    from helpers.book import frontier as F
    from helpers.book import frontier_answers as A

    records = _records()  # clustering 65, 66, 67 s on seeds 5, 6, 7
    records[0]["frontier"]["machine"] = {"cpu_model": "AMD EPYC"}
    for r in records[1:]:
        r["frontier"]["machine"] = {"cpu_model": "Intel Xeon"}
        r["frontier"]["timings"]["distillation"] = 600.0
    block = FN.frontier_block(records, CFG, 0.05)
    assert block["timings"]["AMD EPYC"]["clustering"]["mean"] == pytest.approx(65.0)
    assert block["timings"]["Intel Xeon"]["clustering"]["mean"] == pytest.approx(66.5)
    assert block["timings"]["Intel Xeon"]["distillation"]["n"] == 2 and "distillation" not in block["timings"]["AMD EPYC"]
    assert A.cost_answer(F.FrontierView(block)) == (
        "On AMD EPYC (mean over 1 seed, wall time on one CPU thread per seed): clustering 1.1 min; 1 min in all per "
        "seed. On Intel Xeon (mean over 2 seeds, wall time on one CPU thread per seed): clustering 1.1 min, "
        "distillation 10.0 min; 11 min in all per seed."
    )
    records[1]["frontier"]["resumed"] = ["distillation"]  # started from a checkpoint: a part of the stage
    block = FN.frontier_block(records, CFG, 0.05)
    assert block["timings"]["Intel Xeon"]["distillation"]["n"] == 1
    assert A.cost_answer(F.FrontierView(block)).endswith(
        "On Intel Xeon (mean over the seeds that timed each stage whole, wall time on one CPU thread per seed): "
        "clustering 1.1 min (2 seeds), distillation 10.0 min (1 seed); 11 min in all per seed."
    )


def test_the_audit_sentence_names_the_largest_change_of_each_measure_and_its_configuration():
    from helpers.book import frontier as F
    from helpers.book import frontier_answers as A

    def entry(zeros, nll, entropy, disagreement):
        m = lambda v: {"mean": v}  # noqa: E731
        return {
            "zero_fraction": {"notmnist": m(zeros)},
            "mnist": {"nll": m(nll)},
            "notmnist": {"mean_entropy": m(entropy), "mean_disagreement": m(disagreement)},
        }

    fv = F.FrontierView(
        {"audit": {"int8full": entry(0.5, 0.004, -0.001, 0.002), "s95_int8full": entry(0.75, 0.001, -0.005, 0.0)}}
    )
    assert A.audit_answer(fv) == (
        "The int8 softmax sets 50.00 % to 75.00 % of the NotMNIST probabilities to exactly 0. Against a float softmax "
        "over the same logits it changes MNIST NLL by at most +0.004 nats (0 % pruned, full int8), NotMNIST entropy by "
        "at most −0.005 nats (95 % pruned, full int8) and NotMNIST disagreement by at most +0.002 nats (0 % pruned, full int8)."
    )
    assert A.audit_answer(F.FrontierView({"audit": {}})) == "No variant has an int8 softmax output."


def test_a_summary_without_frontier_numbers_is_refused_with_the_command_that_makes_them():
    from helpers.book import frontier as F

    with pytest.raises(
        F.FrontierMissing,
        match=r"^The summary of profile 'paper' has no frontier numbers .*"
        r"`python -m helpers frontier --profile paper --seeds 0`, then build again\.$",
    ):
        F.frontier_view({"frontier": None}, "paper")
    block = FN.frontier_block(_records(), CFG, 0.05)
    assert F.frontier_view({"frontier": block}, "paper").n == 3
