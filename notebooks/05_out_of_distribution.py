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
# # Out-of-distribution results: Figures 1 and 2
#
# NotMNIST letters have no correct digit label, so accuracy is meaningless there; what
# matters is whether the ensemble *knows* it is guessing. The paper looks at three
# signals {cite}`ovadia2019`: the confidence curve (how many samples the ensemble
# would classify if it only answered when its confidence is at least τ), the
# predictive entropy of the mean prediction, and the members' disagreement.

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
import pandas as pd
from myst_nb import glue

from helpers import chapter, evaluation, metrics, plots
from helpers.variants import int8_variants

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
cfg = exp.config
results = evaluation.evaluate(exp)
V = results["variants"]
q8 = int8_variants(cfg)
shown = ["baseline"] + q8
_, y_test = exp.dataset("mnist_test")
members_in = {n: exp.member_probabilities(n, "mnist_test") for n in shown}
members_out = {n: exp.member_probabilities(n, "notmnist") for n in shown}
mean_in = {n: metrics.ensemble_mean(p) for n, p in members_in.items()}
mean_out = {n: metrics.ensemble_mean(p) for n, p in members_out.items()}

fig, cap = plots.figure1_confidence_curves({n: (mean_in[n], y_test) for n in shown}, mean_out)
chapter.glue_figure("fig1", fig, exp)
chapter.glue_text("fig1_caption", cap)
chapter.glue_text("tau", f"{results['tau']:.1f}")
fr_in = [V[n]["mnist"]["conf_frac_090"] for n in shown]
fr_out = [V[n]["notmnist"]["conf_frac_090"] for n in shown]
chapter.glue_text("base_in_frac", chapter.pct(fr_in[0], 1))
chapter.glue_text("base_out_frac", chapter.pct(fr_out[0], 1))
chapter.glue_text("in_frac_range", f"{chapter.pct(min(fr_in), 1)} to {chapter.pct(max(fr_in), 1)}")
chapter.glue_text("out_frac_range", f"{chapter.pct(min(fr_out), 1)} to {chapter.pct(max(fr_out), 1)}")
inside = [n for n, f in zip(shown, fr_out) if 0.16 <= f <= 0.32]
chapter.glue_text("out_inside", f"{len(inside)} of {len(shown)}")
chapter.glue_text("n_ood", f"{len(mean_out['baseline']):,}")

# %% [markdown]
# ## Figure 1: confidence curves
#
# At τ = {glue:text}`tau` the paper's ensembles classify more than 90 % of MNIST but only
# 16-32 % of NotMNIST. Ours: the baseline ensemble classifies {glue:text}`base_in_frac`
# of MNIST and {glue:text}`base_out_frac` of the {glue:text}`n_ood` NotMNIST images;
# across the baseline and the pruned int8 ensembles the MNIST fraction ranges over
# {glue:text}`in_frac_range` and the NotMNIST fraction over {glue:text}`out_frac_range`
# ({glue:text}`out_inside` inside the paper's 16-32 % band).
#
# ```{glue:figure} fig1
# :name: fig1
# Figure 1. {glue:text}`fig1_caption`
# ```

# %% tags=["remove-cell"]
entropy = {n: metrics.entropy(mean_out[n]) for n in shown}
disagreement = {n: metrics.disagreement(members_out[n]) for n in shown}
fig, cap = plots.figure2_uncertainty(entropy, disagreement, n_boot=cfg.bootstrap_samples)
chapter.glue_figure("fig2", fig, exp)
chapter.glue_text("fig2_caption", cap)


def _series(key):
    return " → ".join(f"{V[n]['notmnist'][key]:.3f}" for n in shown)


chapter.glue_text("entropy_series", _series("mean_entropy"))
chapter.glue_text("disagreement_series", _series("mean_disagreement"))
mi = metrics.mutual_information(members_out["baseline"])
gap = float(abs(mi - disagreement["baseline"]).max())
chapter.glue_text("mi_gap", f"{gap:.1e}")

# %% [markdown]
# ## Figure 2: uncertainty on NotMNIST
#
# The paper reports that every uncertainty measure rises with sparsity. The mean
# predictive entropy (nats) of our ensembles, from the baseline through each sparsity,
# is {glue:text}`entropy_series`; the mean disagreement is
# {glue:text}`disagreement_series`.
#
# ```{glue:figure} fig2
# :name: fig2
# Figure 2. {glue:text}`fig2_caption`
# ```
#
# A note on "disagreement": the mean over members of KL(p_m ‖ p_mean) is exactly the
# mutual information between the prediction and the member index, H(p_mean) − mean_m
# H(p_m), the BALD score of active learning. Computed both ways on the baseline's
# NotMNIST predictions the two agree to {glue:text}`mi_gap` nats. So the paper's
# disagreement is the *epistemic* part of the predictive entropy, and entropy minus
# disagreement is the members' average own (aleatoric) uncertainty.

# %% tags=["remove-cell"]
scores_in = {n: metrics.entropy(mean_in[n]) for n in shown}
fig, cap = plots.ood_roc_curves(scores_in, entropy, score_name="entropy")
chapter.glue_figure("ood_roc", fig, exp)
chapter.glue_text("ood_roc_caption", cap)
ood_frame = pd.DataFrame({
    "Variant": [plots.variant_label(n) for n in shown],
    "AUROC, entropy": [f"{V[n]['notmnist']['auroc']:.4f}" for n in shown],
    "AUPR, entropy": [f"{V[n]['notmnist']['aupr']:.4f}" for n in shown],
    "FPR at 95 % TPR": [f"{100 * V[n]['notmnist']['fpr_at_95_tpr']:.1f} %" for n in shown],
    "AUROC, disagreement": [
        f"{metrics.ood_scores_from_scores(metrics.disagreement(members_in[n]), disagreement[n])['auroc']:.4f}"
        for n in shown],
}).set_index("Variant")
glue("ood_table", ood_frame, display=False)
aurocs = [V[n]["notmnist"]["auroc"] for n in shown]
chapter.glue_text("auroc_range", f"{min(aurocs):.3f} to {max(aurocs):.3f}")
best = shown[max(range(len(shown)), key=lambda i: aurocs[i])]
chapter.glue_text("auroc_best", plots.variant_label(best))

# %% [markdown]
# ## Does more uncertainty mean better OOD detection?
#
# Higher uncertainty on NotMNIST helps only if it separates NotMNIST from MNIST; if the
# compressed ensembles are simply less confident everywhere, nothing is gained. Treating
# "is NotMNIST" as the positive class and the predictive entropy as the score, the area
# under the ROC curve ranges over {glue:text}`auroc_range`, highest for the
# {glue:text}`auroc_best` ensemble.
#
# (ood-table)=
# **Table 6.** OOD detection (NotMNIST positives, MNIST test negatives) per ensemble.
#
# ```{glue:} ood_table
# ```
#
# ```{glue:figure} ood_roc
# :name: ood-roc
# {glue:text}`ood_roc_caption`
# ```
