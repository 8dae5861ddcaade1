"""Is a member file what its variant's name says? Checked before a store without a manifest
is adopted (`python -m helpers adopt`): two swapped variant folders would otherwise be
adopted as they are (the 50 % ensemble then scoring 27.7 %: its weights were 95 % zero).

    check_member(path, "s50_float", rebuild="python -m helpers train --profile paper --fresh")
                                      # ValueError (one sentence) if it is not; `rebuild`: the
                                      # command that rebuilds the store, named in the fix

A .keras member's kernels must hold the variant's sparsity (within SPARSITY_TOLERANCE; the
baseline and the re-training control about none); a .tflite member's weights must be int8
for int8 and full-int8 variants (full int8 also with an int8 input) and float for float32
ones, its int8 kernels holding the variant's sparsity too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPARSITY_TOLERANCE = 0.02
"""How far a member's measured kernel sparsity may lie from its variant's (fractions)."""


def _expected(variant: str) -> tuple[float, str]:
    from helpers.core.variants import parse_variant

    return parse_variant(variant)


def _fix(rebuild: str | None) -> str:
    return "put it back in its own folder or rebuild the store" + (f" with `{rebuild}`" if rebuild else "")


def _sparsity_error(path: Path, variant: str, measured: float, wanted: float, rebuild: str | None = None) -> ValueError:
    return ValueError(
        f"{path} has {100 * measured:.1f} % zeros in its kernels, but {variant} is "
        f"{100 * wanted:.0f} % sparse: it is another variant's file; {_fix(rebuild)}."
    )


def keras_sparsity(path: Path) -> float:
    from helpers.engine.compression import kernel_sparsity, load_keras

    values = list(kernel_sparsity(load_keras(path)).values())
    return float(np.mean(values)) if values else 0.0


def tflite_facts(path: Path) -> dict:
    """{"int8_weights": bool, "input": dtype name, "sparsity": zero fraction of the int8
    kernels (None without any)} of a .tflite file."""
    from helpers.engine.predict import TFLiteMember

    member = TFLiteMember(Path(path))
    interpreter = member.interpreter
    # The kernels: the filter (second input) of every convolution and fully connected op.
    # LiteRT lists ops only through this underscored method; activations are not read (their
    # buffers are zeros before a run).
    filters = {
        op["inputs"][1]
        for op in interpreter._get_ops_details()
        if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D") and len(op["inputs"]) > 1
    }
    dtypes = {d["index"]: d["dtype"] for d in interpreter.get_tensor_details()}
    kernels = [interpreter.get_tensor(i) for i in sorted(filters) if dtypes.get(i) == np.int8]
    zeros = sum(int((k == 0).sum()) for k in kernels)
    total = sum(k.size for k in kernels)
    return {
        "int8_weights": bool(kernels),
        "input": np.dtype(member.input["dtype"]).name,
        "sparsity": zeros / total if total else None,
    }


def check_member(path, variant: str, rebuild: str | None = None) -> None:
    """ValueError (one sentence) unless the member file holds `variant`'s sparsity and
    quantization; `rebuild` (e.g. `python -m helpers train --profile smoke --fresh`) is
    named in the fix."""
    path = Path(path)
    wanted, quantization = _expected(variant)
    if path.suffix == ".keras":
        measured = keras_sparsity(path)
        if abs(measured - wanted) > SPARSITY_TOLERANCE:
            raise _sparsity_error(path, variant, measured, wanted, rebuild)
        return
    facts = tflite_facts(path)
    if quantization == "float32" and facts["int8_weights"]:
        raise ValueError(f"{path} holds int8 weights, but {variant} is float32: it is another variant's file; {_fix(rebuild)}.")
    if quantization in ("int8", "int8full") and not facts["int8_weights"]:
        raise ValueError(
            f"{path} holds no int8 weights, but {variant} is quantized: it is another variant's file; {_fix(rebuild)}."
        )
    wanted_input = "int8" if quantization == "int8full" else "float32"
    if facts["input"] != wanted_input:
        raise ValueError(
            f"{path} takes {facts['input']} input, but {variant} takes {wanted_input}: "
            f"it is another variant's file; {_fix(rebuild)}."
        )
    if facts["sparsity"] is not None and abs(facts["sparsity"] - wanted) > SPARSITY_TOLERANCE:
        raise _sparsity_error(path, variant, facts["sparsity"], wanted, rebuild)
