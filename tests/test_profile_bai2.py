"""The BAI2 profile: every shared sample, and one tiny file per rule or broken input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.shared import shared
from walletrecon.errors import InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, enforce_totals, read_profile

SAMPLES = shared("samples", "bai2")

# Expected figures worked out with sed/awk over the files, not with the reader: records split
# at '/ NN,' onto their own lines, then
#   rows:    count of '16,' records;  control: count of 01/02/03/49/98/99 records
#   sum:     16 amounts (minor units) added for type codes 100-399, subtracted for 400-699
#   totals:  the trailer figures checked by hand; sample4's 49/98/99 record counts and two
#            account totals do not match the file (they fail, as the bai2 package also reports).
GOLDEN = {
    "mojust_citi_example.bai2": (1, 6, "GBP", "0.01", 8, 0),
    "mojust_nwb_example.bai2": (5, 6, "GBP", "-26.76", 8, 0),
    "moov_sample1_cad.txt": (17, 8, "CAD", "0.00", 10, 0),
    "moov_sample3_multiple_records_per_line.txt": (26, 34, "USD", "-197.05", 36, 0),
    "moov_sample4_gs_newline_delimited.txt": (17, 14, "USD", "-307483.24", 8, 8),
    "venturehacks_eod_crlf.bai2": (1, 6, "USD", "83259.82", 8, 0),
}


def read(path: Path, mode: str = "enforce") -> ProfileResult:
    spec = ProfileSpec("bank", control_totals=mode, display="D/x.bai2")  # type: ignore[arg-type]
    return read_profile(path, "bai2", spec)


def test_every_sample_is_covered() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_sample(name: str) -> None:
    rows, control, currency, total, holding, broken = GOLDEN[name]
    result = read(SAMPLES / name)
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (rows, 0, control)
    assert set(result.rows["currency"].to_pylist()) == {currency}
    assert sum(Decimal(a) for a in result.rows["amount"].to_pylist()) == Decimal(total)
    assert sum(t.holds is True for t in result.totals) == holding
    assert sum(t.holds is False for t in result.totals) == broken
    ids = result.rows["bank_line_id"].to_pylist()
    assert len(set(ids)) == len(ids)


def test_sample_with_wrapped_text_keeps_the_whole_line() -> None:
    result = read(SAMPLES / "moov_sample3_multiple_records_per_line.txt")
    index = result.rows["origin_row"].to_pylist().index(18)
    assert result.rows["reference"][index].as_py().endswith("111111111111111 1111111111")


def test_broken_sample_stops_under_enforce() -> None:
    result = read(SAMPLES / "moov_sample4_gs_newline_delimited.txt")
    with pytest.raises(InputError, match="account 107049932: number of records: expected 26"):
        enforce_totals(result, ProfileSpec("bank", display="D/x.bai2"))


def write(tmp_path: Path, text: str, newline: str = "\n") -> Path:
    path = tmp_path / "f.bai2"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def bai(details: str, count: int, total: int, currency: str = "EUR", group_cur: str = "") -> str:
    """A one-account file; ``count`` is the records of the account (03 to 49)."""
    return (
        "01,SENDER,RECV,240105,0800,1,,,2/\n"
        f"02,RECV,SENDER,1,240105,0800,{group_cur},2/\n"
        f"03,ACC1,{currency},010,500,,/\n"
        f"{details}"
        f"49,{total},{count}/\n98,{total},1,{count + 2}/\n99,{total},1,{count + 4}/\n"
    )


def test_signs_value_dates_currency_text_and_ids(tmp_path: Path) -> None:
    details = (
        "16,142,1250,V,240103,,BREF1,CREF1,PAYOUT 42/\n88,MORE TEXT/\n"
        "16,475,300,0,,,CHEQUE/\n"
        "16,195,7,D,2,0,3,1,4,BREF2,,WIRE, WITH COMMA/\n"
    )
    result = read(write(tmp_path, bai(details, 6, 500 + 1250 + 300 + 7), "\r\n"))
    assert result.rows["amount"].to_pylist() == ["12.50", "-3.00", "0.07"]
    assert result.rows["value_date"].to_pylist() == ["2024-01-03", "2024-01-05", "2024-01-05"]
    assert result.rows["currency"].to_pylist() == ["EUR"] * 3
    assert result.rows["reference"].to_pylist() == [
        "BREF1 CREF1 PAYOUT 42 MORE TEXT",
        "CHEQUE",
        "BREF2 WIRE, WITH COMMA",
    ]
    assert result.rows["bank_line_id"].to_pylist() == [
        "ACC1:BREF1",
        "ACC1:2024-01-05:2",
        "ACC1:BREF2",
    ]
    assert result.rows["origin_row"].to_pylist() == [4, 6, 7]
    assert all(t.holds for t in result.totals)


def test_currency_falls_back_to_group_then_usd(tmp_path: Path) -> None:
    for group_cur, expected in (("JPY", ("JPY", "1250")), ("", ("USD", "12.50"))):
        text = bai("16,142,1250,,,,X/\n", 3, 1750, currency="", group_cur=group_cur)
        result = read(write(tmp_path, text))
        assert (result.rows["currency"][0].as_py(), result.rows["amount"][0].as_py()) == expected


def test_repeated_bank_reference_falls_back_to_sequence(tmp_path: Path) -> None:
    details = "16,142,1,,R1,,A/\n16,142,2,,R1,,B/\n"
    result = read(write(tmp_path, bai(details, 4, 503)))
    assert result.rows["bank_line_id"].to_pylist() == ["ACC1:2024-01-05:1", "ACC1:2024-01-05:2"]


def test_several_records_on_one_line(tmp_path: Path) -> None:
    text = bai("16,142,1,,,,A/ 16,451,2,,,,B/\n", 4, 503).replace("/\n49", "/ 49")
    result = read(write(tmp_path, text))
    assert result.rows["amount"].to_pylist() == ["0.01", "-0.02"]
    assert result.rows["origin_row"].to_pylist() == [4, 4]


def test_a_slash_glued_to_digits_and_a_comma_in_text_is_text(tmp_path: Path) -> None:
    # "2026/03, FLAT" looks like "/" + record code 03 + ","; records sharing a line are written
    # with white space after the "/" ("A/ 16,..."), so this one is the text's.
    details = (
        "16,195,5000,0,SL1,,RENT FOR 2026/03, FLAT 4\n"
        "16,195,3000,0,SL2,,PAID INVOICES 2026/01,2026/02/ 16,195,1000,0,SL3,,NEXT/\n"
    )
    result = read(write(tmp_path, bai(details, 5, 9500)))
    assert result.rows["reference"].to_pylist() == [
        "SL1 RENT FOR 2026/03, FLAT 4",
        "SL2 PAID INVOICES 2026/01,2026/02",
        "SL3 NEXT",
    ]
    assert result.records == 9 and all(total.holds for total in result.totals)


def test_an_88_continues_the_fields_of_a_16_that_ended_before_its_text(tmp_path: Path) -> None:
    # The BAI2 specification's own example: the 16 ends after its S funds fields, its 88 goes
    # on with bank reference, customer reference and text, and a second 88 adds text.
    details = (
        "16,115,10000000,S,5000000,4000000,1000000/\n"
        "88,AX13612,B096132,AMALGAMATED CORP. LOCKBOX/\n88,DEPOSIT-MISC. RECEIVABLES/\n"
        "16,142,500,0,,,CHEQUE/\n88,MORE TEXT/\n"
    )
    result = read(write(tmp_path, bai(details, 4, 10001000)))
    assert result.rows["bank_line_id"].to_pylist()[0] == "ACC1:AX13612"
    assert result.rows["reference"].to_pylist() == [
        "AX13612 B096132 AMALGAMATED CORP. LOCKBOX DEPOSIT-MISC. RECEIVABLES",
        "CHEQUE MORE TEXT",
    ]


def test_a_rejected_line_still_counts_in_the_banks_control_total(tmp_path: Path) -> None:
    # The 49 total sums the amounts as written: the 700 line (no credit or debit) is rejected
    # here, yet the bank counted it, and the file's totals hold.
    details = "16,142,1000,0,A,,OK/\n16,700,99,0,B,,LOAN INFO/\n"
    result = read(write(tmp_path, bai(details, 4, 1599)))
    assert result.rows["bank_line_id"].to_pylist() == ["ACC1:A"]
    (rejection,) = result.rejected
    assert "type code 700" in rejection.reason
    assert all(total.holds for total in result.totals)
    wrong = read(write(tmp_path, bai(details, 4, 1500)))
    broken = [total for total in wrong.totals if not total.holds]
    assert [(total.expected, total.found) for total in broken] == [("15.00", "15.99")]


def test_missing_trailer_is_an_input_error_or_a_warning(tmp_path: Path) -> None:
    text = bai("16,142,1,,,,A/\n", 3, 501).rsplit("99,", 1)[0]
    with pytest.raises(InputError, match=r"D/x.bai2: file line 1 \(line 1\) has no 99 trailer"):
        read(write(tmp_path, text))
    result = read(write(tmp_path, text), "warn")
    assert [t.holds for t in result.totals if t.holds is None] == [None]
    assert "no 99 trailer before end of file" in enforce_totals(result, ProfileSpec("bank"))[0]
    truncated = text.split("49,")[0]
    with pytest.raises(InputError, match=r"account ACC1 .*has no 49 trailer"):
        read(write(tmp_path, truncated))


def test_wrong_control_total_enforce_and_warn(tmp_path: Path) -> None:
    result = read(write(tmp_path, bai("16,142,1,,,,A/\n", 3, 999)))
    broken = [(t.scope, t.expected, t.found) for t in result.totals if t.holds is False]
    assert broken == [("account ACC1", "9.99", "5.01")]
    with pytest.raises(
        InputError, match=r"account ACC1: control total: expected 9\.99, found 5\.01 EUR"
    ):
        enforce_totals(result, ProfileSpec("bank", display="D/x.bai2"))
    assert enforce_totals(result, ProfileSpec("bank", control_totals="warn"))


def test_wrong_record_count_fails(tmp_path: Path) -> None:
    result = read(write(tmp_path, bai("16,142,1,,,,A/\n88,MORE/\n", 3, 501)))
    checks = {(t.scope, t.check): t.holds for t in result.totals}
    assert checks[("account ACC1", "number of records")] is False


def test_bad_amount_and_unsigned_type_code_are_rejected(tmp_path: Path) -> None:
    details = "16,142,12.50,,,,A/\n16,800,5,,,,B/\n16,142,1,,,,C/\n"
    result = read(write(tmp_path, bai(details, 5, 501)), "warn")
    assert result.rows.num_rows == 1
    assert [(r.row, r.column) for r in result.rejected] == [(4, "amount"), (5, "amount")]
    assert "expected an unsigned whole number of minor units" in result.rejected[0].reason
    assert "neither a credit" in result.rejected[1].reason


def test_bad_dates_and_record_codes_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 2: record 02: expected a YYMMDD date"):
        read(write(tmp_path, bai("", 2, 500).replace("240105,0800,,", "241305,0800,,")))
    with pytest.raises(InputError, match=r"line 4: expected a BAI2 record code"):
        read(write(tmp_path, bai("17,142,1,,,,A/\n", 3, 501)))
    with pytest.raises(InputError, match=r"line 1: record 02 outside a file"):
        read(write(tmp_path, "02,R,S,1,240105,0800,,2/\n"))


def test_group_separator_delimited_records_keep_physical_lines(tmp_path: Path) -> None:
    text = bai("16,142,1,,,,A\x1d16,142,2,,,,B\n", 4, 503).replace("/\n01", "\n01")
    text = "\x1d".join(text.split("\n", 1))
    result = read(write(tmp_path, text))
    assert result.rows["amount"].to_pylist() == ["0.01", "0.02"]
    assert result.rows["origin_row"].to_pylist() == [3, 3]


def test_unknown_currency_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 3: record 03: currency: expected an ISO 4217"):
        read(write(tmp_path, bai("16,142,1,,,,A/\n", 3, 501, currency="EURO")))


def test_bad_value_date_and_funds_type_reject_the_line(tmp_path: Path) -> None:
    details = "16,142,1,V,241340,,,,A/\n16,142,1,Q,,,B/\n16,142,1,,,,C/\n"
    result = read(write(tmp_path, bai(details, 5, 501)), "warn")
    assert result.rows["reference"].to_pylist() == ["C"]
    reasons = [(r.row, r.column, r.reason) for r in result.rejected]
    assert reasons[0][:2] == (4, "value_date")
    assert "line 4: value_date: expected a YYMMDD value date, found '241340'" in reasons[0][2]
    assert reasons[1][:2] == (5, "amount")
    assert "funds type: expected 0, 1, 2, V, S, D or Z, found 'Q'" in reasons[1][2]


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"D/x\.bai2: no BAI2 records; expected a 01 file header"):
        read(write(tmp_path, "\n\n"))


def test_type_code_ranges_give_the_sign_and_loan_and_status_codes_are_rejected(
    tmp_path: Path,
) -> None:
    """BAI2's detail ranges: 100-399 credits, 400-699 debits, 700-799 loan detail and 900-919
    status (no money moved on the account), 920-959 custom credits, 960-999 custom debits."""
    codes = [100, 399, 400, 699, 700, 799, 919, 920, 959, 960, 999]
    details = "".join(f"16,{code},1,,,,C{code}/\n" for code in codes)
    result = read(write(tmp_path, bai(details, len(codes) + 2, 500 + len(codes))), "warn")
    rows = result.rows
    signs = dict(zip(rows["reference"].to_pylist(), rows["amount"].to_pylist(), strict=True))
    assert signs == {
        "C100": "0.01",
        "C399": "0.01",
        "C400": "-0.01",
        "C699": "-0.01",
        "C920": "0.01",
        "C959": "0.01",
        "C960": "-0.01",
        "C999": "-0.01",
    }
    assert [r.row for r in result.rejected] == [8, 9, 10]  # the 700, 799 and 919 lines
    assert all("neither a credit" in r.reason for r in result.rejected)


@pytest.mark.parametrize("tail", ["\x1a", "\r\n\x1a", "\x1a\r\n"])
def test_a_dos_end_of_file_byte_is_no_record(tmp_path: Path, tail: str) -> None:
    text = bai("16,142,1250,,,,X/\n", 3, 1750) + tail
    result = read(write(tmp_path, text))
    assert result.rows["amount"].to_pylist() == ["12.50"]
    assert all(total.holds for total in result.totals)


@pytest.mark.parametrize(("status", "meaning"), [("4", "test only"), ("2", "deletion")])
def test_lines_of_a_test_or_deletion_group_are_rejected_naming_the_status(
    tmp_path: Path, status: str, meaning: str
) -> None:
    real = bai("16,142,1250,,,,X/\n", 3, 1750)
    test = real.replace("02,RECV,SENDER,1,", f"02,RECV,SENDER,{status},").replace("X/", "T/")
    # The test group follows the real one in one file: one 01/99 around both groups.
    groups = real.split("99,")[0] + test.split("\n", 1)[1].split("99,")[0]
    text = groups + "99,3500,2,12/\n"
    result = read(write(tmp_path, text))
    assert result.rows["amount"].to_pylist() == ["12.50"]
    (rejection,) = result.rejected
    assert f"group status: the group's status is {status} ({meaning})" in rejection.reason
    assert all(total.holds for total in result.totals)
