"""More of issue 14 ("Nothing stale, nothing unverified, nothing silent"): every command the
code advises runs as written, a truncated executed chapter stops the build before Sphinx,
and a Ray address where nothing answers ends the sweep command in one line.

The records index (seeds/index.json) and a changed alpha are tested in test_aggregate.py
beside the other record and staleness checks; a swapped model file through the command
line in test_faults.py, on its trained smoke store.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPO_ROOT
from helpers.build import pipeline
from helpers.build.chapters import PipelineError, check_executed, rel_path

# --- every advised command parses ------------------------------------------------------------
SOURCE = REPO_ROOT / "src" / "helpers"

SKIPPED = {
    "python -m helpers <command>": "names the command line itself, any command",
    "python -m helpers train|evaluate|aggregate|weights|frontier|adopt|sweep|build --profile NAME": (
        "a usage line listing alternatives"
    ),
    "python -m helpers build --out-dir": "names the --out-dir option (the out-dir marker), not a command to run",
}
"""Backticked text starting with `python -m helpers` that is not a command to run."""

PLACEHOLDERS = [
    (re.compile(r"profile"), "smoke"),  # {profile}, {cfg.profile}, {r['results']['profile']}, ...
    (re.compile(r"^path\.parent\.parent\.name$"), "smoke"),  # a pack's profile folder
    (re.compile(r"seed"), "0"),  # {seed}, {r['seed']}, {pack_seed}, the seeds of records
]
"""What a formatting placeholder of an advised command stands for: the first rule whose
pattern matches the placeholder's expression."""


def _substitute(command: str) -> str:
    def value(m: re.Match) -> str:
        expression = m.group(1)
        for pattern, replacement in PLACEHOLDERS:
            if pattern.search(expression):
                return replacement
        raise AssertionError(f"placeholder {{{expression}}} of `{command}` has no value; add a rule to PLACEHOLDERS")

    return re.sub(r"\{([^{}]*)\}", value, command)


def advised_commands() -> list[tuple[str, str]]:
    """(file:line, command) of every backticked `python -m helpers ...` in the package, with
    implicitly concatenated string literals joined (a message spans several source lines)."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        source = path.read_text()
        joined = re.sub(r"[\"']\s*\n\s*[rRbBfF]*[\"']", "", source)
        for m in re.finditer(r"`(python -m helpers[^`\n]*)`", joined):
            line = joined.count("\n", 0, m.start()) + 1
            found.append((f"{path.relative_to(SOURCE).as_posix()}:{line}", m.group(1)))
    return found


COMMANDS = advised_commands()


def test_the_scan_finds_the_advised_commands():
    commands = {c for _, c in COMMANDS}
    assert "python -m helpers weights --profile {r['results']['profile']} --seeds {r['seed']}" in commands
    assert "python -m helpers evaluate --profile {profile} --seeds {seed}" in commands
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("where, command", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_every_advised_command_parses_with_the_cli(where, command):
    from helpers.build.cli import _parser

    if command in SKIPPED:
        pytest.skip(f"{where}: {SKIPPED[command]}")
    argv = shlex.split(_substitute(command))
    assert argv[:3] == ["python", "-m", "helpers"]
    try:
        _parser().parse_args(argv[3:])
    except SystemExit as e:
        pytest.fail(f"{where}: `{command}` does not parse with the command line (exit {e.code})")


def test_weights_without_seeds_would_not_parse():
    """What the scan catches: `weights` advised without its required --seeds."""
    from helpers.build.cli import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(["weights", "--profile", "smoke"])


# --- a truncated executed chapter -------------------------------------------------------------
def _book(tmp_path: Path) -> Path:
    """A book folder with one executed chapter (a copy of the committed chapter 01)."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/01_data_and_model\n")
    shutil.copy(REPO_ROOT / "book" / "chapters" / "01_data_and_model.ipynb", book / "chapters")
    return book


def test_a_truncated_executed_chapter_fails_the_build_naming_it(tmp_path, monkeypatch):
    book = _book(tmp_path)
    path = book / "chapters" / "01_data_and_model.ipynb"
    pipeline.check_executed_chapters(book, "smoke")  # intact: no error
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    def no_sphinx(*args, **kwargs):
        raise AssertionError("jupyter-book was started on a truncated chapter")

    monkeypatch.setattr(subprocess, "Popen", no_sphinx)
    with pytest.raises(PipelineError) as err:
        pipeline.build_book(book, echo=False, profile="smoke")
    message = str(err.value)
    assert message.startswith(f"The executed chapter {rel_path(path)} is not a valid notebook (JSONDecodeError: ")
    assert message.endswith(
        "), truncated or edited after it was written; execute it again with "
        f"`python -m helpers build --profile smoke --only 01 --out-dir {shlex.quote(rel_path(book))}`."
    )
    assert "\n" not in message


def test_a_notebook_that_is_json_but_not_a_notebook_is_named(tmp_path):
    path = _book(tmp_path) / "chapters" / "01_data_and_model.ipynb"
    nb = json.loads(path.read_text())
    del nb["cells"][0]["source"]  # valid JSON, invalid nbformat
    path.write_text(json.dumps(nb))
    with pytest.raises(PipelineError) as err:
        check_executed(path, "x")
    assert str(err.value) == (
        f"The executed chapter {rel_path(path)} is not a valid notebook (NotebookValidationError: "
        "'source' is a required property), truncated or edited after it was written; execute "
        "it again with `x`."
    )


def test_the_rebuild_command_follows_the_book_folder():
    assert pipeline.rebuild_command("paper", pipeline.BOOK_DIR, "03") == "python -m helpers build --profile paper --only 03"
    assert (
        pipeline.rebuild_command("smoke", REPO_ROOT / "build" / "smoke", "02")
        == "python -m helpers build --profile smoke --only 02"
    )
    assert pipeline.rebuild_command("smoke", pipeline.BOOK_DIR, "02") == (
        "python -m helpers build --profile smoke --only 02 --into-book"
    )
    assert pipeline.rebuild_command("paper", REPO_ROOT / "build" / "paper", "02", {"epochs": 2}) == (
        "python -m helpers build --profile paper --only 02 -p epochs 2"
    )


def test_every_committed_chapter_is_a_valid_notebook():
    for path in sorted((REPO_ROOT / "book" / "chapters").glob("*.ipynb")):
        nbformat.validate(nbformat.read(path, as_version=4))
        check_executed(path, "unused")


# --- a Ray address where nothing answers --------------------------------------------------------
def test_a_sweep_on_a_dead_ray_address_is_one_line_and_exit_1(tmp_path):
    pytest.importorskip("ray")
    argv = ["sweep", "--profile", "smoke", "--engine", "ray", "--address", "127.0.0.1:1", "--seeds", "0"]
    env = {**os.environ, "CDE_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "CDE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CDE_TRACEBACK", None)
    code = f"import sys; from helpers.build.cli import main; sys.exit(main({argv!r}))"
    # a generous bound: the command gives up after 5 s without an answer, not after Ray's minutes
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    err = proc.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith("error: Nothing answered at the Ray address 127.0.0.1:1 within 5 s (ConnectionRefusedError: ")
    assert err.endswith("start the head there with `ray start --head --port 1`, or pass the address it prints.")
    assert not (tmp_path / "artifacts" / "smoke" / "seeds").exists()  # nothing recorded
