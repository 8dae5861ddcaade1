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
# (appendix)=
# # Appendix: provenance
#
# What produced the numbers in this book: the configuration and its hash, the data
# digests, the library versions, and the wall time of every stage and chapter on the
# machine that built it.

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

from helpers import chapter

exp = chapter.open_experiment(profile, **chapter.overrides(globals()))
manifest = exp.store.manifest()
timings = manifest.get("timings", {})
execution = exp.store.read_json("execution.json", {})
stage_rows = [(stage, f"{seconds / 60:.1f}") for stage, seconds in timings.items()]
# This build's chapters run before this one; the book build and this chapter are from the
# previous build (execution.json is rewritten by every `python -m helpers build`).
stage_rows += [(f"chapter {name}" if name != "book_build" else "book build (previous build)",
                f"{info['seconds'] / 60:.1f}") for name, info in sorted(execution.items())
               if isinstance(info, dict) and "seconds" in info]
glue("timings", pd.DataFrame(stage_rows, columns=["Stage", "Wall time (min)"]).set_index("Stage"),
     display=False)
glue("versions", pd.DataFrame(sorted(manifest.get("versions", {}).items()),
                              columns=["Package", "Version"]).set_index("Package"), display=False)
glue("digests", pd.DataFrame(sorted(manifest.get("data_digests", {}).items()),
                             columns=["Data", "sha256"]).set_index("Data"), display=False)
values = exp.config.values()
glue("config", pd.DataFrame([(k, str(v)) for k, v in values.items() if k not in ("model", "data", "config_path")],
                            columns=["Key", "Value"]).set_index("Key"), display=False)
chapter.glue_text("config_hash", exp.config.hash)
chapter.glue_text("store", f"artifacts/{exp.store.root.name}")
total = sum(timings.values()) / 60
chapter.glue_text("total_minutes", f"{total:.1f}")
machine = manifest.get("machine", {})
chapter.glue_text("cpu_count", str(machine.get("cpu_count", "an unrecorded number of")))

# %% [markdown]
# ## Configuration
#
# Config hash {glue:text}`config_hash`; artifacts in {glue:text}`store`.
#
# ```{glue:} config
# ```
#
# ## Wall time
#
# Training, pruning and quantization took {glue:text}`total_minutes` minutes in all on
# the machine that produced the artifacts ({glue:text}`cpu_count` CPU cores, no GPU);
# chapter times are papermill's. With op determinism on, the same configuration gives
# bit-identical weights on a machine with the same number of cores: TensorFlow splits
# work over one thread per core, and another split rounds differently, which moves the
# results by amounts far inside the run-to-run spread of chapter 4.
#
# ```{glue:} timings
# ```
#
# ## Data and libraries
#
# ```{glue:} digests
# ```
#
# ```{glue:} versions
# ```
