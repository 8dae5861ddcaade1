"""MNIST (in-distribution), notMNIST_small and Fashion-MNIST (out-of-distribution), verified.

Every source file is located, checked, then decoded:

1. ``find_data_file`` looks in ``data_dir`` (argument) or else ``$CDE_DATA_DIR``,
   then where a system package installs the file (``PACKAGE_PATHS``: Debian's
   ``dataset-fashion-mnist``), then in the per-user cache (``$CDE_CACHE_DIR``, else ``pooch.os_cache("cde-book")``),
   and only then downloads into the cache, trying each URL of ``MIRRORS[name]``.
2. MNIST files are checked against their sha256 (``FILE_SHA256``). The notMNIST
   archive has no single valid byte digest (the upstream archive and the rebuilt one
   differ), so its *decoded content* is checked instead (``CONTENT_SHA256``). The
   Fashion-MNIST .gz wrappers differ between upstream and Debian (recompressed), so
   their *uncompressed* IDX bytes are checked (``IDX_SHA256``).
3. A data folder is only ever read: a file there that fails a check raises and is
   left in place. A cached or downloaded file that fails is removed from the cache.
4. Downloads and cache writes hold a lock on the cache folder (flock), so the partial files
   of a killed download (pooch's ``tmp*``) are removed by the next one; cached files get
   the user's umask (pooch and mkstemp make them 0600), so a shared cache stays usable.

Arrays returned to callers: images float32 in [0, 1] of shape (N, 28, 28, 1),
labels int64 of shape (N,).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import pooch
import requests
from PIL import Image
from tqdm import tqdm

from helpers.core.fileio import file_mode, sha256_file

__all__ = [
    "CONTENT_SHA256",
    "DataError",
    "FASHION_CLASSES",
    "FASHION_FILES",
    "FASHION_SIZE",
    "FILE_SHA256",
    "IDX_SHA256",
    "MIRRORS",
    "MNIST_FILES",
    "MNIST_SIZES",
    "NOTMNIST_FILE",
    "NOTMNIST_LETTERS",
    "NOTMNIST_SIZE",
    "PACKAGE_PATHS",
    "cache_dir",
    "content_sha256",
    "data_digests",
    "file_sha256",
    "find_data_file",
    "load_fashion_mnist",
    "load_mnist",
    "load_notmnist",
]


class DataError(ValueError):
    """A data file is missing, corrupt, unsafe or cannot be downloaded."""


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
NOTMNIST_FILE = "notMNIST_small.tar.gz"
NOTMNIST_LETTERS = "ABCDEFGHIJ"
# Sizes fixed by the content digests below; known up front so that a bad subset
# argument fails before seconds of decoding.
MNIST_SIZES = {"train": 60_000, "test": 10_000}
NOTMNIST_SIZE = 18_724
# Fashion-MNIST's test split only (a second OOD set). Local names carry a "fashion-"
# prefix so that they cannot collide with MNIST's identically named files in one folder.
FASHION_FILES = {
    "images": "fashion-t10k-images-idx3-ubyte.gz",
    "labels": "fashion-t10k-labels-idx1-ubyte.gz",
}
FASHION_SIZE = 10_000
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

FILE_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# sha256 of the uint8 arrays' bytes, in the order the loaders produce them
# (see content_sha256); they hold for any byte-level packaging of the same data.
CONTENT_SHA256 = {
    "mnist": "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16",
    "notmnist": "d6293d32bb251c555a5e1bcc7457d2c3dd9c5ccf292c12243463a154334ccd0e",
    "fashion_mnist": "9f1ec356a747bfe4ebab3cfb722d3694c9ca737e2570f6f90cf31d7b6fd689d4",
}
# sha256 of the uncompressed IDX bytes: the same for upstream's and Debian's .gz files.
IDX_SHA256 = {
    FASHION_FILES["images"]: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    FASHION_FILES["labels"]: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

# yann.lecun.com is left out: it has answered 403 to scripted downloads for years.
_MNIST_BASES = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# zalandoresearch's own hosts: the repository's data folder, then its S3 website.
_FASHION_BASES = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
# Tried in order; a module-level dict so that tests can point it at a local server.
MIRRORS: dict[str, list[str]] = {
    **{name: [base + name for base in _MNIST_BASES] for name in MNIST_FILES.values()},
    NOTMNIST_FILE: [
        "http://yaroslavvb.com/upload/notMNIST/notMNIST_small.tar.gz",
        "https://yaroslavvb.com/upload/notMNIST/notMNIST_small.tar.gz",
    ],
    **{
        local: [base + local.removeprefix("fashion-") for base in _FASHION_BASES]
        for local in FASHION_FILES.values()
    },
}
# Files a system package may have installed, searched after the data folder and before
# the cache; read in place, never removed. Debian's dataset-fashion-mnist puts the
# upstream file names under /usr/share/datasets/fashion-mnist (checked with dpkg -c).
PACKAGE_PATHS: dict[str, Path] = {
    local: Path("/usr/share/datasets/fashion-mnist") / local.removeprefix("fashion-")
    for local in FASHION_FILES.values()
}

_HINT = "set CDE_DATA_DIR to a folder that holds it (e.g. CDE_DATA_DIR=../shared/data)"
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049
_NOTMNIST_CACHE_VERSION = 1  # bump when the decoding changes, to orphan old caches
_PROJECT_ROOT = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- places


def cache_dir() -> Path:
    """The per-user cache folder: ``$CDE_CACHE_DIR`` or ``pooch.os_cache("cde-book")``."""
    env = os.environ.get("CDE_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else Path(pooch.os_cache("cde-book"))


def _data_dir(data_dir: str | os.PathLike | None) -> tuple[Path, str] | None:
    """The read-only data folder to search first, and how it was chosen."""
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve(), "data_dir"
    env = os.environ.get("CDE_DATA_DIR")
    if not env:
        return None
    path = Path(env).expanduser()
    # A relative value is meant from the project root (README, CI), but notebooks
    # run from their own folder: prefer the current folder, then the project root.
    if not path.is_absolute() and not path.is_dir():
        from_root = _PROJECT_ROOT / path
        if from_root.is_dir():
            path = from_root
    return path.resolve(), "CDE_DATA_DIR"


# ----------------------------------------------------------------------- checksums


file_sha256 = sha256_file  # the one implementation (helpers.core.fileio), under data's old name


def content_sha256(*arrays: np.ndarray) -> str:
    """Hex sha256 of the arrays' bytes concatenated, each as C-ordered uint8.

    ``content_sha256(x, y)`` with ``x`` (N, 28, 28) and ``y`` (N,) uint8 is the
    digest in ``CONTENT_SHA256``.
    """
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def _check_file(path: Path, name: str, in_cache: bool) -> None:
    """Raise DataError if an MNIST file's sha256 is wrong (cache copies are removed)."""
    expected = FILE_SHA256.get(name)
    if expected is None:
        return  # notMNIST: its decoded content is checked instead
    actual = file_sha256(path)
    if actual == expected:
        return
    if in_cache:
        path.unlink(missing_ok=True)
        fate = "it was removed from the cache, so the next call downloads it again"
    else:
        fate = "the file was left in place and nothing was written; replace it with an intact copy"
    raise DataError(
        f"{path} has sha256 {actual} but {expected} was expected, so it is corrupt, "
        f"truncated or not the original {name}; {fate}."
    )


