"""The camt profile: ISO 20022 camt.053/camt.054 files into canonical bank rows, with every
entry, balance and summary accounted for, control figures checked, and broken files refused
with the file, line or element, and what was expected."""

from __future__ import annotations

import codecs
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from walletrecon.errors import ConfigError, InputError
from walletrecon.sources.profiles import (
    ControlTotal,
    ProfileResult,
    ProfileSpec,
    broken_totals,
    enforce_totals,
    read_profile,
)

# The shared samples sit beside the checkout: /work/shared for /work/main, and two levels up
# for a worktree under /work/wt.
SAMPLES = next(
    (
        base / "shared" / "samples" / "camt053"
        for base in Path(__file__).resolve().parents[1:4]
        if (base / "shared" / "samples" / "camt053").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "camt053",
)
NS = "urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.{version}"
DATES = "<BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-21</Dt></ValDt>"


def read(path: Path, control: str = "warn", **options: str) -> ProfileResult:
    spec = ProfileSpec(source="bank", control_totals=control, options=options, display=path.name)  # type: ignore[arg-type]
    return read_profile(path, "camt", spec)


def sums(result: ProfileResult) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in result.rows.to_pylist():
        totals[row["currency"]] += Decimal(row["amount"])
    return dict(totals)


def entry(
    amount: str = "10.00",
    ccy: str = "EUR",
    ind: str = "CRDT",
    sts: str = "<Sts>BOOK</Sts>",
    dates: str = DATES,
    head: str = "",
    tail: str = "",
) -> str:
    indicator = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    amt = f'<Amt Ccy="{ccy}">{amount}</Amt>' if amount is not None else ""
    return f"<Ntry>{head}{amt}{indicator}{sts}{dates}{tail}</Ntry>"


def bal(code: str, amount: str, ind: str | None = "CRDT", ccy: str = "EUR") -> str:
    indicator = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">{amount}</Amt>'
        f"{indicator}<Dt><Dt>2026-11-21</Dt></Dt></Bal>"
    )


def stmt(*parts: str, ident: str = "S1", tag: str = "Stmt") -> str:
    return (
        f"<{tag}><Id>{ident}</Id><CreDtTm>2026-11-22T01:00:00+08:00</CreDtTm>\n"
        + "\n".join(parts)
        + f"\n</{tag}>"
    )


def document(*statements: str, kind: str = "053", version: str = "02") -> str:
    message = "BkToCstmrStmt" if kind == "053" else "BkToCstmrDbtCdtNtfctn"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{NS.format(kind=kind, version=version)}"><{message}>\n'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-22T01:00:00+08:00</CreDtTm></GrpHdr>\n"
        + "\n".join(statements)
        + f"\n</{message}></Document>\n"
    )


