"""The one producer of between-seed numbers and verdicts: seed records -> summary.json.

    python -m helpers aggregate --profile paper      # run by `build` after `evaluate`

reads every seed record under `artifacts/<profile>/seeds/` (each verified: seed as in its
name, its config hash recomputed, one evaluation version, no two records alike) and writes
`artifacts/<profile>/summary.json`::

    {"profile", "summary_version", "seeds": [...], "n_seeds", "evaluation_version",
     "lineage": {"seed_<s>.json": sha256},  "alpha",
     "stats": {variant: {dataset | "size": {metric: {"n", "mean", "sd", "low", "high", "values"}}}},
     "diffs": {"vs_baseline" | "vs_q8" | "vs_control":
               {variant: {dataset: {metric: {n, mean, sd, low, high, values}}}}},
     "verdicts": {"v1": [claim rows, helpers.stats.claims on every seed],
                  "v2": {"all": {claim: {dataset: judged}}, "confirmatory": {...} | null,
                         "seen": {...}}},
     "datasets": {dataset: {"label", "kind"}},
     "two_level": {"seeds", "n_seeds", "n_images", "method",
                   "variants": {variant: {metric: {"mean", "two_level": {se, df, low, high, tost_low,
                                tost_high, components}, "seeds": {...the t-interval over the same seeds}}}},
                   "verdicts": {"seeds" | "two_level": {claim: {dataset: judged}}}} | null,
     "frontier": {...} | null}         # helpers.stages.frontier_numbers: the memory-budget frontier

Every interval is the (1 − α) t-interval over seeds (n seeds, n − 1 degrees of freedom);
a "diff" is the per-seed paired difference variant − reference. The exception is
"two_level": accuracy, NLL and Brier differences to the baseline on MNIST over the seeds
with per-image packs (helpers.stages.per_image), with an interval over seeds and test images
(helpers.stats.inference.crossed_mean), and the claims on them (C2-C4, C8) judged again with it. Tables, figures, prose and
the landing page only read this file: no presentation module averages over seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.fileio import sha256_bytes
from helpers.stages.frontier_numbers import frontier_block
from helpers.stages.seed_numbers import json_safe, numbers, two_level_block
from helpers.stats.claims_v2 import IMAGE_CLAIMS, v2_two_level, v2_verdicts
from helpers.stats.rules import VERSION as RULES_VERSION
from helpers.stats.rules import RulesV2, load_rules_v2, rules_digest

SUMMARY_VERSION = 3  # 2: table1_rows (chapter 01 builds no model); 3: the frontier block
SUMMARY = "summary.json"

# What each rule set had seen when it was committed (the book states both).
SEEN = {
    "v1": {"seeds": [0], "commit": "117843c", "when": "after seed 0's paper-profile results, before seeds 1-4"},
    "v2": {"seeds": [0, 1, 2, 3, 4], "commit": "1aea55b", "when": "after seeds 0-4, before seeds 5-14"},
}
CONFIRMATORY_FROM = 5
"""Seeds from this one on were run after rules v2 were committed: v2's confirmatory evidence."""


class AggregateError(ValueError):
    """Seed records that cannot be aggregated as they are; the message names the file."""


# --- reading the seed records ---------------------------------------------------------------


