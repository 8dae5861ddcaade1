"""The between-seed numbers of a summary, pure functions of the seeds' results: each
measure's seed mean and t-interval, the paired differences to the references, the
two-level block over seeds and test images, and the memory-budget fronts.

helpers.stages.aggregate writes them into summary.json (schema in its module doc).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.core import datasets
from helpers.core.variants import BUDGET_PANELS
from helpers.stats.claims_v2 import seed_table
from helpers.stats.inference import t_interval

REFERENCES = {"vs_baseline": "baseline", "vs_q8": "q8", "vs_control": "ft_q8"}


# --- statistics over seeds -------------------------------------------------------------------
def describe(values, alpha: float) -> dict:
    """{"n", "mean", "sd", "low", "high", "values"} of one value per seed."""
    v = np.asarray(values, dtype=np.float64)
    mean, low, high = t_interval(v, alpha)
    return {
        "n": int(v.size),
        "mean": mean,
        "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
        "low": low,
        "high": high,
        "values": v.tolist(),
    }


def dataset_names(runs: list[dict]) -> list[str]:
    """Datasets summarized: the in-distribution and OOD sets, and the shift families."""
    names = [d for d, info in runs[0]["datasets"].items() if info.get("kind", "in") in ("in", "ood")]
    return names + [f for f in ("rotated_mnist", "corrupted_mnist") if any(f in v for v in runs[0]["variants"].values())]


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
                    out[kind][variant][dataset] = {k: describe(np.subtract(a[k], b[k]), alpha) for k in common}
    return out


def two_level_block(per_seed: dict, alpha: float) -> tuple[dict | None, dict]:
    """(summary block, {"<variant>|<metric>": {"mean", "se", "df", "n"}}): every variant's
    difference to the baseline on MNIST over the seeds with per-image packs, with the
    two-level interval over seeds and test images (helpers.stats.inference.crossed_mean) beside the
    t-interval over the same seeds."""
    from helpers.stages.per_image import METRICS, VARIANTS
    from helpers.stats.inference import crossed_mean

    seeds = sorted(per_seed)
    if len(seeds) < 2:
        return None, {}
    variants = [v for v in VARIANTS if v != "baseline" and all(v in per_seed[s] for s in seeds)]
    n_images = {len(per_seed[s]["baseline"]["nll"]) for s in seeds}.pop()
    block = {
        "seeds": seeds,
        "n_seeds": len(seeds),
        "n_images": n_images,
        "method": "two-way random-effects ANOVA over seeds and test images (crossed), Satterthwaite degrees of freedom",
        "variants": {},
    }
    intervals = {}
    for v in variants:
        for m in METRICS:
            d = np.stack([per_seed[s][v][m] - per_seed[s]["baseline"][m] for s in seeds])
            both = crossed_mean(d, alpha)
            mean, low, high = t_interval(d.mean(axis=1), alpha)
            _, tlow, thigh = t_interval(d.mean(axis=1), 2 * alpha)
            block["variants"].setdefault(v, {})[m] = {
                "mean": both["mean"],
                "two_level": {k: both[k] for k in ("se", "df", "low", "high", "tost_low", "tost_high", "components")},
                "seeds": {
                    "se": float(d.mean(axis=1).std(ddof=1)) / math.sqrt(len(seeds)),
                    "df": len(seeds) - 1,
                    "low": low,
                    "high": high,
                    "tost_low": tlow,
                    "tost_high": thigh,
                },
            }
            intervals[f"{v}|{m}"] = {"mean": both["mean"], "se": both["se"], "df": both["df"], "n": len(seeds)}
    return block, intervals


def pareto_front(points: dict, higher_is_better: bool) -> list[str]:
    """Names of the points {name: (size, value)} that no other point beats: no other is at
    most as large and at least as good, and strictly better in one. Sorted by size."""
    better = (lambda a, b: a >= b) if higher_is_better else (lambda a, b: a <= b)
    front = []
    for name, (size, value) in points.items():
        dominated = any(
            other != name and s <= size and better(v, value) and (s < size or v != value) for other, (s, v) in points.items()
        )
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


# --- the memory budget -------------------------------------------------------------------------
def budget_variants(runs: list[dict]) -> list[str]:
    """Every ensemble of the memory-budget figure: every variant of the results (the
    config's variants and the equal-size references)."""
    return list(runs[0]["variants"])


def budget_fronts(stats: dict, names: list[str]) -> dict:
    """{metric key: Pareto front} of the seed-mean zipped size against each panel's seed mean."""
    fronts = {}
    for dataset, key, _, higher in BUDGET_PANELS:
        points = {
            n: (stats[n]["size"]["zipped_bytes"]["mean"], stats[n][dataset][key]["mean"])
            for n in names
            if key in stats[n].get(dataset, {}) and "zipped_bytes" in stats[n].get("size", {})
        }
        fronts[key] = pareto_front(points, higher)
    return fronts


# --- the numbers of a summary -----------------------------------------------------------------
def json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
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
    return json_safe(
        {
            "seeds": list(seeds),
            "n_seeds": len(seeds),
            "alpha": alpha,
            "evaluation_version": runs[0].get("evaluation_version"),
            "datasets": {
                d: {"label": datasets.label(d), "kind": runs[0]["datasets"].get(d, {}).get("kind", "shift")}
                for d in dataset_names(runs)
            },
            "stats": stats,
            "fronts": budget_fronts(stats, budget_variants(runs)),
            "diffs": diffs_block(runs, alpha),
        }
    )
