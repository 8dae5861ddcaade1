"""Claims C1-C10 of the paper, each judged by a rule of helpers.stats.verdicts on the evidence.

    evidence = Evidence(runs=[results_seed0, results_seed1, ...], rules=load_rules())
    rows = assess(evidence, table1_rows, config)

`runs` are results.json dicts of independent seeds of one profile (seed order). With at
least `rules.min_seeds` of them, every comparison is made between seeds (training
randomness counted); with fewer, equivalence claims fall back to the test-image spread
of the first run (as written by helpers.stages.evaluation) and trend claims stay unresolved.
Every row says which evidence decided it.

Each row: id, claim, paper, ours, criterion, evidence, verdict, parts (the verdict of
each part, for the "ours" column and the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from helpers.core import datasets, fmt, paper
from helpers.core.variants import int8_variants, sparsity_label
from helpers.stats.inference import compare_paired
from helpers.stats.verdicts import (
    CONTRADICTED,
    NOT_TESTED,
    SUPPORTED,
    UNRESOLVED,
    Rules,
    combine,
    equivalence,
    measured,
    region,
    trend,
)


@dataclass(frozen=True)
class Evidence:
    runs: list  # results.json dicts, one per seed
    rules: Rules

    @property
    def n_seeds(self) -> int:
        return len(self.runs)

    @property
    def between_seeds(self) -> bool:
        return self.n_seeds >= self.rules.min_seeds

    def has(self, variant: str) -> bool:
        return all(variant in r["variants"] for r in self.runs)

    def values(self, variant: str, dataset: str, key: str) -> np.ndarray:
        """One value per seed of results[variant][dataset][key] (dataset None: top level)."""
        out = []
        for r in self.runs:
            v = r["variants"][variant]
            out.append(v[key] if dataset is None else v[dataset][key])
        return np.asarray(out, dtype=np.float64)

    def describe(self) -> str:
        if self.between_seeds:
            return f"{self.n_seeds} seeds: intervals between seeds"
        return (
            f"{self.n_seeds} run{'s' if self.n_seeds > 1 else ''} (fewer than "
            f"{self.rules.min_seeds} seeds): test-image spread of seed {self.runs[0].get('seed', 0)}"
        )


def _row(cid: str, paper_text: str, ours: str, criterion: str, evidence: str, parts: list) -> dict:
    return {
        "id": cid,
        "claim": paper.CLAIMS[cid],
        "paper": paper_text,
        "ours": ours,
        "criterion": criterion,
        "evidence": evidence,
        "verdict": combine([v for _, v in parts]),
        "parts": parts,
    }


def _not_tested(cid: str, paper_text: str, why: str, criterion: str) -> dict:
    return {
        "id": cid,
        "claim": paper.CLAIMS[cid],
        "paper": paper_text,
        "ours": why,
        "criterion": criterion,
        "evidence": "",
        "verdict": NOT_TESTED,
        "parts": [],
    }


# --- comparisons between a variant and the baseline -------------------------------------
def _comparison(ev: Evidence, variant: str, metric: str, band: tuple[float, float], stored: str):
    """Seed-level paired comparison of `metric` (variant − baseline) on MNIST, or the
    within-run one evaluation stored under vs_baseline[metric][stored]."""
    if ev.between_seeds:
        return compare_paired(
            ev.values(variant, "mnist", metric), ev.values("baseline", "mnist", metric), band, ev.rules.alpha
        ).as_dict()
    test = ev.runs[0]["variants"][variant]["mnist"]["vs_baseline"][metric][stored]
    check_stored_band(test, band, ev.rules.alpha, f"{variant}'s {metric} ({stored})", ev.runs[0].get("profile", "paper"))
    return test


def check_stored_band(test: dict, band: tuple[float, float], alpha: float, what: str, profile: str = "paper") -> None:
    """A within-run test stored by the evaluation is used only if it was judged with the band and
    α the verdict rules give now: margins changed in _config.yml make it stale, never silently used."""
    stored = (test["band_low"], test["band_high"], test["alpha"])
    if not all(math.isclose(s, w, rel_tol=1e-9, abs_tol=1e-12) for s, w in zip(stored, (*band, alpha))):
        raise ValueError(
            f"results.json's within-run test of {what} was judged with the band "
            f"[{stored[0]:.6g}, {stored[1]:.6g}] at α = {stored[2]:g}, but _config.yml's verdict rules now give "
            f"[{band[0]:.6g}, {band[1]:.6g}] at α = {alpha:g}; re-evaluate with "
            f"`python -m helpers evaluate --profile {profile} --force` (the models are reused) before judging it."
        )


def accuracy_band(variant: str, rules: Rules) -> tuple[float, float]:
    """The paper's accuracy difference ± the margin, as fractions (C2-C4)."""
    claim = paper.COMPRESSED[variant]
    margin = rules.about_one_pp_margin if claim.approximate else rules.accuracy_margin_pp
    return ((claim.accuracy_diff_pp - margin) / 100, (claim.accuracy_diff_pp + margin) / 100)


