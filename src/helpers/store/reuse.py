"""Trained members reused across the stores of this machine: a config that differs from
another store's only in values that do not shape a member gets that member copied, never
trained again (an extension costs what it adds).

    reuse.copy_members(store, config, "baseline", paths)    # -> the store it came from, or None

What shapes a variant's members (member_key): the baseline's, the training values (model,
ensemble size, epochs, optimizer, learning rate, batch size, validation split, training
subset, seed); a re-trained variant's (the control `ft`, a pruned `sNN_float`), those plus
the re-training values, but not the list of the other sparsities: compression.prune_all
re-trains every target exactly as it would alone (tests/test_compression.py). So adding
sparsity 0.9 to a profile opens a new store (its pruning hash changed) that copies the
baseline, the control and the other sparsities' members and re-trains only the 0.9 ones
(tests/test_extend.py). Every copied file is checked against the sha256 of the store it
comes from and recorded in the new store's manifest, and its training histories come along.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.config import stage_hash_of
from helpers.core.fileio import atomic_write_bytes, sha256_file

MANIFEST = "manifest.json"


def member_key(values: dict, variant: str) -> str:
    """The hash of every config value that shapes `variant`'s members."""
    if variant == "baseline":
        return stage_hash_of(values, "training")
    return stage_hash_of({**values, "sparsities": []}, "pruning")


def history_key(variant: str) -> str:
    return "train" if variant == "baseline" else f"retrain_{variant}"


def sibling_stores(root: Path, artifacts: Path) -> list[Path]:
    """Every other store under `artifacts` (a folder holding a manifest), sorted."""
    return sorted(p.parent for p in Path(artifacts).glob(f"*/{MANIFEST}") if p.parent != Path(root))


def copy_members(store, config, variant: str, paths: list, artifacts: Path | None = None) -> Path | None:
    """Copy `variant`'s member files (`paths`, in `store`) from another store made from the
    same member_key, each verified against that store's sha256; record them here, with
    their histories. Returns the store copied from, or None when no store has them."""
    from helpers.store.artifacts import artifacts_root

    want = member_key(config.values(), variant)
    rels = [store.rel(p) for p in paths]
    for other in sibling_stores(store.root, artifacts or artifacts_root()):
        try:
            manifest = json.loads((other / MANIFEST).read_text())
        except (OSError, ValueError):
            continue  # a store being written, or damaged: not one to copy from
        values, files = manifest.get("config"), manifest.get("files", {})
        if not isinstance(values, dict) or member_key(values, variant) != want:
            continue
        if not all(rel in files and (other / rel).is_file() and sha256_file(other / rel) == files[rel] for rel in rels):
            continue
        for rel, path in zip(rels, paths):
            atomic_write_bytes(path, (other / rel).read_bytes())
        store.record_files(paths)
        # where they came from (and on what machine and thread setting they were trained)
        store.update_manifest(
            copied={**store.manifest().get("copied", {}), variant: {"from": other.name, "machine": manifest.get("machine")}}
        )
        _copy_history(store, other, variant, paths, config)
        print(
            f"{rels[0]} and {len(rels) - 1} more copied from the store {other.name} (the same "
            f"values shape them): not trained again.",
            flush=True,
        )
        return other
    return None


def _copy_history(store, other: Path, variant: str, paths: list, config) -> None:
    try:
        histories = json.loads((other / "histories.json").read_text())
    except (OSError, ValueError):
        return
    key = history_key(variant)
    if key in histories:
        stage = {"training": config.stage_hash("training")} if variant == "baseline" else {"pruning": config.hash}
        store.update_derived("histories.json", key, histories[key], store.lineage(paths, **stage))
