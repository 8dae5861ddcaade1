"""The book's answers to the paper, between seeds: sentences chosen from summary.json.

The landing page and the discussion ask three questions (does pruning + 8 bits cost
accuracy; does uncertainty rise; does members' disagreement rise) and state why (the
control and the entropy split), whether the extra uncertainty is useful, and the
calibration, ablation and per-image findings; the sentences on the verdicts themselves
(counts, where the seeds say no, what each rule set had seen, how many seeds an open part
would need) are in helpers.book.verdict_answers. Every function looks at the aggregate's
numbers and rules v2's judgements (helpers.book.summary) and returns the sentence that fits;
nothing here computes a statistic. tests/test_aggregate.py builds seeds with known outcomes
for every branch.
"""

from __future__ import annotations

from helpers.book.prose import _plural
from helpers.core import fmt, paper
from helpers.core.variants import label, parse_variant


# --- the landing page's answers (rules v2, between seeds) -----------------------------------------
def _nats_signed(x) -> str:
    return fmt.nats(x, signed=True)


def _range(values, formatter, style: str = "from") -> str:
    """'+0.02 pp' when every value prints alike, else 'from −0.01 pp to +0.03 pp' (style
    "between": 'between −0.01 pp and +0.03 pp')."""
    texts = [formatter(v) for v in (min(values), max(values))]
    if texts[0] == texts[1]:
        return texts[0]
    return f"between {texts[0]} and {texts[1]}" if style == "between" else f"from {texts[0]} to {texts[1]}"


def _sparsity(name: str) -> str:
    return f"{round(100 * parse_variant(name)[0])} % sparsity"


def _steps(judged: dict, series: str) -> list[dict]:
    return [p for p in judged["parts"] if p.get("series") == series]


def _phrase(parts: list[dict]) -> str:
    return ", ".join(p["step"] for p in parts)


def series_finding(judged: dict | None, series: str, where: str, what: str, formatter, n_seeds: int, word: str = "rise") -> str:
    """One sentence on one series of a trend claim judged by rules v2 on one dataset: it
    rises at every step; it rises over the whole range but not at every step (saying where
    it does not); it does not rise (the endpoint fails); or it is not resolved yet.
    `word`: rise or fall (the claimed direction)."""
    steps = [] if judged is None else _steps(judged, series)
    if not steps:
        return f"On {where}, the {what} was not measured in this build."
    third, other = f"{word}s", ("falls" if word == "rise" else "rises")
    if n_seeds < 3 or all(p["holds"] is None for p in steps):
        return f"On {where}, whether the {what} {third} with sparsity cannot be told from {_plural(n_seeds, 'seed')}."
    end = next((p for p in steps if p.get("endpoint")), steps[-1])
    inner = [p for p in steps if not p.get("endpoint")] or steps
    rng = end["step"].replace(" → ", " to ")
    amount = fmt.interval(formatter, end["mean"], end["low"], end["high"], signed=True)
    seeds = _plural(n_seeds, "seed")
    if all(p["status"] == "holds" for p in steps):
        return f"On {where}, the {what} {third} at every sparsity step: by {amount} from {rng} ({seeds})."
    details = []
    for parts, text in (
        ([p for p in inner if p["label"] == "no change"], "no change at"),
        ([p for p in inner if p["label"] == other], f"it {other} at"),
        ([p for p in inner if p["label"] == "unclear"], "unresolved at"),
    ):
        if parts:
            details.append(f"{text} {_phrase(parts)}")
    detail = "; ".join(details)
    if end["status"] == "holds":
        return f"On {where}, the {what} {third} from {rng}, by {amount} ({seeds}), but not at every step: {detail}."
    if end["status"] == "fails":
        return f"On {where}, the {what} does not {word} with sparsity: from {rng} it changes by {amount} ({seeds}); {detail}."
    return f"On {where}, whether the {what} {third} from {rng} is not resolved yet ({amount}, {seeds}); {detail}."


