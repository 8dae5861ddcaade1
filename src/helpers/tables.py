"""The book's tables as pandas DataFrames: Table 1 (model), Table 2 (results), claims.

Each builder validates its rows and keeps numbers as numbers in a *numeric* frame (for
tests and glue) and, where formatting matters, a *display* frame of strings for the book
(rendered as HTML through a pandas ``Styler``). Negative numbers in display strings use
the typographic minus sign U+2212 ("−"), positive differences an explicit "+".
No TensorFlow here: ``model_rows`` reads a Keras model duck-typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

MINUS = "\u2212"
"""Typographic minus sign used in every display string."""

MISSING = "—"
"""Shown in display frames where a value does not apply (e.g. the baseline's own Δ)."""

BYTES_PER_KB = 1000
"""Zipped sizes are shown in kB of 1,000 bytes (SI), as the TF Model Optimization guides."""


@dataclass(frozen=True)
class PaperClaim:
    """What the paper states for one compressed variant (claims.md C2-C4)."""

    accuracy_diff_pp: float  # ensemble accuracy minus baseline, percentage points
    compression_ratio: float  # zipped baseline ensemble / zipped variant ensemble; NaN if not stated
    approximate: bool = False  # the paper says "about"
    claim: str = ""


PAPER_CLAIMS: dict[str, PaperClaim] = {
    "s25_q8": PaperClaim(+0.04, 4.0, claim="C2"),
    "s50_q8": PaperClaim(-0.01, 5.0, claim="C3"),
    "s75_q8": PaperClaim(-0.05, 8.0, claim="C3"),
    "s95_q8": PaperClaim(-1.0, math.nan, approximate=True, claim="C4"),
}
"""Paper values from ``shared/paper/claims.md``, keyed by variant name."""

TABLE2_KEYS = (
    "variant", "label", "sparsity", "quantized",
    "accuracy", "accuracy_low", "accuracy_high",
    "accuracy_diff", "accuracy_diff_low", "accuracy_diff_high",
    "nll", "brier", "ece", "zipped_bytes", "compression_ratio",
)  # fmt: skip
"""Keys every ``table2`` row must have (accuracies and ECE as fractions in [0, 1])."""

TABLE2_COLUMNS = (
    "Accuracy (%)", "Δ acc. vs baseline (pp)", "Paper Δ (pp)", "NLL", "Brier",
    "ECE (%)", "Zipped size (kB)", "Compression ratio (×)", "Paper ratio (×)",
)  # fmt: skip

CLAIM_KEYS = ("id", "claim", "paper", "ours", "criterion", "verdict")
VERDICTS = ("holds", "partly holds", "does not hold", "not tested")

# Okabe-Ito colours (colour-blind safe), light tints for the verdict cells.
_VERDICT_BACKGROUND = {"holds": "#d5ede3", "partly holds": "#fbecc4", "does not hold": "#f6d6c4",
                       "not tested": "#e8e8e8"}


# ------------------------------------------------------------------------------ formatting


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def fmt_number(value, decimals: int = 2, thousands: bool = False) -> str:
    """'1,234.57' style text with a typographic minus; '—' for None/NaN."""
    if _is_missing(value):
        return MISSING
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    return _minus("0" + text[2:] if text.startswith("-0") and float(text) == 0 else text)


def fmt_signed(value, decimals: int = 2) -> str:
    """'+0.04', '−0.01', '0.00' (no sign when the rounded value is zero); '—' for None/NaN."""
    if _is_missing(value):
        return MISSING
    rounded = round(float(value), decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}"
    return _minus(f"{rounded:+.{decimals}f}")


def fmt_interval(estimate, low, high, decimals: int = 2, signed: bool = False) -> str:
    """'99.12 [99.02, 99.21]' (or signed: '+0.04 [−0.03, +0.11]'); '—' if the estimate is missing."""
    if _is_missing(estimate):
        return MISSING
    f = (lambda v: fmt_signed(v, decimals)) if signed else (lambda v: fmt_number(v, decimals))
    return f"{f(estimate)} [{f(low)}, {f(high)}]"


def fmt_shape(shape: Sequence[int | None]) -> str:
    """(26, 26, 28) -> '26 × 26 × 28'; a leading batch dimension must already be dropped."""
    return " × ".join("?" if d is None else str(d) for d in shape)


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _minus(f"{value:g}")
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt_value(v) for v in value)
    return str(value)


