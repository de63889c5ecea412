"""Input profiles: one module per delivered file format, one job each.

A profile reads one file as a gateway, bank or merchant delivered it and returns the canonical
text columns of one source (section 1 of the contract), each row's origin, the rows it could not
map (with reasons), the lines that are totals rather than transactions (outcome ``control``) and
the file's control totals with the result of checking them. Typing, validation and re-deliveries
stay shared: a profile never parses an amount into a number the engine keeps, it writes decimal
strings in major units.

A profile is a module ``walletrecon.sources.profiles.NAME`` exposing
``read(path: Path, spec: ProfileSpec) -> ProfileResult``; ``PROFILES`` names them all and
``read_profile`` finds and calls one. Adding a format is one new module and one name here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa

from walletrecon.errors import InputError
from walletrecon.schemas import SOURCES

#: Every profile name, and the sources each may feed.
PROFILES: dict[str, tuple[str, ...]] = {
    "canonical": tuple(SOURCES),
    "adyen": ("settlement",),
    "stripe": ("settlement",),
    "paypal": ("settlement",),
    "camt": ("bank",),
    "mt940": ("bank",),
    "bai2": ("bank",),
    "mapped": tuple(SOURCES),
}

ControlMode = Literal["enforce", "warn"]


@dataclass(frozen=True)
class ProfileSpec:
    """How to read one file: its source, encoding and the profile's own options."""

    source: str
    encoding: str = "utf-8"
    control_totals: ControlMode = "enforce"
    #: Profile options (``[inputs.options]``), e.g. ``amounts = "minor"``.
    options: Mapping[str, str] = field(default_factory=dict)
    #: For ``mapped``: canonical column = the file's column (``[inputs.columns]``).
    columns: Mapping[str, str] = field(default_factory=dict)
    #: Settlement profiles: the gateway's name (for fee schedules), when the file does not say.
    gateway: str | None = None
    #: How the file is named in messages, the manifest and origins (``D/dir/file.ext``).
    display: str = ""


@dataclass(frozen=True)
class Rejection:
    """A record of the file that could not be mapped to a canonical row."""

    row: int
    reason: str
    raw: str
    column: str | None = None
    #: For XML: the element's path, e.g. ``Stmt[1]/Ntry[3]``.
    element: str | None = None


@dataclass(frozen=True)
class ControlLine:
    """A record that is a total, not a transaction (payout, fee, balance, trailer)."""

    row: int
    kind: str
    raw: str
    element: str | None = None


@dataclass(frozen=True)
class ControlTotal:
    """One control figure of the file and whether it held.

    ``holds`` is None when the figure could not be checked (a statement without a closing
    balance, a malformed forward balance): a warning, never an error.
    """

    scope: str
    check: str
    expected: str
    found: str
    holds: bool | None
    currency: str | None = None
    note: str = ""


@dataclass
class ProfileResult:
    """What a profile makes of one file.

    ``rows`` holds the source's canonical columns as nullable strings, in file order, plus
    ``origin_row`` (int64: the 1-based line where the record starts; for XML the element's line)
    and ``origin_element`` (string, nullable: the XML element path). Optional canonical columns
    the file lacks are null. ``records`` is an independent count of the file's records
    (transactions, rejected and control lines together), so that nothing is lost unseen:
    ``len(rows) + len(rejected) + len(control) == records`` always holds.
    """

    source: str
    rows: pa.Table
    rejected: list[Rejection] = field(default_factory=list)
    control: list[ControlLine] = field(default_factory=list)
    totals: list[ControlTotal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0


Reader = Callable[[Path, ProfileSpec], ProfileResult]


def profile_reader(name: str, source: str) -> Reader:
    """The ``read`` function of a profile; InputError for an unknown name or a source it
    cannot feed."""
    if name not in PROFILES:
        raise InputError(f"unknown profile '{name}' (known: {', '.join(PROFILES)})")
    if source not in PROFILES[name]:
        raise InputError(
            f"profile '{name}' cannot feed source '{source}' "
            f"(it feeds: {', '.join(PROFILES[name])})"
        )
    module = importlib.import_module(f"walletrecon.sources.profiles.{name}")
    reader: Reader = module.read
    return reader


def profile_options(name: str) -> tuple[str, ...] | None:
    """The option keys a profile reads (its module's ``OPTIONS``), or None where the profile
    checks its own options (``mapped``, whose keys name columns)."""
    module = importlib.import_module(f"walletrecon.sources.profiles.{name}")
    options: tuple[str, ...] | None = getattr(module, "OPTIONS", None)
    return None if name == "mapped" else options


def read_profile(path: Path, name: str, spec: ProfileSpec) -> ProfileResult:
    """Read one file with a profile and check that its records are all accounted for."""
    return next(read_profile_pieces(path, name, spec))


def read_profile_pieces(
    path: Path, name: str, spec: ProfileSpec, piece_bytes: int | None = None
) -> Iterator[ProfileResult]:
    """``read_profile`` a piece of the file at a time, where the profile reads in pieces (its
    module's ``read_pieces``: the canonical CSV); other profiles read the file in one piece."""
    reader = profile_reader(name, spec.source)
    module = importlib.import_module(f"walletrecon.sources.profiles.{name}")
    pieces: Callable[[Path, ProfileSpec, int | None], Iterator[ProfileResult]] | None = getattr(
        module, "read_pieces", None
    )
    results = iter([reader(path, spec)]) if pieces is None else pieces(path, spec, piece_bytes)
    for result in results:
        accounted = result.rows.num_rows + len(result.rejected) + len(result.control)
        if accounted != result.records:
            raise InputError(
                f"{spec.display or path}: the {name} reader accounted for {accounted} records of "
                f"{result.records} counted in the file; nothing is read from a short count"
            )
        yield result


def broken_totals(result: ProfileResult) -> list[ControlTotal]:
    """Control totals that were checked and do not hold."""
    return [total for total in result.totals if total.holds is False]


def enforce_totals(result: ProfileResult, spec: ProfileSpec) -> list[str]:
    """Stop (InputError, exit 2) on a broken control total unless the input says ``warn``;
    returns the warnings to report (broken totals under ``warn``, unchecked ones always)."""
    name = spec.display or "file"
    broken = [
        f"{name}: {total.scope}: {total.check}: expected {total.expected}, found {total.found}"
        + (f" {total.currency}" if total.currency else "")
        for total in broken_totals(result)
    ]
    if broken and spec.control_totals == "enforce":
        raise InputError(
            'control totals do not hold (set control_totals = "warn" on the input to read '
            "the file anyway):\n  " + "\n  ".join(broken)
        )
    unchecked = [
        f"{name}: {total.scope}: {total.check} could not be checked: {total.note}"
        for total in result.totals
        if total.holds is None
    ]
    return broken + unchecked + list(result.warnings)