def answer_cost(summary, names: list[str]) -> str:
    """Does pruning + 8 bits shrink the ensemble at no accuracy cost? From the seed-level
    accuracy differences to the baseline (rules v2's no-change test of C8) and the ratios."""
    moderate = [n for n in names if n in paper.COMPRESSED and paper.COMPRESSED[n].sparsity <= 0.75]
    if not moderate:
        return "This build has no moderate sparsity, so the paper's first question cannot be answered."
    c8 = summary.v2("C8", "mnist")
    acc = {p["variant"]: p for p in (c8 or {"parts": []})["parts"] if p.get("measure") == "accuracy"}
    ratios = [summary.mean(n, None, "compression_ratio") for n in moderate]
    diffs = [summary.diff("vs_baseline", n, "mnist", "accuracy") for n in moderate]
    equal = [n for n in moderate if acc.get(n, {}).get("status") == "holds"]
    lead = (
        f"Pruned to {fmt.span([100 * paper.COMPRESSED[n].sparsity for n in moderate], 0)} % and "
        f"quantized to 8 bits, the ensemble is {fmt.span(ratios, 1)}× smaller and its MNIST accuracy "
        f"differs from the baseline's by {_range([d['mean'] for d in diffs], fmt.pp, 'between')} "
        f"(mean over {_plural(summary.n, 'seed')})"
    )
    if len(equal) == len(moderate):
        text = lead + (
            f": yes, each difference is shown equivalent to zero within ±{fmt.number(100 * acc[moderate[0]]['band'][1])} pp."
        )
    elif equal:
        text = lead + (f": no cost is shown at {', '.join(label(n) for n in equal)}; at the others the seeds cannot yet tell.")
    else:
        text = lead + ": whether that is no cost cannot be told yet from these seeds."
    if summary.has("s95_q8"):
        d = summary.diff("vs_baseline", "s95_q8", "mnist", "accuracy")
        text += (
            f" At 95 % sparsity it is {fmt.ratio(summary.mean('s95_q8', None, 'compression_ratio'), 1)} smaller "
            f"and costs {fmt.interval(fmt.pp, d['mean'], d['low'], d['high'])}."
        )
    ctl = summary.diff("vs_control", moderate[0], "mnist", "accuracy")
    if ctl is not None and ctl["low"] is not None and ctl["low"] <= 0 <= ctl["high"]:
        text += (
            f" The small gain at {_sparsity(moderate[0])} is what the extra training alone gives: against "
            f"the re-training control it is {fmt.interval(fmt.pp, ctl['mean'], ctl['low'], ctl['high'])}."
        )
    return text


def answer_uncertainty(summary, datasets: list[str]) -> str:
    """Does uncertainty (predictive entropy) rise with sparsity? One sentence per dataset."""
    return " ".join(
        series_finding(summary.v2("C7", d), "entropy", summary.label(d), "entropy", fmt.nats, summary.n) for d in datasets
    )


def answer_disagreement(summary, datasets: list[str]) -> str:
    """Does members' disagreement rise with pruning (the paper's headline, C10)?"""
    return " ".join(
        series_finding(summary.v2("C10", d), "disagreement", summary.label(d), "members' disagreement", fmt.nats, summary.n)
        for d in datasets
    )


def mechanism(summary, dataset: str, names: list[str]) -> str:
    """What the control and the entropy split show: disagreement against the re-training
    control at every sparsity, and how much of the 0 → 95 % entropy change is member
    (aleatoric) entropy and how much disagreement (epistemic)."""
    where = summary.label(dataset)
    sparse = [n for n in names if summary.diff("vs_control", n, dataset, "mean_disagreement")]
    if not sparse or summary.n < 2:
        return f"On {where}, this build cannot split the change into its parts."
    ctl = [summary.diff("vs_control", n, dataset, "mean_disagreement") for n in sparse]
    inside = [c["low"] is not None and c["low"] <= 0 <= c["high"] for c in ctl]
    if all(inside):
        lead = (
            f"On {where}, members' disagreement is indistinguishable from the re-training control's "
            f"at every sparsity (differences {_range([c['mean'] for c in ctl], _nats_signed)}, each "
            f"{summary.level} interval over seeds including zero)"
        )
    else:
        off = [_sparsity(n) for n, i in zip(sparse, inside) if not i]
        lead = (
            f"On {where}, members' disagreement differs from the re-training control's at "
            f"{fmt.and_list(off)} (differences {_range([c['mean'] for c in ctl], _nats_signed)})"
        )
    last = sparse[-1]
    ent = summary.diff("vs_q8", last, dataset, "mean_entropy")
    mem = summary.diff("vs_q8", last, dataset, "mean_member_entropy")
    dis = summary.diff("vs_q8", last, dataset, "mean_disagreement")
    if ent is None or mem is None or dis is None:
        return lead + "."
    share = mem["mean"] / ent["mean"] if ent["mean"] else float("nan")
    split = (
        f"; of the entropy change from 0 % to {_sparsity(last)} ({fmt.nats(ent['mean'], signed=True)}), "
        f"member entropy (aleatoric) contributes {fmt.nats(mem['mean'], signed=True)} and "
        f"disagreement (epistemic) {fmt.nats(dis['mean'], signed=True)}"
    )
    if ent["mean"] > 0 and share >= 0.8:
        return lead + split + ": the rise in uncertainty is each member becoming less sure, not the members disagreeing more."
    if ent["mean"] > 0 and share <= 0.2:
        return lead + split + ": the rise in uncertainty is the members disagreeing more."
    return lead + split + "."


