"""TensorFlow's start-up lines kept out of the terminal: loading TensorFlow prints oneDNN,
CUDA (cuInit) and absl lines on the process's stderr from C++, before Python's logging can
be configured. The command line imports it once with file descriptor 2 pointed at a log
file, so a researcher sees the project's own lines; the log keeps TensorFlow's.

    log = quiet.import_tensorflow()     # -> the log file's path (None if it was imported already)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path


def log_path() -> Path:
    """Where TensorFlow's start-up lines go: $CDE_TF_LOG, else the temp folder."""
    return Path(os.environ.get("CDE_TF_LOG") or Path(tempfile.gettempdir()) / "cde-tensorflow.log")


@contextlib.contextmanager
def stderr_to(path: Path):
    """Point file descriptor 2 (C++ and Python alike) at `path` for the block (appending)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow() -> Path | None:
    """Import tensorflow (and tf_keras) with their start-up lines in log_path(); C++ logs
    below warnings stay off afterwards (TF_CPP_MIN_LOG_LEVEL=2 unless set)."""
    if "tensorflow" in sys.modules:
        return None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    path = log_path()
    try:
        with stderr_to(path):
            import tensorflow
            import tf_keras  # noqa: F401

            # The platforms start on first use, and CUDA's cuInit error line with them: start
            # them here, inside the redirect.
            tensorflow.config.list_physical_devices()
    except OSError:  # the log cannot be written: import it loudly rather than not at all
        import tensorflow  # noqa: F401

        return None
    return path
