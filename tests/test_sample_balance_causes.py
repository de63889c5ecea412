"""The sample generator's balance breaks with a likely cause, read back from the written files.

For each account and night the contract's difference is computed with polars: the reported
balance minus the previous reported balance and the account's succeeded entries posted on that
business day (the first snapshot: minus every succeeded entry). Each injected cause must show as
exactly the amount it names.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from walletrecon.causes import CAUSE_LIST, CAUSES
from walletrecon.sample import SampleSummary, generate
from walletrecon.sample.balance_causes import (
    DUPLICATE_ENTRY,
    ENTRY_AFTER_CUTOFF,
    FEE_NOT_BOOKED,
    LATE_COUNTERPART,
)

DAYS = 4
ROWS = 3000
SEED = 3
#: Drifting accounts a night at this size (``Generation.per_variant``), and breaks of each
#: balance cause (``Generation.per_cause``).
PER_VARIANT = ROWS // 1000
PER_CAUSE = max(1, PER_VARIANT // 4)
ZONE_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(ZONE_NAME)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate(tmp_path_factory.mktemp("balance_causes"), days=DAYS, seed=SEED, rows=ROWS)


@pytest.fixture(scope="module")
def truth(sample: SampleSummary) -> pl.DataFrame:
    return pl.read_csv(sample.out_dir / "truth.csv", infer_schema=False).with_columns(
        pl.col("run_date").str.to_date()
    )


def read_all(sample: SampleSummary, source: str) -> pl.DataFrame:
    """One source over every night, every column a string, the folder's date in ``night``."""
    return pl.concat(
        pl.read_csv(
            sample.out_dir / "inbox" / night.isoformat() / f"{source}.csv", infer_schema=False
        ).with_columns(pl.lit(night).alias("night"))
        for night in sample.dates
    )


def minor(column: str) -> pl.Expr:
    """A decimal amount as integer minor units (every amount of a currency has its decimals)."""
    return pl.col(column).str.replace(".", "", literal=True).cast(pl.Int64)


def instant(column: str) -> pl.Expr:
    """An ISO 8601 timestamp (with offset, ``Z`` or local time) as a UTC datetime."""
    text = pl.col(column)
    utc = pl.Datetime("us", "UTC")
    return (
        pl.when(text.str.ends_with("Z"))
        .then(text.str.strptime(utc, "%Y-%m-%dT%H:%M:%SZ", strict=False))
        .when(text.str.len_chars() == 19)
        .then(
            text.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
            .dt.replace_time_zone(ZONE_NAME)
            .dt.convert_time_zone("UTC")
        )
        .otherwise(text.str.strptime(utc, "%Y-%m-%dT%H:%M:%S%:z", strict=False))
    )


def business_day(column: str) -> pl.Expr:
    """The local business date of a timestamp column."""
    return instant(column).dt.convert_time_zone(ZONE_NAME).dt.date()


def cutoff(night: date) -> datetime:
    """The end of a business day: the next local midnight, in UTC."""
    return datetime.combine(night + timedelta(days=1), time(), ZONE).astimezone(UTC)


@pytest.fixture(scope="module")
def ledger(sample: SampleSummary, truth: pl.DataFrame) -> pl.DataFrame:
    """Every ledger version delivered, bad rows left out, re-deliveries folded, amounts in minor
    units, with the status of the entry's version before (null for the first)."""
    rejected = truth.filter((pl.col("type") == "rejected") & (pl.col("source") == "ledger"))
    frame = read_all(sample, "ledger").filter(
        ~pl.col("entry_id").is_in(rejected["row_id"].to_list())
    )
    content = [name for name in frame.columns if name != "night"]
    return (
        frame.unique(subset=content, keep="first", maintain_order=True)
        .with_columns(
            minor("amount").alias("minor"),
            instant("posted_at").alias("posted"),
            pl.col("status").shift(1).over("entry_id").alias("before"),
        )
        .filter(pl.col("status") != pl.col("before").fill_null(""))
    )


