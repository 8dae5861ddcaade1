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
# (out-of-distribution)=
# # Out-of-distribution results: the paper's Figures 1 and 2
#
# The ensembles see NotMNIST letters they were never trained on. A useful uncertainty
# estimate should be *low* on MNIST and *high* on these letters. This chapter regenerates
# the paper's confidence curves (its Figure 1) and its entropy and disagreement boxes (its
# Figure 2), then asks the question the paper does not: does the uncertainty *separate*
# the two datasets better as sparsity rises?
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`entropy_finding`
# - {glue:text}`disagreement_finding`
# - {glue:text}`control`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
from helpers.book import answers, chapter, figures, interactive, prose, report, verdict_answers
from helpers.core import fmt, paper
from helpers.core.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, S, q8 = view.results, view.summary, int8_variants(view.config)
chapter.glue_text("level", view.summary.level)  # the intervals' confidence level (the rules' alpha)

# %%
shown = ["baseline", "ft_q8", "q8", *q8]
chapter.glue_figure("fig1", figures.figure1(R, shown, paper.TAU), view)
chapter.glue_table("tau_table", report.tau_table(R, shown))
chapter.glue_text("tau", fmt.number(paper.TAU, 1))
chapter.glue_text("c5", verdict_answers.claim_finding(S, "C5", "notmnist"))
chapter.glue_text("c6", verdict_answers.claim_finding(S, "C6", "notmnist"))

# %% [markdown]
# ## Confidence curves
#
# ```{glue:figure} fig1
# :name: fig1
#
# The paper's Figure 1, regenerated: for each threshold τ, the share of (a) MNIST and (c)
# NotMNIST images whose ensemble confidence (largest mean probability) is at least τ, and
# (b) the accuracy on the MNIST images kept. The dashed line marks τ = {glue:text}`tau`.
# The curves stop just below τ = 1: there they would count the probabilities that round to
# exactly 1.0 in 32-bit floats, which depends on the processor and thread setting, not on the
# models.
# ```
#
# ```{glued-table} tau_table
# :name: tau-table
#
# The curves at τ = {glue:text}`tau`, with Wilson {glue:text}`level` intervals over the images.
# ```
#
# The paper's C5 (its τ band) under rules v2, over seeds: {glue:text}`c5`
# Its C6 (confidence falls with sparsity, on MNIST and NotMNIST): {glue:text}`c6`

# %%
chapter.glue_figure("fig2", figures.figure2(R, shown, "notmnist", S), view)
chapter.glue_table("uncertainty", report.uncertainty_table(R, shown, "notmnist", S))
chapter.glue_text("c7", verdict_answers.claim_finding(S, "C7", "notmnist"))
chapter.glue_text("c10", verdict_answers.claim_finding(S, "C10", "notmnist"))
chapter.glue_text("entropy_finding", answers.answer_uncertainty(S, ["notmnist"]))
chapter.glue_text("disagreement_finding", answers.answer_disagreement(S, ["notmnist"]))
chapter.glue_text("mechanism", answers.mechanism(S, "notmnist", q8))
chapter.glue_text("control", prose.control(R, S, "notmnist", "entropy"))

# %% [markdown]
# ## Entropy and disagreement
#
# ```{glue:figure} fig2
# :name: fig2
#
# The paper's Figure 2, regenerated: per-image predictive entropy (left) and members'
# disagreement (right) on NotMNIST, one box per ensemble (quartiles; whiskers at 1.5 times
# the interquartile range). Above each panel, the mean with its {glue:text}`level` interval over images
# (coloured) and over seeds (black, when the sweep has several seeds).
# ```
#
# The paper's "disagreement" — the mean over members of KL(member ‖ ensemble mean) — is
# the mutual information between the prediction and the member (the BALD score), so the
# ensemble's entropy splits exactly into the members' mean entropy (aleatoric) plus the
# disagreement (epistemic):
#
# ```{glued-table} uncertainty
# :name: uncertainty-split
#
# Mean entropy on NotMNIST split into mean member entropy and disagreement (nats): means
# over seeds with {glue:text}`level` t-intervals, the disagreement's paired difference to the re-training
# control over seeds, and one run's entropy with its interval over images.
# ```
#
# {glue:text}`entropy_finding` {glue:text}`disagreement_finding` {glue:text}`mechanism`
#
# Claim C7 (entropy and disagreement rise with sparsity) under rules v2: {glue:text}`c7`
# Claim C10 (disagreement rises with pruning): {glue:text}`c10`
#
# **Is it sparsity, or the extra training?** Pruned members are re-trained for extra epochs
# that the baseline never gets. {glue:text}`control`

# %%
chapter.glue_figure("ood_roc", figures.roc(R, shown, "notmnist", "entropy"), view)
chapter.glue_interactive("ood_roc_interactive", interactive.roc(R, shown, "notmnist", "entropy"))
chapter.glue_table("detection", report.detection_table(R, shown, "notmnist"))
chapter.glue_text("useful", answers.usefulness(S, q8))

# %% [markdown]
# ## Does the extra uncertainty help?
#
# Higher uncertainty is only useful if it is higher on the unfamiliar inputs than on the
# familiar ones. Treating NotMNIST as positives and MNIST as negatives, each score below
# is a detector of unfamiliar inputs:
#
# ```{glued-table} detection
# :name: detection-notmnist
#
# Out-of-distribution detection of NotMNIST against MNIST: area under the ROC curve by
# entropy, disagreement and 1 − max probability, AUPR by entropy and the false-positive
# rate at 95 % true-positive rate.
# ```
#
# ```{glue:figure} ood_roc
# :name: ood-roc
#
# ROC curves of entropy as a NotMNIST detector, per ensemble, the false-positive rate on a
# log axis (the curves part at small rates, where a detector is used).
# ```
#
# :::{dropdown} The same curves, interactive (hover a curve for its ensemble, drag to zoom)
# ```{glue:} ood_roc_interactive
# ```
# :::
#
# {glue:text}`useful`
