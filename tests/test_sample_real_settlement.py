"""Settlement writers of real formats: what the readers give back is the canonical night.

Each writer's file is read by its profile and both sides go through validation: the typed rows
(minor units, instants, ids as the writer's ``canonical_ids`` say) must be equal row for row,
every control total must hold, every rejected canonical row must come out rejected (by the reader
or by validation), and the same rows must give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletrecon.sample.generation import generate
from walletrecon.sample.real import adyen, paypal, stripe
from walletrecon.schemas import SOURCES
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, read_profile
from walletrecon.sources.validate import Validated, validate
from walletrecon.store import connect

ZONE = "Asia/Shanghai"
COLUMNS = SOURCES["settlement"].column_names
Writer = Callable[[pl.DataFrame, Path], Path]
Ids = Callable[[pl.DataFrame], pl.DataFrame]


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(ZONE)
    yield con
    con.close()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The settlement rows of a generated night (two nights, the second one's rows)."""
    out = tmp_path_factory.mktemp("night")
    generate(out, days=2, seed=5, rows=300)
    return pl.read_csv(out / "inbox" / "2026-11-17" / "settlement.csv", infer_schema=False)


def frame(*rows: dict[str, str]) -> pl.DataFrame:
    """Canonical settlement text rows: a clean USD payment changed by each dict."""
    base = {
        "settlement_id": "S1", "gateway": "adyen", "gateway_ref": "GW-1", "merchant_ref": "T1",
        "record_type": "payment", "gross_amount": "10.00", "fee_amount": "0.30",
        "net_amount": "9.70", "currency": "USD", "settled_at": "2026-11-19T10:00:00+08:00",
        "payout_id": "PO-1",
    }  # fmt: skip
    texts = [{**base, **row} for row in rows]
    return pl.DataFrame(
        {name: [row.get(name) or None for row in texts] for name in COLUMNS},
        schema=dict.fromkeys(COLUMNS, pl.String),
    )


