"""helpers.core.quiet: TensorFlow's start-up lines go to a log file, not the terminal."""

import os
import subprocess
import sys

SCRIPT = """
from helpers.core import quiet
print(quiet.import_tensorflow())
import tensorflow as tf
print(float(tf.constant(1.0) + 1.0))
"""


def test_tensorflows_start_up_and_platform_lines_go_to_the_log(tmp_path):
    log = tmp_path / "tf.log"
    env = {**os.environ, "CDE_TF_LOG": str(log)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(log), "2.0"]
    # the oneDNN and CUDA (cuInit) lines, which the first operation used to print, are not shown
    assert done.stderr == ""
    assert log.exists()
