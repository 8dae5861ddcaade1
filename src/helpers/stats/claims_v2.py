"""Claims C1-C10 judged by rules v2 (helpers.stats.rules) on seed-level values of the results.

    judged = v2_verdicts(runs, load_rules_v2(), table1_rows, config)   # {claim: {dataset: judged}}

C2-C4 and C8 are equivalence parts on MNIST (accuracy, NLL, Brier differences to the
baseline); C5 region parts (the τ fractions); C6, C7 and C10 trend parts per dataset
(NotMNIST, Fashion-MNIST, rotated and corrupted MNIST), every sparsity step and the
endpoint; C1 and C9 measured parts. helpers.stages.aggregate writes the result into summary.json.
"""

from __future__ import annotations

import math

import numpy as np

from helpers.core import datasets, paper
from helpers.stats.judging import (
    equivalence_part,
    judge,
    measured_part,
    region_part,
    se_equivalence_part,
    trend_parts,
)
from helpers.stats.rules import RulesV2

TREND_POINTS = ["q8", "s25_q8", "s50_q8", "s75_q8", "s95_q8"]
TREND_DATASETS = (*datasets.ood_names(), *datasets.SHIFT_LABELS)
"""The datasets each trend claim (C6, C7, C10) is judged on, the paper's (NotMNIST) first."""
SCALAR_SKIP = ("_low", "_high")


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
        node = (
            {k: v[k] for k in ("zipped_bytes", "compression_ratio", "members") if k in v} if dataset == "size" else v.get(dataset)
        )
        if node is None:
            return {}
        tables.append(_scalars(node))
    keys = set(tables[0]).intersection(*tables[1:]) if tables else set()
    return {k: [t[k] for t in tables] for k in sorted(keys)}


def _values(runs, variant, dataset, key) -> np.ndarray:
    return np.asarray(seed_table(runs, variant, dataset)[key], dtype=np.float64)


def _has(runs, names, dataset=None) -> bool:
    return all(n in r["variants"] and (dataset is None or dataset in r["variants"][n]) for r in runs for n in names)


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
        parts.append(
            {**equivalence_part(f"accuracy at {_pct(claim.sparsity)}", d, band, rules), "variant": v, "measure": "accuracy"}
        )
        if not math.isnan(claim.compression_ratio):
            ratios = _values(runs, v, "size", "compression_ratio")
            parts.append(
                {
                    **measured_part(
                        f"size at {_pct(claim.sparsity)}",
                        [bool(x >= rules.ratio_tolerance * claim.compression_ratio) for x in ratios],
                        float(ratios.mean()),
                    ),
                    "variant": v,
                    "measure": "size",
                }
            )
    return {"mnist": judge(parts, rules.alpha)}


def v2_c5(runs, variants: list[str], rules: RulesV2) -> dict:
    parts = []
    for v in ["baseline", *variants]:
        for dataset, region in (("mnist", (paper.MNIST_CLASSIFIED_ABOVE, math.inf)), ("notmnist", paper.NOTMNIST_BAND)):
            what = "float32 baseline" if v == "baseline" else ("0 %" if v == "q8" else _pct(float(v[1:3]) / 100))
            parts.append(
                {
                    **region_part(
                        f"{datasets.label(dataset)} at {what}", _values(runs, v, dataset, "classified_fraction"), region, rules
                    ),
                    "variant": v,
                    "dataset": dataset,
                }
            )
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
        values = {name: np.stack([_values(runs, p, ds, key) for p in points], axis=1) for name, ds, key in series}
        margins = {name: rules.margin(key) for name, _, key in series}
        parts = trend_parts(values, names, increasing, margins, rules)
        out[d] = judge(parts, rules.alpha)
    return out


def v2_c8(runs, variants: list[str], rules: RulesV2) -> dict:
    from helpers.stats.claims import no_change_band

    parts = []
    for v in [v for v in variants if v in paper.COMPRESSED and paper.COMPRESSED[v].sparsity <= 0.75]:
        for metric in ("accuracy", "nll", "brier"):
            base = _values(runs, "baseline", "mnist", metric)
            band = no_change_band(metric, float(base.mean()), rules)
            parts.append(
                {
                    **equivalence_part(
                        f"{metric} at {_pct(paper.COMPRESSED[v].sparsity)}", _values(runs, v, "mnist", metric) - base, band, rules
                    ),
                    "variant": v,
                    "measure": metric,
                }
            )
    return {"mnist": judge(parts, rules.alpha)}


