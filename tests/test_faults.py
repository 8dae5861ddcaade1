"""Issue 14, case by case: a new user's mistakes and deliberate breakage never give a wrong
result silently, never lose work, and always end in one sentence that names the fix.

Each test is one numbered case of the issue. Cases that need trained models share one
smoke store built once for this module (real MNIST/NotMNIST subsets) and each damages
its own copy of it; the others use synthetic stores and files in tmp paths.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, needs_real_data, real_data_dir
from helpers.build import outdir, pipeline
from helpers.build.chapters import PipelineError
from helpers.build.cli import main
from helpers.core import fileio
from helpers.core.config import load_config
from helpers.data import files, notmnist
from helpers.data import loaders as data
from helpers.engine import compression, ensemble
from helpers.stages import evaluation
from helpers.stages.experiment import Experiment
from helpers.store import artifacts as S
from helpers.store import keras_archive
from helpers.store.artifacts import Store, StoreError

SMOKE = load_config("smoke")


def one_sentence(text: str) -> str:
    """The text, after checking it is one line that ends a sentence."""
    text = text.strip()
    assert "\n" not in text and "Traceback" not in text, text
    assert text.endswith("."), text
    return text


def _boom(*args, **kwargs):
    raise AssertionError("a stage was recomputed although it must not be")


@pytest.fixture
def no_training(monkeypatch):
    """Training, pruning and conversion fail the test if they start."""
    monkeypatch.setattr(ensemble, "train_ensemble", _boom)
    monkeypatch.setattr(compression, "prune_ensemble", _boom)
    monkeypatch.setattr(compression, "to_tflite", _boom)


# ------------------------------------------------------------------- one trained store
@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    """The smoke profile trained, compressed and evaluated once: its store folder."""
    if real_data_dir() is None:
        pytest.skip("real data not available: CDE_DATA_DIR is not set")
    tmp = tmp_path_factory.mktemp("faults")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDE_ARTIFACTS_DIR", str(tmp / "artifacts"))
        mp.setenv("CDE_CACHE_DIR", str(tmp / "cache"))
        mp.setenv("CDE_DATA_DIR", str(real_data_dir()))
        exp = Experiment(SMOKE)
        exp.build_all()
        evaluation.evaluate(exp)
        yield exp.store.root


@pytest.fixture
def store_copy(smoke_store, tmp_path, monkeypatch):
    """A copy of the smoke store at <tmp>/artifacts/smoke, which Store(SMOKE) now opens."""
    root = tmp_path / "artifacts" / "smoke"
    shutil.copytree(smoke_store, root)
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("CDE_CACHE_DIR", str(smoke_store.parent.parent / "cache"))
    monkeypatch.setenv("CDE_DATA_DIR", str(real_data_dir()))
    return root


def _json(path: Path):
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- case 1
@needs_real_data
@pytest.mark.slow
def test_01_a_corrupt_tflite_file_is_refused_not_used(store_copy, no_training):
    path = store_copy / "models" / "s50_q8" / "member_0.tflite"
    raw = bytearray(path.read_bytes())
    for i in range(12000, 20000, 97):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    for cache in (store_copy / "cache" / "predictions").glob("s50_q8_*"):
        cache.unlink()
    (store_copy / "results.json").unlink()

    exp = Experiment(SMOKE)
    expected = f"{path} is corrupt or was not written by this pipeline (sha256 "
    with pytest.raises(StoreError) as err:
        evaluation.evaluate(exp)
    assert one_sentence(str(err.value)).startswith(expected)
    with pytest.raises(StoreError, match=re.escape(expected)):
        exp.member_probabilities("s50_q8", "mnist_test")
    with pytest.raises(StoreError, match=re.escape(expected)):
        exp.tflite_paths("s50_q8")
    assert not (store_copy / "results.json").exists()  # nothing computed from it


@needs_real_data
@pytest.mark.slow
def test_01_another_variants_model_file_is_refused_by_evaluate(store_copy, no_training, capsys):
    """A valid .tflite of another variant copied over a member: `evaluate` exits 1 with one
    sentence naming the file, and computes nothing from it."""
    path = store_copy / "models" / "s50_q8" / "member_0.tflite"
    shutil.copy(store_copy / "models" / "q8" / "member_0.tflite", path)
    results = (store_copy / "results.json").read_bytes()
    assert main(["evaluate", "--profile", "smoke"]) == 1
    captured = capsys.readouterr()
    err = one_sentence(captured.err)
    assert err.startswith(f"error: {path} is corrupt or was not written by this pipeline (sha256 "), err
    assert "results in" not in captured.out
    assert (store_copy / "results.json").read_bytes() == results  # nothing rewritten from it


# ----------------------------------------------------------------------------- case 2
def _tiny_notebooks(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "01_demo.py").write_text('# %% tags=["parameters"]\nprofile = "paper"\n\n# %%\nx = 1\n')
    return folder


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_02_out_dir_never_overwrites_a_folder_it_did_not_make(tmp_path, capsys):
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "_config.yml").write_text("defaults: {epochs: 20}  # the EXPERIMENT config\n")
    (clone / "README.md").write_text("a checkout\n")
    before = _snapshot(clone)
    rc = main(
        [
            "build",
            "--profile",
            "smoke",
            "--out-dir",
            str(clone),
            "--no-build",
            "--notebooks",
            str(_tiny_notebooks(tmp_path / "nbs")),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert one_sentence(err) == (
        f"error: --out-dir {clone} is not empty and was not made by a previous --out-dir build "
        f"(it has no {outdir.OUT_DIR_MARKER} file), so nothing was written to it; choose a new "
        "or empty folder."
    )
    assert _snapshot(clone) == before  # not one byte changed, nothing added

    inside = pipeline.BOOK_DIR / "copy"
    with pytest.raises(PipelineError, match=f"--out-dir {inside} is inside the book source "):
        outdir.prepare_out_dir(inside, pipeline.BOOK_DIR)
    assert not inside.exists()

    fresh = tmp_path / "new" / "book"
    outdir.prepare_out_dir(fresh, pipeline.BOOK_DIR)  # new folder: made, with its marker
    assert [p.name for p in fresh.iterdir()] == [outdir.OUT_DIR_MARKER]
    (fresh / "chapters").mkdir()
    outdir.prepare_out_dir(fresh, pipeline.BOOK_DIR)  # its own previous build: accepted


# ----------------------------------------------------------------------------- case 3
@needs_real_data
@pytest.mark.slow
def test_03_a_hand_edited_results_json_is_detected(store_copy, no_training, capsys):
    path = store_copy / "results.json"
    original = _json(path)
    edited = json.loads(json.dumps(original))
    edited["variants"]["s50_q8"]["mnist"]["accuracy"] = 0.9733
    path.write_text(json.dumps(edited))

    with pytest.raises(StoreError) as err:
        evaluation.evaluate(Experiment(SMOKE, compute=False))
    assert one_sentence(str(err.value)).startswith(f"{path} was changed after it was written (sha256 ")
    assert str(err.value).endswith("; rebuild it with `python -m helpers evaluate --profile smoke`.")

    again = evaluation.evaluate(Experiment(SMOKE))  # from the cached predictions
    assert f"{path} was changed after it was written" in capsys.readouterr().out
    assert again == original
    assert _json(path) == original


@needs_real_data
@pytest.mark.slow
def test_03_invalid_json_and_edited_derived_files_name_the_file_and_fix(store_copy, capsys):
    path = store_copy / "results.json"
    path.write_text('{"variants": ')
    with pytest.raises(StoreError) as err:
        evaluation.evaluate(Experiment(SMOKE, compute=False))
    assert one_sentence(str(err.value)).startswith(f"{path} was changed after it was written")

    execution = store_copy / "execution.json"  # no lineage, still one sentence
    execution.write_text("{")
    with pytest.raises(StoreError) as err:
        Store(SMOKE).read_json("execution.json")
    assert one_sentence(str(err.value)).startswith(f"{execution} is not valid JSON (")
    assert str(err.value).endswith("delete it (the next run writes it again).")

    sizes = store_copy / "sizes.json"
    entry = _json(sizes)
    entry["s50_q8"]["zipped_bytes"] = 1
    sizes.write_text(json.dumps(entry))
    with pytest.raises(StoreError, match=re.escape(f"{sizes} was changed after it was written")):
        Experiment(SMOKE, compute=False).sizes()

    histories = store_copy / "histories.json"
    hist = _json(histories)
    hist["train"][0][0]["accuracy"] = [1.0]
    histories.write_text(json.dumps(hist))
    with pytest.raises(StoreError) as err:
        Store(SMOKE).read_json("histories.json")  # what chapter 2 reads
    assert one_sentence(str(err.value)).endswith(
        "; restore it (git checkout) or rebuild the store with `python -m helpers train --profile smoke --fresh`."
    )


@needs_real_data
@pytest.mark.slow
def test_03_a_truncated_prediction_cache_is_recomputed_with_a_line(store_copy, no_training, capsys):
    exp = Experiment(SMOKE)
    probs = exp.member_probabilities("s95_q8", "notmnist")
    (cache,) = (store_copy / "cache" / "predictions").glob("s95_q8_notmnist_*.npy")
    with open(cache, "r+b") as f:
        f.truncate(cache.stat().st_size // 2)
    again = exp.member_probabilities("s95_q8", "notmnist")
    assert capsys.readouterr().out.strip() == (
        f"The prediction cache {cache} is truncated or changed (its sha256 differs from the "
        "one written beside it): recomputing it."
    )
    np.testing.assert_array_equal(again, probs)
    np.testing.assert_array_equal(exp.member_probabilities("s95_q8", "notmnist"), probs)
    assert capsys.readouterr().out == ""  # repaired: read silently


# ----------------------------------------------------------------------------- case 4
@needs_real_data
@pytest.mark.slow
def test_04_a_lost_manifest_is_refused_then_adopted(store_copy, no_training, capsys):
    manifest = _json(store_copy / "manifest.json")
    results = _json(store_copy / "results.json")
    (store_copy / "manifest.json").unlink()
    message = (
        f"{store_copy} holds model files but no manifest.json, so nothing says which "
        "config made them or whether they are intact; rebuild the store with "
        "`python -m helpers train --profile smoke --fresh`, or adopt the files as they "
        "are with `python -m helpers adopt --profile smoke`."
    )
    for compute in (True, False):
        with pytest.raises(StoreError) as err:
            Experiment(SMOKE, compute=compute)
        assert one_sentence(str(err.value)) == message
    assert not (store_copy / "manifest.json").exists()

    assert main(["adopt", "--profile", "smoke"]) == 0
    adopted = _json(store_copy / "manifest.json")
    assert adopted["files"] == manifest["files"]
    assert adopted["config_hash"] == SMOKE.hash
    assert set(adopted["derived"]) == {"histories.json"}  # sizes and results: recomputed

    with pytest.raises(StoreError, match=re.escape(f"{store_copy / 'results.json'} has no recorded checksum and inputs")):
        evaluation.evaluate(Experiment(SMOKE, compute=False))
    assert evaluation.evaluate(Experiment(SMOKE)) == results  # models reused, not retrained
    assert "has no recorded checksum and inputs" in capsys.readouterr().out


@needs_real_data
@pytest.mark.slow
def test_04_adopt_refuses_a_file_it_cannot_load(store_copy, capsys):
    (store_copy / "manifest.json").unlink()
    bad = store_copy / "models" / "q8" / "member_1.tflite"
    bad.write_bytes(b"not a flatbuffer" * 100)
    assert main(["adopt", "--profile", "smoke"]) == 1
    err = capsys.readouterr().err
    assert one_sentence(err).startswith(f"error: {bad} cannot be loaded (")
    assert err.strip().endswith(
        "so the store was not adopted; delete that file (train rebuilds "
        "it) or rebuild the store with `python -m helpers train "
        "--profile smoke --fresh`."
    )
    assert not (store_copy / "manifest.json").exists()


@needs_real_data
@pytest.mark.slow
def test_04_adopt_refuses_swapped_variant_folders(store_copy, capsys):
    (store_copy / "manifest.json").unlink()
    a, b = store_copy / "models" / "s50_float", store_copy / "models" / "s95_float"
    a.rename(store_copy / "models" / "tmp")
    b.rename(a)
    (store_copy / "models" / "tmp").rename(b)
    assert main(["adopt", "--profile", "smoke"]) == 1
    err = one_sentence(capsys.readouterr().err)
    assert "zeros in its kernels, but s50_float is 50 % sparse: it is another variant's file" in err
    assert err.endswith("Nothing was adopted.")
    assert not (store_copy / "manifest.json").exists()


@needs_real_data
@pytest.mark.slow
def test_04_derived_files_follow_the_model_files_they_came_from(store_copy, no_training, capsys):
    st = Store(SMOKE)
    member_0 = st.model_path("s50_q8", 0, ".tflite")
    shutil.copy(st.model_path("s50_q8", 1, ".tflite"), member_0)  # another valid model
    st.record_files([member_0])
    for name, run in (("results.json", lambda e: evaluation.evaluate(e)), ("sizes.json", lambda e: e.sizes())):
        with pytest.raises(StoreError) as err:
            run(Experiment(SMOKE, compute=False))
        assert one_sentence(str(err.value)).startswith(
            f"{store_copy / name} was computed from other model files than those in the store (models/s50_q8/member_0.tflite)"
        )
    sizes = Experiment(SMOKE).sizes()
    assert sizes["s50_q8"]["member_zipped_bytes"][0] == sizes["s50_q8"]["member_zipped_bytes"][1]
    assert "recomputing it" in capsys.readouterr().out


# ----------------------------------------------------------------------------- case 5
_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from helpers.core.config import load_config
    from helpers.core.fileio import atomic_write_bytes
    from helpers.store.artifacts import Store
    root, tag = Path(sys.argv[1]), sys.argv[2]
    st = Store(load_config("smoke"), root=root)
    for i in range(200):
        path = root / "models" / tag / f"member_{i}.tflite"
        atomic_write_bytes(path, f"{tag} {i}".encode())
        st.record_files([path])
        st.add_time(tag, 0.5)
""")


