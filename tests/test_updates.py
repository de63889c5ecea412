"""Status updates of ledger entries (CONTRACT section 1b): a later version of an entry whose status
moved forward, changing only status, posted_at and gateway_ref, stands; any other change is
rejected with its reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.world import World, at, day
from walletrecon.lifecycle import advance
from walletrecon.match.balances import posting_effects
from walletrecon.match.updates import cleared_entries, replace_updated, status_after_update
from walletrecon.schemas import SOURCES
from walletrecon.sources.redelivery import PRIOR_SCHEMA, split_redeliveries, stable_hash
from walletrecon.sources.validate import content_hash
from walletrecon.state import FINDING, OPEN_DISCREPANCIES, RESOLVED_DISCREPANCIES, conform

UTC = dt.UTC
CREATED = dt.datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def version(
    status: str,
    *,
    entry: str = "E1",
    amount: int = -1000,
    posted: bool | None = None,
    ref: str | None = "gw-1",
    folder: int = 0,
    row: int = 2,
) -> dict[str, Any]:
    """One typed ledger row, as validation hands it on."""
    posted = status == "succeeded" if posted is None else posted
    return {
        "origin_file": f"{folder}/ledger.csv",
        "origin_row": row,
        "entry_id": entry,
        "txn_id": f"T-{entry}",
        "account_id": "A1",
        "entry_type": "payment",
        "amount": amount,
        "currency": "CNY",
        "status": status,
        "created_at": CREATED,
        "posted_at": CREATED + dt.timedelta(days=1) if posted else None,
        "merchant_id": "M1",
        "gateway_ref": ref,
        "folder_order": folder,
        "origin": f"{folder}/ledger.csv:{row}",
        "row_id": entry,
    }


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    typed = pl.DataFrame(
        list(rows),
        schema_overrides={
            "created_at": pl.Datetime("us", "UTC"),
            "posted_at": pl.Datetime("us", "UTC"),
            "amount": pl.Int64,
            "gateway_ref": pl.String,
        },
    )
    return typed.with_columns(content_hash(SOURCES["ledger"]))


def prior(*rows: dict[str, Any]) -> pl.DataFrame:
    """The registry's standing versions of earlier nights."""
    if not rows:
        return pl.DataFrame(schema=PRIOR_SCHEMA)
    typed = frame(*rows).with_columns(stable_hash("ledger"))
    return typed.select(list(PRIOR_SCHEMA))


def split(*rows: dict[str, Any], earlier: pl.DataFrame | None = None) -> Any:
    """The rows split in memory; split again as rows still to be read (a spooled night), which
    must give the same: new rows as a plan, in the same order, and the same set-asides."""
    before = prior() if earlier is None else earlier
    result = split_redeliveries("ledger", frame(*rows), before)
    spooled = split_redeliveries("ledger", frame(*rows).lazy(), before)
    assert isinstance(spooled.new, pl.LazyFrame)
    assert spooled.new.collect().equals(result.new)
    for name in ("redelivered", "conflicts", "superseded"):
        assert getattr(spooled, name).equals(getattr(result, name)), name
    assert spooled.updates == result.updates
    return result


# --- the rule, on inline frames ---------------------------------------------------------------


def test_forward_moves_are_updates() -> None:
    for before, after in [
        ("pending", "succeeded"),
        ("pending", "failed"),
        ("pending", "reversed"),
        ("succeeded", "reversed"),
    ]:
        result = split(version(after, posted=False), earlier=prior(version(before, posted=False)))
        assert result.conflicts.height == 0, (before, after)
        assert result.new["status"].to_list() == [after]
        assert result.new["is_update"].to_list() == [True]
        assert result.new["previous_status"].to_list() == [before]
        assert result.updates == 1


def test_backward_moves_are_rejected_with_the_move() -> None:
    for before, after in [
        ("succeeded", "pending"),
        ("reversed", "succeeded"),
        ("failed", "pending"),
    ]:
        result = split(version(after, posted=False), earlier=prior(version(before, posted=False)))
        assert result.new.height == 0
        (reason,) = result.conflicts["reason"].to_list()
        assert f"moved backwards from {before} to {after}" in reason


def test_a_move_between_final_statuses_is_rejected() -> None:
    result = split(version("succeeded"), earlier=prior(version("failed")))
    assert "cannot move from failed to succeeded" in result.conflicts["reason"].item()


def test_a_changed_amount_is_rejected_naming_the_column() -> None:
    result = split(version("pending"), version("succeeded", amount=-999, folder=1))
    assert result.new["status"].to_list() == ["pending"]
    reason = result.conflicts["reason"].item()
    assert "changes amount" in reason
    assert "status" not in reason.split("changes")[1].split(";")[0]