@pytest.fixture(scope="module")
def differences(sample: SampleSummary, ledger: pl.DataFrame) -> pl.DataFrame:
    """(account_id, night, difference) where a snapshot differs from the contract's expected
    balance: previous reported balance plus the succeeded entries posted on that business day
    (a reversal gives the money back on the night delivering it)."""
    succeeded = ledger.filter(pl.col("status") == "succeeded").select(
        "account_id", business_day("posted_at").alias("day"), "minor"
    )
    reversed_ = ledger.filter(
        (pl.col("status") == "reversed") & (pl.col("before") == "succeeded")
    ).select("account_id", pl.col("night").alias("day"), (-pl.col("minor")).alias("minor"))
    postings = pl.concat([succeeded, reversed_])
    assert postings["day"].min() == sample.dates[0]  # nothing before the first snapshot
    moved = postings.group_by("account_id", "day").agg(pl.col("minor").sum().alias("moved"))
    return (
        read_all(sample, "balances")
        .select("account_id", "night", minor("balance").alias("balance"))
        .sort("account_id", "night")
        .with_columns(pl.col("balance").shift(1).over("account_id").fill_null(0).alias("opening"))
        .join(moved, left_on=["account_id", "night"], right_on=["account_id", "day"], how="left")
        .select(
            "account_id",
            "night",
            (pl.col("balance") - pl.col("opening") - pl.col("moved").fill_null(0)).alias(
                "difference"
            ),
        )
        .filter(pl.col("difference") != 0)
    )


def difference(differences: pl.DataFrame, account: str, night: date) -> int:
    """The account's difference on that night (0 when it has none)."""
    found = differences.filter((pl.col("account_id") == account) & (pl.col("night") == night))
    return int(found["difference"].sum())


def caused(truth: pl.DataFrame, cause: str) -> list[tuple[str, date]]:
    """(account, night) of the balance breaks injected with this cause."""
    rows = truth.filter((pl.col("type") == "balance_mismatch") & (pl.col("cause") == cause))
    return list(rows.select("key", "run_date").iter_rows())


def test_each_cause_is_injected_each_night(truth: pl.DataFrame) -> None:
    for cause in (ENTRY_AFTER_CUTOFF, DUPLICATE_ENTRY, FEE_NOT_BOOKED):
        nights = [night for _, night in caused(truth, cause)]
        assert len(nights) == PER_CAUSE * DAYS, cause
        assert len(set(nights)) == DAYS, cause


def test_entry_after_cutoff_is_counted_that_night_and_posted_the_next(
    sample: SampleSummary,
    truth: pl.DataFrame,
    ledger: pl.DataFrame,
    differences: pl.DataFrame,
) -> None:
    for account, night in caused(truth, ENTRY_AFTER_CUTOFF):
        end = cutoff(night)
        late = ledger.filter(
            (pl.col("account_id") == account)
            & (pl.col("night") == night)
            & (pl.col("status") == "succeeded")
            & (pl.col("posted") > end)
            & (pl.col("posted") <= end + timedelta(minutes=30))
        )
        assert late.height == 1, (account, night)
        assert late.select(business_day("created_at")).item() == night
        amount = int(late["minor"].item())
        assert amount != 0
        assert difference(differences, account, night) == amount
        following = night + timedelta(days=1)
        if following <= sample.dates[-1]:
            assert difference(differences, account, following) == -amount


def test_duplicate_entry_is_in_the_ledger_not_in_the_balance(
    truth: pl.DataFrame, ledger: pl.DataFrame, differences: pl.DataFrame
) -> None:
    copies = truth.filter((pl.col("type") == "duplicate") & (pl.col("source") == "ledger"))
    for account, night in caused(truth, DUPLICATE_ENTRY):
        copied = ledger.filter(
            (pl.col("account_id") == account)
            & (pl.col("night") == night)
            & pl.col("entry_id").is_in(
                copies.filter(pl.col("run_date") == night)["row_id"].to_list()
            )
        )
        assert copied.height >= 1, (account, night)
        amounts = set(copied["minor"].to_list())
        assert -difference(differences, account, night) in amounts, (account, night)
        for txn in copied["txn_id"]:
            booked = ledger.filter((pl.col("txn_id") == txn) & (pl.col("entry_type") == "payment"))
            assert booked.height == 2 and booked["minor"].n_unique() == 1


