"""The book's tables: pandas DataFrames of formatted strings, from results.json (one run)
and summary.json (between seeds; helpers.stages.evaluation and helpers.stages.aggregate computed every
value; helpers.core.fmt formats them).

Seed level first: every table's leading columns are between-seed values (the mean over n
seeds with its 95 % t-interval) from `summary` (a helpers.book.summary.Summary). A one-run
value with its interval over test images appears only as a labelled secondary column
("seed 0, over images"). The appendix's tables (timings, benchmarks, versions) are in
helpers.book.appendix_tables.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.core import fmt, paper
from helpers.core.variants import label


def _seeds(summary, name, dataset, key, formatter, **kw) -> str:
    s = summary.stat(name, dataset, key)
    return fmt.MISSING if s is None else fmt.interval(formatter, s["mean"], s["low"], s["high"], **kw)


def _diff(summary, kind, name, dataset, key, formatter, **kw) -> str:
    s = summary.diff(kind, name, dataset, key)
    return fmt.MISSING if s is None else fmt.interval(formatter, s["mean"], s["low"], s["high"], **kw)


def n_seeds_text(summary) -> str:
    return f"{summary.n} seed{'s' if summary.n != 1 else ''}"


def _run(results) -> str:
    return f"seed {results.get('seed', 0)}, over images"


def table2_accuracy(results: dict, summary, names: list[str]) -> pd.DataFrame:
    """The paper's Table 2, accuracy half: the mean over seeds with its 95 % t-interval, the
    paired difference to the baseline over seeds, the paper's; then one run's accuracy with
    its interval over test images and McNemar's test on the same images."""
    V = results["variants"]
    n = n_seeds_text(summary)
    rows = []
    for name in names:
        m = V[name]["mnist"]
        claim = paper.COMPRESSED.get(name)
        base = name == "baseline"
        t = m["vs_baseline"]["accuracy"]["mcnemar"]
        rows.append(
            {
                "Ensemble": label(name),
                f"Accuracy, {n}": _seeds(summary, name, "mnist", "accuracy", fmt.pct),
                f"Δ vs baseline, {n}": fmt.MISSING if base else _diff(summary, "vs_baseline", name, "mnist", "accuracy", fmt.pp),
                "Paper Δ": fmt.pp(claim.accuracy_diff_pp / 100) if claim else fmt.MISSING,
                f"Accuracy, {_run(results)}": fmt.interval(fmt.pct, m["accuracy"], m["accuracy_low"], m["accuracy_high"]),
                f"McNemar vs baseline, seed {results.get('seed', 0)}": fmt.MISSING if base else fmt.pvalue(t["p"]),
            }
        )
    return pd.DataFrame(rows).set_index("Ensemble")


def table2_calibration(summary, names: list[str]) -> pd.DataFrame:
    """The paper's Table 2, NLL and Brier half (and ECE), all over seeds: each metric's mean
    with its 95 % t-interval and its paired difference to the baseline."""
    n = n_seeds_text(summary)
    rows = []
    for name in names:
        base = name == "baseline"
        row = {"Ensemble": label(name)}
        for key, title, f in (
            ("nll", "NLL (nats)", lambda x: fmt.number(x, 4)),
            ("brier", "Brier", lambda x: fmt.number(x, 4)),
            ("ece", "ECE (%)", lambda x: fmt.number(100 * x, 2) if x is not None else None),
        ):
            row[f"{title}, {n}"] = _seeds(summary, name, "mnist", key, f)
            if key != "ece":
                row[f"Δ {title.split(' ')[0]}"] = (
                    fmt.MISSING
                    if base
                    else _diff(summary, "vs_baseline", name, "mnist", key, lambda x: fmt.number(x, 4, signed=True))
                )
        rows.append(row)
    return pd.DataFrame(rows).set_index("Ensemble")


