"""Variant names, one place for both directions: (sparsity, quantization) <-> name.

'baseline' (float32, 0 %), 'q8' (int8 weights, 0 %), 'int8full' (full int8, 0 %),
'sNN_float' / 'sNN_q8' / 'sNN_int8full' (NN = sparsity in percent), 'single'
(member 0 of the baseline alone), and the re-training control 'ft' / 'ft_q8' /
'ft_int8full': the baseline fine-tuned for `retrain_epochs` exactly as the pruning runs
are, with no pruning (0 %), so that "extra training" can be told apart from sparsity.
Quantization is 'float32', 'int8' (int8 weights, the paper's method) or 'int8full' (int8
weights and activations). No heavy imports here.
"""

from __future__ import annotations

import re

QUANTIZATIONS = ("float32", "int8", "int8full")
_SUFFIXES = {"float32": "float", "int8": "q8", "int8full": "int8full"}
_AT_ZERO = {"float32": "baseline", "int8": "q8", "int8full": "int8full"}
_PATTERN = re.compile(r"^s(\d{1,2})_(q8|float|int8full)$")
_CONTROL = {"float32": "ft", "int8": "ft_q8", "int8full": "ft_int8full"}
CONTROL_FLOAT = "ft"
CONTROL = 0.0
"""The re-training control's "sparsity" (compression.prune_all's target): fine-tuned, never pruned."""


def variant_name(sparsity: float, quantization: str, control: bool = False) -> str:
    """(0.5, 'int8') -> 's50_q8'; (0, 'float32') -> 'baseline'; control=True -> 'ft', 'ft_q8'."""
    if control:
        return _CONTROL[quantization]
    if sparsity == 0:
        return _AT_ZERO[quantization]
    return f"s{round(sparsity * 100)}_{_SUFFIXES[quantization]}"


def parse_variant(name: str) -> tuple[float, str]:
    """'s50_q8' -> (0.5, 'int8'); the inverse of variant_name ('single' -> (0.0, 'float32'))."""
    fixed = {v: (0.0, q) for q, v in _AT_ZERO.items()} | {v: (0.0, q) for q, v in _CONTROL.items()} | {"single": (0.0, "float32")}
    if name in fixed:
        return fixed[name]
    match = _PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(
            f"variant name {name!r} is not recognised; expected 'baseline', 'single', 'q8', the "
            "re-training control 'ft' / 'ft_q8' / 'ft_int8full', or "
            "'sNN_q8' / 'sNN_float' / 'sNN_int8full' with NN the sparsity in percent (e.g. 's50_q8')."
        )
    suffix_to_quant = {s: q for q, s in _SUFFIXES.items()}
    return int(match.group(1)) / 100, suffix_to_quant[match.group(2)]


def sparsity_label(name: str) -> str:
    """'s25_q8' -> '25 %'."""
    return f"{round(100 * parse_variant(name)[0])} %"


def is_control(name: str) -> bool:
    """True for the re-training control ('ft', 'ft_q8', 'ft_int8full')."""
    return name in _CONTROL.values()


def float_source(name: str) -> str:
    """The float32 variant whose members a variant is made from: 's50_q8' -> 's50_float',
    'ft_q8' -> 'ft', 'q8' -> 'baseline', 'single' -> 'baseline'."""
    if name == "single":
        return "baseline"
    sparsity, _ = parse_variant(name)
    return variant_name(sparsity, "float32", control=is_control(name))


def variants(config) -> list[dict]:
    """All variants of a config: name, sparsity, quantization, control, float_source.
    Order: baseline family, the re-training control, then each sparsity."""
    out = []
    for sparsity, control in ((0.0, False), (0.0, True), *((s, False) for s in config.sparsities)):
        for quant in QUANTIZATIONS:
            name = variant_name(sparsity, quant, control=control)
            out.append(
                {
                    "name": name,
                    "sparsity": sparsity,
                    "quantization": quant,
                    "control": control,
                    "float_source": float_source(name),
                }
            )
    return out


def int8_variants(config) -> list[str]:
    """The paper's method (pruned + int8 weights) at each sparsity of the config, in order."""
    return [variant_name(s, "int8") for s in config.sparsities]


