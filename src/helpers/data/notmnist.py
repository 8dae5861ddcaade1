"""notMNIST_small: its PNG glyphs read from the tar.gz archive without extracting it, checked
against the registry's content digest, and cached decoded (keyed by the archive's bytes)."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from helpers.core.datasets import DATASETS
from helpers.core.fileio import file_mode
from helpers.data.files import DataError, _cache_lock, _locate, cache_dir, content_sha256, file_sha256
from helpers.data.subsets import subset_indices, to_images

NOTMNIST = DATASETS["notmnist"]
NOTMNIST_FILE = NOTMNIST.files["archive"].name
NOTMNIST_LETTERS = "".join(NOTMNIST.classes)
NOTMNIST_SIZE = NOTMNIST.size
CONTENT_SHA256 = NOTMNIST.content_sha256  # of the decoded arrays (a module name: tests point it elsewhere)
_NOTMNIST_CACHE_VERSION = 1  # bump when the decoding changes, to orphan old caches

# ------------------------------------------------------------------------ notMNIST


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Refuse members that could escape a folder or point elsewhere, even though we
    never extract: an archive holding them is not the dataset and is not to be trusted."""
    refuse = f"Refusing member {member.name!r} of {archive}"
    parts = PurePosixPath(member.name.replace("\\", "/")).parts
    if member.name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
        raise DataError(f"{refuse}: its path is absolute or contains '..'.")
    if member.issym() or member.islnk():
        raise DataError(f"{refuse}: it is a link to {member.linkname!r}.")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{refuse}: it is not a regular file or folder.")


def _read_pngs(archive: Path) -> dict[str, list[tuple[str, bytes]]]:
    """{letter: [(file name, PNG bytes)]} of ``*/<letter>/*.png`` members, in memory."""
    by_letter: dict[str, list[tuple[str, bytes]]] = {letter: [] for letter in NOTMNIST_LETTERS}
    try:
        # Sequential iteration: extractfile right after each header only seeks forward,
        # where random access would re-decompress the gzip stream from the start.
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                _check_member(member, archive)
                parts = PurePosixPath(member.name).parts
                letter, name = parts[-2:] if len(parts) >= 2 else ("", "")
                if member.isfile() and letter in by_letter and name.endswith(".png"):
                    by_letter[letter].append((name, tar.extractfile(member).read()))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{archive} is not a readable tar.gz archive ({exc}).") from exc
    return by_letter


def _decode_png(data: bytes) -> np.ndarray | None:
    """uint8 (28, 28) grayscale pixels, or None for a file no decoder can read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("L"), dtype=np.uint8)
    except (OSError, Image.DecompressionBombError):  # UnidentifiedImageError (upstream ships two
        return None  # empty files) or an image too large to be a 28 x 28 letter: not one of them
    return pixels if pixels.shape == (28, 28) else None


def _decode_notmnist(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 x (N, 28, 28), y (N,) with A..J -> 0..9, letters in order, names sorted."""
    by_letter = _read_pngs(archive)
    images, labels = [], []
    total = sum(map(len, by_letter.values()))
    with tqdm(total=total, desc=f"Decoding {archive.name}", unit="png", leave=False) as bar:
        for label, files in enumerate(by_letter.values()):
            for _, data in sorted(files):
                pixels = _decode_png(data)
                bar.update()
                if pixels is not None:
                    images.append(pixels)
                    labels.append(label)
    x = np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)
    return x, np.asarray(labels, dtype=np.uint8)


def _decoded_cache_path(archive_sha256: str) -> Path:
    """Where the decoded arrays of one archive live: keyed by the archive's bytes."""
    return cache_dir() / "decoded" / f"notMNIST_small-{archive_sha256[:32]}-v{_NOTMNIST_CACHE_VERSION}.npz"


def _read_decoded_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays if present and still matching ``CONTENT_SHA256``, else None.

    A cache that fails the content check is removed, so it can never be used silently.
    """
    if not path.is_file():
        return None
    if not os.access(path, os.R_OK):
        warnings.warn(
            f"The decoded cache {path} is not readable by this user (made by another user); decoding the archive instead.",
            stacklevel=3,
        )
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            x, y = npz["x"], npz["y"]
        if x.dtype == np.uint8 and y.dtype == np.uint8 and content_sha256(x, y) == CONTENT_SHA256:
            return x, y
    except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile):
        pass  # unreadable: same fate as stale
    warnings.warn(f"Ignoring and removing the stale or corrupt decoded cache {path}.", stacklevel=3)
    path.unlink(missing_ok=True)
    return None


def _write_decoded_cache(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Save atomically (temp file + os.replace); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _cache_lock(cache_dir()):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                os.fchmod(fd, file_mode())  # mkstemp makes 0600
                with os.fdopen(fd, "wb") as handle:
                    np.savez(handle, x=x, y=y)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    except OSError as exc:
        warnings.warn(
            f"Could not cache decoded notMNIST at {path} ({exc}); it will be decoded again next time.",
            stacklevel=3,
        )


def _notmnist_uint8(archive: Path, in_cache: bool) -> tuple[np.ndarray, np.ndarray]:
    """Verified uint8 x (18724, 28, 28), y (18724,), decoded or from the decoded cache."""
    cached_path = _decoded_cache_path(file_sha256(archive))
    cached = _read_decoded_cache(cached_path)
    if cached is not None:
        return cached
    try:
        x, y = _decode_notmnist(archive)
    except DataError:
        if in_cache:
            archive.unlink(missing_ok=True)
        raise
    actual = content_sha256(x, y)
    if actual != CONTENT_SHA256:
        _reject_notmnist(archive, in_cache, actual, len(y))
    _write_decoded_cache(cached_path, x, y)
    return x, y


def _reject_notmnist(archive: Path, in_cache: bool, actual: str, n_images: int) -> None:
    """Raise for an archive whose decoded images are not the expected ones."""
    if in_cache:
        archive.unlink(missing_ok=True)
        fate = "it was removed from the cache, so the next call downloads it again"
    else:
        fate = "the file was left in place and nothing was written; replace it with an intact copy"
    raise DataError(
        f"{archive} decodes to {n_images} images whose sha256 is {actual} but "
        f"{CONTENT_SHA256} (18724 images) was expected, so it is not the "
        f"original notMNIST_small; {fate}."
    )


def load_notmnist(
    subset: int | None = None,
    subset_seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """notMNIST_small as ``(x, y)``: 18,724 readable glyphs of the letters A..J.

    x: float32 (N, 28, 28, 1) in [0, 1]; y: int64 (N,) with A..J -> 0..9, ordered by
    letter then file name (the two empty upstream PNGs are skipped). ``subset`` as in
    ``load_mnist``. The archive's decoded content is checked against
    ``CONTENT_SHA256``; decoded arrays are cached in ``cache_dir()``.
    """
    keep = subset_indices(NOTMNIST_SIZE, subset, subset_seed, "subset", "notMNIST")
    archive, in_cache = _locate(NOTMNIST_FILE, data_dir)
    x, y = _notmnist_uint8(archive, in_cache)
    return to_images(x[keep]), y[keep].astype(np.int64)