def no_change_band(metric: str, baseline_value: float, rules: Rules) -> tuple[float, float]:
    """±margin around zero: absolute for accuracy, relative to the baseline for NLL/Brier."""
    if metric == "accuracy":
        m = rules.accuracy_margin_pp / 100
    elif metric == "nll":
        m = rules.nll_margin_relative * baseline_value
    elif metric == "brier":
        m = rules.brier_margin_relative * baseline_value
    else:
        raise ValueError(f"no-change band of {metric!r} is not defined; use accuracy, nll or brier.")
    return (-m, m)


def _mcnemar_text(ev: Evidence, variant: str) -> str:
    t = ev.runs[0]["variants"][variant]["mnist"]["vs_baseline"]["accuracy"]["mcnemar"]
    return f"McNemar {fmt.pvalue(t['p'])} (seed {ev.runs[0].get('seed', 0)})"


# --- the claims ---------------------------------------------------------------------------
def c1(table1_rows: list[dict], config) -> dict:
    got = tuple((r["layer"], tuple(r["output_shape"]), r["params"]) for r in table1_rows if r["params"])
    settings = (config.epochs, config.retrain_epochs, config.validation_split, config.ensemble_size)
    wanted = (paper.EPOCHS, paper.RETRAIN_EPOCHS, paper.VALIDATION_SPLIT, paper.ENSEMBLE_SIZE)
    parts = [
        ("layers", SUPPORTED if got == paper.TABLE1 else CONTRADICTED),
        ("settings", SUPPORTED if settings == wanted else NOT_TESTED),
    ]
    counts = " / ".join(f"{p:,}" for _, _, p in got)
    return _row(
        "C1",
        " / ".join(f"{p:,}" for _, _, p in paper.TABLE1)
        + f" params; {paper.EPOCHS} + {paper.RETRAIN_EPOCHS} epochs; M = {paper.ENSEMBLE_SIZE}",
        f"{counts} params; {config.epochs} + {config.retrain_epochs} epochs; M = {config.ensemble_size}",
        "parameter counts and output shapes equal the paper's (else contradicted); training "
        "settings equal (a reduced profile leaves them not tested)",
        "the built model",
        parts,
    )


def compressed(cid: str, ev: Evidence, variants: list[str]) -> dict:
    """C2-C4: each variant's accuracy difference equals the paper's within the margin
    (TOST), and its compression ratio reaches `ratio_tolerance` × the paper's."""
    r = ev.rules
    criterion = (
        f"accuracy Δ equivalent to the paper's within ±{r.accuracy_margin_pp:g} pp "
        f'(±{r.about_one_pp_margin:g} pp for "about"; TOST, α = {r.alpha:g}); contradicted '
        f"if the {fmt.level(r.alpha)} interval lies outside that band; size ratio ≥ "
        f"{r.ratio_tolerance:g} × the paper's in every run"
    )
    paper_text = "; ".join(
        f"{sparsity_label(v)}: {fmt.pp(paper.COMPRESSED[v].accuracy_diff_pp / 100)}"
        + ("" if np.isnan(paper.COMPRESSED[v].compression_ratio) else f", {paper.COMPRESSED[v].compression_ratio:g}×")
        for v in variants
    )
    missing = [v for v in variants if not ev.has(v)]
    if missing:
        return _not_tested(cid, paper_text, f"{', '.join(missing)} not in this build", criterion)
    parts, ours = [], []
    for v in variants:
        c = _comparison(ev, v, "accuracy", accuracy_band(v, r), "paper")
        parts.append((f"accuracy at {sparsity_label(v)}", equivalence(c, r.alpha)))
        text = (
            f"{sparsity_label(v)}: {fmt.interval(fmt.pp, c['estimate'], c['low'], c['high'])}, "
            f"TOST {fmt.pvalue(c['p_equivalence'])}, {_mcnemar_text(ev, v)}"
        )
        claimed_ratio = paper.COMPRESSED[v].compression_ratio
        ratios = ev.values(v, None, "compression_ratio")
        if not np.isnan(claimed_ratio):
            parts.append(
                (f"size at {sparsity_label(v)}", measured([bool(x >= r.ratio_tolerance * claimed_ratio) for x in ratios]))
            )
            text += f"; {fmt.ratio(ratios.mean())}"
        ours.append(text)
    return _row(cid, paper_text, "; ".join(ours), criterion, ev.describe(), parts)


