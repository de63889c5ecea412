"""``decide match``: two items the rules left apart that a person says belong together.

The pairs a person can make, and how the next night makes them (before the kernels run, on the
state it starts from, so the kernels pair the two and check them as one: a hand-matched pair can
still show an amount, currency, status or fee break):

- a ledger entry (``entry_id``) and a settlement line (``settlement_id``) of the same type: the
  line takes the entry's normalised gateway reference and its txn_id as merchant reference;
- a payment entry and a merchant receipt (``receipt_id``): the receipt takes the entry's txn_id;
- a payout (``payout_id``) and a bank line (``bank_line_id``): the line's reference names the
  payout. Bank lines are reconciled against payouts, never against single ledger entries, so a
  bank line pairs with a payout (CONTRACT section 6 names "a ledger entry and a bank_line_id";
  this is its reading for an engine that checks bank lines per payout).

The breaks of the two items (their ``missing_in_settlement``/``missing_in_ledger``,
``payment_not_received``, ``payout_mismatch``) close as ``matched_by_hand`` with the decision's
id. An item already paired, or gone from the state by the night, makes the decision ``void``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from walletrecon.decisions.model import Decision
from walletrecon.errors import UsageError
from walletrecon.history import state_folder

#: Per counterpart source: its id column, the source's prefix in a break's ``involved`` list.
COUNTERPARTS = {
    "settlement": ("settlement_id", "settlement:"),
    "receipts": ("receipt_id", "receipts:"),
    "bank": ("bank_line_id", "bank:"),
}


@dataclass(frozen=True)
class Pair:
    """What a match names: the source of the counterpart and the breaks of the two items."""

    source: str
    breaks: tuple[str, ...]


def _rows(folder: Path, name: str, column: str, value: str) -> pl.DataFrame:
    path = folder / f"{name}.parquet"
    if not path.is_file():
        return pl.DataFrame()
    return pl.scan_parquet(path).filter(pl.col(column) == value).collect()


def _counterpart(folder: Path, item: str) -> tuple[str, pl.DataFrame]:
    found = [
        (source, rows)
        for source, (column, _) in COUNTERPARTS.items()
        if (rows := _rows(folder, source, column, item)).height
    ]
    if not found:
        raise UsageError(
            f"{item}: no unpaired settlement line, receipt or bank line with this id in the "
            "latest night's state (already matched, or never delivered?)"
        )
    if len(found) > 1:
        sources = " and ".join(source for source, _ in found)
        raise UsageError(f"{item}: the id is both a {sources} id; it cannot be told apart")
    return found[0]


def _is_first(folder: Path, item: str) -> bool:
    """Whether an id is a ledger entry or a payout (the first item of a pair)."""
    return bool(
        _rows(folder, "ledger", "entry_id", item).height
        or _rows(folder, "payouts", "payout_key", item.strip().lower()).height
    )


def ordered(out: Path, night: dt.date, one: str, other: str) -> tuple[str, str]:
    """The two items of a match as (entry or payout, counterpart), in whichever order given."""
    folder = state_folder(out, night)
    if not _is_first(folder, one) and _is_first(folder, other):
        return other, one
    return one, other


def suggested_pair(out: Path, night: dt.date, breaks: tuple[str, ...]) -> tuple[str, str]:
    """The pair a break's suggested match names: the break's own item and the suggestion (the
    first of the breaks that has one); UsageError when none has."""
    path = out / "discrepancies" / f"run_date={night.isoformat()}" / "part-0.parquet"
    rows = pl.DataFrame()
    if path.is_file():
        rows = (
            pl.scan_parquet(path)
            .filter(pl.col("discrepancy_id").is_in(list(breaks)))
            .filter(pl.col("suggested_match").is_not_null())
            .sort("discrepancy_id")
            .collect()
        )
    if not rows.height:
        raise UsageError(
            "no suggested match on it in the latest night: name both items "
            "(decide match ENTRY_ID COUNTERPART_ID)"
        )
    row = rows.row(0, named=True)
    folder = state_folder(out, night)
    suggestion = row["suggested_match"]
    evidence = row["evidence"] or ""
    items = [item.split(":", 1)[1] for item in _involved(path, row["discrepancy_id"])]
    for own in items:
        if _is_first(folder, own) != _is_first(folder, suggestion):
            return ordered(out, night, own, suggestion)
    raise UsageError(
        f"{row['discrepancy_id']}: its items ({evidence}) cannot pair with {suggestion}"
    )


def _involved(path: Path, identity: str) -> list[str]:
    """The 'source:id' items of a published break, from the state beside its night."""
    night = path.parent.name.removeprefix("run_date=")
    state = path.parent.parent.parent / "state" / f"run_date={night}" / "open_discrepancies.parquet"
    found = pl.scan_parquet(state).filter(pl.col("discrepancy_id") == identity).collect()
    return list(found.row(0, named=True)["involved"]) if found.height else []


def check_pair(
    out: Path, night: dt.date, first: str, second: str, open_breaks: pl.DataFrame
) -> Pair:
    """The pair a match names, checked against the latest night's state; UsageError when it
    cannot be made."""
    folder = state_folder(out, night)
    source, counterpart = _counterpart(folder, second)
    row = counterpart.row(0, named=True)
    if source == "bank":
        payouts = _rows(folder, "payouts", "payout_key", first.strip().lower())
        if not payouts.height:
            raise UsageError(f"{first}: no payout with this id in the latest night's state")
        if payouts.row(0, named=True)["bank_lines"]:
            raise UsageError(f"{first}: the payout already has its bank line")
        mine = (pl.col("type") == "payout_mismatch") & pl.col("key").is_in([first, second])
    else:
        entries = _rows(folder, "ledger", "entry_id", first)
        if not entries.height:
            raise UsageError(
                f"{first}: no ledger entry with this entry_id waits for a counterpart in the "
                "latest night's state (already matched, or never posted?)"
            )
        entry = entries.row(0, named=True)
        if source == "settlement":
            if entry["settlement_match"] is not None:
                raise UsageError(f"{first}: the entry already has its settlement line")
            if entry["entry_type"] != row["record_type"]:
                raise UsageError(
                    f"{first} is a {entry['entry_type']} entry, {second} a "
                    f"{row['record_type']} line: only items of one type pair"
                )
        elif entry["entry_type"] != "payment" or entry["receipt_match"] is not None:
            raise UsageError(f"{first}: only a payment without a receipt pairs with a receipt")
        prefix = COUNTERPARTS[source][1]
        names = [f"ledger:{first}", f"{prefix}{second}"]
        mine = pl.col("involved").list.eval(pl.element().is_in(names)).list.any()
    kinds = ("missing_in_settlement", "missing_in_ledger", "payment_not_received")
    closing = mine & (pl.col("type").is_in(kinds) | (pl.col("type") == "payout_mismatch"))
    breaks = open_breaks.filter(closing).get_column("discrepancy_id").sort().to_list()
    return Pair(source, tuple(breaks))


def pair_by_hand(
    frames: dict[str, pl.DataFrame], due: Sequence[Decision]
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The state's frames with tonight's hand matches made (see the module's description), and
    a note for each match that could not be made (void)."""
    void: dict[str, str] = {}
    for decision in due:
        if decision.action != "match" or decision.counterpart is None:
            continue
        first, second = decision.target, decision.counterpart
        if decision.counterpart_source == "bank":
            bank = frames["bank"]
            known = frames["payouts"].filter(pl.col("payout_key") == first.lower())
            hit = pl.col("bank_line_id") == second
            if not bank.filter(hit).height or not known.height:
                void[decision.decision_id] = "the payout or the bank line was no longer open"
                continue
            payout_id = known.row(0, named=True)["payout_id"]
            frames["bank"] = bank.with_columns(
                pl.when(hit).then(pl.lit(payout_id)).otherwise("reference").alias("reference")
            )
            continue
        entries = frames["ledger"].filter(pl.col("entry_id") == first)
        source = decision.counterpart_source or "settlement"
        column = COUNTERPARTS[source][0]
        hit = pl.col(column) == second
        if not entries.height or not frames[source].filter(hit).height:
            void[decision.decision_id] = "the entry or its counterpart was no longer open"
            continue
        entry = entries.row(0, named=True)
        if source == "settlement":
            rewritten = [
                pl.when(hit)
                .then(pl.lit(entry["ref_norm"]))
                .otherwise("ref_norm")
                .alias("ref_norm"),
                pl.when(hit)
                .then(pl.lit(entry["txn_id"]))
                .otherwise("merchant_ref")
                .alias("merchant_ref"),
            ]
        else:
            rewritten = [
                pl.when(hit).then(pl.lit(entry["txn_id"])).otherwise("txn_id").alias("txn_id")
            ]
        frames[source] = frames[source].with_columns(rewritten)
    return frames, void
