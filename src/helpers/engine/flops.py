"""Arithmetic of the member network, counted from its layer shapes (no profiler).

A multiply-add is 2 FLOPs. Forward: each conv output element costs k_h * k_w * c_in
multiply-adds, each dense output n_in; pooling, activations and biases are not counted
(they are a few per cent). Backward costs twice the forward (the gradient with respect to
the inputs and to the weights, each a product of the same size), so one training image
costs 3 × forward — the usual convention, and what the speed issue's 12 MFLOP refers to.
"""

from __future__ import annotations


def _walk(config):
    """(layer type, spec, input shape (h, w, c), output shape) of every layer of the config's model."""
    shape = tuple(config.model["input_shape"])
    for spec in config.model["layers"]:
        kind = spec["type"]
        h, w, c = shape
        if kind == "conv2d":
            k = spec["kernel_size"]
            out = (h - k + 1, w - k + 1, spec["filters"])  # 'valid' padding, stride 1
        elif kind == "maxpool2d":
            out = (h // spec["pool_size"], w // spec["pool_size"], c)
        elif kind == "flatten":
            out = (1, 1, h * w * c)
        elif kind == "dense":
            out = (1, 1, spec["units"])
        else:
            raise ValueError(f"Layer type {kind!r} has no FLOP count; add one to helpers.engine.flops.")
        yield kind, spec, shape, out
        shape = out


def layer_macs(config) -> list[tuple[str, int]]:
    """(layer type, multiply-adds per image) of each conv/dense layer of the config's model."""
    macs = []
    for kind, spec, (_, _, c), (h, w, f) in _walk(config):
        if kind == "conv2d":
            macs.append(("conv2d", h * w * f * spec["kernel_size"] ** 2 * c))
        elif kind == "dense":
            macs.append(("dense", c * f))
    return macs


def conv_layers(config) -> list[dict]:
    """Input shape (h, w, c), kernel size and filters of each conv layer, in order: what a
    benchmark needs to time one layer's kernels alone."""
    return [
        {"input": shape, "kernel_size": spec["kernel_size"], "filters": spec["filters"]}
        for kind, spec, shape, _ in _walk(config)
        if kind == "conv2d"
    ]


def forward_flops(config) -> int:
    """FLOPs of one forward pass of one image through one member."""
    return 2 * sum(m for _, m in layer_macs(config))


def training_flops_per_image(config) -> int:
    """FLOPs of one training step of one image through one member (forward + backward)."""
    return 3 * forward_flops(config)


def run_flops(config, n_train_images: int) -> float:
    """FLOPs of a whole run: M members × images × (training + re-training epochs of every
    sparsity and the re-training control)."""
    retrain_groups = len(config.sparsities) + 1
    epochs = config.epochs + retrain_groups * config.retrain_epochs
    return float(training_flops_per_image(config) * n_train_images * config.ensemble_size * epochs)
