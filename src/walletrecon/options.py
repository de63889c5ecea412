"""The options the commands share: dates read as ISO dates with a clear usage message, and the
options of every command that reconciles nights, handed over as one ``NightOptions``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import click

from walletrecon.schemas import SEVERITIES


def parse_date(_: click.Context, __: click.Parameter, value: str) -> dt.date:
    """A click callback: the value as a date, or a usage error (exit 2) saying what is expected."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from exc


def parse_optional_date(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> dt.date | None:
    """``parse_date`` for an option that may be left out."""
    return None if value is None else parse_date(context, parameter, value)


@dataclass(frozen=True)
class NightOptions:
    """The options every command that reconciles nights shares."""

    inbox: Path
    out: Path
    config_path: Path | None
    fail_on: str | None
    dry_run: bool
    wait_seconds: float
    log_format: Literal["text", "json"]
    verbose: bool
    engine: Literal["local", "spark"]


def night_options(function: Callable[..., None]) -> Callable[..., None]:
    """Add the shared options to a command; it receives them as one ``NightOptions``."""

    @functools.wraps(function)
    def with_options(**values: Any) -> None:
        names = [item.name for item in fields(NightOptions)]
        options = NightOptions(**{name: values.pop(name) for name in names})
        function(options=options, **values)

    options = [
        click.option(
            "--inbox",
            required=True,
            type=click.Path(path_type=Path),
            help="Folder holding one sub-folder per business date.",
        ),
        click.option(
            "--out",
            required=True,
            type=click.Path(path_type=Path),
            help="Output folder (discrepancies, tickets, manifest, report, state).",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            default=None,
            help="TOML configuration file (defaults apply without one).",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(SEVERITIES),
            default=None,
            help="Exit 1 when open breaks at or above this severity were found.",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Compute and report, but publish nothing and keep the state as it is.",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="Logs on stderr: short lines, or one JSON object per line for schedulers.",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Log every stage (text format)."),
        click.option(
            "--engine",
            type=click.Choice(["local", "spark"]),
            default="local",
            show_default=True,
            help="Where the kernels run: this process, in hash shards under [engine] "
            "memory_limit, or Spark (pip install walletrecon[spark] and a Java runtime).",
        ),
        click.option(
            "--wait",
            "wait_seconds",
            type=click.FloatRange(0),
            default=0.0,
            show_default=True,
            help="Seconds to wait for another run on the same --out to finish (then exit 75).",
        ),
    ]
    wrapped: Callable[..., None] = with_options
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped
