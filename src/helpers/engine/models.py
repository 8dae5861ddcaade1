"""The paper's member CNN (Table 1) and the fused multi-member graph built from it.

Models use `tf_keras` (Keras 2): the Model Optimization Toolkit cannot prune Keras 3.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402

from helpers.core.config import Config  # noqa: E402

# Names of the layers of one member, in order; the fused graph prefixes them "m{i}_".
_LAYER_NAMES = {"conv2d": "conv", "maxpool2d": "pool", "flatten": "flatten", "dense": "dense"}


_REQUIRED = {"conv2d": ("filters", "kernel_size"), "maxpool2d": ("pool_size",), "flatten": (), "dense": ("units",)}


def _layer(spec: dict, name: str, activation: str, seed: int):
    kind = spec.get("type") if isinstance(spec, dict) else None
    missing = [k for k in _REQUIRED.get(kind, ()) if k not in spec]
    if missing:
        raise ValueError(
            f"Layer {name} ({kind}) in the model section of the config has no "
            f"{missing[0]!r}; give it, e.g. {{type: {kind}, {missing[0]}: ...}}, "
            f"in _config.yml."
        )
    init = keras.initializers.GlorotUniform(seed=seed)
    if kind == "conv2d":
        return keras.layers.Conv2D(
            spec["filters"], spec["kernel_size"], activation=activation, kernel_initializer=init, name=name
        )
    if kind == "maxpool2d":
        return keras.layers.MaxPooling2D(spec["pool_size"], name=name)
    if kind == "flatten":
        return keras.layers.Flatten(name=name)
    if kind == "dense":
        return keras.layers.Dense(
            spec["units"], activation=spec.get("activation", activation), kernel_initializer=init, name=name
        )
    raise ValueError(
        f"Layer type {kind!r} of layer {name} in the model section of the config is not supported; "
        f"use one of {', '.join(_LAYER_NAMES)}."
    )


def member_layers(config: Config, seed: int, prefix: str = "") -> list:
    """Fresh layers of one member; each layer's initializer is seeded from `seed`."""
    counts: dict[str, int] = {}
    layers = []
    for index, spec in enumerate(config.model["layers"]):
        short = _LAYER_NAMES.get(spec.get("type"), str(spec.get("type")))
        counts[short] = counts.get(short, 0) + 1
        name = f"{prefix}{short}{counts[short]}"
        layers.append(_layer(spec, name, config.model["activation"], seed * 100 + index))
    return layers


def build_member(config: Config, seed: int, prefix: str = "") -> keras.Sequential:
    """The paper's CNN: Conv(28, 3x3) -> pool 2 -> Conv(32, 5x5) -> pool 2 -> flatten -> Dense(10).

    Same `seed`, same initial weights (initializers are seeded, not drawn from global state),
    and the same layer names whatever else the process built before: the input is named,
    not numbered by Keras' global counter (a resumed run saves byte-identical .keras files).
    """
    model = keras.Sequential(
        [keras.Input(tuple(config.model["input_shape"]), name=f"{prefix}input")] + member_layers(config, seed, prefix),
        name=f"{prefix}member",
    )
    return model


def fuse(members: list) -> keras.Model:
    """One functional model with M inputs and M outputs whose layers ARE the members' layers.

    The graph is flat (no nested models) so that tfmot can wrap every prunable layer;
    members share no weights, so one optimizer step on the summed loss moves each member
    exactly as a separate step on its own loss would (Adam is element-wise).
    """
    inputs, outputs = [], []
    for i, member in enumerate(members):
        x = keras.Input(member.input_shape[1:], name=f"m{i}_input")
        inputs.append(x)
        for layer in member.layers:
            x = layer(x)
        outputs.append(x)
    return keras.Model(inputs, outputs, name="fused_ensemble")


def unfuse(fused: keras.Model, config: Config, ensemble_size: int, prefix: str = "") -> list:
    """Split a (possibly pruned and stripped) fused model back into M standalone members
    named "m{i}_..."; `prefix` selects one copy of the ensemble in a graph of several."""
    members = []
    for i in range(ensemble_size):
        member = build_member(config, seed=0, prefix=f"m{i}_")
        for layer in member.layers:
            layer.set_weights(fused.get_layer(prefix + layer.name).get_weights())
        members.append(member)
    return members


def compile_for_training(model: keras.Model, config: Config, steps_per_execution: int = 1) -> None:
    """NLL loss (sparse categorical cross-entropy), Adam, accuracy: the paper's recipe.

    `steps_per_execution` > 1 runs that many batches per graph call (fewer Python round
    trips); the updates are the same, and the weights bit-identical (tests/test_ensemble.py).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss={name: "sparse_categorical_crossentropy" for name in model.output_names},
        metrics={name: ["accuracy"] for name in model.output_names},
        steps_per_execution=steps_per_execution,
    )


def _output_shape(layer) -> tuple:
    shape = getattr(layer, "output_shape", None)
    if shape is None:
        shape = layer.output.shape
    if isinstance(shape, list) and len(shape) == 1:
        shape = shape[0]
    dims = tuple(None if d is None else int(d) for d in shape)
    return dims[1:]  # drop the batch dimension


def layer_rows(model) -> list[dict]:
    """Rows {"layer", "output_shape", "params"} for every layer of a built Keras model.

    Duck-typed: reads ``model.layers``, each layer's ``__class__.__name__``,
    ``output_shape`` (tf_keras) or ``output.shape`` (Keras 3), and ``count_params()``.
    The batch dimension is dropped from the shape.
    """
    return [
        {"layer": type(layer).__name__, "output_shape": _output_shape(layer), "params": int(layer.count_params())}
        for layer in model.layers
    ]
