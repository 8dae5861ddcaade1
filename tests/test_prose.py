"""Every conclusion sentence of helpers.book.prose, one constructed world per outcome."""

from __future__ import annotations

import copy

import pytest

from helpers.book import appendix_prose, prose
from helpers.stages import seed_numbers
from helpers.stats.verdicts import CONTRADICTED, NOT_TESTED, SUPPORTED, UNRESOLVED


def run(
    seed=0, acc=None, entropy=None, ft_entropy=0.50, q8_entropy=0.50, control=(-0.02, -0.03, -0.01), auroc=None, half_width=0.0011
):
    acc = acc or {
        "baseline": 0.9936,
        "q8": 0.9936,
        "ft_q8": 0.9937,
        "s25_q8": 0.9940,
        "s50_q8": 0.9935,
        "s75_q8": 0.9941,
        "s95_q8": 0.983,
    }
    entropy = entropy or {"s25_q8": 0.48, "s50_q8": 0.52, "s75_q8": 0.55, "s95_q8": 0.80}
    auroc = auroc or {"q8": 0.970, "s25_q8": 0.972, "s50_q8": 0.973, "s75_q8": 0.975, "s95_q8": 0.978}
    V = {}
    for name, a in acc.items():
        d = a - acc["baseline"]
        ent = {"q8": q8_entropy, "ft_q8": ft_entropy, "baseline": 0.5}.get(name, entropy.get(name))
        V[name] = {
            "mnist": {
                "accuracy": a,
                "accuracy_diff": d,
                "accuracy_diff_low": d - half_width,
                "accuracy_diff_high": d + half_width,
            },
            "notmnist": {"mean_entropy": ent, "detection": {"entropy": {"auroc": auroc.get(name, 0.97)}}},
            "zipped_bytes": {"s95_q8": 28000, "single_q8": 27000}.get(name, 100000),
        }
    V["single_q8"] = copy.deepcopy(V["q8"]) | {"zipped_bytes": 27000}
    V["single_q8"]["mnist"] |= {"nll": 0.048, "ece": 0.004}
    V["s95_q8"]["mnist"] |= {"nll": 0.077, "ece": 0.02}
    V["single_q8"]["notmnist"]["detection"]["entropy"]["auroc"] = 0.95
    est, low, high = control
    vs_control = {"s25_q8": {"notmnist": {"entropy": {"estimate": est, "low": low, "high": high}}}}
    return {
        "seed": seed,
        "profile": "paper",
        "alpha": 0.05,
        "variants": V,
        "vs_control": vs_control,
        "datasets": {"mnist": {"kind": "in", "n": 10000}, "notmnist": {"kind": "ood", "n": 18724}},
    }


def S(runs):
    """The aggregate's numbers of constructed runs, as the chapters read them."""
    from helpers.book.summary import Summary
    from helpers.stages.seed_numbers import numbers

    return Summary(numbers(runs, [r["seed"] for r in runs], 0.05))


Q8 = ["s25_q8", "s50_q8", "s75_q8", "s95_q8"]


def test_verdict_summary_counts_and_grammar():
    rows = [{"verdict": v} for v in (SUPPORTED, UNRESOLVED, UNRESOLVED, CONTRADICTED, NOT_TESTED)]
    assert prose.verdict_summary(rows, "paper", 5) == (
        "Of the paper's 5 claims, 1 is supported, 2 consistent with the data but not resolved by it, "
        "1 contradicted and 1 not tested in this paper-profile reproduction (5 seeds)."
    )
    assert prose.verdict_summary([{"verdict": SUPPORTED}] * 2, "smoke", 1) == (
        "Of the paper's 2 claims, 2 are supported in this smoke-profile reproduction (1 seed)."
    )


