"""Validation in Polars: timestamps against DuckDB's cast, exact amounts, content hashes.

Timestamps and dates the fast path reads must equal DuckDB's cast; every other value goes to
DuckDB, so the two must agree on every input. Amounts are compared with a simple Decimal reading.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Context, Decimal, localcontext
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletrecon.money import currency_exponents
from walletrecon.schemas import SOURCES
from walletrecon.sources.parsing import NOT_ISO_CHARACTER, expected_time
from walletrecon.sources.validate import DEFAULT_LIMITS, Validated, validate
from walletrecon.store import connect

ZONE = "Asia/Shanghai"
BASE: dict[str, dict[str, str]] = {
    "ledger": {
        "entry_id": "E1",
        "txn_id": "T1",
        "account_id": "A1",
        "entry_type": "payment",
        "amount": "-10.00",
        "currency": "CNY",
        "status": "succeeded",
        "created_at": "2026-11-19T10:00:00+08:00",
        "posted_at": "",
        "merchant_id": "",
        "gateway_ref": "",
    },
    "balances": {"account_id": "A1", "currency": "CNY", "as_of": "2026-11-19", "balance": "1"},
    "bank": {
        "bank_line_id": "B1",
        "amount": "1",
        "currency": "CNY",
        "value_date": "2026-11-19",
        "reference": "",
    },
    "receipts": {
        "receipt_id": "R1",
        "merchant_id": "M1",
        "txn_id": "T1",
        "amount": "1",
        "currency": "CNY",
        "received_at": "2026-11-19T10:00:00+08:00",
    },
    "settlement": {
        "settlement_id": "S1",
        "gateway": "adyen",
        "gateway_ref": "GW-1",
        "merchant_ref": "",
        "record_type": "payment",
        "gross_amount": "10.00",
        "fee_amount": "0.00",
        "net_amount": "10.00",
        "currency": "CNY",
        "settled_at": "2026-11-19T10:00:00+08:00",
        "payout_id": "",
    },
}


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(ZONE)
    yield con
    con.close()


def raw_table(source: str, rows: list[dict[str, str]]) -> pa.Table:
    """A raw table as ``read_raw`` makes it: text columns, then origin file and row."""
    names = SOURCES[source].column_names
    columns = {
        name: pa.array([{**BASE[source], **row}.get(name) for row in rows], pa.string())
        for name in names
    }
    origin = pa.DictionaryArray.from_arrays(pa.array([0] * len(rows), pa.int32()), ["f.csv"])
    columns["origin_file"] = origin
    columns["origin_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return pa.table(columns)


def run(
    connection: duckdb.DuckDBPyConnection, source: str, rows: list[dict[str, str]]
) -> Validated:
    return validate(connection, SOURCES[source], raw_table(source, rows))


def duckdb_reading(
    connection: duckdb.DuckDBPyConnection, sql: str, values: list[str]
) -> list[object]:
    """DuckDB's reading of each value: ``sql`` over ``v``, trimmed as validation trims it."""
    connection.register("probe", pa.table({"i": range(len(values)), "v": values}))
    try:
        frame = connection.sql(
            f"SELECT {sql} AS x FROM (SELECT i, trim(v) AS v FROM probe) ORDER BY i"
        ).pl()
    finally:
        connection.unregister("probe")
    return list(frame.get_column("x").to_list())


def in_limits(value: str, reading: object) -> object:
    """DuckDB's reading, kept only within the default limits: a date-like text, a year from 2000
    to 2100 and an offset within ±14:00 (epoch microseconds or a date)."""
    text = value.strip()
    offset = re.search(
        r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*[+-]([0-9]{1,2}):?([0-9]{2})?$", text
    )
    hours, minutes = (int(offset[1]), int(offset[2] or 0)) if offset else (0, 0)
    if hours * 60 + minutes > 14 * 60 or minutes > 59:
        return None
    if reading is None or not re.match(r"[0-9]{4}-[0-9]", text):
        return None
    if re.search(NOT_ISO_CHARACTER, text):
        return None  # a zone's name or abbreviation: DuckDB reads it, the contract does not
    if isinstance(reading, dt.date):
        year = reading.year
    else:
        assert isinstance(reading, int)
        # 2000-01-01 and 2101-01-01 UTC in epoch microseconds: Python has no year 0.
        return reading if 946_684_800_000_000 <= reading < 4_133_980_800_000_000 else None
    return reading if 2000 <= year <= 2100 else None


