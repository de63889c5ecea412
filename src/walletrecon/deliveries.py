"""Tonight's deliveries: re-deliveries set aside, and what the kernels read of tonight's rows.

Between loading and the kernels: each source's accepted rows (already in the kernel's working
form) are split into tonight's new rows, identical re-deliveries, rejected re-uses of an id and
versions superseded tonight (``sources.redelivery``), against the registry of earlier nights;
tonight's registry rows are spilled as each source is done. On a large night (``spool_for``)
the rows loaded into the night's spool are read there in streaming passes (a hash of each id,
then the few rows whose id is repeated or known), and the new rows stay a plan over the spooled
rows: tonight's rows are written to disk once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from walletrecon.config import Config
from walletrecon.history import RegistrySpill
from walletrecon.kernel import Arrivals
from walletrecon.logs import LOGGER
from walletrecon.manifest import TALLY_SCHEMA, tally
from walletrecon.registry import Registries, known_keys, payment_history, prior_rows
from walletrecon.schemas import REJECTED_SCHEMA
from walletrecon.shards import (
    WORKING_SET_FACTOR,
    Input,
    memory_budget,
)
from walletrecon.sources.canonical import PIECE_BYTES, Loaded, registry_rows
from walletrecon.sources.inbox import InboxFile
from walletrecon.sources.redelivery import split_redeliveries
from walletrecon.spool import Spool, rows
from walletrecon.state import (
    BANK_WORK,
    LEDGER_WORK,
    RECEIPT_WORK,
    SETTLEMENT_WORK,
    SNAPSHOTS,
    conform,
)


@dataclass(frozen=True)
class Deliveries:
    """Tonight's accepted rows after re-deliveries, and what was set aside."""

    #: Per source, tonight's new rows, in memory or spooled (once the kernel has them, none are
    #: kept here).
    new: dict[str, Input]
    redelivered: dict[str, int]
    rejected: pl.DataFrame
    #: What the books need of the new rows: their ``manifest.tally`` (a few rows).
    accepted: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TALLY_SCHEMA))
    #: Per source, tonight's versions replaced by a later one tonight, and the updates accepted.
    superseded: dict[str, pl.DataFrame] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)


def _in_memory(frame: Input) -> pl.DataFrame:
    """A frame in memory: a spooled one read whole."""
    return frame if isinstance(frame, pl.DataFrame) else frame.collect()


def _sort_deliveries(
    loaded: Loaded,
    shaped: dict[str, Input],
    prior: pl.DataFrame,
    registry: RegistrySpill,
) -> Deliveries:
    new: dict[str, Input] = {}
    redelivered: dict[str, int] = {}
    superseded: dict[str, pl.DataFrame] = {}
    updated: dict[str, int] = {}
    rejected = [frame.cast(pl.Schema(REJECTED_SCHEMA)) for frame in loaded.rejected]
    # Each source's shaped rows are let go as soon as they are split, to keep peak memory down.
    # Largest first: each source's registry rows are written while the next one is split.
    for source in sorted(shaped, key=lambda name: -rows(shaped[name])):
        # Spooled rows are read in streaming passes, and their new rows stay a plan over them:
        # tonight's rows are written to the spool once.
        earlier = prior.filter(pl.col("source") == source)
        split = split_redeliveries(source, shaped.pop(source), earlier)
        redelivered[source] = split.redelivered.height
        updated[source] = split.updates
        rejected.append(split.conflicts.cast(pl.Schema(REJECTED_SCHEMA)))
        for batch in registry_rows(source, split.new):
            registry.write(batch)
        new[source] = split.new
        superseded[source] = split.superseded
    registry.close()
    return Deliveries(
        new=new,
        redelivered=redelivered,
        rejected=pl.concat(rejected) if rejected else pl.DataFrame(schema=REJECTED_SCHEMA),
        superseded=superseded,
        updated=updated,
    )