def write(tmp_path: Path, text: str, name: str = "stmt.xml", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def one_statement(tmp_path: Path, *parts: str, **options: str) -> ProfileResult:
    return read(write(tmp_path, document(stmt(*parts))), **options)


def checks(result: ProfileResult, element: str) -> list[ControlTotal]:
    """The control totals whose check names this element (TxsSummry, Btch)."""
    return [total for total in result.totals if f"/{element}/" in total.check]


# --- the shared samples ---------------------------------------------------------------------

# Golden figures, worked out apart from the reader: the entries and their signed sums with
#   tr -d '\n' < FILE | perl -ne 'while (/<Ntry>\s*(?:<NtryRef>[^<]*<\/NtryRef>\s*)?
#     <Amt Ccy="(\w+)">([\d.]+)<\/Amt>\s*<CdtDbtInd>(\w+)<\/CdtDbtInd>(.*?)<\/Ntry>/g)
#     { sum per (first <Sts> or <Sts><Cd> after it, currency): CRDT +, DBIT - }'
# and the records with grep -o '<Ntry>' / '<Bal>' / '<TxsSummry>' FILE | wc -l.
# Balances by hand from each file's OPBD/CLBD. Columns: rows, rejected, control, records,
# signed sum of the rows per currency, checked totals that do not hold, unchecked totals.
GOLDEN = {
    # 268 BOOK entries, EUR +28168.75; OPBD 59370.37 + 28168.75 = CLBD 87539.12.
    "be_monthly_camt053_v2_2024-11_anonymised.xml": (268, 0, 2, 270, {"EUR": "28168.75"}, 0, 0),
    # two statements: 18.15 + 8.85 = 27.00 and 27.00 - 7.00 = 20.00.
    "genkgo_camt053_v2_multi_statement.xml": (2, 0, 4, 6, {"EUR": "1.85"}, 0, 0),
    # OPBD in EUR, CLBD in SEK: neither currency can be checked.
    "genkgo_camt053_v8_multi_currency_balances.xml": (1, 0, 4, 5, {"EUR": "8.85"}, 0, 2),
    # 3 entries (EUR +2934.26), 6 balances, 1 summary; 7329.80 + 2934.26 = 10264.06, not the
    # CLBD 23038.20; the summary's 35 entries (9 credit, 26 debit) and sums do not match either;
    # the batch of 3 carries no TxDtls (unchecked).
    "ing_nl_camt053_v2_batch.xml": (3, 0, 7, 10, {"EUR": "2934.26"}, 7, 1),
    # one INFO entry (DBIT 194672.25): not booked, a control record.
    "lt_camt054_v10_batch_2024-03-18_anonymised.xml": (0, 0, 1, 1, {}, 0, 0),
    # 3 entries without Sts (EUR +822737.81): 21081222.58 + 822737.81 = 21903960.39; the
    # second statement has no entries (4801.55 both); batches of 86 and 3 give 1 TxDtls each.
    "lt_daily_camt053_v08_2024-03-07_anonymised.xml": (3, 0, 4, 7, {"EUR": "822737.81"}, 0, 2),
    # 13 BOOK entries with 2 DBIT reversals, CHF +537.61: 322152.16 + 537.61 = 322689.77.
    "postfinance_ch_camt053_v4_reversals.xml": (13, 0, 2, 15, {"CHF": "537.61"}, 0, 0),
    # 4 BOOK entries, CHF +59.03, no balances (camt.054).
    "postfinance_ch_camt054_v4.xml": (4, 0, 0, 4, {"CHF": "59.03"}, 0, 0),
}


def test_every_sample_of_the_format_has_golden_figures() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.xml")) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_sample_reads_to_its_golden_figures(name: str) -> None:
    rows, rejected, control, records, money, broken, unchecked = GOLDEN[name]
    result = read(SAMPLES / name)
    assert (result.rows.num_rows, len(result.rejected), len(result.control)) == (
        rows,
        rejected,
        control,
    )
    assert result.records == records
    assert sums(result) == {ccy: Decimal(v) for ccy, v in money.items()}
    assert len(broken_totals(result)) == broken
    assert sum(1 for t in result.totals if t.holds is None) == unchecked
    ids = result.rows.column("bank_line_id").to_pylist()
    assert len(set(ids)) == len(ids)


def test_ing_excerpt_fails_under_enforce_naming_statement_and_figures() -> None:
    path = SAMPLES / "ing_nl_camt053_v2_batch.xml"
    spec = ProfileSpec(source="bank", display=path.name)
    with pytest.raises(InputError) as caught:
        enforce_totals(read_profile(path, "camt", spec), spec)
    message = str(caught.value)
    assert "ing_nl_camt053_v2_batch.xml" in message
    assert "statement 2019062434566666666666666" in message
    assert "expected 23038.20, found 10264.06 EUR" in message


def test_ing_excerpt_reads_with_warnings_under_warn() -> None:
    path = SAMPLES / "ing_nl_camt053_v2_batch.xml"
    spec = ProfileSpec(source="bank", display=path.name, control_totals="warn")
    warnings = enforce_totals(read_profile(path, "camt", spec), spec)
    assert any("expected 23038.20, found 10264.06" in w for w in warnings)
    assert any("NbOfTxs" in w and "could not be checked" in w for w in warnings)


def test_reversal_keeps_the_sign_of_its_indicator_and_balances_hold() -> None:
    result = read(SAMPLES / "postfinance_ch_camt053_v4_reversals.xml")
    by_id = {r["bank_line_id"]: r["amount"] for r in result.rows.to_pylist()}
    # Ntry[12]: DBIT with RvslInd=true (a reversed credit) is money out.
    assert by_id["20160410375244000000000000000082"] == "-6.00"
    assert all(t.holds for t in result.totals)


def test_sample_rows_carry_origin_and_reference() -> None:
    result = read(SAMPLES / "ing_nl_camt053_v2_batch.xml")
    first = result.rows.to_pylist()[1]
    assert first == {
        "bank_line_id": "s8ecaaf0f96f492f603167c748a0b1c6",
        "amount": "2688.00",
        "currency": "EUR",
        "value_date": "2019-06-13",
        "reference": "032019164412145727005003002 | s8ecaaf0f96f492f603167c748a0b1c6 | "
        "GBSXX21170607391766562 | TERUGGAAF",
        "origin_row": 148,
        "origin_element": "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]",
    }


# --- versions and document kinds ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["053", "054"])
@pytest.mark.parametrize("version", [f"{n:02d}" for n in range(2, 11)])
def test_every_version_from_02_to_10_is_read(tmp_path: Path, kind: str, version: str) -> None:
    tag = "Stmt" if kind == "053" else "Ntfctn"
    sts = "<Sts>BOOK</Sts>" if version < "08" else "<Sts><Cd>BOOK</Cd></Sts>"
    text = document(stmt(entry("5", sts=sts), tag=tag), kind=kind, version=version)
    result = read(write(tmp_path, text))
    assert result.rows.column("amount").to_pylist() == ["5"]
    assert result.warnings == []


@pytest.mark.parametrize("version", ["01", "11"])
def test_versions_outside_02_to_10_are_refused(tmp_path: Path, version: str) -> None:
    with pytest.raises(InputError, match=rf"camt\.053\.001\.{version} is not read; expected"):
        read(write(tmp_path, document(stmt(entry()), version=version)))


def test_a_document_that_is_not_camt_says_what_was_expected(tmp_path: Path) -> None:
    text = document(stmt(entry())).replace("camt.053.001.02", "pain.001.001.03")
    with pytest.raises(InputError) as caught:
        read(write(tmp_path, text, "pain.xml"))
    message = str(caught.value)
    assert message.startswith("pain.xml: line 2: expected a <Document> in namespace")
    assert "camt.053.001.NN or camt.054.001.NN" in message
    assert "found <Document> in namespace urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" in message


def test_a_wrong_root_element_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"found <Statement> in namespace \(none\)"):
        read(write(tmp_path, "<Statement><Ntry/></Statement>\n"))


def test_a_message_without_statements_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"BkToCstmrStmt: expected at least one <Stmt>"):
        read(write(tmp_path, document()))


def test_a_truncated_file_names_line_and_column(tmp_path: Path) -> None:
    text = document(stmt(entry(), entry()))
    cut = text[: text.index("</Ntry>") + 3]
    with pytest.raises(InputError) as caught:
        read(write(tmp_path, cut, "cut.xml"))
    message = str(caught.value)
    assert message.startswith("cut.xml: line 5, column ")
    assert "not well-formed XML" in message
    assert "expected a complete camt message" in message


def test_single_line_documents_keep_elements_apart(tmp_path: Path) -> None:
    text = document(stmt(entry("1"), entry("2"))).replace("\n", "")
    result = read(write(tmp_path, text))
    rows = result.rows.to_pylist()
    assert [r["origin_row"] for r in rows] == [1, 1]
    assert [r["origin_element"] for r in rows] == [
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]",
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]",
    ]


# --- safety ---------------------------------------------------------------------------------

LAUGHS = "".join(
    f'<!ENTITY {n} "{("&" + p + ";") * 30}">\n' for p, n in zip("abcd", "bcde", strict=True)
)
BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE Document [\n<!ENTITY a "'
    + "a" * 60
    + '">\n'
    + LAUGHS
    + "]>\n"
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>\n'
    '<Stmt><Id>&e;</Id><Ntry><Amt Ccy="EUR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Stmt>\n'
    "</BkToCstmrStmt></Document>\n"
)


def test_entity_expansion_is_refused_not_expanded(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"a DTD is not allowed in a camt message"):
        read(write(tmp_path, BOMB))


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = write(tmp_path, "TOP-SECRET", "secret.txt")
    text = (
        BOMB.split("[", 1)[0] + f'[<!ENTITY e SYSTEM "file://{secret}">]>' + BOMB.split("]>", 1)[1]
    )
    with pytest.raises(InputError) as caught:
        read(write(tmp_path, text))
    assert "TOP-SECRET" not in str(caught.value)


# --- encodings ------------------------------------------------------------------------------


