"""The toolkit's other compressions and distillation, made from trained members (the frontier).

Recipes, each with the Model Optimization Toolkit's own API and each on ONE fused graph of all
the copies it trains (models.fuse: members share no weights, so one step moves each copy as its
own step would, as compression.prune_all does):

- `cluster_all`: sparsity-preserving weight clustering (`cluster_weights`, k-means++ centroids,
  `preserve_sparsity=True`) of every Conv2D and Dense kernel, fine-tuned, `strip_clustering`.
- `pqat_all`: pruning-preserving quantization-aware training (`quantize_annotate_model` +
  `quantize_apply` with `Default8BitPrunePreserveQuantizeScheme`), fine-tuned, then each member
  converted to an int8 TFLite file from its own sub-graph of the trained QAT model.
- `prune_m_by_n`: structured 2:4 sparsity (`prune_low_magnitude(..., sparsity_m_by_n=(2, 4))`)
  from the baseline over `retrain_epochs`, the paper's re-training length. TFMOT groups the
  weights in blocks of n along the input channels of the TFLite layout; a layer with fewer input
  channels than n (the first convolution: one channel) has no such block and stays dense.
- `distill_students`: students of the member architecture (filters times `width`) trained on
  the ensemble's averaged probabilities (soft targets, temperature 1: cross-entropy to the
  teacher, which is KL up to a constant) for `epochs`, the members' own training length.

Clustering and PQAT fine-tune with Adam at FINE_TUNE_LR, the toolkit guides' rate for
fine-tuning an optimized model: at the members' 1e-3 the centroids and quantization ranges
jump away from the trained weights in the first steps.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from helpers.core.config import Config
from helpers.engine import models
from helpers.engine.compression import PRUNABLE_TYPES, _convert, clone_members, pruning_schedule
from helpers.engine.ensemble import Checkpoint, fit_epochs, split_validation

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow_model_optimization as tfmot  # noqa: E402
import tf_keras as keras  # noqa: E402

CLUSTER_STREAM, QAT_STREAM, M_BY_N_STREAM, DISTILL_STREAM = 2, 3, 4, 5
FINE_TUNE_LR = 1e-5
M_BY_N = (2, 4)


def _copies(config: Config, members_by_source: dict) -> tuple[list, list, list]:
    """(copies, member seeds, group prefixes): every source ensemble's members cloned with its
    own prefix ("g0m0_conv1", ...) so that several share one graph."""
    copies, seeds, prefixes = [], [], []
    for g, members in enumerate(members_by_source.values()):
        prefix = f"g{g}"
        copies += clone_members(members, config, prefix=prefix)
        seeds += [config.member_seed(m) for m in range(len(members))]
        prefixes.append(prefix)
    return copies, seeds, prefixes


def _compile(model, learning_rate: float, loss: str = "sparse_categorical_crossentropy") -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={name: loss for name in model.output_names},
        metrics={name: ["accuracy"] for name in model.output_names},
    )


def _prunable(layer) -> bool:
    return layer.__class__.__name__ in PRUNABLE_TYPES


def cluster_all(
    config: Config, members_by_source: dict, x, y, n_clusters: int, epochs: int, checkpoint_path=None, verbose=0, on_epoch=None
) -> dict:
    """{source: clustered float members} (see the module doc)."""
    copies, seeds, prefixes = _copies(config, members_by_source)
    init = tfmot.clustering.keras.CentroidInitialization.KMEANS_PLUS_PLUS

    def wrap(layer):
        if not _prunable(layer):
            return layer
        return tfmot.clustering.keras.cluster_weights(
            layer, number_of_clusters=n_clusters, cluster_centroids_init=init, preserve_sparsity=True
        )

    model = keras.models.clone_model(models.fuse(copies), clone_function=wrap)
    _compile(model, FINE_TUNE_LR)
    fit_epochs(
        model, config, x, y, seeds, CLUSTER_STREAM, epochs, Checkpoint(checkpoint_path), verbose=verbose, on_epoch=on_epoch
    )
    stripped = tfmot.clustering.keras.strip_clustering(model)
    return {
        source: models.unfuse(stripped, config, len(members), prefix=prefix)
        for (source, members), prefix in zip(members_by_source.items(), prefixes)
    }


def pqat_all(config: Config, members_by_source: dict, x, y, epochs: int, checkpoint_path=None, verbose=0, on_epoch=None) -> dict:
    """{source: [int8 TFLite bytes per member]} after PQAT (see the module doc)."""
    copies, seeds, _ = _copies(config, members_by_source)
    annotated = tfmot.quantization.keras.quantize_annotate_model(models.fuse(copies))
    model = tfmot.quantization.keras.quantize_apply(
        annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    )
    _compile(model, FINE_TUNE_LR)
    fit_epochs(model, config, x, y, seeds, QAT_STREAM, epochs, Checkpoint(checkpoint_path), verbose=verbose, on_epoch=on_epoch)
    out, i = {}, 0
    shape = tuple(config.model["input_shape"])
    for source, members in members_by_source.items():
        out[source] = []
        for _ in members:
            sub = keras.Model(model.inputs[i], model.outputs[i])
            out[source].append(_convert(lambda t, sub=sub: sub(t, training=False), shape, sub, "int8", None))
            i += 1
    return out


def m_by_n_eligible(layer, m_by_n=M_BY_N) -> bool:
    """Whether TFMOT can give a layer's kernel the m:n pattern: a Conv2D or Dense layer with at
    least n input channels (its blocks run along them)."""
    if not _prunable(layer):
        return False
    kernel = layer.get_weights()[0] if layer.get_weights() else None
    return kernel is not None and kernel.shape[-2] >= m_by_n[1]


def prune_m_by_n(config: Config, members: list, x, y, m_by_n=M_BY_N, checkpoint_path=None, verbose=0, on_epoch=None) -> list:
    """The members pruned to m_by_n structured sparsity and stripped (see the module doc)."""
    copies = clone_members(members, config, prefix="g0")
    fused = models.fuse(copies)
    (x_tr, _), _ = split_validation(x, y, config.validation_split)
    schedule = pruning_schedule(config, 0.5, len(x_tr))  # its mask-update steps; the m:n mask sets the sparsity

    def wrap(layer):
        if isinstance(layer, keras.layers.InputLayer) or not m_by_n_eligible(layer, m_by_n):
            return layer
        return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule, sparsity_m_by_n=m_by_n)

    model = keras.models.clone_model(fused, clone_function=wrap)
    models.compile_for_training(model, config)
    seeds = [config.member_seed(m) for m in range(len(members))]
    fit_epochs(
        model,
        config,
        x,
        y,
        seeds,
        M_BY_N_STREAM,
        config.retrain_epochs,
        Checkpoint(checkpoint_path),
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
        verbose=verbose,
        on_epoch=on_epoch,
    )
    return models.unfuse(tfmot.sparsity.keras.strip_pruning(model), config, len(members), prefix="g0")


def m_by_n_fraction(kernel, m: int = M_BY_N[0], n: int = M_BY_N[1]) -> float:
    """The fraction of blocks of n consecutive weights along the input channels (TFMOT's
    layout: TFLite's [C_OUT, H, W, C_IN]) with at least m zeros; 1.0: the pattern holds
    everywhere. A trailing partial block counts if it has at most n − m non-zeros."""
    k = np.asarray(kernel)
    rows = k.T if k.ndim == 2 else np.transpose(k, (3, 0, 1, 2)).reshape(-1, k.shape[2])
    blocks = [rows[:, j : j + n] for j in range(0, rows.shape[1], n)]
    ok = np.concatenate([(b != 0).sum(axis=1) <= n - m for b in blocks])
    return float(ok.mean())


def cluster_counts(member) -> dict:
    """{layer name: distinct non-zero kernel values} of the Conv2D and Dense layers."""
    return {
        layer.name: int(np.unique(w[w != 0]).size)
        for layer in member.layers
        if _prunable(layer)
        for w in [layer.get_weights()[0]]
    }


def student_config(config: Config, width: float) -> Config:
    """The config of a student: every conv layer's filters times `width` (rounded, at least 1)."""
    layers = [
        {**spec, "filters": max(1, round(width * spec["filters"]))} if spec.get("type") == "conv2d" else dict(spec)
        for spec in config.model["layers"]
    ]
    return dataclasses.replace(config, model={**config.model, "layers": layers})


def distill_students(config: Config, teacher_probs, x, widths, checkpoint_path=None, verbose=0, on_epoch=None) -> list:
    """One student per width, trained together in one graph on the teacher's probabilities (see the module doc)."""
    teacher = np.asarray(teacher_probs, dtype=np.float32)
    if teacher.shape != (len(x), teacher.shape[-1]):
        raise ValueError(f"teacher_probs has shape {teacher.shape}; expected one probability row per image ({len(x)}, K).")
    students = [
        models.build_member(student_config(config, w), seed=config.member_seed(0) + 500 + k, prefix=f"m{k}_")
        for k, w in enumerate(widths)
    ]
    fused = models.fuse(students)  # its layers ARE the students' layers: training it trains them
    _compile(fused, config.learning_rate, loss="categorical_crossentropy")
    seeds = [config.member_seed(0) + 500 + k for k in range(len(widths))]
    fit_epochs(
        fused,
        config,
        x,
        teacher,
        seeds,
        DISTILL_STREAM,
        config.epochs,
        Checkpoint(checkpoint_path),
        verbose=verbose,
        on_epoch=on_epoch,
    )
    return students
