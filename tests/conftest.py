"""Shared fixtures for the engine tests: learnable synthetic digits, one briefly trained
member and its TFLite conversions, and a real-data switch (skips without CDE_DATA_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28, 1) float32 in [0, 1] and (n,) int64 labels: 10 fixed random stroke
    templates (one per class) plus noise. A CNN learns them in one short epoch."""
    templates = np.random.default_rng(1234).random((10, 28, 28)) < 0.2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = 0.7 * templates[y] + 0.3 * rng.random((n, 28, 28))
    return x[..., None].astype(np.float32), y.astype(np.int64)


def real_data_dir() -> Path | None:
    """$CDE_DATA_DIR (relative paths from the repo root, as CI sets it), or None."""
    env = os.environ.get("CDE_DATA_DIR")
    if not env:
        return None
    path = Path(env).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


needs_real_data = pytest.mark.skipif(
    real_data_dir() is None, reason="real data not available: CDE_DATA_DIR is not set (e.g. CDE_DATA_DIR=../shared/data)"
)


@pytest.fixture
def artifacts_dir(tmp_path, monkeypatch) -> Path:
    """Artifacts and data caches go to this test's tmp dir, never to the repository."""
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("CDE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "artifacts"


@pytest.fixture(scope="session")
def trained_member():
    """(smoke config with M=1, member, x_test): one member trained 3 epochs on 640
    synthetic digits, with 200 other test images. It classifies them all correctly with a
    mean top probability of about 0.67: mid-range outputs, where quantization shows."""
    from helpers.core.config import load_config
    from helpers.engine import ensemble

    cfg = load_config("smoke", ensemble_size=1, epochs=3)
    x, y = synthetic_digits(640, seed=0)
    members, _ = ensemble.train_ensemble(cfg, x, y)
    x_test, _ = synthetic_digits(200, seed=1)
    return cfg, members[0], x_test


@pytest.fixture(scope="session")
def tflite_blobs(trained_member):
    """{'float32', 'int8', 'int8full'} -> .tflite bytes of the trained member."""
    from helpers.engine import compression

    _, member, _ = trained_member
    rep, _ = synthetic_digits(32, seed=2)
    return {mode: compression.to_tflite(member, mode, representative=rep) for mode in ("float32", "int8", "int8full")}