def test_resolution_below_and_within_reach():
    r = run()
    text = prose.resolution(r, S([r]), Q8)
    assert "1–5 of the 10,000 test images" in text and text.endswith("from zero or from each other.")
    assert "one run's paired 95 % intervals reach ±0.11 pp around" in text  # equal ends print once
    assert "paired 90 % intervals" in prose.resolution(r | {"alpha": 0.1}, S([r]), Q8)  # the run's level, not a typed one
    assert "standard deviation" not in text  # one seed: no spread between seeds
    wide = run(half_width=0.0001)
    assert prose.resolution(wide, S([wide]), Q8).endswith("within reach of this test set.")
    other = run(
        1,
        acc={
            "baseline": 0.9930,
            "q8": 0.993,
            "ft_q8": 0.993,
            "s25_q8": 0.9945,
            "s50_q8": 0.992,
            "s75_q8": 0.9935,
            "s95_q8": 0.98,
        },
    )
    # per-seed differences s25 +0.04, +0.15; s50 −0.01, −0.10; s75 +0.05, +0.05 pp: SDs 0.08, 0.06, 0
    assert "between 2 seeds the difference itself varies with a standard deviation of 0.00–0.08 pp" in (
        prose.resolution(r, S([r, other]), Q8)
    )
    assert prose.resolution(r, S([r]), ["s95_q8"]).startswith("This build has none")


def test_spread_three_outcomes():
    r0 = run(0)
    assert prose.spread(S([r0]), Q8).startswith("With 1 seed there is no between-seed spread")
    big = run(
        1,
        acc={
            "baseline": 0.9936,
            "q8": 0.9936,
            "ft_q8": 0.9937,
            "s25_q8": 0.9920,
            "s50_q8": 0.9960,
            "s75_q8": 0.9910,
            "s95_q8": 0.983,
        },
    )
    assert "more than twice the largest difference" in prose.spread(S([r0, big]), Q8)
    close = run(
        1,
        acc={
            "baseline": 0.9936,
            "q8": 0.9936,
            "ft_q8": 0.9937,
            "s25_q8": 0.9941,
            "s50_q8": 0.9934,
            "s75_q8": 0.9940,
            "s95_q8": 0.983,
        },
    )
    assert "below the largest difference" in prose.spread(S([r0, close]), Q8)
    mid = run(
        1,
        acc={
            "baseline": 0.9936,
            "q8": 0.9936,
            "ft_q8": 0.9937,
            "s25_q8": 0.9950,
            "s50_q8": 0.9925,
            "s75_q8": 0.9951,
            "s95_q8": 0.983,
        },
    )
    assert "larger than the largest difference" in prose.spread(S([r0, mid]), Q8)


@pytest.mark.parametrize(
    "interval, ending",
    [
        ((-0.02, -0.03, -0.01), "extra training does not explain the fall."),
        ((0.02, 0.01, 0.03), "pruning raises the entropy."),
        ((0.0, -0.01, 0.01), "at this sparsity pruning adds nothing measurable."),
    ],
)
def test_control_three_outcomes_within_run(interval, ending):
    r = run(control=interval)
    text = prose.control(r, S([r]))
    assert text.endswith(ending), text
    assert "over images, seed 0" in text


def test_control_between_seeds_uses_seed_differences():
    runs = [run(s, entropy={"s25_q8": 0.46 + 0.001 * s, "s50_q8": 0.5, "s75_q8": 0.5, "s95_q8": 0.8}) for s in range(3)]
    text = prose.control(runs[0], S(runs))
    # s25 − ft per seed: −0.04, −0.039, −0.038 nats; the control moves q8's entropy by 0
    assert "by −0.039 nats [−0.041, −0.037] (over 3 seeds)" in text
    assert "by +0.000 nats against the 0 % int8 ensemble (mean over 3 seeds)" in text
    assert text.endswith("does not explain the fall.")


def test_control_without_the_control():
    r = run()
    del r["variants"]["ft_q8"]
    assert prose.control(r, S([r])).startswith("This build has no re-training control")


def test_budget_names_fronts_and_the_head_to_head():
    r = run()
    summary = S([r])
    summary.data["fronts"] = {"nll": ["single_q8"], "ece": ["single_q8"], "detection.entropy.auroc": ["single_q8", "s95_q8"]}
    panels = [
        ("mnist", "nll", "NLL", False),
        ("mnist", "ece", "ECE", False),
        ("notmnist", "detection.entropy.auroc", "AUROC", True),
    ]
    text = prose.budget(summary, panels)
    assert text.startswith("Per kilobyte (means over 1 seed), for NLL, the front runs through single model, int8 weights;")
    assert "beats one int8 member on 1 measure of 3 (AUROC)." in text