def read_records(profile_root: Path, cfg, check_hash: bool = True) -> tuple[list, dict]:
    """Every seed record of the profile store, verified; (records sorted by seed, lineage).

    Refused, each with one sentence naming the file: a record that is not in the records
    index (seeds/index.json) or whose sha256 differs from it, whose seed differs from its
    name or from its results, whose config hash is not that of `cfg` at the record's seed,
    or whose results equal another's. Records of an older evaluation version than the
    newest are left out (named in lineage["left_out"]): one evaluation version per aggregate.
    """
    import dataclasses

    from helpers.stages.records import SweepError, index_problem, read_index, read_seed_record

    folder = Path(profile_root) / "seeds"
    paths = sorted(folder.glob("seed_*.json"), key=lambda p: int(p.stem.split("_")[1]) if p.stem.split("_")[1].isdigit() else -1)
    if not paths:
        raise AggregateError(
            f"No seed records in {folder}; record seeds with `python -m helpers sweep --profile {cfg.profile} --seeds 0-4` first."
        )
    try:
        index = read_index(profile_root)
    except SweepError as e:
        raise AggregateError(str(e)) from None
    records, lineage, seen = [], {}, {}
    for path in paths:
        problem = index_problem(path, index, cfg.profile)
        if problem:
            raise AggregateError(problem)
        data = path.read_bytes()
        record = read_seed_record(path)
        results = record["results"]
        if results.get("seed", record["seed"]) != record["seed"]:
            raise AggregateError(
                f"Seed record {path} is named seed {record['seed']} but holds the "
                f"results of seed {results.get('seed')}; delete it and re-run the "
                f"sweep for that seed."
            )
        if check_hash:
            expected = dataclasses.replace(cfg, seed=record["seed"]).hash
            if record["config_hash"] != expected:
                raise AggregateError(
                    f"Seed record {path} has config hash {record['config_hash']}, "
                    f"not {expected} of profile {cfg.profile!r} seed {record['seed']}; "
                    f"it was computed with other values: delete it and re-run the "
                    f"sweep for that seed."
                )
        digest = sha256_bytes(json.dumps(results["variants"], sort_keys=True).encode())
        if digest in seen:
            raise AggregateError(
                f"Seed record {path} holds the same results as {seen[digest]}: a "
                f"copy is not an independent seed; delete the copy."
            )
        seen[digest] = path.name
        records.append(record)
        lineage[path.name] = sha256_bytes(data)
    sizes = {
        json.dumps({d: i.get("n") for d, i in r["results"].get("datasets", {}).items()}, sort_keys=True): r["seed"]
        for r in records
    }
    if len(sizes) > 1:
        (a, seed_a), (b, seed_b) = list(sizes.items())[:2]
        raise AggregateError(
            f"The seed records in {folder} were evaluated on different images (seed "
            f"{seed_a}: {a}; seed {seed_b}: {b}); one aggregate needs one set of "
            f"evaluation values: re-evaluate them alike with `python -m helpers evaluate "
            f"--profile {cfg.profile} --seeds {','.join(str(r['seed']) for r in records)}`."
        )
    versions = {r["results"].get("evaluation_version") for r in records}
    if len(versions) > 1:
        # One evaluation version per aggregate: the newest. Records of an older one (seeds
        # whose weights were not kept cannot be re-evaluated) are left out and named.
        newest = max(v for v in versions if v is not None)
        left = [r for r in records if r["results"].get("evaluation_version") != newest]
        records = [r for r in records if r["results"].get("evaluation_version") == newest]
        for r in left:
            lineage.pop(f"seed_{r['seed']}.json", None)
        lineage["left_out"] = {
            f"seed_{r['seed']}.json": f"evaluation version {r['results'].get('evaluation_version')}, not {newest}" for r in left
        }
    return sorted(records, key=lambda r: r["seed"]), lineage


def per_image_runs(records: list[dict], root: Path) -> dict:
    """{seed: {variant: {metric: (N,) array}}} of every record that names a per-image pack,
    each checked: the pack's sha256 against the record, its seed and config hash against the
    record's, one image count for all, and its means against the record's own numbers."""
    from helpers.stages.per_image import PerImageError, read_pack

    out, counts = {}, {}
    for r in records:
        if not r.get("per_image"):
            continue
        rel, sha = next(iter(r["per_image"].items()))
        path = Path(root) / rel
        try:
            meta, losses = read_pack(path, sha, seed=r["seed"])
        except PerImageError as e:
            raise AggregateError(str(e)) from None
        if meta["config_hash"] != r["config_hash"]:
            raise AggregateError(
                f"{path} was written for config {meta['config_hash']}, not the "
                f"{r['config_hash']} of its seed record; write it again with "
                f"`python -m helpers weights --profile {r['results']['profile']} "
                f"--seeds {r['seed']}`."
            )
        for variant, values in losses.items():
            recorded = r["results"]["variants"][variant]["mnist"]
            for metric, v in values.items():
                if abs(float(v.mean()) - recorded[metric]) > 1e-6:
                    raise AggregateError(
                        f"{path}: the mean {metric} of {variant} over its images "
                        f"({float(v.mean()):.9f}) is not its record's "
                        f"({recorded[metric]:.9f}); the pack belongs to other "
                        f"predictions: write it again with `python -m helpers weights "
                        f"--profile {r['results']['profile']} --seeds {r['seed']}`."
                    )
        counts[r["seed"]] = meta["n_images"]
        out[r["seed"]] = losses
    if len(set(counts.values())) > 1:
        raise AggregateError(
            f"The per-image packs under {root} hold different image counts ({counts}); one two-level interval needs one test set."
        )
    return out


