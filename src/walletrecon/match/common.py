"""Shared building blocks of the matching kernel: one-to-one pairing, windows, money as text.

Everything here is a pure function of Polars frames and expressions: no files, no clock.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from walletrecon.money import MAX_EXPONENT, currency_exponents
from walletrecon.schemas import AMOUNT_DECIMAL

RANK = "__rank"


def row_wise(frame: pl.LazyFrame) -> pl.DataFrame:
    """Run a query of row-wise steps (new columns from the row's own values, filters) on the
    streaming engine, which splits the rows among the cores. An eager ``with_columns`` on a
    frame of one chunk evaluates each expression on one thread: hashing or building text over
    millions of rows is then two to three times slower."""
    return frame.collect(engine="streaming")


def with_row_wise(frame: pl.DataFrame, columns: list[pl.Expr]) -> pl.DataFrame:
    """``frame.with_columns(columns)`` with the columns worked out by ``row_wise``, each then
    put in one chunk: the frame's other columns are left as they are (a streaming query would
    cut every column into chunks of its own, which later gathers and joins pay for). Each
    expression must read columns only (a literal alone would not take the frame's height)."""
    added = row_wise(frame.lazy().select(columns)).rechunk()
    return frame.with_columns(added.get_columns())


#: The working column holding a row's key hash while pairing.
KEY_HASH = "__key_hash"


def key_hash_expr(*columns: str) -> pl.Expr:
    """The 64-bit hash of a row's value of the columns together (equal values hash alike)."""
    key = pl.col(columns[0]) if len(columns) == 1 else pl.struct(columns)
    return key.hash().alias(KEY_HASH)


def key_hashes(frame: pl.DataFrame, *columns: str) -> pl.Series:
    """``key_hash_expr`` of each row of the frame."""
    return frame.select(key_hash_expr(*columns)).to_series()


def repeated_hashes(hashes: pl.Series) -> pl.Series:
    """True for every hash that occurs more than once. The repeated values are found by sorting
    the hashes (equal ones side by side) and the rows holding one by a look-up in those few:
    two to five times faster on millions of rows than ``is_duplicated``, a hash table over every
    row."""
    ordered = hashes.sort()
    repeated = ordered.filter((ordered == ordered.shift(1)).fill_null(False))
    return hashes.is_in(repeated.implode())


def maybe_repeated(frame: pl.DataFrame, *columns: str) -> pl.Series:
    """True for every row whose value (of all the columns together) occurs more than once, and
    perhaps for a few others: values are compared by 64-bit hash, about 3x faster than comparing
    text. Only for fast paths that hand the flagged rows to an exact slow path."""
    return repeated_hashes(key_hashes(frame, *columns))


def split_rows(
    frame: pl.DataFrame, condition: pl.Expr | pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows where the condition holds, the rest). The condition is evaluated once, and when it
    holds for no row (the common case of the fast paths that use this) nothing is copied."""
    if isinstance(condition, pl.Expr):
        mask = frame.select(condition.fill_null(False)).to_series()
    else:
        mask = condition.fill_null(False)
    if not mask.any():
        return frame.clear(), frame
    if mask.all():
        return frame, frame.clear()
    return frame.filter(mask), frame.filter(~mask)


def pair_one_to_one(
    left: pl.DataFrame,
    right: pl.DataFrame,
    left_on: list[str],
    right_on: list[str],
    left_order: list[str],
    right_order: list[str],
) -> pl.DataFrame:
    """Pair rows of two frames on equal keys so that each row is consumed at most once.

    Within one key, the n-th row of the left (in ``left_order``) pairs with the n-th row of the
    right (in ``right_order``). The orders are total (they end in the row id), so the pairing is
    deterministic and independent of the order rows arrived in.
    """
    # Most keys occur once on each side: those pair by a hash join on the keys' 64-bit hash
    # (cheaper than on their text), each pair then checked key by key.
    left_hash, right_hash = key_hashes(left, *left_on), key_hashes(right, *right_on)
    left_multi, left_single = split_rows(left.with_columns(left_hash), repeated_hashes(left_hash))
    right_multi, right_single = split_rows(
        right.with_columns(right_hash), repeated_hashes(right_hash)
    )
    joined = left_single.join(right_single, on=KEY_HASH, how="inner")
    right_keys = [name + "_right" if name in left.columns else name for name in right_on]
    same = [pl.col(a) == pl.col(b) for a, b in zip(left_on, right_keys, strict=True)]
    plain = joined.filter(pl.all_horizontal(same)).drop(KEY_HASH, *right_keys)
    # Keys with several rows on either side pair by rank within the key. A single row whose
    # hash the other side repeats goes there too (a hash collision at worst adds a row to the
    # exact path: its hash is unique on its own side, so it pairs in one path only).
    left_rest = pl.concat(
        [left_multi, left_single.filter(pl.col(KEY_HASH).is_in(right_multi[KEY_HASH].implode()))]
    )
    right_rest = pl.concat(
        [right_multi, right_single.filter(pl.col(KEY_HASH).is_in(left_multi[KEY_HASH].implode()))]
    )
    ranked_left = left_rest.sort(left_order).with_columns(
        pl.int_range(pl.len()).over(left_on).alias(RANK)
    )
    ranked_right = right_rest.sort(right_order).with_columns(
        pl.int_range(pl.len()).over(right_on).alias(RANK)
    )
    ranked = ranked_left.join(
        ranked_right, left_on=[*left_on, RANK], right_on=[*right_on, RANK], how="inner"
    ).drop(RANK)
    return pl.concat([plain, ranked.select(plain.columns)])


def with_rows(frame: pl.DataFrame, name: str) -> pl.LazyFrame:
    """A frame with each row's position in a column, lazily (to filter and narrow it)."""
    return frame.lazy().with_row_index(name)


def record_matches(frame: pl.DataFrame, rows: pl.Series, **targets: pl.Series) -> pl.DataFrame:
    """Record tonight's matches on a frame: row ``rows[i]`` gets ``targets[t][i]`` in column
    ``t``. Matched rows are open ones (the column still null), so this writes by position,
    without a join."""
    updated = []
    for target, values in targets.items():
        column = frame.get_column(target).clone()
        if rows.len():
            column.scatter(rows, values)
        updated.append(column)
    return frame.with_columns(updated)


def pair_sides(
    left: pl.DataFrame, right: pl.DataFrame, suffix: str, columns: list[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The two sides of pairs as ``gather_pairs`` puts them side by side: right columns whose
    name the left has get ``suffix``; ``columns`` (names after that) keeps only some.

    Narrow once, then gather many times: selecting columns of a frame whose columns are chunked
    differently copies them into one chunk, so a select per slice of pairs would copy whole
    columns of the working set for every slice."""
    right = right.rename({name: name + suffix for name in right.columns if name in left.columns})
    if columns is not None:
        left = left.select(name for name in left.columns if name in columns)
        right = right.select(name for name in right.columns if name in columns)
    return left, right


def gather_pairs(
    left: pl.DataFrame, left_rows: pl.Series, right: pl.DataFrame, right_rows: pl.Series
) -> pl.DataFrame:
    """Side by side: the rows of ``left`` and of ``right`` at the given positions (the sides as
    ``pair_sides`` gives them)."""
    return pl.concat([left[left_rows], right[right_rows]], how="horizontal")


def window_passed(item_date: str, days: int, run_date: dt.date) -> pl.Expr:
    """True when the run date has reached the end of an item's window (item date + days)."""
    return pl.col(item_date) + pl.duration(days=days) <= pl.lit(run_date)


def exponent_expr(currency: str) -> pl.Expr:
    """The ISO 4217 exponent of a currency column (null for unknown codes)."""
    return pl.col(currency).replace_strict(
        currency_exponents(), default=None, return_dtype=pl.Int32
    )


def money_text(minor: pl.Expr, currency: str) -> pl.Expr:
    """Integer minor units as an exact decimal string in major units ('-12.50'); null stays null."""
    exponent = exponent_expr(currency)
    scale = pl.lit(10, dtype=pl.Int64).pow(exponent.cast(pl.Int64))
    magnitude = minor.abs()
    whole = (magnitude // scale).cast(pl.String)
    fraction = (magnitude % scale).cast(pl.String).str.zfill(exponent)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    text = (
        pl.when(exponent == 0)
        .then(whole)
        .otherwise(pl.concat_str([whole, fraction], separator="."))
    )
    return pl.when(minor.is_null()).then(None).otherwise(pl.concat_str([sign, text]))


def money_decimal(minor: pl.Expr, currency: str) -> pl.Expr:
    """Integer minor units as an exact decimal in major units (``AMOUNT_DECIMAL``): the value of
    ``money_text``, computed in integers (scaled to ``MAX_EXPONENT`` decimals in 128 bits, then
    divided exactly). Null for a null amount or a currency without an ISO 4217 exponent."""
    scale = pl.lit(10, dtype=pl.Int128).pow(pl.lit(MAX_EXPONENT) - exponent_expr(currency))
    scaled = (minor.cast(pl.Int128) * scale).cast(AMOUNT_DECIMAL)
    return scaled / pl.lit(10**MAX_EXPONENT).cast(AMOUNT_DECIMAL)


def decimal_text(amount: pl.Expr, currency: str) -> pl.Expr:
    """A decimal amount (``AMOUNT_DECIMAL``, at most its currency's decimals: a sum of
    ``money_decimal`` values) as text with its currency's own decimals: its text with the
    digits past the currency's exponent (zeros) cut off, and the point too for a currency
    without minor units. Null for a currency without an ISO 4217 exponent."""
    exponent = exponent_expr(currency)
    cut = pl.lit(MAX_EXPONENT) - exponent + (exponent == 0).cast(pl.Int32)
    text = amount.cast(pl.String)
    return pl.when(cut > 0).then(text.str.head(-cut)).when(cut == 0).then(text)


def money_label(minor: pl.Expr, currency: str) -> pl.Expr:
    """'12.50 USD' for explanations."""
    return pl.concat_str([money_text(minor, currency), pl.col(currency)], separator=" ")


def tolerance_minor(tolerance_major: object, currency: str) -> pl.Expr:
    """A tolerance in major units as whole minor units of each row's currency (rounded down).

    For integer differences d, ``|d| > tolerance * 10^e`` holds exactly when ``|d| > floor(...)``.
    """
    from decimal import ROUND_FLOOR, Decimal

    assert isinstance(tolerance_major, Decimal)
    mapping = {
        code: int(tolerance_major.scaleb(exponent).to_integral_value(rounding=ROUND_FLOOR))
        for code, exponent in currency_exponents().items()
    }
    return pl.col(currency).replace_strict(mapping, default=0, return_dtype=pl.Int64)
