"""Tests for helpers.build.pipeline and .chapters on tiny throwaway notebooks (stdlib only, a few seconds each).

Every test builds into tmp_path with `out_dir`, so `book/`, `artifacts/` and the repo's
chapters are never touched; each executes real notebooks on the `cde-book` kernel.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import needs_real_data
from helpers.book import bookio
from helpers.build import chapters, pipeline
from helpers.build.chapters import PipelineError
from helpers.build.cli import main
from helpers.build.pipeline import run

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
    kw.setdefault("stages", False)  # synthetic chapters read no store
    return run(kw.pop("profile", "smoke"), progress_bar=False, echo=None, **kw)


def outputs_text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") if o.output_type == "stream" else json.dumps(o.get("data", {})))
    return "\n".join(out)


def execution_json(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "artifacts" / "smoke" / "execution.json").read_text())


def test_profile_is_injected_and_the_injected_cell_is_hidden(tmp_path):
    write_nb(
        tmp_path / "nbs",
        "01_demo",
        """
        # %%
        import os
        print(f"profile={profile}")
        print(f"cwd={os.getcwd()}")
        print(f"artifacts={os.environ.get('CDE_ARTIFACTS_DIR')}")
        """,
    )
    before = os.environ.get("CDE_ARTIFACTS_DIR")
    result = run_quiet(tmp_path)
    out_dir = (tmp_path / "out").resolve()
    nb = nbformat.read(out_dir / "chapters" / "01_demo.ipynb", as_version=4)
    text = outputs_text(nb)
    assert "profile=smoke" in text
    # documented choices: cwd is the chapters folder; the kernel sees the out-dir store;
    # the chapter shows them without this machine's paths
    assert "cwd=<book>/chapters" in text
    assert "artifacts=<book>/artifacts" in text
    assert str(tmp_path) not in (out_dir / "chapters" / "01_demo.ipynb").read_text()
    assert os.environ.get("CDE_ARTIFACTS_DIR") == before  # restored afterwards
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


def test_config_keys_reach_a_chapter_through_its_overrides_mapping(tmp_path):
    nbs = tmp_path / "nbs"
    write_nb(
        nbs,
        "01_demo",
        "# %%\nprint('got', sorted(overrides.items()))\n",
        params='# %% tags=["parameters"]\nprofile = "paper"\noverrides = {}\n',
    )
    run_quiet(tmp_path, parameters={"bootstrap_samples": 50, "seed": 3})
    nb = nbformat.read(tmp_path / "out" / "chapters" / "01_demo.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "got [('bootstrap_samples', 50), ('seed', 3)]" in printed
    assert chapters.chapter_parameters({"profile", "overrides"}, {"profile": "quick", "seed": 3, "x": 1}) == {
        "profile": "quick",
        "overrides": {"seed": 3},
    }


def test_notebook_without_parameters_cell_is_a_clear_error(tmp_path):
    write_nb(tmp_path / "nbs", "01_fine", "# %%\nx = 1\n")
    write_nb(tmp_path / "nbs", "02_bare", "# %%\nx = 1\n", params=None)
    with pytest.raises(PipelineError, match=r"02_bare\.py has no cell tagged `parameters`"):
        run_quiet(tmp_path)
    # checked before anything runs: the good chapter was not executed either
    assert not (tmp_path / "out" / "chapters" / "01_fine.ipynb").exists()


# The CLI half builds the smoke stages first, which reads MNIST: without CDE_DATA_DIR the
# loader would try to download it, and no test may touch the network.
@needs_real_data
def test_failing_cell_stops_with_one_line_and_keeps_the_previous_chapter(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    write_nb(nbs, "01_demo", "# %%\nvalue = 1\nprint('first version')\n")
    run_quiet(tmp_path)
    chapter = tmp_path / "out" / "chapters" / "01_demo.ipynb"
    previous = chapter.read_bytes()

    write_nb(
        nbs,
        "01_demo",
        """
        # %%
        value = 1

        # %% [markdown]
        # Some prose.

        # %%
        scale = 0
        value / scale
        """,
    )
    with pytest.raises(PipelineError) as err:
        run_quiet(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    # cells counted from 1 in the source: title, parameters, value, prose, failing cell
    assert "Chapter 01_demo failed in cell 5 ('scale = 0')" in msg
    assert "ZeroDivisionError: division by zero" in msg
    assert chapter.read_bytes() == previous  # untouched
    failed = tmp_path / "out" / "_build" / "failed" / "01_demo.ipynb"
    assert failed.exists() and "_build/failed/01_demo.ipynb" in msg
    assert execution_json(tmp_path)["01_demo"]["status"] == "failed"
    assert not list((tmp_path / "out" / "_build" / ".papermill").iterdir())

    # the CLI prints that one message, no traceback, and exits non-zero
    rc = main(
        [
            "build",
            "--profile",
            "smoke",
            "--notebooks",
            str(nbs),
            "--out-dir",
            str(tmp_path / "out"),
            "--no-build",
            "--no-progress",
        ]
    )
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
    assert [p.stem for p in chapters.discover_chapters(nbs, "3")] == ["03_three"]
    assert [p.stem for p in chapters.discover_chapters(nbs, "01_one")] == ["01_one"]
    with pytest.raises(PipelineError, match="choose one of 01_one, 02_two, 03_three"):
        chapters.discover_chapters(nbs, "09")


def test_out_dir_copies_the_book_skeleton(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    run_quiet(tmp_path)
    out = tmp_path / "out"
    for name in ("_config.yml", "_toc.yml", "references.bib", "references.md"):
        assert (out / name).read_bytes() == (pipeline.BOOK_DIR / name).read_bytes(), name
    assert sorted(p.name for p in (out / "chapters").iterdir()) == ["01_demo.ipynb"]
    assert (out / "artifacts" / "smoke" / "execution.json").exists()
    assert not (out / "_build" / "html").exists()  # --no-build


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
    assert pipeline.parameters_from_pairs(
        [["epochs", "2"], ["lr", "0.5"], ["sub", "null"], ["sp", "[0.5, 0.9]"], ["name", "abc"]]
    ) == {"epochs": 2, "lr": 0.5, "sub": None, "sp": [0.5, 0.9], "name": "abc"}
    with pytest.raises(PipelineError, match="--profile"):
        pipeline.parameters_from_pairs([["profile", "quick"]])


def test_book_build_records_time_and_turns_warnings_into_errors(tmp_path):
    """A two-page book through jupyter-book: built cleanly, then broken by a dangling ref."""
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (skeleton / "_config.yml").write_text(
        textwrap.dedent("""\
        title: tiny
        only_build_toc_files: true
        repository:
          url: https://github.com/example/tiny
        execute:
          execute_notebooks: "off"
        """)
    )
    (skeleton / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_demo\n")
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
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_demo\n")
    (book / "intro.md").write_text("# Tiny\n")
    with pytest.raises(PipelineError, match="lacks chapters/01_demo"):
        pipeline.check_toc(book)


def test_the_intro_chapter_00_runs_last(tmp_path):
    nbs = tmp_path / "nbs"
    for name in ("02_b", "00_intro", "01_a"):
        write_nb(nbs, name, "# %%\nx = 1\n")
    assert [p.stem for p in chapters.discover_chapters(nbs)] == ["01_a", "02_b", "00_intro"]


# --- post-processing: code a reader can open, reproducible and clean chapters ----------
def chapter_nb(tmp_path: Path, name: str = "01_demo"):
    return nbformat.read(tmp_path / "out" / "chapters" / f"{name}.ipynb", as_version=4)


def tags_of(cell) -> list:
    return cell.metadata.get("tags", [])


def test_code_cells_are_folded_and_only_parameters_and_setup_are_removed(tmp_path):
    write_nb(
        tmp_path / "nbs",
        "01_demo",
        """
        # %% tags=["remove-cell"]
        setup = 1

        # %%
        shown = 2

        # %% tags=["hide-input", "remove-output"]
        quiet = 3
        """,
    )
    run_quiet(tmp_path)
    nb = chapter_nb(tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # install, parameters, injected parameters, setup: removed; the rest folded
    assert [tags_of(c) for c in code] == [
        ["install-cell", "remove-cell"],
        ["parameters", "remove-cell"],
        ["injected-parameters", "remove-cell"],
        ["remove-cell"],
        ["hide-input"],
        ["hide-input", "remove-output"],
    ]


def test_a_removed_computation_is_refused_before_anything_runs(tmp_path):
    write_nb(tmp_path / "nbs", "01_fine", "# %%\nx = 1\n")
    path = write_nb(
        tmp_path / "nbs",
        "02_hides",
        """
        # %% tags=["remove-cell"]
        setup = 1

        # %% tags=["remove-cell"]
        secret = setup * 2

        # %% tags=["remove-input"]
        also_secret = 3
        """,
    )
    with pytest.raises(PipelineError) as err:
        run_quiet(tmp_path)
    assert str(err.value) == (
        f"{path} hides code from the reader: cell 4 ('secret = setup * 2') tagged remove-cell; "
        "cell 5 ('also_secret = 3') tagged remove-input or hide-cell; only the parameters "
        "cell and the setup cell right after it may be tagged remove-cell, every other code "
        "cell is folded with hide-input (or left untagged, which adds hide-input)."
    )
    assert not (tmp_path / "out" / "chapters").exists() or not list((tmp_path / "out" / "chapters").iterdir())


def test_the_install_cell_comes_first_with_the_books_repository(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nimport helpers\nprint('ok')\n")
    run_quiet(tmp_path)
    nb = chapter_nb(tmp_path)
    first = nb.cells[0]
    url, branch = bookio.repository_from_config(pipeline.BOOK_DIR / "_config.yml")
    assert first.cell_type == "code" and tags_of(first) == ["install-cell", "remove-cell"]
    assert f"repository, branch = {url!r}, {branch!r}" in first.source
    assert first.outputs == []  # it ran: helpers is importable here, nothing to do
    assert [c for c in nb.cells if bookio.INSTALL_TAG in tags_of(c)] == [first]


def test_the_install_cell_clones_and_installs_when_helpers_is_missing(tmp_path, monkeypatch):
    """Run the cell's code as a fresh Colab kernel would, with git and pip stubbed."""
    import importlib.util
    import subprocess
    import sys

    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw.get("cwd"))))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    cell = bookio.install_cell("https://github.com/someone/cde-book", "dev")
    exec(compile(cell.source, "install-cell", "exec"), {})
    clone = str(tmp_path / "cde-book")
    assert calls == [
        (["git", "clone", "--depth", "1", "--branch", "dev", "https://github.com/someone/cde-book", clone], None),
        ([sys.executable, "-m", "pip", "install", "--quiet", "-r", "requirements-runtime.txt"], clone),
    ]
    assert sys.path[0] == os.path.join(clone, "src")
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_the_runtime_requirements_are_a_slim_subset_with_the_same_pins():
    from importlib.metadata import version

    from helpers.core.config import REPO_ROOT

    def pins(name):
        lines = (REPO_ROOT / name).read_text().splitlines()
        return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))

    full, runtime = pins("requirements.txt"), pins("requirements-runtime.txt")
    assert not {"jupyter-book", "ray", "pytest", "selenium", "zizmor", "ruff"} & set(runtime)
    assert {k: v for k, v in runtime.items() if k in full} == {k: full[k] for k in runtime if k in full}
    assert runtime["myst-nb"] == version("myst-nb")  # jupyter-book's own, pinned for the glue calls


