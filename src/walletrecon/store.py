"""DuckDB: the warehouse of one run. Loads SQL files by name and holds the session settings.

SQL statements live in the top-level ``sql/`` folder (shipped as ``walletrecon.sql``), one
statement per file with a header comment saying what it is for.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return resources.files("walletrecon.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def connect(timezone: str, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session reading naive timestamps in the business time zone."""
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET TimeZone = '{timezone}'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    return connection