def test_05_concurrent_manifest_updates_lose_nothing(tmp_path):
    root = tmp_path / "s"
    Store(SMOKE, root=root)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root), tag], env=env) for tag in ("a", "b")]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    manifest = _json(root / "manifest.json")
    assert len(manifest["files"]) == 400
    assert manifest["files"]["models/b/member_199.tflite"] == fileio.sha256_file(root / "models" / "b" / "member_199.tflite")
    assert manifest["timings"] == {"a": 100.0, "b": 100.0}
    assert manifest["config_hash"] == SMOKE.hash


# ----------------------------------------------------------------------------- case 6
def test_06_a_relative_artifacts_dir_means_one_folder_wherever_the_code_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", "relart")
    seen = set()
    for cwd in (REPO_ROOT, REPO_ROOT / "book" / "chapters", tmp_path):
        monkeypatch.chdir(cwd)
        seen.add(S.artifacts_root())
    assert seen == {REPO_ROOT / "relart"}
    root = Store(SMOKE, root=Path("rel") / "s").root  # explicit relative roots too
    assert root.is_absolute() and root == tmp_path / "rel" / "s"
    # The CLI resolves it once, so the chapter kernels it starts inherit the absolute path.
    assert main(["train", "--profile", "no-such-profile"]) == 1
    capsys.readouterr()
    assert os.environ["CDE_ARTIFACTS_DIR"] == str(REPO_ROOT / "relart")
    assert not (REPO_ROOT / "relart").exists()


