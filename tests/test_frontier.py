"""The frontier end to end on the smoke profile: a recorded seed gets its clustered, PQAT, 2:4
and distilled variants and its raw and calibrated numbers; a fresh clone re-computes the same
numbers from the committed packs without training; the aggregate summarizes them."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers.core.variants import frontier_variants


@pytest.fixture(scope="module")
def frontier_seed(tmp_path_factory):
    """A smoke sweep of seed 0 with its frontier: (artifacts root, profile root, record)."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("frontier")
    mp.setenv("CDE_ARTIFACTS_DIR", str(root / "artifacts"))
    mp.setenv("CDE_CACHE_DIR", str(root / "cache"))
    from helpers.stages import records as R
    from helpers.stages import sweep as S
    from helpers.stages.frontier_sweep import run_frontier

    S.run_sweep("smoke", [0])
    done = run_frontier("smoke", [0], echo=lambda *_: None)
    profile_root = root / "artifacts" / "smoke"
    yield root, profile_root, R.read_seed_record(profile_root / "seeds" / "seed_0.json"), done
    mp.undo()


def test_the_record_holds_every_new_variant_raw_and_calibrated(frontier_seed):
    from helpers.core.config import load_config
    from helpers.core.fileio import sha256_file

    _, profile_root, record, done = frontier_seed
    cfg = load_config("smoke")
    assert done[0].startswith("frontier numbers written (clustering ")
    f = record["frontier"]
    assert f["frontier_hash"] == cfg.stage_hash("frontier") and f["seed"] == 0
    ((rel, sha),) = record["frontier_pack"].items()
    assert rel == "frontier/seed_0.frontier.zip" and sha256_file(profile_root / rel) == sha
    new = [v["name"] for v in frontier_variants(cfg)]
    assert new == ["c16_s50_q8", "pqat_s50", "nm24_q8", "student_q8", "student_small_q8"]
    for name in [*new, "baseline", "q8", "s95_q8", "single_q8"]:
        v = f["variants"][name]
        for t in ("raw", "calibrated", "calibrated_members"):
            assert set(v[t]) == {"mnist", "notmnist", "fashion_mnist"}
            assert 0 <= v[t]["mnist"]["ece"] <= 1 and 0 <= v[t]["notmnist"]["auroc"] <= 1
        assert v["temperature"] > 0 and len(v["member_temperatures"]) == v["members"]
        # temperature scaling keeps every argmax: the accuracy is the raw one
        assert v["calibrated"]["mnist"]["accuracy"] == v["raw"]["mnist"]["accuracy"]
    # the existing variants' raw numbers are the record's own (checked in the stage, to 1e-6)
    stored = record["results"]["variants"]["s50_q8"]["mnist"]["nll"]
    assert f["variants"]["s50_q8"]["raw"]["mnist"]["nll"] == pytest.approx(stored, abs=1e-6)
    # a fitted temperature is a minimum of the validation NLL, so calibrated NLL on the test set
    # is rarely far above the raw one; on 300 smoke images allow 0.05 nats
    assert f["variants"]["q8"]["calibrated"]["mnist"]["nll"] <= f["variants"]["q8"]["raw"]["mnist"]["nll"] + 0.05
    assert f["variants"]["student_q8"]["members"] == 1 and f["variants"]["nm24_q8"]["members"] == cfg.ensemble_size


def test_the_new_variants_pass_their_checks(frontier_seed):
    from helpers.core.config import load_config

    cfg = load_config("smoke")
    checks = frontier_seed[2]["frontier"]["checks"]
    clustered = checks["c16_s50_q8"]
    assert all(max(m.values()) <= cfg.cluster_count for m in clustered["clusters"]) and all(clustered["zeros_kept"])
    assert all(s >= 0.49 for m in clustered["sparsity"] for s in m.values())  # 50 % kept after clustering
    fractions = checks["nm24_q8"]["m_by_n_fraction"]
    assert all(v == 1.0 for m in fractions for layer, v in m.items() if layer != "conv1")
    assert checks["student_q8"]["parameters"] > checks["student_small_q8"]["parameters"]


