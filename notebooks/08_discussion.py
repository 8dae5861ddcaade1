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
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`summary`
# - {glue:text}`useful`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
from helpers.book import answers, chapter, frontier, frontier_answers, prose, verdict_answers, verdict_tables
from helpers.core.variants import int8_variants

view = chapter.setup(profile, **chapter.overrides(globals()))
R, S, q8 = view.results, view.summary, int8_variants(view.config)
rows = view.claims()

# %%
chapter.glue_table("claims_v2", verdict_tables.v2_table(S))
chapter.glue_text("counts_v2", verdict_answers.verdict_counts(S))
chapter.glue_text("provenance", verdict_answers.provenance(S))
chapter.glue_text("reopenable", verdict_answers.reopenable(S))
chapter.glue_text("power", verdict_answers.power(S))
chapter.glue_text("after_calibration", frontier_answers.verdicts_answer(frontier.frontier_view(S.data, profile)))
chapter.glue_markdown("contradictions", verdict_answers.contradictions(S, as_list=True))
r2 = view.rules_v2
chapter.glue_text("margins_v2", f"α = {r2.alpha:g}; no change in entropy and in disagreement within "
                  f"±{r2.entropy_margin_nats:g} and ±{r2.disagreement_margin_nats:g} nats, in the "
                  f"fraction with confidence ≥ τ within ±{r2.fraction_margin_pp:g} pp; accuracy, "
                  f"NLL and Brier margins as in v1; seeds needed at {100 * r2.power:g} % power")
chapter.glue_table("interval_verdicts", verdict_tables.interval_verdicts(S))
chapter.glue_text("image_variation", answers.image_variation(S, ["q8", *q8]))
chapter.glue_table("claims", verdict_tables.claims_table(rows))
chapter.glue_text("summary", prose.verdict_summary(rows, profile, S.n))
chapter.glue_markdown("criteria", "\n".join(f"- **{r['id']}**: {r['criterion']}." for r in rows))
r = view.rules
chapter.glue_text("margins", f"α = {r.alpha:g}; accuracy margin ±{r.accuracy_margin_pp:g} pp; "
                  f"NLL and Brier margins ±{100 * r.nll_margin_relative:g} % of the baseline's; "
                  f"seed-level intervals from {r.min_seeds} seeds")

# %% [markdown]
# ## Verdicts
#
# {glue:text}`provenance` {glue:text}`reopenable`
#
# ### Rules v2
#
# {glue:text}`counts_v2` Every claim is a list of parts (a sparsity step, an ensemble, a
# metric); a part *holds* when its test at α shows it (every step of a trend on the claimed
# side of zero; an equivalence by TOST), and *fails* when a test shows the opposite, with
# Holm's correction over all the claim's parts (a step inside the no-change margin, or
# against the claimed direction; an interval outside the claimed band). A claim is
# *supported* when every part holds (intersection-union: no correction needed), *split*
# when some hold and some fail, *contradicted* when some fail and none hold, and
# *inconclusive* otherwise. Margins: {glue:text}`margins_v2`.
#
# ```{glued-table} claims_v2
# :name: claims-v2
#
# Rules v2 on every seed, claim by claim and dataset by dataset: where each claim holds,
# where it fails, and how many seeds each open part would need.
# ```
#
# ```{glue:md} contradictions
# :format: myst
# ```
#
# After temperature scaling ({numref}`calibrated-verdicts` in {ref}`frontier`): {glue:text}`after_calibration`
#
# {glue:text}`power`
#
# ### Which interval each verdict uses
#
# Every verdict of rules v2 above uses the t-interval over seeds (and TOST on the
# per-seed values): it generalizes over training runs, on the paper's test sets as they
# are. The claims on accuracy, NLL and Brier differences (C2-C4 and C8) can also be judged
# with an interval that counts the test images as a sample (a two-way random-effects model
# of seeds and images; {numref}`two-level`), on the seeds whose per-image losses are
# committed.
#
# ```{glued-table} interval_verdicts
# :name: interval-verdicts
#
# C2-C4 and C8 judged three ways: on every seed over seeds (the book's verdict); on the
# seeds with per-image losses over seeds; on the same seeds over seeds and test images (the
# same TOST and Holm correction, with the two-level standard error and degrees of freedom
# in place of the seed means' own). The last column names the parts whose status differs between the two
# judgements on the same seeds.
# ```
#
# {glue:text}`image_variation`
#
# ### Rules v1
#
# ```{glued-table} claims
# :name: claims-table
#
# The paper's claims, this book's measurements and rules v1's verdicts on every seed, with
# the evidence that decided each (intervals between seeds, or the test-image spread of one
# run).
# ```
#
# {glue:text}`summary`
#
# (rules)=
# ### The rules of v1
#
# Claim by claim, the criterion each verdict of {numref}`claims-table` applies:
#
# ```{glue:md} criteria
# :format: myst
# ```
#
# The margins and levels these criteria use, from `_config.yml`: {glue:text}`margins`.

# %%
chapter.glue_text("resolution", prose.resolution(R, S, q8))
chapter.glue_text("spread", prose.spread(S, q8))
chapter.glue_text("sizes", prose.size_measure(view.sizes, R, q8))
chapter.glue_text("control", prose.control(R, S, "notmnist", "entropy"))
chapter.glue_text("mechanism", answers.mechanism(S, "notmnist", q8))
chapter.glue_text("useful", answers.usefulness(S, q8))

# %% [markdown]
# ## Where the results differ, and why
#
# **Accuracy.** {glue:text}`resolution` {glue:text}`spread`
#
# **Size.** {glue:text}`sizes`
#
# **Uncertainty and extra training.** {glue:text}`control` {glue:text}`mechanism`
#
# **Is the extra uncertainty useful?** {glue:text}`useful`
#
# The main sources of difference we cannot remove are the paper's unstated choices
# ({ref}`the reproduction choices <choices>`): the pruning schedule, the exact
# quantization path and how "zipped size" was measured shape the size ratios; batch size,
# seeds and a single run shape the accuracy differences.
