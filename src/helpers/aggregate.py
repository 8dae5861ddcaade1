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
     "verdicts": {"v1": [claim rows, helpers.claims on every seed],
                  "v2": {"all": {claim: {dataset: judged}}, "confirmatory": {...} | null,
                         "seen": {...}}},
     "datasets": {dataset: {"label", "kind"}}}

Every interval is the (1 − α) t-interval over seeds (n seeds, n − 1 degrees of freedom);
a "diff" is the per-seed paired difference variant − reference. Tables, figures, prose and
the landing page only read this file: no presentation module averages over seeds.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from . import paper
from .rules import (CONTRADICTED, NOT_TESTED, RulesV2, equivalence_part, judge, load_rules_v2,
                    measured_part, region_part, trend_parts)
from .rules import VERSION as RULES_VERSION
from .stats import t_interval

SUMMARY_VERSION = 1
SUMMARY = "summary.json"

# What each rule set had seen when it was committed (the book states both).
SEEN = {"v1": {"seeds": [0], "commit": "117843c",
               "when": "after seed 0's paper-profile results, before seeds 1-4"},
        "v2": {"seeds": [0, 1, 2, 3, 4], "commit": "1aea55b", "when": "after seeds 0-4, before seeds 5-14"}}
CONFIRMATORY_FROM = 5
"""Seeds from this one on were run after rules v2 were committed: v2's confirmatory evidence."""

TREND_POINTS = ["q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8"]
DATASET_LABELS = {"mnist": "MNIST", "notmnist": "NotMNIST", "fashion_mnist": "Fashion-MNIST",
                  "rotated_mnist": "rotated MNIST", "corrupted_mnist": "corrupted MNIST"}
TREND_DATASETS = ("notmnist", "fashion_mnist", "rotated_mnist", "corrupted_mnist")
"""The datasets each trend claim (C6, C7, C10) is judged on, the paper's (NotMNIST) first."""
MEASURE_LABELS = {"classified_fraction": "fraction with confidence ≥ τ", "mean_entropy": "entropy",
                  "mean_disagreement": "disagreement", "mean_member_entropy": "member entropy"}
SCALAR_SKIP = ("_low", "_high")
REFERENCES = {"vs_baseline": "baseline", "vs_q8": "q8", "vs_control": "ft_q8"}
BUDGET_PANELS = (("mnist", "nll", "MNIST NLL (nats)", False),
                 ("mnist", "ece", "MNIST ECE", False),
                 ("notmnist", "detection.entropy.auroc", "NotMNIST AUROC (entropy)", True))
"""The memory-budget figure's panels: (dataset, metric, axis title, higher is better)."""


class AggregateError(ValueError):
    """Seed records that cannot be aggregated as they are; the message names the file."""


