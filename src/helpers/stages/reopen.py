"""Seeds re-opened from their committed weights: pack them, and evaluate them again
without training.

    export_weights("paper", [0, 5, 6])     # python -m helpers weights --profile paper --seeds 0,5,6
                                            #   (weights and per-image packs, helpers.stages.per_image)
    reevaluate("paper", range(15))          # python -m helpers evaluate --profile paper --seeds 0-14

A seed's pack (helpers.engine.weights) is named with its sha256 in its record; re-evaluation
restores the members from it (checked), converts them again (every rebuilt .tflite checked
against the record's sha256), evaluates, and writes the new results into the record.
"""

from __future__ import annotations

import time

from helpers.stages.records import (
    SweepError,
    ensure_index,
    profile_store_root,
    read_seed_record,
    record_path,
    with_per_image,
    with_weights,
    write_record,
)


def export_weights(profile: str, seeds) -> dict:
    """Write the weights and per-image packs of every seed whose store is complete on this
    machine and name them in the seed's record; a seed whose store is gone but whose record
    names a weights pack is re-opened from it (restored, converted, checked) to write its
    per-image pack. {seed: what was written, or the reason it was skipped}."""
    from helpers.store.artifacts import StoreError

    root = profile_store_root(profile)
    out = {}
    for seed in seeds:
        path = record_path(root, seed)
        if not path.exists():
            out[seed] = f"no record ({path.name}); run the sweep for it first"
            continue
        record = read_seed_record(path)
        try:
            record = with_weights(profile, seed, record)
        except StoreError as e:
            if not record.get("weights"):
                out[seed] = f"its store is not on this machine ({' '.join(str(e).split())[:160]})"
                continue
            record = with_per_image(reopened(profile, seed, record), record)
        write_record(root, seed, record)
        out[seed] = ", ".join([*record["weights"], *record["per_image"]])
    ensure_index(root)  # a store from before the records index: its records as they are
    return out


def reopened(profile: str, seed: int, record: dict):
    """The seed's Experiment with every trained member restored from its committed weights
    pack (sha256 checked against the record) and every model file converted again, each
    rebuilt .tflite checked against the record's sha256."""
    from helpers.core.config import load_config
    from helpers.engine.weights import WeightsError, read_pack, verify_rebuilt
    from helpers.stages.experiment import Experiment

    root = profile_store_root(profile)
    rel, sha = next(iter(record["weights"].items()))
    read_pack(root / rel, load_config(profile, seed=seed), sha)
    exp = Experiment(load_config(profile, seed=seed))
    exp.restore_weights()
    exp.build_all()  # converts only: every trained member is in the store now
    bad = verify_rebuilt(exp, {k: v for k, v in record["files"].items() if k.endswith(".tflite")})
    if bad:
        raise WeightsError(
            f"Seed {seed}: {len(bad)} rebuilt model files differ from its record "
            f"(first {bad[0]}); this machine's TensorFlow converts differently "
            f"(versions {record.get('versions', {}).get('tensorflow')} recorded)."
        )
    return exp


def reevaluate(profile: str, seeds, echo=print) -> dict:
    """Evaluate every seed again from its committed weights, without training: restore the
    members (sha256 of the pack checked against the record), convert them again (every
    rebuilt model file checked against the record's sha256), evaluate, and write the new
    results and per-image losses into the record. A seed without a weights pack is
    skipped, named."""
    from helpers.stages import evaluation

    root = profile_store_root(profile)
    out = {}
    for seed in seeds:
        path = record_path(root, seed)
        if not path.exists():
            raise SweepError(
                f"Seed {seed} of profile {profile!r} has no record ({path}); run "
                f"`python -m helpers sweep --profile {profile} --seeds {seed}` first."
            )
        record = read_seed_record(path)
        if not record.get("weights"):
            out[seed] = "skipped: no committed weights (its models were not kept); its record stays as it is"
            echo(f"seed {seed}: {out[seed]}")
            continue
        start = time.monotonic()
        exp = reopened(profile, seed, record)
        reopening = time.monotonic() - start
        results = evaluation.evaluate(exp)
        # wall seconds on this machine (the record's machine entry names the one it was run on)
        timings = {
            **record.get("timings", {}),
            "reopening": round(reopening, 2),
            "evaluation": round(time.monotonic() - start - reopening, 2),
        }
        write_record(root, seed, with_per_image(exp, {**record, "results": results, "timings": timings}))
        out[seed] = "re-evaluated"
        echo(f"seed {seed}: re-evaluated from {next(iter(record['weights']))} -> {path}")
    return out
