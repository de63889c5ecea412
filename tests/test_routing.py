"""Connected components as shard keys: rows the rules could pair always share a key."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.kernels.routing import component_labels, keyed_by_component


def labels_of(edges: list[tuple[str, str]]) -> dict[str, str]:
    found = component_labels(pl.DataFrame(edges, schema=["a", "b"], orient="row"))
    return dict(found.iter_rows())


def test_each_node_is_labelled_with_the_smallest_node_of_its_component() -> None:
    labels = labels_of([("c", "d"), ("b", "c"), ("x", "y"), ("d", "e")])
    assert labels == {"b": "b", "c": "b", "d": "b", "e": "b", "x": "x", "y": "x"}


def test_a_long_chain_settles() -> None:
    chain = [(f"n{index:04d}", f"n{index + 1:04d}") for index in range(500)]
    assert set(labels_of(chain).values()) == {"n0000"}


def test_an_unlinked_node_is_its_own_key_and_a_row_without_a_node_takes_its_fallback() -> None:
    labels = component_labels(pl.DataFrame({"a": ["R:x"], "b": ["T:1"]}))
    frame = pl.DataFrame({"node": ["T:1", "T:2", None], "id": ["e1", "e2", "e3"]})
    keys = frame.with_columns(
        keyed_by_component(frame.lazy(), labels, pl.col("node"), pl.col("id")).alias("key")
    )
    assert keys.get_column("key").to_list() == ["R:x", "T:2", "e3"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=25))
def test_two_nodes_share_a_label_exactly_when_a_path_joins_them(
    pairs: list[tuple[int, int]],
) -> None:
    edges = [(f"n{a:02d}", f"n{b:02d}") for a, b in pairs]
    labels = labels_of(edges) if edges else {}
    # Reference: union-find.
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for a, b in edges:
        parent[find(a)] = find(b)
    nodes = sorted(labels)
    for first in nodes:
        for second in nodes:
            assert (labels[first] == labels[second]) == (find(first) == find(second))
        assert labels[first] == min(n for n in nodes if find(n) == find(first))
