"""The run configuration: one TOML file validated by frozen pydantic models.

Every key has a default, so an empty file (or none at all) is a valid configuration. An unknown key
or a bad value is a ConfigError that names the offending key, e.g. ``windows.settlement_days``.
Amounts are decimal strings in major units; they are never floats.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from walletrecon import kinds
from walletrecon.errors import ConfigError, describe_os_error
from walletrecon.kinds import QUEUES
from walletrecon.money import currency_exponents, parse_decimal, to_minor
from walletrecon.schemas import SEVERITIES, RecordType
from walletrecon.sources.inputs import InputSpec

#: Days to fix a break, per severity, unless the configuration says otherwise.
DUE_DAYS: dict[str, int] = {"critical": 1, "high": 2, "medium": 5, "low": 10}


def _exact_decimal(value: object) -> Decimal:
    """Accept a decimal string or an integer; refuse floats, which cannot hold money exactly."""
    if isinstance(value, bool | float):
        raise ValueError('write amounts as quoted decimal strings, e.g. "1.50", not floats')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return parse_decimal(value)
    raise ValueError("expected a decimal string")


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]


class KeyedValueError(ValueError):
    """A bad value inside a table, carrying the key it belongs to (a currency code, say), so the
    message names the full key, e.g. ``fees.adyen.fixed.JPY``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _check_currency_amounts(amounts: dict[str, Decimal], what: str) -> None:
    """KeyedValueError for an unknown ISO 4217 code, or an amount finer than its currency."""
    known = currency_exponents()
    for code, amount in amounts.items():
        if code not in known:
            raise KeyedValueError(code, f"unknown ISO 4217 currency {code!r}")
        if amount < 0:
            raise KeyedValueError(code, f"{what} for {code} cannot be negative")
        try:
            to_minor(amount, code)
        except ValueError as exc:
            raise KeyedValueError(code, f"{what} {exc}") from exc


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Windows(_Frozen):
    """How long a counterpart may take before its absence is a break."""

    settlement_days: int = Field(2, ge=0, le=366, strict=True)
    receipt_days: int = Field(1, ge=0, le=366, strict=True)
    sync_delay_hours: int = Field(24, ge=0, le=24 * 366, strict=True)
    #: How long after a snapshot's cut-off an entry may be posted and still be counted by that
    #: snapshot (a balance service syncing late): the likely cause ``entry_after_cutoff``.
    balance_sync_minutes: int = Field(60, ge=0, le=24 * 60, strict=True)


class Tolerance(_Frozen):
    """Differences up to these amounts (major units, any currency) are not breaks."""

    amount: ExactDecimal = Decimal(0)
    balance: ExactDecimal = Decimal(0)
    payout: ExactDecimal = Decimal(0)

    @field_validator("amount", "balance", "payout")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("a tolerance cannot be negative")
        return value


class FeeSchedule(_Frozen):
    """A gateway's fee: percent of gross plus a fixed amount per currency."""

    percent: ExactDecimal = Decimal(0)
    record_types: tuple[RecordType, ...] = ("payment", "topup")
    fixed: dict[str, ExactDecimal] = Field(default_factory=dict)

    @field_validator("fixed")
    @classmethod
    def _known_currencies(cls, fixed: dict[str, Decimal]) -> dict[str, Decimal]:
        _check_currency_amounts(fixed, "fixed fee")
        return fixed

    @field_validator("percent")
    @classmethod
    def _percent_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(100):
            raise ValueError("percent must be between 0 and 100")
        return value


class InputLimits(_Frozen):
    """What the reader accepts of input values and files (walletrecon's own keys).

    Timestamps and dates outside ``earliest_year`` to ``latest_year`` are rejected rows; a file
    with a larger share of rejected rows than ``reject_share_limit`` stops the night (exit 2).
    """

    earliest_year: int = Field(2000, ge=1, le=9999, strict=True)
    latest_year: int = Field(2100, ge=1, le=9998, strict=True)
    reject_share_limit: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered_years(self) -> InputLimits:
        if self.earliest_year > self.latest_year:
            raise ValueError("earliest_year must not be after latest_year")
        return self


def per_currency_amounts(amounts: dict[str, Decimal]) -> dict[str, Decimal]:
    """Check a table of amounts by ISO 4217 currency code: known codes, no negative amount."""
    for code, amount in amounts.items():
        if code not in currency_exponents():
            raise KeyedValueError(code, f"unknown ISO 4217 currency {code!r}")
        if amount < 0:
            raise KeyedValueError(code, "an amount here cannot be negative")
    return amounts


