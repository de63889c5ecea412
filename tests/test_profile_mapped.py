"""The mapped profile: inline files in each dialect, an .xlsx made here, and broken inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from walletrecon.errors import ConfigError, InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, read_profile

BANK_COLUMNS = {
    "bank_line_id": "Konto",
    "amount": "Betrag",
    "value_date": "Datum",
    "currency": "Waehrung",
}


def read(path: Path, source: str, columns: dict[str, str], **options: str) -> ProfileResult:
    spec = ProfileSpec(source, columns=columns, options=options, display=path.name)
    return read_profile(path, "mapped", spec)


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def column(result: ProfileResult, name: str) -> list[object]:
    return result.rows.column(name).to_pylist()


def counts(result: ProfileResult) -> tuple[int, int, int, int]:
    return result.rows.num_rows, len(result.rejected), len(result.control), result.records


GERMAN = """Bank export;;
Konto;Datum;Betrag;Verwendungszweck;Waehrung
1;30.01.2026;1.234,50;reference:PO-17 thanks;eur
2;31.01.2026;12,50-;nothing;EUR
3;31.01.2026;12,5,0;x;EUR
4;32.01.2026;(3,00);reference:PO-9;EUR
5;31.01.2026
6;31.01.2026;(1.000,00);reference:PO-9;EUR
Summe;;1.222,00;;
"""
GERMAN_OPTIONS = {
    "delimiter": ";",
    "decimal": ",",
    "thousands": ".",
    "date_format": "%d.%m.%Y",
    "skip_header_lines": "1",
    "skip_footer_lines": "1",
    "extract.reference": r"Verwendungszweck:reference:(PO-\d+)",
}


def test_semicolon_decimal_comma_header_footer_and_extraction(tmp_path: Path) -> None:
    result = read(write(tmp_path, GERMAN), "bank", BANK_COLUMNS, **GERMAN_OPTIONS)
    assert counts(result) == (3, 3, 1, 7)
    assert column(result, "amount") == ["1234.50", "-12.50", "-1000.00"]
    assert column(result, "value_date") == ["2026-01-30", "2026-01-31", "2026-01-31"]
    assert column(result, "reference") == ["PO-17", None, "PO-9"]
    assert column(result, "currency") == ["EUR", "EUR", "EUR"]
    assert column(result, "origin_row") == [3, 4, 8]
    reasons = [(r.row, r.reason) for r in result.rejected]
    assert reasons == [
        (5, "amount: '12,5,0' is not a decimal number with decimal ',' and thousands '.'"),
        (6, "value_date: '32.01.2026' is not a value in date_format '%d.%m.%Y'"),
        (7, "row: expected 5 fields, found 2"),
    ]
    assert result.rejected[0].raw == "3;31.01.2026;12,5,0;x;EUR"
    assert result.control[0].row == 9 and result.control[0].kind == "footer"


def test_required_extraction_without_match_is_rejected(tmp_path: Path) -> None:
    text = "id,amt,cur,when,ref\ns1,10.00,USD,2026-01-30T10:00:00Z,see PO-1\n"
    text += "s2,5,USD,2026-01-30,none\n"
    columns = {"settlement_id": "id", "gross_amount": "amt", "net_amount": "amt"}
    columns |= {"currency": "cur", "settled_at": "when"}
    options = {
        "constant.gateway": "adyen",
        "constant.record_type": "payment",
        "constant.fee_amount": "0",
        "extract.gateway_ref": r"ref:(PO-\d+)",
    }
    result = read(write(tmp_path, text), "settlement", columns, **options)
    assert counts(result) == (1, 1, 0, 2)
    assert column(result, "gateway") == ["adyen"] and column(result, "gateway_ref") == ["PO-1"]
    assert result.rejected[0].reason.startswith("gateway_ref: empty")
    assert column(result, "net_currency") == [None]


def test_tab_delimited_timestamps_in_a_zone(tmp_path: Path) -> None:
    text = "rid\tmid\ttxn\tamt\tccy\twhen\nr1\tm1\tt1\t12.5\tusd\t30/01/2026 10:15\n"
    text += "r2\tm1\tt2\t3\tusd\t29/03/2026 02:30\n"
    columns = {"receipt_id": "rid", "merchant_id": "mid", "txn_id": "txn", "amount": "amt"}
    columns |= {"currency": "ccy", "received_at": "when"}
    options = {
        "delimiter": "\\t",
        "timestamp_format": "%d/%m/%Y %H:%M",
        "timezone": "Europe/Berlin",
    }
    result = read(write(tmp_path, text), "receipts", columns, **options)
    assert column(result, "received_at") == ["2026-01-30T10:15:00+01:00"]
    # 02:30 on 29 March 2026 does not exist in Berlin (clocks jump from 02:00 to 03:00).
    assert result.rejected[0].reason.startswith("received_at: '29/03/2026 02:30' is not")
    naive = read(
        write(tmp_path, text),
        "receipts",
        columns,
        delimiter="tab",
        timestamp_format="%d/%m/%Y %H:%M",
    )
    assert column(naive, "received_at") == ["2026-01-30T10:15:00", "2026-03-29T02:30:00"]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_chinese_headers(tmp_path: Path, encoding: str) -> None:
    text = '流水号,金额,币种,日期,备注\nB1,"1,000.00",cny,2026-01-30,付款 PO-5\n'
    columns = {"bank_line_id": "流水号", "amount": "金额", "currency": "币种"}
    columns |= {"value_date": "日期", "reference": "备注"}
    path = write(tmp_path, text, encoding=encoding)
    spec = ProfileSpec("bank", encoding=encoding, columns=columns, options={"thousands": ","})
    result = read_profile(path, "mapped", spec)
    assert column(result, "amount") == ["1000.00"]
    assert column(result, "reference") == ["付款 PO-5"]
    with pytest.raises(InputError, match=r"byte offset 0: .* not valid utf-8"):
        read(path, "bank", columns)


@pytest.mark.parametrize("encoding", ["latin-1", "cp852"])
def test_single_byte_encodings(tmp_path: Path, encoding: str) -> None:
    text = "Konto;Datum;Betrag;Waehrung;Text\nA1;2026-01-30;5;EUR;Überweisung Łódź\n"
    if encoding == "latin-1":
        text = text.replace("Łódź", "Málaga")
    path = write(tmp_path, text, encoding=encoding)
    columns = BANK_COLUMNS | {"reference": "Text"}
    spec = ProfileSpec("bank", encoding=encoding, columns=columns, options={"delimiter": ";"})
    result = read_profile(path, "mapped", spec)
    assert column(result, "reference")[0].startswith("Überweisung ")
    with pytest.raises(InputError, match=r"in.csv: byte offset 53: bytes"):
        read(path, "bank", columns, delimiter=";")


def _read_debit_credit(tmp_path: Path, text: str) -> ProfileResult:
    """A bank file whose amount is in a debit (Soll) or a credit (Haben) column."""
    columns = {"bank_line_id": "Konto", "value_date": "Datum", "currency": "Waehrung"}
    return read(write(tmp_path, text), "bank", columns, debit_column="Soll", credit_column="Haben")


def test_debit_and_credit_columns(tmp_path: Path) -> None:
    text = "Konto,Datum,Soll,Haben,Waehrung\nA1,2026-01-30,,10.00,EUR\nA2,2026-01-30,4.50,,EUR\n"
    text += "A3,2026-01-30,1.00,2.00,EUR\nA4,2026-01-30,-3,,EUR\nA5,2026-01-30,0.00,7,EUR\n"
    result = _read_debit_credit(tmp_path, text)
    assert column(result, "amount") == ["10.00", "-4.50", "7"]
    assert [r.row for r in result.rejected] == [4, 5]
    assert "one positive decimal number in Soll or Haben" in result.rejected[0].reason


def test_a_debit_or_credit_that_is_no_number_rejects_its_line(tmp_path: Path) -> None:
    text = "Konto,Datum,Soll,Haben,Waehrung\nA1,2026-01-30,abc,3.00,EUR\n"
    text += "A2,2026-01-30,4.50,n/a,EUR\nA3,2026-01-30,,3.00,EUR\n"
    result = _read_debit_credit(tmp_path, text)
    assert column(result, "amount") == ["3.00"]
    assert [r.row for r in result.rejected] == [2, 3]
    assert "'abc|3.00' is not one positive decimal number in Soll or Haben" in (
        result.rejected[0].reason
    )


@pytest.mark.parametrize("given", ["debit_column", "credit_column"])
def test_debit_and_credit_columns_come_together(tmp_path: Path, given: str) -> None:
    text = "Konto,Datum,Soll,Waehrung\nA1,2026-01-30,1.00,EUR\n"
    columns = {"bank_line_id": "Konto", "value_date": "Datum", "currency": "Waehrung"}
    with pytest.raises(ConfigError, match="debit_column and credit_column are given together"):
        read(write(tmp_path, text), "bank", columns, **{given: "Soll"})


def test_amount_forms_and_negation(tmp_path: Path) -> None:
    text = "Konto,Datum,Betrag,Waehrung\nA1,2026-01-30,(12.50),EUR\nA2,2026-01-30,3-,EUR\n"
    text += "A3,2026-01-30, 7 ,EUR\nA4,2026-01-30,€12,EUR\nA5,2026-01-30,12 EUR,EUR\n"
    result = read(write(tmp_path, text), "bank", BANK_COLUMNS, amount_sign="negate")
    assert column(result, "amount") == ["12.50", "3", "-7"]
    assert [r.reason.split(" is ")[0] for r in result.rejected] == [
        "amount: '€12'",
        "amount: '12 EUR'",
    ]


def test_configuration_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "Konto,Datum,Betrag,Waehrung\n")
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        read(path, "bank", BANK_COLUMNS, colour="red")
    with pytest.raises(ConfigError, match="decimal = ';'"):
        read(path, "bank", BANK_COLUMNS, decimal=";")
    with pytest.raises(ConfigError, match=r"constant\.nothing"):
        read(path, "bank", BANK_COLUMNS, **{"constant.nothing": "x"})
    with pytest.raises(InputError, match=r"in\.csv: expected a column 'Amount'"):
        read(path, "bank", BANK_COLUMNS | {"amount": "Amount"})
    with pytest.raises(ConfigError, match="timezone 'Mars/Olympus' is not an IANA"):
        read(path, "bank", BANK_COLUMNS, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="has no group"):
        read(path, "bank", BANK_COLUMNS, **{"extract.reference": "Betrag:PO-1"})
    with pytest.raises(ConfigError, match="is not a regular expression"):
        read(path, "bank", BANK_COLUMNS, **{"extract.reference": "Betrag:(PO-1"})
    with pytest.raises(InputError, match=r"in\.csv: line 1: header field"):
        read(write(tmp_path, "Konto,,Betrag\n"), "bank", BANK_COLUMNS)


def test_empty_file_after_header_has_no_rows(tmp_path: Path) -> None:
    result = read(write(tmp_path, "Konto,Datum,Betrag,Waehrung\n"), "bank", BANK_COLUMNS)
    assert counts(result) == (0, 0, 0, 0)


def test_quoted_value_over_two_lines_keeps_physical_lines(tmp_path: Path) -> None:
    text = 'Konto,Datum,Betrag,Waehrung,Text\nA1,2026-01-30,1,EUR,"two\nlines"\n\nA2,x,1,EUR,y\n'
    result = read(write(tmp_path, text), "bank", BANK_COLUMNS | {"reference": "Text"})
    assert column(result, "origin_row") == [2, 5]
    assert column(result, "reference") == ["two\nlines", "y"]


def test_stray_quote_is_a_file_error_naming_its_line(tmp_path: Path) -> None:
    text = 'Konto,Datum,Betrag,Waehrung\nA1,2026-01-30,1,EU"R\nA2,2026-01-30,2,EUR\n'
    with pytest.raises(InputError, match=r"in\.csv: line 2: a quote opens a field that is never"):
        read(write(tmp_path, text), "bank", BANK_COLUMNS)


def test_unclosed_quote_stops_the_file_naming_its_line(tmp_path: Path) -> None:
    # The rest of the file would be one value: never a short read, never a swallowed row.
    text = 'Konto,Datum,Betrag,Waehrung\nA1,2026-01-30,1,EUR\nA2,2026-01-30,"2,EUR\nA3,x,3,EUR\n'
    with pytest.raises(InputError, match=r"in\.csv: line 3: a quote opens a field that is never"):
        read(write(tmp_path, text), "bank", BANK_COLUMNS)


def test_stray_quotes_that_close_each_other_reject_the_lines_between(tmp_path: Path) -> None:
    text = 'Konto,Datum,Betrag,Waehrung\nA1,2026-01-30,"1,EUR\nA2,x,2,EU"R\nA3,2026-01-30,3,EUR\n'
    result = read(write(tmp_path, text), "bank", BANK_COLUMNS)
    assert counts(result) == (1, 1, 0, 2)
    assert result.rejected[0].row == 2 and result.rejected[0].raw.endswith('\nA2,x,2,EU"R')


# --- .xlsx --------------------------------------------------------------------------------------


def workbook(path: Path, rows: list[list[object]], merge: bool = False) -> Path:
    """A small workbook: rows from A1 (None is an empty cell), datetimes as date cells."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Payouts")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, stamp)
            elif value is not None:
                sheet.write(r, c, value)
    if merge:
        sheet.merge_range(1, 0, 1, 1, "Merged")
        sheet.write(1, 2, "Cur")
    book.close()
    return path


