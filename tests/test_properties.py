"""Properties over random tiny worlds: conservation, re-run idempotency, order invariance."""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.world import World, at, day

NIGHTS = 4


@dataclass(frozen=True)
class Payment:
    """One payment and what happens to its counterparts."""

    amount_cents: int
    status: str
    settle_night: int | None
    settle_cents_delta: int
    receipt_night: int | None
    duplicate_receipt: bool
    redeliver: bool


payments = st.builds(
    Payment,
    amount_cents=st.integers(1, 500_00),
    status=st.sampled_from(["succeeded", "succeeded", "succeeded", "failed", "pending"]),
    settle_night=st.one_of(st.none(), st.integers(0, NIGHTS - 1)),
    settle_cents_delta=st.sampled_from([0, 0, 0, 1, -100]),
    receipt_night=st.one_of(st.none(), st.integers(0, NIGHTS - 1)),
    duplicate_receipt=st.booleans(),
    redeliver=st.booleans(),
)
worlds = st.lists(payments, min_size=1, max_size=8)


def build(root: Path, world_payments: list[Payment], shuffle_seed: int | None = None) -> World:
    """A world in which payment i is made on night i % 2, with its counterparts as drawn."""
    world = World(root)
    for index, payment in enumerate(world_payments):
        txn, night = f"T{index}", index % 2
        amount = f"{payment.amount_cents // 100}.{payment.amount_cents % 100:02d}"
        posted = at(night, 10, 1) if payment.status == "succeeded" else ""
        world.payment(night, txn, amount, status=payment.status, posted_at=posted)
        if payment.redeliver:
            world.payment(night + 1, txn, amount, status=payment.status, posted_at=posted)
        if payment.settle_night is not None:
            gross = max(payment.amount_cents + payment.settle_cents_delta, 0)
            text = f"{gross // 100}.{gross % 100:02d}"
            settled = at(max(payment.settle_night, night), 11)
            world.settle(
                max(payment.settle_night, night), txn, text, net_amount=text, settled_at=settled
            )
        if payment.receipt_night is not None:
            received = max(payment.receipt_night, night)
            world.receive(received, txn, amount, received_at=at(received, 10, 30))
            if payment.duplicate_receipt:
                world.receive(
                    received, txn, amount, receipt_id=f"R2-{txn}", received_at=at(received, 10, 31)
                )
    world.add(
        0, "balances", {"account_id": "A1", "as_of": f"{day(0)}T23:59:59+08:00", "balance": "0"}
    )
    if shuffle_seed is not None:
        for rows in world.rows.values():
            random.Random(shuffle_seed).shuffle(rows)
    return world


def published(world: World, night: int) -> pl.DataFrame:
    """The night's discrepancy rows, without ``evidence`` (it cites rows by their position)."""
    return world.open(night).drop("evidence").sort("discrepancy_id")


# Each example runs several nights through the real pipeline: few examples, no slow shrinking.
property_settings = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@property_settings
@given(worlds)
def test_every_row_ends_in_exactly_one_outcome_and_amounts_are_conserved(
    world_payments: list[Payment],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = build(Path(folder), world_payments)
        for night in range(NIGHTS):
            world.run(night)
            manifest_path = world.out / "manifest" / f"run_date={day(night)}" / "manifest.json"
            manifest = json.loads(manifest_path.read_text())
            for counts in manifest["outcomes"].values():
                accounted = sum(
                    counts[name]
                    for name in ("rejected", "redelivered", "matched", "discrepancy", "pending")
                )
                assert counts["read"] == accounted
            for per_currency in manifest["control_totals"].values():
                for entry in per_currency.values():
                    assert sum(entry["by_outcome_minor"].values()) == entry["accepted_minor"]


@property_settings
@given(worlds)
def test_rerunning_a_night_gives_identical_discrepancy_rows(world_payments: list[Payment]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = build(Path(folder), world_payments)
        world.run_through(NIGHTS - 1)
        first = published(world, NIGHTS - 1)
        world.run(NIGHTS - 1)
        assert published(world, NIGHTS - 1).equals(first)
        middle = published(world, 1)
        world.run(1)
        assert published(world, 1).equals(middle)


@property_settings
@given(worlds, st.integers(0, 10_000))
def test_shuffling_input_rows_changes_nothing(world_payments: list[Payment], seed: int) -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        straight = build(Path(one), world_payments)
        shuffled = build(Path(two), world_payments, shuffle_seed=seed)
        straight.run_through(NIGHTS - 1)
        shuffled.run_through(NIGHTS - 1)
        for night in range(NIGHTS):
            assert published(shuffled, night).equals(published(straight, night))


@property_settings
@given(worlds)
def test_clean_payments_give_no_discrepancy(world_payments: list[Payment]) -> None:
    clean = [
        Payment(p.amount_cents, "succeeded", None, 0, None, False, p.redeliver)
        for p in world_payments
    ]
    with tempfile.TemporaryDirectory() as folder:
        world = build(Path(folder), clean)
        for index, _ in enumerate(clean):
            txn, night = f"T{index}", index % 2
            amount = f"{clean[index].amount_cents // 100}.{clean[index].amount_cents % 100:02d}"
            world.settle(night, txn, amount).receive(night, txn, amount)
        world.rows[(0, "balances")][0]["balance"] = _balance_after_night_zero(clean)
        world.run_through(NIGHTS - 1)
        for night in range(NIGHTS):
            assert world.breaks(night) == set()


def _balance_after_night_zero(clean: list[Payment]) -> str:
    cents = -sum(p.amount_cents for index, p in enumerate(clean) if index % 2 == 0)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@property_settings
@given(worlds)
def test_rerunning_a_middle_night_then_the_rest_gives_the_straight_run(
    world_payments: list[Payment],
) -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        straight = build(Path(one), world_payments)
        straight.run_through(NIGHTS - 1)
        again = build(Path(two), world_payments)
        again.run_through(NIGHTS - 1)
        for night in range(1, NIGHTS):
            again.run(night)
        for night in range(NIGHTS):
            assert published(again, night).equals(published(straight, night))