def test_pareto_front_by_hand():
    points = {"a": (10, 0.5), "b": (20, 0.4), "c": (20, 0.6), "d": (5, 0.7), "e": (30, 0.4)}
    assert seed_numbers.pareto_front(points, higher_is_better=False) == ["d", "a", "b"]
    assert seed_numbers.pareto_front(points, higher_is_better=True) == ["d"]


def _members(acc, nll, ens_acc, ens_nll):
    return {"accuracy": acc, "nll": nll, "ensemble_of_first_k": {"accuracy": [acc[0], ens_acc], "nll": [nll[0], ens_nll]}}


def test_ensemble_gain_three_outcomes():
    likelihood = prose.ensemble_gain(_members([0.990, 0.991], [0.030, 0.032], 0.9936, 0.015))
    assert "the likelihood gains more than the accuracy" in likelihood and "+0.31 pp" in likelihood
    accuracy = prose.ensemble_gain(_members([0.90, 0.90], [0.30, 0.30], 0.95, 0.29))
    assert accuracy.endswith("the accuracy gains more than the likelihood (3 % less NLL).")
    nothing = prose.ensemble_gain(_members([0.99, 0.99], [0.03, 0.03], 0.99, 0.03))
    assert nothing.endswith("averaging buys nothing here.")


def test_zeros_and_size_behind_or_keeping_pace():
    r = {
        "variants": {
            "q8": {"compression_ratio": 3.9},
            "s50_q8": {"compression_ratio": 5.1},
            "s95_q8": {"compression_ratio": 18.9},
        }
    }
    text = prose.zeros_and_size(r, ["s50_q8", "s95_q8"])
    assert "5.1× at 50 % (storing only the non-zero values would give 7.8×)" in text and "grows more slowly" in text
    r["variants"]["s50_q8"]["compression_ratio"] = 8.0
    r["variants"]["s95_q8"]["compression_ratio"] = 80.0
    assert prose.zeros_and_size(r, ["s50_q8", "s95_q8"]).endswith("keeps pace with the share of zeros.")


# --- encodings (chapter 3) --------------------------------------------------------------
def encodings_world(
    container=(95_000, 60_000),
    bound=(80_000, 47_000),
    sparse_zip=(120_000, 80_000),
    dense_zip=(103_000, 68_000),
    diff=0.0,
    float_kernel=(1000, 260),
):
    """Experiment.encodings() of a 50 % and a 75 % ensemble, baseline 525 kB zipped."""
    base = 525_000
    variants = {}
    for i, (name, s) in enumerate((("s50_q8", 0.5), ("s75_q8", 0.75))):
        b = {"zip": dense_zip[i], "container9": container[i], "tflite_sparse_zip": sparse_zip[i]}
        variants[name] = {
            "sparsity": s,
            "bytes": b,
            "ratio": {k: base / v for k, v in b.items()},
            "of_bound": {k: v / bound[i] for k, v in b.items()},
            "lower_bound_bytes": bound[i],
            "ratio_at_bound": base / bound[i],
            "tflite_sparse_max_abs_diff": diff,
            "float_kernels": {
                "names": ["conv1"],
                "weights_per_member": 252,
                "float32_deflated": float_kernel[0] * (2 - i),
                "int8_deflated": float_kernel[1],
            },
        }
    return {"baseline_zipped_bytes": base, "check_images": 1000, "variants": variants}


def test_encoding_goals_separate_missed_from_unreachable_and_met():
    text = prose.encoding_goals(encodings_world(), {0.5: 6.0, 0.75: 12.0}, 1.3)
    # 50 %: 525/95 = 5.5x < 6 but the bound allows 6.6x: missed; 75 %: bound 11.2x < 12
    assert "5.5× at 50 % against a goal of 6.0× (missed; the bound would allow 6.6×)" in text
    assert "which no encoding can meet: even the lower bound gives only 11.2×" in text
    assert "1.19× at 50 %, 1.28× at 75 %: within the goal of 1.3×." in text
    met = prose.encoding_goals(encodings_world(container=(70_000, 40_000), bound=(60_000, 30_000)), {0.5: 7.0}, 1.2)
    assert "7.5× at 50 % against a goal of 7.0× (met)" in met
    assert "above the goal of 1.2× at 75 %." in met
    assert "not kernel weights" not in met  # the worlds carry no non-weight size
    world = encodings_world(container=(70_000, 40_000), bound=(60_000, 30_000))
    world["variants"]["s75_q8"]["bytes"]["non_weight9"] = 9_000
    assert "deflates to 9.0 kB alone, 30 % of the bound" in prose.encoding_goals(world, {0.5: 7.0}, 1.2)


