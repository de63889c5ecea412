"""Checking and recording decisions: one from ``walletrecon decide``, many from a file.

Every request is checked against the latest published night and the log before any is written
(an import records all its rows or none). A refusal names the request (its line, for a file), the
field and what was expected: an unknown id, a closed break, a break that already has a decision
waiting for the next night, a proposal approved by the person who made it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from walletrecon.config import Decisions
from walletrecon.decisions.log import Draft, Log, append, read_log
from walletrecon.decisions.model import RESOLUTIONS, REVIEWS, Decision, needs_approval
from walletrecon.decisions.pairing import check_pair, ordered, suggested_pair
from walletrecon.decisions.targets import Published, at_stake
from walletrecon.errors import UsageError
from walletrecon.lock import run_lock

#: Where the person deciding comes from when ``--user`` is not given.
USER_VARIABLE = "WALLETRECON_USER"
#: Refusals listed in one message before the rest are counted.
SHOWN_REFUSALS = 20


def current_user(given: str | None) -> str:
    """``--user``, else ``$WALLETRECON_USER``, else the login name."""
    user = (given or os.environ.get(USER_VARIABLE) or getpass.getuser() or "").strip()
    if not user:
        raise UsageError(f"who decides? give --user NAME or set {USER_VARIABLE}")
    return user


@dataclass(frozen=True)
class Request:
    """A decision asked for, before it is checked."""

    action: str
    target: str
    reason: str
    user: str
    until: dt.date | None = None
    assignee: str | None = None
    counterpart: str | None = None
    #: Where the request comes from, for messages (``FILE line N``); empty for the command line.
    where: str = ""


class _Pending:
    """Decisions on breaks that no night has applied yet, by break: a second decision that
    would close or reopen one of them is refused."""

    def __init__(self, log: Log, published: Published) -> None:
        applied, states = published.applied_ids(), log.states()
        self.by_break: dict[str, Decision] = {}
        self.by_item: dict[str, Decision] = {}
        for decision in log.decisions:
            waiting = states.get(decision.decision_id) in ("proposed", "approved")
            if waiting and decision.decision_id not in applied:
                self.add(decision)

    def add(self, decision: Decision) -> None:
        if decision.action == "match" and decision.counterpart is not None:
            self.by_item[decision.target] = decision
            self.by_item[decision.counterpart] = decision
        if decision.action in (*RESOLUTIONS, "reopen"):
            for identity in decision.breaks:
                self.by_break[identity] = decision


def _breaks(request: Request, published: Published, pending: _Pending) -> tuple[str, ...]:
    """The breaks of the target the action can act on; UsageError when there are none."""
    named = published.breaks_of(request.target)
    wanted = "decided" if request.action == "reopen" else "open"
    usable = tuple(identity for identity in named if published.where(identity) == wanted)
    if not usable:
        if request.action == "reopen":
            raise UsageError(
                f"{request.target}: only a break closed by a decision can be reopened; "
                + "; ".join(
                    f"{identity} is open"
                    if published.where(identity) == "open"
                    else published.describe_closed(identity)
                    for identity in named
                )
            )
        raise UsageError(
            f"{request.target} is closed: "
            + "; ".join(published.describe_closed(identity) for identity in named)
        )
    if request.action in (*RESOLUTIONS, "reopen"):
        for identity in usable:
            waiting = pending.by_break.get(identity)
            if waiting is not None:
                raise UsageError(
                    f"{request.target}: break {identity} already has {waiting.decision_id} "
                    f"({waiting.action} by {waiting.user}) waiting for the next night"
                )
    return usable


def check(request: Request, published: Published, pending: _Pending, settings: Decisions) -> Draft:
    """A checked request, ready to be numbered and chained into the log."""
    if not request.reason.strip():
        raise UsageError("reason: every decision needs a reason (--reason TEXT)")
    if request.action == "assign" and not (request.assignee or "").strip():
        raise UsageError("to: assign needs the person to assign to (--to NAME)")
    if request.until is not None and request.action != "accept":
        raise UsageError("until: only an accept takes --until")
    if request.until is not None and request.until < published.night:
        raise UsageError(
            f"until: {request.until} is before the latest night ({published.night}); "
            "an accept until a date closes the break up to that date"
        )
    source = None
    if request.action == "match":
        if request.counterpart:
            first, second = ordered(
                published.out, published.night, request.target, request.counterpart
            )
        else:  # a break (or ticket) whose suggested match is accepted
            named = published.breaks_of(request.target)
            first, second = suggested_pair(published.out, published.night, named)
        request = replace(request, target=first, counterpart=second)
        for item in (first, second):
            waiting = pending.by_item.get(item)
            if waiting is not None:
                raise UsageError(
                    f"{item} already has {waiting.decision_id} (match by {waiting.user}) "
                    "waiting for the next night"
                )
        pair = check_pair(published.out, published.night, first, second, published.open)
        breaks, source = pair.breaks, pair.source
    else:
        breaks = _breaks(request, published, pending)
    rows = published.open.filter(pl.col("discrepancy_id").is_in(list(breaks)))
    amounts = at_stake(rows)
    single = len(amounts) == 1
    proposed = needs_approval(request.action, amounts, settings.approval_above)

    def draft(identity: str, at: str, previous: str) -> Decision:
        return Decision(
            decision_id=identity,
            at=at,
            user=request.user,
            action=request.action,  # type: ignore[arg-type]
            target=request.target,
            reason=request.reason.strip(),
            amount=next(iter(amounts.values())) if single else None,
            currency=next(iter(amounts)) if single else None,
            amounts=amounts,
            state="proposed" if proposed else "approved",
            previous_sha256=previous,
            breaks=breaks,
            night=published.night,
            until=request.until,
            assignee=(request.assignee or "").strip() or None,
            counterpart=request.counterpart,
            counterpart_source=source,  # type: ignore[arg-type]
        )

    return draft


def record(
    out: Path, requests: Sequence[Request], settings: Decisions, wait_seconds: float
) -> list[Decision]:
    """Check every request, then record them all (or none) under the output folder's lock."""
    with run_lock(out, wait_seconds):
        log, published = read_log(out), Published.read(out)
        pending = _Pending(log, published)
        drafts: list[Draft] = []
        refusals: list[str] = []
        for request in requests:
            try:
                drafts.append(check(request, published, pending, settings))
            except UsageError as error:
                refusals.append(f"{request.where}: {error}" if request.where else str(error))
                continue
            # A later request of the same batch may not decide the same break again.
            pending.add(drafts[-1]("DEC-000000", "", "0" * 64))
        if refusals:
            more = len(refusals) - SHOWN_REFUSALS
            shown = refusals[:SHOWN_REFUSALS] + ([f"... and {more} more"] if more > 0 else [])
            raise UsageError(
                "nothing was recorded:\n  " + "\n  ".join(shown) if len(requests) > 1 else shown[0]
            )
        return append(out, log, drafts)