def typed(connection: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> Validated:
    """Validation of text rows whose ``origin_row`` says the line they are on."""
    optional = [pl.lit(None, pl.String).alias(c) for c in COLUMNS if c not in rows.columns]
    rows = rows.with_columns(optional).select(*COLUMNS, "origin_row")
    origin = pa.DictionaryArray.from_arrays(pa.array([0] * rows.height, pa.int32()), ["f"])
    return validate(connection, SOURCES["settlement"], rows.to_arrow().append_column(
        "origin_file", origin
    ))  # fmt: skip


def round_trip(
    connection: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    rows: pl.DataFrame,
    writer: Writer,
    reader: str,
    ids: Ids,
    options: dict[str, str] | None = None,
) -> tuple[ProfileResult, set[int]]:
    """Write, read and compare (see the module docstring); the rejected input row numbers."""
    spec = ProfileSpec("settlement", options=options or {})
    result = read_profile(writer(rows, tmp_path / "file"), reader, spec)
    got = typed(connection, pl.from_arrow(result.rows).drop("origin_element"))  # type: ignore[union-attr]
    read_lines = {rejection.row for rejection in result.rejected}
    lines = line_numbers(result, rows.height)
    expected = typed(connection, ids(rows).with_columns(origin_row=pl.Series(lines)))
    rejected_by_reader = {lines.index(row) for row in read_lines}
    kept = expected.accepted.filter(~pl.col("origin_row").is_in(list(read_lines)))
    assert got.accepted.sort("origin_row").equals(kept.sort("origin_row"))
    rejected = rejected_by_reader | {lines.index(r) for r in got.rejected["origin_row"]}
    canonical_rejects = {lines.index(r) for r in expected.rejected["origin_row"]}
    assert canonical_rejects <= rejected
    # Only Adyen's group of lines without a batch (rows without payout_id) goes unchecked.
    unchecked = [t for t in result.totals if not t.holds]
    assert all(t.holds is None and t.scope.startswith("batch , ") for t in unchecked), unchecked
    assert writer(rows, tmp_path / "again").read_bytes() == (tmp_path / "file").read_bytes()
    return result, rejected


def line_numbers(result: ProfileResult, count: int) -> list[int]:
    """The origin row of each input row: the writer writes one record per row, in order."""
    rows = sorted(
        [*pl.from_arrow(result.rows)["origin_row"].to_list(), *(r.row for r in result.rejected)]  # type: ignore[index]
    )
    assert len(rows) == count
    return rows


# --- Adyen ---------------------------------------------------------------------------------------


def adyen_writer(rows: pl.DataFrame, path: Path) -> Path:
    return adyen.write(rows, path, ZONE)


def test_adyen_generated_night_round_trips(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, night: pl.DataFrame
) -> None:
    result, rejected = round_trip(
        connection, tmp_path, night, adyen_writer, "adyen", adyen.canonical_ids
    )
    canonical = typed(
        connection, night.with_columns(origin_row=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    type_rejects = set(
        night.with_row_index().filter(~pl.col("record_type").is_in(list(adyen.LINE_TYPES)))["index"]
    )
    assert rejected == set(canonical.rejected["origin_row"]) | type_rejects
    assert {c.kind for c in result.control} == {"MerchantPayout"}
    assert len(result.totals) >= night["payout_id"].n_unique()


#: Tiny rows every writer carries: a default payment, two refunds of one reference, a
#: chargeback, JPY with a reference to trim and a local time, KWD without a merchant ref.
TINY: tuple[dict[str, str], ...] = (
        {},
        {"settlement_id": "S2", "record_type": "refund", "gross_amount": "4.00",
         "fee_amount": "0.00", "net_amount": "-4.00"},
        {"settlement_id": "S3", "record_type": "refund", "gross_amount": "1.00",
         "fee_amount": "0.00", "net_amount": "-1.00"},
        {"settlement_id": "S4", "record_type": "chargeback", "gross_amount": "10.00",
         "fee_amount": "15.00", "net_amount": "-25.00", "settled_at": "2026-11-19T02:00:00Z"},
        {"settlement_id": "S5", "gateway_ref": " gw-2 ", "currency": "JPY", "gross_amount": "1500",
         "fee_amount": "45", "net_amount": "1455", "payout_id": "PO-2",
         "settled_at": "2026-11-19T11:00:00"},
        {"settlement_id": "S6", "gateway_ref": "GW-3", "currency": "KWD", "gross_amount": "2.345",
         "fee_amount": "0.070", "net_amount": "2.275", "payout_id": "PO-3", "merchant_ref": ""},
)  # fmt: skip


def test_adyen_tiny_frame_currencies_refunds_chargebacks_duplicates(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = frame(
        *TINY,
        {"settlement_id": "S7", "gateway_ref": "GW-4", "currency": "JPY", "gross_amount": "1000",
         "net_currency": "USD", "exchange_rate": "0.0067", "fee_amount": "0.20",
         "net_amount": "6.50", "payout_id": "PO-2"},
    )  # fmt: skip
    result, rejected = round_trip(
        connection, tmp_path, rows, adyen_writer, "adyen", adyen.canonical_ids
    )
    assert rejected == set()
    ids = pl.from_arrow(result.rows)["settlement_id"].to_list()  # type: ignore[index]
    assert ids == [
        "GW-1/Settled/S1", "GW-1/Refunded/S2", "GW-1/Refunded/S3", "GW-1/Chargeback/S4",
        "gw-2/Settled/S5", "GW-3/Settled/S6", "GW-4/Settled/S7",
    ]  # fmt: skip
    totals = {(t.currency, t.expected) for t in result.totals}
    assert totals == {("USD", "-20.3"), ("JPY", "1455"), ("KWD", "2.275"), ("USD", "6.5")}


def test_adyen_payout_ids_are_stable_batches_and_rows_without_payout_are_unchecked(
    tmp_path: Path,
) -> None:
    assert adyen.batch_number("PO-1") == adyen.batch_number("PO-1") != adyen.batch_number("PO-2")
    assert (
        adyen.payout_reference("PO-1") == f"batch {adyen.batch_number('PO-1')}, WalletreconWallet"
    )
    path = adyen.write(frame({"payout_id": ""}), tmp_path / "a.csv")
    result = read_profile(path, "adyen", ProfileSpec("settlement"))
    assert pl.from_arrow(result.rows)["payout_id"].to_list() == [None]  # type: ignore[index]
    assert result.control == [] and [t.holds for t in result.totals] == [None]


def test_adyen_refuses_two_payouts_on_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adyen, "batch_number", lambda payout_id: "7")
    with pytest.raises(ValueError, match="share an Adyen batch number"):
        adyen.write(frame({}, {"settlement_id": "S2", "payout_id": "PO-2"}), tmp_path / "a.csv")
    adyen.write(frame({}, {"settlement_id": "S2"}), tmp_path / "a.csv")


def test_adyen_topup_and_withdrawal_are_rejected_naming_the_type(tmp_path: Path) -> None:
    rows = frame({"record_type": "topup"}, {"settlement_id": "S2", "record_type": "withdrawal",
                                            "net_amount": "-9.70"})  # fmt: skip
    result = read_profile(adyen.write(rows, tmp_path / "a.csv"), "adyen", ProfileSpec("settlement"))
    assert [r.reason.split(" is not")[0] for r in result.rejected] == [
        "Type: 'topup'",
        "Type: 'withdrawal'",
    ]
    assert adyen.expected_rejections(rows).height == 2
    assert [t.holds for t in result.totals] == [True]


def test_adyen_broken_rows_stay_broken(tmp_path: Path) -> None:
    rows = frame(
        {"gross_amount": "12.3.4"},
        {"settlement_id": "S2", "currency": "XYZ"},
        {"settlement_id": "S3", "settled_at": "2026-13-45T99:00:00"},
        {"settlement_id": "S4", "gateway_ref": ""},
        {"settlement_id": "S5", "record_type": "paymnt"},
    )  # fmt: skip
    result = read_profile(
        adyen.write(rows, tmp_path / "a.csv", ZONE), "adyen", ProfileSpec("settlement")
    )
    assert [r.column for r in result.rejected] == [
        "Gross Credit (GC)",
        "Gross Currency",
        "Creation Date",
        "Psp Reference",
        "Type",
    ]


# --- Stripe --------------------------------------------------------------------------------------


def stripe_writer(rows: pl.DataFrame, path: Path) -> Path:
    return stripe.write(rows, path, ZONE)


def stripe_round_trip(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, rows: pl.DataFrame
) -> tuple[ProfileResult, set[int]]:
    return round_trip(
        connection, tmp_path, rows, stripe_writer, "stripe", stripe.canonical_ids,
        stripe.READ_OPTIONS,
    )  # fmt: skip


def test_stripe_generated_night_round_trips(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, night: pl.DataFrame
) -> None:
    result, rejected = stripe_round_trip(connection, tmp_path, night)
    numbered = night.with_columns(origin_row=pl.int_range(pl.len(), dtype=pl.Int64))
    canonical = typed(connection, numbered)
    unwritable = set(stripe.expected_rejections(night.with_row_index())["index"])
    assert rejected == set(canonical.rejected["origin_row"]) | unwritable
    assert {c.kind for c in result.control} == {"payout"}
    assert len(result.totals) == 2 * len(result.control)


def test_stripe_tiny_frame_currencies_refunds_chargebacks_duplicates(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = frame(
        *TINY,
    )  # fmt: skip
    result, rejected = stripe_round_trip(connection, tmp_path, rows)
    assert rejected == set()
    read = pl.from_arrow(result.rows)
    assert read["settlement_id"].to_list() == ["S1", "S2", "S3", "S4", "S5", "S6"]  # type: ignore[index]
    assert read["settled_at"].to_list()[4] == "2026-11-19T03:00:00Z"  # type: ignore[index]
    checked = {(t.currency, t.check, t.found) for t in result.totals}
    assert ("KWD", "sum of line nets = -payout net", "2.275") in checked
    assert ("JPY", "sum of line nets = -payout net", "1455") in checked
    assert {t.currency for t in result.totals} == {"JPY", "KWD"}  # USD adds up to -20.30


def test_stripe_types_it_cannot_carry_are_rejected_naming_them(tmp_path: Path) -> None:
    rows = frame(
        {"record_type": "topup"},
        {"settlement_id": "S2", "record_type": "withdrawal", "net_amount": "-9.70"},
        {"settlement_id": "S3", "record_type": "paymnt"},
    )  # fmt: skip
    path = stripe.write(rows, tmp_path / "s.csv")
    result = read_profile(path, "stripe", ProfileSpec("settlement", options=stripe.READ_OPTIONS))
    assert [r.reason.split("' is")[0] for r in result.rejected] == [
        "reporting_category: 'wallet_topup", "reporting_category: 'wallet_withdrawal",
        "reporting_category: 'paymnt",
    ]  # fmt: skip
    assert stripe.expected_rejections(rows).height == 3
    assert stripe.expected_rejections(frame({"net_amount": "9.71"}))["settlement_id"].to_list() == [
        "S1"
    ]
    assert all(t.holds for t in result.totals)


def test_stripe_broken_rows_stay_out_of_their_payout(tmp_path: Path) -> None:
    rows = frame(
        {},
        {"settlement_id": "S2", "currency": "XYZ"},
        {"settlement_id": "S3", "net_amount": "9.701", "gross_amount": "10.001"},
    )
    path = stripe.write(rows, tmp_path / "s.csv")
    result = read_profile(path, "stripe", ProfileSpec("settlement", options=stripe.READ_OPTIONS))
    assert [t.holds for t in result.totals] == [True, True]
    assert stripe.canonical_ids(rows)["payout_id"].to_list() == ["PO-1", None, None]


def test_stripe_payout_of_less_than_zero_has_no_payout_line(tmp_path: Path) -> None:
    rows = frame({"record_type": "refund", "gross_amount": "4.00", "fee_amount": "0.00",
                  "net_amount": "-4.00"}, {"settlement_id": "S2", "payout_id": "PO-2"})  # fmt: skip
    path = stripe.write(rows, tmp_path / "s.csv")
    result = read_profile(path, "stripe", ProfileSpec("settlement", options=stripe.READ_OPTIONS))
    assert [c.raw.split(",")[0] for c in result.control] == ["txn_PO-2"]
    assert [t.holds for t in result.totals] == [True, True]


def test_stripe_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    other = frame({"net_currency": "EUR", "exchange_rate": "0.9"})
    with pytest.raises(ValueError, match="one currency"):
        stripe.write(other, tmp_path / "s.csv")
    with pytest.raises(ValueError, match="spans"):
        stripe.write(frame({}, {"settlement_id": "S2", "currency": "EUR"}), tmp_path / "s.csv")


# --- PayPal --------------------------------------------------------------------------------------


def paypal_writer(rows: pl.DataFrame, path: Path) -> Path:
    return paypal.write(rows, path, ZONE)


def test_paypal_generated_night_round_trips(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, night: pl.DataFrame
) -> None:
    result, rejected = round_trip(
        connection, tmp_path, night, paypal_writer, "paypal", paypal.canonical_ids
    )
    numbered = night.with_columns(origin_row=pl.int_range(pl.len(), dtype=pl.Int64))
    canonical = typed(connection, numbered)
    unwritable = set(paypal.expected_rejections(night.with_row_index())["index"])
    assert rejected == set(canonical.rejected["origin_row"]) | unwritable
    assert {c.kind for c in result.control} == {"SF", "SC", "RF", "RC", "FF"}
    assert {t.check for t in result.totals} >= {
        "SB record count",
        "gross credits = sum of SB lines",
    }


def test_paypal_tiny_frame_currencies_refunds_chargebacks_duplicates(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = frame(
        *TINY,
        {"settlement_id": "S7", "gateway_ref": "GW-4", "net_amount": "9.90"},
    )  # fmt: skip
    result, rejected = round_trip(
        connection, tmp_path, rows, paypal_writer, "paypal", paypal.canonical_ids
    )
    # PayPal writes hundredths: 2.345 KWD (S6) cannot be written, and its line is rejected.
    assert rejected == {5} == set(paypal.expected_rejections(rows.with_row_index())["index"])
    (rejection,) = result.rejected
    assert rejection.column == "Gross Transaction Amount"
    read = pl.from_arrow(result.rows)
    assert read["settlement_id"].to_list() == [  # type: ignore[index]
        "GW-1/T0006", "GW-1/T1107", "GW-1/T1107", "GW-1/T1201", "gw-2/T0006", "GW-4/T0006",
    ]  # fmt: skip
    assert read["fee_amount"].to_list()[-1] == "0.1"  # type: ignore[index]
    assert read["payout_id"].null_count() == read.height  # type: ignore[index]
    assert sum(t.holds is True for t in result.totals) == len(result.totals) == 4 * 3 * 2 + 3
    lines = (tmp_path / "file").read_text().splitlines()
    assert lines[4].startswith("SB,GW-1,T1,,,T0006,2026/11/19 10:00:00 +0800,")
    assert (
        "SB,gw-2,T1,,,T0006,2026/11/19 11:00:00 +0800,2026/11/19 11:00:00 +0800,"
        "CR,150000,JPY,DR,4500" in lines[8]
    )


def test_paypal_net_above_gross_writes_a_credited_fee(tmp_path: Path) -> None:
    rows = frame({"gross_amount": "10.00", "fee_amount": "0.30", "net_amount": "10.50"})
    path = paypal.write(rows, tmp_path / "p.csv")
    result = read_profile(path, "paypal", ProfileSpec("settlement"))
    read = pl.from_arrow(result.rows).row(0, named=True)  # type: ignore[union-attr]
    assert (read["fee_amount"], read["net_amount"]) == ("0", "10.5")
    assert paypal.canonical_ids(rows)["fee_amount"].to_list() == ["0.00"]


def test_paypal_types_it_cannot_carry_are_rejected_naming_the_code(tmp_path: Path) -> None:
    rows = frame(
        {"record_type": "topup"},
        {"settlement_id": "S2", "record_type": "withdrawal", "net_amount": "-10.30"},
        {"settlement_id": "S3", "record_type": "paymnt"},
    )  # fmt: skip
    result = read_profile(
        paypal.write(rows, tmp_path / "p.csv"), "paypal", ProfileSpec("settlement")
    )
    assert [r.reason.split(" has")[0] for r in result.rejected] == [
        "Transaction Event Code: T0300 with CR", "Transaction Event Code: T0300 with DR",
        "Transaction Event Code: T9999 with CR",
    ]  # fmt: skip
    assert paypal.expected_rejections(rows).height == 3
    assert all(t.holds for t in result.totals)


def test_paypal_broken_rows_stay_broken(tmp_path: Path) -> None:
    rows = frame(
        {"gross_amount": "12.3.4"},
        {"settlement_id": "S2", "currency": "XYZ"},
        {"settlement_id": "S3", "settled_at": "2026-13-45T99:00:00"},
        {"settlement_id": "S4", "gateway_ref": ""},
        {"settlement_id": "S5", "gross_amount": "10.001", "net_amount": "9.701"},
    )  # fmt: skip
    result = read_profile(
        paypal.write(rows, tmp_path / "p.csv", ZONE), "paypal", ProfileSpec("settlement")
    )
    assert [r.column for r in result.rejected] == [
        "Gross Transaction Amount", "Gross Transaction Amount", "Transaction Completion Date",
        "Transaction ID", "Gross Transaction Amount",
    ]  # fmt: skip
    assert all(t.holds for t in result.totals)


def test_paypal_refuses_a_converted_row(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="another currency"):
        paypal.write(frame({"net_currency": "EUR", "exchange_rate": "0.9"}), tmp_path / "p.csv")


# --- every writer, on rows hypothesis makes ------------------------------------------------------

PLACES = {"USD": 2, "JPY": 0, "KWD": 3, "CNY": 2}
#: Per reader: writer, the ids it gives back, read options, and the currencies it carries
#: (PayPal settles no three-decimal currency: its amounts are hundredths).
WRITERS: dict[str, tuple[Writer, Ids, dict[str, str], list[str]]] = {
    "adyen": (adyen_writer, adyen.canonical_ids, {}, sorted(PLACES)),
    "stripe": (stripe_writer, stripe.canonical_ids, stripe.READ_OPTIONS, sorted(PLACES)),
    "paypal": (paypal_writer, paypal.canonical_ids, {}, ["CNY", "JPY", "USD"]),
}


def _money(units: int, currency: str) -> str:
    return str(Decimal(units).scaleb(-PLACES[currency]))


@st.composite
def settlement_row(draw: st.DrawFn, currencies: list[str]) -> dict[str, str]:
    """A clean canonical settlement row: any type the gateways carry, amounts that add up."""
    kind = draw(st.sampled_from(["payment", "refund", "chargeback"]))
    currency = draw(st.sampled_from(currencies))
    gross, fee = draw(st.integers(0, 10**9)), draw(st.integers(0, 10**6))
    moment = datetime.fromtimestamp(draw(st.integers(1_780_000_000, 1_800_000_000)), UTC)
    local = moment.astimezone(ZoneInfo(ZONE))
    settled = draw(st.sampled_from([
        f"{moment:%Y-%m-%dT%H:%M:%SZ}", local.isoformat(), f"{local:%Y-%m-%dT%H:%M:%S}"
    ]))  # fmt: skip
    return {
        "gateway_ref": draw(st.sampled_from(["GW-A", "GW-B", " gw-a ", "GW-C"])),
        "merchant_ref": draw(st.sampled_from(["T1", "T2", ""])), "record_type": kind,
        "gross_amount": _money(gross, currency), "fee_amount": _money(fee, currency),
        "net_amount": _money(gross - fee if kind == "payment" else -gross - fee, currency),
        "currency": currency, "settled_at": settled,
        "payout_id": draw(st.sampled_from(["", f"PO-{currency}-1", f"PO-{currency}-2"])),
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("reader", sorted(WRITERS))
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_writers_round_trip_any_clean_rows(
    connection: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    reader: str,
    data: st.DataObject,
) -> None:
    writer, ids, options, currencies = WRITERS[reader]
    rows = data.draw(st.lists(settlement_row(currencies), min_size=1, max_size=8))
    numbered = [{**row, "settlement_id": f"S{index}"} for index, row in enumerate(rows)]
    _, rejected = round_trip(connection, tmp_path, frame(*numbered), writer, reader, ids, options)
    assert rejected == set()