def test_a_book_without_repository_url_is_a_clear_error(tmp_path):
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (skeleton / "_config.yml").write_text("title: no repo\n")
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    with pytest.raises(
        PipelineError,
        match=r"_config.yml has no repository.url; set it to the "
        r"repository's https address",
    ):
        run_quiet(tmp_path, book_source=skeleton)


REPRODUCIBLE_BODY = """
    # %% tags=["remove-cell"]
    import sys
    import matplotlib.pyplot as plt
    import pandas as pd
    from myst_nb import glue
    from helpers.book import plots
    plots.set_style()

    # %%
    import os
    sys.stderr.write("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n"
                     "I0000 00:00:1795846126.786631   24848 port.cc:153] oneDNN custom operations are on.\\n"
                     "E0000 00:00:1795846128.682859   24848 cuda_platform.cc:52] failed call to cuInit\\n")
    sys.stderr.flush()
    print("kernel env:", os.environ["TF_CPP_MIN_LOG_LEVEL"], repr(os.environ["CUDA_VISIBLE_DEVICES"]),
          os.environ["TQDM_DISABLE"])
    print("here:", os.getcwd(), sys.prefix)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4])
    glue("demo_fig", fig, display=False)
    plt.close(fig)
    table = pd.DataFrame({"variant": ["a", "b"], "accuracy": [0.5, 0.25]})
    glue("demo_table", table.style.map(lambda v: "color: red;", subset=["accuracy"]), display=False)
    """


