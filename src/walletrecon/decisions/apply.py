"""What a night does with the decisions due to it: pure, on the state's frames.

Before the lifecycle stage, in the log's order:

- an accept whose ``until`` date has passed opens its breaks again;
- ``write-off`` and ``accept`` move their open breaks to the decided breaks, with the resolution
  (``written_off``, ``accepted``) and the decision's id; the data cannot open them again while
  they stay decided (``lifecycle.advance`` leaves tonight's findings of them out);
- ``reopen`` moves decided breaks back to the open ones (``times_reopened`` + 1);
- ``match`` (made on the state before the kernels, ``pairing``) closes the two items' breaks
  as ``matched_by_hand``;
- ``assign`` sets the assignee of open breaks; ``comment`` changes no break.

A decision none of whose breaks is where its action needs them (all resolved by the data since,
say) is ``void``, with the reason in its note: recorded as applied, so that it is not tried again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from walletrecon.decisions.model import RESOLUTIONS, Decision
from walletrecon.state import APPLIED_DECISIONS, DECIDED_DISCREPANCIES, OPEN_DISCREPANCIES, conform

#: Columns a decided break has beyond an open one.
DECISION_COLUMNS = [name for name in DECIDED_DISCREPANCIES if name not in OPEN_DISCREPANCIES]


@dataclass(frozen=True)
class Applied:
    """The state's frames after tonight's decisions, and what changed."""

    open: pl.DataFrame
    decided: pl.DataFrame
    #: Breaks decisions closed tonight (decided rows), for the tickets and the journal.
    closed: pl.DataFrame
    #: Ids of breaks opened again tonight (a reopen, or an accept's date passed).
    reopened: list[str]
    #: One row per decision applied tonight (``APPLIED_DECISIONS``).
    applied: pl.DataFrame


#: Resolutions that keep the data from opening a break again: the person's word is final. A
#: hand match is not among them: the pair is checked from then on, and a break of the pair the
#: data finds (a payout's amount once its bank line is paired, say) is a new fact.
FINAL = tuple(resolution for action, resolution in RESOLUTIONS.items() if action != "match")


def suppressed(decided: pl.DataFrame) -> pl.DataFrame:
    """The decided breaks tonight's findings may not open again."""
    return decided.filter(pl.col("resolution").is_in(FINAL))


def found_again(applied: Applied, open_ids: pl.Series) -> Applied:
    """Tonight's decided and closed breaks without the hand-matched ones the data found again
    (open tonight under the same identity)."""
    again = pl.col("discrepancy_id").is_in(open_ids.implode()) & ~pl.col("resolution").is_in(FINAL)
    return replace(
        applied, decided=applied.decided.filter(~again), closed=applied.closed.filter(~again)
    )


def _reopen(row: dict[str, Any]) -> dict[str, Any]:
    opened = {name: row[name] for name in OPEN_DISCREPANCIES}
    opened["times_reopened"] = (row["times_reopened"] or 0) + 1
    return opened


class _Breaks:
    """The breaks tonight's decisions name, by id, with where each stands."""

    def __init__(self, open_rows: pl.DataFrame, decided_rows: pl.DataFrame) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.place: dict[str, str] = {}
        for frame, place in ((open_rows, "open"), (decided_rows, "decided")):
            for row in frame.iter_rows(named=True):
                self.rows[row["discrepancy_id"]] = row
                self.place[row["discrepancy_id"]] = place
        self.closed: list[str] = []
        self.reopened: list[str] = []

    def at(self, breaks: Sequence[str], place: str) -> list[str]:
        return [identity for identity in breaks if self.place.get(identity) == place]

    def close(self, identity: str, decision: Decision, run_date: dt.date) -> None:
        self.rows[identity] = {
            **self.rows[identity],
            "resolution": RESOLUTIONS[decision.action],
            "decision_id": decision.decision_id,
            "decided_on": run_date,
            "until": decision.until if decision.action == "accept" else None,
        }
        self.place[identity] = "decided"
        self.closed.append(identity)

    def reopen(self, identity: str) -> None:
        self.rows[identity] = _reopen(self.rows[identity])
        self.place[identity] = "open"
        if identity in self.closed:
            self.closed.remove(identity)
        else:
            self.reopened.append(identity)

    def frame(self, place: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        rows = [self.rows[key] for key, where in self.place.items() if where == place]
        full = [{name: row.get(name) for name in schema} for row in rows]
        return (
            pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)
        )


def _apply_one(
    breaks: _Breaks, decision: Decision, run_date: dt.date, void: Mapping[str, str]
) -> tuple[str, str]:
    """Apply one decision; its outcome and a note."""
    action = decision.action
    if decision.decision_id in void:
        return "void", void[decision.decision_id]
    if action == "match":
        closed = breaks.at(decision.breaks, "open")
        for identity in closed:
            breaks.close(identity, decision, run_date)
        return "applied", f"paired {decision.target} with {decision.counterpart}"
    if action in RESOLUTIONS:
        targets = breaks.at(decision.breaks, "open")
        for identity in targets:
            breaks.close(identity, decision, run_date)
    elif action == "reopen":
        targets = breaks.at(decision.breaks, "decided")
        for identity in targets:
            breaks.reopen(identity)
    elif action == "assign":
        targets = breaks.at(decision.breaks, "open")
        for identity in targets:
            breaks.rows[identity] = {**breaks.rows[identity], "assignee": decision.assignee}
    else:  # a comment changes no break
        targets = list(decision.breaks)
    if not targets:
        needed = "closed by a decision" if action == "reopen" else "open"
        return "void", f"none of its breaks was {needed} any more"
    return "applied", f"{len(targets)} break(s)"


def apply_decisions(
    open_breaks: pl.DataFrame,
    decided: pl.DataFrame,
    due: Sequence[Decision],
    run_date: dt.date,
    void: Mapping[str, str] | None = None,
) -> Applied:
    """The open and decided breaks after tonight's decisions (see the module's description)."""
    decided = conform(decided, DECIDED_DISCREPANCIES)
    passed = pl.col("until").is_not_null() & (pl.col("until") < pl.lit(run_date))
    expired = decided.filter(passed)
    decided = decided.filter(~passed)
    again = [_reopen(row) for row in expired.iter_rows(named=True)]
    if again:
        open_breaks = pl.concat([open_breaks, pl.DataFrame(again, schema=OPEN_DISCREPANCIES)])
    named = sorted({identity for decision in due for identity in decision.breaks})
    mentioned = pl.col("discrepancy_id").is_in(pl.Series(named, dtype=pl.String).implode())
    breaks = _Breaks(open_breaks.filter(mentioned), decided.filter(mentioned))
    outcomes = []
    for decision in due:
        outcome, note = _apply_one(breaks, decision, run_date, void or {})
        outcomes.append((decision.decision_id, decision.action, run_date, outcome, note))
    open_now = pl.concat([open_breaks.filter(~mentioned), breaks.frame("open", OPEN_DISCREPANCIES)])
    decided_now = pl.concat(
        [decided.filter(~mentioned), breaks.frame("decided", DECIDED_DISCREPANCIES)]
    )
    closed = decided_now.filter(
        pl.col("discrepancy_id").is_in(pl.Series(breaks.closed, dtype=pl.String).implode())
    )
    return Applied(
        open=open_now.sort("type", "discrepancy_id"),
        decided=decided_now.sort("discrepancy_id"),
        closed=closed.sort("discrepancy_id"),
        reopened=[row["discrepancy_id"] for row in again] + breaks.reopened,
        applied=pl.DataFrame(outcomes, schema=APPLIED_DECISIONS, orient="row"),
    )