def label_of(source: str, column: str) -> str:
    """What a timestamp or date column expects, as reasons say it."""
    (spec,) = [spec for spec in SOURCES[source].columns if spec.name == column]
    return expected_time(spec, DEFAULT_LIMITS)


def typed_or_reason(result: Validated, column: str) -> list[object]:
    """Per input row: the typed value when accepted (timestamps as epoch microseconds: Python
    has no year 0), else the reason."""
    typed = result.accepted[column]
    if isinstance(typed.dtype, pl.Datetime):
        typed = typed.dt.epoch("us")
    accepted = dict(zip(result.accepted["origin_row"], typed, strict=True))
    rejected = dict(zip(result.rejected["origin_row"], result.rejected["reason"], strict=True))
    rows = sorted([*accepted, *rejected])
    return [accepted[row] if row in accepted else rejected[row] for row in rows]


# --- timestamps and dates: the fast path and the DuckDB fallback agree with DuckDB ---------------

TIMESTAMPS = [
    "2026-11-19T00:00:00+08:00",  # fast path
    "2026-11-18T16:00:00Z",  # fast path
    "2026-11-18T16:00:00.5Z",  # fast path, fractional seconds
    "2026-11-18T16:00:00.123456-03:30",  # fast path, six digits and an odd offset
    "2026-11-19T10:00:00",  # no offset: the configured zone
    "2026-11-19 10:00:00+08:00",  # space separator
    "2026-11-19 10:00:00",  # space, no offset
    "2026-11-19",  # bare date
    "2026-11-19T10:00:00.1234567Z",  # seven fraction digits
    "2026-11-19t10:00:00z",  # lower-case letters
    "2026-11-19T10:00:00+0800",  # offset without colon
    "2026-11-19T10:00:00+08",  # offset in hours
    "2026-11-19T24:00:00Z",  # hour 24
    "2026-11-19T23:59:60Z",  # leap second
    "2026-02-29T10:00:00Z",  # no such day
    "2024-02-29T10:00:00Z",  # leap day
    "2026-02-30T10:00:00+08:00",  # no such day, fast-path form
    "2026-13-45T99:00:00",  # nonsense
    "garbage",
    " 2026-11-19T10:00:00Z ",  # spaces around
    "2026-03-08T02:30:00",  # no offset, a DST gap elsewhere
    "2026-11-19 10:00:00 CST",  # a zone abbreviation DuckDB reads (as US Central)
    "2026-11-19T10:00:00 Europe/Berlin",  # a zone name
    "2026-11-19 10:00:00 UTC",  # not an ISO 8601 offset
]


@pytest.mark.parametrize(
    "value",
    ["2026-11-19 20:00:00 CST", "2026-11-19 20:00:00 IST", "2026-11-19T20:00:00 Asia/Shanghai"],
)
def test_a_zone_name_or_abbreviation_is_not_read_as_a_time(
    connection: duckdb.DuckDBPyConnection, value: str
) -> None:
    result = run(connection, "receipts", [{"received_at": value}])
    assert result.accepted.is_empty()
    assert result.rejected["reason"].to_list() == [
        f"received_at: not {label_of('receipts', 'received_at')}: '{value}'"
    ]


