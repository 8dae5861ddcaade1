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
# (beyond-notmnist)=
# # Beyond NotMNIST: dataset shift, a second OOD set, and the memory budget
#
# The paper's headline — uncertainty rises with sparsity — rests on one out-of-distribution
# set. Following {cite:t}`ovadia2019`, this chapter asks whether it holds on a second one
# (Fashion-MNIST {cite:p}`xiao2017`), under growing *shift* (MNIST rotated by up to 180°)
# and under the corruptions of MNIST-C {cite:p}`mu2019`; and whether a compressed ensemble
# is the best use of a memory budget at all.
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`findings_entropy`
# - {glue:text}`findings_disagreement`
# - {glue:text}`budget_text`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
from helpers.book import answers, chapter, figures, interactive, prose, report, shift_plots, verdict_tables
from helpers.core import fmt
from helpers.core.variants import int8_variants
from helpers.data import corruptions, shift

view = chapter.setup(profile, **chapter.overrides(globals()))
R, S, q8 = view.results, view.summary, int8_variants(view.config)
chapter.glue_text("level", view.summary.level)  # the intervals' confidence level (the rules' alpha)
rot = [d for d, i in R["datasets"].items() if i["family"] == "rotated_mnist"]
cor = [d for d, i in R["datasets"].items() if i["family"] == "corrupted_mnist"]

# %%
x_clean = view.exp.dataset("mnist_test")[0][:4]
fig, _ = shift_plots.corruption_grid(x_clean, corruptions.CORRUPTIONS, n_examples=4, seed=view.config.seed)
chapter.glue_figure("corruptions", fig, view)
fig, _ = shift_plots.rotation_strip(x_clean, shift.ROTATION_ANGLES, n_examples=2)
chapter.glue_figure("rotations", fig, view)
chapter.glue_text("n_shift", f"{R['datasets'][rot[0]]['n']:,}")
chapter.glue_text("n_corruptions", str(len(cor)))
chapter.glue_text("n_fashion", f"{R['datasets']['fashion_mnist']['n']:,}")
base = R["variants"]["baseline"]
worst_rot, worst_cor = (min(sets, key=lambda d: base[d]["accuracy"]) for sets in (rot, cor))
chapter.glue_text("seed0", str(R.get("seed", 0)))
chapter.glue_text("base_clean_acc", fmt.pct(base["mnist"]["accuracy"]))
chapter.glue_text("base_worst_rot_acc", fmt.pct(base[worst_rot]["accuracy"]))
chapter.glue_text("worst_rot_angle", f"{R['datasets'][worst_rot]['intensity']}°")
chapter.glue_text("base_worst_cor_acc", fmt.pct(base[worst_cor]["accuracy"]))
chapter.glue_text("worst_cor_name", shift_plots.corruption_label(R["datasets"][worst_cor]["intensity"]))

# %% [markdown]
# ## The shifted sets
#
# Each shifted set is the same {glue:text}`n_shift` MNIST test images (a seeded sample),
# rotated (`scipy.ndimage.rotate`, bilinear) or corrupted with MNIST-C's {glue:text}`n_corruptions`
# corruptions at MNIST-C's severities (SciPy / scikit-image, seeded per image). The
# second OOD set is the {glue:text}`n_fashion` Fashion-MNIST test images.
#
# ```{glue:figure} rotations
# :name: rotations
#
# Two test digits at every rotation angle evaluated.
# ```
#
# ```{glue:figure} corruptions
# :name: corruptions
#
# Every corruption on the same four test digits (top row: clean).
# ```
#
# On these sets the float32 baseline (seed {glue:text}`seed0`) classifies
# {glue:text}`base_worst_rot_acc` of the digits correctly at its worst rotation
# ({glue:text}`worst_rot_angle`) and {glue:text}`base_worst_cor_acc` under its worst
# corruption ({glue:text}`worst_cor_name`), against {glue:text}`base_clean_acc` on the clean
# MNIST test set.

# %%
shown = ["baseline", "ft_q8", "q8", *q8]
for key, ylabel, scale in (("accuracy", "accuracy (%)", 100), ("mean_entropy", "entropy (nats)", 1),
                           ("mean_disagreement", "disagreement (nats)", 1)):
    series = {n: {R["datasets"][d]["intensity"]: R["variants"][n][d][key] for d in rot} for n in shown}
    fig, _ = shift_plots.metric_vs_rotation(series, ylabel, scale=scale)
    chapter.glue_figure(f"rot_{key}", fig, view)
    chapter.glue_interactive(f"rot_{key}_interactive", interactive.metric_vs_rotation(series, ylabel, scale))
    series = {n: {R["datasets"][d]["intensity"]: R["variants"][n][d][key] for d in cor} for n in shown}
    fig, _ = shift_plots.metric_by_corruption(series, ylabel, scale=scale)
    chapter.glue_figure(f"cor_{key}", fig, view)
