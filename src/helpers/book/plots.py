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
import io
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from helpers.core.fileio import atomic_write_bytes
from helpers.core.variants import is_control, parse_variant, variant_label  # noqa: F401 (re-exported)

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

CONTROL_COLOR = "#7f7f7f"  # the re-training control: grey, apart from every sparsity


def _kind(name: str) -> str:
    return "single" if name == "single" else parse_variant(name)[1]


def variant_color(variant: str) -> str:
    """Hex colour of a variant: fixed by its sparsity (cividis for unlisted sparsities)."""
    if variant == "single":
        return SINGLE_COLOR
    if is_control(variant):
        return CONTROL_COLOR
    return sparsity_color(parse_variant(variant)[0])


def sparsity_color(sparsity: float) -> str:
    """Hex colour of a sparsity (fraction): Okabe-Ito for the paper's, cividis otherwise."""
    if sparsity in SPARSITY_COLORS:
        return SPARSITY_COLORS[sparsity]
    return to_hex(plt.get_cmap("cividis")(sparsity))


def variant_linestyle(variant: str) -> str:
    """Line style of a variant: int8 '-', float32 '--', full int8 '-.', single ':'."""
    return LINESTYLES[_kind(variant)]


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
        raise ValueError(f"path_without_suffix is {str(base)!r}; expected a path without a file suffix, e.g. 'figures/fig1'.")
    paths = []
    for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
        target = base.with_name(base.name + "." + fmt)
        buf = io.BytesIO()
        with plt.rc_context(RC):
            fig.savefig(buf, format=fmt, metadata=metadata)
        atomic_write_bytes(target, buf.getvalue())  # published: the umask's mode, not mkstemp's 0600
        paths.append(target)
    return paths[0], paths[1]


def _pct(x):
    return np.asarray(x) * 100


def _line(ax, x, y, variant, **kwargs):
    return ax.plot(x, y, color=variant_color(variant), linestyle=variant_linestyle(variant),
                   label=variant_label(variant), gid=variant, **kwargs)[0]  # fmt: skip


# -------------------------------------------------------------------------------- Figure 1


# -------------------------------------------------------------------------------- Figure 2


# ------------------------------------------------------------------------------ extensions


# ------------------------------------------------------------------- chapter 1-3 figures


def sample_grid(x, y, class_names, per_class: int = 8, title: str = ""):
    """The first `per_class` images of each class, one row per class.

    x: (N, 28, 28, 1) or (N, 28, 28) in [0, 1]; y: (N,) ints indexing `class_names`.
    Returns (fig, caption).
    """
    x = np.asarray(x).reshape(len(x), 28, 28)
    y = np.asarray(y)
    with plot_style():
        fig, axes = plt.subplots(len(class_names), per_class, figsize=(per_class * 0.55, len(class_names) * 0.55))
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


def budget_axis(key: str, title: str) -> tuple[float, str]:
    """How a memory-budget panel shows its metric: the ECE in percent, as every table of
    the book prints it; the rest as stored (nats, AUROC)."""
    return (100.0, f"{title} (%)") if key == "ece" else (1.0, title)


def budget_point(summary, name: str, dataset: str, key: str, scale: float = 1.0) -> tuple[float, dict]:
    """One ensemble on a memory-budget panel: its mean zipped size over seeds in kB, and its
    metric's mean and 95 % interval over seeds ({"mean", "low", "high"}) times `scale`
    (None where a bound is missing). What the static and the interactive figure both draw."""
    stat = summary.stat(name, dataset, key)
    shown = {k: (None if stat[k] is None else scale * stat[k]) for k in ("mean", "low", "high")}
    return summary.mean(name, None, "zipped_bytes") / 1000, shown


def learning_curves(histories: Sequence[Sequence[Mapping]]):
    """Per-member training and validation loss and accuracy per epoch.

    histories[m][e] = {"loss", "accuracy", "val_loss", "val_accuracy"}. Returns (fig, caption).
    """
    with plot_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
        for key, ax, label in (("loss", axes[0], "NLL (nats)"), ("accuracy", axes[1], "accuracy (%)")):
            scale = 100 if key == "accuracy" else 1
            for m, hist in enumerate(histories):
                epochs = np.arange(1, len(hist) + 1)
                color = sns.color_palette("colorblind")[m % 10]
                ax.plot(
                    epochs, [scale * h[key] for h in hist], color=color, ls="-", label=f"member {m} train" if m == 0 else None
                )
                if all(f"val_{key}" in h for h in hist):
                    ax.plot(
                        epochs,
                        [scale * h[f"val_{key}"] for h in hist],
                        color=color,
                        ls="--",
                        label=f"member {m} validation" if m == 0 else None,
                    )
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
        palette = sns.color_palette("colorblind")
        handles = [Line2D([], [], color=palette[m % 10], label=f"member {m}") for m in range(len(histories))]
        handles += [
            Line2D([], [], color="0.3", ls="-", label="training"),
            Line2D([], [], color="0.3", ls="--", label="validation"),
        ]
        fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=8)
    caption = (
        "Learning curves of each ensemble member (one colour per member): training (solid) and "
        "validation (dashed) loss and accuracy per epoch."
    )
    return fig, caption


def members_vs_ensemble(member_acc: Sequence[float], ensemble_acc: Sequence[float]):
    """Accuracy of each member alone and of the ensemble of the first k members, k = 1..M.

    Accuracies are fractions. Returns (fig, caption).
    """
    k = np.arange(1, len(ensemble_acc) + 1)
    with plot_style():
        fig, ax = plt.subplots(figsize=(4.5, 3))
        ax.plot(k, 100 * np.asarray(ensemble_acc), marker="o", color=OKABE_ITO["black"], label="ensemble of members 1..k")
        ax.scatter(
            np.arange(1, len(member_acc) + 1),
            100 * np.asarray(member_acc),
            color=SINGLE_COLOR,
            marker="x",
            label="member k alone",
            zorder=3,
        )
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
            ax.plot(steps, 100 * np.asarray(values), color=sparsity_color(final), label=f"{final:.0%}")
        ax.set_xlabel("re-training step")
        ax.set_ylabel("target sparsity (%)")
        ax.legend(title="final sparsity")
        fig.tight_layout()
    caption = (
        "Pruning schedule (polynomial decay from 0 to the final sparsity): the sparsity the mask "
        "is updated to at each re-training step."
    )
    return fig, caption
