"""Real-formats benchmark: the same nights read from real formats and from canonical CSV.

Generates N ledger rows a night with the real-format rails twice over from one generation: the
canonical twin (every source canonical CSV) and the real-format set (settlement as Adyen,
Stripe, PayPal and clearing reports, bank lines as camt.053, MT940 and BAI2, receipts as xlsx
and GB18030 CSV). Runs each night of both, alternating, each as its own CLI process, and prints
wall seconds, peak RSS and the load stage per night with the real/canonical ratios: only ratios
measured together on the same machine mean anything.

    python bench/real_formats.py --rows 1000000 --days 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from nightly import run_night
from walletrecon.sample import generate
from walletrecon.sample.model import REAL_RAILS
from walletrecon.sample.real.nights import realise

HERE = Path(__file__).resolve().parent
ZONE = "Asia/Shanghai"


def prepare(work: Path, rows: int, days: int, seed: int) -> tuple[Path, Path]:
    """The twin and the real-format data set, generated unless already there."""
    twin, real = work / "twin", work / "real"
    marker = work / ".complete"
    if not marker.exists():
        shutil.rmtree(work, ignore_errors=True)
        started = time.perf_counter()
        summary = generate(twin, days=days, seed=seed, rows=rows, rails=REAL_RAILS)
        middle = time.perf_counter()
        realise(twin, real, summary.dates, ZONE)
        print(
            f"generated {days} nights of {rows:,} ledger rows in {middle - started:.1f} s, "
            f"written in real formats in {time.perf_counter() - middle:.1f} s"
        )
        marker.touch()
    return twin, real


def read_seconds(out: Path, night: str) -> float:
    """The load stage (finding, reading and checking the files) of a night from its manifest."""
    manifest = json.loads((out / "manifest" / f"run_date={night}" / "manifest.json").read_text())
    timings: dict[str, float] = manifest["timings_seconds"]
    return timings.get("load", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    work = args.work / f"real-{args.rows}x{args.days}-s{args.seed}"
    twin, real = prepare(work, args.rows, args.days, args.seed)
    outs = {"canonical": args.work / "run-canonical", "real": args.work / "run-real"}
    for out in outs.values():
        shutil.rmtree(out, ignore_errors=True)
    nights = sorted(path.name for path in (twin / "inbox").iterdir() if path.is_dir())
    header = f"{'night':<12}{'run':<11}{'wall s':>8}{'RSS MiB':>9}{'load s':>8}"
    print(f"{header}{'wall ratio':>12}{'RSS ratio':>11}")
    for night in nights:
        figures = {}
        for name, data in (("canonical", twin), ("real", real)):
            seconds, rss = run_night(night, data, outs[name])
            figures[name] = (seconds, rss, read_seconds(outs[name], night))
            line = f"{night:<12}{name:<11}{seconds:>8.2f}{rss:>9,}{figures[name][2]:>8.2f}"
            if name == "real":
                base = figures["canonical"]
                line += f"{seconds / base[0]:>12.2f}{rss / base[1]:>11.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
