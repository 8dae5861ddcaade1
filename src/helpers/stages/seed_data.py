"""The datasets one seed is evaluated on: every registered dataset (helpers.core.datasets) by its
store name, MNIST's training and test splits, and the shifted versions of MNIST's test set
(rotations and MNIST-C corruptions, helpers.data.shift), each loaded once per Experiment.

SeedData is the data half of helpers.stages.experiment.Experiment (it needs only `self.config`).
"""

from __future__ import annotations

import functools

import numpy as np

from helpers.core import datasets
from helpers.data import corruptions, shift
from helpers.data import loaders as data


def registered() -> tuple[str, ...]:
    """The store names of every registered dataset (helpers.core.datasets), read now."""
    return tuple(d.key for d in datasets.DATASETS.values())


class SeedData:
    """What `Experiment` reads its images from: `dataset(name)`, `train_data`, the shift sets."""

    config: object

    @functools.cached_property
    def _mnist(self):
        c = self.config
        return data.load_mnist(train_subset=c.train_subset, test_subset=c.test_subset, subset_seed=c.subset_seed)

    @property
    def train_data(self):
        return self._mnist[0]

    def dataset(self, name: str):
        """(x, y) of a registered dataset by its store name ('mnist_test', 'notmnist': labels are
        letters A..J, 'fashion_mnist': clothing classes, any other entry of
        helpers.core.datasets), or of a shifted MNIST set named by shift_dataset_names()."""
        if name == datasets.DATASETS["mnist"].key:
            return self._mnist[1]  # loaded with the training split
        if name in registered():
            return self._registered(name)
        if name in self.shift_dataset_names():
            return self._shifted(name)
        known = ", ".join([*registered(), *self.shift_dataset_names()])
        raise ValueError(f"Dataset {name!r} is unknown; use one of {known}.")

    @functools.lru_cache(maxsize=None)  # noqa: B019 (an Experiment lives as long as its run)
    def _registered(self, name: str):
        entry = datasets.by_store_name(name)
        return data.load_dataset(entry.name, subset=self.subset(name), subset_seed=self.config.subset_seed)

    def subset(self, name: str):
        """How many images of a registered dataset this config uses (None: all)."""
        return getattr(self.config, datasets.by_store_name(name).subset_key)

    def shift_dataset_names(self) -> list[str]:
        """Rotated MNIST (every 15° to 180°) and MNIST-C's corruptions, as helpers.data.shift names them."""
        return shift.shifted_dataset_names(shift.ROTATION_ANGLES[1:], corruptions.CORRUPTIONS)

    def shift_info(self, name: str) -> tuple[str, object]:
        """('rotated_mnist', 30) or ('corrupted_mnist', 'fog') for a shifted set's name."""
        if name.startswith("rot_"):
            return "rotated_mnist", int(name[4:])
        return "corrupted_mnist", name[2:]

    @functools.cached_property
    def _shift_base(self):
        """The MNIST test images the shifted sets are made from: `shift_subset` of them
        (a seeded sample, sorted), with their positions for the corruptions' per-image seeds."""
        x, y = self._mnist[1]
        n = self.config.shift_subset
        if n is None or n >= len(x):
            idx = np.arange(len(x))
        else:
            idx = np.sort(np.random.default_rng(self.config.subset_seed).choice(len(x), n, replace=False))
        return x[idx], y[idx], idx

    @functools.lru_cache(maxsize=2)  # noqa: B019 (an Experiment lives as long as its run)
    def _shifted(self, name: str):
        x, y, idx = self._shift_base
        family, intensity = self.shift_info(name)
        if family == "rotated_mnist":
            return shift.rotate(x, intensity), y
        return shift.corrupt(x, intensity, seed=self.config.seed, indices=idx), y
