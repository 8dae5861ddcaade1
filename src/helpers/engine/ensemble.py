"""Deep-ensemble training: M members, fused in one TensorFlow graph, resumable per epoch.

Each member has its own seed for initialization and its own shuffling order. The order
of epoch `e` for member `m` is a permutation drawn from `(member_seed, stream, e)` alone,
so a resumed run sees exactly the batches an uninterrupted run would have seen.

Fused mode trains all members with one `fit` step per batch on a flat M-input, M-output
graph; sequential mode trains them one after another. Both give the same weights to
float tolerance (tests/test_ensemble.py), fused is faster (benchmarks/bench_training.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from helpers.core.config import Config
from helpers.core.fileio import atomic_path
from helpers.core.provenance import tf_thread_setting
from helpers.engine import models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

TRAIN_STREAM, PRUNE_STREAM = 0, 1
HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def enable_determinism(seed: int) -> None:
    """Same config, seed and thread setting -> bit-identical weights (deterministic kernels,
    fixed seeds). The thread setting is TensorFlow's own TF_NUM_INTRAOP_THREADS and
    TF_NUM_INTEROP_THREADS; a bad value fails here, before any training."""
    tf_thread_setting()
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def split_validation(x: np.ndarray, y: np.ndarray, validation_split: float):
    """Keras semantics: the LAST `validation_split` fraction is held out, no shuffling."""
    split_at = int(len(x) * (1.0 - validation_split))
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def epoch_permutation(member_seed: int, stream: int, epoch: int, n: int) -> np.ndarray:
    """The sample order of one member in one epoch; depends on nothing else."""
    return np.random.default_rng([member_seed, stream, epoch]).permutation(n)


def epoch_dataset(x, y, member_seeds, stream: int, epoch: int, batch_size: int, output_names: list) -> tf.data.Dataset:
    """Batches of ((x_1..x_M), {output_m: y_m}), member m drawn in its own order."""
    order = np.stack([epoch_permutation(s, stream, epoch, len(x)) for s in member_seeds], axis=1)
    x_t, y_t = tf.constant(x), tf.constant(y)
    n_members = len(member_seeds)

    def gather(idx):  # idx: (batch, M)
        xs = tuple(tf.gather(x_t, idx[:, m]) for m in range(n_members))
        ys = {output_names[m]: tf.gather(y_t, idx[:, m]) for m in range(n_members)}
        return xs, ys

    return (
        tf.data.Dataset.from_tensor_slices(order)
        .batch(batch_size)
        .map(gather, num_parallel_calls=1, deterministic=True)
        .prefetch(2)
    )


def validation_dataset(x_val, y_val, output_names: list, batch_size: int = 1000):
    if len(x_val) == 0:
        return None
    return tf.data.Dataset.from_tensor_slices((tuple([x_val] * len(output_names)), {name: y_val for name in output_names})).batch(
        batch_size
    )


def _member_history(keras_history: dict, n_members: int, output_names: list) -> list:
    """Per-member {loss, accuracy, val_loss, val_accuracy} from Keras' flat metric names."""
    out = []
    for m in range(n_members):
        entry = {}
        for key in HISTORY_KEYS:
            prefix, base = ("val_", key[4:]) if key.startswith("val_") else ("", key)
            name = f"{prefix}{base}" if n_members == 1 else f"{prefix}{output_names[m]}_{base}"
            if name in keras_history:
                entry[key] = float(keras_history[name][-1])
        out.append(entry)
    return out


def _optimizer_variables(optimizer) -> list:
    v = optimizer.variables
    return list(v() if callable(v) else v)


