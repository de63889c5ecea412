"""The published Parquet tables read whole, with their documented types, in DuckDB, pyarrow,
pandas and Spark (``docs/auditors.md``, "Reading the tables")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.world import World, day
from walletrecon import spark

TABLES = ("discrepancies", "evidence", "rejected")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three nights with breaks and a rejected row."""
    world = World(tmp_path_factory.mktemp("readers"))
    world.payment(0, "T1", amount="25.00").settle(0, "T1", amount="25.00")
    world.payment(0, "T2").settle(0, "T2").receive(0, "T2", amount="9.00")
    world.payment(1, "T3").payment(1, "T4").payment(1, "T5", amount="twelve")
    world.run_through(2)
    return world.out


NIGHTS = [day(night) for night in range(3)]


def rows(out: Path, table: str) -> int:
    """The table's rows, counted file by file."""
    return sum(pq.read_metadata(path).num_rows for path in (out / table).glob("*/*.parquet"))


@pytest.mark.parametrize("table", TABLES)
def test_pandas_reads_a_whole_table_the_first_way_a_user_tries(out: Path, table: str) -> None:
    frame = pd.read_parquet(out / table)
    assert len(frame) > 0
    assert isinstance(frame["run_date"].dtype, pd.CategoricalDtype)
    assert {dt.date.fromisoformat(value) for value in frame["run_date"].unique()} <= set(NIGHTS)
    if table == "discrepancies":
        assert isinstance(frame["difference"].dropna().iloc[0], Decimal)
        assert isinstance(frame["first_seen"].iloc[0], dt.date)
        assert frame["age_days"].dtype == "int32"
    if table == "evidence":
        assert frame["row"].dtype == "int64"
        assert frame["row_sha256"].str.len().eq(64).all()


@pytest.mark.parametrize("table", TABLES)
def test_pyarrow_reads_a_whole_table(out: Path, table: str) -> None:
    read = pq.read_table(out / table)
    assert read.schema.field("run_date").type == pa.dictionary(pa.int32(), pa.string())
    assert read.num_rows == rows(out, table)


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_run_date_as_a_date(out: Path, table: str) -> None:
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{out / table}/*/*.parquet')")
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types["run_date"] == "DATE"
    nights = {row[0] for row in relation.select("run_date").fetchall()}
    assert nights <= set(NIGHTS) and nights
    if table == "discrepancies":
        assert types["difference"].startswith("DECIMAL(38")
        assert types["first_seen"] == "DATE"


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    started = spark.session()
    yield started
    started.stop()


@pytest.mark.slow
@pytest.mark.skipif(spark.missing() is not None, reason=str(spark.missing()))
@pytest.mark.parametrize("table", TABLES)
def test_spark_reads_a_whole_table_with_run_date_a_date(
    out: Path, session: Any, table: str
) -> None:
    frame = session.read.parquet(str(out / table))
    types = dict(frame.dtypes)
    assert types["run_date"] == "date"
    if table == "discrepancies":
        assert types["difference"].startswith("decimal(38")
        assert types["first_seen"] == "date"
    assert frame.count() == rows(out, table)
