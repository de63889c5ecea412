"""A night does not import pandas: ``pyarrow.array`` and ``Array.to_numpy`` would (they ask pandas
whether their input is array-like), a third of a second a night wherever pandas is installed
(the Spark extra installs it). The night's Arrow arrays go through ``walletrecon.arrays``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from walletrecon.cli import main

CHECK = """
import sys
from walletrecon.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert exit.code == 0, exit.code
print(sorted(name for name in ("pandas",) if name in sys.modules))
"""


def assert_nights_do_not_import_pandas(data: Path, out: Path) -> None:
    """Run every night of ``data/inbox`` (with ``data/walletrecon.toml``), each in a process of
    its own, and check that none imported pandas."""
    for night in sorted(path.name for path in (data / "inbox").iterdir()):
        arguments = ["run", "--date", night, "--inbox", str(data / "inbox"), "--out"]
        arguments += [str(out), "--config", str(data / "walletrecon.toml")]
        done = subprocess.run(
            [sys.executable, "-c", CHECK, *arguments], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "[]", night


@pytest.mark.slow
def test_two_nights_run_without_importing_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas")  # without pandas installed the test would prove nothing
    data = tmp_path / "data"
    made = CliRunner().invoke(
        main, ["sample", "--out", str(data), "--days", "2", "--seed", "5", "--rows", "300"]
    )
    assert made.exit_code == 0, made.output
    assert_nights_do_not_import_pandas(data, tmp_path / "out")


@pytest.mark.slow
def test_the_sample_nights_evidence_of_a_parquet_input_does_not_import_pandas(
    tmp_path: Path,
) -> None:
    """sample_data's settlement of 2026-11-18 is Parquet, and breaks cite its rows: the evidence
    table reads them (``pyarrow``'s ``take`` with a list would import pandas, in a thread)."""
    pytest.importorskip("pandas")
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    assert any((sample / "inbox").glob("*/*.parquet"))
    assert_nights_do_not_import_pandas(sample, tmp_path / "out")
    evidence = (tmp_path / "out" / "evidence").glob("*/*.parquet")
    assert any(b"settlement.parquet" in path.read_bytes() for path in evidence)
