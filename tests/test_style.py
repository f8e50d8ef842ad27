"""The code stays ruff-clean (pyproject.toml's [tool.ruff] rules), checked with the suite."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ruff_clean():
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    try:
        out = subprocess.run(cmd + ["check", "--no-cache", "."], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        pytest.fail("ruff is not installed (it is in the [test] extra)")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
