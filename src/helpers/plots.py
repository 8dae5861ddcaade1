"""The book's figures (seaborn theme on matplotlib): confidence curves, uncertainty, extras.

Visual conventions, the same in every figure:

- Colour encodes sparsity (Okabe-Ito, colour-blind safe): 0 % black, 25 % blue,
  50 % bluish green, 75 % orange, 95 % vermillion; the single model reddish purple.
- Line style / fill encodes the number format: int8 solid (filled boxes), float32
  dashed (hatched boxes), full-integer int8 dash-dot; the single model dotted.
  So "baseline" (float32) and "q8" (int8) share black and differ by line style.

Every figure function takes plain arrays (no TensorFlow), draws inside ``plot_style()``
and returns ``(fig, caption)``; every line or box carries ``gid`` = the variant name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import to_hex, to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from helpers import metrics
from helpers.variants import parse_variant

# ------------------------------------------------------------------------ variants, styles

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}  # fmt: skip

SPARSITY_COLORS = {
    0.0: OKABE_ITO["black"],
    0.25: OKABE_ITO["blue"],
    0.5: OKABE_ITO["bluish_green"],
    0.75: OKABE_ITO["orange"],
    0.95: OKABE_ITO["vermillion"],
}
SINGLE_COLOR = OKABE_ITO["reddish_purple"]

LINESTYLES = {"int8": "-", "float32": "--", "int8full": "-.", "single": ":"}
BOX_HATCH = {"single": "....", "float32": "////", "int8": None, "int8full": "xxxx"}  # float: white face
_KIND_NAMES = {"int8": "int8 weights", "float32": "float32", "int8full": "full int8", "single": "single model"}

TAU = 0.9


def _kind(name: str) -> str:
    return "single" if name == "single" else parse_variant(name)[1]


def variant_color(variant: str) -> str:
    """Hex colour of a variant: fixed by its sparsity (cividis for unlisted sparsities)."""
    if variant == "single":
        return SINGLE_COLOR
    return sparsity_color(parse_variant(variant)[0])


def sparsity_color(sparsity: float) -> str:
    """Hex colour of a sparsity (fraction): Okabe-Ito for the paper's, cividis otherwise."""
    if sparsity in SPARSITY_COLORS:
        return SPARSITY_COLORS[sparsity]
    return to_hex(plt.get_cmap("cividis")(sparsity))


def variant_linestyle(variant: str) -> str:
    """Line style of a variant: int8 '-', float32 '--', full int8 '-.', single ':'."""
    return LINESTYLES[_kind(variant)]


def variant_label(variant: str) -> str:
    """Readable legend text, e.g. 's50_q8' -> '50 % pruned, int8 weights'."""
    if variant == "single":
        return "single model (float32)"
    if variant == "baseline":
        return "baseline ensemble (float32)"
    sparsity, quant = parse_variant(variant)
    return f"{sparsity * 100:.0f} % pruned, {_KIND_NAMES[quant]}"


def sort_variants(names) -> list[str]:
    """Order variants by sparsity, then single / float32 / int8 / full int8."""
    order = ("single", "float32", "int8", "int8full")
    return sorted(names, key=lambda v: (parse_variant(v)[0], order.index(_kind(v))))


# ------------------------------------------------------------------------- style and I/O

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "svg.hashsalt": "cde",  # deterministic SVG ids
    "lines.linewidth": 1.6,
}


@contextlib.contextmanager
def plot_style():
    """Context with the book's seaborn theme (whitegrid, paper context) and font sizes."""
    with sns.axes_style("whitegrid"), sns.plotting_context("paper"), plt.rc_context(RC):
        yield


def set_style() -> None:
    """Apply the same style globally (for notebooks that draw their own figures)."""
    sns.set_theme(context="paper", style="whitegrid", rc=RC)


