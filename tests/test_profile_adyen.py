"""The adyen profile: every shared sample (golden figures) and one tiny file per rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.shared import shared
from walletrecon.errors import InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, enforce_totals, read_profile

SAMPLES = shared("samples", "adyen")
SPEC = ProfileSpec(source="settlement", display="adyen.csv")
HEADER = (
    "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,"
    "Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),"
    "Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),"
    "Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Batch Number"
)
SETTLED = (
    "Co,Acct,P1,M1,visa,2026-01-05 10:00:00,CET,Settled,C1,EUR,,10.00,1,EUR,,9.70,,0.10,0.05,0.15,7"
)
PAYOUT = "Co,Acct,,,,2026-01-06 10:00:00,CET,MerchantPayout,TX1XT batch 7,,,,,EUR,9.70,,,,,,7"


def _read(tmp_path: Path, *lines: str, spec: ProfileSpec = SPEC) -> ProfileResult:
    path = tmp_path / "adyen.csv"
    path.write_text("\n".join(lines) + "\n")
    return read_profile(path, "adyen", spec)


def _rows(result: ProfileResult) -> list[dict[str, object]]:
    return pl.from_arrow(result.rows).to_dicts()  # type: ignore[union-attr]


def _sums(result: ProfileResult) -> dict[str, tuple[int, Decimal, Decimal]]:
    sums: dict[str, tuple[int, Decimal, Decimal]] = {}
    for row in _rows(result):
        key = f"{row['currency']}>{row['net_currency'] or row['currency']}"
        count, gross, net = sums.get(key, (0, Decimal(0), Decimal(0)))
        sums[key] = (
            count + 1,
            gross + Decimal(str(row["gross_amount"])),
            net + Decimal(str(row["net_amount"])),
        )
    return sums


# Figures worked out with Python's csv module over each file (Settled gross from Gross Credit,
# Refunded/Chargeback gross from Gross Debit, net = Net Credit - Net Debit), grouped by
# gross > net currency; `cut -d, -f8 | sort | uniq -c` gives the line types.
GOLDEN = {
    "oca_settlement_detail_report_batch_238.csv": (0, 0, 3, {}, [None]),
    "oca_settlement_detail_report_batch_380.csv": (
        226, 0, 2, {"USD>USD": (226, Decimal("57919.70"), Decimal("55346.17"))}, [True],
    ),
    "smashpig_chargeback.csv": (1, 0, 2, {"USD>USD": (1, Decimal(1), Decimal(-3))}, [False]),
    "smashpig_donation.csv": (1, 0, 1, {"USD>USD": (1, Decimal(1), Decimal("0.76"))}, [True]),
    "smashpig_donation_reordered_columns.csv": (
        1, 0, 1, {"USD>USD": (1, Decimal(1), Decimal("0.76"))}, [True],
    ),
    "smashpig_emptynetcredit_balanceplatform.csv": (
        1, 0, 0, {"INR>USD": (1, Decimal(10), Decimal("-0.03"))}, [None],
    ),
    "smashpig_refund.csv": (1, 0, 2, {"USD>USD": (1, Decimal(1), Decimal(-1))}, [False]),
    # The Refunded line carries both Gross Debit 1 and Gross Credit 52: rejected, so USD holds
    # 6 of the file's 7 USD transaction lines (gross 41.80 - 1, net 26.38 + 1).
    "wmf_settlement_detail_report_batch_1128_multicurrency.csv": (
        10, 1, 4,
        {
            "USD>USD": (6, Decimal("40.80"), Decimal("27.38")),
            "JPY>USD": (2, Decimal(3493), Decimal("4.01")),
            "CAD>CAD": (1, Decimal(10), Decimal("9.54")),
            "NZD>USD": (1, Decimal(52), Decimal("30.42")),
        },
        [True, True],
    ),
}  # fmt: skip


def test_every_sample_has_a_golden_entry() -> None:
    assert SAMPLES.is_dir(), f"shared samples missing: {SAMPLES}"
    assert sorted(p.name for p in SAMPLES.glob("*.csv")) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_sample_golden_figures(name: str) -> None:
    rows, rejected, control, sums, holds = GOLDEN[name]
    result = read_profile(SAMPLES / name, "adyen", ProfileSpec(source="settlement"))
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (
        rows,
        rejected,
        control,
    )
    assert _sums(result) == sums
    assert [total.holds for total in result.totals] == holds


def test_sample_multicurrency_keeps_rate_and_rejects_the_double_gross_refund() -> None:
    result = read_profile(
        SAMPLES / "wmf_settlement_detail_report_batch_1128_multicurrency.csv",
        "adyen",
        ProfileSpec(source="settlement"),
    )
    jpy = next(row for row in _rows(result) if row["currency"] == "JPY")
    assert (jpy["net_currency"], jpy["exchange_rate"]) == ("USD", "0.006733333333333")
    assert result.rejected[0].row == 12 and result.rejected[0].column == "Gross Debit (GC)"
    assert "both carry an amount ('1' and '52')" in result.rejected[0].reason
    dot = next(row for row in _rows(result) if row["origin_row"] == 11)
    assert (dot["net_amount"], dot["fee_amount"]) == ("0.91", "0.09")


def test_payment_maps_every_column(tmp_path: Path) -> None:
    result = _read(tmp_path, HEADER, SETTLED, PAYOUT)
    assert _rows(result) == [
        {
            "settlement_id": "P1/Settled/C1", "gateway": "adyen", "gateway_ref": "P1",
            "merchant_ref": "M1", "record_type": "payment", "gross_amount": "10",
            "fee_amount": "0.3", "net_amount": "9.7", "currency": "EUR",
            "settled_at": "2026-01-05T10:00:00+01:00", "payout_id": "batch 7, Acct",
            "net_currency": None, "exchange_rate": None, "origin_row": 2, "origin_element": None,
        }
    ]  # fmt: skip
    assert [(line.row, line.kind) for line in result.control] == [(3, "MerchantPayout")]
    assert result.totals[0].holds is True and result.records == 2


def test_header_names_match_trimmed_and_case_insensitively_in_any_order(tmp_path: Path) -> None:
    names = HEADER.split(",")
    shuffled = [f"  {name.upper()} " for name in reversed(names)] + ["Metadata"]
    values = [*reversed(SETTLED.split(",")), "1.2302025304E+022"]
    result = _read(tmp_path, ",".join(shuffled), ",".join(values))
    assert _rows(result)[0]["net_amount"] == "9.7"


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    header = HEADER.replace(",Batch Number", "")
    with pytest.raises(InputError, match=r"adyen.csv: line 1: .*'Batch Number'"):
        _read(tmp_path, header, SETTLED.rsplit(",", 1)[0])


def test_truncated_line_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "adyen.csv"
    path.write_text(f"{HEADER}\n{SETTLED}\n{PAYOUT[:40]}")
    with pytest.raises(InputError, match=r"adyen.csv: line 3: expected 21 fields .* found 8"):
        read_profile(path, "adyen", SPEC)


def test_quoted_field_over_two_lines_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "adyen.csv"
    settled = SETTLED.split(",")
    settled[3] = '"two\nlines"'
    path.write_text(f"{HEADER}\n{','.join(settled)}\n{PAYOUT}")
    with pytest.raises(InputError, match=r"adyen.csv: line 2: a quote opens a field that the"):
        read_profile(path, "adyen", SPEC)


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="line 1: empty file"):
        _read(tmp_path, "")


@pytest.mark.parametrize("bad", ["1.2E+3", "-10", "1,5", "10.123456789", "ten"])
def test_bad_amount_rejects_the_line_naming_column_and_value(tmp_path: Path, bad: str) -> None:
    line = SETTLED.replace(",10.00,", f',"{bad}",')
    result = _read(tmp_path, HEADER, line)
    (rejection,) = result.rejected
    assert (rejection.row, rejection.column) == (2, "Gross Credit (GC)")
    assert f"found '{bad}'" in rejection.reason
    assert "expected an unsigned decimal" in rejection.reason
    assert rejection.raw == line


def test_leading_dot_amount_reads_as_a_plain_decimal(tmp_path: Path) -> None:
    line = SETTLED.replace(",10.00,", ",.91,").replace(",9.70,", ",.61,")
    assert _rows(_read(tmp_path, HEADER, line))[0]["gross_amount"] == "0.91"


def test_both_net_columns_or_none_reject(tmp_path: Path) -> None:
    both = SETTLED.replace(",,9.70,", ",1.00,9.70,")
    none = SETTLED.replace(",,9.70,", ",,,")
    reasons = [r.reason for r in _read(tmp_path, HEADER, both, none).rejected]
    assert "both carry an amount" in reasons[0] and "expected a net amount" in reasons[1]


@pytest.mark.parametrize(
    ("stamp", "zone", "expected"),
    [
        ("2026-07-05 10:00:00", "CET", "2026-07-05T10:00:00+01:00"),
        ("2026-07-05 10:00:00", "PDT", "2026-07-05T10:00:00-07:00"),
        ("2026-07-05 10:00:00", "Europe/Amsterdam", "2026-07-05T10:00:00+02:00"),
        ("2026-01-05 10:00:00", "Europe/Amsterdam", "2026-01-05T10:00:00+01:00"),
        ("2026-01-05 10:00:00", "GMT+05:30", "2026-01-05T10:00:00+05:30"),
        ("2026-01-05 10:00:00", "GMT", "2026-01-05T10:00:00+00:00"),
    ],
)
def test_zones(tmp_path: Path, stamp: str, zone: str, expected: str) -> None:
    line = SETTLED.replace("2026-01-05 10:00:00,CET", f"{stamp},{zone}")
    assert _rows(_read(tmp_path, HEADER, line))[0]["settled_at"] == expected


@pytest.mark.parametrize(
    ("stamp", "zone", "column", "words"),
    [
        ("2026-01-05 10:00:00", "Mars/Olympus", "TimeZone", "found 'Mars/Olympus'"),
        ("2026-01-05 10:00:00", "CST", "TimeZone", "'CST' is ambiguous (US Central or China"),
        ("2026-01-05 10:00:00", "ist", "TimeZone", "'ist' is ambiguous (India, Ireland or Israel"),
        ("2026-03-29 02:30:00", "Europe/Amsterdam", "Creation Date", "does not exist"),
        ("05/01/2026 10:00", "CET", "Creation Date", "expected YYYY-MM-DD HH:MM:SS"),
    ],
)
def test_bad_dates_and_zones_reject(
    tmp_path: Path, stamp: str, zone: str, column: str, words: str
) -> None:
    line = SETTLED.replace("2026-01-05 10:00:00,CET", f"{stamp},{zone}")
    (rejection,) = _read(tmp_path, HEADER, line).rejected
    assert rejection.column == column and words in rejection.reason


@pytest.mark.parametrize(
    "kind", ["ChargebackReversed", "RefundedReversed", "SettledCorrection", "PaidOut"]
)
def test_reversals_and_corrections_are_rejected_by_name(tmp_path: Path, kind: str) -> None:
    (rejection,) = _read(tmp_path, HEADER, SETTLED.replace(",Settled,", f",{kind},")).rejected
    assert rejection.column == "Type" and f"line type '{kind}'" in rejection.reason


def test_unknown_type_rejected_and_control_types_counted(tmp_path: Path) -> None:
    control = [
        SETTLED.replace(",Settled,", f",{kind},")
        for kind in ("Fee", "Balancetransfer", "PaymentCost", "DepositCorrection", "MiscCosts")
    ]
    result = _read(tmp_path, HEADER, SETTLED.replace(",Settled,", ",Bogus,"), *control)
    assert "'Bogus' is not an Adyen line type" in result.rejected[0].reason
    assert [line.kind for line in result.control] == [
        "Fee", "Balancetransfer", "PaymentCost", "DepositCorrection", "MiscCosts",
    ]  # fmt: skip


def test_refund_and_chargeback_take_gross_debit_and_negative_net(tmp_path: Path) -> None:
    start = "Co,Acct,P1,M1,visa,2026-01-05 10:00:00,CET"
    refund = f"{start},Refunded,R1,EUR,4.00,,1,EUR,4.10,,0.10,,,,7"
    chargeback = refund.replace("Refunded,R1", "Chargeback,K1")
    rows = _rows(_read(tmp_path, HEADER, refund, chargeback))
    found = [(r["record_type"], r["gross_amount"], r["fee_amount"], r["net_amount"]) for r in rows]
    assert found == [
        ("refund", "4", "0.1", "-4.1"), ("chargeback", "4", "0.1", "-4.1"),
    ]  # fmt: skip
    assert rows[0]["settlement_id"] != rows[1]["settlement_id"]


def test_net_currency_and_rate_only_when_currencies_differ(tmp_path: Path) -> None:
    other = SETTLED.replace(",EUR,,10.00,1,EUR,", ",JPY,,1000,0.0062,EUR,")
    bad_rate = other.replace(",0.0062,", ",n/a,")
    result = _read(tmp_path, HEADER, SETTLED, other, bad_rate)
    rows = _rows(result)
    assert [(r["net_currency"], r["exchange_rate"]) for r in rows] == [
        (None, None),
        ("EUR", "0.0062"),
    ]
    assert result.rejected[0].column == "Exchange Rate"


def test_payout_ids_of_two_accounts_never_collide(tmp_path: Path) -> None:
    second = SETTLED.replace("Co,Acct,P1", "Co,Other,P2")
    rows = _rows(_read(tmp_path, HEADER, SETTLED, second))
    assert [r["payout_id"] for r in rows] == ["batch 7, Acct", "batch 7, Other"]


def test_broken_payout_stops_with_enforce_and_warns_with_warn(tmp_path: Path) -> None:
    result = _read(tmp_path, HEADER, SETTLED, PAYOUT.replace(",9.70,", ",9.71,"))
    (total,) = result.totals
    assert (total.holds, total.expected, total.found, total.currency) == (
        False,
        "9.71",
        "9.7",
        "EUR",
    )
    with pytest.raises(InputError, match=r"batch 7, Acct: .*expected 9\.71, found 9\.7 EUR"):
        enforce_totals(result, SPEC)
    warn = ProfileSpec(source="settlement", display="adyen.csv", control_totals="warn")
    assert len(enforce_totals(result, warn)) == 1


def test_batch_without_payout_is_unchecked_with_a_note(tmp_path: Path) -> None:
    (total,) = _read(tmp_path, HEADER, SETTLED).totals
    assert total.holds is None and "no MerchantPayout" in total.note


def test_gateway_from_spec_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "adyen.csv"
    path.write_bytes(f"{HEADER}\n{SETTLED.replace('M1', 'Müller')}\n".encode("latin-1"))
    with pytest.raises(InputError, match="byte offset"):
        read_profile(path, "adyen", SPEC)
    spec = ProfileSpec(source="settlement", encoding="latin-1", gateway="adyen_eu")
    (row,) = _rows(read_profile(path, "adyen", spec))
    assert (row["gateway"], row["merchant_ref"]) == ("adyen_eu", "Müller")


def test_blank_lines_and_crlf_keep_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "adyen.csv"
    path.write_bytes(f"{HEADER}\r\n\r\n{SETTLED}\r\n{PAYOUT}".encode())
    result = read_profile(path, "adyen", SPEC)
    assert _rows(result)[0]["origin_row"] == 3 and result.control[0].row == 4


# --- variants of real senders -------------------------------------------------------------------

WIDE_HEADER = (
    HEADER.replace(",Batch Number", ",Payment Method Variant,Modification Merchant Reference,")
    + "Batch Number,Reserved4,Reserved5,Reserved6,Reserved7,Reserved8,Reserved9,Reserved10,"
    "Booking Date,Booking Date TimeZone,Metadata"
)


def test_journal_types_of_balance_bookings_are_control(tmp_path: Path) -> None:
    # The 2025 layout with Metadata (a quoted JSON with commas); a Settled line netting 9.70,
    # six balance bookings of batch 7 netting -0.10 each and a MerchantPayout of 9.10:
    # 9.70 - 6 x 0.10 = 9.10. 8 records: 1 row, 7 control.
    kinds = (
        "AuthorisationSchemeFee", "ManualCorrected", "MatchedStatement", "BankInstructionReturned",
        "InternalCompanyPayout", "ReserveAdjustment",
    )  # fmt: skip
    tail = ",,,,,,,,2026-01-06 10:00:00,CET,"
    settled = SETTLED.replace(",7", ",visaclassic,,7") + tail + '"{""k"":""a,b""}"'
    bookings = [
        f"Co,Acct,,,,2026-01-06 09:00:00,CET,{k},x,,,,,EUR,0.10,,,,,,,,7{tail}" for k in kinds
    ]
    payout = f"Co,Acct,,,,2026-01-06 10:00:00,CET,MerchantPayout,x,,,,,EUR,9.10,,,,,,,,7{tail}"
    result = _read(tmp_path, WIDE_HEADER, settled, *bookings, payout)
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (1, 0, 7)
    assert [line.kind for line in result.control] == [*kinds, "MerchantPayout"]
    assert [(t.expected, t.found, t.holds) for t in result.totals] == [("9.1", "9.1", True)]


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        ("Settled", "Gross Credit (GC)"),
        ("Refunded", "Gross Debit (GC)"),
        ("Chargeback", "Gross Debit (GC)"),
    ],
)
def test_a_missing_gross_names_the_column_the_line_type_fills(
    tmp_path: Path, kind: str, column: str
) -> None:
    start = "Co,Acct,P1,M1,visa,2026-01-05 10:00:00,CET"
    line = f"{start},{kind},R1,EUR,,,1,EUR,4.10,,0.10,,,,7"
    (rejection,) = _read(tmp_path, HEADER, line).rejected
    assert rejection.column == column
    assert f"{column}: expected the gross amount of a {kind} line, found nothing" in (
        rejection.reason
    )
