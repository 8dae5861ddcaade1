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
# # Compressed deep ensembles, re-run
#
# {cite:t}`paper` train a deep ensemble {cite:p}`lakshminarayanan2017` of five small CNNs
# on MNIST, prune every member by weight magnitude to 25–95 % sparsity, quantize it to 8
# bits {cite:p}`tfmot`, and report that the ensemble shrinks 4–8× at almost no accuracy
# cost while its uncertainty on unfamiliar inputs (NotMNIST letters) *rises* with sparsity,
# because the members' disagreement increases with pruning. This book re-runs the paper end
# to end, from the raw data files to every table and figure, over independent seeds, and
# judges each claim by statistical rules committed before the seeds they judge.
#
# ```{admonition} The paper, and how to cite this book
# :class: note
#
# **The paper re-run here:** Uyanga Dorjsembe, Ju Hong Lee, Bumghi Choi and Jae Won Song,
# *Sparsity Increases Uncertainty Estimation in Deep Ensemble*, Computers 10(4):54, 2021,
# [doi:10.3390/computers10040054](https://doi.org/10.3390/computers10040054) (the book
# re-runs its two-page version in the KIPS 2021 spring conference proceedings, pp. 374–375).
#
# **Cite this book:** The CDE reproduction team, *Compressed deep ensembles, re-run: a
# reproducible book*, version 0.1.0, 2026 (`CITATION.cff` in the repository). Code under
# the MIT licence, text and figures under CC BY 4.0 (`LICENSE`).
# ```

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
# Executed last by the pipeline: it summarizes what the other chapters show. Every number
# here is between seeds, from summary.json (helpers.stages.aggregate).
from helpers.book import answers, chapter, figures, verdict_answers, verdict_tables
from helpers.core.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, S, q8 = view.results, view.summary, int8_variants(view.config)
chapter.glue_text("level", view.summary.level)  # the intervals' confidence level (the rules' alpha)
datasets = [d for d in ("notmnist", "fashion_mnist", "rotated_mnist", "corrupted_mnist") if S.has("q8", d)]

# %%
chapter.glue_text("answer_cost", answers.answer_cost(S, q8))
chapter.glue_text("answer_uncertainty", answers.answer_uncertainty(S, datasets))
chapter.glue_text("answer_disagreement", answers.answer_disagreement(S, datasets))
chapter.glue_text("mechanism", " ".join(answers.mechanism(S, d, q8) for d in datasets[:2]))
chapter.glue_markdown("contradictions", verdict_answers.contradictions(S, as_list=True))
chapter.glue_text("provenance", verdict_answers.provenance(S))
chapter.glue_text("counts", verdict_answers.verdict_counts(S))
chapter.glue_figure("headline_fig", figures.figure2(R, ["baseline", "ft_q8", "q8", *q8], "notmnist", S), view)
chapter.glue_table("verdicts", verdict_tables.verdict_overview(S))

# %% [markdown]
# ## The answer
#
# **Does pruning + 8 bits shrink the ensemble at no accuracy cost?**
# {glue:text}`answer_cost`
#
# **Does uncertainty rise with sparsity?** {glue:text}`answer_uncertainty`
#
# **Does members' disagreement rise with pruning, as the paper's headline says?**
# {glue:text}`answer_disagreement`
#
# **Why.** {glue:text}`mechanism`
#
# ```{glue:md} contradictions
# :format: myst
# ```
#
# ```{glue:figure} headline_fig
# :name: headline-fig
#
# Uncertainty on NotMNIST letters, which no member has seen, for the float32 baseline, the
# re-training control (*ft*), and the int8 ensembles at 0–95 % sparsity: predictive entropy
# (left) and members' disagreement (right). Above, the means with {glue:text}`level` intervals over seeds
# (black) and, for one run, over images (coloured); the boxes are that run's images. The
# paper's Figure 2 in {numref}`fig2`.
# ```
#
# {glue:text}`provenance` {glue:text}`counts`
#
# ```{glued-table} verdicts
# :name: verdicts-overview
#
# Every claim of the paper and its verdict under rules v2 (on every seed; *split*: holds on
# part of its range and fails on another) and under rules v1; the evidence, the rules and
# every dataset are in {ref}`the discussion <discussion>`.
# ```
#
# ## How to read and re-run this book
#
# Every number in the prose is computed by the code of its chapter and glued in, never
# typed; each chapter's code cells are folded under "Show code". The rocket button at the
# top of a chapter opens it in Colab or Binder: its first cell installs this project when
# it is missing. Locally, `make book` rebuilds everything from the committed artifacts,
# and a single chapter runs with another parameter through papermill, e.g.
# `papermill book/chapters/04_in_distribution.ipynb out.ipynb -p profile quick -y "overrides: {seed: 3}"`
# (any key of `_config.yml` goes in `overrides`).
# Short names (*ft*, *q8*, TOST, FPR95, pp, …) are explained in the {doc}`glossary <../glossary>`.
#
# 1. {doc}`01_data_and_model`: the datasets, the model (the paper's Table 1), and every
#    choice the paper leaves open.
# 2. {doc}`02_training`: training the members; member against ensemble.
# 3. {doc}`03_compression`: the pruning schedule, the achieved sparsity, sizes.
# 4. {doc}`04_in_distribution`: the paper's Table 2 with intervals over seeds and images.
# 5. {doc}`05_out_of_distribution`: the paper's Figures 1 and 2, and OOD detection.
# 6. {doc}`06_beyond_notmnist`: Fashion-MNIST, rotated and corrupted MNIST, and the
#    memory budget.
# 7. {doc}`07_frontier`: the best uncertainty per kilobyte — the toolkit's other compressions,
#    distilled students and temperature scaling on the memory-budget frontier.
# 8. {doc}`08_discussion`: every claim with its verdict and the rule that chose it.
# 9. {doc}`09_appendix`: configuration, digests, versions, timings and benchmarks.
