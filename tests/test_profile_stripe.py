"""The stripe profile: every shared Stripe sample, and one tiny inline file per rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.shared import shared
from walletrecon.errors import ConfigError, InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, enforce_totals, read_profile

SAMPLES = shared("samples", "stripe")
HEADER = (
    "balance_transaction_id,created,currency,gross,fee,net,reporting_category,source_id,"
    "automatic_payout_id\n"
)


def read(path: Path, **options: str) -> ProfileResult:
    spec = ProfileSpec("settlement", options=options, display=path.name)
    return read_profile(path, "stripe", spec)


def inline(tmp_path: Path, body: str, header: str = HEADER, **options: str) -> ProfileResult:
    path = tmp_path / "stripe.csv"
    path.write_text(header + body, encoding="utf-8")
    return read(path, **options)


def nets(result: ProfileResult) -> Decimal:
    return sum((Decimal(v) for v in result.rows.column("net_amount").to_pylist()), Decimal(0))


def counts(result: ProfileResult) -> tuple[int, int, int, int]:
    return result.rows.num_rows, len(result.rejected), len(result.control), result.records


def test_fivetran_table_in_minor_units() -> None:
    # awk -F, over the file (CR removed): 8 'charge' lines, gross 21130318, fee 648218 and
    # net 20482100 cents; one payout line (-18759) whose only line is the 19350 - 591 charge.
    result = read(SAMPLES / "fivetran_balance_transaction_table_minor_units.csv")
    assert counts(result) == (8, 0, 1, 9)
    assert nets(result) == Decimal("204821.00")
    assert result.rows.column("gateway_ref").to_pylist()[0] == "ch_0IDYghig6peNXzgDhuOFKdTS"
    assert result.rows.column("settled_at").to_pylist()[0] == "2021-01-25T17:17:15Z"
    assert [(t.expected, t.found, t.holds) for t in result.totals] == [
        ("-187.59", "-187.59", True),
        ("187.59", "187.59", True),
    ]


def test_dashboard_export_needs_a_reference_column() -> None:
    # Two lines: a 12.00 charge and a -0.77 refund; the export has no source/charge id column.
    path = SAMPLES / "hledger_balance_change_from_activity.csv"
    result = read(path)
    assert counts(result) == (0, 2, 0, 2)
    assert "gateway_ref: no value" in result.rejected[0].reason
    # The reason says which columns were looked for and what to set when the file has another.
    assert "payment_intent_id, charge_id, source_id, source" in result.rejected[0].reason
    assert "gateway_ref_column" in result.rejected[0].reason
    mapped = read(path, gateway_ref_column="balance_transaction_id")
    assert counts(mapped) == (2, 0, 0, 2)
    assert mapped.rows.column("gross_amount").to_pylist() == ["12.00", "0.77"]
    assert mapped.rows.column("net_amount").to_pylist() == ["12.00", "-0.77"]
    assert mapped.rows.column("record_type").to_pylist() == ["payment", "refund"]
    assert mapped.rows.column("currency").to_pylist() == ["USD", "USD"]


def test_smashpig_report_payout_row_disagrees_with_itself() -> None:
    # 7 lines: charge 24.05, refund -10, charge 10 (rows); 2 fees and the payout (control);
    # dispute_reversal (rejected). Lines of po_test123 net 23.05 = the payout's net; the payout
    # row's gross 24 - fee 0 is not its net 23.05.
    result = read(SAMPLES / "smashpig_itemized_payout_reconciliation.csv")
    assert counts(result) == (3, 1, 3, 7)
    assert nets(result) == Decimal("24.05")
    assert "dispute_reversal" in result.rejected[0].reason and result.rejected[0].row == 7
    assert [(t.check, t.holds) for t in result.totals] == [
        ("payout row gross - fee = net", False),
        ("sum of line nets = -payout net", True),
    ]
    with pytest.raises(InputError, match=r"expected 23\.05, found 24\.00"):
        enforce_totals(result, ProfileSpec("settlement", display="smashpig.csv"))
    warned = enforce_totals(result, ProfileSpec("settlement", control_totals="warn"))
    assert len(warned) == 1


def test_smashpig_customer_columns_and_wmf() -> None:
    # customer_cols: 2 charges (24.05 + 10) and a fee row; no payout row, so no totals.
    result = read(SAMPLES / "smashpig_itemized_payout_reconciliation_customer_cols.csv")
    assert counts(result) == (2, 0, 1, 3)
    assert nets(result) == Decimal("34.05") and result.totals == []
    # wmf: charge 24.05, refund -10, charge 10; fees carry no payout id: lines of po_test123 net
    # 24.05 against the payout's 23.05.
    wmf = read(SAMPLES / "wmf_itemized_payout_reconciliation.csv")
    assert counts(wmf) == (3, 0, 3, 6)
    assert [(t.expected, t.found, t.holds) for t in wmf.totals][1] == ("23.05", "24.05", False)


def test_refund_and_dispute_gross_positive_net_signed(tmp_path: Path) -> None:
    body = "t1,2026-01-30 10:00:00,eur,-10.00,0.50,-10.50,refund,re_1,\n"
    body += "t2,2026-01-30 10:00:00,EUR,-5,0,-5,dispute,du_1,\n"
    result = inline(tmp_path, body)
    assert result.rows.column("gross_amount").to_pylist() == ["10.00", "5"]
    assert result.rows.column("net_amount").to_pylist() == ["-10.50", "-5"]
    assert result.rows.column("record_type").to_pylist() == ["refund", "chargeback"]
    assert result.rows.column("currency").to_pylist() == ["EUR", "EUR"]


def test_minor_amounts_by_option(tmp_path: Path) -> None:
    result = inline(
        tmp_path, "t1,2026-01-30 10:00:00,JPY,1250,0,1250,charge,ch_1,\n", amounts="minor"
    )
    assert result.rows.column("gross_amount").to_pylist() == ["1250"]
    usd = inline(tmp_path, "t1,2026-01-30 10:00:00,usd,1250,5,1245,charge,ch_1,\n", amounts="minor")
    assert usd.rows.column("net_amount").to_pylist() == ["12.45"]
    bad = inline(tmp_path, "t1,2026-01-30 10:00:00,usd,12.5,0,12.5,charge,ch_1,\n", amounts="minor")
    assert bad.rejected[0].reason == "gross: '12.5' is not a whole number of minor units"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("t1,2026-01-30 10:00:00,USD,1O.00,0,10,charge,ch_1,", "gross: '1O.00' is not a decimal"),
        (
            "t1,2026-01-30 10:00:00,USD,10,1,10,charge,ch_1,",
            "net: '10' is not gross - fee (10 - 1)",
        ),
        ("t1,2026-01-30 10:00:00,USD,-10,0,-10,charge,ch_1,", "gross: '-10' is negative"),
        ("t1,2026-01-30 10:00:00,USD,10,0,10,refund,re_1,", "gross: '10' is positive"),
        (
            "t1,2026-02-30 10:00:00,USD,10,0,10,charge,ch_1,",
            "created: '2026-02-30 10:00:00' is not",
        ),
        ("t1,2026-01-30 10:00:00,XXY,10,0,10,charge,ch_1,", "currency: 'XXY' is not an ISO 4217"),
        (
            "t1,2026-01-30 10:00:00,USD,10,0,10,payment_reversal,ch_1,",
            "'payment_reversal' is not a",
        ),
        (",2026-01-30 10:00:00,USD,10,0,10,charge,ch_1,", "balance_transaction_id: empty"),
        ("t1,2026-01-30 10:00:00,USD,10,0,10,,ch_1,", "reporting_category: '' is not a type"),
        (
            "t1,2026-01-30 10:00:00,USD,10.000,0.30,5.00,charge,ch_1,",
            "net: '5.00' is not gross - fee (10.000 - 0.30)",
        ),
        (
            "t1,2026-01-30 10:00:00,USD,-5.000,0.00,-9.00,refund,re_1,",
            "net: '-9.00' is not gross - fee (-5.000 - 0.00)",
        ),
    ],
)
def test_bad_lines_are_rejected_with_column_and_line(
    tmp_path: Path, line: str, reason: str
) -> None:
    result = inline(tmp_path, "t0,2026-01-30 10:00:00,USD,1,0,1,charge,ch_0,\n" + line + "\n")
    assert counts(result) == (1, 1, 0, 2)
    assert result.rejected[0].row == 3 and reason in result.rejected[0].reason
    assert result.rejected[0].raw == line


def test_payout_sum_checked_against_minus_payout(tmp_path: Path) -> None:
    body = "t1,2026-01-30 10:00:00,USD,10,1,9,charge,ch_1,po_1\n"
    body += "t2,2026-01-30 10:00:00,USD,-0.5,0,-0.5,fee,,po_1\n"
    body += "t3,2026-01-31 00:00:00,USD,-8.5,0,-8.5,payout,po_1,po_1\n"
    result = inline(tmp_path, body)
    assert counts(result) == (1, 0, 2, 3)
    assert [t.holds for t in result.totals] == [True, True]
    broken = inline(tmp_path, body.replace("-8.5,0,-8.5", "-9,0,-9"))
    assert [(t.expected, t.found, t.holds) for t in broken.totals][1] == ("9.00", "8.50", False)
    alone = inline(tmp_path, "t3,2026-01-31 00:00:00,USD,-8.5,0,-8.5,payout,po_1,po_1\n")
    assert alone.totals[1].holds is None and "no line" in alone.totals[1].note


def test_a_positive_payout_of_lines_below_zero_is_minus_their_sum(tmp_path: Path) -> None:
    # Stripe debits the bank (a positive payout) when a payout's lines add up below zero.
    body = "t1,2026-01-30 10:00:00,USD,-10,0,-10,refund,re_1,po_2\n"
    body += "t2,2026-01-30 10:00:00,USD,4,0.5,3.5,charge,ch_2,po_2\n"
    body += "t3,2026-01-31 00:00:00,USD,6.5,0,6.5,payout,po_2,po_2\n"
    result = inline(tmp_path, body)
    assert [(t.expected, t.found, t.holds, t.note) for t in result.totals][1] == (
        "-6.50",
        "-6.50",
        True,
        "",
    )


def test_merchant_ref_timezone_and_gateway_ref_columns(tmp_path: Path) -> None:
    header = "id,created,currency,gross,fee,net,type,payment_intent_id,charge_id,"
    header += "payment_metadata[txn_id]\n"
    body = "t1,2026-07-01 10:00:00,EUR,10,0,10,charge,,ch_9,W-1\n"
    result = inline(
        tmp_path,
        body,
        header,
        merchant_ref_column="payment_metadata[txn_id]",
        timezone="Europe/Berlin",
        amounts="major",
    )
    row = result.rows.to_pylist()[0]
    assert row["merchant_ref"] == "W-1" and row["gateway_ref"] == "ch_9"
    assert row["settled_at"] == "2026-07-01T10:00:00+02:00" and row["origin_row"] == 2


def test_unix_seconds_are_instants_whatever_the_timezone_option(tmp_path: Path) -> None:
    header = "id,created,currency,gross,fee,net,type,charge_id\n"
    body = "t1,1763630102,EUR,10,0,10,charge,ch_9\n"
    result = inline(tmp_path, body, header, timezone="Asia/Tokyo", amounts="major")
    assert result.rows.to_pylist()[0]["settled_at"] == "2025-11-20T09:15:02Z"


def test_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"stripe.csv: line 1: expected .*net"):
        inline(
            tmp_path,
            "t1,2026-01-30,USD,1,0\n",
            header="balance_transaction_id,created,currency,gross,fee\n",
        )
    with pytest.raises(ConfigError, match="unknown option"):
        inline(tmp_path, "", colour="red")
    path = tmp_path / "latin.csv"
    path.write_bytes(
        HEADER.encode() + "t1,2026-01-30 10:00:00,USD,1,0,1,charge,ch_é,\n".encode("latin-1")
    )
    with pytest.raises(InputError, match=r"latin.csv: byte offset \d+"):
        read(path)
    with pytest.raises(ConfigError, match="timezone 'Nowhere' is not"):
        inline(tmp_path, "", timezone="Nowhere")
    assert counts(inline(tmp_path, "")) == (0, 0, 0, 0)
    short = inline(tmp_path, "t1,2026-01-30 10:00:00,USD,1,0,1,charge\n")
    assert counts(short) == (0, 1, 0, 1)
    assert (
        short.rejected[0].reason == "row: expected 9 fields, found 7" and short.rejected[0].row == 2
    )


def test_payout_row_without_payout_column_is_found_by_its_source(tmp_path: Path) -> None:
    body = "t1,2026-01-30 10:00:00,USD,10,1,9,charge,ch_1,po_7\n"
    body += "t2,2026-01-31 00:00:00,USD,-9,0,-9,payout,po_7,\n"
    result = inline(tmp_path, body)
    assert [(t.scope, t.holds) for t in result.totals][1] == ("payout po_7 (line 3)", True)


# --- variants of real senders -------------------------------------------------------------------

ITEMIZED = (
    "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,"
    "payment_intent_id,charge_id,automatic_payout_id\n"
)


def test_partial_capture_reversal_is_counted_against_its_charge(tmp_path: Path) -> None:
    # Authorised 100.00, captured 60.00: the charge line (100.00 - 3.20 = 96.80) and the release
    # of the uncaptured 40.00 fold into one payment row 60.00 - 3.20 = 56.80; the refund (-5.00)
    # stays a row; the payout row pays 96.80 - 40.00 - 5.00 = 51.80. 4 records: 2 rows, 2 control.
    body = (
        "txn_1,2026-01-05 10:00:00,usd,100.00,3.20,96.80,charge,pi_1,ch_1,po_1\n"
        "txn_2,2026-01-05 10:00:01,usd,-40.00,0.00,-40.00,partial_capture_reversal,pi_1,ch_1,po_1\n"
        "txn_3,2026-01-05 11:00:00,usd,-5.00,0.00,-5.00,refund,pi_1,ch_1,po_1\n"
        "po_1,2026-01-06 00:00:00,usd,-51.80,0.00,-51.80,payout,,,po_1\n"
    )
    result = inline(tmp_path, body, ITEMIZED)
    assert counts(result) == (2, 0, 2, 4)
    assert result.rows.column("gross_amount").to_pylist() == ["60.00", "5.00"]
    assert result.rows.column("fee_amount").to_pylist() == ["3.20", "0.00"]
    assert nets(result) == Decimal("51.80")
    assert [c.kind for c in result.control] == ["partial_capture_reversal", "payout"]
    assert all(total.holds for total in result.totals)
    # Without its charge in the file the reversal is rejected, naming the reference.
    alone = inline(tmp_path, body.splitlines(keepends=True)[1], ITEMIZED)
    assert counts(alone) == (0, 1, 0, 1)
    assert "needs exactly one charge or payment line with gateway_ref 'pi_1'" in (
        alone.rejected[0].reason
    )


def test_failed_refunds_and_charges_are_rejected_by_name(tmp_path: Path) -> None:
    # A failed refund returns 5.00, a failed ACH charge takes back 20.00: no canonical type.
    body = (
        "txn_4,2026-01-05 10:00:00,usd,5.00,0.00,5.00,refund_failure,pi_2,ch_2,po_1\n"
        "txn_5,2026-01-05 10:00:00,usd,-20.00,0.00,-20.00,charge_failure,pi_3,py_3,po_1\n"
        "txn_6,2026-01-05 10:00:00,usd,-1.00,0.00,-1.00,unreconciled_customer_funds,,,po_1\n"
    )
    result = inline(tmp_path, body, ITEMIZED)
    assert counts(result) == (0, 2, 1, 3)
    assert [r.reason.split("(")[1].split(")")[0] for r in result.rejected] == [
        "a failed refund returning funds",
        "a failed charge taking its funds back",
    ]


def test_api_isk_is_two_decimal_in_minor_units(tmp_path: Path) -> None:
    # Stripe's API keeps ISK two-decimal: 150000 is 1500 kronur (ISO would read 150000); JPY
    # follows ISO (1000 yen). Net 150000 - 4500 = 145500 minor = 1455.00 ISK.
    header = "id,amount,fee,net,currency,type,created,source\n"
    body = (
        "t1,150000,4500,145500,isk,charge,1767607200,ch_1\n"
        "t2,1000,36,964,jpy,charge,1767607200,ch_2\n"
        "t3,5000,0,5000,mga,charge,1767607200,ch_3\n"
    )
    result = inline(tmp_path, body, header)
    # MGA is zero-decimal in the API (ISO: two): 5000 is 5000 ariary.
    assert result.rows.column("gross_amount").to_pylist() == ["1500.00", "1000", "5000"]
    assert result.rows.column("net_amount").to_pylist() == ["1455.00", "964", "5000"]


@pytest.mark.parametrize(
    ("written", "zone", "settled_at"),
    [
        ("2026-01-05T10:00:00.000Z", None, "2026-01-05T10:00:00Z"),
        ("2026-01-05T10:00:00Z", "Europe/Paris", "2026-01-05T10:00:00Z"),
        ("2026-01-05 10:00:00 UTC", "Europe/Paris", "2026-01-05T10:00:00Z"),
        ("2026-01-05T05:00:00-05:00", None, "2026-01-05T10:00:00Z"),
        ("2026-01-05 10:00:00.250", None, "2026-01-05T10:00:00Z"),
        ("2026-01-05 10:00:00", "Europe/Paris", "2026-01-05T10:00:00+01:00"),
        ("2026-01-05 10:00", None, "2026-01-05T10:00:00Z"),
        ("1/5/2026 10:00", None, None),
    ],
)
def test_api_sync_timestamps(
    tmp_path: Path, written: str, zone: str | None, settled_at: str | None
) -> None:
    # API syncs (Stitch, Fivetran, warehouse exports) write `created` as an ISO instant.
    header = "id,amount,fee,net,currency,type,created,source\n"
    options = {"timezone": zone} if zone else {}
    result = inline(tmp_path, f"t1,100,0,100,usd,charge,{written},ch_1\n", header, **options)
    assert result.rows.column("settled_at").to_pylist() == ([settled_at] if settled_at else [])
    assert len(result.rejected) == (0 if settled_at else 1)


def test_dashboard_balance_history_export(tmp_path: Path) -> None:
    # The dashboard's balance history export: title-case names, major units, minutes only, the
    # payout in `Transfer`. A charge 120.00 - 3.78 = 116.22 and a refund -20.00 in po_1; the
    # payout row pays 96.22; a billing fee is control. 4 records: 2 rows, 2 control; nets 96.22.
    header = (
        "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),Description,"
        "Transfer,order_id (metadata)\n"
    )
    body = (
        "txn_1,charge,ch_1,120.00,3.78,116.22,usd,2026-09-01 14:03,2026-09-03 00:00,Sale,po_1,A-1\n"
        "txn_2,refund,re_1,-20.00,0.00,-20.00,usd,2026-09-02 14:03,2026-09-04 00:00,R,po_1,A-1\n"
        "txn_3,payout,po_1,-96.22,0.00,-96.22,usd,2026-09-05 14:03,2026-09-05 00:00,P,po_1,\n"
        "txn_4,stripe_fee,,-2.00,0.00,-2.00,usd,2026-09-06 14:03,2026-09-06 00:00,Fee,,\n"
    )
    options = {"merchant_ref_column": "order_id (metadata)", "timezone": "Europe/Paris"}
    result = inline(tmp_path, body, header, **options)
    assert counts(result) == (2, 0, 2, 4)
    assert nets(result) == Decimal("96.22")
    assert result.rows.column("gross_amount").to_pylist() == ["120.00", "20.00"]
    # Created (UTC) is read in UTC whatever the timezone option says.
    assert result.rows.column("settled_at").to_pylist()[0] == "2026-09-01T14:03:00Z"
    assert result.rows.column("payout_id").to_pylist() == ["po_1", "po_1"]
    assert result.rows.column("merchant_ref").to_pylist() == ["A-1", "A-1"]
    assert [(t.found, t.holds) for t in result.totals] == [("-96.22", True), ("96.22", True)]


def test_a_quote_never_closed_stops_the_file_instead_of_swallowing_its_rest(tmp_path: Path) -> None:
    # The open quote's value would run to the end of the file with the right number of fields:
    # one row read, the others gone without a word.
    body = (
        't1,2026-01-30 10:00:00,usd,1.00,0.00,1.00,charge,ch_1,"open\n'
        "t2,2026-01-30 10:00:00,usd,2.00,0.00,2.00,charge,ch_2,po_1\n"
    )
    with pytest.raises(InputError, match=r"stripe\.csv: line 2: a quote opens a field that is"):
        inline(tmp_path, body)
    closed = inline(tmp_path, body.replace('"open', '"a, b"'))
    assert counts(closed) == (2, 0, 0, 2)


def test_a_local_time_a_daylight_saving_change_skips_or_repeats_is_rejected_for_its_zone(
    tmp_path: Path,
) -> None:
    body = "".join(
        f"t{n},{stamp},usd,1.00,0.00,1.00,charge,ch_{n},\n"
        for n, stamp in enumerate(
            ("2026-03-29 02:30:00", "2026-10-25 02:30:00", "2026-03-29 03:30")
        )
    )
    result = inline(tmp_path, body, timezone="Europe/Berlin")
    assert counts(result) == (1, 2, 0, 3)
    assert result.rows.column("settled_at").to_pylist() == ["2026-03-29T03:30:00+02:00"]
    for rejection in result.rejected:
        assert "does not exist or is ambiguous in zone Europe/Berlin" in rejection.reason
    # Without the option the same times are UTC, and a malformed one keeps its own reason.
    assert counts(inline(tmp_path, body)) == (3, 0, 0, 3)
    bad = inline(tmp_path, "t1,2026-13-01 01:00:00,usd,1.00,0.00,1.00,charge,ch_1,\n")
    assert "is not a timestamp" in bad.rejected[0].reason


def test_old_mac_line_ends_read_as_lines(tmp_path: Path) -> None:
    body = (
        "t1,2026-01-30 10:00:00,usd,1.00,0.00,1.00,charge,ch_1,\n"
        't2,2026-01-30 10:00:00,usd,2.00,0.00,2.00,charge,ch_2,"po_1"\n'
    )
    lines = inline(tmp_path, body)
    path = tmp_path / "stripe.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    old_mac = read(path)
    assert counts(old_mac) == counts(lines) == (2, 0, 0, 2)
    assert old_mac.rows.equals(lines.rows)


def test_zeros_ending_a_fraction_are_no_extra_places(tmp_path: Path) -> None:
    body = "t1,2026-01-30 10:00:00,JPY,1000.00,36.00,964.00,charge,ch_1,po_1\n"
    body += "t2,2026-01-31 00:00:00,JPY,-964.0,0,-964,payout,po_1,po_1\n"
    result = inline(tmp_path, body)
    assert counts(result) == (1, 0, 1, 2)
    assert result.rows.column("net_amount").to_pylist() == ["964.00"]
    assert [t.holds for t in result.totals] == [True, True]
