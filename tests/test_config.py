import dataclasses
import re

import pytest

from helpers.core.config import DEFAULT_CONFIG_PATH, load_config, profiles


def test_paper_profile_holds_the_papers_values():
    cfg = load_config("paper")
    assert (cfg.ensemble_size, cfg.epochs, cfg.retrain_epochs) == (5, 20, 5)
    assert (cfg.batch_size, cfg.learning_rate, cfg.validation_split) == (32, 0.001, 0.1)
    assert cfg.sparsities == (0.25, 0.5, 0.75, 0.95)
    assert cfg.quantization_bits == 8
    assert [layer["type"] for layer in cfg.model["layers"]] == ["conv2d", "maxpool2d", "conv2d", "maxpool2d", "flatten", "dense"]
    assert cfg.train_subset is None and cfg.test_subset is None and cfg.ood_subset is None


def test_profiles_smoke_is_small_and_quick_between():
    assert set(profiles()) >= {"paper", "quick", "smoke"}
    smoke, quick = load_config("smoke"), load_config("quick")
    assert smoke.ensemble_size == 2 and len(smoke.sparsities) == 2
    assert smoke.train_subset < quick.train_subset
    assert quick.ensemble_size == 5 and quick.sparsities == (0.25, 0.5, 0.75, 0.95)


def test_config_is_frozen():
    cfg = load_config("smoke")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3


def test_overrides_apply_and_none_means_profile_value():
    cfg = load_config("smoke", epochs=3, sparsities=[0.3], ensemble_size=None)
    assert cfg.epochs == 3 and cfg.sparsities == (0.3,) and cfg.ensemble_size == 2


def test_hash_is_stable_and_tracks_result_shaping_values_only():
    a, b = load_config("smoke"), load_config("smoke")
    assert a.hash == b.hash and re.fullmatch(r"[0-9a-f]{16}", a.hash)
    assert load_config("smoke", epochs=2).hash != a.hash
    assert load_config("smoke", bootstrap_samples=50).hash == a.hash
    # Same values reached from another profile name give the same hash.
    assert load_config("paper", **_smoke_overrides()).hash == a.hash


def _smoke_overrides():
    s = load_config("smoke").values()
    return {
        k: s[k]
        for k in (
            "ensemble_size",
            "epochs",
            "retrain_epochs",
            "sparsities",
            "pruning_frequency",
            "representative_samples",
            "train_subset",
            "test_subset",
            "ood_subset",
            "bootstrap_samples",
        )
    }


def test_member_seeds_differ():
    cfg = load_config("paper")
    assert len({cfg.member_seed(i) for i in range(cfg.ensemble_size)}) == cfg.ensemble_size


F = str(DEFAULT_CONFIG_PATH)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"sparsities": [0.5, 1.0]},
            f"Config value sparsities=[0.5, 1.0] is invalid: every sparsity must be a number in (0, 1), "
            f"and 1.0 is not (from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"sparsities": [0.0]},
            f"Config value sparsities=[0.0] is invalid: every sparsity must be a number in (0, 1), "
            f"and 0.0 is not (from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"sparsities": []},
            f"Config value sparsities=[] is invalid: it must be a non-empty list of numbers in (0, 1) "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"sparsities": [0.5, 0.5]},
            f"Config value sparsities=[0.5, 0.5] is invalid: sparsities must not repeat "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"ensemble_size": 0},
            f"Config value ensemble_size=0 is invalid: it must be an integer >= 1 "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"epochs": 0},
            f"Config value epochs=0 is invalid: it must be an integer >= 1 "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"batch_size": -4},
            f"Config value batch_size=-4 is invalid: it must be an integer >= 1 "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"validation_split": 1.0},
            f"Config value validation_split=1.0 is invalid: it must be a number in [0, 1) "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"validation_split": -0.1},
            f"Config value validation_split=-0.1 is invalid: it must be a number in [0, 1) "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"epochs": 2.5},
            f"Config value epochs=2.5 is invalid: it must be an integer >= 1 "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
        (
            {"train_subset": 0},
            f"Config value train_subset=0 is invalid: it must be an integer >= 1 or null "
            f"(from {F}; fix it there, in the profile or in the override).",
        ),
    ],
)
def test_invalid_values_raise_one_exact_sentence(overrides, message):
    with pytest.raises(ValueError) as err:
        load_config("smoke", **overrides)
    assert str(err.value) == message


def test_unknown_key_names_key_value_allowed_and_file():
    with pytest.raises(ValueError) as err:
        load_config("smoke", epoch=3)
    msg = str(err.value)
    assert msg.startswith("Unknown config key 'epoch' in overrides (value 3); allowed keys are ")
    assert "epochs" in msg and msg.endswith(f"(defined in {F}).")


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        load_config("fast")
    assert str(err.value) == (f"Profile 'fast' is not defined in {F}; choose one of {', '.join(profiles())}.")


def test_bad_key_inside_a_profile_is_reported_with_the_profile(tmp_path):
    text = re.sub(r"(?m)^  quick:.*$", "  quick:\n    epoch: 3", DEFAULT_CONFIG_PATH.read_text())
    path = tmp_path / "_config.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"Unknown config key 'epoch' in profile 'quick' \(value 3\)"):
        load_config("quick", config_path=path)


def test_missing_config_file_is_one_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"does not exist; run from the repository"):
        load_config("paper", config_path=tmp_path / "nope.yml")


