"""From member probabilities to results.json: every number of Table 2 and Figures 1-2.

`evaluate(exp)` computes, per variant, the ensemble's (mean of members) metrics on MNIST
with bootstrap 95 % intervals, the paired difference to the baseline ensemble, and the
uncertainty on NotMNIST; it writes `results.json` (schema in helpers.store) and returns it.
`single` is member 0 of the baseline alone: the paper's "single model" reference.
"""

from __future__ import annotations

import numpy as np

from . import metrics as M
from .plots import variant_label
from .experiment import Experiment
from .variants import int8_variants, variants

TAU = 0.9
# Bump when a change here changes any number in results.json: it is part of the
# evaluation-stage hash, so every results.json computed before is recomputed.
EVALUATION_VERSION = 1


def _ensemble_probs(exp: Experiment, variant: str, dataset: str) -> np.ndarray:
    """(M, N, K) members of a variant; 'single' is baseline member 0 as a 1-member ensemble."""
    if variant == "single":
        return exp.member_probabilities("baseline", dataset)[:1]
    return exp.member_probabilities(variant, dataset)


def _mnist_metrics(probs, labels, base_probs, n_boot: int, seed: int) -> dict:
    ok, ok_base = M.correct(probs, labels), M.correct(base_probs, labels)
    acc = M.bootstrap_ci(np.mean, ok, n=n_boot, seed=seed)
    diff = M.bootstrap_ci(np.mean, ok, n=n_boot, seed=seed, paired_with=(ok_base,))
    out = {"accuracy": acc.estimate, "accuracy_low": acc.low, "accuracy_high": acc.high,
           "accuracy_diff": diff.estimate, "accuracy_diff_low": diff.low,
           "accuracy_diff_high": diff.high,
           "ece": M.ece(probs, labels), "conf_frac_090": float(np.mean(M.confidence(probs) >= TAU))}
    for name, per_sample in (("nll", M.nll_per_sample), ("brier", M.brier_per_sample)):
        a, b = per_sample(probs, labels), per_sample(base_probs, labels)
        d = M.bootstrap_ci(np.mean, a, n=n_boot, seed=seed, paired_with=(b,))
        out.update({name: float(a.mean()), f"{name}_diff": d.estimate,
                    f"{name}_diff_low": d.low, f"{name}_diff_high": d.high})
    return out


def _ood_metrics(member_out, probs_out, probs_in, n_boot: int, seed: int) -> dict:
    ent = M.entropy(probs_out)
    dis = M.disagreement(member_out)
    out = {"conf_frac_090": float(np.mean(M.confidence(probs_out) >= TAU))}
    for name, values in (("mean_entropy", ent), ("mean_disagreement", dis)):
        ci = M.bootstrap_ci(np.mean, values, n=n_boot, seed=seed)
        out.update({name: ci.estimate, f"{name}_low": ci.low, f"{name}_high": ci.high})
    out.update(M.ood_scores(probs_in, probs_out, score="entropy"))
    return out


def variant_names(exp: Experiment) -> list[str]:
    """'single' then every variant of the config, in the config's order."""
    return ["single"] + [v["name"] for v in variants(exp.config)]


