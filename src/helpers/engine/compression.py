"""Magnitude pruning (tfmot), 8-bit TFLite conversion, zipped sizes and their lower bound.

The recipe is the Model Optimization Toolkit's: fine-tune from the trained baseline with
`prune_low_magnitude` and a `PolynomialDecay` from 0 to the target sparsity over the
re-training epochs, `UpdatePruningStep`, `strip_pruning`, then convert with
`tf.lite.Optimize.DEFAULT` (int8 weights, "dynamic range"). Pruning runs on the fused
M-member graph: masks are computed per layer, so this equals pruning each member alone.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from helpers.core.config import Config
from helpers.core.variants import CONTROL
from helpers.engine import models
from helpers.engine.ensemble import PRUNE_STREAM, Checkpoint, fit_epochs, split_validation

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
import tensorflow_model_optimization as tfmot  # noqa: E402
import tf_keras as keras  # noqa: E402

PRUNABLE_TYPES = ("Conv2D", "Dense")


def pruning_schedule(config: Config, sparsity: float, n_train: int):
    """PolynomialDecay 0 -> `sparsity` ending exactly on a mask update.

    tfmot only updates masks every `frequency` steps; ending on a multiple of it (at or
    before the last step) guarantees the final mask has the target sparsity.
    """
    total = math.ceil(n_train / config.batch_size) * config.retrain_epochs
    frequency = max(1, min(config.pruning_frequency, total // 2))
    end_step = (total // frequency) * frequency
    return tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=sparsity, begin_step=0, end_step=end_step, frequency=frequency
    )


def clone_members(members: list, config: Config, prefix: str = "") -> list:
    """Independent copies (same weights) so pruning never touches the baseline; copy i is
    named "{prefix}m{i}_..." so that several copies of one ensemble can share a graph."""
    copies = []
    for m, member in enumerate(members):
        copy = models.build_member(config, seed=0, prefix=f"{prefix}m{m}_")
        copy.set_weights(member.get_weights())
        copies.append(copy)
    return copies


def _group_prefix(index: int) -> str:
    return f"g{index}"


def prune_all(
    config: Config,
    members: list,
    x,
    y,
    sparsities,
    checkpoint_path: Path | None = None,
    verbose: int = 0,
    member_ids: list | None = None,
    on_epoch=None,
):
    """Re-train copies of the ensemble at every target in `sparsities` in ONE fused graph.

    `sparsities` may include CONTROL (0.0): that copy is fine-tuned with the same optimizer
    setup, data order and epochs, but no pruning wrapper (the re-training control).
    Every other copy gets tfmot's `prune_low_magnitude` with its own PolynomialDecay, layer
    by layer. Masks are per layer and members share no weights, and copy (s, m) sees the
    batches member m sees in every pruning run (its order depends on the member's seed
    only), so this equals pruning each sparsity alone (tests/test_compression.py) while
    one graph call per batch does all of them: fewer, larger kernels and one Python step.

    Returns ({target: stripped members}, {target: per-member histories}).
    """
    targets = [float(s) for s in sparsities]
    if not targets or len(set(targets)) != len(targets):
        raise ValueError(f"sparsities={sparsities!r} must be a non-empty list without repeats.")
    ids = list(range(len(members))) if member_ids is None else [int(m) for m in member_ids]
    if len(ids) != len(members):
        raise ValueError(
            f"member_ids={member_ids!r} must name one ensemble index per member ({len(members)} members were passed)."
        )
    copies = [c for g in range(len(targets)) for c in clone_members(members, config, prefix=_group_prefix(g))]
    fused = models.fuse(copies)
    (x_tr, _), _ = split_validation(x, y, config.validation_split)
    schedules = {_group_prefix(g): pruning_schedule(config, s, len(x_tr)) for g, s in enumerate(targets) if s != CONTROL}

    def wrap(layer):
        schedule = schedules.get(layer.name.split("m", 1)[0])
        if schedule is None or isinstance(layer, keras.layers.InputLayer):
            return layer
        return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)

    model = keras.models.clone_model(fused, clone_function=wrap) if schedules else fused
    models.compile_for_training(model, config)
    seeds = [config.member_seed(m) for m in ids] * len(targets)
    callbacks = [tfmot.sparsity.keras.UpdatePruningStep()] if schedules else []
    history = fit_epochs(
        model,
        config,
        x,
        y,
        seeds,
        PRUNE_STREAM,
        config.retrain_epochs,
        Checkpoint(checkpoint_path),
        callbacks=callbacks,
        verbose=verbose,
        on_epoch=on_epoch,
    )
    stripped = tfmot.sparsity.keras.strip_pruning(model) if schedules else model
    n = len(members)
    out, histories = {}, {}
    for g, target in enumerate(targets):
        out[target] = models.unfuse(stripped, config, n, prefix=_group_prefix(g))
        histories[target] = history[g * n : (g + 1) * n]
    return out, histories


def prune_ensemble(
    config: Config,
    members: list,
    x,
    y,
    sparsity: float,
    checkpoint_path: Path | None = None,
    verbose: int = 0,
    member_ids: list | None = None,
    on_epoch=None,
):
    """Prune every member to `sparsity` while re-training (prune_all with one target);
    returns (stripped members, histories). member_ids: the ensemble index of each member
    (default 0..len-1); it picks each member's shuffling seed, so a single member can be
    pruned alone exactly as it is within the ensemble (tests/test_compression.py)."""
    out, histories = prune_all(config, members, x, y, [sparsity], checkpoint_path, verbose, member_ids, on_epoch)
    return out[float(sparsity)], histories[float(sparsity)]


def kernel_sparsity(model) -> dict:
    """Fraction of exact zeros in each prunable layer's kernel (biases are not pruned)."""
    return {
        layer.name: float(np.mean(layer.get_weights()[0] == 0))
        for layer in model.layers
        if layer.__class__.__name__ in PRUNABLE_TYPES
    }


