"""helpers.stages.aggregate (seed records -> summary.json) and the landing page's answers that read
it (helpers.book.prose), on constructed seeds whose outcome is known."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from helpers.book import answers, verdict_answers, verdict_tables
from helpers.book.summary import Summary
from helpers.stages import aggregate as A
from helpers.stages import records as S
from helpers.stages import seed_numbers as N
from helpers.stats import claims_v2 as C
from helpers.stats import rules as R

POINTS = ["q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8"]
Q8 = POINTS[1:]


def world(
    n_seeds=8,
    entropy=(0.70, 0.72, 0.75, 0.85, 1.20),
    disagreement=(0.45,) * 5,
    member=None,
    auroc=(0.97,) * 5,
    acc_diff=0.0002,
    noise=0.004,
    seed=0,
):
    """Seed results with the given seed-mean curves over 0/25/50/75/95 % (q8 first)."""
    rng = np.random.default_rng(seed)
    member = member or tuple(e - d for e, d in zip(entropy, disagreement))
    runs = []
    for s in range(n_seeds):
        jitter = lambda: noise * rng.standard_normal()  # noqa: E731
        V = {}
        base_acc = 0.993 + 0.0003 * rng.standard_normal()
        for name in ["baseline", "ft_q8", "single", *POINTS]:
            k = POINTS.index(name) if name in POINTS else 0
            acc = base_acc + (0 if name == "baseline" else acc_diff + 0.0002 * rng.standard_normal())
            if name == "s95_q8":
                acc = base_acc - 0.012 + 0.0005 * rng.standard_normal()
            d = disagreement[k] + jitter()
            m = member[k] + jitter()
            size = {"baseline": 525000, "single": 105000}.get(name, 525000 / [3.5, 4.1, 5.1, 7.7, 18.9][k])
            V[name] = {
                "members": 5,
                "zipped_bytes": size,
                "compression_ratio": 525000 / size,
                "mnist": {
                    "accuracy": acc,
                    "nll": 0.02 + 0.0003 * rng.standard_normal(),
                    "brier": 0.01 + 0.0002 * rng.standard_normal(),
                    "ece": 0.003,
                    "classified_fraction": 0.97 - 0.01 * k * (k > 3),
                },
                "notmnist": {
                    "mean_entropy": m + d,
                    "mean_member_entropy": m,
                    "mean_disagreement": d,
                    "classified_fraction": 0.25 - 0.02 * k + jitter(),
                    "detection": {"entropy": {"auroc": auroc[k] + 0.001 * rng.standard_normal()}},
                },
            }
        runs.append(
            {
                "seed": s,
                "profile": "paper",
                "variants": V,
                "evaluation_version": 4,
                "datasets": {"mnist": {"kind": "in", "n": 10000}, "notmnist": {"kind": "ood", "n": 18724}},
            }
        )
    return runs


@pytest.fixture(scope="module")
def rules():
    return R.load_rules_v2()


def summary_of(runs, rules, confirmatory=None):
    data = N.numbers(runs, [r["seed"] for r in runs], rules.alpha)
    verdicts = {
        "C7": C.v2_trend(
            runs,
            lambda d: [("entropy", d, "mean_entropy"), ("disagreement", d, "mean_disagreement")],
            True,
            rules,
            datasets=("notmnist",),
        ),
        "C10": C.v2_trend(runs, lambda d: [("disagreement", d, "mean_disagreement")], True, rules, datasets=("notmnist",)),
        "C8": C.v2_c8(runs, Q8, rules),
    }
    data["verdicts"] = {
        "v1": [],
        "v2": {
            "all": N.json_safe(verdicts),
            "confirmatory": confirmatory,
            "confirmatory_seeds": [s for s in data["seeds"] if s >= 5],
            "seen": A.SEEN,
        },
    }
    return Summary(data)


# --- the statistics ------------------------------------------------------------------------------
def test_stats_and_diffs_are_the_seed_values_and_their_t_interval(rules):
    from scipy import stats as sps

    runs = world(n_seeds=4)
    s = summary_of(runs, rules)
    values = [r["variants"]["s95_q8"]["notmnist"]["mean_entropy"] for r in runs]
    st = s.stat("s95_q8", "notmnist", "mean_entropy")
    assert st["values"] == values and st["n"] == 4
    half = sps.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert st["low"] == pytest.approx(np.mean(values) - half) and st["high"] == pytest.approx(np.mean(values) + half)
    d = s.diff("vs_q8", "s95_q8", "notmnist", "detection.entropy.auroc")
    assert d["values"] == pytest.approx(
        [
            r["variants"]["s95_q8"]["notmnist"]["detection"]["entropy"]["auroc"]
            - r["variants"]["q8"]["notmnist"]["detection"]["entropy"]["auroc"]
            for r in runs
        ]
    )
    assert s.stat("s50_q8", None, "compression_ratio")["mean"] == pytest.approx(5.1)
    assert s.diff("vs_control", "ft_q8", "notmnist", "mean_entropy") is None  # no self-comparison


def test_one_seed_has_a_mean_and_no_interval(rules):
    s = summary_of(world(n_seeds=1), rules)
    st = s.stat("q8", "notmnist", "mean_entropy")
    assert st["n"] == 1 and st["low"] is None and st["sd"] is None


def test_the_front_is_computed_once_in_the_aggregate(rules):
    s = summary_of(world(n_seeds=3), rules)
    # smaller is better for NLL: the 95 % ensemble is the smallest, so it is on the front
    assert "s95_q8" in s.front("nll") and s.front("nll") == sorted(s.front("nll"), key=lambda n: s.mean(n, None, "zipped_bytes"))


# --- the answers --------------------------------------------------------------------------------
def test_entropy_rising_at_every_step(rules):
    s = summary_of(world(entropy=(0.70, 0.76, 0.82, 0.90, 1.20)), rules)
    text = answers.answer_uncertainty(s, ["notmnist"])
    assert text.startswith("On NotMNIST, the entropy rises at every sparsity step: by +0.497 nats")
    assert "from 0 % to 95 % (8 seeds)." in text


def test_entropy_rising_overall_but_flat_at_first(rules):
    s = summary_of(world(entropy=(0.70, 0.70, 0.76, 0.85, 1.20)), rules)
    text = answers.answer_uncertainty(s, ["notmnist"])
    assert "rises from 0 % to 95 %, by +0.497 nats" in text
    assert text.endswith("but not at every step: no change at 0 % → 25 %.")


def test_flat_disagreement_is_contradicted_and_said(rules):
    s = summary_of(world(), rules)
    assert s.v2("C10", "notmnist")["verdict"] == R.CONTRADICTED
    text = answers.answer_disagreement(s, ["notmnist"])
    assert text.startswith("On NotMNIST, the members' disagreement does not rise with sparsity: from 0 % to 95 % it changes by")
    assert "no change at 0 % → 25 %, 25 % → 50 %, 50 % → 75 %, 75 % → 95 %" in text
    assert verdict_answers.contradictions(s, ids=("C10",)).startswith(
        "Where the seeds say no (a part shown to fail, Holm-adjusted over the claim's parts): C10 on NotMNIST "
        "(disagreement: 0 % → 25 %,"
    )
    listed = verdict_answers.contradictions(s, ids=("C10",), as_list=True)
    assert listed.splitlines()[2].startswith(
        "- C10 (Members' disagreement increases with pruning) on NotMNIST: fails at disagreement: 0 % → 25 %"
    )


def test_two_seeds_cannot_tell(rules):
    s = summary_of(world(n_seeds=2), rules)
    assert answers.answer_disagreement(s, ["notmnist"]) == (
        "On NotMNIST, whether the members' disagreement rises with sparsity cannot be told from 2 seeds."
    )


def test_mechanism_says_the_rise_is_member_entropy(rules):
    s = summary_of(world(), rules)
    text = answers.mechanism(s, "notmnist", Q8)
    assert "indistinguishable from the re-training control's at every sparsity" in text
    assert text.endswith("the rise in uncertainty is each member becoming less sure, not the members disagreeing more.")
    dis = summary_of(world(entropy=(0.7, 0.75, 0.8, 0.9, 1.2), disagreement=(0.2, 0.25, 0.3, 0.4, 0.7), member=(0.5,) * 5), rules)
    assert answers.mechanism(dis, "notmnist", Q8).endswith("the rise in uncertainty is the members disagreeing more.")
    assert "differs from the re-training control's at" in answers.mechanism(dis, "notmnist", Q8)


def test_cost_answer_yes_and_the_control_explains_the_gain(rules):
    s = summary_of(world(), rules)
    text = answers.answer_cost(s, Q8)
    assert text.startswith("Pruned to 25–75 % and quantized to 8 bits, the ensemble is 4.1–7.7× smaller")
    assert ": yes, each difference is shown equivalent to zero within ±0.10 pp." in text
    assert "At 95 % sparsity it is 18.9× smaller and costs −1.2" in text
    assert "what the extra training alone gives" in text


def test_cost_answer_when_the_seeds_cannot_tell(rules):
    s = summary_of(world(n_seeds=3, acc_diff=0.0009), rules)
    assert "whether that is no cost cannot be told yet" in answers.answer_cost(s, Q8) or (
        "at the others the seeds cannot yet tell" in answers.answer_cost(s, Q8)
    )


def test_usefulness_worse_better_none(rules):
    worse = summary_of(world(auroc=(0.97, 0.97, 0.97, 0.97, 0.95)), rules)
    assert answers.usefulness(worse, Q8).endswith("detection is worse at 95 % pruned, int8 weights and no better elsewhere.")
    better = summary_of(world(auroc=(0.97, 0.975, 0.98, 0.985, 0.99)), rules)
    assert "detects NotMNIST better at" in answers.usefulness(better, Q8)
    same = summary_of(world(), rules)
    assert answers.usefulness(same, Q8).endswith("no sparsity detects it measurably better or worse.")


def test_power_and_provenance(rules):
    s = summary_of(world(n_seeds=4, entropy=(0.70, 0.71, 0.73, 0.85, 1.2), seed=3), rules)
    text = verdict_answers.power(s)
    assert text.startswith("With the between-seed SD of 4 seeds, the open parts would be resolved at 80 % power")
    assert "C7 on NotMNIST" in text
    assert "are still to come, so v2's verdicts are not yet confirmatory" in verdict_answers.provenance(s)
    assert "rules v1 were fixed after seed 0's paper-profile results, before seeds 1-4" in verdict_answers.provenance(s)


def test_reopenable_names_the_seeds_kept_as_records_only(rules):
    s = summary_of(world(n_seeds=7), rules)
    s.data["reopenable"] = [0, 5, 6]
    assert verdict_answers.reopenable(s) == (
        "Seeds 1–4 are kept as records only (their models were not kept): they count in aggregates of "
        "evaluation version 4 and would be left out of one of a later version rather than trained again; "
        "the trained members of seeds 0, 5 and 6 are committed, so any later evaluation re-opens them "
        "without training."
    )
    s.data["reopenable"] = list(range(7))
    assert verdict_answers.reopenable(s).startswith("Every seed's trained members are committed (0–6)")


def test_v2_table_lists_holds_fails_and_seeds_needed(rules):
    s = summary_of(world(), rules)
    table = verdict_tables.v2_table(s)
    row = table.loc[("C10", "NotMNIST")]
    assert row["Verdict"] == "contradicted" and row["Holds"] == "\u2014"
    assert row["Fails"].startswith("disagreement: 0 % → 25 %")


# --- reading the records ----------------------------------------------------------------------------
def write_records(folder, runs, cfg):
    import dataclasses

    from helpers.stages import records

    (folder / "seeds").mkdir(parents=True)
    for r in runs:
        rec = {
            "seed": r["seed"],
            "config_hash": dataclasses.replace(cfg, seed=r["seed"]).hash,
            "results": r,
            "timings": {},
            "machine": {},
            "versions": {},
            "files": {},
        }
        records.write_record(folder, r["seed"], rec)  # as the sweep writes it: indexed


@pytest.fixture()
def cfg():
    from helpers.core.config import load_config

    return load_config("smoke")


def test_records_are_read_sorted_with_their_sha256(tmp_path, cfg):
    import hashlib

    write_records(tmp_path, world(n_seeds=3), cfg)
    records, lineage = A.read_records(tmp_path, cfg)
    assert [r["seed"] for r in records] == [0, 1, 2]
    assert lineage["seed_1.json"] == hashlib.sha256((tmp_path / "seeds" / "seed_1.json").read_bytes()).hexdigest()


def test_a_copied_record_is_refused(tmp_path, cfg):
    runs = world(n_seeds=2)
    copy_ = copy.deepcopy(runs[1])
    copy_["seed"] = 5
    write_records(tmp_path, [*runs, copy_], cfg)
    with pytest.raises(A.AggregateError, match=r"seed_5.json holds the same results as seed_1.json"):
        A.read_records(tmp_path, cfg)


def test_a_foreign_config_hash_is_refused(tmp_path, cfg):
    write_records(tmp_path, world(n_seeds=2), cfg)
    path = tmp_path / "seeds" / "seed_1.json"
    rec = json.loads(path.read_text())
    rec["config_hash"] = "0123456789abcdef"
    S.write_record(tmp_path, 1, rec)  # written by the code, with another config
    with pytest.raises(A.AggregateError, match=r"seed_1.json has config hash 0123456789abcdef, not"):
        A.read_records(tmp_path, cfg)


def test_results_of_another_seed_are_refused(tmp_path, cfg):
    runs = world(n_seeds=2)
    runs[1]["seed"] = 0
    runs[1]["variants"]["q8"]["mnist"]["ece"] = 0.5  # not a copy: other numbers
    write_records(tmp_path, runs[:1], cfg)
    rec = {"seed": 1, "config_hash": "x", "results": runs[1], "timings": {}, "machine": {}, "versions": {}, "files": {}}
    S.write_record(tmp_path, 1, rec)
    with pytest.raises(A.AggregateError, match="is named seed 1 but holds the results of seed 0"):
        A.read_records(tmp_path, cfg)


def test_records_of_an_older_evaluation_version_are_left_out_and_named(tmp_path, cfg):
    runs = world(n_seeds=3)
    runs[2]["evaluation_version"] = 3
    write_records(tmp_path, runs, cfg)
    records, lineage = A.read_records(tmp_path, cfg)
    assert [r["seed"] for r in records] == [0, 1]
    assert lineage["left_out"] == {"seed_2.json": "evaluation version 3, not 4"}
    assert "seed_2.json" not in lineage


def test_records_evaluated_on_other_images_are_refused(tmp_path, cfg):
    runs = world(n_seeds=2)
    runs[1]["datasets"]["mnist"]["n"] = 150
    write_records(tmp_path, runs, cfg)
    with pytest.raises(A.AggregateError, match=r"were evaluated on different images .*\"mnist\": 150"):
        A.read_records(tmp_path, cfg)


def test_is_current_follows_the_records(tmp_path, cfg):
    write_records(tmp_path, world(n_seeds=2), cfg)
    _, lineage = A.read_records(tmp_path, cfg)
    (tmp_path / A.SUMMARY).write_text(json.dumps({"summary_version": A.SUMMARY_VERSION, "lineage": lineage}))
    assert A.is_current(tmp_path)
    (tmp_path / "seeds" / "seed_1.json").write_text((tmp_path / "seeds" / "seed_1.json").read_text() + " ")
    assert not A.is_current(tmp_path)


def test_a_summary_judged_with_other_rules_is_stale(tmp_path, cfg):
    from helpers.core.config import DEFAULT_CONFIG_PATH

    write_records(tmp_path, world(n_seeds=2), cfg)
    _, lineage = A.read_records(tmp_path, cfg)
    summary = {"summary_version": A.SUMMARY_VERSION, "lineage": lineage, "rules_digest": R.rules_digest(DEFAULT_CONFIG_PATH)}
    (tmp_path / A.SUMMARY).write_text(json.dumps(summary))
    assert A.is_current(tmp_path, DEFAULT_CONFIG_PATH)
    edited = tmp_path / "_config.yml"
    edited.write_text(DEFAULT_CONFIG_PATH.read_text().replace("accuracy_margin_pp: 0.10", "accuracy_margin_pp: 0.20"))
    assert R.rules_digest(edited) != R.rules_digest(DEFAULT_CONFIG_PATH)
    assert not A.is_current(tmp_path, edited) and A.is_current(tmp_path)  # only the rules differ


def test_a_summary_judged_with_another_alpha_is_stale(tmp_path, cfg):
    from helpers.core.config import DEFAULT_CONFIG_PATH

    write_records(tmp_path, world(n_seeds=2), cfg)
    _, lineage = A.read_records(tmp_path, cfg)
    summary = {"summary_version": A.SUMMARY_VERSION, "lineage": lineage, "rules_digest": R.rules_digest(DEFAULT_CONFIG_PATH)}
    (tmp_path / A.SUMMARY).write_text(json.dumps(summary))
    text = DEFAULT_CONFIG_PATH.read_text()
    assert text.count("alpha: 0.05") == 1, "the test edits the verdict rules' one alpha"
    edited = tmp_path / "_config.yml"
    edited.write_text(text.replace("alpha: 0.05", "alpha: 0.10"))
    assert R.load_rules_v2(edited).alpha == 0.10 and R.load_rules_v2(DEFAULT_CONFIG_PATH).alpha == 0.05
    assert R.rules_digest(edited) != R.rules_digest(DEFAULT_CONFIG_PATH)
    assert not A.is_current(tmp_path, edited)
    assert A.is_current(tmp_path, DEFAULT_CONFIG_PATH)  # the same records: only alpha differs


# --- the records index (seeds/index.json) ---------------------------------------------------------
def test_a_record_written_by_the_code_round_trips_through_the_index(tmp_path, cfg):
    import hashlib

    runs = world(n_seeds=3)
    write_records(tmp_path, runs, cfg)
    index = json.loads((tmp_path / "seeds" / "index.json").read_text())
    assert sorted(index) == ["seed_0.json", "seed_1.json", "seed_2.json"]
    assert index["seed_2.json"] == hashlib.sha256((tmp_path / "seeds" / "seed_2.json").read_bytes()).hexdigest()
    records, lineage = A.read_records(tmp_path, cfg)
    assert [r["results"] for r in records] == runs
    assert {k: v for k, v in lineage.items() if k != "left_out"} == index


def test_an_edited_record_is_refused_naming_the_file(tmp_path, monkeypatch):
    """A copy of the committed paper records (with their index): unedited they are read;
    one accuracy edited is refused, naming the file, the index and both fixes."""
    import shutil

    from helpers.core import config
    from helpers.core.config import load_config

    root = tmp_path / "artifacts" / "paper"
    shutil.copytree(config.REPO_ROOT / "artifacts" / "paper" / "seeds", root / "seeds")
    paper = load_config("paper")
    records, _ = A.read_records(root, paper)  # the committed records match their index
    indexed = sorted(int(name[5:-5]) for name in json.loads((root / "seeds" / "index.json").read_text()))
    assert [r["seed"] for r in records] == indexed and len(indexed) >= 14  # every committed record
    path = root / "seeds" / "seed_5.json"
    record = json.loads(path.read_text())
    record["results"]["variants"]["baseline"]["mnist"]["accuracy"] += 0.001
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)  # the copy stands for the checkout
    with pytest.raises(A.AggregateError) as err:
        A.read_records(root, paper)
    assert str(err.value) == (
        "seeds/seed_5.json does not match its sha256 in seeds/index.json (edited after it "
        "was written?); restore it with `git checkout -- artifacts/paper/seeds/seed_5.json`, "
        "or re-evaluate it with `python -m helpers evaluate --profile paper --seeds 5`."
    )


def test_a_record_missing_from_the_index_is_refused(tmp_path, cfg):
    import dataclasses

    runs = world(n_seeds=3)
    write_records(tmp_path, runs[:2], cfg)
    rec = {"seed": 2, "config_hash": dataclasses.replace(cfg, seed=2).hash, "results": runs[2]}
    rec |= {"timings": {}, "machine": {}, "versions": {}, "files": {}}
    (tmp_path / "seeds" / "seed_2.json").write_text(json.dumps(rec))  # not by the code
    with pytest.raises(A.AggregateError) as err:
        A.read_records(tmp_path, cfg)
    assert str(err.value) == (
        "seeds/seed_2.json is not in seeds/index.json (copied in or written by hand?); "
        "delete it and re-run its seed with `python -m helpers sweep --profile smoke --seeds 2`."
    )
    (tmp_path / "seeds" / "index.json").unlink()
    with pytest.raises(A.AggregateError) as err:
        A.read_records(tmp_path, cfg)
    assert str(err.value) == (
        "seeds/seed_0.json cannot be verified: seeds/index.json does not exist beside it "
        "(records written before the index?); index the records as they are with "
        "`python -m helpers weights --profile smoke --seeds 0`."
    )
    S.write_index(tmp_path)  # what `weights` does for a store without an index
    assert [r["seed"] for r in A.read_records(tmp_path, cfg)[0]] == [0, 1, 2]


def test_calibration_and_ablation_findings_say_what_moves(rules):
    from helpers.book.summary import Summary

    iv = lambda m, lo, hi: {"n": 5, "mean": m, "sd": 0.0, "low": lo, "high": hi}  # noqa: E731
    data = {
        "n_seeds": 5,
        "seeds": list(range(5)),
        "stats": {"baseline": {"mnist": {"ece": iv(0.0031, 0.0029, 0.0033)}}},
        "diffs": {
            "vs_baseline": {
                "s25_q8": {"mnist": {"ece": iv(0.0002, -0.0004, 0.0008), "accuracy": iv(0.0, -0.001, 0.001)}},
                "s95_q8": {"mnist": {"ece": iv(0.0298, 0.0285, 0.0311), "accuracy": iv(-0.0123, -0.0129, -0.0116)}},
                "s95_float": {"mnist": {"accuracy": iv(-0.0122, -0.0129, -0.0115)}},
                "s95_int8full": {"mnist": {"accuracy": iv(-0.0140, -0.0145, -0.0135)}},
            }
        },
    }
    S = Summary(data)
    text = answers.calibration_finding(S, ["s25_q8", "s95_q8"])
    assert text == (
        "The baseline's ECE is 0.31 % (mean over 5 seeds). It changes at 95 % sparsity: "
        "+2.98 pp [+2.85, +3.11]. At 25 % sparsity the difference is not distinguishable from zero."
    )
    text = answers.ablation_finding(S, [0.25, 0.95])
    assert text.startswith(
        "At 95 % sparsity the accuracy differs from the baseline's by: pruning alone "
        "(float32) −1.22 pp [−1.29, −1.15]; with int8 weights −1.23 pp [−1.29, −1.16]; "
        "with full int8 −1.40 pp [−1.45, −1.35] (over 5 seeds)"
    )
    assert text.endswith("quantizing adds a cost of its own beyond the pruning's.")  # full int8 is clear of it
    data["diffs"]["vs_baseline"]["s95_int8full"]["mnist"]["accuracy"] = iv(-0.0125, -0.0131, -0.0119)
    assert answers.ablation_finding(S, [0.25, 0.95]).endswith(
        "the cost is the pruning's: quantizing adds none that the seeds can tell apart."
    )
    for d in data["diffs"]["vs_baseline"].values():  # one seed: no interval, no judgement
        d["mnist"]["accuracy"] = {**d["mnist"]["accuracy"], "low": None, "high": None, "n": 1}
    data["n_seeds"] = 1
    assert answers.ablation_finding(S, [0.25, 0.95]).endswith(
        "(1 seed: too few for an interval, so whether quantizing adds a cost is not judged)."
    )
    data["diffs"]["vs_baseline"]["s95_q8"]["mnist"]["ece"] = {"n": 1, "mean": 0.03, "low": None, "high": None}
    assert answers.calibration_finding(S, ["s95_q8"]).endswith(
        "One seed gives no interval of the differences, so no change is judged."
    )
