"""Nightly benchmark: a generated data set of N ledger rows a night, reconciled night after night.

Each night runs as its own process (the real CLI), so its wall time and peak RSS are its own.
Prints a table per night with the stage timings from its manifest (where the time goes).

    python bench/nightly.py --rows 1000000 --days 4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent


def generate(data: Path, rows: int, days: int, seed: int) -> float:
    """Generate the data set unless it is already there; return the seconds it took."""
    marker = data / ".complete"
    if marker.exists():
        return 0.0
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "walletrecon.cli", "sample", "--out", str(data)]
    command += ["--days", str(days), "--seed", str(seed), "--rows", str(rows)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    marker.touch()
    return time.perf_counter() - started


def measure(command: list[str], stdout: IO[bytes] | int = subprocess.DEVNULL) -> tuple[float, int]:
    """Run a command as a child process; (wall seconds, peak RSS in MiB) of that child.

    Exits naming the command when it fails.
    """
    seconds, rss, _ = measure_usage(command, stdout)
    return seconds, rss


def measure_usage(
    command: list[str],
    stdout: IO[bytes] | int = subprocess.DEVNULL,
    stderr: IO[bytes] | int | None = None,
) -> tuple[float, int, float]:
    """Run a command as a child process; (wall seconds, peak RSS in MiB, CPU seconds) of that
    child. CPU seconds (user and system) drift less than wall time on a shared host."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=stdout, stderr=stderr)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
    return seconds, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def night_command(date: str, data: Path, out: Path) -> list[str]:
    command = [sys.executable, "-m", "walletrecon.cli", "run", "--date", date]
    command += ["--inbox", str(data / "inbox"), "--out", str(out)]
    return [*command, "--config", str(data / "walletrecon.toml")]


def run_night(date: str, data: Path, out: Path) -> tuple[float, int]:
    """Run one night in a child process; (wall seconds, peak RSS in MiB) of that child."""
    return measure(night_command(date, data, out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    data = args.work / f"data-{args.rows}x{args.days}-s{args.seed}"
    out = args.work / "run"
    generated = generate(data, args.rows, args.days, args.seed)
    if generated:
        print(f"generated {args.days} nights of {args.rows:,} ledger rows in {generated:.1f} s")
    shutil.rmtree(out, ignore_errors=True)
    dates = sorted(child.name for child in (data / "inbox").iterdir() if child.is_dir())
    print(
        f"{'night':<12}{'rows read':>12}{'wall s':>9}{'CPU s':>8}{'peak RSS MiB':>14}  stages (s)"
    )
    for date in dates:
        seconds, rss, cpu = measure_usage(night_command(date, data, out))
        manifest = json.loads((out / "manifest" / f"run_date={date}" / "manifest.json").read_text())
        rows = sum(item["read"] for item in manifest["outcomes"].values())
        stages = " ".join(f"{k}={v:.2f}" for k, v in manifest["timings_seconds"].items())
        print(f"{date:<12}{rows:>12,}{seconds:>9.2f}{cpu:>8.2f}{rss:>14,}  {stages}")


if __name__ == "__main__":
    main()
