"""The speed comparison's peers count what the rules say: a tiny night with every case.

The floor (Polars) and the DuckDB SQL script must give the same, exact checksum, so that a peer
that skips work or bends a rule shows in bench/compare.py's tables. (The pandas and datacompy
peers run in their own environment; bench/compare.py prints their checksums beside these.)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

PEERS = Path(__file__).resolve().parents[1] / "bench" / "peers"
TS = "2026-11-16T10:00:00+08:00"

LEDGER_HEADER = "entry_id,txn_id,account_id,entry_type,amount,currency,status,created_at,"
LEDGER_HEADER += "posted_at,merchant_id,gateway_ref"
SETTLEMENT_HEADER = "settlement_id,gateway,gateway_ref,merchant_ref,record_type,gross_amount,"
SETTLEMENT_HEADER += "fee_amount,net_amount,currency,settled_at,payout_id"

LEDGER = f"""{LEDGER_HEADER}
E1,T1,A1,payment,-10.00,CNY,succeeded,{TS},{TS},M1,GW-A
E2,T2,A1,refund,5.00,CNY,succeeded,{TS},{TS},M1,GW-B
E3,T3,A1,payment,-7.00,USD,pending,{TS},,M1,GW-C
E4,T4,A3,topup,2.00,CNY,succeeded,{TS},{TS},,GW-D
E5,T5,A1,transfer_in,1.00,CNY,succeeded,{TS},{TS},,GW-F
E6,T6,A1,payment,12.3.4,CNY,succeeded,{TS},{TS},M1,GW-G
"""
SETTLEMENT = f"""{SETTLEMENT_HEADER}
S1,adyen, gw-a ,T1,payment,10.00,0.10,9.90,CNY,{TS},PO-1
S2,adyen,GW-B,T2,refund,5.01,0.00,-5.01,CNY,{TS},PO-1
S3,adyen,GW-C,T3,payment,7.00,4.00,3.00,CNY,{TS},PO-2
S4,adyen,GW-E,,payment,1.00,0.00,1.00,CNY,{TS},
S5,adyen,GW-F,,topup,1.00,0.00,1.00,CNY,{TS},
S6,adyen,GW-G,T6,payment,12.34,11.34,1.00,CNY,{TS},PO-3
"""
RECEIPTS = f"""receipt_id,merchant_id,txn_id,amount,currency,received_at
R1,M1,T1,10.00,CNY,{TS}
R3,M1,T3,7.00,CNY,{TS}
R9,M1,T9,1.00,CNY,{TS}
"""
BANK = """bank_line_id,amount,currency,value_date,reference
B1,4.89,CNY,2026-11-16,GW PAYOUT po-1 BATCH 7
B2,3.01,CNY,2026-11-16,PO-2
B3,1.00,CNY,2026-11-16,MISC TRANSFER
"""
BALANCES = """account_id,currency,as_of,balance
A1,CNY,2026-11-16T23:59:59+08:00,96.00
A2,CNY,2026-11-16T23:59:59+08:00,50.00
"""
OPENING = """account_id,currency,as_of,balance
A1,CNY,2026-11-15T23:59:59+08:00,100.00
"""

ONE_EACH = {"pairs": 2, "agree": 1, "differ": 1, "left_only": 1, "right_only": 1}
EXPECTED = {
    # A agrees (case and spaces of the reference do not count); B differs in amount, C in
    # currency, G has no number; D has no line; E and F (a transfer is not settled) no entry.
    "settlement": {"pairs": 4, "agree": 1, "differ": 3, "left_only": 1, "right_only": 2},
    # T1 agrees, T3 differs in currency; T6 has no receipt; T9 no payment.
    "receipts": ONE_EACH,
    # PO-1 (9.90 - 5.01) is paid by B1; B2 pays PO-2 one cent more; PO-3 unpaid; B3 names none.
    "payouts": ONE_EACH,
    # A1: 100.00 - 10.00 + 5.00 + 1.00 (the pending and the unreadable entry post nothing);
    # A2 reports 50.00 with nothing posted; A3 posted without a reported balance.
    "balances": ONE_EACH,
}


def peer(name: str) -> ModuleType:
    """A peer script imported as a module (they import ``common`` from their own folder)."""
    if str(PEERS) not in sys.path:
        sys.path.insert(0, str(PEERS))
    return importlib.import_module(name)


def night(folder: Path, previous: bool = True) -> object:
    """The tiny night written to ``folder`` (and its previous night's balances)."""
    files = {"ledger": LEDGER, "settlement": SETTLEMENT, "receipts": RECEIPTS}
    files |= {"bank": BANK, "balances": BALANCES}
    (folder / "D").mkdir()
    for name, text in files.items():
        (folder / "D" / f"{name}.csv").write_text(text, encoding="utf-8")
    arguments = [str(folder / "D")]
    if previous:
        (folder / "D-1").mkdir()
        (folder / "D-1" / "balances.csv").write_text(OPENING, encoding="utf-8")
        arguments.append(str(folder / "D-1"))
    return peer("common").night_from_arguments(arguments)


@pytest.mark.parametrize("name", ["floor", "duckdb_sql"])
def test_peer_counts_every_case_of_every_relation(tmp_path: Path, name: str) -> None:
    assert peer(name).reconcile(night(tmp_path)) == EXPECTED


@pytest.mark.parametrize("name", ["floor", "duckdb_sql"])
def test_first_night_balances_open_at_zero(tmp_path: Path, name: str) -> None:
    balances = peer(name).reconcile(night(tmp_path, previous=False))["balances"]
    # A1's 96.00 no longer follows from postings of -4.00 alone.
    assert balances == {"pairs": 2, "agree": 0, "differ": 2, "left_only": 1, "right_only": 1}


def test_a_night_lacking_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "D").mkdir()
    (tmp_path / "D" / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    with pytest.raises(SystemExit, match=r"lacks canonical CSV files: .*settlement\.csv"):
        peer("common").night_from_arguments([str(tmp_path / "D")])


def test_a_checksum_missing_a_count_is_refused() -> None:
    incomplete = {"settlement": {"pairs": 1, "agree": 1, "differ": 0, "left_only": 0}}
    with pytest.raises(SystemExit, match="settlement counts"):
        peer("common").emit("floor", incomplete)
