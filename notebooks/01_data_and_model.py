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
# (data-and-model)=
# # Data and model
#
# The paper trains its ensemble on MNIST and measures uncertainty on NotMNIST, letters
# the models have never seen. This chapter loads both datasets from their canonical
# files (checked against published digests), shows what they look like, builds the
# paper's CNN and generates Table 1 from it.

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
from helpers import chapter, data, models, plots, tables

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
cfg = exp.config
(x_train, y_train), (x_test, y_test) = exp.train_data, exp.dataset("mnist_test")
x_ood, y_ood = exp.dataset("notmnist")

chapter.glue_text("profile", profile)
chapter.glue_text("n_train", f"{len(x_train):,}")
chapter.glue_text("n_fit", f"{int(len(x_train) * (1 - cfg.validation_split)):,}")
chapter.glue_text("n_val", f"{len(x_train) - int(len(x_train) * (1 - cfg.validation_split)):,}")
chapter.glue_text("n_test", f"{len(x_test):,}")
chapter.glue_text("n_ood", f"{len(x_ood):,}")
chapter.glue_text("n_ood_full", f"{data.NOTMNIST_SIZE:,}")  # verified by the content digest
chapter.glue_text("ood_mean_pixel", f"{x_ood.mean() * 255:.4f}")

# %% [markdown]
# ## The datasets
#
# | role | dataset | images used in this build ({glue:text}`profile` profile) |
# |---|---|---|
# | training (minus the last 10 % for validation) | MNIST training set | {glue:text}`n_train` ({glue:text}`n_fit` fitted, {glue:text}`n_val` held out) |
# | in-distribution test | MNIST test set | {glue:text}`n_test` |
# | out-of-distribution test | notMNIST_small, letters A-J | {glue:text}`n_ood` |
#
# MNIST {cite}`lecun1998` is read from its four IDX files, each checked against its
# sha256. NotMNIST {cite}`bulatov2011` is read from `notMNIST_small.tar.gz`
# without extracting it; two of its PNG files are empty and cannot be decoded, which
# leaves {glue:text}`n_ood_full` images, the paper's count. The decoded images are checked against a
# content digest (their mean pixel value is {glue:text}`ood_mean_pixel` on the 0-255 scale).
# Digits and letters are both 28 × 28 grey-scale glyphs scaled to [0, 1], so the models
# receive NotMNIST exactly as they receive MNIST; only the content differs.

# %% tags=["remove-cell"]
fig, cap = plots.sample_grid(x_test, y_test, [str(d) for d in range(10)], title="MNIST test set")
chapter.glue_figure("mnist_grid", fig, exp)
chapter.glue_text("mnist_grid_caption", cap)
fig, cap = plots.sample_grid(x_ood, y_ood, list(data.NOTMNIST_LETTERS), title="NotMNIST (out of distribution)")
chapter.glue_figure("notmnist_grid", fig, exp)
chapter.glue_text("notmnist_grid_caption", cap)

# %% [markdown]
# ::::{grid} 2
# :::{grid-item}
# ```{glue:figure} mnist_grid
# :name: mnist-grid
# {glue:text}`mnist_grid_caption`
# ```
# :::
# :::{grid-item}
# ```{glue:figure} notmnist_grid
# :name: notmnist-grid
# {glue:text}`notmnist_grid_caption`
# ```
# :::
# ::::

# %% tags=["remove-cell"]
member = models.build_member(cfg, seed=cfg.member_seed(0))
layers_table, hyper_table = tables.table1(
    tables.model_rows(member),
    {"Training epochs": cfg.epochs, "Re-training (pruning) epochs": cfg.retrain_epochs,
     "Optimizer": "Adam", "Learning rate": cfg.learning_rate, "Batch size": cfg.batch_size,
     "Validation split": cfg.validation_split, "Ensemble size M": cfg.ensemble_size,
     "Sparsities": ", ".join(f"{s:.0%}" for s in cfg.sparsities),
     "Quantization": f"{cfg.quantization_bits}-bit (TFLite)"})
