"""Shared pieces of the settlement report profiles (Adyen, PayPal): vectorised and exact.

Physical lines are found with numpy over the file's bytes (one pass, no Python loop per line),
so every record keeps the 1-based line it starts on and only rejected or control records are
turned back into raw text. Amounts are checked with a regular expression and summed as Polars
Decimals (never float), then written back as plain decimal text in major units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from walletrecon.schemas import SOURCES
from walletrecon.sources.profiles import ProfileSpec
from walletrecon.sources.profiles.text import decode_file

#: Decimal scale amounts are summed at: finer amounts are rejected, never rounded.
AMOUNT_SCALE = 8
AMOUNT_DTYPE = pl.Decimal(38, AMOUNT_SCALE)
#: An unsigned plain decimal (``12``, ``12.50``, ``.91``), at most AMOUNT_SCALE decimals.
UNSIGNED_DECIMAL = rf"^(?:\d+(?:\.\d{{0,{AMOUNT_SCALE}}})?|\.\d{{1,{AMOUNT_SCALE}}})$"


def file_bytes(path: Path, spec: ProfileSpec) -> bytes:
    """The file as UTF-8 bytes without a BOM, decoded strictly in its declared encoding."""
    return decode_file(path, spec.encoding, spec.display).encode("utf-8")


@dataclass(frozen=True)
class Lines:
    """Where each physical line of a file starts and ends (byte offsets, end excludes EOL)."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def scan(cls, data: bytes) -> Lines:
        """Index the lines of ``data`` (LF or CRLF; a last line without newline counts)."""
        buffer = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buffer == 10)
        ends = newlines
        if len(data) and data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        starts = np.concatenate(([0], newlines[: len(ends) - 1] + 1)).astype(np.int64)
        trimmed = ends.copy()
        has_cr = (trimmed > starts) & (buffer[np.maximum(trimmed - 1, 0)] == 13)
        trimmed[has_cr] -= 1
        return cls(data, starts[: len(ends)], trimmed.astype(np.int64))

    def __len__(self) -> int:
        return len(self.starts)

    def nonblank(self) -> np.ndarray:
        """0-based indexes of the lines holding anything before EOL (a line of spaces is not
        blank: a report never writes one, so it is read, and refused, as a broken line)."""
        return np.flatnonzero(self.ends > self.starts)

    def text(self, index: int) -> str:
        """The text of the line at 0-based ``index``."""
        return self.data[int(self.starts[index]) : int(self.ends[index])].decode("utf-8")

    def line_of_offset(self, offset: int) -> int:
        """The 1-based line holding byte ``offset``."""
        return int(np.searchsorted(self.starts, offset, side="right"))


def is_unsigned_decimal(column: str) -> pl.Expr:
    """True where the (stripped) text is an unsigned plain decimal."""
    return pl.col(column).str.contains(UNSIGNED_DECIMAL)


def as_decimal(column: str) -> pl.Expr:
    """The column as an exact Decimal; empty text reads as 0. Validate with
    ``is_unsigned_decimal`` first: this parse also takes signs and exponents."""
    parsed = pl.col(column).str.to_decimal(scale=AMOUNT_SCALE).cast(AMOUNT_DTYPE)
    return parsed.fill_null(pl.lit(0).cast(AMOUNT_DTYPE))


def decimal_text(expr: pl.Expr) -> pl.Expr:
    """A Decimal expression as plain text without trailing zeros (``1.50000000`` -> ``1.5``)."""
    raw = expr.cast(pl.String)
    stripped = raw.str.strip_chars_end("0").str.strip_chars_end(".")
    text = pl.when(raw.str.contains(".", literal=True)).then(stripped).otherwise(raw)
    return pl.when(text == "-0").then(pl.lit("0")).otherwise(text)


def settlement_columns(source: str) -> tuple[str, ...]:
    """The string columns a settlement profile writes, in order (the optional ones included)."""
    return SOURCES[source].column_names


def rows_table(frame: pl.DataFrame, source: str) -> pa.Table:
    """The canonical result table: string columns, ``origin_row`` int64, ``origin_element``."""
    names = settlement_columns(source)
    selected = frame.select(
        *[pl.col(name).cast(pl.String) for name in names],
        pl.col("origin_row").cast(pl.Int64),
        pl.lit(None, dtype=pl.String).alias("origin_element"),
    )
    return selected.to_arrow().cast(
        pa.schema(
            [pa.field(name, pa.string()) for name in names]
            + [pa.field("origin_row", pa.int64()), pa.field("origin_element", pa.string())]
        )
    )


#: (column named in the message, condition that rejects, reason text expression).
Rule = tuple[str, pl.Expr, pl.Expr]


def apply_rules(frame: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """``frame`` with ``reject_reason`` and ``reject_column``: the first rule that holds, null
    where none does. Messages are built only for the failing rows (joined on ``origin_row``)."""
    conditions = [condition.fill_null(False) for _, condition, _ in rules]
    marked = frame.with_columns(_failing=pl.any_horizontal(conditions))
    failing = marked.filter(pl.col("_failing")).select(
        "origin_row",
        reject_reason=pl.coalesce(
            [pl.when(c).then(message) for c, (_, _, message) in zip(conditions, rules, strict=True)]
        ),
        reject_column=pl.coalesce(
            [
                pl.when(c).then(pl.lit(column))
                for c, (column, _, _) in zip(conditions, rules, strict=True)
            ]
        ),
    )
    return marked.drop("_failing").join(failing, on="origin_row", how="left", maintain_order="left")
