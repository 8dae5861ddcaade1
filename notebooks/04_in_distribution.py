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
# (in-distribution)=
# # In-distribution results: Table 2
#
# The paper's Table 2 reports accuracy, NLL, Brier score, zipped size and compression
# ratio on the MNIST test set for the baseline ensemble and for each compressed
# ensemble. Its headline differences are tiny (+0.04, −0.01 and −0.05 percentage points
# at 25, 50 and 75 % sparsity), so this chapter adds what is needed to read them:
# bootstrap 95 % intervals, the *paired* interval of each difference to the baseline
# (both ensembles are evaluated on the same images), and the spread between whole runs
# with different seeds.

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
spread_profile = None  # None: evaluation.spread_plan(profile)
spread_seeds = None

# %% tags=["remove-cell"]
import numpy as np
import pandas as pd
from myst_nb import glue

from helpers import chapter, evaluation, metrics, plots, tables
from helpers.variants import int8_variants, parse_variant, sparsity_label, variants

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
cfg = exp.config
results = evaluation.evaluate(exp)
V = results["variants"]
q8 = int8_variants(cfg)
main_rows = ["baseline", "single", "q8"] + q8
ablation_rows = ["baseline"] + [v["name"] for v in variants(cfg)
                                if v["quantization"] != "int8" and v["name"] != "baseline"]
table2 = tables.table2(evaluation.table2_rows(results, main_rows))
ablation = tables.table2(evaluation.table2_rows(results, ablation_rows))
glue("table2", table2.style(), display=False)
glue("table2_ablation", ablation.style(), display=False)

base = V["baseline"]["mnist"]
chapter.glue_text("n_boot", f"{cfg.bootstrap_samples:,}")
chapter.glue_text("base_acc", chapter.pct(base["accuracy"]))
chapter.glue_text("base_acc_ci", f"{chapter.pct(base['accuracy_low'])} to {chapter.pct(base['accuracy_high'])}")
chapter.glue_text("single_acc", chapter.pct(V["single"]["mnist"]["accuracy"]))
chapter.glue_text("n_test", f"{len(exp.dataset('mnist_test')[1]):,}")
one_image = 1 / len(exp.dataset("mnist_test")[1])
chapter.glue_text("one_image_pp", f"{100 * one_image:.2f} pp")
for name in q8:
    m = V[name]["mnist"]
    chapter.glue_text(f"{name}_diff", chapter.pp(m["accuracy_diff"]))
    chapter.glue_text(f"{name}_diff_ci", f"{chapter.pp(m['accuracy_diff_low'])} to {chapter.pp(m['accuracy_diff_high'])}")
    chapter.glue_text(f"{name}_ratio", f"{V[name]['compression_ratio']:.1f}×")
inside = [n for n in q8 if n in tables.PAPER_CLAIMS and
          V[n]["mnist"]["accuracy_diff_low"] <= tables.PAPER_CLAIMS[n].accuracy_diff_pp / 100 <= V[n]["mnist"]["accuracy_diff_high"]]
chapter.glue_text("paper_inside", ", ".join(sparsity_label(n) for n in inside) if inside else "none of the sparsities")
significant = [n for n in q8 if not (V[n]["mnist"]["accuracy_diff_low"] <= 0 <= V[n]["mnist"]["accuracy_diff_high"])]
chapter.glue_text("significant", ", ".join(sparsity_label(n) for n in significant) if significant else "none")

# %% [markdown]
# ## Table 2
#
# The baseline ensemble reaches {glue:text}`base_acc` on the {glue:text}`n_test` MNIST
# test images (95 % bootstrap interval {glue:text}`base_acc_ci`, {glue:text}`n_boot`
# resamples); its first member alone reaches {glue:text}`single_acc`. One test image is
# worth {glue:text}`one_image_pp`, which is the scale of the paper's claimed differences.
#
# (table2)=
# **Table 2.** MNIST test results of the ensembles (mean of member probabilities) as in
# the paper: accuracy with its 95 % bootstrap interval; the difference to the baseline
# ensemble with its *paired* 95 % interval (same test images resampled for both); NLL
# (nats), Brier score (summed over the 10 classes, range 0-2) and expected calibration
# error (15 bins); zipped ensemble size and compression ratio against the float32 TFLite
# baseline; the paper's values beside ours where it states them.
#
# ```{glue:} table2
# ```
#
# Reading the differences with their intervals: the paired interval of the difference
# excludes zero for {glue:text}`significant`; the paper's own difference lies inside our
# interval for {glue:text}`paper_inside`. Per sparsity, our differences are

# %% tags=["remove-cell"]
diff_lines = "\n".join(
    f"- {round(100 * s)} %: {chapter.pp(V[n]['mnist']['accuracy_diff'])} "
    f"(95 % CI {chapter.pp(V[n]['mnist']['accuracy_diff_low'])} to "
    f"{chapter.pp(V[n]['mnist']['accuracy_diff_high'])}), ensemble {V[n]['compression_ratio']:.1f}× smaller"
    for s, n in zip(cfg.sparsities, q8))
