"""A seed's trained weights, compactly: everything every evaluation and every future
compression variant needs, small enough to commit (issue: seeds you can re-open).

    blob = pack(exp)                       # bytes of one .npz-format zip, about 2 MB for a paper seed
    write_pack(exp)                        # artifacts/<profile>/weights/seed_<s>.weights.zip (+ its sha256)
    restore(exp, path)                     # the float members back into the seed's store

What is kept, per float32 variant the store trains (the baseline members, the re-training
control `ft` and every pruned-and-stripped `sNN_float`), per member: the Keras model's
architecture (its JSON config, so layer names and the rebuilt files are the same) and its
weights, float32, bit for bit. Kernels of pruned members are stored as a bit mask of their
non-zeros (np.packbits), a bit mask of their negative zeros, and the non-zero values only. Every other model file of the store
(.tflite of every quantization) is converted again from the restored members by the
store's own conversion; tests/test_weights.py checks that the rebuilt .tflite files are
byte-identical to the originals.

The pack records the config hash (pruning stage) and the sha256 of every model file it
came from; `restore` refuses a pack of another config, and `verify_rebuilt` compares the
rebuilt files against those checksums.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from helpers.core.fileio import sha256_bytes

WEIGHTS_VERSION = 1
PACK_FOLDER = "weights"


class WeightsError(ValueError):
    """A weights pack that cannot be used as it is; the message names the file and the fix."""


def float_variants(config) -> list[str]:
    """The variants whose members are trained (the rest are converted from these)."""
    from helpers.core.variants import CONTROL_FLOAT, variant_name

    return ["baseline", CONTROL_FLOAT, *[variant_name(s, "float32") for s in config.sparsities]]


def pack_path(profile_root: Path, seed: int) -> Path:
    return Path(profile_root) / PACK_FOLDER / f"seed_{seed}.weights.zip"


def encode(weights: list[np.ndarray], sparse: bool) -> dict:
    """{name: array} of one member's weights; kernels (ndim > 1) of a pruned member as a
    packed bit mask of the non-zeros plus the non-zero values."""
    out = {}
    for i, w in enumerate(weights):
        w = np.asarray(w, dtype=np.float32)
        if sparse and w.ndim > 1:
            nz = w != 0
            out[f"{i}.mask"] = np.packbits(nz.ravel())
            # pruning multiplies by a 0/1 mask, so a pruned negative weight is −0.0; its
            # sign is kept (one more bit mask) so the rebuilt files are byte-identical
            out[f"{i}.negzero"] = np.packbits((~nz & np.signbit(w)).ravel())
            out[f"{i}.values"] = w[nz]
            out[f"{i}.shape"] = np.asarray(w.shape, dtype=np.int64)
        else:
            out[f"{i}.dense"] = w
    return out


def decode(arrays: dict, n_weights: int) -> list[np.ndarray]:
    """The inverse of `encode`: the member's weights, bit for bit."""
    out = []
    for i in range(n_weights):
        if f"{i}.dense" in arrays:
            out.append(np.asarray(arrays[f"{i}.dense"], dtype=np.float32))
            continue
        shape = tuple(int(x) for x in arrays[f"{i}.shape"])
        size = int(np.prod(shape))
        nz = np.unpackbits(arrays[f"{i}.mask"], count=size).astype(bool)
        w = np.zeros(size, dtype=np.float32)
        values = arrays[f"{i}.values"]
        if int(nz.sum()) != values.size:
            raise WeightsError(
                f"weight {i}: the mask has {int(nz.sum())} non-zeros but {values.size} "
                f"values are stored; the pack is damaged, write it again."
            )
        w[nz] = values
        w[np.unpackbits(arrays[f"{i}.negzero"], count=size).astype(bool)] = -0.0
        out.append(w.reshape(shape))
    return out


def pack(exp) -> bytes:
    """One .npz-format zip (np.savez_compressed) holding every trained member of the experiment's store (see module doc)."""
    cfg = exp.config
    arrays, meta = (
        {},
        {
            "weights_version": WEIGHTS_VERSION,
            "config_hash": cfg.hash,
            "seed": cfg.seed,
            "profile": cfg.profile,
            "variants": {},
            "files": {},
        },
    )
    for variant in float_variants(cfg):
        members = exp.float_members(variant)
        sparse = variant.startswith("s")
        meta["variants"][variant] = []
        for m, model in enumerate(members):
            weights = model.get_weights()
            meta["variants"][variant].append({"config": model.to_json(), "n_weights": len(weights)})
            for key, value in encode(weights, sparse).items():
                arrays[f"{variant}/{m}/{key}"] = value
    manifest = exp.store.manifest()
    meta["files"] = {rel: sha for rel, sha in sorted(manifest.get("files", {}).items()) if rel.startswith("models/")}
    return pack_bytes(meta, arrays)


