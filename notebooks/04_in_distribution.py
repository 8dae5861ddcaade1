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
# (in-distribution)=
# # In-distribution results: the paper's Table 2
#
# Accuracy, negative log-likelihood (NLL), Brier score and calibration of every ensemble on
# the MNIST test set, with the zipped size that the paper trades them against. Each number
# carries two kinds of error bar: a {glue:text}`level` interval over the test images of this run (paired
# with the baseline where it is a difference), and — once the seed sweep has run — the {glue:text}`level`
# t-interval of the mean over independently trained seeds, which also counts the
# randomness of training itself.
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`cost`
# - {glue:text}`spread`
# - {glue:text}`calibration_finding`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
from helpers.book import answers, chapter, figures, prose, report, verdict_tables
from helpers.core import fmt
from helpers.core.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, S, q8 = view.results, view.summary, int8_variants(view.config)
chapter.glue_text("level", view.summary.level)  # the intervals' confidence level (the rules' alpha)

# %%
shown = ["baseline", "ft", "single", "q8", "ft_q8", *q8]
ablation = ["baseline", *[n for n in R["variants"] if n.endswith(("_float", "int8full"))]]
chapter.glue_table("table2_accuracy", report.table2_accuracy(R, S, shown))
chapter.glue_table("table2_calibration", report.table2_calibration(S, shown))
chapter.glue_table("table2_size", report.table2_size(R, shown))
chapter.glue_table("table2_ablation", report.table2_accuracy(R, S, ablation))
chapter.glue_text("n_seeds", str(S.n))
chapter.glue_text("seed0", str(R.get("seed", 0)))
chapter.glue_text("n_test", f"{R['datasets']['mnist']['n']:,}")
chapter.glue_text("n_boot", f"{view.config.bootstrap_samples:,}")
chapter.glue_text("n_bins", str(len(R["reliability"]["baseline"]["count"])))
chapter.glue_text("resolution", prose.resolution(R, S, q8))
chapter.glue_text("cost", answers.answer_cost(S, q8))

# %% [markdown]
# ```{glued-table} table2_accuracy
# :name: table2-accuracy
#
# The paper's Table 2 (accuracy half), regenerated. First, between seeds: the mean of
# {glue:text}`n_seeds` seeds with its {glue:text}`level` t-interval, and *Δ*, the per-seed paired
# difference to the float32 baseline with its t-interval. Then one run (seed
# {glue:text}`seed0`): its accuracy with the {glue:text}`level` percentile-bootstrap interval over the
# {glue:text}`n_test` test images ({glue:text}`n_boot` resamples) and McNemar's exact or
# continuity-corrected test against the baseline on the same images. *ft* is the
# re-training control (the baseline fine-tuned for the re-training epochs, never pruned);
# *single model* is member 0 alone.
# ```
#
# ```{glued-table} table2_calibration
# :name: table2-calibration
#
# The paper's Table 2 (NLL and Brier half) and the ECE, between {glue:text}`n_seeds`
# seeds: each mean with its {glue:text}`level` t-interval, and the paired difference to the baseline.
# NLL in nats; Brier score summed over classes; ECE with {glue:text}`n_bins` bins, in %.
# ```
#
# ```{glued-table} table2_size
# :name: table2-size
#
# The paper's Table 2 (size half): each ensemble's `.tflite` files zipped (deflate, as the
# paper measures) and summed over members; the ratio is to the float32 baseline in the same
# container, beside the paper's ratio.
# ```
#
# {glue:text}`cost`
#
# ## Can these differences be seen at all?
#
# {glue:text}`resolution`

# %%
chapter.glue_text("spread", prose.spread(S, q8))
chapter.glue_text("sweep_command", f"python -m helpers sweep --profile paper --seeds {fmt.seed_option(S.seeds)}")
chapter.glue_table("seeds", report.seed_table(S, q8))

# %% [markdown]
# ## Run-to-run spread
#
# A claim about the method must survive retraining, not only resampling of test images.
# Every seed below is an independent paper-profile experiment: its own initializations,
# data order, pruning and quantization (the command that runs them all:
# {glue:text}`sweep_command`).
#
# ```{glued-table} seeds
# :name: seed-spread
#
# Baseline accuracy and each compressed ensemble's difference to it, seed by seed, with
# the mean, its {glue:text}`level` t-interval and the standard deviation over seeds.
# ```
#
# {glue:text}`spread`

# %%
two_level_names = ["q8", *q8, *[n for n in R["variants"] if n.endswith("_float")], "ft_q8", "single"]
chapter.glue_table("two_level", verdict_tables.two_level_table(S, two_level_names))
chapter.glue_text("image_variation", answers.image_variation(S, ["q8", *q8]))
chapter.glue_text("ablation_finding", answers.ablation_finding(S, view.config.sparsities))

# %% [markdown]
# ## Seeds and test images together
#
# The intervals above count the seeds' variation on one fixed test set: they say what
# another training run would give on these {glue:text}`n_test` images. A reader who asks
# what another run would give on *other* digits drawn like these needs the test images'
# variation as well:
#
# ```{glued-table} two_level
# :name: two-level
#
# Each ensemble's difference to the baseline on MNIST, over the seeds whose per-image
# losses are committed: the {glue:text}`level` t-interval over those seeds, beside the {glue:text}`level` interval of
# a two-way random-effects model of seeds and test images (crossed: every seed is scored
# on every image; variance of the mean from the ANOVA mean squares, Satterthwaite's
# degrees of freedom), and how much wider the second is. The verdicts of the book use the
# first ({numref}`interval-verdicts`); the
# discussion shows C2-C4 and C8 judged with the second.
# ```
#
# {glue:text}`image_variation`
#
# ## Ablation: which step costs what
#
# ```{glued-table} table2_ablation
# :name: table2-ablation
#
# The same measures for the pruned float32 ensembles (pruning without quantization) and
# the full-integer int8 ensembles (weights *and* activations in 8 bits).
# ```
#
# {glue:text}`ablation_finding`

# %%
chapter.glue_figure("reliability", figures.reliability(R, ["baseline", *q8]), view)
chapter.glue_text("base_ece", fmt.pct(R["variants"]["baseline"]["mnist"]["ece"]))
chapter.glue_text("calibration_finding", answers.calibration_finding(S, ["q8", *q8]))

# %% [markdown]
# ## Calibration
#
# ```{glue:figure} reliability
# :name: reliability
#
# Reliability diagram on MNIST: accuracy against mean confidence per bin ({glue:text}`n_bins` equal-width
# bins); the diagonal is perfect calibration. The baseline's ECE is {glue:text}`base_ece`
# in this run (seed {glue:text}`seed0`).
# ```
#
# {glue:text}`calibration_finding`
