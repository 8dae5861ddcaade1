"""The deterministic subsets every loader draws, and the float images every loader returns."""

from __future__ import annotations

import numpy as np

from helpers.data.files import DataError


def subset_indices(n_total: int, subset: int | None, seed: int | None, arg: str, what: str):
    """Indices of a deterministic subset: all, the first ``subset``, or a seeded sample.

    A seeded sample is drawn without replacement and sorted, so it keeps file order.
    """
    if subset is None:
        return slice(None)
    if isinstance(subset, bool) or not isinstance(subset, (int, np.integer)) or subset < 1:
        raise DataError(f"{arg}={subset!r} must be a positive whole number or None (all {n_total} {what} images).")
    if subset > n_total:
        raise DataError(f"{arg}={subset} is larger than the {n_total} {what} images available; use at most {n_total}.")
    if seed is None:
        return slice(0, int(subset))
    return np.sort(np.random.default_rng(seed).choice(n_total, size=int(subset), replace=False))


def to_images(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (x.astype(np.float32) / np.float32(255.0))[..., np.newaxis]
