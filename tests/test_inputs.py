"""The input faces: bad rows, time zones, file formats, missing files and columns, config, CLI."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from tests.world import DEFAULTS, World, at, day
from walletrecon.cli import main
from walletrecon.config import parse_config
from walletrecon.errors import ConfigError
from walletrecon.pipeline import run_night
from walletrecon.schemas import SOURCES

D = day(0).isoformat()


def manifest_of(out: Path, night: int = 0) -> dict[str, Any]:
    path = out / "manifest" / f"run_date={day(night).isoformat()}" / "manifest.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def rejected_of(out: Path, night: int = 0) -> pl.DataFrame:
    return pl.read_parquet(
        out / "rejected" / f"run_date={day(night).isoformat()}" / "rejected.parquet"
    )


def discrepancies_of(out: Path, night: int = 0) -> set[tuple[str, str]]:
    folder = out / "discrepancies" / f"run_date={day(night).isoformat()}"
    frame = pl.read_parquet(folder / "part-0.parquet")
    return set(zip(frame["type"].to_list(), frame["key"].to_list(), strict=True))


# --- writing inbox files by hand ----------------------------------------------------------------


def filled(source: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    names = SOURCES[source].column_names
    return [{name: {**DEFAULTS[source], **row}.get(name, "") for name in names} for row in rows]


def csv_text(source: str, rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    names = columns or list(SOURCES[source].column_names)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(filled(source, rows))
    return buffer.getvalue()


def write_csv(folder: Path, source: str, rows: list[dict[str, str]], *, bom: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + csv_text(source, rows).encode("utf-8"))
    return path


def write_csv_gz(folder: Path, source: str, rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}.csv.gz"
    path.write_bytes(gzip.compress(csv_text(source, rows).encode("utf-8")))
    return path


def write_parquet(folder: Path, source: str, rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}.parquet"
    names = list(SOURCES[source].column_names)
    pl.DataFrame(filled(source, rows), schema=dict.fromkeys(names, pl.String)).write_parquet(path)
    return path


FAILED_PAYMENT = {
    "entry_id": "E-T1",
    "txn_id": "T1",
    "status": "failed",
    "merchant_id": "M1",
    "created_at": at(0),
}
ITS_RECEIPT = {"receipt_id": "R-T1", "txn_id": "T1", "received_at": at(0, 10, 5)}


#: Tests that reject most rows of a tiny file on purpose allow it.
ALL_REJECTED: dict[str, Any] = {"input_limits": {"reject_share_limit": 1.0}}


def run_day0(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    config = parse_config({"timezone": "Asia/Shanghai", **ALL_REJECTED})
    run_night(day(0), tmp_path / "inbox", out, config)
    return out


# --- bad rows -----------------------------------------------------------------------------------

BAD_ROWS: list[tuple[dict[str, str], str, str]] = [
    ({"amount": "12.3.4"}, "amount", "not a decimal"),
    ({"amount": "10.001"}, "amount", "decimal places"),
    ({"amount": "0.5", "currency": "JPY"}, "amount", "decimal places"),
    ({"currency": "XYZ"}, "currency", "XYZ"),
    ({"created_at": "2026-13-45T99:00:00"}, "created_at", "2026-13-45T99:00:00"),
    ({"account_id": ""}, "account_id", "missing"),
    ({"entry_type": "paymnt"}, "entry_type", "paymnt"),
]


def ledger_with_bad_rows(world: World) -> World:
    world.payment(0, "T0", merchant_id="", gateway_ref="")
    for number, (values, _, _) in enumerate(BAD_ROWS, start=1):
        world.payment(0, f"B{number}", merchant_id="", gateway_ref="", **values)
    return world


def test_bad_rows_are_rejected_with_file_row_column_and_reason(tmp_path: Path) -> None:
    world = ledger_with_bad_rows(World(tmp_path, **ALL_REJECTED))
    world.run(0)
    frame = rejected_of(world.out).sort("origin_row")
    assert frame["origin_file"].to_list() == [f"{D}/ledger.csv"] * len(BAD_ROWS)
    assert frame["origin_row"].to_list() == list(range(2, len(BAD_ROWS) + 2))
    assert frame["column"].to_list() == [column for _, column, _ in BAD_ROWS]
    for reason, (_, _, fragment) in zip(frame["reason"].to_list(), BAD_ROWS, strict=True):
        assert fragment in reason


def test_rejected_rows_are_counted_in_the_manifest(tmp_path: Path) -> None:
    world = ledger_with_bad_rows(World(tmp_path, **ALL_REJECTED))
    world.run(0)
    counts = manifest_of(world.out)["outcomes"]["ledger"]
    assert counts["read"] == len(BAD_ROWS) + 1
    assert counts["rejected"] == len(BAD_ROWS)
    accounted = ("rejected", "redelivered", "matched", "discrepancy", "pending")
    assert counts["read"] == sum(counts[name] for name in accounted)
    (ledger_input,) = [
        item for item in manifest_of(world.out)["inputs"] if "ledger" in item["path"]
    ]
    assert ledger_input["rows_rejected"] == len(BAD_ROWS)


def test_rejected_rows_take_no_part_in_matching(tmp_path: Path) -> None:
    world = World(tmp_path, **ALL_REJECTED)
    world.payment(0, "T1", amount="12.3.4").receive(0, "T1").settle(0, "T1")
    world.run_through(1)
    assert world.breaks(1) == {("missing_in_ledger", "T1")}


def test_negative_settlement_gross_is_rejected(tmp_path: Path) -> None:
    world = World(tmp_path, **ALL_REJECTED).settle(0, "T1", gross_amount="-10.00")
    world.run(0)
    frame = rejected_of(world.out)
    assert frame["column"].to_list() == ["gross_amount"]
    assert frame["source"].to_list() == ["settlement"]
    assert manifest_of(world.out)["outcomes"]["settlement"]["rejected"] == 1


def test_amount_with_trailing_zeros_beyond_the_minor_unit_is_accepted(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", amount="10.000", gateway_ref="").receive(0, "T1")
    world.run(0)
    assert rejected_of(world.out).height == 0
    assert world.breaks(0) == set()


# --- time zones ---------------------------------------------------------------------------------


def test_timestamp_without_offset_is_read_in_the_configured_zone(tmp_path: Path) -> None:
    # 20:00 in Shanghai is still day 0; read as UTC it would be 04:00 on day 1.
    world = World(tmp_path).payment(
        0, "T1", gateway_ref="", created_at="2026-11-20T20:00:00", posted_at="2026-11-20T20:01:00"
    )
    world.run_through(1)
    assert world.breaks(1) == {("payment_not_received", "T1")}


def test_timestamp_without_offset_sets_the_sync_delay_in_the_configured_zone(
    tmp_path: Path,
) -> None:
    # Created 03:00 Shanghai, received 04:00 next day: 25 h (read as UTC it would be 17 h).
    world = World(tmp_path).payment(0, "T1", gateway_ref="", created_at="2026-11-20T03:00:00")
    world.receive(1, "T1", received_at=at(1, 4))
    world.run_through(1)
    assert world.breaks(1) == {("sync_delay", "T1")}


def test_utc_z_timestamp_is_placed_on_the_local_business_day(tmp_path: Path) -> None:
    # 17:00Z is 01:00 on day 1 in Shanghai: the receipt window of a day-1 item ends on day 2.
    world = World(tmp_path).payment(
        0, "T1", gateway_ref="", created_at="2026-11-20T17:00:00Z", posted_at=""
    )
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("payment_not_received", "T1")}


# --- file formats -------------------------------------------------------------------------------


def test_csv_with_bom_loads(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [FAILED_PAYMENT], bom=True)
    write_csv(folder, "receipts", [ITS_RECEIPT], bom=True)
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}
    assert rejected_of(out).height == 0


def test_gzipped_csv_loads(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv_gz(folder, "ledger", [FAILED_PAYMENT])
    write_csv_gz(folder, "receipts", [ITS_RECEIPT])
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}
    paths = {item["path"] for item in manifest_of(out)["inputs"]}
    assert paths == {f"{D}/ledger.csv.gz", f"{D}/receipts.csv.gz"}


def test_parquet_loads(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_parquet(folder, "ledger", [FAILED_PAYMENT])
    write_parquet(folder, "receipts", [ITS_RECEIPT])
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}
    assert manifest_of(out)["outcomes"]["ledger"]["read"] == 1


def test_mixed_formats_in_one_folder_load(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv_gz(folder, "ledger", [FAILED_PAYMENT])
    write_parquet(folder, "receipts", [ITS_RECEIPT])
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}


def test_parquet_with_float_amounts_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    rows = filled("ledger", [FAILED_PAYMENT])
    frame = pl.DataFrame(rows).with_columns(pl.col("amount").cast(pl.Float64))
    folder.mkdir(parents=True)
    frame.write_parquet(folder / "ledger.parquet")
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "amount" in result.output


def test_parquet_columns_of_no_source_are_ignored_whatever_their_type(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_parquet(folder, "ledger", [FAILED_PAYMENT])
    frame = pl.DataFrame(filled("receipts", [ITS_RECEIPT])).with_columns(
        pl.lit(["a", "b"]).alias("tags"), pl.struct(pl.lit(1).alias("x")).alias("extra")
    )
    frame.write_parquet(folder / "receipts.parquet")
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}
    assert manifest_of(out)["outcomes"]["receipts"]["read"] == 1


def test_parquet_bytes_that_are_not_utf8_stop_the_night_naming_row_and_column(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "inbox" / D
    write_parquet(folder, "ledger", [FAILED_PAYMENT])
    names = list(SOURCES["receipts"].column_names)
    rows = filled("receipts", [ITS_RECEIPT, {**ITS_RECEIPT, "receipt_id": "R2"}])
    table = pa.table({name: [row[name] for row in rows] for name in names})
    ids = pa.array([b"R1", b"R\xff\xfe2"], pa.binary())
    table = table.set_column(names.index("receipt_id"), "receipt_id", ids)
    pq.write_table(table, folder / "receipts.parquet")
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "receipts.parquet: row 2, column 'receipt_id': bytes that are not UTF-8" in result.output


@pytest.mark.parametrize("extra", ["", ",extra"], ids=["well-formed row", "malformed row"])
@pytest.mark.parametrize("name", ["ledger.csv", "ledger.csv.gz"])
def test_csv_bytes_that_are_not_utf8_stop_the_night_naming_the_line(
    tmp_path: Path, name: str, extra: str
) -> None:
    folder = tmp_path / "inbox" / D
    folder.mkdir(parents=True)
    text = csv_text("ledger", [FAILED_PAYMENT, {**FAILED_PAYMENT, "entry_id": "E-2"}])
    data = text.replace("E-2", "E-\udcff2").rstrip("\n").encode("utf-8", "surrogateescape")
    data += extra.encode() + b"\n"
    if name.endswith(".gz"):
        data = gzip.compress(data)
    (folder / name).write_bytes(data)
    result = cli(tmp_path)
    assert result.exit_code == 2
    expected = f"{name}: cannot read as UTF-8 CSV: line 3: byte 0xff is not UTF-8"
    assert expected in result.output


def test_a_nested_parquet_column_of_a_source_stops_the_night_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_parquet(folder, "receipts", [ITS_RECEIPT])
    frame = pl.DataFrame(filled("ledger", [FAILED_PAYMENT])).with_columns(
        pl.concat_list("merchant_id").alias("merchant_id")
    )
    frame.write_parquet(folder / "ledger.parquet")
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "column 'merchant_id' is large_list" in result.output
    assert "expected text or a number" in result.output


# --- the command --------------------------------------------------------------------------------


def cli(tmp_path: Path, *extra: str, night: int = 0) -> Result:
    args = ["run", "--date", day(night).isoformat(), "--inbox", str(tmp_path / "inbox")]
    return CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out"), *extra])


def test_cli_run_completes_with_exit_0_and_publishes(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    write_csv(tmp_path / "inbox" / D, "receipts", [ITS_RECEIPT])
    result = cli(tmp_path)
    assert result.exit_code == 0, result.output
    assert discrepancies_of(tmp_path / "out") == {("status_mismatch", "T1")}


def test_file_missing_a_required_column_exits_2_naming_file_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    folder.mkdir(parents=True)
    columns = [name for name in SOURCES["ledger"].column_names if name != "currency"]
    (folder / "ledger.csv").write_text(csv_text("ledger", [FAILED_PAYMENT], columns))
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger.csv" in result.output
    assert "currency" in result.output
    out = tmp_path / "out"
    for kind in ("discrepancies", "tickets", "manifest", "report", "rejected"):
        assert not (out / kind / f"run_date={D}").exists()


def test_optional_source_missing_a_column_also_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [FAILED_PAYMENT])
    columns = [name for name in SOURCES["receipts"].column_names if name != "received_at"]
    (folder / "receipts.csv").write_text(csv_text("receipts", [ITS_RECEIPT], columns))
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "receipts.csv" in result.output
    assert "received_at" in result.output


def test_failed_rerun_leaves_the_previous_outputs_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [FAILED_PAYMENT])
    write_csv(folder, "receipts", [ITS_RECEIPT])
    assert cli(tmp_path).exit_code == 0
    manifest_path = tmp_path / "out" / "manifest" / f"run_date={D}" / "manifest.json"
    before = manifest_path.read_bytes()
    columns = [name for name in SOURCES["ledger"].column_names if name != "amount"]
    (folder / "ledger.csv").write_text(csv_text("ledger", [FAILED_PAYMENT], columns))
    assert cli(tmp_path).exit_code == 2
    assert manifest_path.read_bytes() == before
    assert discrepancies_of(tmp_path / "out") == {("status_mismatch", "T1")}


def test_missing_ledger_file_exits_2(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "receipts", [ITS_RECEIPT])
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger" in result.output
    assert not (tmp_path / "out" / "manifest" / f"run_date={D}").exists()


def test_a_folder_named_like_the_ledger_is_said_to_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "inbox" / D / "ledger.csv").mkdir(parents=True)
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger.csv: a folder, not a file" in result.output


def test_missing_date_folder_exits_2(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    result = cli(tmp_path, night=1)
    assert result.exit_code == 2


def test_missing_optional_sources_are_no_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    result = cli(tmp_path)
    assert result.exit_code == 0, result.output
    assert set(manifest_of(tmp_path / "out")["outcomes"]) == {"ledger"}


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[windows]\nsettlment_days = 3\n", "windows.settlment_days"),
        ("surprise = 1\n", "surprise"),
        ("[tolerance]\namount = 0.5\n", "tolerance.amount"),
        ('[fees.adyen]\npercent = "1.5"\n[fees.adyen.fixed]\nCNY = 2.0\n', "CNY"),
        ('timezone = "Mars/Olympus_Mons"\n', "timezone"),
        ("[windows]\nsettlement_days = -1\n", "windows.settlement_days"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    config = tmp_path / "walletrecon.toml"
    config.write_text(toml)
    result = cli(tmp_path, "--config", str(config))
    assert result.exit_code == 2
    assert key in result.output
    assert not (tmp_path / "out" / "manifest" / f"run_date={D}").exists()


def test_good_config_file_is_applied(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [{**FAILED_PAYMENT, "status": "succeeded", "posted_at": at(0)}])
    write_csv(folder, "receipts", [{**ITS_RECEIPT, "amount": "9.90"}])
    config = tmp_path / "walletrecon.toml"
    config.write_text('timezone = "Asia/Shanghai"\n[tolerance]\namount = "0.10"\n')
    assert cli(tmp_path, "--config", str(config)).exit_code == 0
    assert discrepancies_of(tmp_path / "out") == set()
    assert cli(tmp_path).exit_code == 0
    assert discrepancies_of(tmp_path / "out") == {("amount_mismatch", "T1")}


def test_fail_on_high_exits_1_when_a_high_break_is_open(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [{**FAILED_PAYMENT, "status": "succeeded", "posted_at": at(0)}])
    write_csv(folder, "receipts", [{**ITS_RECEIPT, "amount": "9.00"}])
    result = cli(tmp_path, "--fail-on", "high")
    assert result.exit_code == 1
    assert discrepancies_of(tmp_path / "out") == {("amount_mismatch", "T1")}
    assert cli(tmp_path, "--fail-on", "critical").exit_code == 0
    assert cli(tmp_path).exit_code == 0


def test_fail_on_high_exits_0_when_only_lower_breaks_are_open(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [{**FAILED_PAYMENT, "status": "succeeded", "posted_at": at(0)}])
    write_csv(folder, "receipts", [{**ITS_RECEIPT, "received_at": at(1, 11)}])
    result = cli(tmp_path, "--fail-on", "high")
    assert result.exit_code == 0, result.output
    assert discrepancies_of(tmp_path / "out") == {("sync_delay", "T1")}
    assert cli(tmp_path, "--fail-on", "low").exit_code == 1


def test_fail_on_high_exits_0_without_breaks(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [{**FAILED_PAYMENT, "status": "succeeded", "posted_at": at(0)}])
    write_csv(folder, "receipts", [ITS_RECEIPT])
    result = cli(tmp_path, "--fail-on", "high")
    assert result.exit_code == 0, result.output
    assert discrepancies_of(tmp_path / "out") == set()


# --- CSV details and catch-up runs --------------------------------------------------------------


def test_quoted_fields_and_malformed_rows_keep_data_row_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [])
    good = {"bank_line_id": "B1", "amount": "5.00", "value_date": D, "reference": 'PO-1, "x"\nmore'}
    text = csv_text("bank", [good])
    text += f"B2,5.00,CNY,{D},x,EXTRA\n" + f"B3,5.0.0,CNY,{D},y\n"
    (folder / "bank.csv").write_text(text)
    out = run_day0(tmp_path)
    frame = rejected_of(out).sort("origin_row")
    assert frame["origin_row"].to_list() == [2, 3]
    assert frame["column"].to_list() == [None, "amount"]
    assert "fields" in frame["reason"][0]
    counts = manifest_of(out)["outcomes"]["bank"]
    assert (counts["read"], counts["rejected"], counts["pending"]) == (3, 2, 1)


def test_header_names_with_surrounding_spaces_are_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [FAILED_PAYMENT])
    text = csv_text("receipts", [ITS_RECEIPT])
    header, rest = text.split("\n", 1)
    (folder / "receipts.csv").write_text(", ".join(header.split(",")) + "\n" + rest)
    out = run_day0(tmp_path)
    assert discrepancies_of(out) == {("status_mismatch", "T1")}


def test_first_run_sees_every_earlier_dated_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    sent = {**FAILED_PAYMENT, "status": "succeeded", "posted_at": at(0), "gateway_ref": "GW-T1"}
    write_csv(inbox / D, "ledger", [sent])
    write_csv(inbox / D, "receipts", [ITS_RECEIPT])
    write_csv(inbox / day(1).isoformat(), "ledger", [])
    write_csv(inbox / day(2).isoformat(), "ledger", [])
    out = tmp_path / "out"
    run_night(day(2), inbox, out, parse_config({"timezone": "Asia/Shanghai"}))
    assert discrepancies_of(out, 2) == {("missing_in_settlement", "T1")}
    paths = {item["path"] for item in manifest_of(out, 2)["inputs"]}
    assert f"{D}/ledger.csv" in paths


def test_repeat_across_folders_of_one_run_is_a_redelivery(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / D, "ledger", [FAILED_PAYMENT])
    write_csv(inbox / day(1).isoformat(), "ledger", [FAILED_PAYMENT])
    out = tmp_path / "out"
    run_night(day(1), inbox, out, parse_config({"timezone": "Asia/Shanghai"}))
    counts = manifest_of(out, 1)["outcomes"]["ledger"]
    assert (counts["read"], counts["redelivered"], counts["rejected"]) == (2, 1, 0)
    assert discrepancies_of(out, 1) == set()


# --- more usage and input errors ----------------------------------------------------------------


def test_file_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    path.write_bytes(path.read_bytes().replace(b"M1", b"M\xe91"))
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger.csv" in result.output


def test_corrupt_parquet_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    folder.mkdir(parents=True)
    (folder / "ledger.parquet").write_bytes(b"PAR1 this is not parquet")
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger.parquet" in result.output


def test_two_files_for_one_source_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / D
    write_csv(folder, "ledger", [FAILED_PAYMENT])
    write_parquet(folder, "ledger", [FAILED_PAYMENT])
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert "ledger" in result.output


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    result = cli(tmp_path, "--config", str(tmp_path / "absent.toml"))
    assert result.exit_code == 2
    assert "absent.toml" in result.output


def test_bad_run_date_exits_2(tmp_path: Path) -> None:
    write_csv(tmp_path / "inbox" / D, "ledger", [FAILED_PAYMENT])
    args = ["run", "--date", "2026-02-30", "--inbox", str(tmp_path / "inbox")]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "2026-02-30" in result.output


def test_missing_inbox_folder_exits_2(tmp_path: Path) -> None:
    result = cli(tmp_path)
    assert result.exit_code == 2
    assert not (tmp_path / "out" / "manifest").exists()


def test_header_only_file_without_final_newline_is_an_empty_source(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.run(0)
    (world.inbox / day(0).isoformat() / "balances.csv").write_text(
        "account_id,currency,as_of,balance"
    )
    world.run(0)
    assert world.breaks(0) == set()


def test_spaces_around_values_are_trimmed(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", entry_type=" payment ").receive(0, "T1")
    world.settle(0, "T1", gross_amount="10.00 ", net_amount=" 10.00")
    world.run(0)
    assert world.breaks(0) == set()


def test_a_boolean_window_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"windows\.settlement_days"):
        parse_config({"windows": {"settlement_days": True}})
