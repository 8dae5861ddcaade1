"""Variant names, one place for both directions: (sparsity, quantization) <-> name.

'baseline' (float32, 0 %), 'q8' (int8 weights, 0 %), 'int8full' (full int8, 0 %),
'sNN_float' / 'sNN_q8' / 'sNN_int8full' (NN = sparsity in percent), and 'single'
(member 0 of the baseline alone). Quantization is 'float32', 'int8' (int8 weights, the
paper's method) or 'int8full' (int8 weights and activations). No heavy imports here.
"""

from __future__ import annotations

import re

QUANTIZATIONS = ("float32", "int8", "int8full")
_SUFFIXES = {"float32": "float", "int8": "q8", "int8full": "int8full"}
_AT_ZERO = {"float32": "baseline", "int8": "q8", "int8full": "int8full"}
_PATTERN = re.compile(r"^s(\d{1,2})_(q8|float|int8full)$")


def variant_name(sparsity: float, quantization: str) -> str:
    """(0.5, 'int8') -> 's50_q8'; (0, 'float32') -> 'baseline'."""
    if sparsity == 0:
        return _AT_ZERO[quantization]
    return f"s{round(sparsity * 100)}_{_SUFFIXES[quantization]}"


def parse_variant(name: str) -> tuple[float, str]:
    """'s50_q8' -> (0.5, 'int8'); the inverse of variant_name ('single' -> (0.0, 'float32'))."""
    fixed = {v: (0.0, q) for q, v in _AT_ZERO.items()} | {"single": (0.0, "float32")}
    if name in fixed:
        return fixed[name]
    match = _PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(
            f"variant name {name!r} is not recognised; expected 'baseline', 'single', 'q8' or "
            "'sNN_q8' / 'sNN_float' / 'sNN_int8full' with NN the sparsity in percent (e.g. 's50_q8')."
        )
    suffix_to_quant = {s: q for q, s in _SUFFIXES.items()}
    return int(match.group(1)) / 100, suffix_to_quant[match.group(2)]


def sparsity_label(name: str) -> str:
    """'s25_q8' -> '25 %'."""
    return f"{round(100 * parse_variant(name)[0])} %"


def variants(config) -> list[dict]:
    """All variants of a config: name, sparsity, quantization."""
    return [{"name": variant_name(sparsity, quant), "sparsity": sparsity, "quantization": quant}
            for sparsity in (0.0, *config.sparsities) for quant in QUANTIZATIONS]


def int8_variants(config) -> list[str]:
    """The paper's method (pruned + int8 weights) at each sparsity of the config, in order."""
    return [variant_name(s, "int8") for s in config.sparsities]
