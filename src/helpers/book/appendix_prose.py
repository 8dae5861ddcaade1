"""The appendix's conclusions in prose, chosen from the benchmark records and the seed records:
inference speed per runtime and CPU kind, training against this CPU's limit, the thread
settings of the seeds (tests/test_prose.py builds inputs for every branch)."""

from __future__ import annotations

from helpers.core import fmt


def inference(bench: dict, goal: float = 1.5, same_within: float = 0.05) -> str:
    """Whether the compressed ensemble runs faster than the float32 one in the same
    runtime (benchmarks/results.json "inference"), and the likely reason when it does not;
    ratios within `same_within` of 1 count as the same speed (run-to-run timing noise)."""
    info = bench.get("inference")
    if not info:
        return "The inference benchmark has not been run on this machine yet (make bench)."
    configs = info["configurations"]
    int8 = {k: v for k, v in configs.items() if "int8" in k}
    best = max(int8, key=lambda k: int8[k]["vs_tflite_float32"])
    r = int8[best]["vs_tflite_float32"]
    keras = [v["vs_tflite_float32"] for k, v in configs.items() if k.startswith("Keras")]
    head = (
        f"In one runtime (LiteRT, {info['threads']} threads, {info['images']:,} images), the fastest int8 "
        f"configuration ({best}) runs at {fmt.ratio(r)} the speed of the float32 TFLite ensemble"
    )
    vs_keras = (
        f" Against Keras float32, which runs at {fmt.ratio(keras[0])} of TFLite float32, any "
        f"TFLite file looks fast; that comparison measures the runtime, not the compression."
        if keras
        else ""
    )
    if r >= goal:
        return head + f", above the goal of {fmt.ratio(goal, 1)}." + vs_keras
    cpu = info.get("cpu_features", {})
    reason = ""
    if cpu and not any(cpu.get(f) for f in ("avx512_vnni", "avx_vnni", "amx_int8")):
        reason = (
            " This CPU has FMA/AVX2 but no int8 dot-product instructions (VNNI): its int8 "
            "kernels widen to 16 bits and do about as many instructions per multiply-add as "
            "float32 FMA, and the int8-weights files add the on-the-fly quantization of every "
            "activation."
        )
    if r >= 1 + same_within:
        return head + f": faster than float32, but short of the goal of {fmt.ratio(goal, 1)}." + vs_keras
    pace = "slower than" if r < 1 - same_within else f"no faster than (within {fmt.pct(same_within, 0)})"
    return (
        head
        + f": {pace} float32, short of the goal of {fmt.ratio(goal, 1)}."
        + reason
        + ' On this machine the paper\'s "energy-efficient" holds for storage, not for compute.'
        + vs_keras
    )


def inference_across_cpus(bench: dict, same_within: float = 0.05) -> str:
    """Whether int8 runs faster than float32 in one runtime, said from every CPU kind the
    inference benchmark has run on (benchmarks/results.json "inference_by_cpu")."""
    from helpers.book.bench_records import INT8_DOT, by_cpu, int8_speedup

    entries = by_cpu(bench)
    if not entries:
        return "The inference benchmark has not been run yet (make bench)."
    rows = []
    for key, record in entries.items():
        _, r = int8_speedup(record)
        dot = any((record.get("cpu_features") or {}).get(f) for f in INT8_DOT)
        rows.append((key, r, dot))
    said = "; ".join(f"{fmt.ratio(r)} on {key}" for key, r, _ in rows)
    faster = [(k, d) for k, r, d in rows if r >= 1 + same_within]
    lead = f"The fastest int8 ensemble against the float32 TFLite ensemble, in the same runtime, CPU by CPU: {said}."
    if len(rows) == 1:
        key, r, dot = rows[0]
        verdict = "faster" if faster else "not faster"
        return (
            lead + f" Measured on one CPU kind only, int8 is {verdict} there; "
            "another CPU (with or without int8 dot-product instructions) may differ."
        )
    if not faster:
        return lead + " On none of them is int8 faster: the saving is in storage, not in compute."
    if len(faster) == len(rows):
        return lead + " int8 is faster on every CPU measured."
    if all(d for _, d in faster) and not any(d for k, r, d in rows if (k, d) not in faster):
        return (
            lead + " int8 is faster only on the CPUs with int8 dot-product instructions "
            "(VNNI or AMX); without them, its kernels widen to 16 bits and run no faster than float32."
        )
    return lead + " int8 is faster on " + fmt.and_list([k for k, _ in faster]) + " only."


