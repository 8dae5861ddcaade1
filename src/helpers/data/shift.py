"""Dataset shift on MNIST: rotated digits and MNIST-C corruptions, seeded, and the shifted
test sets under their names.

Two families of shifted test sets, as in Ovadia et al. (2019), "Can you trust your
model's uncertainty?":

- rotated MNIST: every image turned by the same angle (``rotate``), at
  ``ROTATION_ANGLES`` = 0, 15, ..., 180 degrees;
- corrupted MNIST: the fifteen corruptions of MNIST-C (Mu & Gilmer 2019) at the one
  severity each that MNIST-C ships (``corrupt``; the kernels, their severities and
  ``CORRUPTIONS`` are in helpers.data.corruptions).

Randomness is per image: image ``i`` of a dataset draws only from
``np.random.default_rng([seed, crc32(name), i])``, so a subset corrupted with its
``indices`` equals the same rows of the corrupted full set, whatever the batch. Images
in and out: float32 (N, 28, 28, 1) in [0, 1]; ``shifted_datasets`` yields every shifted
set under a name that is a valid identifier (``rot_015``, ``c_shot_noise``).
"""

from __future__ import annotations

import zlib
from typing import Iterator, NamedTuple, Sequence

import numpy as np
from scipy import ndimage

from helpers.data.corruptions import _CORRUPT, _SIZE, CORRUPTIONS, RANDOM_CORRUPTIONS

__all__ = [
    "ROTATION_ANGLES",
    "ShiftedDataset",
    "corrupt",
    "rotate",
    "shifted_dataset_names",
    "shifted_datasets",
]

ROTATION_ANGLES = tuple(range(0, 181, 15))


class ShiftedDataset(NamedTuple):
    """One shifted test set: ``name`` for results.json, its family, intensity, and data."""

    name: str  # "rot_015", "c_shot_noise"
    family: str  # "rotated_mnist" or "corrupted_mnist"
    intensity: int | str  # the angle in degrees, or the corruption's name
    x: np.ndarray  # float32 (N, 28, 28, 1) in [0, 1]
    y: np.ndarray  # labels, unchanged


# ---------------------------------------------------------------------- validation


def _check_images(x) -> np.ndarray:
    """float32 (N, 28, 28, 1) in [0, 1], or a ValueError saying what is wrong."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != (_SIZE, _SIZE, 1):
        raise ValueError(f"x has shape {x.shape}, but (N, 28, 28, 1) images are expected, as helpers.data.loaders returns them.")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x has dtype {x.dtype}; pass float images in [0, 1] (divide uint8 pixels by 255).")
    if x.size and not (x.min() >= 0 and x.max() <= 1):  # also catches NaN
        raise ValueError(f"x has values in [{x.min()}, {x.max()}], outside [0, 1]; pass images scaled to [0, 1].")
    return x.astype(np.float32, copy=False)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative whole number.")
    return int(seed)


def _check_indices(indices, n: int) -> np.ndarray:
    """Each image's position in the full dataset: 0..n-1 by default."""
    if indices is None:
        return np.arange(n)
    out = np.asarray(indices)
    if out.shape != (n,) or not np.issubdtype(out.dtype, np.integer) or (n and out.min() < 0):
        raise ValueError(
            f"indices must hold one non-negative whole number per image ({n}), the images' "
            f"positions in the full dataset; got shape {out.shape} and dtype {out.dtype}."
        )
    return out


def _image_rngs(name: str, seed: int, indices: np.ndarray) -> list[np.random.Generator]:
    """One generator per image, keyed by (seed, corruption, image index) only."""
    key = zlib.crc32(name.encode())  # stable across runs, unlike hash()
    return [np.random.default_rng([seed, key, int(i)]) for i in indices]


# --------------------------------------------------------------------------- rotate