def usefulness(summary, names: list[str], dataset: str = "notmnist", score: str = "entropy") -> str:
    """Is the extra uncertainty useful? The OOD detection AUROC of each pruned int8 ensemble
    against the unpruned int8 one, paired over seeds."""
    key = f"detection.{score}.auroc"
    diffs = [(n, summary.diff("vs_q8", n, dataset, key)) for n in names]
    diffs = [(n, d) for n, d in diffs if d is not None]
    where = summary.label(dataset)
    if not diffs or summary.n < 2:
        return f"This build cannot say whether pruning changes how well {score} separates {where} from MNIST."
    better = [n for n, d in diffs if d["low"] is not None and d["low"] > 0]
    worse = [n for n, d in diffs if d["high"] is not None and d["high"] < 0]
    last, d = diffs[-1]
    four = lambda x: fmt.number(x, 4, signed=True)
    lead = (
        f"Separating {where} from MNIST by {score}, the {label(last)} ensemble's AUROC differs from "
        f"the unpruned int8 ensemble's by {fmt.interval(four, d['mean'], d['low'], d['high'])} "
        f"(over {_plural(summary.n, 'seed')})"
    )
    if better and not worse:
        return lead + f": the extra uncertainty detects {where} better at {', '.join(label(n) for n in better)}."
    if worse and not better:
        return lead + (
            f": the extra uncertainty does not help, detection is worse at "
            f"{', '.join(label(n) for n in worse)} and no better elsewhere."
        )
    if worse:
        return lead + (f": better at {', '.join(label(n) for n in better)}, worse at {', '.join(label(n) for n in worse)}.")
    return lead + ": no sparsity detects it measurably better or worse."


def image_variation(summary, names: list[str]) -> str:
    """What counting the test images as a sample too (the two-level interval) does to the
    intervals of accuracy, NLL and Brier differences, and to the verdicts on them (C2-C4,
    C8), on the seeds with per-image losses."""
    from helpers.stats.claims_v2 import IMAGE_CLAIMS

    block = summary.two_level
    if block is None:
        return (
            "No two seeds have per-image losses yet, so every interval counts the seeds' "
            "variation alone (the weights command of python -m helpers writes them)."
        )
    ratios = {}
    for metric in ("accuracy", "nll", "brier"):
        for name in names:
            e = summary.two_level_diff(name, metric)
            if e is not None and e["seeds"]["high"] > e["seeds"]["low"]:
                ratios.setdefault(metric, []).append(
                    (e["two_level"]["high"] - e["two_level"]["low"]) / (e["seeds"]["high"] - e["seeds"]["low"])
                )
    if not ratios:
        return "No ensemble has a difference to the baseline with per-image losses."
    what = {"accuracy": "accuracy", "nll": "NLL", "brier": "Brier score"}

    def span(r):
        lo, hi = fmt.ratio(min(r), 1), fmt.ratio(max(r), 1)
        return lo if lo == hi else f"{lo[:-1]}–{hi}"

    widths = fmt.and_list([f"{span(r)} for {what[m]}" for m, r in ratios.items()])
    lead = (
        f"On the {_plural(block['n_seeds'], 'seed')} with per-image losses "
        f"({fmt.seed_list(block['seeds'])}), counting the {block['n_images']:,} test images as a "
        f"sample as well (a two-way random-effects model of seeds and images) makes the intervals "
        f"of the differences to the baseline {widths} as wide as over seeds alone."
    )
    changed = []
    for cid in IMAGE_CLAIMS:
        same, both = summary.two_level_verdict(cid, "seeds"), summary.two_level_verdict(cid, "two_level")
        if same is not None and both is not None and same["verdict"] != both["verdict"]:
            changed.append(f"{cid} turns from {same['verdict']} to {both['verdict']}")
    listed = fmt.and_list(list(IMAGE_CLAIMS))
    if not changed:
        return lead + f" Judged with them, {listed} keep the verdicts they have on the same seeds over seeds alone."
    return lead + f" Judged with them on the same seeds, {fmt.and_list(changed)}."


