"""Suggested matches against the generator's near misses: how many are suggested with their true
counterpart, and how many suggestions are wrong.

    python bench/suggestions.py --rows 100000 --days 4 --seed 5

Generates the nights (``walletrecon sample``: near misses are a settlement line under a mistyped
reference and a receipt under a mistyped txn_id, their counterpart in ``truth.csv``), reconciles
them in order and scores every published suggestion (``evaluate.suggestion_score``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from walletrecon.evaluate import suggestion_score


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
        score = suggestion_score(data / "truth.csv", out)
    size = f"{arguments.rows:,} rows x {arguments.days} nights (seed {arguments.seed})"
    print(f"{size}, {seconds:.1f} s")
    header = ("near misses", "suggestible", "suggested right", "share", "suggestions", "wrong")
    print("| " + " | ".join((*header, "share wrong")) + " |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {score.near_misses} | {score.suggestible} | {score.suggested_right} | "
        f"{score.share_suggested:.3f} | {score.suggestions} | {score.wrong} | "
        f"{score.share_wrong:.4f} |"
    )


if __name__ == "__main__":
    main()