def test_a_file_not_in_its_declared_encoding_names_the_byte_offset(tmp_path: Path) -> None:
    text = document(stmt(entry(tail="<AddtlNtryInf>Gebühr</AddtlNtryInf>")))
    path = write(tmp_path, text, encoding="latin-1")
    offset = text.encode("latin-1").index("ü".encode("latin-1"))
    with pytest.raises(InputError, match=rf"stmt.xml: byte offset {offset}: .* not valid utf-8"):
        read(path)


def test_a_declared_encoding_other_than_utf8_is_read(tmp_path: Path) -> None:
    text = document(stmt(entry(tail="<AddtlNtryInf>Gebühr</AddtlNtryInf>")))
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path = write(tmp_path, text, encoding="latin-1")
    spec = ProfileSpec(source="bank", encoding="latin-1", control_totals="warn")
    result = read_profile(path, "camt", spec)
    assert result.rows.column("reference").to_pylist() == ["Gebühr"]


def test_the_xml_declaration_names_the_encoding_when_the_input_keeps_the_default(
    tmp_path: Path,
) -> None:
    text = document(stmt(entry(tail="<AddtlNtryInf>Gebühr</AddtlNtryInf>")))
    text = text.replace('encoding="UTF-8"', "encoding='iso-8859-1'")
    assert read(write(tmp_path, text, encoding="latin-1")).rows.column("reference").to_pylist() == [
        "Gebühr"
    ]


def test_an_encoding_set_on_the_input_wins_over_a_wrong_declaration(tmp_path: Path) -> None:
    text = document(stmt(entry(tail="<AddtlNtryInf>€ Gebühr</AddtlNtryInf>")))
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')  # wrong: the file is cp1252
    path = write(tmp_path, text, encoding="cp1252")
    spec = ProfileSpec(source="bank", encoding="cp1252", control_totals="warn")
    assert read_profile(path, "camt", spec).rows.column("reference").to_pylist() == ["€ Gebühr"]


# --- signs, amounts and currencies ----------------------------------------------------------


def test_credit_is_money_in_and_debit_money_out(tmp_path: Path) -> None:
    result = one_statement(tmp_path, entry("12.50", ind="CRDT"), entry("3", ind="DBIT"))
    assert result.rows.column("amount").to_pylist() == ["12.50", "-3"]


@pytest.mark.parametrize(("ind", "amount"), [("DBIT", "-7.00"), ("CRDT", "7.00")])
def test_a_reversal_is_signed_by_its_own_indicator(tmp_path: Path, ind: str, amount: str) -> None:
    # ISO 20022: DBIT + RvslInd=true reverses a credit (money out); CRDT + RvslInd reverses a debit.
    reversal = entry("7.00", ind=ind, sts="<RvslInd>true</RvslInd><Sts>BOOK</Sts>")
    closing = "93.00" if ind == "DBIT" else "107.00"
    result = one_statement(tmp_path, bal("OPBD", "100.00"), bal("CLBD", closing), reversal)
    assert result.rows.column("amount").to_pylist() == [amount]
    assert [t.holds for t in result.totals] == [True]


def test_amounts_without_decimals_and_zero_decimal_currencies(tmp_path: Path) -> None:
    result = one_statement(tmp_path, entry("50000"), entry("2700", ccy="JPY", ind="DBIT"))
    assert result.rows.column("amount").to_pylist() == ["50000", "-2700"]
    assert result.rows.column("currency").to_pylist() == ["EUR", "JPY"]


@pytest.mark.parametrize(
    ("bad", "column", "element", "expected"),
    [
        (entry("12,50"), "amount", "Ntry[2]/Amt", "'12,50' is not an amount; expected digits"),
        (entry("-5.00"), "amount", "Ntry[2]/Amt", "'-5.00' is not an amount"),
        (entry(""), "amount", "Ntry[2]/Amt", "'' is not an amount"),
        (entry("1.005"), "amount", "Ntry[2]/Amt", "more than 2 decimal places for EUR"),
        (entry(ccy="XYZ"), "currency", "Ntry[2]/Amt/@Ccy", "'XYZ' is not an ISO 4217"),
        (entry(ind=""), "amount", "Ntry[2]/CdtDbtInd", "expected CRDT or DBIT, found None"),
        (entry(ind="CR"), "amount", "Ntry[2]/CdtDbtInd", "expected CRDT or DBIT, found 'CR'"),
        (
            "<Ntry><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>",
            "amount",
            "Ntry[2]/Amt",
            "missing; expected the amount",
        ),
        (
            entry(dates="<ValDt><Dt>2026-13-01</Dt></ValDt>"),
            "value_date",
            "Ntry[2]/ValDt",
            "'2026-13-01' is not a date; expected Dt as YYYY-MM-DD",
        ),
        (
            entry(dates="<BookgDt><DtTm>yesterday</DtTm></BookgDt>"),
            "value_date",
            "Ntry[2]/BookgDt",
            "'yesterday' is not a date",
        ),
        (entry(sts="<Sts>DONE</Sts>"), None, "Ntry[2]/Sts", "expected one of BOOK, PDNG"),
    ],
)
def test_an_entry_that_does_not_map_is_rejected_with_its_element(
    tmp_path: Path, bad: str, column: str | None, element: str, expected: str
) -> None:
    result = one_statement(tmp_path, entry("1.00"), bad, entry("2.00"))
    assert result.rows.column("amount").to_pylist() == ["1.00", "2.00"]
    [rejected] = result.rejected
    assert rejected.element == f"Document/BkToCstmrStmt/Stmt[1]/{element}"
    assert rejected.column == column
    assert expected in rejected.reason
    assert rejected.row == 6
    assert rejected.raw.startswith("<Ntry>") and "xmlns" not in rejected.raw


def test_a_rejected_entry_leaves_the_balance_unchecked(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path, bal("OPBD", "0"), bal("CLBD", "5.00"), entry("5.00"), entry("x")
    )
    [total] = result.totals
    assert total.holds is None
    assert "1 entries of the statement were rejected" in total.note


# --- statuses -------------------------------------------------------------------------------


def test_pending_and_info_entries_are_control_records_not_bank_lines(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path,
        entry("1.00"),
        entry("2.00", sts="<Sts>PDNG</Sts>"),
        entry("4.00", sts="<Sts><Cd>INFO</Cd></Sts>"),
    )
    assert result.rows.column("amount").to_pylist() == ["1.00"]
    assert [c.kind for c in result.control] == ["entry PDNG: not booked", "entry INFO: not booked"]
    assert [c.element for c in result.control] == [
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]",
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[3]",
    ]
    assert sum("not booked: counted as control" in w for w in result.warnings) == 2


