import pytest

from helpers.core.config import load_config
from helpers.core.variants import (
    QUANTIZATIONS,
    float_source,
    int8_variants,
    is_control,
    parse_variant,
    sparsity_label,
    variant_name,
    variants,
)


@pytest.mark.parametrize("sparsity", [0.0, 0.25, 0.5, 0.75, 0.95])
@pytest.mark.parametrize("quantization", QUANTIZATIONS)
def test_name_and_parse_are_inverse(sparsity, quantization):
    assert parse_variant(variant_name(sparsity, quantization)) == (sparsity, quantization)


def test_known_names_and_labels():
    assert [variant_name(0, q) for q in QUANTIZATIONS] == ["baseline", "q8", "int8full"]
    assert variant_name(0.5, "int8") == "s50_q8" and variant_name(0.95, "float32") == "s95_float"
    assert parse_variant("single") == (0.0, "float32")
    assert sparsity_label("s25_q8") == "25 %" and sparsity_label("baseline") == "0 %"


def test_reader_labels_name_the_kind_of_weights_alike():
    from helpers.core.variants import label

    assert label("single_q8") == "single model, int8 weights"  # as the committed results.json names it
    assert label("s50_q8") == "50 % pruned, int8 weights" and label("q8_m3") == "3 int8 members"
    assert label("single") == "single model (float32)" and label("ft_int8full") == "re-training control, full int8"


def test_variants_of_a_config_in_order():
    cfg = load_config("smoke")  # sparsities 0.5, 0.95
    assert [v["name"] for v in variants(cfg)] == [
        "baseline",
        "q8",
        "int8full",
        "ft",
        "ft_q8",
        "ft_int8full",
        "s50_float",
        "s50_q8",
        "s50_int8full",
        "s95_float",
        "s95_q8",
        "s95_int8full",
    ]
    control = [v for v in variants(cfg) if v["control"]]
    assert [v["float_source"] for v in control] == ["ft", "ft", "ft"]
    assert [float_source(n) for n in ("q8", "s50_int8full", "single")] == ["baseline", "s50_float", "baseline"]
    assert is_control("ft_q8") and not is_control("q8")
    assert parse_variant("ft_int8full") == (0.0, "int8full") and variant_name(0, "int8", control=True) == "ft_q8"
    assert int8_variants(cfg) == ["s50_q8", "s95_q8"]


def test_bad_name_is_one_sentence():
    with pytest.raises(ValueError, match=r"variant name 's50_int8' is not recognised; expected"):
        parse_variant("s50_int8")
