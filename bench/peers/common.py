"""What every peer of the speed comparison shares: a night's files, the rules and the checksum.

Each peer is a script that bench/compare.py runs as a process of its own, with the night's inbox
folder and, when there is one, the previous night's folder:

    python bench/peers/PEER.py INBOX/2026-11-17 [INBOX/2026-11-16]

It reads the night's five canonical CSV files (and only the previous night's balances.csv, the
opening balance the balance rule needs), does the joins of the four relations with exact
decimals, classifies nothing, and prints one JSON line: for each relation the number of pairs the
join formed, how many of them agree and differ, and the rows left without a partner on each side.
That checksum shows the work was done, and lets the peers be checked against each other.

The rules, the same in every peer:

- settlement: ledger entries of the settled types with a gateway_ref against settlement lines,
  on the gateway_ref trimmed and lower-cased; a pair agrees when the currencies are equal and the
  gross amount equals the ledger amount's absolute value.
- receipts: payment entries against receipts on txn_id; agrees on currency and absolute amount.
- payouts: the night's settlement lines summed by (payout_id, currency) against the bank lines
  whose reference contains the payout id (case-insensitive); agrees on currency and amount.
- balances: succeeded, posted entries summed by (account_id, currency) against the reported
  balances; a balance agrees when it equals the previous night's reported balance (zero when
  there is none) plus those postings.

This module uses the standard library only: the peers run under different interpreters.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

#: Ledger entry types that a gateway settles.
SETTLED_TYPES = ("payment", "refund", "topup", "withdrawal")
#: Fraction digits of the exact decimals the peers compare (the largest exponent in the data).
SCALE = 4
#: The relations, in the order the checksum lists them.
RELATIONS = ("settlement", "receipts", "payouts", "balances")
#: The counts each relation reports.
COUNTS = ("pairs", "agree", "differ", "left_only", "right_only")
#: The five canonical sources of a night.
SOURCES = ("ledger", "settlement", "receipts", "balances", "bank")


@dataclass(frozen=True)
class Night:
    """The CSV files of one night, and the previous night's balances when there are any."""

    ledger: Path
    settlement: Path
    receipts: Path
    balances: Path
    bank: Path
    previous_balances: Path | None


def night_from_arguments(arguments: list[str]) -> Night:
    """The night named on the command line: NIGHT_DIR [PREVIOUS_NIGHT_DIR]."""
    if len(arguments) not in (1, 2):
        raise SystemExit("usage: PEER.py NIGHT_DIR [PREVIOUS_NIGHT_DIR]")
    folder = Path(arguments[0])
    files = {source: folder / f"{source}.csv" for source in SOURCES}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"the night lacks canonical CSV files: {', '.join(missing)}")
    previous = Path(arguments[1]) / "balances.csv" if len(arguments) == 2 else None
    if previous is not None and not previous.is_file():
        raise SystemExit(f"no previous balances at {previous}")
    return Night(previous_balances=previous, **files)


def emit(peer: str, checksum: dict[str, dict[str, int]]) -> None:
    """Print the checksum as one JSON line, after checking each relation it names has every count.

    A peer that compares fewer relations (datacompy: settlement only) names only those.
    """
    unknown = sorted(set(checksum) - set(RELATIONS))
    if unknown or not checksum:
        raise SystemExit(f"{peer}: relations {sorted(checksum)}, expected some of {RELATIONS}")
    for relation, counts in checksum.items():
        if sorted(counts) != sorted(COUNTS):
            raise SystemExit(f"{peer}: {relation} counts {sorted(counts)}, expected {COUNTS}")
    ordered = {r: {c: int(checksum[r][c]) for c in COUNTS} for r in RELATIONS if r in checksum}
    json.dump({"peer": peer, "checksum": ordered}, sys.stdout)
    sys.stdout.write("\n")
