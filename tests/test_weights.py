"""helpers.engine.weights: a seed's trained members packed compactly, restored bit for bit, and a
wiped smoke store re-evaluated from its pack without training (the same results, the same
.tflite bytes)."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from conftest import real_data_dir
from helpers.engine import weights as W

needs_real_data = pytest.mark.skipif(real_data_dir() is None, reason="needs CDE_DATA_DIR (real MNIST)")


def test_sparse_kernels_round_trip_bit_for_bit_with_negative_zeros():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 1, 4)).astype(np.float32)
    kernel[np.abs(kernel) < 0.8] = 0.0
    kernel[0, 0, 0, :2] = -0.0  # what pruning leaves where a negative weight was masked
    bias = rng.standard_normal(4).astype(np.float32)
    arrays = W.encode([kernel, bias], sparse=True)
    assert set(arrays) == {"0.mask", "0.negzero", "0.values", "0.shape", "1.dense"}
    assert arrays["0.values"].size == int(np.count_nonzero(kernel))
    back = W.decode(arrays, 2)
    assert back[0].tobytes() == kernel.tobytes() and back[1].tobytes() == bias.tobytes()
    assert np.signbit(back[0][0, 0, 0, :2]).all()


def test_dense_members_are_kept_whole():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    arrays = W.encode([w], sparse=False)
    assert list(arrays) == ["0.dense"] and W.decode(arrays, 1)[0].tobytes() == w.tobytes()


def test_a_damaged_mask_is_refused():
    arrays = W.encode([np.array([[1.0, 0.0], [2.0, 3.0]], dtype=np.float32)], sparse=True)
    arrays["0.values"] = arrays["0.values"][:-1]
    with pytest.raises(W.WeightsError, match="the mask has 3 non-zeros but 2 values are stored"):
        W.decode(arrays, 1)


def _pack_file(tmp_path, meta):
    buf = io.BytesIO()
    np.savez_compressed(buf, **{"meta.json": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)})
    path = tmp_path / "seed_3.npz"
    path.write_bytes(buf.getvalue())
    return path


def test_read_pack_checks_sha256_version_and_config(tmp_path):
    from helpers.core.config import load_config

    cfg = load_config("smoke", seed=3)
    path = _pack_file(tmp_path, {"weights_version": W.WEIGHTS_VERSION, "config_hash": "x", "seed": 3})
    with pytest.raises(W.WeightsError, match=r"has sha256 .*, not the 000000000000… its seed record names"):
        W.read_pack(path, sha256="0" * 64)
    with pytest.raises(W.WeightsError, match=f"holds seed 3 of config x, not seed 3 of config {cfg.hash}"):
        W.read_pack(path, cfg)
    old = _pack_file(tmp_path, {"weights_version": 0, "config_hash": "x", "seed": 3})
    with pytest.raises(W.WeightsError, match="is a version 0 pack"):
        W.read_pack(old)
    path.write_bytes(b"not a zip")
    with pytest.raises(W.WeightsError, match="is not a weights pack"):
        W.read_pack(path)


@needs_real_data
@pytest.mark.slow
def test_a_wiped_smoke_store_is_re_evaluated_from_its_pack_without_training(artifacts_dir, monkeypatch):
    from helpers.core.fileio import sha256_file
    from helpers.engine import compression, ensemble
    from helpers.stages import records as R
    from helpers.stages import reopen
    from helpers.stages import sweep as S

    S.run_sweep("smoke", [0])
    root = artifacts_dir / "smoke"
    record = R.read_seed_record(root / "seeds" / "seed_0.json")
    ((rel, sha),) = record["weights"].items()
    assert rel == "weights/seed_0.weights.zip" and sha256_file(root / rel) == sha
    ((per_image_rel, per_image_sha),) = record["per_image"].items()
    assert per_image_rel == "per_image/seed_0.per_image.zip" and sha256_file(root / per_image_rel) == per_image_sha
    before = json.loads((root / "results.json").read_text())
    tflite = {k: v for k, v in record["files"].items() if k.endswith(".tflite")}

    for path in root.iterdir():  # a fresh clone: only the committed records and packs remain
        if path.name not in ("seeds", "weights", "per_image"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def no_training(*args, **kwargs):
        raise AssertionError("re-evaluation trained a model")

    monkeypatch.setattr(ensemble, "train_ensemble", no_training)
    monkeypatch.setattr(compression, "prune_all", no_training)
    assert reopen.reevaluate("smoke", [0], echo=lambda *_: None) == {0: "re-evaluated"}
    assert {k: sha256_file(root / k) for k in tflite} == tflite  # the same bytes, rebuilt
    assert json.loads((root / "results.json").read_text()) == before
    reevaluated = R.read_seed_record(root / "seeds" / "seed_0.json")
    assert reevaluated["results"] == before
    timings = reevaluated["timings"]  # both new stages timed, the recorded ones kept
    assert timings["reopening"] > 0 and timings["evaluation"] > 0 and set(record["timings"]) <= set(timings)
    assert sha256_file(root / per_image_rel) == per_image_sha  # the same per-image losses

    # A record from before per-image packs: `weights` re-opens the seed from its weights
    # pack (its store wiped again) and writes the same per-image pack.
    (root / per_image_rel).unlink()
    path = root / "seeds" / "seed_0.json"
    path.write_text(json.dumps({k: v for k, v in R.read_seed_record(path).items() if k != "per_image"}))
    for folder in root.iterdir():
        if folder.name not in ("seeds", "weights"):
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
    assert reopen.export_weights("smoke", [0]) == {0: f"{rel}, {per_image_rel}"}
    assert R.read_seed_record(path)["per_image"] == {per_image_rel: per_image_sha}


def test_reevaluate_names_a_seed_without_weights(artifacts_dir):
    from helpers.stages import records as R
    from helpers.stages import reopen

    seeds = artifacts_dir / "paper" / "seeds"
    seeds.mkdir(parents=True)
    record = {"seed": 1, "config_hash": "h", "results": {}, "timings": {}, "machine": {}, "versions": {}, "files": {}}
    (seeds / "seed_1.json").write_text(json.dumps(record))
    said = []
    assert reopen.reevaluate("paper", [1], echo=said.append) == {
        1: "skipped: no committed weights (its models were not kept); its record stays as it is"
    }
    assert said == ["seed 1: skipped: no committed weights (its models were not kept); its record stays as it is"]
    with pytest.raises(R.SweepError, match=r"Seed 2 of profile 'paper' has no record"):
        reopen.reevaluate("paper", [2])
