"""The walletrecon command line: the only place that prints or picks an exit code."""

from __future__ import annotations

import datetime as dt
import errno
import sys
import traceback
from pathlib import Path

import click

from walletrecon import __version__
from walletrecon.config import load_config
from walletrecon.errors import UsageError, WalletReconError
from walletrecon.schemas import SEVERITIES

INTERNAL_EXIT = 70
TRANSIENT_EXIT = 75
TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.EDQUOT, errno.EINTR}


def _parse_date(_: click.Context, __: click.Parameter, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from exc


@click.group()
@click.version_option(__version__, prog_name="walletrecon")
def main() -> None:
    """walletrecon: nightly reconciliation of a digital wallet's ledger, balances, settlements,
    bank statements and merchant receipts."""


@main.command()
@click.option(
    "--date",
    "run_date",
    required=True,
    callback=_parse_date,
    help="Business date D to reconcile (YYYY-MM-DD).",
)
@click.option(
    "--inbox",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder holding one sub-folder per business date.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (discrepancies, tickets, manifest, report, state).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML configuration file (defaults apply without one).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 when open breaks at or above this severity were found.",
)
def run(
    run_date: dt.date, inbox: Path, out: Path, config_path: Path | None, fail_on: str | None
) -> None:
    """Reconcile one business night and publish its outputs."""
    from walletrecon.pipeline import run_night

    try:
        if not inbox.is_dir():
            raise UsageError(f"inbox folder {inbox} does not exist")
        config = load_config(config_path)
        summary = run_night(run_date, inbox, out, config)
    except WalletReconError as exc:
        click.echo(f"walletrecon: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        # Disk full and the like may pass; the previous outputs are untouched either way.
        code = TRANSIENT_EXIT if exc.errno in TRANSIENT_ERRNOS else INTERNAL_EXIT
        click.echo(f"walletrecon: error: {exc}", err=True)
        sys.exit(code)
    except Exception:  # the run failed in a way nobody foresaw: never exit 0 or 1 for it
        click.echo("walletrecon: internal error, nothing was published:", err=True)
        click.echo(traceback.format_exc(), err=True)
        sys.exit(INTERNAL_EXIT)
    open_total = sum(summary.open_by_type.values())
    by_type = ", ".join(f"{kind} {count}" for kind, count in summary.open_by_type.items()) or "none"
    click.echo(
        f"{summary.run_date}: {summary.rows_read} rows read, {summary.rejected} rejected, "
        f"{summary.pending} pending; {open_total} open discrepancies "
        f"({summary.new} new, {summary.resolved} resolved) in {summary.seconds:.1f}s"
    )
    click.echo(f"  open by type: {by_type}")
    click.echo(f"  report: {summary.report_path}")
    if fail_on is not None:
        threshold = SEVERITIES.index(fail_on)
        if any(
            SEVERITIES.index(level) >= threshold and count
            for level, count in summary.open_by_severity.items()
        ):
            sys.exit(1)


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
@click.option("--start", default="2026-11-16", callback=_parse_date, help="First business date.")
@click.option(
    "--mixed-formats/--csv-only", default=False, help="Write some sources as CSV.gz and Parquet."
)
def sample(out: Path, days: int, seed: int, rows: int, start: dt.date, mixed_formats: bool) -> None:
    """Write a realistic multi-night data set with every type of break injected, and its truth."""
    from walletrecon.sample import generate
    from walletrecon.sample_readme import write_readme

    summary = generate(
        out, days=days, seed=seed, rows=rows, start=start, mixed_formats=mixed_formats
    )
    click.echo(
        f"wrote {len(summary.dates)} nights to {summary.out_dir}/inbox: {summary.rows_per_source}"
    )
    click.echo(f"injected breaks: {summary.injected}")
    readme = write_readme(out, days=days, seed=seed, rows=rows)
    click.echo(f"truth: {out / 'truth.csv'}; described in {readme}")


if __name__ == "__main__":
    main()