def save_figure(fig, path_without_suffix) -> tuple[Path, Path]:
    """Write ``<path>.png`` (150 dpi) and ``<path>.svg`` atomically; returns their paths.

    Each file is written to a temporary file in the target folder, then ``os.replace``d,
    so an interrupted run never leaves a half-written figure. Metadata dates are omitted
    so re-running gives identical SVG files.
    """
    base = Path(path_without_suffix)
    if base.suffix.lower() in (".png", ".svg", ".pdf"):
        raise ValueError(
            f"path_without_suffix is {str(base)!r}; expected a path without a file suffix, e.g. 'figures/fig1'."
        )
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
        target = base.with_name(base.name + "." + fmt)
        fd, tmp = tempfile.mkstemp(dir=base.parent, prefix=f".{base.name}.", suffix=f".{fmt}.tmp")
        try:
            with os.fdopen(fd, "wb") as handle, plt.rc_context(RC):
                fig.savefig(handle, format=fmt, metadata=metadata)
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; figures are published
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        paths.append(target)
    return paths[0], paths[1]


def _pct(x):
    return np.asarray(x) * 100


def _line(ax, x, y, variant, **kwargs):
    return ax.plot(x, y, color=variant_color(variant), linestyle=variant_linestyle(variant),
                   label=variant_label(variant), gid=variant, **kwargs)[0]  # fmt: skip


# -------------------------------------------------------------------------------- Figure 1


def _tau_table(ax, variants, columns, tau):
    """Draw a small table of the values at tau; row labels coloured like the lines."""
    ax.axis("off")
    cells = [[f"{col[v]:.1f}" for col in columns.values()] for v in variants]
    table = ax.table(cellText=cells, rowLabels=[variant_label(v) for v in variants], colLabels=list(columns),
                     loc="upper center", cellLoc="right", colWidths=[0.16] * len(columns))  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width([-1])
    table.scale(1.0, 1.3)
    for i, v in enumerate(variants, start=1):
        table[i, -1].get_text().set_color(variant_color(v))
        table[i, -1].get_text().set_fontweight("bold")
    for cell in table.get_celld().values():
        cell.set_edgecolor("#cccccc")
    ax.set_title(f"Values at τ = {tau:g}", fontsize=9)
    return table


def figure1_confidence_curves(mnist: Mapping, notmnist: Mapping, tau: float = TAU):
    """Figure 1: confidence curves on MNIST (in-distribution) and NotMNIST (OOD).

    mnist: {variant: (probs (N, K), labels (N,))}; notmnist: {variant: probs (N', K)}.
    Panels: (a) MNIST fraction with confidence >= tau, (b) MNIST accuracy on those samples,
    (c) NotMNIST fraction with confidence >= tau; a dashed grey vertical line marks tau in
    each panel, and a table below gives every variant's values at tau (in %).
    Returns (fig, caption).
    """
    variants = sort_variants(set(mnist) | set(notmnist))
    taus = np.linspace(0.0, 1.0, 101)
    at_tau = {"MNIST classified (%)": {}, "MNIST accuracy (%)": {}, "NotMNIST classified (%)": {}}
    with plot_style():
        fig = plt.figure(figsize=(11, 6.6), layout="constrained")
        grid = fig.add_gridspec(2, 3, height_ratios=[3, 0.22 * len(variants) + 0.45])
        axes = [fig.add_subplot(grid[0, i]) for i in range(3)]
        for v in variants:
            if v in mnist:
                curve, point = (metrics.confidence_curve(*mnist[v], thresholds=t) for t in (taus, [tau]))
                _line(axes[0], taus, _pct(curve.fraction), v)
                _line(axes[1], taus, _pct(curve.accuracy), v)
                at_tau["MNIST classified (%)"][v] = 100 * point.fraction[0]
                at_tau["MNIST accuracy (%)"][v] = 100 * point.accuracy[0]
            if v in notmnist:
                curve, point = (metrics.confidence_curve(notmnist[v], thresholds=t) for t in (taus, [tau]))
                _line(axes[2], taus, _pct(curve.fraction), v)
                at_tau["NotMNIST classified (%)"][v] = 100 * point.fraction[0]
        titles = ["(a) MNIST: samples classified", "(b) MNIST: accuracy of classified",
                  "(c) NotMNIST: samples classified"]  # fmt: skip
        fraction = "fraction of samples with confidence ≥ τ (%)"
        for ax, title, ylabel in zip(axes, titles, [fraction, "accuracy on those samples (%)", fraction]):
            ax.axvline(tau, color="0.5", linestyle=(0, (2, 2)), linewidth=1, gid="tau", label="_tau")
            ax.set(title=title, xlabel="confidence threshold τ", ylabel=ylabel, xlim=(0, 1))
        for ax in (axes[0], axes[2]):
            ax.set_ylim(0, 102)
        handles, labels = axes[0].get_legend_handles_labels()
        if not handles:
            handles, labels = axes[2].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=min(4, len(handles)), frameon=False)
        filled = {k: v for k, v in at_tau.items() if len(v) == len(variants)}
        if filled:
            _tau_table(fig.add_subplot(grid[1, :]), variants, filled, tau)
    return fig, _figure1_caption(at_tau, tau)