# ----------------------------------------------------------------------------- case 7
def test_07_files_get_the_users_umask_not_0600(tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        fileio.atomic_write_bytes(tmp_path / "a.bin", b"x")
        assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644
        os.umask(0o002)  # a group-shared setup
        fileio.atomic_write_json(tmp_path / "b.json", {})
        assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o664
        os.umask(0o022)

        monkeypatch.setenv("CDE_CACHE_DIR", str(tmp_path / "cache"))
        cached = tmp_path / "cache" / "decoded" / "x.npz"
        notmnist._write_decoded_cache(cached, np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
        assert cached.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_07_an_unreadable_shared_cache_file_is_not_called_corrupt(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    name = data.MNIST_FILES["test_labels"]
    (cache / name).write_bytes(b"someone else's file")
    (cache / name).chmod(0o600)
    monkeypatch.setenv("CDE_CACHE_DIR", str(cache))
    monkeypatch.delenv("CDE_DATA_DIR", raising=False)
    monkeypatch.setattr(data.os, "access", lambda path, mode: False)  # tests run as root
    with pytest.raises(files.DataError) as err:
        files.find_data_file(name)
    assert one_sentence(str(err.value)) == (
        f"{cache / name} is in the cache but this user cannot read it (mode 600, made by "
        "another user); ask its owner to run chmod a+r on it, or set CDE_CACHE_DIR to a folder "
        "of your own."
    )
    assert (cache / name).exists()  # not removed as "corrupt"


# ----------------------------------------------------------------------------- case 8
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "--profile", "nope"], "error: Profile 'nope' is not defined in "),
        (["train", "--profile", "smoke", "-p", "epochs", "0"], "error: Config value epochs=0 is invalid"),
        (["evaluate", "--profile", "smoke", "-p", "epoch", "3"], "error: Unknown config key 'epoch'"),
        (["adopt", "--profile", "smoke", "-p", "profile", "x"], "error: Pass the profile with --profile, not -p profile."),
        (
            ["build", "--profile", "nope", "--no-build", "--notebooks", "/nonexistent/nbs"],
            "error: Notebook folder /nonexistent/nbs does not exist",
        ),
    ],
)
def test_08_cli_errors_are_one_line_and_exit_1(argv, expected, artifacts_dir, capsys):
    assert main(argv) == 1
    out = capsys.readouterr()
    assert one_sentence(out.err).startswith(expected)
    assert out.out == ""


