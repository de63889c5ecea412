"""Tests of the sample data generator: determinism, truth coverage and internal consistency."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from walletrecon.config import Config, load_config
from walletrecon.kinds import names
from walletrecon.money import exponent_of
from walletrecon.sample import CURRENCIES, GATEWAYS, FeeRates, SampleSummary, generate
from walletrecon.sample.balance_causes import ENTRY_AFTER_CUTOFF
from walletrecon.sample.model import TRUTH_COLUMNS

DAYS = 5
ROWS = 400
SEED = 7
BREAK_TYPES = set(names())
AMOUNT_COLUMNS = {
    "ledger": ("amount",),
    "settlement": ("gross_amount", "fee_amount", "net_amount"),
    "receipts": ("amount",),
    "bank": ("amount",),
    "balances": ("balance",),
}
ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_FEES = Config.model_validate(
    {
        "fees": {
            "adyen": {
                "percent": "1.5",
                "fixed": {"CNY": "0.20", "USD": "0.30", "JPY": "40", "KWD": "0.100"},
            },
            "stripe": {"percent": "2.9", "fixed": {"USD": "0.30", "CNY": "0.50"}},
        }
    }
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """The small mixed-format data set, generated once for the module."""
    return generate(
        tmp_path_factory.mktemp("sample"), days=DAYS, seed=SEED, rows=ROWS, mixed_formats=True
    )


@pytest.fixture(scope="module")
def truth(sample: SampleSummary) -> pl.DataFrame:
    """truth.csv as strings."""
    return pl.read_csv(sample.out_dir / "truth.csv", infer_schema=False)


def read_source(folder: Path, source: str) -> pl.DataFrame:
    """One source of one inbox folder, whatever its format, every column a string."""
    for name in (f"{source}.csv", f"{source}.csv.gz"):
        if (folder / name).exists():
            return pl.read_csv(folder / name, infer_schema=False)
    return pl.read_parquet(folder / f"{source}.parquet")


def read_all(sample: SampleSummary, source: str) -> pl.DataFrame:
    """One source over every night, with the folder date in ``folder``."""
    frames = [
        read_source(sample.out_dir / "inbox" / day.isoformat(), source).with_columns(
            pl.lit(day.isoformat()).alias("folder")
        )
        for day in sample.dates
    ]
    return pl.concat(frames)


def delivered_rows(sample: SampleSummary, truth: pl.DataFrame, source: str) -> pl.DataFrame:
    """A source without the deliberately bad rows, every version in delivery order."""
    rejected = truth.filter((pl.col("type") == "rejected") & (pl.col("source") == source))
    frame = read_all(sample, source)
    return frame.filter(~pl.col(frame.columns[0]).is_in(rejected["row_id"].to_list()))


def clean_rows(
    sample: SampleSummary, truth: pl.DataFrame, source: str, version: str = "latest"
) -> pl.DataFrame:
    """A source without the deliberately bad rows and with each id once (re-deliveries folded:
    each version as first delivered; of an updated ledger entry, its latest version, or with
    ``version="first"`` its first)."""
    frame = delivered_rows(sample, truth, source)
    content = [name for name in frame.columns if name != "folder"]
    frame = frame.unique(subset=content, keep="first", maintain_order=True)
    keep = "last" if version == "latest" else "first"
    return frame.unique(subset=frame.columns[0], keep=keep, maintain_order=True)


def postings_of(ledger: pl.DataFrame) -> dict[str, list[tuple[datetime, Decimal]]]:
    """What each version of each entry moved its account's balance by, and when: a succeeded
    version posts at posted_at; one reversing a succeeded version gives the amount back on the
    business day it was delivered."""
    postings: dict[str, list[tuple[datetime, Decimal]]] = defaultdict(list)
    last_status: dict[str, str] = {}
    for entry, account, status, posted_at, amount, folder in ledger.select(
        "entry_id", "account_id", "status", "posted_at", "amount", "folder"
    ).iter_rows():
        before = last_status.get(entry)
        last_status[entry] = status
        if status == before:
            continue
        if status == "succeeded":
            postings[account].append((instant(posted_at), Decimal(amount)))
        elif status == "reversed" and before == "succeeded":
            noon = datetime.combine(date.fromisoformat(folder), time(12), ZONE)
            postings[account].append((noon, -Decimal(amount)))
    return postings


def instant(text: str) -> datetime:
    """An ISO 8601 timestamp; one without offset is local time in the sample's zone."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZONE)


