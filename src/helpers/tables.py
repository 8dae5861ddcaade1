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


# Okabe-Ito colours (colour-blind safe), light tints for the verdict cells.


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


# --------------------------------------------------------------------------- claims table


