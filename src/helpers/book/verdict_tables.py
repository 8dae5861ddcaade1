"""The book's verdict tables: claims C1-C10 as rules v1 and v2 judged them, by dataset, with
the interval each verdict uses (seeds only, or seeds and test images); pandas DataFrames of
formatted strings read from summary.json (helpers.book.summary.Summary)."""

from __future__ import annotations

import pandas as pd

from helpers.book.report import n_seeds_text
from helpers.core import fmt, paper
from helpers.core.variants import label


def claims_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Claim": r["id"],
                "The paper": r["paper"] or fmt.MISSING,
                "This book": r["ours"],
                "Verdict": r["verdict"],
                "Decided by": r["evidence"] or fmt.MISSING,
            }
            for r in rows
        ]
    ).set_index("Claim")


def verdict_overview(summary) -> pd.DataFrame:
    """The landing page's table: claim, its wording, the verdict of rules v2 on every seed
    (on the paper's own dataset), v2's confirmatory verdict on the seeds run after v2 was
    fixed (when there are enough), and rules v1's verdict."""
    v1 = {r["id"]: r["verdict"] for r in summary.v1_rows()}
    confirm = bool(summary.confirmatory_seeds) and summary.v2("C1", confirmatory=True) is not None
    rows = []
    for cid in summary.claims:
        row = {
            "Claim": cid,
            "What the paper says": paper.CLAIMS[cid],
            f"Rules v2, {n_seeds_text(summary)}": summary.v2(cid)["verdict"],
        }
        if confirm:
            row[f"v2 on seeds {fmt.seed_list(summary.confirmatory_seeds)}"] = summary.v2(cid, confirmatory=True)["verdict"]
        row["Rules v1"] = v1.get(cid, fmt.MISSING)
        rows.append(row)
    return pd.DataFrame(rows).set_index("Claim")


def _where(judged: dict, status: str) -> str:
    from helpers.stats.judging import where

    return where(judged, status) or fmt.MISSING


def _needed(judged: dict) -> str:
    """The open parts and the seeds each would need at the rules' power ('> 200' past the search)."""
    parts = [p for p in judged["parts"] if p["status"] == "open" and "resolves_to" in p]
    if not parts:
        return fmt.MISSING
    return "; ".join(f"{p['name']}: {p['seeds_needed'] or '> 200'}" for p in parts)


def v2_table(summary, datasets: dict[str, list[str]] | None = None, confirmatory: bool = False) -> pd.DataFrame:
    """Rules v2, claim by claim and dataset by dataset: the verdict, where it holds, where it
    fails (Holm over the claim's parts), and the seeds each open part needs."""
    rows = []
    for cid in summary.claims:
        for d in summary.v2_datasets(cid):
            if datasets is not None and d not in datasets.get(cid, [d]):
                continue
            judged = summary.v2(cid, d, confirmatory=confirmatory)
            if judged is None:
                continue
            rows.append(
                {
                    "Claim": cid,
                    "Data": summary.label(d) if d != "model" else "the model",
                    "Verdict": judged["verdict"],
                    "Holds": _where(judged, "holds"),
                    "Fails": _where(judged, "fails"),
                    "Seeds needed (80 % power)": _needed(judged),
                }
            )
    return pd.DataFrame(rows).set_index(["Claim", "Data"])


def v2_by_dataset(summary, datasets: list[str], ids=("C6", "C7", "C10")) -> pd.DataFrame:
    """One row per dataset, one column per trend claim: rules v2's verdict there."""
    table = {}
    for d in datasets:
        table[summary.label(d)] = {c: (summary.v2(c, d) or {"verdict": fmt.MISSING})["verdict"] for c in ids}
    return pd.DataFrame(table).T


def _none_yet() -> pd.DataFrame:
    return pd.DataFrame([{"Seeds with per-image losses": "fewer than two (python -m helpers weights writes them)"}])


TWO_LEVEL_METRICS = (
    ("accuracy", "accuracy", fmt.pp),
    ("nll", "NLL", lambda x: fmt.nats(x, 4, signed=True)),
    ("brier", "Brier score", lambda x: fmt.number(x, 4, signed=True)),
)


def two_level_table(summary, names: list[str]) -> pd.DataFrame:
    """Each variant's difference to the baseline on MNIST over the seeds with per-image
    losses: the 95 % t-interval over those seeds (a fixed test set) beside the two-level
    interval over seeds and test images, and how much wider the second is."""
    block = summary.two_level
    if block is None:
        return _none_yet()
    rows = []
    for name in names:
        for metric, what, formatter in TWO_LEVEL_METRICS:
            e = summary.two_level_diff(name, metric)
            if e is None:
                continue
            seeds, both = e["seeds"], e["two_level"]
            rows.append(
                {
                    "Ensemble": label(name),
                    "Δ vs baseline": what,
                    f"over {block['n_seeds']} seeds": fmt.interval(formatter, e["mean"], seeds["low"], seeds["high"]),
                    f"over seeds × {block['n_images']:,} images": fmt.interval(formatter, e["mean"], both["low"], both["high"]),
                    "width ratio": fmt.ratio((both["high"] - both["low"]) / (seeds["high"] - seeds["low"]))
                    if seeds["high"] > seeds["low"]
                    else fmt.MISSING,
                }
            )
    return pd.DataFrame(rows).set_index(["Ensemble", "Δ vs baseline"])


def interval_verdicts(summary) -> pd.DataFrame:
    """C2-C4 and C8 (the claims on accuracy, NLL and Brier differences) judged three ways:
    on every seed with the t-interval (the book's verdict), on the seeds with per-image
    losses with the t-interval, and on those seeds with the two-level interval."""
    from helpers.stats.claims_v2 import IMAGE_CLAIMS

    block = summary.two_level
    if block is None:
        return _none_yet()
    seeds = fmt.seed_list(block["seeds"])
    rows = []
    for cid in IMAGE_CLAIMS:
        same, both = summary.two_level_verdict(cid, "seeds"), summary.two_level_verdict(cid, "two_level")
        changed = [p["name"] for p, q in zip(same["parts"], both["parts"]) if p["status"] != q["status"]]
        rows.append(
            {
                "Claim": cid,
                f"{n_seeds_text(summary)}, over seeds": summary.v2(cid)["verdict"],
                f"seeds {seeds}, over seeds": same["verdict"],
                f"seeds {seeds}, over seeds × images": both["verdict"],
                "Parts that change": "; ".join(changed) or fmt.MISSING,
            }
        )
    return pd.DataFrame(rows).set_index("Claim")