from IPython.display import Markdown

glue("diff_list", Markdown(diff_lines), display=False)

# %% [markdown]
# ```{glue:md} diff_list
# :format: myst
# ```
#
# The ablation below separates the two steps of the paper's method: the pruned float32
# ensembles (no quantization) and the full-integer variant, where activations are
# quantized too.
#
# (table2-ablation)=
# **Table 2b.** Ablation: pruning without quantization, and full-integer int8.
#
# ```{glue:} table2_ablation
# ```

# %% tags=["remove-cell"]
plan_profile, plan_seeds = evaluation.spread_plan(profile)
spread_profile, spread_seeds = spread_profile or plan_profile, spread_seeds or plan_seeds
spread = evaluation.seed_spread(exp, profile=spread_profile, seeds=spread_seeds)
runs = spread["runs"]
spread_names = sorted({n for r in runs for n in r["accuracy_diff"]}, key=lambda n: parse_variant(n)[0])
frame = pd.DataFrame(
    {"Seed": [r["seed"] for r in runs],
     "Baseline accuracy (%)": [f"{100 * r['baseline_accuracy']:.2f}" for r in runs],
     **{f"Δ {sparsity_label(n)} (pp)": [tables.fmt_signed(100 * r["accuracy_diff"][n]) for r in runs]
        for n in spread_names}}).set_index("Seed")
sd = {n: float(np.std([100 * r["accuracy_diff"][n] for r in runs], ddof=1)) for n in spread_names}
frame.loc["standard deviation"] = [f"{np.std([100 * r['baseline_accuracy'] for r in runs], ddof=1):.2f}"] + [
    f"{sd[n]:.2f}" for n in spread_names]
glue("seed_spread", frame, display=False)
sc = spread["config"]
chapter.glue_text("spread_n", str(len(runs)))
chapter.glue_text("spread_setup", f"{sc['epochs']} training epoch(s), {sc['retrain_epochs']} re-training epoch(s), "
                                  f"{sc['train_subset'] or 60000:,} training images, M = {sc['ensemble_size']}")
chapter.glue_text("spread_sd_range", f"{min(sd.values()):.2f} to {max(sd.values()):.2f} pp")
chapter.glue_text("spread_profile", spread_profile)
base_sd = float(np.std([100 * r["baseline_accuracy"] for r in runs], ddof=1))
chapter.glue_text("spread_base_sd", f"{base_sd:.2f} pp")
mean_diff = {n: float(np.mean([100 * r["accuracy_diff"][n] for r in runs])) for n in spread_names}
chapter.glue_text("spread_mean_diffs", ", ".join(
    f"{tables.fmt_signed(v)} pp at {sparsity_label(n)}" for n, v in mean_diff.items()))

# %% [markdown]
# ## How large is run-to-run noise?
#
# The paper reports one run. To see how much its 0.01-0.05 pp differences could move
# from one run to the next, {glue:text}`spread_n` complete ensembles were trained and
# compressed with different seeds on the {glue:text}`spread_profile` profile
# ({glue:text}`spread_setup`; shorter than the paper's training, so the spread here is
# indicative, not exact). Across seeds the baseline accuracy varies with a standard
# deviation of {glue:text}`spread_base_sd`, and the accuracy *difference* of a compressed
# ensemble to its own baseline with a standard deviation of {glue:text}`spread_sd_range`.
# Differences smaller than that cannot be told apart from the luck of a seed. (The
# *mean* differences on this short profile, {glue:text}`spread_mean_diffs`, are not
# comparable with the paper's: its baseline is trained for only a few epochs, so the
# extra re-training epochs that pruning brings can also act as more training.)
#
# (seed-spread)=
# **Table 5.** Accuracy of the baseline ensemble and difference of each pruned + int8
# ensemble to it, for ensembles trained with different seeds.
#
# ```{glue:} seed_spread
# ```

# %% tags=["remove-cell"]
_, y_test = exp.dataset("mnist_test")
probs = {n: metrics.ensemble_mean(exp.member_probabilities(n, "mnist_test")) for n in ["baseline"] + q8}
fig, cap = plots.reliability_diagram(probs, y_test)
chapter.glue_figure("reliability", fig, exp)
chapter.glue_text("reliability_caption", cap)
chapter.glue_text("base_ece", chapter.pct(base["ece"]))
chapter.glue_text("ece_range", f"{chapter.pct(min(V[n]['mnist']['ece'] for n in q8))} to "
                               f"{chapter.pct(max(V[n]['mnist']['ece'] for n in q8))}")

# %% [markdown]
# ## Calibration
#
# Beyond the paper: a reliability diagram compares each ensemble's confidence with its
# accuracy {cite}`guo2017`. The baseline's expected calibration error is
# {glue:text}`base_ece`; the pruned, quantized ensembles range over
# {glue:text}`ece_range`.
#
# ```{glue:figure} reliability
# :name: reliability
# {glue:text}`reliability_caption`
# ```
