"""Hash shards: the balances and payouts kernels give the same findings, outcomes and state in
any number of shards as in one call; the shard count follows from the memory budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_kernel_balances import ZONE, entries, snapshots
from tests.test_kernel_payouts import bank, lines
from walletrecon.cli import main
from walletrecon.config import parse_config
from walletrecon.errors import ConfigError
from walletrecon.kernels import KernelResult
from walletrecon.kernels import balances as balances_kernel
from walletrecon.kernels import payouts as payouts_kernel
from walletrecon.match.balances import posting_totals
from walletrecon.match.payouts import line_totals
from walletrecon.shards import (
    WORKING_SET_FACTOR,
    LocalExecutor,
    input_frames,
    lazy_frames,
    memory_budget,
    partition,
    physical_memory,
    shard_count,
    shard_of,
)
from walletrecon.state import BANK_WORK, PAYOUTS, POSTINGS, SNAPSHOTS, empty

RUN = dt.date(2026, 11, 20)
SHARDS = (1, 2, 3, 7)
BALANCE_PARAMS = balances_kernel.BalanceParams(pl.lit(0, pl.Int64))
PAYOUT_PARAMS = payouts_kernel.PayoutParams(window_days=2, tolerance=pl.lit(0, pl.Int64))


def canonical(frame: pl.DataFrame) -> tuple[dict[str, pl.DataType], list[str]]:
    """A frame's schema and its rows in a fixed order (shards concatenate in their own order)."""
    return dict(frame.schema), sorted(repr(row) for row in frame.rows())


def assert_same(sharded: KernelResult, whole: KernelResult) -> None:
    assert canonical(sharded.findings) == canonical(whole.findings)
    assert canonical(sharded.outcomes) == canonical(whole.outcomes)
    assert sharded.state.keys() == whole.state.keys()
    for name, frame in whole.state.items():
        assert canonical(sharded.state[name]) == canonical(frame), name


def balance_nights(executor: Any, nights: list[tuple[pl.DataFrame, pl.DataFrame]]) -> list[Any]:
    """Run the balances kernel night after night through an executor; every night's result."""
    state = balances_kernel.BalanceState(empty(POSTINGS), empty(SNAPSHOTS))
    results = []
    for offset, (posted, reported) in enumerate(nights):
        tonight = balances_kernel.BalanceTonight(posting_totals(posted, ZONE), reported)
        day = RUN + dt.timedelta(days=offset)
        result = executor.run(balances_kernel.KERNEL, state, tonight, BALANCE_PARAMS, day)
        results.append(result)
        state = balances_kernel.BalanceState(result.state["postings"], result.state["snapshots"])
    return results


def payout_nights(executor: Any, nights: list[tuple[pl.DataFrame, pl.DataFrame]]) -> list[Any]:
    """Run the payouts kernel night after night through an executor; every night's result."""
    state = payouts_kernel.PayoutState(empty(PAYOUTS), empty(BANK_WORK))
    results = []
    for offset, (settled, paid) in enumerate(nights):
        tonight = payouts_kernel.PayoutTonight(line_totals(settled), paid)
        day = RUN + dt.timedelta(days=offset)
        result = executor.run(payouts_kernel.KERNEL, state, tonight, PAYOUT_PARAMS, day)
        results.append(result)
        state = payouts_kernel.PayoutState(result.state["payouts"], result.state["bank"])
    return results


def assert_nights_agree(run_nights: Any, nights: list[tuple[pl.DataFrame, pl.DataFrame]]) -> None:
    """Each night of each shard count against the plain kernel call, state carried."""
    whole = run_nights(LocalExecutor(shards=1), nights)
    for shards in SHARDS:
        for sharded, plain in zip(
            run_nights(LocalExecutor(shards=shards), nights), whole, strict=True
        ):
            assert_same(sharded, plain)


BALANCE_NIGHTS = [
    (
        entries(*[(f"A{n}", 100 * n, "2026-11-20") for n in range(1, 10)], ("A3", 5, "2026-11-19")),
        snapshots(
            *[(f"S{n}", f"A{n}", "2026-11-20", 100 * n + (n % 3 == 0)) for n in range(1, 10)]
        ),
    ),
    (
        entries(("A1", 50, "2026-11-21"), ("A3", -1, "2026-11-20"), ("A8", 7, "2026-11-21")),
        snapshots(("T1", "A1", "2026-11-21", 150), ("T8", "A8", "2026-11-21", 9)),
    ),
]