def _figure1_caption(at_tau, tau) -> str:
    text = (
        "Confidence curves: for each confidence threshold τ, the share of samples whose ensemble "
        "confidence (maximum mean probability) is at least τ, on MNIST (a) and NotMNIST (c), and "
        "the accuracy on the MNIST samples kept (b); colour marks sparsity, line style the "
        f"number format, the dashed grey line τ = {tau:g}, and the table each variant's values there."
    )
    mn, nm = at_tau["MNIST classified (%)"], at_tau["NotMNIST classified (%)"]
    if mn and nm:
        text += (
            f" At τ = {tau:g} the variants keep {min(mn.values()):.1f}–{max(mn.values()):.1f} % of "
            f"MNIST and {min(nm.values()):.1f}–{max(nm.values()):.1f} % of NotMNIST samples."
        )
    return text


# -------------------------------------------------------------------------------- Figure 2


def _slots(variants):
    """x position of each variant: one slot per sparsity, dodged by number format within it."""
    sparsities = sorted({parse_variant(v)[0] for v in variants})
    order = ("single", "float32", "int8", "int8full")
    kinds = [k for k in order if any(_kind(v) == k for v in variants)]
    width = 0.8 / max(sum(parse_variant(v)[0] == s for v in variants) for s in sparsities)
    x = {}
    for slot, s in enumerate(sparsities):
        here = sorted((v for v in variants if parse_variant(v)[0] == s), key=lambda v: order.index(_kind(v)))
        for i, v in enumerate(here):
            x[v] = slot + (i - (len(here) - 1) / 2) * width
    return sparsities, kinds, width, x


def _box_style(kind: str, color) -> dict:
    """Fill and hatch of a box by number format: float32 / single white and hatched, int8 tinted."""
    float_like = kind in ("float32", "single")
    face = (1.0, 1.0, 1.0, 1.0) if float_like else (*to_rgb(color), 0.35)
    return {"facecolor": face, "edgecolor": color, "hatch": BOX_HATCH[kind]}


def _box(ax, values, x, width, variant):
    """One box (quartiles, whiskers at the 5th/95th percentiles) in the variant's style."""
    color = variant_color(variant)
    parts = ax.boxplot([values], positions=[x], widths=width * 0.8, whis=(5, 95), showfliers=False,
                       patch_artist=True, manage_ticks=False)  # fmt: skip
    box = parts["boxes"][0]
    box.set(linewidth=1.2, gid=variant, **_box_style(_kind(variant), color))
    for key in ("whiskers", "caps", "medians"):
        for artist in parts[key]:
            artist.set(color=color, linewidth=1.2)
    return box


