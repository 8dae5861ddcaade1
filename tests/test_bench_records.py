"""helpers.book.bench_records: one inference record per CPU kind, the old single record migrated,
and the appendix's row and sentence chosen from every CPU."""

from __future__ import annotations

import pytest

from helpers.book import appendix_prose, appendix_tables
from helpers.book import bench_records as B

AMD = {"fma": True, "avx2": True, "avx512f": False, "avx512_vnni": False, "avx_vnni": False, "amx_int8": False}
XEON = {**AMD, "avx512f": True, "avx512_vnni": True, "amx_int8": True}


def record(int8_ratio, features, keras=0.25):
    return {
        "threads": 2,
        "images": 5000,
        "load_average": 0.4,
        "cpu_features": features,
        "date": "2026-12-02",
        "configurations": {
            "Keras float32": {"vs_tflite_float32": keras},
            "float32, member files, XNNPACK": {"vs_tflite_float32": 1.0},
            "int8 weights (q8), member files, XNNPACK": {"vs_tflite_float32": int8_ratio},
            "full int8, member files, XNNPACK": {"vs_tflite_float32": int8_ratio * 0.6},
        },
    }


def test_cpu_key_names_the_model_and_its_features_in_order():
    assert B.cpu_key("AMD EPYC", AMD) == "AMD EPYC (fma, avx2)"
    assert B.cpu_key(None, {}) == "unknown CPU (no features recorded)"
    assert B.cpu_key("AMD EPYC", dict(sorted(AMD.items()))) == "AMD EPYC (fma, avx2)"  # a JSON record's order


def test_an_old_single_record_is_migrated_and_another_cpu_adds_a_row():
    old = {"inference": record(0.996, AMD), "machine": {"cpu_model": "AMD EPYC"}, "limit": {"x": 1}}
    assert list(B.by_cpu(old)) == ["AMD EPYC (fma, avx2)"]
    new = B.add_inference(old, record(1.73, XEON), {"cpu_model": "Intel Xeon"})
    assert list(new["inference_by_cpu"]) == ["AMD EPYC (fma, avx2)", "Intel Xeon (fma, avx2, avx512f, avx512_vnni, amx_int8)"]
    assert new["inference"]["cpu_features"] == XEON and new["limit"] == {"x": 1}
    again = B.add_inference(new, record(1.70, XEON), {"cpu_model": "Intel Xeon"})  # same CPU: replaced
    assert len(again["inference_by_cpu"]) == 2
    assert B.int8_speedup(again["inference_by_cpu"]["Intel Xeon (fma, avx2, avx512f, avx512_vnni, amx_int8)"]) == (
        "int8 weights (q8), member files, XNNPACK",
        1.70,
    )
    with pytest.raises(ValueError, match="needs its 'configurations'"):
        B.add_inference(old, {"cpu_features": AMD}, {})


def test_the_sentence_is_chosen_from_every_cpu():
    amd = B.add_inference({}, record(0.996, AMD), {"cpu_model": "AMD EPYC"})
    assert "Measured on one CPU kind only, int8 is not faster there" in appendix_prose.inference_across_cpus(amd)
    both = B.add_inference(amd, record(1.73, XEON), {"cpu_model": "Intel Xeon"})
    text = appendix_prose.inference_across_cpus(both)
    assert text.startswith(
        "The fastest int8 ensemble against the float32 TFLite ensemble, in the same runtime, "
        "CPU by CPU: 1.00× on AMD EPYC (fma, avx2); 1.73× on Intel Xeon"
    )
    assert text.endswith(
        "int8 is faster only on the CPUs with int8 dot-product instructions (VNNI or AMX); "
        "without them, its kernels widen to 16 bits and run no faster than float32."
    )
    slow = B.add_inference(amd, record(1.01, XEON), {"cpu_model": "Intel Xeon"})
    assert appendix_prose.inference_across_cpus(slow).endswith(
        "On none of them is int8 faster: the saving is in storage, not in compute."
    )
    assert appendix_prose.inference_across_cpus({}) == "The inference benchmark has not been run yet (make bench)."


def test_the_table_has_a_row_per_cpu():
    both = B.add_inference(
        B.add_inference({}, record(0.996, AMD), {"cpu_model": "AMD EPYC"}), record(1.73, XEON), {"cpu_model": "Intel Xeon"}
    )
    table = appendix_tables.inference_by_cpu_table(both)
    assert list(table["int8 dot products"]) == ["no", "yes"]
    assert list(table["vs TFLite float32"]) == ["1.00×", "1.73×"]
    assert list(table["vs Keras float32"]) == ["3.98×", "6.92×"]
    assert appendix_tables.inference_by_cpu_table({}).index[0] == "not run yet (make bench)"