def test_tflite_sparsity_says_larger_or_smaller_and_whether_outputs_match():
    larger = prose.tflite_sparsity(encodings_world())
    assert "zips larger than the dense int8 file at every sparsity" in larger
    assert "`" not in larger + prose.float_kernel(encodings_world())  # glue:text shows no Markdown
    assert "give the dense files' outputs exactly on 1,000 test images" in larger
    mixed = prose.tflite_sparsity(encodings_world(sparse_zip=(120_000, 60_000), diff=2e-7))
    assert "zips larger than the dense int8 file at 50 % and smaller elsewhere" in mixed
    assert "within 2.0e-07 of the dense files'" in mixed
    smaller = prose.tflite_sparsity(encodings_world(sparse_zip=(90_000, 60_000)))
    assert "zips smaller than the dense int8 file at every sparsity" in smaller


def test_float_kernel_prices_conv1_and_names_the_ensemble_where_it_weighs_most():
    text = prose.float_kernel(encodings_world())
    # extra bytes: 50 %: 2000 - 260 = 1740 of 103 kB (1.7 %); 75 %: 740 of 68 kB (1.1 %)
    assert "keeps 252 weights per member in float32" in text and "1,024 elements" in text
    assert "0.7 kB to 1.7 kB more per ensemble" in text
    assert "at most 1.7 % of an ensemble's zipped size (50 % pruned, int8 weights)" in text
    world = encodings_world()
    for v in world["variants"].values():
        v["float_kernels"]["names"] = []
    assert prose.float_kernel(world) == "Every kernel is stored as int8."


def test_encodings_table_shows_each_encoding_and_the_ceiling():
    from helpers.book import report

    table = report.encodings_table(encodings_world())
    assert list(table.index) == ["50 % pruned, int8 weights", "75 % pruned, int8 weights"]
    row = table.loc["75 % pruned, int8 weights"]
    assert row["Zip (paper), kB"] == "68.0" and row["Sparse container, kB"] == "60.0"
    assert row["TFLite sparse, zipped, kB"] == "80.0" and row["Deflate 9, kB"] == "\u2014"
    assert row["Lower bound, kB"] == table.loc["75 % pruned, int8 weights", "Lower bound, kB"]
    ratios = report.encoding_ratios_table(encodings_world()).loc["75 % pruned, int8 weights"]
    assert ratios["Container / bound"] == "1.28×" and ratios["Ratio at the bound"] == "11.2×"


# --- inference (appendix) ---------------------------------------------------------------
def bench_world(ratios: dict, vnni: bool = False) -> dict:
    configs = {
        name: {"vs_tflite_float32": r, "member_images_per_s": 10000 * r, "accuracy": 0.99, "mean_abs_dp_vs_keras": 1e-5}
        for name, r in ratios.items()
    }
    return {
        "inference": {
            "threads": 2,
            "images": 5000,
            "configurations": configs,
            "cpu_features": {"fma": True, "avx2": True, "avx512_vnni": vnni},
        }
    }


def test_inference_names_the_fastest_int8_and_says_slower_with_the_reason():
    world = bench_world(
        {
            "Keras float32": 0.2,
            "float32, member files, XNNPACK": 1.0,
            "int8 weights (q8), member files, XNNPACK": 0.82,
            "full int8, one graph, XNNPACK": 0.64,
        }
    )
    text = appendix_prose.inference(world)
    assert "fastest int8 configuration (int8 weights (q8), member files, XNNPACK) runs at 0.82×" in text
    assert "slower than float32, short of the goal of 1.5×" in text
    assert "no int8 dot-product instructions (VNNI)" in text
    assert "holds for storage, not for compute" in text
    assert "Keras float32, which runs at 0.20× of TFLite float32" in text
    assert "VNNI" not in appendix_prose.inference(bench_world({"full int8, one graph": 0.9}, vnni=True))
    same = appendix_prose.inference(bench_world({"int8 weights (q8), member files": 0.996}))
    assert "no faster than (within 5 %) float32" in same and "storage, not for compute" in same


