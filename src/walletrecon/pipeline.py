"""One night, stage by stage, each stage timed:

sources -> load and validate -> re-deliveries (DuckDB registry look-ups) -> match and classify
(Polars kernels, one per relation) -> lifecycle -> tickets -> manifest (books must balance) ->
publish -> state for the next night.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from walletrecon.ageing import ageing, match_rates
from walletrecon.audit import previous_manifest_sha256
from walletrecon.charts import warm_up as charts_warm_up
from walletrecon.closing import close_breaks
from walletrecon.config import Config
from walletrecon.decisions.book import (
    Book,
    book_for_night,
    hand_matches,
    manifest_section,
)
from walletrecon.decisions.log import Log
from walletrecon.decisions.pairing import pair_by_hand
from walletrecon.deliveries import Deliveries, read_piece_bytes, sort_arrivals, spool_for
from walletrecon.errors import mark_stage
from walletrecon.evidence import evidence_table, input_files, previous_table
from walletrecon.history import (
    STATE_DIR,
    RegistrySpill,
    previous_state_date,
    read_file_registry,
    read_state,
)
from walletrecon.kernel import Arrivals, reconcile
from walletrecon.keyindex import build as build_index
from walletrecon.keyindex import retire as retire_runs
from walletrecon.logs import LOGGER
from walletrecon.manifest import (
    build_manifest,
    check_books,
    control_totals,
    source_counts,
    tally,
    unaccounted,
)
from walletrecon.modes import owner_writable
from walletrecon.publish import (
    ArchivedInput,
    NightOutputs,
    mark_later_nights_stale,
    partition,
    publish,
    recover,
    refuse_stale_base,
)
from walletrecon.registry import Registries, registries
from walletrecon.report import earlier_manifests, render_report, write_index
from walletrecon.shards import Executor
from walletrecon.sources.canonical import FileRecord, Loaded, load_folders, require_ledger
from walletrecon.sources.inbox import LateFile, discover, next_registry
from walletrecon.spool import Spool, rows
from walletrecon.state import LIFECYCLE_FRAMES, NightState
from walletrecon.store import connect


@dataclass
class Timer:
    """Wall time per stage, and the process's peak memory when each stage ended."""

    run_date: dt.date
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: dict[str, int] = field(default_factory=dict)
    #: Called with a stage's name as it starts (a progress display, for instance).
    on_start: Callable[[str], None] | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_start is not None:
            self.on_start(name)
        started = time.perf_counter()
        try:
            yield
        except BaseException as error:
            mark_stage(error, name)
            raise
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.peak_rss_mib[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            LOGGER.info(
                f"{self.run_date} {name}",
                extra={
                    "run_date": self.run_date.isoformat(),
                    "stage": name,
                    "seconds": round(self.seconds[name], 4),
                    "peak_rss_mib": self.peak_rss_mib[name],
                },
            )


@dataclass(frozen=True)
class RunSummary:
    """What a finished night reports to its caller."""

    run_date: dt.date
    open_by_severity: dict[str, int]
    open_by_type: dict[str, int]
    new: int
    resolved: int
    rows_read: int
    rejected: int
    pending: int
    report_path: Path
    manifest_path: Path
    seconds: float


T = TypeVar("T")


def _discrepancy_summary(
    rows: pl.DataFrame, resolved: pl.DataFrame, run_date: dt.date
) -> dict[str, Any]:
    def counts(column: str) -> dict[str, int]:
        grouped = rows.group_by(column).len().sort(column)
        return {str(key): int(value) for key, value in grouped.iter_rows()}

    return {
        "open": rows.height,
        "new": int((rows["first_seen"] == run_date).sum()),
        "resolved": resolved.height,
        "by_type": counts("type"),
        "by_severity": counts("severity"),
    }


def repeated_files(out: Path, run_date: dt.date, files: list[FileRecord]) -> list[str]:
    """Files with rows that are byte for byte one reconciled on an earlier night, or another read
    the same night (a catch-up night reads several folders): most likely the same file
    delivered twice (and the real one missing). Their rows are counted as re-deliveries as
    usual; the night warns, in its log, manifest and report."""
    earlier: dict[str, str] = {}
    for path in sorted((out / "manifest").glob("run_date=*/manifest.json")):
        if path.parent.name.removeprefix("run_date=") < run_date.isoformat():
            for item in json.loads(path.read_text(encoding="utf-8")).get("inputs", []):
                earlier.setdefault(item["sha256"], item["path"])
    repeated = [
        f"{record.path} is byte for byte {earlier[record.sha256]} of an earlier night (same "
        "SHA-256): the same file was delivered twice?"
        for record in files
        if record.rows_read and record.sha256 in earlier
    ]
    # Two files of tonight's folders alike (a catch-up night reads several folders).
    first: dict[str, str] = {}
    for record in files:
        if record.rows_read and record.sha256 not in earlier:
            if record.sha256 in first:
                repeated.append(
                    f"{record.path} is byte for byte {first[record.sha256]}, read the same night "
                    "(same SHA-256): the same file was delivered twice?"
                )
            first.setdefault(record.sha256, record.path)
    return repeated


@dataclass
class Prepared:
    """Everything loaded for a night, before the kernel runs. ``_finish`` hands ``previous``
    over to the kernel, and lets go of the arrivals once the kernel has run."""

    loaded: Loaded
    previous: NightState
    deliveries: Deliveries
    arrivals: Arrivals
    #: Tonight's registry rows, spilled to a file to keep them out of memory.
    registry: RegistrySpill
    #: The registries of earlier nights.
    history: Registries
    state_date: dt.date | None
    dates: list[dt.date]
    warnings: list[str]
    #: Files of earlier folders read tonight, and the file registry for the next night.
    late: list[LateFile]
    files: pl.DataFrame
    #: Where a large night's rows and working sets wait between the stages (None: in memory).
    spool: Spool | None
    #: The inbox the night read (its files are archived with the outputs).
    inbox: Path = Path()
    #: The decisions recorded before the night started (the log as the night took it).
    book: Book = field(default_factory=lambda: Book(Log((), ())))
    #: Tonight's key index runs, built in the background while the kernels run.
    index_job: Future[list[Path]] | None = None


def _prepare(run_date: dt.date, inbox: Path, out: Path, config: Config, timer: Timer) -> Prepared:
    """Discover, load and validate tonight's files; read yesterday's state."""
    with timer.stage("discover"):
        for undone in recover(out):
            LOGGER.warning(f"rolled back a publication a killed run left half done: {undone}")
        require_ledger(inbox, run_date, config.inputs)
        state_date = previous_state_date(out, run_date)
        refuse_stale_base(out, run_date, state_date)
        read_before = read_file_registry(out, state_date)
        found = discover(inbox, run_date, state_date, read_before, config.inputs)
        book = book_for_night(out, run_date)
        warnings = [*found.warnings, *(late.describe() for late in found.late)]
    registry = RegistrySpill(out, run_date)
    spool = spool_for(out, run_date, found.files, config)
    try:
        with timer.stage("load"):
            with connect(config.timezone) as connection:
                loaded = load_folders(
                    connection,
                    found.files,
                    config.input_limits,
                    spool,
                    (run_date, config.timezone),
                    read_piece_bytes(config),
                )
            digests = {record.path: record.sha256 for record in loaded.files}
            warnings += loaded.warnings + repeated_files(out, run_date, loaded.files)
            for warning in warnings:
                LOGGER.warning(warning)
        with timer.stage("state"):
            previous = read_state(out, state_date)
            files = registries(out, state_date)
        with timer.stage("deliveries"):
            deliveries, arrivals = sort_arrivals(files, loaded, run_date, config, registry)
    except BaseException:
        registry.discard()
        if spool is not None:
            spool.discard()
        raise
    return Prepared(
        loaded=loaded,
        previous=previous,
        deliveries=deliveries,
        arrivals=arrivals,
        registry=registry,
        history=files,
        state_date=state_date,
        dates=found.dates,
        warnings=warnings,
        late=found.late,
        files=next_registry(read_before, found, digests, run_date),
        spool=spool,
        book=book,
        inbox=inbox,
    )


#: The stages of a night, in order.
STAGES = (
    "discover",
    "load",
    "state",
    "deliveries",
    "reconcile",
    "lifecycle",
    "index",
    "manifest",
    "publish",
)


def run_night(
    run_date: dt.date,
    inbox: Path,
    out: Path,
    config: Config,
    *,
    publish_outputs: bool = True,
    on_stage: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> RunSummary:
    """Reconcile one business date and publish its outputs (unless ``publish_outputs`` is off:
    a dry run computes everything and leaves the outputs and the state as they were).

    The caller holds the output folder's lock (``lock.run_lock``): a night first rolls back
    whatever a killed run left half published. ``executor`` runs the sharded kernels (by
    default in this process)."""
    started = time.perf_counter()
    timer = Timer(run_date, on_start=on_stage)
    prepared = _prepare(run_date, inbox, out, config, timer)
    try:
        return _finish(run_date, out, config, timer, prepared, started, publish_outputs, executor)
    finally:
        if prepared.index_job is not None:
            wait([prepared.index_job])  # its own failure, if any, was raised by _finish
        prepared.registry.discard()
        if prepared.spool is not None:
            prepared.spool.discard()


def archived_inputs(prepared: Prepared, files: list[FileRecord]) -> tuple[ArchivedInput, ...]:
    """The files the night read, with the SHA-256 they were read with and the size and time the
    inbox showed them with (the file registry): what ``publish`` archives."""
    seen = {
        path: (size, mtime_ns)
        for path, size, mtime_ns in prepared.files.select("path", "size", "mtime_ns").iter_rows()
    }
    archived = []
    for record in files:
        source = prepared.inbox / record.path
        status = source.stat()
        size, mtime_ns = seen.get(record.path, (status.st_size, status.st_mtime_ns))
        archived.append(ArchivedInput(record.path, source, record.sha256, size, mtime_ns))
    return tuple(archived)


def _index_in_background(out: Path, run_date: dt.date, prepared: Prepared) -> Future[list[Path]]:
    """Build tonight's key index runs (``keyindex.build``) beside tonight's registry, in a thread
    while the kernels run: merging runs sorts and writes, which mostly leave the GIL."""
    spill = prepared.registry
    nights = {**prepared.history.nights, run_date: (spill.path, spill.stamp)}

    def build() -> list[Path]:
        with owner_writable():
            return build_index(out / STATE_DIR, prepared.state_date, nights, run_date, spill.folder)

    return _in_background("index", build)


def _in_background(name: str, work: Callable[[], T]) -> Future[T]:
    """Run ``work`` in a thread of its own; the thread ends with it."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    job = pool.submit(work)
    pool.shutdown(wait=False)
    return job


def _finish(
    run_date: dt.date,
    out: Path,
    config: Config,
    timer: Timer,
    prepared: Prepared,
    started: float,
    publish_outputs: bool,
    executor: Executor | None = None,
) -> RunSummary:
    """The stages after loading: kernel, lifecycle, manifest, publish."""
    loaded, deliveries = prepared.loaded, prepared.deliveries
    state_date, dates = prepared.state_date, prepared.dates
    if publish_outputs:
        prepared.index_job = _index_in_background(out, run_date, prepared)
    if config.report.charts:
        charts_warm_up()
    # The kernel takes yesterday's state over and lets each frame go once read; the manifest
    # keeps its sizes. Tonight's rows go with the arrivals once the kernel is done.
    yesterday = prepared.previous.in_memory()
    before = {name: frame.height for name, frame in yesterday.items()}
    prepared.previous = NightState.initial()
    # Tonight's decisions; a hand match is made on the state before the kernels pair it.
    due = prepared.book.due(yesterday["applied_decisions"], config.decisions)
    yesterday, void = pair_by_hand(yesterday, due)
    with timer.stage("reconcile"):
        night = reconcile(yesterday, prepared.arrivals, run_date, config, executor, prepared.spool)
        del yesterday
        prepared.arrivals.let_go()
    with timer.stage("lifecycle"):
        book = prepared.book
        closing = close_breaks(night, book, due, void, run_date, config)
        life, decided = closing.life, closing.decided
        report_rows, journal = closing.report_rows, closing.journal
    # The evidence table reads the rows of new evidence from the night's files: in a thread,
    # while the manifest and the report are made (reading and scanning leave the GIL).
    tonight_files = [
        {"source": item.source, "path": item.path, "profile": item.profile} for item in loaded.files
    ]
    evidence_job = _in_background(
        "evidence",
        partial(
            evidence_table,
            report_rows,
            input_files(out, run_date, prepared.inbox, tonight_files),
            previous_table(out, run_date),
        ),
    )
    taken_in: list[Path] = []
    if prepared.index_job is not None:
        with timer.stage("index"):
            taken_in = prepared.index_job.result()
    with timer.stage("manifest"):
        outcomes = tally(night.outcomes)
        counts = source_counts(
            loaded.files,
            deliveries.rejected,
            deliveries.redelivered,
            outcomes,
            superseded={source: frame.height for source, frame in deliveries.superseded.items()},
            updated=deliveries.updated,
        )
        totals = control_totals(deliveries.accepted, outcomes)
        check_books(counts, totals, unaccounted(deliveries.accepted, outcomes))
        carried = {
            name: {"before": before[name], "after": rows(frame)}
            for name, frame in night.state.frames().items()
            if name not in LIFECYCLE_FRAMES
        }
        manifest = build_manifest(
            run_date,
            files=loaded.files,
            rejected=deliveries.rejected,
            counts=counts,
            totals=totals,
            discrepancies=_discrepancy_summary(report_rows, life.resolved, run_date),
            carried={
                **carried,
                "state_from": state_date.isoformat() if state_date else None,
                "inbox_dates": [day.isoformat() for day in dates],
            },
            config_hash=config.digest(),
            timings=timer.seconds,
            peak_rss_mib=timer.peak_rss_mib,
        )
        manifest["previous_manifest_sha256"] = previous_manifest_sha256(out, run_date)
        manifest["decisions"] = manifest_section(book, decided, journal, config.decisions)
        manifest["ageing"] = ageing(report_rows, config.tickets)
        manifest["match_rates"] = match_rates(counts, hand_matches(book, decided))
        manifest["warnings"] = prepared.warnings
        manifest["late_files"] = [late.record() for late in prepared.late]
    with timer.stage("publish"):
        shown_rows, tickets = closing.shown(config)
        html = render_report(
            manifest=manifest,
            discrepancies=shown_rows,
            tickets=tickets,
            rejected=deliveries.rejected,
            counts=counts,
            timezone=config.timezone,
            earlier=earlier_manifests(out, run_date),
            draw_charts=config.report.charts,
        )
        outputs = NightOutputs(
            discrepancies=report_rows,
            evidence=evidence_job.result(),
            tickets=tickets,
            rejected=deliveries.rejected.sort("origin_file", "origin_row"),
            report_html=html,
            manifest=manifest,
            state=replace(
                night.state,
                open_discrepancies=life.open,
                resolved_discrepancies=life.resolved_history,
                decided_discrepancies=decided.decided,
                applied_decisions=pl.concat(
                    [night.state.applied_decisions, decided.applied], how="vertical_relaxed"
                ),
            ),
            journal=journal,
            inputs=archived_inputs(prepared, loaded.files),
            config_json=config.model_dump_json(indent=2),
            registry=prepared.registry.folder,
            files=prepared.files,
        )
        if publish_outputs:
            publish(out, outputs, run_date)
            mark_later_nights_stale(out, run_date)
            try:
                write_index(out)
            except OSError as error:  # the night is published; only its index is behind
                LOGGER.warning(
                    f"{out}/report/index.html not written ({error}); the next night writes it"
                )
            retire_runs(taken_in)
    LOGGER.info(
        f"{run_date} done",
        extra={
            "run_date": run_date.isoformat(),
            "counts": {
                "outcomes": manifest["outcomes"],
                "discrepancies": manifest["discrepancies"],
            },
            "seconds": round(time.perf_counter() - started, 4),
        },
    )
    return RunSummary(
        run_date=run_date,
        open_by_severity=manifest["discrepancies"]["by_severity"],
        open_by_type=manifest["discrepancies"]["by_type"],
        new=manifest["discrepancies"]["new"],
        resolved=life.resolved.height,
        rows_read=sum(item.read for item in counts.values()),
        rejected=sum(item.rejected for item in counts.values()),
        pending=sum(item.pending for item in counts.values()),
        report_path=partition(out, "report", run_date) / "report.html",
        manifest_path=partition(out, "manifest", run_date) / "manifest.json",
        seconds=time.perf_counter() - started,
    )
