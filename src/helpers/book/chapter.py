"""What every chapter notebook does first and last: open a results view, glue results.

Keeps the notebooks to narrative and calls: parameters -> `setup` (a read-only View of
the store: the main run's results, every seed's results, the verdict rules), numbers ->
`glue_text` (formatted strings, never raw NumPy scalars), tables -> `glue_table`, figures
-> `glue_figure` (also saved as PNG and SVG beside the artifacts). Chapters never train
or evaluate: a missing artifact stops with one sentence naming the command that builds it.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property

import matplotlib.pyplot as plt

from helpers.book import plots
from helpers.core.config import Config, load_config
from helpers.stages.experiment import Experiment

# Every config key (the defaults of _config.yml) can reach load_config from a chapter: in its
# `overrides` mapping parameter (papermill -y "overrides: {seed: 3}"; the build's -p seed 3
# is routed there), or as a variable of that name (a reader's own notebook).
OVERRIDE_NAMES = tuple(f.name for f in dataclasses.fields(Config) if f.name not in ("profile", "config_path", "model", "data"))


def overrides(namespace: dict) -> dict:
    """The config overrides of a notebook's namespace: its `overrides` mapping, and any
    variable named like a config key (None = the profile's value)."""
    mapping = namespace.get("overrides") or {}
    if not isinstance(mapping, dict):
        raise ValueError(f"overrides must be a mapping of config keys, e.g. {{seed: 3}}; got {mapping!r}.")
    named = {k: namespace[k] for k in OVERRIDE_NAMES if namespace.get(k) is not None}
    return {**named, **{k: v for k, v in mapping.items() if v is not None}}


def open_experiment(profile: str, **config_overrides) -> Experiment:
    """Validated config -> store -> a read-only Experiment (compute=False), book style set."""
    plots.set_style()
    return Experiment(load_config(profile, **config_overrides), compute=False)


@dataclasses.dataclass
class View:
    """What a chapter reads: the config, the store, results.json of the main run, the
    results of every seed (the main run first), the verdict rules and the claims' evidence."""

    exp: Experiment

    @property
    def config(self) -> Config:
        return self.exp.config

    @property
    def store(self):
        return self.exp.store

    @cached_property
    def results(self) -> dict:
        """results.json of this store's own run (one seed): image-level numbers."""
        from helpers.stages import evaluation

        return evaluation.evaluate(self.exp)

    @cached_property
    def summary(self):
        """summary.json: every between-seed number and verdict (helpers.stages.aggregate wrote it)."""
        from helpers.book.summary import Summary
        from helpers.stages.aggregate import SUMMARY, is_current
        from helpers.store.artifacts import StoreError

        path = self.store.root / SUMMARY
        if not is_current(self.store.root, self.config.config_path):
            why = (
                "does not exist"
                if not path.exists()
                else "is older than the seed records beside it, or was judged with other verdict rules"
            )
            raise StoreError(
                f"{self.store.rel(path)} {why}; chapters never compute it: run `{self.store.command('aggregate')}` first."
            )
        return Summary.read(path)

    @cached_property
    def rules(self):
        """Rules v1's numbers (`_config.yml`, section `verdicts`)."""
        from helpers.stats.verdicts import load_rules

        return load_rules(self.config.config_path)

    @cached_property
    def rules_v2(self):
        """Rules v2's numbers (sections `verdicts` and `verdicts_v2`)."""
        from helpers.stats.rules import load_rules_v2

        return load_rules_v2(self.config.config_path)

    def claims(self) -> list:
        """Claims C1-C10 as rules v1 judged them on every seed (rows of helpers.stats.claims)."""
        return self.summary.v1_rows()

    @cached_property
    def sizes(self) -> dict:
        return self.exp.sizes()

    def encodings(self) -> dict:
        return self.exp.encodings()

    def histories(self) -> dict:
        return self.store.read_json("histories.json", {})

    def timings(self) -> dict:
        return self.store.manifest().get("timings", {})


def setup(profile: str, **config_overrides) -> View:
    """The one setup call of every chapter: a read-only View of the profile's store (and
    pandas set to show table cells whole: the book's tables are text, not previews)."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    return View(open_experiment(profile, **config_overrides))


def display_frame(frame):
    """The frame as the book shows it: a single-level index's name moves into the header
    row's corner (pandas would print it on an extra header row of its own). A two-level
    index keeps its names' row: they label its two columns."""
    import pandas as pd

    from helpers.core.fmt import keep_units

    if not isinstance(frame, pd.DataFrame):  # a Styler keeps its own formatting
        return frame
    out = frame.map(lambda v: keep_units(v) if isinstance(v, str) else v)  # numbers and units together
    if frame.index.nlevels != 1 or frame.index.name is None:
        return out
    return out.rename_axis(index=None, columns=frame.index.name)


def shown_here() -> bool:
    """Whether a glued output is displayed in its cell as well: yes when a reader runs the
    chapter (Jupyter, Colab, Binder: the Markdown's {glue} references do not render there),
    no in a book build, where the page shows it where it is referenced."""
    from helpers.book.bookio import BOOK_BUILD

    return os.environ.get(BOOK_BUILD) != "1"


def glue_table(name: str, frame) -> None:
    """Glue a DataFrame for `{glued-table}` (numbered, captioned, horizontally scrollable)."""
    import pandas as pd
    from myst_nb import glue

    # glue renders the frame's HTML now: with pandas' default of 60 rows a longer table
    # would lose its middle rows to "..." in the book
    with pd.option_context("display.max_rows", None, "display.max_columns", None):
        glue(name, display_frame(frame), display=shown_here())


def glue_interactive(name: str, fig) -> None:
    """Glue a Plotly figure (helpers.book.interactive) as an HTML fragment for `{glue:}`: the
    book page loads plotly.js once (helpers.build.book_sphinx). A reader running the chapter
    sees the figure itself, drawn by Plotly's own notebook renderer."""
    from IPython.display import HTML, display
    from myst_nb import glue

    from helpers.book.interactive import fragment

    glue(name, HTML(fragment(fig, name.replace("_", "-"))), display=False)
    if shown_here():
        display(fig)


def glue_markdown(name: str, text: str) -> None:
    """Glue Markdown (lists, emphasis) for `{glue:md}` with `:format: myst`."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=shown_here())


def glue_text(name: str, text: str) -> None:
    from myst_nb import glue

    from helpers.core.fmt import keep_units

    text = keep_units(text)
    glue(name, text, display=False)
    if shown_here():
        print(f"{name}: {text}")


def glue_figure(name: str, fig, exp) -> None:
    """Glue a figure for `{glue:figure}` and save it as PNG and SVG in the store."""
    from myst_nb import glue

    store = exp.store if hasattr(exp, "store") else exp
    plots.save_figure(fig, store.path("figures", name))
    glue(name, fig, display=shown_here())
    plt.close(fig)