_KIND_NAMES = {"int8": "int8 weights", "float32": "float32", "int8full": "full int8", "single": "single model"}


def variant_label(variant: str) -> str:
    """Readable legend text, e.g. 's50_q8' -> '50 % pruned, int8 weights'."""
    if variant == "single":
        return "single model (float32)"
    if variant == "baseline":
        return "baseline ensemble (float32)"
    sparsity, quant = parse_variant(variant)
    if is_control(variant):
        return f"re-training control, {_KIND_NAMES[quant]}"
    return f"{sparsity * 100:.0f} % pruned, {_KIND_NAMES[quant]}"


def label(name: str) -> str:
    """The reader's name of any evaluated ensemble, member subsets and the frontier's variants
    included ('q8_m3' -> '3 int8 members'; 'single_q8' -> 'single model, int8 weights', as
    results.json has named it since the paper-profile run; 'c16_s50_q8' -> '50 % pruned,
    16 clusters, int8 weights')."""
    if name == "single_q8":
        return "single model, int8 weights"
    if name.startswith("q8_m"):
        return f"{name[4:]} int8 members"
    if is_frontier(name):
        return frontier_label(name)
    return variant_label(name)


# --- the frontier's variants (helpers.stages.frontier) -----------------------------------------
_CLUSTERED = re.compile(r"^c(\d{1,3})_s(\d{1,2})_q8$")
_PQAT = re.compile(r"^pqat_s(\d{1,2})$")
M_BY_N = "nm24_q8"
STUDENTS = ("student_q8", "student_small_q8")


def clustered_name(sparsity: float, clusters: int) -> str:
    """(0.5, 16) -> 'c16_s50_q8': the 50 % ensemble clustered (sparsity kept), int8 weights."""
    return f"c{clusters}_s{round(sparsity * 100)}_q8"


def pqat_name(sparsity: float) -> str:
    """0.5 -> 'pqat_s50': the 50 % ensemble after pruning-preserving quantization-aware training."""
    return f"pqat_s{round(sparsity * 100)}"


def is_frontier(name: str) -> bool:
    return isinstance(name, str) and bool(_CLUSTERED.match(name) or _PQAT.match(name) or name in (M_BY_N, *STUDENTS))


def frontier_label(name: str) -> str:
    """The reader's name of a frontier variant."""
    if m := _CLUSTERED.match(name):
        return f"{m.group(2)} % pruned, {m.group(1)} clusters, int8 weights"
    if m := _PQAT.match(name):
        return f"{m.group(1)} % pruned, PQAT (int8)"
    fixed = {
        M_BY_N: "2:4 structured sparsity, int8 weights",
        "student_q8": "distilled student, int8 weights",
        "student_small_q8": "small distilled student, int8 weights",
    }
    if name in fixed:
        return fixed[name]
    raise ValueError(
        f"{name!r} is not a frontier variant; expected 'cK_sNN_q8', 'pqat_sNN', {M_BY_N!r} or one of {', '.join(STUDENTS)}."
    )


def frontier_variants(config) -> list[dict]:
    """The frontier's new variants of a config: name, kind ('clustered', 'pqat', 'm_by_n',
    'student'), the float variant they are made from, and their number of members."""
    out = []
    for s in config.frontier_sparsities:
        source = variant_name(s, "float32")
        out.append(
            {
                "name": clustered_name(s, config.cluster_count),
                "kind": "clustered",
                "source": source,
                "members": config.ensemble_size,
            }
        )
        out.append({"name": pqat_name(s), "kind": "pqat", "source": source, "members": config.ensemble_size})
    out.append({"name": M_BY_N, "kind": "m_by_n", "source": "baseline", "members": config.ensemble_size})
    out += [{"name": n, "kind": "student", "source": "baseline", "members": 1} for n in STUDENTS]
    return out


BUDGET_PANELS = (
    ("mnist", "nll", "MNIST NLL (nats)", False),
    ("mnist", "ece", "MNIST ECE", False),
    ("notmnist", "detection.entropy.auroc", "NotMNIST AUROC (entropy)", True),
)
"""The memory-budget panels whose Pareto fronts the summary holds: (dataset, metric, axis
title, higher is better)."""