def table2_size(results: dict, names: list[str]) -> pd.DataFrame:
    """The paper's Table 2, size half: zipped ensemble (deflate, as the paper), the
    compression ratio against the float32 baseline in the same container, the paper's."""
    V = results["variants"]
    rows = []
    for name in names:
        claim = paper.COMPRESSED.get(name)
        rows.append(
            {
                "Ensemble": label(name),
                "Members": str(V[name]["members"]),
                "Zipped size": fmt.kb(V[name]["zipped_bytes"]),
                "Ratio": fmt.ratio(V[name]["compression_ratio"], 1),
                "Paper ratio": (
                    fmt.ratio(claim.compression_ratio, 0) if claim and not math.isnan(claim.compression_ratio) else fmt.MISSING
                ),
            }
        )
    return pd.DataFrame(rows).set_index("Ensemble")


def seed_table(summary, names: list[str]) -> pd.DataFrame:
    """Per seed: the baseline's accuracy and each ensemble's difference to it; then the
    mean with its t-interval (at the summary's level) and the standard deviation over seeds (all from the
    aggregate's per-seed values)."""
    base = summary.stat("baseline", "mnist", "accuracy")
    diffs = {n: summary.diff("vs_baseline", n, "mnist", "accuracy") for n in names}
    rows = [
        {
            "Seed": str(seed),
            "Baseline accuracy": fmt.pct(base["values"][i]),
            **{f"Δ {label(n)}": fmt.pp(d["values"][i]) for n, d in diffs.items()},
        }
        for i, seed in enumerate(summary.seeds)
    ]
    if summary.n >= 2:
        rows.append(
            {
                "Seed": f"mean [{summary.level} CI]",
                "Baseline accuracy": fmt.interval(fmt.pct, base["mean"], base["low"], base["high"]),
                **{f"Δ {label(n)}": fmt.interval(fmt.pp, d["mean"], d["low"], d["high"]) for n, d in diffs.items()},
            }
        )
        rows.append(
            {
                "Seed": "standard deviation",
                "Baseline accuracy": fmt.pp(base["sd"]).lstrip("+"),
                **{f"Δ {label(n)}": fmt.pp(d["sd"]).lstrip("+") for n, d in diffs.items()},
            }
        )
    return pd.DataFrame(rows).set_index("Seed")


def tau_table(results: dict, names: list[str]) -> pd.DataFrame:
    """Figure 1's values at τ, with Wilson 95 % intervals."""
    V = results["variants"]
    idx = results["curves"][names[0]]["tau"].index(round(results["tau"], 2))
    rows = []
    for name in names:
        m, o = V[name]["mnist"], V[name]["notmnist"]
        acc = results["curves"][name]["mnist_accuracy"][idx]
        rows.append(
            {
                "Ensemble": label(name),
                "MNIST classified": fmt.interval(
                    fmt.pct, m["classified_fraction"], m["classified_fraction_low"], m["classified_fraction_high"], decimals=1
                ),
                "MNIST accuracy of those": fmt.pct(acc),
                "NotMNIST classified": fmt.interval(
                    fmt.pct, o["classified_fraction"], o["classified_fraction_low"], o["classified_fraction_high"], decimals=1
                ),
            }
        )
    return pd.DataFrame(rows).set_index("Ensemble")


def detection_table(results: dict, names: list[str], dataset: str) -> pd.DataFrame:
    """OOD detection against MNIST by each score: AUROC, AUPR, FPR at 95 % TPR."""
    from helpers.stages.evaluation import OOD_SCORES

    short = {"entropy": "entropy", "disagreement": "disagreement", "one_minus_confidence": "1 − max p"}
    rows = []
    for name in names:
        d = results["variants"][name][dataset]["detection"]
        row = {"Ensemble": label(name)}
        for score in OOD_SCORES:
            row[f"AUROC, {short[score]}"] = fmt.number(d[score]["auroc"], 3)
        row["AUPR, entropy"] = fmt.number(d["entropy"]["aupr"], 3)
        row["FPR95, entropy"] = fmt.pct(d["entropy"]["fpr_at_95_tpr"], 1)
        rows.append(row)
    return pd.DataFrame(rows).set_index("Ensemble")


