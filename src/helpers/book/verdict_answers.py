"""The book's sentences on rules v2's verdicts themselves, between seeds: how many claims got
each verdict, one claim's verdict with where it holds and fails, where the seeds say no, how
many seeds each open part would need, what each rule set had seen, and which seeds can be
re-opened. Like helpers.book.answers, each function reads the aggregate's judgements
(helpers.book.summary) and returns the sentence that fits; nothing here computes a statistic.
"""

from __future__ import annotations

from helpers.book.prose import _plural
from helpers.core import fmt, paper


def verdict_counts(summary, confirmatory: bool = False) -> str:
    """'Under rules v2, on 5 seeds: 4 supported, 3 split, 2 inconclusive (C1-C10, each on the
    paper's own dataset).'"""
    from helpers.stats.rules import VERDICTS as V2

    verdicts = [summary.v2(c, confirmatory=confirmatory) for c in summary.claims]
    verdicts = [v["verdict"] for v in verdicts if v is not None]
    if not verdicts:
        return "No claim has been judged yet."
    counts = [(w, sum(v == w for v in verdicts)) for w in V2]
    listed = ", ".join(f"{n} {w}" for w, n in counts if n)
    seeds = summary.confirmatory_seeds if confirmatory else summary.seeds
    return f"Under rules v2, on {_plural(len(seeds), 'seed')}: {listed} (each claim on the paper's own dataset)."


def power(summary, confirmatory: bool = False) -> str:
    """For every claim rules v2 leave inconclusive or split, how many seeds the observed
    between-seed SD would need to resolve each open part at the rules' power."""
    lines = []
    for cid in summary.claims:
        for d in summary.v2_datasets(cid):
            judged = summary.v2(cid, d, confirmatory=confirmatory)
            if judged is None or judged["verdict"] not in ("inconclusive", "split"):
                continue
            parts = [p for p in judged["parts"] if p["status"] == "open" and "resolves_to" in p]
            if not parts:
                continue
            need = [p["seeds_needed"] for p in parts]
            most = None if any(n is None for n in need) else max(need)
            where = "" if d in ("mnist", "model") else f" on {summary.label(d)}"
            lines.append(
                f"{cid}{where}: {_plural(len(parts), 'open part')}, "
                + (f"resolved by about {most} seeds" if most else "some of them needing more than 200 seeds")
            )
    if not lines:
        return f"No part of any claim is left open by {_plural(summary.n, 'seed')}."
    return (
        f"With the between-seed SD of {_plural(summary.n, 'seed')}, the open parts would be "
        f"resolved at 80 % power (statsmodels' t-test power; TOST by the two one-sided tests): " + "; ".join(lines) + "."
    )


def provenance(summary) -> str:
    """What each rule set had seen when it was committed, and which seeds judge which."""
    seen = summary.seen
    text = (
        f"The verdicts come from rules written before the evidence they judge: rules v1 were "
        f"fixed {seen['v1']['when']} (commit {seen['v1']['commit']}), rules v2 "
        f"{seen['v2']['when']} (commit {seen['v2']['commit']}). Every verdict here is "
        f"computed on all {_plural(summary.n, 'seed')} ({fmt.seed_list(summary.seeds)})"
    )
    left = summary.data.get("lineage", {}).get("left_out", {})
    if left:
        text += (
            f"; left out: {', '.join(k.removesuffix('.json').replace('_', ' ') + ' (' + v + ')' for k, v in left.items())}, "
            "whose weights were not kept, so they cannot be re-evaluated"
        )
    confirm = summary.confirmatory_seeds
    if confirm and summary.v2("C1", confirmatory=True) is not None:
        return text + (f"; rules v2's confirmatory verdicts use only seeds {fmt.seed_list(confirm)}, which no rule had seen.")
    if confirm:
        return text + (
            f"; seeds {fmt.seed_list(confirm)}, run after rules v2, are too few yet for v2's confirmatory verdicts on them alone."
        )
    return text + "; the seeds run after rules v2 (5 on) are still to come, so v2's verdicts are not yet confirmatory."


def reopenable(summary) -> str:
    """Which seeds can be re-evaluated (their weights are committed) and what happens to the
    others when the evaluation changes."""
    have = sorted(summary.data.get("reopenable", []))
    without = [s for s in summary.seeds if s not in have]
    if not without:
        return (
            f"Every seed's trained members are committed ({fmt.seed_list(have)}): any later evaluation "
            "re-opens them without training."
        )
    text = (
        f"Seeds {fmt.seed_list(without)} are kept as records only (their models were not kept): they "
        f"count in aggregates of evaluation version {summary.data.get('evaluation_version')} and "
        "would be left out of one of a later version rather than trained again"
    )
    if have:
        text += (
            f"; the trained members of seed{'s' if len(have) > 1 else ''} {fmt.seed_list(have)} are "
            "committed, so any later evaluation re-opens them without training"
        )
    return text + "."


def contradictions(summary, ids=("C5", "C6", "C7", "C10"), as_list: bool = False) -> str:
    """Where rules v2 say no: every claim with a failing part, its parts named, the datasets
    where the same parts fail merged (C6's MNIST half fails alike on every dataset).
    as_list: a Markdown list, one claim and its datasets a line, for `{glue:md}`."""
    from helpers.stats.judging import where

    merged: dict[tuple[str, str], list[str]] = {}
    for cid in ids:
        for d in summary.v2_datasets(cid):
            judged = summary.v2(cid, d)
            if judged and judged["fails"]:
                merged.setdefault((cid, where(judged, "fails")), []).append(summary.label(d))
    if not merged:
        return "No part of any claim is contradicted by these seeds."
    lead = "Where the seeds say no (a part shown to fail, Holm-adjusted over the claim's parts)"
    if as_list:
        return (
            lead
            + ":\n\n"
            + "\n".join(
                f"- {cid} ({paper.CLAIMS[cid]}) on {fmt.and_list(datasets)}: fails at {parts}."
                for (cid, parts), datasets in merged.items()
            )
        )
    lines = [f"{cid} on {fmt.and_list(datasets)} ({parts})" for (cid, parts), datasets in merged.items()]
    return lead + ": " + "; ".join(lines) + "."


def claim_finding(summary, cid: str, dataset: str | None = None) -> str:
    """A claim's verdict under rules v2 on one dataset, with where it holds and fails:
    'split: holds for MNIST baseline, …; fails for MNIST s95_q8 (8 of 10 parts hold).'"""
    from helpers.stats.judging import where

    judged = summary.v2(cid, dataset)
    if judged is None or not judged["parts"]:
        return f"{cid} was not tested in this build."
    n_parts = len(judged["parts"])
    text = f"{judged['verdict']} ({len(judged['holds'])} of {n_parts} parts hold"
    if judged["fails"]:
        text += f", {len(judged['fails'])} fail"
    text += ")"
    details = []
    if judged["fails"]:
        details.append(f"fails for {where(judged, 'fails')}")
    if judged["open"]:
        details.append(f"open for {where(judged, 'open')}")
    return text + (": " + "; ".join(details) if details else "") + "."
