"""Hash shards and the local executor (DESIGN.md, "Shards").

A kernel (``walletrecon.kernels``) reads frames keyed by one relation key. Every input frame is
partitioned by a stable hash of its key, ``xxhash64(key) % n`` (polars-hash: the same value in
every process and on every machine, so Spark uses the very same function), rows with a null key
all in shard 0. Each shard is a complete, smaller kernel input: the kernel runs per shard and the
findings, outcomes and state frames of the shards are concatenated.

Kernel-agnostic: a ``Kernel`` names its run function and, per input frame, the expression of its
key (``state.NAME`` / ``tonight.NAME`` after the fields of its state and tonight dataclasses).
The number of shards follows from a memory budget (``[engine] memory_limit``): with small data
it is one, and the kernel runs as it is, with no partitioning at all.

A large night hands its largest frames from kernel to kernel through the night's spool
(``spool.Spool``): such an input is a ``pl.LazyFrame`` scanning Parquet, and the local executor
reads each shard's rows of it only when that shard runs. The working sets a kernel hands on
(``Kernel.handoffs``) go to the spool shard by shard as they are made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import polars as pl
import polars_hash as plh

from walletrecon.kernels import KernelResult
from walletrecon.spool import OUTCOMES, Spool, SpoolParts, named, rows

S = TypeVar("S")
T = TypeVar("T")
P = TypeVar("P")

#: Input frames by name: ``state.NAME`` and ``tonight.NAME``.
Frames = dict[str, pl.DataFrame]
#: A kernel input as the executors take it: a frame in memory, or a spooled one still to read.
Input = pl.DataFrame | pl.LazyFrame
#: Per input frame, the expression of its shard key (it may depend on all the frames: a bank
#: line's key is the payout its reference names among all payouts). The frames are lazy: a
#: rule reads only the key columns of a spooled frame.
KeyRule = Callable[[Mapping[str, pl.LazyFrame]], Mapping[str, pl.Expr]]

#: The column holding a row's shard while frames are partitioned.
SHARD = "__shard"
#: The column holding a row's position while a spooled frame is read by shard.
POSITION = "__position"
#: From this many shards on, a spooled input is split by shard in one pass (``Spool.split``)
#: before the shards run. Reading one shard's rows by position from the whole frame costs
#: about an eighth of the split (measured at 10M ledger rows: 0.4s against 3.3s), so with
#: fewer shards the reads by position cost less.
SPLIT_FROM_SHARDS = 8
#: A kernel's working set as a multiple of the estimated size of its input frames (joins,
#: group-bys and the result frames held next to the inputs).
WORKING_SET_FACTOR = 4


@dataclass(frozen=True)
class Kernel(Generic[S, T, P]):
    """A per-relation kernel as the executors see it: its run function and its shard keys."""

    name: str
    run: Callable[[S, T, P, dt.date], KernelResult]
    keys: KeyRule
    #: The kernel's working set as a multiple of its inputs' size (what sets its shard count).
    working_set: float = WORKING_SET_FACTOR
    #: State frames that are working sets a later kernel of the night reads (not state for the
    #: next night): an executor with a spool writes them there (``KernelResult.handed``).
    handoffs: tuple[str, ...] = ()


class Executor(Protocol):
    """Runs a kernel over its inputs, whole or per shard, with the same result."""

    def run(
        self,
        kernel: Kernel[S, T, P],
        state: S,
        tonight: T,
        params: P,
        run_date: dt.date,
        spooled: Mapping[str, pl.LazyFrame] | None = None,
    ) -> KernelResult:
        """The kernel's result over the whole inputs. ``spooled`` holds the inputs (by
        ``state.NAME`` / ``tonight.NAME``) to read from the spool; their fields of ``state``
        and ``tonight`` hold stand-ins (``stand_ins``)."""
        ...


def stand_ins(
    prefix: str, **frames: Input
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.LazyFrame]]:
    """A kernel's state or tonight fields, and the spooled inputs among them: a spooled frame's
    field holds an empty frame of its schema, and the executor reads its rows."""
    fields: dict[str, pl.DataFrame] = {}
    spooled: dict[str, pl.LazyFrame] = {}
    for name, frame in frames.items():
        if isinstance(frame, pl.LazyFrame):
            spooled[f"{prefix}.{name}"] = frame
            fields[name] = pl.DataFrame(schema=frame.collect_schema())
        else:
            fields[name] = frame
    return fields, spooled


def lazy_frames(frames: Mapping[str, Input]) -> dict[str, pl.LazyFrame]:
    """The frames as lazy ones (free for a frame in memory), as key rules take them."""
    return {name: frame.lazy() for name, frame in frames.items()}


def shard_of(key: pl.Expr, shards: int) -> pl.Expr:
    """The shard (0 to ``shards`` - 1) of a key: xxhash64 of its text modulo ``shards``; a null
    key is in shard 0."""
    digest = plh.concat_str([key.cast(pl.String)], separator="").nchash.xxhash64()
    return (digest.cast(pl.UInt64) % shards).fill_null(0).cast(pl.Int32)


def input_frames(state: object, tonight: object) -> Frames:
    """A kernel's input frames by name, from the fields of its state and tonight dataclasses."""
    frames: Frames = {}
    for prefix, inputs in (("state", state), ("tonight", tonight)):
        for item in dataclasses.fields(inputs):  # type: ignore[arg-type]
            frames[f"{prefix}.{item.name}"] = getattr(inputs, item.name)
    return frames


