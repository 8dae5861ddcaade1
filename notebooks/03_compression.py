# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (cde-book)
#     language: python
#     name: cde-book
# ---

# %% [markdown]
# (compression)=
# # Pruning and quantization
#
# Each trained member is pruned by weight magnitude while it is re-trained, then
# converted to an 8-bit TensorFlow Lite model {cite}`tfmot`. This chapter checks that
# the compression did what it says: the sparsity reached in each layer, and the size of
# every variant next to an information-theoretic lower bound.

# %% tags=["parameters", "remove-cell"]
profile = "paper"
ensemble_size = None
epochs = None
retrain_epochs = None
batch_size = None
learning_rate = None
validation_split = None
sparsities = None
seed = None
train_subset = None
test_subset = None
ood_subset = None

# %% tags=["remove-cell"]
import math

import pandas as pd
from myst_nb import glue

from helpers import chapter, compression, plots, tables
from helpers.variants import int8_variants, variants
from helpers.ensemble import split_validation

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
cfg = exp.config
pruned = {s: exp.pruned(s) for s in cfg.sparsities}
sizes = exp.sizes()
(x_fit, _), _ = split_validation(*exp.train_data, cfg.validation_split)
timings = exp.store.manifest().get("timings", {})

curves = {s: compression.schedule_curve(cfg, s, len(x_fit)) for s in cfg.sparsities}
fig, cap = plots.sparsity_schedules(curves)
chapter.glue_figure("schedule", fig, exp)
chapter.glue_text("schedule_caption", cap)
schedule = compression.pruning_schedule(cfg, cfg.sparsities[0], len(x_fit))
chapter.glue_text("steps_per_epoch", f"{math.ceil(len(x_fit) / cfg.batch_size):,}")
chapter.glue_text("retrain_epochs", str(cfg.retrain_epochs))
chapter.glue_text("end_step", f"{int(schedule.end_step):,}")
chapter.glue_text("frequency", str(int(schedule.frequency)))
chapter.glue_text("pruning_minutes", f"{timings.get('pruning', float('nan')) / 60:.1f}")

# %% [markdown]
# ## The pruning schedule
#
# Following the toolkit's recipe, pruning starts from the trained member (it is not
# trained sparse from scratch): `prune_low_magnitude` wraps each convolution and dense
# kernel, and a polynomial schedule raises the target sparsity from 0 to its final
# value while the member re-trains for {glue:text}`retrain_epochs` epochs of
# {glue:text}`steps_per_epoch` steps. Every {glue:text}`frequency` steps the smallest
# weights (by magnitude) of each layer are masked to zero, until step
# {glue:text}`end_step`, where the final sparsity is reached; the mask then stays fixed
# while training continues. Biases are not pruned. The pruning of all sparsities took
# {glue:text}`pruning_minutes` minutes here.
#
# ```{glue:figure} schedule
# :name: schedule
# {glue:text}`schedule_caption`
# ```

# %% tags=["remove-cell"]
rows = compression.layer_sparsity_table(pruned)
sparsity_frame = pd.DataFrame(rows)
worst = float((sparsity_frame[["min", "max"]].sub(sparsity_frame["target"], axis=0)).abs().max().max())
display_frame = pd.DataFrame({
    "Target": [f"{r['target']:.0%}" for r in rows],
    "Layer": [r["layer"] for r in rows],
    "Kernel sparsity, mean over members (%)": [f"{100 * r['mean']:.2f}" for r in rows],
    "min - max (%)": [f"{100 * r['min']:.2f} - {100 * r['max']:.2f}" for r in rows],
}).set_index(["Target", "Layer"])
glue("layer_sparsity", display_frame, display=False)
chapter.glue_text("worst_sparsity_gap", f"{100 * worst:.2f} pp")

# %% [markdown]
# ## Sparsity reached
#
# Counting the exact zeros in every kernel of every member after `strip_pruning`, each
# layer ends within {glue:text}`worst_sparsity_gap` of its target (the residue is the
# rounding of target × kernel size to a whole number of weights).
#
# (layer-sparsity)=
# **Table 3.** Measured kernel sparsity per layer, over the members.
#
# ```{glue:} layer_sparsity
# ```

# %% tags=["remove-cell"]
order = [v["name"] for v in variants(cfg)]
size_frame = pd.DataFrame({
    "Variant": [plots.variant_label(n) for n in order],
    "Zipped ensemble (kB)": [f"{sizes[n]['zipped_bytes'] / tables.BYTES_PER_KB:,.1f}" for n in order],
    "Compression ratio (×)": [f"{sizes[n]['compression_ratio']:.2f}" for n in order],
    "Lower bound (kB)": [f"{sizes[n]['lower_bound_bytes'] / tables.BYTES_PER_KB:,.1f}"
                         if "lower_bound_bytes" in sizes[n] else tables.MISSING for n in order],
    "Zipped / bound (×)": [f"{sizes[n]['zipped_bytes'] / sizes[n]['lower_bound_bytes']:.2f}"
                           if "lower_bound_bytes" in sizes[n] else tables.MISSING for n in order],
    "Zipped .keras (kB)": [f"{sizes[n]['keras_zipped_bytes'] / tables.BYTES_PER_KB:,.1f}"
                           if "keras_zipped_bytes" in sizes[n] else tables.MISSING for n in order],
}).set_index("Variant")
glue("size_table", size_frame, display=False)
q8 = int8_variants(cfg)
chapter.glue_text("baseline_kb", f"{sizes['baseline']['zipped_bytes'] / tables.BYTES_PER_KB:,.1f} kB")
chapter.glue_text("q8_ratio", f"{sizes['q8']['compression_ratio']:.2f}×")
chapter.glue_text("q8_ratios", ", ".join(f"{sizes[n]['compression_ratio']:.1f}× at {s:.0%}"
                                          for n, s in zip(q8, cfg.sparsities)))
chapter.glue_text("bound_gap_range", "{:.1f}× to {:.1f}×".format(
    min(sizes[n]["zipped_bytes"] / sizes[n]["lower_bound_bytes"] for n in q8),
    max(sizes[n]["zipped_bytes"] / sizes[n]["lower_bound_bytes"] for n in q8)))

# %% [markdown]
# ## Sizes
#
# Sizes are measured the way the toolkit's guides measure them: each member's model file
# is put into a ZIP archive (deflate), and the archives are summed over the ensemble. The
# float32 baseline ensemble takes {glue:text}`baseline_kb` as TFLite files. Quantizing
# the weights to int8 alone shrinks it {glue:text}`q8_ratio`; with pruning the ratios
# are {glue:text}`q8_ratios`. Zeros only save space after compression (TFLite stores a
# pruned kernel densely, and deflate then squeezes the runs of zeros), so the ratio
# grows more slowly than the sparsity.
#
# The *lower bound* is what an ideal entropy coder would need for the same numbers: per
# kernel, the entropy of its zero/non-zero mask plus the entropy of its non-zero int8
# values, plus 32 bits for each remaining float (biases, quantization scales); it
# ignores the graph and metadata that every TFLite file carries. The zipped int8 files
# are {glue:text}`bound_gap_range` larger than this bound, so a sparse format or a
# better coder could still shrink the ensemble substantially.
#
# (size-table)=
# **Table 4.** Zipped size of every variant's ensemble, compression ratio against the
# float32 TFLite baseline, and the lower bound.
#
# ```{glue:} size_table
# ```
