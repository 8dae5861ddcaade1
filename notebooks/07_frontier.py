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
# (frontier)=
# # The best uncertainty per kilobyte
#
# {ref}`The memory budget <memory-budget>` showed the paper's recipe losing at the small end.
# A reader who wants a small, uncertainty-aware model asks next whether *another* compression
# of the same toolkit does better, whether *distilling* the ensemble into one model beats
# compressing it, and whether the comparison survives *calibration*. This chapter puts all of
# them on one frontier, made from the committed members of every seed with weights (nothing
# that exists is retrained):
#
# - **clustered**: sparsity-preserving weight clustering {cite:p}`tfmot` of the {glue:text}`sources`
#   ensembles ({glue:text}`n_clusters` centroids per layer: {glue:text}`cluster_bits` bits of information per weight),
#   fine-tuned, then int8 weights;
# - **PQAT**: pruning-preserving quantization-aware training of the same ensembles, converted
#   to int8;
# - **2:4**: structured sparsity {cite:p}`mishra2021` (at most two non-zeros in every four
#   consecutive weights), pruned from the baseline over the same re-training epochs as the
#   paper's 50 %;
# - **distilled students**: one model of the member architecture and one at
#   {glue:text}`student_width` of its filters, trained on the baseline ensemble's averaged
#   probabilities {cite:p}`hinton2015`, int8 weights.
#
# Every configuration is also **temperature-scaled** {cite:p}`guo2017,ashukha2020`: one temperature
# fitted on the validation split (the last {glue:text}`validation_share` of the training images, which no member saw)
# for the ensemble's averaged probabilities, and one per member for the *ensemble of
# calibrated members*. Numbers are means over {glue:text}`n_seeds` with {glue:text}`level` t-intervals.
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`finding_budget_small`
# - {glue:text}`finding_equal`
# - {glue:text}`finding_calibration`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
import math

from helpers.book import chapter, frontier, frontier_answers, frontier_plots
from helpers.core import fmt

view = chapter.setup(profile, **chapter.overrides(globals()))
fv = frontier.frontier_view(view.summary.data, profile)
cfg = view.config
chapter.glue_text("level", view.summary.level)  # the intervals' confidence level (the rules' alpha)
chapter.glue_text("n_clusters", str(cfg.cluster_count))
chapter.glue_text("cluster_bits", f"{math.log2(cfg.cluster_count):g}")
chapter.glue_text("student_width", fmt.pct(cfg.student_width, 0))
chapter.glue_text("sources", fmt.and_list(fmt.pct(s, 0) for s in cfg.frontier_sparsities))
chapter.glue_text("validation_share", fmt.pct(cfg.validation_split, 0))
chapter.glue_text("budgets", fmt.and_list(str(kb) for kb in fv.budgets_kb) + " kB")
chapter.glue_text("n_seeds", f"{fv.n} seed" + ("" if fv.n == 1 else "s") + f" ({fmt.seed_list(fv.seeds)})")
chapter.glue_text("finding_budget_small", frontier_answers.budget_sentence(fv, "raw", "mnist.nll", fv.budgets_kb[1]))
chapter.glue_text("finding_equal", frontier_answers.equal_bytes_answer(fv, "raw"))
chapter.glue_text("finding_calibration", frontier_answers.calibration_answer(fv))

# %%
chapter.glue_text("checks", frontier_answers.checks_answer(fv))
chapter.glue_text("left_out", frontier_answers.left_out_answer(fv))

# %% [markdown]
# ## What was made, and checked
#
# {glue:text}`checks`
#
# {glue:text}`left_out`

# %%
chapter.glue_figure("frontier_raw", frontier_plots.frontier_figure(fv, "raw"), view)
chapter.glue_figure("frontier_calibrated", frontier_plots.frontier_figure(fv, "calibrated"), view)
chapter.glue_table("frontier_in", frontier.in_distribution_table(fv))
chapter.glue_table("frontier_ood", frontier.ood_table(fv))
chapter.glue_text("fronts_raw", frontier_answers.fronts_answer(fv, "raw"))
chapter.glue_text("fronts_calibrated", frontier_answers.fronts_answer(fv, "calibrated"))