# --- the whole summary -------------------------------------------------------------------------
def summarize(
    records: list[dict],
    lineage: dict,
    config,
    table1_rows: list[dict],
    rules_v1=None,
    rules_v2: RulesV2 | None = None,
    per_seed: dict | None = None,
) -> dict:
    """The summary of every seed record (schema in the module doc). Pure: no file is read;
    `per_seed` holds the per-image losses of the seeds that have them (per_image_runs)."""
    from helpers.stats.claims import Evidence, assess
    from helpers.stats.verdicts import load_rules

    rules_v1 = rules_v1 or load_rules(config.config_path)
    rules_v2 = rules_v2 or load_rules_v2(config.config_path)
    runs = [r["results"] for r in records]
    seeds = [r["seed"] for r in records]
    alpha = rules_v2.alpha
    v1_rows = assess(Evidence(runs, rules_v1), table1_rows, config)
    confirmatory_runs = [r["results"] for r in records if r["seed"] >= CONFIRMATORY_FROM]
    confirmatory = (
        v2_verdicts(confirmatory_runs, rules_v2, table1_rows, config) if len(confirmatory_runs) >= rules_v2.min_seeds else None
    )
    two_level, intervals = two_level_block(per_seed or {}, alpha)
    if two_level:
        subset = [r["results"] for r in records if r["seed"] in two_level["seeds"]]
        same_seeds = v2_verdicts(subset, rules_v2, table1_rows, config)
        two_level["verdicts"] = {
            "seeds": {c: same_seeds[c] for c in IMAGE_CLAIMS},
            "two_level": v2_two_level(same_seeds, intervals, rules_v2),
        }
    summary = {
        "profile": config.profile,
        "summary_version": SUMMARY_VERSION,
        "rules_version": RULES_VERSION,
        "rules_digest": rules_digest(config.config_path),
        "lineage": lineage,
        **numbers(runs, seeds, alpha),
        "reopenable": [r["seed"] for r in records if r.get("weights")],
        "table1_rows": table1_rows,
        "two_level": two_level,
        "frontier": frontier_block(records, config, alpha, rules_v2),
        "verdicts": {
            "v1": v1_rows,
            "v2": {
                "all": v2_verdicts(runs, rules_v2, table1_rows, config),
                "confirmatory": confirmatory,
                "confirmatory_seeds": [s for s in seeds if s >= CONFIRMATORY_FROM],
                "seen": SEEN,
            },
        },
    }
    return json_safe(summary)


def main_record(results: dict, frontier: dict | None = None) -> dict:
    """The store's own results.json (and frontier.json) as a record (a store with no sweep: one seed)."""
    record = {"seed": results.get("seed", 0), "config_hash": results.get("config_hash"), "results": results}
    return {**record, "frontier": frontier} if frontier else record


def aggregate(cfg, results: dict | None = None, echo=print, frontier: dict | None = None) -> Path:
    """Read and verify the seed records of `cfg`'s store (plus its own results.json when its
    seed has no record), summarize them and write summary.json atomically beside them."""
    from helpers.core.fileio import atomic_write_json, json_bytes
    from helpers.engine import models
    from helpers.store.artifacts import Store

    store = Store(cfg, create=False)
    root = store.root
    folder = root / "seeds"
    records, lineage = read_records(root, cfg) if any(folder.glob("seed_*.json")) else ([], {})
    if cfg.seed not in {r["seed"] for r in records}:
        if results is None:
            path = store.path(store.results_name())
            if not path.exists():
                raise AggregateError(
                    f"{path} does not exist and {folder} holds no record of seed "
                    f"{cfg.seed}; compute it first with `{store.command('evaluate')}`."
                )
            results = json.loads(path.read_text())
        records = sorted([*records, main_record(results, frontier)], key=lambda r: r["seed"])
        lineage["results.json"] = sha256_bytes(json_bytes(results))
    table1_rows = models.layer_rows(models.build_member(cfg, 0))
    summary = summarize(records, lineage, cfg, table1_rows, per_seed=per_image_runs(records, root))
    path = root / SUMMARY
    atomic_write_json(path, summary)
    echo(f"summary of seed{'s' if len(records) > 1 else ''} {', '.join(map(str, summary['seeds']))} in {store.rel(path)}")
    return path


def is_current(profile_root: Path, config_path=None) -> bool:
    """Whether summary.json exists, its lineage matches the seed records on disk and, when
    `config_path` is given, its verdicts were judged with that file's rules (rules_digest)."""
    path = Path(profile_root) / SUMMARY
    if not path.exists():
        return False
    try:
        summary = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    folder = Path(profile_root) / "seeds"
    on_disk = {p.name: sha256_bytes(p.read_bytes()) for p in folder.glob("seed_*.json")}
    left = summary.get("lineage", {}).get("left_out", {})
    recorded = {k: v for k, v in summary.get("lineage", {}).items() if k not in ("results.json", "left_out")}
    on_disk = {k: v for k, v in on_disk.items() if k not in left}
    rules_ok = config_path is None or summary.get("rules_digest") == rules_digest(config_path)
    return summary.get("summary_version") == SUMMARY_VERSION and recorded == on_disk and rules_ok


__all__ = ["aggregate", "summarize", "read_records", "is_current", "AggregateError", "SUMMARY"]
