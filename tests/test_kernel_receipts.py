"""The receipts kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import datetime as dt

from tests.kernel_frames import DAY, breaks, entries, noon, outcomes, receipts
from walletrecon.config import parse_config
from walletrecon.kernels.receipts import ReceiptParams, ReceiptState, ReceiptTonight, run
from walletrecon.state import RECEIPT_WORK, empty

PARAMS = ReceiptParams(parse_config({}))
NOTHING = ReceiptState(empty(RECEIPT_WORK))
NEXT_DAY = DAY + dt.timedelta(days=1)


def test_a_payment_and_its_receipt_match_by_txn_id() -> None:
    result = run(
        NOTHING, ReceiptTonight(entries({"txn_id": "T1"}), receipts({"txn_id": "T1"})), PARAMS, DAY
    )
    assert result.findings.is_empty()
    assert outcomes(result.outcomes) == {"R-T1": "matched"}
    assert result.state["ledger"]["receipt_match"].to_list() == ["R-T1"]
    assert result.state["receipts"].is_empty()


def test_a_receipt_of_another_amount_is_an_amount_mismatch() -> None:
    tonight = ReceiptTonight(
        entries({"txn_id": "T1"}), receipts({"txn_id": "T1", "amount_minor": 9999})
    )
    result = run(NOTHING, tonight, PARAMS, DAY)
    assert breaks(result.findings) == [("amount_mismatch", "T1")]
    assert outcomes(result.outcomes) == {"R-T1": "discrepancy"}


def test_a_receipt_in_another_currency_is_a_currency_mismatch() -> None:
    tonight = ReceiptTonight(
        entries({"txn_id": "T1"}), receipts({"txn_id": "T1", "currency": "USD"})
    )
    assert breaks(run(NOTHING, tonight, PARAMS, DAY).findings) == [("currency_mismatch", "T1")]


def test_a_receipt_two_days_late_is_a_sync_delay() -> None:
    tonight = ReceiptTonight(
        entries({"txn_id": "T1"}), receipts({"txn_id": "T1", "received_at": noon(DAY, 25)})
    )
    assert breaks(run(NOTHING, tonight, PARAMS, NEXT_DAY).findings) == [("sync_delay", "T1")]


def test_an_unreceipted_payment_breaks_when_its_window_ends() -> None:
    ledger = entries({"txn_id": "T1"})
    assert run(NOTHING, ReceiptTonight(ledger, receipts()), PARAMS, DAY).findings.is_empty()
    after = run(NOTHING, ReceiptTonight(ledger, receipts()), PARAMS, NEXT_DAY)
    assert breaks(after.findings) == [("payment_not_received", "T1")]


def test_a_failed_payment_or_one_without_a_merchant_owes_no_receipt() -> None:
    ledger = entries({"txn_id": "T1", "status": "failed"}, {"txn_id": "T2", "merchant_id": None})
    assert run(NOTHING, ReceiptTonight(ledger, receipts()), PARAMS, NEXT_DAY).findings.is_empty()


def test_an_orphan_receipt_waits_then_is_missing_in_ledger() -> None:
    first = run(NOTHING, ReceiptTonight(entries(), receipts({"txn_id": "T9"})), PARAMS, DAY)
    assert first.findings.is_empty()
    assert outcomes(first.outcomes) == {"R-T9": "pending"}
    later = run(
        ReceiptState(first.state["receipts"]),
        ReceiptTonight(entries(), receipts()),
        PARAMS,
        NEXT_DAY,
    )
    assert breaks(later.findings) == [("missing_in_ledger", "T9")]


def test_one_receipt_pairs_with_one_payment_only() -> None:
    ledger = entries(
        {"txn_id": "T1"}, {"txn_id": "T1", "entry_id": "E-T1-b", "created_at": noon(DAY, 1)}
    )
    result = run(NOTHING, ReceiptTonight(ledger, receipts({"txn_id": "T1"})), PARAMS, DAY)
    assert result.state["ledger"].select("entry_id", "receipt_match").rows() == [
        ("E-T1", "R-T1"),
        ("E-T1-b", None),
    ]
