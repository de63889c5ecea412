"""Likely causes against the causes the generator injected: the share of breaks with an injected
cause that are named with it, those named with another, and those named where none was injected.

    python bench/causes.py --rows 100000 --days 4 --seed 5

Generates the nights (``walletrecon sample``: ``truth.csv`` carries each break's injected
``cause``), reconciles them in order and scores every published ``likely_cause``
(``evaluate.cause_score``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from walletrecon.evaluate import cause_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        scores = cause_score(data / "truth.csv", out)
    size = f"{arguments.rows:,} rows x {arguments.days} nights (seed {arguments.seed})"
    print(f"{size}, {seconds:.1f} s")
    print("| cause | injected | named right | share | named wrong | named where none injected |")
    print("|---|---|---|---|---|---|")
    for score in scores:
        print(
            f"| {score.cause} | {score.injected} | {score.named_right} | "
            f"{f'{score.share_named:.3f}' if score.injected else '-'} | {score.named_wrong} | "
            f"{score.named_without} |"
        )


if __name__ == "__main__":
    main()
