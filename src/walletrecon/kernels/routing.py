"""Shard keys for relations matched on more than one key.

A settlement line matches a ledger entry by normalised gateway reference and, failing that, by
merchant reference = txn_id; a chargeback finds its payment the same two ways. Hashing any one
column would part rows the rules may pair. So the rows are linked as a graph, references and
transaction ids as nodes and every row as an edge between the two it carries, and each row is
keyed by its connected component: rows the rules could ever pair always share a shard.

The components are found by label propagation (each node takes the smallest label among its
neighbours, then the label of its label) on the key columns alone. When a long chain does not
settle in ``MAX_ROUNDS``, every row gets one key: one shard, the rules exactly as written.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

#: Rounds of label propagation before giving up on partitioning (one shard then).
MAX_ROUNDS = 32
#: The one key of every row when the components did not settle.
ONE_SHARD = 0


def _node(kind: str, column: str) -> pl.Expr:
    """A graph node: the 64-bit hash of its kind and text (null for a null text). Two texts of
    one hash only put two components in one shard: the rules still run on the rows themselves."""
    text = pl.concat_str([pl.lit(kind), pl.col(column)])
    return plh.concat_str([text], separator="").nchash.xxhash64().cast(pl.UInt64)


def reference_node(column: str) -> pl.Expr:
    """The graph node of a normalised gateway reference."""
    return _node("R:", column)


def transaction_node(column: str) -> pl.Expr:
    """The graph node of a transaction id (a ledger txn_id, a line's merchant_ref)."""
    return _node("T:", column)


def component_labels(edges: pl.DataFrame) -> pl.DataFrame | None:
    """(node, label) for every node of the edges (a, b): the smallest node of its connected
    component. None when the propagation does not settle in ``MAX_ROUNDS``."""
    links = pl.concat(
        [
            edges.select(pl.col("a").alias("node"), pl.col("b").alias("other")),
            edges.select(pl.col("b").alias("node"), pl.col("a").alias("other")),
        ]
    ).drop_nulls()
    labels = (
        links.group_by("node")
        .agg(pl.col("other").min())
        .select("node", pl.min_horizontal("node", "other").alias("label"))
    )
    for _ in range(MAX_ROUNDS):
        step = (
            links.join(labels, left_on="other", right_on="node")
            .group_by("node")
            .agg(pl.col("label").min().alias("seen"))
        )
        # Pointer jumping: a node also takes its label's label, halving long chains.
        jumped = labels.join(
            labels.rename({"node": "label", "label": "jump"}), on="label", how="left"
        )
        updated = jumped.join(step, on="node", how="left").select(
            "node", pl.min_horizontal("label", "jump", "seen").alias("next"), "label"
        )
        if (updated.get_column("next") == updated.get_column("label")).all():
            return labels
        labels = updated.select("node", pl.col("next").alias("label"))
    return None


def keyed_by_component(
    frame: pl.LazyFrame, labels: pl.DataFrame | None, node: pl.Expr, fallback: pl.Expr
) -> pl.Expr:
    """The shard key of each row of ``frame``: the label of its ``node``, else the node itself
    (a node no edge reaches is a component of its own), else ``fallback`` (a row with no node).
    With no labels (the propagation did not settle) every row has the one key ``ONE_SHARD``."""
    if labels is None:
        return pl.lit(ONE_SHARD)
    found = (
        frame.select(node.alias("node"))
        .join(labels.lazy(), on="node", how="left", maintain_order="left")
        .collect()
        .get_column("label")
    )
    # A node no edge reaches is a component of its own: rows sharing it share it as their key.
    return pl.coalesce(
        pl.lit(found).cast(pl.String), node.cast(pl.String), fallback.cast(pl.String)
    )
