"""Figures for dataset shift: what rotated and corrupted digits look like, and
Ovadia et al. (2019)-style curves of a metric under shift, drawn from results.

The image figures corrupt a handful of digits themselves (with ``helpers.data.shift``, the
same seeds and indices as the evaluation, so they show exactly the evaluated images).
The metric figures only draw: they take a results-like mapping
``{variant: {angle or corruption: value}}`` and, optionally, ``low`` / ``high``
mappings of the same shape (an interval, e.g. the bootstrap CI of results.json's
``<metric>_low`` / ``<metric>_high``). Conventions are those of ``helpers.book.plots``:
its style, colour by sparsity, line style by number format, ``gid`` = variant name on
each variant's line or marker set; every function returns ``(fig, caption)``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from helpers.book.plots import plot_style, sort_variants, variant_color, variant_linestyle
from helpers.core.variants import parse_variant, variant_label
from helpers.data import shift
from helpers.data.corruptions import CORRUPTIONS

__all__ = [
    "corruption_grid",
    "corruption_label",
    "metric_by_corruption",
    "metric_vs_rotation",
    "rotation_strip",
]

# Dot plots have no line style, so the number format is the marker: filled circles for
# int8 weights (the paper's method), open circles for float32, diamonds for full int8.
_MARKERS = {"int8": ("o", True), "float32": ("o", False), "int8full": ("D", True)}
_SINGLE_MARKER = ("s", True)


def corruption_label(name: str) -> str:
    """'impulse_noise' -> 'impulse noise'."""
    return name.replace("_", " ")


def _image_grid(columns: Mapping[str, np.ndarray], titles: Sequence[str]):
    """One column per entry of ``columns`` ({key: (n, 28, 28, 1)}), one row per image."""
    n_rows = len(next(iter(columns.values())))
    fig, axes = plt.subplots(n_rows, len(columns), figsize=(0.72 * len(columns), 0.72 * n_rows + 0.45),
                             squeeze=False, layout="constrained")  # fmt: skip
    for col, ((key, images), title) in enumerate(zip(columns.items(), titles)):
        for row in range(n_rows):
            ax = axes[row, col]
            ax.imshow(images[row, ..., 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_gid(f"{key}/{row}")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title(title, fontsize=7)
    return fig


def _first(x, n_examples: int) -> np.ndarray:
    x = np.asarray(x)
    if isinstance(n_examples, bool) or not isinstance(n_examples, (int, np.integer)) or not 1 <= n_examples <= len(x):
        raise ValueError(f"n_examples={n_examples!r} must be a whole number from 1 to the {len(x)} images given.")
    return x[:n_examples]


def corruption_grid(x, names: Sequence[str] = CORRUPTIONS, n_examples: int = 4, seed: int = 0):
    """The first ``n_examples`` images of x, clean and under each corruption in ``names``.

    One column per corruption (the clean images first), one row per image; ink dark.
    The images are corrupted with ``seed`` and their indices 0..n-1, so they are the
    first images of the evaluated corrupted sets. Returns (fig, caption).
    """
    images = _first(x, n_examples)
    indices = np.arange(len(images))
    columns = {"clean": images} | {name: shift.corrupt(images, name, seed, indices) for name in names}
    titles = [corruption_label(key).replace(" ", "\n", 1) for key in columns]
    with plot_style():
        fig = _image_grid(columns, titles)
    caption = (
        f"The first {len(images)} MNIST test images, clean (left) and under each of "
        f"{len(names)} MNIST-C corruptions at the severity MNIST-C uses; ink is dark."
    )
    return fig, caption


def rotation_strip(x, angles: Sequence = shift.ROTATION_ANGLES, n_examples: int = 2):
    """The first ``n_examples`` images of x turned by each angle, one column per angle.

    Returns (fig, caption).
    """
    images = _first(x, n_examples)
    columns = {f"{angle:g}": shift.rotate(images, angle) for angle in angles}
    with plot_style():
        fig = _image_grid(columns, [f"{key}°" for key in columns])
    caption = (
        f"Rotated MNIST: the first {len(images)} test images turned counter-clockwise by "
        f"{', '.join(columns)} degrees (bilinear interpolation, zeros shifted in at the corners)."
    )
    return fig, caption


# --------------------------------------------------------------- metric under shift


def _intervals(series: Mapping, low: Mapping | None, high: Mapping | None) -> bool:
    """Whether intervals are given; raises if only one bound or an entry is missing."""
    if (low is None) != (high is None):
        given = "low" if high is None else "high"
        raise ValueError(f"Only {given} was given; pass both low and high interval bounds, or neither.")
    if low is None:
        return False
    for bound_name, bound in (("low", low), ("high", high)):
        for variant, values in series.items():
            missing = set(values) - set(bound.get(variant, {}))
            if missing:
                raise ValueError(
                    f"{bound_name}[{variant!r}] lacks {sorted(missing, key=str)}; give an interval bound for "
                    "every point in series, or no intervals."
                )
    return True


def _angle_points(values: Mapping) -> tuple[np.ndarray, list]:
    """Angles as numbers (results.json may hold them as strings), sorted, and their keys."""
    keys = sorted(values, key=float)
    return np.array([float(k) for k in keys]), keys


def metric_vs_rotation(
    series: Mapping[str, Mapping],
    ylabel: str,
    low: Mapping[str, Mapping] | None = None,
    high: Mapping[str, Mapping] | None = None,
    title: str = "Rotated MNIST",
    scale: float = 1.0,
):
    """One line per variant: a metric against the rotation angle (degrees).

    series: {variant: {angle: value}} (angles as numbers or numeric strings); low/high:
    the same shape, drawn as a band around each line; every value drawn times `scale`
    (100 for an accuracy in %). The legend sits beside the axes, off the lines.
    Returns (fig, caption).
    """
    with_intervals = _intervals(series, low, high)
    variants = sort_variants(series)
    with plot_style():
        fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
        all_angles = set()
        for v in variants:
            angles, keys = _angle_points(series[v])
            all_angles.update(angles.tolist())
            ax.plot(angles, [scale * series[v][k] for k in keys], color=variant_color(v), linestyle=variant_linestyle(v),
                    marker="o", markersize=3, label=variant_label(v), gid=v)  # fmt: skip
            if with_intervals:
                ax.fill_between(angles, [scale * low[v][k] for k in keys], [scale * high[v][k] for k in keys],
                                color=variant_color(v), alpha=0.15, linewidth=0, gid=f"{v}/interval")  # fmt: skip
        ax.set_xticks(sorted(all_angles))
        ax.set(xlabel="rotation angle (degrees)", ylabel=ylabel, title=title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    caption = (
        f"{ylabel} of each variant on MNIST test images rotated by each angle (0° is the clean "
        "test set); colour marks sparsity, line style the number format"
        + ("; bands show each value's interval." if with_intervals else ".")
    )
    return fig, caption


def _corruption_order(series: Mapping[str, Mapping]) -> list[str]:
    """MNIST-C's order for known corruptions, then any others as first met."""
    seen = list(dict.fromkeys(name for values in series.values() for name in values))
    known = [name for name in CORRUPTIONS if name in seen]
    return known + [name for name in seen if name not in known]


