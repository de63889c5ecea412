"""Connected components as shard keys: rows the rules could pair always share a key."""

from __future__ import annotations

from itertools import pairwise
from random import Random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.kernels.routing import component_key, component_labels

Row = tuple[int | None, int | None]


def nodes(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"a": pl.UInt64, "b": pl.UInt64}, orient="row")


def labels_of(**frames: list[Row]) -> dict[str, list[int | None]]:
    found = component_labels({name: nodes(rows) for name, rows in frames.items()})
    return {name: labels.to_list() for name, labels in found.items()}


def test_each_row_is_labelled_with_the_smallest_node_of_its_component() -> None:
    labels = labels_of(edges=[(3, 4), (2, 3), (10, 11), (4, 5)])
    assert labels == {"edges": [2, 2, 10, 2]}


def test_a_long_chain_settles_and_node_zero_is_a_node() -> None:
    chain = [(index + 1, index) for index in reversed(range(500))]
    assert set(labels_of(chain=chain)["chain"]) == {0}


def test_rows_of_different_frames_share_a_component_through_a_node() -> None:
    labels = labels_of(entries=[(7, 8), (20, 21)], lines=[(9, 8), (None, 21), (30, None)])
    assert labels == {"entries": [7, 20], "lines": [7, 20, 30]}


def test_an_unlinked_node_is_its_own_key_and_a_row_without_a_node_takes_its_fallback() -> None:
    labels = component_labels({"entries": nodes([(5, 6), (None, 9), (None, None), (6, None)])})
    frame = pl.DataFrame({"id": ["e1", "e2", "e3", "e4"]})
    keys = frame.select(component_key(labels["entries"], pl.col("id")).alias("key"))
    assert keys.get_column("key").to_list() == ["5", "9", "e3", "5"]


def test_no_rows_give_no_labels() -> None:
    assert labels_of(entries=[], lines=[]) == {"entries": [], "lines": []}


small = st.one_of(st.none(), st.integers(0, 12))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(small, small), max_size=25), st.integers(0, 25))
def test_two_rows_share_a_label_exactly_when_a_path_joins_them(rows: list[Row], cut: int) -> None:
    labels = labels_of(first=rows[:cut], second=rows[cut:])
    found = labels["first"] + labels["second"]
    # Reference: union-find over the rows with both nodes.
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for a, b in rows:
        if a is not None and b is not None:
            parent[find(a)] = find(b)
    for (a, b), label in zip(rows, found, strict=True):
        node = a if a is not None else b
        if node is None:
            assert label is None
            continue
        members = [n for pair in rows for n in pair if n is not None and find(n) == find(node)]
        assert label == min(members)


def test_a_long_path_of_shuffled_nodes_is_one_component() -> None:
    """Node numbers in random order along a path: the hooking rounds still join it whole."""
    order = Random(7).sample(range(1, 3001), 3000)
    path = list(pairwise(order))
    assert set(labels_of(path=path)["path"]) == {1}
