"""The book's figures, drawn from results.json (one run) and summary.json (between seeds;
helpers.stages.evaluation and helpers.stages.aggregate computed every value; nothing here computes a
statistic).

Each function returns a matplotlib Figure sized for the book's text column (7.5 in wide,
9-10 pt text, so tick labels stay >= 9 px at page width); captions are prose, chosen by
helpers.book.prose, not here.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from helpers.book.plots import budget_axis, budget_point, plot_style, variant_color, variant_linestyle
from helpers.core import fmt
from helpers.core.variants import label  # noqa: F401 (the figures' legends; re-exported for the chapters)

WIDTH = 7.5
RC_BOOK = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
}


def _style():
    import contextlib

    @contextlib.contextmanager
    def both():
        with plot_style(), plt.rc_context(RC_BOOK):
            yield

    return both()


def color(name: str) -> str:
    return variant_color("q8" if name.startswith("q8_m") or name == "single_q8" else name)


def _line(ax, x, y, name, **kw):
    return ax.plot(
        x,
        y,
        color=color(name),
        linestyle=variant_linestyle(name if name in ("single",) else ("q8" if name.startswith("q8_m") else name)),
        label=label(name),
        gid=name,
        **kw,
    )[0]


def figure1(results: dict, names: Sequence[str], tau: float):
    """The paper's Figure 1: (a) MNIST fraction with confidence >= τ, (b) MNIST accuracy on
    those, (c) NotMNIST fraction, against τ; τ marked. The curves stop at the last τ below 1:
    at τ = 1 they would count the probabilities that round to exactly 1.0 in float32, which
    depends on the CPU and thread setting (0 % of MNIST on one machine, 78 % on another, for
    the same models), not on the models."""
    curves = results["curves"]
    with _style():
        fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 3.3), layout="constrained")
        for name in names:
            c = curves[name]
            t = np.asarray(c["tau"])
            below = t < 1.0
            _line(axes[0], t[below], 100 * np.asarray(c["mnist_fraction"])[below], name)
            acc = np.array([np.nan if a is None else a for a in c["mnist_accuracy"]], dtype=float)
            _line(axes[1], t[below], 100 * acc[below], name)
            _line(axes[2], t[below], 100 * np.asarray(c["notmnist_fraction"])[below], name)
        titles = ("(a) MNIST classified", "(b) MNIST accuracy of those", "(c) NotMNIST classified")
        ylabels = ("samples with confidence ≥ τ (%)", "accuracy (%)", "samples with confidence ≥ τ (%)")
        for ax, title, ylabel in zip(axes, titles, ylabels):
            ax.axvline(tau, color="0.4", linestyle=(0, (2, 2)), linewidth=1, gid="tau")
            ax.set(title=title, xlabel="threshold τ", ylabel=ylabel, xlim=(0, 1))
        axes[0].set_ylim(0, 102)
        axes[2].set_ylim(0, 102)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(handles)), frameon=False)
    return fig


def figure2(results: dict, names: Sequence[str], dataset: str = "notmnist", summary=None):
    """The paper's Figure 2: entropy and disagreement on an OOD set per variant, as boxes
    (quartiles, whiskers at 1.5 IQR, one run) with the mean and its 95 % interval drawn
    large: with several seeds the interval over seeds (black, from `summary`), and the
    bootstrap interval over images of one run (coloured)."""
    seeds = summary is not None and summary.between_seeds
    boxes = results["boxes"]
    with _style():
        fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.4), layout="constrained")
        for ax, key, ylabel in (
            (axes[0], "entropy", "predictive entropy (nats)"),
            (axes[1], "disagreement", "disagreement (nats)"),
        ):
            stats = [dict(boxes[n][dataset][key], label="") for n in names]
            parts = ax.bxp(stats, positions=range(len(names)), widths=0.6, showfliers=False, patch_artist=True, showmeans=False)
            for box, name in zip(parts["boxes"], names):
                box.set(facecolor=(*plt.matplotlib.colors.to_rgb(color(name)), 0.3), edgecolor=color(name), gid=name)
            for k in ("medians", "whiskers", "caps"):
                for artist in parts[k]:
                    artist.set(color="0.35")
            inset = ax.inset_axes([0.0, 1.02, 1.0, 0.28], sharex=ax)
            for i, name in enumerate(names):
                m = results["variants"][name][dataset]
                mean = m[f"mean_{key}"]
                inset.errorbar(
                    i - 0.12,
                    mean,
                    yerr=[[mean - m[f"mean_{key}_low"]], [m[f"mean_{key}_high"] - mean]],
                    fmt="o",
                    color=color(name),
                    capsize=3,
                    markersize=4,
                    gid=f"ci:{name}",
                )
                if seeds:
                    s = summary.stat(name, dataset, f"mean_{key}")
                    if s is not None and s["low"] is not None:
                        inset.errorbar(
                            i + 0.12,
                            s["mean"],
                            yerr=[[s["mean"] - s["low"]], [s["high"] - s["mean"]]],
                            fmt="D",
                            color="black",
                            capsize=3,
                            markersize=4,
                            gid=f"seeds:{name}",
                        )
            inset.set_ylabel("mean", fontsize=9)
            inset.tick_params(labelbottom=False)
            inset.grid(True, axis="y", linewidth=0.5)
            ax.set_xticks(range(len(names)), [_short(n) for n in names], rotation=0)
            ax.set(ylabel=ylabel, xlabel="ensemble")
        seed = results.get("seed", 0)
        over_images = f"seed {seed}: mean, {fmt.level(results['alpha'])} CI over images"
        handles = [Line2D([], [], marker="o", color="0.3", linestyle="none", label=over_images)]
        if seeds:
            over_seeds = f"mean, {summary.level} CI over {summary.n} seeds"
            handles.insert(0, Line2D([], [], marker="D", color="black", linestyle="none", label=over_seeds))
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


def _short(name: str) -> str:
    """Tick labels: 'float', 'ft', '0', '25', ... (sparsity in % for int8 ensembles)."""
    from helpers.core.variants import parse_variant

    if name == "baseline":
        return "float"
    if name.startswith("ft"):
        return "ft"
    if name.startswith("q8_m"):
        return f"{name[4:]}×int8"
    if name == "single_q8":
        return "1×int8"
    if name == "single":
        return "1×float"
    return f"{round(100 * parse_variant(name)[0])} %"


def reliability(results: dict, names: Sequence[str]):
    """Reliability diagram: accuracy per confidence bin against the bin's mean confidence."""
    with _style():
        fig, ax = plt.subplots(figsize=(4.6, 4.2), layout="constrained")
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="perfect calibration")
        for name in names:
            r = results["reliability"][name]
            conf = np.array([np.nan if v is None else v for v in r["confidence"]], dtype=float)
            acc = np.array([np.nan if v is None else v for v in r["accuracy"]], dtype=float)
            ok = ~np.isnan(conf)
            _line(ax, conf[ok], acc[ok], name, marker="o", markersize=3)
        ax.set(xlabel="mean confidence in bin", ylabel="accuracy in bin", xlim=(0, 1.01), ylim=(0, 1.01))
        ax.legend(loc="upper left", frameon=False)
    return fig


