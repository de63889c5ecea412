"""The camt profile: ISO 20022 camt.053/camt.054 files into canonical bank rows, with every
entry, balance and summary accounted for, control figures checked, and broken files refused
with the file, line or element, and what was expected."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from walletrecon.errors import ConfigError, InputError
from walletrecon.sources.profiles import (
    ProfileResult,
    ProfileSpec,
    broken_totals,
    enforce_totals,
    read_profile,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "camt053"
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
    return f"<{tag}><Id>{ident}</Id><CreDtTm>2026-11-22T01:00:00+08:00</CreDtTm>\n" + "\n".join(
        parts
    ) + f"\n</{tag}>"


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

BOMB = """<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>&e;</Id><Ntry><Amt Ccy="EUR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Stmt>
</BkToCstmrStmt></Document>
"""


def test_entity_expansion_is_refused_not_expanded(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"a DTD is not allowed in a camt message"):
        read(write(tmp_path, BOMB))


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = write(tmp_path, "TOP-SECRET", "secret.txt")
    text = BOMB.split("[", 1)[0] + f'[<!ENTITY e SYSTEM "file://{secret}">]>' + BOMB.split("]>", 1)[1]
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