def test_rebuilding_with_unchanged_inputs_gives_identical_chapters(tmp_path):
    write_nb(tmp_path / "nbs", "01_demo", REPRODUCIBLE_BODY)
    run_quiet(tmp_path)
    chapter = tmp_path / "out" / "chapters" / "01_demo.ipynb"
    first = chapter.read_bytes()
    run_quiet(tmp_path)
    assert chapter.read_bytes() == first

    nb = nbformat.reads(first.decode(), as_version=4)
    assert [c.id for c in nb.cells] == [f"01_demo-{i:03d}" for i in range(len(nb.cells))]
    assert all("execution" not in c.metadata and "papermill" not in c.metadata for c in nb.cells)
    assert sorted(nb.metadata.papermill) == ["default_parameters", "input_path", "output_path", "parameters", "version"]
    assert nb.metadata.papermill.output_path == "chapters/01_demo.ipynb"
    # the glued figure is SVG (what the book shows), without a date
    glued = [o for c in nb.cells for o in c.get("outputs", []) if "data" in o]
    svg = [o.data[m] for o in glued for m in o.data if m.endswith("image/svg+xml")]
    assert len(svg) == 1 and "<dc:date>" not in svg[0] and "<svg" in svg[0]
    html = [o.data[m] for o in glued for m in o.data if m.endswith("text/html")]
    assert len(html) == 1 and re.search(r'<table id="T_[0-9a-f]{8}"', html[0])


