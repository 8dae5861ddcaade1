"""The book's tables as pandas DataFrames: Table 1 (model), Table 2 (results), claims.

Each builder validates its rows and keeps numbers as numbers in a *numeric* frame (for
tests and glue) and, where formatting matters, a *display* frame of strings for the book
(rendered as HTML through a pandas ``Styler``). Negative numbers in display strings use
the typographic minus sign U+2212 ("−"), positive differences an explicit "+".
No TensorFlow here: the layer rows come from ``helpers.engine.models.layer_rows``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pandas as pd

from helpers.core.fmt import BYTES_PER_KB, MINUS, MISSING, _minus, shape  # noqa: F401 (one formatter set: helpers.core.fmt)

# Okabe-Ito colours (colour-blind safe), light tints for the verdict cells.


# ------------------------------------------------------------------------------ formatting


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


def table1(model_summary_rows: Iterable[Mapping], hyperparameters: Mapping[str, Any]) -> tuple[Table, Table]:
    """Table 1 as two tables: the layers and the hyper-parameters.

    model_summary_rows: [{"layer": "Conv2D", "output_shape": (26, 26, 28), "params": 280}, ...]
    (see ``helpers.engine.models.layer_rows``); hyperparameters: ordered {name: value}.
    Returns (layers, hyperparameters), each a ``Table``. The layers table ends with a
    "Total" row; shapes display as '26 × 26 × 28' and parameters with thousands separators.
    """
    rows = list(model_summary_rows)
    for i, row in enumerate(rows):
        for key in ("layer", "output_shape", "params"):
            if key not in row:
                raise ValueError(
                    f"model row {i} ({row.get('layer', '?')!r}) is missing key {key!r}; expected layer, output_shape and params."
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
            "Output shape": [MISSING if s is None else shape(s) for s in numeric["Output shape"]],
            "Parameters": [f"{p:,}" for p in numeric["Parameters"]],
        }
    ).set_index("Layer")
    names = pd.Index(list(hyperparameters), name="Hyper-parameter")
    hyper_numeric = pd.DataFrame({"Value": list(hyperparameters.values())}, index=names)
    hyper_display = pd.DataFrame({"Value": [_fmt_value(v) for v in hyperparameters.values()]}, index=names)
    return Table(numeric.set_index("Layer"), display), Table(hyper_numeric, hyper_display)


# --------------------------------------------------------------------------------- Table 2


# --------------------------------------------------------------------------- claims table
