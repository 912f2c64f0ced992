"""The code keeps its style: sqlfluff (postgres dialect, the repo's .sqlfluff) on the SQL
tree and the pgTAP files, ruff on the Python. A finding fails the suite like a bug."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT


def tool(name: str) -> str:
    """The tool beside this Python (a venv's bin), else on PATH."""
    path = str(Path(sys.executable).parent / name)
    if not os.path.exists(path):
        path = shutil.which(name) or ""
    if not path:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def test_sql_is_sqlfluff_clean():
    result = subprocess.run(
        [tool("sqlfluff"), "lint", "db", "tests/sql", "harness/doctor/lints"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_python_is_ruff_clean():
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [tool("ruff"), *args, "harness", "tests"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout[-4000:]
