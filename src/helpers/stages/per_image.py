"""A seed's per-image losses on the MNIST test set, compactly: what the aggregate's
two-level interval (over seeds and test images) needs, small enough to commit.

    blob = pack(exp)                        # bytes of one .npz-format zip, ~0.9 MB for a paper seed
    write_pack(exp, root)                   # artifacts/<profile>/per_image/seed_<s>.per_image.zip
    meta, losses = read_pack(path, sha256)  # {variant: {"accuracy" | "nll" | "brier": (N,) float64}}

Per variant of VARIANTS that the seed has, per test image: whether the ensemble is right
(a packed bit), and its NLL and Brier score (float32; the record's means are float64 means
of the same values, so a mean of these reproduces the record's to about 1e-9). The images
are the seed's evaluation subset, in order; the pack names their count and the subset
values, and the aggregate refuses packs of different images. Every loss is computed by the
functions the evaluation uses (helpers.stats.metrics on the ensemble mean of the members).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PER_IMAGE_VERSION = 1
FOLDER = "per_image"
METRICS = ("accuracy", "nll", "brier")

VARIANTS = (
    "baseline",
    "q8",
    "s25_q8",
    "s50_q8",
    "s75_q8",
    "s95_q8",
    "s25_float",
    "s50_float",
    "s75_float",
    "s95_float",
    "ft_q8",
    "single",
)
"""Variants kept: the reference, every point of the paper's Table 2 (int8 weights), the
pruned float32 members (pruning without quantization), the re-training control and the
single model. Every verdict on accuracy, NLL or Brier score (C2-C4, C8) uses a subset."""


class PerImageError(ValueError):
    """A per-image pack that cannot be used as it is; the message names the file and the fix."""


def pack_path(profile_root: Path, seed: int) -> Path:
    return Path(profile_root) / FOLDER / f"seed_{seed}.per_image.zip"


def losses(exp) -> dict:
    """{variant: {metric: (N,) array}} of the experiment on its MNIST test images (the
    store's cached predictions, predicted when missing)."""
    from helpers.stages.evaluation import variant_members, variant_names
    from helpers.stats import metrics as M

    _, labels = exp.dataset("mnist_test")
    have = set(variant_names(exp))
    out = {}
    for name in [v for v in VARIANTS if v in have]:
        probs = M.ensemble_mean(variant_members(exp, name, "mnist_test"))
        out[name] = {
            "accuracy": M.correct(probs, labels).astype(np.float64),
            "nll": M.nll_per_sample(probs, labels),
            "brier": M.brier_per_sample(probs, labels),
        }
    return out


def encode(per_variant: dict) -> dict:
    """{array name: array} of {variant: {metric: values}}: correctness as packed bits, the
    losses as float32."""
    arrays = {}
    for name, values in per_variant.items():
        ok = np.asarray(values["accuracy"])
        if not np.isin(ok, (0.0, 1.0)).all():
            raise PerImageError(f"accuracy of {name} per image must be 0 or 1.")
        arrays[f"{name}/correct"] = np.packbits(ok.astype(bool))
        for metric in ("nll", "brier"):
            arrays[f"{name}/{metric}"] = np.asarray(values[metric], dtype=np.float32)
    return arrays


def decode(arrays: dict, n: int) -> dict:
    names = sorted({k.split("/")[0] for k in arrays})
    return {
        name: {
            "accuracy": np.unpackbits(arrays[f"{name}/correct"], count=n).astype(np.float64),
            "nll": arrays[f"{name}/nll"].astype(np.float64),
            "brier": arrays[f"{name}/brier"].astype(np.float64),
        }
        for name in names
    }


def pack(exp, per_variant: dict | None = None) -> bytes:
    """One .npz-format zip of the seed's per-image losses (see the module doc)."""
    cfg = exp.config
    per_variant = per_variant if per_variant is not None else losses(exp)
    n = {len(v["nll"]) for v in per_variant.values()}
    if len(n) != 1:
        raise PerImageError(f"per-image losses of seed {cfg.seed} have different lengths {sorted(n)}.")
    meta = {
        "per_image_version": PER_IMAGE_VERSION,
        "seed": cfg.seed,
        "profile": cfg.profile,
        "config_hash": cfg.hash,
        "n_images": n.pop(),
        "dataset": "mnist_test",
        "subset": {"test_subset": cfg.test_subset, "subset_seed": cfg.subset_seed},
        "variants": sorted(per_variant),
    }
    from helpers.engine.weights import pack_bytes

    return pack_bytes(meta, encode(per_variant))


def write_pack(exp, profile_root: Path, per_variant: dict | None = None) -> Path:
    """Write the seed's pack atomically into the profile store's per_image/ folder."""
    from helpers.core.fileio import atomic_write_bytes

    path = pack_path(profile_root, exp.config.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, pack(exp, per_variant))
    return path


def read_pack(path: Path, sha256: str | None = None, seed: int | None = None) -> tuple[dict, dict]:
    """(meta, {variant: {metric: (N,) float64}}) of a pack, checked: its sha256 (when given,
    from the seed record), its version and, when given, its seed."""
    from helpers.engine.weights import open_pack

    path = Path(path)
    pack_seed = seed if seed is not None else path.name.split(".")[0].removeprefix("seed_")
    # the pack lies in artifacts/<profile>/per_image/: the folder above names the profile
    fix = f"write it again with `python -m helpers weights --profile {path.parent.parent.name} --seeds {pack_seed}`"
    meta, arrays = open_pack(path, sha256, PerImageError, "a per-image pack", fix)
    if meta.get("per_image_version") != PER_IMAGE_VERSION:
        raise PerImageError(
            f"{path} is a version {meta.get('per_image_version')} pack; this code reads version {PER_IMAGE_VERSION}: {fix}."
        )
    if seed is not None and meta["seed"] != seed:
        raise PerImageError(f"{path} holds seed {meta['seed']}, not seed {seed} as its name says.")
    return meta, decode(arrays, meta["n_images"])
