"""Claims C1-C10 of the paper, each judged by a rule written down next to it.

`assess(results, sizes, table1_rows, config)` returns one row per claim (id, claim,
paper, ours, criterion, verdict) for helpers.tables.claims_table. Verdicts are
"holds", "partly holds", "does not hold", or "not tested" when this build's config
lacks what the claim is about (e.g. the smoke profile has no 25 % sparsity).
The rules are deliberately simple and stated in the book; they are not tuned to results.
"""

from __future__ import annotations

from .tables import PAPER_CLAIMS
from .variants import parse_variant, sparsity_label, variant_name

HOLDS, PARTLY, FAILS, NOT_TESTED = "holds", "partly holds", "does not hold", "not tested"

# Size claims: our ratio must reach this fraction of the paper's ratio ("4x" is met by 3.2x).
RATIO_TOLERANCE = 0.8
# "About -1 %": the point estimate within this many pp of -1 pp.
ABOUT_ONE_PP = 0.5
# C9: "almost the same size" as one float32 member: at most this multiple of it.
SAME_SIZE_FACTOR = 1.25


def _combine(parts: list[bool]) -> str:
    if all(parts):
        return HOLDS
    return PARTLY if any(parts) else FAILS


def _pp(x: float) -> str:
    return f"{100 * x:+.2f} pp".replace("-", "\u2212")


def _ci_pp(m: dict, key: str) -> str:
    return f"{_pp(m[key])} [{_pp(m[key + '_low'])}, {_pp(m[key + '_high'])}]"


def _monotone(values: list[float], increasing: bool) -> str:
    """HOLDS if strictly monotone at every step, PARTLY if only first-to-last, else FAILS."""
    steps = [b > a if increasing else b < a for a, b in zip(values, values[1:])]
    if all(steps):
        return HOLDS
    overall = values[-1] > values[0] if increasing else values[-1] < values[0]
    return PARTLY if overall else FAILS


def _accuracy_and_size(results: dict, names: list[str]) -> tuple[list[str], list[str], list[bool]]:
    paper, ours, parts = [], [], []
    for name in names:
        claim = PAPER_CLAIMS[name]
        m = results["variants"][name]["mnist"]
        ratio = results["variants"][name]["compression_ratio"]
        label = sparsity_label(name)
        paper.append(f"{label}: {_pp(claim.accuracy_diff_pp / 100)}, {claim.compression_ratio:g}×")
        ours.append(f"{label}: {_ci_pp(m, 'accuracy_diff')}, {ratio:.1f}×")
        low, high = m["accuracy_diff_low"], m["accuracy_diff_high"]
        parts.append(low <= claim.accuracy_diff_pp / 100 <= high)
        parts.append(ratio >= RATIO_TOLERANCE * claim.compression_ratio)
    return paper, ours, parts


def _c1(rows: list[dict], config) -> dict:
    got = [(r["layer"], tuple(r["output_shape"]), r["params"]) for r in rows if r["params"]]
    want = [("Conv2D", (26, 26, 28), 280), ("Conv2D", (9, 9, 32), 22432), ("Dense", (10,), 5130)]
    hyper = (config.epochs, config.retrain_epochs, config.validation_split, config.ensemble_size)
    parts = [got == want, hyper == (20, 5, 0.1, 5)]
    return {"id": "C1", "claim": "Table 1: layers, parameters, shapes and training settings",
            "paper": "280 / 22,432 / 5,130 params; 20 + 5 epochs; Adam; split 0.1; M = 5",
            "ours": (f"{' / '.join(f'{p:,}' for _, _, p in got)} params; {config.epochs} + "
                     f"{config.retrain_epochs} epochs; Adam; split {config.validation_split:g}; "
                     f"M = {config.ensemble_size}"),
            "criterion": "parameter counts and shapes equal; settings equal (else partly: another profile)",
            "verdict": _combine(parts)}


def _sized_claim(cid: str, claim: str, results: dict, sparsities: list[float]) -> dict:
    names = [variant_name(s, "int8") for s in sparsities]
    missing = [n for n in names if n not in results["variants"]]
    criterion = (f"paper's Δ inside our paired 95 % CI, and ratio ≥ {RATIO_TOLERANCE:g} × paper's; "
                 "partly if some parts hold")
    if missing:
        return {"id": cid, "claim": claim, "paper": "", "ours": f"{', '.join(missing)} not in this build",
                "criterion": criterion, "verdict": NOT_TESTED}
    paper, ours, parts = _accuracy_and_size(results, names)
    return {"id": cid, "claim": claim, "paper": "; ".join(paper), "ours": "; ".join(ours),
            "criterion": criterion, "verdict": _combine(parts)}