# ------------------------------------------------------------------------------ stage keys
def test_each_stage_is_keyed_only_by_the_values_that_shape_it():
    base = load_config("smoke")
    h = {s: base.stage_hash(s) for s in ("training", "pruning", "evaluation")}
    assert base.hash == h["pruning"] and len(set(h.values())) == 3
    changes = {  # value -> the stages whose key it changes
        "epochs": 2,
        "seed": 1,
        "train_subset": 1000,
        "learning_rate": 0.01,
    }
    for key, value in changes.items():
        other = load_config("smoke", **{key: value})
        assert all(other.stage_hash(s) != h[s] for s in h), key
    for key, value in {"retrain_epochs": 2, "sparsities": [0.5], "pruning_frequency": 5, "representative_samples": 16}.items():
        other = load_config("smoke", **{key: value})
        assert other.stage_hash("training") == h["training"], key
        assert other.stage_hash("pruning") != h["pruning"] and other.hash != base.hash, key
    for key, value in {"test_subset": 100, "ood_subset": 100, "bootstrap_samples": 50}.items():
        other = load_config("smoke", **{key: value})
        assert other.hash == base.hash, key  # same store, same models
        assert other.stage_hash("evaluation") != h["evaluation"], key


def test_stage_hash_of_a_manifests_values_matches_the_config():
    import json

    from helpers.core.config import stage_hash_of

    cfg = load_config("quick")
    values = json.loads(json.dumps(cfg.values()))  # as read back from a manifest
    for stage in ("training", "pruning", "evaluation", "frontier"):
        assert stage_hash_of(values, stage) == cfg.stage_hash(stage)
    with pytest.raises(
        ValueError,
        match=r"Stage 'eval' is unknown; use one of training, "
        r"pruning, evaluation, frontier\.",
    ):
        cfg.stage_hash("eval")


def test_the_evaluation_version_is_part_of_the_evaluation_key(monkeypatch):
    from helpers.core import config

    cfg = load_config("smoke")
    before = cfg.stage_hash("evaluation")
    monkeypatch.setattr(config, "EVALUATION_VERSION", config.EVALUATION_VERSION + 1)
    assert cfg.stage_hash("evaluation") != before
    assert cfg.hash == load_config("smoke").hash  # the models stay valid


def test_an_empty_profile_means_the_defaults(tmp_path):
    path = tmp_path / "_config.yml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text().replace("  paper: {}", "  paper:"))
    assert load_config("paper", config_path=path).values() | {"config_path": F} == load_config("paper").values()


def test_exponent_numbers_written_as_text_are_numbers():
    cfg = load_config("smoke", learning_rate="1e-3", sparsities=["5e-1", 0.95])
    assert cfg.learning_rate == 0.001 and cfg.sparsities == (0.5, 0.95)
    with pytest.raises(ValueError, match=r"learning_rate='fast' is invalid: it must be a number in \(0, 1\)"):
        load_config("smoke", learning_rate="fast")


def test_null_sets_a_nullable_key_and_none_keeps_the_profile_value():
    from helpers.core.config import NULL

    assert load_config("smoke", test_subset=None).test_subset == 300
    assert load_config("smoke", test_subset=NULL).test_subset is None
    with pytest.raises(ValueError, match=r"epochs=None is invalid: it must be an integer >= 1"):
        load_config("smoke", epochs=NULL)


def test_the_command_line_honours_null_or_refuses_it(capsys):
    from helpers.build.cli import _config, main

    args = type("A", (), {"profile": "smoke", "parameter": [["test_subset", "null"]]})()
    assert _config(args).test_subset is None
    assert main(["build", "--profile", "smoke", "-p", "ood_subset", "null"]) != 0
    err = capsys.readouterr().err
    assert "-p ood_subset null cannot reach the chapters" in err and "\n" == err[-1] and err.count("\n") == 1


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    path = tmp_path / "_config.yml"
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    path.write_text(DEFAULT_CONFIG_PATH.read_text() + bomb)
    with pytest.raises(ValueError, match=r"is not valid: an alias \(\*a\) on line \d+; write the value out"):
        load_config("smoke", config_path=path)


@pytest.mark.parametrize(
    "section, message",
    [
        (
            "  in_distribution: mnist\n  out_of_distribution: kmnist\n",
            r"data.out_of_distribution is 'kmnist'; use a registered out-of-distribution set: notmnist, fashion_mnist\.",
        ),
        (
            "  in_distribution: fashion_mnist\n  out_of_distribution: notmnist\n",
            r"data.in_distribution is 'fashion_mnist'; the models are trained on MNIST, so it must be mnist\.",
        ),
        (
            "  in_distribution: mnist\n  out_of_distribution: fashion_mnist\n",
            r"data.out_of_distribution is 'fashion_mnist', but the paper's claims are judged on notmnist .* keep notmnist",
        ),
        ("  in_distribution: mnist\n  out_of_distribution: notmnist\n  extra: 1\n", r"data: has unknown keys extra"),
    ],
)
def test_the_data_section_is_checked_against_the_dataset_registry(tmp_path, section, message):
    """_config.yml's data: names registered datasets in their roles (helpers.core.datasets)."""
    text = DEFAULT_CONFIG_PATH.read_text()
    start = text.index("data:\n") + len("data:\n")
    end = text.index("\n\n", start) + 1
    path = tmp_path / "_config.yml"
    path.write_text(text[:start] + section + text[end:])
    with pytest.raises(ValueError, match=f"{path}: " + message):
        load_config("smoke", config_path=path)


def test_frontier_sparsities_keep_the_sources_that_are_pruned_in_their_order():
    cfg = load_config("paper")
    assert cfg.frontier_sparsities == (0.5, 0.75)
    assert load_config("paper", sparsities=[0.75, 0.95]).frontier_sparsities == (0.75,)
    assert load_config("paper", sparsities=[0.25]).frontier_sparsities == ()
