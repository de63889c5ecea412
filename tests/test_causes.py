"""Likely causes: each rule on tiny inline frames (with the differences that fit nothing, and
candidates of the same amount), a property over payouts, and generated nights end to end."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.kernel_frames import DAY, entries, lines
from tests.world import World, at
from walletrecon.causes import (
    CAUSES,
    SEVERAL,
    SINGLE,
    cause_columns,
    late_counterpart,
    markdown_table,
)
from walletrecon.cli import main
from walletrecon.config import parse_config
from walletrecon.evaluate import _resolved_causes, cause_score, score
from walletrecon.kernels import payouts as payout_kernel
from walletrecon.kernels.settlement import (
    SettlementParams,
    SettlementState,
    SettlementTonight,
)
from walletrecon.kernels.settlement import run as run_settlement
from walletrecon.match.payouts import line_totals
from walletrecon.sample.balance_causes import (
    DUPLICATE_ENTRY,
    ENTRY_AFTER_CUTOFF,
    FEE_NOT_BOOKED,
    LATE_COUNTERPART,
)
from walletrecon.state import BANK_WORK, PAYOUTS, SETTLEMENT_WORK, conform, empty

HISTORY = pl.DataFrame(schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String})
SETTLEMENT = SettlementParams(parse_config({}))
PAYOUT_PARAMS = payout_kernel.PayoutParams(window_days=2, tolerance=pl.lit(0, pl.Int64))
NO_PAYOUTS = payout_kernel.PayoutState(empty(PAYOUTS), empty(BANK_WORK))
ROOT = Path(__file__).resolve().parents[1]


def _cause(frame: pl.DataFrame) -> tuple[str | None, Decimal | None]:
    row = frame.select("likely_cause", "cause_confidence").row(0)
    return row[0], row[1]


def _named(candidates: list[int], other: list[int] | None = None) -> pl.DataFrame:
    rules = [("fee_gross_net_mixed", pl.col("a"), pl.lit("the fee"))]
    if other is not None:
        rules.append(("payout_missing_line", pl.col("b"), pl.lit("a line")))
    frame = pl.DataFrame({"a": candidates, "b": other or [0] * len(candidates)})
    return frame.select(**cause_columns(pl.lit("A break."), rules))


def test_one_candidate_names_the_cause_with_high_confidence() -> None:
    named = _named([1])
    assert _cause(named) == ("fee_gross_net_mixed", Decimal(SINGLE) / 100)
    assert named["explanation"][0] == "A break. Likely cause: the fee; confidence 0.90."


def test_several_candidates_of_the_amount_lower_the_confidence() -> None:
    assert _cause(_named([2])) == ("fee_gross_net_mixed", Decimal(SEVERAL) / 100)


def test_no_candidate_names_nothing_and_leaves_the_sentence() -> None:
    named = _named([0])
    assert _cause(named) == (None, None)
    assert named["explanation"][0] == "A break."


def test_two_causes_that_fit_are_ambiguous_and_name_none() -> None:
    assert _cause(_named([1], [1])) == (None, None)
    assert _cause(_named([0], [1])) == ("payout_missing_line", Decimal("0.90"))


def test_a_break_resolved_by_its_late_counterpart_says_so() -> None:
    resolved = pl.DataFrame(
        {
            "type": ["missing_in_settlement", "amount_mismatch"],
            "resolution": ["the settlement line arrived", "no longer found"],
            "likely_cause": [None, "fee_gross_net_mixed"],
            "cause_confidence": [None, Decimal("0.90")],
        },
        schema_overrides={"likely_cause": pl.String, "cause_confidence": pl.Decimal(3, 2)},
    ).with_columns(**late_counterpart(pl.col("resolution")))
    assert resolved.rows() == [
        (
            "missing_in_settlement",
            "the settlement line arrived after its window (its counterpart arrived late, "
            "not a loss)",
            "late_counterpart",
            Decimal("0.90"),
        ),
        ("amount_mismatch", "no longer found", "fee_gross_net_mixed", Decimal("0.90")),
    ]


def _settled(**line: object) -> pl.DataFrame:
    tonight = SettlementTonight(
        entries({"txn_id": "T1"}), lines({"gateway_ref": "GW-T1", **line}), HISTORY
    )
    return run_settlement(
        SettlementState(empty(SETTLEMENT_WORK)), tonight, SETTLEMENT, DAY
    ).findings


def test_a_gross_off_the_ledger_by_the_fee_is_gross_and_net_mixed_up() -> None:
    # The ledger booked 100.00; the gateway settled gross 102.50 with a fee of 2.50.
    found = _settled(gross_minor=10250, fee_minor=250, net_minor=10000)
    assert found["type"].to_list() == ["amount_mismatch"]
    assert _cause(found) == ("fee_gross_net_mixed", Decimal("0.90"))
    assert "Likely cause: the fee of 2.50 CNY" in found["explanation"][0]


def test_a_gross_off_by_anything_else_names_no_cause() -> None:
    found = _settled(gross_minor=10300, fee_minor=250, net_minor=10050)
    assert found["type"].to_list() == ["amount_mismatch"]
    assert _cause(found) == (None, None)
    assert "Likely cause" not in found["explanation"][0]


def test_a_net_equal_to_the_gross_is_a_fee_not_taken_off() -> None:
    found = _settled(fee_minor=100, net_minor=10000)
    assert found["type"].to_list() == ["fee_mismatch"]
    assert _cause(found) == ("fee_gross_net_mixed", Decimal("0.90"))


def test_a_net_off_by_other_than_the_fee_names_no_cause() -> None:
    for net in (9800, 9850):  # the fee taken twice; a net off by 0.50
        found = _settled(fee_minor=100, net_minor=net)
        assert found["type"].to_list() == ["fee_mismatch"]
        assert _cause(found) == (None, None)


def _payout_lines(nets: list[int], refunds: list[int]) -> pl.DataFrame:
    count = len(nets) + len(refunds)
    return pl.DataFrame(
        {
            "payout_id": ["PO-77"] * count,
            "currency": ["CNY"] * count,
            "net_currency": [None] * count,
            "net_minor": [*nets, *refunds],
            "item_date": [DAY] * count,
            "record_type": ["payment"] * len(nets) + ["refund"] * len(refunds),
        },
        schema_overrides={"net_currency": pl.String, "net_minor": pl.Int64},
    )


def _paid(nets: list[int], refunds: list[int], bank_minor: int) -> pl.DataFrame:
    bank = conform(
        pl.DataFrame(
            {
                "bank_line_id": ["B1"],
                "amount_minor": [bank_minor],
                "currency": ["CNY"],
                "reference": ["PAYOUT PO-77"],
                "item_date": [DAY],
                "first_run": [DAY],
                "origin": ["bank.csv:2"],
            }
        ),
        BANK_WORK,
    )
    tonight = payout_kernel.PayoutTonight(line_totals(_payout_lines(nets, refunds)), bank)
    return payout_kernel.run(NO_PAYOUTS, tonight, PAYOUT_PARAMS, DAY).findings


def test_a_bank_credit_short_of_one_line_names_that_line() -> None:
    found = _paid([1000, 2500, 4000], [], 1000 + 4000)
    assert _cause(found) == ("payout_missing_line", Decimal("0.90"))
    assert "a settlement line of 25.00 CNY missing from the bank credit" in found["explanation"][0]


def test_two_lines_of_the_missing_amount_lower_the_confidence() -> None:
    found = _paid([2500, 2500, 4000], [], 2500 + 4000)
    assert _cause(found) == ("payout_missing_line", Decimal("0.60"))


def test_a_bank_credit_above_by_a_refund_names_the_refund_held_back() -> None:
    found = _paid([1000, 4000], [-700], 5000)
    assert _cause(found) == ("refund_held_back", Decimal("0.90"))


def test_a_bank_credit_off_by_no_line_names_no_cause() -> None:
    found = _paid([1000, 2500, 4000], [-700], 7000)
    assert found["type"].to_list() == ["payout_mismatch"]
    assert _cause(found) == (None, None)


@settings(max_examples=60, deadline=None)
@given(
    nets=st.lists(st.integers(1, 50), min_size=1, max_size=8),
    refunds=st.lists(st.integers(-50, -1), max_size=3),
    shift=st.integers(-120, 120),
)
def test_a_named_payout_cause_always_fits_the_amounts(
    nets: list[int], refunds: list[int], shift: int
) -> None:
    total = sum(nets) + sum(refunds)
    found = _paid(nets, refunds, total + shift)
    if shift == 0:
        assert found.is_empty()
        return
    cause, confidence = _cause(found)
    fits_line, fits_refund = nets.count(-shift), refunds.count(-shift)
    if cause == "payout_missing_line":
        assert fits_line > 0 and fits_refund == 0
        assert confidence == Decimal("0.90" if fits_line == 1 else "0.60")
    elif cause == "refund_held_back":
        assert fits_refund > 0 and fits_line == 0
        assert confidence == Decimal("0.90" if fits_refund == 1 else "0.60")
    else:
        assert cause is None and confidence is None
        assert (fits_line > 0) == (fits_refund > 0)


def test_the_docs_list_every_cause() -> None:
    text = (ROOT / "docs" / "causes.md").read_text(encoding="utf-8")
    assert markdown_table() in text
    auditors = (ROOT / "docs" / "auditors.md").read_text(encoding="utf-8")
    assert "likely_cause" in auditors and "cause_confidence" in auditors


def test_generated_causes_are_named_end_to_end(tmp_path: Path) -> None:
    """Nights generated and run by the CLI: the injected causes are named, none is named wrong,
    the kinds are all found, and the columns reach the Parquet, the tickets and the report."""
    data, out = tmp_path / "data", tmp_path / "out"
    runner = CliRunner()
    sample = ["sample", "--out", str(data), "--days", "5", "--seed", "5", "--rows", "3000"]
    assert runner.invoke(main, sample).exit_code == 0
    nights = sorted(path.name for path in (data / "inbox").iterdir())
    for night in nights:
        run = ["run", "--date", night, "--inbox", str(data / "inbox"), "--out", str(out)]
        result = runner.invoke(main, [*run, "--config", str(data / "walletrecon.toml")])
        assert result.exit_code == 0, result.output
    truth = pl.read_csv(data / "truth.csv", infer_schema=False)
    assert set(truth["cause"].drop_nulls()) <= set(CAUSES)
    scores = {item.cause: item for item in cause_score(data / "truth.csv", out)}
    every = scores["all"]
    assert every.injected > 0
    assert every.named_wrong == 0
    # Every cause is injected (the balance ones by sample/balance_causes.py) and named.
    assert all(
        scores[name].injected > 0
        for name in (ENTRY_AFTER_CUTOFF, DUPLICATE_ENTRY, FEE_NOT_BOOKED, LATE_COUNTERPART)
    )
    assert every.named_right / every.injected >= 0.9
    assert every.named_without == 0
    assert all(
        item.recall == 1.0 and item.precision == 1.0 for item in score(data / "truth.csv", out)
    )
    published = pl.concat(
        pl.read_parquet(path) for path in sorted((out / "discrepancies").glob("*/*.parquet"))
    )
    named = published.filter(pl.col("likely_cause").is_not_null())
    assert named.height > 0
    assert named["explanation"].str.contains("Likely cause: ").all()
    tickets = [
        json.loads(line)
        for path in sorted((out / "tickets").glob("*/tickets.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert any(ticket.get("likely_cause") in CAUSES for ticket in tickets)
    reports = list(out.rglob("*.html"))
    assert any("likely cause:" in path.read_text(encoding="utf-8") for path in reports)


def test_a_break_resolved_in_a_ticket_group_still_open_is_named_on_the_ticket(
    tmp_path: Path,
) -> None:
    """Two unreceived payments of one account share a ticket; one's receipt comes late: the
    ticket stays open for the other, and its resolution names the one resolved tonight with its
    likely cause (which the cause score reads)."""
    world = World(tmp_path)
    world.payment(0, "T1").settle(0, "T1").payment(0, "T2").settle(0, "T2")
    world.receive(2, "T1", received_at=at(0, 10, 5))
    world.run_through(2)
    assert world.breaks(2) == {("payment_not_received", "T2")}
    gone = world.open(1).filter(pl.col("key") == "T1")["discrepancy_id"].item()
    (ticket,) = [
        json.loads(line)
        for line in (world.out / "tickets" / "run_date=2026-11-22" / "tickets.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert ticket["status"] == "open" and gone not in ticket["discrepancy_ids"]
    assert ticket["resolution"].startswith(f"Resolved tonight: {gone}: the merchant receipt")
    assert "(likely cause: late_counterpart, confidence 0.90)" in ticket["resolution"]
    assert _resolved_causes(world.out).rows() == [(gone, "late_counterpart")]
