"""The frontier's between-seed numbers, pure functions of the seed records' "frontier" entries
(helpers.stages.frontier_eval): what helpers.stages.aggregate writes as summary["frontier"].

    {"seeds", "n_seeds", "left_out": {seed: why}, "budgets_kb", "panels": [...],
     "stats": {variant: {"label", "kind", "members", "size": {"zipped_bytes": describe},
               "temperature": describe,
               <treatment>: {<dataset>: {<metric>: describe}}}},
     "fronts": {<treatment>: {<panel>: [variant, ...]}},              # on the seed means
     "fronts_per_seed": {<treatment>: {<panel>: {seed: [variant, ...]}}},
     "budgets": {<treatment>: {<panel>: {"<kB>": {"best", "runner_up", "diff": describe | null,
                                                 "verdict", "wins": seeds where best is best}}}},
     "equal_bytes": {<treatment>: {<panel>: {ensemble: {"reference", "diff": describe, "verdict"}}}},
     "audit": {variant: {<dataset>: {<metric>: describe of int8 − float softmax},
                         "zero_fraction": {<dataset>: describe}}}}

describe = {"n", "mean", "sd", "low", "high", "values"} over seeds, the (1 − α) t-interval
(helpers.stages.seed_numbers.describe). A panel is (dataset, metric, higher is better). A
verdict compares two configurations by their per-seed paired difference: "better" or "worse"
when its interval excludes 0, else "not resolved". At a budget, the candidates are the
configurations whose seed-mean zipped size is at most that many kilobytes (1 kB = 1000 bytes).
"At equal bytes" compares every compressed ensemble with the best single model or student (by
seed mean) that is no larger than it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from helpers.stages.seed_numbers import describe, json_safe, pareto_front

TREATMENTS = ("raw", "calibrated", "calibrated_members")
PANELS = (
    ("mnist", "nll", False),
    ("mnist", "ece", False),
    ("notmnist", "auroc", True),
    ("fashion_mnist", "auroc", True),
)
BUDGETS_KB = (10, 30, 100)
"""The memory budgets the chapter answers (the issue's 10, 30 and 100 kB)."""
SINGLES = ("single", "single_q8", "student_q8", "student_small_q8")
"""The single models and students an ensemble is compared with at equal bytes."""
AUDIT_KEYS = {"mnist": ("nll", "ece", "mean_entropy"), "ood": ("mean_entropy", "mean_disagreement", "auroc")}


def panel_key(panel: tuple) -> str:
    return f"{panel[0]}.{panel[1]}"


def current_records(records: list[dict], cfg) -> tuple[list[dict], dict]:
    """(records whose frontier numbers are of `cfg`'s frontier values, {seed: why left out})."""
    keep, left = [], {}
    for r in records:
        f = r.get("frontier")
        if f is None:
            left[r["seed"]] = "no frontier numbers (its models were not kept)" if not r.get("weights") else "not computed yet"
            continue
        expected = dataclasses.replace(cfg, seed=r["seed"]).stage_hash("frontier")
        if f.get("frontier_hash") != expected:
            left[r["seed"]] = f"frontier values {f.get('frontier_hash')}, not {expected}"
            continue
        keep.append(r)
    return keep, left


def _value(f: dict, variant: str, treatment: str, dataset: str, metric: str) -> float | None:
    return f["variants"].get(variant, {}).get(treatment, {}).get(dataset, {}).get(metric)


def _names(frontiers: list[dict]) -> list[str]:
    return [n for n in frontiers[0]["variants"] if all(n in f["variants"] for f in frontiers)]


def stats(frontiers: list[dict], alpha: float) -> dict:
    out = {}
    for name in _names(frontiers):
        first = frontiers[0]["variants"][name]
        entry = {
            "label": first["label"],
            "kind": first["kind"],
            "members": first["members"],
            "size": {"zipped_bytes": describe([f["variants"][name]["size"]["zipped_bytes"] for f in frontiers], alpha)},
            "temperature": describe([f["variants"][name]["temperature"] for f in frontiers], alpha),
        }
        for t in TREATMENTS:
            entry[t] = {
                ds: {m: describe([f["variants"][name][t][ds][m] for f in frontiers], alpha) for m in block}
                for ds, block in first[t].items()
            }
        out[name] = entry
    return out


def _points(st: dict, treatment: str, panel: tuple) -> dict:
    ds, metric, _ = panel
    return {
        n: (e["size"]["zipped_bytes"]["mean"], e[treatment][ds][metric]["mean"])
        for n, e in st.items()
        if metric in e[treatment].get(ds, {})
    }


def paired(frontiers: list[dict], a: str, b: str, treatment: str, panel: tuple, alpha: float) -> tuple[dict, str]:
    """(describe of a − b over seeds, verdict for a: 'better' | 'worse' | 'not resolved')."""
    ds, metric, higher = panel
    d = describe([_value(f, a, treatment, ds, metric) - _value(f, b, treatment, ds, metric) for f in frontiers], alpha)
    if d["n"] < 2 or not np.isfinite(d["low"]):
        return d, "not resolved"
    good = (d["low"] > 0) if higher else (d["high"] < 0)
    bad = (d["high"] < 0) if higher else (d["low"] > 0)
    return d, "better" if good else "worse" if bad else "not resolved"


def best_of(points: dict, names, higher: bool) -> list[str]:
    """`names` ordered best first by their panel value."""
    return sorted((n for n in names if n in points), key=lambda n: -points[n][1] if higher else points[n][1])


def budgets(frontiers: list[dict], st: dict, treatment: str, panel: tuple, alpha: float) -> dict:
    points = _points(st, treatment, panel)
    out = {}
    for kb in BUDGETS_KB:
        ranked = best_of(points, [n for n, (size, _) in points.items() if size <= kb * 1000], panel[2])
        if not ranked:
            out[str(kb)] = {"best": None, "runner_up": None, "diff": None, "verdict": "nothing fits", "wins": []}
            continue
        best = ranked[0]
        runner = ranked[1] if len(ranked) > 1 else None
        diff, verdict = paired(frontiers, best, runner, treatment, panel, alpha) if runner else (None, "alone")
        wins = []
        for f in frontiers:
            per_seed = {n: _value(f, n, treatment, panel[0], panel[1]) for n in ranked}
            top = best_of({n: (0, v) for n, v in per_seed.items() if v is not None}, ranked, panel[2])
            if top and top[0] == best:
                wins.append(f["seed"])
        out[str(kb)] = {"best": best, "runner_up": runner, "diff": diff, "verdict": verdict, "wins": wins}
    return out


def equal_bytes(frontiers: list[dict], st: dict, treatment: str, panel: tuple, alpha: float) -> dict:
    """Every compressed ensemble (more than one member, int8) against the best single model or
    student no larger than it."""
    points = _points(st, treatment, panel)
    singles = [n for n in SINGLES if n in points]
    out = {}
    for name, e in st.items():
        if e["members"] < 2 or name not in points or name in ("baseline", "ft") or name.endswith("_float"):
            continue
        fits = [n for n in singles if points[n][0] <= points[name][0]]
        ranked = best_of(points, fits, panel[2])
        if not ranked:
            continue
        diff, verdict = paired(frontiers, name, ranked[0], treatment, panel, alpha)
        out[name] = {"reference": ranked[0], "diff": diff, "verdict": verdict}
    return out


def audit_stats(frontiers: list[dict], alpha: float) -> dict:
    out = {}
    names = [n for n in frontiers[0].get("audit", {}) if all(n in f.get("audit", {}) for f in frontiers)]
    for name in names:
        entry = {}
        for ds, block in frontiers[0]["audit"][name]["int8"].items():
            keys = [k for k in AUDIT_KEYS["mnist" if ds == "mnist" else "ood"] if k in block]
            runs = [f["audit"][name] for f in frontiers]
            entry[ds] = {k: describe([a["int8"][ds][k] - a["float_softmax"][ds][k] for a in runs], alpha) for k in keys}
        entry["zero_fraction"] = {
            ds: describe([f["audit"][name]["zero_fraction"][ds] for f in frontiers], alpha)
            for ds in frontiers[0]["audit"][name]["zero_fraction"]
        }
        out[name] = entry
    return out


def checks_summary(frontiers: list[dict]) -> dict:
    """The new variants' checks over every seed: the most distinct values a clustered layer
    kept and whether every pruned zero stayed zero; the least 2:4 fraction per layer; the
    students' parameter counts."""
    out = {}
    for f in frontiers:
        for name, c in f.get("checks", {}).items():
            e = out.setdefault(name, {})
            if "clusters" in c:
                e["max_clusters"] = max(e.get("max_clusters", 0), *(max(m.values()) for m in c["clusters"]))
                e["zeros_kept"] = e.get("zeros_kept", True) and all(c["zeros_kept"])
            if "dense_layers" in c:
                e["dense_layers"] = c["dense_layers"]
            if "m_by_n_fraction" in c:
                least = e.setdefault("least_m_by_n_fraction", {})
                for member in c["m_by_n_fraction"]:
                    for layer, frac in member.items():
                        least[layer] = min(least.get(layer, 1.0), frac)
            if "parameters" in c:
                e["parameters"] = c["parameters"]
    return out


def calibrated_runs(frontiers: list[dict], treatment: str) -> list[dict]:
    """The frontier's numbers shaped like evaluation results (helpers.stats.claims_v2 reads
    them): MNIST from the pooled `treatment`, the OOD sets from the members' (so that the
    ensemble's disagreement is defined; for "raw" both are the raw numbers)."""
    members = "raw" if treatment == "raw" else "calibrated_members"
    pooled = "raw" if treatment == "raw" else "calibrated"
    runs = []
    for f in frontiers:
        variants = {}
        for name, v in f["variants"].items():
            variants[name] = {"mnist": v[pooled]["mnist"], **{ds: b for ds, b in v[members].items() if ds != "mnist"}}
        runs.append({"variants": variants})
    return runs


def calibrated_verdicts(frontiers: list[dict], rules) -> dict:
    """Rules v2's uncertainty and NLL claims (C7, C8, C10) judged on the same seeds, raw and
    after temperature scaling: whether the answer holds after calibration."""
    from helpers.stats.claims_v2 import TREND_POINTS, v2_c8, v2_trend

    ood = ("notmnist", "fashion_mnist")
    both = lambda d: [("entropy", d, "mean_entropy"), ("disagreement", d, "mean_disagreement")]  # noqa: E731
    out = {}
    for t in ("raw", "calibrated"):
        runs = calibrated_runs(frontiers, t)
        q8 = [p for p in TREND_POINTS[1:] if p in runs[0]["variants"]]
        out[t] = {
            "C7": v2_trend(runs, both, True, rules, ood),
            "C8": v2_c8(runs, q8, rules),
            "C10": v2_trend(runs, lambda d: [("disagreement", d, "mean_disagreement")], True, rules, ood),
        }
    return out


UNKNOWN_CPU = "a CPU not recorded"


def timings_by_cpu(frontiers: list[dict], alpha: float) -> dict:
    """{CPU model: {stage: stats of its wall seconds over the seeds timed on that model}}:
    times compare only on the same CPU (the machine of each seed's frontier numbers). A stage
    listed in a seed's "resumed" started from a checkpoint: its time is a part, left out."""
    groups: dict[str, list[dict]] = {}
    for f in frontiers:
        whole = {k: v for k, v in f["timings"].items() if k not in f.get("resumed", [])}
        groups.setdefault((f.get("machine") or {}).get("cpu_model") or UNKNOWN_CPU, []).append(whole)
    return {
        cpu: {
            k: describe([t[k] for t in ts if k in t], alpha) | {"n": sum(k in t for t in ts)}
            for k in sorted({k for t in ts for k in t})
        }
        for cpu, ts in sorted(groups.items())
    }


def frontier_block(records: list[dict], cfg, alpha: float, rules=None) -> dict | None:
    """summary["frontier"] (schema in the module doc); None when no record has current frontier numbers."""
    keep, left = current_records(records, cfg)
    if not keep:
        return None
    frontiers = [r["frontier"] for r in keep]
    st = stats(frontiers, alpha)
    fronts, per_seed, budget, equal = {}, {}, {}, {}
    for t in TREATMENTS:
        fronts[t], per_seed[t], budget[t], equal[t] = {}, {}, {}, {}
        for panel in PANELS:
            key = panel_key(panel)
            fronts[t][key] = pareto_front(_points(st, t, panel), panel[2])
            per_seed[t][key] = {
                str(f["seed"]): pareto_front(
                    {
                        n: (v["size"]["zipped_bytes"], v[t][panel[0]][panel[1]])
                        for n, v in f["variants"].items()
                        if panel[1] in v[t].get(panel[0], {})
                    },
                    panel[2],
                )
                for f in frontiers
            }
            budget[t][key] = budgets(frontiers, st, t, panel, alpha)
            equal[t][key] = equal_bytes(frontiers, st, t, panel, alpha)
    return json_safe(
        {
            "seeds": [f["seed"] for f in frontiers],
            "n_seeds": len(frontiers),
            "min_seeds": rules.min_seeds if rules is not None else None,
            "left_out": {str(k): v for k, v in left.items()},
            "budgets_kb": list(BUDGETS_KB),
            "panels": [{"key": panel_key(p), "dataset": p[0], "metric": p[1], "higher_is_better": p[2]} for p in PANELS],
            "stats": st,
            "fronts": fronts,
            "fronts_per_seed": per_seed,
            "budgets": budget,
            "equal_bytes": equal,
            "audit": audit_stats(frontiers, alpha),
            "checks": checks_summary(frontiers),
            "verdicts": calibrated_verdicts(frontiers, rules)
            if rules is not None and len(frontiers) >= rules.min_seeds
            else None,
            "timings": timings_by_cpu(frontiers, alpha),
        }
    )