# --- TFLite ------------------------------------------------------------------------------
def to_tflite(model, mode: str, representative: np.ndarray | None = None) -> bytes:
    """Convert one member. mode: 'float32' (no optimization, the size reference),
    'int8' (Optimize.DEFAULT: int8 weights, float activations; the paper's method) or
    'int8full' (full integer: int8 weights and activations, int8 input/output,
    calibrated on `representative` training images)."""
    return _convert(lambda x: model(x, training=False), model.input_shape[1:], model, mode, representative)


def ensemble_to_tflite(members: list, mode: str, representative: np.ndarray | None = None) -> bytes:
    """All M members in one TFLite graph (one invoke per batch): input (n, 28, 28, 1),
    output (n, M, K), each member's probabilities; modes as in `to_tflite`."""

    def stacked(x):
        return tf.stack([m(x, training=False) for m in members], axis=1)

    return _convert(stacked, members[0].input_shape[1:], members, mode, representative)


def _convert(fn, input_shape, trackable, mode: str, representative) -> bytes:
    concrete = tf.function(fn).get_concrete_function(tf.TensorSpec([None, *input_shape], tf.float32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], trackable)
    if mode in ("int8", "int8full", "int8sparse"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8sparse":  # TFLite's own sparse tensor format for the pruned kernels
        converter.optimizations.append(tf.lite.Optimize.EXPERIMENTAL_SPARSITY)
    if mode == "int8full":
        if representative is None:
            raise ValueError(
                "Full-integer conversion needs representative images; pass "
                "representative= a (n, 28, 28, 1) float32 array of training images."
            )

        def gen():
            for i in range(len(representative)):
                yield [representative[i : i + 1].astype(np.float32)]

        converter.representative_dataset = gen
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif mode not in ("float32", "int8", "int8sparse"):
        raise ValueError(f"TFLite mode {mode!r} is unknown; use 'float32', 'int8', 'int8sparse' or 'int8full'.")
    return converter.convert()


# --- sizes -------------------------------------------------------------------------------
def zipped_size(path: Path) -> int:
    """Bytes of a ZIP_DEFLATED archive holding the file: the toolkit guides' "zipped size"."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(path, arcname=Path(path).name)
    return buf.getbuffer().nbytes


def _entropy_bits(values: np.ndarray) -> float:
    """n * H(empirical distribution of values), in bits."""
    if values.size == 0:
        return 0.0
    _, counts = np.unique(values, return_counts=True)
    p = counts / values.size
    return float(-(counts * np.log2(p)).sum())


def weight_lower_bound_bits(kernels_int: list, other_float_params: int) -> float:
    """Information-theoretic lower bound of a quantized, pruned member, in bits.

    Per kernel: entropy of the sparsity mask (n * H_b(density)) plus the entropy of the
    non-zero int8 values (empirical, i.i.d.); plus 32 bits per remaining float parameter
    (biases, quantization scales). Container overhead (graph, metadata) is not counted.
    """
    bits = 32.0 * other_float_params
    for k in kernels_int:
        flat = np.asarray(k).ravel()
        mask = flat != 0
        bits += _entropy_bits(mask) + _entropy_bits(flat[mask])
    return bits


def quantize_symmetric_int8(kernel: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-output-channel symmetric int8 quantization (TFLite's scheme for weights).

    Returns (int8 values, number of float scales). Exact zeros stay zero.
    """
    axes = tuple(range(kernel.ndim - 1))
    scale = np.max(np.abs(kernel), axis=axes, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.round(kernel / scale), -127, 127).astype(np.int8)
    return q, int(np.prod(scale.shape))


def member_lower_bound_bytes(member) -> float:
    """Lower bound (bytes) of one member with int8 kernels; see weight_lower_bound_bits."""
    kernels, floats = [], 0
    for layer in member.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if layer.__class__.__name__ in PRUNABLE_TYPES:
            q, n_scales = quantize_symmetric_int8(weights[0])
            kernels.append(q)
            floats += n_scales + sum(w.size for w in weights[1:])
        else:
            floats += sum(w.size for w in weights)
    return weight_lower_bound_bits(kernels, floats) / 8.0


def representative_images(config: Config, x: np.ndarray) -> np.ndarray:
    """A seeded sample of training images for full-integer calibration."""
    n = min(config.representative_samples, len(x))
    idx = np.sort(np.random.default_rng(config.seed).choice(len(x), n, replace=False))
    return x[idx]


def load_keras(path: Path):
    return keras.models.load_model(path, compile=False)


def schedule_curve(config: Config, sparsity: float, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, target sparsity at each step) of `pruning_schedule`, evaluated by tfmot itself.

    The mask keeps the last value it was updated to, so between updates the curve is flat.
    """
    schedule = pruning_schedule(config, sparsity, n_train)
    total = math.ceil(n_train / config.batch_size) * config.retrain_epochs
    steps = np.arange(total + 1)
    values, current = [], 0.0
    for step in steps:
        update, target = schedule(tf.constant(step, tf.int64))
        if bool(update):
            current = float(target)
        values.append(current)
    return steps, np.asarray(values)


def layer_sparsity_table(members_by_sparsity: dict) -> list[dict]:
    """Rows {target, layer, min, mean, max} of kernel sparsity over the members."""
    rows = []
    for target, members in members_by_sparsity.items():
        per_member = [list(kernel_sparsity(m).values()) for m in members]
        names = [name.split("_", 1)[-1] for name in kernel_sparsity(members[0])]
        for j, name in enumerate(names):
            values = [row[j] for row in per_member]
            rows.append({"target": target, "layer": name, "min": min(values), "mean": float(np.mean(values)), "max": max(values)})
    return rows
