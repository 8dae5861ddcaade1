"""The GitHub workflows pass zizmor's security audit (offline: no GitHub API calls)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def _zizmor() -> str | None:
    beside = Path(sys.executable).with_name("zizmor")
    return str(beside) if beside.exists() else shutil.which("zizmor")


def test_workflows_have_no_zizmor_findings():
    zizmor = _zizmor()
    if zizmor is None:
        pytest.skip("zizmor is not installed (it is pinned in requirements.txt: make venv).")
    proc = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"zizmor findings:\n{proc.stdout}\n{proc.stderr}"
    assert "No findings to report" in proc.stdout


def test_actions_are_pinned_by_commit_with_their_version():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), (
                    f"{path.name}: {line.strip()!r} is not pinned as `owner/action@<40-hex sha> # vX.Y.Z`"
                )