def test_08_a_data_error_in_train_is_one_line(artifacts_dir, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no_data"
    empty.mkdir()
    monkeypatch.setenv("CDE_DATA_DIR", str(empty))
    monkeypatch.setattr(files, "MIRRORS", {name: ["http://127.0.0.1:9/x"] for name in files.MIRRORS})
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert main(["train", "--profile", "smoke"]) == 1
    err = capsys.readouterr().err
    assert one_sentence(err).startswith("error: train-images-idx3-ubyte.gz was not found in ")


def test_08_evaluate_never_trains_and_says_so(artifacts_dir, capsys):
    assert main(["evaluate", "--profile", "smoke"]) == 1
    assert one_sentence(capsys.readouterr().err) == (
        f"error: There is no store for this configuration at {artifacts_dir / 'smoke'}; build it "
        "first with `python -m helpers train --profile smoke`."
    )
    assert not artifacts_dir.exists()


def test_08_build_in_a_read_only_checkout_suggests_out_dir(tmp_path, monkeypatch, capsys):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(PipelineError) as err:
        outdir.check_writable([tmp_path / "book" / "_build"])
    assert one_sentence(str(err.value)) == (
        f"{tmp_path / 'book' / '_build'} cannot be written (Read-only file system), as in a "
        "read-only checkout; build a copy of the book elsewhere with --out-dir DIR (e.g. "
        "python -m helpers build --out-dir /tmp/book)."
    )
    monkeypatch.undo()

    def denied(*args, **kwargs):  # an OSError from deeper in the build
        raise PermissionError(errno.EACCES, "Permission denied", "book/chapters/01_data.ipynb")

    monkeypatch.setattr(pipeline, "run", denied)
    assert main(["build", "--profile", "smoke"]) == 1
    assert one_sentence(capsys.readouterr().err) == (
        "error: book/chapters/01_data.ipynb: Permission denied (a read-only checkout?); build a "
        "copy of the book elsewhere with --out-dir DIR (e.g. python -m helpers build --out-dir "
        "/tmp/book)."
    )


# ----------------------------------------------------------------------------- case 9
CONFIG_TEXT = (REPO_ROOT / "_config.yml").read_text()


def _config_file(tmp_path, text: str | bytes) -> Path:
    path = tmp_path / "_config.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.replace("  bootstrap_samples: 1000 ", "  #"),
            "The `defaults:` mapping of {path} lacks bootstrap_samples; it must define exactly ",
        ),
        (
            lambda t: t.replace("  seed: 0 ", "  seed: 0\n  seeds: 3 "),
            "The `defaults:` mapping of {path} has unknown seeds; it must define exactly ",
        ),
        (
            lambda t: t.replace("  seed: 0 ", "  seed: 0\n  seeds: 3 ").replace("  bootstrap_samples: 1000 ", "  #"),
            "The `defaults:` mapping of {path} lacks bootstrap_samples and has unknown seeds; ",
        ),
        (
            lambda t: t.replace("  paper: {}", "  paper: 3"),
            "Profile 'paper' in {path} is a number, not a mapping of config keys; write it as "
            "`paper: {{epochs: 3}}` or `paper: {{}}`.",
        ),
        (
            lambda t: t.replace("  paper: {}", "  paper: [epochs, 3]"),
            "Profile 'paper' in {path} is a list, not a mapping of config keys; ",
        ),
        (
            lambda t: t.replace("  epochs: 20 ", "  epochs: 20\n  epochs: 2 "),
            "Experiment config file {path} is not valid: the key 'epochs' appears twice (line 30 and line 31); keep one of them.",
        ),
        (
            lambda t: t.replace("  smoke:", "  quick: {}\n  smoke:"),
            "Experiment config file {path} is not valid: the key 'quick' appears twice ",
        ),
        (
            lambda t: t.replace("# [paper] M = 5", "# [paper] M = 5 \xe9").encode("latin-1", errors="replace"),
            "Experiment config file {path} is not UTF-8 text (byte ",
        ),
    ],
)
def test_09_config_file_mistakes_are_one_sentence(tmp_path, edit, message):
    path = _config_file(tmp_path, edit(CONFIG_TEXT))
    with pytest.raises(ValueError) as err:
        load_config("paper", config_path=path)
    assert one_sentence(str(err.value)).startswith(message.format(path=path))