def truth_keys(truth: pl.DataFrame, kind: str) -> set[tuple[str, str]]:
    """(key, run_date) of the truth rows of one type."""
    rows = truth.filter(pl.col("type") == kind)
    return set(zip(rows["key"].to_list(), rows["run_date"].to_list(), strict=True))


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "first", days=3, seed=11, rows=200, mixed_formats=True)
    second = generate(tmp_path / "second", days=3, seed=11, rows=200, mixed_formats=True)
    other = generate(tmp_path / "other", days=3, seed=12, rows=200)
    names = sorted(p.relative_to(first.out_dir) for p in first.out_dir.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(second.out_dir) for p in second.out_dir.rglob("*") if p.is_file()
    )
    for name in names:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name
    ledger = Path("inbox/2026-11-16/ledger.csv")
    assert (first.out_dir / ledger).read_bytes() != (other.out_dir / ledger).read_bytes()
    assert first == SampleSummary(
        first.out_dir, second.dates, second.rows_per_source, second.injected
    )


def test_summary_and_layout(sample: SampleSummary) -> None:
    assert sample.dates == [date(2026, 11, 16) + timedelta(days=day) for day in range(DAYS)]
    folders = sorted(p.name for p in (sample.out_dir / "inbox").iterdir())
    assert folders == [day.isoformat() for day in sample.dates]
    for source in AMOUNT_COLUMNS:
        assert sample.rows_per_source[source] == read_all(sample, source).height
    assert ROWS * DAYS <= sample.rows_per_source["ledger"] <= ROWS * DAYS * 1.2