def assert_read_as_duckdb_casts(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    column: str,
    values: list[str],
    cast_sql: str,
    label: str,
) -> Validated:
    """Each value typed as DuckDB's cast reads it, or rejected as not ``label`` where it fails."""
    result = run(connection, source, [{column: value} for value in values])
    readings = duckdb_reading(connection, cast_sql, values)
    expected = [in_limits(value, reading) for value, reading in zip(values, readings, strict=True)]
    got = typed_or_reason(result, column)
    for value, typed, cast in zip(values, got, expected, strict=True):
        if cast is None:
            assert typed == f"{column}: not {label}: '{value.strip()}'"
        else:
            assert typed == cast, value
    return result


def test_timestamps_read_as_duckdb_casts_them(connection: duckdb.DuckDBPyConnection) -> None:
    cast = "epoch_us(try_cast(v AS TIMESTAMPTZ))"
    label = label_of("ledger", "created_at")
    result = assert_read_as_duckdb_casts(
        connection, "ledger", "created_at", TIMESTAMPS, cast, label
    )
    assert result.accepted.schema["created_at"] == pl.Datetime("us", ZONE)


def test_no_offset_uses_the_configured_zone(connection: duckdb.DuckDBPyConnection) -> None:
    result = run(connection, "ledger", [{"created_at": "2026-11-19T10:00:00"}])
    utc = dt.datetime(2026, 11, 19, 2, 0, tzinfo=dt.UTC)
    assert result.accepted["created_at"].to_list() == [utc]
    assert result.accepted.schema["created_at"] == pl.Datetime("us", ZONE)


