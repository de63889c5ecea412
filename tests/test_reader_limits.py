"""The CSV and Parquet reader's limits: stray quotes, oversized records, duplicated columns,
independent record counts, special and far-off timestamps, and files mostly rejected."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_inputs import FAILED_PAYMENT, D, cli, csv_text, manifest_of, write_csv
from walletrecon.config import InputLimits, parse_config
from walletrecon.errors import ConfigError, InputError
from walletrecon.schemas import SOURCES
from walletrecon.sources import files, records
from walletrecon.sources.canonical import Loaded, load_folders
from walletrecon.sources.files import read_raw
from walletrecon.sources.inbox import FILES_SCHEMA, discover
from walletrecon.sources.records import Piece, RecordScan
from walletrecon.sources.validate import validate
from walletrecon.store import connect

BANK_HEADER = "bank_line_id,amount,currency,value_date,reference\n"


def bank_line(number: int, reference: str = "PO-1") -> str:
    return f"B{number},5.00,CNY,2026-11-19,{reference}\n"


def bank_file(tmp_path: Path, text: str, name: str = "bank.csv") -> Path:
    path = tmp_path / name
    data = (BANK_HEADER + text).encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def read_bank(path: Path) -> files.RawFile:
    return read_raw(path, SOURCES["bank"], path.name)


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    return connect("Asia/Shanghai")


# --- quotes and record counts -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bank.csv", "bank.csv.gz"])
def test_a_stray_quote_stops_the_file_naming_the_line_it_opened(tmp_path: Path, name: str) -> None:
    lines = "".join(bank_line(n) for n in range(1, 30))
    lines = lines.replace(",PO-1\nB3,", ',"PO-1\nB3,', 1)  # the quote opens on line 3
    with pytest.raises(InputError, match=rf"{name}: line 3: a quote opens a field that is never"):
        read_bank(bank_file(tmp_path, lines, name))


def test_a_quote_open_across_too_many_lines_stops_the_file(tmp_path: Path) -> None:
    lines = [bank_line(n) for n in range(1, 40)]
    lines[1] = 'B2,5.00,CNY,2026-11-19,"PO-2\n'  # line 3
    lines[30] = 'B31,5.00,CNY,2026-11-19,PO-31"\n'
    with pytest.raises(InputError, match=r"line 3: a quoted field runs over 29 line breaks"):
        read_bank(bank_file(tmp_path, "".join(lines)))


def test_a_quoted_field_may_hold_a_few_line_breaks(tmp_path: Path) -> None:
    text = bank_line(1, '"PO-1\nsecond line\r\nthird, ""quoted"""') + "\n" + bank_line(2)
    raw = read_bank(bank_file(tmp_path, text))
    assert raw.table.column("reference").to_pylist() == [
        'PO-1\nsecond line\r\nthird, "quoted"',
        "PO-1",
    ]
    assert raw.table.column("origin_row").to_pylist() == [1, 2]


def test_empty_lines_and_crlf_endings_are_not_records(tmp_path: Path) -> None:
    text = "\r\n" + bank_line(1).replace("\n", "\r\n") + "\n\n" + bank_line(2).rstrip("\n")
    assert records.scan_records(bank_file(tmp_path, text)).records == 2
    assert read_bank(bank_file(tmp_path, text)).table.num_rows == 2


@pytest.mark.parametrize("name", ["bank.csv", "bank.csv.gz"])
def test_a_file_with_old_mac_line_ends_keeps_every_row(tmp_path: Path, name: str) -> None:
    # CR alone ends each line: the header's line read first holds the whole file.
    text = BANK_HEADER + bank_line(1) + bank_line(2, '"two\rlines"') + bank_line(3)
    data = text.replace("\n", "\r").encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    raw = read_bank(path)
    assert raw.table.num_rows == 3 == records.scan_records(path).records
    assert raw.table.column("reference").to_pylist() == ["PO-1", "two\rlines", "PO-1"]
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(BANK_HEADER.replace("\n", "\r").encode())
    assert read_bank(header_only).table.num_rows == 0


def test_rows_read_must_agree_with_the_independent_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bank_file(tmp_path, bank_line(1) + bank_line(2))
    scan = RecordScan(3, 40, False, (Piece(0, path.stat().st_size, 3),))
    monkeypatch.setattr(files, "scan_records", lambda *_: scan)
    with pytest.raises(InputError, match="read 2 rows but the file holds 3 records"):
        read_bank(path)


def test_malformed_rows_keep_their_data_row_after_a_multi_line_field(tmp_path: Path) -> None:
    text = bank_line(1, '"a\nb"') + "\n" + bank_line(2) + "B3,5.00,CNY\n" + bank_line(4)
    raw = read_bank(bank_file(tmp_path, text))
    assert [number for number, _, _ in raw.malformed] == [3]
    assert raw.table.column("origin_row").to_pylist() == [1, 2, 4]


# --- oversized records ----------------------------------------------------------------------------


