"""The paper's experiment as resumable stages on top of the store.

    exp = Experiment(load_config("smoke"))
    exp.baseline()            # train (or load) the M members
    exp.pruned(0.5)           # prune (or load) them at 50 %
    exp.compress_all()        # every variant's .tflite files and sizes.json
    exp.member_probabilities("s50_q8", "mnist_test")   # (M, N, 10), cached

Each stage first looks in the store; only what is missing is computed, and what is
computed is written atomically and recorded (sha256) in the manifest. Every file read
from the store is verified first; derived files carry their lineage (helpers.store.artifacts).
`Experiment(cfg, compute=False)` (the chapters) never trains, prunes or converts: what
is missing is a StoreError naming the command that builds it.
"""

from __future__ import annotations

import contextlib

import numpy as np

from helpers.core import progress
from helpers.core.config import Config
from helpers.core.fileio import atomic_path
from helpers.core.variants import CONTROL, CONTROL_FLOAT, float_source, parse_variant, variant_name, variants
from helpers.data import loaders as data
from helpers.stages.seed_data import SeedData, registered
from helpers.store import reuse
from helpers.store.artifacts import Store, StoreError
from helpers.store.keras_archive import save_keras

# The engine (TensorFlow, TFMOT, LiteRT) is imported where a model is built, loaded, converted
# or run, never at import: a read-only Experiment (compute=False: the chapters) reads the
# store's JSON and loads no TensorFlow (tests/test_layers.py).


def variant_info(config: Config, name: str) -> dict:
    for v in variants(config):
        if v["name"] == name:
            return v
    known = ", ".join(v["name"] for v in variants(config))
    raise ValueError(f"Variant {name!r} is not part of this config; known variants: {known}.")