def _c4(results: dict) -> dict:
    criterion = f"our Δ within ±{ABOUT_ONE_PP:g} pp of −1 pp"
    row = {"id": "C4", "claim": "95 % sparsity + 8 bit: accuracy about −1 %", "paper": "≈ −1 pp",
           "criterion": criterion}
    if "s95_q8" not in results["variants"]:
        return {**row, "ours": "s95_q8 not in this build", "verdict": NOT_TESTED}
    m = results["variants"]["s95_q8"]["mnist"]
    ok = abs(100 * m["accuracy_diff"] + 1) <= ABOUT_ONE_PP
    return {**row, "ours": _ci_pp(m, "accuracy_diff"), "verdict": HOLDS if ok else FAILS}


def _c5(results: dict) -> dict:
    base = results["variants"]["baseline"]
    mnist, ood = base["mnist"]["conf_frac_090"], base["notmnist"]["conf_frac_090"]
    compressed = [v for n, v in results["variants"].items() if n.endswith("_q8")]
    ood_all = [ood] + [v["notmnist"]["conf_frac_090"] for v in compressed]
    parts = [mnist > 0.9, all(0.16 <= f <= 0.32 for f in ood_all)]
    return {"id": "C5", "claim": "At τ = 0.9: > 90 % of MNIST but only 16-32 % of NotMNIST classified",
            "paper": "MNIST > 90 %; NotMNIST 16-32 %",
            "ours": (f"MNIST {100 * mnist:.1f} % (baseline); NotMNIST {100 * min(ood_all):.1f}-"
                     f"{100 * max(ood_all):.1f} % (baseline and int8 variants)"),
            "criterion": "MNIST fraction > 90 %, and every NotMNIST fraction inside 16-32 %",
            "verdict": _combine(parts)}


def _series(results: dict, sparsities: list[float], dataset: str, key: str) -> list[float]:
    names = ["q8"] + [variant_name(s, "int8") for s in sparsities]
    return [results["variants"][n][dataset][key] for n in names]


def _trend_claim(cid, claim, paper, results, sparsities, series: list[tuple[str, str, str]],
                 increasing: bool) -> dict:
    verdicts, ours = [], []
    for label, dataset, key in series:
        values = _series(results, sparsities, dataset, key)
        verdicts.append(_monotone(values, increasing))
        ours.append(f"{label}: " + " → ".join(f"{v:.3g}" for v in values))
    verdict = HOLDS if all(v == HOLDS for v in verdicts) else (
        FAILS if all(v == FAILS for v in verdicts) else PARTLY)
    word = "rises" if increasing else "falls"
    return {"id": cid, "claim": claim, "paper": paper, "ours": "; ".join(ours),
            "criterion": (f"{word} at every sparsity step (0 % int8 → highest); partly if it only "
                          f"{word} from first to last, or for some of the measures"),
            "verdict": verdict}


def _c8(results: dict, sparsities: list[float]) -> dict:
    names = [variant_name(s, "int8") for s in sparsities if s <= 0.75]
    row = {"id": "C8", "claim": "Accuracy, NLL and Brier do not change significantly (25-75 %)",
           "paper": "no significant change",
           "criterion": "paired 95 % CI of each difference contains 0; partly if some do"}
    if not names:
        return {**row, "ours": "no sparsity ≤ 75 % in this build", "verdict": NOT_TESTED}
    parts, changed = [], []
    for name in names:
        m = results["variants"][name]["mnist"]
        for key in ("accuracy_diff", "nll_diff", "brier_diff"):
            inside = m[f"{key}_low"] <= 0 <= m[f"{key}_high"]
            parts.append(inside)
            if not inside:
                changed.append(f"{key.split('_')[0]} at {sparsity_label(name)}")
    ours = ("no difference significant" if not changed
            else "significant: " + ", ".join(changed))
    return {**row, "ours": f"{sum(parts)} of {len(parts)} intervals contain 0; {ours}",
            "verdict": _combine(parts) if any(parts) else FAILS}