def _arrived(deliveries: Deliveries, source: str, schema: dict[str, pl.DataType]) -> Input:
    """Tonight's new rows of a source, or an empty frame of its working schema."""
    frame = deliveries.new.get(source)
    if frame is None:
        return conform(
            pl.DataFrame(), {**schema, "row_id": pl.String(), "content_hash": pl.UInt64()}
        )
    return frame


def sort_arrivals(
    files: Registries,
    loaded: Loaded,
    run_date: dt.date,
    config: Config,
    registry: RegistrySpill,
) -> tuple[Deliveries, Arrivals]:
    """Set aside re-deliveries of tonight's rows (loaded in the kernel's working form) and
    gather what earlier nights knew; tonight's registry rows go to ``registry``, a source at a
    time."""
    shaped: dict[str, Input] = loaded.accepted
    loaded.accepted = {}
    # Read for their hashes only, and only when there are earlier nights.
    ids = pl.concat(
        [
            frame.lazy().select(pl.lit(source).alias("source"), "row_id")
            for source, frame in shaped.items()
        ]
        or [pl.LazyFrame(schema={"source": pl.String, "row_id": pl.String})]
    )
    prior = prior_rows(files, ids)
    del ids  # it holds the shaped rows the split lets go source by source
    deliveries = _sort_deliveries(loaded, shaped, prior, registry)
    settlement = _arrived(deliveries, "settlement", SETTLEMENT_WORK)
    chargebacks = settlement.lazy().filter(pl.col("record_type") == "chargeback").collect()
    del settlement
    arrivals = Arrivals(
        ledger=_arrived(deliveries, "ledger", LEDGER_WORK),
        settlement=_arrived(deliveries, "settlement", SETTLEMENT_WORK),
        receipts=_arrived(deliveries, "receipts", RECEIPT_WORK),
        bank=_in_memory(_arrived(deliveries, "bank", BANK_WORK)),
        balances=_in_memory(_arrived(deliveries, "balances", SNAPSHOTS)),
        superseded=deliveries.superseded.get("ledger", pl.DataFrame()),
        known_keys=known_keys(files, registry.keys()),
        payment_history=payment_history(files, chargebacks),
    )
    # The manifest needs only the sums of tonight's rows: the kernel alone holds the rows.
    accepted = (
        pl.concat(
            [tally(frame, source) for source, frame in deliveries.new.items()],
            how="vertical",
        )
        if deliveries.new
        else pl.DataFrame(schema=TALLY_SCHEMA)
    )
    superseded = {source: frame.select("row_id") for source, frame in deliveries.superseded.items()}
    return replace(deliveries, new={}, accepted=accepted, superseded=superseded), arrivals


#: Bytes in memory of a night's rows, about, per byte of their files: typed columns, the
#: working columns and text views (measured: 2.4 on generated CSV), and a compressed file's
#: expansion on top.
TEXT_TO_MEMORY = 2
COMPRESSED_TO_MEMORY = {".gz": 12, ".parquet": 8}
#: The smallest piece of a CSV file read at a time, whatever the budget.
MIN_PIECE_BYTES = 64 * 1024


def read_piece_bytes(config: Config) -> int:
    """Bytes of a CSV file to read at a time (``load_folders``): a piece's rows and their
    checks' working columns within the memory budget, and at most ``PIECE_BYTES``."""
    budget = memory_budget(config.engine.memory_limit)
    return max(MIN_PIECE_BYTES, min(PIECE_BYTES, budget // (TEXT_TO_MEMORY * WORKING_SET_FACTOR)))


def spool_for(out: Path, run_date: dt.date, files: list[InboxFile], config: Config) -> Spool | None:
    """The night's spool when its rows, and the kernels' working sets over them, would pass the
    memory budget (``[engine] memory_limit``); None when the night fits in memory."""
    expected = sum(
        item.size * COMPRESSED_TO_MEMORY.get(item.path.suffix, TEXT_TO_MEMORY) for item in files
    )
    if expected * WORKING_SET_FACTOR <= memory_budget(config.engine.memory_limit):
        return None
    LOGGER.info(f"{run_date}: a large night: its rows wait between the stages on disk")
    return Spool(out, run_date)
