"""Payouts and the bank file: each night, the bank lines that pay yesterday's payouts.

One payout a night gets a bank amount that differs from its net sum, another one gets no bank
line at all, and one bank line names no payout; each is recorded as a ``payout_mismatch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from walletrecon.sample.formatting import format_minor, identifiers
from walletrecon.sample.model import (
    CURRENCIES,
    EXPONENTS,
    GATEWAYS,
    REFUND,
    TYPICAL_MINOR,
    UNPAID_GATEWAYS,
)
from walletrecon.sample.tables import Counters, Table, truth_frame
from walletrecon.sample.timeline import Calendar

#: A bank line before formatting: amount in minor units, currency, reference, bank_line_id.
BankRow = tuple[int, str, str, str]
BANK_COLUMNS: tuple[str, ...] = ("bank_line_id", "amount", "currency", "value_date", "reference")


@dataclass
class Payouts:
    """Net sums per payout (settled local day, gateway, currency) until the bank pays them."""

    calendar: Calendar
    counters: Counters
    truth: list[pl.DataFrame]
    totals: dict[tuple[int, int, int], int] = field(default_factory=dict)
    #: Per payout, the net of its first line (by line id) of a payment kind and of a refund: the
    #: line a bank credit may leave out (``likely cause``).
    first_lines: dict[tuple[tuple[int, int, int], bool], int] = field(default_factory=dict)

    def add(self, settlement: Table) -> None:
        """Add each line's net to its payout (gateway, currency, settled local date); lines of a
        gateway that names no payout are paid by no bank line."""
        keys = ("payout_day", "gateway", "currency")
        sums = (
            pl.DataFrame({name: settlement[name] for name in (*keys, "net")})
            .filter(~pl.col("gateway").is_in(UNPAID_GATEWAYS))
            .group_by(keys)
            .agg(pl.col("net").sum())
            .sort(keys)
        )
        for payout_day, gateway, currency, net in sums.iter_rows():
            key = (payout_day, gateway, currency)
            self.totals[key] = self.totals.get(key, 0) + net
        firsts = (
            pl.DataFrame({name: settlement[name] for name in (*keys, "net", "line", "record_type")})
            .filter(~pl.col("gateway").is_in(UNPAID_GATEWAYS) & (pl.col("net") != 0))
            .with_columns((pl.col("record_type") == REFUND).alias("refund"))
            .sort("line")
            .group_by([*keys, "refund"])
            .agg(pl.col("net").first())
            .sort([*keys, "refund"])
        )
        for payout_day, gateway, currency, refund, net in firsts.iter_rows():
            self.first_lines.setdefault(((payout_day, gateway, currency), refund), net)

    def bank_file(self, rng: np.random.Generator, day: int) -> pl.DataFrame:
        """Bank lines for yesterday's payouts (one off, one withheld) and unknown transfers."""
        rows = self._payout_lines(rng, day)
        rows += self._unknown_transfers(rng, day)
        value_date = self.calendar.date_of(day).isoformat()
        return pl.DataFrame(
            {
                "bank_line_id": [line_id for _, _, _, line_id in rows],
                "amount": [format_minor(amount, currency) for amount, currency, _, _ in rows],
                "currency": [currency for _, currency, _, _ in rows],
                "value_date": [value_date] * len(rows),
                "reference": [reference for _, _, reference, _ in rows],
            },
            schema=dict.fromkeys(BANK_COLUMNS, pl.String),
        )

    def _payout_lines(self, rng: np.random.Generator, day: int) -> list[BankRow]:
        """One bank line per payout of yesterday, but one amount off and one line withheld."""
        payouts = sorted(key for key in self.totals if key[0] == day - 1)
        order = rng.permutation(len(payouts)).tolist()
        amount_off = set(order[:1]) if len(payouts) >= 2 else set()
        withheld = set(order[1:2])
        rows: list[BankRow] = []
        for position, (payout_day, gateway, currency) in enumerate(payouts):
            payout_id = _payout_id(self.calendar, payout_day, gateway, currency)
            if position in withheld:
                self._record(payout_id, day + 1, "settlement", payout_id, "bank line withheld")
                continue
            amount = self.totals.pop((payout_day, gateway, currency))
            batch = int(rng.integers(1, 40))
            reference = _bank_reference(GATEWAYS[gateway], payout_id, batch)
            line_id = self._bank_line_id()
            if position in amount_off:
                shift = _nonzero_shift(rng, currency)
                cause, note, left_out = self._left_out((payout_day, gateway, currency), day)
                amount += shift if left_out is None else -left_out
                self._record(payout_id, day, "bank", line_id, note, cause)
            rows.append((amount, CURRENCIES[currency], reference, line_id))
        return rows

    def _left_out(self, key: tuple[int, int, int], day: int) -> tuple[str | None, str, int | None]:
        """What a bank credit that is off leaves out, by night in turn: nothing known (an amount
        off), one line of the payout, or one refund line; (cause, note, net left out)."""
        turn = day % 3
        refund = self.first_lines.get((key, True))
        line = self.first_lines.get((key, False))
        if turn == 1 and line is not None:
            return "payout_missing_line", "the bank credit leaves out one settlement line", line
        if turn == 2 and refund is not None:
            return "refund_held_back", "the bank credit holds back one refund line", refund
        return None, "bank amount differs from the payout's net sum", None

    def _bank_line_id(self) -> str:
        """A fresh bank_line_id."""
        return str(identifiers("bank_line", self.counters.take("bank_line", 1))[0])

    def _record(
        self,
        key: str,
        run_day: int,
        source: str,
        row_id: str,
        note: str,
        cause: str | None = None,
    ) -> None:
        """Truth for one payout_mismatch (with its injected likely cause, if any)."""
        self.truth.append(
            truth_frame(
                "payout_mismatch",
                pl.Series([key], dtype=pl.String),
                np.array([run_day], dtype=np.int64),
                source,
                pl.Series([row_id], dtype=pl.String),
                note,
                causes=pl.Series([cause], dtype=pl.String),
            )
        )

    def _unknown_transfers(self, rng: np.random.Generator, day: int) -> list[BankRow]:
        """A bank line whose reference names no payout."""
        currency = int(rng.integers(0, len(CURRENCIES)))
        amount = int(TYPICAL_MINOR[currency]) * int(rng.integers(1, 50))
        reference = f"MISC TRANSFER REF {int(rng.integers(0, 1 << 48)):012X}"
        line_id = self._bank_line_id()
        note = "a bank line whose reference names no known payout"
        self._record(line_id, day + 2, "bank", line_id, note)
        return [(amount, CURRENCIES[currency], reference, line_id)]


def _payout_id(calendar: Calendar, day: int, gateway: int, currency: int) -> str:
    """``PO-<gateway>-<currency>-<YYYYMMDD>`` of a payout."""
    return f"PO-{GATEWAYS[gateway]}-{CURRENCIES[currency]}-{calendar.date_of(day):%Y%m%d}"


def _nonzero_shift(rng: np.random.Generator, currency: int) -> int:
    """A random non-zero amount up to 100 major units of the currency, in minor units."""
    shift = 1 + int(rng.integers(0, 100 * 10 ** int(EXPONENTS[currency])))
    return shift if rng.random() < 0.5 else -shift


def _bank_reference(gateway: str, payout_id: str, batch: int) -> str:
    """Free text that carries the payout id somewhere inside it, as banks write it."""
    if gateway == "adyen":
        return f"ADYEN SETTLEMENT {payout_id} BATCH {batch}"
    if gateway == "stripe":
        return f"STRIPE PAYOUT {payout_id}"
    return f"BANKX CLR {payout_id} SEQ {batch}"
