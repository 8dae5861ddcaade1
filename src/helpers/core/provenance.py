"""Where an artifact was made: the CPU (model and the SIMD features that decide float32 and
int8 speed), TensorFlow's thread setting (weights are bit-reproducible only with the same
one), Python and the library versions. The store records them in each manifest; the
benchmarks with each measurement.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = {"intra_op": "TF_NUM_INTRAOP_THREADS", "inter_op": "TF_NUM_INTEROP_THREADS"}


def tf_thread_setting() -> dict:
    """TensorFlow's thread pools as its own environment variables set them when a process
    starts: {"intra_op": N, "inter_op": N}, 0 for TensorFlow's default (one thread per core).
    The setting changes the summation order of some kernels (benchmarks/bench_limit.py), so
    weights are bit-reproducible only under the same setting: the manifest records it."""
    setting = {}
    for pool, name in THREAD_VARIABLES.items():
        text = os.environ.get(name, "").strip()
        if text and not text.isdigit():
            raise ValueError(
                f"{name}={text!r} is not a thread count; set it to a whole number "
                f"(e.g. {name}=2), or unset it for TensorFlow's default."
            )
        setting[pool] = int(text or 0)
    return setting


def machine_info() -> dict:
    """Where artifacts were made: weights are bit-reproducible only with the same thread
    setting; stage times compare only on the same CPU model (sessions may land on others)."""
    import platform

    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_features": cpu_features(),
        "tf_threads": tf_thread_setting(),
    }


def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.split(":", 1)[0].strip() == name:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str | None:
    """The CPU's model name (/proc/cpuinfo; None where there is none)."""
    return _cpuinfo_field("model name")


def cpu_features() -> dict:
    """The SIMD features that decide float32 and int8 speed: FMA/AVX2, AVX-512, and the
    int8 dot-product instructions (VNNI, AMX); {} where /proc/cpuinfo is missing."""
    flags = _cpuinfo_field("flags")
    if flags is None:
        return {}
    have = set(flags.split())
    return {f: f in have for f in ("fma", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")}


def library_versions() -> dict:
    import importlib.metadata as md

    names = [
        "tensorflow",
        "tf-keras",
        "tensorflow-model-optimization",
        "ai-edge-litert",
        "numpy",
        "scikit-learn",
        "scipy",
        "pandas",
    ]
    out = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out