def with_frames(template: Any, prefix: str, frames: Mapping[str, Input]) -> Any:
    """A copy of a state or tonight dataclass holding the given frames (``prefix.NAME``)."""
    names = {item.name for item in dataclasses.fields(template)}
    return dataclasses.replace(template, **{name: frames[f"{prefix}.{name}"] for name in names})


def partition(frames: Frames, keys: Mapping[str, pl.Expr], shards: int) -> list[Frames]:
    """Every frame split by ``shard_of`` its key: one complete set of frames per shard (a shard
    with no rows of a frame gets it empty, with its schema)."""
    missing = sorted(set(frames) - set(keys))
    if missing:
        raise ValueError(f"no shard key for the kernel input frame(s) {', '.join(missing)}")
    parts: list[Frames] = [{} for _ in range(shards)]
    for name, frame in frames.items():
        tagged = frame.with_columns(shard_of(keys[name], shards).alias(SHARD))
        split = tagged.partition_by(SHARD, as_dict=True, include_key=False)
        for shard in range(shards):
            parts[shard][name] = split.get((shard,), frame.clear())
    return parts


def merge(results: list[KernelResult]) -> KernelResult:
    """One result from the results of the shards: findings, outcomes and each state frame
    concatenated."""
    if len(results) == 1:
        return results[0]
    names = results[0].state.keys()
    return KernelResult(
        findings=pl.concat([result.findings for result in results]),
        outcomes=pl.concat([result.outcomes.lazy() for result in results]).collect(),
        state={name: pl.concat([result.state[name] for result in results]) for name in names},
    )


def physical_memory() -> int:
    """Bytes of physical memory of this machine (4GB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


#: The default budget's share of the machine's physical memory: the night's rows, its state,
#: the registry look-ups and the allocators' slack come on top of a kernel's working set (at
#: 30M ledger rows a night about 2GB on top: a fifth of 24GB keeps the night under 8GB).
DEFAULT_MEMORY_SHARE = 5


def memory_budget(memory_limit: int | None) -> int:
    """The configured ``[engine] memory_limit``, or a fifth of the machine's physical memory."""
    return memory_limit if memory_limit is not None else physical_memory() // DEFAULT_MEMORY_SHARE


def shard_count(input_bytes: int, memory_limit: int, factor: float = WORKING_SET_FACTOR) -> int:
    """Shards needed so that one shard's working set (``WORKING_SET_FACTOR`` times its share of
    the inputs) fits in the memory limit; at least one."""
    return max(1, math.ceil(input_bytes * factor / max(memory_limit, 1)))


#: Bytes a value of a type takes in memory, about, for frames still on disk (text: its view
#: and a typical value; a list: its offsets and a few values).
_VALUE_BYTES = {pl.String: 24, pl.List: 48, pl.Boolean: 1, pl.Date: 4}


def input_size(frame: Input) -> int:
    """Estimated bytes of a frame in memory; of a spooled one, from its rows and types."""
    if isinstance(frame, pl.DataFrame):
        return int(frame.estimated_size())
    dtypes = frame.collect_schema().dtypes()
    width = sum(_VALUE_BYTES.get(dtype.base_type(), 8) for dtype in dtypes)
    return rows(frame) * width


def frames_size(frames: Mapping[str, Input]) -> int:
    """Estimated bytes of the frames."""
    return sum(input_size(frame) for frame in frames.values())


def shard_rows(frame: Input, shard_ids: pl.Series, shard: int) -> pl.DataFrame:
    """The rows of one shard; of a spooled frame, read from the spool by position."""
    chosen = shard_ids == shard
    if isinstance(frame, pl.DataFrame):
        return frame.filter(chosen)
    positions = chosen.arg_true().cast(pl.get_index_type())
    return (
        frame.with_row_index(POSITION)
        .filter(pl.col(POSITION).is_in(positions.implode()))
        .drop(POSITION)
        .collect(engine="streaming")
    )


def read_spooled(state: S, tonight: T, spooled: Mapping[str, pl.LazyFrame]) -> tuple[S, T]:
    """The kernel's state and tonight with their spooled inputs read whole into their fields."""
    read = {name: frame.collect(engine="streaming") for name, frame in spooled.items()}
    frames = {**input_frames(state, tonight), **read}
    return with_frames(state, "state", frames), with_frames(tonight, "tonight", frames)