def test_a_field_larger_than_the_parse_block_is_read(tmp_path: Path) -> None:
    large = "R" * (3 * files.DEFAULT_BLOCK)
    raw = read_bank(bank_file(tmp_path, bank_line(1) + bank_line(2, large) + bank_line(3)))
    assert raw.table.column("reference").to_pylist() == ["PO-1", large, "PO-1"]


def test_a_record_over_the_limit_stops_the_file_naming_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    text = bank_line(1) + bank_line(2, "R" * 2000) + bank_line(3)
    with pytest.raises(InputError, match=r"line 3: a record of 2\d{3} bytes is larger than"):
        read_bank(bank_file(tmp_path, text))


# --- duplicated columns ---------------------------------------------------------------------------


def test_a_column_named_twice_in_a_csv_header_stops_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(BANK_HEADER.replace("\n", ",amount\n") + "B1,5.00,CNY,2026-11-19,x,6\n")
    with pytest.raises(InputError, match=r"bank.csv: column 'amount' appears more than once"):
        read_bank(path)


def test_a_column_named_twice_in_parquet_stops_the_file(tmp_path: Path) -> None:
    names = ["bank_line_id", "amount", "currency", "value_date", "reference", "currency"]
    table = pa.Table.from_arrays([pa.array(["x"])] * len(names), names=names)
    pq.write_table(table, tmp_path / "bank.parquet")
    with pytest.raises(InputError, match=r"bank.parquet: column 'currency' appears more than"):
        read_bank(tmp_path / "bank.parquet")


# --- timestamps and dates -------------------------------------------------------------------------

SPECIAL = ["infinity", "-infinity", "epoch", "now", "today", "tomorrow", "yesterday", "allballs"]
FAR_OFF = ["10000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T00:00:00Z"]
FAR_OFF += ["2026-11-19T10:00:00 BC", "2026-11-19T10:00:00+99:00", "2026-11-19T10:00:00+14:01"]
FAR_OFF += ["2026-11-19T10:00:00-1500", "2101-01-01T12:00:00+08:00"]
FINE = ["2026-11-19T10:00:00+14:00", "2026-11-19T10:00:00-14:00", "2000-01-01T12:00:00Z"]