XLSX_COLUMNS = {"bank_line_id": "Ref", "amount": "Amount", "currency": "Cur", "value_date": "Day"}


def test_xlsx_numbers_dates_and_float_tails(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Statement", "January"],
        ["Ref", "Amount", "Cur", "Day"],
        ["L1", 12.5, "EUR", dt.datetime(2026, 1, 30)],
        ["L2", -3, "eur", 46053],
        [None, None, None, None],
        ["L3", "1250.75", "EUR", "02.02.2026"],
        ["L4", 12.345, "EUR", dt.datetime(2026, 1, 30)],
        ["L5", 100, "JPY", "31.01.2026"],
    ]
    path = workbook(tmp_path / "in.xlsx", rows)
    result = read(path, "bank", XLSX_COLUMNS, skip_header_lines="1", date_format="%d.%m.%Y")
    assert column(result, "amount") == ["12.5", "-3", "1250.75", "100"]
    assert column(result, "value_date") == ["2026-01-30", "2026-01-31", "2026-02-02", "2026-01-31"]
    assert column(result, "origin_row") == [3, 4, 6, 8]
    assert counts(result) == (4, 1, 0, 5)
    assert result.rejected[0].row == 7
    assert "amount: '12.345' has more decimal places than its currency allows" in (
        result.rejected[0].reason
    )


