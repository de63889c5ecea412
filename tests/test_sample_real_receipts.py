"""Receipts written as a merchant's .xlsx and GB18030 CSV read back by the mapped profile."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.sample import generate
from walletrecon.sample.real.receipts import (
    CSV_ENCODING,
    NAMES,
    csv_inputs,
    number_cell,
    write_csv,
    write_xlsx,
    xlsx_inputs,
)
from walletrecon.schemas import SOURCES
from walletrecon.sources.inputs import InputSpec
from walletrecon.sources.parsing import MAX_WHOLE_DIGITS
from walletrecon.sources.profiles import ProfileSpec, read_profile
from walletrecon.sources.validate import validate

Writer = Callable[[pl.DataFrame, Path], None]
FORMATS: dict[str, tuple[Writer, Callable[[], dict[str, Any]], str, int]] = {
    # writer, inputs table, file suffix, sheet row / file line of the first data row
    "xlsx": (write_xlsx, xlsx_inputs, ".xlsx", 3),
    "csv": (write_csv, csv_inputs, ".csv", 2),
}


def _frame(*rows: tuple[str | None, ...]) -> pl.DataFrame:
    return pl.DataFrame([list(r) for r in rows], schema=list(NAMES), orient="row")


def _spec(table: dict[str, Any]) -> ProfileSpec:
    """The reader's spec, through the configuration's own validation of an [[inputs]] table."""
    return InputSpec.model_validate(table).spec("night")


Outcomes = dict[int, tuple[Any, ...] | str]


def _outcomes(path: Path, profile: str, spec: ProfileSpec, first: int) -> Outcomes:
    """Input row index -> its validated canonical values (minor units, instant, content hash),
    or "rejected" when the profile or the validation rejects it."""
    result = read_profile(path, profile, spec)
    assert result.control == []
    raw = result.rows.append_column("origin_file", pa.array(["f"] * result.rows.num_rows))
    validated = validate(duckdb.connect(), SOURCES["receipts"], raw)
    out: Outcomes = {}
    for row in validated.accepted.select("origin_row", *NAMES, "content_hash").iter_rows():
        out[row[0] - first] = row[1:]
    rejected = [r.row for r in result.rejected] + validated.rejected["origin_row"].to_list()
    for line in rejected:
        out[line - first] = "rejected"
    return out


def _canonical(rows: pl.DataFrame, tmp_path: Path) -> Outcomes:
    path = tmp_path / "receipts.csv"
    rows.write_csv(path)
    return _outcomes(path, "canonical", ProfileSpec(source="receipts"), 1)


def _round_trip(rows: pl.DataFrame, kind: str, tmp_path: Path) -> Outcomes:
    writer, inputs, suffix, first = FORMATS[kind]
    path = tmp_path / f"night{suffix}"
    writer(rows, path)
    table = inputs()
    assert table["profile"] == "mapped" and table["pattern"].endswith(suffix)
    return _outcomes(path, "mapped", _spec(table), first)


def _assert_same(rows: pl.DataFrame, kind: str, tmp_path: Path) -> Outcomes:
    """Every row ends as from the canonical CSV: the same typed values and content hash, or
    rejected by both."""
    expected, got = _canonical(rows, tmp_path), _round_trip(rows, kind, tmp_path)
    assert sorted(expected) == list(range(rows.height))
    assert sorted(got) == list(range(rows.height))
    for index in range(rows.height):
        assert got[index] == expected[index], (index, rows.row(index))
    return got


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """A generated night's receipts (two nights' files together)."""
    out = tmp_path_factory.mktemp("sample")
    generate(out, days=2, seed=5, rows=300)
    files = sorted(out.glob("inbox/*/receipts.csv"))
    assert len(files) == 2
    return pl.concat(pl.read_csv(f, infer_schema=False) for f in files)


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_generated_night_round_trips(night: pl.DataFrame, kind: str, tmp_path: Path) -> None:
    assert night.height > 100
    _assert_same(night, kind, tmp_path)


TINY = _frame(
    ("R1", "上海小笼包店", "T1", "1500", "JPY", "2026-11-16T00:21:45+08:00"),
    ("R2", "北京烤鸭, 王府井", "T2", "1.234", "KWD", "2026-11-15T21:19:47Z"),
    ("R3", '深圳 "科技" 商店', "T3", "12.50", "CNY", "2026-11-16T09:12:49"),
    ("R4", "M00004", "T4", "0.30", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R5", "M00005", "T5", "123456789.12", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R7", "M00007", "T7", "9999999.99", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R6", "M00006", "T6", "0.000", "KWD", "2026-11-16T10:00:00+08:00"),
)


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_tiny_frame_round_trips_exactly(kind: str, tmp_path: Path) -> None:
    got = _assert_same(TINY, kind, tmp_path)
    assert all(isinstance(outcome, tuple) for outcome in got.values())
    assert got[0][1] == "上海小笼包店" and got[0][3] == 1500 and got[1][3] == 1234


BROKEN = _frame(
    ("R1", "M1", "T1", "12,50", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R2", "M2", "T2", "abc", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R3", "M3", "T3", None, "CNY", "2026-11-16T10:00:00+08:00"),
    ("R4", None, "T4", "1.00", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R5", "M5", "T5", "1.00", "CNY", None),
    ("R6", "M6", "T6", "=1+1", "CNY", "2026-11-16T10:00:00+08:00"),
    ("R7", "M7", "T7", "5.00", "CNY", "2026-11-16T10:00:00+08:00"),
)


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_broken_rows_are_rejected_as_in_the_canonical_file(kind: str, tmp_path: Path) -> None:
    got = _assert_same(BROKEN, kind, tmp_path)
    assert [i for i, outcome in got.items() if outcome == "rejected"] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_same_rows_give_identical_bytes(night: pl.DataFrame, kind: str, tmp_path: Path) -> None:
    writer, _, suffix, _ = FORMATS[kind]
    first, second, other = (tmp_path / f"{n}{suffix}" for n in ("a", "b", "c"))
    writer(night, first)
    writer(night, second)
    writer(night.head(10), other)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_number_cells_only_where_the_float_is_the_exact_decimal() -> None:
    assert number_cell("12.50") == 12.5
    assert number_cell("1500") == 1500.0
    assert number_cell("1.234") == 1.234
    assert number_cell("123456789.12") is None  # read back as 123456789.120000005
    assert number_cell("99999999.99") is None
    assert number_cell("9999999.99") == 9999999.99
    assert number_cell("12,50") is None
    assert number_cell("1e3") is None
    assert number_cell(None) is None


def test_xlsx_amounts_are_number_cells_and_text_where_not_exact(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_xlsx(TINY, path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    cells = dict(re.findall(r'<c r="([A-F][0-9]+)"([^>]*)>', xml))
    assert "t=" not in cells["D3"] and "<v>1500</v>" in xml  # JPY 1500: a number
    assert "t=" not in cells["D4"] and "<v>1.234</v>" in xml  # KWD 1.234: a number
    assert "t=" not in cells["D9"] and "<v>9999999.99</v>" in xml
    assert 't="s"' in cells["D7"]  # 123456789.12 would read back as 123456789.120000005
    assert 't="s"' in cells["A1"] and 't="s"' in cells["F3"]  # title; ISO text


def test_csv_is_gb18030_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_csv(TINY, path)
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode(CSV_ENCODING)
    assert text.startswith("收据编号,商户,订单号,金额,币种,收款时间\r\n")
    assert '"北京烤鸭, 王府井"' in text


def test_xlsx_creation_time_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_xlsx(TINY, path)
    with zipfile.ZipFile(path) as archive:
        core = archive.read("docProps/core.xml").decode()
        stamps = {info.date_time for info in archive.infolist()}
    assert "<dcterms:created" in core and "2026-01-01T00:00:00Z" in core
    assert len(stamps) == 1


AMOUNTS = st.tuples(
    st.sampled_from([("JPY", 0), ("CNY", 2), ("USD", 2), ("KWD", 3)]),
    st.integers(min_value=0, max_value=10**17),
)


@settings(max_examples=8, deadline=None)
@given(st.lists(AMOUNTS, min_size=1, max_size=30))
def test_any_amount_comes_back_as_the_same_minor_units_from_xlsx(
    amounts: list[tuple[tuple[str, int], int]],
) -> None:
    rows = _frame(
        *(
            (
                f"R{i}",
                "M1",
                f"T{i}",
                str(Decimal(minor).scaleb(-places)),
                code,
                "2026-11-16T10:00:00+08:00",
            )
            for i, ((code, places), minor) in enumerate(amounts)
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        got = _assert_same(rows, "xlsx", Path(folder))
    # Beyond the engine's amount range both are rejected; within it every amount is accepted.
    for index, ((_, places), minor) in enumerate(amounts):
        outcome, whole = got[index], minor // 10**places
        in_range = len(str(whole)) <= MAX_WHOLE_DIGITS
        assert outcome[3] == minor if in_range else outcome == "rejected"


def test_xlsx_refuses_a_row_with_every_field_empty(tmp_path: Path) -> None:
    rows = _frame(("R1", "M1", "T1", "1.00", "CNY", "x"), (None, "", None, " ", None, None))
    with pytest.raises(ValueError, match="row 2 has every field empty"):
        write_xlsx(rows, tmp_path / "r.xlsx")
    write_csv(rows, tmp_path / "r.csv")  # a CSV line ",,,,," is still a record
    assert _round_trip(rows, "csv", tmp_path)[1] == "rejected"