def test_inference_faster_but_short_and_above_goal():
    short = appendix_prose.inference(bench_world({"full int8, one graph": 1.2}))
    assert "faster than float32, but short of the goal of 1.5×" in short and "VNNI" not in short
    assert "above the goal of 1.5×." in appendix_prose.inference(bench_world({"full int8, one graph": 1.7}))
    assert "not been run" in appendix_prose.inference({})


def limit_world(engine_of_raw: float, raw: float, needed: float = 97.0) -> dict:
    kernels = [
        {"layer": "conv1", "kernel": "forward", "gflops": 7.6, "needed_in_training": True},
        {"layer": "conv1", "kernel": "input gradient", "gflops": 1.0, "needed_in_training": False},
        {"layer": "conv2", "kernel": "forward", "gflops": 79.9, "needed_in_training": True},
        {"layer": "conv2", "kernel": "kernel gradient", "gflops": 37.3, "needed_in_training": True},
    ]
    return {
        "limit": {
            "raw_tensorflow_step": {"gflops": raw, "engine_of_raw": engine_of_raw},
            "gemm_gflops": {"numpy": 160.0},
            "conv_kernels": kernels,
            "needed_for_25_min": {"gflops": needed},
        }
    }


def test_engine_limit_names_the_shortfall_and_the_kernels_when_out_of_reach():
    text = appendix_prose.engine_limit(limit_world(0.99, raw=31.0))
    assert text.startswith(
        "The engine trains at 0.99× the speed of the same step written directly in TensorFlow, "
        "so the engine itself costs nothing measurable (within 5 %)."
    )
    assert "A 25-minute paper run needs 97 GFLOP/s and the raw step reaches 31, 3.1× short." in text
    # the input gradient of conv1 is not computed in training, so it is not the slowest kernel named
    assert "run at 8 (conv1 forward) to 80 GFLOP/s (conv2 forward), against a GEMM peak of 160" in text
    assert "not the engine around them" in text


def test_engine_limit_other_branches():
    slow_engine = appendix_prose.engine_limit(limit_world(0.8, raw=31.0))
    assert "the engine itself is a cost worth removing" in slow_engine
    assert "these small convolutions, more than the engine around them, keep the run" in slow_engine
    reach = appendix_prose.engine_limit(limit_world(1.0, raw=100.0))
    assert reach.endswith("reaches 100, so the goal is within reach of TensorFlow on this machine.")
    assert "not been measured" in appendix_prose.engine_limit({}) and "not been measured" in appendix_prose.engine_limit(
        {"limit": {"training": {}}}
    )


def test_benchmark_table_shows_every_ratio_and_yes_no_for_flags():
    from helpers.book import appendix_tables

    table = appendix_tables.benchmark_table(
        {
            "ratios": {
                "limit": {"engine / raw TensorFlow step speed": 0.987, "weights identical to the default's": False, "steps": 16}
            }
        }
    )
    assert table["Value"].tolist() == ["0.99", "no", "16"]
    assert table.index[0] == "limit: engine / raw TensorFlow step speed"
    assert list(appendix_tables.benchmark_table({}).index) == ["not run yet (make bench)"]


def test_inference_table_has_one_row_per_configuration():
    from helpers.book import appendix_tables

    table = appendix_tables.inference_table(bench_world({"float32, member files, XNNPACK": 1.0, "full int8, one graph": 0.5}))
    assert list(table.index) == ["float32, member files, XNNPACK", "full int8, one graph"]
    assert table.loc["full int8, one graph", "vs TFLite float32"] == "0.50×"
    assert table.loc["full int8, one graph", "Member-images / s"] == "5,000"
    assert list(appendix_tables.inference_table({}).index) == ["not run yet (make bench)"]