def test_a_changed_amount_of_an_earlier_night_is_rejected() -> None:
    result = split(version("succeeded", amount=-999), earlier=prior(version("pending")))
    assert result.new.height == 0
    assert "columns other than status" in result.conflicts["reason"].item()


def test_posted_at_changed_without_a_status_move_is_rejected() -> None:
    result = split(version("succeeded"), earlier=prior(version("succeeded", posted=False)))
    assert "while its status stayed succeeded" in result.conflicts["reason"].item()


def test_same_status_resent_is_a_redelivery() -> None:
    result = split(version("pending"), earlier=prior(version("pending")))
    assert (result.redelivered.height, result.new.height, result.conflicts.height) == (1, 0, 0)


def test_two_versions_in_one_night_the_later_stands() -> None:
    result = split(version("succeeded", row=3), version("pending", row=2))
    assert result.new["status"].to_list() == ["succeeded"]
    assert result.superseded["status"].to_list() == ["pending"]
    assert result.new["previous_status"].to_list() == ["pending"]


def test_folder_date_orders_versions_before_row_number() -> None:
    result = split(version("succeeded", folder=0, row=9), version("reversed", folder=1, row=2))
    assert result.new["status"].to_list() == ["reversed"]
    assert result.superseded["status"].to_list() == ["succeeded"]


def test_a_third_version_is_compared_with_the_latest() -> None:
    result = split(
        version("pending", row=2), version("succeeded", row=3), version("pending", row=4)
    )
    assert result.new["status"].to_list() == ["succeeded"]
    assert "moved backwards from succeeded to pending" in result.conflicts["reason"].item()
    later = split(version("reversed", posted=False), earlier=prior(version("succeeded")))
    assert later.new["previous_status"].to_list() == ["succeeded"]


def dated(row: dict[str, Any], folder: str) -> dict[str, Any]:
    """A version read from the business-date folder ``folder``."""
    return {**row, "origin": f"{folder}/ledger.csv:{row['origin_row']}", "folder_date": folder}


def dated_split(row: dict[str, Any], folder: str, standing: dict[str, Any], since: str) -> Any:
    tonight = frame(dated(row, folder)).with_columns(pl.col("folder_date").str.to_date())
    return split_redeliveries("ledger", tonight, prior(dated(standing, since)))


def test_a_late_earlier_version_is_superseded_and_carries_the_standing_reversal() -> None:
    result = dated_split(version("succeeded"), "2026-11-17", version("reversed"), "2026-11-18")
    assert (result.new.height, result.conflicts.height) == (0, 0)
    assert result.superseded["status"].to_list() == ["succeeded"]
    assert result.superseded["reversed_on"].to_list() == [dt.date(2026, 11, 18)]
    assert result.updates == 0


def test_a_late_earlier_pending_version_is_superseded_and_reverses_nothing() -> None:
    result = dated_split(version("pending"), "2026-11-17", version("succeeded"), "2026-11-18")
    assert result.conflicts.height == 0
    assert result.superseded["reversed_on"].to_list() == [None]


def test_a_backward_move_from_a_later_or_the_same_folder_stays_rejected() -> None:
    for folder in ("2026-11-18", "2026-11-19"):
        result = dated_split(version("succeeded"), folder, version("reversed"), "2026-11-18")
        assert result.superseded.height == 0
        assert "moved backwards from reversed to succeeded" in result.conflicts["reason"].item()


def test_a_late_earlier_version_with_other_content_stays_rejected() -> None:
    late = version("succeeded", amount=-999)
    result = dated_split(late, "2026-11-17", version("reversed"), "2026-11-18")
    assert result.superseded.height == 0
    assert result.conflicts.height == 1


def test_a_rejected_version_does_not_stand() -> None:
    result = split(
        version("pending", row=2), version("succeeded", amount=-5, row=3), version("failed", row=4)
    )
    assert result.new["status"].to_list() == ["failed"]
    assert result.new["previous_status"].to_list() == ["pending"]
    assert result.conflicts.height == 1


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(4)))
def test_versions_in_one_file_give_the_same_result_in_any_input_order(order: list[int]) -> None:
    rows = [
        version("pending", row=2),
        version("pending", row=3),
        version("succeeded", row=4),
        version("reversed", posted=False, row=5),
    ]
    result = split(*(rows[index] for index in order))
    assert result.new["status"].to_list() == ["reversed"]
    assert sorted(result.superseded["status"].to_list()) == ["pending", "succeeded"]
    assert (result.redelivered.height, result.conflicts.height, result.updates) == (1, 0, 2)


