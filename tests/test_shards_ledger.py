"""The kernels of ledger entries (duplicates, settlement, receipts) give the same result in any
number of hash shards as in one call, on random inputs where references, transaction ids and
merchant references collide across rows (the routing by connected component)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kernel_frames import DAY, entries, lines, noon, receipts
from tests.test_shards import assert_same
from walletrecon.config import parse_config
from walletrecon.kernels import KernelResult
from walletrecon.kernels import duplicates as duplicates_kernel
from walletrecon.kernels import receipts as receipt_kernel
from walletrecon.kernels import settlement as settlement_kernel
from walletrecon.shards import LocalExecutor, stand_ins
from walletrecon.spool import Spool

CONFIG = parse_config({})
TXNS = st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6"])
REFS = st.sampled_from(["GW-1", "gw-1", "GW-2", "GW-3", "GW-4", None])
TYPES = st.sampled_from(["payment", "refund"])
DAYS = st.integers(0, 3).map(lambda offset: DAY + dt.timedelta(days=offset))
RUN = DAY + dt.timedelta(days=3)
SHARD_COUNTS = st.sampled_from([2, 3, 5])


def unique(rows: list[dict[str, Any]], id_column: str) -> list[dict[str, Any]]:
    """Rows numbered so that their ids are distinct."""
    return [{**row, id_column: f"{id_column[0].upper()}{index}"} for index, row in enumerate(rows)]


ENTRY = st.fixed_dictionaries(
    {
        "txn_id": TXNS,
        "gateway_ref": REFS,
        "entry_type": TYPES,
        "status": st.sampled_from(["succeeded", "failed"]),
        "amount_minor": st.sampled_from([-10000, -9000, 5000]),
        "item_date": DAYS,
    }
)
LINE = st.fixed_dictionaries(
    {
        "gateway_ref": REFS,
        "merchant_ref": st.one_of(st.none(), TXNS),
        "record_type": st.sampled_from(["payment", "refund", "chargeback"]),
        "gross_minor": st.sampled_from([10000, 9000]),
        "net_minor": st.sampled_from([10000, 9000, -10000]),
        "item_date": DAYS,
        "settled_at": st.sampled_from([noon(DAY, 1), noon(DAY, 40)]),
    }
)
RECEIPT = st.fixed_dictionaries(
    {"txn_id": TXNS, "amount_minor": st.sampled_from([10000, 9999]), "item_date": DAYS}
)


def spooled_run(
    kernel: Any, state: Any, tonight: Any, params: Any, shards: int, split_from: int
) -> KernelResult:
    """The kernel with tonight's frames read from a spool (split by shard in one pass from
    ``split_from`` shards on, else read by position) and its handoffs and outcome rows written
    there; the handoffs read back into its state, the outcome rows into its outcomes."""
    with tempfile.TemporaryDirectory() as folder:
        spool = Spool(Path(folder), RUN)
        written = {
            item.name: spool.write(item.name, getattr(tonight, item.name))
            for item in dataclasses.fields(tonight)
        }
        fields, spooled = stand_ins("tonight", **written)
        executor = LocalExecutor(shards=shards, spool=spool, split_from=split_from)
        result = executor.run(
            kernel, state, dataclasses.replace(tonight, **fields), params, RUN, spooled
        )
        assert result.handed.keys() == set(kernel.handoffs)
        assert not list(spool.folder.glob("*-by-shard"))  # split inputs go with the kernel
        assert isinstance(result.outcomes, pl.LazyFrame)
        handed = {name: frame.collect() for name, frame in result.handed.items()}
        outcomes = result.outcomes.collect()
    return dataclasses.replace(
        result, state={**result.state, **handed}, handed={}, outcomes=outcomes
    )


def same_in_shards(
    kernel: Any, state: Any, tonight: Callable[[], Any], params: Any, shards: int
) -> None:
    """The kernel through ``shards`` shards against one call, with its inputs and handoffs in
    memory and through a spool; ``tonight`` makes the inputs anew for each run (a kernel may
    take them over)."""
    whole = LocalExecutor(shards=1).run(kernel, state, tonight(), params, RUN)
    assert_same(LocalExecutor(shards=shards).run(kernel, state, tonight(), params, RUN), whole)
    for count, split_from in ((1, 1), (shards, shards + 1), (shards, shards)):
        assert_same(spooled_run(kernel, state, tonight(), params, count, split_from), whole)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ENTRY, max_size=8),
    st.lists(LINE, max_size=6),
    st.lists(LINE, max_size=6),
    st.lists(st.tuples(TXNS, REFS), max_size=3),
    SHARD_COUNTS,
)
def test_settlement_in_shards_equals_one_call(
    ledger: list[dict[str, Any]],
    carried: list[dict[str, Any]],
    tonight: list[dict[str, Any]],
    history: list[tuple[str, str | None]],
    shards: int,
) -> None:
    carried_lines = lines(*unique(carried, "settlement_id"))
    tonight_lines = lines(*[{**row, "settlement_id": f"N{n}"} for n, row in enumerate(tonight)])
    payments = pl.DataFrame(
        {
            "entry_id": [f"H{n}" for n in range(len(history))],
            "txn_id": [txn for txn, _ in history],
            "ref_norm": [None if ref is None else ref.lower() for _, ref in history],
        },
        schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String},
    )
    same_in_shards(
        settlement_kernel.KERNEL,
        settlement_kernel.SettlementState(carried_lines),
        lambda: settlement_kernel.SettlementTonight(
            entries(*unique(ledger, "entry_id")), tonight_lines, payments
        ),
        settlement_kernel.SettlementParams(CONFIG),
        shards,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ENTRY, max_size=8),
    st.lists(RECEIPT, max_size=5),
    st.lists(RECEIPT, max_size=5),
    SHARD_COUNTS,
)
def test_receipts_in_shards_equal_one_call(
    ledger: list[dict[str, Any]],
    carried: list[dict[str, Any]],
    tonight: list[dict[str, Any]],
    shards: int,
) -> None:
    same_in_shards(
        receipt_kernel.KERNEL,
        receipt_kernel.ReceiptState(receipts(*unique(carried, "receipt_id"))),
        lambda: receipt_kernel.ReceiptTonight(
            entries(*unique(ledger, "entry_id")),
            receipts(*[{**row, "receipt_id": f"N{n}"} for n, row in enumerate(tonight)]),
        ),
        receipt_kernel.ReceiptParams(CONFIG),
        shards,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ENTRY, max_size=8),
    st.lists(LINE, max_size=6),
    st.lists(RECEIPT, max_size=5),
    st.lists(
        st.tuples(st.sampled_from(["ledger", "receipts", "settlement"]), TXNS, REFS, TYPES),
        max_size=4,
    ),
    SHARD_COUNTS,
)
def test_duplicates_in_shards_equal_one_call(
    ledger: list[dict[str, Any]],
    settled: list[dict[str, Any]],
    received: list[dict[str, Any]],
    known: list[tuple[str, str, str | None, str]],
    shards: int,
) -> None:
    keys = pl.DataFrame(
        {
            "source": [source for source, *_ in known],
            "dup_key": [
                f"{(ref or 'x').lower()}|{kind}" if source == "settlement" else txn
                for source, txn, ref, kind in known
            ],
            "row_id": [f"K{n}" for n in range(len(known))],
        },
        schema={"source": pl.String, "dup_key": pl.String, "row_id": pl.String},
    )

    same_in_shards(
        duplicates_kernel.KERNEL,
        duplicates_kernel.DuplicateState(keys),
        lambda: duplicates_kernel.DuplicateTonight(
            entries(*unique(ledger, "entry_id")),
            lines(*unique(settled, "settlement_id")),
            receipts(*unique(received, "receipt_id")),
        ),
        duplicates_kernel.DuplicateParams(),
        shards,
    )
