"""The fast paths (rows whose key looks unique skip the exact slow path) decide nothing: flagging
every row as perhaps repeated, as a hash collision would flag a few, gives the same results."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import walletrecon.match.common as common
import walletrecon.match.duplicates as duplicates
import walletrecon.sources.redelivery as redelivery
from walletrecon.match.common import pair_one_to_one
from walletrecon.registry import exact_matches

KEYS = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=0, max_size=12)


def _everything_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    def flag_all(frame: pl.DataFrame, *columns: str) -> pl.Series:
        return pl.repeat(True, frame.height, eager=True)

    def flag_every_hash(hashes: pl.Series) -> pl.Series:
        return pl.repeat(True, hashes.len(), eager=True)

    monkeypatch.setattr(redelivery, "maybe_repeated", flag_all)
    for module in (common, duplicates):
        monkeypatch.setattr(module, "repeated_hashes", flag_every_hash)


def _pairs(left_keys: list[str], right_keys: list[str]) -> list[tuple[str, str]]:
    left = pl.DataFrame({"k": left_keys, "l": [f"L{i:02d}" for i in range(len(left_keys))]})
    right = pl.DataFrame({"k": right_keys, "r": [f"R{i:02d}" for i in range(len(right_keys))]})
    pairs = pair_one_to_one(
        left.cast({"k": pl.String, "l": pl.String}),
        right.cast({"k": pl.String, "r": pl.String}),
        ["k"],
        ["k"],
        ["l"],
        ["r"],
    )
    return sorted(pairs.select("l", "r").iter_rows())


@settings(max_examples=60, deadline=None)
@given(left=KEYS, right=KEYS)
def test_pairing_is_the_same_when_every_key_is_flagged(left: list[str], right: list[str]) -> None:
    normal = _pairs(left, right)
    with pytest.MonkeyPatch.context() as patch:
        _everything_flagged(patch)
        flagged = _pairs(left, right)
    assert flagged == normal
    assert len(normal) == sum(min(left.count(key), right.count(key)) for key in set(left))


def _duplicates(keys: list[str]) -> tuple[list[str], list[str]]:
    rows = pl.DataFrame(
        {
            "receipt_id": [f"R{i:02d}" for i in range(len(keys))],
            "txn_id": keys,
            "received_at": list(range(len(keys))),
        },
        schema={"receipt_id": pl.String, "txn_id": pl.String, "received_at": pl.Int64},
    )
    known = pl.DataFrame({"dup_key": ["d"], "row_id": ["R-old"]})
    split = duplicates.split_duplicates("receipts", rows, known)
    return sorted(split.firsts["receipt_id"]), sorted(split.duplicates["receipt_id"])


@settings(max_examples=60, deadline=None)
@given(keys=KEYS)
def test_duplicates_are_the_same_when_every_key_is_flagged(keys: list[str]) -> None:
    normal = _duplicates(keys)
    with pytest.MonkeyPatch.context() as patch:
        _everything_flagged(patch)
        assert _duplicates(keys) == normal
    firsts, repeats = normal
    assert set(firsts) | set(repeats) == {f"R{i:02d}" for i in range(len(keys))}
    assert len(firsts) == len(set(keys) - {"d"})


def test_registry_rows_found_by_a_colliding_key_hash_are_not_taken() -> None:
    # Two ids given the same hash, as a collision would: only the equal id is a prior row.
    candidates = pl.DataFrame(
        {"source": ["ledger", "ledger"], "row_id": ["E1", "E9"], "row_key": [7, 7]},
        schema={"source": pl.String, "row_id": pl.String, "row_key": pl.UInt64},
    )
    tonight = pl.DataFrame(
        {"source": ["ledger", "ledger"], "row_id": ["E1", "E1"], "row_key": [7, 7]},
        schema={"source": pl.String, "row_id": pl.String, "row_key": pl.UInt64},
    )
    found = exact_matches(candidates, tonight, "row_key", ["source", "row_id"])
    assert found.to_dicts() == [{"source": "ledger", "row_id": "E1"}]
    # Tonight's rows still to be read (a large night's, in the spool) give the same.
    lazily = exact_matches(candidates, tonight.lazy(), "row_key", ["source", "row_id"])
    assert lazily.equals(found)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=40),
    repeats=st.lists(st.integers(min_value=0, max_value=39), max_size=10),
)
def test_repeated_hashes_flags_exactly_the_hashes_that_occur_twice(
    values: list[int], repeats: list[int]
) -> None:
    hashes = values + [values[index] for index in repeats if index < len(values)]
    series = pl.Series(hashes, dtype=pl.UInt64)
    flagged = common.repeated_hashes(series).to_list()
    assert flagged == [hashes.count(value) > 1 for value in hashes]
    assert flagged == series.is_duplicated().to_list()


@settings(max_examples=60, deadline=None)
@given(keys=KEYS, kept=st.lists(st.booleans(), min_size=12, max_size=12))
def test_the_first_rows_kept_are_the_earliest_of_each_key_in_order(
    keys: list[str], kept: list[bool]
) -> None:
    # The first row of a key is its earliest (here the last one listed); ``keep`` narrows the
    # firsts in the same pass, and they keep the rows' order.
    rows = pl.DataFrame(
        {
            "receipt_id": [f"R{i:02d}" for i in range(len(keys))],
            "txn_id": keys,
            "received_at": [len(keys) - i for i in range(len(keys))],
            "kept": kept[: len(keys)],
        },
        schema={
            "receipt_id": pl.String,
            "txn_id": pl.String,
            "received_at": pl.Int64,
            "kept": pl.Boolean,
        },
    )
    known = pl.DataFrame({"dup_key": ["d"], "row_id": ["R-old"]})
    keep = pl.col("kept")
    eager = duplicates.split_duplicates("receipts", rows, known, keep=keep)
    assert eager.firsts["receipt_id"].to_list() == [
        f"R{i:02d}"
        for i, key in enumerate(keys)
        if kept[i] and key != "d" and key not in keys[i + 1 :]
    ]
