"""What the paper states, in one place (from ``shared/paper/claims.md``; tested against it).

Everything the book compares with comes from here: the claimed accuracy differences and
compression ratios (C2-C4), Table 1's parameter counts and shapes (C1), the confidence
threshold and the NotMNIST band (C5), the claims' wording, and the dataset sizes.
No other module types a paper value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TAU = 0.9
"""C5: the confidence threshold of the paper's Figure 1 discussion."""

MNIST_CLASSIFIED_ABOVE = 0.90
"""C5: at τ the ensemble classifies *more than* this fraction of MNIST test images."""

NOTMNIST_BAND = (0.16, 0.32)
"""C5: at τ the ensemble classifies between 16 % and 32 % of NotMNIST images."""

MNIST_TEST_IMAGES = 10_000
NOTMNIST_IMAGES = 18_724

ENSEMBLE_SIZE = 5
EPOCHS = 20
RETRAIN_EPOCHS = 5
VALIDATION_SPLIT = 0.1
SPARSITIES = (0.25, 0.5, 0.75, 0.95)
SAME_SIZE_AS = "one uncompressed single model"

TABLE1 = (("Conv2D", (26, 26, 28), 280), ("Conv2D", (9, 9, 32), 22_432), ("Dense", (10,), 5_130))
"""C1: (layer type, output shape, parameters) of the paper's Table 1, in order."""


@dataclass(frozen=True)
class CompressedClaim:
    """What the paper states for one pruned + int8 ensemble (C2-C4)."""

    claim: str  # "C2", "C3", "C4"
    sparsity: float
    accuracy_diff_pp: float  # ensemble accuracy minus baseline ensemble, percentage points
    compression_ratio: float  # zipped baseline ensemble / zipped compressed; NaN: not stated
    approximate: bool = False  # the paper says "about"


COMPRESSED = {
    "s25_q8": CompressedClaim("C2", 0.25, +0.04, 4.0),
    "s50_q8": CompressedClaim("C3", 0.50, -0.01, 5.0),
    "s75_q8": CompressedClaim("C3", 0.75, -0.05, 8.0),
    "s95_q8": CompressedClaim("C4", 0.95, -1.0, math.nan, approximate=True),
}
"""Keyed by the variant name of helpers.core.variants."""

CLAIMS = {
    "C1": "Table 1: layers, parameters, shapes and training settings",
    "C2": "25 % sparsity + 8 bit: accuracy +0.04 %, size 4× smaller",
    "C3": "50 % / 75 % sparsity + 8 bit: accuracy −0.01 % / −0.05 %, size 5× / 8× smaller",
    "C4": "95 % sparsity + 8 bit: accuracy about −1 %",
    "C5": "At τ = 0.9 the ensemble classifies > 90 % of MNIST but only 16–32 % of NotMNIST",
    "C6": "Confidence decreases as sparsity increases, on MNIST and NotMNIST",
    "C7": "On NotMNIST, entropy and disagreement increase with sparsity",
    "C8": "Accuracy, NLL and Brier score do not change significantly (25–75 %)",
    "C9": "The 50 %-pruned, quantized ensemble is about the size of one float model",
    "C10": "Members' disagreement increases with pruning",
}
"""The claims' wording, condensed from claims.md."""
