"""Keras archives written deterministically: identical runs give identical .keras bytes.

Keras stamps the save time into an archive's metadata and its zip members; the store's
members are saved with a fixed time instead, so a re-run (or a resumed run) writes the
same file and its sha256 says so.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from helpers.core.fileio import atomic_path

# A fixed time for zip members and Keras' `date_saved`: identical runs, identical bytes.
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_DATE_SAVED = "1980-01-01@00:00:00"


def normalize_keras_archive(path: Path) -> None:
    """Rewrite a .keras zip in place with fixed member times and a fixed `date_saved`.

    Keras stamps the save time into metadata.json and into the weights member's zip
    header; nothing else in the archive depends on the time, so after this two saves of
    the same weights are byte-identical.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info, data in members:
            if info.filename == "metadata.json":
                meta = json.loads(data)
                if "date_saved" in meta:
                    meta["date_saved"] = _FIXED_DATE_SAVED
                data = json.dumps(meta).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def save_keras(model, path: Path) -> None:
    """`model.save(path)` atomically and deterministically (see normalize_keras_archive)."""
    with atomic_path(path) as tmp:
        model.save(tmp)  # members are never compiled: no optimizer state
        normalize_keras_archive(tmp)
