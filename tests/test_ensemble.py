"""Tests for helpers.engine.ensemble: fused == sequential training, determinism, data order,
validation split, per-member histories and resuming after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_digits
from helpers.core.config import load_config
from helpers.engine import ensemble, models

M = 2


def _members(cfg, n=M):
    return [models.build_member(cfg, cfg.member_seed(m), prefix=f"m{m}_") for m in range(n)]


def _assert_same_weights(a_members, b_members, **tol):
    for a, b in zip(a_members, b_members):
        wa, wb = a.get_weights(), b.get_weights()
        assert len(wa) == len(wb) == 6
        for x, y in zip(wa, wb):
            if tol:
                np.testing.assert_allclose(x, y, **tol)
            else:
                assert np.array_equal(x, y)


# ------------------------------------------------------------------ fused == sequential
@pytest.mark.parametrize("n_batches", [1, 3])
def test_fused_equals_sequential(n_batches):
    cfg = load_config("smoke", ensemble_size=M, epochs=1, validation_split=0.0, batch_size=32)
    x, y = synthetic_digits(32 * n_batches, seed=4)
    initial = _members(cfg)
    copies_a, copies_b = _members(cfg), _members(cfg)
    _assert_same_weights(initial, copies_a)
    fused, hist_f = ensemble.train_ensemble(cfg, x, y, mode="fused", members=copies_a)
    seq, hist_s = ensemble.train_ensemble(cfg, x, y, mode="sequential", members=copies_b)
    assert fused is copies_a and seq is copies_b  # trained in place
    _assert_same_weights(fused, seq, rtol=1e-5, atol=1e-6)
    # the step really moved every weight tensor (a no-op would pass the comparison above)
    for before, after in zip(initial, fused):
        for w0, w1 in zip(before.get_weights(), after.get_weights()):
            assert not np.array_equal(w0, w1)
    # per-member training losses agree too (the fused loss is reported per output)
    for m in range(M):
        assert set(hist_f[m][0]) == set(hist_s[m][0]) == {"loss", "accuracy"}
        assert hist_f[m][0]["loss"] == pytest.approx(hist_s[m][0]["loss"], rel=1e-5)
        assert hist_f[m][0]["accuracy"] == pytest.approx(hist_s[m][0]["accuracy"])


def test_unknown_mode_is_rejected():
    cfg = load_config("smoke")
    x, y = synthetic_digits(32)
    with pytest.raises(ValueError, match="Training mode 'parallel' is unknown; use 'fused' or 'sequential'."):
        ensemble.train_ensemble(cfg, x, y, mode="parallel")


# ------------------------------------------------------------------ determinism, histories
def test_same_config_and_seed_bit_identical_weights():
    ensemble.enable_determinism(0)
    cfg = load_config("smoke", train_subset=160)
    x, y = synthetic_digits(160, seed=5)
    a, hist_a = ensemble.train_ensemble(cfg, x, y)
    b, hist_b = ensemble.train_ensemble(cfg, x, y)
    _assert_same_weights(a, b)  # bit-identical
    assert hist_a == hist_b
    # and the members differ from each other (own seeds, own order)
    assert not np.array_equal(a[0].get_weights()[0], a[1].get_weights()[0])


def test_histories_per_member_per_epoch():
    cfg = load_config("smoke", epochs=2, validation_split=0.25)
    x, y = synthetic_digits(128, seed=6)
    _, hist = ensemble.train_ensemble(cfg, x, y)
    assert len(hist) == cfg.ensemble_size == 2
    for member_hist in hist:
        assert len(member_hist) == 2
        for entry in member_hist:
            assert set(entry) == set(ensemble.HISTORY_KEYS) == {"loss", "accuracy", "val_loss", "val_accuracy"}
            assert all(np.isfinite(v) for v in entry.values())
            assert 0 <= entry["accuracy"] <= 1 and 0 <= entry["val_accuracy"] <= 1
            assert entry["loss"] > 0 and entry["val_loss"] > 0
        # 32 validation images: accuracy is a multiple of 1/32
        assert member_hist[-1]["val_accuracy"] * 32 == pytest.approx(round(member_hist[-1]["val_accuracy"] * 32), abs=1e-4)
    assert hist[0] != hist[1]


def test_sequential_histories_have_the_same_keys():
    cfg = load_config("smoke", epochs=1, validation_split=0.5)
    x, y = synthetic_digits(64, seed=6)
    _, hist = ensemble.train_ensemble(cfg, x, y, mode="sequential")
    assert [set(h[0]) for h in hist] == [set(ensemble.HISTORY_KEYS)] * 2


# ------------------------------------------------------------------ data order, validation
def test_split_validation_holds_out_the_last_fraction():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    (x_tr, y_tr), (x_val, y_val) = ensemble.split_validation(x, y, 0.2)
    np.testing.assert_array_equal(y_tr, np.arange(8))
    np.testing.assert_array_equal(y_val, [8, 9])
    np.testing.assert_array_equal(x_val, [[16, 17], [18, 19]])
    (_, y_tr), (x_val, y_val) = ensemble.split_validation(x, y, 0.0)
    assert len(y_tr) == 10 and len(x_val) == len(y_val) == 0
    # the paper's 60,000 images with 10 %: 54,000 / 6,000, as Keras splits them
    (_, y_tr), (_, y_val) = ensemble.split_validation(np.zeros(60_000), np.zeros(60_000), 0.1)
    assert (len(y_tr), len(y_val)) == (54_000, 6_000)


def test_epoch_permutation_depends_only_on_seed_stream_epoch():
    p = ensemble.epoch_permutation(1000, 0, 3, 50)
    np.random.seed(123)  # the global numpy state plays no part
    q = ensemble.epoch_permutation(1000, 0, 3, 50)
    np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(np.sort(p), np.arange(50))
    others = [
        ensemble.epoch_permutation(1001, 0, 3, 50),
        ensemble.epoch_permutation(1000, 1, 3, 50),
        ensemble.epoch_permutation(1000, 0, 4, 50),
    ]
    for other in others:
        assert not np.array_equal(p, other)


def test_epoch_dataset_gives_each_member_its_own_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 28, 28, 1), np.float32)
    y = np.arange(10)
    seeds = [1000, 1001]
    ds = ensemble.epoch_dataset(x, y, seeds, stream=0, epoch=2, batch_size=4, output_names=["a", "b"])
    batches = list(ds.as_numpy_iterator())
    assert [len(b[1]["a"]) for b in batches] == [4, 4, 2]  # last batch partial, nothing dropped
    for m, name in enumerate(["a", "b"]):
        order = np.concatenate([b[1][name] for b in batches])
        np.testing.assert_array_equal(order, ensemble.epoch_permutation(seeds[m], 0, 2, 10))
        images = np.concatenate([b[0][m] for b in batches])
        np.testing.assert_array_equal(images[:, 5, 5, 0], order)  # image i goes with label i


# ------------------------------------------------------------------ checkpoint and resume
_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from helpers.engine import ensemble
    from helpers.core.config import load_config

    work, mode = Path(sys.argv[1]), sys.argv[2]
    ensemble.enable_determinism(0)
    cfg = load_config("smoke", epochs=3)
    d = np.load(work / "data.npz")
    if mode == "slow":  # give the parent time to kill us between epochs
        save = ensemble.Checkpoint.save
        def slow_save(self, *args, **kwargs):
            save(self, *args, **kwargs)
            time.sleep(60)
        ensemble.Checkpoint.save = slow_save
    ckpt = work / ("ckpt_plain" if mode == "plain" else "ckpt")
    members, hist = ensemble.train_ensemble(cfg, d["x"], d["y"], checkpoint_dir=ckpt)
    np.savez(work / f"weights_{mode}.npz",
             *[w for member in members for w in member.get_weights()])
    (work / f"history_{mode}.json").write_text(__import__("json").dumps(hist))
""")