def evaluate(exp: Experiment, force: bool = False) -> dict:
    """Compute (or read) results.json for every variant; see helpers.store for the schema."""
    results_file, lineage = exp.store.results_name(), lambda: exp.store.lineage(
        exp.model_files(), evaluation=exp.config.stage_hash("evaluation"))
    cached = exp.store.read_derived(results_file, lineage(), compute=exp.compute)
    if cached and not force and set(cached["variants"]) == set(variant_names(exp)):
        return cached
    cfg = exp.config
    sizes = exp.sizes()
    _, y_test = exp.dataset("mnist_test")
    base = M.ensemble_mean(_ensemble_probs(exp, "baseline", "mnist_test"))
    info = {v["name"]: v for v in variants(cfg)}
    info["single"] = {"sparsity": 0.0, "quantization": "float32"}
    out = {}
    for name in variant_names(exp):
        member_in = _ensemble_probs(exp, name, "mnist_test")
        member_out = _ensemble_probs(exp, name, "notmnist")
        probs_in, probs_out = M.ensemble_mean(member_in), M.ensemble_mean(member_out)
        zipped = (sizes["baseline"]["member_zipped_bytes"][0] if name == "single"
                  else sizes[name]["zipped_bytes"])
        out[name] = {
            "label": variant_label(name), "sparsity": info[name]["sparsity"],
            "quantization": info[name]["quantization"], "members": int(member_in.shape[0]),
            "mnist": _mnist_metrics(probs_in, y_test, base, cfg.bootstrap_samples, cfg.seed),
            "notmnist": _ood_metrics(member_out, probs_out, probs_in, cfg.bootstrap_samples, cfg.seed),
            "zipped_bytes": int(zipped),
            "compression_ratio": sizes["baseline"]["zipped_bytes"] / zipped,
        }
    results = {"profile": cfg.profile, "config_hash": cfg.hash, "tau": TAU, "variants": out}
    exp.store.write_derived(results_file, results, lineage())
    return results


def table2_rows(results: dict, names: list[str]) -> list[dict]:
    """Rows for helpers.tables.table2 from results.json, in the order of `names`."""
    rows = []
    for name in names:
        v = results["variants"][name]
        m = v["mnist"]
        rows.append({"variant": name, "label": v["label"], "sparsity": v["sparsity"],
                     "quantized": v["quantization"] != "float32",
                     **{k: m[k] for k in ("accuracy", "accuracy_low", "accuracy_high", "nll",
                                          "brier", "ece")},
                     **({k: float("nan") for k in ("accuracy_diff", "accuracy_diff_low",
                                                   "accuracy_diff_high")} if name == "baseline"
                        else {k: m[k] for k in ("accuracy_diff", "accuracy_diff_low",
                                                "accuracy_diff_high")}),
                     "zipped_bytes": v["zipped_bytes"], "compression_ratio": v["compression_ratio"]})
    return rows


def spread_plan(profile: str) -> tuple[str, list[int]]:
    """Which profile and seeds the seed-spread check uses for a book built on `profile`.

    The paper profile borrows the quick profile (five full retrainings of the paper
    profile would take hours); the smoke profile checks the machinery with two seeds.
    """
    if profile == "paper":
        return "quick", [0, 1, 2, 3, 4]
    return profile, ([0, 1] if profile == "smoke" else [0, 1, 2, 3, 4])


def seed_spread(into: "Experiment", profile: str = "quick", seeds=(0, 1, 2, 3, 4)) -> dict:
    """Run-to-run spread: whole ensembles trained and compressed with different seeds.

    For each seed, the `profile` config with that seed is trained and pruned (each in its
    own store), and the accuracy of the baseline ensemble and the difference of every
    int8 variant to it are measured on the MNIST test set. The summary is kept in the
    store of `into` as seed_spread.json (small, committed), keyed by the configs' hashes,
    so the book can show it without retraining.
    """
    from .config import load_config

    configs = [load_config(profile, seed=s) for s in seeds]
    key = [c.hash for c in configs]
    # The seeds' stores are not kept with the book: the lineage is their full stage keys.
    lineage = {"evaluation": [c.stage_hash("evaluation") for c in configs]}
    cached = into.store.read_derived("seed_spread.json", lineage, compute=into.compute)
    if cached and cached.get("config_hashes") == key:
        return cached
    runs = []
    for cfg in configs:
        exp = Experiment(cfg, compute=into.compute)
        _, y = exp.dataset("mnist_test")
        base = M.ensemble_mean(exp.member_probabilities("baseline", "mnist_test"))
        run = {"seed": cfg.seed, "baseline_accuracy": M.accuracy(base, y), "accuracy_diff": {}}
        for name in int8_variants(cfg):
            probs = M.ensemble_mean(exp.member_probabilities(name, "mnist_test"))
            run["accuracy_diff"][name] = M.accuracy(probs, y) - run["baseline_accuracy"]
        runs.append(run)
    out = {"profile": profile, "config_hashes": key, "config": configs[0].values(), "runs": runs}
    into.store.write_derived("seed_spread.json", out, lineage)
    return out
