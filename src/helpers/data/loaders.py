"""The datasets' images, decoded and verified: MNIST's four IDX files, any registered pair of IDX
files (Fashion-MNIST's test split), and every registered dataset by name (``load_dataset``);
notMNIST's PNG archive is helpers.data.notmnist's, finding the files helpers.data.files'.

Arrays returned to callers: images float32 in [0, 1] of shape (N, 28, 28, 1),
labels int64 of shape (N,).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from helpers.core.datasets import DATASETS, Dataset
from helpers.data.files import FILE_SHA256, DataError, _locate, content_sha256, file_sha256, find_data_file, sources
from helpers.data.notmnist import load_notmnist
from helpers.data.subsets import subset_indices, to_images

MNIST_FILES = {k: s.name for k, s in DATASETS["mnist"].files.items()}
# Sizes fixed by the content digests; known up front so that a bad subset argument fails
# before seconds of decoding.
MNIST_SIZES = {"train": 60_000, "test": DATASETS["mnist"].size}
FASHION_FILES = {k: s.name for k, s in DATASETS["fashion_mnist"].files.items()}
FASHION_SIZE = DATASETS["fashion_mnist"].size
FASHION_CLASSES = DATASETS["fashion_mnist"].classes
# sha256 of the uint8 arrays' bytes, in the order the loaders produce them
# (see content_sha256); they hold for any byte-level packaging of the same data.
CONTENT_SHA256 = {d.name: d.content_sha256 for d in DATASETS.values()}
# sha256 of the uncompressed IDX bytes: the same for upstream's and Debian's .gz files.
IDX_SHA256 = {s.name: s.idx_sha256 for d in DATASETS.values() for s in d.files.values() if s.idx_sha256}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


# --------------------------------------------------------------------------- MNIST


def _parse_idx(raw: bytes, magic: int, source: str | os.PathLike) -> np.ndarray:
    """Decode an uncompressed IDX buffer into uint8 (N, 28, 28) images or (N,) labels."""
    ndim = 3 if magic == _IMAGES_MAGIC else 1
    header_len = 4 * (1 + ndim)
    found = int(np.frombuffer(raw, dtype=">u4", count=1)[0]) if len(raw) >= 4 else None
    if found is not None and found != magic:
        kind = "image" if ndim == 3 else "label"
        raise DataError(f"{source} has IDX magic number {found} but {magic} was expected, so it is not an MNIST {kind} file.")
    if len(raw) < header_len:
        raise DataError(f"{source} is truncated: {len(raw)} bytes, shorter than its IDX header.")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if ndim == 3 and shape[1:] != (28, 28):
        raise DataError(f"{source} holds images of {shape[1]}x{shape[2]} pixels, not 28x28.")
    expected_len = header_len + int(np.prod(shape))
    if len(raw) != expected_len:
        raise DataError(
            f"{source} has {len(raw)} bytes after decompression but its header "
            f"announces {shape[0]} items ({expected_len} bytes), so it is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Decompress and decode one .gz IDX file."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a readable gzip file ({exc}).") from exc
    return _parse_idx(raw, magic, path)


def _mnist_uint8(data_dir) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28), y_test."""
    arrays = []
    for key, name in MNIST_FILES.items():
        path, _ = _locate(name, data_dir)
        arrays.append(_read_idx(path, _IMAGES_MAGIC if key.endswith("images") else _LABELS_MAGIC))
    x_train, y_train, x_test, y_test = arrays
    for x, y, split in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise DataError(f"The MNIST {split} files hold {len(x)} images but {len(y)} labels.")
    # The file digests already pin the content; this cheap (~50 ms) check guards
    # the decoder itself.
    actual = content_sha256(x_train, y_train, x_test, y_test)
    if actual != CONTENT_SHA256["mnist"]:
        raise DataError(
            f"The decoded MNIST arrays have sha256 {actual} but {CONTENT_SHA256['mnist']} "
            "was expected, so the IDX decoder is wrong; nothing was written."
        )
    return x_train, y_train, x_test, y_test


