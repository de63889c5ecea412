"""Settlement fees: the gateway's schedule (round half even) and net against gross and fee."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.world import World

FEES = {"adyen": {"percent": "1.5", "fixed": {"CNY": "2.00", "JPY": "40"}}}


def adyen_payment(
    world: World, txn: str, gross: str, fee: str, net: str, currency: str = "CNY"
) -> World:
    """A payment settled by adyen on night 0 with the given gross, fee and net, and receipted."""
    world.payment(0, txn, amount=gross, currency=currency)
    world.settle(
        0,
        txn,
        gateway="adyen",
        gross_amount=gross,
        fee_amount=fee,
        net_amount=net,
        currency=currency,
    )
    return world.receive(0, txn, amount=gross, currency=currency)


@pytest.mark.parametrize(
    ("gross", "fee", "net"),
    [
        ("5.00", "2.08", "2.92"),  # 0.075 + 2 = 2.075 -> 2.08 (7 is odd: half rounds up)
        ("12.50", "2.19", "10.31"),  # 0.1875 + 2 = 2.1875 -> 2.19
        ("3.00", "2.04", "0.96"),  # 0.045 + 2 = 2.045 -> 2.04 (4 is even: half rounds down)
        ("1.00", "2.02", "-1.02"),  # 0.015 + 2 = 2.015 -> 2.02
    ],
)
def test_fee_on_schedule_rounded_half_even_gives_no_break(
    tmp_path: Path, gross: str, fee: str, net: str
) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", gross, fee, net)
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))


def test_fee_rounded_half_up_instead_of_half_even_is_fee_mismatch(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "3.00", "2.05", "0.95")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}
    row = world.open(0).row(0, named=True)
    assert str(row["expected_amount"]) == "2.0400"
    assert str(row["actual_amount"]) == "2.0500"


def test_fee_off_schedule_is_fee_mismatch_keyed_by_txn(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "12.50", "2.50", "10.00")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}
    row = world.open(0).row(0, named=True)
    assert row["txn_id"] == "T1"
    assert row["severity"] == "medium"
    assert str(row["expected_amount"]) == "2.1900"
    assert str(row["actual_amount"]) == "2.5000"


def test_fee_mismatch_stays_open_on_later_nights(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "12.50", "2.50", "10.00")
    world.run_through(2)
    assert world.breaks(2) == {("fee_mismatch", "T1")}
    assert world.open(2)["age_days"].to_list() == [2]


def test_net_not_gross_minus_fee_is_fee_mismatch(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "12.50", "2.19", "10.50")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}
    row = world.open(0).row(0, named=True)
    assert str(row["expected_amount"]) == "10.3100"
    assert str(row["actual_amount"]) == "10.5000"


def refund(world: World, fee: str, net: str, gateway: str = "adyen") -> World:
    """A refund of 5.00 CNY entering the wallet, and its settlement line."""
    world.add(
        0,
        "ledger",
        {
            "entry_id": "E-R1",
            "txn_id": "R1",
            "entry_type": "refund",
            "amount": "5.00",
            "merchant_id": "M1",
            "gateway_ref": "GW-R1",
            "created_at": "2026-11-20T10:00:00+08:00",
            "posted_at": "2026-11-20T10:01:00+08:00",
        },
    )
    return world.settle(
        0,
        "R1",
        gateway=gateway,
        record_type="refund",
        gross_amount="5.00",
        fee_amount=fee,
        net_amount=net,
    )


def test_refund_with_zero_fee_and_negative_net_is_no_break(tmp_path: Path) -> None:
    world = refund(World(tmp_path, fees=FEES), fee="0.00", net="-5.00")
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))


def test_refund_charged_the_payment_fee_is_fee_mismatch(tmp_path: Path) -> None:
    world = refund(World(tmp_path, fees=FEES), fee="2.08", net="-7.08")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "R1")}
    row = world.open(0).row(0, named=True)
    assert str(row["expected_amount"]) == "0.0000"
    assert str(row["actual_amount"]) == "2.0800"


def test_refund_with_positive_net_is_fee_mismatch(tmp_path: Path) -> None:
    world = refund(World(tmp_path, fees=FEES), fee="0.00", net="5.00")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "R1")}
    assert str(world.open(0)["expected_amount"][0]) == "-5.0000"


def test_refund_net_is_minus_gross_minus_fee_without_schedule(tmp_path: Path) -> None:
    world = refund(World(tmp_path), fee="0.30", net="-5.30", gateway="stripe")
    world.run(0)
    assert world.breaks(0) == set()


def test_gateway_without_fee_table_has_any_fee_accepted(tmp_path: Path) -> None:
    world = World(tmp_path, fees=FEES).payment(0, "T1").receive(0, "T1")
    world.settle(0, "T1", gateway="stripe", fee_amount="0.33", net_amount="9.67")
    world.run(0)
    assert world.breaks(0) == set()


def test_gateway_without_fee_table_still_has_net_checked(tmp_path: Path) -> None:
    world = World(tmp_path, fees=FEES).payment(0, "T1").receive(0, "T1")
    world.settle(0, "T1", gateway="stripe", fee_amount="0.33", net_amount="9.70")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}
    assert str(world.open(0)["expected_amount"][0]) == "9.6700"


def test_gateway_name_case_and_spaces_still_find_the_schedule(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "12.50", "2.50", "10.00")
    world.rows[(0, "settlement")][0]["gateway"] = " Adyen "
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}


@pytest.mark.parametrize(
    ("gross", "fee", "net"),
    [
        ("1000", "55", "945"),  # 15 + 40
        ("1100", "56", "1044"),  # 16.5 + 40 = 56.5 -> 56 (half even)
        ("1300", "60", "1240"),  # 19.5 + 40 = 59.5 -> 60 (half even)
    ],
)
def test_jpy_fee_uses_the_fixed_yen_fee_and_whole_yen(
    tmp_path: Path, gross: str, fee: str, net: str
) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", gross, fee, net, currency="JPY")
    world.run(0)
    assert world.breaks(0) == set()


def test_jpy_fee_off_by_one_yen_is_fee_mismatch(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "1100", "57", "1043", currency="JPY")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "T1")}
    row = world.open(0).row(0, named=True)
    assert str(row["expected_amount"]) == "56.0000"
    assert str(row["actual_amount"]) == "57.0000"


def test_currency_without_fixed_fee_has_percent_only(tmp_path: Path) -> None:
    world = adyen_payment(World(tmp_path, fees=FEES), "T1", "100.00", "1.50", "98.50", "USD")
    world.run(0)
    assert world.breaks(0) == set()


def test_unmatched_line_has_its_fee_checked_after_the_window(tmp_path: Path) -> None:
    world = World(tmp_path, fees=FEES)
    world.settle(0, "T9", gateway="adyen", gross_amount="12.50", fee_amount="0", net_amount="12.50")
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("missing_in_ledger", "GW-T9"), ("fee_mismatch", "T9")}


def topup(world: World, gross: str, fee: str, net: str) -> World:
    world.add(
        0,
        "ledger",
        {
            "entry_id": "E-U1",
            "txn_id": "U1",
            "entry_type": "topup",
            "amount": gross,
            "gateway_ref": "GW-U1",
            "created_at": "2026-11-20T10:00:00+08:00",
            "posted_at": "2026-11-20T10:01:00+08:00",
        },
    )
    return world.settle(
        0,
        "U1",
        gateway="adyen",
        record_type="topup",
        gross_amount=gross,
        fee_amount=fee,
        net_amount=net,
    )


def test_topup_follows_the_schedule_by_default(tmp_path: Path) -> None:
    world = topup(World(tmp_path, fees=FEES), "100.00", "3.50", "96.50")
    world.run_through(2)
    assert world.breaks(2) == set()


def test_topup_without_fee_is_fee_mismatch_by_default(tmp_path: Path) -> None:
    world = topup(World(tmp_path, fees=FEES), "100.00", "0.00", "100.00")
    world.run(0)
    assert world.breaks(0) == {("fee_mismatch", "U1")}


def test_record_types_of_the_schedule_limit_where_it_applies(tmp_path: Path) -> None:
    fees = {"adyen": {**FEES["adyen"], "record_types": ["payment"]}}
    world = topup(World(tmp_path, fees=fees), "100.00", "0.00", "100.00")
    world.run(0)
    assert world.breaks(0) == set()


def chargeback(world: World, fee: str, net: str) -> World:
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", gateway="stripe")
    return world.settle(
        1,
        "T1",
        settlement_id="S-CB1",
        gateway="adyen",
        record_type="chargeback",
        fee_amount=fee,
        net_amount=net,
        settled_at="2026-11-21T09:00:00+08:00",
    )


def test_chargeback_carries_no_fee_and_negative_net(tmp_path: Path) -> None:
    world = chargeback(World(tmp_path, fees=FEES), "0.00", "-10.00")
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_chargeback_with_a_fee_is_fee_mismatch(tmp_path: Path) -> None:
    world = chargeback(World(tmp_path, fees=FEES), "2.00", "-12.00")
    world.run_through(1)
    assert world.breaks(1) == {("fee_mismatch", "T1")}


# --- lines settled in another currency: net = gross * rate - fee, in the net currency -----------

CONVERTED_FEES = {"adyen": {"percent": "1.5", "fixed": {"USD": "0.02"}}}


def converted_payment(world: World, net: str, rate: str = "0.0067", fee: str = "0.12") -> World:
    """A JPY 1000 payment settled in USD at ``rate`` with ``fee`` and ``net`` in USD, paid out
    by the bank in USD."""
    world.payment(0, "T1", amount="1000", currency="JPY")
    world.settle(
        0,
        "T1",
        gateway="adyen",
        gross_amount="1000",
        fee_amount=fee,
        net_amount=net,
        currency="JPY",
        net_currency="USD",
        exchange_rate=rate,
        payout_id="P1",
    )
    bank = {"bank_line_id": "B1", "amount": net, "currency": "USD", "value_date": "2026-11-20"}
    world.add(0, "bank", {**bank, "reference": "P1"})
    return world.receive(0, "T1", amount="1000", currency="JPY")


@pytest.mark.parametrize(
    ("rate", "net"),
    [
        ("0.0067", "6.58"),  # 1000 JPY * 0.0067 = 6.70 USD, less the fee 0.12
        ("0.006705", "6.58"),  # 6.705 -> 6.70 (0 is even: half rounds down)
        ("0.006715", "6.60"),  # 6.715 -> 6.72 (1 is odd: half rounds up)
    ],
)
def test_net_through_the_rate_gives_no_break_and_the_payout_is_in_the_net_currency(
    tmp_path: Path, rate: str, net: str
) -> None:
    world = converted_payment(World(tmp_path, fees=CONVERTED_FEES), net, rate=rate)
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))


def test_a_net_off_the_rate_is_fee_mismatch_in_the_net_currency(tmp_path: Path) -> None:
    world = converted_payment(World(tmp_path), "6.68", rate="0.0067")
    world.run(0)
    assert ("fee_mismatch", "T1") in world.breaks(0)
    row = world.open(0).filter(type="fee_mismatch").row(0, named=True)
    assert (row["currency"], str(row["expected_amount"]), str(row["actual_amount"])) == (
        "USD",
        "6.5800",
        "6.6800",
    )
    assert "fee 0.12 USD, net 6.68 USD" in row["explanation"]


def test_the_schedule_applies_to_the_converted_gross(tmp_path: Path) -> None:
    # 6.70 USD * 1.5% + 0.02 = 0.1205 -> 0.12; a fee of 0.15 departs from it.
    world = converted_payment(World(tmp_path, fees=CONVERTED_FEES), "6.55", fee="0.15")
    world.run(0)
    row = world.open(0).filter(type="fee_mismatch").row(0, named=True)
    assert (row["currency"], str(row["expected_amount"])) == ("USD", "0.1200")