def test_pending_entries_stay_out_of_the_balance(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path,
        bal("OPBD", "10.00"),
        bal("CLBD", "11.00"),
        entry("1.00"),
        entry("50.00", sts="<Sts>PDNG</Sts>"),
    )
    assert [t.holds for t in result.totals] == [True]


@pytest.mark.parametrize("statuses", ["BOOK, info", "INFO"])
def test_the_statuses_option_makes_info_entries_bank_lines(tmp_path: Path, statuses: str) -> None:
    path = write(tmp_path, document(stmt(entry("4.00", sts="<Sts>INFO</Sts>"), entry("1.00"))))
    result = read(path, statuses=statuses)
    assert result.rows.column("amount").to_pylist() == ["4.00", "1.00"]
    assert result.control == []


@pytest.mark.parametrize("options", [{"statuses": "BOOK,DONE"}, {"statuses": ""}, {"colour": "x"}])
def test_a_bad_option_is_a_configuration_error(tmp_path: Path, options: dict[str, str]) -> None:
    path = write(tmp_path, document(stmt(entry())))
    with pytest.raises(ConfigError, match="camt profile"):
        read(path, **options)


def test_an_entry_without_status_is_booked_with_a_warning(tmp_path: Path) -> None:
    result = one_statement(tmp_path, bal("OPBD", "0"), bal("CLBD", "3"), entry("3", sts=""))
    assert result.rows.column("amount").to_pylist() == ["3"]
    assert [t.holds for t in result.totals] == [True]
    assert any("1 entries have no Sts: read as booked" in w for w in result.warnings)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "value_date"),
    [
        (DATES, "2026-11-21"),
        ("<BookgDt><Dt>2026-11-20</Dt></BookgDt>", "2026-11-20"),
        ("<ValDt><DtTm>2026-11-19T23:30:00-05:00</DtTm></ValDt>", "2026-11-19"),
        ("<BookgDt><DtTm>2026-11-18T08:00:00.123Z</DtTm></BookgDt>", "2026-11-18"),
    ],
)
def test_value_date_is_valdt_then_bookgdt(tmp_path: Path, dates: str, value_date: str) -> None:
    result = one_statement(tmp_path, entry(dates=dates))
    assert result.rows.column("value_date").to_pylist() == [value_date]
    assert result.warnings == []


def test_an_undated_entry_takes_the_closing_balance_date(tmp_path: Path) -> None:
    result = one_statement(tmp_path, bal("OPBD", "0"), bal("CLBD", "1"), entry("1", dates=""))
    assert result.rows.column("value_date").to_pylist() == ["2026-11-21"]
    assert any("neither ValDt nor BookgDt" in w for w in result.warnings)


def test_an_undated_notification_entry_takes_its_creation_date(tmp_path: Path) -> None:
    text = document(stmt(entry("1", dates=""), tag="Ntfctn"), kind="054", version="10")
    result = read(write(tmp_path, text))
    assert result.rows.column("value_date").to_pylist() == ["2026-11-22"]
    assert result.totals == []


# --- references and ids ---------------------------------------------------------------------

DETAILS = (
    "<NtryDtls><Btch><PmtInfId>PI-1</PmtInfId></Btch>"
    "<TxDtls><Refs><InstrId>NOTPROVIDED</InstrId><EndToEndId>E2E-1</EndToEndId>"
    "<TxId>TX-1</TxId></Refs><RmtInf><Ustrd>payout  PO-77\n for Nov</Ustrd>"
    "<Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>"
    "<AddtlTxInf>E2E-1</AddtlTxInf></TxDtls>"
    "<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId><InstrId>IN-2</InstrId></Refs>"
    "<RmtInf><Ustrd>payout PO-78</Ustrd></RmtInf></TxDtls></NtryDtls>"
)


def test_reference_joins_ids_and_remittance_once_in_a_fixed_order(tmp_path: Path) -> None:
    head = "<NtryRef>NR-1</NtryRef>"
    tail = f"<AcctSvcrRef>ASR-1</AcctSvcrRef>{DETAILS}<AddtlNtryInf>Batch PO-77</AddtlNtryInf>"
    result = one_statement(tmp_path, entry(head=head, tail=tail))
    assert result.rows.column("reference").to_pylist() == [
        "NR-1 | ASR-1 | E2E-1 | E2E-2 | TX-1 | PI-1 | IN-2 | payout PO-77 for Nov | "
        "payout PO-78 | RF18539007547034 | Batch PO-77"
    ]


def test_structured_remittance_text_and_document_numbers_are_in_the_reference(
    tmp_path: Path,
) -> None:
    details = (
        "<NtryDtls><TxDtls><RmtInf><Strd><RfrdDocInf><Nb>INV-2026-77</Nb></RfrdDocInf>"
        "<AddtlRmtInf>ADYEN PAYOUT PO-7788</AddtlRmtInf></Strd></RmtInf></TxDtls></NtryDtls>"
    )
    result = one_statement(tmp_path, entry(tail=f"<AcctSvcrRef>R-1</AcctSvcrRef>{details}"))
    assert result.rows.column("reference").to_pylist() == [
        "R-1 | INV-2026-77 | ADYEN PAYOUT PO-7788"
    ]


def test_an_entry_without_references_has_a_null_reference(tmp_path: Path) -> None:
    assert one_statement(tmp_path, entry()).rows.column("reference").to_pylist() == [None]


def test_bank_line_ids_come_from_the_file_in_the_documented_order(tmp_path: Path) -> None:
    first = stmt(
        entry(tail="<AcctSvcrRef>A-1</AcctSvcrRef>"),
        entry(head="<NtryRef>N-1</NtryRef>", tail="<AcctSvcrRef>A-2</AcctSvcrRef>"),
        entry(head="<NtryRef>N-1</NtryRef>", tail="<AcctSvcrRef>A-2</AcctSvcrRef>"),
        entry(head="<NtryRef>N-2</NtryRef>"),
        entry(),
        ident="S1",
    )
    twin_a, twin_b = stmt(entry(), ident="T"), stmt(entry(), ident="T")
    path = write(tmp_path, document(first, twin_a, twin_b))
    ids = read(path).rows.column("bank_line_id").to_pylist()
    # A-2 is used twice and N-1 twice in S1: those fall back to the entry's position.
    assert ids == ["A-1", "S1#2", "S1#3", "S1/N-2", "S1#5", "T@2#1", "T@3#1"]
    assert read(path).rows.column("bank_line_id").to_pylist() == ids


