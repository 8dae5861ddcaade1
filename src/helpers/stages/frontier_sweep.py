"""The frontier over seeds: every seed with committed weights gets its new variants and its
frontier numbers, written into its record.

    run_frontier("paper", [0, 5, 6])    # python -m helpers frontier --profile paper --seeds 0,5,6

Per seed: re-open it from its weights pack (helpers.stages.reopen: restored, converted, every
rebuilt .tflite checked against the record), make or restore its frontier variants
(helpers.stages.frontier; the pack `frontier/seed_<s>.frontier.zip` is written once and then
reused), compute its frontier numbers (helpers.stages.frontier_eval) and write them into the
record under "frontier" (with the pack's sha256 under "frontier_pack"). A seed whose models were
not kept is skipped, named. Each seed is written as soon as it is done: a killed sweep resumes
at the next seed, and a killed seed at its last finished stage (its checkpoints).
"""

from __future__ import annotations

from helpers.core.fileio import sha256_file
from helpers.stages.records import SweepError, profile_store_root, read_seed_record, record_path, write_record


def frontier_current(record: dict, frontier_hash: str, checked: list[str]) -> bool:
    """Whether a record already holds frontier numbers of these frontier values, with the
    checks of every `checked` variant (a resumed run of an older version could lose some)."""
    f = record.get("frontier", {})
    return f.get("frontier_hash") == frontier_hash and all(n in f.get("checks", {}) for n in checked)


def run_frontier(profile: str, seeds, force: bool = False, echo=print) -> dict:
    """{seed: what was done}: see the module doc."""
    from helpers.core.config import load_config
    from helpers.stages.frontier import FrontierModels, checked_variants, pack_path
    from helpers.stages.frontier_eval import evaluate_frontier
    from helpers.stages.reopen import reopened

    root = profile_store_root(profile)
    out = {}
    for seed in seeds:
        path = record_path(root, seed)
        if not path.exists():
            raise SweepError(
                f"Seed {seed} of profile {profile!r} has no record ({path}); run "
                f"`python -m helpers sweep --profile {profile} --seeds {seed}` first."
            )
        record = read_seed_record(path)
        cfg = load_config(profile, seed=seed)
        frontier_hash = cfg.stage_hash("frontier")
        checked = checked_variants(cfg)
        if not record.get("weights"):
            out[seed] = "skipped: no committed weights (its models were not kept)"
            echo(f"seed {seed}: {out[seed]}")
            continue
        if frontier_current(record, frontier_hash, checked) and not force:
            out[seed] = "current"
            echo(f"seed {seed}: frontier numbers are current ({frontier_hash})")
            continue
        exp = reopened(profile, seed, record)
        fm = FrontierModels(exp)
        pack = pack_path(root, seed)
        rel = pack.relative_to(root).as_posix()
        if pack.exists():
            fm.restore(pack, record.get("frontier_pack", {}).get(rel))
        before = fm.file_digests()
        if fm.build():  # stages made now: the pack is written again with them
            fm.write_pack(root)
        old = record.get("frontier", {})
        if not force and before and old.get("frontier_hash") == frontier_hash and fm.file_digests() == before:
            # only checks were missing, and the stages made again from their checkpoints gave
            # the same files bit for bit: the numbers computed from those files still hold
            numbers = {**old, "checks": fm.checks, "resumed": sorted(fm.resumed)}
            numbers["timings"] = {**fm.timings, "frontier_evaluation": old["timings"]["frontier_evaluation"]}
            out[seed] = "checks completed, every file unchanged: numbers kept"
        else:
            numbers = evaluate_frontier(exp, fm, record, echo=echo)
            out[seed] = f"frontier numbers written ({', '.join(f'{k} {v:.0f} s' for k, v in numbers['timings'].items())})"
        write_record(root, seed, {**record, "frontier": numbers, "frontier_pack": {rel: sha256_file(pack)}})
        echo(f"seed {seed}: {out[seed]} -> {path}")
    return out


def frontier_after_sweep(profile: str, seeds, echo=print) -> None:
    """`sweep --frontier`: the swept seeds' weights packs (the frontier starts from them, as
    the weights command writes them), then their frontier."""
    from helpers.stages.reopen import export_weights

    for seed, what in export_weights(profile, seeds).items():
        echo(f"seed {seed}: weights {what}")
    run_frontier(profile, seeds)


def store_frontier(exp, results: dict) -> dict:
    """The frontier numbers of a store's own seed (a build of a profile without seed records,
    e.g. the smoke book): made, evaluated and cached in the store's frontier.json, keyed by its
    model files and the frontier values."""
    from helpers.stages.frontier import FrontierModels
    from helpers.stages.frontier_eval import evaluate_frontier

    fm = FrontierModels(exp)
    fm.build()
    files = [*exp.model_files(), *fm._all_paths()]
    lineage = lambda: exp.store.lineage(files, frontier=fm.hash)  # noqa: E731
    cached = exp.store.read_derived("frontier.json", lineage(), compute=exp.compute, verb="build")
    if cached and cached.get("frontier_hash") == fm.hash:
        return cached
    numbers = evaluate_frontier(exp, fm, {"results": results}, echo=lambda *_: None)
    exp.store.write_derived("frontier.json", numbers, lineage())
    return numbers