def test_bare_date_is_the_end_of_that_day_in_balances(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    values = ["2026-11-19", "2026-11-19T23:59:59+08:00", "2026-02-30", "2026-11-19 10:00:00"]
    result = run(connection, "balances", [{"as_of": value} for value in values])
    end_of_day = "CAST(try_cast(v AS DATE) + INTERVAL 1 DAY AS TIMESTAMPTZ)"
    sql = (
        f"CASE WHEN regexp_full_match(v, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN {end_of_day} "
        "ELSE try_cast(v AS TIMESTAMPTZ) END"
    )
    expected = duckdb_reading(connection, f"epoch_us({sql})", values)
    got = typed_or_reason(result, "as_of")
    assert got[:2] == expected[:2]
    assert got[2] == f"as_of: not {label_of('balances', 'as_of')}: '2026-02-30'"
    assert got[3] == expected[3]
    midnight = dt.datetime(2026, 11, 20, tzinfo=ZoneInfo(ZONE))
    assert got[0] == int(midnight.timestamp()) * 1_000_000


def test_dates_read_as_duckdb_casts_them(connection: duckdb.DuckDBPyConnection) -> None:
    values = ["2026-11-19", " 2026-11-19 ", "2026-02-29", "2024-02-29", "20261119", "2026-1-9"]
    values += ["2026-11-19T10:00:00", "2026-11-19 10:00:00+08:00", "19/11/2026", "garbage"]
    cast, label = "try_cast(v AS DATE)", label_of("bank", "value_date")
    assert_read_as_duckdb_casts(connection, "bank", "value_date", values, cast, label)


def iso_like() -> st.SearchStrategy[str]:
    """Strings around the fast path's form: odd digits, separators, fractions and offsets."""
    two = st.integers(0, 99).map(lambda n: f"{n:02d}")
    year = st.sampled_from(["0000", "0001", "1969", "1970", "2024", "2026", "9999"])
    fraction = st.sampled_from(["", ".", ".5", ".123456", ".1234567", ".000001"])
    offset = st.sampled_from(["", "Z", "z", "+08:00", "-03:30", "+14:00", "+23:59", "+24:00"])
    offset |= st.sampled_from(["-00:00", "+08", "+0800", " +08:00", "+8:00", "+08:60", " UTC"])
    separator = st.sampled_from(["T", "T", " ", "t"])
    return st.builds(
        lambda y, mo, d, sep, h, mi, s, f, off: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{f}{off}",
        year,
        st.sampled_from(["01", "02", "04", "11", "12", "00", "13"]),
        st.sampled_from(["01", "28", "29", "30", "31", "00", "32"]),
        separator,
        st.sampled_from(["00", "09", "23", "24"]) | two,
        st.sampled_from(["00", "59", "60"]) | two,
        st.sampled_from(["00", "59", "60"]) | two,
        fraction,
        offset,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(iso_like(), min_size=1, max_size=40))
def test_any_iso_like_timestamp_reads_as_duckdb_casts_it(values: list[str]) -> None:
    with connect(ZONE) as connection:
        result = run(connection, "receipts", [{"received_at": value} for value in values])
        readings = duckdb_reading(connection, "epoch_us(try_cast(v AS TIMESTAMPTZ))", values)
    got = typed_or_reason(result, "received_at")
    label = label_of("receipts", "received_at")
    for value, typed, reading in zip(values, got, readings, strict=True):
        cast = in_limits(value, reading)
        assert typed == (cast or f"received_at: not {label}: '{value}'"), value


# --- amounts: exact minor units by the currency's exponent ---------------------------------------

AMOUNTS = {
    # text: (JPY 0, USD 2, BHD 3, CLF 4)
    "12.5": ("places", 1250, 12500, 125000),
    "12.50": ("places", 1250, 12500, 125000),
    "-0.5": ("places", -50, -500, -5000),
    ".5": ("places", 50, 500, 5000),
    "5.": (5, 500, 5000, 50000),
    " 7 ": (7, 700, 7000, 70000),
    "1e3": ("number",) * 4,
    "12.0000": (12, 1200, 12000, 120000),
    "0.0001": ("places", "places", "places", 1),
    "+3": (3, 300, 3000, 30000),
}


@pytest.mark.parametrize("text", list(AMOUNTS))
def test_amounts_per_currency_exponent(connection: duckdb.DuckDBPyConnection, text: str) -> None:
    currencies = ["JPY", "USD", "BHD", "CLF"]
    rows = [{"amount": text, "currency": currency} for currency in currencies]
    got = typed_or_reason(run(connection, "bank", rows), "amount")
    for currency, expected, value in zip(currencies, AMOUNTS[text], got, strict=True):
        shown = text.strip()
        if expected == "places":
            exponent = currency_exponents()[currency]
            reason = f"more decimal places than the currency has ({exponent}): '{shown}'"
            assert value == f"amount: {reason}", currency
        elif expected == "number":
            assert value == f"amount: not a decimal number: '{shown}'", currency
        else:
            assert value == expected, currency


def reference_amount(text: str, currency: str, non_negative: bool) -> object:
    """The amount read with Decimal: minor units, or the reasons of the amount and currency."""
    value = text.strip(" ")
    exponent = currency_exponents().get(currency)
    reasons = [amount_reason(value, exponent, non_negative)]
    if exponent is None:
        reasons.append(f"currency: unknown ISO 4217 currency '{currency}'")
    if any(reasons):
        return "; ".join(reason for reason in reasons if reason)
    assert exponent is not None
    with localcontext(Context(prec=200)):
        return int(Decimal(value).scaleb(exponent))


def amount_reason(value: str, exponent: int | None, non_negative: bool) -> str | None:
    """Why an amount is unusable, checked in order; an unknown currency skips the rest."""
    if not value:
        return "amount: missing required value"
    if not re.fullmatch(r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)", value):
        return f"amount: not a decimal number: '{value}'"
    if exponent is None:
        return None
    with localcontext(Context(prec=200)):
        number = Decimal(value)
        minor = number.scaleb(exponent)
        if minor != minor.to_integral_value():
            return f"amount: more decimal places than the currency has ({exponent}): '{value}'"
        if abs(number) >= Decimal(10) ** 14:
            return f"amount: amount too large: '{value}'"
    if non_negative and value.startswith("-"):
        return f"amount: must not be negative: '{value}'"
    return None


AMOUNT_TEXT = st.from_regex(r"\A *[+-]?[0-9]{0,17}(\.[0-9]{0,7})? *\Z", fullmatch=True)
AMOUNT_TEXT |= st.text(alphabet="0123456789.+-e ", min_size=1, max_size=8)
AMOUNT_TEXT |= st.sampled_from(["0", "-0", "-0.00", "00000000000000000000012.5", "99999999999999"])
AMOUNT_TEXT |= st.sampled_from(["100000000000000", "0.10000000000", "."])
CURRENCY = st.sampled_from(["JPY", "USD", "BHD", "CLF", "CNY", "KWD", "XYZ"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(AMOUNT_TEXT, CURRENCY), min_size=1, max_size=30))
def test_amounts_match_a_decimal_reference(pairs: list[tuple[str, str]]) -> None:
    rows = [{"amount": amount, "currency": currency} for amount, currency in pairs]
    with connect(ZONE) as connection:
        bank = typed_or_reason(run(connection, "bank", rows), "amount")
        receipts = typed_or_reason(run(connection, "receipts", rows), "amount")
    for (amount, currency), got in zip(pairs, bank, strict=True):
        assert got == reference_amount(amount, currency, non_negative=False), (amount, currency)
    for (amount, currency), got in zip(pairs, receipts, strict=True):
        assert got == reference_amount(amount, currency, non_negative=True), (amount, currency)


def test_a_missing_currency_skips_the_precision_check(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    result = run(connection, "bank", [{"amount": "1.23456", "currency": ""}])
    assert result.rejected.select("column", "reason").rows() == [
        ("currency", "currency: missing required value")
    ]


def test_every_reason_is_kept_first_column_named(connection: duckdb.DuckDBPyConnection) -> None:
    row = {"gross_amount": "-1.001", "fee_amount": "-1", "record_type": "Paymnt", "gateway": " "}
    result = run(connection, "settlement", [row])
    assert result.rejected.select("column", "reason").rows() == [
        (
            "gateway",
            "gateway: missing required value; record_type: unknown value 'Paymnt' (expected one "
            "of payment, refund, topup, withdrawal, chargeback); gross_amount: more decimal "
            "places than the currency has (2): '-1.001'; fee_amount: must not be negative: '-1'",
        )
    ]
    assert '"gross_amount":"-1.001"' in result.rejected["raw_values"][0]


def test_text_is_typed_trimmed_and_cased(connection: duckdb.DuckDBPyConnection) -> None:
    row = {"entry_type": " Payment ", "currency": " usd ", "merchant_id": "  ", "amount": " 7 "}
    accepted = run(connection, "ledger", [row]).accepted
    assert accepted.select("entry_type", "currency", "merchant_id", "amount").rows() == [
        ("payment", "USD", None, 700)
    ]
    assert accepted.schema["amount"] == pl.Int64
    assert accepted.schema["content_hash"] == pl.UInt64


# --- content hash: a function of the typed content -----------------------------------------------


def test_content_hash_is_the_typed_content(connection: duckdb.DuckDBPyConnection) -> None:
    rows = [
        {"gross_amount": "12.5", "gateway_ref": "GW-AB"},
        {"gross_amount": "12.50", "gateway_ref": " gw-ab "},
        {"gross_amount": "12.5", "settled_at": "2026-11-19T02:00:00Z"},
        {"gross_amount": "12.51", "gateway_ref": "GW-AB"},
        {"gross_amount": "12.5", "gateway": "ADYEN"},
    ]
    for row in rows[2:4]:
        row.setdefault("gateway_ref", "GW-AB")
    rows[0]["settled_at"] = rows[1]["settled_at"] = "2026-11-19T10:00:00+08:00"
    hashes = run(connection, "settlement", rows).accepted["content_hash"].to_list()
    assert hashes[0] == hashes[1] == hashes[2]
    assert len({hashes[0], hashes[3], hashes[4]}) == 3


# --- settlement in another currency: fee and net in the net currency, the rate checked -----------

CROSS = {
    "currency": "JPY",
    "gross_amount": "1000",
    "net_currency": "usd",
    "exchange_rate": "0.0067",
}


def test_fee_and_net_take_the_minor_unit_of_the_net_currency(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    result = run(connection, "settlement", [{**CROSS, "fee_amount": "0.12", "net_amount": "6.58"}])
    assert result.rejected.height == 0
    row = result.accepted.row(0, named=True)
    assert (row["gross_amount"], row["fee_amount"], row["net_amount"]) == (1000, 12, 658)
    assert (row["net_currency"], row["exchange_rate"]) == ("USD", "0.0067")


def test_without_a_net_currency_fee_and_net_are_in_the_currency(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    row = {"currency": "JPY", "gross_amount": "1000", "fee_amount": "0.12", "net_amount": "999"}
    result = run(connection, "settlement", [row])
    assert result.rejected.get_column("reason").item() == (
        "fee_amount: more decimal places than the currency has (0): '0.12'"
    )


@pytest.mark.parametrize(
    ("rate", "reason"),
    [
        (None, "exchange_rate: missing: the net currency differs from the currency"),
        ("0.000", "exchange_rate: an exchange rate must be above zero: '0.000'"),
        ("-1.2", "exchange_rate: not a positive decimal rate: '-1.2'"),
        ("1e-3", "exchange_rate: not a positive decimal rate: '1e-3'"),
        ("0.0012345678901234567890", "exchange_rate: more than 18 significant digits: "),
    ],
)
def test_a_rate_is_a_positive_decimal_and_needed_between_two_currencies(
    connection: duckdb.DuckDBPyConnection, rate: str | None, reason: str
) -> None:
    row = {**CROSS, "exchange_rate": rate, "fee_amount": "0.12", "net_amount": "6.58"}
    result = run(connection, "settlement", [row])
    assert result.rejected.get_column("reason").item().startswith(reason)


def test_a_rate_is_not_needed_when_both_currencies_are_one(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    row = {"net_currency": " cny ", "exchange_rate": None}
    assert run(connection, "settlement", [row]).rejected.height == 0


CELL = st.sampled_from(
    [
        "",
        " ",
        "x",
        "10.00",
        "-1",
        "1e3",
        "CNY",
        "cny ",
        "payment",
        " succeeded",
        "2026-11-19T10:00:00+08:00",
        "2026-11-19 10:00",
        "2026-13-40T99:00",
        "2026-11-19",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    source=st.sampled_from(sorted(BASE)),
    edits=st.lists(st.dictionaries(st.sampled_from(sorted(BASE["ledger"])), CELL), max_size=12),
    slice_rows=st.integers(1, 5),
)
def test_validating_a_slice_at_a_time_gives_what_validating_whole_gives(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    edits: list[dict[str, str]],
    slice_rows: int,
) -> None:
    """Validation is row by row: slicing a file (the memory bound) changes no row's outcome,
    trimming, typing or reason, even where only some slices have spaced or empty values."""
    names = set(SOURCES[source].column_names)
    rows = [{key: value for key, value in edit.items() if key in names} for edit in edits]
    table = raw_table(source, rows)
    whole = validate(connection, SOURCES[source], table, slice_rows=10**6)
    sliced = validate(connection, SOURCES[source], table, slice_rows=slice_rows)
    assert sliced.accepted.schema == whole.accepted.schema
    assert sliced.accepted.equals(whole.accepted)
    assert sliced.rejected.equals(whole.rejected)


def test_a_control_character_in_an_id_or_key_rejects_the_row_but_not_in_free_text(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    ledger = run(
        connection,
        "ledger",
        [{"entry_id": "E1\x002"}, {"entry_id": "E2", "txn_id": "T\x1f9"}, {"entry_id": "E3"}],
    )
    assert ledger.accepted.get_column("entry_id").to_list() == ["E3"]
    assert ledger.rejected.get_column("column").to_list() == ["entry_id", "txn_id"]
    assert set(ledger.rejected.get_column("reason").str.contains("control character")) == {True}
    # A bank line's reference is words for a person: a tab in it is fine.
    bank = run(connection, "bank", [{"reference": "PAYOUT\t42\x01"}])
    assert bank.rejected.is_empty() and bank.accepted.height == 1
