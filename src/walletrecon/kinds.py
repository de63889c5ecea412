"""The registry of discrepancy kinds: one declaration per kind, every per-kind table read from it.

A kind's name, key, severity, queue, handling steps, whether later data can clear it, the words
its resolved ticket carries and what it means are declared once, in ``KINDS``. The list of types
(outputs, configuration, the ``tickets --type`` choice), the severities of published breaks, the
breaks that are resolved when no longer found, the tickets' queues, suggested actions and
resolutions are all derived from it, so a new kind is one declaration here (plus the classifier
that finds it).

The derived tables are functions that read ``KINDS`` when called, so that they always agree with
the declarations (and a test can declare a kind and see it everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from walletrecon.schemas import Severity

Queue = Literal["finance_ops", "tech_support", "merchant_support", "gateway_ops"]
#: The built-in ticket queues, the only ones a configuration may route a kind to.
QUEUES: tuple[str, ...] = get_args(Queue)
#: The handling process finance teams follow, step by step; each kind fills in the steps.
STEPS = ("Confirm", "Record and classify", "Hand over", "Tell the customer", "Review")
#: What a kind does at each of the five ``STEPS``, in order.
Steps = tuple[str, str, str, str, str]
#: The resolution of a break that is gone without its kind saying why.
NO_LONGER_FOUND = "no longer found"


@dataclass(frozen=True)
class Kind:
    """One kind of break: how it is keyed, how urgent it is, who handles it and how it ends."""

    name: str
    #: The columns a break's key is taken from (CONTRACT section 2), the usual one first.
    key: tuple[str, ...]
    severity: Severity
    #: The built-in queue of its tickets (``[tickets.queues]`` may route it elsewhere).
    queue: Queue
    #: The suggested action, one sentence per handling step.
    steps: Steps
    #: Later data can clear it: it is found again every night it lasts and resolved when it is
    #: not. A kind that is a fact about delivered rows stays open until a person resolves it.
    resolvable: bool
    #: What a person reads when the break is found (CONTRACT section 2's "when").
    explanation: str
    #: What a resolved ticket says happened.
    resolution: str = NO_LONGER_FOUND
    #: The break's identity includes its currency (one account, one break per currency).
    per_currency: bool = False

    @property
    def suggested_action(self) -> str:
        """The handling steps, numbered and named, as a ticket shows them."""
        return " ".join(
            f"{number}. {step}: {action}"
            for number, (step, action) in enumerate(zip(STEPS, self.steps, strict=True), start=1)
        )


KINDS: tuple[Kind, ...] = (
    Kind(
        name="balance_mismatch",
        key=("account_id",),
        severity="high",
        queue="finance_ops",
        steps=(
            "recompute the account from its postings since the last agreed balance.",
            "note the entry the balance engine missed or counted twice.",
            "tech support if the balance engine is at fault.",
            "correct the shown balance and tell the customer if they saw it.",
            "check the account's next snapshots.",
        ),
        resolvable=True,
        explanation="a reported balance differs from the previous reported balance plus the "
        "succeeded entries posted in between",
        resolution="the reported balance agrees with the ledger again",
        per_currency=True,
    ),
    Kind(
        name="missing_in_settlement",
        key=("txn_id",),
        severity="high",
        queue="gateway_ops",
        steps=(
            "ask the gateway for the settlement status of the reference.",
            "settled late, lost, or never sent.",
            "gateway operations to chase it; tech support if it was never sent.",
            "if it never settled, reverse or retry and tell the customer.",
            "check the gateway's settlement files for the same gap.",
        ),
        resolvable=True,
        explanation="a succeeded entry sent to a gateway has no settlement line after the "
        "settlement window",
        resolution="the settlement line arrived",
    ),
    Kind(
        name="missing_in_ledger",
        key=("gateway_ref", "txn_id"),
        severity="high",
        queue="tech_support",
        steps=(
            "find the wallet transaction behind the gateway reference or receipt.",
            "a missing ledger entry, or a settlement that is not ours.",
            "tech support to post the entry; gateway operations to dispute a foreign one.",
            "credit or debit the customer once the entry is posted.",
            "look for a sync gap between the wallet and its ledger.",
        ),
        resolvable=True,
        explanation="a settlement line or a receipt matches no ledger entry after its window",
        resolution="the ledger entry arrived",
    ),
    Kind(
        name="payment_not_received",
        key=("txn_id",),
        severity="high",
        queue="merchant_support",
        steps=(
            "ask the merchant whether the order was received and fulfilled.",
            "lost notification, or payment never delivered.",
            "tech support if the notification was never sent.",
            "re-send the notification, or refund the customer.",
            "check the merchant's other recent receipts.",
        ),
        resolvable=True,
        explanation="a succeeded payment to a merchant has no receipt after the receipt window",
        resolution="the merchant receipt arrived",
    ),
    Kind(
        name="amount_mismatch",
        key=("txn_id",),
        severity="high",
        queue="finance_ops",
        steps=(
            "compare the ledger amount with the gateway's or the merchant's.",
            "book the difference as a short or an over payment.",
            "gateway operations or the merchant to claim it back.",
            "refund or collect the difference from the customer if it was theirs.",
            "look for a pricing or rounding cause.",
        ),
        resolvable=False,
        explanation="a matched gross or receipt amount differs from the ledger amount by more "
        "than the tolerance",
    ),
    Kind(
        name="fee_mismatch",
        key=("txn_id", "gateway_ref"),
        severity="medium",
        queue="gateway_ops",
        steps=(
            "recompute the fee from the contracted schedule.",
            "wrong fee, or net not following from gross and fee.",
            "gateway operations to raise a fee claim.",
            "no customer impact unless the fee was passed on.",
            "check the gateway's other lines of the same day.",
        ),
        resolvable=False,
        explanation="a settlement line's net does not follow from gross and fee, or its fee "
        "departs from the gateway's schedule",
    ),
    Kind(
        name="status_mismatch",
        key=("txn_id",),
        severity="critical",
        queue="tech_support",
        steps=(
            "money moved while the wallet shows the payment as not succeeded.",
            "status not updated, or a payment the user thinks failed.",
            "tech support to fix the status or refund.",
            "tell the customer whether they were charged.",
            "check the status callbacks from the gateway.",
        ),
        resolvable=False,
        explanation="a gateway settled, or a merchant received, an entry the ledger has as "
        "failed, pending or reversed",
    ),
    Kind(
        name="duplicate",
        key=("gateway_ref", "txn_id"),
        severity="high",
        queue="tech_support",
        steps=(
            "check whether the customer was charged twice.",
            "double submission, or a line or receipt sent twice.",
            "tech support to reverse the duplicate.",
            "refund the customer if they paid twice.",
            "fix the source of the double submission.",
        ),
        resolvable=False,
        explanation="a second distinct settlement line, receipt or payment entry for one "
        "reference or transaction",
    ),
    Kind(
        name="currency_mismatch",
        key=("txn_id",),
        severity="high",
        queue="gateway_ops",
        steps=(
            "compare the currency of the ledger entry and its counterpart.",
            "wrong routing, or a conversion not booked.",
            "gateway operations to correct the settlement currency.",
            "tell the customer if they were charged in another currency.",
            "check the currency routing of the gateway account.",
        ),
        resolvable=False,
        explanation="an entry and its counterpart are matched but in different currencies",
    ),
    Kind(
        name="sync_delay",
        key=("txn_id",),
        severity="low",
        queue="tech_support",
        steps=(
            "check the sync job between the wallet and the counterparty for backlog.",
            "a late but complete counterpart; no money is at risk.",
            "tech support if the delay keeps growing.",
            "no customer action unless the app shows stale data.",
            "watch the delay over the next nights.",
        ),
        resolvable=False,
        explanation="an entry was settled or received later than the sync-delay threshold "
        "after it was created",
    ),
    Kind(
        name="payout_mismatch",
        key=("payout_id", "bank_line_id"),
        severity="critical",
        queue="finance_ops",
        steps=(
            "compare the gateway's payout report with the bank statement.",
            "short, missing, or unknown payout.",
            "gateway operations or the bank to chase it.",
            "no customer action unless merchants' payouts are late.",
            "check the next payouts of the same gateway.",
        ),
        resolvable=True,
        explanation="a payout's bank line differs from its lines' net sum or never came, or a "
        "bank line names no known payout",
        resolution="the payout and its bank line agree",
    ),
)


def names() -> tuple[str, ...]:
    """Every kind's name, in the contract's order: the discrepancy types."""
    return tuple(kind.name for kind in KINDS)


def severity_of() -> dict[str, str]:
    """Kind -> the severity of its breaks."""
    return {kind.name: kind.severity for kind in KINDS}


def queue_of() -> dict[str, str]:
    """Kind -> the built-in queue of its tickets."""
    return {kind.name: kind.queue for kind in KINDS}


def suggested_action_of() -> dict[str, str]:
    """Kind -> the suggested action of its tickets (the five handling steps)."""
    return {kind.name: kind.suggested_action for kind in KINDS}


def resolution_of() -> dict[str, str]:
    """Kind -> what its resolved tickets say."""
    return {kind.name: kind.resolution for kind in KINDS}


def resolvable() -> tuple[str, ...]:
    """The kinds later data can clear: resolved the first night they are not found again."""
    return tuple(kind.name for kind in KINDS if kind.resolvable)


def per_currency() -> tuple[str, ...]:
    """The kinds whose break identity includes the currency."""
    return tuple(kind.name for kind in KINDS if kind.per_currency)
