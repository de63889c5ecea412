"""``walletrecon verify``: the auditor's check of the archive (CONTRACT section 7), part of the
command line (cli.py registers it; this module prints and picks exit codes like it).

Exit 0 when every hash and the chain hold; 3 with one line per problem; 2 for a usage error.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from walletrecon.errors import UsageError
from walletrecon.options import parse_optional_date

#: The exit code of an archive that is not as published.
MISMATCH_EXIT = 3


@click.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--from", "first", default=None, callback=parse_optional_date, help="First night.")
@click.option("--to", "last", default=None, callback=parse_optional_date, help="Last night.")
@click.option(
    "--replay",
    "replayed",
    default=None,
    callback=parse_optional_date,
    help="Also re-perform this night from its archived inputs and compare, row for row.",
)
@click.option("--wait", type=click.FloatRange(0), default=0.0, help="Seconds to wait for a run.")
def verify(
    out: Path, first: dt.date | None, last: dt.date | None, replayed: dt.date | None, wait: float
) -> None:
    """Recompute the SHA-256 of every published output and the chain of manifests and decisions;
    name whatever does not match. With --replay D, re-perform night D in a scratch copy of the
    archive and compare its outputs with the published ones."""
    from walletrecon.audit import published_nights, replay
    from walletrecon.audit import verify as check
    from walletrecon.cli import NOT_FAILURES, _exit_for

    try:
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        nights = [
            night
            for night in published_nights(out)
            if (first is None or night >= first) and (last is None or night <= last)
        ]
        if not nights:
            raise UsageError(f"{out}: no published night in the range")
        problems = check(out, first, last)
        if replayed is not None:
            problems += replay(out, replayed, wait)
    except BaseException as error:
        if isinstance(error, NOT_FAILURES):
            raise
        sys.exit(_exit_for(error))
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len(nights)} night(s)", err=True)
        sys.exit(MISMATCH_EXIT)
    click.echo(f"{len(nights)} night(s) verified ({nights[0]} to {nights[-1]}): every hash holds")
    if replayed is not None:
        click.echo(f"{replayed} re-performed from its archived inputs: the same outputs")


@click.command()
@click.argument("sql")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
    help="json: one JSON object per row; parquet needs --to.",
)
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path), default=None)
def query(sql: str, out: Path, form: str, target: Path | None) -> None:
    """Run one read-only SQL statement over the archive's views: discrepancies, tickets,
    evidence, rejected, decisions, manifests, runs, control_totals."""
    from walletrecon.cli import NOT_FAILURES, _exit_for
    from walletrecon.query import Session
    from walletrecon.spreadsheet import write_csv
    from walletrecon.ticket_export import plain_table

    try:
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        if form == "parquet" and target is None:
            raise UsageError("--format parquet needs --to PATH")
        rows = Session.open(out).run(sql)
        if form == "parquet":
            assert target is not None
            rows.write_parquet(target)
            click.echo(f"{rows.height} row(s) written to {target}", err=True)
            return
        if form == "csv":
            text = write_csv(rows)
        elif form == "json":
            text = rows.write_ndjson() if rows.height else ""
        else:
            text = plain_table(rows, tuple(rows.columns)) + f"{rows.height} row(s)\n"
        if target is not None:
            target.write_text(text, encoding="utf-8")
            click.echo(f"{rows.height} row(s) written to {target}", err=True)
        else:
            click.echo(text, nl=False)
    except BaseException as error:
        if isinstance(error, NOT_FAILURES):
            raise
        sys.exit(_exit_for(error))