def test_balances_in_any_number_of_shards_equal_one_call() -> None:
    assert_nights_agree(balance_nights, BALANCE_NIGHTS)
    found = balance_nights(LocalExecutor(shards=3), BALANCE_NIGHTS)[0].findings
    assert sorted(found.get_column("key").to_list()) == ["A3", "A6", "A9"]


PAYOUT_NIGHTS = [
    (
        pl.concat(
            [
                lines(1000, 2000, payout="PO-1"),
                lines(500, payout="PO-12"),
                lines(700, payout="po-3"),
                lines(400, payout="PO-4"),
                *[lines(100 * n, payout=f"PX-{n}") for n in range(5, 12)],
                lines(900).with_columns(pl.lit(None, pl.String).alias("payout_id")),
            ]
        ),
        bank(
            ("B1", 3000, "payout PO-1"),
            ("B12", 500, "payout PO-12 (not PO-1)"),
            ("B3", 700, "PO-3"),
            ("B4", 399, "po-4"),
            ("B9", 5, "nothing we know"),
            *[(f"BX{n}", 100 * n, f"PX-{n}") for n in range(5, 12)],
        ),
    ),
    (
        lines(100, payout="PO-99"),
        bank(("B99", 100, "PO-99"), ("B98", 80, "po-98 comes tomorrow")),
    ),
    (lines(80, payout="PO-98"), bank(("B0", 1, "late"))),
    (lines(), bank()),
]


def test_payouts_in_any_number_of_shards_equal_one_call() -> None:
    assert_nights_agree(payout_nights, PAYOUT_NIGHTS)
    first = payout_nights(LocalExecutor(shards=7), PAYOUT_NIGHTS)[0]
    # The longest payout id a reference names wins, in whichever shard it lands.
    assert sorted(first.outcomes.select("source", "row_id", "outcome").rows()) == [
        ("bank", "B1", "matched"),
        ("bank", "B12", "matched"),
        ("bank", "B3", "matched"),
        ("bank", "B4", "discrepancy"),
        ("bank", "B9", "pending"),
        *[("bank", f"BX{n}", "matched") for n in sorted(range(5, 12), key=str)],
    ]


IDS = ["po-1", "PO-12", "po-123", "PO-2", "PO-21", "PO-3", "PX-30"]


@st.composite
def payout_night(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Settlement lines of a few payouts (ids that contain one another) and bank lines whose
    references name one, two or none of them."""
    settled = [
        lines(draw(st.integers(-500, 500)), payout=draw(st.sampled_from([*IDS, "none"])))
        for _ in range(draw(st.integers(0, 6)))
    ]
    frame = pl.concat(settled) if settled else lines()
    frame = frame.with_columns(pl.col("payout_id").replace("none", None))
    references = st.lists(st.sampled_from([*IDS, "x"]), max_size=2).map(" ".join)
    count = draw(st.integers(0, 5))
    paid = bank(
        *[(f"B{index}", draw(st.integers(-500, 500)), draw(references)) for index in range(count)]
    )
    return frame, paid


@st.composite
def balance_night(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ledger postings and reported balances of a few accounts on two days."""
    accounts = st.sampled_from(["A1", "A2", "A3", "B1", "B22"])
    days = st.sampled_from(["2026-11-19", "2026-11-20", "2026-11-21"])
    posted = [
        (draw(accounts), draw(st.integers(-900, 900)), draw(days))
        for _ in range(draw(st.integers(0, 6)))
    ]
    reported = [
        (
            f"S{draw(st.integers(0, 10**6))}",
            draw(accounts),
            draw(days),
            draw(st.integers(-900, 900)),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    unique = list({row[0]: row for row in reported}.values())
    typed = {"account_id": pl.String, "currency": pl.String, "status": pl.String}
    return entries(*posted).cast({**typed, "amount_minor": pl.Int64}), snapshots(*unique)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payout_night(), min_size=1, max_size=3), st.sampled_from([2, 3, 5]))
def test_payouts_sharded_equal_one_call_on_random_nights(
    nights: list[tuple[pl.DataFrame, pl.DataFrame]], shards: int
) -> None:
    # Bank line ids repeat from night to night: give each night its own.
    nights = [
        (
            settled,
            paid.with_columns(
                pl.format("N{}-{}", pl.lit(night), "bank_line_id").alias("bank_line_id")
            ),
        )
        for night, (settled, paid) in enumerate(nights)
    ]
    whole = payout_nights(LocalExecutor(shards=1), nights)
    for sharded, plain in zip(
        payout_nights(LocalExecutor(shards=shards), nights), whole, strict=True
    ):
        assert_same(sharded, plain)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(balance_night(), min_size=1, max_size=3), st.sampled_from([2, 3, 5]))
