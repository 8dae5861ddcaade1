"""The dataset registry: every dataset the experiment evaluates on, one entry each.

    DATASETS["fashion_mnist"]          # -> Dataset(label="Fashion-MNIST", role="ood", ...)
    label("rotated_mnist")             # -> "rotated MNIST"   (shift families too)
    ood_names()                        # -> ("notmnist", "fashion_mnist"): evaluated on every variant

An entry holds what the stages need to know about a dataset without reading it: its name in
results.json, its label in the book, its role (`in`: the test split of the training data;
`ood`: a set of other classes), its size, its classes, the config key that sets its subset,
the loader format, and its source files with their digests and mirrors. helpers.data.loaders
reads the files an entry names; the stages evaluate every `ood` entry; the claims, the
aggregate and the book take its label from here. Adding an out-of-distribution set stored as
a pair of IDX files (as Fashion-MNIST and KMNIST are) is one entry of format "idx": the loader,
the evaluation on every variant and dataset, and the labels follow; nothing is re-trained
(tests/test_extend.py). A new file format needs its decoder in helpers.data.loaders as well.

This is core, not data, so that the stats layer (a peer of data) can name datasets too; it
holds descriptions only, and does no I/O.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Source:
    """One source file: its local name, the sha256 that pins it and where to fetch it."""

    name: str
    mirrors: tuple[str, ...]
    sha256: str | None = None  # of the file's bytes (None: the content is pinned instead)
    idx_sha256: str | None = None  # of a .gz file's uncompressed IDX bytes (packaging-proof)
    package_path: str | None = None  # where a system package installs it (read in place)


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str  # its key in results.json and summary.json
    label: str  # as the book names it
    role: str  # "in" or "ood"
    format: str  # the decoder in helpers.data.loaders: "mnist", "notmnist_png" or "idx"
    size: int  # images, fixed by content_sha256 (known before decoding: subsets fail early)
    classes: tuple[str, ...]
    subset_key: str  # the config key that sets how many of its images are used
    files: dict[str, Source]  # role of the file ("images", "labels", ...) -> its source
    content_sha256: str  # of the decoded uint8 arrays (helpers.data.loaders.content_sha256)
    store_name: str = ""  # its name in the store's prediction files, if not `name`

    @property
    def key(self) -> str:
        return self.store_name or self.name


ROLES = ("in", "ood")
FORMATS = ("mnist", "notmnist_png", "idx")

# yann.lecun.com is left out: it has answered 403 to scripted downloads for years.
_MNIST_BASES = ("https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
# zalandoresearch's own hosts: the repository's data folder, then its S3 website.
_FASHION_BASES = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)


def _mnist(name: str, sha256: str) -> Source:
    return Source(name, tuple(base + name for base in _MNIST_BASES), sha256=sha256)


def _fashion(local: str, idx_sha256: str) -> Source:
    # Local names carry a "fashion-" prefix so that they cannot collide with MNIST's
    # identically named files in one folder; Debian's dataset-fashion-mnist installs the
    # upstream names under /usr/share/datasets/fashion-mnist (checked with dpkg -c).
    upstream = local.removeprefix("fashion-")
    return Source(
        local,
        tuple(base + upstream for base in _FASHION_BASES),
        idx_sha256=idx_sha256,
        package_path=f"/usr/share/datasets/fashion-mnist/{upstream}",
    )


DIGITS = tuple(str(d) for d in range(10))

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="mnist",
            store_name="mnist_test",
            label="MNIST",
            role="in",
            format="mnist",
            size=10_000,
            classes=DIGITS,
            subset_key="test_subset",
            files={
                "train_images": _mnist(
                    "train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
                ),
                "train_labels": _mnist(
                    "train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
                ),
                "test_images": _mnist(
                    "t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
                ),
                "test_labels": _mnist(
                    "t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
                ),
            },
            content_sha256="06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16",
        ),
        Dataset(
            name="notmnist",
            label="NotMNIST",
            role="ood",
            format="notmnist_png",
            size=18_724,
            classes=tuple("ABCDEFGHIJ"),
            subset_key="ood_subset",
            files={
                "archive": Source(
                    "notMNIST_small.tar.gz",
                    (
                        "http://yaroslavvb.com/upload/notMNIST/notMNIST_small.tar.gz",
                        "https://yaroslavvb.com/upload/notMNIST/notMNIST_small.tar.gz",
                    ),
                )
            },
            # The archive has no single valid byte digest (the upstream archive and the rebuilt
            # one differ), so its decoded content is what is pinned.
            content_sha256="d6293d32bb251c555a5e1bcc7457d2c3dd9c5ccf292c12243463a154334ccd0e",
        ),
        Dataset(
            name="fashion_mnist",
            label="Fashion-MNIST",
            role="ood",
            format="idx",
            size=10_000,
            classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            subset_key="ood_subset",
            files={
                "images": _fashion(
                    "fashion-t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
                ),
                "labels": _fashion(
                    "fashion-t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
                ),
            },
            content_sha256="9f1ec356a747bfe4ebab3cfb722d3694c9ca737e2570f6f90cf31d7b6fd689d4",
        ),
    )
}
"""Every dataset, in the order the book lists them (the in-distribution test set first)."""

SHIFT_LABELS = {"rotated_mnist": "rotated MNIST", "corrupted_mnist": "corrupted MNIST"}
"""The shifted versions of MNIST's test set (helpers.data.shift makes them), by family."""

