"""The one producer of numbers: member probabilities -> results.json.

`evaluate(exp)` computes every number the book shows, under explicit names, and writes
them to the store's results.json; tables, figures and chapters only format and draw what
it wrote. Schema (fractions in [0, 1], entropies in nats)::

    {"profile", "config_hash", "seed", "tau", "alpha", "evaluation_version",
     "datasets": {name: {"kind": "in"|"ood"|"shift", "family", "intensity", "n"}},
     "variants": {variant: {
         "label", "sparsity", "quantization", "control", "members",
         "zipped_bytes", "compression_ratio",
         <dataset>: {                                    # every dataset the variant ran on
             "mean_confidence", "classified_fraction" (+ _low/_high: Wilson, at tau),
             "mean_entropy" (+ _low/_high), "mean_member_entropy", "mean_disagreement"
             (+ _low/_high)          # entropy = member entropy (aleatoric) + disagreement
             # labelled sets (MNIST, rotated, corrupted) also:
             "accuracy" (+ _low/_high), "nll", "brier", "ece",
             # MNIST also, against the baseline ensemble on the same images:
             "accuracy_diff" (+ _low/_high), "nll_diff" (...), "brier_diff" (...),
             "vs_baseline": {"accuracy": {"mcnemar", "no_change", "paper"?},
                             "nll": {"no_change"}, "brier": {"no_change"}},
             # OOD sets also, MNIST test images as negatives, per score:
             "detection": {"entropy"|"disagreement"|"one_minus_confidence":
                           {"auroc", "aupr", "fpr_at_95_tpr"}}}}},
     "members": {"accuracy": [...], "nll": [...], "ensemble_of_first_k": {"accuracy", "nll"}},
     "curves": {variant: {"tau": [...], <dataset>_fraction: [...], "mnist_accuracy": [...]}},
     "boxes": {variant: {<ood dataset>: {"entropy"|"disagreement": matplotlib bxp stats}}},
     "reliability": {variant: {"confidence", "accuracy", "count"}},
     "roc": {variant: {<ood dataset>: {score: {"fpr", "tpr"}}}}}

Variants: every one of the config (helpers.core.variants), plus the equal-size references
`single` (baseline member 0, float32), `single_q8` (member 0, int8 weights) and
`q8_m2` .. `q8_m{M-1}` (the first k int8 members: ensembles of every size, no new
training). Shifted sets run on the float baseline, the int8 control and every int8
sparsity (SHIFT_VARIANTS).
"""

from __future__ import annotations

import numpy as np

from helpers.core import config, paper, progress
from helpers.core import datasets as registry
from helpers.core.variants import int8_variants, label, parse_variant, variants
from helpers.stages.experiment import Experiment
from helpers.stats import metrics as M
from helpers.stats import uncertainty as U
from helpers.stats.bootstrap import bootstrap_ci
from helpers.stats.claims import accuracy_band, no_change_band
from helpers.stats.inference import compare_paired, mcnemar_test
from helpers.stats.verdicts import Rules, load_rules

TAU = paper.TAU
EVALUATION_VERSION = config.EVALUATION_VERSION  # defined in config: the evaluation hash includes it

OOD_SCORES = ("entropy", "disagreement", "one_minus_confidence")
CURVE_TAUS = np.round(np.linspace(0.0, 1.0, 101), 2)
ROC_FPR = np.linspace(0.0, 1.0, 201)


# --- which variants, which datasets ------------------------------------------------------
def subset_variants(config) -> list[str]:
    """Equal-size references: one float member, one int8 member, the first k int8 members."""
    return ["single", "single_q8"] + [f"q8_m{k}" for k in range(2, config.ensemble_size)]


