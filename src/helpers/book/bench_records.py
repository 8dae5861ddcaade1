"""benchmarks/results.json's inference records, one per CPU kind: speed depends on the
CPU's SIMD features (int8 dot products: VNNI, AMX), so a run on another CPU adds a record
instead of replacing the last one.

    key = cpu_key("Intel Xeon", {"avx2": True, "avx512_vnni": True, ...})  # 'Intel Xeon (avx2, avx512_vnni, …)'
    results = add_inference(results, record, machine)                       # results["inference_by_cpu"][key] = …

A results file from before (one "inference" record) is migrated: that record becomes the
first entry under its own CPU.
"""

from __future__ import annotations

INT8_DOT = ("avx512_vnni", "avx_vnni", "amx_int8")
"""The int8 dot-product instructions that make int8 kernels faster than float32 FMA."""


FEATURE_ORDER = ("fma", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_key(cpu_model: str | None, features: dict | None) -> str:
    """'AMD EPYC (fma, avx2)': the model and the SIMD features it has, in a fixed order
    (FEATURE_ORDER, then any other alphabetically), whatever order the record holds them in."""
    features = features or {}
    order = [*FEATURE_ORDER, *sorted(set(features) - set(FEATURE_ORDER))]
    have = [f for f in order if features.get(f)]
    return f"{cpu_model or 'unknown CPU'} ({', '.join(have) if have else 'no features recorded'})"


def by_cpu(results: dict) -> dict:
    """{cpu key: inference record} of a results file, the old single record included."""
    out = dict(results.get("inference_by_cpu", {}))
    legacy = results.get("inference")
    if legacy and not out:
        machine = results.get("machine", {})
        out[cpu_key(machine.get("cpu_model"), legacy.get("cpu_features"))] = {**legacy, "cpu_model": machine.get("cpu_model")}
    return out


def add_inference(results: dict, record: dict, machine: dict) -> dict:
    """A new results dict with `record` as the latest "inference" and as its CPU's entry of
    "inference_by_cpu" (other CPUs' entries kept)."""
    if "configurations" not in record:
        raise ValueError("an inference record needs its 'configurations' (bench_inference.measure's result).")
    entries = by_cpu(results)
    entry = {**record, "cpu_model": machine.get("cpu_model")}
    entries[cpu_key(machine.get("cpu_model"), record.get("cpu_features"))] = entry
    return {**results, "inference": record, "inference_by_cpu": dict(sorted(entries.items()))}


def int8_speedup(record: dict) -> tuple[str, float]:
    """(configuration, ratio): the fastest int8 configuration against TFLite float32."""
    int8 = {k: v for k, v in record["configurations"].items() if "int8" in k}
    best = max(int8, key=lambda k: int8[k]["vs_tflite_float32"])
    return best, float(int8[best]["vs_tflite_float32"])
