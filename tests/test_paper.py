"""The paper's facts in helpers.core.paper, checked against shared/paper/claims.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.core import paper

CLAIMS_MD = Path(__file__).resolve().parents[2] / "shared" / "paper" / "claims.md"


@pytest.fixture(scope="module")
def claims_text() -> dict:
    if not CLAIMS_MD.exists():
        pytest.skip(f"{CLAIMS_MD} is not there (the shared folder sits beside the checkout)")
    rows = {}
    for line in CLAIMS_MD.read_text().splitlines():
        m = re.match(r"^\|\s*(C\d+)\s*\|(.*)$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows | {"_all": CLAIMS_MD.read_text()}


def numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"[-+]?\d[\d,]*\.?\d*", text)]


def test_every_claim_has_wording(claims_text):
    assert sorted(paper.CLAIMS, key=lambda c: int(c[1:])) == [f"C{i}" for i in range(1, 11)]
    assert set(paper.CLAIMS) == {k for k in claims_text if k.startswith("C")}


def test_table1(claims_text):
    text = claims_text["C1"]
    for _, shape, params in paper.TABLE1:
        assert f"{params:,}" in text
        if len(shape) == 3:
            assert "(" + ",".join(str(s) for s in shape) + ")" in text
    assert f"{paper.EPOCHS} training and {paper.RETRAIN_EPOCHS} re-training epochs" in text
    assert f"validation split {paper.VALIDATION_SPLIT:g}" in text and f"M = {paper.ENSEMBLE_SIZE}" in text


@pytest.mark.parametrize("claim", ["C2", "C3", "C4"])
def test_compressed_claims(claims_text, claim):
    text = claims_text[claim]
    for c in paper.COMPRESSED.values():
        if c.claim != claim:
            continue
        assert f"{round(100 * c.sparsity)} %" in text
        diff = f"{c.accuracy_diff_pp:+.0f}" if c.approximate else f"{c.accuracy_diff_pp:+.2f}"
        assert f"{diff} %" in text
        if c.compression_ratio == c.compression_ratio:
            assert f"{c.compression_ratio:g}x" in text
        assert c.approximate == ("about" in text)


def test_c5_threshold_and_band(claims_text):
    text = claims_text["C5"]
    assert f"tau = {paper.TAU:g}" in text
    assert f"more than {round(100 * paper.MNIST_CLASSIFIED_ABOVE)} %" in text
    low, high = paper.NOTMNIST_BAND
    assert f"{round(100 * low)}-{round(100 * high)} %" in text


def test_dataset_sizes_and_sparsities(claims_text):
    all_text = claims_text["_all"]
    assert f"{paper.MNIST_TEST_IMAGES:,} MNIST test images" in all_text
    assert f"{paper.NOTMNIST_IMAGES:,} NotMNIST images" in all_text
    assert tuple(sorted(c.sparsity for c in paper.COMPRESSED.values())) == paper.SPARSITIES
