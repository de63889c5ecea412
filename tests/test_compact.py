"""``state.compact``: frames that outlive their source keep only their own text in memory."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from polars.testing import assert_frame_equal

from walletrecon.kernels import KernelResult
from walletrecon.state import FINDING, compact, empty, fresh


def held_bytes(frame: pl.DataFrame) -> int:
    """Bytes of the Arrow buffers a frame's columns reference."""
    total = 0
    for column in frame.get_columns():
        exported = column.to_arrow(compat_level=pl.CompatLevel.newest())
        chunks = exported.chunks if isinstance(exported, pa.ChunkedArray) else [exported]
        total += sum(b.size for chunk in chunks for b in chunk.buffers() if b is not None)
    return total


def few_rows_of_many() -> pl.DataFrame:
    """A thousand rows filtered out of a million: their text still points into the million's."""
    index = pl.int_range(0, 10**6, eager=True).alias("amount_minor")
    many = pl.DataFrame(index).with_columns(
        pl.format("ledger.csv:{}; settlement.csv:{}", "amount_minor", "amount_minor").alias(
            "evidence"
        ),
        pl.concat_list(pl.format("ledger:E{}", pl.col("amount_minor") * 10**9)).alias("involved"),
    )
    return many.filter(pl.col("amount_minor") % 1000 == 0)


def test_a_few_rows_filtered_from_many_let_the_many_go() -> None:
    few = few_rows_of_many()
    compacted = compact(few)
    assert_frame_equal(compacted, few)
    assert held_bytes(few) > 20 * 2**20
    assert held_bytes(compacted) < 2**20


def test_a_frame_that_uses_its_buffers_is_returned_as_it_is() -> None:
    own = pl.DataFrame(pl.int_range(0, 10**5, eager=True).alias("index")).select(
        pl.format("value number {}", pl.col("index") * 10**9).alias("text")
    )
    assert compact(own) is own
    numbers = pl.DataFrame({"amount_minor": list(range(10**5))})
    assert compact(numbers) is numbers


def test_compact_keeps_every_schema_of_the_state() -> None:
    frame = empty(FINDING)
    assert compact(frame).schema == frame.schema


def test_a_kernel_result_compacts_findings_and_state_but_not_outcomes() -> None:
    few = few_rows_of_many()
    result = KernelResult(findings=few, outcomes=few, state={"ledger": few}).compacted()
    assert held_bytes(result.findings) < 2**20
    assert held_bytes(result.state["ledger"]) < 2**20
    assert result.outcomes is few


def test_findings_copied_anew_are_the_same_rows_in_one_chunk_a_column() -> None:
    pieces = [few_rows_of_many().select("evidence", "involved") for _ in range(3)]
    findings = pl.concat(pieces, rechunk=False)
    assert findings.n_chunks() == 3
    copied = fresh(findings)
    assert_frame_equal(copied, findings)
    assert copied.n_chunks() == 1 and held_bytes(copied) < 2**20
    assert fresh(empty(FINDING)).schema == empty(FINDING).schema