def write_pack(exp, profile_root: Path) -> Path:
    """Write the seed's pack atomically into the profile store's weights/ folder."""
    from helpers.core.fileio import atomic_write_bytes

    path = pack_path(profile_root, exp.config.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, pack(exp))
    return path


def pack_bytes(meta: dict, arrays: dict) -> bytes:
    """One .npz-format zip (np.savez_compressed) of `arrays` plus `meta` as "meta.json": the
    format of the weights and the per-image packs."""
    arrays = {**arrays, "meta.json": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def open_pack(path: Path, sha256: str | None, error, what: str, fix: str) -> tuple[dict, dict]:
    """(meta, arrays) of a pack written by pack_bytes, its sha256 checked when given; `error`
    (one sentence naming the file, `what` it should be and the `fix`) otherwise."""
    path = Path(path)
    if not path.exists():
        raise error(
            f"{path} does not exist though its seed record names it; restore it from git (git checkout -- {path}) or {fix}."
        )
    data = path.read_bytes()
    if sha256 is not None and sha256_bytes(data) != sha256:
        raise error(
            f"{path} has sha256 {sha256_bytes(data)[:12]}…, not the {sha256[:12]}… its seed record "
            f"names; restore it from git (git checkout -- {path}) or {fix}."
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta.json").tobytes())
    except Exception as e:  # not an npz, or no meta: one sentence, not a traceback
        raise error(f"{path} is not {what} ({type(e).__name__}); restore it from git or {fix}.") from None
    return meta, arrays


def read_pack(path: Path, config=None, sha256: str | None = None) -> tuple[dict, dict]:
    """(meta, arrays) of a pack, checked: its sha256 (when given, e.g. from the seed record),
    its version and, when `config` is given, its config hash and seed."""
    meta, arrays = open_pack(path, sha256, WeightsError, "a weights pack", "re-run that seed")
    if meta.get("weights_version") != WEIGHTS_VERSION:
        raise WeightsError(
            f"{path} is a version {meta.get('weights_version')} pack; this code reads "
            f"version {WEIGHTS_VERSION}: write it again from the seed's store."
        )
    if config is not None and (meta["config_hash"], meta["seed"]) != (config.hash, config.seed):
        raise WeightsError(
            f"{path} holds seed {meta['seed']} of config {meta['config_hash']}, not seed "
            f"{config.seed} of config {config.hash}; it belongs to other training values."
        )
    return meta, arrays


def members_of(meta: dict, arrays: dict, variant: str) -> list:
    """The Keras members of one variant, rebuilt from the pack."""
    import tf_keras as keras

    out = []
    for m, entry in enumerate(meta["variants"][variant]):
        model = keras.models.model_from_json(entry["config"])
        prefix = f"{variant}/{m}/"
        mine = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        model.set_weights(decode(mine, entry["n_weights"]))
        out.append(model)
    return out


def restore(exp, path: Path, sha256: str | None = None) -> list[str]:
    """Write every trained member of the pack into the experiment's store (as training
    would have: deterministic .keras archives, recorded in the manifest); returns the
    variants restored. Files the store already holds are left alone."""
    meta, arrays = read_pack(path, exp.config, sha256)
    restored = []
    for variant in float_variants(exp.config):
        if variant not in meta["variants"]:
            raise WeightsError(
                f"{path} lacks the members of {variant}; it was written for other "
                f"sparsities: re-train that variant with `{exp.store.command('train')}`."
            )
        paths = exp._paths(variant, ".keras")
        if exp.store.has_files(paths):
            continue
        exp._save_keras(variant, members_of(meta, arrays, variant))
        restored.append(variant)
    return restored


def verify_rebuilt(exp, meta_files: dict) -> list[str]:
    """Model files of the store whose sha256 differs from the pack's record (relative paths)."""
    from helpers.core.fileio import sha256_file

    bad = []
    for rel, sha in meta_files.items():
        path = exp.store.root / rel
        if path.exists() and sha256_file(path) != sha:
            bad.append(rel)
    return bad