def uncertainty_table(results: dict, names: list[str], dataset: str, summary) -> pd.DataFrame:
    """Mean entropy = mean member entropy (aleatoric) + disagreement (epistemic), over seeds,
    each with its difference to the re-training control; then one run's entropy over images."""
    n = n_seeds_text(summary)
    rows = []
    for name in names:
        m = results["variants"][name][dataset]
        rows.append(
            {
                "Ensemble": label(name),
                f"Entropy, {n}": _seeds(summary, name, dataset, "mean_entropy", fmt.nats),
                f"Member entropy, {n}": _seeds(summary, name, dataset, "mean_member_entropy", fmt.nats),
                f"Disagreement, {n}": _seeds(summary, name, dataset, "mean_disagreement", fmt.nats),
                "Δ disagreement vs control": fmt.MISSING
                if name in ("ft_q8", "baseline")
                else _diff(summary, "vs_control", name, dataset, "mean_disagreement", lambda x: fmt.nats(x, signed=True)),
                f"Entropy, {_run(results)}": fmt.interval(
                    fmt.nats, m["mean_entropy"], m["mean_entropy_low"], m["mean_entropy_high"]
                ),
            }
        )
    return pd.DataFrame(rows).set_index("Ensemble")


def sizes_table(sizes: dict, names: list[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        s = sizes[name]
        bound = s.get("lower_bound_bytes")
        rows.append(
            {
                "Ensemble": label(name),
                "Zipped (deflate)": fmt.kb(s["zipped_bytes"]),
                "Ratio": fmt.ratio(s["compression_ratio"], 1),
                "Lower bound": fmt.kb(bound),
                "Zipped / bound": fmt.ratio(s["zipped_bytes"] / bound) if bound else fmt.MISSING,
                "Zipped .keras": fmt.kb(s.get("keras_zipped_bytes")),
            }
        )
    return pd.DataFrame(rows).set_index("Ensemble")


ENCODING_COLUMNS = {
    "zip": "Zip (paper), kB",
    "zip9": "Deflate 9, kB",
    "tflite_sparse_zip": "TFLite sparse, zipped, kB",
    "container9": "Sparse container, kB",
}


def encodings_table(enc: dict) -> pd.DataFrame:
    """Experiment.encodings(): each int8-weights ensemble's size in every encoding and the
    lower bound, in kB (the unit in the headers). The ratios are a table of their own
    (encoding_ratios_table): together they would be wider than the page."""
    rows = []
    for name, v in enc["variants"].items():
        row = {"Ensemble": label(name)}
        row.update({title: fmt.bare(fmt.kb, v["bytes"].get(key)) for key, title in ENCODING_COLUMNS.items()})
        row["Lower bound, kB"] = fmt.bare(fmt.kb, v["lower_bound_bytes"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("Ensemble")


def encoding_ratios_table(enc: dict) -> pd.DataFrame:
    """Each int8-weights ensemble's sparse container over the bound, its compression ratio,
    and the ratio the bound itself allows."""
    rows = [
        {
            "Ensemble": label(name),
            "Container / bound": fmt.ratio(v["of_bound"]["container9"]),
            "Ratio (container)": fmt.ratio(v["ratio"]["container9"], 1),
            "Ratio at the bound": fmt.ratio(v["ratio_at_bound"], 1),
        }
        for name, v in enc["variants"].items()
    ]
    return pd.DataFrame(rows).set_index("Ensemble")


def shift_table(results: dict, names: list[str], datasets: list[str], key: str, formatter, what: str) -> pd.DataFrame:
    """One row per shifted set, one column per ensemble: `key` formatted, its unit once in
    the corner header (`what`, e.g. 'mean entropy, nats'), not in every cell."""
    rows = []
    for ds in datasets:
        info = results["datasets"][ds]
        row = {
            "Shift": f"rotated {info['intensity']}°"
            if info["family"] == "rotated_mnist"
            else str(info["intensity"]).replace("_", " ")
        }
        for name in names:
            row[label(name)] = fmt.bare(formatter, results["variants"][name][ds][key])
        rows.append(row)
    return pd.DataFrame(rows).rename(columns={"Shift": f"Shift ({what})"}).set_index(f"Shift ({what})")


def markdown(frame: pd.DataFrame):
    """A DataFrame as a Markdown object for `{glue:md}` (inside a numbered `{table}`)."""
    from IPython.display import Markdown

    return Markdown(frame.to_markdown())