# --- balances -------------------------------------------------------------------------------


def test_each_statement_balances_on_its_own(tmp_path: Path) -> None:
    good = stmt(bal("OPBD", "100.00"), bal("CLBD", "90.50"), entry("9.50", ind="DBIT"))
    bad = stmt(bal("OPBD", "90.50"), bal("CLBD", "91.00"), entry("1.00"), ident="S2")
    result = read(write(tmp_path, document(good, bad)))
    assert [(t.scope, t.holds, t.expected, t.found) for t in result.totals] == [
        ("statement S1 (Document/BkToCstmrStmt/Stmt[1])", True, "90.50", "90.50"),
        ("statement S2 (Document/BkToCstmrStmt/Stmt[2])", False, "91.00", "91.50"),
    ]
    assert [c.kind for c in result.control] == ["balance OPBD", "balance CLBD"] * 2


def test_balances_are_signed_and_a_missing_indicator_is_a_credit(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path, bal("PRCD", "5.00", ind="DBIT"), bal("CLBD", "5.00", ind=None), entry("10.00")
    )
    [total] = result.totals
    assert (total.holds, total.check) == (True, "opening PRCD + booked entries = closing CLBD")


def test_balances_are_checked_per_currency(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path,
        bal("OPBD", "1.00"),
        bal("CLBD", "3.00"),
        bal("OPBD", "100", ccy="JPY"),
        bal("CLBD", "50", ccy="JPY"),
        entry("2.00"),
        entry("50", ccy="JPY", ind="DBIT"),
    )
    assert [(t.currency, t.holds) for t in result.totals] == [("EUR", True), ("JPY", True)]


def test_other_balance_types_are_control_records_only(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path, bal("OPBD", "0"), bal("CLBD", "1"), bal("CLAV", "999"), entry("1")
    )
    assert [t.holds for t in result.totals] == [True]
    assert len(result.control) == 3 and result.records == 4


@pytest.mark.parametrize(
    ("balances", "note"),
    [
        ([bal("OPBD", "0")], "no closing booked balance (CLBD"),
        ([bal("CLBD", "1")], "no opening booked balance (OPBD, PRCD"),
        ([], "no closing booked balance (CLBD"),
        ([bal("OPBD", "0"), bal("CLBD", "1,00")], "balance CLBD at Document/BkToCstmrStmt"),
        ([bal("OPBD", "0"), bal("CLBD", "1", ind="X")], "expected CRDT or DBIT"),
        ([bal("OPBD", "0"), bal("CLBD", "1"), bal("CLBD", "1")], "more than one CLBD"),
    ],
)
def test_a_statement_whose_balance_cannot_be_checked_warns(
    tmp_path: Path, balances: list[str], note: str
) -> None:
    path = write(tmp_path, document(stmt(*balances, entry("1"))))
    spec = ProfileSpec(source="bank", display="s.xml")
    result = read_profile(path, "camt", spec)
    [total] = result.totals
    assert total.holds is None and note in total.note
    warnings = enforce_totals(result, spec)
    assert any("could not be checked" in w and note in w for w in warnings)


def test_a_notification_has_no_balance_check(tmp_path: Path) -> None:
    text = document(stmt(entry("1"), tag="Ntfctn"), kind="054", version="04")
    assert read(write(tmp_path, text)).totals == []


# --- transaction summary --------------------------------------------------------------------


def summary(count: str, total: str, net: str, credits: str, debits: str, net_v2: bool) -> str:
    net_part = (
        f"<TtlNetNtryAmt>{net}</TtlNetNtryAmt><CdtDbtInd>DBIT</CdtDbtInd>"
        if net_v2
        else f"<TtlNetNtry><Amt>{net}</Amt><CdtDbtInd>DBIT</CdtDbtInd></TtlNetNtry>"
    )
    return (
        f"<TxsSummry><TtlNtries><NbOfNtries>{count}</NbOfNtries><Sum>{total}</Sum>{net_part}"
        f"</TtlNtries><TtlCdtNtries><NbOfNtries>{credits}</NbOfNtries><Sum>2.00</Sum>"
        f"</TtlCdtNtries><TtlDbtNtries><NbOfNtries>{debits}</NbOfNtries><Sum>5.00</Sum>"
        "</TtlDbtNtries></TxsSummry>"
    )


@pytest.mark.parametrize("net_v2", [True, False])
def test_a_matching_summary_holds(tmp_path: Path, net_v2: bool) -> None:
    figures = summary("2", "7.00", "3.00", "1", "1", net_v2)
    result = one_statement(tmp_path, figures, entry("2.00"), entry("5.00", ind="DBIT"))
    assert [t.holds for t in checks(result, "TxsSummry")] == [True] * 7
    assert [c.kind for c in result.control] == ["transactions summary"]


def test_a_summary_that_disagrees_fails_naming_its_figure(tmp_path: Path) -> None:
    figures = summary("3", "7.00", "3.00", "1", "1", False)
    result = one_statement(tmp_path, figures, entry("2.00"), entry("5.00", ind="DBIT"))
    [broken] = broken_totals(result)
    assert broken.check == "Document/BkToCstmrStmt/Stmt[1]/TxsSummry/TtlNtries/NbOfNtries"
    assert (broken.expected, broken.found) == ("3", "2")


# --- batches --------------------------------------------------------------------------------


def batch(count: str, total: str | None, *amounts: tuple[str, str]) -> str:
    total_part = f"<TtlAmt>{total}</TtlAmt>" if total is not None else ""
    items = "".join(
        f'<TxDtls><Amt Ccy="EUR">{a}</Amt><CdtDbtInd>{i}</CdtDbtInd></TxDtls>' for a, i in amounts
    )
    return f"<NtryDtls><Btch><NbOfTxs>{count}</NbOfTxs>{total_part}</Btch>{items}</NtryDtls>"


def test_a_batch_entry_is_one_line_and_its_figures_hold(tmp_path: Path) -> None:
    details = batch("3", "8.00", ("5.00", "CRDT"), ("4.00", "CRDT"), ("1.00", "DBIT"))
    result = one_statement(tmp_path, entry("8.00", tail=details))
    assert result.rows.num_rows == 1 and result.records == 1
    assert [(t.check.rsplit("/", 1)[-1], t.holds) for t in checks(result, "Btch")] == [
        ("NbOfTxs = number of TxDtls", True),
        ("TtlAmt = sum of TxDtls amounts", True),
    ]


