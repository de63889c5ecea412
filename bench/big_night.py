"""One night larger than the generator holds in memory, stacked from nights it can make.

The generator builds a night in memory (about 11GB for 30M ledger rows), so a 100M-row night
cannot be generated in one piece on a 24GB machine. This writes ``--chunks`` one-night data sets
of ``--rows / --chunks`` rows each (seeds ``--seed``, ``--seed`` + 1, ...) and stacks them into
one night: every row id of chunk k is prefixed with ``K<k>`` (entries, transactions, accounts,
gateway references, settlement lines, receipts, bank lines), so the chunks' rows never meet and
each keeps its own breaks; merchants and payouts are shared, as at a real wallet. A chunk is
deleted once stacked: the disk holds the night and one chunk.

    python bench/big_night.py --rows 100000000 --chunks 4 --out /data/big
    python bench/nightly.py ...  # or: walletrecon run --date ... --inbox /data/big/inbox

The night's folder is reused when it is complete (``.complete``); no truth file is written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

#: The columns holding row ids, per source: what a chunk's prefix goes on.
ID_COLUMNS = {
    "ledger": ("entry_id", "txn_id", "account_id", "gateway_ref"),
    "settlement": ("settlement_id", "gateway_ref", "merchant_ref"),
    "receipts": ("receipt_id", "txn_id"),
    "balances": ("account_id",),
    "bank": ("bank_line_id",),
}


def stack(chunk_night: Path, night: Path, chunk: int) -> None:
    """Append one chunk's files to the night's, every id prefixed with the chunk's mark."""
    night.mkdir(parents=True, exist_ok=True)
    for source, columns in ID_COLUMNS.items():
        part = night / f".{source}.part"
        prefixed = pl.scan_csv(chunk_night / f"{source}.csv", infer_schema=False).with_columns(
            (pl.lit(f"K{chunk}") + pl.col(column)).alias(column) for column in columns
        )
        prefixed.sink_csv(part, include_header=chunk == 0)
        with (night / f"{source}.csv").open("ab") as target, part.open("rb") as rows:
            shutil.copyfileobj(rows, target, 16 << 20)
        part.unlink()


def main() -> None:
    """Generate the chunks one after another and stack each into the night."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if (args.out / ".complete").exists():
        print(f"{args.out} is complete")
        return
    shutil.rmtree(args.out, ignore_errors=True)
    started = time.perf_counter()
    for chunk in range(args.chunks):
        folder = args.out / f".chunk-{chunk}"
        command = [sys.executable, "-m", "walletrecon.cli", "sample", "--out", str(folder)]
        command += ["--days", "1", "--seed", str(args.seed + chunk)]
        command += ["--rows", str(args.rows // args.chunks)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        (date,) = [path.name for path in (folder / "inbox").iterdir()]
        stack(folder / "inbox" / date, args.out / "inbox" / date, chunk)
        if chunk == 0:
            shutil.copy(folder / "walletrecon.toml", args.out / "walletrecon.toml")
        shutil.rmtree(folder)
        print(f"chunk {chunk + 1}/{args.chunks} stacked at {time.perf_counter() - started:.0f} s")
    (args.out / ".complete").touch()


if __name__ == "__main__":
    main()
