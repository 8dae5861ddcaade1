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
# Each trained member is pruned by weight magnitude while it is re-trained, then converted
# to an 8-bit TensorFlow Lite model {cite:p}`tfmot`. This chapter checks that the
# compression did what it says: the sparsity reached in each layer, and the size of every
# variant next to an information-theoretic lower bound. All sparsities and the re-training
# control are re-trained together, in one graph of M × (S + 1) members (the test suite
# checks that this equals re-training each alone).
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - Every pruned layer ends within {glue:text}`worst_sparsity_gap` of its target sparsity.
# - Quantizing the weights to int8 alone shrinks the zipped ensemble {glue:text}`q8_ratio`.
# - {glue:text}`encoding_goals`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
import pandas as pd

from helpers.book import chapter, plots, prose, report
from helpers.core import fmt
from helpers.core.variants import int8_variants, variants
from helpers.engine import encodings

view = chapter.setup(profile, **chapter.overrides(globals()))
R, cfg, q8 = view.results, view.config, int8_variants(view.config)

# %%
sch = R["schedule"]
fig, _ = plots.sparsity_schedules({float(s): (c["step"], c["sparsity"]) for s, c in sch["curves"].items()})
chapter.glue_figure("schedule", fig, view)
for key in ("steps_per_epoch", "frequency", "end_step"):
    chapter.glue_text(key, f"{sch[key]:,}")
total_steps = max(c["step"][-1] for c in sch["curves"].values())  # the last re-training step
chapter.glue_text("total_steps", f"{total_steps:,}")
chapter.glue_text("fixed_steps", f"{total_steps - sch['end_step']:,}")
chapter.glue_text("fixed_share", fmt.pct((total_steps - sch["end_step"]) / total_steps, 1))
chapter.glue_text("retrain_epochs", str(cfg.retrain_epochs))
chapter.glue_text("pruning_minutes", fmt.number(view.timings().get("pruning", float("nan")) / 60, 1))
layers = pd.DataFrame(R["layer_sparsity"])
chapter.glue_table("layer_sparsity", pd.DataFrame({
    "Target": [fmt.pct(t, 0) for t in layers["target"]], "Layer": layers["layer"],
    "Mean over members": [fmt.pct(v) for v in layers["mean"]],
    "Range": [f"{fmt.pct(a)} – {fmt.pct(b)}" for a, b in zip(layers["min"], layers["max"])]}).set_index(["Target", "Layer"]))
gap = (layers[["min", "max"]].sub(layers["target"], axis=0)).abs().max().max()
chapter.glue_text("worst_sparsity_gap", fmt.pp(gap).lstrip("+"))

# %% [markdown]
# ## The schedule
#
# Re-training runs {glue:text}`retrain_epochs` epochs of {glue:text}`steps_per_epoch`
# steps. Every {glue:text}`frequency` steps the smallest weights (by magnitude) of each
# layer are masked to zero, until the final sparsity is reached; the mask then stays fixed
# while training continues. Biases are not pruned. Re-training took
# {glue:text}`pruning_minutes` minutes here.
#
# ```{glue:figure} schedule
# :name: schedule
#
# Pruning schedule (polynomial decay from 0 to the final sparsity): the sparsity the mask
# is updated to at each re-training step.
# ```
#
# The mask reaches the final sparsity at step {glue:text}`end_step` of the
# {glue:text}`total_steps` re-training steps, so the last {glue:text}`fixed_steps` steps
# ({glue:text}`fixed_share` of re-training) train with the mask fixed.
#
# ## Sparsity reached
#
# The exact zeros in every kernel of every member, counted after `strip_pruning`:
#
# ```{glued-table} layer_sparsity
# :name: layer-sparsity
#
# Measured kernel sparsity per layer, over the members.
# ```
#
# Every layer ends within {glue:text}`worst_sparsity_gap` of its target (the residue is the
# rounding of target × kernel size to a whole number of weights).

# %%
names = [v["name"] for v in variants(cfg)]
chapter.glue_table("size_table", report.sizes_table(view.sizes, names))
chapter.glue_text("baseline_kb", fmt.kb(view.sizes["baseline"]["zipped_bytes"]))
chapter.glue_text("q8_ratio", fmt.ratio(view.sizes["q8"]["compression_ratio"], 1))
chapter.glue_text("zeros", prose.zeros_and_size(R, q8))

# %% [markdown]
# ## Sizes
#
# Sizes are measured the way the toolkit's guides measure them: each member's model file
# is put into a ZIP archive (deflate), and the archives are summed over the ensemble. The
# float32 baseline ensemble takes {glue:text}`baseline_kb` as TFLite files.
#
# The *lower bound* is what an ideal entropy coder would need for the same numbers: per
# kernel, the entropy of its zero/non-zero mask plus the entropy of its non-zero int8
# values, plus 32 bits for each remaining float (biases, quantization scales).
#
# ```{glued-table} size_table
# :name: size-table
#
# Zipped size of every variant's ensemble, compression ratio against the float32 TFLite
# baseline, the lower bound, and the zipped float `.keras` files.
# ```
#
# Quantizing the weights to int8 alone shrinks the baseline {glue:text}`q8_ratio`. {glue:text}`zeros`

# %%
enc = view.encodings()
chapter.glue_table("encodings", report.encodings_table(enc))
chapter.glue_table("encoding_ratios", report.encoding_ratios_table(enc))
chapter.glue_text("encoding_goals", prose.encoding_goals(enc, encodings.RATIO_GOALS, encodings.BOUND_GOAL))
chapter.glue_text("tflite_sparsity", prose.tflite_sparsity(enc))
chapter.glue_text("float_kernel", prose.float_kernel(enc))

# %% [markdown]
# ## Closer to the bound
#
# Table 2 keeps the paper's measure. Three other encodings show how much of the gap to the
# bound is the container's. *Deflate 9* is the same zip at its highest level. *TFLite
# sparse* converts the pruned members with `Optimize.EXPERIMENTAL_SPARSITY`, TFLite's own
# sparse tensor format. The *sparse container* is ours (`helpers.engine.encodings`): it cuts each
# large int8 kernel out of the `.tflite` file and stores its zero/non-zero mask and its
# non-zero values apart from the rest of the file before deflating; it decodes to the
# identical `.tflite` bytes (tested). Ratios are against the float32 baseline's zipped size.
#
# ```{glued-table} encodings
# :name: encodings-table
#
# Every int8-weights ensemble in each encoding, summed over its members, and the lower bound.
# ```
#
# {glue:text}`tflite_sparsity` {glue:text}`float_kernel`
#
# ```{glued-table} encoding_ratios
# :name: encoding-ratios-table
#
# The sparse container against the bound, and the compression ratios it reaches and the
# bound would allow (against the float32 baseline's zipped size).
# ```
#
# {glue:text}`encoding_goals`
