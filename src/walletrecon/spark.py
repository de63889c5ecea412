"""The Spark executor: the same per-relation kernels, one Spark task per hash shard.

The driver partitions a kernel's input frames with ``shards.partition`` (the same stable hash as
the local executor) and hands Spark one row per shard and frame: ``(shard, frame, data)``, the
frame's rows of that shard as Arrow IPC bytes. State frames form one side, tonight's frames the
other; ``groupBy("shard").cogroup(...).applyInArrow(...)`` brings a shard's frames together in
one task, which runs the kernel with Polars and returns one row per result frame (findings,
outcomes, each state frame). Spark does the shuffle, the scheduling and the retries; the driver
concatenates the shards' results as the local executor does.

The session is local (``local[2]``) unless ``SPARK_MASTER`` names a master or the job was
started by ``spark-submit`` (whose ``--master`` and ``--conf`` then apply).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from walletrecon.kernels import KernelResult
from walletrecon.shards import (
    WORKING_SET_FACTOR,
    Frames,
    Kernel,
    LocalExecutor,
    P,
    S,
    T,
    input_frames,
    lazy_frames,
    merge,
    partition,
    read_spooled,
    with_frames,
)

#: The rows Spark carries: one frame of one shard as Arrow IPC bytes.
BLOB_SCHEMA = "shard int, part string, data binary"
#: What the Python extra and a Java runtime give; named when either is missing.
NEEDS = "the Spark engine needs `pip install walletrecon[spark]` and a Java runtime (Java 17+)"


def missing() -> str | None:
    """Why the Spark engine cannot run here, or None when it can."""
    absent = [name for name in ("pyspark", "pandas") if importlib.util.find_spec(name) is None]
    if absent:
        return f"{' and '.join(absent)} not installed: {NEEDS}"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin/java").exists()):
        return f"no Java runtime found (java not on PATH, no JAVA_HOME): {NEEDS}"
    return None


def session() -> Any:
    """The SparkSession of this process (created once, quiet logs).

    Master: ``SPARK_MASTER`` if set; the one ``spark-submit`` was given; else ``local[2]``.
    """
    from pyspark.sql import SparkSession

    # Python workers run the interpreter (and the installed walletrecon) of the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("walletrecon")
    master = os.environ.get("SPARK_MASTER")
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not started by spark-submit
        builder = builder.master("local[2]").config("spark.sql.shuffle.partitions", "2")
    builder = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_ipc(frame: pl.DataFrame) -> bytes:
    """A frame as Arrow IPC bytes (its schema kept, even with no rows)."""
    buffer = frame.write_ipc(None)
    return buffer.getvalue()


def from_ipc(data: bytes) -> pl.DataFrame:
    """A frame from Arrow IPC bytes."""
    return pl.read_ipc(data)


def _blobs(parts: list[Frames], prefix: str) -> pa.Table:
    """(shard, part, data) rows of the frames named ``prefix.*`` of every shard."""
    rows = [
        (shard, name, to_ipc(frame))
        for shard, frames in enumerate(parts)
        for name, frame in frames.items()
        if name.startswith(prefix + ".")
    ]
    return pa.table(
        {
            "shard": pa.array([row[0] for row in rows], pa.int32()),
            "part": pa.array([row[1] for row in rows], pa.string()),
            "data": pa.array([row[2] for row in rows], pa.binary()),
        }
    )


def _frames(table: pa.Table) -> Iterator[tuple[int, str, pl.DataFrame]]:
    for shard, part, data in zip(
        table.column("shard").to_pylist(),
        table.column("part").to_pylist(),
        table.column("data").to_pylist(),
        strict=True,
    ):
        yield shard, part, from_ipc(data)


def shard_task(
    kernel: Kernel[S, T, P], state: S, tonight: T, params: P, run_date: dt.date
) -> Callable[[pa.Table, pa.Table], pa.Table]:
    """The function Spark runs per shard: both sides' frames in, the kernel's result frames out.

    ``state`` and ``tonight`` are empty templates: they give the dataclasses and the schema of a
    frame a shard has no blob of."""
    empty = input_frames(state, tonight)

    def task(state_side: pa.Table, tonight_side: pa.Table) -> pa.Table:
        frames = dict(empty)
        shards = set()
        for side in (state_side, tonight_side):
            for shard, name, frame in _frames(side):
                frames[name] = frame
                shards.add(shard)
        shard = min(shards, default=0)
        result = kernel.run(
            with_frames(state, "state", frames),
            with_frames(tonight, "tonight", frames),
            params,
            run_date,
        )
        parts = {"findings": result.findings, "outcomes": result.outcomes.lazy().collect()}
        parts |= {f"state.{name}": frame for name, frame in result.state.items()}
        return pa.table(
            {
                "shard": pa.array([shard] * len(parts), pa.int32()),
                "part": pa.array(list(parts), pa.string()),
                "data": pa.array([to_ipc(frame) for frame in parts.values()], pa.binary()),
            }
        )

    return task


def _results(table: pa.Table) -> list[KernelResult]:
    """The shards' results from the rows the tasks returned."""
    by_shard: dict[int, dict[str, pl.DataFrame]] = {}
    for shard, part, frame in _frames(table):
        by_shard.setdefault(shard, {})[part] = frame
    results = []
    for shard in sorted(by_shard):
        parts = by_shard[shard]
        state = {name.removeprefix("state."): f for name, f in parts.items() if "." in name}
        results.append(KernelResult(parts["findings"], parts["outcomes"], state))
    return results


@dataclass
class SparkExecutor:
    """Runs a kernel's shards as Spark tasks.

    The shard count follows from ``memory_limit`` (bytes one task may use; None: half of this
    machine's memory) and is at least Spark's default parallelism, so every core has a shard.
    """

    spark: Any = None
    memory_limit: int | None = None
    shards: int | None = None

    def shard_count(self, frames: Frames, factor: float = WORKING_SET_FACTOR) -> int:
        """The local executor's count for the same budget, raised to Spark's parallelism."""
        planned = LocalExecutor(self.memory_limit, self.shards).shard_count(frames, factor)
        if self.shards is not None:
            return planned
        return max(planned, int(self._session().sparkContext.defaultParallelism))

    def _session(self) -> Any:
        if self.spark is None:
            self.spark = session()
        return self.spark

    def run(
        self,
        kernel: Kernel[S, T, P],
        state: S,
        tonight: T,
        params: P,
        run_date: dt.date,
        spooled: Mapping[str, pl.LazyFrame] | None = None,
    ) -> KernelResult:
        """The kernel's result over the whole inputs, computed per shard by Spark (spooled
        inputs are read whole first: Spark's own shuffle partitions them)."""
        spark = self._session()
        if spooled:
            state, tonight = read_spooled(state, tonight, spooled)
        frames = input_frames(state, tonight)
        parts = partition(
            frames, kernel.keys(lazy_frames(frames)), self.shard_count(frames, kernel.working_set)
        )
        templates = {name: frame.clear() for name, frame in frames.items()}
        task = shard_task(
            kernel,
            with_frames(state, "state", templates),
            with_frames(tonight, "tonight", templates),
            params,
            run_date,
        )
        state_side = spark.createDataFrame(_blobs(parts, "state")).groupBy("shard")
        tonight_side = spark.createDataFrame(_blobs(parts, "tonight")).groupBy("shard")
        del parts
        out = state_side.cogroup(tonight_side).applyInArrow(task, BLOB_SCHEMA)
        results = _results(out.toArrow())
        if not results:  # no shard had a frame: the kernel over its empty inputs
            return kernel.run(state, tonight, params, run_date)
        return merge(results)
