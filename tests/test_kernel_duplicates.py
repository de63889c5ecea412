"""The duplicates kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import polars as pl

from tests.kernel_frames import DAY, breaks, entries, lines, noon, outcomes, receipts
from walletrecon.kernels.duplicates import DuplicateParams, DuplicateState, DuplicateTonight, run

NO_HISTORY = DuplicateState(
    pl.DataFrame(schema={"source": pl.String, "dup_key": pl.String, "row_id": pl.String})
)


def tonight(**frames: pl.DataFrame) -> DuplicateTonight:
    return DuplicateTonight(
        ledger=frames.get("ledger", entries()),
        settlement=frames.get("settlement", lines()),
        receipts=frames.get("receipts", receipts()),
    )


def test_distinct_keys_give_no_duplicate_and_every_row_goes_on() -> None:
    result = run(
        NO_HISTORY,
        tonight(ledger=entries({"txn_id": "T1"}, {"txn_id": "T2"})),
        DuplicateParams(),
        DAY,
    )
    assert result.findings.is_empty()
    assert result.outcomes.is_empty()
    assert result.state["ledger"]["entry_id"].to_list() == ["E-T1", "E-T2"]


def test_a_second_payment_entry_of_one_transaction_is_a_duplicate_the_earliest_stands() -> None:
    ledger = entries(
        {"txn_id": "T1", "entry_id": "E2", "created_at": noon(DAY, 1)},
        {"txn_id": "T1", "entry_id": "E1"},
    )
    result = run(NO_HISTORY, tonight(ledger=ledger), DuplicateParams(), DAY)
    assert breaks(result.findings) == [("duplicate", "T1")]
    assert outcomes(result.outcomes) == {"E2": "discrepancy"}
    assert result.state["ledger"]["entry_id"].to_list() == ["E1"]


def test_two_entries_of_one_transfer_are_not_duplicates() -> None:
    ledger = entries(
        {"txn_id": "T1", "entry_id": "E1", "entry_type": "transfer_out"},
        {"txn_id": "T1", "entry_id": "E2", "entry_type": "transfer_in"},
    )
    assert run(NO_HISTORY, tonight(ledger=ledger), DuplicateParams(), DAY).findings.is_empty()


def test_a_second_line_of_one_reference_and_type_is_a_duplicate_in_any_case() -> None:
    settlement = lines(
        {"gateway_ref": "GW-1", "settlement_id": "S1"},
        {"gateway_ref": "gw-1", "settlement_id": "S2", "settled_at": noon(DAY, 3)},
    )
    result = run(NO_HISTORY, tonight(settlement=settlement), DuplicateParams(), DAY)
    assert outcomes(result.outcomes) == {"S2": "discrepancy"}
    refund = lines(
        {"gateway_ref": "GW-1"},
        {"gateway_ref": "GW-1", "settlement_id": "S9", "record_type": "refund"},
    )
    assert run(NO_HISTORY, tonight(settlement=refund), DuplicateParams(), DAY).findings.is_empty()


def test_a_row_sharing_a_key_with_an_earlier_night_is_a_duplicate_but_its_own_update_is_not() -> (
    None
):
    history = DuplicateState(
        pl.DataFrame({"source": ["receipts"], "dup_key": ["T1"], "row_id": ["R-old"]})
    )
    result = run(history, tonight(receipts=receipts({"txn_id": "T1"})), DuplicateParams(), DAY)
    assert outcomes(result.outcomes) == {"R-T1": "discrepancy"}
    assert "R-old" in result.findings["explanation"][0]
    update = DuplicateState(
        pl.DataFrame({"source": ["receipts"], "dup_key": ["T1"], "row_id": ["R-T1"]})
    )
    assert run(
        update, tonight(receipts=receipts({"txn_id": "T1"})), DuplicateParams(), DAY
    ).findings.is_empty()


def test_keep_narrows_the_firsts_but_not_the_duplicates() -> None:
    ledger = entries({"txn_id": "T1", "entry_type": "transfer_out"}, {"txn_id": "T2"})
    params = DuplicateParams(keep={"ledger": pl.col("entry_type") == "payment"})
    result = run(NO_HISTORY, tonight(ledger=ledger), params, DAY)
    assert result.state["ledger"]["txn_id"].to_list() == ["T2"]
    assert result.state["settlement"].is_empty()


def test_the_kernel_takes_tonights_rows_over() -> None:
    rows = tonight(ledger=entries({"txn_id": "T1"}))
    result = run(NO_HISTORY, rows, DuplicateParams(), DAY)
    assert (rows.ledger.height, rows.settlement.height, rows.receipts.height) == (0, 0, 0)
    assert result.state["ledger"].height == 1