def test_xlsx_large_number_cells_keep_the_amount_they_show(tmp_path: Path) -> None:
    # fastexcel writes 123456789.12 as 123456789.120000005: the double's error, not the amount.
    rows: list[list[object]] = [
        ["Ref", "Amount", "Cur", "Day"],
        ["L1", 123456789.12, "EUR", "2026-01-30"],
        ["L2", -99999999.99, "EUR", "2026-01-30"],
        ["L3", "123456789.120000005", "EUR", "2026-01-30"],
    ]
    result = read(workbook(tmp_path / "in.xlsx", rows), "bank", XLSX_COLUMNS)
    assert column(result, "amount") == ["123456789.12", "-99999999.99", "123456789.12"]


def test_xlsx_broken_headers(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Ref", "Amount", "Cur", "Day"], ["L1", 1, "EUR", "2026-01-30"]]
    path = workbook(tmp_path / "in.xlsx", rows)
    with pytest.raises(InputError, match=r"in.xlsx: sheet '0' row 5: expected a header row"):
        read(path, "bank", XLSX_COLUMNS, skip_header_lines="4")
    with pytest.raises(InputError, match="no sheet 'Other'"):
        read(path, "bank", XLSX_COLUMNS, sheet="Other")
    merged = workbook(tmp_path / "merged.xlsx", [["x"], [], ["Ref", "Amount"]], merge=True)
    with pytest.raises(InputError, match=r"sheet 'Payouts' row 2: header cell\(s\) in column"):
        read(merged, "bank", XLSX_COLUMNS, sheet="Payouts", skip_header_lines="1")
    with pytest.raises(ConfigError, match="decimal and thousands apply to CSV"):
        read(path, "bank", XLSX_COLUMNS, decimal=",")
    not_xlsx = write(tmp_path, "not a workbook", name="bad.xlsx")
    with pytest.raises(InputError, match=r"bad\.xlsx: cannot read as an \.xlsx workbook"):
        read(not_xlsx, "bank", XLSX_COLUMNS)


def test_xlsx_timestamps_from_cells_and_serials_in_a_zone(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["rid", "mid", "txn", "amt", "ccy", "when"],
        ["r1", "m1", "t1", 5, "USD", dt.datetime(2026, 1, 30, 10, 11, 12)],
        ["r2", "m1", "t2", 5, "USD", 46052.5],
        ["r3", "m1", "t3", 5, "USD", 12],
    ]
    path = workbook(tmp_path / "in.xlsx", rows)
    columns = {"receipt_id": "rid", "merchant_id": "mid", "txn_id": "txn", "amount": "amt"}
    columns |= {"currency": "ccy", "received_at": "when"}
    result = read(path, "receipts", columns, timezone="Asia/Shanghai")
    assert column(result, "received_at") == [
        "2026-01-30T10:11:12+08:00",
        "2026-01-30T12:00:00+08:00",
    ]
    # Serial 12 falls before 1 March 1900, where Excel's calendar counts a 29 February 1900.
    assert result.rejected[0].row == 4
    assert result.rejected[0].reason == "received_at: '12' is not ISO 8601 or an Excel date"


@pytest.mark.parametrize(
    ("thousands", "decimal", "written", "read_as"),
    [
        ("'", ".", "1'234.50", "1234.50"),
        ("'", ".", "1’234.50", "1234.50"),
        (" ", ",", "1\u00a0234,5", "1234.5"),
        (" ", ",", "12 34,5", None),
        (",", ".", "(1,234.00)", "-1234.00"),
        (",", ".", "1,234.00-", "-1234.00"),
        (",", ".", "-(1)", None),
        (",", ".", "$1,234.00", None),
        ("", ".", "1,234.00", None),
    ],
)
def test_amount_grammar(
    tmp_path: Path, thousands: str, decimal: str, written: str, read_as: str | None
) -> None:
    text = f'Konto;Datum;Betrag;Waehrung\nA1;2026-01-30;"{written}";EUR\n'
    options = {"delimiter": ";", "thousands": thousands, "decimal": decimal}
    result = read(write(tmp_path, text), "bank", BANK_COLUMNS, **options)
    assert column(result, "amount") == ([read_as] if read_as else [])
    assert len(result.rejected) == (0 if read_as else 1)


# --- variants of real senders -------------------------------------------------------------------


def test_xlsx_serials_follow_a_1904_workbook(tmp_path: Path) -> None:
    # A workbook saved in the 1904 date system (old Mac Excel): serial 44884 is 44884 days after
    # 1904-01-01 = 2026-11-20 (1900 reading: 2022-11-19); the datetime cell is a date as shown.
    path = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet = book.add_worksheet("S")
    sheet.write_row(0, 0, ["Ref", "Amount", "Cur", "Day"])
    sheet.write_row(1, 0, ["L1", 10, "EUR", 44884])
    sheet.write_row(2, 0, ["L2", 11, "EUR"])
    sheet.write_datetime(2, 3, dt.datetime(2026, 11, 20), book.add_format({"num_format": "d/m/y"}))
    sheet.write_row(3, 0, ["L3", 12, "EUR", 0.5])
    book.close()
    result = read(path, "bank", XLSX_COLUMNS)
    # Serial 0.5 is noon of 1904-01-01: a real day in this system (1900: before 1 March 1900).
    assert column(result, "value_date") == ["2026-11-20", "2026-11-20", "1904-01-01"]
    rows: list[list[object]] = [["Ref", "Amount", "Cur", "Day"], ["L1", 1, "EUR", 46346]]
    plain = workbook(tmp_path / "win.xlsx", rows)
    assert column(read(plain, "bank", XLSX_COLUMNS), "value_date") == ["2026-11-20"]


def test_xlsx_totals_row_is_a_footer(tmp_path: Path) -> None:
    # Three receipts, a blank row, then a totals row: 3 rows + 1 control = 4 records, sum 6.
    rows: list[list[object]] = [
        ["Ref", "Amount", "Cur", "Day"],
        ["L1", 1, "EUR", "2026-11-20"],
        ["L2", 2, "EUR", "2026-11-20"],
        ["L3", 3, "EUR", "2026-11-20"],
        [None, None, None, None],
        ["Total", 6, None, None],
        [None, None, None, None],
    ]
    path = workbook(tmp_path / "in.xlsx", rows)
    result = read(path, "bank", XLSX_COLUMNS, skip_footer_lines="1")
    assert column(result, "amount") == ["1", "2", "3"]
    assert [(c.row, c.kind, c.raw) for c in result.control] == [(6, "footer", "Total\t6\t\t")]
    assert counts(result) == (3, 0, 1, 4)
    # Without the option the totals row is a rejected line, never a row.
    assert counts(read(path, "bank", XLSX_COLUMNS)) == (3, 1, 0, 4)


def test_csv_with_a_delimiter_ending_every_line(tmp_path: Path) -> None:
    # Bank exports that end each line with ';': 2 rows, 1234.50 + (-3.00) = 1231.50.
    text = "Konto;Datum;Betrag;Waehrung;\nA1;2026-01-30;1.234,50;EUR;\nA2;2026-01-30;-3,00;EUR;\n"
    options = {"delimiter": ";", "thousands": ".", "decimal": ","}
    result = read(write(tmp_path, text), "bank", BANK_COLUMNS, **options)
    assert column(result, "amount") == ["1234.50", "-3.00"]
    assert counts(result) == (2, 0, 0, 2)
    inner = "Konto;;Betrag\nA1;x;1\n"
    with pytest.raises(InputError, match=r"line 1: header field\(s\) 2 are empty"):
        read(write(tmp_path, inner), "bank", BANK_COLUMNS, delimiter=";")


def test_xlsx_a_sheet_named_with_digits_is_that_sheet(tmp_path: Path) -> None:
    path = tmp_path / "years.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for title, ref in (("Cover", None), ("2026", "Y2026"), ("1", "ONE")):
        sheet = book.add_worksheet(title)
        if ref is not None:
            for c, value in enumerate(["Ref", "Amount", "Cur", "Day"]):
                sheet.write(0, c, value)
            for c, value in enumerate([ref, "1.00", "EUR", "2026-01-30"]):
                sheet.write(1, c, value)
    book.close()
    assert column(read(path, "bank", XLSX_COLUMNS, sheet="2026"), "bank_line_id") == ["Y2026"]
    assert column(read(path, "bank", XLSX_COLUMNS, sheet="1"), "bank_line_id") == ["ONE"]
    assert column(read(path, "bank", XLSX_COLUMNS, sheet="2"), "bank_line_id") == ["ONE"]
    with pytest.raises(InputError, match=r"no sheet '7' \(sheets: Cover, 2026, 1\)"):
        read(path, "bank", XLSX_COLUMNS, sheet="7")


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_csv_lines_may_end_differently_within_one_file(tmp_path: Path, ending: str) -> None:
    lines = ["Konto,Datum,Betrag,Waehrung", "A1,2026-01-30,1.00,EUR", "A2,2026-01-30,2.00,EUR"]
    lines.append("A3,2026-01-30,3.00,EUR")
    text = lines[0] + "\r\n" + lines[1] + ending + lines[2] + "\r" + lines[3] + "\n"
    columns = {"bank_line_id": "Konto", "value_date": "Datum", "amount": "Betrag"}
    result = read(write(tmp_path, text), "bank", columns | {"currency": "Waehrung"})
    assert column(result, "bank_line_id") == ["A1", "A2", "A3"]
    assert column(result, "origin_row") == [2, 3, 4]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig", "utf-8"])
def test_a_byte_order_mark_is_no_part_of_the_header(tmp_path: Path, encoding: str) -> None:
    text = "\ufeffKonto\tDatum\tBetrag\tWaehrung\nA1\t2026-01-30\t1.00\tEUR\n"
    if encoding == "utf-16":
        text = text.removeprefix("\ufeff")  # Python's utf-16 codec writes the mark itself
    path = write(tmp_path, text, encoding=encoding)
    columns = {"bank_line_id": "Konto", "value_date": "Datum", "amount": "Betrag"}
    spec = ProfileSpec(
        "bank",
        encoding=encoding,
        columns=columns | {"currency": "Waehrung"},
        options={"delimiter": "tab"},
        display=path.name,
    )
    assert column(read_profile(path, "mapped", spec), "bank_line_id") == ["A1"]