def test_balances_sharded_equal_one_call_on_random_nights(
    nights: list[tuple[pl.DataFrame, pl.DataFrame]], shards: int
) -> None:
    nights = [
        (
            posted,
            reported.with_columns(pl.format("N{}-{}", pl.lit(night), "row_id").alias("row_id")),
        )
        for night, (posted, reported) in enumerate(nights)
    ]
    whole = balance_nights(LocalExecutor(shards=1), nights)
    for sharded, plain in zip(
        balance_nights(LocalExecutor(shards=shards), nights), whole, strict=True
    ):
        assert_same(sharded, plain)


def test_a_key_is_in_the_same_shard_in_every_frame_and_every_run() -> None:
    # Pinned values: a shard must not move with the Polars version or the process.
    keys = pl.DataFrame({"k": ["A1", "A2", "po-77", None]})
    assert keys.select(shard_of(pl.col("k"), 7)).to_series().to_list() == [3, 0, 4, 0]
    frames = input_frames(*_balance_inputs())
    parts = partition(frames, balances_kernel.shard_keys(lazy_frames(frames)), 3)
    assert sum(part["tonight.snapshots"].height for part in parts) == 9
    assert sum(1 for part in parts if part["tonight.snapshots"].height) > 1
    homes: dict[str, set[int]] = {}
    for shard, part in enumerate(parts):
        for frame in part.values():
            for account in frame.get_column("account_id"):
                homes.setdefault(account, set()).add(shard)
    assert all(len(shards) == 1 for shards in homes.values())


def _balance_inputs() -> tuple[Any, Any]:
    posted, reported = BALANCE_NIGHTS[0]
    state = balances_kernel.BalanceState(empty(POSTINGS), empty(SNAPSHOTS))
    return state, balances_kernel.BalanceTonight(posting_totals(posted, ZONE), reported)


def test_the_shard_count_follows_from_the_memory_budget() -> None:
    assert shard_count(0, 1024**2) == 1
    assert shard_count(1000, 1000 * WORKING_SET_FACTOR) == 1
    assert shard_count(1001, 1000 * WORKING_SET_FACTOR) == 2
    assert shard_count(10 * 1024**3, 6 * 1024**3) == 7
    assert memory_budget(None) == physical_memory() // 5
    assert memory_budget(512 * 1024**2) == 512 * 1024**2
    frames = input_frames(*_balance_inputs())
    size = sum(frame.estimated_size() for frame in frames.values())
    assert LocalExecutor(memory_limit=None).shard_count(frames) == 1
    tight = LocalExecutor(memory_limit=size)
    assert tight.shard_count(frames) == WORKING_SET_FACTOR
    state, tonight = _balance_inputs()
    plain = balances_kernel.run(state, tonight, BALANCE_PARAMS, RUN)
    assert_same(tight.run(balances_kernel.KERNEL, state, tonight, BALANCE_PARAMS, RUN), plain)


def test_the_engine_table_reads_sizes_and_names_a_bad_one() -> None:
    assert parse_config({}).engine.memory_limit is None
    assert parse_config({"engine": {"memory_limit": "6GB"}}).engine.memory_limit == 6 * 1024**3
    assert parse_config({"engine": {"memory_limit": "512mb"}}).engine.memory_limit == 512 * 1024**2
    # Where the kernels run never changes what a night finds: the digest leaves it out.
    assert parse_config({"engine": {"memory_limit": "1GB"}}).digest() == parse_config({}).digest()
    for bad in ("6 gigabytes", "-1GB", "12", "0.1KB"):
        with pytest.raises(ConfigError, match=r"engine\.memory_limit"):
            parse_config({"engine": {"memory_limit": bad}})
    with pytest.raises(ConfigError, match=r"engine\.memory_limit: .*quoted string"):
        parse_config({"engine": {"memory_limit": 6}})
    with pytest.raises(ConfigError, match=r"engine\.threads: unknown key"):
        parse_config({"engine": {"threads": 4}})


def test_the_spark_engine_without_java_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    inbox = Path(__file__).resolve().parent.parent / "sample_data" / "inbox"
    arguments = ["run", "--date", "2026-11-16", "--inbox", str(inbox), "--out", str(tmp_path)]
    result = CliRunner().invoke(main, [*arguments, "--engine", "spark"])
    assert result.exit_code == 2
    assert "pip install walletrecon[spark]" in result.output
    assert "Java runtime" in result.output
    assert not (tmp_path / "discrepancies").exists()
