"""Which files of an inbox folder feed which source, read by which profile.

The ``[[inputs]]`` tables of the configuration name delivered files by a glob under ``INBOX/D/``
and say how to read them (``InputSpec``). Files no table names are read by the canonical profile
when they are called ``NAME.csv``, ``NAME.csv.gz`` or ``NAME.parquet`` (NAME a source), and are
otherwise an input error: an unknown file in an inbox is never skipped unseen. Hidden files
(a leading dot: editors' and uploaders' partial files) are the one exception, ignored with a
warning.
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from walletrecon.errors import InputError
from walletrecon.schemas import SOURCES
from walletrecon.sources.files import SUFFIXES
from walletrecon.sources.profiles import PROFILES, ControlMode, ProfileSpec, profile_options

SourceName = Literal["ledger", "balances", "settlement", "receipts", "bank"]


def _option_text(value: object) -> str:
    """Profile options are text (``convert --option KEY=VALUE`` gives text); TOML numbers and
    booleans are written as TOML writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    raise ValueError("an option value is text, a whole number or a boolean")


class InputSpec(BaseModel):
    """One ``[[inputs]]`` table: a kind of delivered file and how to read it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceName
    profile: str = "canonical"
    pattern: str = Field(min_length=1)
    encoding: str = "utf-8"
    control_totals: ControlMode = "enforce"
    gateway: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("options", mode="before")
    @classmethod
    def _texts(cls, options: object) -> object:
        if isinstance(options, dict):
            return {str(key): _option_text(value) for key, value in options.items()}
        return options

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, profile: str) -> str:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
        return profile

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {encoding!r}") from exc
        return encoding

    @field_validator("pattern")
    @classmethod
    def _relative(cls, pattern: str) -> str:
        if pattern.startswith("/") or ".." in Path(pattern).parts:
            raise ValueError("a pattern is a glob under the inbox folder of a date")
        return pattern

    @model_validator(mode="after")
    def _fits(self) -> InputSpec:
        if self.source not in PROFILES[self.profile]:
            raise ValueError(f"profile {self.profile!r} cannot feed source {self.source!r}")
        known = set(SOURCES[self.source].column_names)
        unknown = sorted(set(self.columns) - known)
        if unknown:
            raise ValueError(f"columns: {unknown[0]!r} is not a column of {self.source}")
        if self.columns and self.profile != "mapped":
            raise ValueError("columns are given only for the 'mapped' profile")
        allowed = profile_options(self.profile)
        unknown = sorted(set(self.options) - set(allowed)) if allowed is not None else []
        if unknown:
            names = ", ".join(allowed or ()) or "none"
            raise ValueError(
                f"options: {unknown[0]!r} is not an option of {self.profile} ({names})"
            )
        if self.profile == "canonical" and codecs.lookup(self.encoding).name != "utf-8":
            raise ValueError("the canonical profile reads UTF-8; use 'mapped' for other encodings")
        return self

    def spec(self, display: str) -> ProfileSpec:
        """How to read one file this table names."""
        return ProfileSpec(
            source=self.source,
            encoding=self.encoding,
            control_totals=self.control_totals,
            options=self.options,
            columns=self.columns,
            gateway=self.gateway,
            display=display,
        )


@dataclass(frozen=True)
class Delivery:
    """One delivered file of a business date and how to read it."""

    day: dt.date
    path: Path
    #: ``D/relative/path`` under the inbox: how the file is named in messages and origins.
    display: str
    profile: str
    spec: ProfileSpec


def _canonical(path: Path) -> str | None:
    """The source a canonical file name stands for, or None."""
    for suffix in SUFFIXES:
        name = path.name.removesuffix(suffix)
        if path.name.endswith(suffix) and name in SOURCES:
            return name
    return None


def deliveries(
    folder: Path, day: dt.date, inputs: tuple[InputSpec, ...]
) -> tuple[list[Delivery], list[str]]:
    """Every file under a date folder, each with its source and profile, in a stable order;
    and the warnings (hidden files passed over). InputError for a file no input names and that
    has no canonical name, for a file two inputs name, and for two canonical files of one
    source."""
    found: dict[Path, Delivery] = {}
    warnings: list[str] = []
    for table in inputs:
        for path in sorted(folder.glob(table.pattern)):
            if not path.is_file() or path.name.startswith("."):
                continue
            display = f"{day.isoformat()}/{path.relative_to(folder).as_posix()}"
            if path in found:
                raise InputError(
                    f"{display}: named by two [[inputs]] tables ({found[path].spec.source} "
                    f"{found[path].profile} and {table.source} {table.profile}); "
                    "make the patterns exclusive"
                )
            found[path] = Delivery(day, path, display, table.profile, table.spec(display))
    canonical: dict[str, Path] = {}
    for path in sorted(item for item in folder.rglob("*") if item.is_file()):
        display = f"{day.isoformat()}/{path.relative_to(folder).as_posix()}"
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            warnings.append(f"{display}: hidden file passed over")
            continue
        if path in found:
            continue
        source = _canonical(path) if path.parent == folder else None
        if source is None:
            raise InputError(
                f"{display}: no [[inputs]] table names this file, and it is not a canonical "
                f"file (NAME{'|'.join(SUFFIXES)} with NAME one of {', '.join(SOURCES)})"
            )
        if source in canonical:
            raise InputError(
                f"{folder}: more than one file for source '{source}': "
                f"{canonical[source].name}, {path.name}"
            )
        canonical[source] = path
        found[path] = Delivery(
            day, path, display, "canonical", ProfileSpec(source=source, display=display)
        )
    order = list(SOURCES)
    ordered = sorted(found.values(), key=lambda item: (order.index(item.spec.source), item.display))
    return ordered, warnings
