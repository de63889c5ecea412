"""The whole night's kernel on tiny inline frames: what it finds, and that it takes tonight's
rows and yesterday's state over, keeping only what the books need."""

from __future__ import annotations

import polars as pl

from tests.kernel_frames import DAY, entries, lines, outcomes, receipts
from walletrecon.config import Config
from walletrecon.kernel import ARRIVAL_COLUMNS, Arrivals, reconcile
from walletrecon.state import BANK_WORK, SNAPSHOTS, NightState, empty


def _arrivals(receipt_amount: int = 10000) -> Arrivals:
    return Arrivals(
        ledger=entries({"txn_id": "T1"}),
        settlement=lines({"gateway_ref": "GW-T1"}),
        receipts=receipts({"txn_id": "T1", "amount_minor": receipt_amount}),
        bank=empty(BANK_WORK),
        balances=empty(SNAPSHOTS),
        known_keys=pl.DataFrame(
            schema={"source": pl.String, "dup_key": pl.String, "row_id": pl.String}
        ),
        payment_history=pl.DataFrame(
            schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String}
        ),
    )


def test_a_matched_night_finds_nothing_and_lets_its_inputs_go() -> None:
    yesterday = NightState.initial().in_memory()
    arrivals = _arrivals()
    night = reconcile(yesterday, arrivals, DAY, Config())
    assert night.findings.is_empty()
    assert set(outcomes(night.outcomes).values()) == {"matched"}
    # The kernel took yesterday's state over and kept only the ledger's ids and amounts.
    assert yesterday == {}
    assert arrivals.ledger.columns == ARRIVAL_COLUMNS
    assert arrivals.settlement.is_empty() and arrivals.receipts.is_empty()
    arrivals.let_go()
    assert arrivals.ledger.is_empty() and arrivals.ledger.columns == ARRIVAL_COLUMNS


def test_a_receipt_of_another_amount_is_found() -> None:
    night = reconcile(NightState.initial().in_memory(), _arrivals(9000), DAY, Config())
    assert night.findings.get_column("type").to_list() == ["amount_mismatch"]
