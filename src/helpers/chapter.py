"""What every chapter notebook does first and last: open the experiment, glue results.

Keeps the notebooks to narrative and calls: parameters -> `open_experiment`, numbers ->
`glue_text` (formatted strings, never raw NumPy scalars), figures -> `glue_figure`
(also saved as PNG and SVG beside the artifacts).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import plots
from .config import load_config
from .experiment import Experiment

# Papermill parameters that reach load_config (same names as _config.yml's defaults).
OVERRIDE_NAMES = ("ensemble_size", "epochs", "retrain_epochs", "batch_size", "learning_rate",
                  "validation_split", "sparsities", "seed", "train_subset", "test_subset",
                  "ood_subset")


def overrides(namespace: dict) -> dict:
    """The override parameters found in a notebook's namespace (None = profile value)."""
    return {k: namespace[k] for k in OVERRIDE_NAMES if namespace.get(k) is not None}


def open_experiment(profile: str, **config_overrides) -> Experiment:
    """Validated config -> store -> Experiment, with the book's plot style set."""
    plots.set_style()
    return Experiment(load_config(profile, **config_overrides))


def glue_text(name: str, text: str) -> str:
    from myst_nb import glue
    glue(name, text, display=False)
    return text


def glue_figure(name: str, fig, exp: Experiment) -> None:
    """Glue a figure for `{glue:figure}` and save it as PNG and SVG in the store."""
    from myst_nb import glue
    plots.save_figure(fig, exp.store.path("figures", name))
    glue(name, fig, display=False)
    plt.close(fig)


def pct(fraction: float, decimals: int = 2) -> str:
    """0.99123 -> '99.12 %'."""
    return f"{100 * fraction:.{decimals}f} %"


def pp(fraction: float, decimals: int = 2) -> str:
    """A signed difference of fractions in percentage points: -0.0004 -> '−0.04 pp'."""
    return f"{100 * fraction:+.{decimals}f} pp".replace("-", "\u2212")