# %% [markdown]
# ## The frontier, raw and calibrated
#
# ```{glue:figure} frontier_raw
# :name: frontier-raw
#
# Zipped size (log axis) against MNIST NLL and ECE and the AUROC of entropy on NotMNIST and
# Fashion-MNIST, raw. Markers: the kind of configuration; dashed: the Pareto front over the
# seed means; dotted: the {glue:text}`budgets` budgets. Points on the front are named.
# ```
#
# {glue:text}`fronts_raw`
#
# ```{glue:figure} frontier_calibrated
# :name: frontier-calibrated
#
# The same after temperature scaling (one temperature per configuration, fitted on the
# validation split).
# ```
#
# ```{glued-table} frontier_in
# :name: frontier-in
#
# Every configuration by size: its fitted temperature, and MNIST NLL and ECE raw and calibrated.
# ```
#
# ```{glued-table} frontier_ood
# :name: frontier-ood
#
# AUROC (entropy as the score, MNIST test images as negatives) on both OOD sets, raw and calibrated.
# ```
#
# {glue:text}`fronts_calibrated`

# %%
chapter.glue_table("budgets_raw", frontier.budget_table(fv, "raw"))
chapter.glue_table("budgets_calibrated", frontier.budget_table(fv, "calibrated"))
chapter.glue_text("budget_answers_raw", frontier_answers.budget_answers(fv, "raw"))
chapter.glue_text("budget_answers_calibrated", frontier_answers.budget_answers(fv, "calibrated"))

# %% [markdown]
# ## The answer at each memory budget
#
# ```{glued-table} budgets_raw
# :name: budgets-raw
#
# At each budget, the best configuration whose mean zipped size fits, on each measure (raw
# numbers); its paired difference to the runner-up over seeds ({glue:text}`level` t-interval), and on how
# many seeds it is the best.
# ```
#
# {glue:text}`budget_answers_raw`
#
# ```{glued-table} budgets_calibrated
# :name: budgets-calibrated
#
# The same after temperature scaling.
# ```
#
# {glue:text}`budget_answers_calibrated`

# %%
chapter.glue_table("equal_raw", frontier.equal_bytes_table(fv, "raw"))
chapter.glue_text("equal_raw_text", frontier_answers.equal_bytes_answer(fv, "raw"))
chapter.glue_text("equal_calibrated_text", frontier_answers.equal_bytes_answer(fv, "calibrated"))

# %% [markdown]
# ## Compressing against distilling, at equal bytes
#
# The paper's related work argues that distillation loses the ensemble's diversity, but never
# compares. Here every compressed ensemble meets the best single model or student (by seed
# mean) that is no larger than it; the verdict needs the interval of their paired
# difference over seeds to exclude zero.
#
# ```{glued-table} equal_raw
# :name: equal-bytes
#
# Each compressed ensemble against the best single model or student no larger than it (raw
# numbers): difference ensemble − single over seeds, {glue:text}`level` t-interval.
# ```
#
# {glue:text}`equal_raw_text`
#
# {glue:text}`equal_calibrated_text`

# %%
chapter.glue_table("calibrated_verdicts", frontier.verdicts_table(fv))
chapter.glue_text("calibration_text", frontier_answers.calibration_answer(fv))
chapter.glue_text("verdicts_text", frontier_answers.verdicts_answer(fv))

# %% [markdown]
# ## Does the paper's answer survive calibration?
#
# Raw NLL and ECE compare models of different temperature, and the 95 % ensemble's rise in
# entropy is mostly its members' own (aleatoric) entropy. Rules v2 ({ref}`discussion`) judge
# the uncertainty claims again on the same seeds, raw and after calibration (the ensemble of
# calibrated members, so that disagreement is defined).
#
# {glue:text}`calibration_text`
#
# ```{glued-table} calibrated_verdicts
# :name: calibrated-verdicts
#
# Rules v2 on the same seeds: C7 (entropy and disagreement rise with sparsity), C8 (NLL and
# Brier unchanged up to 75 %), C10 (disagreement rises), raw and calibrated.
# ```
#
# {glue:text}`verdicts_text`

# %%
chapter.glue_table("audit", frontier.audit_table(fv))
chapter.glue_text("audit_text", frontier_answers.audit_answer(fv))
chapter.glue_text("cost_text", frontier_answers.cost_answer(fv))

# %% [markdown]
# ## The int8 softmax: an artifact?
#
# A full-integer TFLite model's softmax output is int8 with a fixed scale of 1/256, so a
# probability below 1/512 becomes exactly 0. The audit reads each such model's own
# dequantized logits (the input of its softmax, from the same file) and applies a float
# softmax, then compares.
#
# ```{glued-table} audit
# :name: softmax-audit
#
# Per configuration with an int8 softmax: the fraction of NotMNIST probabilities that are
# exactly 0, and the change int8 − float softmax in MNIST NLL, NotMNIST entropy and
# disagreement (means over seeds).
# ```
#
# {glue:text}`audit_text`
#
# ## What it costs
#
# {glue:text}`cost_text`
