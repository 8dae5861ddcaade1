"""Bytes on disk, once: checksums and atomic writes that honour the user's umask.

The bottom layer (it imports nothing of helpers): the store, the data cache, the figures,
the weights and per-image packs and the aggregate all write and check files through it.

    atomic_write_bytes(path, data)       # a temp file beside `path`, then os.replace
    atomic_write_json(path, obj)         # sorted keys, indent 1, final newline
    with atomic_path(path) as tmp: ...   # for writers that insist on a file name
    sha256_file(path), sha256_bytes(data)

Every new file gets the mode a plain `open(path, "w")` would give it under the current
umask (mkstemp alone makes 0600, which a shared cache or a published book cannot read).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process's umask (reading it means setting it: set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plain `open(path, "w")` gives a new file under the current umask."""
    return 0o666 & ~current_umask()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to a temp file beside `path` (`.<name>.<pid>.<8 random>.tmp`), then
    rename it into place: a reader sees the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()


def atomic_write_json(path, obj) -> None:
    atomic_write_bytes(path, json_bytes(obj))


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temp path beside `path` (`.<name>.<pid>.tmp<suffix>`); on success rename it
    into place with the umask's mode, else remove it. For writers that insist on a file
    name (Keras, numpy)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