def engine_limit(bench: dict, goal_minutes: float = 25, same_within: float = 0.05) -> str:
    """Whether a paper run in `goal_minutes` is within reach of this machine, judged from
    bench_limit's measurements (benchmarks/results.json "limit"): the engine against a raw
    TensorFlow step, the raw step against the speed needed, and the conv kernels timed alone."""
    info = bench.get("limit", {})
    raw, needed, kernels = (info.get("raw_tensorflow_step"), info.get("needed_for_25_min"), info.get("conv_kernels"))
    if not raw or not needed or not kernels:
        return "The engine's ceiling has not been measured on this machine yet (make bench)."
    need, ratio = needed["gflops"], raw["engine_of_raw"]
    text = (
        f"The engine trains at {fmt.ratio(ratio)} the speed of the same step written directly in "
        "TensorFlow"
        + (
            f", so the engine itself costs nothing measurable (within {fmt.pct(same_within, 0)})"
            if ratio >= 1 - same_within
            else ", so the engine itself is a cost worth removing"
        )
        + f". A {fmt.number(goal_minutes, 0)}-minute paper run needs {fmt.number(need, 0)} GFLOP/s "
        f"and the raw step reaches {fmt.number(raw['gflops'], 0)}"
    )
    if raw["gflops"] >= need:
        return text + ", so the goal is within reach of TensorFlow on this machine."
    used = [k for k in kernels if k["needed_in_training"]]
    fastest, slowest = max(used, key=lambda k: k["gflops"]), min(used, key=lambda k: k["gflops"])
    return text + (
        f", {fmt.ratio(need / raw['gflops'], 1)} short. Timed alone at the paper's batch size of 32, "
        f"the network's convolution kernels run at {fmt.number(slowest['gflops'], 0)} "
        f"({slowest['layer']} {slowest['kernel']}) to {fmt.number(fastest['gflops'], 0)} GFLOP/s "
        f"({fastest['layer']} {fastest['kernel']}), against a GEMM peak of "
        f"{fmt.number(info['gemm_gflops']['numpy'], 0)}: these small convolutions, "
        + ("not" if ratio >= 1 - same_within else "more than")
        + " the engine around them, keep the run far from the goal on this machine."
    )


def seed_threads(records: list) -> str:
    """Which thread setting each seed of the sweep ran under (appendix_tables.tf_threads): weights
    reproduce bit for bit only under a seed's own setting, so a mixed sweep says so."""
    from helpers.book.appendix_tables import tf_threads

    if not records:
        return "No seed of the sweep has finished yet."
    groups: dict[str, list[int]] = {}
    for record in sorted(records, key=lambda r: r["seed"]):
        groups.setdefault(tf_threads(record), []).append(record["seed"])
    if len(groups) == 1:
        [(setting, _)] = groups.items()
        return f"Every seed ran under the same TensorFlow thread setting ({setting})."
    parts = "; ".join(
        f"{'seed' if len(seeds) == 1 else 'seeds'} {', '.join(map(str, seeds))}: {setting}" for setting, seeds in groups.items()
    )
    return (
        f"The seeds ran under {len(groups)} TensorFlow thread settings ({parts}). A setting changes "
        "only the order in which some kernels add up, so each seed's weights reproduce bit for bit "
        "under its own setting (re-run it with the same TF_NUM_INTRAOP_THREADS and "
        "TF_NUM_INTEROP_THREADS), and all seeds are draws of the same experiment."
    )