def rotate(x, degrees: float) -> np.ndarray:
    """Every image turned by ``degrees`` about its centre (counter-clockwise as shown).

    scipy.ndimage.rotate, bilinear (order=1), same 28 x 28 frame (reshape=False), zeros
    shifted in from outside; clipped to [0, 1]. x and the result: float32 (N, 28, 28, 1).
    """
    x = _check_images(x)
    if not np.isfinite(degrees):
        raise ValueError(f"degrees={degrees!r} must be a finite number of degrees.")
    out = ndimage.rotate(x, float(degrees), axes=(1, 2), reshape=False, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0, 1).astype(np.float32, copy=False)


# -------------------------------------------------------------------------- corrupt


def corrupt(x, name: str, seed: int = 0, indices=None) -> np.ndarray:
    """``x`` with MNIST-C's corruption ``name`` applied at MNIST-C's severity.

    x: float32 (N, 28, 28, 1) in [0, 1]; returns the same shape and dtype, clipped to
    [0, 1]. Image ``k`` draws its randomness from (seed, name, indices[k]); ``indices``
    (default 0..N-1) are the images' positions in the full set, so that
    ``corrupt(x[idx], name, seed, indices=idx)`` equals ``corrupt(x, name, seed)[idx]``.
    """
    if name not in _CORRUPT:
        raise ValueError(f"Unknown corruption {name!r}; use one of {', '.join(CORRUPTIONS)}.")
    x = _check_images(x)
    seed = _check_seed(seed)
    indices = _check_indices(indices, len(x))
    rngs = _image_rngs(name, seed, indices) if name in RANDOM_CORRUPTIONS else None
    out = _CORRUPT[name](x[..., 0], rngs) if len(x) else x[..., 0]
    return np.clip(out, 0, 1).astype(np.float32)[..., np.newaxis]


# ------------------------------------------------------------------ shifted datasets


def _rotation_name(angle) -> str:
    if isinstance(angle, bool) or not float(angle).is_integer() or not 0 <= angle <= 360:
        raise ValueError(f"Rotation angle {angle!r} must be a whole number of degrees from 0 to 360.")
    return f"rot_{int(angle):03d}"


def shifted_dataset_names(angles: Sequence = ROTATION_ANGLES, corruptions: Sequence[str] = CORRUPTIONS) -> list[str]:
    """The names ``shifted_datasets`` yields, in order, without computing anything."""
    for name in corruptions:
        if name not in _CORRUPT:
            raise ValueError(f"Unknown corruption {name!r}; use one of {', '.join(CORRUPTIONS)}.")
    return [_rotation_name(a) for a in angles] + [f"c_{name}" for name in corruptions]


def shifted_datasets(
    x,
    y,
    angles: Sequence = ROTATION_ANGLES,
    corruptions: Sequence[str] = CORRUPTIONS,
    seed: int = 0,
    indices=None,
) -> Iterator[ShiftedDataset]:
    """Yield each shifted copy of (x, y), one at a time: rotations, then corruptions.

    ``ShiftedDataset("rot_015", "rotated_mnist", 15, x15, y)`` for each angle and
    ``ShiftedDataset("c_fog", "corrupted_mnist", "fog", x_fog, y)`` for each corruption;
    names are valid identifiers (see ``shifted_dataset_names``). ``seed`` and ``indices``
    go to ``corrupt``. All names are checked before the first set is computed.
    """
    names = shifted_dataset_names(angles, corruptions)
    x = _check_images(x)
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"x holds {len(x)} images but y holds {len(y)} labels; pass one label per image.")
    seed = _check_seed(seed)
    indices = _check_indices(indices, len(x))
    for name, angle in zip(names, angles):
        yield ShiftedDataset(name, "rotated_mnist", int(angle), rotate(x, angle), y)
    for name, corruption in zip(names[len(angles) :], corruptions):
        yield ShiftedDataset(name, "corrupted_mnist", corruption, corrupt(x, corruption, seed, indices), y)
