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
# **The question.** A deep ensemble {cite:p}`lakshminarayanan2017` gives better accuracy and
# useful uncertainty, but it costs *M* times the memory of one network. Can each member be
# pruned and quantized so that the ensemble shrinks to about the size of a single model
# while its accuracy and its uncertainty on unfamiliar inputs survive? A short paper at the
# KIPS spring conference of {cite:year}`paper` (*the paper* from here on) says yes. This book re-runs that paper end to end, from the raw
# data files to every table and figure, and checks each of its claims.
#
# ## What the paper claims
#
# The paper trains an ensemble of *M* = 5 small convolutional networks on MNIST
# {cite:p}`lecun1998`, prunes every member by weight magnitude to 25, 50, 75 and 95 %
# sparsity and quantizes it to 8 bits with the TensorFlow Model Optimization Toolkit
# {cite:p}`tfmot`, then measures accuracy, negative log-likelihood (NLL), Brier score and
# zipped size on the 10,000 MNIST test images, and uncertainty on 18,724 NotMNIST letters
# {cite:p}`bulatov2011` that no member has seen. In the paper's own numbers: at 25 %
# sparsity the compressed ensemble is 0.04 % *more* accurate than the uncompressed one and
# 4× smaller; at 50 % and 75 % it loses 0.01 % and 0.05 % of accuracy while being 5× and
# 8× smaller, and the 50 % ensemble is about as large as one uncompressed model; at 95 %
# accuracy drops by about 1 %. NLL and Brier score do not change significantly up to 75 %.
# At a confidence threshold of 0.9 the ensemble classifies more than 90 % of MNIST but
# only 16-32 % of NotMNIST, confidence falls as sparsity rises, and on NotMNIST every
# uncertainty measure (entropy, members' disagreement) grows with sparsity. Every claim
# (C1-C10) is set beside our measurement in the chapter where it is reproduced.
#
# ## How to read this book
#
# Each chapter is a notebook executed by the pipeline and shown with its code, so every
# number in the prose is computed (glued from the code), never typed.
#
# 1. {doc}`01_data_and_model`: the two datasets and the model; the paper's Table 1
#    generated from the built network; every choice the paper leaves open.
# 2. {doc}`02_training`: training the members; member versus ensemble accuracy.
# 3. {doc}`03_compression`: pruning schedule, achieved sparsity, 8-bit conversion
#    and measured sizes.
# 4. {doc}`04_in_distribution`: the paper's Table 2 on MNIST, with confidence
#    intervals and the differences to the paper.
# 5. {doc}`05_out_of_distribution`: Figures 1 and 2, confidence and uncertainty on
#    NotMNIST, and how well uncertainty separates the two datasets.
# 6. {doc}`06_discussion`: every claim, paper versus reproduction, with a verdict.
# 7. {doc}`07_appendix`: configuration, data digests, package versions and how long
#    each stage and chapter took.

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
# Executed last by the pipeline: it summarizes what chapters 01-07 computed.
from helpers import chapter, claims, evaluation, models, tables

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
results = evaluation.evaluate(exp)
rows = claims.assess(results, tables.model_rows(models.build_member(exp.config, 0)), exp.config)
chapter.glue_text("summary", claims.summary(rows, results, exp.config))

# %% [markdown]
# ## What holds up
#
# {glue:text}`summary`
#
# The verdict on each claim, with the numbers behind it, is in {ref}`discussion`.
#
# ## Building it yourself
#
# Two commands, run from the repository root (each creates `.venv` on first use):
#
# ```bash
# make book   # execute the chapters and build this book: book/_build/html/index.html
# make test   # run the test suite
# ```
#
# `make book` re-uses the trained and compressed models stored in `artifacts/paper/`, so
# with the committed artifacts it takes minutes; the notebooks only compute what is
# missing. The datasets are read from `CDE_DATA_DIR` when it is set.
#
# ## Re-running with other parameters
#
# Every value that shapes a result lives in the repository's `_config.yml`, grouped in
# profiles (`paper`, `quick`, `smoke`). The pipeline executes each notebook with
# [papermill](https://papermill.readthedocs.io) and injects the profile as a parameter:
#
# ```bash
# python -m helpers build --profile quick          # the same book in minutes on a laptop CPU
# python -m helpers build --profile paper --fresh  # recompute everything from scratch
# python -m helpers build --profile quick --only 04 --no-build   # one chapter, no book
# python -m helpers build --profile quick -p seed 3              # a parameter the chapters declare
# ```
#
# A single executed chapter can also be re-run with papermill directly, e.g.
# `papermill book/chapters/04_in_distribution.ipynb /tmp/04.ipynb -k cde-book -p profile quick`.
# Results of a configuration that differs from a profile are stored apart
# (`artifacts/<profile>_<hash>/`) and never overwrite the published ones.