def subset_members(name: str) -> tuple[str, int]:
    """'single' -> ('baseline', 1); 'single_q8' -> ('q8', 1); 'q8_m3' -> ('q8', 3)."""
    if name == "single":
        return "baseline", 1
    if name == "single_q8":
        return "q8", 1
    if name.startswith("q8_m") and name[4:].isdigit():
        return "q8", int(name[4:])
    raise ValueError(f"{name!r} is not an equal-size reference; use single, single_q8 or q8_mK.")


def shift_variants(config) -> list[str]:
    """Variants evaluated on the shifted and second OOD sets."""
    return ["baseline", "ft_q8", "q8", *int8_variants(config)]


def variant_names(exp: Experiment) -> list[str]:
    """Every variant of results.json, in the order the book lists them."""
    return [v["name"] for v in variants(exp.config)] + subset_variants(exp.config)


# --- per-dataset metrics -----------------------------------------------------------------
def classified_fraction(probs, alpha: float) -> dict:
    """Fraction of samples with confidence >= τ, with its Wilson (1 − α) interval."""
    from statsmodels.stats.proportion import proportion_confint

    kept = M.confidence(probs) >= TAU
    low, high = proportion_confint(int(kept.sum()), kept.size, alpha=alpha, method="wilson")
    return {
        "classified_fraction": float(kept.mean()),
        "classified_fraction_low": float(low),
        "classified_fraction_high": float(high),
    }


def _with_ci(name: str, values: np.ndarray, n_boot: int, seed: int) -> dict:
    ci = bootstrap_ci(np.mean, values, n=n_boot, seed=seed)
    return {name: ci.estimate, f"{name}_low": ci.low, f"{name}_high": ci.high}


def uncertainty(member_probs: np.ndarray, n_boot: int, seed: int, alpha: float) -> dict:
    """Confidence, the τ fraction, and entropy split into member entropy + disagreement."""
    probs = M.ensemble_mean(member_probs)
    entropy = U.entropy(probs)
    member_entropy = np.mean([U.entropy(p) for p in member_probs], axis=0)
    out = {"mean_confidence": float(M.confidence(probs).mean()), "mean_member_entropy": float(member_entropy.mean())}
    out.update(classified_fraction(probs, alpha))
    out.update(_with_ci("mean_entropy", entropy, n_boot, seed))
    out.update(_with_ci("mean_disagreement", U.disagreement(member_probs), n_boot, seed))
    return out


def labelled(probs: np.ndarray, labels: np.ndarray, n_boot: int, seed: int) -> dict:
    ok = M.correct(probs, labels)
    out = _with_ci("accuracy", ok, n_boot, seed)
    out.update({name: float(score(probs, labels)) for name, score in M.LABELLED.items()})
    return out


def vs_baseline(name: str, probs, base_probs, labels, rules: Rules, n_boot: int, seed: int) -> dict:
    """Paired differences to the baseline ensemble on the same images: bootstrap intervals,
    McNemar for accuracy, and TOST against the "no change" band (and, for the paper's
    compressed variants, against the paper's own accuracy difference ± margin)."""
    ok, ok_base = M.correct(probs, labels), M.correct(base_probs, labels)
    per_sample = {
        "accuracy": (ok.astype(np.float64), ok_base.astype(np.float64)),
        "nll": (M.nll_per_sample(probs, labels), M.nll_per_sample(base_probs, labels)),
        "brier": (M.brier_per_sample(probs, labels), M.brier_per_sample(base_probs, labels)),
    }
    out, tests = {}, {}
    for metric, (a, b) in per_sample.items():
        d = bootstrap_ci(np.mean, a, n=n_boot, seed=seed, paired_with=(b,))
        out.update({f"{metric}_diff": d.estimate, f"{metric}_diff_low": d.low, f"{metric}_diff_high": d.high})
        band = no_change_band(metric, float(b.mean()), rules)
        tests[metric] = {"no_change": compare_paired(a, b, band, rules.alpha).as_dict()}
    tests["accuracy"]["mcnemar"] = mcnemar_test(ok, ok_base)
    if name in paper.COMPRESSED:
        tests["accuracy"]["paper"] = compare_paired(*per_sample["accuracy"], accuracy_band(name, rules), rules.alpha).as_dict()
    out["vs_baseline"] = tests
    return out