def _uncertainty_panel(ax, values_by_variant, ylabel, n_boot):
    variants = sort_variants(values_by_variant)
    sparsities, kinds, width, x = _slots(variants)
    means = {}
    for v in variants:
        values = np.asarray(values_by_variant[v], dtype=np.float64)
        _box(ax, values, x[v], width, v)
        ci = metrics.bootstrap_ci(np.mean, values, n=n_boot)
        means[v] = ci
        yerr = [[ci.estimate - ci.low], [ci.high - ci.estimate]]
        bars = ax.errorbar(x[v], ci.estimate, yerr=yerr, fmt="D", color=variant_color(v),
                           markeredgecolor="white", markersize=5, capsize=3, zorder=5)  # fmt: skip
        bars.lines[0].set_gid(f"mean:{v}")
    for kind in kinds:  # connect the means of one number format across sparsities
        series = [v for v in variants if _kind(v) == kind]
        if len(series) > 1:
            ax.plot([x[v] for v in series], [means[v].estimate for v in series], color="0.35",
                    linestyle=LINESTYLES[kind], linewidth=1, zorder=4, gid=f"trend:{kind}")  # fmt: skip
    ax.set_xticks(range(len(sparsities)), [f"{s * 100:.0f}" for s in sparsities])
    ax.set(xlabel="sparsity (%)", ylabel=ylabel, xlim=(-0.6, len(sparsities) - 0.4))
    ax.set_ylim(bottom=0)
    return means


def figure2_uncertainty(entropy: Mapping, disagreement: Mapping, n_boot: int = 1000):
    """Figure 2: per-sample entropy and disagreement on NotMNIST, by sparsity.

    entropy, disagreement: {variant: per-sample values (N,)} in nats. Two panels; x is the
    sparsity (ordered), each variant a box (quartiles, whiskers 5th-95th percentiles, no
    outliers) coloured by sparsity, hatched for float32, with its mean and 95 % bootstrap
    CI as a diamond; grey lines join the means of one number format.
    Returns (fig, caption).
    """
    with plot_style():
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
        ent = _uncertainty_panel(axes[0], entropy, "predictive entropy (nats)", n_boot)
        dis = _uncertainty_panel(axes[1], disagreement, "disagreement, mean KL to ensemble (nats)", n_boot)
        axes[0].set_title("(a) NotMNIST: entropy of the ensemble prediction")
        axes[1].set_title("(b) NotMNIST: disagreement between members")
        kinds = [k for k in BOX_HATCH if any(_kind(v) == k for v in {*entropy, *disagreement})]
        handles = [Patch(label=_KIND_NAMES[k], **_box_style(k, "0.3")) for k in kinds]
        handles.append(Line2D([], [], marker="D", color="0.3", linestyle="none", label="mean, 95 % CI"))
        fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), frameon=False)
    return fig, _figure2_caption(ent, dis)


def _trend(name: str, means: Mapping[str, metrics.CI]) -> str:
    """A computed sentence on how the int8 series' mean changes with sparsity."""
    series = [v for v in sort_variants(means) if _kind(v) == "int8"] or sort_variants(means)
    if len(series) < 2:
        return ""
    values = [means[v].estimate for v in series]
    lo, hi = parse_variant(series[0])[0] * 100, parse_variant(series[-1])[0] * 100
    steps = np.diff(values)
    if (steps > 0).all():
        shape = "rises at every step"
    elif (steps < 0).all():
        shape = "falls at every step"
    else:
        shape = "does not change monotonically"
    return (
        f" Mean {name} goes from {values[0]:.3f} nats at {lo:.0f} % to {values[-1]:.3f} nats "
        f"at {hi:.0f} % sparsity and {shape}."
    )


def _figure2_caption(ent, dis) -> str:
    return (
        "Uncertainty on NotMNIST by sparsity: boxes span the quartiles, whiskers the 5th–95th "
        "percentiles, diamonds the mean with its 95 % bootstrap interval; colour marks sparsity "
        "and fill or hatching the number format (tinted: int8 weights; white, hatched: float32)."
        + _trend("entropy", ent)
        + _trend("disagreement", dis)
    )


# ------------------------------------------------------------------------------ extensions