def _child(work: Path, mode: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(work), mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _finish(proc: subprocess.Popen, timeout: float = 240) -> None:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out.decode()[-3000:]


@pytest.mark.slow
def test_resume_after_sigkill_gives_identical_weights(tmp_path):
    cfg = load_config("smoke", epochs=3)
    x, y = synthetic_digits(cfg.train_subset, seed=7)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    ckpt = tmp_path / "ckpt" / f"train_{cfg.hash}_fused.npz"

    plain = _child(tmp_path, "plain")  # the uninterrupted reference
    _finish(plain)

    victim = _child(tmp_path, "slow")
    deadline = time.monotonic() + 240
    while not ckpt.exists():
        assert victim.poll() is None, victim.communicate()[0].decode()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint was written within 240 s"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "weights_slow.npz").exists()
    with np.load(ckpt) as z:
        meta = json.loads(z["meta"].tobytes())
    assert meta["epoch"] == 0 and len(meta["history"][0]) == 1  # killed after epoch 1 of 3
    assert not list(ckpt.parent.glob(".*tmp*"))  # no half-written checkpoint beside it

    resumed = _child(tmp_path, "resume")
    _finish(resumed)

    with np.load(tmp_path / "weights_plain.npz") as a, np.load(tmp_path / "weights_resume.npz") as b:
        assert len(a.files) == len(b.files) == 6 * cfg.ensemble_size
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
    hist_plain = json.loads((tmp_path / "history_plain.json").read_text())
    hist_resume = json.loads((tmp_path / "history_resume.json").read_text())
    assert [len(h) for h in hist_resume] == [3, 3]
    assert hist_resume == hist_plain


def test_checkpoint_round_trip_restores_weights_and_adam_state(tmp_path):
    cfg = load_config("smoke", epochs=1, validation_split=0.0)
    x, y = synthetic_digits(64, seed=8)
    fused = models.fuse(_members(cfg))
    models.compile_for_training(fused, cfg)
    hist = ensemble.fit_epochs(fused, cfg, x, y, [0, 1], ensemble.TRAIN_STREAM, 1, ensemble.Checkpoint(tmp_path / "c.npz"))
    fresh = models.fuse(_members(cfg))
    models.compile_for_training(fresh, cfg)
    start, restored_hist = ensemble.Checkpoint(tmp_path / "c.npz").restore(fresh)
    assert start == 1 and restored_hist == hist
    for a, b in zip(fused.get_weights(), fresh.get_weights()):
        assert np.array_equal(a, b)
    opt_a = ensemble._optimizer_variables(fused.optimizer)
    opt_b = ensemble._optimizer_variables(fresh.optimizer)
    assert len(opt_a) == len(opt_b) == 1 + 2 * 12  # iterations + Adam m and v per variable
    for a, b in zip(opt_a, opt_b):
        assert np.array_equal(a.numpy(), b.numpy())
    assert int(opt_b[0].numpy()) == 2  # two batches of 32
    assert ensemble.Checkpoint(None).restore(fresh) == (0, [])


def test_steps_per_execution_changes_no_weight():
    """Several batches per graph call (models.compile_for_training's steps_per_execution)
    is a speed option only: same weights bit for bit, same history."""
    cfg = load_config("smoke", epochs=2)
    x, y = synthetic_digits(330, seed=9)  # 297 training images: 10 batches, the last partial
    results = []
    for spe in (1, 4):
        fused = models.fuse(_members(cfg))
        models.compile_for_training(fused, cfg, steps_per_execution=spe)
        hist = ensemble.fit_epochs(fused, cfg, x, y, [0, 1], ensemble.TRAIN_STREAM, 2, ensemble.Checkpoint(None))
        results.append((fused.get_weights(), hist, int(fused.optimizer.iterations.numpy())))
    (w1, h1, it1), (w4, h4, it4) = results
    assert it1 == it4 == 20
    assert all(np.array_equal(a, b) for a, b in zip(w1, w4))
    assert h1 == h4