def test_stage_times_name_the_cpu_of_each_row():
    from helpers.book import appendix_tables

    manifest = {"timings": {"training": 1123.68}, "machine": {"cpu_count": 2}}
    records = [{"seed": 1, "timings": {"training": 2880.0, "pruning": 2760.0}, "machine": {"cpu_model": "AMD EPYC"}}]
    table = appendix_tables.stage_times(manifest, records)
    assert table.loc["training (this store)"].tolist() == ["18.7", "CPU not recorded", "not recorded"]
    assert table.loc["seed 1: pruning 46.0, training 48.0"].tolist() == ["94.0", "AMD EPYC", "not recorded"]


def test_tf_threads_reads_manifests_and_older_seed_records():
    from helpers.book.appendix_tables import tf_threads

    machine = lambda intra, inter: {"machine": {"tf_threads": {"intra_op": intra, "inter_op": inter}}}
    assert tf_threads(machine(0, 0)) == "default"
    assert tf_threads(machine(1, 1)) == "intra-op 1, inter-op 1"
    assert tf_threads(machine(1, 0)) == "intra-op 1, inter-op default"
    # the machine record wins over the sweep's own field when both are there
    assert tf_threads({**machine(1, 1), "tf_threads": None}) == "intra-op 1, inter-op 1"
    # a seed record older than the machine field: the sweep's own intra-op field decides
    assert tf_threads({"machine": {"cpu_count": 2}, "tf_threads": None}) == "default"
    assert tf_threads({"machine": {"cpu_count": 2}, "tf_threads": 2}) == "intra-op 2"
    # a manifest older than the machine field has neither
    assert tf_threads({"machine": {"cpu_count": 2}}) == tf_threads({}) == "not recorded"


def test_seed_threads_names_each_setting_and_its_seeds():

    default = {"seed": 0, "tf_threads": None, "machine": {"cpu_count": 2}}
    one = lambda s: {"seed": s, "tf_threads": 1, "machine": {"tf_threads": {"intra_op": 1, "inter_op": 1}}}
    assert appendix_prose.seed_threads([]) == "No seed of the sweep has finished yet."
    assert appendix_prose.seed_threads([default, {**default, "seed": 1}]) == (
        "Every seed ran under the same TensorFlow thread setting (default)."
    )
    text = appendix_prose.seed_threads([one(4), default, one(3)])
    assert "2 TensorFlow thread settings (seed 0: default; seeds 3, 4: intra-op 1, inter-op 1)" in text
    assert "TF_NUM_INTRAOP_THREADS" in text


def test_settings_provenance_counts_the_marks_on_setting_lines_only():
    text = (
        "# [paper]  = stated in the paper\n"
        "# [choice] = the paper leaves it open\n"
        "defaults:\n"
        "  epochs: 20            # [paper] training epochs\n"
        "  batch_size: 32        # [choice] Keras default\n"
        "  sparsities: [0.25]    #[paper]\n"
        "  seed: 0               # no mark\n"
    )
    assert prose.settings_provenance(text) == (
        "Of the 3 settings that _config.yml marks, 2 are stated in the paper and 1 is a choice made here."
    )
    paper_only = "a: 1  # [paper]\nb: 2  # [paper]\n"
    assert prose.settings_provenance(paper_only) == "All 2 settings that _config.yml marks are stated in the paper."
    assert prose.settings_provenance("a: 1  # [choice]\n") == "The one setting that _config.yml marks is a choice made here."
    assert prose.settings_provenance("a: 1  # [choice]\nb: 2  # [choice]\n").endswith(
        "2 settings that _config.yml marks are choices made here."
    )
    assert prose.settings_provenance("# [paper] legend only\na: 1\n").startswith("No setting of _config.yml is marked")


def test_settings_provenance_of_the_repository_config_adds_up():
    from helpers.core.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    sentence = prose.settings_provenance(text)
    n_paper, n_choice = text.count("# [paper]") - 1, text.count("# [choice]") - 1  # less the legend's
    assert sentence == (
        f"Of the {n_paper + n_choice} settings that _config.yml marks, {n_paper} are stated in the paper "
        f"and {n_choice} are choices made here."
    )
