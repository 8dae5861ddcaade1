"""Source files, found and verified: the data folder, a system package, the per-user cache, a
download; the one place that reads or fetches a dataset's bytes.

1. ``find_data_file`` looks in ``data_dir`` (argument) or else ``$CDE_DATA_DIR``,
   then where a system package installs the file (``PACKAGE_PATHS``: Debian's
   ``dataset-fashion-mnist``), then in the per-user cache (``$CDE_CACHE_DIR``, else ``pooch.os_cache("cde-book")``),
   and only then downloads into the cache, trying each URL of ``MIRRORS[name]``.
2. Files pinned by their bytes are checked against their sha256 (``FILE_SHA256``). The notMNIST
   archive has no single valid byte digest (the upstream archive and the rebuilt one
   differ), so its *decoded content* is checked instead (``CONTENT_SHA256``, by
   helpers.data.notmnist). The Fashion-MNIST .gz wrappers differ between upstream and Debian
   (recompressed), so their *uncompressed* IDX bytes are checked (``IDX_SHA256``, by
   helpers.data.loaders).
3. A data folder is only ever read: a file there that fails a check raises and is
   left in place. A cached or downloaded file that fails is removed from the cache.
4. Downloads and cache writes hold a lock on the cache folder (flock), so the partial files
   of a killed download (pooch's ``tmp*``) are removed by the next one; cached files get
   the user's umask (pooch and mkstemp make them 0600), so a shared cache stays usable.

Every name, digest and mirror comes from the dataset registry (helpers.core.datasets).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

import numpy as np
import pooch
import requests

from helpers.core.datasets import DATASETS
from helpers.core.fileio import file_mode, sha256_file


class DataError(ValueError):
    """A data file is missing, corrupt, unsafe or cannot be downloaded."""


# The registry (helpers.core.datasets) names every file, digest and mirror; these are its
# views by file name, module-level dicts so that tests can point them at a local server.
_SOURCES = {s.name: s for d in DATASETS.values() for s in d.files.values()}
FILE_SHA256 = {name: s.sha256 for name, s in _SOURCES.items() if s.sha256}
# Tried in order.
MIRRORS: dict[str, list[str]] = {name: list(s.mirrors) for name, s in _SOURCES.items()}
# Files a system package may have installed, searched after the data folder and before
# the cache; read in place, never removed.
PACKAGE_PATHS: dict[str, Path] = {name: Path(s.package_path) for name, s in _SOURCES.items() if s.package_path}


def sources() -> dict:
    """{file name: Source} of every registered dataset, read from the registry now (an entry
    added after import is found too); the views above take precedence for the files they name."""
    return {s.name: s for d in DATASETS.values() for s in d.files.values()}


def _mirrors(name: str) -> list[str]:
    return MIRRORS[name] if name in MIRRORS else list(sources()[name].mirrors)


def _file_sha256(name: str) -> str | None:
    return FILE_SHA256.get(name) if name in _SOURCES else sources()[name].sha256


def _package_path(name: str) -> Path | None:
    if name in _SOURCES:
        return PACKAGE_PATHS.get(name)
    path = sources()[name].package_path
    return Path(path) if path else None


_HINT = "set CDE_DATA_DIR to a folder that holds it (e.g. CDE_DATA_DIR=../shared/data)"
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
    expected = _file_sha256(name)
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
        f"{path} has sha256 {actual} but {expected} was expected, so it is corrupt, truncated or not the original {name}; {fate}."
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
            "run chmod a+r on it, or set CDE_CACHE_DIR to a folder of your own."
        )


def _locate(name: str, data_dir: str | os.PathLike | None) -> tuple[Path, bool]:
    """(path, in_cache) of a checked copy of ``name``; in_cache means we may delete it."""
    if name not in MIRRORS and name not in sources():
        known = ", ".join(sorted({*MIRRORS, *sources()}))
        raise DataError(f"Unknown data file {name!r}; known files are {known}.")
    searched = []
    folder = _data_dir(data_dir)
    if folder is not None:
        path, how = folder
        if (path / name).is_file():
            _check_file(path / name, name, in_cache=False)
            return path / name, False
        searched.append(f"{path} ({how}{'' if path.is_dir() else ', no such folder'})")
    package_path = _package_path(name)
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
    expected = _file_sha256(name)
    failures = []
    for url in _mirrors(name):
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
