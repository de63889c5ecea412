"""Profile benchmark: a generated Stripe report and a German bank CSV of N lines, each read once.

Prints wall and CPU seconds per profile (CPU counts every thread: on a shared machine it is the
steadier figure).

    python bench/profiles.py --rows 1000000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from walletrecon.sources.profiles import ProfileSpec, read_profile

STRIPE_HEADER = (
    "balance_transaction_id,payment_metadata[txn_id],source_id,payment_intent_id,charge_id,"
    "created,available_on,currency,gross,fee,net,reporting_category,description,"
    "automatic_payout_id\n"
)


def write_stripe(path: Path, rows: int, seed: int) -> None:
    """Charges and (every tenth line) refunds in USD, 50 payouts, one quoted description each."""
    pick = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(STRIPE_HEADER)
        for i in range(rows):
            cents = pick.randint(100, 100_000)
            fee = cents * 3 // 100 if i % 10 != 9 else 0
            sign, kind = ("-", "refund") if i % 10 == 9 else ("", "charge")
            out.write(
                f"txn_{i},W{i},ch_{i},pi_{i},ch_{i},2026-01-30 10:11:12,2026-01-31 00:00:00,usd,"
                f"{sign}{cents // 100}.{cents % 100:02d},{fee // 100}.{fee % 100:02d},"
                f"{sign}{(cents - fee) // 100}.{(cents - fee) % 100:02d},{kind},"
                f'"Line {i}, as written",po_{i % 50}\n'
            )


def write_bank(path: Path, rows: int, seed: int) -> None:
    """Latin-1, semicolons, decimal comma and thousands dot, dd.mm.yyyy, payout in free text."""
    pick = random.Random(seed)
    with path.open("w", encoding="latin-1") as out:
        out.write("Konto;Datum;Betrag;Verwendungszweck;Waehrung\n")
        for i in range(rows):
            whole = f"{pick.randint(0, 10**7):,}".replace(",", ".")
            out.write(f"K{i};30.01.2026;{whole},{i % 100:02d};Überweisung PO-{i % 50};EUR\n")


BANK = ProfileSpec(
    "bank",
    encoding="latin-1",
    columns={"bank_line_id": "Konto", "amount": "Betrag", "value_date": "Datum"},
    options={
        "delimiter": ";",
        "decimal": ",",
        "thousands": ".",
        "date_format": "%d.%m.%Y",
        "constant.currency": "EUR",
        "extract.reference": r"Verwendungszweck:(PO-\d+)",
    },
)
STRIPE = ProfileSpec("settlement", options={"merchant_ref_column": "payment_metadata[txn_id]"})


def main() -> None:
    """Generate both files in a temporary folder and time one read of each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = [
            ("stripe", Path(folder) / "stripe.csv", write_stripe, STRIPE),
            ("mapped", Path(folder) / "bank.csv", write_bank, BANK),
        ]
        for name, path, write, spec in cases:
            write(path, args.rows, args.seed)
            wall, cpu = time.perf_counter(), time.process_time()
            result = read_profile(path, name, spec)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            size = path.stat().st_size / 1e6
            print(
                f"{name:7} {args.rows:>9} lines {size:6.0f} MB  rows {result.rows.num_rows:>9} "
                f"rejected {len(result.rejected):>5}  wall {wall:5.2f} s  cpu {cpu:5.2f} s"
            )


if __name__ == "__main__":
    main()
