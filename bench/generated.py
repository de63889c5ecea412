"""Generated nights for the scoring benchmarks: ``--rows``, ``--days``, ``--seed`` from the
command line, the nights made by ``walletrecon sample`` and run one after the other."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Nights:
    data: Path
    out: Path
    #: The nights' runs, wall time.
    seconds: float
    label: str


@contextmanager
def generated_nights(description: str) -> Iterator[Nights]:
    """Generate the nights the command line asks for and run them; the folders last as long as
    the ``with`` block."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()
    cli = [sys.executable, "-m", "walletrecon.cli"]
    with tempfile.TemporaryDirectory() as folder:
        data, out = Path(folder) / "data", Path(folder) / "out"
        sample = ["sample", "--out", str(data), "--days", str(arguments.days)]
        sample += ["--seed", str(arguments.seed), "--rows", str(arguments.rows)]
        subprocess.run([*cli, *sample], check=True, stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        for night in sorted(path.name for path in (data / "inbox").iterdir()):
            run = ["run", "--date", night, "--inbox", str(data / "inbox"), "--out", str(out)]
            run += ["--config", str(data / "walletrecon.toml")]
            subprocess.run([*cli, *run], check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        label = f"{arguments.rows:,} rows x {arguments.days} nights (seed {arguments.seed})"
        yield Nights(data, out, seconds, label)
