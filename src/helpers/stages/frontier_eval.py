"""The frontier's numbers for one seed: every ensemble, old and new, raw and after temperature
scaling, and the softmax audit of the variants whose softmax output is int8.

    numbers = evaluate_frontier(exp, fm, record)    # -> the record's "frontier" entry

Schema (fractions in [0, 1], entropies in nats)::

    {"frontier_version", "frontier_hash", "seed", "timings", "machine", "checks",
     "resumed": [stage timed in part only, after a checkpoint],
     "variants": {name: {"label", "kind", "members", "size": {"zipped_bytes"},
         "temperature", "member_temperatures",          # fitted on the validation split
         "raw" | "calibrated" | "calibrated_members": {
             "mnist": {"accuracy", "nll", "brier", "ece", "mean_entropy"},
             <ood>: {"mean_entropy", "auroc"            # entropy as the OOD score, MNIST negatives
                     (+ "mean_member_entropy", "mean_disagreement" where members exist)}}}},
     "audit": {name: {"int8" | "float_softmax": {<dataset>: {...}}, "zero_fraction": {<dataset>: f}}}}

"raw" is each ensemble as evaluated (the existing variants' raw numbers are checked against the
seed's record, helpers.stages.evaluation, to RAW_TOLERANCE); "calibrated" divides the log of the ensemble's
averaged probabilities by one temperature (pool, then calibrate); "calibrated_members" scales
each member by its own temperature and averages them (calibrate, then pool), so its members'
disagreement is defined. Temperatures are fitted on the validation split (the last
`validation_split` of the training images: no member trained on them). The audit recomputes the
int8-softmax variants' numbers with a float softmax over their own dequantized logits
(helpers.engine.logits), from the very same .tflite files.
"""

from __future__ import annotations

import time

import numpy as np

from helpers.core import config as config_module
from helpers.core import datasets as registry
from helpers.core.variants import label, variants
from helpers.stages import evaluation
from helpers.stages.experiment import variant_info
from helpers.stats import calibration
from helpers.stats import metrics as M
from helpers.stats import uncertainty as U

MNIST = registry.DATASETS["mnist"].key
RAW_CHECK = ("nll", "brier")  # continuous: a near-tie image or a bin edge cannot flip them
RAW_TOLERANCE = 1e-6
"""How far a raw number may be from the seed record's: float32 kernels of another CPU move
seed 0's float32 ensembles by up to 6e-8 nats (benchmarks/reproduce.py); a model file that is
not the record's moves them by orders of magnitude more."""


class FrontierNumbersError(ValueError):
    """Raw numbers that do not match the seed's record: the predictions are not the record's."""


def ood_sets() -> list[str]:
    return [registry.DATASETS[d].key for d in registry.ood_names()]


def _datasets() -> list[str]:
    return [MNIST, *ood_sets()]


def old_names(config) -> list[str]:
    """The existing ensembles on the frontier: every variant of the config and the equal-size references."""
    return [v["name"] for v in variants(config)] + evaluation.subset_variants(config)


def audited(config, fm) -> list[str]:
    """The variants whose softmax output is int8: the full-integer ones and the PQAT ones."""
    return [v["name"] for v in variants(config) if v["quantization"] == "int8full"] + [
        n for n, info in fm.variants.items() if info["kind"] == "pqat"
    ]


# --- predictions --------------------------------------------------------------------------------
def validation_images(exp):
    from helpers.engine.ensemble import split_validation

    _, (x_val, y_val) = split_validation(*exp.train_data, exp.config.validation_split)
    return x_val, y_val


def _old_paths(exp, name: str) -> tuple[list, bool]:
    """(model files, float32?) of an existing variant's members."""
    info = variant_info(exp.config, name)
    if info["quantization"] == "float32":
        exp.float_members(name)
        return exp._paths(name, ".keras"), True
    return exp.tflite_paths(name), False