def test_09_a_validation_split_that_leaves_no_training_images(tmp_path):
    with pytest.raises(ValueError) as err:
        load_config("smoke", train_subset=1, validation_split=0.5)
    assert one_sentence(str(err.value)) == (
        "Config value validation_split=0.5 is invalid: with 1 training images (train_subset=1) "
        "it leaves no image to train on; lower validation_split or raise train_subset (from "
        f"{REPO_ROOT / '_config.yml'}; fix it there, in the profile or in the override)."
    )
    assert load_config("smoke", train_subset=2, validation_split=0.5).train_subset == 2
    assert data.MNIST_SIZES["train"] == 60_000  # what config assumes without a subset


# ---------------------------------------------------------------------------- case 10
@needs_real_data
@pytest.mark.slow
def test_10_an_evaluation_only_value_reuses_the_models(store_copy, no_training, capsys):
    cfg = load_config("smoke", test_subset=100)
    assert cfg.hash == SMOKE.hash and cfg.stage_hash("evaluation") != SMOKE.stage_hash("evaluation")
    before = _snapshot(store_copy)

    with pytest.raises(StoreError) as err:
        evaluation.evaluate(Experiment(cfg, compute=False))
    folder = store_copy / "evaluations" / cfg.stage_hash("evaluation")
    assert one_sentence(str(err.value)) == (
        f"{folder / 'results.json'} is not in the store, and chapters never compute it; build "
        "it with `python -m helpers evaluate --profile smoke -p test_subset 100`."
    )

    exp = Experiment(cfg)
    assert exp.store.root == store_copy
    results = evaluation.evaluate(exp)
    assert _json(folder / "results.json") == results
    assert set(_json(folder / "lineage.json")["derived"]) == {f"evaluations/{cfg.stage_hash('evaluation')}/results.json"}
    assert exp.member_probabilities("baseline", "mnist_test").shape == (2, 100, 10)
    assert Experiment(SMOKE).member_probabilities("baseline", "mnist_test").shape == (2, 300, 10)
    after = _snapshot(store_copy)
    # the store's own files are untouched: only the evaluation folder and caches were added
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(k.startswith(("evaluations/", "cache/")) for k in set(after) - set(before))
    assert evaluation.evaluate(Experiment(cfg, compute=False)) == results