def _diff_text(summary, name: str, key: str, formatter) -> tuple[str, dict | None]:
    d = summary.diff("vs_baseline", name, "mnist", key)
    return (fmt.MISSING, None) if d is None else (fmt.interval(formatter, d["mean"], d["low"], d["high"]), d)


def _clear(d: dict | None) -> bool:
    """Whether a between-seed interval excludes zero."""
    return d is not None and d.get("low") is not None and (d["low"] > 0 or d["high"] < 0)


def calibration_finding(summary, names: list[str]) -> str:
    """The Calibration section's finding: which int8 ensembles' ECE differs from the
    baseline's (interval over seeds clear of zero), and by how much."""
    base = summary.stat("baseline", "mnist", "ece")
    if base is None:
        return "No ECE has been computed yet."
    moved, same = [], []
    lead = f"The baseline's ECE is {fmt.pct(base['mean'])} (mean over {_plural(summary.n, 'seed')})."
    for name in names:
        text, d = _diff_text(summary, name, "ece", fmt.pp)
        if d is not None and d.get("low") is None:
            return lead + " One seed gives no interval of the differences, so no change is judged."
        (moved if _clear(d) else same).append((name, text))
    if not moved:
        return lead + " No int8 ensemble's ECE differs from it: every interval of the difference includes zero."
    said = "; ".join(f"{_sparsity(n) if n[0] == 's' else label(n)}: {t}" for n, t in moved)
    rest = (
        f" At {fmt.and_list([_sparsity(n) if n[0] == 's' else label(n) for n, _ in same])} the difference is "
        f"not distinguishable from zero."
        if same
        else ""
    )
    return lead + f" It changes at {said}." + rest


def ablation_finding(summary, sparsities) -> str:
    """The Ablation section's finding, at the highest sparsity: the accuracy difference to
    the baseline of pruning alone (float32), with int8 weights and with full int8, and
    whether quantizing adds a cost beyond the pruning's (their intervals overlap or not)."""
    s = round(100 * max(sparsities))
    names = {
        "pruning alone (float32)": f"s{s:02d}_float",
        "with int8 weights": f"s{s:02d}_q8",
        "with full int8": f"s{s:02d}_int8full",
    }
    got = {what: _diff_text(summary, n, "accuracy", fmt.pp) for what, n in names.items()}
    if any(d is None for _, d in got.values()):
        return f"The ablation at {s} % sparsity has not been computed for every ensemble."
    listed = "; ".join(f"{what} {text}" for what, (text, _) in got.items())
    if any(d.get("low") is None for _, d in got.values()):
        return (
            f"At {s} % sparsity the accuracy differs from the baseline's by: {listed} "
            f"({_plural(summary.n, 'seed')}: too few for an interval, so whether quantizing adds "
            f"a cost is not judged)."
        )
    pruned = got["pruning alone (float32)"][1]
    overlap = all(d["low"] <= pruned["high"] and pruned["low"] <= d["high"] for _, d in got.values())
    verdict = (
        "the cost is the pruning's: quantizing adds none that the seeds can tell apart"
        if overlap
        else "quantizing adds a cost of its own beyond the pruning's"
    )
    return (
        f"At {s} % sparsity the accuracy differs from the baseline's by: {listed} (over {_plural(summary.n, 'seed')}); {verdict}."
    )