def reliability_diagram(probs_by_variant: Mapping, labels, n_bins: int = 15):
    """Reliability diagram: accuracy vs mean confidence per confidence bin, and bin counts.

    probs_by_variant: {variant: probs (N, K)}; labels: (N,). Top panel one line per
    variant plus the diagonal (perfect calibration); bottom panel the number of samples
    per bin (log scale). Returns (fig, caption).
    """
    variants = sort_variants(probs_by_variant)
    eces = {}
    with plot_style():
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, height_ratios=[3, 1], layout="constrained")
        top.plot([0, 100], [0, 100], color="0.6", linewidth=1, linestyle=(0, (2, 2)), gid="diagonal",
                 label="perfect calibration")  # fmt: skip
        for v in variants:
            bins = metrics.calibration_bins(probs_by_variant[v], labels, n_bins)
            full = bins.count > 0
            eces[v] = metrics.ece(probs_by_variant[v], labels, n_bins)
            _line(top, _pct(bins.confidence[full]), _pct(bins.accuracy[full]), v, marker="o", markersize=3)
            centers = (bins.edges[:-1] + bins.edges[1:]) / 2
            _line(bottom, _pct(centers[full]), bins.count[full], v, marker="o", markersize=3)
        top.set(ylabel="accuracy in bin (%)", xlim=(0, 100), ylim=(0, 100), title="Reliability diagram")
        bottom.set(xlabel="mean confidence in bin (%)", ylabel="samples per bin", yscale="log")
        fig.legend(*top.get_legend_handles_labels(), loc="outside right upper", frameon=False)
    caption = (
        f"Reliability diagram with {n_bins} equal-width confidence bins: points below the diagonal "
        f"are over-confident; the expected calibration error ranges from {100 * min(eces.values()):.2f} "
        f"to {100 * max(eces.values()):.2f} %."
    )
    return fig, caption


def ood_roc_curves(scores_in: Mapping, scores_out: Mapping, score_name: str = "entropy"):
    """ROC curves for detecting NotMNIST (positives) among MNIST (negatives).

    scores_in, scores_out: {variant: per-sample uncertainty scores (N,)}; the legend gives
    each variant's AUROC; a dotted line marks 95 % TPR. Returns (fig, caption).
    """
    variants = sort_variants(set(scores_in) & set(scores_out))
    results = {}
    with plot_style():
        fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
        ax.plot([0, 100], [0, 100], color="0.6", linewidth=1, linestyle=(0, (2, 2)), gid="chance", label="chance")
        ax.axhline(95, color="0.6", linewidth=0.8, linestyle=":", gid="tpr95", label="_tpr95")
        ax.annotate("95 % TPR", (99, 95), xytext=(0, -3), textcoords="offset points", ha="right", va="top",
                    color="0.4", fontsize=7)  # fmt: skip
        for v in variants:
            fpr, tpr = metrics.ood_roc(scores_in[v], scores_out[v])
            results[v] = metrics.ood_scores_from_scores(scores_in[v], scores_out[v])
            line = _line(ax, _pct(fpr), _pct(tpr), v)
            line.set_label(f"{variant_label(v)} (AUROC {results[v]['auroc']:.3f})")
        ax.set(xlabel="false-positive rate: MNIST flagged (%)", ylabel="true-positive rate: NotMNIST flagged (%)",
               xlim=(0, 100), ylim=(0, 101), title=f"OOD detection by {score_name}")  # fmt: skip
        ax.legend(loc="lower right", frameon=True)
    aurocs = [r["auroc"] for r in results.values()]
    caption = (
        f"ROC curves for flagging NotMNIST images as out-of-distribution by {score_name}; "
        f"AUROC ranges from {min(aurocs):.3f} to {max(aurocs):.3f} across variants."
    )
    return fig, caption


# ------------------------------------------------------------------- chapter 1-3 figures