# --- reading the seed records ---------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_records(profile_root: Path, cfg, check_hash: bool = True) -> tuple[list, dict]:
    """Every seed record of the profile store, verified; (records sorted by seed, lineage).

    Refused, each with one sentence naming the file: a record whose seed differs from its
    name or from its results, whose config hash is not that of `cfg` at the record's seed,
    or whose results equal another's. Records of an older evaluation version than the
    newest are left out (named in lineage["left_out"]): one evaluation version per aggregate.
    """
    import dataclasses

    from .sweep import read_seed_record

    folder = Path(profile_root) / "seeds"
    paths = sorted(folder.glob("seed_*.json"), key=lambda p: int(p.stem.split("_")[1])
                   if p.stem.split("_")[1].isdigit() else -1)
    if not paths:
        raise AggregateError(f"No seed records in {folder}; record seeds with `python -m helpers "
                             f"sweep --profile {cfg.profile} --seeds 0-4` first.")
    records, lineage, seen = [], {}, {}
    for path in paths:
        data = path.read_bytes()
        record = read_seed_record(path)
        results = record["results"]
        if results.get("seed", record["seed"]) != record["seed"]:
            raise AggregateError(f"Seed record {path} is named seed {record['seed']} but holds the "
                                 f"results of seed {results.get('seed')}; delete it and re-run the "
                                 f"sweep for that seed.")
        if check_hash:
            expected = dataclasses.replace(cfg, seed=record["seed"]).hash
            if record["config_hash"] != expected:
                raise AggregateError(f"Seed record {path} has config hash {record['config_hash']}, "
                                     f"not {expected} of profile {cfg.profile!r} seed {record['seed']}; "
                                     f"it was computed with other values: delete it and re-run the "
                                     f"sweep for that seed.")
        digest = sha256_bytes(json.dumps(results["variants"], sort_keys=True).encode())
        if digest in seen:
            raise AggregateError(f"Seed record {path} holds the same results as {seen[digest]}: a "
                                 f"copy is not an independent seed; delete the copy.")
        seen[digest] = path.name
        records.append(record)
        lineage[path.name] = sha256_bytes(data)
    sizes = {json.dumps({d: i.get("n") for d, i in r["results"].get("datasets", {}).items()}, sort_keys=True):
             r["seed"] for r in records}
    if len(sizes) > 1:
        (a, seed_a), (b, seed_b) = list(sizes.items())[:2]
        raise AggregateError(f"The seed records in {folder} were evaluated on different images (seed "
                             f"{seed_a}: {a}; seed {seed_b}: {b}); one aggregate needs one set of "
                             f"evaluation values: re-evaluate them alike (python -m helpers evaluate).")
    versions = {r["results"].get("evaluation_version") for r in records}
    if len(versions) > 1:
        # One evaluation version per aggregate: the newest. Records of an older one (seeds
        # whose weights were not kept cannot be re-evaluated) are left out and named.
        newest = max(v for v in versions if v is not None)
        left = [r for r in records if r["results"].get("evaluation_version") != newest]
        records = [r for r in records if r["results"].get("evaluation_version") == newest]
        for r in left:
            lineage.pop(f"seed_{r['seed']}.json", None)
        lineage["left_out"] = {f"seed_{r['seed']}.json": f"evaluation version "
                               f"{r['results'].get('evaluation_version')}, not {newest}" for r in left}
    return sorted(records, key=lambda r: r["seed"]), lineage


# --- statistics over seeds -------------------------------------------------------------------
def describe(values, alpha: float) -> dict:
    """{"n", "mean", "sd", "low", "high", "values"} of one value per seed."""
    v = np.asarray(values, dtype=np.float64)
    mean, low, high = t_interval(v, alpha)
    return {"n": int(v.size), "mean": mean, "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
            "low": low, "high": high, "values": v.tolist()}