@dataclass(frozen=True)
class LocalExecutor:
    """Runs the shards one after the other in this process.

    ``shards`` fixes the number of shards (tests); otherwise it follows from ``memory_limit``
    (bytes; None: a fifth of the machine's memory) and the size of the inputs. With a ``spool``,
    the kernels' handoffs (``Kernel.handoffs``) and outcome rows are written there shard by
    shard.
    """

    memory_limit: int | None = None
    shards: int | None = None
    spool: Spool | None = None
    #: From this many shards on, spooled inputs are split by shard in one pass (None:
    #: ``SPLIT_FROM_SHARDS``).
    split_from: int | None = None

    def shard_count(self, frames: Mapping[str, Input], factor: float = WORKING_SET_FACTOR) -> int:
        """The number of shards for these input frames (``factor``: the kernel's working set
        as a multiple of its inputs). A spooled input counts once more: a shard's rows of it are
        read into memory beside the working set, where an input in memory is already there."""
        if self.shards is not None:
            return self.shards
        spooled = sum(
            input_size(frame) for frame in frames.values() if isinstance(frame, pl.LazyFrame)
        )
        needed = math.ceil(frames_size(frames) * factor) + spooled
        return shard_count(needed, memory_budget(self.memory_limit), 1)

    def run(
        self,
        kernel: Kernel[S, T, P],
        state: S,
        tonight: T,
        params: P,
        run_date: dt.date,
        spooled: Mapping[str, pl.LazyFrame] | None = None,
    ) -> KernelResult:
        """The kernel over the whole inputs when one shard will do; else per shard, merged."""
        frames: dict[str, Input] = {**input_frames(state, tonight), **(spooled or {})}
        handed = (
            {
                name: self.spool.parts(named(kernel.name, name))
                for name in (*kernel.handoffs, OUTCOMES)
            }
            if self.spool
            else {}
        )
        shards = self.shard_count(frames, kernel.working_set)
        if shards == 1:
            if spooled:
                state, tonight = read_spooled(state, tonight, spooled)
            del frames  # a kernel may take its inputs over and let them go
            result = kernel.run(state, tonight, params, run_date).compacted()
            return _handed_on(_hand_on(result, handed), handed)
        # One shard's rows at a time: the inputs stay as they are (the caller holds them, or
        # the spool) and only one shard's copy exists beside them.
        keys = kernel.keys(lazy_frames(frames))
        shard_ids = {
            name: frame.lazy().select(shard_of(keys[name], shards)).collect().to_series()
            for name, frame in frames.items()
        }
        del keys
        split = self._split(kernel.name, frames, shard_ids, shards)
        results = []
        for shard in range(shards):
            part = {
                name: split[name][shard].collect()
                if name in split
                else shard_rows(frames[name], shard_ids[name], shard)
                for name in frames
            }
            result = kernel.run(
                with_frames(state, "state", part),
                with_frames(tonight, "tonight", part),
                params,
                run_date,
            ).compacted()
            del part
            results.append(_hand_on(result, handed))
        if self.spool:
            self.spool.remove(*(_split_name(kernel.name, name) for name in split))
        return _handed_on(merge(results), handed)

    def _split(
        self,
        kernel: str,
        frames: Mapping[str, Input],
        shard_ids: Mapping[str, pl.Series],
        shards: int,
    ) -> dict[str, list[pl.LazyFrame]]:
        """Each spooled input split by shard in one pass through the spool, per shard a scan,
        when there are ``split_from`` shards or more; with fewer (or no spool), a shard's rows
        are read by position from the whole frame."""
        if self.spool is None or not splits(shards, self.split_from):
            return {}
        return {
            name: self.spool.split(
                _split_name(kernel, name), frame, shard_ids[name].alias(SHARD), shards
            )
            for name, frame in frames.items()
            if isinstance(frame, pl.LazyFrame)
        }


def splits(shards: int, split_from: int | None = None) -> bool:
    """Whether spooled rows in this many shards are split by shard in one pass (``split_from``
    shards or more; None: ``SPLIT_FROM_SHARDS``) rather than read by position once a shard."""
    return shards >= (SPLIT_FROM_SHARDS if split_from is None else split_from)


def _split_name(kernel: str, frame: str) -> str:
    """The spooled name of a kernel's input frame split by shard."""
    return named(kernel, f"{frame.replace('.', '-')}-by-shard")


def _hand_on(result: KernelResult, handed: Mapping[str, SpoolParts]) -> KernelResult:
    """A shard's result with its handoffs and outcome rows written to the spool (and taken out
    of its state)."""
    if not handed:
        return result
    for name, parts in handed.items():
        if name != OUTCOMES:
            parts.add(result.state.pop(name))
    handed[OUTCOMES].add(result.outcomes.lazy().collect())
    return dataclasses.replace(result, outcomes=result.outcomes.clear())


def _handed_on(result: KernelResult, handed: Mapping[str, SpoolParts]) -> KernelResult:
    """The merged result, its spooled handoffs named in ``handed``; its outcome rows a scan of
    the spooled ones: they wait there for the manifest's count."""
    if not handed:
        return result
    scans = {name: parts.scan() for name, parts in handed.items()}
    return dataclasses.replace(result, outcomes=scans.pop(OUTCOMES), handed=scans)
