"""The benchmark scripts stay importable: `make bench` is not part of the test run, so a
renamed helper would otherwise break a script unnoticed (bench_sizes once imported a
constant that had moved)."""

from __future__ import annotations

import importlib.util

import pytest

from helpers.core.config import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "benchmarks").glob("bench_*.py"))


def test_every_make_bench_script_is_here():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert SCRIPTS and all(f"benchmarks/{p.name}" in makefile for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_imports_and_has_a_main(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # top-level imports only; main() is not run
    assert callable(module.main)
