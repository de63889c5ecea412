"""The walletrecon command line: the only place that prints or picks an exit code."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from walletrecon import __version__, kinds
from walletrecon.cli_audit import query, verify
from walletrecon.cli_decide import decide
from walletrecon.config import load_config
from walletrecon.errors import (
    UsageError,
    WalletReconError,
    describe_os_error,
    failed_stage,
    is_disk_full,
)
from walletrecon.kinds import QUEUES
from walletrecon.logs import LOGGER, configure
from walletrecon.options import NightOptions, night_options, parse_date, parse_optional_date
from walletrecon.schemas import SEVERITIES, SOURCES, TICKET_STATUSES
from walletrecon.ticket_export import (
    ExportFormat,
    TicketFilter,
    export,
    night_summary,
    read_tickets,
    select,
)

if TYPE_CHECKING:
    from walletrecon.config import Config
    from walletrecon.pipeline import RunSummary
    from walletrecon.shards import Executor

INTERNAL_EXIT = 70
TRANSIENT_EXIT = 75
USAGE_EXIT = 2
TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.EINTR}
#: What a catch-all lets through: an interrupt or a requested exit is not a failure to report.
#: (Polars' PanicException derives from BaseException, so catch-alls catch BaseException.)
NOT_FAILURES = (KeyboardInterrupt, SystemExit, GeneratorExit)
#: Set to 1 to log the traceback of an unexpected failure without -v.
TRACEBACK_VARIABLE = "WALLETRECON_TRACEBACK"
#: Errors a retry cannot fix until someone changes the setup.
SETUP_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.EISDIR,
}


@click.group()
@click.version_option(__version__, prog_name="walletrecon")
def main() -> None:
    """walletrecon: nightly reconciliation of a digital wallet's ledger, balances, settlements,
    bank statements and merchant receipts."""


def _failure(error: BaseException) -> tuple[int, str]:
    """The exit code for a failure (whether a retry can help) and one line saying what failed."""
    stage = failed_stage(error)
    where = f" in stage {stage}" if stage else ""
    if isinstance(error, WalletReconError):
        return error.exit_code, str(error)
    first_line = (str(error).strip().splitlines() or [""])[0]
    if is_disk_full(error):
        detail = describe_os_error(error) if isinstance(error, OSError) else first_line
        return TRANSIENT_EXIT, (f"disk full{where} ({detail}); retry when there is room")
    if isinstance(error, OSError) and error.errno in TRANSIENT_ERRNOS | SETUP_ERRNOS:
        code = TRANSIENT_EXIT if error.errno in TRANSIENT_ERRNOS else USAGE_EXIT
        return code, f"{describe_os_error(error)}{where}"
    return INTERNAL_EXIT, (f"internal error{where}: {type(error).__name__}: {first_line}")


def _exit_for(
    error: BaseException,
    log_format: str = "text",
    verbose: bool = False,
    outcome: str = "",
) -> int:
    """Report a failure in one line (on stderr, or as a JSON log record) and give its exit code.

    The traceback goes to the log only with -v or WALLETRECON_TRACEBACK=1.
    """
    code, message = _failure(error)
    message += f"; {outcome}" if outcome else ""
    details = None
    if verbose or os.environ.get(TRACEBACK_VARIABLE, "") not in ("", "0"):
        details = "".join(traceback.format_exception(error))
    if log_format == "json":
        extra: dict[str, Any] = {"exit_code": code, "stage": failed_stage(error)}
        LOGGER.error(
            f"failed: {message}", extra=extra | ({"traceback": details} if details else {})
        )
    else:
        click.echo(f"walletrecon: error: {message}", err=True)
        if details:
            click.echo(details, err=True)
    return code


def _fail_on_outcome(summary: RunSummary, severity: str) -> int:
    """Exit 1 when open breaks at or above ``severity`` exist, logging the counts and the code."""
    threshold = SEVERITIES.index(severity)
    counts = {
        level: count
        for level, count in summary.open_by_severity.items()
        if SEVERITIES.index(level) >= threshold and count
    }
    code = 1 if counts else 0
    shown = ", ".join(f"{level} {count}" for level, count in counts.items()) or "none"
    message = (
        f"{summary.run_date}: --fail-on {severity}: {sum(counts.values())} open breaks at or "
        f"above {severity} ({shown}); exit {code}"
    )
    click.echo(message)
    LOGGER.info(
        message,
        extra={"run_date": summary.run_date.isoformat(), "counts": counts, "exit_code": code},
    )
    return code


def _check_inbox(inbox: Path) -> None:
    """UsageError unless the inbox is a folder."""
    if inbox.exists() and not inbox.is_dir():
        raise UsageError(
            f"inbox {inbox} is a file; expected a folder with one sub-folder per business date"
        )
    if not inbox.is_dir():
        raise UsageError(f"inbox folder {inbox} does not exist")


def _executor(engine: str, config: Config) -> Executor | None:
    """The executor of ``--engine``: None for the local one (the kernel's default), or Spark;
    a UsageError (exit 2) when Spark or Java is missing here."""
    if engine == "local":
        return None
    from walletrecon import spark

    reason = spark.missing()
    if reason is not None:
        raise UsageError(reason)
    return spark.SparkExecutor(memory_limit=config.engine.memory_limit)


def _reconcile(dates: list[dt.date], options: NightOptions) -> None:
    """Run nights in order under the output folder's lock; exit with the contract's codes."""
    from walletrecon.lock import run_lock
    from walletrecon.pipeline import run_night

    configure(options.log_format, options.verbose)
    summaries = []
    try:
        _check_inbox(options.inbox)
        config = load_config(options.config_path)
        executor = _executor(options.engine, config)
        with run_lock(options.out, options.wait_seconds), _night_folder(options, dates) as out:
            for night in dates:
                with _stage_progress(night, options) as on_stage:
                    summary = run_night(
                        night,
                        options.inbox,
                        out,
                        config,
                        publish_outputs=not options.dry_run or out != options.out,
                        on_stage=on_stage,
                        executor=executor,
                    )
                _print_summary(summary, options.dry_run)
                summaries.append(summary)
    except BaseException as error:  # a native panic derives from BaseException: catch it too
        if isinstance(error, NOT_FAILURES):
            raise
        outcome = "nothing was published" if dates and not options.dry_run else ""
        sys.exit(_exit_for(error, options.log_format, options.verbose, outcome))
    if options.fail_on is not None and summaries and not options.dry_run:
        sys.exit(_fail_on_outcome(summaries[-1], options.fail_on))


@contextmanager
def _night_folder(options: NightOptions, dates: list[dt.date]) -> Iterator[Path]:
    """Where the nights publish: the output folder; for a dry run of several nights, a scratch
    copy of it (``scratch.scratch_copy``), so that each night builds on the one before exactly as
    the real backfill would, and nothing of the output folder changes."""
    if not (options.dry_run and len(dates) > 1):
        yield options.out
        return
    from walletrecon.scratch import scratch_copy

    with scratch_copy(options.out) as scratch:
        yield scratch


@contextmanager
def _stage_progress(
    night: dt.date, options: NightOptions
) -> Iterator[Callable[[str], None] | None]:
    """A progress bar over a night's stages on an interactive terminal (text logs only)."""
    if options.log_format != "text" or options.verbose or not sys.stderr.isatty():
        yield None
        return
    from walletrecon.pipeline import STAGES

    with click.progressbar(length=len(STAGES), label=str(night), file=sys.stderr) as bar:

        def advance(stage: str) -> None:
            bar.label = f"{night} {stage:<10}"
            if stage != STAGES[0]:
                bar.update(1)

        yield advance
        bar.update(len(STAGES) - bar.pos)


def _print_summary(summary: RunSummary, dry_run: bool) -> None:
    open_total = sum(summary.open_by_type.values())
    by_type = ", ".join(f"{kind} {count}" for kind, count in summary.open_by_type.items()) or "none"
    click.echo(
        f"{summary.run_date}: {summary.rows_read} rows read, {summary.rejected} rejected, "
        f"{summary.pending} pending; {open_total} open discrepancies "
        f"({summary.new} new, {summary.resolved} resolved) in {summary.seconds:.1f}s"
    )
    click.echo(f"  open by type: {by_type}")
    if dry_run:
        click.echo("  dry run: nothing was published")
    else:
        click.echo(f"  report: {summary.report_path}")


@main.command()
@click.option(
    "--date",
    "run_date",
    required=True,
    callback=parse_date,
    help="Business date D to reconcile (YYYY-MM-DD).",
)
@night_options
def run(run_date: dt.date, options: NightOptions) -> None:
    """Reconcile one business night and publish its outputs."""
    _reconcile([run_date], options)


@main.command()
@click.option("--from", "first", required=True, callback=parse_date, help="First date.")
@click.option("--to", "last", required=True, callback=parse_date, help="Last date.")
@night_options
def backfill(first: dt.date, last: dt.date, options: NightOptions) -> None:
    """Reconcile every business date from --from to --to that has an inbox folder, in order.

    Stops at the first night that fails, with that night's exit code; --fail-on looks at the
    last night.
    """
    if last < first:
        raise click.BadParameter("--to is before --from")
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    dates = [day for day in days if (options.inbox / day.isoformat()).is_dir()]
    for day in sorted(set(days) - set(dates)):
        click.echo(f"{day}: no inbox folder, skipped")
    _reconcile(dates, options)


@main.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write the data set into.",
)
@click.option(
    "--days",
    default=5,
    show_default=True,
    type=click.IntRange(1, 366),
    help="Number of business nights.",
)
@click.option(
    "--seed",
    default=7,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same files.",
)
@click.option(
    "--rows",
    default=2000,
    show_default=True,
    type=click.IntRange(10),
    help="Ledger rows per night.",
)
@click.option("--start", default="2026-11-16", callback=parse_date, help="First business date.")
@click.option(
    "--formats",
    "formats",
    type=click.Choice(["canonical", "mixed", "real"]),
    default=None,
    help="canonical: CSV only; mixed: some sources as CSV.gz, Parquet and with a BOM; real: "
    "settlement as Adyen, Stripe and PayPal reports, bank lines as camt.053, MT940 and BAI2, "
    "receipts as .xlsx and GB18030 CSV, with the [[inputs]] that read them.",
)
@click.option(
    "--mixed-formats/--csv-only",
    default=False,
    help="The same as --formats mixed / --formats canonical.",
)
def sample(
    out: Path,
    days: int,
    seed: int,
    rows: int,
    start: dt.date,
    formats: str | None,
    mixed_formats: bool,
) -> None:
    """Write a realistic multi-night data set with every type of break injected, and its truth."""
    from walletrecon.sample import generate
    from walletrecon.sample.real.nights import generate_real
    from walletrecon.sample_readme import write_readme

    chosen = formats or ("mixed" if mixed_formats else "canonical")
    if chosen == "real":
        summary = generate_real(out, days=days, seed=seed, rows=rows, start=start)
    else:
        summary = generate(
            out, days=days, seed=seed, rows=rows, start=start, mixed_formats=chosen == "mixed"
        )
    click.echo(
        f"wrote {len(summary.dates)} nights to {summary.out_dir}/inbox: {summary.rows_per_source}"
    )
    click.echo(f"injected breaks: {summary.injected}")
    readme = write_readme(out, days=days, seed=seed, rows=rows, formats=chosen)
    click.echo(f"truth: {out / 'truth.csv'}; described in {readme}")


