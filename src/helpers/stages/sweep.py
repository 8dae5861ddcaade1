"""Seed sweeps: each seed an independent experiment, run here or on a Ray cluster.

    run_sweep("smoke", parse_seeds("0-4"))                       # this machine, one by one
    run_sweep("paper", [0, 1, 2], engine="ray", address="HEAD:6379")

A seed is `load_config(profile, seed=s)`: its own config hash and store folder
(`artifacts/<profile>_<hash>/`; seed 0 of a profile whose default seed is 0 *is* the
profile's store `artifacts/<profile>/`). Per seed the sweep trains, compresses and
evaluates (`Experiment.build_all` + `evaluation.evaluate`) and then exports a small record
into the profile's store, the one the book reads: `artifacts/<profile>/seeds/seed_<s>.json`
(helpers.stages.records says what it holds).

A seed whose record exists under its current config hash is skipped, so a killed sweep
resumes where it stopped: on this machine, inside the interrupted seed, per epoch (the
store's checkpoints); on Ray, the seeds in flight are recomputed.

Computing one seed and its record: helpers.stages.records; the Ray engine (one task per
seed, no shared file system): helpers.stages.ray_sweep.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from helpers.stages import records
from helpers.stages.ray_sweep import sweep_on_ray
from helpers.stages.records import SweepError, profile_store_root, read_seed_record, record_path, seed_summary

ENGINES = ("local", "ray")
MAX_SEEDS = 1000
"""A sweep names at most this many seeds (a paper seed costs about an hour of CPU)."""


# --- seeds ------------------------------------------------------------------------------


def parse_seeds(text: str) -> list[int]:
    """ "0-4" -> [0, 1, 2, 3, 4]; "0,2,5" -> [0, 2, 5]; "3" -> [3]; ranges and lists mix
    ("0-2,7"). Seeds are integers >= 0, each at most once, returned in the order given."""
    seeds: list[int] = []
    seen: set[int] = set()
    parts = str(text).replace(" ", "").split(",")
    for part in parts:
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if m and m.group(2) is not None and int(m.group(2)) < int(m.group(1)):
            raise SweepError(
                f"Seeds {text!r} hold the backward range {part!r}; write it low-high, e.g. {m.group(2)}-{m.group(1)}."
            )
        if not m:
            raise SweepError(
                f"Seeds {text!r} are not understood (at {part!r}); write a seed "
                f"(3), a range (0-4) or a comma-separated list (0,2,5) of "
                f"integers >= 0."
            )
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) is not None else low
        if len(seeds) + high - low + 1 > MAX_SEEDS:  # checked before any range is expanded
            raise SweepError(
                f"Seeds {text!r} name more than {MAX_SEEDS} seeds; sweep at most {MAX_SEEDS} at a time (e.g. 0-{MAX_SEEDS - 1})."
            )
        for seed in range(low, high + 1):
            if seed in seen:
                raise SweepError(f"Seeds {text!r} name seed {seed} twice; list each seed once.")
            seen.add(seed)
            seeds.append(seed)
    return seeds


def _recorded(profile_root: Path, seed: int, config_hash: str) -> bool:
    """A record of this config whose results come from the current evaluation code."""
    from helpers.core.config import EVALUATION_VERSION

    path = record_path(profile_root, seed)
    if not path.exists():
        return False
    record = read_seed_record(path)
    return record["config_hash"] == config_hash and record["results"].get("evaluation_version") == EVALUATION_VERSION


# --- engines ----------------------------------------------------------------------------


def run_sweep(
    profile: str, seeds, engine: str = "local", address: str | None = None, num_cpus_per_task: int = 2, on_seed_done=None
) -> dict:
    """Run every seed of `seeds` not yet recorded; return {seed: summary}.

    A summary is {"seed", "status", "wall_s", "record" (path), "config_hash"} and, on Ray,
    "host". The status is "skipped" (recorded before), "computed", or, on Ray, "exported"
    (this machine's store of the seed was complete: recorded from it, nothing sent to Ray).
    `on_seed_done(summary)` is called as each seed finishes (skipped ones first). `address`
    is a Ray cluster address (None: a local Ray instance with this machine's CPUs, unless
    the caller started Ray already); it is an error with the local engine.
    """
    from helpers.core.config import load_config

    if engine not in ENGINES:
        raise SweepError(f"Sweep engine {engine!r} is unknown; use one of {', '.join(ENGINES)}.")
    if engine == "local" and address is not None:
        raise SweepError(
            f"A Ray address ({address}) was given with the local engine; add "
            f"--engine ray to run on that cluster, or drop --address."
        )
    if isinstance(num_cpus_per_task, bool) or not isinstance(num_cpus_per_task, int) or num_cpus_per_task < 1:
        raise SweepError(f"CPUs per task {num_cpus_per_task!r} is invalid; give an integer >= 1.")
    seeds = list(seeds)
    if not seeds:
        raise SweepError("The sweep was given no seeds; pass e.g. --seeds 0-4.")
    hashes = {s: load_config(profile, seed=s).hash for s in seeds}  # bad profile fails here
    root = profile_store_root(profile)
    done = on_seed_done or (lambda summary: None)
    summaries = {}
    todo = []
    for seed in seeds:
        if _recorded(root, seed, hashes[seed]):
            summaries[seed] = seed_summary(seed, "skipped", 0.0, root, hashes[seed])
            done(summaries[seed])
        else:
            todo.append(seed)
    if engine == "local":
        for seed in todo:
            start = time.perf_counter()
            _, record = records.compute_seed(profile, seed, "local")
            records.write_record(root, seed, record)
            summaries[seed] = seed_summary(seed, "computed", time.perf_counter() - start, root, hashes[seed])
            done(summaries[seed])
    elif todo:
        sweep_on_ray(profile, todo, hashes, root, address, num_cpus_per_task, summaries, done)
    return {s: summaries[s] for s in seeds}