def member_probs(exp, fm, name: str, dataset: str) -> np.ndarray:
    """(M, N, K) member probabilities of any frontier ensemble on a registered dataset or on the
    validation split ('validation'), cached by model checksums."""
    from helpers.engine.predict import keras_probabilities, tflite_probabilities

    if name in fm.variants:
        paths = fm.tflite_paths(name)
        x = validation_images(exp)[0] if dataset == "validation" else exp.dataset(dataset)[0]
        key = exp.store.lineage(
            paths, dataset=dataset, subset=None if dataset == "validation" else exp.subset(dataset), renormalized=True
        )
        # PQAT files end in an int8 softmax dequantized inside the graph: renormalized as the
        # full-int8 outputs are (helpers.engine.predict), since rounding leaves their sums off 1
        return exp.store.cached_array(f"predictions/{name}_{dataset}", key, lambda: renormalized(tflite_probabilities(paths, x)))
    if name in evaluation.subset_variants(exp.config):
        source, k = evaluation.subset_members(name)
        return member_probs(exp, fm, source, dataset)[:k]
    if dataset != "validation":
        return exp.member_probabilities(name, dataset)
    paths, is_float = _old_paths(exp, name)
    x = validation_images(exp)[0]
    key = exp.store.lineage(paths, dataset="validation", split=exp.config.validation_split)
    predict = (lambda: keras_probabilities(exp.float_members(name), x)) if is_float else (lambda: tflite_probabilities(paths, x))
    return exp.store.cached_array(f"predictions/{name}_validation", key, predict)


def renormalized(probs: np.ndarray) -> np.ndarray:
    return (probs / np.maximum(probs.sum(axis=-1, keepdims=True), 1e-12)).astype(np.float32)


# --- metrics --------------------------------------------------------------------------------------
def labelled_block(probs: np.ndarray, labels: np.ndarray) -> dict:
    return {
        "accuracy": M.accuracy(probs, labels),
        "nll": M.nll(probs, labels),
        "brier": M.brier(probs, labels),
        "ece": M.ece(probs, labels),
        "mean_entropy": float(U.entropy(probs).mean()),
    }


def ood_block(probs_in: np.ndarray, probs_out: np.ndarray, members_out: np.ndarray | None) -> dict:
    """Mean entropy and AUROC (entropy score; OOD images positive, MNIST test images negative);
    member entropy and disagreement when the members are given."""
    out = {
        "mean_entropy": float(U.entropy(probs_out).mean()),
        "auroc": float(U.ood_scores_from_scores(U.entropy(probs_in), U.entropy(probs_out))["auroc"]),
    }
    if members_out is not None:
        out["mean_member_entropy"] = float(np.mean([U.entropy(p) for p in members_out], axis=0).mean())
        out["mean_disagreement"] = float(U.disagreement(members_out).mean())
    return out


def blocks(by_dataset: dict, labels: np.ndarray, members: dict | None) -> dict:
    """{dataset: block} from {dataset: (N, K) ensemble probabilities} (and their members)."""
    out = {"mnist": labelled_block(by_dataset[MNIST], labels)}
    for ds in ood_sets():
        out[ds] = ood_block(by_dataset[MNIST], by_dataset[ds], None if members is None else members[ds])
    return out


def treatments(member_by_ds: dict, member_val: np.ndarray, y_val: np.ndarray, y_test: np.ndarray) -> dict:
    """The raw, calibrated (pooled) and calibrated-members numbers of one ensemble, and its temperatures."""
    temps = calibration.calibrate(member_val, y_val)
    raw = {ds: M.ensemble_mean(p) for ds, p in member_by_ds.items()}
    scaled = {ds: calibration.apply(p, temps) for ds, p in member_by_ds.items()}
    pooled = {ds: s["pooled"] for ds, s in scaled.items()}
    members = {ds: s["members"] for ds, s in scaled.items()}
    return {
        "temperature": float(temps["pooled"]),
        "member_temperatures": [float(t) for t in temps["members"]],
        "raw": blocks(raw, y_test, member_by_ds),
        "calibrated": blocks(pooled, y_test, None),
        "calibrated_members": blocks({ds: m.mean(axis=0) for ds, m in members.items()}, y_test, members),
    }