@main.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--date",
    "night",
    default=None,
    callback=parse_optional_date,
    help="Night (YYYY-MM-DD); the latest by default.",
)
@click.option("--status", multiple=True, type=click.Choice(TICKET_STATUSES))
@click.option("--queue", multiple=True, type=click.Choice(QUEUES))
@click.option("--type", "types", multiple=True, type=click.Choice(kinds.names()))
@click.option("--min-age", type=click.IntRange(0), default=None, help="Age in days at least.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "jsonl", "csv", "jira"]),
    default="table",
    show_default=True,
    help="jira: a CSV that Jira's CSV importer takes as it is (resolved tickets only with "
    "--status resolved).",
)
@click.option(
    "--summary",
    is_flag=True,
    help="The night's open breaks by age, queue and currency, match rates and decisions.",
)
def tickets(
    out: Path,
    night: dt.date | None,
    status: tuple[str, ...],
    queue: tuple[str, ...],
    types: tuple[str, ...],
    min_age: int | None,
    form: ExportFormat,
    summary: bool,
) -> None:
    """List, filter and export the remediation tickets of a night (or, with --summary, the
    night's ageing of open breaks, match rates and decisions)."""
    from walletrecon.decisions.listing import with_decisions
    from walletrecon.lock import settle_for_reading

    try:
        if not out.is_dir():
            raise UsageError(f"output folder {out} does not exist")
        for undone in settle_for_reading(out):
            click.echo(f"walletrecon: rolled back a half-published night ({undone})", err=True)
        if summary:
            click.echo(night_summary(out, night), nl=False)
            return
        chosen = select(read_tickets(out, night), TicketFilter(status, queue, types, min_age))
        chosen = with_decisions(out, chosen)
    except BaseException as error:
        if isinstance(error, NOT_FAILURES):
            raise
        sys.exit(_exit_for(error))
    click.echo(export(chosen, form, include_resolved="resolved" in status), nl=False)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", required=True, help="canonical, adyen, stripe, paypal, camt, mt940, ...")
