"""``walletrecon query``: the archive as read-only SQL views for auditors (CONTRACT section 7).

One DuckDB session in memory: views over the published files (``discrepancies``, ``tickets``,
``rejected``, ``evidence``, ``decisions``) and tables made from the manifests (``manifests``,
``runs``, ``control_totals``); then file access is closed to everything but the archive
(``allowed_directories``, ``enable_external_access = false``) and the configuration locked, and
only statements that read (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN) are run. A statement that
would write, attach, or read a file outside the archive is refused with exit 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from walletrecon.audit import read_manifests
from walletrecon.errors import UsageError

#: Statement types a query may hold.
READING = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
#: The views and tables, and what each holds (``docs/auditors.md`` lists their columns).
VIEWS = {
    "discrepancies": "open breaks, one row per night they were open",
    "tickets": "remediation tickets, one row per night",
    "rejected": "rejected input rows with file, row, column and reason",
    "evidence": "one row per discrepancy and input row behind it",
    "decisions": "people's decisions, one row per line of the decision log",
    "manifests": "one row per night: the manifest as JSON",
    "runs": "one row per night: rows read, rejected, open, new, resolved, decisions applied",
    "control_totals": "per night, source and currency: accepted amount and whether books balance",
}


def _glob(out: Path, pattern: str) -> str | None:
    """A glob for DuckDB, or None when it matches no file."""
    return str(out / pattern) if any(out.glob(pattern)) else None


def _files_views(connection: duckdb.DuckDBPyConnection, out: Path) -> None:
    parquet = "hive_partitioning = true, union_by_name = true"
    sources = {
        "discrepancies": ("discrepancies/run_date=*/*.parquet", f"read_parquet('{{}}', {parquet})"),
        "tickets": (
            "tickets/run_date=*/tickets.jsonl",
            "read_json('{}', hive_partitioning = true, union_by_name = true)",
        ),
        "rejected": (
            "rejected/run_date=*/rejected.parquet",
            "read_parquet('{}', hive_partitioning = true, union_by_name = true)",
        ),
        "decisions": ("decisions/decisions.jsonl", "read_json('{}', format = 'newline_delimited')"),
    }
    for name, (pattern, reader) in sources.items():
        found = _glob(out, pattern)
        body = (
            f"SELECT * FROM {reader.format(found)}" if found else "SELECT NULL AS none WHERE false"
        )
        connection.execute(f"CREATE VIEW {name} AS {body}")
    connection.execute(_evidence_view(out))


def _evidence_view(out: Path) -> str:
    """The evidence tables; nights published before they were written give their rows from the
    discrepancies' ``evidence`` column, without source and hash."""
    tables = _glob(out, "evidence/run_date=*/*.parquet")
    parts = []
    if tables:
        parts.append(
            "SELECT discrepancy_id, run_date, type, source, file, row, row_sha256 "
            f"FROM read_parquet('{tables}', hive_partitioning = true)"
        )
    if _glob(out, "discrepancies/run_date=*/*.parquet"):
        uncovered = (
            f"run_date NOT IN (SELECT DISTINCT run_date FROM read_parquet('{tables}', "
            "hive_partitioning = true))"
            if tables
            else "true"
        )
        parts.append(
            f"""
        SELECT discrepancy_id, run_date, type, NULL::VARCHAR AS source,
               regexp_extract(item, '^(.*):([^:]*)$', 1) AS file,
               TRY_CAST(regexp_extract(item, '^(.*):([^:]*)$', 2) AS BIGINT) AS row,
               NULL::VARCHAR AS row_sha256
        FROM (SELECT discrepancy_id, run_date, type,
                     unnest(string_split(evidence, '; ')) AS item
              FROM discrepancies WHERE evidence IS NOT NULL AND {uncovered})"""
        )
    body = " UNION ALL ".join(parts) or "SELECT NULL AS none WHERE false"
    return f"CREATE VIEW evidence AS {body}"