def check_raw(name: str, numbers: dict, record_results: dict) -> None:
    """Refuse raw numbers that differ from the seed record's (the predictions are not its models')."""
    stored = record_results["variants"].get(name, {}).get("mnist", {})
    for key in RAW_CHECK:
        if key in stored and abs(stored[key] - numbers["mnist"][key]) > RAW_TOLERANCE:
            raise FrontierNumbersError(
                f"{name}'s MNIST {key} is {numbers['mnist'][key]:.12g} here but {stored[key]:.12g} in the seed's record; "
                "its model files are not the ones the record was evaluated on: re-open the seed "
                f"(`python -m helpers evaluate --profile {record_results.get('profile')} --seeds {record_results.get('seed')}`)."
            )


def audit(exp, fm, name: str, y_test: np.ndarray) -> dict:
    """The int8-softmax numbers beside those of a float softmax over the same files' logits."""
    from helpers.engine.logits import tflite_logits

    paths = fm.tflite_paths(name) if name in fm.variants else exp.tflite_paths(name)
    int8, floats, zeros = {}, {}, {}
    for ds in _datasets():
        x = exp.dataset(ds)[0]
        key = exp.store.lineage(paths, dataset=ds, subset=exp.subset(ds), what="logits")
        logits = exp.store.cached_array(
            f"logits/{name}_{ds}",
            key,
            lambda x=x: np.stack([tflite_logits(p, x) for p in paths]),
        )
        z = logits - logits.max(axis=-1, keepdims=True)
        floats[ds] = (np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)).astype(np.float64)
        int8[ds] = member_probs(exp, fm, name, ds).astype(np.float64)
        zeros["mnist" if ds == MNIST else ds] = float(np.mean(int8[ds] == 0))
    out = {}
    for kind, members in (("int8", int8), ("float_softmax", floats)):
        out[kind] = blocks({ds: m.mean(axis=0) for ds, m in members.items()}, y_test, members)
    out["zero_fraction"] = zeros
    out["float_zero_fraction"] = {("mnist" if ds == MNIST else ds): float(np.mean(m == 0)) for ds, m in floats.items()}
    return out


def evaluate_frontier(exp, fm, record: dict, echo=print) -> dict:
    """The seed's frontier numbers (schema in the module doc); `fm` built (FrontierModels.build)."""
    from helpers.core import progress
    from helpers.core.provenance import machine_info

    start = time.monotonic()
    x_val, y_val = validation_images(exp)
    y_test = exp.dataset(MNIST)[1]
    results = record["results"]
    out = {}
    old = old_names(exp.config)
    for name in progress.each([*old, *fm.variants], "frontier numbers"):
        member_by_ds = {ds: member_probs(exp, fm, name, ds).astype(np.float64) for ds in _datasets()}
        entry = {"label": label(name), "members": int(member_by_ds[MNIST].shape[0])}
        entry.update(treatments(member_by_ds, member_probs(exp, fm, name, "validation").astype(np.float64), y_val, y_test))
        if name in old:
            check_raw(name, entry["raw"], results)
            entry["kind"] = "single" if entry["members"] == 1 else "ensemble"
            entry["size"] = {"zipped_bytes": int(results["variants"][name]["zipped_bytes"])}
        else:
            from helpers.engine.compression import zipped_size

            entry["kind"] = fm.variants[name]["kind"]
            entry["size"] = {"zipped_bytes": int(sum(zipped_size(p) for p in fm.tflite_paths(name)))}
        out[name] = entry
    audits = {name: audit(exp, fm, name, y_test) for name in progress.each(audited(exp.config, fm), "softmax audit")}
    timings = {**fm.timings, "frontier_evaluation": round(time.monotonic() - start, 2)}
    echo(f"seed {exp.config.seed}: frontier numbers of {len(out)} ensembles in {timings['frontier_evaluation']:.0f} s")
    return {
        "frontier_version": config_module.FRONTIER_VERSION,
        "frontier_hash": fm.hash,
        "seed": exp.config.seed,
        "validation_images": int(len(y_val)),
        "timings": timings,
        "machine": machine_info(),  # the timings compare only on the same CPU model
        "checks": fm.checks,
        "resumed": sorted(fm.resumed),  # stages timed in part only: not a cost per seed
        "variants": out,
        "audit": audits,
    }
