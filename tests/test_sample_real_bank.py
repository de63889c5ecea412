"""The bank writers of ``sample.real`` (camt.053, MT940, BAI2) read back by their profiles."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletrecon.sample import generate
from walletrecon.sample.real import bai2, camt, mt940
from walletrecon.sample.real.bank_lines import BANK_COLUMNS, major
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, read_profile

WRITERS: dict[str, ModuleType] = {"camt": camt, "mt940": mt940, "bai2": bai2}
NIGHT = date(2026, 11, 17)


def expected(name: str, rows: pl.DataFrame, night: date | None) -> pl.DataFrame:
    """What the reader should give back: the writer's documented id mapping."""
    if name == "mt940":
        return mt940.canonical_ids(rows, night)
    frame: pl.DataFrame = WRITERS[name].canonical_ids(rows)
    return frame


def frame(*rows: tuple[str, str, str, str, str | None]) -> pl.DataFrame:
    """Canonical bank rows as all-string columns."""
    return pl.DataFrame(
        [list(row) for row in rows], schema=dict.fromkeys(BANK_COLUMNS, pl.String), orient="row"
    )


def read_back(
    name: str, rows: pl.DataFrame, folder: Path, night: date | None = None
) -> tuple[pl.DataFrame, ProfileResult]:
    """Write the rows in the format, read the file with its profile."""
    path = folder / f"bank.{name}"
    WRITERS[name].write(rows, path, night)
    result = read_profile(path, name, ProfileSpec(source="bank", display=path.name))
    return pl.from_arrow(result.rows).select(BANK_COLUMNS), result  # type: ignore[union-attr]


def assert_round_trip(name: str, rows: pl.DataFrame, folder: Path, night: date | None) -> None:
    """Rows back equal the mapped input, nothing rejected, every control total checked and held."""
    got, result = read_back(name, rows, folder, night)
    want = expected(name, rows, night)
    assert got.sort("bank_line_id").equals(want.sort("bank_line_id")), (got, want)
    assert result.rejected == []
    assert result.totals
    assert [t for t in result.totals if t.holds is not True] == []