def roc(results: dict, names: Sequence[str], dataset: str, score: str = "entropy"):
    """ROC curves, the false-positive rate on a log axis: on a linear one the curves of
    good detectors crowd into the top-left corner, where they differ."""
    with _style():
        fig, ax = plt.subplots(figsize=(5.6, 4.2), layout="constrained")
        low = 1.0
        for name in names:
            r = results["roc"][name][dataset][score]
            fpr, tpr = np.asarray(r["fpr"]), np.asarray(r["tpr"])
            keep = fpr > 0
            low = min(low, fpr[keep].min())
            _line(ax, fpr[keep], tpr[keep], name)
        chance = np.geomspace(low, 1, 50)
        ax.plot(chance, chance, color="0.6", linestyle=":", linewidth=1, gid="chance")
        ax.set_xscale("log")
        ax.set(
            xlabel="false-positive rate (MNIST flagged, log scale)",
            ylabel="true-positive rate (OOD flagged)",
            xlim=(low, 1),
            ylim=(0, 1.01),
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8)  # off the curves
    return fig


def memory_budget(summary, names: Sequence[str]):
    """Zipped size (kB, log scale) against NLL, ECE and NotMNIST AUROC: every ensemble, the
    mean over seeds with its 95 % interval, the Pareto front the aggregate found joined."""
    from helpers.core.variants import BUDGET_PANELS

    with _style():
        fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 3.4), layout="constrained")
        for ax, (dataset, key, title, _) in zip(axes, BUDGET_PANELS):
            scale, ylabel = budget_axis(key, title)
            points = {}
            for name in names:
                size, s = budget_point(summary, name, dataset, key, scale)
                points[name] = (size, s["mean"])
                yerr = None if s["low"] is None else [[s["mean"] - s["low"]], [s["high"] - s["mean"]]]
                marker = "s" if name.startswith(("single", "q8_m")) else ("^" if name.endswith("int8full") else "o")
                hollow = name.endswith("_float") or name in ("baseline", "ft", "single")
                ax.errorbar(
                    size,
                    s["mean"],
                    yerr=yerr,
                    fmt=marker,
                    color=color(name),
                    markersize=5,
                    markerfacecolor="white" if hollow else color(name),
                    capsize=2,
                    gid=name,
                )
            front = [n for n in summary.front(key) if n in points]  # the front among those drawn
            ax.plot(
                [points[n][0] for n in front],
                [points[n][1] for n in front],
                color="0.2",
                linewidth=1,
                linestyle="--",
                zorder=0,
                gid="pareto",
            )
            _kb_axis(ax, [p[0] for p in points.values()])
            ax.set(xlabel="zipped ensemble (kB)", ylabel=ylabel)
            for n in front:  # the front's points named, so a reader can tell them apart
                ax.annotate(
                    _point_label(n),
                    points[n],
                    xytext=(3, 3),
                    textcoords="offset points",
                    fontsize=7,
                    color="0.25",
                    gid=f"label:{n}",
                )
        handles = [
            Line2D([], [], marker="o", color="0.3", linestyle="none", label="int8 ensemble"),
            Line2D([], [], marker="o", color="0.3", markerfacecolor="white", linestyle="none", label="float32"),
            Line2D([], [], marker="^", color="0.3", linestyle="none", label="full int8"),
            Line2D([], [], marker="s", color="0.3", linestyle="none", label="fewer members"),
            Line2D([], [], color="0.2", linestyle="--", label="Pareto front"),
        ]
        colours = {}
        for name in names:  # the colour key: sparsity (and the control, the single model)
            key = (
                "single model"
                if name.startswith("single")
                else "control"
                if name.startswith("ft")
                else "0 % pruned"
                if name in ("baseline", "q8", "int8full") or name.startswith("q8_m")
                else f"{name[1:3]} % pruned"
            )
            colours.setdefault(key, color(name))
        keys = sorted(colours, key=lambda k: (k[0].isalpha(), int(k.split()[0]) if k[0].isdigit() else 0, k))
        handles += [Line2D([], [], marker="o", color=colours[k], linestyle="none", label=k) for k in keys]
        fig.legend(handles=handles, loc="outside lower center", ncol=6, frameon=False)
    return fig


KB_TICKS = (1, 3, 10, 30, 100, 300, 1000, 3000)


def _kb_axis(ax, sizes_kb) -> None:
    """A log axis of kB with plain labels at 1-3-10 steps (10, 30, 100, 300 ...), minor ticks
    unlabelled: matplotlib's own log labels overprint ('3×4×6×10¹') at this width."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    ax.set_xscale("log")
    lo, hi = min(sizes_kb) / 1.4, max(sizes_kb) * 1.4
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([t for t in KB_TICKS if lo <= t <= hi]))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _point_label(name: str) -> str:
    """A point's label on the figure: '50 % q8', 'q8', '3 q8 members', '1 q8 member', 'single'."""
    if name == "single_q8":
        return "1 q8 member"
    if name.startswith("q8_m"):
        return f"{name[4:]} q8 members"
    if name[:1] == "s" and name[1:3].isdigit():
        return f"{name[1:3]} % {name[4:]}"
    return {"baseline": "float32 ensemble", "single": "1 float32 member", "q8": "0 % q8", "ft_q8": "control q8"}.get(name, name)
