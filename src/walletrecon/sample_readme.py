"""A README for a generated data set: which rows exercise which break, from its truth file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

EXAMPLES_PER_TYPE = 3

HEADER = """# Sample data

A small multi-night data set in the canonical profile, made by

    walletrecon sample --out {folder} --days {days} --seed {seed} --rows {rows} --mixed-formats

`make run` reconciles it night after night into `out/`. `inbox/` holds one folder per business
date; `walletrecon.toml` is its configuration (time zone Asia/Shanghai, fee schedules for
`adyen` and `stripe`); `truth.csv` lists every break injected on purpose with the first night it
must be reported, every deliberately bad row (`rejected`), every identical re-delivery
(`redelivered`) and every ledger entry delivered again the next night with its status moved
forward (`updated`: pending to succeeded or failed, succeeded to reversed). Nothing else is a
break: clean rows and updates produce no discrepancy.

Formats exercised: `ledger.csv.gz` on the second night, `settlement.parquet` on the third, a
UTF-8 byte-order mark on one night's `receipts.csv`, timestamps with `+08:00`, `Z` and no offset.

## What the truth file holds

| type | rows | first due | examples (source / row id: what was done) |
|---|---|---|---|
"""


def write_readme(out_dir: Path, *, days: int, seed: int, rows: int) -> Path:
    """Write ``README.md`` beside ``truth.csv`` in a generated data set."""
    truth = pl.read_csv(out_dir / "truth.csv", infer_schema=False)
    lines = [HEADER.format(folder=out_dir.name, days=days, seed=seed, rows=rows)]
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