def sample_grid(x, y, class_names, per_class: int = 8, title: str = ""):
    """The first `per_class` images of each class, one row per class.

    x: (N, 28, 28, 1) or (N, 28, 28) in [0, 1]; y: (N,) ints indexing `class_names`.
    Returns (fig, caption).
    """
    x = np.asarray(x).reshape(len(x), 28, 28)
    y = np.asarray(y)
    with plot_style():
        fig, axes = plt.subplots(len(class_names), per_class,
                                 figsize=(per_class * 0.55, len(class_names) * 0.55))
        for row, name in enumerate(class_names):
            idx = np.flatnonzero(y == row)[:per_class]
            for col in range(per_class):
                ax = axes[row, col]
                ax.axis("off")
                if col < len(idx):
                    ax.imshow(x[idx[col]], cmap="gray_r", vmin=0, vmax=1)
            axes[row, 0].text(-6, 14, str(name), ha="right", va="center", fontsize=8)
        if title:
            fig.suptitle(title, fontsize=10)
    caption = f"{title}: the first {per_class} images of each class, as the models see them (28 × 28 pixels, ink dark)."
    return fig, caption


def learning_curves(histories: Sequence[Sequence[Mapping]]):
    """Per-member training and validation loss and accuracy per epoch.

    histories[m][e] = {"loss", "accuracy", "val_loss", "val_accuracy"}. Returns (fig, caption).
    """
    with plot_style():
        fig, axes = plt.subplots(1, 2, figsize=(8, 3))
        for key, ax, label in (("loss", axes[0], "NLL (nats)"), ("accuracy", axes[1], "accuracy (%)")):
            scale = 100 if key == "accuracy" else 1
            for m, hist in enumerate(histories):
                epochs = np.arange(1, len(hist) + 1)
                color = sns.color_palette("colorblind")[m % 10]
                ax.plot(epochs, [scale * h[key] for h in hist], color=color, ls="-",
                        label=f"member {m} train" if m == 0 else None)
                if all(f"val_{key}" in h for h in hist):
                    ax.plot(epochs, [scale * h[f"val_{key}"] for h in hist], color=color, ls="--",
                            label=f"member {m} validation" if m == 0 else None)
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
        axes[0].legend(["training (solid)", "validation (dashed)"], loc="upper right")
        fig.tight_layout()
    caption = ("Learning curves of each ensemble member (one colour per member): training (solid) and "
               "validation (dashed) loss and accuracy per epoch.")
    return fig, caption


def members_vs_ensemble(member_acc: Sequence[float], ensemble_acc: Sequence[float]):
    """Accuracy of each member alone and of the ensemble of the first k members, k = 1..M.

    Accuracies are fractions. Returns (fig, caption).
    """
    k = np.arange(1, len(ensemble_acc) + 1)
    with plot_style():
        fig, ax = plt.subplots(figsize=(4.5, 3))
        ax.plot(k, 100 * np.asarray(ensemble_acc), marker="o", color=OKABE_ITO["black"],
                label="ensemble of members 1..k")
        ax.scatter(np.arange(1, len(member_acc) + 1), 100 * np.asarray(member_acc),
                   color=SINGLE_COLOR, marker="x", label="member k alone", zorder=3)
        ax.set_xticks(k)
        ax.set_xlabel("number of members k")
        ax.set_ylabel("MNIST test accuracy (%)")
        ax.legend(loc="lower right")
        fig.tight_layout()
    caption = "MNIST test accuracy of each member alone and of the ensemble as members are added."
    return fig, caption


def sparsity_schedules(schedules: Mapping[float, tuple]):
    """Target sparsity per re-training step for each final sparsity.

    schedules: {final sparsity: (steps, sparsity per step)}. Returns (fig, caption).
    """
    with plot_style():
        fig, ax = plt.subplots(figsize=(4.5, 3))
        for final, (steps, values) in sorted(schedules.items()):
            ax.plot(steps, 100 * np.asarray(values), color=sparsity_color(final),
                    label=f"{final:.0%}")
        ax.set_xlabel("re-training step")
        ax.set_ylabel("target sparsity (%)")
        ax.legend(title="final sparsity")
        fig.tight_layout()
    caption = ("Pruning schedule (polynomial decay from 0 to the final sparsity): the sparsity the mask "
               "is updated to at each re-training step.")
    return fig, caption