chapter.glue_table("shift_entropy", report.shift_table(R, shown, [*rot, *cor], "mean_entropy", fmt.nats,
                                                             "mean entropy, nats"))
for family in ("rotated_mnist", "corrupted_mnist"):  # each section ends on its finding, over seeds
    chapter.glue_text(f"finding_{family}", " ".join([answers.answer_uncertainty(S, [family]),
                                                     answers.answer_disagreement(S, [family])])
                      if S.has("q8", family) else "This set has not been evaluated over seeds yet.")

# %% [markdown]
# ## Rotated MNIST
#
# ```{glue:figure} rot_accuracy
# :name: rot-accuracy
#
# Accuracy against rotation angle, one line per ensemble.
# ```
#
# :::{dropdown} Accuracy, entropy and disagreement against rotation, interactive (hover a point for its ensemble)
# ```{glue:} rot_accuracy_interactive
# ```
# ```{glue:} rot_mean_entropy_interactive
# ```
# ```{glue:} rot_mean_disagreement_interactive
# ```
# :::
#
# ```{glue:figure} rot_mean_entropy
# :name: rot-entropy
#
# Predictive entropy against rotation angle.
# ```
#
# ```{glue:figure} rot_mean_disagreement
# :name: rot-disagreement
#
# Members' disagreement against rotation angle.
# ```
#
# {glue:text}`finding_rotated_mnist`
#
# ## Corrupted MNIST
#
# ```{glue:figure} cor_accuracy
# :name: cor-accuracy
#
# Accuracy under each corruption.
# ```
#
# ```{glue:figure} cor_mean_entropy
# :name: cor-entropy
#
# Predictive entropy under each corruption.
# ```
#
# ```{glue:figure} cor_mean_disagreement
# :name: cor-disagreement
#
# Members' disagreement under each corruption.
# ```
#
# ```{glued-table} shift_entropy
# :name: shift-entropy
#
# Mean predictive entropy (nats) on every shifted set.
# ```
#
# {glue:text}`finding_corrupted_mnist`

# %%
others = [d for d in ("fashion_mnist", "rotated_mnist", "corrupted_mnist") if S.has("q8", d)]
chapter.glue_table("verdicts_by_dataset", verdict_tables.v2_by_dataset(S, ["notmnist", *others]))
# The rotated and corrupted sets' findings end their own sections above: here Fashion-MNIST's.
fashion = [d for d in others if d == "fashion_mnist"]
chapter.glue_text("findings_entropy", answers.answer_uncertainty(S, fashion) if fashion else "")
chapter.glue_text("findings_disagreement", answers.answer_disagreement(S, fashion) if fashion else "")
chapter.glue_text("mechanism_others", " ".join(answers.mechanism(S, d, q8) for d in others))
chapter.glue_table("detection_fashion", report.detection_table(R, shown, "fashion_mnist"))
chapter.glue_text("control_fashion", prose.control(R, S, "fashion_mnist", "entropy"))

# %% [markdown]
# ## Verdicts per dataset
#
# The paper's uncertainty claims judged by rules v2 on each dataset, over seeds (C6's
# MNIST half stays on clean MNIST; the rotated and corrupted sets are averaged over their
# angles and corruptions):
#
# ```{glued-table} verdicts_by_dataset
# :name: verdicts-by-dataset
#
# Rules v2's verdicts of C6 (confidence falls), C7 (entropy and disagreement rise) and C10
# (disagreement rises) with sparsity, per dataset; *split*: holds at some steps and is
# shown to fail at others (every step in {ref}`the discussion <discussion>`).
# ```
#
# {glue:text}`findings_entropy` {glue:text}`findings_disagreement`
#
# {glue:text}`mechanism_others`
#
# ```{glued-table} detection_fashion
# :name: detection-fashion
#
# Detection of Fashion-MNIST against MNIST, by each uncertainty score.
# ```
#
# {glue:text}`control_fashion`

# %%
from helpers.core.variants import BUDGET_PANELS

names = [n for n in R["variants"] if S.has(n, "mnist")]
chapter.glue_figure("budget", figures.memory_budget(S, names), view)
chapter.glue_interactive("budget_interactive", interactive.memory_budget(S, names))
chapter.glue_text("budget_text", prose.budget(S, BUDGET_PANELS))

# %% [markdown]
# ## Which model gives the best uncertainty per kilobyte?
#
# ```{glue:figure} budget
# :name: memory-budget
#
# Zipped size against MNIST NLL, MNIST ECE and NotMNIST AUROC (entropy) for every
# ensemble: compressed ensembles, the control, full-integer variants, and ensembles of
# fewer int8 members (1 to M; no new training). Points are means over seeds with {glue:text}`level`
# t-intervals; the dashed line joins the Pareto front.
# ```
#
# :::{dropdown} The same figure, interactive (hover a point for its ensemble and value, drag to zoom)
# ```{glue:} budget_interactive
# ```
# :::
#
# {glue:text}`budget_text`
