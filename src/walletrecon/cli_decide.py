"""``walletrecon decide``: people's decisions on breaks (CONTRACT section 6), part of the command
line (cli.py registers the group; this module prints and picks exit codes like it).

    walletrecon decide write-off TARGET --reason TEXT --out OUT [--user NAME]
    walletrecon decide accept TARGET --reason TEXT [--until DATE] --out OUT
    walletrecon decide reopen|comment TARGET --reason TEXT --out OUT
    walletrecon decide assign TARGET --to NAME --reason TEXT --out OUT
    walletrecon decide match ENTRY_ID SETTLEMENT_ID|RECEIPT_ID --reason TEXT --out OUT
    walletrecon decide match DISCREPANCY_ID|TICKET_ID --reason TEXT --out OUT   (its suggestion)
    walletrecon decide match PAYOUT_ID BANK_LINE_ID --reason TEXT --out OUT
    walletrecon decide approve|reject DECISION_ID [--reason TEXT] --out OUT
    walletrecon decide import FILE.csv|FILE.xlsx --out OUT
    walletrecon decide list --out OUT [--state STATE] [--format table|csv|jsonl]

Exit 0 when recorded; 2 when refused (an unknown id, a closed break, a bad row, one's own
proposal); 75 when a night holds the output folder past ``--wait`` seconds (retry).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from walletrecon.config import load_config
from walletrecon.decisions.model import STATES, Decision
from walletrecon.errors import UsageError
from walletrecon.options import parse_optional_date

#: Seconds a decision waits for a night holding the output folder before it gives up.
DEFAULT_WAIT_SECONDS = 900.0


def _fail(error: BaseException) -> None:
    from walletrecon.cli import NOT_FAILURES, _exit_for

    if isinstance(error, NOT_FAILURES):
        raise error
    sys.exit(_exit_for(error))


def _recorded(decisions: list[Decision]) -> None:
    for decision in decisions:
        money = f" {decision.amount} {decision.currency}" if decision.amount is not None else ""
        waiting = " (needs a second person: decide approve)" if decision.state == "proposed" else ""
        click.echo(
            f"{decision.decision_id} {decision.state}{waiting}: {decision.action} "
            f"{decision.target} ({len(decision.breaks)} break(s){money}) by {decision.user}"
        )


def _common(function: Callable[..., None]) -> Callable[..., None]:
    """--out, --user, --config and --wait, which every recording command takes."""
    options = [
        click.option("--out", required=True, type=click.Path(path_type=Path), help="Outputs."),
        click.option("--user", default=None, help="Who decides (default: $WALLETRECON_USER)."),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="The nightly run's configuration ([decisions] approval_above).",
        ),
        click.option(
            "--wait",
            type=click.FloatRange(0),
            default=DEFAULT_WAIT_SECONDS,
            show_default=True,
            help="Seconds to wait for a night that holds the output folder.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _record_one(action: str, target: str, values: dict[str, Any]) -> None:
    from walletrecon.decisions.record import Request, current_user, record

    try:
        out: Path = values["out"]
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        settings = load_config(values["config_path"]).decisions
        request = Request(
            action=action,
            target=target.strip(),
            reason=values["reason"],
            user=current_user(values["user"]),
            until=values.get("until"),
            assignee=values.get("to"),
            counterpart=values.get("counterpart"),
        )
        decisions = record(out, [request], settings, values["wait"])
    except BaseException as error:
        _fail(error)
    _recorded(decisions)


@click.group()
def decide() -> None:
    """Record people's decisions on breaks: append-only, hash-chained, applied by the next night."""


def _action_command(action: str, summary: str, extra: list[Any] | None = None) -> None:
    def command(target: str, **values: Any) -> None:
        _record_one(action, target, values)

    command.__doc__ = summary
    command = click.option("--reason", required=True, help="Why (kept in the audit trail).")(
        command
    )
    for option in extra or []:
        command = option(command)
    command = _common(command)
    command = click.argument("target")(command)
    decide.command(name=action)(command)


_action_command(
    "write-off",
    "Close a break (or every break of a ticket) as written off; the night journals it.",
)
_action_command(
    "accept",
    "Close a break as expected, for good or until a date.",
    [
        click.option(
            "--until",
            default=None,
            callback=parse_optional_date,
            help="Closed up to this date (YYYY-MM-DD), open again the night after it.",
        )
    ],
)
_action_command("reopen", "Open again a break a decision closed.")
_action_command(
    "assign",
    "Assign a break (or a ticket's breaks) to a person.",
    [click.option("--to", required=True, help="The person it is assigned to.")],
)
_action_command("comment", "Add a comment to a break or ticket's audit trail.")


def _review(verdict: str, decision_id: str, values: dict[str, Any]) -> None:
    from walletrecon.decisions.record import current_user, review

    try:
        out: Path = values["out"]
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        if verdict == "reject" and not (values["reason"] or "").strip():
            raise UsageError("reason: a rejection needs a reason (--reason TEXT)")
        decision = review(
            out,
            decision_id.strip(),
            verdict,
            current_user(values["user"]),
            values["reason"] or "",
            values["wait"],
        )
    except BaseException as error:
        _fail(error)
    click.echo(f"{decision.decision_id}: {decision.target} {decision.state} by {decision.user}")


@decide.command()
@click.argument("first")
@click.argument("second", required=False)
@click.option("--reason", required=True, help="Why they belong together.")
@_common
def match(first: str, second: str | None, **values: Any) -> None:
    """Pair two items the rules left apart: a ledger entry_id with a settlement_id or a
    receipt_id, or a payout_id with a bank_line_id, in either order; or, given a break or ticket
    alone, its suggested match. From the next night they are checked as one pair (an amount or
    fee break can still show)."""
    _record_one("match", first, {**values, "counterpart": (second or "").strip() or None})


@decide.command()
@click.argument("decision_id")
@click.option("--reason", default=None, help="Why (optional for an approval).")
@_common
def approve(decision_id: str, **values: Any) -> None:
    """Approve a proposed write-off or accept (a second person; never one's own)."""
    _review("approve", decision_id, values)


@decide.command()
@click.argument("decision_id")
@click.option("--reason", default=None, help="Why it is rejected.")
@_common
def reject(decision_id: str, **values: Any) -> None:
    """Reject a proposed write-off or accept."""
    _review("reject", decision_id, values)


@decide.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_common
def import_file(file: Path, **values: Any) -> None:
    """Record many decisions from CSV or .xlsx (a tickets export with a decision column)."""
    from walletrecon.decisions.importer import read_requests
    from walletrecon.decisions.record import current_user, record

    try:
        out: Path = values["out"]
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        settings = load_config(values["config_path"]).decisions
        requests, undecided = read_requests(file, current_user(values["user"]))
        decisions = record(out, requests, settings, values["wait"])
    except BaseException as error:
        _fail(error)
    _recorded(decisions)
    click.echo(f"{len(decisions)} decision(s) recorded; {undecided} row(s) without a decision")


@decide.command(name="list")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Outputs.")
@click.option("--state", "states", multiple=True, type=click.Choice(STATES))
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
)
def list_decisions(out: Path, states: tuple[str, ...], form: str) -> None:
    """The decisions with their state (proposed, approved, rejected, applied)."""
    from walletrecon.decisions.listing import decision_rows, render

    try:
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        rows = decision_rows(out, states)
    except BaseException as error:
        _fail(error)
    click.echo(render(rows, form), nl=False)