@pytest.mark.parametrize(
    ("details", "expected", "found"),
    [
        (batch("3", None, ("5.00", "CRDT"), ("3.00", "CRDT")), "3", "2"),
        (batch("2", "9.00", ("5.00", "CRDT"), ("3.00", "CRDT")), "9.00", "8.00"),
    ],
)
def test_a_batch_that_disagrees_with_its_details_fails(
    tmp_path: Path, details: str, expected: str, found: str
) -> None:
    result = one_statement(tmp_path, entry("8.00", tail=details))
    [broken] = broken_totals(result)
    assert (broken.expected, broken.found) == (expected, found)
    assert broken.check.startswith("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/NtryDtls[1]/Btch/")


def test_a_batch_summarised_in_one_detail_is_not_itemised(tmp_path: Path) -> None:
    result = one_statement(tmp_path, entry("8.00", tail=batch("86", None, ("8.00", "CRDT"))))
    [total] = checks(result, "Btch")
    assert total.holds is None and "1 TxDtls for 86 transactions" in total.note


# --- more of what senders do ----------------------------------------------------------------


def test_a_prefixed_namespace_is_read_by_local_name(tmp_path: Path) -> None:
    text = document(stmt(bal("OPBD", "0"), bal("CLBD", "4.20"), entry("4.20")))
    text = text.replace('<Document xmlns="', '<c:Document xmlns:c="').replace("</Document>", "")
    text = re.sub(r"<(/?)([A-Z])", r"<\1c:\2", text) + "</c:Document>\n"
    result = read(write(tmp_path, text))
    assert result.rows.column("amount").to_pylist() == ["4.20"]
    assert [t.holds for t in result.totals] == [True]


def test_elements_of_another_namespace_are_not_read(tmp_path: Path) -> None:
    foreign = '<x:AddtlNtryInf xmlns:x="urn:bank:extension">not ours</x:AddtlNtryInf>'
    result = one_statement(tmp_path, entry(tail=foreign))
    assert result.rows.column("reference").to_pylist() == [None]


def test_a_missing_closing_element_names_its_line(tmp_path: Path) -> None:
    text = document(stmt(entry(), entry())).replace("</Ntry>", "", 1)
    with pytest.raises(InputError, match=r"stmt.xml: line 7, column \d+: not well-formed XML"):
        read(write(tmp_path, text))


def test_wrong_totals_stop_under_enforce_and_warn_under_warn(tmp_path: Path) -> None:
    path = write(tmp_path, document(stmt(bal("OPBD", "1.00"), bal("CLBD", "9.99"), entry("2"))))
    enforce = ProfileSpec(source="bank", display="D/bank/stmt.xml")
    with pytest.raises(InputError) as caught:
        enforce_totals(read_profile(path, "camt", enforce), enforce)
    assert (
        "D/bank/stmt.xml: statement S1 (Document/BkToCstmrStmt/Stmt[1]): opening OPBD + booked "
        "entries = closing CLBD: expected 9.99, found 3.00 EUR"
    ) in str(caught.value)
    warn = ProfileSpec(source="bank", display="D/bank/stmt.xml", control_totals="warn")
    result = read_profile(path, "camt", warn)
    assert result.rows.num_rows == 1
    assert enforce_totals(result, warn) == [
        "D/bank/stmt.xml: statement S1 (Document/BkToCstmrStmt/Stmt[1]): opening OPBD + booked "
        "entries = closing CLBD: expected 9.99, found 3.00 EUR"
    ]


# --- pagination and interim balances ----------------------------------------------------------


def paged(*pages: str) -> str:
    """A message of one page (GrpHdr/MsgPgntn) holding the statement pages given."""
    return document(*pages).replace(
        "</CreDtTm></GrpHdr>",
        "</CreDtTm><MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn></GrpHdr>",
        1,
    )


def page(number: int, last: bool, *parts: str) -> str:
    pagination = f"<StmtPgntn><PgNb>{number}</PgNb><LastPgInd>{str(last).lower()}</LastPgInd>"
    return stmt(pagination + "</StmtPgntn>", *parts, ident="S1")


STMT = "Document/BkToCstmrStmt/Stmt"


def test_statement_pages_chain_through_interim_balances(tmp_path: Path) -> None:
    text = paged(
        page(1, False, bal("OPBD", "100.00"), bal("ITBD", "90.00"), entry("10.00", ind="DBIT")),
        page(2, False, bal("ITBD", "90.00"), bal("ITBD", "95.50"), entry("5.50")),
        page(3, True, bal("ITBD", "95.50"), bal("CLBD", "95.00"), entry("0.50", ind="DBIT")),
    )
    result = read(write(tmp_path, text))
    assert len(result.rows) == 3 and sums(result) == {"EUR": Decimal("-5.00")}
    assert [(t.check, t.holds) for t in result.totals] == [
        ("opening OPBD + booked entries = closing ITBD", True),
        ("opening ITBD + booked entries = closing ITBD", True),
        (
            f"opening ITBD = closing ITBD of the previous page ({STMT}[1]/Bal[2])",
            True,
        ),
        ("opening ITBD + booked entries = closing CLBD", True),
        (
            f"opening ITBD = closing ITBD of the previous page ({STMT}[2]/Bal[2])",
            True,
        ),
    ]
    assert len({r["bank_line_id"] for r in result.rows.to_pylist()}) == 3
    assert len(result.control) == 6 and result.records == 9


def test_a_page_whose_interim_balance_breaks_the_chain_fails(tmp_path: Path) -> None:
    text = paged(
        page(1, False, bal("OPBD", "100.00"), bal("ITBD", "90.00"), entry("10.00", ind="DBIT")),
        page(2, True, bal("ITBD", "90.00"), bal("CLBD", "99.00"), entry("5.50")),
    )
    result = read(write(tmp_path, text))
    assert [t.holds for t in result.totals] == [True, False, True]
    assert result.totals[1].found == "95.50" and "Stmt[2]" in result.totals[1].scope


def test_a_page_that_does_not_open_where_the_previous_closed_fails(tmp_path: Path) -> None:
    text = paged(
        page(1, False, bal("OPBD", "100.00"), bal("ITBD", "90.00"), entry("10.00", ind="DBIT")),
        page(2, True, bal("ITBD", "80.00"), bal("CLBD", "85.50"), entry("5.50")),
    )
    result = read(write(tmp_path, text))
    assert [t.holds for t in result.totals] == [True, True, False]
    chain = result.totals[2]
    assert (chain.expected, chain.found) == ("90.00", "80.00")
    assert "closing ITBD of the previous page (Document/BkToCstmrStmt/Stmt[1]/Bal[2])" in (
        chain.check
    )


