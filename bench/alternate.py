"""Two nights of one output folder measured in turn, as dry runs: the host's drift hits both.

A shared host's speed drifts by tens of percent within minutes, so a ratio of nights measured
minutes apart (night 4 and night 30 of ``bench/nightly.py``) says little. This script re-runs
two published nights of a folder as dry runs (nothing is published, the folder stays as it was),
A, B, A, B, ..., and prints each run's wall time, CPU seconds, peak RSS and stage times, then the
ratios of B to A. Publishing is left out (a dry run does not publish).

    python bench/nightly.py --rows 1000000 --days 30
    python bench/alternate.py --data bench/out/data-1000000x30-s11 --out bench/out/run \\
        --nights 2026-11-19 2026-12-15 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from nightly import measure_usage


def dry_run(date: str, data: Path, out: Path) -> tuple[float, float, int, dict[str, float]]:
    """(wall s, CPU s, peak RSS MiB, stage seconds) of a dry run of one night."""
    command = [sys.executable, "-m", "walletrecon.cli", "run", "--date", date, "--dry-run"]
    command += ["--inbox", str(data / "inbox"), "--out", str(out)]
    command += ["--config", str(data / "walletrecon.toml"), "-v", "--log-format", "json"]
    with tempfile.TemporaryFile() as log:
        seconds, rss, cpu = measure_usage(command, stderr=log)
        log.seek(0)
        stages = {}
        for line in log.read().decode("utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "stage" in record and "seconds" in record:
                stages[str(record["stage"])] = round(float(record["seconds"]), 2)
    return seconds, cpu, rss, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the generated data set")
    parser.add_argument("--out", type=Path, required=True, help="its published output folder")
    parser.add_argument("--nights", nargs=2, required=True, metavar=("A", "B"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float, int]]] = {night: [] for night in args.nights}
    print(f"{'night':<12}{'wall s':>8}{'CPU s':>8}{'RSS MiB':>9}  stages (s)")
    for _ in range(args.repeat):
        for night in args.nights:
            seconds, cpu, rss, stages = dry_run(night, args.data, args.out)
            figures[night].append((seconds, cpu, rss))
            shown = " ".join(f"{name}={value:.2f}" for name, value in stages.items())
            print(f"{night:<12}{seconds:>8.2f}{cpu:>8.2f}{rss:>9,}  {shown}", flush=True)
    first, second = (figures[night] for night in args.nights)
    walls = [b[0] / a[0] for a, b in zip(first, second, strict=True)]
    cpus = [b[1] / a[1] for a, b in zip(first, second, strict=True)]
    print(
        f"{args.nights[1]} / {args.nights[0]}: wall {min(walls):.2f}-{max(walls):.2f}x, "
        f"CPU {min(cpus):.2f}-{max(cpus):.2f}x"
    )


if __name__ == "__main__":
    main()
