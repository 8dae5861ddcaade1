"""The frontier's models: the toolkit's other compressions and distilled students, made from a
seed's committed members, never by retraining them.

    fm = FrontierModels(exp)        # exp: a seed's Experiment (helpers.stages.experiment)
    fm.build()                      # every new variant's .tflite files (or restored from the pack)
    fm.tflite_paths("c16_s50_q8")   # the member files of one new variant

New variants (helpers.core.variants.frontier_variants; recipes in helpers.engine.collab):
sparsity-preserving weight clustering (`cluster_count` centroids per layer, `collab_epochs` of
fine-tuning) of each `frontier_sources` ensemble, then int8 weights; pruning-preserving
quantization-aware training (PQAT) of the same ensembles; 2:4 structured sparsity from the
baseline (fine-tuned `retrain_epochs`, as the magnitude-pruned ensembles were); and two students
distilled from the baseline ensemble's averaged probabilities (the member architecture, and one
at `student_width` of its filters), int8 weights.

The files live in the store under frontier_models/<frontier hash>/, recorded (sha256) in its manifest.
Every seed's files are also packed, small enough to commit
(`artifacts/<profile>/frontier/seed_<s>.frontier.zip`): a fresh clone re-evaluates the frontier
from it without training anything. Each stage's wall time is in the pack's meta ("timings").

A stage that finishes writes its checks and time into the store beside its files
(frontier_models/<hash>/stage_<stage>.json): a run killed later keeps them. A stage whose files
exist without its checks (made by a run killed before it could record them) is made again from
its checkpoint, which costs only the conversion. A stage that started from a checkpoint ran in
part only: its time is listed in "resumed" and is no cost per seed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from helpers.core.fileio import atomic_write_bytes, sha256_bytes
from helpers.core.variants import frontier_variants

STAGES = {"clustered": "clustering", "pqat": "pqat", "m_by_n": "m_by_n", "student": "distillation"}
"""The stage that makes each kind of new variant, in the order they run."""
CHECKED = ("clustered", "m_by_n", "student")
"""Kinds whose checks the record carries (PQAT's kept zeros are a test of helpers.engine.collab)."""


def checked_variants(config) -> list[str]:
    """The new variants whose checks a complete record carries."""
    return [v["name"] for v in frontier_variants(config) if v["kind"] in CHECKED]


PACK_FOLDER = "frontier"
MODELS_FOLDER = "frontier_models"
"""Where a store keeps the frontier's model files (git-ignored: the committed pack restores them)."""


class FrontierError(ValueError):
    """A frontier pack or model that cannot be used as it is; the message names the file and the fix."""


def pack_path(profile_root: Path, seed: int) -> Path:
    return Path(profile_root) / PACK_FOLDER / f"seed_{seed}.frontier.zip"


class FrontierModels:
    """One seed's frontier variants on top of its Experiment's store."""

    def __init__(self, exp):
        self.exp = exp
        self.config = exp.config
        self.hash = self.config.stage_hash("frontier")
        self.variants = {v["name"]: v for v in frontier_variants(self.config)}
        self.timings: dict = {}
        self.checks: dict = {}
        self.resumed: list[str] = []  # stages timed in part only (started from a checkpoint)

    def tflite_paths(self, name: str) -> list[Path]:
        info = self.variants[name]
        return [self.exp.store.path(MODELS_FOLDER, self.hash, name, f"member_{m}.tflite") for m in range(info["members"])]

    def _all_paths(self) -> list[Path]:
        return [p for name in self.variants for p in self.tflite_paths(name)]

    def _write(self, name: str, blobs: list[bytes]) -> None:
        paths = self.tflite_paths(name)
        for blob, path in zip(blobs, paths):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, blob)
        self.exp.store.record_files(paths)

    def _have(self, name: str) -> bool:
        return self.exp.store.has_files(self.tflite_paths(name))

    def _done(self, name: str) -> bool:
        """Its files are in the store, and its checks known where the record carries them."""
        return self._have(name) and (self.variants[name]["kind"] not in CHECKED or name in self.checks)

    def file_digests(self) -> dict | None:
        """The sha256 the store recorded for every new variant's member file (None while one is missing)."""
        return self.exp.store.lineage(self._all_paths())

    def _stage_names(self, stage: str) -> list[str]:
        return [n for n, v in self.variants.items() if STAGES[v["kind"]] == stage]

    def _stage_meta_name(self, stage: str) -> str:
        return f"{MODELS_FOLDER}/{self.hash}/stage_{stage}.json"

    def _stage_lineage(self, stage: str):
        paths = [p for n in self._stage_names(stage) for p in self.tflite_paths(n)]
        return self.exp.store.lineage(paths, frontier=self.hash)

    def _finished(self, stage: str, started: float, resumed: bool) -> None:
        """Record a stage just made: its time, and its checks and time in the store."""
        self.timings[stage] = round(time.monotonic() - started, 2)
        if resumed and stage not in self.resumed:
            self.resumed.append(stage)
        meta = {"checks": {n: self.checks[n] for n in self._stage_names(stage) if n in self.checks}}
        meta |= {"seconds": self.timings[stage], "resumed": resumed}
        self.exp.store.write_derived(self._stage_meta_name(stage), meta, self._stage_lineage(stage))

    def _adopt_finished_stages(self) -> None:
        """Checks and times of stages a killed run finished (from their stage files in the store)."""
        for stage in dict.fromkeys(STAGES[v["kind"]] for v in self.variants.values()):
            names = self._stage_names(stage)
            known = stage in self.timings and all(self._done(n) for n in names)
            if known or not all(self._have(n) for n in names):
                continue
            lineage = self._stage_lineage(stage)
            meta = self.exp.store.read_derived(self._stage_meta_name(stage), lineage, compute=True)
            if meta is None:
                continue
            self.checks.update(meta["checks"])
            self.timings[stage] = meta["seconds"]
            if meta["resumed"] and stage not in self.resumed:
                self.resumed.append(stage)

    def _started(self, stage: str) -> tuple[float, bool]:
        """(start time, whether the stage resumes: its checkpoint or some of its files exist)."""
        again = any(self._have(n) for n in self._stage_names(stage))
        return time.monotonic(), again or self._checkpoint(stage).exists()

    # --- building ---------------------------------------------------------------------------
    def build(self) -> list[str]:
        """Every new variant's files: from the store (restored from a pack, `restore`), else
        made now. Returns the stages run now (their wall seconds in `timings`)."""
        self._adopt_finished_stages()
        missing = [n for n in self.variants if not self._done(n)]
        if not missing:
            return []
        from helpers.engine import collab, compression

        x, y = self.exp.train_data
        cfg = self.config
        kinds = {self.variants[n]["kind"] for n in missing}
        made = [STAGES[k] for k in kinds]
        if "clustered" in kinds:
            start, resumed = self._started("clustering")
            todo = [n for n in missing if self.variants[n]["kind"] == "clustered"]
            sources = {self.variants[n]["source"]: n for n in todo}
            out = collab.cluster_all(
                cfg,
                {s: self.exp.float_members(s) for s in sources},
                x,
                y,
                cfg.cluster_count,
                cfg.collab_epochs,
                checkpoint_path=self._checkpoint("clustering"),
            )
            for source, name in sources.items():
                self.checks[name] = cluster_checks(self.exp.float_members(source), out[source], cfg.cluster_count)
                self._write(name, [compression.to_tflite(m, "int8") for m in out[source]])
            self._finished("clustering", start, resumed)
        if "pqat" in kinds:
            start, resumed = self._started("pqat")
            todo = [n for n in missing if self.variants[n]["kind"] == "pqat"]
            sources = {self.variants[n]["source"]: n for n in todo}
            members = {s: self.exp.float_members(s) for s in sources}
            out = collab.pqat_all(cfg, members, x, y, cfg.collab_epochs, checkpoint_path=self._checkpoint("pqat"))
            for source, name in sources.items():
                self._write(name, out[source])
            self._finished("pqat", start, resumed)
        if "m_by_n" in kinds:
            start, resumed = self._started("m_by_n")
            (name,) = [n for n in missing if self.variants[n]["kind"] == "m_by_n"]
            members = collab.prune_m_by_n(cfg, self.exp.baseline(), x, y, checkpoint_path=self._checkpoint("m_by_n"))
            n = collab.M_BY_N[1]  # a layer with fewer input channels has no block of n: left dense
            self.checks[name] = {
                "m_by_n_fraction": [
                    {layer: float(collab.m_by_n_fraction(w)) for layer, w in kernels(m).items() if w.shape[-2] >= n}
                    for m in members
                ],
                "dense_layers": [layer for layer, w in kernels(members[0]).items() if w.shape[-2] < n],
                "kernel_sparsity": [compression.kernel_sparsity(m) for m in members],
            }
            self._write(name, [compression.to_tflite(m, "int8") for m in members])
            self._finished("m_by_n", start, resumed)
        if "student" in kinds:
            start, resumed = self._started("distillation")
            from helpers.engine.predict import keras_probabilities

            teacher = keras_probabilities(self.exp.baseline(), x).mean(axis=0)
            students = collab.distill_students(
                cfg, teacher, x, [1.0, cfg.student_width], checkpoint_path=self._checkpoint("distillation")
            )
            for name, student in zip(("student_q8", "student_small_q8"), students):
                self.checks[name] = {"parameters": int(student.count_params())}
                self._write(name, [compression.to_tflite(student, "int8")])
            self._finished("distillation", start, resumed)
        return [k for k in STAGES.values() if k in self.timings and k in made]

    def _checkpoint(self, stage: str) -> Path:
        return self.exp.store.path("checkpoints", f"frontier_{self.hash}_{stage}.npz")

    # --- the committed pack -----------------------------------------------------------------
    def pack(self) -> bytes:
        """Every new variant's member files (bytes) with their sha256, this seed's checks and timings."""
        from helpers.engine.weights import pack_bytes

        arrays, files = {}, {}
        for name in self.variants:
            for m, path in enumerate(self.tflite_paths(name)):
                blob = Path(self.exp.store.verified(path)).read_bytes()
                arrays[f"{name}/{m}"] = np.frombuffer(blob, dtype=np.uint8)
                files[f"{name}/{m}"] = sha256_bytes(blob)
        meta = {
            "frontier_hash": self.hash,
            "config_hash": self.config.hash,
            "seed": self.config.seed,
            "profile": self.config.profile,
            "files": files,
            "checks": self.checks,
            "timings": self.timings,
            "resumed": self.resumed,
        }
        return pack_bytes(meta, arrays)

    def write_pack(self, profile_root: Path) -> Path:
        path = pack_path(profile_root, self.config.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, self.pack())
        return path

    def restore(self, path: Path, sha256: str | None = None) -> list[str]:
        """Write the pack's member files into the store (each checked against the pack's
        sha256); refuses a pack of another seed or other frontier values. Returns the
        variants restored; its checks and timings become this object's."""
        from helpers.engine.weights import open_pack

        command = f"python -m helpers frontier --profile {self.config.profile} --seeds {self.config.seed} --force"
        fix = f"delete it and make it again with `{command}`"
        meta, arrays = open_pack(path, sha256, FrontierError, "a frontier pack", fix)
        if (meta.get("frontier_hash"), meta.get("seed")) != (self.hash, self.config.seed):
            raise FrontierError(
                f"{path} holds seed {meta.get('seed')} of frontier values {meta.get('frontier_hash')}, not seed "
                f"{self.config.seed} of {self.hash}; delete it, or make it again with "
                f"`python -m helpers frontier --profile {self.config.profile} --seeds {self.config.seed}`."
            )
        restored = []
        for name in self.variants:
            blobs = []
            for m in range(self.variants[name]["members"]):
                key = f"{name}/{m}"
                if key not in arrays:
                    raise FrontierError(f"{path} lacks {key}; {fix}.")
                blob = arrays[key].tobytes()
                if sha256_bytes(blob) != meta["files"][key]:
                    raise FrontierError(f"{path}: {key} does not match its sha256; the pack is damaged, restore it from git.")
                blobs.append(blob)
            if not self._have(name):
                self._write(name, blobs)
                restored.append(name)
        self.checks, self.timings = meta.get("checks", {}), meta.get("timings", {})
        self.resumed = list(meta.get("resumed", []))
        if not all(n in self.checks for n in checked_variants(self.config)):
            # a pack lacking some stage's checks was written by a run that resumed after a
            # killed one, before stages recorded their checks: each time it holds may be a part
            self.resumed = [k for k in STAGES.values() if k in self.timings]
        return restored


