"""Time the adyen and paypal settlement profiles on generated 1,000,000-line reports.

Usage: ``python bench/settlement_profiles.py [LINES] [DIR]``. Writes one Adyen settlement
details report (2025 layout widths, payments, refunds, fees and a payout per batch) and one
PayPal STL report (payments with fees, refunds, conversions and trailers), then reads each once
and prints lines, seconds and the outcome counts.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from walletrecon.sources.profiles import ProfileSpec, read_profile

ADYEN_HEADER = (
    "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,"
    "Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),"
    "Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),"
    "Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,"
    "Modification Merchant Reference,Batch Number,Reserved4,Reserved5,Reserved6,Reserved7,"
    "Reserved8,Reserved9,Reserved10,Booking Date,Booking Date TimeZone,Metadata\n"
)


def write_adyen(path: Path, lines: int) -> None:
    """An Adyen report of ``lines`` lines: batches of 10,000 ending in a MerchantPayout."""
    with path.open("w") as out:
        out.write(ADYEN_HEADER)
        batch_net = 0
        for i in range(lines):
            batch = i // 10_000
            if i % 10_000 == 9_999:
                out.write(
                    f"Co,Acct,,,,2026-11-21 10:00:00,CET,MerchantPayout,TX{batch}XT,,,,,EUR,"
                    f"{batch_net / 100:.2f},,,,,,,,{batch},,,,,,,,,,\n"
                )
                batch_net = 0
                continue
            cents = 1000 + i % 5000
            amount = f"{cents / 100:.2f}"
            if i % 50 == 7:
                row_type, gross, net, fees = "Refunded", f"{amount},", f"{amount},", ",,,"
                batch_net -= cents
            else:
                row_type, gross, net = "Settled", f",{amount}", f",{(cents - 30) / 100:.2f}"
                fees, batch_net = ",0.20,0.05,0.05", batch_net + cents - 30
            out.write(
                f"Co,Acct,P{i:015d},M{i},visa,2026-11-21 09:{i % 60:02d}:{i % 59:02d},CET,"
                f"{row_type},MOD{i},EUR,{gross},1,EUR,{net},{fees},visa,,"
                f"{batch},,,,,,,,2026-11-22 00:00:00,CET,\n"
            )


def write_paypal(path: Path, lines: int) -> None:
    """A PayPal STL report with ``lines`` SB lines (every 20th a conversion pair) + trailers."""
    head = (
        '"RH",2026/11/22 02:00:00 -0800,"A","ACCT",009,\n"FH",01\n'
        '"SH",2026/11/21 00:00:00 -0800,2026/11/21 23:59:59 -0800,"ACCT",""\n'
        '"CH","Transaction ID","Invoice ID","PayPal Reference ID","PayPal Reference ID Type",'
        '"Transaction Event Code","Transaction Initiation Date","Transaction Completion Date",'
        '"Transaction Debit or Credit","Gross Transaction Amount","Gross Transaction Currency",'
        '"Fee Debit or Credit","Fee Amount","Fee Currency","Custom Field","Consumer ID"\n'
    )
    gross_cr = fee_dr = 0
    with path.open("w") as out:
        out.write(head)
        for i in range(lines):
            gross, fee = 1000 + i % 7000, 30 + i % 11
            gross_cr, fee_dr = gross_cr + gross, fee_dr + fee
            out.write(
                f'"SB","T{i}","INV{i}","","TXN","T0006",2026/11/21 08:00:00 -0800,'
                f'2026/11/21 08:{i % 60:02d}:00 -0800,"CR",{gross},"USD","DR",{fee},"USD","",""\n'
            )
        out.write(f'"SF","USD",{gross_cr},0,0,{fee_dr},"CR",0,"CR",0,"CR",0,"CR",0,"CR",0,0\n')
        out.write(f'"SC",{lines}\n"RF","USD",{gross_cr},0,0,{fee_dr}\n"RC",{lines}\n"FF",{lines}')


def measure(path: Path, profile: str) -> None:
    """Read ``path`` once with ``profile`` and print the time and outcome counts."""
    started = time.perf_counter()
    result = read_profile(path, profile, ProfileSpec(source="settlement", display=path.name))
    seconds = time.perf_counter() - started
    print(
        f"{profile}: {result.records:,} records in {seconds:.2f} s "
        f"(rows {result.rows.num_rows:,}, rejected {len(result.rejected):,}, "
        f"control {len(result.control):,}, totals {len(result.totals):,}, "
        f"broken {sum(t.holds is False for t in result.totals)})"
    )


def main() -> None:
    """Generate both reports and time each reader."""
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    adyen, paypal = folder / "adyen.csv", folder / "paypal_stl.csv"
    write_adyen(adyen, lines)
    write_paypal(paypal, lines)
    measure(adyen, "adyen")
    measure(paypal, "paypal")


if __name__ == "__main__":
    main()