# --- through the night ------------------------------------------------------------------------


def manifest(world: World, night: int) -> dict[str, Any]:
    path = world.out / "manifest" / f"run_date={day(night).isoformat()}" / "manifest.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def balance(world: World, night: int, amount: str) -> World:
    row = {"account_id": "A1", "as_of": f"{day(night).isoformat()}T23:59:59+08:00"}
    return world.add(night, "balances", {**row, "balance": amount})


def test_pending_then_succeeded_next_night_is_matched_and_posted(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    balance(world, 0, "0.00")
    world.payment(1, "T1", created_at=at(0), posted_at=at(1, 9))
    world.settle(1, "T1", settled_at=at(1, 9)).receive(1, "T1", received_at=at(1, 9))
    balance(world, 1, "-10.00")
    world.run_through(4)
    assert all(world.breaks(night) == set() for night in range(5))
    counts = manifest(world, 1)["outcomes"]["ledger"]
    assert (counts["updated"], counts["matched"], counts["rejected"]) == (1, 1, 0)


def test_without_the_update_the_night_finds_breaks(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    balance(world, 0, "0.00")
    world.settle(1, "T1", settled_at=at(1, 9)).receive(1, "T1", received_at=at(1, 9))
    balance(world, 1, "-10.00")
    world.run_through(1)
    assert world.breaks(1) == {("balance_mismatch", "A1"), ("status_mismatch", "T1")}


def test_update_clears_the_status_break_its_pending_version_caused(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    world.settle(0, "T1").receive(0, "T1")
    world.payment(1, "T1", created_at=at(0), posted_at=at(1, 9))
    world.run_through(3)
    assert world.breaks(0) == {("status_mismatch", "T1")}
    assert world.breaks(1) == set()
    assert world.breaks(3) == set()


def test_update_to_failed_keeps_the_status_break(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    world.settle(0, "T1").receive(0, "T1")
    world.payment(1, "T1", status="failed", created_at=at(0), posted_at="")
    world.run_through(1)
    assert world.breaks(1) == {("status_mismatch", "T1")}


def test_two_versions_in_one_night_count_once(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    world.payment(0, "T1").settle(0, "T1").receive(0, "T1")
    balance(world, 0, "-10.00")
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))
    counts = manifest(world, 0)["outcomes"]["ledger"]
    assert (counts["read"], counts["superseded"], counts["updated"], counts["matched"]) == (
        2,
        1,
        1,
        1,
    )
    assert counts["balanced"]


def test_reversal_takes_the_posting_back_on_its_night(tmp_path: Path) -> None:
    world = World(tmp_path).add(
        0,
        "ledger",
        {
            "entry_id": "E-T1",
            "txn_id": "T1",
            "entry_type": "topup",
            "amount": "50.00",
            "created_at": at(0),
            "posted_at": at(0, 10, 1),
        },
    )
    balance(world, 0, "50.00")
    world.add(
        1,
        "ledger",
        {
            "entry_id": "E-T1",
            "txn_id": "T1",
            "entry_type": "topup",
            "amount": "50.00",
            "status": "reversed",
            "created_at": at(0),
        },
    )
    balance(world, 1, "0.00")
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))


def test_update_rejected_for_a_changed_amount_leaves_the_first_version(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="pending", posted_at="")
    world.payment(1, "T1", amount="11.00", created_at=at(0), posted_at=at(1, 9))
    world.run_through(1)
    counts = manifest(world, 1)["outcomes"]["ledger"]
    assert (counts["rejected"], counts["updated"]) == (1, 0)
    rejected = pl.read_parquet(
        world.out / "rejected" / f"run_date={day(1).isoformat()}" / "rejected.parquet"
    )
    assert "columns other than status" in rejected["reason"].item()


# --- the kernel's parts, on inline frames -------------------------------------------------------


def test_an_update_replaces_the_carried_entry_and_keeps_its_matches() -> None:
    carried = pl.DataFrame(
        {
            "entry_id": ["E1", "E2"],
            "status": ["pending", "succeeded"],
            "settlement_match": ["S1", None],
            "receipt_match": [None, "R2"],
        }
    )
    arrived = pl.DataFrame(
        {"entry_id": ["E1", "E3"], "status": ["succeeded", "succeeded"], "is_update": [True, False]}
    )
    replaced = replace_updated(carried, arrived)
    assert replaced.carried["entry_id"].to_list() == ["E2"]
    rows = {row["entry_id"]: row for row in replaced.arrived.iter_rows(named=True)}
    assert (rows["E1"]["settlement_match"], rows["E1"]["receipt_match"]) == ("S1", None)
    assert rows["E3"]["settlement_match"] is None
    assert cleared_entries(replaced.arrived)["entry_id"].to_list() == ["E1"]


def test_an_update_to_failed_of_a_matched_entry_is_a_status_break() -> None:
    arrived = pl.DataFrame(
        {
            "entry_id": ["E1", "E2"],
            "txn_id": ["T1", "T2"],
            "entry_type": ["payment", "payment"],
            "status": ["failed", "failed"],
            "origin": ["d/ledger.csv:2", "d/ledger.csv:3"],
            "is_update": [True, True],
            "settlement_match": ["S1", None],
            "receipt_match": [None, None],
        }
    )
    found = status_after_update(arrived)
    assert found.select("type", "key").rows() == [("status_mismatch", "T1")]
    assert cleared_entries(arrived).is_empty()


def effects(**columns: list[Any]) -> list[tuple[Any, ...]]:
    entries = pl.DataFrame(
        {"account_id": ["A1"] * len(columns["status"]), "currency": "CNY", **columns},
        schema_overrides={
            "posted_at": pl.Datetime("us", "UTC"),
            "created_at": pl.Datetime("us", "UTC"),
        },
    )
    frame = posting_effects(entries, "Asia/Shanghai").collect()
    return frame.select("day", "amount_minor").rows()


def test_a_late_succeeded_version_posts_and_its_standing_reversal_takes_back() -> None:
    posted = dt.datetime(2026, 11, 17, 2, 0, tzinfo=UTC)
    rows = effects(
        entry_id=["E1", "E2"],
        status=["succeeded", "succeeded"],
        previous_status=[None, None],
        amount_minor=[-305, -40],
        created_at=[CREATED] * 2,
        posted_at=[posted, posted],
        reversed_on=[dt.date(2026, 11, 18), None],
    )
    day, later = dt.date(2026, 11, 17), dt.date(2026, 11, 18)
    assert sorted(rows) == sorted([(day, -305), (day, -40), (later, 305)])


def test_postings_count_each_version_as_the_wallet_shows_it() -> None:
    posted = dt.datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    rows = effects(
        entry_id=["E1", "E2", "E3", "E4"],
        status=["succeeded", "reversed", "reversed", "failed"],
        previous_status=["pending", "succeeded", "pending", "pending"],
        amount_minor=[-1000, 5000, 700, -300],
        created_at=[CREATED] * 4,
        posted_at=[posted, None, None, None],
        folder_date=[dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 11, 22), None],
    )
    assert rows == [(dt.date(2026, 11, 21), -1000), (dt.date(2026, 11, 22), -5000)]