class Tickets(_Frozen):
    """Ticket routing and service levels (walletrecon's own keys)."""

    #: Queue per discrepancy type; a type not named keeps its built-in queue.
    queues: dict[str, str] = Field(default_factory=dict)
    #: Days to fix, per severity, counted from the night a break was first seen.
    due_days: dict[str, int] = Field(default_factory=lambda: dict(DUE_DAYS))
    #: Per currency, the absolute amount (major units) from which a ticket is one priority higher.
    large_amount: dict[str, ExactDecimal] = Field(default_factory=dict)

    @field_validator("queues")
    @classmethod
    def _known_types(cls, queues: dict[str, str]) -> dict[str, str]:
        for kind, queue in queues.items():
            if kind not in kinds.names():
                raise ValueError(f"unknown discrepancy type {kind!r}")
            if queue not in QUEUES:
                raise KeyedValueError(kind, f"unknown queue {queue!r}; expected one of {QUEUES}")
        return queues

    @field_validator("due_days")
    @classmethod
    def _all_severities(cls, due_days: dict[str, int]) -> dict[str, int]:
        unknown = set(due_days) - set(SEVERITIES)
        if unknown:
            raise ValueError(f"unknown severity {sorted(unknown)[0]!r}")
        if any(days < 0 for days in due_days.values()):
            raise ValueError("days to fix cannot be negative")
        return {**DUE_DAYS, **due_days}

    @field_validator("large_amount")
    @classmethod
    def _known_currency_codes(cls, amounts: dict[str, Decimal]) -> dict[str, Decimal]:
        return per_currency_amounts(amounts)


class Decisions(_Frozen):
    """People's decisions (CONTRACT section 6; the account names are walletrecon's own keys)."""

    #: Per currency, the amount at stake (major units) above which a write-off or an accept is
    #: only proposed until a second person approves it. A currency not named needs no approval.
    approval_above: dict[str, ExactDecimal] = Field(default_factory=dict)
    #: The general-ledger accounts of a write-off's journal line: a shortfall is debited to
    #: ``write_off_account`` and credited to ``suspense_account``; a surplus the other way round.
    write_off_account: str = Field("reconciliation_write_offs", min_length=1)
    suspense_account: str = Field("reconciliation_suspense", min_length=1)

    @field_validator("approval_above")
    @classmethod
    def _known_currency_codes(cls, amounts: dict[str, Decimal]) -> dict[str, Decimal]:
        return per_currency_amounts(amounts)


class Report(_Frozen):
    """The report (walletrecon's own keys)."""

    #: Draw the charts (about 0.2 s a night, most of it the SVG renderer); false leaves them out.
    charts: bool = Field(True, strict=True)


class Privacy(_Frozen):
    """What people see of customers (walletrecon's own keys)."""

    #: Mask account and merchant ids in the report and the tickets (kept whole in the Parquet).
    mask_ids: bool = Field(False, strict=True)


#: Size units of ``[engine] memory_limit`` (powers of 1024, as memory is counted).
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*", re.IGNORECASE)


def parse_size(value: object) -> int:
    """Bytes of a size written like ``"6GB"``, ``"512MB"`` or ``"1.5GB"`` (units of 1024)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('write a size as a quoted string with a unit, e.g. "6GB" or "512MB"')
    match = _SIZE.fullmatch(value)
    if match is None:
        raise ValueError(f'{value!r} is not a size; expected e.g. "6GB" or "512MB"')
    size = int(Decimal(match.group(1)) * SIZE_UNITS[match.group(2).upper()])
    if size < SIZE_UNITS["MB"]:
        raise ValueError(f"{value!r} is too small; give at least 1MB")
    return size


class Engine(_Frozen):
    """Where and how the kernels run (walletrecon's own keys; CONTRACT section 5).

    ``memory_limit`` is the memory one machine (or one Spark task) may give a kernel's working set;
    the number of hash shards, and whether a night's rows wait on disk between the stages, follow
    from it. None: a fifth of the machine's physical memory.
    """

    memory_limit: Annotated[int, BeforeValidator(parse_size)] | None = None


class Config(_Frozen):
    """The whole run configuration."""

    timezone: str = "UTC"
    windows: Windows = Windows()
    tolerance: Tolerance = Tolerance()
    fees: dict[str, FeeSchedule] = Field(default_factory=dict)
    tickets: Tickets = Tickets()
    #: Delivered files and the profiles that read them (``[[inputs]]``, contract section 1b).
    inputs: tuple[InputSpec, ...] = ()
    input_limits: InputLimits = InputLimits()
    engine: Engine = Engine()
    decisions: Decisions = Decisions()
    privacy: Privacy = Privacy()
    report: Report = Report()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("fees")
    @classmethod
    def _lower_gateways(cls, fees: dict[str, FeeSchedule]) -> dict[str, FeeSchedule]:
        return {name.strip().lower(): schedule for name, schedule in fees.items()}

    def digest(self) -> str:
        """SHA-256 of the normalised configuration, recorded in every manifest. The ``[engine]``
        table is left out: where the kernels run never changes what a night finds."""
        canonical = json.dumps(self.model_dump(mode="json", exclude={"engine"}), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        cause = item.get("ctx", {}).get("error")
        parts = [*item["loc"], *([cause.key] if isinstance(cause, KeyedValueError) else [])]
        key = ".".join(str(part) for part in parts) or "(top level)"
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        if isinstance(cause, KeyedValueError):
            message = str(cause)
        lines.append(f"{key}: {message}")
    return "; ".join(lines)


def parse_config(data: dict[str, object]) -> Config:
    """Validate a configuration mapping; ConfigError names each offending key."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"configuration error: {_describe(exc)}") from exc


def load_config(path: Path | None) -> Config:
    """Load and validate a TOML configuration file; no path gives the defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {describe_os_error(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the configuration as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {path} is not valid TOML: {exc}") from exc
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
