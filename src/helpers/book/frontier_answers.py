"""The frontier chapter's sentences: each answer chosen from summary["frontier"] through the
view of helpers.book.frontier; nothing here averages, tests or ranks.

    budget_sentence(fv, "raw", "mnist.nll", 30)    # the computed answer at 30 kB
"""

from __future__ import annotations

from helpers.book.frontier import PANEL_LABELS, TREATMENT_LABELS, VERDICT_CLAIMS, FrontierView, interval, value
from helpers.core import fmt
from helpers.core.datasets import label as dataset_label
from helpers.core.variants import label


# --- sentences ----------------------------------------------------------------------------------------
def _seeds(n: int) -> str:
    return f"{n} seed" + ("" if n == 1 else "s")


def budget_sentence(fv: FrontierView, treatment: str, panel: str, kb: int) -> str:
    b = fv.budget(treatment, panel, kb)
    what = f"{PANEL_LABELS[panel]} ({TREATMENT_LABELS[treatment]})"
    if b["best"] is None:
        return f"Within {kb} kB, no configuration fits for {what}."
    best = f"{label(b['best'])} ({fmt.kb(fv.size(b['best']))}, {value(panel, fv.mean(b['best'], treatment, *panel.split('.')))})"
    if b["runner_up"] is None:
        return f"Within {kb} kB, only the {best} fits for {what}."
    verdict = {
        "better": "better than the runner-up on every reading of the interval",
        "worse": "worse",
        "not resolved": "not distinguishable from the runner-up",
    }[b["verdict"]]
    return (
        f"Within {kb} kB, the best for {what} is the {best}, {verdict} ({label(b['runner_up'])}: difference "
        f"{interval(panel, b['diff'])} over {_seeds(fv.n)}; best on {len(b['wins'])} of them)."
    )


def budget_answers(fv: FrontierView, treatment: str = "raw") -> str:
    """One sentence per budget: the best configuration on MNIST NLL and on NotMNIST AUROC."""
    return " ".join(budget_sentence(fv, treatment, p, kb) for kb in fv.budgets_kb for p in ("mnist.nll", "notmnist.auroc"))


def equal_bytes_answer(fv: FrontierView, treatment: str = "raw") -> str:
    """Whether any compressed ensemble beats the best single model or student at equal bytes."""
    parts = []
    for p in fv.panels:
        e = fv.equal(treatment, p["key"])
        wins = [n for n, v in e.items() if v["verdict"] == "better"]
        losses = [n for n, v in e.items() if v["verdict"] == "worse"]
        # labels hold commas ("75 % pruned, int8 weights"): semicolons between them
        parts.append(
            f"On {PANEL_LABELS[p['key']]}, {len(wins)} of {len(e)} beat it"
            + (f" ({'; '.join(label(n) for n in sorted(wins, key=fv.size))})" if wins else "")
            + f" and {len(losses)} {'loses' if len(losses) == 1 else 'lose'}"
        )
    return (
        f"At equal bytes ({TREATMENT_LABELS[treatment]} numbers, {_seeds(fv.n)}), each compressed ensemble against the "
        "best single model or student no larger than it. " + ". ".join(parts) + "."
    )


def calibration_answer(fv: FrontierView, small: str = "s95_q8", reference: str = "q8") -> str:
    """What temperature scaling does to the most-pruned ensemble's OOD advantage."""
    if small not in fv.names or reference not in fv.names:
        return "The calibration comparison needs the 95 % and the 0 % int8 ensembles."
    out = []
    for t in ("raw", "calibrated"):
        a = fv.mean(small, t, "notmnist", "auroc")
        b = fv.mean(reference, t, "notmnist", "auroc")
        out.append((t, a, b))
    (_, a_raw, b_raw), (_, a_cal, b_cal) = out
    kept = (a_raw > b_raw) == (a_cal > b_cal)
    return (
        f"Temperature scaling moves the {label(small)} ensemble's NotMNIST AUROC from {fmt.number(a_raw, 3)} to "
        f"{fmt.number(a_cal, 3)} and the {label(reference)} ensemble's from {fmt.number(b_raw, 3)} to {fmt.number(b_cal, 3)} "
        f"(temperatures {fmt.number(fv.temperature(small), 2)} and {fmt.number(fv.temperature(reference), 2)}): "
        + (
            "the order of the two survives calibration."
            if kept
            else "the order of the two is reversed after calibration, so the raw difference was one of temperature."
        )
    )


def audit_answer(fv: FrontierView) -> str:
    audit = fv.data["audit"]
    if not audit:
        return "No variant has an int8 softmax output."
    zeros = {n: a["zero_fraction"]["notmnist"]["mean"] for n, a in audit.items()}

    def largest(dataset: str, metric: str, unit: str) -> str:
        change = {n: a[dataset][metric]["mean"] for n, a in audit.items() if metric in a[dataset]}
        worst = max(change, key=lambda n: abs(change[n]))
        return f"{unit} by at most {fmt.nats(change[worst], signed=True)} ({label(worst)})"

    return (
        f"The int8 softmax sets {fmt.pct(min(zeros.values()))} to {fmt.pct(max(zeros.values()))} of the NotMNIST "
        "probabilities to exactly 0. Against a float softmax over the same logits it changes "
        + largest("mnist", "nll", "MNIST NLL")
        + ", "
        + largest("notmnist", "mean_entropy", "NotMNIST entropy")
        + " and "
        + largest("notmnist", "mean_disagreement", "NotMNIST disagreement")
        + "."
    )


