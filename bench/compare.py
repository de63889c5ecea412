"""Speed against peers: walletrecon and four other ways to reconcile, on the very same files.

Generates (or reuses) the nights bench/nightly.py makes for the same --rows, --days and --seed:
canonical CSV, one folder per night. Then, night by night, runs one after another, each as a
process of its own measured with os.wait4 (wall time, peak RSS):

- walletrecon: the CLI, one process per night, carrying its state from night to night;
- floor: a bare Polars script doing only the relations' joins (bench/peers/floor.py);
- duckdb_sql: a plain DuckDB SQL script of the same rules (bench/peers/reconcile.sql);
- pandas_merge: the same joins as pandas merges;
- datacompy: datacompy's ledger-settlement comparison (PolarsCompare).

The last two run in bench/.venv-datacompy, made here with pip from bench/peers/requirements.txt
(datacompy pins an older Polars than the project's). Prints, as Markdown, one table of wall time
and peak RSS per night for each with its ratio to walletrecon's (peer / walletrecon: above 1 means
walletrecon was faster or smaller), a summary per tool, and the checksums: each peer's counts per
relation beside walletrecon's outcomes, to show every one did the work.

    python bench/compare.py --rows 1000000 --days 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compare_tables import Measurement, checksum_table, summary_table, timing_table
from nightly import generate, measure, run_night

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / "peers"
REQUIREMENTS = PEERS_DIR / "requirements.txt"
PEER_ENV = HERE / ".venv-datacompy"
SOURCES = ("ledger", "settlement", "receipts", "balances", "bank")


@dataclass(frozen=True)
class Peer:
    """A peer: its name, its script under bench/peers/, and whether it needs the peer env."""

    name: str
    script: str
    own_environment: bool


PEERS = (
    Peer("floor", "floor.py", own_environment=False),
    Peer("duckdb_sql", "duckdb_sql.py", own_environment=False),
    Peer("pandas_merge", "pandas_merge.py", own_environment=True),
    Peer("datacompy", "datacompy_compare.py", own_environment=True),
)


def peer_environment() -> Path:
    """The peers' own interpreter: bench/.venv-datacompy, (re)made when its pins changed."""
    stamp = PEER_ENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    python = PEER_ENV / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        print(f"making {PEER_ENV} from {REQUIREMENTS} ...", flush=True)
        shutil.rmtree(PEER_ENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_ENV)], check=True)
        install = [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)]
        subprocess.run(install, check=True)
        stamp.write_text(wanted)
    return python


def nights_of(data: Path) -> list[Path]:
    """The night folders in date order; exits when one lacks a canonical CSV file."""
    nights = sorted(path for path in (data / "inbox").iterdir() if path.is_dir())
    for night in nights:
        missing = [name for name in SOURCES if not (night / f"{name}.csv").is_file()]
        if missing:
            raise SystemExit(f"{night} lacks canonical CSV files for {', '.join(missing)}")
    return nights


def run_peer(python: Path, peer: Peer, night: Path, previous: Path | None) -> Measurement:
    """One peer on one night, measured; its checksum read from its output."""
    command = [str(python), str(PEERS_DIR / peer.script), str(night)]
    command += [str(previous)] if previous is not None else []
    with tempfile.TemporaryFile() as output:
        seconds, rss = measure(command, output)
        output.seek(0)
        printed = json.loads(output.read().decode("utf-8"))
    return Measurement(night.name, peer.name, seconds, rss, printed["checksum"])


def run_walletrecon(night: Path, data: Path, out: Path) -> Measurement:
    """One walletrecon night, measured; its manifest's outcomes as its checksum."""
    seconds, rss = run_night(night.name, data, out)
    manifest = out / "manifest" / f"run_date={night.name}" / "manifest.json"
    outcomes = json.loads(manifest.read_text(encoding="utf-8"))["outcomes"]
    return Measurement(night.name, "walletrecon", seconds, rss, outcomes)


def run_all(data: Path, out: Path, peer_python: Path) -> list[Measurement]:
    """Every night in order: walletrecon first, then each peer, on the same files."""
    measurements: list[Measurement] = []
    previous: Path | None = None
    for night in nights_of(data):
        measurements.append(run_walletrecon(night, data, out))
        for peer in PEERS:
            python = peer_python if peer.own_environment else Path(sys.executable)
            measurements.append(run_peer(python, peer, night, previous))
        done = [m for m in measurements if m.night == night.name]
        print(" ".join(f"{m.tool}={m.seconds:.2f}s" for m in done), file=sys.stderr, flush=True)
        previous = night
    return measurements


def main() -> None:
    """Generate or reuse the nights, run everything on them, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    data = args.work / f"data-{args.rows}x{args.days}-s{args.seed}"
    generated = generate(data, args.rows, args.days, args.seed)
    if generated:
        print(f"generated {args.days} nights of {args.rows:,} ledger rows in {generated:.1f} s")
    peer_python = peer_environment()
    out = args.work / "run-compare"
    shutil.rmtree(out, ignore_errors=True)
    measurements = run_all(data, out, peer_python)
    tables = [timing_table(measurements), summary_table(measurements)]
    tables.append(checksum_table(measurements))
    text = "\n\n".join(tables)
    print(f"\n{args.rows:,} ledger rows a night, {args.days} nights ({data})\n\n{text}")
    report = args.work / f"compare-{args.rows}x{args.days}-s{args.seed}.md"
    report.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