params = layers_table.numeric["Parameters"]
from myst_nb import glue

glue("table1_layers", layers_table.style(), display=False)
glue("table1_hyper", hyper_table.style(), display=False)
convs = [r for r in tables.model_rows(member) if r["layer"] == "Conv2D"]
dense = [r for r in tables.model_rows(member) if r["layer"] == "Dense"][0]
chapter.glue_text("conv1_params", f"{convs[0]['params']:,}")
chapter.glue_text("conv2_params", f"{convs[1]['params']:,}")
chapter.glue_text("dense_params", f"{dense['params']:,}")
chapter.glue_text("total_params", f"{int(params['Total']):,}")
chapter.glue_text("conv1_shape", tables.fmt_shape(convs[0]["output_shape"]))
chapter.glue_text("conv2_shape", tables.fmt_shape(convs[1]["output_shape"]))
chapter.glue_text("c1_match", "match" if (convs[0]["params"], convs[1]["params"], dense["params"]) == (280, 22432, 5130) else "do NOT match")

# %% [markdown]
# ## The model: Table 1
#
# The paper lists three parameterized layers and their output shapes. The shapes imply
# a 3 × 3 convolution with 28 filters, 2 × 2 max-pooling, a 5 × 5 convolution with 32
# filters, 2 × 2 max-pooling, a flatten to 512 values and a 10-way softmax. The table
# below is read from the model this code builds, not typed: the convolutions have
# {glue:text}`conv1_params` and {glue:text}`conv2_params` parameters with outputs
# {glue:text}`conv1_shape` and {glue:text}`conv2_shape`, the dense layer
# {glue:text}`dense_params`; the counts {glue:text}`c1_match` the paper's
# (280, 22,432 and 5,130), {glue:text}`total_params` parameters per member in all.
#
# (table1)=
# **Table 1.** The member network (layers read from the built `tf_keras` model) and the
# training hyper-parameters of this build.
#
# ::::{grid} 2
# :::{grid-item}
# ```{glue:} table1_layers
# ```
# :::
# :::{grid-item}
# ```{glue:} table1_hyper
# ```
# :::
# ::::

# %% [markdown]
# (choices)=
# ## Reproduction choices
#
# The paper is a two-page conference version; these are the points it leaves open and
# the choice made here (all values live in `_config.yml`, marked `[paper]` or `[choice]`).
#
# | open point | our choice |
# |---|---|
# | layer types between the listed layers | 3 × 3 conv, 2 × 2 max-pool, 5 × 5 conv, 2 × 2 max-pool, flatten, dense softmax; ReLU activations (implied by the shapes) |
# | batch size, learning rate | Keras defaults: batch 32, Adam with learning rate 0.001 |
# | validation split | Keras semantics: the *last* 10 % of the training set is held out, not shuffled |
# | member diversity | each member has its own seed for initialization and for its shuffling order; no bootstrap (as in {cite}`lakshminarayanan2017`) |
# | pruning schedule | `prune_low_magnitude` with `PolynomialDecay` from 0 to the target over the re-training epochs, fine-tuned from the trained member {cite}`zhu2017,tfmot`; biases are not pruned |
# | 8-bit quantization | post-training quantization with `tf.lite.Optimize.DEFAULT` (int8 weights, float activations), as in the toolkit's pruning guide; full-integer int8 (weights and activations) as an extension {cite}`jacob2018` |
# | "zipped model size" | each member's `.tflite` file put into a ZIP (deflate) archive, summed over members; the ratio compares with the float32 `.tflite` baseline in the same container, so it measures compression and not a change of file format |
# | disagreement | per sample, the mean over members of KL(p_member ‖ p_mean) |
# | confidence curve | fraction of samples whose ensemble confidence (max mean probability) is ≥ τ, and accuracy on them (MNIST), for τ in [0, 1] |
# | randomness | one run, as in the paper, plus bootstrap intervals and a seed-to-seed spread check (chapter 4) |