def test_status_break_involving_an_entry_made_to_succeed_is_resolved() -> None:
    open_breaks = conform(
        pl.DataFrame(
            {
                "discrepancy_id": ["d1", "d2"],
                "type": ["status_mismatch", "status_mismatch"],
                "key": ["T1", "T2"],
                "involved": [["ledger:E1", "settlement:S1"], ["ledger:E2", "receipts:R2"]],
                "first_seen": [dt.date(2026, 11, 20)] * 2,
                "times_reopened": [0, 0],
            }
        ),
        OPEN_DISCREPANCIES,
    )
    life = advance(
        open_breaks,
        conform(pl.DataFrame(), RESOLVED_DISCREPANCIES),
        conform(pl.DataFrame(), FINDING),
        dt.date(2026, 11, 21),
        cleared=pl.DataFrame({"entry_id": ["E1"]}),
    )
    assert life.resolved["discrepancy_id"].to_list() == ["d1"]
    assert life.open["discrepancy_id"].to_list() == ["d2"]


def test_a_catch_up_run_takes_the_later_folders_version(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", posted_at=at(0, 10, 1))
    world.add(
        1,
        "ledger",
        {
            "entry_id": "E-T1",
            "txn_id": "T1",
            "amount": "-10.00",
            "merchant_id": "M1",
            "gateway_ref": "GW-T1",
            "status": "reversed",
            "created_at": at(0),
        },
    )
    balance(world, 0, "-10.00")
    balance(world, 1, "0.00")
    world._write(0)
    world.run(1)  # no state yet: folders 0 and 1 in one run
    assert world.breaks(1) == set()
    counts = manifest(world, 1)["outcomes"]["ledger"]
    assert (counts["read"], counts["superseded"], counts["updated"], counts["matched"]) == (
        2,
        1,
        1,
        1,
    )