def test_the_int8_softmax_audit_finds_exact_zeros_the_float_softmax_lacks(frontier_seed):
    audit = frontier_seed[2]["frontier"]["audit"]
    assert set(audit) == {"int8full", "ft_int8full", "s50_int8full", "s95_int8full", "pqat_s50"}
    # the smoke members are barely trained: the re-trained control is the one confident enough
    # to put a probability under the int8 output's half step (1/512) on NotMNIST
    a = audit["ft_int8full"]
    assert a["zero_fraction"]["notmnist"] > 0 and a["float_zero_fraction"]["notmnist"] < a["zero_fraction"]["notmnist"]
    for name, b in audit.items():  # a float softmax over the same logits never rounds to zero more often
        assert all(b["float_zero_fraction"][ds] <= b["zero_fraction"][ds] for ds in b["zero_fraction"]), name
        assert set(b["int8"]) == set(b["float_softmax"]) == {"mnist", "notmnist", "fashion_mnist"}


def test_a_fresh_clone_recomputes_the_same_numbers_from_the_packs_without_training(frontier_seed, monkeypatch):
    from helpers.engine import collab, compression, ensemble
    from helpers.stages import records as R
    from helpers.stages.frontier_sweep import run_frontier

    root, profile_root, record, _ = frontier_seed
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(root / "artifacts"))
    monkeypatch.setenv("CDE_CACHE_DIR", str(root / "cache"))
    copy = root / "saved"
    shutil.copytree(profile_root, copy)
    try:
        for path in profile_root.iterdir():  # what a clone has: records and packs
            if path.name not in ("seeds", "weights", "per_image", "frontier"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()

        def no_training(*args, **kwargs):
            raise AssertionError("the frontier trained a model")

        for module, name in ((ensemble, "train_ensemble"), (compression, "prune_all")):
            monkeypatch.setattr(module, name, no_training)
        for name in ("cluster_all", "pqat_all", "prune_m_by_n", "distill_students"):
            monkeypatch.setattr(collab, name, no_training)
        assert run_frontier("smoke", [0], echo=lambda *_: None) == {0: "current"}
        out = run_frontier("smoke", [0], force=True, echo=lambda *_: None)
        assert out[0].startswith("frontier numbers written")
        again = R.read_seed_record(profile_root / "seeds" / "seed_0.json")["frontier"]
        strip = lambda f: {k: v for k, v in f.items() if k != "timings"}  # noqa: E731
        assert json.dumps(strip(again), sort_keys=True) == json.dumps(strip(record["frontier"]), sort_keys=True)
    finally:
        shutil.rmtree(profile_root)
        shutil.copytree(copy, profile_root)


def test_a_killed_run_keeps_its_finished_stages_and_an_older_one_gets_its_lost_checks_back(frontier_seed, monkeypatch):
    """A finished stage leaves its checks and time in the store: a run killed after it makes
    nothing again. A pack and record of an older version that lost the checks of the stages
    a killed run had finished get them back from the stages' checkpoints (no epoch trained, the
    same files bit for bit, so the numbers are kept), and the partial times leave the cost."""
    import tf_keras

    from helpers.core.config import load_config
    from helpers.core.fileio import sha256_file
    from helpers.engine.weights import open_pack, pack_bytes
    from helpers.stages import records as R
    from helpers.stages.experiment import Experiment
    from helpers.stages.frontier import FrontierError, FrontierModels
    from helpers.stages.frontier_numbers import timings_by_cpu
    from helpers.stages.frontier_sweep import run_frontier

    root, profile_root, record, _ = frontier_seed
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(root / "artifacts"))
    monkeypatch.setenv("CDE_CACHE_DIR", str(root / "cache"))
    f = record["frontier"]
    assert f["resumed"] == []  # one uninterrupted run: every time is whole
    copy = root / "saved_killed"
    shutil.copytree(profile_root, copy)
    try:
        fresh = FrontierModels(Experiment(load_config("smoke")))  # a run after a kill: nothing in memory
        assert fresh.build() == [] and fresh.checks == f["checks"] and fresh.resumed == []
        assert fresh.timings == {k: v for k, v in f["timings"].items() if k != "frontier_evaluation"}

        # the older version: stages kept no checks of their own, the pack only the last stage's
        for meta_file in (fresh.exp.store.path("frontier_models", fresh.hash)).glob("stage_*.json"):
            meta_file.unlink()
        pack = profile_root / "frontier" / "seed_0.frontier.zip"
        meta, arrays = open_pack(pack, None, FrontierError, "a frontier pack", "")
        students = {n: c for n, c in f["checks"].items() if n.startswith("student")}
        meta = {k: v for k, v in meta.items() if k != "resumed"} | {"checks": students, "timings": {"distillation": 1.0}}
        arrays = {k: v for k, v in arrays.items() if k != "meta.json"}
        pack.write_bytes(pack_bytes(meta, arrays))
        old = {k: v for k, v in f.items() if k != "resumed"}
        old |= {"checks": students, "timings": {"distillation": 1.0, "frontier_evaluation": 2.0}}
        packed = {"frontier/seed_0.frontier.zip": sha256_file(pack)}
        R.write_record(profile_root, 0, {**record, "frontier": old, "frontier_pack": packed})

        def no_training(*args, **kwargs):
            raise AssertionError("a stage trained an epoch though its checkpoint was complete")

        monkeypatch.setattr(tf_keras.Model, "fit", no_training)
        done = run_frontier("smoke", [0], echo=lambda *_: None)
        assert done == {0: "checks completed, every file unchanged: numbers kept"}
        again = R.read_seed_record(profile_root / "seeds" / "seed_0.json")["frontier"]
        assert again["checks"] == f["checks"] and again["variants"] == f["variants"] and again["audit"] == f["audit"]
        # the pack's time and the re-made stages' times are parts of a stage's work
        assert again["resumed"] == ["clustering", "distillation", "m_by_n"]
        assert again["timings"]["distillation"] == 1.0 and again["timings"]["frontier_evaluation"] == 2.0
        ((cpu, stages),) = timings_by_cpu([again], 0.05).items()
        assert set(stages) == {"frontier_evaluation"} and stages["frontier_evaluation"]["mean"] == 2.0
        assert run_frontier("smoke", [0], echo=lambda *_: None) == {0: "current"}
    finally:
        shutil.rmtree(profile_root)
        shutil.copytree(copy, profile_root)