def c5(ev: Evidence, variants: list[str]) -> dict:
    """At τ: MNIST fraction > 90 % and NotMNIST fraction in 16-32 %, for the baseline and
    every int8 variant (the same scope for both halves)."""
    low_b, high_b = paper.NOTMNIST_BAND
    criterion = (
        f"for the baseline and every int8 ensemble: the interval of the fraction with "
        f"confidence ≥ {paper.TAU:g} lies above {fmt.pct(paper.MNIST_CLASSIFIED_ABOVE, 0)} "
        f"(MNIST) and inside {fmt.pct(low_b, 0)}–{fmt.pct(high_b, 0)} (NotMNIST); "
        "contradicted if any lies outside"
    )
    parts, ours = [], []
    for v in ["baseline", *variants]:
        for dataset, (lo, hi) in (("mnist", (paper.MNIST_CLASSIFIED_ABOVE, 1.0)), ("notmnist", paper.NOTMNIST_BAND)):
            mean, low, high = _fraction_interval(ev, v, dataset)
            what = f"{datasets.label(dataset)} at {'the float32 baseline' if v == 'baseline' else sparsity_label(v)}"
            parts.append((what, region(low, high, lo, hi)))
            ours.append(f"{what} {fmt.interval(fmt.pct, mean, low, high, decimals=1)}")
    return _row(
        "C5",
        f"MNIST > {fmt.pct(paper.MNIST_CLASSIFIED_ABOVE, 0)}; NotMNIST {fmt.pct(low_b, 0)}–{fmt.pct(high_b, 0)}",
        "; ".join(ours),
        criterion,
        ev.describe(),
        parts,
    )


def _fraction_interval(ev: Evidence, variant: str, dataset: str) -> tuple[float, float, float]:
    from helpers.stats.inference import t_interval

    if ev.between_seeds:
        return t_interval(ev.values(variant, dataset, "classified_fraction"), ev.rules.alpha)
    m = ev.runs[0]["variants"][variant][dataset]
    return m["classified_fraction"], m["classified_fraction_low"], m["classified_fraction_high"]


TREND_MEASURES = {
    # key in results.json -> (label, unit formatter)
    "classified_fraction": ("fraction with confidence ≥ τ", fmt.pct),
    "mean_entropy": ("entropy", fmt.nats),
    "mean_disagreement": ("disagreement", fmt.nats),
}


def trend_claim(
    cid: str, ev: Evidence, variants: list[str], series: list[tuple[str, str]], increasing: bool, paper_text: str
) -> dict:
    """Each (dataset, key) series moves the claimed way at every sparsity step, 0 % int8
    weights (q8) first, judged on seed-level paired step differences."""
    word = "rises" if increasing else "falls"
    names = ["q8", *variants]
    criterion = (
        f"{word} at every step {' → '.join(sparsity_label(n) for n in names)}: each step's "
        f"interval between seeds (Bonferroni over steps) lies on the claimed side; "
        f"contradicted if any lies on the other; needs ≥ {ev.rules.min_seeds} seeds"
    )
    missing = [n for n in names if not ev.has(n)]
    if missing:
        return _not_tested(cid, paper_text, f"{', '.join(missing)} not in this build", criterion)
    parts, ours = [], []
    for dataset, key in series:
        values = np.stack([ev.values(n, dataset, key) for n in names], axis=1)
        verdict, _ = trend(values, increasing, ev.rules.alpha, ev.rules.min_seeds)
        label, formatter = TREND_MEASURES[key]
        where = datasets.label(dataset)
        parts.append((f"{label} on {where}", verdict))
        means = " → ".join(fmt.bare(formatter, x) for x in values.mean(axis=0))
        ours.append(f"{label} on {where}: {means}")
    evidence = (
        ev.describe()
        if ev.between_seeds
        else (f"{ev.n_seeds} run{'s' if ev.n_seeds > 1 else ''}: a trend needs ≥ {ev.rules.min_seeds} seeds")
    )
    return _row(cid, paper_text, "; ".join(ours), criterion, evidence, parts)