def test_fee_not_booked_is_a_fee_of_that_nights_settlement(
    sample: SampleSummary,
    truth: pl.DataFrame,
    ledger: pl.DataFrame,
    differences: pl.DataFrame,
) -> None:
    settlement = read_all(sample, "settlement").with_columns(minor("fee_amount").alias("fee"))
    for account, night in caused(truth, FEE_NOT_BOOKED):
        entries = ledger.filter(
            (pl.col("account_id") == account)
            & (pl.col("night") == night)
            & pl.col("entry_type").is_in(["payment", "topup"])
            & (pl.col("status") == "succeeded")
        )
        lines = settlement.filter(
            (pl.col("night") == night)
            & pl.col("merchant_ref").is_in(entries["txn_id"].to_list())
            & (pl.col("fee") > 0)
        )
        fee = -difference(differences, account, night)
        assert fee > 0, (account, night)
        assert fee in set(lines["fee"].to_list()), (account, night)
        line = lines.filter(pl.col("fee") == fee).row(0, named=True)
        entry = entries.filter(pl.col("txn_id") == line["merchant_ref"]).row(0, named=True)
        assert line["currency"] == entry["currency"]


def test_balance_breaks_are_one_per_account_and_exactly_where_truth_says(
    sample: SampleSummary, truth: pl.DataFrame, differences: pl.DataFrame
) -> None:
    balance = truth.filter(pl.col("type") == "balance_mismatch")
    assert balance["key"].is_unique().all()
    assert (balance["key"] == balance["row_id"]).all()
    assert set(balance["source"]) == {"balances"}
    assert set(truth["cause"].drop_nulls()) <= set(CAUSES)
    balance_causes = {cause.name for cause in CAUSE_LIST if "balance_mismatch" in cause.kinds}
    assert {ENTRY_AFTER_CUTOFF, DUPLICATE_ENTRY, FEE_NOT_BOOKED} == balance_causes
    assert set(balance["cause"].drop_nulls()) == balance_causes
    assert balance["cause"].null_count() == PER_VARIANT * DAYS  # the drifts, without a cause
    expected = set(balance.select("key", "run_date").iter_rows())
    expected |= {
        (account, night + timedelta(days=1))
        for account, night in caused(truth, ENTRY_AFTER_CUTOFF)
        if night < sample.dates[-1]
    }
    assert set(differences.select("account_id", "night").iter_rows()) == expected


def test_a_late_receipt_comes_two_nights_after_its_payment(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    """Each late-counterpart break is a payment whose receipt is in the inbox two nights after
    the payment's night (one past the receipt window), and is due the night in between."""
    late = truth.filter(pl.col("cause") == LATE_COUNTERPART)
    assert late.height > 0
    assert set(late["type"]) == {"payment_not_received"}
    ledger = read_all(sample, "ledger").select("txn_id", pl.col("night").alias("paid"))
    receipts = read_all(sample, "receipts").select("txn_id", pl.col("night").alias("received"))
    joined = late.join(ledger.unique("txn_id"), left_on="key", right_on="txn_id").join(
        receipts, left_on="key", right_on="txn_id"
    )
    assert joined.height == late.height
    days = (pl.col("received") - pl.col("paid")).dt.total_days()
    assert joined.select(days.alias("days"))["days"].to_list() == [2] * late.height
    due = (pl.col("run_date") - pl.col("paid")).dt.total_days()
    assert joined.select(due.alias("due"))["due"].to_list() == [1] * late.height
