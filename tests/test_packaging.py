"""The wheel: built without packaging warnings, with its templates and SQL inside."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_builds_without_warnings_and_carries_its_data(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path)]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    output = built.stdout + built.stderr
    assert "is absent from the `packages` configuration" not in output
    assert "Warning" not in output, output
    (wheel,) = tmp_path.glob("walletrecon-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "walletrecon/templates/report.html" in names
    assert any(name.startswith("walletrecon/sql/") and name.endswith(".sql") for name in names)
    assert "walletrecon/decisions/log.py" in names