def test_a_page_with_only_its_opening_interim_balance_is_unchecked(tmp_path: Path) -> None:
    result = read(write(tmp_path, paged(page(2, True, bal("ITBD", "1.00"), entry("1.00")))))
    [total] = result.totals
    assert total.holds is None and "no closing booked balance" in total.note
    assert len(result.rows) == 1


def test_available_balances_are_not_booked_balances(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path,
        bal("OPBD", "0"),
        bal("CLBD", "1"),
        bal("CLAV", "7"),
        bal("FWAV", "8"),
        bal("ITAV", "9"),
        entry("1"),
    )
    assert [t.holds for t in result.totals] == [True]
    assert [c.kind for c in result.control][2:] == ["balance CLAV", "balance FWAV", "balance ITAV"]


# --- placeholders, message ids, several remittance lines ---------------------------------------


def test_placeholders_are_left_out_of_references_and_ids(tmp_path: Path) -> None:
    details = (
        "<NtryDtls><Btch><MsgId>MSG-9</MsgId><PmtInfId>NONREF</PmtInfId></Btch><TxDtls><Refs>"
        "<MsgId>MSG-9</MsgId><InstrId>NONREF</InstrId><EndToEndId>NOTPROVIDED</EndToEndId>"
        "<TxId>not provided</TxId></Refs><RmtInf><Ustrd>line one</Ustrd><Ustrd>line two</Ustrd>"
        "</RmtInf></TxDtls></NtryDtls>"
    )
    placeholder = entry(head="<NtryRef>NONREF</NtryRef>", tail="<AcctSvcrRef>NONREF</AcctSvcrRef>")
    result = one_statement(
        tmp_path,
        entry(head="<NtryRef>NONREF</NtryRef>", tail=f"<AcctSvcrRef>NONREF</AcctSvcrRef>{details}"),
        placeholder,
    )
    rows = result.rows.to_pylist()
    assert [r["reference"] for r in rows] == ["MSG-9 | line one | line two", None]
    assert [r["bank_line_id"] for r in rows] == ["S1#1", "S1#2"]


# --- amounts in other currencies ---------------------------------------------------------------


def fx_detail(amt: str, countervalue: str = "") -> str:
    """A detail whose own amount is in USD, with an optional EUR counter value."""
    counter = f'<CntrValAmt><Amt Ccy="EUR">{countervalue}</Amt></CntrValAmt>'
    counter = counter if countervalue else ""
    return (
        f'<TxDtls><Amt Ccy="USD">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><AmtDtls>'
        f'<InstdAmt><Amt Ccy="USD">{amt}</Amt></InstdAmt>{counter}</AmtDtls></TxDtls>'
    )


def test_the_entry_amount_counts_and_details_are_summed_in_its_currency(tmp_path: Path) -> None:
    details = (
        '<NtryDtls><Btch><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">9.1300</TtlAmt></Btch>'
        + fx_detail("5.5", "5.00")
        + fx_detail("4.75", "4.130")
        + "</NtryDtls>"
    )
    result = one_statement(
        tmp_path, bal("OPBD", "0"), bal("CLBD", "9.13"), entry("9.130", tail=details)
    )
    assert sums(result) == {"EUR": Decimal("9.13")}
    assert [t.holds for t in checks(result, "Btch")] == [True, True]
    assert [t.holds for t in result.totals if t.check.startswith("opening")] == [True]


def test_details_only_in_another_currency_leave_the_batch_sum_unchecked(tmp_path: Path) -> None:
    details = (
        '<NtryDtls><Btch><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">9.00</TtlAmt></Btch>'
        + fx_detail("5.50")
        + fx_detail("4.75")
        + "</NtryDtls>"
    )
    result = one_statement(tmp_path, entry("9.00", tail=details))
    count, total = checks(result, "Btch")
    assert count.holds is True
    assert total.holds is None and "two currencies are not compared" in total.note
    assert sums(result) == {"EUR": Decimal("9.00")}


def test_a_summary_over_entries_in_two_currencies_is_not_summed(tmp_path: Path) -> None:
    summary = (
        "<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>11.00</Sum>"
        "<TtlNetNtry><Amt>11.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TtlNetNtry>"
        "</TtlNtries></TxsSummry>"
    )
    result = one_statement(tmp_path, summary, entry("1.00"), entry("10", ccy="JPY"))
    count, total, net = checks(result, "TxsSummry")
    assert count.holds is True
    assert total.holds is None and net.holds is None
    assert "2 currencies (EUR, JPY)" in total.note
    assert sums(result) == {"EUR": Decimal("1.00"), "JPY": Decimal("10")}


# --- dates, statuses, encodings and extras from senders not seen before ------------------------


@pytest.mark.parametrize(
    ("dates", "value_date"),
    [
        ("<ValDt><DtTm>2026-11-20T23:30:00Z</DtTm></ValDt>", "2026-11-20"),
        ("<ValDt><DtTm>2026-11-20T23:30:00+02:00</DtTm></ValDt>", "2026-11-20"),
        ("<ValDt><DtTm>2026-11-21T00:15:00-05:00</DtTm></ValDt>", "2026-11-21"),
        ("<ValDt><DtTm>2026-11-20T08:00:00.123</DtTm></ValDt>", "2026-11-20"),
        ("<BookgDt><DtTm>2026-11-19T10:00:00Z</DtTm></BookgDt>", "2026-11-19"),
        ("<ValDt><Dt>2026-11-18</Dt></ValDt>", "2026-11-18"),
    ],
)
def test_dates_as_dt_or_dttm_in_any_zone_keep_the_date_as_written(
    tmp_path: Path, dates: str, value_date: str
) -> None:
    result = one_statement(tmp_path, entry(dates=dates))
    assert result.rows.column("value_date").to_pylist() == [value_date]


def test_a_malformed_datetime_is_rejected_naming_the_element(tmp_path: Path) -> None:
    result = one_statement(tmp_path, entry(dates="<ValDt><DtTm>20.11.2026</DtTm></ValDt>"))
    [rejected] = result.rejected
    assert "Ntry[1]/ValDt" in rejected.reason and "ISO 8601" in rejected.reason