def v2_c9(runs, rules: RulesV2) -> dict:
    factors = _values(runs, "s50_q8", "size", "zipped_bytes") / _values(runs, "single", "size", "zipped_bytes")
    part = measured_part("size", [bool(f <= rules.same_size_factor) for f in factors], float(factors.mean()))
    return {"mnist": judge([part], rules.alpha)}


def v2_c1(table1_rows: list[dict], config) -> dict:
    got = tuple((r["layer"], tuple(r["output_shape"]), r["params"]) for r in table1_rows if r["params"])
    settings = (config.epochs, config.retrain_epochs, config.validation_split, config.ensemble_size)
    wanted = (paper.EPOCHS, paper.RETRAIN_EPOCHS, paper.VALIDATION_SPLIT, paper.ENSEMBLE_SIZE)
    parts = [
        measured_part("layers", [got == paper.TABLE1]),
        measured_part("settings", [settings == wanted] if settings == wanted else []),
    ]
    return {"model": judge(parts, 0.05)}


IMAGE_CLAIMS = ("C2", "C3", "C4", "C8")
"""Claims with parts on accuracy, NLL or Brier differences: judged again with the two-level
interval (seeds × test images) by v2_two_level."""


def v2_two_level(judged: dict, intervals: dict, rules: RulesV2) -> dict:
    """IMAGE_CLAIMS judged again with every accuracy/NLL/Brier part tested on the two-level
    interval (`intervals`: {"<variant>|<metric>": {"mean", "se", "df", "n"}}, from
    helpers.stats.inference.crossed_mean) instead of the per-seed values; every other part (sizes)
    kept as it was. `judged` is v2_verdicts on the same seeds."""
    out = {}
    for cid in IMAGE_CLAIMS:
        parts = []
        for part in judged[cid]["mnist"]["parts"]:
            base = {k: v for k, v in part.items() if k not in ("status", "p_fail_holm")}
            key = f"{part.get('variant')}|{part.get('measure')}"
            if part.get("measure") in ("accuracy", "nll", "brier") and key in intervals:
                iv = intervals[key]
                base = {
                    **se_equivalence_part(part["name"], iv["mean"], iv["se"], iv["df"], part["band"], rules, iv["n"]),
                    "variant": part["variant"],
                    "measure": part["measure"],
                }
            parts.append(base)
        out[cid] = {"mnist": judge(parts, rules.alpha)}
    return out


def v2_verdicts(runs: list[dict], rules: RulesV2, table1_rows: list[dict], config) -> dict:
    """{claim id: {dataset: judged}} under rules v2 (C1-C10, every claim the book shows)."""
    q8 = [p for p in TREND_POINTS[1:] if _has(runs, [p])]
    out = {"C1": v2_c1(table1_rows, config)}
    for cid, names in (("C2", ["s25_q8"]), ("C3", ["s50_q8", "s75_q8"]), ("C4", ["s95_q8"])):
        have = [n for n in names if _has(runs, [n])]
        out[cid] = v2_compressed(runs, have, rules) if have == names else {"mnist": judge([], rules.alpha)}
    out["C5"] = v2_c5(runs, q8, rules)
    out["C6"] = v2_trend(
        runs, lambda d: [("MNIST", "mnist", "classified_fraction"), (datasets.label(d), d, "classified_fraction")], False, rules
    )
    out["C7"] = v2_trend(runs, lambda d: [("entropy", d, "mean_entropy"), ("disagreement", d, "mean_disagreement")], True, rules)
    out["C8"] = v2_c8(runs, q8, rules)
    out["C9"] = v2_c9(runs, rules) if _has(runs, ["s50_q8", "single"]) else {"mnist": judge([], rules.alpha)}
    out["C10"] = v2_trend(runs, lambda d: [("disagreement", d, "mean_disagreement")], True, rules)
    return out