@click.option("--source", type=click.Choice(list(SOURCES)), default=None, help="Source fed.")
@click.option(
    "--option",
    "options",
    multiple=True,
    help="KEY=VALUE: a profile option, or encoding=, control_totals=warn, gateway=, "
    "column.NAME=FILE_COLUMN (mapped).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def convert(
    file: Path, profile: str, source: str | None, options: tuple[str, ...], out: Path | None
) -> None:
    """Map one delivered file to canonical rows and check it as a night would.

    Prints the canonical rows as CSV (or writes them to --out), and on stderr the record counts,
    the control totals, warnings and rejected rows. Exit 2 when the file breaks its format or,
    unless control_totals=warn, its control totals."""
    from walletrecon import convert as conversion

    try:
        if not file.is_file():
            raise UsageError(f"{file}: no such file")
        read = conversion.convert(conversion.Request(file, profile, source, options))
        if out is None:
            click.echo(conversion.canonical_rows(read).write_csv(), nl=False)
        else:
            for written in conversion.write_rows(read, out):
                click.echo(f"wrote {written}", err=True)
    except BaseException as error:
        if isinstance(error, NOT_FAILURES):
            raise
        sys.exit(_exit_for(error))
    for line in conversion.summary_lines(read):
        click.echo(line, err=True)


main.add_command(decide)
main.add_command(verify)
main.add_command(query)

if __name__ == "__main__":
    main()
