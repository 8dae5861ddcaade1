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
# (training)=
# # Training the deep ensemble
#
# A deep ensemble {cite:p}`lakshminarayanan2017` is M networks of the same architecture,
# trained independently from different random initializations with a proper scoring rule
# (here the negative log-likelihood), whose predicted probabilities are averaged. This
# chapter shows how the members trained and what the averaging buys.
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`ensemble_gain`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
from helpers.book import chapter, plots, prose
from helpers.core import fmt

view = chapter.setup(profile, **chapter.overrides(globals()))
R, cfg = view.results, view.config

# %%
histories = view.histories()["train"]
fig, _ = plots.learning_curves(histories)
chapter.glue_figure("learning_curves", fig, view)
chapter.glue_text("ensemble_size", str(cfg.ensemble_size))
chapter.glue_text("epochs", str(cfg.epochs))
chapter.glue_text("training_minutes", fmt.number(view.timings().get("training", float("nan")) / 60, 1))
final_val = [h[-1]["val_accuracy"] for h in histories]
chapter.glue_text("val_acc_range", f"{fmt.pct(min(final_val))} to {fmt.pct(max(final_val))}")

# %% [markdown]
# ## How the members are trained
#
# The {glue:text}`ensemble_size` members are trained for {glue:text}`epochs` epochs each,
# all at once: one TensorFlow graph holds every member, each fed its own shuffled stream
# of batches, so one optimizer step moves every member exactly as a separate step on its
# own loss would (Adam works element-wise and the members share no weights; the test
# suite checks the equivalence against training them one by one). Training took
# {glue:text}`training_minutes` minutes on the machine that made the artifacts.
#
# ```{glue:figure} learning_curves
# :name: learning-curves
#
# Training and validation loss and accuracy of every member, per epoch.
# ```
#
# After the last epoch, the members' validation accuracies range from {glue:text}`val_acc_range`.

# %%
m = R["members"]
fig, _ = plots.members_vs_ensemble(m["accuracy"], m["ensemble_of_first_k"]["accuracy"])
chapter.glue_figure("members_vs_ensemble", fig, view)
chapter.glue_text("ensemble_gain", prose.ensemble_gain(m))

# %% [markdown]
# ## Members and the ensemble
#
# The ensemble grows one member at a time, beside each member alone:
#
# ```{glue:figure} members_vs_ensemble
# :name: members-vs-ensemble
#
# Accuracy of each member alone and of the ensemble of its first k members, k = 1..M.
# ```
#
# {glue:text}`ensemble_gain`
