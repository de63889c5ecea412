"""Gateway payouts (the net of their settlement lines) against bank statement lines."""

from __future__ import annotations

from pathlib import Path

from tests.world import World, at, day


def paid_out(world: World, payout: str = "PO-77", night: int = 0) -> World:
    """Two clean payments (10.00 and 20.00 CNY) in one payout: 30.00 is due from the bank."""
    for txn, amount in (("T1", "10.00"), ("T2", "20.00")):
        world.payment(0, txn, amount=amount).receive(0, txn, amount=amount)
        world.settle(night, txn, amount=amount, payout_id=payout, settled_at=at(0, 11))
    return world


def bank_line(
    world: World, night: int, amount: str, reference: str, line_id: str = "B1", value: int = 0
) -> World:
    return world.add(
        night,
        "bank",
        {
            "bank_line_id": line_id,
            "amount": amount,
            "value_date": day(value).isoformat(),
            "reference": reference,
        },
    )


def test_bank_line_paying_the_payout_net_is_no_break(tmp_path: Path) -> None:
    world = bank_line(paid_out(World(tmp_path)), 0, "30.00", "ADYEN SETTLEMENT PO-77 BATCH 3")
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_payout_id_is_found_in_any_case_inside_other_text(tmp_path: Path) -> None:
    world = bank_line(paid_out(World(tmp_path)), 0, "30.00", "incoming xfer/po-77/ref 0042")
    world.run_through(3)
    assert world.breaks(3) == set()


def test_payout_net_follows_fees(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1")
    world.settle(0, "T1", fee_amount="0.40", net_amount="9.60", payout_id="PO-5")
    bank_line(world, 0, "9.60", "PO-5")
    world.run_through(2)
    assert world.breaks(2) == set()


def test_bank_amount_differing_is_payout_mismatch_as_soon_as_it_arrives(tmp_path: Path) -> None:
    world = bank_line(paid_out(World(tmp_path)), 0, "29.00", "ADYEN PO-77")
    world.run_through(2)
    assert world.breaks(0) == {("payout_mismatch", "PO-77")}
    assert world.breaks(2) == {("payout_mismatch", "PO-77")}
    row = world.open(2).row(0, named=True)
    assert row["payout_id"] == "PO-77"
    assert str(row["expected_amount"]) == "30.0000"
    assert str(row["actual_amount"]) == "29.0000"
    assert str(row["difference"]) == "-1.0000"


def test_payout_without_bank_line_is_payout_mismatch_after_the_window(tmp_path: Path) -> None:
    world = paid_out(World(tmp_path))
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("payout_mismatch", "PO-77")}
    row = world.open(2).row(0, named=True)
    assert str(row["expected_amount"]) == "30.0000"
    assert row["actual_amount"] is None


def test_late_bank_line_resolves_the_payout_mismatch(tmp_path: Path) -> None:
    world = bank_line(paid_out(World(tmp_path)), 3, "30.00", "PO-77", value=3)
    world.run_through(3)
    assert world.breaks(2) == {("payout_mismatch", "PO-77")}
    assert world.breaks(3) == set()


def test_bank_line_naming_no_payout_is_payout_mismatch_keyed_by_line(tmp_path: Path) -> None:
    world = bank_line(World(tmp_path), 0, "55.00", "SALARY REFUND 9911", line_id="B9")
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("payout_mismatch", "B9")}
    assert str(world.open(2)["actual_amount"][0]) == "55.0000"


def test_bank_line_before_its_settlement_lines_matches_inside_the_window(tmp_path: Path) -> None:
    world = World(tmp_path)
    bank_line(world, 0, "30.00", "payout PO-77")
    paid_out(world, night=1)
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_payout_lines_arriving_over_two_nights_are_summed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", payout_id="PO-8")
    world.payment(0, "T2").receive(0, "T2")
    world.settle(1, "T2", payout_id="PO-8", settled_at=at(0, 12))
    bank_line(world, 1, "20.00", "PO-8", value=1)
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_longer_payout_id_in_the_reference_wins(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", payout_id="PO-1")
    world.payment(0, "T2").receive(0, "T2").settle(0, "T2", payout_id="PO-12")
    bank_line(world, 0, "10.00", "ref PO-1 ", line_id="B1")
    bank_line(world, 0, "10.00", "ref PO-12", line_id="B2")
    world.run_through(2)
    assert world.breaks(2) == set()


def test_bank_line_in_another_currency_is_payout_mismatch(tmp_path: Path) -> None:
    world = paid_out(World(tmp_path))
    bank_line(world, 0, "30.00", "PO-77")
    world.rows[(0, "bank")][0]["currency"] = "USD"
    world.run_through(2)
    assert world.breaks(0) == {("payout_mismatch", "PO-77")}
    assert world.breaks(2) == {("payout_mismatch", "PO-77")}


def test_payout_within_payout_tolerance_is_no_break(tmp_path: Path) -> None:
    world = bank_line(paid_out(World(tmp_path, tolerance={"payout": "0.05"})), 0, "29.96", "PO-77")
    world.run_through(2)
    assert world.breaks(2) == set()


def test_late_line_that_makes_the_payout_agree_resolves_the_mismatch(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", payout_id="PO-8")
    world.payment(0, "T2").receive(0, "T2")
    world.settle(1, "T2", payout_id="PO-8", settled_at=at(0, 12))
    bank_line(world, 0, "20.00", "PO-8")
    world.run_through(1)
    assert world.breaks(0) == {("payout_mismatch", "PO-8")}
    assert world.breaks(1) == set()