class Checkpoint:
    """Model weights + Adam state + epoch + history in one .npz, written atomically."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None

    def save(self, model, epoch: int, history: list) -> None:
        if self.path is None:
            return
        arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
        arrays.update({f"o{i}": v.numpy() for i, v in enumerate(_optimizer_variables(model.optimizer))})
        arrays["meta"] = np.frombuffer(json.dumps({"epoch": epoch, "history": history}).encode(), dtype=np.uint8)
        with atomic_path(self.path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

    def restore(self, model) -> tuple[int, list]:
        """Load into `model` (compiled); returns (next epoch, history so far)."""
        if self.path is None or not self.path.exists():
            return 0, []
        with np.load(self.path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes())
            model.set_weights([z[f"w{i}"] for i in range(len(model.get_weights()))])
            model.optimizer.build(model.trainable_variables)
            for i, var in enumerate(_optimizer_variables(model.optimizer)):
                var.assign(z[f"o{i}"])
        return meta["epoch"] + 1, meta["history"]

    def remove(self) -> None:
        if self.path is not None and self.path.exists():
            self.path.unlink()


def fit_epochs(
    fused,
    config: Config,
    x,
    y,
    member_seeds,
    stream: int,
    epochs: int,
    checkpoint: Checkpoint,
    callbacks=(),
    verbose: int = 0,
    on_epoch=None,
) -> list:
    """Train a compiled fused model for `epochs`, resuming from `checkpoint` if present.

    Returns the history: one list per member of per-epoch dicts (HISTORY_KEYS).
    """
    (x_tr, y_tr), (x_val, y_val) = split_validation(x, y, config.validation_split)
    start, flat = checkpoint.restore(fused)
    n = len(member_seeds)
    history = flat or [[] for _ in range(n)]
    val = validation_dataset(x_val, y_val, fused.output_names)
    for epoch in range(start, epochs):
        ds = epoch_dataset(x_tr, y_tr, member_seeds, stream, epoch, config.batch_size, fused.output_names)
        h = fused.fit(ds, epochs=1, validation_data=val, callbacks=list(callbacks), verbose=verbose)
        for m, entry in enumerate(_member_history(h.history, n, fused.output_names)):
            history[m].append(entry)
        checkpoint.save(fused, epoch, history)
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history


def train_ensemble(
    config: Config,
    x,
    y,
    mode: str = "fused",
    checkpoint_dir: Path | None = None,
    verbose: int = 0,
    members: list | None = None,
    on_epoch=None,
    steps_per_execution: int = 1,
):
    """Train `config.ensemble_size` members on (x, y) minus the last validation split.

    x: (N, 28, 28, 1) float32 in [0, 1]; y: (N,) int. Returns (members, histories) where
    histories[m] is a list of per-epoch {loss, accuracy, val_loss, val_accuracy}.
    `members` may pass pre-built initial models (for the equivalence tests);
    on_epoch(epoch, history) is called after each completed (checkpointed) epoch.
    `steps_per_execution` batches run per graph call (the weights are bit-identical).
    """
    if mode not in ("fused", "sequential"):
        raise ValueError(f"Training mode {mode!r} is unknown; use 'fused' or 'sequential'.")
    seeds = [config.member_seed(m) for m in range(config.ensemble_size)]
    if members is None:
        members = [models.build_member(config, s, prefix=f"m{m}_") for m, s in enumerate(seeds)]
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else None
    if mode == "fused":
        groups = [list(range(len(members)))]
    else:
        groups = [[m] for m in range(len(members))]
    histories: list = [None] * len(members)
    for group in groups:
        fused = models.fuse([members[m] for m in group])
        models.compile_for_training(fused, config, steps_per_execution)
        tag = "fused" if mode == "fused" else f"member{group[0]}"
        ckpt = Checkpoint(ckpt_dir / f"train_{config.hash}_{tag}.npz" if ckpt_dir else None)
        hist = fit_epochs(
            fused, config, x, y, [seeds[m] for m in group], TRAIN_STREAM, config.epochs, ckpt, verbose=verbose, on_epoch=on_epoch
        )
        for m, h in zip(group, hist):
            histories[m] = h
    return members, histories