def _c9(results: dict) -> dict:
    row = {"id": "C9", "claim": "The 50 %-pruned, quantized ensemble is about one float model's size",
           "paper": "≈ 1 single model",
           "criterion": f"zipped ensemble ≤ {SAME_SIZE_FACTOR:g} × one zipped float32 member"}
    if "s50_q8" not in results["variants"]:
        return {**row, "ours": "s50_q8 not in this build", "verdict": NOT_TESTED}
    factor = results["variants"]["s50_q8"]["zipped_bytes"] / results["variants"]["single"]["zipped_bytes"]
    return {**row, "ours": f"{factor:.2f} × one member",
            "verdict": HOLDS if factor <= SAME_SIZE_FACTOR else FAILS}


def assess(results: dict, table1_rows: list[dict], config) -> list[dict]:
    """Rows for helpers.tables.claims_table, in the order C1..C10."""
    s = sorted(config.sparsities)
    return [
        _c1(table1_rows, config),
        _sized_claim("C2", "25 % sparsity + 8 bit: accuracy +0.04 %, size 4× smaller", results, [0.25]),
        _sized_claim("C3", "50 % / 75 % sparsity + 8 bit: −0.01 % / −0.05 %, 5× / 8× smaller",
                     results, [0.5, 0.75]),
        _c4(results),
        _c5(results),
        _trend_claim("C6", "Confidence decreases as sparsity increases (MNIST and NotMNIST)",
                     "decreases on both", results, s,
                     [("MNIST frac. ≥ 0.9", "mnist", "conf_frac_090"),
                      ("NotMNIST frac. ≥ 0.9", "notmnist", "conf_frac_090")], increasing=False),
        _trend_claim("C7", "On NotMNIST, entropy and disagreement increase with sparsity",
                     "both increase", results, s,
                     [("entropy", "notmnist", "mean_entropy"),
                      ("disagreement", "notmnist", "mean_disagreement")], increasing=True),
        _c8(results, s),
        _c9(results),
        _trend_claim("C10", "Members' disagreement increases with pruning", "increases", results, s,
                     [("disagreement", "notmnist", "mean_disagreement")], increasing=True),
    ]


def summary(rows: list[dict], results: dict, config) -> str:
    """Two or three sentences for the book's introduction: what holds up, with numbers."""
    counts = {v: sum(r["verdict"] == v for r in rows) for v in (HOLDS, PARTLY, FAILS, NOT_TESTED)}
    first = (f"Of the paper's {len(rows)} claims, {counts[HOLDS]} hold, {counts[PARTLY]} hold in part "
             f"and {counts[FAILS]} do not hold in this {config.profile}-profile reproduction"
             + (f" ({counts[NOT_TESTED]} not tested)." if counts[NOT_TESTED] else "."))
    V = results["variants"]
    q8 = [variant_name(s, "int8") for s in sorted(config.sparsities)]
    moderate = [n for n in q8 if parse_variant(n)[0] <= 0.75] or q8
    ratios = [V[n]["compression_ratio"] for n in moderate]
    diffs = [100 * V[n]["mnist"]["accuracy_diff"] for n in moderate]
    significant = [n for n in moderate
                   if not V[n]["mnist"]["accuracy_diff_low"] <= 0 <= V[n]["mnist"]["accuracy_diff_high"]]
    pct = ", ".join(sparsity_label(n)[:-2] for n in moderate) + " %"
    second = (f"Pruning to {pct} sparsity with 8-bit weights shrinks the ensemble "
              f"{min(ratios):.1f}× to {max(ratios):.1f}× and changes its MNIST accuracy by "
              f"{_pp(min(diffs) / 100)[:-3]} to {_pp(max(diffs) / 100)}, "
              + ("a change our 95 % intervals cannot tell from zero."
                 if not significant else
                 f"significantly so at {', '.join(sparsity_label(n) for n in significant)}."))
    trend = {r["id"]: r["verdict"] for r in rows}
    words = {HOLDS: "rises at every step", PARTLY: "rises only in part",
             FAILS: "does not rise", NOT_TESTED: "was not tested"}
    third = (f"On NotMNIST the uncertainty claim (C7) {trend['C7']}: the members' disagreement "
             f"{words[trend['C10']]} with sparsity.")
    return " ".join([first.replace(" 1 hold,", " 1 holds,"), second, third])
