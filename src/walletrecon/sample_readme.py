"""A README for a generated data set: which rows exercise which break, from its truth file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl

EXAMPLES_PER_TYPE = 3

HEADER = """# Sample data

A small multi-night data set {made_as}, made by

    walletrecon sample --out {folder} --days {days} --seed {seed} --rows {rows} --formats {formats}

`make run` reconciles it night after night into `{run_out}`. `inbox/` holds one folder per business
date; `walletrecon.toml` is its configuration (time zone Asia/Shanghai, fee schedules for
`adyen` and `stripe`); `truth.csv` lists every break injected on purpose with the first night it
must be reported, every deliberately bad row (`rejected`), every identical re-delivery
(`redelivered`) and every ledger entry delivered again the next night with its status moved
forward (`updated`: pending to succeeded or failed, succeeded to reversed). Nothing else is a
break: clean rows and updates produce no discrepancy.

{formats_text}

## What the truth file holds

| type | rows | first due | examples (source / row id: what was done) |
|---|---|---|---|
"""


#: Per ``--formats``: how the data set is described, where ``make run`` writes, which formats.
FORMATS: dict[str, tuple[str, str, str]] = {
    "canonical": ("in the canonical profile", "out/", "Every source is canonical CSV."),
    "mixed": (
        "in the canonical profile",
        "out/",
        "Formats exercised: `ledger.csv.gz` on the second night, `settlement.parquet` on the "
        "third, a\nUTF-8 byte-order mark on one night's `receipts.csv`, timestamps with "
        "`+08:00`, `Z` and no offset.",
    ),
    "real": (
        "as gateways, banks and merchants deliver it",
        "out/real_formats/",
        textwrap.fill(
            "Formats exercised: settlement as Adyen Settlement Details Reports, Stripe itemized "
            "payout reconciliation reports, PayPal Settlement Reports (STL) and the local bank "
            "rail's own semicolon-separated clearing export (wallet top-ups and withdrawals, "
            "read by the `mapped` profile); bank lines as camt.053 (CNY), BAI2 (USD) and MT940 "
            "(JPY, KWD); receipts as `.xlsx` spreadsheets and GB18030 CSV with Chinese headers. "
            "Ledger and balances are the wallet's own canonical CSV. The `[[inputs]]` tables of "
            "`walletrecon.toml` say which profile reads which file. Ids in `truth.csv` are those "
            "the readers give: an Adyen line is `PSP/Type/Modification Reference`, an Adyen "
            "payout `batch N, WalletreconWallet`, a PayPal line `Transaction ID/T-code`, an "
            "MT940 line `statement:position`, a BAI2 line `account:reference`.",
            width=96,
            break_on_hyphens=False,
        ),
    ),
}


def write_readme(out_dir: Path, *, days: int, seed: int, rows: int, formats: str = "mixed") -> Path:
    """Write ``README.md`` beside ``truth.csv`` in a generated data set."""
    truth = pl.read_csv(out_dir / "truth.csv", infer_schema=False)
    made_as, run_out, formats_text = FORMATS[formats]
    header = HEADER.format(
        folder=out_dir.as_posix(),
        days=days,
        seed=seed,
        rows=rows,
        formats=formats,
        made_as=made_as,
        run_out=run_out,
        formats_text=formats_text,
    )
    lines = [header]
    for (kind,), group in sorted(truth.group_by("type"), key=lambda item: str(item[0][0])):
        ordered = group.sort("run_date", "row_id")
        examples = "; ".join(
            f"`{row['source']}` / `{row['row_id']}`: {row['note']}"
            for row in ordered.head(EXAMPLES_PER_TYPE).iter_rows(named=True)
        )
        lines.append(f"| `{kind}` | {group.height} | {ordered['run_date'][0]} | {examples} |\n")
    lines.append(
        "\nEvery row of every file ends in one outcome (matched, discrepancy, pending, rejected, "
        "re-delivered or superseded); updates are counted apart (`updated`); see "
        "`out/manifest/run_date=D/manifest.json` after `make run`.\n"
    )
    path = out_dir / "README.md"
    path.write_text("".join(lines), encoding="utf-8")
    return path
