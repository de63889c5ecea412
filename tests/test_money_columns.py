"""Minor units as published amounts: exact decimals and exact text, in every currency."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from walletrecon.match.common import decimal_text, money_decimal, money_text
from walletrecon.money import currency_exponents
from walletrecon.schemas import AMOUNT_DECIMAL

CODES = sorted(currency_exponents())


def _published(minor: list[int | None], currency: list[str | None]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"minor": minor, "currency": currency}, schema={"minor": pl.Int64, "currency": pl.String}
    )
    return frame.select(
        money_decimal(pl.col("minor"), "currency").alias("amount"),
        money_text(pl.col("minor"), "currency").alias("text"),
    )


def test_minor_units_become_major_units_by_the_currency_exponent() -> None:
    amounts = _published([1250, -7, 5, 123456789, 0], ["USD", "JPY", "KWD", "CLF", "CNY"])
    assert amounts.schema["amount"] == AMOUNT_DECIMAL
    assert amounts["amount"].to_list() == [
        Decimal("12.50"),
        Decimal("-7"),
        Decimal("0.005"),
        Decimal("12345.6789"),
        Decimal("0"),
    ]
    assert amounts["text"].to_list() == ["12.50", "-7", "0.005", "12345.6789", "0.00"]


def test_an_unknown_currency_or_a_missing_amount_has_no_amount() -> None:
    amounts = _published([100, None, 100], ["XXY", "USD", None])
    assert amounts["amount"].to_list() == [None, None, None]
    assert amounts["text"].to_list() == [None, None, None]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-(2**63) + 1, 2**63 - 1)),
            st.sampled_from(CODES),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_decimal_and_the_text_of_an_amount_agree(rows: list[tuple[int | None, str]]) -> None:
    amounts = _published([minor for minor, _ in rows], [code for _, code in rows])
    for (minor, code), amount, text in zip(rows, amounts["amount"], amounts["text"], strict=True):
        if minor is None:
            assert amount is None and text is None
            continue
        exact = Decimal(minor).scaleb(-currency_exponents()[code])
        assert amount == exact
        assert Decimal(text) == exact


@given(
    st.lists(
        st.tuples(st.integers(-(10**16), 10**16), st.sampled_from(CODES)), min_size=1, max_size=40
    )
)
def test_a_published_decimal_reads_back_as_the_text_of_its_minor_units(
    rows: list[tuple[int, str]],
) -> None:
    frame = pl.DataFrame({"minor": [m for m, _ in rows], "currency": [c for _, c in rows]})
    texts = frame.select(
        decimal_text(money_decimal(pl.col("minor"), "currency"), "currency").alias("from_decimal"),
        money_text(pl.col("minor"), "currency").alias("from_minor"),
    )
    assert texts["from_decimal"].to_list() == texts["from_minor"].to_list()


def test_a_decimal_in_an_unknown_currency_has_no_text() -> None:
    frame = pl.DataFrame({"amount": ["1.5"], "currency": ["XXY"]}).with_columns(
        pl.col("amount").cast(AMOUNT_DECIMAL)
    )
    assert frame.select(decimal_text(pl.col("amount"), "currency")).item() is None
