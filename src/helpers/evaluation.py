"""From member probabilities to results.json: every number of Table 2 and Figures 1-2.

`evaluate(exp)` computes, per variant, the ensemble's (mean of members) metrics on MNIST
with bootstrap 95 % intervals, the paired difference to the baseline ensemble, and the
uncertainty on NotMNIST; it writes `results.json` (schema in helpers.store) and returns it.
`single` is member 0 of the baseline alone: the paper's "single model" reference.
"""

from __future__ import annotations

import numpy as np

from . import metrics as M
from . import paper
from .claims import accuracy_band, no_change_band
from .experiment import Experiment
from .plots import variant_label
from .stats import compare_paired, mcnemar_test
from .variants import int8_variants, variants
from .verdicts import Rules, load_rules

TAU = paper.TAU
EVALUATION_VERSION = 2
"""Bumped whenever this module's numbers change meaning; results of another version are stale."""


def classified_fraction(probs, alpha: float) -> dict:
    """Fraction of samples with confidence >= τ, with its Wilson (1 − α) interval."""
    from statsmodels.stats.proportion import proportion_confint
    kept = M.confidence(probs) >= TAU
    low, high = proportion_confint(int(kept.sum()), kept.size, alpha=alpha, method="wilson")
    return {"classified_fraction": float(kept.mean()), "classified_fraction_low": float(low),
            "classified_fraction_high": float(high)}


def vs_baseline(name: str, probs, base_probs, labels, rules: Rules) -> dict:
    """Within-run paired comparisons with the baseline ensemble over the test images:
    McNemar for accuracy, and TOST against the "no change" band (and, for the paper's
    compressed variants, against the paper's own accuracy difference ± margin)."""
    ok, ok_base = M.correct(probs, labels), M.correct(base_probs, labels)
    per_sample = {"accuracy": (ok.astype(np.float64), ok_base.astype(np.float64)),
                  "nll": (M.nll_per_sample(probs, labels), M.nll_per_sample(base_probs, labels)),
                  "brier": (M.brier_per_sample(probs, labels), M.brier_per_sample(base_probs, labels))}
    out = {}
    for metric, (a, b) in per_sample.items():
        band = no_change_band(metric, float(b.mean()), rules)
        out[metric] = {"no_change": compare_paired(a, b, band, rules.alpha).as_dict()}
    out["accuracy"]["mcnemar"] = mcnemar_test(ok, ok_base)
    if name in paper.COMPRESSED:
        out["accuracy"]["paper"] = compare_paired(*per_sample["accuracy"], accuracy_band(name, rules),
                                                  rules.alpha).as_dict()
    return out


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
           "ece": M.ece(probs, labels)}
    for name, per_sample in (("nll", M.nll_per_sample), ("brier", M.brier_per_sample)):
        a, b = per_sample(probs, labels), per_sample(base_probs, labels)
        d = M.bootstrap_ci(np.mean, a, n=n_boot, seed=seed, paired_with=(b,))
        out.update({name: float(a.mean()), f"{name}_diff": d.estimate,
                    f"{name}_diff_low": d.low, f"{name}_diff_high": d.high})
    return out


def _ood_metrics(member_out, probs_out, probs_in, n_boot: int, seed: int) -> dict:
    ent = M.entropy(probs_out)
    dis = M.disagreement(member_out)
    out = {}
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
    cached = exp.store.read_json("results.json")
    if (cached and not force and cached.get("evaluation_version") == EVALUATION_VERSION
            and set(cached["variants"]) == set(variant_names(exp))):
        return cached
    cfg = exp.config
    rules = load_rules(cfg.config_path)
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
        mnist = _mnist_metrics(probs_in, y_test, base, cfg.bootstrap_samples, cfg.seed)
        mnist.update(classified_fraction(probs_in, rules.alpha))
        mnist["vs_baseline"] = vs_baseline(name, probs_in, base, y_test, rules)
        ood = _ood_metrics(member_out, probs_out, probs_in, cfg.bootstrap_samples, cfg.seed)
        ood.update(classified_fraction(probs_out, rules.alpha))
        out[name] = {
            "label": variant_label(name), "sparsity": info[name]["sparsity"],
            "quantization": info[name]["quantization"], "members": int(member_in.shape[0]),
            "mnist": mnist, "notmnist": ood,
            "zipped_bytes": int(zipped),
            "compression_ratio": sizes["baseline"]["zipped_bytes"] / zipped,
        }
    results = {"profile": cfg.profile, "config_hash": cfg.hash, "seed": cfg.seed, "tau": TAU,
               "evaluation_version": EVALUATION_VERSION, "variants": out}
    exp.store.write_json("results.json", results)
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
    cached = into.store.read_json("seed_spread.json")
    if cached and cached.get("config_hashes") == key:
        return cached
    runs = []
    for cfg in configs:
        exp = Experiment(cfg)
        _, y = exp.dataset("mnist_test")
        base = M.ensemble_mean(exp.member_probabilities("baseline", "mnist_test"))
        run = {"seed": cfg.seed, "baseline_accuracy": M.accuracy(base, y), "accuracy_diff": {}}
        for name in int8_variants(cfg):
            probs = M.ensemble_mean(exp.member_probabilities(name, "mnist_test"))
            run["accuracy_diff"][name] = M.accuracy(probs, y) - run["baseline_accuracy"]
        runs.append(run)
    out = {"profile": profile, "config_hashes": key, "config": configs[0].values(), "runs": runs}
    into.store.write_json("seed_spread.json", out)
    return out