def _styled(display: pd.DataFrame, caption: str | None = None):
    """A Styler: index name hidden, cells right-aligned (first column text stays left)."""
    styler = display.style.hide(axis="index", names=True)
    # Table-level CSS, not set_properties: that is a per-cell map, which pandas refuses on
    # a non-unique index (Table 1 lists two Conv2D layers).
    styler = styler.set_table_styles(
        [
            {"selector": "", "props": "font-size: 0.85em;"},  # Table 2 is wide
            {"selector": "td", "props": "text-align: right; white-space: nowrap;"},
            {"selector": "th.col_heading", "props": "text-align: right;"},
            {"selector": "th.row_heading", "props": "text-align: left; white-space: nowrap;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold;"},
        ]
    )
    return styler.set_caption(caption) if caption else styler


@dataclass(frozen=True)
class Table:
    """A numeric frame (numbers, for tests and glue) and its display frame (strings)."""

    numeric: pd.DataFrame
    display: pd.DataFrame

    def style(self, caption: str | None = None):
        """The display frame as a pandas Styler for HTML output in the book."""
        return _styled(self.display, caption)

    def _repr_html_(self) -> str:
        return self.style().to_html()


# --------------------------------------------------------------------------------- Table 1


def _output_shape(layer) -> tuple:
    shape = getattr(layer, "output_shape", None)
    if shape is None:
        shape = layer.output.shape
    if isinstance(shape, list) and len(shape) == 1:
        shape = shape[0]
    dims = tuple(None if d is None else int(d) for d in shape)
    return dims[1:]  # drop the batch dimension


def model_rows(model) -> list[dict]:
    """Rows {"layer", "output_shape", "params"} for every layer of a built Keras model.

    Duck-typed: reads ``model.layers``, each layer's ``__class__.__name__``,
    ``output_shape`` (tf_keras) or ``output.shape`` (Keras 3), and ``count_params()``.
    The batch dimension is dropped from the shape.
    """
    return [
        {"layer": type(layer).__name__, "output_shape": _output_shape(layer), "params": int(layer.count_params())}
        for layer in model.layers
    ]


def table1(model_summary_rows: Iterable[Mapping], hyperparameters: Mapping[str, Any]) -> tuple[Table, Table]:
    """Table 1 as two tables: the layers and the hyper-parameters.

    model_summary_rows: [{"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280}, ...]
    (see ``model_rows``); hyperparameters: ordered {name: value}.
    Returns (layers, hyperparameters), each a ``Table``. The layers table ends with a
    "Total" row; shapes display as '26 × 26 × 28' and parameters with thousands separators.
    """
    rows = list(model_summary_rows)
    for i, row in enumerate(rows):
        for key in ("layer", "output_shape", "params"):
            if key not in row:
                raise ValueError(
                    f"model row {i} ({row.get('layer', '?')!r}) is missing key {key!r}; "
                    "expected layer, output_shape and params."
                )
    numeric = pd.DataFrame(
        {
            "Layer": [r["layer"] for r in rows] + ["Total"],
            "Output shape": [tuple(r["output_shape"]) for r in rows] + [None],
            "Parameters": [int(r["params"]) for r in rows] + [sum(int(r["params"]) for r in rows)],
        }
    )
    display = pd.DataFrame(
        {
            "Layer": numeric["Layer"],
            "Output shape": [MISSING if s is None else fmt_shape(s) for s in numeric["Output shape"]],
            "Parameters": [f"{p:,}" for p in numeric["Parameters"]],
        }
    ).set_index("Layer")
    names = pd.Index(list(hyperparameters), name="Hyper-parameter")
    hyper_numeric = pd.DataFrame({"Value": list(hyperparameters.values())}, index=names)
    hyper_display = pd.DataFrame({"Value": [_fmt_value(v) for v in hyperparameters.values()]}, index=names)
    return Table(numeric.set_index("Layer"), display), Table(hyper_numeric, hyper_display)


# --------------------------------------------------------------------------------- Table 2


def _validate_table2_rows(rows: Sequence[Mapping]) -> None:
    seen = set()
    for i, row in enumerate(rows):
        if "variant" not in row:
            raise ValueError(f"table2 row {i} is missing key 'variant'; every row needs: {', '.join(TABLE2_KEYS)}.")
        name = row["variant"]
        for key in TABLE2_KEYS:
            if key not in row:
                raise ValueError(
                    f"table2 row for variant {name!r} is missing key {key!r}; "
                    f"every row needs: {', '.join(TABLE2_KEYS)}."
                )
        if name in seen:
            raise ValueError(f"table2 has two rows for variant {name!r}; expected one row per variant.")
        seen.add(name)
        for key in ("accuracy", "accuracy_low", "accuracy_high", "ece"):
            value = row[key]
            if not (_is_missing(value) or 0.0 <= value <= 1.0):
                raise ValueError(
                    f"table2 row for variant {name!r} has {key} = {value!r}; "
                    "expected a fraction in [0, 1], not a percentage."
                )