def review(
    out: Path, reviewed: str, verdict: str, user: str, reason: str, wait_seconds: float
) -> Decision:
    """Approve or reject a proposed decision; nobody reviews their own proposal."""
    with run_lock(out, wait_seconds):
        log = read_log(out)
        proposal = log.by_id().get(reviewed)
        if proposal is None or proposal.action in REVIEWS:
            raise UsageError(f"{reviewed}: no decision with that id in {out}")
        state = log.states()[reviewed]
        if state != "proposed":
            raise UsageError(f"{reviewed} is {state}, not proposed: there is nothing to {verdict}")
        if proposal.user == user:
            raise UsageError(
                f"{reviewed} was proposed by {user}: a second person must {verdict} it"
            )

        def draft(identity: str, at: str, previous: str) -> Decision:
            return Decision(
                decision_id=identity,
                at=at,
                user=user,
                action=verdict,  # type: ignore[arg-type]
                target=reviewed,
                reason=reason.strip() or f"{verdict}d",
                state="approved" if verdict == "approve" else "rejected",
                previous_sha256=previous,
                breaks=proposal.breaks,
                night=proposal.night,
                amount=proposal.amount,
                currency=proposal.currency,
                amounts=proposal.amounts,
            )

        return append(out, log, [draft])[0]
