"""The MT940 profile: every shared sample, and one tiny statement per rule or broken input."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.shared import shared
from walletrecon.errors import InputError
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, enforce_totals, read_profile

SAMPLES = shared("samples", "mt940")

# Expected figures worked out with grep/awk over the files, not with the reader:
#   rows:     grep -a -c '^:61:' FILE
#   control:  tr -d '\001\003\032' < FILE | grep -a -c -E '^:(60[FM]|62[FM]|64|65):'
#   sums:     grep -oE of the :61: mark and amount, awk adding C/RD and subtracting D/RC
#             (currency per :25: suffix for Rabobank); holding/broken statement totals by an
#             awk pass adding the :61: amounts to :60F: and comparing with :62F:.
GOLDEN = {
    "asnb_envelope_multi_statement.txt": (8, 62, {"EUR": "56.94"}, 31, 0),
    "betterplace_sepa_mt9401.sta": (97, 72, {"EUR": "-9269135.90"}, 26, 0),
    "citi_zero_amount_bai_codes.txt": (5, 3, {"USD": "-1142.75"}, 1, 0),
    "danskebank_dk_example.sta": (89, 44, {"DKK": "1372452.77"}, 15, 0),
    "deutschebank_sepa_return.txt": (1, 2, {"EUR": "-12.35"}, 0, 1),
    "hsbc_hk_crlf.txt": (1, 3, {"HKD": "-20000.00"}, 0, 1),
    "mbank_pln.sta": (3, 3, {"PLN": "0.03"}, 1, 0),
    "rabobank_legacy_dot_decimal.txt": (
        39,
        98,
        {"EUR": "32791.51", "USD": "164800.31", "JPY": "1153510"},
        10,
        29,
    ),
    "raiffeisen_hu_cp852.sta": (7, 6, {"HUF": "-1012213.50"}, 0, 1),
    "sparkasse_interim_balance.txt": (2, 7, {"EUR": "-40.00"}, 3, 0),
}


def read(path: Path, encoding: str = "utf-8", mode: str = "enforce") -> ProfileResult:
    spec = ProfileSpec("bank", encoding=encoding, control_totals=mode, display="D/x.sta")  # type: ignore[arg-type]
    return read_profile(path, "mt940", spec)


def sums(result: ProfileResult) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in zip(
        result.rows["amount"].to_pylist(), result.rows["currency"].to_pylist(), strict=True
    ):
        out[currency] += Decimal(amount)
    return dict(out)


def test_every_sample_is_covered() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_sample(name: str) -> None:
    rows, control, expected, holding, broken = GOLDEN[name]
    result = read(SAMPLES / name, "cp852" if "cp852" in name else "utf-8", "warn")
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (rows, 0, control)
    assert sums(result) == {k: Decimal(v) for k, v in expected.items()}
    assert sum(t.holds is True for t in result.totals) == holding
    assert sum(t.holds is False for t in result.totals) == broken
    ids = result.rows["bank_line_id"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert read(SAMPLES / name, "cp852" if "cp852" in name else "utf-8", "warn").rows.equals(
        result.rows
    )


def test_sample_origin_rows_point_at_the_61_lines() -> None:
    path = SAMPLES / "danskebank_dk_example.sta"
    lines = path.read_text(encoding="utf-8").splitlines()
    for row in read(path).rows["origin_row"].to_pylist():
        assert lines[row - 1].startswith(":61:")


def test_cp852_sample_read_as_utf8_names_the_byte_offset() -> None:
    with pytest.raises(InputError, match=r"D/x.sta: byte offset \d+"):
        read(SAMPLES / "raiffeisen_hu_cp852.sta")


def test_cp852_text_decodes() -> None:
    result = read(SAMPLES / "raiffeisen_hu_cp852.sta", "cp852", "warn")
    assert "összevont" in " ".join(result.rows["reference"].to_pylist())


def write(tmp_path: Path, text: str, newline: str = "\n", raw: bytes = b"") -> Path:
    path = tmp_path / "s.sta"
    path.write_bytes(text.replace("\n", newline).encode("utf-8") + raw)
    return path


def statement(
    lines: str, opening: str = "C240101EUR100,00", closing: str = "C240102EUR90,00"
) -> str:
    return f":20:REF1\n:25:NL01BANK0123\n:28C:7/1\n:60F:{opening}\n{lines}:62F:{closing}\n-\n"


def test_signs_funds_code_reversals_and_amount_forms(tmp_path: Path) -> None:
    body = (
        ":61:2401020102C5,NTRFPAYOUT1//B1\n"
        ":61:240102DR20,00NMSCNONREF\n"
        ":61:240102RC1,50NTRFX\n"
        ":61:240102RDE6,5NTRFY\n"
    )
    result = read(write(tmp_path, statement(body)))
    assert result.rows["amount"].to_pylist() == ["5", "-20.00", "-1.50", "6.5"]
    assert result.rows["currency"].to_pylist() == ["EUR"] * 4
    assert result.rows["value_date"].to_pylist() == ["2024-01-02"] * 4
    assert [t.holds for t in result.totals] == [True]


def test_ids_are_stable_distinct_and_from_the_statement(tmp_path: Path) -> None:
    body = ":61:240102D5,00NTRFA\n:61:240102D5,00NTRFA\n"
    ids = read(write(tmp_path, statement(body))).rows["bank_line_id"].to_pylist()
    assert ids == ["NL01BANK0123:REF1:7/1:240101:1", "NL01BANK0123:REF1:7/1:240101:2"]


def test_reference_holds_refs_details_and_structured_86(tmp_path: Path) -> None:
    body = (
        ":61:240102D10,00NTRFCUST1//BANK9\n/OCMT/EUR9,50//CHGS/EUR0,50/\n"
        ":86:166?00GUTSCHRIFT?20PAYOUT-4?21711 done\n?30BIC\n"
    )
    reference = read(write(tmp_path, statement(body))).rows["reference"].to_pylist()[0]
    assert (
        reference == "CUST1 BANK9 /OCMT/EUR9,50//CHGS/EUR0,50/ 166 GUTSCHRIFT PAYOUT-4711 done BIC"
    )


def test_statement_level_86_is_not_a_line_text(tmp_path: Path) -> None:
    text = statement(":61:240102D10,00NTRFX\n:86:LINE TEXT\n") + ""
    text = text.replace(":62F:", ":64:C240102EUR90,00\n:86:STATEMENT TEXT\n:62F:")
    result = read(write(tmp_path, text))
    assert result.rows["reference"].to_pylist() == ["X LINE TEXT"]
    assert len(result.control) == 3


def test_envelope_preamble_framing_crlf_and_eof_byte(tmp_path: Path) -> None:
    text = (
        "Exported statements\n------\n\x01\n{1:F01BANK}{2:O940}{4:\n"
        + statement(":61:240102D10,00NTRFX\n\n:86:multi\n line\n").replace("\n-\n", "\n-}{5:}\n")
        + "\x03\n"
    )
    result = read(write(tmp_path, text, "\r\n", b"\x1a"))
    assert result.rows["reference"].to_pylist() == ["X multi line"]
    assert result.rows["origin_row"].to_pylist() == [9]
    assert [t.holds for t in result.totals] == [True]


def test_value_date_century_follows_the_balances(tmp_path: Path) -> None:
    body = ":61:000102C10,00NTRFX\n"
    text = statement(body, "C991231EUR0,00", "C000102EUR10,00")
    assert read(write(tmp_path, text)).rows["value_date"].to_pylist() == ["2000-01-02"]


def test_legacy_dot_decimal_layout_and_28(tmp_path: Path) -> None:
    text = (
        ":940:\n:20:940A1\n:25:0800 EUR\n:28:00000/00\n:60F:C030106EUR000000000100.00\n"
        ":61:030109D000000000030.50NMSC123\n:62F:C030107EUR000000000069.50\n"
    )
    result = read(write(tmp_path, text))
    assert result.rows["amount"].to_pylist() == ["-30.50"]
    assert [t.holds for t in result.totals] == [True]


def test_missing_or_malformed_closing_balance_is_a_warning(tmp_path: Path) -> None:
    truncated = ":20:R\n:25:A\n:28C:1\n:60F:C240101EUR1,00\n:61:240102C1,00NTRFX\n"
    for text in (truncated, statement(":61:240102D10,00NTRFX\n", closing="C2401EUR9")):
        result = read(write(tmp_path, text))
        assert [t.holds for t in result.totals] == [None]
        warnings = enforce_totals(result, ProfileSpec("bank", display="D/x.sta"))
        assert "could not be checked" in warnings[0]


def test_wrong_totals_stop_with_enforce_and_warn_with_warn(tmp_path: Path) -> None:
    path = write(tmp_path, statement(":61:240102D11,00NTRFX\n"))
    result = read(path)
    assert [(t.expected, t.found, t.holds) for t in result.totals] == [("90.00", "89.00", False)]
    with pytest.raises(InputError, match=r"expected 90\.00, found 89\.00 EUR"):
        enforce_totals(result, ProfileSpec("bank", display="D/x.sta"))
    warn = ProfileSpec("bank", control_totals="warn", display="D/x.sta")
    assert "expected 90.00, found 89.00" in enforce_totals(result, warn)[0]


def test_bad_amount_and_bad_date_are_rejected_with_reasons(tmp_path: Path) -> None:
    body = ":61:240102D1,2,3NTRFX\n:61:241302D1,00NTRFX\n:61:240102D5,00NTRFX\n"
    result = read(write(tmp_path, statement(body, closing="C240102EUR95,00")))
    assert result.rows.num_rows == 1
    assert [(r.row, r.column) for r in result.rejected] == [(5, "amount"), (6, "value_date")]
    assert "expected digits with one decimal comma" in result.rejected[0].reason
    assert "expected a YYMMDD date" in result.rejected[1].reason
    assert result.records == 5


def test_stray_text_and_missing_headers_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"D/x.sta: line 8: expected a tag"):
        read(write(tmp_path, statement(":61:240102D10,00NTRFX\n") + "garbage\n"))
    with pytest.raises(InputError, match=r"line 1: expected ':20:' before ':25:'"):
        read(write(tmp_path, ":25:A\n:60F:C240101EUR1,00\n"))
    with pytest.raises(InputError, match=r"line 1: statement without ':25:'"):
        read(write(tmp_path, ":20:R\n:60F:C240101EUR1,00\n"))


def test_a_repeated_statement_is_an_input_error(tmp_path: Path) -> None:
    one = statement(":61:240102D10,00NTRFX\n")
    with pytest.raises(InputError, match=r"bank_line_id .* repeats line 5"):
        read(write(tmp_path, one + one))


def test_text_lines_starting_with_dash_or_brace_stay_in_the_86(tmp_path: Path) -> None:
    body = ":61:240102D10,00NTRFX\n:86:first\n-second\n{third}\n"
    result = read(write(tmp_path, statement(body)))
    assert result.rows["reference"].to_pylist() == ["X first -second {third}"]


def test_file_without_statements_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"D/x\.sta: no MT940 statement; expected a ':20:' line"):
        read(write(tmp_path, "Just a letter\n-----\n"))


def test_rejected_line_notes_only_its_own_statement(tmp_path: Path) -> None:
    bad = statement(":61:240102D1,2,3NTRFX\n", closing="C240102EUR100,00")
    good = statement(":61:240102D10,00NTRFX\n").replace("REF1", "REF2")
    result = read(write(tmp_path, bad + good))
    assert [t.note for t in result.totals] == ["rejected lines are not in the sum", ""]


def page(number: str, opening: str, lines: str, closing: str) -> str:
    """One page of a statement that runs over several messages (``:28C:`` 7/1, 7/2, ...)."""
    return f":20:REF1\n:25:NL01BANK0123\n:28C:{number}\n{opening}\n{lines}{closing}\n-\n"


def test_a_statement_over_pages_checks_each_page_from_its_interim_balances(
    tmp_path: Path,
) -> None:
    first = page("7/1", ":60F:C240101EUR100,00", ":61:240102D10,00NTRFA\n", ":62M:C240102EUR90,00")
    second = page("7/2", ":60M:C240102EUR90,00", ":61:240102C5,00NTRFB\n", ":62F:C240102EUR95,00")
    result = read(write(tmp_path, first + second))
    assert result.rows["amount"].to_pylist() == ["-10.00", "5.00"]
    assert [t.holds for t in result.totals] == [True, True]
    assert len(result.control) == 4  # :60F: :62M: :60M: :62F:
    # A page whose interim closing balance is off stops the night like any statement.
    wrong = page("7/2", ":60M:C240102EUR90,00", ":61:240102C5,00NTRFB\n", ":62F:C240102EUR96,00")
    result = read(write(tmp_path, first + wrong))
    assert [t.holds for t in result.totals] == [True, False]
    with pytest.raises(InputError, match=r"no\. 7/2.*expected 96\.00, found 95\.00 EUR"):
        enforce_totals(result, ProfileSpec("bank", display="D/x.sta"))


def test_non_swift_ns_fields_are_not_line_text_and_keep_the_86_with_its_line(
    tmp_path: Path,
) -> None:
    body = (
        ":61:240102D4,00NTRFA\n:NS:01Kontoauszug\n22 bank's own\n:86:after the NS\n"
        ":61:240102D6,00NTRFB\n:86:before the NS\n:NS:22more\n"
    )
    result = read(write(tmp_path, statement(body)))
    assert result.rows["reference"].to_pylist() == ["A after the NS", "B before the NS"]
    assert len(result.rejected) == 0 and [t.holds for t in result.totals] == [True]


@pytest.mark.parametrize("separator", ["-\n$\n", "-\n$", "\n$"])
def test_rje_dollar_parts_messages(tmp_path: Path, separator: str) -> None:
    first = statement(":61:240102D10,00NTRFX\n").removesuffix("-\n")
    second = statement(":61:240103D5,00NTRFY\n", "C240102EUR90,00", "C240103EUR85,00")
    second = second.replace(":20:REF1", ":20:REF2")
    result = read(write(tmp_path, first + separator + second))
    assert result.rows["amount"].to_pylist() == ["-10.00", "-5.00"]
    assert result.rows["origin_row"].to_pylist()[1] > result.rows["origin_row"].to_pylist()[0]
    assert [t.holds for t in result.totals] == [True, True]


def test_a_second_line_under_a_balance_stops_the_file_naming_it(tmp_path: Path) -> None:
    text = statement(":61:240102D10,00NTRFX\n").replace(
        "EUR90,00\n", "EUR90,00\nEnde der Anzeige\n"
    )
    with pytest.raises(
        InputError,
        match=r"line 6: a ':62F:' balance takes one line; the line "
        r"after it holds 'Ende der Anzeige'",
    ):
        read(write(tmp_path, text))
