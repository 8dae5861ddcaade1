"""Chapters read a results view and never compute: a missing artifact is one sentence
naming the command that builds it."""

import pytest

from helpers import chapter
from helpers.store import StoreError


def test_a_chapter_on_an_empty_store_names_the_command(artifacts_dir):
    with pytest.raises(StoreError) as err:
        view = chapter.setup("smoke")
        _ = view.results
    message = str(err.value)
    assert "python -m helpers train --profile smoke" in message or \
        "python -m helpers evaluate --profile smoke" in message, message
    assert message.count(". ") == 0 and "\n" not in message
    assert not (artifacts_dir / "smoke" / "checkpoints").exists()  # nothing was trained


def test_overrides_pick_config_keys_only():
    assert chapter.overrides({"seed": 3, "epochs": None, "profile": "quick", "x": 1}) == {"seed": 3}
