"""The control figures of a PayPal STL file, checked against its section-body (SB) lines.

- ``SF`` (per section and currency) and ``RF`` (per report and currency): total gross credits,
  gross debits, fee credits and fee debits (fields 2-5, hundredths) against the sums of the SB
  lines of that scope in that currency (every SB line, whatever its outcome). The later fields
  (balances, holds) are not checked: the samples' own balances do not add up and PayPal's
  specification was not at hand to confirm their order.
- ``SC`` (SB lines of its section), ``RC`` (of the report) and ``FF`` (of the file): counts.
- A currency with SB lines but neither an SF of its section nor an RF is unchecked (a note);
  so is the line count of a file with neither RC nor FF (a file cut at a line end would pass).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from walletrecon.errors import InputError
from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.profiles.paypal_map import STL_DECIMALS
from walletrecon.sources.profiles.text import major_text

_FIGURES = ("gross credits", "gross debits", "fee credits", "fee debits")


def _sums(body: pl.DataFrame, keys: list[str]) -> dict[tuple[object, ...], list[int]]:
    """Per key: gross CR, gross DR, fee CR, fee DR in hundredths (readable amounts only)."""
    gross = pl.col("gross").str.to_integer(strict=False).fill_null(0)
    fee = pl.col("fee").str.to_integer(strict=False).fill_null(0)
    frame = body.group_by(keys).agg(
        g_cr=pl.when(pl.col("gross_dc") == "CR").then(gross).otherwise(0).sum(),
        g_dr=pl.when(pl.col("gross_dc") == "DR").then(gross).otherwise(0).sum(),
        f_cr=pl.when(pl.col("fee_dc") == "CR").then(fee).otherwise(0).sum(),
        f_dr=pl.when(pl.col("fee_dc") == "DR").then(fee).otherwise(0).sum(),
    )
    width = len(keys)
    return {tuple(row[:width]): list(row[width:]) for row in frame.iter_rows()}


def _money(minor: int) -> str:
    """An STL amount (hundredths, ``paypal_map.STL_DECIMALS``) as major-unit text."""
    return major_text(Decimal(minor).scaleb(-STL_DECIMALS))


def _int(trailer: dict[str, object], index: int, name: str) -> int:
    value = str(trailer.get(f"c{index}") or "").strip()
    if not value.isdigit():
        raise InputError(
            f"{name}: line {trailer['line']}: {trailer['rt']} field {index + 1}: expected a whole "
            f"number, found '{value}'"
        )
    return int(value)


def footer_totals(trailers: pl.DataFrame, body: pl.DataFrame, name: str) -> list[ControlTotal]:
    """SF and RF amount totals, then the currencies no footer covers."""
    by_section = _sums(body, ["section", "gross_ccy"])
    by_report = _sums(body, ["gross_ccy"])
    totals: list[ControlTotal] = []
    covered: set[tuple[object, ...]] = set()
    for trailer in trailers.filter(pl.col("rt").is_in(["SF", "RF"])).iter_rows(named=True):
        currency = str(trailer.get("c1") or "").strip()
        section = trailer["section"]
        is_section = trailer["rt"] == "SF"
        found = by_section.get((section, currency)) if is_section else by_report.get((currency,))
        covered.add((section, currency) if is_section else ("report", currency))
        scope = f"{'section' if is_section else 'report'} footer, line {trailer['line']}"
        for index, figure in enumerate(_FIGURES):
            expected = _int(trailer, index + 2, name)
            value = (found or [0, 0, 0, 0])[index]
            totals.append(
                ControlTotal(
                    scope,
                    f"{figure} = sum of SB lines",
                    _money(expected),
                    _money(value),
                    expected == value,
                    currency,
                )
            )
    for section, ccy in sorted(by_section, key=str):
        if (section, ccy) not in covered and ("report", ccy) not in covered:
            totals.append(
                ControlTotal(
                    f"section {section}",
                    "gross and fee totals",
                    "",
                    "",
                    None,
                    str(ccy),
                    "the file has no SF or RF footer for this currency",
                )
            )
    return totals


def count_totals(trailers: pl.DataFrame, body: pl.DataFrame, name: str) -> list[ControlTotal]:
    """SC, RC and FF record counts against the SB lines they cover."""
    per_section = dict(body.group_by("section").len().iter_rows())
    totals: list[ControlTotal] = []
    counts = trailers.filter(pl.col("rt").is_in(["SC", "RC", "FF"]))
    for trailer in counts.iter_rows(named=True):
        expected = _int(trailer, 1, name)
        if trailer["rt"] == "SC":
            found, scope = per_section.get(trailer["section"], 0), f"section {trailer['section']}"
        else:
            found, scope = body.height, "report" if trailer["rt"] == "RC" else "file"
        totals.append(
            ControlTotal(
                f"{scope} ({trailer['rt']}, line {trailer['line']})",
                "SB record count",
                str(expected),
                str(found),
                expected == found,
            )
        )
    if counts.filter(pl.col("rt") != "SC").is_empty():
        totals.append(
            ControlTotal(
                "file",
                "SB record count",
                "",
                str(body.height),
                None,
                note="the file has no RC or FF trailer: a file cut at a line end cannot be told "
                "from a complete one",
            )
        )
    return totals
