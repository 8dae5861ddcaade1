"""Interactive versions of the figures where a reader wants to identify points: the memory
budget, the ROC curves and the rotated-MNIST curves. Plotly figures drawn from the same
numbers the static figures draw (summary.json and results.json: nothing is computed here);
every point names its ensemble and its value on hover, and the figure zooms and pans.

    fig = interactive.memory_budget(summary, names)
    chapter.glue_interactive("memory_budget_interactive", fig)   # HTML beside the static SVG

The book loads plotly.js once for every page (helpers.build.book_sphinx copies the pinned
package's own plotly.min.js: the book works offline); the fragments carry none.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.book.figures import color
from helpers.book.plots import budget_axis, budget_point
from helpers.core.variants import BUDGET_PANELS, label

# line styles: dotted float32, dashed full int8, solid int8 weights (as the static figures)
_DASH = {"float": "dot", "int8full": "dash"}
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=12)


def _dash(name: str) -> str:
    if name.endswith("_float") or name in ("baseline", "ft", "single"):
        return _DASH["float"]
    return _DASH["int8full"] if name.endswith("int8full") else "solid"


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=height,
        margin=dict(l=60, r=20, t=40, b=50),
        legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, font=dict(size=10)),
        hoverlabel=dict(namelength=-1),
    )
    return fig


def memory_budget(summary, names: Sequence[str]) -> go.Figure:
    """Zipped size (kB, log axis) against MNIST NLL, MNIST ECE and NotMNIST AUROC: each
    ensemble's mean over seeds with its 95 % interval over seeds, its name on hover, the
    Pareto front the aggregate found dashed."""
    fig = make_subplots(rows=1, cols=len(BUDGET_PANELS), subplot_titles=[budget_axis(p[1], p[2])[1] for p in BUDGET_PANELS])
    for col, (dataset, key, title, _) in enumerate(BUDGET_PANELS, start=1):
        scale, title = budget_axis(key, title)
        points = {}
        for name in names:
            size, s = budget_point(summary, name, dataset, key, scale)
            points[name] = (size, s["mean"])
            has_ci = s["low"] is not None
            fig.add_trace(
                go.Scatter(
                    x=[size],
                    y=[s["mean"]],
                    mode="markers",
                    name=label(name),
                    legendgroup=name,
                    showlegend=col == 1,
                    marker=dict(color=color(name), size=9, symbol=_symbol(name)),
                    error_y=dict(
                        type="data",
                        symmetric=False,
                        array=[s["high"] - s["mean"]] if has_ci else None,
                        arrayminus=[s["mean"] - s["low"]] if has_ci else None,
                        visible=has_ci,
                    ),
                    hovertemplate=f"<b>{label(name)}</b><br>%{{x:.1f}} kB<br>{title}: %{{y:.4f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        front = [n for n in summary.front(key) if n in points]
        fig.add_trace(
            go.Scatter(
                x=[points[n][0] for n in front],
                y=[points[n][1] for n in front],
                mode="lines",
                name="Pareto front",
                legendgroup="pareto",
                showlegend=col == 1,
                line=dict(color="#333333", dash="dash", width=1),
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(type="log", title_text="zipped ensemble (kB)", tickvals=[10, 30, 100, 300, 1000], row=1, col=col)
    return _layout(fig, 640)


def _symbol(name: str) -> str:
    if name.startswith(("single", "q8_m")):
        return "square"
    if name.endswith("int8full"):
        return "triangle-up"
    return "circle-open" if _dash(name) == "dot" else "circle"


def roc(results: dict, names: Sequence[str], dataset: str, score: str = "entropy") -> go.Figure:
    """One ROC curve per ensemble (one run), false-positive rate on a log axis: the curves
    differ at small rates, where a detector is used."""
    fig = go.Figure()
    for name in names:
        r = results["roc"][name][dataset][score]
        pairs = [(f, t) for f, t in zip(r["fpr"], r["tpr"]) if f > 0]
        fig.add_trace(
            go.Scatter(
                x=[f for f, _ in pairs],
                y=[t for _, t in pairs],
                mode="lines",
                name=label(name),
                line=dict(color=color(name), dash=_dash(name)),
                hovertemplate=f"<b>{label(name)}</b><br>FPR %{{x:.3f}}<br>TPR %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_xaxes(type="log", title_text="false-positive rate (MNIST flagged)")
    fig.update_yaxes(title_text="true-positive rate (OOD flagged)", range=[0, 1.01])
    return _layout(fig, 480)


def metric_vs_rotation(series: Mapping[str, Mapping], ylabel: str, scale: float = 1.0) -> go.Figure:
    """One line per ensemble: a metric against the rotation angle ({variant: {angle: value}},
    angles as numbers or numeric strings), every value times `scale` (100 for %)."""
    fig = go.Figure()
    for name, values in series.items():
        keys = sorted(values, key=float)
        fig.add_trace(
            go.Scatter(
                x=[float(k) for k in keys],
                y=[scale * values[k] for k in keys],
                mode="lines+markers",
                name=label(name),
                line=dict(color=color(name), dash=_dash(name)),
                hovertemplate=f"<b>{label(name)}</b><br>%{{x:.0f}}°<br>{ylabel}: %{{y:.4f}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="rotation (degrees)")
    fig.update_yaxes(title_text=ylabel)
    return _layout(fig, 440)


def fragment(fig: go.Figure, div_id: str) -> str:
    """The figure as an HTML fragment without plotly.js (the page loads it once)."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"responsive": True, "displaylogo": False},
    )