@pytest.mark.parametrize(
    ("version", "sts"),
    [
        ("08", "<Sts>BOOK</Sts>"),
        ("09", "<Sts><Cd>BOOK</Cd></Sts>"),
        ("10", "<Sts><Cd>BOOK</Cd></Sts>"),
    ],
)
def test_status_as_text_or_code(tmp_path: Path, version: str, sts: str) -> None:
    text = document(stmt(bal("OPBD", "0"), bal("CLBD", "2"), entry("2", sts=sts)), version=version)
    result = read(write(tmp_path, text))
    assert len(result.rows) == 1 and [t.holds for t in result.totals] == [True]


def test_pending_code_status_of_v9_is_not_a_bank_line(tmp_path: Path) -> None:
    text = document(stmt(entry("2", sts="<Sts><Cd>PDNG</Cd></Sts>")), version="09")
    result = read(write(tmp_path, text))
    assert len(result.rows) == 0 and [c.kind for c in result.control] == ["entry PDNG: not booked"]


def test_reversed_entries_follow_their_own_indicator_in_the_balance(tmp_path: Path) -> None:
    reversed_credit = entry("4.00", ind="DBIT", tail="<RvslInd>true</RvslInd>")
    result = one_statement(
        tmp_path, bal("OPBD", "10.00"), bal("CLBD", "16.00"), entry("10.00"), reversed_credit
    )
    assert sums(result) == {"EUR": Decimal("6.00")}
    assert [t.holds for t in result.totals] == [True]


def test_a_byte_order_mark_and_latin1_declaration_are_read(tmp_path: Path) -> None:
    text = document(stmt(entry("1.00", tail="<AddtlNtryInf>Überweisung Müller</AddtlNtryInf>")))
    latin = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    bom = write(tmp_path, "\ufeff" + text, name="bom.xml")
    declared = write(tmp_path, latin, name="latin.xml", encoding="iso-8859-1")
    for path in (bom, declared):
        result = read(path)
        assert result.rows.column("reference").to_pylist() == ["Überweisung Müller"]


def test_supplementary_data_and_unknown_elements_are_ignored(tmp_path: Path) -> None:
    extra = (
        "<SplmtryData><PlcAndNm>Ntry</PlcAndNm><Envlp><x:Any xmlns:x='urn:bank:ext'>"
        "<x:Amt Ccy='EUR'>999.00</x:Amt></x:Any></Envlp></SplmtryData>"
        "<FutureElement>1</FutureElement>"
    )
    result = one_statement(
        tmp_path, bal("OPBD", "0"), bal("CLBD", "1"), entry("1", tail=extra), extra
    )
    assert sums(result) == {"EUR": Decimal("1")} and [t.holds for t in result.totals] == [True]
    assert result.records == 3


def test_a_camt052_report_is_refused_naming_what_is_read(tmp_path: Path) -> None:
    text = document(stmt(entry())).replace("camt.053.001.02", "camt.052.001.08")
    with pytest.raises(
        InputError, match=r"stmt.xml: line \d+: a camt.052 account report .* expected .*camt.053"
    ):
        read(write(tmp_path, text))


def test_a_file_cut_off_midway_names_file_and_position(tmp_path: Path) -> None:
    text = document(stmt(bal("OPBD", "0"), entry("1")))
    cut = text[: text.index("<CdtDbtInd>", text.index("<Ntry>")) + 5]
    with pytest.raises(InputError, match=r"^stmt.xml: line \d+, column \d+: not well-formed XML"):
        read(write(tmp_path, cut))


def test_decimals_of_any_length_the_currency_allows_are_read_exactly(tmp_path: Path) -> None:
    result = one_statement(
        tmp_path,
        bal("OPBD", "0.1"),
        bal("CLBD", "10.60000"),
        bal("OPBD", "1.000", ccy="BHD"),
        bal("CLBD", "0.766", ccy="BHD"),
        bal("OPBD", "0", ccy="JPY"),
        bal("CLBD", "100", ccy="JPY"),
        entry("10.5000"),
        entry("0.234", ccy="BHD", ind="DBIT"),
        entry("100.00", ccy="JPY"),
    )
    assert sums(result) == {
        "EUR": Decimal("10.50"),
        "BHD": Decimal("-0.234"),
        "JPY": Decimal("100"),
    }
    assert [(t.currency, t.holds) for t in result.totals] == [
        ("BHD", True),
        ("EUR", True),
        ("JPY", True),
    ]


# --- what real banks also send ------------------------------------------------------------------


def test_a_zero_credit_counts_among_the_credit_entries_of_the_summary(tmp_path: Path) -> None:
    summary = (
        "<TxsSummry><TtlCdtNtries><NbOfNtries>2</NbOfNtries><Sum>20.00</Sum></TtlCdtNtries>"
        "<TtlDbtNtries><NbOfNtries>1</NbOfNtries><Sum>10.00</Sum></TtlDbtNtries></TxsSummry>"
    )
    result = one_statement(
        tmp_path,
        summary,
        entry("20.00"),
        entry("0.00"),
        entry("10.00", ind="DBIT"),
    )
    summary_checks = checks(result, "TxsSummry")
    assert len(summary_checks) == 4 and all(total.holds for total in summary_checks)
    # One credit too many is still found.
    wrong = one_statement(tmp_path, summary, entry("20.00"), entry("10.00", ind="DBIT"))
    assert not all(total.holds for total in checks(wrong, "TxsSummry"))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_known_by_its_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    text = document(stmt(entry("12.50"))).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    mark = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    path = tmp_path / "stmt.xml"
    path.write_bytes(mark + text.encode(encoding))
    assert read(path).rows.column("amount").to_pylist() == ["12.50"]


@pytest.mark.parametrize("written", ["2026-11-21Z", "2026-11-21+01:00", "2026-11-21-05:00"])
def test_a_date_with_its_zone_is_its_day(tmp_path: Path, written: str) -> None:
    dates = f"<ValDt><Dt>{written}</Dt></ValDt>"
    result = one_statement(tmp_path, entry(dates=dates))
    assert result.rows.column("value_date").to_pylist() == ["2026-11-21"]
    bad = one_statement(tmp_path, entry(dates="<ValDt><Dt>2026-11-21+25:00</Dt></ValDt>"))
    assert bad.rows.num_rows == 0 and "is not a date" in bad.rejected[0].reason


def test_a_banks_own_elements_in_supplementary_data_are_not_records(tmp_path: Path) -> None:
    extension = (
        '<SplmtryData><Envlp><x:Ext xmlns:x="urn:bank:ext"><x:Bal>1</x:Bal>'
        "</x:Ext></Envlp></SplmtryData>"
    )
    result = one_statement(tmp_path, entry("1.00"), extension)
    assert (result.rows.num_rows, result.records) == (1, 1)
