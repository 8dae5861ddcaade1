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
# cost while its uncertainty on unfamiliar inputs (NotMNIST letters) *rises* with sparsity.
# This book re-runs the paper end to end, from the raw data files to every table and
# figure, and checks each claim with statistics fixed before the evidence came in.

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
shift_subset = None

# %% tags=["remove-cell"]
# Executed last by the pipeline: it summarizes what the other chapters show.
from helpers import chapter, figures, prose, report
from helpers.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, runs, q8 = view.results, view.runs, int8_variants(view.config)
rows = view.claims()

# %%
chapter.glue_text("headline", prose.headline(rows, R, runs))
chapter.glue_figure("headline_fig", figures.figure2(R, ["baseline", "ft_q8", "q8", *q8], "notmnist", runs), view)
chapter.glue_table("verdicts", report.verdict_overview(rows))

# %% [markdown]
# ## The answer
#
# {glue:text}`headline`
#
# ```{glue:figure} headline_fig
# :name: headline-fig
#
# Uncertainty on NotMNIST letters, which no member has seen, for the float32 baseline, the
# re-training control (*ft*), and the int8 ensembles at 0–95 % sparsity: predictive entropy
# (left) and members' disagreement (right); above, the means with 95 % intervals over images
# (coloured) and over seeds (black). The paper's Figure 2 in {numref}`fig2`.
# ```
#
# ```{glued-table} verdicts
# :name: verdicts-overview
#
# Every claim of the paper and its verdict; the evidence and the rules are in
# {ref}`the discussion <discussion>`.
# ```
#
# ## How to read and re-run this book
#
# Every number in the prose is computed by the code of its chapter and glued in, never
# typed; each chapter's code cells are folded under "Show code". The rocket button at the
# top of a chapter opens it in Colab or Binder: its first cell installs this project when
# it is missing. Locally, `make book` rebuilds everything from the committed artifacts,
# and a single chapter runs with another parameter through papermill, e.g.
# `papermill book/chapters/04_in_distribution.ipynb out.ipynb -p profile quick -p seed 3`.
#
# 1. {doc}`01_data_and_model`: the datasets, the model (the paper's Table 1), and every
#    choice the paper leaves open.
# 2. {doc}`02_training`: training the members; member against ensemble.
# 3. {doc}`03_compression`: the pruning schedule, the achieved sparsity, sizes.
# 4. {doc}`04_in_distribution`: the paper's Table 2 with intervals over images and seeds.
# 5. {doc}`05_out_of_distribution`: the paper's Figures 1 and 2, and OOD detection.
# 6. {doc}`06_beyond_notmnist`: Fashion-MNIST, rotated and corrupted MNIST, and the
#    memory budget.
# 7. {doc}`07_discussion`: every claim with its verdict and the rule that chose it.
# 8. {doc}`08_appendix`: configuration, digests, versions, timings and benchmarks.