def c8(ev: Evidence, variants: list[str]) -> dict:
    r = ev.rules
    names = [v for v in variants if paper.COMPRESSED.get(v) and paper.COMPRESSED[v].sparsity <= 0.75]
    criterion = (
        f"every difference to the baseline equivalent to 0 (TOST, α = {r.alpha:g}) within "
        f"±{r.accuracy_margin_pp:g} pp accuracy, ±{100 * r.nll_margin_relative:g} % of the "
        f"baseline's NLL and ±{100 * r.brier_margin_relative:g} % of its Brier score; "
        "contradicted if an interval lies outside its band"
    )
    if not names or not all(ev.has(n) for n in names):
        return _not_tested("C8", "no significant change", "no sparsity ≤ 75 % in this build", criterion)
    parts, ours = [], []
    for v in names:
        for metric in ("accuracy", "nll", "brier"):
            base = float(ev.values("baseline", "mnist", metric).mean())
            c = _comparison(ev, v, metric, no_change_band(metric, base, r), "no_change")
            verdict = equivalence(c, r.alpha)
            parts.append((f"{metric} at {sparsity_label(v)}", verdict))
            if verdict != SUPPORTED:
                f = fmt.pp if metric == "accuracy" else (lambda x: fmt.number(x, 4, signed=True))
                ours.append(f"{metric} at {sparsity_label(v)} {verdict} ({fmt.interval(f, c['estimate'], c['low'], c['high'])})")
    shown = sum(v == SUPPORTED for _, v in parts)
    text = f"{shown} of {len(parts)} differences shown equivalent to 0"
    return _row("C8", "no significant change", text + ("; " + "; ".join(ours) if ours else ""), criterion, ev.describe(), parts)


def c9(ev: Evidence) -> dict:
    r = ev.rules
    half = f"the ensemble pruned to {sparsity_label('s50_q8')} with int8 weights"
    criterion = f"{half}, zipped, ≤ {r.same_size_factor:g} × one zipped float32 member, in every run"
    if not ev.has("s50_q8"):
        return _not_tested("C9", "≈ 1 single model", f"{half} is not in this build", criterion)
    factors = ev.values("s50_q8", None, "zipped_bytes") / ev.values("single", None, "zipped_bytes")
    parts = [("size", measured([bool(f <= r.same_size_factor) for f in factors]))]
    return _row(
        "C9",
        "≈ 1 single model",
        f"{fmt.number(factors.mean())} × one member",
        criterion,
        f"{ev.n_seeds} run{'s' if ev.n_seeds > 1 else ''}",
        parts,
    )


def assess(ev: Evidence, table1_rows: list[dict], config, ood: str = "notmnist") -> list[dict]:
    """Rows C1..C10 in order."""
    q8 = int8_variants(config)
    return [
        c1(table1_rows, config),
        compressed("C2", ev, ["s25_q8"]),
        compressed("C3", ev, ["s50_q8", "s75_q8"]),
        compressed("C4", ev, ["s95_q8"]),
        c5(ev, q8),
        trend_claim(
            "C6",
            ev,
            q8,
            [("mnist", "classified_fraction"), (ood, "classified_fraction")],
            increasing=False,
            paper_text="decreases on both",
        ),
        trend_claim(
            "C7", ev, q8, [(ood, "mean_entropy"), (ood, "mean_disagreement")], increasing=True, paper_text="both increase"
        ),
        c8(ev, q8),
        c9(ev),
        trend_claim("C10", ev, q8, [(ood, "mean_disagreement")], increasing=True, paper_text="increases"),
    ]


__all__ = ["Evidence", "assess", "accuracy_band", "no_change_band", "SUPPORTED", "UNRESOLVED", "CONTRADICTED", "NOT_TESTED"]


def verdicts_vocabulary() -> tuple:
    from helpers.stats.verdicts import VERDICTS

    return VERDICTS