def test_a_pack_of_another_seed_is_refused_in_one_sentence(frontier_seed):
    from helpers.core.config import load_config
    from helpers.stages.frontier import FrontierError, FrontierModels

    _, profile_root, _, _ = frontier_seed
    seed_3 = type("Seed3", (), {"config": load_config("smoke", seed=3)})()  # the check comes before any store access
    with pytest.raises(
        FrontierError, match=r"holds seed 0 of frontier values [0-9a-f]{16}, not seed 3 of [0-9a-f]{16}; delete it"
    ):
        FrontierModels(seed_3).restore(profile_root / "frontier" / "seed_0.frontier.zip")


def test_the_aggregate_summarizes_the_frontier(frontier_seed, monkeypatch):
    from helpers.core.config import load_config
    from helpers.stages.aggregate import aggregate

    root, profile_root, _, _ = frontier_seed
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(root / "artifacts"))
    path = aggregate(load_config("smoke"), echo=lambda *_: None)
    block = json.loads(path.read_text())["frontier"]
    assert block["seeds"] == [0] and block["n_seeds"] == 1
    assert set(block["budgets"]["raw"]["mnist.nll"]) == {"10", "30", "100"}
    assert block["verdicts"] is None  # one seed: rules v2 need three
    assert "student_q8" in block["stats"] and block["stats"]["student_q8"]["kind"] == "student"