def _scalars(node: dict, prefix: str = "") -> dict:
    """Every number of a results node, nested dicts walked ("detection.entropy.auroc")."""
    out = {}
    for key, value in node.items():
        if key == "vs_baseline" or key.endswith(SCALAR_SKIP) or "_diff" in key:
            continue  # per-run, image-level comparisons: not seed-level quantities
        if isinstance(value, dict):
            out.update(_scalars(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


def seed_table(runs: list[dict], variant: str, dataset: str) -> dict:
    """{metric: [one value per seed]} of results[variant][dataset] (dataset "size": the
    variant's own zipped_bytes, compression_ratio and members), present in every seed."""
    tables = []
    for r in runs:
        v = r["variants"].get(variant)
        if v is None:
            return {}
        node = ({k: v[k] for k in ("zipped_bytes", "compression_ratio", "members") if k in v}
                if dataset == "size" else v.get(dataset))
        if node is None:
            return {}
        tables.append(_scalars(node))
    keys = set(tables[0]).intersection(*tables[1:]) if tables else set()
    return {k: [t[k] for t in tables] for k in sorted(keys)}


def dataset_names(runs: list[dict]) -> list[str]:
    """Datasets summarized: the in-distribution and OOD sets, and the shift families."""
    names = [d for d, info in runs[0]["datasets"].items() if info.get("kind", "in") in ("in", "ood")]
    return names + [f for f in ("rotated_mnist", "corrupted_mnist")
                    if any(f in v for v in runs[0]["variants"].values())]


def stats_block(runs: list[dict], alpha: float) -> dict:
    out = {}
    for variant in runs[0]["variants"]:
        out[variant] = {}
        for dataset in ["size", *dataset_names(runs)]:
            table = seed_table(runs, variant, dataset)
            if table:
                out[variant][dataset] = {k: describe(v, alpha) for k, v in table.items()}
    return out


def diffs_block(runs: list[dict], alpha: float) -> dict:
    """Per-seed paired differences to the baseline, the 0 % int8 ensemble and the control."""
    out = {}
    for kind, reference in REFERENCES.items():
        out[kind] = {}
        for variant in runs[0]["variants"]:
            if variant == reference:
                continue
            out[kind][variant] = {}
            for dataset in dataset_names(runs):
                a, b = seed_table(runs, variant, dataset), seed_table(runs, reference, dataset)
                common = sorted(set(a) & set(b))
                if common:
                    out[kind][variant][dataset] = {
                        k: describe(np.subtract(a[k], b[k]), alpha) for k in common}
    return out


# --- rules v2 applied to the claims ------------------------------------------------------------
def _values(runs, variant, dataset, key) -> np.ndarray:
    return np.asarray(seed_table(runs, variant, dataset)[key], dtype=np.float64)


def _has(runs, names, dataset=None) -> bool:
    return all(n in r["variants"] and (dataset is None or dataset in r["variants"][n])
               for r in runs for n in names)


def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def v2_compressed(runs, variants: list[str], rules: RulesV2) -> dict:
    """C2-C4: accuracy difference to the baseline equivalent to the paper's ± margin; size
    ratio ≥ tolerance × the paper's in every seed."""
    parts = []
    for v in variants:
        claim = paper.COMPRESSED[v]
        margin = rules.about_one_pp_margin if claim.approximate else rules.accuracy_margin_pp
        band = ((claim.accuracy_diff_pp - margin) / 100, (claim.accuracy_diff_pp + margin) / 100)
        d = _values(runs, v, "mnist", "accuracy") - _values(runs, "baseline", "mnist", "accuracy")
        parts.append({**equivalence_part(f"accuracy at {_pct(claim.sparsity)}", d, band, rules),
                      "variant": v, "measure": "accuracy"})
        if not math.isnan(claim.compression_ratio):
            ratios = _values(runs, v, "size", "compression_ratio")
            parts.append({**measured_part(f"size at {_pct(claim.sparsity)}",
                                          [bool(x >= rules.ratio_tolerance * claim.compression_ratio)
                                           for x in ratios], float(ratios.mean())),
                          "variant": v, "measure": "size"})
    return {"mnist": judge(parts, rules.alpha)}


def v2_c5(runs, variants: list[str], rules: RulesV2) -> dict:
    parts = []
    for v in ["baseline", *variants]:
        for dataset, region in (("mnist", (paper.MNIST_CLASSIFIED_ABOVE, math.inf)),
                                ("notmnist", paper.NOTMNIST_BAND)):
            what = "float32 baseline" if v == "baseline" else ("0 %" if v == "q8" else _pct(float(v[1:3]) / 100))
            parts.append({**region_part(f"{DATASET_LABELS[dataset]} at {what}",
                                        _values(runs, v, dataset, "classified_fraction"), region, rules),
                          "variant": v, "dataset": dataset})
    return {"notmnist": judge(parts, rules.alpha)}


def v2_trend(runs, series_of, increasing: bool, rules: RulesV2, datasets=TREND_DATASETS) -> dict:
    """A trend claim judged per dataset: series_of(dataset) -> [(series name, dataset, key)]."""
    points = [p for p in TREND_POINTS if _has(runs, [p])]
    names = ["0 %" if p == "q8" else _pct(float(p[1:3]) / 100) for p in points]
    out = {}
    for d in datasets:
        series = series_of(d)
        if not all(_has(runs, points, ds) for _, ds, _ in series):
            continue
        values = {name: np.stack([_values(runs, p, ds, key) for p in points], axis=1)
                  for name, ds, key in series}
        margins = {name: rules.margin(key) for name, _, key in series}
        parts = trend_parts(values, names, increasing, margins, rules)
        out[d] = judge(parts, rules.alpha)
    return out


def v2_c8(runs, variants: list[str], rules: RulesV2) -> dict:
    from .claims import no_change_band
    parts = []
    for v in [v for v in variants if v in paper.COMPRESSED and paper.COMPRESSED[v].sparsity <= 0.75]:
        for metric in ("accuracy", "nll", "brier"):
            base = _values(runs, "baseline", "mnist", metric)
            band = no_change_band(metric, float(base.mean()), rules)
            parts.append({**equivalence_part(f"{metric} at {_pct(paper.COMPRESSED[v].sparsity)}",
                                             _values(runs, v, "mnist", metric) - base, band, rules),
                          "variant": v, "measure": metric})
    return {"mnist": judge(parts, rules.alpha)}


def v2_c9(runs, rules: RulesV2) -> dict:
    factors = _values(runs, "s50_q8", "size", "zipped_bytes") / _values(runs, "single", "size", "zipped_bytes")
    part = measured_part("size", [bool(f <= rules.same_size_factor) for f in factors], float(factors.mean()))
    return {"mnist": judge([part], rules.alpha)}


def v2_c1(table1_rows: list[dict], config) -> dict:
    got = tuple((r["layer"], tuple(r["output_shape"]), r["params"]) for r in table1_rows if r["params"])
    settings = (config.epochs, config.retrain_epochs, config.validation_split, config.ensemble_size)
    wanted = (paper.EPOCHS, paper.RETRAIN_EPOCHS, paper.VALIDATION_SPLIT, paper.ENSEMBLE_SIZE)
    parts = [measured_part("layers", [got == paper.TABLE1]),
             measured_part("settings", [settings == wanted] if settings == wanted else [])]
    return {"model": judge(parts, 0.05)}


def v2_verdicts(runs: list[dict], rules: RulesV2, table1_rows: list[dict], config) -> dict:
    """{claim id: {dataset: judged}} under rules v2 (C1-C10, every claim the book shows)."""
    q8 = [p for p in TREND_POINTS[1:] if _has(runs, [p])]
    out = {"C1": v2_c1(table1_rows, config)}
    for cid, names in (("C2", ["s25_q8"]), ("C3", ["s50_q8", "s75_q8"]), ("C4", ["s95_q8"])):
        have = [n for n in names if _has(runs, [n])]
        out[cid] = v2_compressed(runs, have, rules) if have == names else {
            "mnist": judge([], rules.alpha)}
    out["C5"] = v2_c5(runs, q8, rules)
    out["C6"] = v2_trend(runs, lambda d: [("MNIST", "mnist", "classified_fraction"),
                                          (DATASET_LABELS[d], d, "classified_fraction")], False, rules)
    out["C7"] = v2_trend(runs, lambda d: [("entropy", d, "mean_entropy"),
                                          ("disagreement", d, "mean_disagreement")], True, rules)
    out["C8"] = v2_c8(runs, q8, rules)
    out["C9"] = v2_c9(runs, rules) if _has(runs, ["s50_q8", "single"]) else {"mnist": judge([], rules.alpha)}
    out["C10"] = v2_trend(runs, lambda d: [("disagreement", d, "mean_disagreement")], True, rules)
    return out


def headline_dataset(claim: dict) -> str:
    """The dataset a claim's one-word verdict comes from: the paper's (NotMNIST, MNIST)."""
    for d in ("notmnist", "mnist", "model"):
        if d in claim:
            return d
    return next(iter(claim))


# --- the memory budget -------------------------------------------------------------------------
def budget_variants(runs: list[dict]) -> list[str]:
    """Every ensemble of the memory-budget figure: every variant of the results (the
    config's variants and the equal-size references)."""
    return list(runs[0]["variants"])


def budget_fronts(stats: dict, names: list[str]) -> dict:
    """{metric key: Pareto front} of the seed-mean zipped size against each panel's seed mean."""
    from .evaluation import pareto_front
    fronts = {}
    for dataset, key, _, higher in BUDGET_PANELS:
        points = {n: (stats[n]["size"]["zipped_bytes"]["mean"], stats[n][dataset][key]["mean"])
                  for n in names if key in stats[n].get(dataset, {}) and "zipped_bytes" in stats[n].get("size", {})}
        fronts[key] = pareto_front(points, higher)
    return fronts


# --- the whole summary -------------------------------------------------------------------------
def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def numbers(runs: list[dict], seeds: list[int], alpha: float) -> dict:
    """The between-seed numbers of a summary (no verdicts): seeds, datasets, stats, diffs,
    the memory-budget fronts. Pure; tests build summaries of constructed runs with it."""
    stats = stats_block(runs, alpha)
    return _json_safe({
        "seeds": list(seeds), "n_seeds": len(seeds), "alpha": alpha,
        "evaluation_version": runs[0].get("evaluation_version"),
        "datasets": {d: {"label": DATASET_LABELS.get(d, d),
                         "kind": runs[0]["datasets"].get(d, {}).get("kind", "shift")}
                     for d in dataset_names(runs)},
        "stats": stats, "fronts": budget_fronts(stats, budget_variants(runs)),
        "diffs": diffs_block(runs, alpha)})


def summarize(records: list[dict], lineage: dict, config, table1_rows: list[dict],
              rules_v1=None, rules_v2: RulesV2 | None = None) -> dict:
    """The summary of every seed record (schema in the module doc). Pure: no file is read."""
    from .claims import Evidence, assess
    from .verdicts import load_rules

    rules_v1 = rules_v1 or load_rules(config.config_path)
    rules_v2 = rules_v2 or load_rules_v2(config.config_path)
    runs = [r["results"] for r in records]
    seeds = [r["seed"] for r in records]
    alpha = rules_v2.alpha
    v1_rows = assess(Evidence(runs, rules_v1), table1_rows, config)
    confirmatory_runs = [r["results"] for r in records if r["seed"] >= CONFIRMATORY_FROM]
    confirmatory = (v2_verdicts(confirmatory_runs, rules_v2, table1_rows, config)
                    if len(confirmatory_runs) >= rules_v2.min_seeds else None)
    summary = {
        "profile": config.profile, "summary_version": SUMMARY_VERSION, "rules_version": RULES_VERSION,
        "lineage": lineage, **numbers(runs, seeds, alpha),
        "reopenable": [r["seed"] for r in records if r.get("weights")],
        "verdicts": {
            "v1": v1_rows,
            "v2": {"all": v2_verdicts(runs, rules_v2, table1_rows, config),
                   "confirmatory": confirmatory,
                   "confirmatory_seeds": [s for s in seeds if s >= CONFIRMATORY_FROM],
                   "seen": SEEN}},
    }
    return _json_safe(summary)


def main_record(results: dict) -> dict:
    """The store's own results.json as a record (a store with no sweep: one seed)."""
    return {"seed": results.get("seed", 0), "config_hash": results.get("config_hash"),
            "results": results}


def aggregate(cfg, results: dict | None = None, echo=print) -> Path:
    """Read and verify the seed records of `cfg`'s store (plus its own results.json when its
    seed has no record), summarize them and write summary.json atomically beside them."""
    from . import models, tables
    from .store import Store, atomic_write_json, json_bytes

    store = Store(cfg, create=False)
    root = store.root
    folder = root / "seeds"
    records, lineage = (read_records(root, cfg) if any(folder.glob("seed_*.json")) else ([], {}))
    if cfg.seed not in {r["seed"] for r in records}:
        if results is None:
            path = store.path(store.results_name())
            if not path.exists():
                raise AggregateError(f"{path} does not exist and {folder} holds no record of seed "
                                     f"{cfg.seed}; compute it first with `{store.command('evaluate')}`.")
            results = json.loads(path.read_text())
        records = sorted([*records, main_record(results)], key=lambda r: r["seed"])
        lineage["results.json"] = sha256_bytes(json_bytes(results))
    table1_rows = tables.model_rows(models.build_member(cfg, 0))
    summary = summarize(records, lineage, cfg, table1_rows)
    path = root / SUMMARY
    atomic_write_json(path, summary)
    echo(f"summary of seed{'s' if len(records) > 1 else ''} "
         f"{', '.join(map(str, summary['seeds']))} in {store.rel(path)}")
    return path


def is_current(profile_root: Path) -> bool:
    """Whether summary.json exists and its lineage matches the seed records on disk."""
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
    return summary.get("summary_version") == SUMMARY_VERSION and recorded == on_disk


__all__ = ["aggregate", "summarize", "read_records", "is_current", "AggregateError",
           "CONTRADICTED", "NOT_TESTED", "SUMMARY"]
