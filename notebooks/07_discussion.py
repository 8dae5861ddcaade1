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
# (discussion)=
# # Discussion: what holds up
#
# Every quantitative claim of the paper (C1–C10), beside what this book measured, with a
# verdict chosen by a rule written down — and committed — before the paper-profile seeds
# ran ({ref}`the rules <rules>` below; code in `helpers/verdicts.py` and
# `helpers/claims.py`, a unit test for every branch). Four verdicts: **supported** (the
# data show it), **consistent, not resolved** (nothing contradicts it, but the data cannot
# tell at this resolution), **contradicted** (the data show otherwise), **not tested**.

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
from helpers import chapter, prose, report
from helpers.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, runs, q8 = view.results, view.runs, int8_variants(view.config)
rows = view.claims()

# %%
chapter.glue_table("claims", report.claims_table(rows))
chapter.glue_text("summary", prose.verdict_summary(rows, profile, len(runs)))
chapter.glue_markdown("criteria", "\n".join(f"- **{r['id']}**: {r['criterion']}." for r in rows))
r = view.rules
chapter.glue_text("margins", f"α = {r.alpha:g}; accuracy margin ±{r.accuracy_margin_pp:g} pp; "
                  f"NLL and Brier margins ±{100 * r.nll_margin_relative:g} % of the baseline's; "
                  f"seed-level intervals from {r.min_seeds} seeds")

# %% [markdown]
# ## Verdicts
#
# {glue:text}`summary`
#
# ```{glued-table} claims
# :name: claims-table
#
# The paper's claims, this book's measurements and the verdicts, with the evidence that
# decided each (intervals between seeds, or the test-image spread of one run).
# ```
#
# (rules)=
# ### The rules
#
# Margins and levels, from `_config.yml`: {glue:text}`margins`. Claim by claim:
#
# ```{glue:md} criteria
# :format: myst
# ```

# %%
chapter.glue_text("resolution", prose.resolution(R, runs, q8))
chapter.glue_text("spread", prose.spread(runs, q8))
chapter.glue_text("sizes", prose.size_measure(view.sizes, R, q8))
chapter.glue_text("control", prose.control(R, runs, "notmnist", "entropy"))
chapter.glue_text("headline", prose.headline(rows, R, runs))

# %% [markdown]
# ## Where the results differ, and why
#
# **Accuracy.** {glue:text}`resolution` {glue:text}`spread`
#
# **Size.** {glue:text}`sizes`
#
# **Uncertainty and extra training.** {glue:text}`control`
#
# **Is the extra uncertainty useful?** {glue:text}`headline`
#
# The main sources of difference we cannot remove are the paper's unstated choices
# ({ref}`the reproduction choices <choices>`): the pruning schedule, the exact
# quantization path and how "zipped size" was measured shape the size ratios; batch size,
# seeds and a single run shape the accuracy differences.