def cost_answer(fv: FrontierView) -> str:
    """Each new stage's wall time per seed, per CPU model (times compare only on one model);
    each stage's number of seeds where they differ (a resumed stage's time is left out)."""
    names = {
        "clustering": "clustering",
        "pqat": "PQAT",
        "m_by_n": "2:4 pruning",
        "distillation": "distillation",
        "frontier_evaluation": "the numbers",
    }
    sentences = []
    for cpu, t in fv.data["timings"].items():
        timed = [k for k in names if t.get(k, {}).get("mean") is not None]
        counts = {t[k]["n"] for k in timed}
        each = len(counts) > 1
        parts = [
            f"{names[k]} {fmt.number(t[k]['mean'] / 60, 1)} min" + (f" ({_seeds(t[k]['n'])})" if each else "") for k in timed
        ]
        total = sum(t[k]["mean"] for k in timed)
        over = "the seeds that timed each stage whole" if each else _seeds(max(counts, default=0))
        sentences.append(
            f"On {cpu} (mean over {over}, wall time on one CPU thread per seed): "
            + ", ".join(parts)
            + f"; {fmt.number(total / 60, 0)} min in all per seed."
        )
    return " ".join(sentences) if sentences else "No frontier stage was timed."


def checks_answer(fv: FrontierView) -> str:
    """What the new variants' checks found over every seed (clusters, zeros kept, 2:4, students' sizes)."""
    checks = fv.data.get("checks", {})
    parts = []
    for name, c in checks.items():
        if "max_clusters" in c:
            kept = "every pruned weight stayed zero" if c["zeros_kept"] else "some pruned weights were revived"
            parts.append(
                f"the {label(name)} ensemble keeps at most {c['max_clusters']} distinct non-zero values per layer and {kept}"
            )
        if "least_m_by_n_fraction" in c:
            full = [k for k, v in c["least_m_by_n_fraction"].items() if v == 1.0]
            partial = {k: v for k, v in c["least_m_by_n_fraction"].items() if v < 1.0}
            text = f"2:4 holds in every block of {', '.join(full) or 'no layer'}"
            if c.get("dense_layers"):
                text += f" ({', '.join(c['dense_layers'])}, with fewer than four input channels, stays dense)"
            if partial:
                text += " and in " + ", ".join(f"{fmt.pct(v, 0)} of the blocks of {k}" for k, v in partial.items())
            parts.append(text)
        if "parameters" in c:
            parts.append(f"the {label(name)} has {c['parameters']:,} parameters ({fmt.kb(fv.size(name))} zipped)")
    if not parts:
        return "No checks were recorded."
    return f"Over {_seeds(fv.n)}: " + "; ".join(parts) + "."


def left_out_answer(fv: FrontierView) -> str:
    left = fv.data.get("left_out", {})
    if not left:
        return f"Every seed of the summary is on the frontier ({fmt.seed_list(fv.seeds)})."
    reasons: dict[str, list[int]] = {}
    for seed, why in left.items():
        reasons.setdefault(why, []).append(int(seed))
    text = "; ".join(f"seed{'s' if len(s) > 1 else ''} {fmt.seed_list(sorted(s))}: {why}" for why, s in reasons.items())
    return f"The frontier covers seeds {fmt.seed_list(fv.seeds)}. Not on it: {text}."


def fronts_answer(fv: FrontierView, treatment: str) -> str:
    """Which configurations make up each Pareto front, from the smallest."""
    parts = [f"for {PANEL_LABELS[p['key']]}, {' → '.join(label(n) for n in fv.front(treatment, p['key']))}" for p in fv.panels]
    kinds = ("clustered", "pqat", "m_by_n", "student")
    new = {n for p in fv.panels for n in fv.front(treatment, p["key"]) if fv.kind(n) in kinds}
    tail = (
        f" New configurations on a front: {'; '.join(label(n) for n in sorted(new, key=fv.size))}."
        if new
        else " No new configuration reaches a front."
    )
    return (
        f"The Pareto fronts ({TREATMENT_LABELS[treatment]} numbers), from the smallest configuration: "
        + "; ".join(parts)
        + "."
        + tail
    )


def verdicts_answer(fv: FrontierView) -> str:
    v = fv.data.get("verdicts")
    if v is None:
        need = fv.data.get("min_seeds")
        return f"With {_seeds(fv.n)} on the frontier, rules v2 cannot judge the claims again" + (
            f" (they need at least {need})." if need else " (this profile has no rules v2)."
        )
    changed = [
        f"{cid} on {dataset_label(ds)} ({v['raw'][cid][ds]['verdict']} raw, {v['calibrated'][cid][ds]['verdict']} calibrated)"
        for cid in VERDICT_CLAIMS
        for ds in v["raw"][cid]
        if ds in v["calibrated"][cid] and v["raw"][cid][ds]["verdict"] != v["calibrated"][cid][ds]["verdict"]
    ]
    if not changed:
        return f"On these {_seeds(fv.n)}, every verdict of C7, C8 and C10 is the same after calibration as before."
    return "Calibration changes " + "; ".join(changed) + "; the other verdicts hold after calibration."