def table2(rows: Sequence[Mapping], paper_claims: Mapping[str, PaperClaim] = PAPER_CLAIMS) -> Table:
    """Table 2: one row per variant with CIs, the paired Δ vs the baseline and the paper's values.

    rows: dicts with the keys in ``TABLE2_KEYS`` (accuracies and ECE as fractions; the
    Δ as a fraction, NaN for the baseline itself). Row order is kept.
    Returns a ``Table``: ``numeric`` indexed by variant (the input keys plus
    ``paper_accuracy_diff_pp`` and ``paper_compression_ratio``), ``display`` indexed by
    label with the columns in ``TABLE2_COLUMNS`` (percent, pp, kB, ×).
    """
    rows = list(rows)
    _validate_table2_rows(rows)
    numeric = pd.DataFrame([dict(r) for r in rows]).set_index("variant")
    claims = [paper_claims.get(name) for name in numeric.index]
    numeric["paper_accuracy_diff_pp"] = [math.nan if c is None else c.accuracy_diff_pp for c in claims]
    numeric["paper_compression_ratio"] = [math.nan if c is None else c.compression_ratio for c in claims]
    cells = [_table2_display_row(row, claim) for row, claim in zip(rows, claims)]
    display = pd.DataFrame(cells, columns=TABLE2_COLUMNS)
    display.index = pd.Index([r["label"] for r in rows], name="Variant")
    return Table(numeric, display)


def _paper_diff_text(claim: PaperClaim | None) -> str:
    if claim is None:
        return MISSING
    if claim.approximate:
        return f"≈ {fmt_signed(claim.accuracy_diff_pp, 0)}"
    return fmt_signed(claim.accuracy_diff_pp)


def _table2_display_row(row: Mapping, claim: PaperClaim | None) -> list[str]:
    pct = lambda v: v * 100  # noqa: E731  (fraction -> percent / percentage points)
    return [
        fmt_interval(pct(row["accuracy"]), pct(row["accuracy_low"]), pct(row["accuracy_high"])),
        fmt_interval(
            pct(row["accuracy_diff"]), pct(row["accuracy_diff_low"]), pct(row["accuracy_diff_high"]), signed=True
        ),
        _paper_diff_text(claim),
        fmt_number(row["nll"], 4),
        fmt_number(row["brier"], 4),
        fmt_number(pct(row["ece"]), 2),
        fmt_number(row["zipped_bytes"] / BYTES_PER_KB, 1, thousands=True),
        fmt_number(row["compression_ratio"], 2),
        MISSING if claim is None or _is_missing(claim.compression_ratio) else f"{claim.compression_ratio:g}",
    ]


# --------------------------------------------------------------------------- claims table


def claims_table(rows: Iterable[Mapping]) -> pd.DataFrame:
    """The discussion chapter's claim-by-claim table.

    rows: dicts with keys ``CLAIM_KEYS`` = id, claim, paper, ours, criterion, verdict;
    verdict must be one of ``VERDICTS``. Returns a DataFrame indexed by "Claim" id with
    columns "Statement", "Paper", "Reproduction", "Criterion", "Verdict".
    Use ``style_claims`` for the book.
    """
    rows = list(rows)
    for i, row in enumerate(rows):
        for key in CLAIM_KEYS:
            if key not in row:
                raise ValueError(
                    f"claims row {i} ({row.get('id', '?')!r}) is missing key {key!r}; "
                    f"every row needs: {', '.join(CLAIM_KEYS)}."
                )
        if row["verdict"] not in VERDICTS:
            raise ValueError(
                f"claims row {row['id']!r} has verdict {row['verdict']!r}; "
                f"expected one of {', '.join(map(repr, VERDICTS))}."
            )
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claims ids {ids} contain duplicates; expected one row per claim id.")
    frame = pd.DataFrame(
        {
            "Statement": [r["claim"] for r in rows],
            "Paper": [str(r["paper"]) for r in rows],
            "Reproduction": [str(r["ours"]) for r in rows],
            "Criterion": [r["criterion"] for r in rows],
            "Verdict": [r["verdict"] for r in rows],
        },
        index=pd.Index(ids, name="Claim"),
    )
    return frame


def style_claims(frame: pd.DataFrame, caption: str | None = None):
    """A Styler for ``claims_table``: left-aligned text, verdict cells tinted by verdict."""
    styler = frame.style.hide(axis="index", names=True).set_properties(**{"text-align": "left"})
    styler = styler.map(lambda v: f"background-color: {_VERDICT_BACKGROUND[v]};", subset=["Verdict"])
    styler = styler.set_table_styles([{"selector": "th", "props": "text-align: left;"}])
    return styler.set_caption(caption) if caption else styler