def test_outputs_carry_no_tensorflow_logs_and_no_machine_paths(tmp_path):
    import sys

    write_nb(tmp_path / "nbs", "01_demo", REPRODUCIBLE_BODY)
    run_quiet(tmp_path)
    nb = chapter_nb(tmp_path)
    text = outputs_text(nb)
    assert "kernel env: 3 '' 1" in text  # TF C++ logging off, no GPU, no tqdm
    assert "here: <book>/chapters <python>" in text
    for needle in ("absl", "oneDNN", "cuInit", str(tmp_path), sys.prefix):
        assert needle not in text, needle
    streams = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert [o.name for o in streams] == ["stdout"]  # the stderr output, emptied, is dropped


def test_stream_cleaning_on_real_tensorflow_output():
    """TF 2.21 on a CPU machine, as captured by papermill (TF_CPP_MIN_LOG_LEVEL unset)."""
    raw = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795906900.620000    9985 cudart_stub.cc:31] Could not find cuda drivers "
        "on your machine, GPU will not be used.\n"
        "I0000 00:00:1795906900.842574    9985 cpu_feature_guard.cc:227] This TensorFlow binary "
        "is optimized to use available CPU instructions in performance-critical operations.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.\n"
        "2024-05-01 10:00:00.123456: W tensorflow/core/util/port.cc:113] an older log form\n"
        "/x/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found. Please update "
        "jupyter and ipywidgets.\n"
        "  from .autonotebook import tqdm as notebook_tqdm\n"
        "a line the reader should see\n"
        "  and its indented continuation\n"
    )
    assert bookio.clean_stream_text(raw) == ("a line the reader should see\n  and its indented continuation\n")
    # seen in the smoke book's chapters: TF's Python loggers, TFLite's C++ prints, tqdm bars
    smoke = (
        "INFO:tensorflow:Assets written to: /tmp/tmp4yjsk6qc/assets\n"
        "WARNING:tensorflow:5 out of the last 5 calls to <function Model.make_predict_function."
        "<locals>.predict_function> triggered tf.function retracing.\n"
        "fully_quantize: 0, inference_type: 6, input_inference_type: INT8, "
        "output_inference_type: INT8\n"
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
        "\rDecoding notMNIST_small.tar.gz:   0%|          | 0/18726 [00:00<?, ?png/s]"
        "\rDecoding notMNIST_small.tar.gz:  42%|####2     | 7920/18726 [00:04<00:03, 2786.22png/s]"
        "\rDecoding notMNIST_small.tar.gz: 100%|##########| 18726/18726 [00:08<00:00, 2255.1png/s]\n"
        "ERROR:tensorflow:a real error stays\n"
        "WARNING:root:the chapter's own warning stays\n"
    )
    assert bookio.clean_stream_text(smoke) == (
        "ERROR:tensorflow:a real error stays\nWARNING:root:the chapter's own warning stays\n"
    )


