"""The paypal profile (STL): every shared sample (golden figures) and one tiny file per rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.shared import shared
from walletrecon.errors import InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, enforce_totals, read_profile

SAMPLES = shared("samples", "paypal")
SPEC = ProfileSpec(source="settlement", display="stl.csv")
SH = '"SH","2026/01/06 00:00:00 -0800","2026/01/06 23:59:59 -0800","ACCT"'
CH = (
    '"CH","Transaction ID","Invoice ID","PayPal Reference ID","PayPal Reference ID Type",'
    '"Transaction Event Code","Transaction Initiation Date","Transaction Completion Date",'
    '"Transaction Debit or Credit","Gross Transaction Amount","Gross Transaction Currency",'
    '"Fee Debit or Credit","Fee Amount","Fee Currency","Custom Field"'
)
WHEN = "2026/01/06 04:26:31 -0800"


def _sb(
    txn: str, code: str, dc: str, gross: str, ccy: str, fee: str = "", invoice: str = "I1"
) -> str:
    fee_dc = "DR" if fee else ""
    fee_ccy = ccy if fee else ""
    return (
        f'"SB","{txn}","{invoice}","","TXN","{code}",{WHEN},{WHEN},"{dc}",{gross},"{ccy}",'
        f'"{fee_dc}",{fee},"{fee_ccy}",""'
    )


PAYMENT = _sb("T1", "T0006", "CR", "2200", "USD", "360")


def _read(tmp_path: Path, *lines: str, spec: ProfileSpec = SPEC) -> ProfileResult:
    path = tmp_path / "stl.csv"
    path.write_text("\n".join(lines))
    return read_profile(path, "paypal", spec)


def _rows(result: ProfileResult) -> list[dict[str, object]]:
    return pl.from_arrow(result.rows).to_dicts()  # type: ignore[union-attr]


# Worked out by hand from the SB lines (`grep -c '^"\?SB'`, T-code in field 6, amounts in minor
# units divided by 100): rows, rejected, control (SB control lines + SF/SC/RF/RC/FF trailers),
# net per gross currency, and the order of `holds` of the control totals.
GOLDEN = {
    # T1107 DR 1500 BRL, fee CR 338 -> net -11.62 BRL, converted by the T0200 pair to -2.11 USD.
    "smashpig_STL_brl_refund_bom.csv": (1, 0, 2, {"BRL": Decimal("-2.11")}, [None, None, None]),
    # T1201 DR 300 USD; T0106 fee line is control.
    "smashpig_STL_chargeback_with_fee_wide_header.csv": (
        1, 0, 1, {"USD": Decimal("-3.00")}, [None, None],
    ),
    # T0003 CR 2200 BRL fee DR 360, converted to 3.27 USD by the pair.
    "smashpig_STL_currency_convert.csv": (1, 0, 2, {"BRL": Decimal("3.27")}, [None, None, None]),
    # AUD: 52.00-2.25 + 5.35-0.75; GBP: 8.34-0.87 and refund -1.34+0.47; T0400 and 4 trailers
    # control. Its SF/RF fee figures are swapped (GBP) or doubled (AUD) and the GBP gross debits
    # leave out the T0400 withdrawal: 6 of 8 figures per footer fail.
    "smashpig_STL_multi_currency.csv": (
        4, 0, 5, {"AUD": Decimal("54.35"), "GBP": Decimal("6.60")},
        [True, False, False, False, True, True, False, False] * 2 + [None],
    ),
    # HKD 104.00-5.56, USD 15.60-0.52, BRL 17.00-3.44 converted to 2.41 USD; no BRL footer.
    "wmf_STL-20260106.01.009_full_trailers.csv": (
        3, 0, 9, {"HKD": Decimal("98.44"), "USD": Decimal("15.08"), "BRL": Decimal("2.41")},
        [True] * 16 + [None, True, True, True],
    ),
}  # fmt: skip


def test_every_sample_has_a_golden_entry() -> None:
    assert SAMPLES.is_dir(), f"shared samples missing: {SAMPLES}"
    assert sorted(p.name for p in SAMPLES.glob("*.csv")) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_sample_golden_figures(name: str) -> None:
    rows, rejected, control, nets, holds = GOLDEN[name]
    result = read_profile(SAMPLES / name, "paypal", ProfileSpec(source="settlement"))
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (
        rows,
        rejected,
        control,
    )
    found: dict[str, Decimal] = {}
    for row in _rows(result):
        found[str(row["currency"])] = found.get(str(row["currency"]), Decimal(0)) + Decimal(
            str(row["net_amount"])
        )
    assert found == nets
    assert [total.holds for total in result.totals] == holds


def test_sample_with_broken_footers_stops_under_enforce() -> None:
    path = SAMPLES / "smashpig_STL_multi_currency.csv"
    result = read_profile(path, "paypal", SPEC)
    with pytest.raises(InputError, match=r"footer, line 8: gross debits .*1\.34, found 2\.34"):
        enforce_totals(result, SPEC)


def test_payment_maps_every_column(tmp_path: Path) -> None:
    result = _read(tmp_path, SH, CH, PAYMENT)
    assert _rows(result) == [
        {
            "settlement_id": "T1/T0006", "gateway": "paypal", "gateway_ref": "T1",
            "merchant_ref": "I1", "record_type": "payment", "gross_amount": "22",
            "fee_amount": "3.6", "net_amount": "18.4", "currency": "USD",
            "settled_at": "2026-01-06T04:26:31-08:00", "payout_id": None, "net_currency": None,
            "exchange_rate": None, "origin_row": 3, "origin_element": None,
        }
    ]  # fmt: skip
    assert result.records == 1


def test_bom_crlf_quoting_padding_and_short_lines(tmp_path: Path) -> None:
    unquoted = PAYMENT.replace('"', "") + ",,,,"
    short = PAYMENT.removesuffix(',""')
    path = tmp_path / "stl.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([SH, CH, unquoted, short]).encode())
    rows = _rows(read_profile(path, "paypal", SPEC))
    assert [row["net_amount"] for row in rows] == ["18.4", "18.4"]


@pytest.mark.parametrize(
    ("code", "dc", "outcome"),
    [
        ("T0000", "CR", "payment"),
        ("T0013", "CR", "payment"),
        ("T1107", "DR", "refund"),
        ("T1201", "DR", "chargeback"),
        ("T1202", "DR", "chargeback"),
        ("T0106", "DR", "control:fee"),
        ("T0113", "DR", "control:fee"),
        ("T0200", "DR", "control:conversion"),
        ("T0400", "DR", "control:withdrawal"),
        ("T1202", "CR", "rejected"),
        ("T0006", "DR", "rejected"),
        ("T1107", "CR", "rejected"),
        ("T1503", "DR", "control:hold"),
        ("T0300", "CR", "rejected"),
        ("T1106", "DR", "rejected"),
    ],
)
def test_t_code_table(tmp_path: Path, code: str, dc: str, outcome: str) -> None:
    result = _read(tmp_path, SH, CH, _sb("T9", code, dc, "100", "USD"))
    if outcome == "rejected":
        (rejection,) = result.rejected
        assert rejection.column == "Transaction Event Code" and code in rejection.reason
    elif outcome.startswith("control:"):
        assert [line.kind for line in result.control] == [outcome.removeprefix("control:")]
    else:
        assert _rows(result)[0]["record_type"] == outcome


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("2200", "22.00", "Gross Transaction Amount"),
        ("2200", "-2200", "Gross Transaction Amount"),
        ("360", "3e2", "Fee Amount"),
        ('"USD",""', '"XYZ",""', "Gross Transaction Currency"),
        ('"CR"', '"C"', "Transaction Debit or Credit"),
        (f'{WHEN},"CR"', '2026-01-06 04:26:31,"CR"', "Transaction Completion Date"),
    ],
)
def test_bad_field_rejects_naming_line_and_column(
    tmp_path: Path, field: str, value: str, column: str
) -> None:
    line = PAYMENT.replace(field, value, 1)
    if field == '"USD",""':
        line = PAYMENT.replace('"USD"', '"XYZ"')
    result = _read(tmp_path, SH, CH, line)
    (rejection,) = result.rejected
    assert (rejection.row, rejection.column, rejection.raw) == (3, column, line)
    assert "expected" in rejection.reason


def test_fee_credited_back_on_a_refund_shows_in_the_net(tmp_path: Path) -> None:
    refund = _sb("R1", "T1107", "DR", "1500", "BRL").replace('"",,""', '"CR",338,"BRL"')
    (row,) = _rows(_read(tmp_path, SH, CH, refund))
    assert (row["gross_amount"], row["fee_amount"], row["net_amount"]) == ("15", "0", "-11.62")


def test_conversion_pair_sets_net_currency_rate_and_converted_fee(tmp_path: Path) -> None:
    payment = _sb("P1", "T0003", "CR", "2200", "BRL", "360", invoice="7233.6")
    legs = [
        _sb("C1", "T0200", "DR", "1840", "BRL", invoice="7233.6"),
        _sb("C2", "T0200", "CR", "327", "USD", invoice="7233.6"),
    ]
    other = _sb("P2", "T0003", "CR", "100", "BRL", invoice="other")
    result = _read(tmp_path, SH, CH, payment, *legs, other)
    first, second = _rows(result)
    converted = (first["net_currency"], first["net_amount"], first["fee_amount"])
    assert converted == ("USD", "3.27", "0.64")
    assert first["exchange_rate"] == "0.177717391304348"
    assert (second["net_currency"], second["exchange_rate"]) == (None, None)
    assert [line.kind for line in result.control] == ["conversion", "conversion"]


@pytest.mark.parametrize("interleaved", [False, True])
def test_conversion_pairs_of_one_invoice_go_one_to_one_in_file_order(
    tmp_path: Path, interleaved: bool
) -> None:
    # Two payments of one invoice with the same net, each converted at its own rate.
    first = _sb("P1", "T0003", "CR", "2000", "EUR", "100", invoice="SUB")
    second = _sb("P2", "T0003", "CR", "2000", "EUR", "100", invoice="SUB")
    pairs = [
        [_sb(f"C{n}", "T0200", "DR", "1900", "EUR", invoice="SUB"), usd]
        for n, usd in ((1, _sb("C2", "T0200", "CR", "2090", "USD", invoice="SUB")),
                       (3, _sb("C4", "T0200", "CR", "2071", "USD", invoice="SUB")))
    ]  # fmt: skip
    lines = (
        [first, *pairs[0], second, *pairs[1]]
        if interleaved
        else [first, second, *pairs[0], *pairs[1]]
    )
    rows = _rows(_read(tmp_path, SH, CH, *lines))
    found = [(r["net_currency"], r["net_amount"], r["exchange_rate"]) for r in rows]
    assert found == [("USD", "20.9", "1.1"), ("USD", "20.71", "1.09")]


def test_conversion_pair_of_another_amount_leaves_the_transaction_alone(tmp_path: Path) -> None:
    payment = _sb("P1", "T0003", "CR", "2200", "BRL", "360", invoice="X")
    legs = [
        _sb("C1", "T0200", "DR", "1000", "BRL", invoice="X"),
        _sb("C2", "T0200", "CR", "180", "USD", invoice="X"),
    ]
    (row,) = _rows(_read(tmp_path, SH, CH, payment, *legs))
    assert (row["net_currency"], row["net_amount"]) == (None, "18.4")


def test_conversion_pair_without_its_transaction_is_only_control(tmp_path: Path) -> None:
    legs = [
        _sb("C1", "T0200", "DR", "1840", "BRL", invoice="X"),
        _sb("C2", "T0200", "CR", "327", "USD", invoice="X"),
    ]
    result = _read(tmp_path, SH, CH, *legs, PAYMENT)
    assert _rows(result)[0]["net_currency"] is None and len(result.control) == 2


def _trailers(gross_cr: int = 2200, fee_dr: int = 360, count: int = 1) -> list[str]:
    footer = f'"USD",{gross_cr},0,0,{fee_dr},"CR",0,"CR",0,"CR",0,"CR",0,"CR",0,"CR",0,{count}'
    return [f'"SF",{footer}', f'"SC",{count}', f'"RF",{footer}', f'"RC",{count}', f'"FF",{count}']


def test_trailers_checked_and_counted_as_control(tmp_path: Path) -> None:
    result = _read(tmp_path, SH, CH, PAYMENT, *_trailers())
    assert all(total.holds for total in result.totals) and len(result.totals) == 11
    assert [line.kind for line in result.control] == ["SF", "SC", "RF", "RC", "FF"]
    assert result.records == 6


def test_sf_total_that_does_not_hold_stops_or_warns(tmp_path: Path) -> None:
    result = _read(tmp_path, SH, CH, PAYMENT, *_trailers(gross_cr=2300))
    broken = [t for t in result.totals if t.holds is False]
    assert [(t.scope, t.check, t.expected, t.found) for t in broken] == [
        ("section footer, line 4", "gross credits = sum of SB lines", "23.00", "22.00"),
        ("report footer, line 6", "gross credits = sum of SB lines", "23.00", "22.00"),
    ]
    with pytest.raises(InputError, match=r"stl\.csv: section footer, line 4: gross credits"):
        enforce_totals(result, SPEC)
    warn = ProfileSpec(source="settlement", display="stl.csv", control_totals="warn")
    assert len(enforce_totals(result, warn)) == 2


def test_record_count_that_does_not_hold(tmp_path: Path) -> None:
    result = _read(tmp_path, SH, CH, PAYMENT, *_trailers(count=2))
    assert [t.scope for t in result.totals if t.holds is False] == [
        "section 1 (SC, line 5)", "report (RC, line 7)", "file (FF, line 8)",
    ]  # fmt: skip


def test_truncated_file_rejects_the_cut_line_and_warns_on_the_missing_count(tmp_path: Path) -> None:
    result = _read(tmp_path, SH, CH, PAYMENT, PAYMENT[:60])
    (rejection,) = result.rejected
    assert rejection.row == 4 and "truncated line" in rejection.reason
    unchecked = [t for t in result.totals if t.holds is None]
    assert any("no RC or FF trailer" in t.note for t in unchecked)


def test_malformed_trailer_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"stl.csv: line 4: SC field 2: expected a whole number"):
        _read(tmp_path, SH, CH, PAYMENT, '"SC",one')


def test_structure_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="line 2: SB record before any CH"):
        _read(tmp_path, SH, PAYMENT)
    with pytest.raises(InputError, match=r"line 3: expected a record type .* found 'XX'"):
        _read(tmp_path, SH, CH, '"XX",1')
    with pytest.raises(InputError, match="line 2: the CH column header lacks 'Fee Amount'"):
        _read(tmp_path, SH, CH.replace('"Fee Amount"', '"Fee"'), PAYMENT)
    with pytest.raises(InputError, match="line 1: no RH or SH header"):
        _read(tmp_path, "")
    with pytest.raises(InputError, match="line 3: a quote opens a field that the line does not"):
        _read(tmp_path, SH, CH, PAYMENT.replace('"I1"', '"I\n1"'))
    with pytest.raises(InputError, match="line 3: a quote opens a field that the line does not"):
        _read(tmp_path, SH, CH, PAYMENT.replace('"I1"', '"I1'), PAYMENT)


def test_options_and_encoding(tmp_path: Path) -> None:
    major = ProfileSpec(source="settlement", display="stl.csv", options={"amounts": "major"})
    with pytest.raises(InputError, match="always writes minor units"):
        _read(tmp_path, SH, CH, PAYMENT, spec=major)
    path = tmp_path / "stl.csv"
    path.write_bytes("\n".join([SH, CH, PAYMENT.replace("I1", "Ü")]).encode("latin-1"))
    with pytest.raises(InputError, match="byte offset"):
        read_profile(path, "paypal", SPEC)


def test_every_currency_in_hundredths_and_gateway_name(tmp_path: Path) -> None:
    # PayPal's specification: "100,00 yen and $100.00 USD are both represented as 10000".
    spec = ProfileSpec(source="settlement", gateway="paypal_eu")
    (row,) = _rows(_read(tmp_path, SH, CH, _sb("K", "T0006", "CR", "1250", "KWD"), spec=spec))
    assert (row["gross_amount"], row["gateway"]) == ("12.5", "paypal_eu")
    (row,) = _rows(_read(tmp_path, SH, CH, _sb("J", "T0006", "CR", "10000", "JPY")))
    assert row["gross_amount"] == "100"
    result = _read(tmp_path, SH, CH, _sb("J", "T0006", "CR", "10050", "JPY"))
    (rejection,) = result.rejected
    assert rejection.column == "Gross Transaction Amount"
    assert "10050 is hundredths of JPY, which has no such fraction" in rejection.reason


# --- variants of real senders -------------------------------------------------------------------


def test_tab_delimited_report_with_report_and_file_headers(tmp_path: Path) -> None:
    # PayPal delivers the STL comma-separated or tab-delimited. RH, FH, SH, CH; a T0006 payment of
    # 22.00 with fee 3.60 (net 18.40) and a T1107 refund of 5.00 (net -5.00); SF/RF: credits
    # 2200, debits 500, fee debits 360; SC/RC/FF 2. Records: 2 SB + 5 trailers = 7; net 13.40.
    lines = [
        'RH,2026/01/07 01:13:39 -0800,"A",ACCT,011',
        "FH,01",
        SH,
        CH,
        PAYMENT,
        _sb("T2", "T1107", "DR", "500", "USD"),
        '"SF","USD",2200,500,0,360,"CR",0,"CR",0',
        '"SC",2',
        '"RF","USD",2200,500,0,360,"CR",0,"CR",0',
        '"RC",2',
        '"FF",2',
    ]
    result = _read(tmp_path, *[line.replace(",", "\t") for line in lines])
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (2, 0, 5)
    assert sum(Decimal(str(r["net_amount"])) for r in _rows(result)) == Decimal("13.40")
    assert result.totals and all(total.holds for total in result.totals)


def test_fee_reversals_and_holds_are_control(tmp_path: Path) -> None:
    # T0300 funding 50.00 CR stays rejected (the sample nights write wallet top-ups so), as does
    # T1106 (a payment reversed by PayPal); T1108 fee reversal 0.30 CR, T1503 hold 7.00 DR,
    # T2104 reserve release 7.00 CR, T1110 dispute hold 10.00 DR are control.
    # Gross credits 5000 + 30 + 700 = 5730, debits 700 + 1000 + 1000 = 2700.
    body = [
        _sb("F1", "T0300", "CR", "5000", "USD"),
        _sb("F2", "T1108", "CR", "30", "USD"),
        _sb("F3", "T1503", "DR", "700", "USD"),
        _sb("F4", "T2104", "CR", "700", "USD"),
        _sb("F5", "T1110", "DR", "1000", "USD"),
        _sb("F6", "T1106", "DR", "1000", "USD"),
    ]
    trailers = ['"SF","USD",5730,2700,0,0', '"SC",6', '"RF","USD",5730,2700,0,0', '"RC",6']
    result = _read(tmp_path, SH, CH, *body, *trailers, '"FF",6')
    kinds = [line.kind for line in result.control][:4]
    assert kinds == ["fee", "hold", "hold", "hold"]
    assert [r.row for r in result.rejected] == [3, 8]
    assert "T1106 with DR has no settlement record type" in result.rejected[1].reason
    assert all(total.holds for total in result.totals)


def test_convert_reads_a_tab_delimited_report_and_stops_on_a_wrong_footer(tmp_path: Path) -> None:
    # `walletrecon convert` on a tab-delimited STL: the payment (22.00 - 3.60) comes out as a
    # row; a section footer claiming 2300 gross credits (the SB line says 2200) stops it (exit 2)
    # naming the file, the footer's line and both figures, unless control totals only warn.
    from click.testing import CliRunner

    from walletrecon.cli import main

    lines = [SH, CH, PAYMENT, '"SF","USD",2200,0,0,360', '"SC",1', '"FF",1']
    path = tmp_path / "STL-20260106.01.009.TAB"
    path.write_text("\n".join(line.replace(",", "\t") for line in lines) + "\n")
    good = CliRunner().invoke(main, ["convert", str(path), "--profile", "paypal"])
    assert good.exit_code == 0, good.stderr
    assert "T1/T0006,paypal,T1,I1,payment,22,3.6,18.4,USD," in good.stdout
    path.write_text(path.read_text().replace("2200\t0\t0", "2300\t0\t0"))
    bad = CliRunner().invoke(main, ["convert", str(path), "--profile", "paypal"])
    assert bad.exit_code == 2
    assert path.name in bad.stderr and "section footer, line 4: gross credits" in bad.stderr
    assert "expected 23.00, found 22.00" in bad.stderr
    args = ["convert", str(path), "--profile", "paypal", "--option", "control_totals=warn"]
    assert CliRunner().invoke(main, args).exit_code == 0
