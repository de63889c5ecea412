"""Which files of an inbox folder feed which source through which profile; the profile's
output through validation and control totals; the ``convert`` command."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

from tests.world import World, day
from walletrecon.cli import main
from walletrecon.config import InputLimits, parse_config
from walletrecon.errors import ConfigError, InputError
from walletrecon.sources import profiles
from walletrecon.sources.inputs import Delivery, InputSpec, deliveries
from walletrecon.sources.profiles import (
    ControlLine,
    ControlTotal,
    ProfileResult,
    Rejection,
)
from walletrecon.sources.reading import read_delivery
from walletrecon.store import connect

DAY = dt.date(2026, 11, 20)
BANK_CSV = (
    "bank_line_id,amount,currency,value_date,reference\n"
    "B1,10.00,EUR,2026-11-20,PO-1\n"
    "B2,-2.5,EUR,2026-11-20,PO-2\n"
)


def spec(**values: object) -> InputSpec:
    return InputSpec.model_validate({"source": "bank", "pattern": "*.sta", **values})


def touch(folder: Path, name: str, text: str = "x") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- discovery -----------------------------------------------------------------------------------


def test_canonical_names_feed_their_sources_in_source_order(tmp_path: Path) -> None:
    touch(tmp_path, "bank.csv")
    touch(tmp_path, "ledger.csv.gz")
    found, warnings = deliveries(tmp_path, DAY, ())
    assert [(item.spec.source, item.profile, item.display) for item in found] == [
        ("ledger", "canonical", "2026-11-20/ledger.csv.gz"),
        ("bank", "canonical", "2026-11-20/bank.csv"),
    ]
    assert warnings == []


def test_a_pattern_names_files_in_sub_folders_for_its_profile(tmp_path: Path) -> None:
    touch(tmp_path, "ledger.csv")
    touch(tmp_path, "banks/a.sta")
    touch(tmp_path, "banks/b.sta")
    found, _ = deliveries(tmp_path, DAY, (spec(profile="mt940", pattern="banks/*.sta"),))
    named = [(item.display, item.profile, item.spec.display) for item in found]
    assert named[1:] == [
        ("2026-11-20/banks/a.sta", "mt940", "2026-11-20/banks/a.sta"),
        ("2026-11-20/banks/b.sta", "mt940", "2026-11-20/banks/b.sta"),
    ]


def test_a_file_no_input_names_is_an_error_not_skipped(tmp_path: Path) -> None:
    touch(tmp_path, "ledger.csv")
    touch(tmp_path, "statement.sta")
    with pytest.raises(InputError, match=r"2026-11-20/statement.sta: no \[\[inputs\]\] table"):
        deliveries(tmp_path, DAY, ())


def test_a_canonical_name_in_a_sub_folder_is_not_canonical(tmp_path: Path) -> None:
    touch(tmp_path, "old/ledger.csv")
    with pytest.raises(InputError, match=r"old/ledger\.csv"):
        deliveries(tmp_path, DAY, ())


def test_hidden_files_are_passed_over_with_a_warning(tmp_path: Path) -> None:
    touch(tmp_path, "ledger.csv")
    touch(tmp_path, ".ledger.csv.part")
    found, warnings = deliveries(tmp_path, DAY, ())
    assert len(found) == 1
    assert warnings == ["2026-11-20/.ledger.csv.part: hidden file passed over"]


def test_a_file_two_inputs_name_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path, "a.sta")
    tables = (spec(profile="mt940"), spec(profile="bai2", pattern="a.*"))
    with pytest.raises(InputError, match="named by two"):
        deliveries(tmp_path, DAY, tables)


def test_two_canonical_files_of_one_source_are_an_error(tmp_path: Path) -> None:
    touch(tmp_path, "bank.csv")
    touch(tmp_path, "bank.parquet")
    with pytest.raises(InputError, match="more than one file for source 'bank'"):
        deliveries(tmp_path, DAY, ())


# --- the [[inputs]] tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"profile": "swift"}, "unknown profile 'swift'"),
        ({"profile": "adyen"}, "profile 'adyen' cannot feed source 'bank'"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"pattern": "/etc/*"}, "a pattern is a glob under the inbox"),
        ({"pattern": "../x/*"}, "a pattern is a glob under the inbox"),
        ({"control_totals": "ignore"}, "inputs.0.control_totals"),
        ({"profile": "mt940", "columns": {"amount": "Betrag"}}, "only for the 'mapped'"),
        ({"profile": "mapped", "columns": {"colour": "x"}}, "'colour' is not a column of bank"),
        ({"sauce": "x"}, "inputs.0.sauce: unknown key"),
    ],
)
def test_a_bad_inputs_table_is_a_configuration_error(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"inputs": [{"source": "bank", "pattern": "*.sta", **table}]})


def test_options_are_text_whatever_toml_gave() -> None:
    table = spec(profile="mapped", options={"skip_header_lines": 2, "strict": True, "x": "y"})
    assert table.options == {"skip_header_lines": "2", "strict": "true", "x": "y"}


# --- a profile's output through validation and control totals ------------------------------------


def fake_profile(monkeypatch: pytest.MonkeyPatch, result: ProfileResult) -> None:
    """Register a profile ``fake`` (source bank) that returns ``result`` for any file."""
    module = types.ModuleType("walletrecon.sources.profiles.fake")
    module.read = lambda path, spec: result  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(profiles.PROFILES, "fake", ("bank",))


def bank_rows(*rows: tuple[str, str, int]) -> pa.Table:
    return pa.table(
        {
            "bank_line_id": [row[0] for row in rows],
            "amount": [row[1] for row in rows],
            "currency": ["EUR"] * len(rows),
            "value_date": ["2026-11-20"] * len(rows),
            "reference": ["PO-1"] * len(rows),
            "origin_row": pa.array([row[2] for row in rows], pa.int64()),
            "origin_element": pa.nulls(len(rows), pa.string()),
        }
    )


def delivered(tmp_path: Path, control_totals: str = "enforce") -> Delivery:
    path = touch(tmp_path, "s.sta")
    table = spec(profile="fake", control_totals=control_totals)
    return Delivery(DAY, path, "2026-11-20/s.sta", "fake", table.spec("2026-11-20/s.sta"))


def result_with(totals: list[ControlTotal], records: int = 4) -> ProfileResult:
    return ProfileResult(
        source="bank",
        rows=bank_rows(("L1", "10.00", 3), ("L2", "1.001", 5)),
        rejected=[
            Rejection(row=7, reason="amount: ',,' is not an amount", raw=":61:x", element=None)
        ],
        control=[ControlLine(row=2, kind="opening balance", raw=":60F:C0")],
        totals=totals,
        records=records,
    )


def test_profile_rows_are_validated_and_keep_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_profile(monkeypatch, result_with([]))
    with connect("UTC") as connection:
        read = read_delivery(connection, delivered(tmp_path), InputLimits(reject_share_limit=1))
    assert read.accepted.select("bank_line_id", "amount", "origin_row").rows() == [("L1", 1000, 3)]
    assert sorted(read.rejected.select("origin_row", "column").rows()) == [(5, "amount"), (7, None)]
    assert (read.rows_read, read.control) == (4, 1)


def test_a_short_count_of_records_stops_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_profile(monkeypatch, result_with([], records=5))
    with connect("UTC") as connection, pytest.raises(InputError, match="4 records of 5"):
        read_delivery(connection, delivered(tmp_path))


ALL_REJECTED_ALLOWED = InputLimits(reject_share_limit=1)
BROKEN = ControlTotal("statement 7", "closing balance", "110.00", "109.00", False, "EUR")
UNCHECKED = ControlTotal("statement 8", "closing balance", "", "", None, note="no :62F:")


def test_broken_control_totals_stop_the_file_naming_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_profile(monkeypatch, result_with([BROKEN]))
    with (
        connect("UTC") as connection,
        pytest.raises(
            InputError, match=r"statement 7: closing balance: expected 110\.00, found 109"
        ),
    ):
        read_delivery(connection, delivered(tmp_path))


def test_with_warn_broken_and_unchecked_totals_are_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_profile(monkeypatch, result_with([BROKEN, UNCHECKED]))
    with connect("UTC") as connection:
        read = read_delivery(connection, delivered(tmp_path, "warn"), ALL_REJECTED_ALLOWED)
    assert len(read.warnings) == 2
    assert "statement 8: closing balance could not be checked: no :62F:" in read.warnings[1]


# --- convert -----------------------------------------------------------------------------------


def test_convert_prints_canonical_rows_and_reports_rejections(tmp_path: Path) -> None:
    path = touch(tmp_path, "bank.csv", BANK_CSV + "B3,12.3.4,EUR,2026-11-20,PO-3\n")
    result = CliRunner().invoke(
        main, ["convert", str(path), "--profile", "canonical", "--source", "bank"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == BANK_CSV
    assert "bank.csv: 3 records: 2 rows, 1 rejected, 0 control" in result.stderr
    assert "rejected: line 3, column amount" in result.stderr


def test_convert_writes_rows_and_rejections_beside_them(tmp_path: Path) -> None:
    path = touch(tmp_path, "bank.csv", BANK_CSV + "B3,1,EUR,someday,PO-3\n")
    out = tmp_path / "out.csv"
    args = ["convert", str(path), "--profile", "canonical", "--source", "bank", "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert out.read_text(encoding="utf-8") == BANK_CSV
    assert "value_date" in (tmp_path / "out.rejected.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "canonical"], "feeds several sources: give --source"),
        (["--profile", "nope", "--source", "bank"], "unknown profile 'nope'"),
        (["--profile", "canonical", "--source", "bank", "--option", "x"], "expected KEY=VALUE"),
        (["--profile", "canonical", "--source", "bank", "--out", "x.txt"], "expected a .csv"),
    ],
)
def test_convert_refuses_bad_calls_with_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = touch(tmp_path, "bank.csv", BANK_CSV)
    result = CliRunner().invoke(main, ["convert", str(path), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_convert_of_a_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["convert", str(tmp_path / "no.csv"), "--profile", "canonical", "--source", "bank"]
    )
    assert (result.exit_code, "no such file" in result.stderr) == (2, True)


# --- a night fed by a profile ------------------------------------------------------------------


def test_a_night_counts_a_profiles_control_lines_and_records_its_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = ControlTotal("statement 7", "closing balance", "8.00", "8.00", True, "EUR")
    fake_profile(monkeypatch, result_with([checked]))
    inputs = [{"source": "bank", "profile": "fake", "pattern": "bank/*.sta"}]
    world = World(tmp_path, inputs=inputs, input_limits={"reject_share_limit": 1}).payment(0, "T1")
    touch(world.inbox / day(0).isoformat(), "bank/statement.sta")
    world.run(0)
    manifest = json.loads(
        (world.out / "manifest" / f"run_date={day(0)}" / "manifest.json").read_text("utf-8")
    )
    bank = manifest["outcomes"]["bank"]
    assert (bank["read"], bank["control"], bank["rejected"], bank["balanced"]) == (4, 1, 2, True)
    (record,) = [item for item in manifest["inputs"] if item["source"] == "bank"]
    assert (record["path"], record["profile"], record["control"]) == (
        f"{day(0)}/bank/statement.sta",
        "fake",
        1,
    )
    assert record["checks"][0]["holds"] is True
    report = (world.out / "report" / f"run_date={day(0)}" / "report.html").read_text("utf-8")
    assert "statement 7: closing balance holds" in report


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"profile": "mt940", "options": {"colour": "red"}}, "'colour' is not an option of mt940"),
        ({"profile": "camt", "options": {"status": "BOOK"}}, "'status' is not an option of camt"),
        ({"profile": "canonical", "encoding": "latin-1"}, "the canonical profile reads UTF-8"),
    ],
)
def test_unknown_options_and_a_non_utf8_canonical_file_are_configuration_errors(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"inputs": [{"source": "bank", "pattern": "*.x", **table}]})


def test_known_options_pass() -> None:
    assert spec(profile="camt", options={"statuses": "BOOK,INFO"}).options == {
        "statuses": "BOOK,INFO"
    }


def test_convert_into_a_missing_folder_is_exit_2(tmp_path: Path) -> None:
    path = touch(tmp_path, "bank.csv", BANK_CSV)
    out = tmp_path / "nowhere" / "out.csv"
    args = ["convert", str(path), "--profile", "canonical", "--source", "bank", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, "does not exist" in result.stderr) == (2, True)


def test_convert_passes_unknown_options_to_the_configuration_check(tmp_path: Path) -> None:
    path = touch(tmp_path, "bank.csv", BANK_CSV)
    args = ["convert", str(path), "--profile", "canonical", "--source", "bank", "--option", "x=1"]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, "'x' is not an option of canonical" in result.stderr) == (2, True)


def test_an_element_path_leads_a_reason_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    element = "Document/BkToCstmrStmt/Stmt[1]/Ntry[3]"
    result = result_with([], records=5)
    result.rejected = [
        Rejection(row=7, reason=f"{element}/Amt: '1,5' is not an amount", raw="x", element=element),
        Rejection(row=9, reason="no amount", raw="y", element=element),
    ]
    fake_profile(monkeypatch, result)
    with connect("UTC") as connection:
        read = read_delivery(connection, delivered(tmp_path), ALL_REJECTED_ALLOWED)
    reasons = read.rejected.filter(pl.col("origin_row") >= 7).get_column("reason").to_list()
    assert reasons == [f"{element}/Amt: '1,5' is not an amount", f"{element}: no amount"]