def _scores(member_probs: np.ndarray) -> dict:
    probs = M.ensemble_mean(member_probs)
    return {
        "entropy": U.entropy(probs),
        "disagreement": U.disagreement(member_probs),
        "one_minus_confidence": 1.0 - M.confidence(probs),
    }


def detection(member_in: np.ndarray, member_out: np.ndarray) -> tuple[dict, dict]:
    """OOD detection (OOD = positives) per score: metrics and ROC curves on a fixed FPR grid."""
    s_in, s_out = _scores(member_in), _scores(member_out)
    out, roc = {}, {}
    for score in OOD_SCORES:
        out[score] = U.ood_scores_from_scores(s_in[score], s_out[score])
        fpr, tpr = U.ood_roc(s_in[score], s_out[score])
        roc[score] = {"fpr": ROC_FPR.tolist(), "tpr": np.round(np.interp(ROC_FPR, fpr, tpr), 5).tolist()}
    return out, roc


def box_stats(values: np.ndarray) -> dict:
    """matplotlib's boxplot statistics (whiskers at 1.5 IQR) without the outliers, plus the
    mean: what Figure 2 draws with Axes.bxp."""
    from matplotlib.cbook import boxplot_stats

    s = boxplot_stats(np.asarray(values, dtype=np.float64))[0]
    return {k: float(s[k]) for k in ("mean", "med", "q1", "q3", "whislo", "whishi")}


def confidence_curves(probs_by_dataset: dict, labels_in) -> dict:
    out = {"tau": CURVE_TAUS.tolist()}
    for dataset, probs in probs_by_dataset.items():
        curve = M.confidence_curve(probs, labels_in if dataset == "mnist" else None, thresholds=CURVE_TAUS)
        out[f"{dataset}_fraction"] = np.round(curve.fraction, 6).tolist()
        if dataset == "mnist":
            out["mnist_accuracy"] = [None if np.isnan(a) else round(float(a), 6) for a in curve.accuracy]
    return out


def reliability(probs, labels) -> dict:
    bins = M.calibration_bins(probs, labels)
    clean = lambda a: [None if np.isnan(v) else float(v) for v in a]  # noqa: E731
    return {
        "edges": bins.edges.tolist(),
        "count": bins.count.astype(int).tolist(),
        "confidence": clean(bins.confidence),
        "accuracy": clean(bins.accuracy),
    }


