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
# A deep ensemble {cite}`lakshminarayanan2017` is M networks of the same
# architecture, trained independently from different random initializations with a
# proper scoring rule (here the negative log-likelihood), whose predicted probabilities
# are averaged. This chapter trains the M members (or loads them from the artifact
# store when this configuration has been trained before) and checks what the averaging
# buys.

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
import numpy as np

from helpers import chapter, metrics, plots

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
cfg = exp.config
exp.baseline()  # trains only if the store lacks this configuration's members
histories = exp.store.read_json("histories.json")["train"]
timings = exp.store.manifest().get("timings", {})

fig, cap = plots.learning_curves(histories)
chapter.glue_figure("learning_curves", fig, exp)
chapter.glue_text("learning_curves_caption", cap)
chapter.glue_text("ensemble_size", str(cfg.ensemble_size))
chapter.glue_text("epochs", str(cfg.epochs))
chapter.glue_text("training_minutes", f"{timings.get('training', float('nan')) / 60:.1f}")
final_val = [h[-1]["val_accuracy"] for h in histories if "val_accuracy" in h[-1]]
chapter.glue_text("val_acc_range",
                  f"{chapter.pct(min(final_val))} to {chapter.pct(max(final_val))}" if final_val else "n/a")

# %% [markdown]
# ## How the members are trained
#
# The {glue:text}`ensemble_size` members are trained for {glue:text}`epochs` epochs each,
# all at once: one TensorFlow graph holds every member, each fed its own shuffled stream
# of batches, so one optimizer step moves every member exactly as a separate step on its
# own loss would (Adam works element-wise and the members share no weights; the test
# suite checks the equivalence against training them one by one). On this machine the
# training took {glue:text}`training_minutes` minutes. Each member's final validation
# accuracy lies between {glue:text}`val_acc_range`.
#
# ```{glue:figure} learning_curves
# :name: learning-curves
# {glue:text}`learning_curves_caption`
# ```

# %% tags=["remove-cell"]
member_probs = exp.member_probabilities("baseline", "mnist_test")
_, y_test = exp.dataset("mnist_test")
member_acc = [metrics.accuracy(p, y_test) for p in member_probs]
ensemble_acc = [metrics.accuracy(metrics.ensemble_mean(member_probs[:k]), y_test)
                for k in range(1, len(member_probs) + 1)]
fig, cap = plots.members_vs_ensemble(member_acc, ensemble_acc)
chapter.glue_figure("members_vs_ensemble", fig, exp)
chapter.glue_text("members_vs_ensemble_caption", cap)
chapter.glue_text("member_acc_mean", chapter.pct(float(np.mean(member_acc))))
chapter.glue_text("member_acc_range", f"{chapter.pct(min(member_acc))} to {chapter.pct(max(member_acc))}")
chapter.glue_text("ensemble_acc", chapter.pct(ensemble_acc[-1]))
gain = ensemble_acc[-1] - float(np.mean(member_acc))
chapter.glue_text("ensemble_gain", chapter.pp(gain))
nll_members = float(np.mean([metrics.nll(p, y_test) for p in member_probs]))
nll_ensemble = metrics.nll(metrics.ensemble_mean(member_probs), y_test)
chapter.glue_text("nll_members", f"{nll_members:.4f}")
chapter.glue_text("nll_ensemble", f"{nll_ensemble:.4f}")

# %% [markdown]
# ## Members and the ensemble
#
# On the MNIST test set the members alone reach {glue:text}`member_acc_range` (mean
# {glue:text}`member_acc_mean`); averaging their probabilities gives
# {glue:text}`ensemble_acc`, {glue:text}`ensemble_gain` over the mean member. The gain in
# likelihood is larger than the gain in accuracy: the mean member NLL is
# {glue:text}`nll_members` nats, the ensemble's {glue:text}`nll_ensemble`.
#
# ```{glue:figure} members_vs_ensemble
# :name: members-vs-ensemble
# {glue:text}`members_vs_ensemble_caption`
# ```