# ---------------------------------------------------------------------------- case 11
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_11_partial_downloads_are_removed_by_the_next_download(tmp_path, monkeypatch):
    import http.server
    import threading

    name = data.MNIST_FILES["test_labels"]
    source = real_data_dir()
    if source is None:
        pytest.skip("real data not available: CDE_DATA_DIR is not set")
    body = (source / name).read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cache = tmp_path / "cache"
    (cache / "decoded").mkdir(parents=True)
    leftovers = [cache / "tmpk2j3h4", cache / "decoded" / "notMNIST_small-x.npzab12.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a download")
    monkeypatch.setenv("CDE_CACHE_DIR", str(cache))
    monkeypatch.delenv("CDE_DATA_DIR", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setitem(files.MIRRORS, name, [f"http://127.0.0.1:{httpd.server_address[1]}/{name}"])
    old = os.umask(0o022)
    try:
        path = files.find_data_file(name)
    finally:
        os.umask(old)
        httpd.shutdown()
        httpd.server_close()
    assert path == cache / name and path.read_bytes() == body
    assert path.stat().st_mode & 0o777 == 0o644  # pooch's temp file was 0600
    assert sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*")) == ["decoded", name]


def test_11_temp_files_of_killed_runs_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    work = tmp_path / "book" / "_build" / ".papermill"
    work.mkdir(parents=True)
    (work / f"01_data.{dead}.ipynb").write_text("{}")
    (work / f"02_training.{alive}.ipynb").write_text("{}")  # a build still running
    removed = outdir.remove_stale_temp_notebooks(tmp_path / "book")
    assert [p.name for p in removed] == [f"01_data.{dead}.ipynb"]
    assert [p.name for p in work.iterdir()] == [f"02_training.{alive}.ipynb"]

    root = tmp_path / "s"
    models = root / "models" / "baseline"
    models.mkdir(parents=True)
    stale = [models / f".member_0.keras.{dead}.tmp.keras", root / f".sizes.json.{dead}.ab_cd123.tmp"]
    live = models / f".member_1.keras.{alive}.tmp.keras"
    for path in stale + [live]:
        path.write_bytes(b"half")
    Store(SMOKE, root=root)
    assert [p.exists() for p in stale + [live]] == [False, False, True]


def test_11_keras_files_are_byte_identical_across_saves(tmp_path):
    from helpers.engine import models

    member = models.build_member(SMOKE, 0)
    keras_archive.save_keras(member, tmp_path / "a.keras")
    time.sleep(1.1)  # zip times have a 2-second resolution, date_saved one second
    keras_archive.save_keras(member, tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    loaded = compression.load_keras(tmp_path / "b.keras")
    for a, b in zip(member.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.keras", "b.keras"]
    # the other model files were already deterministic: the converter stamps no time
    assert compression.to_tflite(loaded, "int8") == compression.to_tflite(member, "int8")


def test_the_command_line_keeps_tensorflows_start_up_lines_out_of_the_terminal(tmp_path):
    """The project's own error line only; TensorFlow's oneDNN/CUDA/absl lines in the log."""
    import subprocess
    import sys

    log = tmp_path / "tf.log"
    env = {**os.environ, "CDE_TF_LOG": str(log), "CDE_ARTIFACTS_DIR": str(tmp_path / "art")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    out = subprocess.run(
        [sys.executable, "-m", "helpers", "aggregate", "--profile", "smoke"], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 1
    assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
    assert log.exists()  # whatever TensorFlow printed while loading is kept there


def test_a_permission_error_names_the_folder_to_fix(tmp_path, monkeypatch, artifacts_dir):
    """Each error's advice points at the folder that failed, not always at the artifacts."""
    import errno as _errno

    from helpers.build.cli import _os_error

    data = tmp_path / "data"
    monkeypatch.setenv("CDE_DATA_DIR", str(data))
    denied = lambda path: PermissionError(_errno.EACCES, "Permission denied", str(path))  # noqa: E731
    assert _os_error(denied(data / "train-images-idx3-ubyte.gz"), "train").endswith(
        "the data folder CDE_DATA_DIR points at cannot be read there; make it readable or point "
        "CDE_DATA_DIR at a readable copy of the data files."
    )
    assert _os_error(denied(artifacts_dir / "smoke" / "manifest.json"), "train").endswith(
        "point CDE_ARTIFACTS_DIR at a folder you can write to."
    )
    assert _os_error(denied(tmp_path / "cache" / "x.npz"), "train").endswith("point CDE_CACHE_DIR at a folder you can write to.")
    assert _os_error(denied("/etc/elsewhere"), "train").endswith("check that file's permissions.")
