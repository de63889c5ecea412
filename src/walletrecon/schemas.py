"""The single source of column names and kinds: the canonical input profile and the output tables.

Each input source is described once, as a list of ``Column`` specs; loading, validation SQL,
content hashes and documentation are all derived from these specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import polars as pl

from walletrecon.causes import CAUSE_COLUMNS
from walletrecon.money import MAX_EXPONENT

ColumnKind = Literal["id", "text", "amount", "currency", "timestamp", "date", "enum", "rate"]

ENTRY_TYPES = (
    "payment",
    "refund",
    "topup",
    "withdrawal",
    "transfer_in",
    "transfer_out",
    "fee",
    "adjustment",
)
ENTRY_STATUSES = ("succeeded", "pending", "failed", "reversed")
#: The statuses of a remediation ticket.
TICKET_STATUSES = ("new", "open", "resolved")
#: The kinds of settlement line.
RecordType = Literal["payment", "refund", "topup", "withdrawal", "chargeback"]
RECORD_TYPES: tuple[str, ...] = get_args(RecordType)
#: Ledger entry types that a gateway settles, and so are matched against settlement lines.
SETTLED_ENTRY_TYPES = ("payment", "refund", "topup", "withdrawal")
#: The amount column whose control totals the manifest keeps, per source: every outcome row
#: carries it (``kernels.outcome_rows``), so the totals need no join of outcomes to rows.
CONTROL_AMOUNT = {
    "ledger": "amount_minor",
    "settlement": "gross_minor",
    "receipts": "amount_minor",
    "bank": "amount_minor",
    "balances": "balance_minor",
}
#: How urgent a break is, from the least to the most.
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
#: What becomes of an input row: every row read ends in exactly one (the manifest's books).
#: ``superseded``: an earlier version of a ledger entry that a later version of the same run
#: replaced (an update, CONTRACT section 1b); the latest version goes on. ``control``: a record
#: that is a total, not a transaction (a payout line, a statement balance, a trailer).
OUTCOMES = ("matched", "discrepancy", "pending", "rejected", "redelivered", "superseded", "control")
#: Ledger status moves an update may make (CONTRACT section 1b): from the earlier version's status
#: to the later one's. Any other change of status under a repeated entry_id is rejected.
STATUS_UPDATES = frozenset(
    {
        ("pending", "succeeded"),
        ("pending", "failed"),
        ("pending", "reversed"),
        ("succeeded", "reversed"),
    }
)
#: The only ledger columns an update may change.
UPDATABLE_COLUMNS = ("status", "posted_at", "gateway_ref")


@dataclass(frozen=True)
class Column:
    """One column of an input source: its kind, whether a value is required, its allowed values."""

    name: str
    kind: ColumnKind
    required: bool = True
    choices: tuple[str, ...] = ()
    #: For amounts: "any" sign, or "non_negative".
    sign: Literal["any", "non_negative"] = "any"
    #: For timestamps: a bare date means the end of that business day (a cut-off).
    bare_date_is_end_of_day: bool = False
    #: For references: case carries no meaning (compared and hashed in lower case).
    case_insensitive: bool = False
    #: A file may leave the column out altogether (its values are then absent).
    optional_column: bool = False
    #: For amounts: the currency columns whose first present value gives the minor unit.
    currency_columns: tuple[str, ...] = ("currency",)
    #: For text: words for a person (a bank line's reference), not an identifier or a key, so
    #: it may hold any character.
    free_text: bool = False


@dataclass(frozen=True)
class Source:
    """One input source of the canonical profile."""

    name: str
    id_column: str
    columns: tuple[Column, ...]
    required_file: bool = False
    #: The column whose value dates an item (its business date).
    date_column: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


LEDGER = Source(
    name="ledger",
    id_column="entry_id",
    required_file=True,
    date_column="created_at",
    columns=(
        Column("entry_id", "id"),
        Column("txn_id", "text"),
        Column("account_id", "text"),
        Column("entry_type", "enum", choices=ENTRY_TYPES),
        Column("amount", "amount"),
        Column("currency", "currency"),
        Column("status", "enum", choices=ENTRY_STATUSES),
        Column("created_at", "timestamp"),
        Column("posted_at", "timestamp", required=False),
        Column("merchant_id", "text", required=False),
        Column("gateway_ref", "text", required=False, case_insensitive=True),
    ),
)
BALANCES = Source(
    name="balances",
    id_column="",
    date_column="as_of",
    columns=(
        Column("account_id", "text"),
        Column("currency", "currency"),
        Column("as_of", "timestamp", bare_date_is_end_of_day=True),
        Column("balance", "amount"),
    ),
)
#: Fee and net of a settlement line are in its net currency when it has one, else in its currency.
NET_CURRENCY = ("net_currency", "currency")
SETTLEMENT = Source(
    name="settlement",
    id_column="settlement_id",
    date_column="settled_at",
    columns=(
        Column("settlement_id", "id"),
        Column("gateway", "text"),
        Column("gateway_ref", "text", case_insensitive=True),
        Column("merchant_ref", "text", required=False),
        Column("record_type", "enum", choices=RECORD_TYPES),
        Column("gross_amount", "amount", sign="non_negative"),
        Column("fee_amount", "amount", sign="non_negative", currency_columns=NET_CURRENCY),
        Column("net_amount", "amount", currency_columns=NET_CURRENCY),
        Column("currency", "currency"),
        Column("settled_at", "timestamp"),
        Column("payout_id", "text", required=False),
        # A line settled in another currency than its gross: fee and net are in net_currency,
        # and net = gross * exchange_rate - fee (contract section 1b).
        Column("net_currency", "currency", required=False, optional_column=True),
        Column("exchange_rate", "rate", required=False, optional_column=True),
    ),
)
RECEIPTS = Source(
    name="receipts",
    id_column="receipt_id",
    date_column="received_at",
    columns=(
        Column("receipt_id", "id"),
        Column("merchant_id", "text"),
        Column("txn_id", "text"),
        Column("amount", "amount", sign="non_negative"),
        Column("currency", "currency"),
        Column("received_at", "timestamp"),
    ),
)
BANK = Source(
    name="bank",
    id_column="bank_line_id",
    date_column="value_date",
    columns=(
        Column("bank_line_id", "id"),
        Column("amount", "amount"),
        Column("currency", "currency"),
        Column("value_date", "date"),
        Column("reference", "text", required=False, free_text=True),
    ),
)

SOURCES: dict[str, Source] = {
    source.name: source for source in (LEDGER, BALANCES, SETTLEMENT, RECEIPTS, BANK)
}

#: Columns every loaded row carries besides its own: where it came from, for evidence.
ORIGIN_COLUMNS = ("origin_file", "origin_row")

#: A rejected input row: where it came from, the first failing column, every reason, raw values.
REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "origin_file": pl.String(),
    "origin_row": pl.Int64(),
    "column": pl.String(),
    "reason": pl.String(),
    "raw_values": pl.String(),
}

#: The columns a suggested match adds to a discrepancy row and a ticket (CONTRACT section 6):
#: the likely counterpart's id, a confidence from 0 to 1, and the evidence in words.
SUGGESTION_COLUMNS: dict[str, pl.DataType] = {
    "suggested_match": pl.String(),
    "suggestion_confidence": pl.Decimal(3, 2),
    "suggestion_reason": pl.String(),
}
#: Published amounts: exact decimals with room for every ISO 4217 currency's fraction.
AMOUNT_DECIMAL = pl.Decimal(38, MAX_EXPONENT)
DISCREPANCY_SCHEMA: dict[str, pl.DataType] = {
    "discrepancy_id": pl.String(),
    "run_date": pl.Date(),
    "type": pl.String(),
    "severity": pl.String(),
    "account_id": pl.String(),
    "txn_id": pl.String(),
    "gateway_ref": pl.String(),
    "merchant_id": pl.String(),
    "payout_id": pl.String(),
    "currency": pl.String(),
    "expected_amount": AMOUNT_DECIMAL,
    "actual_amount": AMOUNT_DECIMAL,
    "difference": AMOUNT_DECIMAL,
    "first_seen": pl.Date(),
    "age_days": pl.Int32(),
    "explanation": pl.String(),
    "key": pl.String(),
    "bank_line_id": pl.String(),
    "evidence": pl.String(),
    "times_reopened": pl.Int32(),
    #: Who a person assigned the break to (``walletrecon decide assign``), if anyone.
    "assignee": pl.String(),
    **SUGGESTION_COLUMNS,
    **CAUSE_COLUMNS,
}
