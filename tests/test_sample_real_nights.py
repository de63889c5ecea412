"""Real-format nights (``walletrecon sample --formats real``) against their canonical twins.

The twin is the canonical data set written with the real-format rails; ``realise`` turns it into
Adyen, Stripe, PayPal and clearing reports, camt.053, MT940 and BAI2 statements, and xlsx and
GB18030 receipts. Both are run night after night through the CLI: the discrepancy rows must be
the same once the twin's ids are turned into the ids the readers give (the map ``realise``
returns), and each must score 1.0 against its truth.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tests.test_end_to_end import run_all
from walletrecon.cli import main
from walletrecon.config import load_config
from walletrecon.evaluate import score
from walletrecon.sample import generate
from walletrecon.sample.model import GATEWAYS, REAL_RAILS
from walletrecon.sample.real.nights import IdMap, realise

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
START = date(2026, 11, 16)
ZONE = "Asia/Shanghai"
#: Discrepancy columns that must agree between twins (evidence and explanation name files).
COMPARED = (
    "run_date",
    "type",
    "severity",
    "key",
    "account_id",
    "txn_id",
    "gateway_ref",
    "merchant_id",
    "payout_id",
    "bank_line_id",
    "currency",
    "expected_amount",
    "actual_amount",
    "difference",
    "first_seen",
)


def discrepancies(out: Path, ids: IdMap | None = None) -> pl.DataFrame:
    """Every night's discrepancy rows, ids in the readers' form, gateway_ref normalised."""
    frame = pl.read_parquet(out / "discrepancies" / "*" / "*.parquet").select(COMPARED)
    if ids is not None:
        frame = ids.translate(frame, ("key", "payout_id", "bank_line_id"))
    return frame.with_columns(
        pl.col("gateway_ref").str.strip_chars().str.to_uppercase(),
        pl.when(pl.col("type") == "duplicate")
        .then(pl.col("key").str.strip_chars().str.to_uppercase())
        .otherwise(pl.col("key"))
        .alias("key"),
    ).sort(COMPARED, nulls_last=True)


def outcomes(out: Path) -> dict[str, dict[str, int]]:
    """Outcome counts per source added up over the nights."""
    totals: dict[str, dict[str, int]] = {}
    for path in sorted((out / "manifest").glob("*/manifest.json")):
        for source, counts in json.loads(path.read_text())["outcomes"].items():
            mine = totals.setdefault(source, {})
            for name, value in counts.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    mine[name] = mine.get(name, 0) + value
    return totals


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "rows", "days"), [(3, 600, 4), (29, 1500, 5)])
def test_a_real_format_night_finds_exactly_the_breaks_of_its_canonical_twin(
    tmp_path: Path, seed: int, rows: int, days: int
) -> None:
    twin, real = tmp_path / "twin", tmp_path / "real"
    summary = generate(twin, days=days, seed=seed, rows=rows, start=START, rails=REAL_RAILS)
    ids = realise(twin, real, summary.dates, ZONE)
    assert run_all(twin, tmp_path / "twin-out") == [0] * days
    assert run_all(real, tmp_path / "real-out") == [0] * days

    expected = discrepancies(tmp_path / "twin-out", ids)
    found = discrepancies(tmp_path / "real-out")
    assert found.height > 50
    assert found.to_dicts() == expected.to_dicts()
    for data, out in ((twin, "twin-out"), (real, "real-out")):
        for item in score(data / "truth.csv", tmp_path / out):
            assert (item.type, item.recall, item.precision) == (item.type, 1.0, 1.0)

    twin_counts, real_counts = outcomes(tmp_path / "twin-out"), outcomes(tmp_path / "real-out")
    for source, counts in twin_counts.items():
        for name in ("rejected", "redelivered", "updated", "discrepancy", "matched", "pending"):
            assert real_counts[source][name] == counts[name], (source, name)
    # Payout lines and statement trailers are control records in the real files only.
    assert real_counts["settlement"]["control"] > 0 and real_counts["bank"]["control"] > 0
    assert twin_counts["settlement"]["control"] == 0


def test_the_real_rails_route_card_payments_to_three_gateways_and_funding_to_the_bank_rail(
    tmp_path: Path,
) -> None:
    generate(tmp_path, days=2, seed=5, rows=800, start=START, rails=REAL_RAILS)
    lines = pl.concat(
        pl.read_csv(path, infer_schema=False)
        for path in sorted((tmp_path / "inbox").glob("*/settlement.csv"))
    )
    by_type = lines.group_by("record_type").agg(pl.col("gateway").unique().sort())
    routes = dict(zip(by_type["record_type"], by_type["gateway"].to_list(), strict=True))
    assert routes["payment"] == ["adyen", "paypal", "stripe"]
    assert routes["topup"] == routes["withdrawal"] == ["bank_x"]
    paypal = lines.filter(pl.col("gateway") == "paypal")
    assert paypal.height > 0 and paypal["payout_id"].null_count() == paypal.height
    others = lines.filter(pl.col("gateway") != "paypal")
    assert others["payout_id"].null_count() == 0


def test_canonical_nights_never_use_the_paypal_rail(tmp_path: Path) -> None:
    generate(tmp_path, days=2, seed=5, rows=800, start=START)
    lines = pl.concat(
        pl.read_csv(path, infer_schema=False)
        for path in sorted((tmp_path / "inbox").glob("*/settlement.csv"))
    )
    assert set(lines["gateway"].unique()) == set(GATEWAYS) - {"paypal"}


def test_sample_formats_real_writes_every_format_and_the_configuration_that_reads_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "data"
    arguments = ["sample", "--out", str(out), "--days", "2", "--rows", "300", "--seed", "4"]
    result = CliRunner().invoke(main, [*arguments, "--formats", "real"])
    assert result.exit_code == 0, result.output
    night = out / "inbox" / (START + timedelta(days=1)).isoformat()
    names = sorted(path.relative_to(night).as_posix() for path in night.rglob("*.*"))
    assert names == [
        "balances.csv",
        "bank/bai2_20261117.bai",
        "bank/camt053_20261117.xml",
        "bank/mt940_20261117.sta",
        "ledger.csv",
        "receipts/merchant_receipts_20261117.xlsx",
        "receipts/merchant_receipts_cn_20261117.csv",
        "settlement/STL-20261117.01.R.CSV",
        "settlement/adyen_settlement_detail_report_20261117.csv",
        "settlement/bankx_clearing_20261117.csv",
        "settlement/stripe_payout_reconciliation_20261117.csv",
    ]
    assert not any(path.name.startswith(".") for path in out.iterdir())
    config = load_config(out / "walletrecon.toml")
    assert sorted(spec.profile for spec in config.inputs) == sorted(
        ["adyen", "stripe", "paypal", "mapped", "camt", "bai2", "mt940", "mapped", "mapped"]
    )
    assert "--formats real" in (out / "README.md").read_text()


def test_the_same_arguments_write_the_same_real_format_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        arguments = ["sample", "--out", str(tmp_path / name), "--days", "2", "--rows", "200"]
        assert CliRunner().invoke(main, [*arguments, "--formats", "real"]).exit_code == 0
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.*")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.*")}
    first.pop(Path("README.md"))
    second.pop(Path("README.md"))
    assert first == second


def test_the_committed_real_format_sample_finds_exactly_its_truth(tmp_path: Path) -> None:
    data = SAMPLE / "real_formats"
    assert run_all(data, tmp_path / "out") == [0] * 5
    for item in score(data / "truth.csv", tmp_path / "out"):
        assert (item.type, item.recall, item.precision) == (item.type, 1.0, 1.0)
    truth = pl.read_csv(data / "truth.csv", infer_schema=False)
    counts = outcomes(tmp_path / "out")
    for kind in ("rejected", "redelivered", "updated"):
        found = sum(source.get(kind, 0) for source in counts.values())
        assert found == truth.filter(pl.col("type") == kind).height > 0, kind