def test_every_type_is_in_truth_and_due_by_the_last_night(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    assert truth.columns == list(TRUTH_COLUMNS)
    assert set(truth["type"]) == BREAK_TYPES | {"rejected", "redelivered", "updated"}
    run_dates = set(truth["run_date"].to_list())
    assert run_dates <= {day.isoformat() for day in sample.dates}
    breaks = truth.filter(pl.col("type").is_in(BREAK_TYPES))
    assert breaks.select("type", "key").is_unique().all(), "one break per (type, key)"
    assert truth.filter(pl.col("key").is_null() | pl.col("note").is_null()).is_empty()
    counts = truth.group_by("type").len()
    assert dict(zip(counts["type"], counts["len"], strict=True)) == sample.injected


def test_truth_rows_name_rows_that_were_delivered(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    delivered = {
        source: set(read_all(sample, source)[read_all(sample, source).columns[0]].to_list())
        for source in ("ledger", "settlement", "receipts", "bank")
    }
    carried = truth.filter(
        pl.col("source").is_in(list(delivered)) & (pl.col("type") != "payout_mismatch")
    )
    for source, row_id in carried.select("source", "row_id").iter_rows():
        assert row_id in delivered[source], (source, row_id)


def test_amounts_are_exact_with_the_currency_decimals(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    for source, columns in AMOUNT_COLUMNS.items():
        frame = (
            clean_rows(sample, truth, source) if source != "balances" else read_all(sample, source)
        )
        for row in frame.select("currency", *columns).iter_rows():
            currency, amounts = row[0], row[1:]
            decimals = exponent_of(currency)
            pattern = rf"-?\d+\.\d{{{decimals}}}" if decimals else r"-?\d+"
            for amount in amounts:
                assert re.fullmatch(pattern, amount), (source, currency, amount)


def test_bad_rows_are_flawed_and_recorded(sample: SampleSummary, truth: pl.DataFrame) -> None:
    rejected = truth.filter(pl.col("type") == "rejected")
    assert set(rejected["source"]) == {"ledger", "settlement"}
    ledger = read_all(sample, "ledger")
    bad = ledger.filter(pl.col("entry_id").is_in(rejected["row_id"].to_list()))
    assert bad.height == rejected.filter(pl.col("source") == "ledger").height
    assert {"12.3.4", "-12.3.4"} & set(bad["amount"])
    assert "XYZ" in set(bad["currency"])
    assert "paymnt" in set(bad["entry_type"])
    assert bad["account_id"].null_count() >= 1


def test_balances_follow_the_ledger_except_injected(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    postings = postings_of(delivered_rows(sample, truth, "ledger"))
    injected = truth_keys(truth, "balance_mismatch")
    # An entry counted early is posted the next night: the same break continues then.
    continued = {
        (account, (date.fromisoformat(night) + timedelta(days=1)).isoformat())
        for account, night in truth_keys(
            truth.filter(pl.col("cause") == ENTRY_AFTER_CUTOFF), "balance_mismatch"
        )
    }
    found = set()
    previous: dict[str, tuple[datetime | None, Decimal]] = {}
    balances = read_all(sample, "balances").sort("folder", "account_id")
    for account, as_of, balance, folder in balances.select(
        "account_id", "as_of", "balance", "folder"
    ).iter_rows():
        cut = instant(as_of)
        since, opening = previous.get(account, (None, Decimal(0)))
        moved = sum(
            (
                amount
                for posted, amount in postings[account]
                if posted <= cut and (since is None or posted > since)
            ),
            Decimal(0),
        )
        if Decimal(balance) != opening + moved:
            found.add((account, folder))
        previous[account] = (cut, Decimal(balance))
    last = sample.dates[-1].isoformat()
    assert found == injected | {(account, night) for account, night in continued if night <= last}
    assert injected


def test_bank_lines_equal_payout_sums_except_injected(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    settlement = clean_rows(sample, truth, "settlement")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for payout_id, net in settlement.select("payout_id", "net_amount").iter_rows():
        totals[payout_id] += Decimal(net)
    found = set()
    banked = set()
    for line_id, amount, reference, folder, value_date in (
        read_all(sample, "bank")
        .select("bank_line_id", "amount", "reference", "folder", "value_date")
        .iter_rows()
    ):
        assert folder == value_date
        match = re.search(r"PO-[a-z_]+-[A-Z]{3}-\d{8}", reference)
        if match is None or match.group(0) not in totals:
            due = date.fromisoformat(value_date) + timedelta(days=2)
            if due <= sample.dates[-1]:
                found.add((line_id, due.isoformat()))
            continue
        banked.add(match.group(0))
        if Decimal(amount) != totals[match.group(0)]:
            found.add((match.group(0), folder))
    for payout_id in set(totals) - banked:
        due = datetime.strptime(payout_id[-8:], "%Y%m%d").date() + timedelta(days=2)
        if due <= sample.dates[-1]:
            found.add((payout_id, due.isoformat()))
    assert found == truth_keys(truth, "payout_mismatch")


def expected_fee(
    config: Config, gateway: str, currency: str, record_type: str, gross: Decimal
) -> Decimal | None:
    """The configured fee of a line; None when the gateway has no fee table."""
    schedule = config.fees.get(gateway)
    if schedule is None:
        return None
    if record_type not in schedule.record_types:
        return Decimal(0)
    raw = gross * schedule.percent / 100 + schedule.fixed.get(currency, Decimal(0))
    return raw.quantize(Decimal(1).scaleb(-exponent_of(currency)), rounding=ROUND_HALF_EVEN)


def test_fees_and_nets_follow_the_schedule_except_injected(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    config = load_config(sample.out_dir / "walletrecon.toml")
    assert config.timezone == "Asia/Shanghai"
    assert set(config.fees) == {"adyen", "stripe"}
    assert config.fees["adyen"].fixed["KWD"] == Decimal("0.100")
    injected = set(truth.filter(pl.col("type") == "fee_mismatch")["row_id"])
    found = set()
    for line_id, gateway, record_type, gross, fee, net, currency in (
        clean_rows(sample, truth, "settlement")
        .select(
            "settlement_id",
            "gateway",
            "record_type",
            "gross_amount",
            "fee_amount",
            "net_amount",
            "currency",
        )
        .iter_rows()
    ):
        gross_value, fee_value = Decimal(gross), Decimal(fee)
        inbound = record_type in ("payment", "topup")
        expected_net = gross_value - fee_value if inbound else -gross_value - fee_value
        expected = expected_fee(config, gateway, currency, record_type, gross_value)
        if Decimal(net) != expected_net or (expected is not None and expected != fee_value):
            found.add(line_id)
    assert found == injected


def test_mixed_formats_write_gzip_parquet_and_bom(sample: SampleSummary) -> None:
    inbox = sample.out_dir / "inbox"
    second, third, fourth = (inbox / day.isoformat() for day in sample.dates[1:4])
    assert (second / "ledger.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert not (second / "ledger.csv").exists()
    assert (third / "settlement.parquet").read_bytes()[:4] == b"PAR1"
    assert not (third / "settlement.csv").exists()
    parquet = pl.read_parquet(third / "settlement.parquet")
    assert all(dtype == pl.String for dtype in parquet.dtypes)
    assert (fourth / "receipts.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert (
        not (inbox / sample.dates[0].isoformat() / "receipts.csv")
        .read_bytes()
        .startswith(b"\xef\xbb\xbf")
    )


def test_timestamps_come_in_three_styles(sample: SampleSummary, truth: pl.DataFrame) -> None:
    created = clean_rows(sample, truth, "ledger")["created_at"].to_list()
    styles = {
        "offset": sum(text.endswith("+08:00") for text in created),
        "utc": sum(text.endswith("Z") for text in created),
        "local": sum(re.fullmatch(r"[\d-]{10}T[\d:]{8}", text) is not None for text in created),
    }
    assert styles["offset"] > styles["utc"] > styles["local"] > 0


def test_rejects_too_small_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days"):
        generate(tmp_path, days=0, seed=1)
    with pytest.raises(ValueError, match="rows"):
        generate(tmp_path, days=1, seed=1, rows=9)


def test_fee_rounding_is_half_even_like_decimal() -> None:
    fees = FeeRates.build()
    gross = np.concatenate([np.arange(1, 3000), np.array([100, 300, 500, 1500, 2500, 34500])])
    for gateway_code, gateway in enumerate(GATEWAYS):
        for currency_code, currency in enumerate(CURRENCIES):
            for record_type_code, record_type in ((0, "payment"), (3, "withdrawal")):
                size = len(gross)
                computed = fees.expected_fee(
                    np.full(size, gateway_code),
                    np.full(size, currency_code),
                    np.full(size, record_type_code),
                    gross,
                )
                scale = Decimal(1).scaleb(-exponent_of(currency))
                for minor, fee in zip(gross.tolist(), computed.tolist(), strict=True):
                    expected = expected_fee(
                        DEFAULT_FEES, gateway, currency, record_type, Decimal(minor) * scale
                    )
                    assert Decimal(fee) * scale == (expected or 0), (gateway, currency, minor)


def test_ledger_rows_are_consistent(sample: SampleSummary, truth: pl.DataFrame) -> None:
    ledger = clean_rows(sample, truth, "ledger", version="first")
    early = set(truth.filter(pl.col("cause") == ENTRY_AFTER_CUTOFF)["key"].to_list())
    for account, created_at, posted_at, status, entry_type, merchant, reference in ledger.select(
        "account_id",
        "created_at",
        "posted_at",
        "status",
        "entry_type",
        "merchant_id",
        "gateway_ref",
    ).iter_rows():
        assert (posted_at is not None) == (status == "succeeded")
        if posted_at is not None:
            created, posted = instant(created_at), instant(posted_at)
            created_day = created.astimezone(ZONE).date()
            cutoff = datetime.combine(created_day + timedelta(days=1), time(), ZONE)
            # An entry the wallet counted early is posted just after the cut-off.
            if not (account in early and cutoff < posted <= cutoff + timedelta(minutes=30)):
                assert created < posted <= created + timedelta(seconds=15)
                assert created_day == posted.astimezone(ZONE).date()
        assert (merchant is not None) == (entry_type in ("payment", "refund"))
        routed = entry_type in ("payment", "refund", "topup", "withdrawal")
        assert (reference is not None) == routed
    transfers: dict[str, Decimal] = defaultdict(Decimal)
    for txn, entry_type, amount in ledger.select("txn_id", "entry_type", "amount").iter_rows():
        if entry_type.startswith("transfer_"):
            transfers[txn] += Decimal(amount)
    assert transfers
    assert set(transfers.values()) == {0}


def pair_breaks(sample: SampleSummary, truth: pl.DataFrame) -> dict[tuple[str, str], str]:
    """Breaks between the ledger and settlement/receipts, per CONTRACT, with the first night.

    A slow reference reading of the contract: every pair is compared on the night both sides
    have been delivered, absences are breaks when the window has passed.
    """
    last = sample.dates[-1]
    found: dict[tuple[str, str], str] = {}

    def report(kind: str, key: str, night: date) -> None:
        if night <= last and night.isoformat() < found.get((kind, key), "9999"):
            found[(kind, key)] = night.isoformat()

    ledger = clean_rows(sample, truth, "ledger").to_dicts()
    by_reference = {row["gateway_ref"].strip().upper(): row for row in ledger if row["gateway_ref"]}
    payments = {row["txn_id"]: row for row in ledger if row["entry_type"] == "payment"}
    counterpart_nights: dict[tuple[str, str], list[date]] = defaultdict(list)
    copies: dict[tuple[str, str], list[date]] = defaultdict(list)
    for source, time_column, amount_column in (
        ("settlement", "settled_at", "gross_amount"),
        ("receipts", "received_at", "amount"),
    ):
        for row in clean_rows(sample, truth, source).to_dicts():
            night = date.fromisoformat(row["folder"])
            if source == "settlement":
                reference = row["gateway_ref"].strip().upper()
                copies[(source, reference)].append(night)
                entry = by_reference.get(reference)
                if entry is None:
                    settled = instant(row["settled_at"]).astimezone(ZONE).date()
                    report("missing_in_ledger", reference, settled + timedelta(days=2))
                    continue
            else:
                entry = payments.get(row["txn_id"])
                if entry is None:  # a receipt under a mistyped txn_id (a near miss)
                    received = instant(row["received_at"]).astimezone(ZONE).date()
                    report("missing_in_ledger", row["txn_id"], received + timedelta(days=1))
                    continue
                copies[(source, entry["txn_id"])].append(night)
            counterpart_nights[(source, entry["txn_id"])].append(night)
            both = max(night, date.fromisoformat(entry["folder"]))
            if row["currency"] != entry["currency"]:
                report("currency_mismatch", entry["txn_id"], both)
            elif Decimal(row[amount_column]) != abs(Decimal(entry["amount"])):
                report("amount_mismatch", entry["txn_id"], both)
            if entry["status"] != "succeeded":
                report("status_mismatch", entry["txn_id"], both)
            if instant(row[time_column]) - instant(entry["created_at"]) > timedelta(hours=24):
                report("sync_delay", entry["txn_id"], both)
    for (_, key), nights in copies.items():
        if len(nights) > 1:
            report("duplicate", key, sorted(nights)[1])
    entry_nights: dict[str, list[date]] = defaultdict(list)
    for row in ledger:
        created = instant(row["created_at"]).astimezone(ZONE).date()
        if row["entry_type"] == "payment":
            entry_nights[row["txn_id"]].append(date.fromisoformat(row["folder"]))
        if row["status"] != "succeeded" or row["gateway_ref"] is None:
            continue
        for source, window, kind in (
            ("settlement", 2, "missing_in_settlement"),
            ("receipts", 1, "payment_not_received"),
        ):
            if source == "receipts" and row["entry_type"] != "payment":
                continue
            due = created + timedelta(days=window)
            if not [night for night in counterpart_nights[(source, row["txn_id"])] if night <= due]:
                report(kind, row["txn_id"], due)
    for txn, nights in entry_nights.items():
        if len(nights) > 1:
            report("duplicate", txn, sorted(nights)[1])
    return found


def test_pairs_break_exactly_where_truth_says(sample: SampleSummary, truth: pl.DataFrame) -> None:
    kinds = BREAK_TYPES - {"balance_mismatch", "payout_mismatch", "fee_mismatch"}
    expected = {
        (kind, key): run_date
        for kind, key, run_date in truth.filter(pl.col("type").is_in(kinds))
        .select("type", "key", "run_date")
        .iter_rows()
    }
    assert pair_breaks(sample, truth) == expected


def test_updates_come_the_next_night_with_the_status_moved_forward(
    sample: SampleSummary, truth: pl.DataFrame
) -> None:
    updated = truth.filter(pl.col("type") == "updated")
    assert updated.height > 0
    versions = delivered_rows(sample, truth, "ledger").filter(
        pl.col("entry_id").is_in(updated["row_id"].to_list())
    )
    moves = set()
    for entry, group in versions.unique(maintain_order=True).group_by("entry_id"):
        first, later = group.row(0, named=True), group.row(-1, named=True)
        assert group.height == 2, entry
        assert date.fromisoformat(later["folder"]) == date.fromisoformat(
            first["folder"]
        ) + timedelta(days=1)
        moves.add((first["status"], later["status"]))
    assert moves == {("pending", "succeeded"), ("pending", "failed"), ("succeeded", "reversed")}
    # The gateway and the merchant see an updated entry no earlier than its update.
    update_night = dict(zip(updated["key"].to_list(), updated["run_date"].to_list(), strict=True))
    entry_of_txn = dict(versions.select("txn_id", "entry_id").iter_rows())
    for source in ("settlement", "receipts"):
        rows = read_all(sample, source)
        txn_column = "merchant_ref" if source == "settlement" else "txn_id"
        for txn, folder in rows.select(txn_column, "folder").iter_rows():
            if txn in entry_of_txn:
                assert folder >= update_night[entry_of_txn[txn]]