def schedule(exp: Experiment) -> dict:
    """The pruning schedule as tfmot evaluates it: steps per epoch, mask-update frequency,
    the step where the target is reached, and each sparsity's curve at its change points."""
    from helpers.engine import compression  # TensorFlow: only when results are computed
    from helpers.engine.ensemble import split_validation

    cfg = exp.config
    (x_fit, _), _ = split_validation(*exp.train_data, cfg.validation_split)
    first = compression.pruning_schedule(cfg, cfg.sparsities[0], len(x_fit))
    curves = {}
    for s in cfg.sparsities:
        steps, values = compression.schedule_curve(cfg, s, len(x_fit))
        keep = np.r_[True, np.diff(values) != 0] | (steps == steps[-1])
        keep |= np.r_[keep[1:], False]  # the step before each change, so the curve is a staircase
        curves[str(s)] = {"step": steps[keep].tolist(), "sparsity": values[keep].tolist()}
    return {
        "steps_per_epoch": -(-len(x_fit) // cfg.batch_size),
        "frequency": int(first.frequency),
        "end_step": int(first.end_step),
        "curves": curves,
    }


FAMILY_KEYS = (
    "accuracy",
    "nll",
    "brier",
    "ece",
    "mean_confidence",
    "classified_fraction",
    "mean_entropy",
    "mean_member_entropy",
    "mean_disagreement",
)


def family_means(entry: dict, datasets: dict) -> dict:
    """'rotated_mnist' and 'corrupted_mnist': each scalar averaged over the family's sets
    (every angle > 0; every corruption), so a claim can be judged per family."""
    out = {}
    for family in ("rotated_mnist", "corrupted_mnist"):
        members = [d for d, info in datasets.items() if info["family"] == family and d in entry]
        if members:
            out[family] = {k: float(np.mean([entry[d][k] for d in members])) for k in FAMILY_KEYS}
    return out


def vs_control(exp: Experiment, names: list[str], datasets: list[str], n_boot: int, seed: int) -> dict:
    """Per-image paired differences of entropy and disagreement to the re-training control
    (ft_q8: fine-tuned like the pruned members, never pruned), with bootstrap 95 % intervals:
    what sparsity does beyond the extra epochs. {name: {dataset: {measure: {estimate, low, high}}}}."""
    out = {}
    control = {ds: _scores(variant_members(exp, "ft_q8", ds)) for ds in datasets}
    for name in names:
        out[name] = {}
        for ds in datasets:
            scores = _scores(variant_members(exp, name, ds))
            out[name][ds] = {}
            for measure in ("entropy", "disagreement"):
                d = bootstrap_ci(np.mean, scores[measure], n=n_boot, seed=seed, paired_with=(control[ds][measure],))
                out[name][ds][measure] = {"estimate": d.estimate, "low": d.low, "high": d.high}
    return out


# --- the whole evaluation ------------------------------------------------------------------
def variant_members(exp: Experiment, variant: str, dataset: str) -> np.ndarray:
    if variant in subset_variants(exp.config):
        source, k = subset_members(variant)
        return exp.member_probabilities(source, dataset)[:k]
    return exp.member_probabilities(variant, dataset)


def _size(sizes: dict, name: str, config) -> tuple[int, float]:
    if name in subset_variants(config):
        source, k = subset_members(name)
        zipped = int(sum(sizes[source]["member_zipped_bytes"][:k]))
    else:
        zipped = int(sizes[name]["zipped_bytes"])
    return zipped, sizes["baseline"]["zipped_bytes"] / zipped


def _info(config, name: str) -> dict:
    for v in variants(config):
        if v["name"] == name:
            return {"sparsity": v["sparsity"], "quantization": v["quantization"], "control": v["control"]}
    source, _ = subset_members(name)
    return {"sparsity": 0.0, "quantization": parse_variant(source)[1], "control": False}


def evaluate(exp: Experiment, force: bool = False) -> dict:
    """Compute (or read) results.json for every variant and dataset; schema above."""
    results_file, lineage = (
        exp.store.results_name(),
        lambda: exp.store.lineage(exp.model_files(), evaluation=exp.config.stage_hash("evaluation")),
    )
    cached = exp.store.read_derived(results_file, lineage(), compute=exp.compute)
    names = variant_names(exp)
    ood_sets = [registry.DATASETS[d].key for d in registry.ood_names()]  # the paper's first
    if (
        cached
        and not force
        and cached.get("evaluation_version") == EVALUATION_VERSION
        and set(cached["variants"]) == set(names)
        and set(ood_sets) <= set(cached.get("datasets", {}))
    ):
        return cached  # (a newly registered dataset is evaluated: the models are not touched)
    cfg = exp.config
    # Timed as a stage of the store's own evaluation only: other evaluation values write into
    # evaluations/<hash>/ and leave the (committed) manifest as it is.
    own = results_file == "results.json" and exp.compute
    clock = exp.store.stage_clock("evaluation") if own else (lambda: None)
    rules = load_rules(cfg.config_path)
    n_boot, seed, alpha = cfg.bootstrap_samples, cfg.seed, rules.alpha
    sizes = exp.sizes()
    _, y_test = exp.dataset("mnist_test")
    base_in = M.ensemble_mean(variant_members(exp, "baseline", "mnist_test"))
    shift_sets = exp.shift_dataset_names()
    datasets = {"mnist": {"kind": "in", "family": "mnist", "intensity": None, "n": int(len(y_test))}}
    for name in ood_sets:
        datasets[name] = {"kind": "ood", "family": name, "intensity": None, "n": int(len(exp.dataset(name)[0]))}
    for name in shift_sets:
        family, intensity = exp.shift_info(name)
        datasets[name] = {"kind": "shift", "family": family, "intensity": intensity, "n": int(len(exp.dataset(name)[1]))}
    shifted = set(shift_variants(cfg))
    out = {"variants": {}, "curves": {}, "boxes": {}, "reliability": {}, "roc": {}}
    for name in progress.each(names, "evaluating"):
        zipped, ratio = _size(sizes, name, cfg)
        entry = {"label": label(name), **_info(cfg, name), "zipped_bytes": zipped, "compression_ratio": ratio}
        member_in = variant_members(exp, name, "mnist_test")
        probs_in = M.ensemble_mean(member_in)
        entry["members"] = int(member_in.shape[0])
        entry["mnist"] = {
            **labelled(probs_in, y_test, n_boot, seed),
            **uncertainty(member_in, n_boot, seed, alpha),
            **vs_baseline(name, probs_in, base_in, y_test, rules, n_boot, seed),
        }
        curve_sets = {"mnist": probs_in}
        out["boxes"][name], out["roc"][name] = {}, {}
        for ood in [*ood_sets] if name in shifted else [registry.PRIMARY_OOD]:
            member_out = variant_members(exp, name, ood)
            entry[ood] = uncertainty(member_out, n_boot, seed, alpha)
            entry[ood]["detection"], out["roc"][name][ood] = detection(member_in, member_out)
            scores = _scores(member_out)
            out["boxes"][name][ood] = {k: box_stats(scores[k]) for k in ("entropy", "disagreement")}
            curve_sets[ood] = M.ensemble_mean(member_out)
        if name in shifted:
            for ds in shift_sets:
                member_s = variant_members(exp, name, ds)
                _, y_s = exp.dataset(ds)
                entry[ds] = {
                    **labelled(M.ensemble_mean(member_s), y_s, n_boot, seed),
                    **uncertainty(member_s, n_boot, seed, alpha),
                }
            entry.update(family_means(entry, datasets))
        out["curves"][name] = confidence_curves(curve_sets, y_test)
        out["reliability"][name] = reliability(probs_in, y_test)
        out["variants"][name] = entry
    from helpers.engine import compression

    out["layer_sparsity"] = compression.layer_sparsity_table({s: exp.pruned(s) for s in cfg.sparsities})
    out["schedule"] = schedule(exp)
    out["vs_control"] = vs_control(exp, [n for n in ["q8", *int8_variants(cfg)]], ood_sets, n_boot, seed)
    member_probs = variant_members(exp, "baseline", "mnist_test")
    out["members"] = {
        "accuracy": [M.accuracy(p, y_test) for p in member_probs],
        "nll": [M.nll(p, y_test) for p in member_probs],
        "ensemble_of_first_k": {
            "accuracy": [M.accuracy(M.ensemble_mean(member_probs[:k]), y_test) for k in range(1, len(member_probs) + 1)],
            "nll": [M.nll(M.ensemble_mean(member_probs[:k]), y_test) for k in range(1, len(member_probs) + 1)],
        },
    }
    results = {
        "profile": cfg.profile,
        "config_hash": cfg.hash,
        "seed": cfg.seed,
        "tau": TAU,
        "alpha": alpha,
        "evaluation_version": EVALUATION_VERSION,
        "datasets": datasets,
        **out,
    }
    exp.store.write_derived(results_file, results, lineage())
    clock()  # evaluation is a timed stage too (predictions and metrics, whatever was cached)
    return results
