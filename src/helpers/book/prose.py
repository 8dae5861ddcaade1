"""Conclusions in prose, chosen from the numbers: one tested sentence for each outcome.

No chapter prints a conclusion of its own: it calls a function here, which looks at
computed conditions (intervals, verdicts, fronts) and returns the sentence that fits.
tests/test_prose.py builds inputs for every branch.
"""

from __future__ import annotations

from helpers.core import fmt, paper
from helpers.core.variants import label, parse_variant
from helpers.engine.encodings import CONVERTER_MIN_WEIGHTS
from helpers.stats.verdicts import CONTRADICTED, NOT_TESTED, SUPPORTED, UNRESOLVED, VERDICTS


def _sparse_int8(variants: dict) -> list[str]:
    """The pruned int8-weight ensembles ('s25_q8', ...) among a results' variants, in order."""
    import re

    return [n for n in variants if re.fullmatch(r"s\d+_q8", n)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict_summary(rows: list[dict], profile: str, n_seeds: int) -> str:
    """'Of the paper's 10 claims, 4 are supported, 5 consistent but not resolved and 1
    contradicted in this paper-profile reproduction (5 seeds).'"""
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    parts = []
    if counts[SUPPORTED]:
        parts.append(f"{counts[SUPPORTED]} {'is' if counts[SUPPORTED] == 1 else 'are'} supported")
    if counts[UNRESOLVED]:
        parts.append(f"{counts[UNRESOLVED]} consistent with the data but not resolved by it")
    if counts[CONTRADICTED]:
        parts.append(f"{counts[CONTRADICTED]} contradicted")
    if counts[NOT_TESTED]:
        parts.append(f"{counts[NOT_TESTED]} not tested")
    listed = fmt.and_list(parts)
    return f"Of the paper's {len(rows)} claims, {listed} in this {profile}-profile reproduction ({_plural(n_seeds, 'seed')})."


def _moderate(names: list[str]) -> list[str]:
    return [n for n in names if n in paper.COMPRESSED and not paper.COMPRESSED[n].approximate]


def resolution(results: dict, summary, names: list[str]) -> str:
    """Whether the accuracy differences the paper reports can be resolved at all here: one
    run's interval over test images, and the between-seed SD of the difference."""
    V = results["variants"]
    moderate = _moderate(names)
    if not moderate:
        return "This build has none of the paper's small accuracy differences to resolve."
    claimed = [abs(paper.COMPRESSED[n].accuracy_diff_pp) for n in moderate]
    n_test = results["datasets"]["mnist"]["n"]
    widths = [100 * (V[n]["mnist"]["accuracy_diff_high"] - V[n]["mnist"]["accuracy_diff_low"]) / 2 for n in moderate]
    images = [c / 100 * n_test for c in claimed]
    text = (
        f"The paper's accuracy differences are {fmt.span(claimed)} pp, "
        f"that is {fmt.span(images, 0)} of the "
        f"{n_test:,} test images; one run's paired {fmt.level(results['alpha'])} intervals reach ±{fmt.span(widths)} pp "
        f"around each difference"
    )
    if summary.n >= 2:
        sds = [100 * summary.diff("vs_baseline", n, "mnist", "accuracy")["sd"] for n in moderate]
        text += f", and between {summary.n} seeds the difference itself varies with a standard deviation of {fmt.span(sds)} pp"
    if max(claimed) < min(widths):
        return text + ", so no single run can tell these differences apart from zero or from each other."
    return text + ", so the larger of them are within reach of this test set."


def spread(summary, names: list[str]) -> str:
    """How the between-seed spread of the accuracy difference compares with the claims."""
    if summary.n < 2:
        return (
            f"With {_plural(summary.n, 'seed')} there is no between-seed spread yet; the "
            "intervals over test images are the only error bars."
        )
    moderate = _moderate(names)
    if not moderate:
        return "This build has no moderate sparsity to compare with the paper's differences."
    sds = {n: 100 * summary.diff("vs_baseline", n, "mnist", "accuracy")["sd"] for n in moderate}
    largest_claim = max(abs(paper.COMPRESSED[n].accuracy_diff_pp) for n in moderate)
    smallest_sd = min(sds.values())
    where = f"The standard deviation of the difference over {summary.n} seeds is {fmt.span(list(sds.values()))} pp"
    if smallest_sd > 2 * largest_claim:
        return where + f", more than twice the largest difference the paper reports ({fmt.number(largest_claim)} pp)."
    if smallest_sd > largest_claim:
        return where + f", larger than the largest difference the paper reports ({fmt.number(largest_claim)} pp)."
    return where + f", below the largest difference the paper reports ({fmt.number(largest_claim)} pp)."


def _control_interval(results: dict, summary, name: str, dataset: str, measure: str, min_seeds: int = 3):
    """(estimate, low, high, how) of `name` minus the control ft_q8: between seeds when there
    are at least `min_seeds`, else over images of one run."""
    if summary.n >= min_seeds:
        d = summary.diff("vs_control", name, dataset, f"mean_{measure}")
        return d["mean"], d["low"], d["high"], f"over {summary.n} seeds"
    c = results["vs_control"][name][dataset][measure]
    return c["estimate"], c["low"], c["high"], f"over images, seed {results.get('seed', 0)}"


def control(results: dict, summary, dataset: str = "notmnist", measure: str = "entropy") -> str:
    """Does extra training (the control ft_q8 against q8) explain the change at the first
    sparsity? Tested with the interval of s25_q8 − ft_q8 (over seeds where there are enough)."""
    V = results["variants"]
    first = next(iter(_sparse_int8(V)), None)
    if "ft_q8" not in V or first is None:
        return "This build has no re-training control, so extra training cannot be told apart from sparsity."
    where = summary.label(dataset)
    ft = summary.diff("vs_q8", "ft_q8", dataset, f"mean_{measure}")
    est, low, high, how = _control_interval(results, summary, first, dataset, measure)
    lead = (
        f"The re-training control — the baseline fine-tuned for the same epochs, never pruned — "
        f"moves the {measure} on {where} by {fmt.nats(ft['mean'], signed=True)} against the 0 % int8 "
        f"ensemble (mean over {_plural(summary.n, 'seed')}); the {label(first)} ensemble differs "
        f"from the control by {fmt.interval(fmt.nats, est, low, high, signed=True)} ({how})"
    )
    if high is not None and high < 0:
        return lead + (f", so pruning itself lowers the {measure}: extra training does not explain the fall.")
    if low is not None and low > 0:
        return lead + f", so once extra training is accounted for, pruning raises the {measure}."
    return lead + (
        f", so the change at {label(first)} is what extra training alone does: at this sparsity pruning adds nothing measurable."
    )


def budget(summary, panels, small: str = "s95_q8", reference: str = "single_q8") -> str:
    """Which ensembles are on each Pareto front, and the head-to-head at equal size (seed means)."""
    names = {"nll": "NLL", "ece": "ECE", "detection.entropy.auroc": "NotMNIST AUROC"}
    lines = []
    for _, key, _, _ in panels:
        lines.append(f"for {names[key]}, the front runs through {', '.join(label(n) for n in summary.front(key))}")
    text = f"Per kilobyte (means over {_plural(summary.n, 'seed')}), " + "; ".join(lines) + "."
    if not (summary.has(small) and summary.has(reference)):
        return text
    wins = []
    for dataset, key, title, higher in panels:
        a, b = summary.mean(small, dataset, key), summary.mean(reference, dataset, key)
        wins.append((title, (a > b) == higher and a != b))
    size_a, size_b = summary.mean(small, None, "zipped_bytes"), summary.mean(reference, None, "zipped_bytes")
    better = [t for t, w in wins if w]
    head = (
        f" At about the same size ({fmt.kb(size_a)} against {fmt.kb(size_b)}), the {label(small)} "
        f"ensemble beats one int8 member on {_plural(len(better), 'measure')} of {len(wins)}"
    )
    return text + head + (f" ({', '.join(better)})." if better else ".")


def size_measure(sizes: dict, results: dict, names: list[str]) -> str:
    """How the ratios depend on the container: TFLite against TFLite (ours) or against the
    zipped float .keras files (the toolkit guide's measure)."""
    V = results["variants"]
    keras = sizes["baseline"].get("keras_zipped_bytes")
    if not keras or not names:
        return "Every ratio here compares zipped TFLite files with the zipped float32 TFLite baseline."
    ours = ", ".join(f"{label(n)} {fmt.ratio(V[n]['compression_ratio'], 1)}" for n in names)
    theirs = ", ".join(f"{fmt.ratio(keras / V[n]['zipped_bytes'], 1)}" for n in names)
    q = V["q8"]["compression_ratio"]
    return (
        f"Ratios depend on the container. Against the zipped float32 TFLite baseline "
        f"({fmt.kb(sizes['baseline']['zipped_bytes'])}) they are {ours}; against the zipped float "
        f".keras files ({fmt.kb(keras)}), the toolkit guide's measure, they would be {theirs}. "
        f"Quantization alone gives {fmt.ratio(q, 1)}; "
        + (
            "the rest comes from deflate compressing the pruned zeros, since TFLite stores pruned kernels densely."
            if max(V[n]["compression_ratio"] for n in names) > q * 1.05
            else "pruning adds almost nothing on top of it in this container."
        )
    )


def ensemble_gain(members: dict) -> str:
    """What averaging the members buys, in accuracy and in likelihood (results["members"])."""
    acc, nll = members["accuracy"], members["nll"]
    ens_acc, ens_nll = members["ensemble_of_first_k"]["accuracy"][-1], members["ensemble_of_first_k"]["nll"][-1]
    acc_gain = ens_acc - sum(acc) / len(acc)
    nll_gain = (sum(nll) / len(nll) - ens_nll) / (sum(nll) / len(nll))
    text = (
        f"On the MNIST test set the members alone reach {fmt.pct(min(acc))} to {fmt.pct(max(acc))}; "
        f"averaging their probabilities gives {fmt.pct(ens_acc)}, {fmt.pp(acc_gain)} over the mean "
        f"member, and lowers the NLL from {fmt.nats(sum(nll) / len(nll), 4)} to {fmt.nats(ens_nll, 4)}"
    )
    if acc_gain <= 0 and nll_gain <= 0:
        return text + ": averaging buys nothing here."
    rel_acc = acc_gain / (1 - sum(acc) / len(acc)) if sum(acc) < len(acc) else 0.0
    if nll_gain > rel_acc:
        return text + (
            f" ({fmt.pct(nll_gain, 0)} of it): the likelihood gains more than the accuracy, "
            "because averaging mostly tempers confident mistakes."
        )
    return text + f": the accuracy gains more than the likelihood ({fmt.pct(nll_gain, 0)} less NLL)."


def zeros_and_size(results: dict, names: list[str]) -> str:
    """Whether the ratio grows with sparsity as fast as the share of zeros would allow."""
    V = results["variants"]
    q = V["q8"]["compression_ratio"]
    pairs = [(parse_variant(n)[0], V[n]["compression_ratio"]) for n in names]
    if not pairs:
        return ""
    ideal = [q / (1 - s) for s, _ in pairs]
    behind = all(r < i for (_, r), i in zip(pairs, ideal))
    listed = ", ".join(
        f"{fmt.ratio(r, 1)} at {fmt.pct(s, 0)} (storing only the non-zero values would give {fmt.ratio(i, 1)})"
        for (s, r), i in zip(pairs, ideal)
    )
    if behind:
        return (
            f"With pruning the ratios are {listed}: zeros save space only after deflate "
            "(TFLite stores a pruned kernel densely), so the ratio grows more slowly than the "
            "share of zeros would allow."
        )
    return f"With pruning the ratios are {listed}: the ratio keeps pace with the share of zeros."


def encoding_goals(enc: dict, ratio_goals: dict, bound_goal: float, bound_from: float = 0.5) -> str:
    """Whether the sparse container meets each ratio goal and the size-over-bound goal, and
    where a goal is out of reach of any encoding (the bound itself gives less)."""
    by_sparsity = {v["sparsity"]: v for v in enc["variants"].values()}
    parts = []
    for sparsity, goal in sorted(ratio_goals.items()):
        v = by_sparsity.get(sparsity)
        if v is None:
            continue
        got, ceiling = v["ratio"]["container9"], v["ratio_at_bound"]
        head = f"{fmt.ratio(got, 1)} at {fmt.pct(sparsity, 0)} against a goal of {fmt.ratio(goal, 1)}"
        if got >= goal:
            parts.append(head + " (met)")
        elif ceiling < goal:
            parts.append(head + f", which no encoding can meet: even the lower bound gives only {fmt.ratio(ceiling, 1)}")
        else:
            parts.append(head + f" (missed; the bound would allow {fmt.ratio(ceiling, 1)})")
    over = {s: v["of_bound"]["container9"] for s, v in sorted(by_sparsity.items()) if s >= bound_from}
    missed = {s: r for s, r in over.items() if r > bound_goal}
    sizes = ", ".join(f"{fmt.ratio(r)} at {fmt.pct(s, 0)}" for s, r in over.items())
    closing = (
        f"Its size over the bound is {sizes}: "
        + ("within" if not missed else "above")
        + f" the goal of {fmt.ratio(bound_goal, 1)}"
        + ("." if not missed else f" at {', '.join(fmt.pct(s, 0) for s in missed)}.")
    )
    if missed:
        worst = by_sparsity[max(missed)]
        rest = worst["bytes"].get("non_weight9")
        if rest is not None:
            closing += (
                f" There, the part of the files that is not kernel weights (graph, tensor "
                f"names, biases, scales, conv1's float32 kernel) deflates to {fmt.kb(rest)} "
                f"alone, {fmt.pct(rest / worst['lower_bound_bytes'], 0)} of the bound, which "
                f"counts only the weights."
            )
    return ("The sparse container reaches " + "; ".join(parts) + ". " + closing) if parts else closing


def tflite_sparsity(enc: dict) -> str:
    """What TFLite's own sparse encoding does to the zipped size, and whether its files
    give the dense files' outputs."""
    rows = [
        (v["sparsity"], v["bytes"]["tflite_sparse_zip"], v["bytes"]["zip"], v["tflite_sparse_max_abs_diff"])
        for v in enc["variants"].values()
        if "tflite_sparse_zip" in v["bytes"]
    ]
    if not rows:
        return ""
    larger = [s for s, sparse, dense, _ in rows if sparse > dense]
    worst = max(d for *_, d in rows)
    outputs = "give the dense files' outputs exactly" if worst == 0 else f"give outputs within {worst:.1e} of the dense files'"
    same = (
        f"LiteRT runs these files (with its built-in kernels; the XNNPACK delegate refuses them) and "
        f"they {outputs} on {enc['check_images']:,} test images."
    )
    if len(larger) == len(rows):
        return (
            "TFLite's own sparse encoding (Optimize.EXPERIMENTAL_SPARSITY) zips larger than the "
            "dense int8 file at every sparsity: it stores index arrays beside the values, which "
            "deflate already does better without. " + same
        )
    if larger:
        return (
            f"TFLite's own sparse encoding (Optimize.EXPERIMENTAL_SPARSITY) zips larger than the "
            f"dense int8 file at {', '.join(fmt.pct(s, 0) for s in larger)} and smaller elsewhere. " + same
        )
    return (
        "TFLite's own sparse encoding (Optimize.EXPERIMENTAL_SPARSITY) zips smaller than the dense "
        "int8 file at every sparsity. " + same
    )


def float_kernel(enc: dict) -> str:
    """What keeping conv1's kernel in float32 costs: bytes over int8 values, and the
    largest share of an ensemble's zipped size that this is."""
    costs = {}
    for name, v in enc["variants"].items():
        k = v["float_kernels"]
        if k["names"]:
            extra = k["float32_deflated"] - k["int8_deflated"]
            costs[name] = (extra, extra / v["bytes"]["zip"], k["weights_per_member"])
    if not costs:
        return "Every kernel is stored as int8."
    worst = max(costs, key=lambda n: costs[n][1])
    low, high = min(c[0] for c in costs.values()), max(c[0] for c in costs.values())
    return (
        f"The converter keeps {_plural(costs[worst][2], 'weight')} per member in float32 "
        f"(conv1's kernel: Optimize.DEFAULT quantizes only weight tensors of at least "
        f"{CONVERTER_MIN_WEIGHTS:,} elements). Deflated, they take {fmt.kb(low)} to {fmt.kb(high)} "
        f"more per ensemble than int8 values would, at most {fmt.pct(costs[worst][1], 1)} of an "
        f"ensemble's zipped size ({label(worst)})."
    )


def settings_provenance(config_text: str) -> str:
    """How many settings of the experiment's _config.yml (its text) are the paper's and how
    many are this book's choices: the `# [paper]` and `# [choice]` marks that end a setting's
    line (a comment line of its own, such as the file's legend, is not a setting)."""
    import re

    marks = re.findall(r"^[ \t]*[^#\s][^#\n]*#[ \t]*\[(paper|choice)\]", config_text, re.MULTILINE)
    n_paper, n_choice = marks.count("paper"), marks.count("choice")
    if not marks:
        return "No setting of _config.yml is marked as the paper's or as a choice made here."
    if not (n_paper and n_choice):
        every = (
            "The one setting that _config.yml marks is"
            if len(marks) == 1
            else f"All {len(marks)} settings that _config.yml marks are"
        )
        return every + (
            " stated in the paper." if n_paper else (" a choice made here." if len(marks) == 1 else " choices made here.")
        )
    return (
        f"Of the {len(marks)} settings that _config.yml marks, {n_paper} "
        f"{'is' if n_paper == 1 else 'are'} stated in the paper and {n_choice} "
        f"{'is a choice' if n_choice == 1 else 'are choices'} made here."
    )
