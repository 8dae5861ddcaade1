"""Tests for helpers.pipeline on tiny throwaway notebooks (stdlib only, a few seconds each).

Every test builds into tmp_path with `out_dir`, so `book/`, `artifacts/` and the repo's
chapters are never touched; each executes real notebooks on the `cde-book` kernel.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest

from helpers import pipeline
from helpers.__main__ import main
from helpers.pipeline import PipelineError, run

PARAMS = '# %% tags=["parameters"]\nprofile = "paper"\n'


def write_nb(folder: Path, name: str, body: str, params: str | None = PARAMS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "# %% [markdown]\n# # " + name + "\n\n" + (params + "\n" if params else "")
    path = folder / f"{name}.py"
    path.write_text(text + textwrap.dedent(body))
    return path


def run_quiet(tmp_path: Path, **kw):
    kw.setdefault("notebooks_dir", tmp_path / "nbs")
    kw.setdefault("out_dir", tmp_path / "out")
    kw.setdefault("build", False)
    return run(kw.pop("profile", "smoke"), progress_bar=False, echo=None, **kw)


def outputs_text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") if o.output_type == "stream"
                       else json.dumps(o.get("data", {})))
    return "\n".join(out)


def execution_json(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "artifacts" / "smoke" / "execution.json").read_text())


def test_profile_is_injected_and_the_injected_cell_is_hidden(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", """
        # %%
        import os
        print(f"profile={profile}")
        print(f"cwd={os.getcwd()}")
        print(f"artifacts={os.environ.get('CDE_ARTIFACTS_DIR')}")
        """)
    before = os.environ.get("CDE_ARTIFACTS_DIR")
    result = run_quiet(tmp_path)
    out_dir = (tmp_path / "out").resolve()
    nb = nbformat.read(out_dir / "chapters" / "01_demo.ipynb", as_version=4)
    text = outputs_text(nb)
    assert "profile=smoke" in text
    # documented choices: cwd is the chapters folder; the kernel sees the out-dir store
    assert f"cwd={out_dir / 'chapters'}" in text
    assert f"artifacts={out_dir / 'artifacts'}" in text
    assert os.environ.get("CDE_ARTIFACTS_DIR") == before          # restored afterwards
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    assert 'profile = "smoke"' in injected[0].source
    assert nb.metadata.papermill.parameters == {"profile": "smoke"}
    assert nb.metadata.papermill.input_path.endswith("01_demo.py")
    assert nb.metadata.kernelspec.name == "cde-book"
    assert result.chapters["01_demo"]["status"] == "completed"
    record = execution_json(tmp_path)["01_demo"]
    assert record["status"] == "completed" and record["seconds"] >= 0
    assert not list((out_dir / "_build" / ".papermill").iterdir())  # no temp file left


def test_unknown_parameter_is_a_clear_error(tmp_path):
    path = write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    with pytest.raises(PipelineError) as err:
        run_quiet(tmp_path, parameters={"epochs": 2})
    msg = str(err.value)
    assert "epochs" in msg and str(path) in msg and "declares: profile" in msg
    assert not (tmp_path / "out" / "chapters" / "01_demo.ipynb").exists()


def test_notebook_without_parameters_cell_is_a_clear_error(tmp_path):
    write_nb(tmp_path / "nbs", "01_fine", "# %%\nx = 1\n")
    write_nb(tmp_path / "nbs", "02_bare", "# %%\nx = 1\n", params=None)
    with pytest.raises(PipelineError, match=r"02_bare\.py has no cell tagged `parameters`"):
        run_quiet(tmp_path)
    # checked before anything runs: the good chapter was not executed either
    assert not (tmp_path / "out" / "chapters" / "01_fine.ipynb").exists()


def test_failing_cell_stops_with_one_line_and_keeps_the_previous_chapter(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    write_nb(nbs, "01_demo", "# %%\nvalue = 1\nprint('first version')\n")
    run_quiet(tmp_path)
    chapter = tmp_path / "out" / "chapters" / "01_demo.ipynb"
    previous = chapter.read_bytes()

    write_nb(nbs, "01_demo", """
        # %%
        value = 1

        # %% [markdown]
        # Some prose.

        # %%
        scale = 0
        value / scale
        """)
    with pytest.raises(PipelineError) as err:
        run_quiet(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    # cells counted from 1 in the source: title, parameters, value, prose, failing cell
    assert "Chapter 01_demo failed in cell 5 ('scale = 0')" in msg
    assert "ZeroDivisionError: division by zero" in msg
    assert chapter.read_bytes() == previous                    # untouched
    failed = tmp_path / "out" / "_build" / "failed" / "01_demo.ipynb"
    assert failed.exists() and "_build/failed/01_demo.ipynb" in msg
    assert execution_json(tmp_path)["01_demo"]["status"] == "failed"
    assert not list((tmp_path / "out" / "_build" / ".papermill").iterdir())

    # the CLI prints that one message, no traceback, and exits non-zero
    rc = main(["build", "--profile", "smoke", "--notebooks", str(nbs), "--out-dir",
               str(tmp_path / "out"), "--no-build", "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    errors = [line for line in captured.err.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: Chapter 01_demo failed in cell 5")
    assert chapter.read_bytes() == previous


def test_only_selects_one_chapter(tmp_path):
    nbs = tmp_path / "nbs"
    for name in ("01_one", "02_two", "03_three"):
        write_nb(nbs, name, "# %%\nprint(profile)\n")
    result = run_quiet(tmp_path, only="02")
    assert list(result.chapters) == ["02_two"]
    assert sorted(p.name for p in (tmp_path / "out" / "chapters").iterdir()) == ["02_two.ipynb"]
    assert [p.stem for p in pipeline.discover_chapters(nbs, "3")] == ["03_three"]
    assert [p.stem for p in pipeline.discover_chapters(nbs, "01_one")] == ["01_one"]
    with pytest.raises(PipelineError, match="choose one of 01_one, 02_two, 03_three"):
        pipeline.discover_chapters(nbs, "09")


def test_out_dir_copies_the_book_skeleton(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    run_quiet(tmp_path)
    out = tmp_path / "out"
    for name in ("_config.yml", "_toc.yml", "references.bib", "references.md"):
        assert (out / name).read_bytes() == (pipeline.BOOK_DIR / name).read_bytes(), name
    assert sorted(p.name for p in (out / "chapters").iterdir()) == ["01_demo.ipynb"]
    assert (out / "artifacts" / "smoke" / "execution.json").exists()
    assert not (out / "_build" / "html").exists()               # --no-build


def test_fresh_wipes_the_profile_store(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    run_quiet(tmp_path)
    marker = tmp_path / "out" / "artifacts" / "smoke" / "stale.json"
    marker.write_text("{}")
    run_quiet(tmp_path, fresh=True)
    assert not marker.exists()
    assert list(execution_json(tmp_path)) == ["01_demo"]


def test_missing_kernel_says_make_venv(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    with pytest.raises(PipelineError, match="make venv"):
        run_quiet(tmp_path, kernel_name="no-such-kernel-cde")


def test_cli_parameters_are_parsed_like_papermill():
    assert pipeline.parameters_from_pairs([["epochs", "2"], ["lr", "0.5"], ["sub", "null"],
                                           ["sp", "[0.5, 0.9]"], ["name", "abc"]]) == {
        "epochs": 2, "lr": 0.5, "sub": None, "sp": [0.5, 0.9], "name": "abc"}
    with pytest.raises(PipelineError, match="--profile"):
        pipeline.parameters_from_pairs([["profile", "quick"]])


def test_book_build_records_time_and_turns_warnings_into_errors(tmp_path):
    """A two-page book through jupyter-book: built cleanly, then broken by a dangling ref."""
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (skeleton / "_config.yml").write_text(textwrap.dedent("""\
        title: tiny
        only_build_toc_files: true
        execute:
          execute_notebooks: "off"
        """))
    (skeleton / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: chapters/01_demo\n")
    (skeleton / "intro.md").write_text("# Tiny\n\nSee {ref}`demo`.\n")
    (skeleton / "static.txt").write_text("copied too")
    write_nb(tmp_path / "nbs", "01_demo", "# %% [markdown]\n# (demo)=\n# ## Demo\n")
    result = run_quiet(tmp_path, build=True, book_source=skeleton)
    assert result.index_html == (tmp_path / "out" / "_build" / "html" / "index.html").resolve()
    assert result.index_html.exists() and (tmp_path / "out" / "static.txt").exists()
    build = execution_json(tmp_path)["book_build"]
    assert build["status"] == "completed" and build["seconds"] > 0

    (skeleton / "intro.md").write_text("# Tiny\n\nSee {ref}`no-such-label`.\n")
    with pytest.raises(PipelineError) as err:
        run_quiet(tmp_path, build=True, book_source=skeleton)
    msg = str(err.value)
    assert "jupyter-book build" in msg and "no-such-label" in msg and "\n" not in msg
    assert execution_json(tmp_path)["book_build"]["status"] == "failed"


def test_build_refuses_a_book_with_unexecuted_chapters(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: chapters/01_demo\n")
    (book / "intro.md").write_text("# Tiny\n")
    with pytest.raises(PipelineError, match="lacks chapters/01_demo"):
        pipeline.check_toc(book)


def test_the_intro_chapter_00_runs_last(tmp_path):
    nbs = tmp_path / "nbs"
    for name in ("02_b", "00_intro", "01_a"):
        write_nb(nbs, name, "# %%\nx = 1\n")
    assert [p.stem for p in pipeline.discover_chapters(nbs)] == ["01_a", "02_b", "00_intro"]
