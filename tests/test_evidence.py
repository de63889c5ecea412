"""The evidence table: every discrepancy's input rows, with each row's SHA-256 in the archive."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from tests.world import World, day
from walletrecon.cli import main
from walletrecon.evidence import (
    EVIDENCE_SCHEMA,
    InputFile,
    evidence_table,
    items,
    row_hashes,
)
from walletrecon.partitioned import read_published


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_canonical_csv_row_is_its_record_quoted_line_breaks_and_all(tmp_path: Path) -> None:
    data = b'id,note\r\nB1,"two\r\nlines"\r\n\r\nB2,plain\r\n'
    file = InputFile("bank", "canonical", write(tmp_path / "bank.csv", data))
    assert row_hashes(file, [1, 2, 3]) == {
        1: sha(b'B1,"two\r\nlines"'),
        2: sha(b"B2,plain"),
    }


def test_a_compressed_csv_row_is_the_decompressed_record(tmp_path: Path) -> None:
    data = b"id,amount\nE1,1.00\nE2,2.00\n"
    file = InputFile("ledger", "canonical", write(tmp_path / "ledger.csv.gz", gzip.compress(data)))
    assert row_hashes(file, [2]) == {2: sha(b"E2,2.00")}


def test_another_text_format_row_is_the_physical_line(tmp_path: Path) -> None:
    data = b":20:STMT\n:61:2611160C12,50NTRFREF1\n:86:a text\n"
    file = InputFile("bank", "mt940", write(tmp_path / "s.sta", data))
    assert row_hashes(file, [2, 3, 9]) == {
        2: sha(b":61:2611160C12,50NTRFREF1"),
        3: sha(b":86:a text"),
    }


def test_a_camt_row_is_the_entry_element_that_starts_on_the_line(tmp_path: Path) -> None:
    entry = b"<c:Ntry>\n  <c:Amt>1.00</c:Amt>\n</c:Ntry>"
    data = b"<c:Document>\n<c:Stmt>\n" + entry + b"\n<c:Ntry><c:Amt>2</c:Amt></c:Ntry>\n</c:Stmt>"
    file = InputFile("bank", "camt053", write(tmp_path / "s.xml", data))
    # Line 1 holds no entry: the entry of a later line is not taken for it.
    assert row_hashes(file, [3, 6, 1]) == {
        3: sha(entry),
        6: sha(b"<c:Ntry><c:Amt>2</c:Amt></c:Ntry>"),
    }


def test_a_parquet_row_is_its_values_and_a_sheet_row_has_no_hash(tmp_path: Path) -> None:
    path = tmp_path / "ledger.parquet"
    table = {"entry_id": ["E1", "E2"], "tags": [["a"], ["b"]], "amount": ["1.00", None]}
    pq.write_table(pa.table(table), path)
    # The column of no source (a list) is left out, as the night leaves it out.
    assert row_hashes(InputFile("ledger", "canonical", path), [2, 3]) == {2: sha(b"E2\x1f")}
    sheet = InputFile("receipts", "mapped", write(tmp_path / "r.xlsx", b"PK"))
    assert row_hashes(sheet, [2]) == {}


def discrepancy(identity: str, evidence: str | None) -> dict[str, object]:
    return {
        "discrepancy_id": identity,
        "run_date": day(1),
        "type": "duplicate",
        "evidence": evidence,
    }


def test_evidence_rows_name_each_item_and_keep_yesterdays_hashes(tmp_path: Path) -> None:
    ledger = write(tmp_path / "ledger.csv", b"id\nE1\nE2\nE3\n")
    files = {"n/ledger.csv": InputFile("ledger", "canonical", ledger)}
    rows = pl.DataFrame(
        [
            discrepancy("D1", "n/ledger.csv:1; n/ledger.csv:3"),
            discrepancy("D2", "n/ledger.csv:2"),
            discrepancy("D3", None),
            discrepancy("D4", "gone.csv:4"),
        ]
    )
    assert items(rows).height == 4
    previous = pl.DataFrame(
        [
            {
                "discrepancy_id": "D2",
                "run_date": day(0),
                "type": "duplicate",
                "source": "ledger",
                "file": "n/ledger.csv",
                "row": 2,
                "row_sha256": "yesterday",
            },
        ],
        schema=EVIDENCE_SCHEMA,
    )
    table = evidence_table(rows, files, previous)
    assert table.schema == pl.Schema(EVIDENCE_SCHEMA)
    assert table.select("discrepancy_id", "source", "file", "row", "row_sha256").rows() == [
        ("D1", "ledger", "n/ledger.csv", 1, sha(b"E1")),
        ("D1", "ledger", "n/ledger.csv", 3, sha(b"E3")),
        # Carried from the previous night's table: the file is not read again for it.
        ("D2", "ledger", "n/ledger.csv", 2, "yesterday"),
        # A file no night read (or no longer archived) keeps its row, without source or hash.
        ("D4", None, "gone.csv", 4, None),
    ]


def test_a_night_publishes_the_evidence_of_every_break_with_the_archived_rows_hashes(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.payment(0, "T1", amount="25.00").settle(0, "T1", amount="25.00")
    world.payment(0, "T2").settle(0, "T2").receive(0, "T2", amount="9.00")
    world.run_through(2)
    for night in (1, 2):
        folder = world.out / "evidence" / f"run_date={day(night).isoformat()}"
        table = read_published(folder / "part-0.parquet")
        breaks = world.open(night)
        assert set(table["discrepancy_id"]) == set(breaks["discrepancy_id"])
        expected = items(breaks)
        assert table.height == expected.height > 0
        for source, file, row, digest in table.select(
            "source", "file", "row", "row_sha256"
        ).iter_rows():
            read_on = dt.date.fromisoformat(file.split("/")[0])
            archived = world.out / "inputs" / f"run_date={read_on}" / file
            lines = archived.read_bytes().splitlines()
            assert source == file.split("/")[1].removesuffix(".csv")
            assert digest == sha(lines[row]), (file, row)  # row 1 is the line after the header


def test_the_evidence_view_takes_a_night_without_a_table_from_its_evidence_column(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.payment(0, "T1", amount="25.00").settle(0, "T1", amount="25.00")
    world.run_through(2)
    # Night 1 as published before the evidence table existed.
    shutil.rmtree(world.out / "evidence" / f"run_date={day(1).isoformat()}")
    sql = "SELECT run_date, count(*), count(source), count(row_sha256) FROM evidence GROUP BY 1"
    result = CliRunner().invoke(main, ["query", sql, "--out", str(world.out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = sorted(line.split(",") for line in result.output.splitlines()[1:])
    assert rows == [[str(day(1)), "1", "0", "0"], [str(day(2)), "1", "1", "1"]]