def validated_bank_and_receipts(
    connection: duckdb.DuckDBPyConnection, values: list[str], limits: InputLimits
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Receipts with each value as received_at, bank lines with it as value_date: rejected rows."""
    receipts = SOURCES["receipts"]
    table = pa.table(
        {
            **{name: pa.array(["1"] * len(values)) for name in receipts.column_names},
            "currency": pa.array(["CNY"] * len(values)),
            "received_at": pa.array(values),
            "origin_file": pa.array(["r.csv"] * len(values)).dictionary_encode(),
            "origin_row": pa.array(range(1, len(values) + 1), pa.int64()),
        }
    )
    bank = table.rename_columns(
        ["bank_line_id", "merchant_id", "txn_id", "amount", "currency", "value_date", "o", "r"]
    ).select(["bank_line_id", "amount", "currency", "value_date"])
    bank = bank.append_column("reference", pa.array(["x"] * len(values)))
    bank = bank.append_column("origin_file", table.column("origin_file"))
    bank = bank.append_column("origin_row", table.column("origin_row"))
    dates = [value[:10] if value[:1].isdigit() else value for value in values]
    bank = bank.set_column(3, "value_date", pa.array(dates))
    return (
        validate(connection, receipts, table, limits).rejected,
        validate(connection, SOURCES["bank"], bank, limits).rejected,
    )


def test_special_words_are_rejected_rows_not_crashes(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    receipts, bank = validated_bank_and_receipts(connection, SPECIAL, InputLimits())
    assert receipts["origin_row"].to_list() == list(range(1, len(SPECIAL) + 1))
    assert set(receipts["column"]) == {"received_at"}
    assert receipts["reason"][0] == (
        "received_at: not an ISO 8601 timestamp with a year from 2000 to 2100 and an offset "
        "within ±14:00: 'infinity'"
    )
    assert bank["origin_row"].to_list() == list(range(1, len(SPECIAL) + 1))
    assert (
        bank["reason"][2]
        == "value_date: not an ISO 8601 date with a year from 2000 to 2100: 'epoch'"
    )


def test_far_off_years_and_offsets_are_rejected_and_near_ones_accepted(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    receipts, bank = validated_bank_and_receipts(connection, FAR_OFF + FINE, InputLimits())
    assert receipts["origin_row"].to_list() == list(range(1, len(FAR_OFF) + 1))
    # Dates: 10000-01-, 0001-01-01, 1999-12-31 and 2101-01-01 are out of range.
    assert bank["origin_row"].to_list() == [1, 2, 3, 8]


def test_the_year_range_is_configurable(connection: duckdb.DuckDBPyConnection) -> None:
    limits = InputLimits(earliest_year=1990, latest_year=2026)
    receipts, _ = validated_bank_and_receipts(connection, ["1999-12-31T00:00:00Z"], limits)
    assert receipts.is_empty()
    receipts, _ = validated_bank_and_receipts(connection, ["2027-01-01T12:00:00Z"], limits)
    assert receipts["origin_row"].to_list() == [1]


@pytest.mark.parametrize(
    ("limits", "key"),
    [
        ({"earliest_year": 2100, "latest_year": 2000}, "input_limits"),
        ({"reject_share_limit": 1.5}, "input_limits.reject_share_limit"),
        ({"earliest_year": "2000"}, "input_limits.earliest_year"),
    ],
)
def test_bad_input_limits_are_configuration_errors(limits: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        parse_config({"input_limits": limits})


# --- files mostly rejected ------------------------------------------------------------------------


def load_bank(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, text: str, share: float
) -> Loaded:
    folder = tmp_path / "inbox" / D
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bank.csv").write_text(BANK_HEADER + text)
    limits = InputLimits(reject_share_limit=share)
    day = dt.date.fromisoformat(D)
    found = discover(tmp_path / "inbox", day, None, pl.DataFrame(schema=FILES_SCHEMA))
    return load_folders(connection, found.files, limits)


def test_a_file_mostly_rejected_stops_the_night(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = bank_line(1).replace("CNY", "XYZ") + bank_line(2).replace("CNY", "QQQ") + bank_line(3)
    pattern = r"bank.csv: 2 of 3 rows \(66.7%\) rejected, .* currency: unknown ISO 4217 currency"
    with pytest.raises(InputError, match=pattern):
        load_bank(connection, tmp_path, text, 0.5)
    assert load_bank(connection, tmp_path, text, 0.7).warnings == []


def test_a_parquet_file_with_integer_dates_stops_the_night(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox" / D
    folder.mkdir(parents=True)
    columns = {"bank_line_id": ["B1", "B2"], "amount": ["1", "2"], "currency": ["CNY", "CNY"]}
    columns |= {"value_date": [20261119, 20261119], "reference": ["x", "y"]}
    pq.write_table(pa.table(columns), folder / "bank.parquet")
    day = dt.date.fromisoformat(D)
    found = discover(tmp_path / "inbox", day, None, pl.DataFrame(schema=FILES_SCHEMA))
    pattern = r"bank.parquet: 2 of 2 rows \(100.0%\) rejected.*value_date: not an ISO 8601 date"
    with pytest.raises(InputError, match=pattern):
        load_folders(connection, found.files, InputLimits())


def test_a_corrupt_gzip_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv.gz"
    path.write_bytes(gzip.compress((BANK_HEADER + bank_line(1)).encode())[:-12] + b"\x00" * 12)
    with pytest.raises(InputError, match=r"bank\.csv\.gz"):
        read_bank(path)


def test_a_file_wholly_rejected_or_empty_warns(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = bank_line(1).replace("CNY", "XYZ")
    (warning,) = load_bank(connection, tmp_path, text, 1.0).warnings
    assert "bank.csv: every row (1) rejected" in warning
    (warning,) = load_bank(connection, tmp_path, "", 1.0).warnings
    assert "bank.csv holds no rows" in warning


def test_a_header_only_ledger_warns_in_manifest_and_report(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [])
    write_csv(tmp_path / "inbox" / D, "receipts", [])
    result = cli(tmp_path)
    assert result.exit_code == 0, result.output
    warnings = manifest_of(tmp_path / "out")["warnings"]
    assert [warning.split(" ")[0] for warning in warnings] == [
        f"{D}/ledger.csv",
        f"{D}/receipts.csv",
    ]
    report = (tmp_path / "out" / "report" / f"run_date={D}" / "report.html").read_text()
    assert "holds no rows" in report


def test_a_wholly_rejected_ledger_exits_2(tmp_path: Path) -> None:
    bad = {**FAILED_PAYMENT, "currency": "XYZ"}
    (tmp_path / "inbox" / D).mkdir(parents=True)
    (tmp_path / "inbox" / D / "ledger.csv").write_text(csv_text("ledger", [bad, bad]))
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger.csv: 2 of 2 rows (100.0%) rejected" in result.output


def test_a_parquet_file_read_in_pieces_gives_its_rows_and_row_numbers(tmp_path: Path) -> None:
    names = BANK_HEADER.strip().split(",")
    lines = [bank_line(number).strip().split(",") for number in range(1, 51)]
    table = pa.table({name: [line[index] for line in lines] for index, name in enumerate(names)})
    pq.write_table(table, tmp_path / "bank.parquet", row_group_size=7)
    whole = read_bank(tmp_path / "bank.parquet").table
    pieces = [
        raw.table
        for raw in files.read_pieces(
            tmp_path / "bank.parquet", SOURCES["bank"], "bank.parquet", 300
        )
    ]
    assert len(pieces) > 3 and pa.concat_tables(pieces).equals(whole)
    assert whole.column("origin_row").to_pylist() == list(range(1, 51))
    binary = table.set_column(4, "reference", pa.array([b"PO"] * 36 + [b"\xff"] * 14))
    pq.write_table(binary, tmp_path / "bank.parquet", row_group_size=7)
    with pytest.raises(InputError, match="row 37, column 'reference': bytes that are not UTF-8"):
        list(files.read_pieces(tmp_path / "bank.parquet", SOURCES["bank"], "bank", 300))
