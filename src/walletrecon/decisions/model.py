"""The names of decisions and the record of one, as a line of the decision log holds it.

Every list of names (actions, reviews, states, resolutions) is defined here once; the command
line, the log, the night and the tickets read them from here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

#: What a person decides on a break (CONTRACT section 6).
Action = Literal["write-off", "accept", "match", "reopen", "assign", "comment"]
ACTIONS: tuple[str, ...] = get_args(Action)
#: What a second person does with a proposed decision (maker-checker).
Review = Literal["approve", "reject"]
REVIEWS: tuple[str, ...] = get_args(Review)
#: A decision's state: proposed (waiting for a second person), approved (waiting for the next
#: night), rejected, applied (a night has applied it).
State = Literal["proposed", "approved", "rejected", "applied"]
STATES: tuple[str, ...] = get_args(State)
#: How a break a decision closes ends, by closing action.
RESOLUTIONS: dict[str, str] = {
    "write-off": "written_off",
    "accept": "accepted",
    "match": "matched_by_hand",
}
#: Actions that need a second person above ``[decisions] approval_above``.
NEEDS_APPROVAL: tuple[str, ...] = ("write-off", "accept")
#: Actions that name two items rather than a break or a ticket.
PAIRING: tuple[str, ...] = ("match",)
#: The hash a first line of the log chains to.
GENESIS = "0" * 64
#: Decision ids: ``DEC-`` and a running number.
ID_PREFIX = "DEC-"


def decision_id(number: int) -> str:
    """The id of the log's ``number``-th line (1-based)."""
    return f"{ID_PREFIX}{number:06d}"


def needs_approval(
    action: str, amounts: dict[str, Decimal], approval_above: dict[str, Decimal]
) -> bool:
    """Whether a second person must approve: a write-off or an accept whose amount at stake in
    some currency is above that currency's threshold."""
    return action in NEEDS_APPROVAL and any(
        currency in approval_above and amount > approval_above[currency]
        for currency, amount in amounts.items()
    )


class Decision(BaseModel):
    """One line of the decision log. ``state`` is the state the line gave its decision when it
    was written (``proposed`` or ``approved``; a review line: ``approved`` or ``rejected``); the
    state a decision has now follows from the lines after it and the nights that applied it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: str = Field(pattern=r"^DEC-\d{6,}$")
    at: str
    user: str = Field(min_length=1)
    action: Action | Review
    #: A discrepancy_id or ticket_id; for a review, the decision reviewed; for a match, the
    #: ledger entry_id.
    target: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    #: Money at stake (sum over the breaks of |actual - expected|), when one currency.
    amount: Decimal | None = None
    currency: str | None = None
    #: Money at stake per currency (a ticket's breaks may be in several).
    amounts: dict[str, Decimal] = Field(default_factory=dict)
    state: State
    previous_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    #: The breaks the target named when the decision was recorded.
    breaks: tuple[str, ...] = ()
    #: The night whose outputs the target was looked up in.
    night: dt.date | None = None
    #: ``accept --until``: closed up to and including this date, open again after it.
    until: dt.date | None = None
    #: ``assign --to``.
    assignee: str | None = None
    #: ``match``: the counterpart of the ledger entry (a settlement_id or receipt_id) or of the
    #: payout (a bank_line_id), and the source it is a row of.
    counterpart: str | None = None
    counterpart_source: Literal["settlement", "receipts", "bank"] | None = None

    def line(self) -> str:
        """The record as one line of JSON (keys in a fixed order, no trailing newline)."""
        return self.model_dump_json(exclude_none=True)
