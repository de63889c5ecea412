"""DuckDB: the warehouse of one run. Loads SQL files by name and holds the session settings.

SQL statements live in the top-level ``sql/`` folder (shipped as ``walletrecon.sql``), one
statement per file with a header comment saying what it is for.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb
import pyarrow as pa

from walletrecon.money import currency_exponents


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return resources.files("walletrecon.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def currencies_table() -> pa.Table:
    """ISO 4217 currencies with their exponent and the matching power of ten."""
    codes = sorted(currency_exponents())
    exponents = [currency_exponents()[code] for code in codes]
    return pa.table(
        {
            "code": pa.array(codes, pa.string()),
            "exponent": pa.array(exponents, pa.int32()),
            "scale": pa.array([10**exponent for exponent in exponents], pa.int64()),
        }
    )


def connect(timezone: str, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session reading naive timestamps in the business time zone."""
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET TimeZone = '{timezone}'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    connection.execute(sql_text("macros"))
    connection.register("currencies", currencies_table())
    return connection
