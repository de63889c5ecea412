"""A plain DuckDB SQL reconciliation of one night: runs bench/peers/reconcile.sql.

The SQL script does the work (reads the five CSV files as text, casts amounts to DECIMAL(38, 4),
joins and compares); this driver only puts the night's paths into it, runs it in an in-memory
database with DuckDB's defaults, and prints the checksum. Runs in the project's environment.

    python bench/peers/duckdb_sql.py INBOX/2026-11-17 [INBOX/2026-11-16]
"""

from __future__ import annotations

import sys
from pathlib import Path
from string import Template

import duckdb
from common import COUNTS, Night, emit, night_from_arguments

SCRIPT = Path(__file__).resolve().with_name("reconcile.sql")
EMPTY_OPENING = (
    "(SELECT NULL::VARCHAR AS account_id, NULL::VARCHAR AS currency, NULL::VARCHAR AS balance "
    "WHERE false)"
)


def quoted(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def script_for(night: Night) -> str:
    """The SQL script with the night's files put in."""
    opening = EMPTY_OPENING
    if night.previous_balances is not None:
        opening = f"read_csv({quoted(night.previous_balances)}, header = true, all_varchar = true)"
    return Template(SCRIPT.read_text(encoding="utf-8")).substitute(
        ledger=quoted(night.ledger),
        settlement=quoted(night.settlement),
        receipts=quoted(night.receipts),
        balances=quoted(night.balances),
        bank=quoted(night.bank),
        opening=opening,
    )


def reconcile(night: Night) -> dict[str, dict[str, int]]:
    """The checksum of one night, as the script's last statement gives it."""
    with duckdb.connect() as connection:
        rows = connection.execute(script_for(night)).fetchall()
    return {str(row[0]): dict(zip(COUNTS, map(int, row[1:]), strict=True)) for row in rows}


if __name__ == "__main__":
    emit("duckdb_sql", reconcile(night_from_arguments(sys.argv[1:])))
