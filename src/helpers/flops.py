"""Arithmetic of the member network, counted from its layer shapes (no profiler).

A multiply-add is 2 FLOPs. Forward: each conv output element costs k_h * k_w * c_in
multiply-adds, each dense output n_in; pooling, activations and biases are not counted
(they are a few per cent). Backward costs twice the forward (the gradient with respect to
the inputs and to the weights, each a product of the same size), so one training image
costs 3 × forward — the usual convention, and what the speed issue's 12 MFLOP refers to.
"""

from __future__ import annotations


def layer_macs(config) -> list[tuple[str, int]]:
    """(layer type, multiply-adds per image) of each conv/dense layer of the config's model."""
    h, w, c = config.model["input_shape"]
    out = []
    for spec in config.model["layers"]:
        kind = spec["type"]
        if kind == "conv2d":
            k = spec["kernel_size"]
            h, w = h - k + 1, w - k + 1  # 'valid' padding, stride 1
            out.append(("conv2d", h * w * spec["filters"] * k * k * c))
            c = spec["filters"]
        elif kind == "maxpool2d":
            p = spec["pool_size"]
            h, w = h // p, w // p
        elif kind == "flatten":
            h, w, c = 1, 1, h * w * c
        elif kind == "dense":
            out.append(("dense", c * spec["units"]))
            c = spec["units"]
        else:
            raise ValueError(f"Layer type {kind!r} has no FLOP count; add one to helpers.flops.")
    return out


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
