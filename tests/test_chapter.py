"""Chapters read a results view and never compute: a missing artifact is one sentence
naming the command that builds it."""

import pytest

from helpers.book import chapter
from helpers.store.artifacts import StoreError


def test_a_chapter_on_an_empty_store_names_the_command(artifacts_dir):
    with pytest.raises(StoreError) as err:
        view = chapter.setup("smoke")
        _ = view.results
    message = str(err.value)
    assert "python -m helpers train --profile smoke" in message or "python -m helpers evaluate --profile smoke" in message, (
        message
    )
    assert message.count(". ") == 0 and "\n" not in message
    assert not (artifacts_dir / "smoke" / "checkpoints").exists()  # nothing was trained


def test_overrides_pick_config_keys_only():
    assert chapter.overrides({"seed": 3, "epochs": None, "profile": "quick", "x": 1}) == {"seed": 3}


def test_every_config_key_is_a_chapter_parameter_through_overrides():
    from helpers.core.config import load_config

    assert set(chapter.OVERRIDE_NAMES) == set(load_config("smoke").values()) - {"profile", "config_path", "model", "data"}
    got = chapter.overrides({"overrides": {"bootstrap_samples": 50, "seed": None}, "seed": 3})
    assert got == {"bootstrap_samples": 50, "seed": 3}
    with pytest.raises(ValueError, match="overrides must be a mapping of config keys"):
        chapter.overrides({"overrides": "seed=3"})


def test_a_table_has_one_header_row_with_its_index_name_in_the_corner():
    import pandas as pd

    frame = pd.DataFrame([{"Ensemble": "a", "x": 1}, {"Ensemble": "b", "x": 2}]).set_index("Ensemble")
    html = chapter.display_frame(frame).to_html()
    assert html.count("<tr") == 3 and "<th>Ensemble</th>\n      <th>x</th>" in html
    assert frame.index.name == "Ensemble"  # the caller's frame is left as it was
    two = pd.DataFrame([{"Claim": "C1", "Data": "MNIST", "v": 1}]).set_index(["Claim", "Data"])
    assert list(chapter.display_frame(two).index.names) == ["Claim", "Data"]  # a two-level index keeps its names' row


def test_glued_outputs_show_in_the_cell_when_a_reader_runs_a_chapter(monkeypatch, capsys):
    from helpers.book import bookio

    monkeypatch.setattr("myst_nb.glue", lambda name, obj, display: shown.append((name, display)))
    shown = []
    monkeypatch.delenv(bookio.BOOK_BUILD, raising=False)
    chapter.glue_text("answer", "Yes.")
    assert capsys.readouterr().out == "answer: Yes.\n" and shown == [("answer", False)]
    import pandas as pd

    chapter.glue_table("t", pd.DataFrame({"x": [1]}))
    assert shown[-1] == ("t", True)
    monkeypatch.setenv(bookio.BOOK_BUILD, "1")  # as helpers.book.bookio.kernel_environment sets it
    chapter.glue_text("answer", "Yes.")
    chapter.glue_table("t", pd.DataFrame({"x": [1]}))
    assert capsys.readouterr().out == "" and shown[-2:] == [("answer", False), ("t", False)]
    assert bookio.kernel_environment()[bookio.BOOK_BUILD] == "1"


def test_a_long_table_is_glued_whole(monkeypatch):
    """pandas shows 60 rows by default; a glued table keeps every row (an 80-row table lost 20 to '...')."""
    import pandas as pd

    html = []
    monkeypatch.setattr("myst_nb.glue", lambda name, obj, display: html.append(obj._repr_html_()))
    chapter.glue_table("long", pd.DataFrame({"x": range(80)}))
    assert html[0].count("<tr") == 81 and "..." not in html[0]
    assert "..." in pd.DataFrame({"x": range(80)})._repr_html_()  # what it guards against
