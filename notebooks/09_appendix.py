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
# # Appendix: provenance and speed
#
# What produced the numbers in this book: the configuration and its hash, the data
# digests, the library versions, the wall time of every stage, seed and chapter on the
# machine that built it, and how fast the engine runs against this machine's limit.
#
# :::{admonition} Key findings
# :class: tip key-findings
#
# - {glue:text}`inference_verdict`
# - {glue:text}`seed_threads`
# :::

# %% tags=["parameters", "remove-cell"]
profile = "paper"
overrides = {}  # any config key of _config.yml, e.g. {"seed": 3, "bootstrap_samples": 200}

# %% tags=["remove-cell"]
import json

from helpers.book import appendix_prose, appendix_tables, chapter
from helpers.core.config import REPO_ROOT
from helpers.stages.records import load_seed_records

view = chapter.setup(profile, **chapter.overrides(globals()))
manifest = view.store.manifest()

# %%
values = {k: v for k, v in view.config.values().items() if k not in ("model", "data", "config_path")}
chapter.glue_table("config", appendix_tables.mapping_table(values, "Key", "Value"))
chapter.glue_text("config_hash", view.config.hash)
chapter.glue_text("store", f"artifacts/{view.store.root.name}")
records = load_seed_records(view.store.root)
chapter.glue_table("timings", appendix_tables.stage_times(manifest, records))
chapter.glue_text("seed_threads", appendix_prose.seed_threads(records))
chapter.glue_table("digests", appendix_tables.digest_table(manifest.get("data_digests", {})))
chapter.glue_table("versions", appendix_tables.mapping_table(manifest.get("versions", {}), "Package", "Version"))
chapter.glue_text("cpu_count", str(manifest.get("machine", {}).get("cpu_count", "an unrecorded number of")))
bench_file = REPO_ROOT / "benchmarks" / "results.json"
bench = json.loads(bench_file.read_text()) if bench_file.exists() else {}
chapter.glue_table("bench", appendix_tables.benchmark_table(bench))
chapter.glue_text("engine_limit", appendix_prose.engine_limit(bench))
chapter.glue_table("inference", appendix_tables.inference_table(bench))
chapter.glue_text("inference_verdict", appendix_prose.inference(bench))
chapter.glue_table("inference_by_cpu", appendix_tables.inference_by_cpu_table(bench))
chapter.glue_text("inference_cpus", appendix_prose.inference_across_cpus(bench))

# %% [markdown]
# ## Configuration
#
# Config hash {glue:text}`config_hash`; artifacts in {glue:text}`store`.
#
# ```{glued-table} config
# :name: config-table
#
# Every configuration value of this build (`_config.yml`, profile and overrides).
# ```
#
# ## Wall time
#
# Measured on the machine that produced the artifacts ({glue:text}`cpu_count` CPU cores,
# no GPU). With op determinism on, the same configuration gives bit-identical weights on a
# machine with the same number of cores and the same thread settings (recorded in the
# manifest); another split of the work rounds differently. {glue:text}`seed_threads`
#
# A stage's time is the sum of the wall times of its completed pieces (each training and
# re-training epoch, and quantization as a whole); evaluation is not timed. An epoch cut
# short by a killed run is not counted, but time the process spent waiting for cores it
# shared with other work, or paused, is. Compare seeds' times only where they ran alone
# under the same thread setting.
#
# ```{glued-table} timings
# :name: timings
#
# Wall time of each stage of this store and of each seed of the sweep (each chapter's time
# is in the store's `execution.json`, which changes with every build).
# ```
#
# ## Speed against this machine's limit
#
# How fast could a paper run be here? The benchmark times this machine's float32 GEMM (its
# practical peak), the engine's training and re-training epochs, a training step written
# directly in TensorFlow, and each convolution kernel of the network alone.
# {glue:text}`engine_limit`
#
# ```{glued-table} bench
# :name: bench
#
# `make bench`: every ratio measured side by side in one run (`benchmarks/results.json`).
# ```
#
# ## Inference in one runtime
#
# Is the compressed ensemble faster, and so plausibly cheaper in energy, as the paper
# suggests? Every configuration below runs in the same LiteRT interpreter on the same MNIST
# test images: float32, int8 weights (the paper's files) and full int8; the members as
# separate files or as one graph; with LiteRT's default XNNPACK delegate or with its
# built-in kernels. {glue:text}`inference_verdict`
#
# ```{glued-table} inference
# :name: inference
#
# Ensemble inference throughput per configuration (`benchmarks/bench_inference.py`), with
# the ensemble's accuracy and its mean absolute difference from the Keras probabilities.
# ```
#
# Speed depends on the CPU: int8 kernels are faster than float32 only where the CPU has
# int8 dot-product instructions. Every CPU kind the benchmark has run on keeps its own
# record. {glue:text}`inference_cpus`
#
# ```{glued-table} inference_by_cpu
# :name: inference-by-cpu
#
# The fastest int8 ensemble against float32, per CPU kind the inference benchmark ran on
# (`make bench` on another machine adds a row), with the load average during the run.
# ```
#
# ## Data and libraries
#
# ```{glued-table} digests
# :name: digests
#
# sha256 of every data file and of the decoded arrays, each in two halves of 32 hex digits
# (whole in `artifacts/paper/manifest.json`).
# ```
#
# ```{glued-table} versions
# :name: versions
#
# Library versions of the run that produced the artifacts.
# ```