def test_machine_paths_are_replaced_by_whole_components_only():
    replacements = [("/home/u", "~"), ("/home/u/repo", "<repo>")]
    assert (
        bookio.scrub_paths("/home/u/repo/src/x.py and /home/u/.cache and /home/uv", replacements)
        == "<repo>/src/x.py and ~/.cache and /home/uv"
    )


def test_styler_ids_are_stable_and_distinct_per_output():
    html = '<style>#T_1a2b3_row0_col1 { color: red; }</style><table id="T_1a2b3"><td id="T_1a2b3_row0_col1">'
    a = bookio._stable_styler_ids(html, "cell-1-0")
    assert a == bookio._stable_styler_ids(html.replace("1a2b3", "ffff0"), "cell-1-0")
    assert "1a2b3" not in a and a != bookio._stable_styler_ids(html, "cell-2-0")
    assert a.count(a[a.index('id="T_') + 4 : a.index('id="T_') + 14]) == 3


def test_a_non_paper_build_never_writes_into_the_committed_book(monkeypatch):
    from helpers.build import pipeline as P
    from helpers.build.cli import main
    from helpers.core.config import REPO_ROOT

    seen = {}
    monkeypatch.setattr(P, "run", lambda profile, **kw: seen.update(profile=profile, out_dir=kw["out_dir"]))
    assert main(["build", "--profile", "quick", "--no-build"]) == 0
    assert seen == {"profile": "quick", "out_dir": str(REPO_ROOT / "build" / "quick")}
    assert main(["build", "--profile", "paper", "-p", "epochs", "2", "--no-build"]) == 0
    assert seen["out_dir"] == str(REPO_ROOT / "build" / "paper")  # -p values: not the committed book
    assert main(["build", "--profile", "paper", "--no-build"]) == 0 and seen["out_dir"] is None
    assert main(["build", "--profile", "quick", "--into-book", "--no-build"]) == 0 and seen["out_dir"] is None


def test_an_out_dir_build_starts_from_a_copy_of_the_profiles_store(tmp_path, artifacts_dir):
    from helpers.core.config import load_config
    from helpers.core.fileio import atomic_write_bytes
    from helpers.store.artifacts import Store

    st = Store(load_config("smoke"))
    store = st.root
    atomic_write_bytes(st.model_path("q8", 0, ".tflite"), b"model")
    st.record_files([st.model_path("q8", 0, ".tflite")])
    (store / "cache").mkdir()
    (store / "cache" / "big.npy").write_bytes(b"x" * 100)
    write_nb(tmp_path / "nbs", "01_demo", "# %%\nx = 1\n")
    said = []
    build = lambda: run(
        "smoke",
        progress_bar=False,
        echo=lambda *a, **k: said.append(a[0]),  # noqa: E731
        notebooks_dir=tmp_path / "nbs",
        out_dir=tmp_path / "out",
        build=False,
        stages=False,
    )
    build()
    copied = tmp_path / "out" / "artifacts" / "smoke"
    assert (copied / "models" / "q8" / "member_0.tflite").read_bytes() == b"model"
    assert not (copied / "cache").exists()  # caches are rebuilt on demand, not copied
    assert any(line.startswith("--out-dir: started from a copy of the store") for line in said)
    said.clear()
    build()  # a second build keeps its own store
    assert not any(line.startswith("--out-dir: started from a copy") for line in said)


def test_binder_installs_the_runtime_pins_the_myst_renderer_and_helpers():
    """Binder gets what a reader needs to run a chapter and see its prose: the slim runtime
    file (not the build's and the tests' requirements), jupyterlab-myst pinned, helpers."""
    from helpers.core.config import REPO_ROOT

    lines = [
        line.strip()
        for line in (REPO_ROOT / ".binder" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "-r ../requirements-runtime.txt" and "-r ../requirements.txt" not in lines
    assert any(line.startswith("jupyterlab-myst==") for line in lines) and lines[-1] == "-e ."
    runtime = (REPO_ROOT / "requirements-runtime.txt").read_text()
    assert "jupyter-book" not in runtime and "ray==" not in runtime and "pytest" not in runtime
