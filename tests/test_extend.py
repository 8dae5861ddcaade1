"""An extension costs what it adds (helpers.store.reuse): on the smoke profile, adding a sparsity
opens a new store that copies every member another store already made from the same values
and re-trains only the new sparsity's; counted, not timed."""

from __future__ import annotations

import json

import pytest

from conftest import needs_real_data
from helpers.core.config import load_config
from helpers.core.fileio import sha256_file
from helpers.engine import compression, ensemble
from helpers.stages.experiment import Experiment
from helpers.store import reuse


def test_member_keys_separate_what_shapes_a_member_from_what_does_not():
    base = load_config("smoke").values()
    more = load_config("smoke", sparsities=[0.5, 0.75, 0.95]).values()
    other_seed = load_config("smoke", seed=1).values()
    longer = load_config("smoke", retrain_epochs=2).values()
    assert reuse.member_key(base, "baseline") == reuse.member_key(more, "baseline") == reuse.member_key(longer, "baseline")
    assert reuse.member_key(base, "s50_float") == reuse.member_key(more, "s50_float")
    assert reuse.member_key(base, "baseline") != reuse.member_key(other_seed, "baseline")
    assert reuse.member_key(base, "ft") != reuse.member_key(longer, "ft")  # re-training values shape it


@needs_real_data
@pytest.mark.slow
def test_adding_a_sparsity_trains_only_its_members(artifacts_dir, monkeypatch, capsys):
    first = Experiment(load_config("smoke"))
    first.retrained()  # the baseline, the control and 50 %, 95 %
    trained, pruned = [], []
    real_train, real_prune = ensemble.train_ensemble, compression.prune_all
    monkeypatch.setattr(ensemble, "train_ensemble", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    monkeypatch.setattr(compression, "prune_all",
                        lambda cfg, members, x, y, targets, **k: pruned.append(list(targets))
                        or real_prune(cfg, members, x, y, targets, **k))
    cfg = load_config("smoke", sparsities=[0.5, 0.75, 0.95])
    second = Experiment(cfg)
    assert second.store.root != first.store.root  # another pruning hash: its own store
    second.retrained()
    assert trained == [] and pruned == [[0.75]]  # the baseline and 50 %, 95 % were copied
    for variant in ("baseline", "ft", "s50_float", "s95_float"):
        ours = [sha256_file(p) for p in second._paths(variant, ".keras")]
        assert ours == [sha256_file(p) for p in first._paths(variant, ".keras")]
    manifest = second.store.manifest()
    assert manifest["copied"]["baseline"]["from"] == first.store.root.name
    assert "s75_float" not in manifest["copied"]
    histories = json.loads(second.store.path("histories.json").read_text())
    assert {"train", "retrain_s50_float", "retrain_s75_float"} <= set(histories)
    assert "copied from the store smoke (the same values shape them): not trained again." in capsys.readouterr().out