# ------------------------------------------------------------------------- finding


def find_data_file(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of a verified source file, downloading it into the cache if needed.

    ``name`` is one of ``MNIST_FILES.values()``, ``NOTMNIST_FILE`` or
    ``FASHION_FILES.values()``. MNIST files are checked against ``FILE_SHA256``; the
    notMNIST archive is checked by ``load_notmnist`` on its decoded content, and the
    Fashion-MNIST files by ``load_fashion_mnist`` on their uncompressed bytes.
    """
    return _locate(name, data_dir)[0]


@contextlib.contextmanager
def _cache_lock(cache: Path):
    """Hold the cache's lock; inside it, no other download or cache write is running, so
    any partial file left in the cache is from a killed run: remove it."""
    # flock on the folder itself (POSIX), not filelock: a lock file would be one more file
    # in a cache whose every file is data.
    import fcntl
    cache.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for folder in (cache, cache / "decoded"):
            for pattern in ("tmp*", "*.tmp"):  # pooch's downloads, our mkstemp files
                for partial in folder.glob(pattern) if folder.is_dir() else []:
                    if partial.is_file():
                        partial.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def _check_readable(path: Path) -> None:
    """One sentence for a cached file another user made unreadable (not 'corrupt')."""
    if not os.access(path, os.R_OK):
        raise DataError(
            f"{path} is in the cache but this user cannot read it (mode "
            f"{stat.S_IMODE(path.stat().st_mode):o}, made by another user); ask its owner to "
            "run chmod a+r on it, or set CDE_CACHE_DIR to a folder of your own.")


def _locate(name: str, data_dir: str | os.PathLike | None) -> tuple[Path, bool]:
    """(path, in_cache) of a checked copy of ``name``; in_cache means we may delete it."""
    if name not in MIRRORS:
        known = ", ".join(sorted(MIRRORS))
        raise DataError(f"Unknown data file {name!r}; known files are {known}.")
    searched = []
    folder = _data_dir(data_dir)
    if folder is not None:
        path, how = folder
        if (path / name).is_file():
            _check_file(path / name, name, in_cache=False)
            return path / name, False
        searched.append(f"{path} ({how}{'' if path.is_dir() else ', no such folder'})")
    package_path = PACKAGE_PATHS.get(name)
    if package_path is not None:
        if package_path.is_file():
            return package_path, False
        searched.append(f"{package_path} (system package)")
    cache = cache_dir()
    if (cache / name).is_file():
        _check_readable(cache / name)
        try:
            _check_file(cache / name, name, in_cache=True)
            return cache / name, True
        except DataError:
            searched.append(f"{cache} (cache; a corrupt copy was removed)")
    else:
        searched.append(f"{cache} (cache)")
    return _download(name, cache, searched), True


# ----------------------------------------------------------------------- download


class _HashingDownloader:
    """pooch's HTTP downloader that also records the sha256 of what it received.

    pooch removes a download whose hash is wrong before we can look at it; keeping
    the digest lets the error show the actual value next to the expected one.
    """

    def __init__(self) -> None:
        self._http = pooch.HTTPDownloader(progressbar=True, timeout=30)
        self.sha256: str | None = None

    def __call__(self, url: str, output_file: str, pooch_obj=None) -> None:
        self.sha256 = None
        self._http(url, output_file, pooch_obj)
        self.sha256 = file_sha256(output_file)


def _download(name: str, cache: Path, searched: list[str]) -> Path:
    """Download ``name`` into ``cache`` from the first mirror that serves good bytes.

    pooch streams into a temporary file in ``cache`` and renames it only after the
    hash check, so a failed, corrupt or interrupted transfer leaves nothing behind.
    """
    with _cache_lock(cache):
        if (cache / name).is_file():  # another process downloaded it while we waited
            return cache / name
        return _download_locked(name, cache, searched)


def _download_locked(name: str, cache: Path, searched: list[str]) -> Path:
    expected = FILE_SHA256.get(name)
    failures = []
    for url in MIRRORS[name]:
        downloader = _HashingDownloader()
        try:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{expected}" if expected else None,
                fname=name,
                path=cache,
                downloader=downloader,
            )
            os.chmod(cache / name, file_mode())  # pooch's temp file was 0600
            return cache / name
        except requests.exceptions.RequestException as exc:
            failures.append(f"{url} ({_describe(exc)})")
        except ValueError:  # pooch's hash mismatch: it already deleted the file
            if downloader.sha256 is None:
                raise
            failures.append(
                f"{url} (served bytes with sha256 {downloader.sha256} but {expected} was "
                f"expected; the download was removed, so nothing is at {cache / name})"
            )
    raise DataError(
        f"{name} was not found in {' or '.join(searched)} and could not be downloaded "
        f"from {', '.join(failures)}, so nothing was written to the cache; {_HINT}."
    )


def _describe(exc: requests.exceptions.RequestException) -> str:
    """A few words on why a request failed."""
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "transfer interrupted before the end"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "could not connect"
    return type(exc).__name__


# --------------------------------------------------------------------------- MNIST


def _parse_idx(raw: bytes, magic: int, source: str | os.PathLike) -> np.ndarray:
    """Decode an uncompressed IDX buffer into uint8 (N, 28, 28) images or (N,) labels."""
    ndim = 3 if magic == _IMAGES_MAGIC else 1
    header_len = 4 * (1 + ndim)
    found = int(np.frombuffer(raw, dtype=">u4", count=1)[0]) if len(raw) >= 4 else None
    if found is not None and found != magic:
        kind = "image" if ndim == 3 else "label"
        raise DataError(
            f"{source} has IDX magic number {found} but {magic} was expected, "
            f"so it is not an MNIST {kind} file."
        )
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
    train = _subset_indices(MNIST_SIZES["train"], train_subset, subset_seed, "train_subset", "MNIST training")
    test = _subset_indices(MNIST_SIZES["test"], test_subset, subset_seed, "test_subset", "MNIST test")
    x_train, y_train, x_test, y_test = _mnist_uint8(data_dir)
    return (
        (_images(x_train[train]), y_train[train].astype(np.int64)),
        (_images(x_test[test]), y_test[test].astype(np.int64)),
    )


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
        warnings.warn(f"The decoded cache {path} is not readable by this user (made by another "
                      "user); decoding the archive instead.", stacklevel=3)
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            x, y = npz["x"], npz["y"]
        if x.dtype == np.uint8 and y.dtype == np.uint8 and content_sha256(x, y) == CONTENT_SHA256["notmnist"]:
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
    if actual != CONTENT_SHA256["notmnist"]:
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
        f"{CONTENT_SHA256['notmnist']} (18724 images) was expected, so it is not the "
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
    ``CONTENT_SHA256["notmnist"]``; decoded arrays are cached in ``cache_dir()``.
    """
    keep = _subset_indices(NOTMNIST_SIZE, subset, subset_seed, "subset", "notMNIST")
    archive, in_cache = _locate(NOTMNIST_FILE, data_dir)
    x, y = _notmnist_uint8(archive, in_cache)
    return _images(x[keep]), y[keep].astype(np.int64)


# -------------------------------------------------------------------- Fashion-MNIST


def _read_checked_idx(path: Path, name: str, magic: int, in_cache: bool) -> np.ndarray:
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
    actual, expected = hashlib.sha256(raw).hexdigest(), IDX_SHA256[name]
    if actual != expected:
        if in_cache:
            path.unlink(missing_ok=True)
        raise DataError(
            f"{path} decompresses to {len(raw)} bytes with sha256 {actual} but {expected} was "
            f"expected, so it is corrupt, truncated or not the original {name}; {fate}."
        )
    return _parse_idx(raw, magic, path)


def _fashion_uint8(data_dir) -> tuple[np.ndarray, np.ndarray]:
    """Verified uint8 x (10000, 28, 28), y (10000,) of the Fashion-MNIST test split."""
    arrays = []
    for key, name in FASHION_FILES.items():
        path, in_cache = _locate(name, data_dir)
        magic = _IMAGES_MAGIC if key == "images" else _LABELS_MAGIC
        arrays.append(_read_checked_idx(path, name, magic, in_cache))
    x, y = arrays
    # The IDX digests already pin the content; as for MNIST, this guards the decoder.
    actual = content_sha256(x, y)
    if actual != CONTENT_SHA256["fashion_mnist"]:
        raise DataError(
            f"The decoded Fashion-MNIST arrays have sha256 {actual} but "
            f"{CONTENT_SHA256['fashion_mnist']} was expected, so the IDX decoder is wrong; "
            "nothing was written."
        )
    return x, y


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
    keep = _subset_indices(FASHION_SIZE, subset, subset_seed, "subset", "Fashion-MNIST test")
    x, y = _fashion_uint8(data_dir)
    return _images(x[keep]), y[keep].astype(np.int64)


# -------------------------------------------------------------------------- shared


def _subset_indices(n_total: int, subset: int | None, seed: int | None, arg: str, what: str):
    """Indices of a deterministic subset: all, the first ``subset``, or a seeded sample.

    A seeded sample is drawn without replacement and sorted, so it keeps file order.
    """
    if subset is None:
        return slice(None)
    if isinstance(subset, bool) or not isinstance(subset, (int, np.integer)) or subset < 1:
        raise DataError(
            f"{arg}={subset!r} must be a positive whole number or None (all {n_total} {what} images)."
        )
    if subset > n_total:
        raise DataError(
            f"{arg}={subset} is larger than the {n_total} {what} images available; use at most {n_total}."
        )
    if seed is None:
        return slice(0, int(subset))
    return np.sort(np.random.default_rng(seed).choice(n_total, size=int(subset), replace=False))


def _images(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (x.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def data_digests(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """sha256 of each source file the loaders use, for an artifact manifest.

    Keys: the seven file names (digest of the bytes actually found, after the same
    checks as the loaders), plus ``"mnist (decoded)"``, ``"notmnist (decoded)"`` and
    ``"fashion_mnist (decoded)"``: the content digests the loaders enforce.
    """
    _fashion_uint8(data_dir)  # its .gz bytes vary with packaging: check the content first
    digests = {}
    for name in MIRRORS:
        path = find_data_file(name, data_dir)
        digests[name] = FILE_SHA256.get(name) or file_sha256(path)  # MNIST: just verified
    digests.update({f"{key} (decoded)": value for key, value in CONTENT_SHA256.items()})
    return digests