def _manifest_tables(connection: duckdb.DuckDBPyConnection, out: Path) -> None:
    manifests = read_manifests(out)
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    for manifest in manifests:
        night = manifest["run_date"]
        rows.append({"run_date": night, "manifest": json.dumps(manifest)})
        outcomes = manifest.get("outcomes", {})
        found = manifest.get("discrepancies", {})
        runs.append(
            {
                "run_date": night,
                "rows_read": sum(item.get("read", 0) for item in outcomes.values()),
                "rows_rejected": sum(item.get("rejected", 0) for item in outcomes.values()),
                "open": found.get("open"),
                "new": found.get("new"),
                "resolved": found.get("resolved"),
                "decisions_applied": manifest.get("decisions", {}).get("applied", 0),
                "config_hash": manifest.get("config_hash"),
                "seconds": sum(manifest.get("timings_seconds", {}).values()),
            }
        )
        for source, currencies in manifest.get("control_totals", {}).items():
            for currency, figures in currencies.items():
                totals.append(
                    {
                        "run_date": night,
                        "source": source,
                        "currency": currency,
                        "accepted": figures.get("accepted"),
                        "balanced": figures.get("balanced"),
                        "by_outcome_minor": json.dumps(figures.get("by_outcome_minor", {})),
                    }
                )
    schemas: dict[str, dict[str, pl.DataType]] = {
        "manifests": {"run_date": pl.String(), "manifest": pl.String()},
        "runs": {
            "run_date": pl.String(),
            "rows_read": pl.Int64(),
            "rows_rejected": pl.Int64(),
            "open": pl.Int64(),
            "new": pl.Int64(),
            "resolved": pl.Int64(),
            "decisions_applied": pl.Int64(),
            "config_hash": pl.String(),
            "seconds": pl.Float64(),
        },
        "control_totals": {
            "run_date": pl.String(),
            "source": pl.String(),
            "currency": pl.String(),
            "accepted": pl.String(),
            "balanced": pl.Boolean(),
            "by_outcome_minor": pl.String(),
        },
    }
    for name, data in (("manifests", rows), ("runs", runs), ("control_totals", totals)):
        frame = pl.DataFrame(data, schema=schemas[name], orient="row")
        arrow = frame.with_columns(pl.col("run_date").str.to_date()).to_arrow()
        connection.register(f"{name}_rows", arrow)
        cast = ", manifest::JSON AS manifest" if name == "manifests" else ""
        columns = "* EXCLUDE (manifest)" if name == "manifests" else "*"
        connection.execute(f"CREATE TABLE {name} AS SELECT {columns}{cast} FROM {name}_rows")
        connection.unregister(f"{name}_rows")


@dataclass(frozen=True)
class Session:
    """A read-only session over an archive."""

    connection: duckdb.DuckDBPyConnection

    @classmethod
    def open(cls, out: Path) -> Session:
        if not (out / "manifest").is_dir():
            raise UsageError(f"{out}: no published night to query")
        out = out.resolve()
        connection = duckdb.connect()
        _files_views(connection, out)
        _manifest_tables(connection, out)
        connection.execute(f"SET allowed_directories = ['{out}/']")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET autoinstall_known_extensions = false")
        connection.execute("SET autoload_known_extensions = false")
        connection.execute("SET lock_configuration = true")
        return cls(connection)

    def run(self, sql: str) -> pl.DataFrame:
        """The result of one reading statement; UsageError for anything else."""
        try:
            statements = self.connection.extract_statements(sql)
        except duckdb.Error as error:
            raise UsageError(f"query: {str(error).splitlines()[0]}") from error
        if len(statements) != 1:
            raise UsageError(f"query: give one statement ({len(statements)} given)")
        kind = statements[0].type
        if kind not in READING:
            raise UsageError(
                f"query: only statements that read are allowed (SELECT, WITH, DESCRIBE, "
                f"SUMMARIZE, EXPLAIN); this one is {kind.name}: the archive is read-only"
            )
        try:
            relation = self.connection.sql(sql)
            if relation is None:  # an EXPLAIN prints, it returns no relation
                return pl.DataFrame()
            result = relation.to_arrow_table()
        except duckdb.PermissionException as error:
            raise UsageError(
                "query: it reads or attaches a file outside the archive, which is refused "
                f"({str(error).splitlines()[0]})"
            ) from error
        except duckdb.Error as error:
            raise UsageError(f"query: {str(error).splitlines()[0]}") from error
        frame = pl.from_arrow(result)
        assert isinstance(frame, pl.DataFrame)
        return frame