def _marker(variant: str) -> tuple[str, bool]:
    return _SINGLE_MARKER if variant == "single" else _MARKERS[parse_variant(variant)[1]]


def metric_by_corruption(
    series: Mapping[str, Mapping[str, float]],
    ylabel: str,
    low: Mapping[str, Mapping] | None = None,
    high: Mapping[str, Mapping] | None = None,
    title: str = "Corrupted MNIST",
    scale: float = 1.0,
):
    """A dot plot: one column per corruption, one dot per variant side by side.

    series: {variant: {corruption: value}}; low/high: the same shape, drawn as error
    bars; every value drawn times `scale` (100 for an accuracy in %), the legend below
    the axes, off the dots. Colour marks sparsity; the marker the number format (filled circle int8
    weights, open circle float32, diamond full int8, square the single model).
    Returns (fig, caption).
    """
    with_intervals = _intervals(series, low, high)
    variants = sort_variants(series)
    corruptions = _corruption_order(series)
    position = {name: i for i, name in enumerate(corruptions)}
    spread = 0.7  # width of each corruption's group of dots
    with plot_style():
        fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(corruptions) + 2), 3.8), layout="constrained")
        for i, v in enumerate(variants):
            names = [name for name in corruptions if name in series[v]]
            offset = (i - (len(variants) - 1) / 2) * spread / max(len(variants), 1)
            xs = np.array([position[name] for name in names]) + offset
            ys = scale * np.array([series[v][name] for name in names], dtype=float)
            yerr = None
            if with_intervals:
                lo = scale * np.array([low[v][n] for n in names], dtype=float)
                yerr = np.array([ys - lo, scale * np.array([high[v][n] for n in names], dtype=float) - ys])
            marker, filled = _marker(v)
            color = variant_color(v)
            bars = ax.errorbar(xs, ys, yerr=yerr, linestyle="none", marker=marker, markersize=4.5, color=color,
                               markerfacecolor=color if filled else "white", markeredgecolor=color,
                               elinewidth=1, capsize=0, label=variant_label(v))  # fmt: skip
            bars.lines[0].set_gid(v)
            for collection in bars.lines[2]:
                collection.set_gid(f"{v}/interval")
        ax.set_xticks(range(len(corruptions)), [corruption_label(n) for n in corruptions], rotation=40, ha="right")
        for boundary in np.arange(len(corruptions) - 1) + 0.5:
            ax.axvline(boundary, color="0.9", linewidth=0.8, zorder=0)
        ax.grid(axis="x", visible=False)
        ax.set(xlim=(-0.5, len(corruptions) - 0.5), ylabel=ylabel, title=title)
        fig.legend(loc="outside lower center", ncol=min(4, len(variants)), frameon=False, fontsize=8)
    caption = (
        f"{ylabel} of each variant on each corrupted copy of the MNIST test set; colour marks "
        "sparsity, the marker the number format" + ("; bars show each value's interval." if with_intervals else ".")
    )
    return fig, caption