def load_mnist(
    train_subset: int | None = None,
    test_subset: int | None = None,
    subset_seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``, from the four IDX .gz files.

    x: float32 (N, 28, 28, 1) in [0, 1]; y: int64 (N,) digits 0..9. N is 60,000 and
    10,000, or ``train_subset`` / ``test_subset``: the first N images when
    ``subset_seed`` is None, else a seeded sample without replacement in file order.
    ``data_dir`` overrides ``$CDE_DATA_DIR`` (see ``find_data_file``).
    """
    train = subset_indices(MNIST_SIZES["train"], train_subset, subset_seed, "train_subset", "MNIST training")
    test = subset_indices(MNIST_SIZES["test"], test_subset, subset_seed, "test_subset", "MNIST test")
    x_train, y_train, x_test, y_test = _mnist_uint8(data_dir)
    return (
        (to_images(x_train[train]), y_train[train].astype(np.int64)),
        (to_images(x_test[test]), y_test[test].astype(np.int64)),
    )


# -------------------------------------------------------------------- Fashion-MNIST


def _read_checked_idx(path: Path, name: str, magic: int, in_cache: bool, expected: str | None = None) -> np.ndarray:
    """Decompress one .gz IDX file, check the uncompressed bytes against ``IDX_SHA256``,
    then decode. A cached copy that fails is removed; any other copy is left in place."""
    if in_cache:
        fate = "it was removed from the cache, so the next call downloads it again"
    else:
        fate = "the file was left in place and nothing was written; replace it with an intact copy"
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        if in_cache:
            path.unlink(missing_ok=True)
        raise DataError(f"{path} is not a readable gzip file ({exc}); {fate}.") from exc
    actual, expected = hashlib.sha256(raw).hexdigest(), IDX_SHA256.get(name, expected)
    if actual != expected:
        if in_cache:
            path.unlink(missing_ok=True)
        raise DataError(
            f"{path} decompresses to {len(raw)} bytes with sha256 {actual} but {expected} was "
            f"expected, so it is corrupt, truncated or not the original {name}; {fate}."
        )
    return _parse_idx(raw, magic, path)


def _idx_pair_uint8(entry: Dataset, data_dir) -> tuple[np.ndarray, np.ndarray]:
    """Verified uint8 x (N, 28, 28), y (N,) of a dataset stored as two IDX files (images,
    labels): Fashion-MNIST's test split, or any registered set of format "idx"."""
    arrays = []
    for key in ("images", "labels"):
        source = entry.files[key]
        path, in_cache = _locate(source.name, data_dir)
        magic = _IMAGES_MAGIC if key == "images" else _LABELS_MAGIC
        if source.name in IDX_SHA256 or source.idx_sha256:
            arrays.append(_read_checked_idx(path, source.name, magic, in_cache, source.idx_sha256))
        else:  # pinned by the file's own sha256, already checked by _locate
            arrays.append(_read_idx(path, magic))
    x, y = arrays
    if len(x) != len(y):
        raise DataError(f"The {entry.label} files hold {len(x)} images but {len(y)} labels.")
    # The IDX digests already pin the content; as for MNIST, this guards the decoder.
    actual, expected = content_sha256(x, y), CONTENT_SHA256.get(entry.name, entry.content_sha256)
    if actual != expected:
        raise DataError(
            f"The decoded {entry.label} arrays have sha256 {actual} but "
            f"{expected} was expected, so the IDX decoder is wrong (or the registry's "
            "content digest is); nothing was written."
        )
    return x, y


def load_idx_pair(
    entry: Dataset,
    subset: int | None = None,
    subset_seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A registered dataset of format "idx" as ``(x, y)``: x float32 (N, 28, 28, 1) in [0, 1],
    y int64 (N,) indexing ``entry.classes``, in file order; ``subset`` as in ``load_mnist``."""
    keep = subset_indices(entry.size, subset, subset_seed, "subset", f"{entry.label} test")
    x, y = _idx_pair_uint8(entry, data_dir)
    return to_images(x[keep]), y[keep].astype(np.int64)


def load_fashion_mnist(
    subset: int | None = None,
    subset_seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The Fashion-MNIST test split as ``(x, y)``: 10,000 clothing images, 1,000 per class.

    x: float32 (N, 28, 28, 1) in [0, 1]; y: int64 (N,) indexing ``FASHION_CLASSES``, in
    file order. ``subset`` as in ``load_mnist``. Files are found as in ``find_data_file``
    (data folder, Debian's ``dataset-fashion-mnist``, cache, then zalandoresearch's
    hosts) and their uncompressed bytes are checked against ``IDX_SHA256``.
    """
    return load_idx_pair(DATASETS["fashion_mnist"], subset, subset_seed, data_dir)


def load_dataset(
    name: str,
    subset: int | None = None,
    subset_seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Any registered dataset's evaluation images as ``(x, y)`` (MNIST: its test split)."""
    if name not in DATASETS:
        raise DataError(
            f"Dataset {name!r} is not registered; known: {', '.join(DATASETS)} (add an entry to helpers.core.datasets.DATASETS)."
        )
    entry = DATASETS[name]
    if entry.format == "mnist":
        return load_mnist(train_subset=1, test_subset=subset, subset_seed=subset_seed, data_dir=data_dir)[1]
    if entry.format == "notmnist_png":
        return load_notmnist(subset=subset, subset_seed=subset_seed, data_dir=data_dir)
    return load_idx_pair(entry, subset=subset, subset_seed=subset_seed, data_dir=data_dir)


def data_digests(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """sha256 of each source file the loaders use, for an artifact manifest.

    Keys: every registered file name (digest of the bytes actually found, after the same
    checks as the loaders), plus ``"<dataset> (decoded)"`` for every registered dataset: the
    content digests the loaders enforce.
    """
    for entry in DATASETS.values():  # .gz bytes that vary with packaging: check the content first
        if entry.format == "idx":
            _idx_pair_uint8(entry, data_dir)
    digests = {}
    for name in sources():
        path = find_data_file(name, data_dir)
        digests[name] = FILE_SHA256.get(name) or file_sha256(path)  # MNIST: just verified
    digests.update({f"{d.name} (decoded)": CONTENT_SHA256.get(d.name, d.content_sha256) for d in DATASETS.values()})
    return digests
