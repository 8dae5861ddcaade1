"""The appendix's tables, as pandas DataFrames of formatted strings: how the book was made
(each stage's wall time, the CPU and TensorFlow thread setting it ran under), the
benchmarks of benchmarks/results.json, and flat mappings (config values, data digests,
package versions).
"""

from __future__ import annotations

import pandas as pd

from helpers.core import fmt


def stage_times(manifest: dict, seed_records: list) -> pd.DataFrame:
    """Wall time of each stage of this store and of each seed's stages as the sweep recorded
    them. (Chapter times change with every build, so they stay in the store's git-ignored
    execution.json: a rebuild with unchanged inputs must not change the committed chapters.)"""

    def cpu(run):  # the CPU model, where the run's machine record has one (older ones do not)
        return (run.get("machine") or {}).get("cpu_model") or "CPU not recorded"

    rows = [
        {
            "What": f"{stage} (this store)",
            "Minutes": fmt.number(seconds / 60, 1),
            "CPU": cpu(manifest),
            "TF threads": tf_threads(manifest),
        }
        for stage, seconds in sorted(manifest.get("timings", {}).items())
    ]
    for record in seed_records:
        timings = record.get("timings", {})
        parts = ", ".join(f"{k} {fmt.number(v / 60, 1)}" for k, v in sorted(timings.items()))
        rows.append(
            {
                "What": f"seed {record['seed']}: {parts}",
                "Minutes": fmt.number(sum(timings.values()) / 60, 1),
                "CPU": cpu(record),
                "TF threads": tf_threads(record),
            }
        )
    return pd.DataFrame(rows).set_index("What")


def tf_threads(run: dict) -> str:
    """TensorFlow's thread pools of a run (a store manifest or a seed record), as its machine
    record holds them ({"intra_op", "inter_op"}, 0 = TensorFlow's default) or, for seed records
    written before machine records held them, as the sweep's own "tf_threads" field (the
    intra-op count, None = both pools at default). Weights are bit-reproducible only under
    the same setting, so the book shows it."""
    setting = (run.get("machine") or {}).get("tf_threads")
    if setting is None:
        if "tf_threads" not in run:
            return "not recorded"
        return "default" if run["tf_threads"] is None else f"intra-op {run['tf_threads']}"
    if not setting.get("intra_op") and not setting.get("inter_op"):
        return "default"
    return ", ".join(f"{pool.replace('_', '-')} {setting.get(pool) or 'default'}" for pool in ("intra_op", "inter_op"))


def inference_table(bench: dict) -> pd.DataFrame:
    """benchmarks/results.json "inference": one row per runtime configuration."""
    configs = bench.get("inference", {}).get("configurations", {})
    words = ("Keras", "XNNPACK", "member files", "float32", "(q8)", "full int8")

    def order(name):  # Keras first; XNNPACK before built-in; files before one graph; f32, q8, int8
        return [word not in name for word in words]

    rows = [
        {
            "Configuration": name,
            "Member-images / s": fmt.number(c["member_images_per_s"], 0, thousands=True),
            "vs TFLite float32": fmt.ratio(c["vs_tflite_float32"]),
            "Ensemble accuracy": fmt.pct(c["accuracy"]),
            "Mean |Δp| vs Keras": f"{c['mean_abs_dp_vs_keras']:.1e}",
        }
        for name, c in sorted(configs.items(), key=lambda kv: order(kv[0]))
    ]
    return pd.DataFrame(rows or [{"Configuration": "not run yet (make bench)"}]).set_index("Configuration")


def inference_by_cpu_table(bench: dict) -> pd.DataFrame:
    """One row per CPU kind the inference benchmark ran on: its int8 dot-product support,
    the fastest int8 configuration and its speed against float32 TFLite and Keras."""
    from helpers.book.bench_records import INT8_DOT, by_cpu, int8_speedup

    rows = []
    for key, record in by_cpu(bench).items():
        best, r = int8_speedup(record)
        configs = record["configurations"]
        keras = configs.get("Keras float32", {}).get("vs_tflite_float32")
        rows.append(
            {
                "CPU (SIMD features)": key,
                "int8 dot products": "yes" if any((record.get("cpu_features") or {}).get(f) for f in INT8_DOT) else "no",
                "Fastest int8": best,
                "vs TFLite float32": fmt.ratio(r),
                "vs Keras float32": fmt.ratio(r / keras) if keras else fmt.MISSING,
                "Load average": fmt.number(record.get("load_average"), 1),
                "Date": record.get("date", fmt.MISSING),
            }
        )
    return pd.DataFrame(rows or [{"CPU (SIMD features)": "not run yet (make bench)"}]).set_index("CPU (SIMD features)")


def mapping_table(mapping: dict, key: str, value: str) -> pd.DataFrame:
    """A two-column table of a flat mapping (versions, digests, config values)."""
    return pd.DataFrame([(k, str(v)) for k, v in sorted(mapping.items())], columns=[key, value]).set_index(key)


def digest_table(digests: dict) -> pd.DataFrame:
    """The data files' sha256 digests, each printed as two halves of 32 hex digits: one
    line of 64 would make the table wider than the page (the manifest holds them whole)."""
    halves = {name: f"{d[:32]} {d[32:]}" if isinstance(d, str) and len(d) == 64 else str(d) for name, d in digests.items()}
    return mapping_table(halves, "Data", "sha256")


def benchmark_table(bench: dict) -> pd.DataFrame:
    """benchmarks/results.json: one row per measured ratio."""

    def shown(value):
        if isinstance(value, bool):
            return "yes" if value else "no"
        return fmt.number(value, 2) if isinstance(value, float) else str(value)

    rows = [
        {"Benchmark": f"{section}: {name}", "Value": shown(value)}
        for section, values in bench.get("ratios", {}).items()
        for name, value in values.items()
    ]
    return pd.DataFrame(rows or [{"Benchmark": "not run yet (make bench)", "Value": fmt.MISSING}]).set_index("Benchmark")
