"""The frontier figure: every configuration's zipped size (kB, log axis) against MNIST NLL and
ECE and the AUROC on NotMNIST and Fashion-MNIST, the seed mean with its 95 % interval over
seeds, the Pareto front the aggregate found (dashed) and the budgets (dotted). Draws what
summary["frontier"] holds (helpers.book.frontier.FrontierView); computes nothing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from helpers.book.figures import WIDTH, _kb_axis, _style, color
from helpers.book.frontier import PANEL_LABELS, TREATMENT_LABELS, FrontierView
from helpers.core import fmt

KIND_STYLE = {  # marker, colour (None: the variant's sparsity colour), legend text
    "ensemble": ("o", None, "ensemble, paper's recipe (colour: sparsity)"),
    "single": ("s", "#7f7f7f", "single model"),
    "clustered": ("D", "#CC79A7", "clustered + int8"),
    "pqat": ("P", "#D55E00", "PQAT"),
    "m_by_n": ("v", "#009E73", "2:4 structured + int8"),
    "student": ("*", "#000000", "distilled student"),
}
SHORT = {
    "single": "1 float member",
    "single_q8": "1 int8 member",
    "student_q8": "student",
    "student_small_q8": "small student",
    "nm24_q8": "2:4",
    "q8": "0 % q8",
    "int8full": "0 % full int8",
    "baseline": "float32 ensemble",
    "ft": "control float32",
    "ft_q8": "control q8",
    "ft_int8full": "control full int8",
}


def short_label(name: str) -> str:
    if name in SHORT:
        return SHORT[name]
    if name.startswith("q8_m"):
        return f"{name[4:]} int8 members"
    if name.startswith("pqat_s"):
        return f"PQAT {name[6:]} %"
    if name.startswith("c") and "_s" in name:
        clusters, sparsity = name[1:].split("_s")[0], name.split("_s")[1][:2]
        return f"{clusters} cl. {sparsity} %"
    if name[:1] == "s" and name[1:3].isdigit():
        return f"{name[1:3]} % {name[4:]}"
    return name


def _style_of(fv: FrontierView, name: str) -> tuple[str, str, bool]:
    marker, colour, _ = KIND_STYLE[fv.kind(name)]
    hollow = name.endswith("_float") or name in ("baseline", "ft", "single")
    return marker, colour or color(name), hollow


def frontier_figure(fv: FrontierView, treatment: str = "raw"):
    """2 × 2 panels (MNIST NLL, MNIST ECE %, NotMNIST AUROC, Fashion-MNIST AUROC) for one treatment."""
    with _style():
        fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 6.2), layout="constrained")
        for ax, panel in zip(axes.ravel(), fv.panels):
            key, (ds, metric) = panel["key"], (panel["dataset"], panel["metric"])
            scale = 100.0 if metric == "ece" else 1.0
            points = {}
            for name in fv.names:
                s = fv.stat(name, treatment, ds, metric)
                if s is None:
                    continue
                x, y = fv.size(name) / 1000, scale * s["mean"]
                points[name] = (x, y)
                yerr = None if s["low"] is None else [[y - scale * s["low"]], [scale * s["high"] - y]]
                marker, colour, hollow = _style_of(fv, name)
                ax.errorbar(
                    x,
                    y,
                    yerr=yerr,
                    fmt=marker,
                    color=colour,
                    markersize=7 if marker == "*" else 5,
                    markerfacecolor="white" if hollow else colour,
                    capsize=2,
                    gid=name,
                )
            front = [n for n in fv.front(treatment, key) if n in points]
            ax.plot([points[n][0] for n in front], [points[n][1] for n in front], "--", color="0.2", lw=1, zorder=0, gid="pareto")
            for kb in fv.budgets_kb:
                ax.axvline(kb, color="#E69F00", lw=1.0, ls=":", alpha=0.8, zorder=0, gid=f"budget:{kb}")
            # front points crowd between 50 and 150 kB: labels alternate above and below the
            # line, and one closer than a tenth of a decade to the last label is left to the tables
            last, labelled = None, 0
            for n in front:
                x = np.log10(points[n][0])
                if last is not None and x - last < 0.1:
                    continue
                last, labelled = x, labelled + 1
                ax.annotate(
                    short_label(n),
                    points[n],
                    xytext=(4, 6 if labelled % 2 else -11),
                    textcoords="offset points",
                    fontsize=7,
                    color="0.2",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                )
            _kb_axis(ax, [p[0] for p in points.values()])
            unit = " (%)" if metric == "ece" else " (nats)" if metric == "nll" else ""
            ax.set(xlabel="zipped size (kB)", ylabel=PANEL_LABELS[key] + unit)
        handles = [
            Line2D([], [], marker=m, color=c or "0.3", linestyle="none", markersize=7 if m == "*" else 5, label=text)
            for m, c, text in KIND_STYLE.values()
        ]
        handles += [
            Line2D([], [], marker="o", color="0.3", markerfacecolor="white", linestyle="none", label="float32"),
            Line2D([], [], color="0.2", linestyle="--", label="Pareto front"),
            Line2D([], [], color="#E69F00", linestyle=":", label=f"budgets ({fmt.and_list(map(str, fv.budgets_kb))} kB)"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
        seeds = f"{fv.n} seed" + ("" if fv.n == 1 else "s")
        fig.suptitle(f"{TREATMENT_LABELS[treatment].capitalize()} numbers, means over {seeds}", fontsize=10)
    return fig