TINY = frame(
    ("B1", "1250.50", "EUR", "2026-11-17", "PAYOUT PO-1"),
    ("B2", "-0.01", "EUR", "2026-11-16", "FEE"),
    ("B3", "8662", "JPY", "2026-11-17", None),
    ("B4", "-298", "JPY", "2026-11-17", "  spaced   text  "),
    ("B5", "-25.617", "KWD", "2026-11-17", "KWD OUT"),
    ("B6", "130.000", "KWD", "2026-12-31", "KWD IN"),
    ("B7", "0.00", "USD", "2026-11-17", "ZERO"),
)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_tiny_frame_round_trips_with_every_total_held(name: str, tmp_path: Path) -> None:
    assert_round_trip(name, TINY, tmp_path, NIGHT)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_generated_nights_round_trip(
    name: str, generated: list[pl.DataFrame], tmp_path: Path
) -> None:
    assert sum(rows.height for rows in generated) > 5
    for rows in generated:
        assert_round_trip(name, rows, tmp_path, None)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[pl.DataFrame]:
    """The bank rows of each night of a small generated sample, as written."""
    out = tmp_path_factory.mktemp("sample")
    generate(out, days=3, seed=7, rows=200)
    files = sorted(out.glob("inbox/*/bank.csv"))
    assert len(files) == 3
    return [pl.read_csv(f, infer_schema=False) for f in files]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_empty_night_is_one_empty_statement(name: str, tmp_path: Path) -> None:
    empty = frame()
    got, result = read_back(name, empty, tmp_path, NIGHT)
    assert got.height == 0
    assert result.totals and all(t.holds is True for t in result.totals)
    with pytest.raises(ValueError, match="needs its date"):
        WRITERS[name].write(empty, tmp_path / "x", None)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_same_rows_give_same_bytes(name: str) -> None:
    first = WRITERS[name].render(TINY, NIGHT)
    assert first == WRITERS[name].render(TINY.clone(), NIGHT)
    assert first != WRITERS[name].render(TINY.head(6), NIGHT)


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("B1", "1.005", "USD", "2026-11-17", None), "bank row 1: amount"),
        (("B1", "1,00", "USD", "2026-11-17", None), "bank row 1: amount"),
        (("B1", "1", "XYZ", "2026-11-17", None), "bank row 1: currency"),
        (("B1", "1", "JPY", "17/11/2026", None), "bank row 1: value_date"),
        (("B 1", "1", "JPY", "2026-11-17", None), "bank row 1: bank_line_id"),
    ],
)
def test_rows_the_formats_cannot_carry_are_refused(
    name: str, row: tuple[str, str, str, str, None], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WRITERS[name].render(frame(row), NIGHT)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_repeated_bank_line_id_is_refused(name: str) -> None:
    rows = frame(("B1", "1", "JPY", "2026-11-17", None), ("B1", "2", "USD", "2026-11-17", None))
    with pytest.raises(ValueError, match="bank row 2: bank_line_id: 'B1' repeats row 1"):
        WRITERS[name].render(rows, NIGHT)


def test_camt_keeps_the_canonical_ids(tmp_path: Path) -> None:
    got, _ = read_back("camt", TINY, tmp_path, NIGHT)
    assert sorted(got["bank_line_id"]) == sorted(TINY["bank_line_id"])
    assert dict(zip(got["bank_line_id"], got["reference"], strict=True))["B3"] == "B3"


def test_mt940_ids_are_positional_per_statement() -> None:
    ids = mt940.canonical_ids(TINY, NIGHT)["bank_line_id"].to_list()
    assert ids[:3] == [
        "WREUR001:WR261117EUR:321/1:261117:1",
        "WREUR001:WR261117EUR:321/1:261117:2",
        "WRJPY001:WR261117JPY:321/1:261117:1",
    ]


def test_bai2_ids_name_the_account() -> None:
    mapped = bai2.canonical_ids(TINY)
    assert mapped["bank_line_id"][4] == "WRKWD001:B5"
    assert mapped["reference"][3] == "B4 spaced text"


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_long_reference_is_wrapped_and_read_whole(name: str, tmp_path: Path) -> None:
    text = " ".join(f"WORD{n:03d}" for n in range(40))
    rows = frame(("B1", "5.00", "USD", "2026-11-17", text))
    written = WRITERS[name].render(rows, NIGHT).decode()
    if name != "camt":
        assert max(len(line) for line in written.splitlines()) <= 80
        assert written.count("\n88,") >= 3 if name == "bai2" else written.count("\nWORD") >= 3
    assert_round_trip(name, rows, tmp_path, NIGHT)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("camt", b'<Amt Ccy="EUR">1250.50</Amt>', b'<Amt Ccy="EUR">1250.40</Amt>'),
        ("mt940", b"C1250,50NTRF", b"C1250,40NTRF"),
        ("bai2", b"16,195,125050,", b"16,195,125040,"),
    ],
)
def test_a_changed_line_amount_breaks_a_total(
    name: str, old: bytes, new: bytes, tmp_path: Path
) -> None:
    path = tmp_path / f"bank.{name}"
    written = WRITERS[name].render(TINY, NIGHT)
    assert written.count(old) == 1
    path.write_bytes(written.replace(old, new))
    result = read_profile(path, name, ProfileSpec(source="bank"))
    assert any(total.holds is False for total in result.totals)


def test_mt940_refuses_a_reference_whose_wrapped_line_reads_as_a_tag() -> None:
    text = "X" * 60 + " :62F:C261117USD0,"
    with pytest.raises(ValueError, match="would start with ':'"):
        mt940.render(frame(("B1", "5.00", "USD", "2026-11-17", text)), NIGHT)
    assert mt940.render(frame(("B1", "5.00", "USD", "2026-11-17", text[61:])), NIGHT)


@st.composite
def bank_rows(draw: st.DrawFn) -> pl.DataFrame:
    """Up to 12 canonical bank rows: mixed currencies, signs, value dates and references."""
    count = draw(st.integers(0, 12))
    rows = []
    for index in range(count):
        currency = draw(st.sampled_from(["CNY", "EUR", "JPY", "KWD", "USD"]))
        minor = draw(st.integers(-(10**12), 10**12))
        day = draw(st.dates(date(2026, 11, 1), date(2026, 12, 31)))
        text = draw(st.none() | st.text("ABC xyz019.,", max_size=150))
        rows.append((f"B{index:04d}", major(minor, currency), currency, day.isoformat(), text))
    return frame(*rows)


@pytest.mark.parametrize("name", sorted(WRITERS))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=bank_rows())
def test_any_rows_round_trip(name: str, rows: pl.DataFrame, tmp_path: Path) -> None:
    assert_round_trip(name, rows, tmp_path, NIGHT)
