"""The pandas peer: the relations' joins as pandas merges.

Reads the night's five CSV files as text (pyarrow engine), turns every amount into exact integer
ten-thousandths with pandas string operations (no float), and does each relation as one outer
merge with ``indicator=True``, which gives the pairs and the rows left on either side at once.
Runs in the separate environment bench/.venv-datacompy (pandas is not a project dependency).

    bench/.venv-datacompy/bin/python bench/peers/pandas_merge.py INBOX/D [INBOX/D-1]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from common import SCALE, SETTLED_TYPES, Night, emit, night_from_arguments

#: A plain decimal number: its sign, whole digits and at most SCALE fraction digits.
AMOUNT = rf"^\s*(?P<sign>[+-]?)(?P<whole>\d{{1,14}})(?:\.(?P<fraction>\d{{0,{SCALE}}}))?\s*$"
KEYS = ["account_id", "currency"]


def units(text: pd.Series) -> pd.Series:
    """Decimal strings as exact Int64 ten-thousandths; NA where the text is not a number."""
    parts = text.str.extract(AMOUNT)
    fraction = parts["fraction"].fillna("").str.ljust(SCALE, "0").astype("Int64")
    magnitude = parts["whole"].astype("Int64") * 10**SCALE + fraction
    return magnitude.where(parts["sign"] != "-", -magnitude)


def read(path: Path, columns: list[str], amounts: list[str]) -> pd.DataFrame:
    """The columns of a CSV file as text (empty fields as missing), amounts as ten-thousandths."""
    frame = pd.read_csv(
        path, usecols=columns, dtype="str", engine="pyarrow", keep_default_na=False, na_values=[""]
    )
    for name in amounts:
        frame[name] = units(frame[name])
    return frame


def tally(merged: pd.DataFrame, agree: pd.Series) -> dict[str, int]:
    """Counts from an outer merge with indicator: pairs (both), their agreement, the rest."""
    side = merged["_merge"]
    both = side == "both"
    agreed = int((agree.fillna(False).astype(bool) & both).sum())
    pairs = int(both.sum())
    return {
        "pairs": pairs,
        "agree": agreed,
        "differ": pairs - agreed,
        "left_only": int((side == "left_only").sum()),
        "right_only": int((side == "right_only").sum()),
    }


def settlement(ledger: pd.DataFrame, lines: pd.DataFrame) -> dict[str, int]:
    """Ledger entries against settlement lines by the normalised gateway_ref."""
    entries = ledger[ledger["entry_type"].isin(SETTLED_TYPES) & ledger["gateway_ref"].notna()]
    entries = pd.DataFrame(
        {
            "reference": entries["gateway_ref"].str.strip().str.lower(),
            "amount": entries["amount"].abs(),
            "currency": entries["currency"],
        }
    )
    settled = lines[lines["gateway_ref"].notna()]
    settled = pd.DataFrame(
        {
            "reference": settled["gateway_ref"].str.strip().str.lower(),
            "gross_amount": settled["gross_amount"],
            "line_currency": settled["currency"],
        }
    )
    merged = entries.merge(settled, on="reference", how="outer", indicator=True)
    agree = (merged["currency"] == merged["line_currency"]) & (
        merged["amount"] == merged["gross_amount"]
    )
    return tally(merged, agree)


def receipts(ledger: pd.DataFrame, received: pd.DataFrame) -> dict[str, int]:
    """Payment entries against merchant receipts by txn_id."""
    payments = ledger.loc[ledger["entry_type"] == "payment", ["txn_id", "amount", "currency"]]
    payments = payments.assign(amount=payments["amount"].abs())
    merged = payments.merge(
        received, on="txn_id", how="outer", suffixes=("", "_received"), indicator=True
    )
    agree = (merged["currency"] == merged["currency_received"]) & (
        merged["amount"] == merged["amount_received"]
    )
    return tally(merged, agree)


def payouts(lines: pd.DataFrame, bank: pd.DataFrame) -> dict[str, int]:
    """The night's payout sums against the bank lines whose reference names the payout."""
    sums = (
        lines[lines["payout_id"].notna()]
        .groupby(["payout_id", "currency"], as_index=False, dropna=False)["net_amount"]
        .sum()
    )
    crossed = sums.merge(bank, how="cross", suffixes=("", "_bank"))
    named = [
        str(payout).lower() in str(reference).lower()
        for payout, reference in zip(crossed["payout_id"], crossed["reference"], strict=True)
    ]
    pairs = crossed[pd.Series(named, index=crossed.index, dtype=bool)]
    agree = (pairs["currency"] == pairs["currency_bank"]) & (pairs["net_amount"] == pairs["amount"])
    agreed = int(agree.fillna(False).astype(bool).sum())
    paid_keys = pairs[["payout_id", "currency"]].drop_duplicates()
    paid = sums.merge(paid_keys, how="left", indicator=True)
    return {
        "pairs": len(pairs),
        "agree": agreed,
        "differ": len(pairs) - agreed,
        "left_only": int((paid["_merge"] == "left_only").sum()),
        "right_only": int((~bank["bank_line_id"].isin(pairs["bank_line_id"])).sum()),
    }


def balances(ledger: pd.DataFrame, reported: pd.DataFrame, opening: pd.DataFrame) -> dict[str, int]:
    """Reported balances against the opening balance plus the succeeded entries posted."""
    succeeded = ledger[(ledger["status"] == "succeeded") & ledger["posted_at"].notna()]
    posted = succeeded.groupby(KEYS, as_index=False, dropna=False)["amount"].sum()
    merged = posted.rename(columns={"amount": "posted"}).merge(
        reported, on=KEYS, how="outer", indicator=True
    )
    checked = merged[merged["_merge"] != "left_only"].merge(opening, on=KEYS, how="left")
    expected = checked["opening"].fillna(0) + checked["posted"].fillna(0)
    agree = (checked["balance"] == expected).fillna(False).astype(bool)
    return {
        "pairs": len(checked),
        "agree": int(agree.sum()),
        "differ": int((~agree).sum()),
        "left_only": int((merged["_merge"] == "left_only").sum()),
        "right_only": int((merged["_merge"] == "right_only").sum()),
    }


def reconcile(night: Night) -> dict[str, dict[str, int]]:
    """The checksum of one night."""
    ledger_columns = ["txn_id", "account_id", "entry_type", "amount", "currency", "status"]
    ledger = read(night.ledger, [*ledger_columns, "posted_at", "gateway_ref"], ["amount"])
    settlement_columns = ["gateway_ref", "gross_amount", "net_amount", "currency", "payout_id"]
    lines = read(night.settlement, settlement_columns, ["gross_amount", "net_amount"])
    received = read(night.receipts, ["txn_id", "amount", "currency"], ["amount"])
    bank = read(night.bank, ["bank_line_id", "amount", "currency", "reference"], ["amount"])
    reported = read(night.balances, [*KEYS, "balance"], ["balance"])
    opening = pd.DataFrame({"account_id": [], "currency": [], "opening": []})
    if night.previous_balances is not None:
        opening = read(night.previous_balances, [*KEYS, "balance"], ["balance"])
        opening = opening.rename(columns={"balance": "opening"})
    return {
        "settlement": settlement(ledger, lines),
        "receipts": receipts(ledger, received),
        "payouts": payouts(lines, bank),
        "balances": balances(ledger, reported, opening),
    }


if __name__ == "__main__":
    emit("pandas_merge", reconcile(night_from_arguments(sys.argv[1:])))
