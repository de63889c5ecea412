"""The settlement kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.kernel_frames import DAY, breaks, entries, lines, noon, outcomes
from walletrecon.config import parse_config
from walletrecon.kernels.settlement import (
    SettlementParams,
    SettlementState,
    SettlementTonight,
    run,
)
from walletrecon.match.settlement import match_settlement
from walletrecon.state import SETTLEMENT_WORK, empty

PARAMS = SettlementParams(parse_config({}))
HISTORY = pl.DataFrame(schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String})
NOTHING = SettlementState(empty(SETTLEMENT_WORK))


def test_an_entry_and_its_line_match_by_reference_in_any_case() -> None:
    result = run(
        NOTHING,
        SettlementTonight(entries({"txn_id": "T1"}), lines({"gateway_ref": "gw-t1"}), HISTORY),
        PARAMS,
        DAY,
    )
    assert result.findings.is_empty()
    assert outcomes(result.outcomes) == {"S-gw-t1": "matched"}
    assert result.state["ledger"]["settlement_match"].to_list() == ["S-gw-t1"]
    assert result.state["settlement"].is_empty()


def test_a_line_without_a_reference_match_falls_back_to_merchant_ref() -> None:
    tonight = SettlementTonight(
        entries({"txn_id": "T1"}),
        lines({"gateway_ref": "OTHER", "merchant_ref": "T1"}),
        HISTORY,
    )
    result = run(NOTHING, tonight, PARAMS, DAY)
    assert result.findings.is_empty()
    assert result.state["ledger"]["settlement_match"].to_list() == ["S-OTHER"]


def test_a_line_of_another_type_does_not_match() -> None:
    tonight = SettlementTonight(
        entries({"txn_id": "T1"}), lines({"gateway_ref": "GW-T1", "record_type": "refund"}), HISTORY
    )
    result = run(NOTHING, tonight, PARAMS, DAY)
    assert result.state["ledger"]["settlement_match"].to_list() == [None]
    assert outcomes(result.outcomes) == {"S-GW-T1": "pending"}


def test_a_matched_pair_with_another_amount_is_an_amount_mismatch() -> None:
    tonight = SettlementTonight(
        entries({"txn_id": "T1"}),
        lines({"gateway_ref": "GW-T1", "gross_minor": 9000, "net_minor": 9000}),
        HISTORY,
    )
    result = run(NOTHING, tonight, PARAMS, DAY)
    assert breaks(result.findings) == [("amount_mismatch", "T1")]
    assert result.findings.select("expected_minor", "actual_minor").row(0) == (10000, 9000)
    assert outcomes(result.outcomes) == {"S-GW-T1": "discrepancy"}


def test_a_failed_entry_the_gateway_settled_is_a_status_mismatch() -> None:
    tonight = SettlementTonight(
        entries({"txn_id": "T1", "status": "failed"}), lines({"gateway_ref": "GW-T1"}), HISTORY
    )
    assert breaks(run(NOTHING, tonight, PARAMS, DAY).findings) == [("status_mismatch", "T1")]


def test_a_line_settled_a_day_after_the_entry_is_a_sync_delay() -> None:
    late = lines({"gateway_ref": "GW-T1", "settled_at": noon(DAY, 30)})
    result = run(NOTHING, SettlementTonight(entries({"txn_id": "T1"}), late, HISTORY), PARAMS, DAY)
    assert breaks(result.findings) == [("sync_delay", "T1")]


def test_a_net_that_is_not_gross_less_fee_is_a_fee_mismatch() -> None:
    wrong = lines({"gateway_ref": "GW-T1", "fee_minor": 100, "net_minor": 9800})
    result = run(NOTHING, SettlementTonight(entries({"txn_id": "T1"}), wrong, HISTORY), PARAMS, DAY)
    assert breaks(result.findings) == [("fee_mismatch", "T1")]
    assert result.findings.select("expected_minor", "actual_minor").row(0) == (9900, 9800)


def test_an_unsettled_entry_waits_for_the_window_then_breaks() -> None:
    ledger = entries({"txn_id": "T1"})
    inside = run(
        NOTHING, SettlementTonight(ledger, lines(), HISTORY), PARAMS, DAY + dt.timedelta(days=1)
    )
    assert inside.findings.is_empty()
    after = run(
        NOTHING, SettlementTonight(ledger, lines(), HISTORY), PARAMS, DAY + dt.timedelta(days=2)
    )
    assert breaks(after.findings) == [("missing_in_settlement", "T1")]


def test_an_entry_no_gateway_settles_is_never_missing() -> None:
    ledger = entries({"txn_id": "T1", "entry_type": "transfer_out", "gateway_ref": None})
    result = run(
        NOTHING, SettlementTonight(ledger, lines(), HISTORY), PARAMS, DAY + dt.timedelta(days=9)
    )
    assert result.findings.is_empty()


def test_an_orphan_line_is_carried_then_missing_in_ledger() -> None:
    first = run(
        NOTHING, SettlementTonight(entries(), lines({"gateway_ref": "GW-X"}), HISTORY), PARAMS, DAY
    )
    assert first.findings.is_empty()
    assert first.state["settlement"]["settlement_id"].to_list() == ["S-GW-X"]
    later = run(
        SettlementState(first.state["settlement"]),
        SettlementTonight(entries(), lines(), HISTORY),
        PARAMS,
        DAY + dt.timedelta(days=2),
    )
    assert breaks(later.findings) == [("missing_in_ledger", "GW-X")]
    assert later.outcomes.is_empty()  # the line arrived on an earlier night


def test_a_carried_line_matches_an_entry_arriving_later() -> None:
    first = run(
        NOTHING, SettlementTonight(entries(), lines({"gateway_ref": "GW-T1"}), HISTORY), PARAMS, DAY
    )
    later = run(
        SettlementState(first.state["settlement"]),
        SettlementTonight(entries({"txn_id": "T1"}), lines(), HISTORY),
        PARAMS,
        DAY + dt.timedelta(days=1),
    )
    assert later.findings.is_empty()
    assert later.state["ledger"]["settlement_match"].to_list() == ["S-GW-T1"]
    assert later.state["settlement"].is_empty()


def test_a_chargeback_of_a_payment_known_only_from_history_is_matched() -> None:
    history = pl.DataFrame({"entry_id": ["E-T1"], "txn_id": ["T1"], "ref_norm": ["gw-t1"]})
    chargeback = lines({"gateway_ref": "GW-T1", "record_type": "chargeback", "net_minor": -10000})
    result = run(
        NOTHING,
        SettlementTonight(entries(), chargeback, history),
        PARAMS,
        DAY + dt.timedelta(days=5),
    )
    assert result.findings.is_empty()
    assert outcomes(result.outcomes) == {"S-GW-T1": "matched"}
    unknown = run(
        NOTHING,
        SettlementTonight(entries(), chargeback, HISTORY),
        PARAMS,
        DAY + dt.timedelta(days=5),
    )
    assert breaks(unknown.findings) == [("missing_in_ledger", "GW-T1")]


def test_a_chargeback_naming_several_known_payments_takes_the_reference_then_the_smallest_id() -> (
    None
):
    payments = entries(
        {"txn_id": "T1", "entry_id": "E9", "gateway_ref": "GW-1"},
        {"txn_id": "T1", "entry_id": "E5", "gateway_ref": "GW-1"},
        {"txn_id": "T2", "entry_id": "E1", "gateway_ref": "GW-7"},
    )
    chargeback = lines(
        {"gateway_ref": "GW-1", "merchant_ref": "T2", "record_type": "chargeback"},
        {"gateway_ref": "GW-8", "merchant_ref": "T1", "record_type": "chargeback"},
    )
    matched = match_settlement(payments, chargeback, HISTORY).settlement
    # E1 is only found by merchant_ref: the reference rule comes first, then the smallest id.
    assert matched.select("settlement_id", "ledger_match").rows() == [
        ("S-GW-1", "E5"),
        ("S-GW-8", "E5"),
    ]