class Experiment(SeedData):
    """One seed's stages; its datasets come from SeedData (helpers.stages.seed_data)."""

    def __init__(self, config: Config, store: Store | None = None, fresh: bool = False, verbose: int = 0, compute: bool = True):
        self.config = config
        self.compute = compute
        self.store = store or Store(config, fresh=fresh, create=compute)
        self.verbose = verbose
        if compute:
            from helpers.engine import ensemble

            ensemble.enable_determinism(config.seed)

    # --- models -----------------------------------------------------------------------
    def _paths(self, variant: str, suffix: str) -> list:
        return [self.store.model_path(variant, m, suffix) for m in range(self.config.ensemble_size)]

    def _load_keras(self, variant: str) -> list:
        from helpers.engine import compression

        out = []
        for path in self._paths(variant, ".keras"):
            try:
                out.append(compression.load_keras(self.store.verified(path)))
            except StoreError:
                raise
            except Exception as e:  # a file that passed its checksum but Keras cannot read
                raise StoreError(
                    f"{path} could not be loaded as a Keras model ({type(e).__name__}); delete it and re-run the pipeline."
                ) from None
        return out

    def _save_keras(self, variant: str, members: list) -> None:
        paths = self._paths(variant, ".keras")
        for member, path in zip(members, paths):
            save_keras(member, path)  # byte-identical across identical runs
        self.store.record_files(paths)

    def restore_weights(self) -> list[str]:
        """Restore the trained members from the seed's committed weights pack
        (`artifacts/<profile>/weights/seed_<s>.weights.zip`, helpers.engine.weights) when one of this very
        config exists, instead of training; returns the variants restored ([] when none)."""
        from helpers.engine.weights import pack_path, read_pack, restore
        from helpers.store.artifacts import artifacts_root

        path = pack_path(artifacts_root() / self.config.profile, self.config.seed)
        if not path.exists():
            return []
        meta, _ = read_pack(path)
        if meta["config_hash"] != self.config.hash or meta["seed"] != self.config.seed:
            return []  # other training values: this pack is not this experiment's
        return restore(self, path)

    def baseline(self) -> list:
        """The trained float32 members (trained now if the store lacks them; resumable)."""
        if self.store.has_files(self._paths("baseline", ".keras")):
            return self._load_keras("baseline")
        if self.compute and self.restore_weights():
            return self._load_keras("baseline")
        if self.compute and reuse.copy_members(self.store, self.config, "baseline", self._paths("baseline", ".keras")):
            return self._load_keras("baseline")
        self.store.require(self._paths("baseline", ".keras"), "train", self.compute)
        from helpers.engine import ensemble

        clock = self.store.stage_clock("training")
        x, y = self.train_data
        members, histories = ensemble.train_ensemble(
            self.config,
            x,
            y,
            checkpoint_dir=self.store.path("checkpoints"),
            verbose=self.verbose,
            on_epoch=progress.epochs("training", self.config.epochs, then=clock),
        )
        self._save_keras("baseline", members)
        self.store.update_derived(
            "histories.json",
            "train",
            histories,
            self.store.lineage(self._paths("baseline", ".keras"), training=self.config.stage_hash("training")),
        )
        self.store.update_manifest(data_digests=data.data_digests())
        clock()
        return members

    def _retrained_name(self, target: float) -> str:
        """The float variant of one prune_all target (CONTROL is the fine-tuned 'ft')."""
        if target == CONTROL:
            return CONTROL_FLOAT
        return variant_name(target, "float32")

    def retrained(self) -> dict:
        """{target: members} for every sparsity of the config and the re-training control
        (target 0.0): the pruned-and-stripped members, and the fine-tuned baseline.

        Whatever the store lacks is re-trained in one fused graph (compression.prune_all);
        each target's histories are kept under "retrain_<variant>" in histories.json.
        """
        targets = [CONTROL, *self.config.sparsities]
        missing = [t for t in targets if not self.store.has_files(self._paths(self._retrained_name(t), ".keras"))]
        if missing and self.compute and self.restore_weights():
            missing = [t for t in targets if not self.store.has_files(self._paths(self._retrained_name(t), ".keras"))]
        if missing and self.compute:  # members another store made from the same values
            missing = [
                t
                for t in missing
                if not reuse.copy_members(
                    self.store, self.config, self._retrained_name(t), self._paths(self._retrained_name(t), ".keras")
                )
            ]
        out = {}
        if missing:
            self.store.require(
                [p for t in missing for p in self._paths(self._retrained_name(t), ".keras")], "train", self.compute
            )
            from helpers.engine import compression

            base = self.baseline()
            clock = self.store.stage_clock("pruning")
            x, y = self.train_data
            tag = "-".join(self._retrained_name(t) for t in missing)
            ckpt = self.store.path("checkpoints", f"retrain_{self.config.hash}_{tag}.npz")
            members, histories = compression.prune_all(
                self.config,
                base,
                x,
                y,
                missing,
                checkpoint_path=ckpt,
                verbose=self.verbose,
                on_epoch=progress.epochs(f"re-training {len(missing)} variants", self.config.retrain_epochs, then=clock),
            )
            for target in missing:
                name = self._retrained_name(target)
                self._save_keras(name, members[target])
                self.store.update_derived(
                    "histories.json",
                    f"retrain_{name}",
                    histories[target],
                    self.store.lineage(self._paths(name, ".keras"), pruning=self.config.hash),
                )
                out[target] = members[target]
            clock()
        for target in targets:
            if target not in out:
                out[target] = self._load_keras(self._retrained_name(target))
        return out

    def pruned(self, sparsity: float) -> list:
        """The members pruned to `sparsity` and stripped (float32 weights, zeros in place)."""
        name = variant_name(sparsity, "float32")
        if self.store.has_files(self._paths(name, ".keras")):
            return self._load_keras(name)
        self.store.require(self._paths(name, ".keras"), "train", self.compute)
        return self.retrained()[float(sparsity)]

    def float_members(self, variant: str) -> list:
        """The float32 members a variant is made from (see helpers.core.variants.float_source)."""
        source = float_source(variant)
        if source == "baseline":
            return self.baseline()
        if source == CONTROL_FLOAT:
            if self.store.has_files(self._paths(source, ".keras")):
                return self._load_keras(source)
            return self.retrained()[CONTROL]
        return self.pruned(parse_variant(source)[0])

    def tflite_paths(self, variant: str) -> list:
        """The .tflite files of a variant ('baseline' gives its float32 TFLite reference)."""
        info = variant_info(self.config, variant)
        paths = self._paths(variant, ".tflite")
        if self.store.has_files(paths):
            return [self.store.verified(p) for p in paths]
        self.store.require(paths, "train", self.compute)
        from helpers.engine import compression

        floats = self.float_members(variant)
        clock = self.store.stage_clock("quantization")
        rep = compression.representative_images(self.config, self.train_data[0])
        for member, path in progress.each(list(zip(floats, paths)), f"converting {variant}"):
            blob = compression.to_tflite(member, info["quantization"], representative=rep)
            with atomic_path(path) as tmp:
                tmp.write_bytes(blob)
        self.store.record_files(paths)
        clock()
        return paths

    # --- sizes --------------------------------------------------------------------------
    def sizes(self) -> dict:
        """Zipped sizes per variant (summed over members), ratios and lower bounds.

        The ratio compares TFLite files with the float32 TFLite baseline (same container);
        `keras_zipped_bytes` is the float .keras file zipped, as the toolkit's guide measures.
        """
        lineage = lambda: self.store.lineage(self.model_files(), pruning=self.config.hash)  # noqa: E731
        cached = self.store.read_derived("sizes.json", lineage(), compute=self.compute)
        if cached and set(cached) >= {v["name"] for v in variants(self.config)}:
            return cached
        from helpers.engine import compression

        out = {}
        for v in variants(self.config):
            paths = self.tflite_paths(v["name"])
            member_zip = [compression.zipped_size(p) for p in paths]
            entry = {
                "zipped_bytes": int(sum(member_zip)),
                "member_zipped_bytes": member_zip,
                "raw_bytes": int(sum(p.stat().st_size for p in paths)),
                "sparsity": v["sparsity"],
                "quantization": v["quantization"],
            }
            if v["quantization"] == "float32":
                kpaths = self._paths(v["name"], ".keras")
                entry["keras_zipped_bytes"] = int(sum(compression.zipped_size(p) for p in kpaths))
            else:
                floats = self.float_members(v["name"])
                entry["lower_bound_bytes"] = float(sum(compression.member_lower_bound_bytes(m) for m in floats))
            out[v["name"]] = entry
        base = out["baseline"]["zipped_bytes"]
        for entry in out.values():
            entry["compression_ratio"] = base / entry["zipped_bytes"]
        self.store.write_derived("sizes.json", out, lineage())
        return out

    def encodings(self, n_check: int = 1000) -> dict:
        """Sizes of every int8-weights ensemble (q8, sNN_q8) in each encoding of
        helpers.engine.encodings, summed over members, with ratios against the float32 baseline's
        zipped size and against the lower bound; plus the float32 kernels the converter
        kept (and what keeping them costs), and whether TFLite's sparse files give the q8
        files' outputs on the first `n_check` MNIST test images (LiteRT reference kernels)."""
        from helpers.engine import encodings as enc

        names = [
            v["name"] for v in variants(self.config) if v["quantization"] == "int8" and float_source(v["name"]) != CONTROL_FLOAT
        ]
        files = self.model_files("baseline") + [p for n in names for p in self.model_files(n)]
        files += [p for n in names if n != "q8" for p in self._paths(float_source(n), ".keras")]
        lineage = lambda: self.store.lineage(files, encodings=enc.ENCODINGS_VERSION)  # noqa: E731
        cached = self.store.read_derived("encodings.json", lineage(), compute=self.compute)
        if cached:
            return cached
        sizes = self.sizes()
        base = sizes["baseline"]["zipped_bytes"]
        x = self.dataset("mnist_test")[0][:n_check]
        out = {"baseline_zipped_bytes": base, "check_images": int(len(x)), "variants": {}}
        for name in names:
            paths = self.tflite_paths(name)
            blobs = [p.read_bytes() for p in paths]
            sparse = [enc.sparse_tflite(m) for m in self.float_members(name)] if name != "q8" else [None] * len(blobs)
            members = [enc.member_encodings(b, s, p.name) for b, s, p in zip(blobs, sparse, paths)]
            totals = {k: int(sum(m[k] for m in members)) for k in members[0]}
            bound = sizes[name]["lower_bound_bytes"]
            entry = {
                "sparsity": variant_info(self.config, name)["sparsity"],
                "bytes": totals,
                "ratio": {k: base / v for k, v in totals.items()},
                "of_bound": {k: v / bound for k, v in totals.items()},
                "lower_bound_bytes": bound,
                "ratio_at_bound": base / bound,
                "float_kernels": enc.float_kernel_cost(blobs),
            }
            if sparse[0] is not None:
                entry["tflite_sparse_max_abs_diff"] = float(
                    max(
                        np.abs(enc.reference_probabilities(s, x) - enc.reference_probabilities(b, x)).max()
                        for b, s in zip(blobs, sparse)
                    )
                )
            out["variants"][name] = entry
        self.store.write_derived("encodings.json", out, lineage())
        return out

    def model_files(self, variant: str | None = None) -> list:
        """Paths of a variant's (or every variant's) model files: .tflite, plus .keras for
        float32 variants (what its predictions and sizes come from)."""
        out = []
        for v in variants(self.config):
            if variant in (None, v["name"]):
                out += self._paths(v["name"], ".tflite")
                out += self._paths(v["name"], ".keras") if v["quantization"] == "float32" else []
        return out

    def build_all(self) -> None:
        """Every stage up to sizes: what `python -m helpers train` runs (one build of a
        store at a time: a concurrent one waits, then reuses, Store.building)."""
        with self.store.building() if self.compute else contextlib.nullcontext():
            self.baseline()
            self.retrained()
            self.sizes()

    # --- predictions --------------------------------------------------------------------
    def member_probabilities(self, variant: str, dataset: str) -> np.ndarray:
        """(M, N, 10) float32 probabilities of each member; cached (git-ignored), keyed by
        the model files' checksums and the data subset."""
        if dataset not in registered():
            self.dataset(dataset)  # the one-sentence error
        from helpers.engine.predict import keras_probabilities, tflite_probabilities

        info = variant_info(self.config, variant)
        if info["quantization"] == "float32":
            paths = self._paths(variant, ".keras")
            if not self.store.has_files(paths):
                self.float_members(variant)
            predict = lambda: keras_probabilities(
                self.float_members(variant),  # noqa: E731
                self.dataset(dataset)[0],
            )
        else:
            paths = self.tflite_paths(variant)
            predict = lambda: tflite_probabilities(
                self.tflite_paths(variant),  # noqa: E731
                self.dataset(dataset)[0],
            )
        c = self.config
        subset = self.subset(dataset) if dataset in registered() else [c.test_subset, c.shift_subset]
        key = self.store.lineage(
            paths, dataset=dataset, subset_seed=c.subset_seed, subset=subset, seed=c.seed if dataset.startswith("c_") else None
        )
        return self.store.cached_array(f"predictions/{variant}_{dataset}", key, predict)