PRIMARY_OOD = "notmnist"
"""The paper's out-of-distribution set: the one every variant is judged on for C5-C10."""


def label(name: str) -> str:
    """A dataset's (or shift family's) label in the book; an unknown name is its own label."""
    if name in DATASETS:
        return DATASETS[name].label
    return SHIFT_LABELS.get(name, name)


def ood_names() -> tuple[str, ...]:
    """The out-of-distribution sets, the paper's first."""
    names = [d.name for d in DATASETS.values() if d.role == "ood"]
    return tuple(sorted(names, key=lambda n: n != PRIMARY_OOD))


def by_store_name(store_name: str) -> Dataset:
    """The entry a store's prediction files name ('mnist_test' -> MNIST's entry)."""
    for d in DATASETS.values():
        if d.key == store_name:
            return d
    known = ", ".join(d.key for d in DATASETS.values())
    raise ValueError(f"Dataset {store_name!r} is not in the registry (helpers.core.datasets); known: {known}.")


def check_entry(d: Dataset) -> None:
    """One sentence for an entry that cannot work: a bad role, format, size or file list."""
    where = f"the dataset entry {d.name!r} (helpers.core.datasets.DATASETS)"
    if d.role not in ROLES:
        raise ValueError(f"{where} has role {d.role!r}; use one of {', '.join(ROLES)}.")
    if d.format not in FORMATS:
        raise ValueError(
            f"{where} has format {d.format!r}; use one of {', '.join(FORMATS)} "
            "(a new format needs its decoder in helpers.data.loaders)."
        )
    if d.size < 1 or not d.classes:
        raise ValueError(f"{where} needs a positive size and its class names.")
    if d.format == "idx" and set(d.files) != {"images", "labels"}:
        raise ValueError(f"{where} is an IDX pair: its files must be 'images' and 'labels', not {sorted(d.files)}.")
    if d.format == "idx" and not all(s.idx_sha256 or s.sha256 for s in d.files.values()):
        raise ValueError(
            f"{where}: every IDX file needs its sha256 (of the file, or idx_sha256 of its "
            "uncompressed bytes), so that a corrupt copy is refused."
        )


def check_data_section(section: dict, source: str) -> None:
    """_config.yml's `data:` section names registered datasets in their roles."""
    known_ood = ", ".join(ood_names())
    wrong = {
        "in_distribution": section.get("in_distribution") != "mnist",
        "out_of_distribution": section.get("out_of_distribution") not in ood_names(),
    }
    extra = sorted(set(section) - set(wrong))
    if extra:
        raise ValueError(
            f"{source}: data: has unknown keys {', '.join(extra)}; it holds in_distribution "
            "and out_of_distribution (datasets are registered in helpers.core.datasets)."
        )
    if wrong["in_distribution"]:
        raise ValueError(
            f"{source}: data.in_distribution is {section.get('in_distribution')!r}; the models "
            "are trained on MNIST, so it must be mnist."
        )
    if wrong["out_of_distribution"]:
        raise ValueError(
            f"{source}: data.out_of_distribution is {section.get('out_of_distribution')!r}; "
            f"use a registered out-of-distribution set: {known_ood}."
        )
    if section["out_of_distribution"] != PRIMARY_OOD:
        raise ValueError(
            f"{source}: data.out_of_distribution is {section['out_of_distribution']!r}, but the "
            f"paper's claims are judged on {PRIMARY_OOD} and the committed results use it; "
            f"keep {PRIMARY_OOD} (every other registered set is evaluated too: {known_ood})."
        )