# --- checks ------------------------------------------------------------------------------------
def kernels(member) -> dict:
    """{layer name without the member prefix: kernel} of the Conv2D and Dense layers."""
    from helpers.engine.compression import PRUNABLE_TYPES

    layers = [layer for layer in member.layers if layer.__class__.__name__ in PRUNABLE_TYPES]
    return {layer.name.split("_", 1)[-1]: layer.get_weights()[0] for layer in layers}


def cluster_checks(sources: list, clustered: list, n_clusters: int) -> dict:
    """Distinct non-zero values per layer, and whether every zero of the source stays zero."""
    out = {"clusters": [], "zeros_kept": [], "sparsity": []}
    for source, member in zip(sources, clustered):
        before, after = kernels(source), kernels(member)
        out["clusters"].append({k: int(np.unique(w[w != 0]).size) for k, w in after.items()})
        out["zeros_kept"].append(all(bool(np.all(after[k][before[k] == 0] == 0)) for k in before))
        out["sparsity"].append({k: float(np.mean(w == 0)) for k, w in after.items()})
    worst = max(max(c.values()) for c in out["clusters"])
    if worst > n_clusters or not all(out["zeros_kept"]):
        raise FrontierError(
            f"Clustering left {worst} distinct values in a layer (at most {n_clusters} expected) or "
            "un-pruned a weight; this TFMOT version does not preserve sparsity as expected."
        )
    return out
