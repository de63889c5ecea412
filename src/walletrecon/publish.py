"""Publishing one night's outputs atomically.

Everything is written into a staging folder beside the target first; only when all of it is on
disk are the date partitions swapped in by rename, the state last. A run that dies before that
leaves the previous outputs of that date as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from walletrecon.decisions.book import JOURNAL_COLUMNS, write_journal
from walletrecon.errors import StateError, TransientError, is_disk_full, no_room_left
from walletrecon.history import STATE_DIR, write_state
from walletrecon.modes import owner_writable
from walletrecon.partitioned import write_published
from walletrecon.sources.files import file_sha256
from walletrecon.spool import SPOOL_PREFIX
from walletrecon.spreadsheet import write_csv
from walletrecon.state import NightState
from walletrecon.tickets import flatten

#: Output kinds in the order they are swapped in; the state comes last.
KINDS = (
    "discrepancies",
    "evidence",
    "tickets",
    "rejected",
    "rejected_csv",
    "report",
    "journal",
    "inputs",
    "manifest",
    STATE_DIR,
)
#: The configuration a night ran with, archived beside its inputs (``verify --replay``).
CONFIG_FILE = "walletrecon.config.json"
#: Files written at the same time while a night is staged (the machine has few cores).
STAGING_THREADS = 2


@dataclass(frozen=True)
class NightOutputs:
    """Everything a night publishes."""

    discrepancies: pl.DataFrame
    #: One row per discrepancy and input row behind it (``evidence.EVIDENCE_SCHEMA``).
    evidence: pl.DataFrame
    tickets: pl.DataFrame
    rejected: pl.DataFrame
    report_html: str
    manifest: dict[str, Any]
    state: NightState
    registry: Path
    #: The registry of inbox files read by the nights up to this one.
    files: pl.DataFrame
    #: The journal lines of the night's write-offs (``decisions.book.JOURNAL_COLUMNS``).
    journal: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=JOURNAL_COLUMNS))
    #: The files the night read: (path under the inbox, where it is, its SHA-256 as read),
    #: archived under ``inputs/run_date=D/``; and the configuration as JSON.
    inputs: tuple[ArchivedInput, ...] = ()
    config_json: str = ""


def partition(out: Path, kind: str, run_date: dt.date) -> Path:
    """The folder of one output kind for one run date."""
    return out / kind / f"run_date={run_date.isoformat()}"


def _ticket_records(tickets: pl.DataFrame) -> pl.DataFrame:
    return tickets.with_columns(
        pl.col("due_date").cast(pl.String), pl.col("opened_on").cast(pl.String)
    )


def _write_tickets_jsonl(path: Path, tickets: pl.DataFrame) -> None:
    _ticket_records(tickets).write_ndjson(path)


def _write_tickets_csv(path: Path, tickets: pl.DataFrame) -> None:
    flat = flatten(_ticket_records(tickets))
    write_csv(flat, path)


@dataclass(frozen=True)
class ArchivedInput:
    """An input file the night read, to be archived: its path under the inbox, where it is,
    the SHA-256 and the size and modification time it was read with."""

    name: str
    source: Path
    sha256: str
    size: int
    mtime_ns: int


def _archive(target: Path, item: ArchivedInput) -> None:
    """Copy an input file into the night's archive. The file must be the one the night read:
    the same size and modification time before and after the copy (the SHA-256 read is the
    archived file's; ``walletrecon verify`` recomputes it)."""

    def unchanged() -> bool:
        status = item.source.stat()
        return (status.st_size, status.st_mtime_ns) == (item.size, item.mtime_ns)

    target.parent.mkdir(parents=True, exist_ok=True)
    if unchanged():
        shutil.copyfile(item.source, target)
        if unchanged():
            return
    raise TransientError(
        f"{item.source} changed while the night ran (its size or time is not the one read); "
        "re-run the night once the sender has finished writing it"
    )


def _stage(staging: Path, outputs: NightOutputs, run_date: dt.date) -> None:
    discrepancies = partition(staging, "discrepancies", run_date)
    rejected = partition(staging, "rejected", run_date)
    # The CSV twin a person opens sits in a folder of its own: a folder of a Parquet table
    # holds only Parquet, so that readers of the whole table (pandas, Spark) find nothing else.
    rejected_csv = partition(staging, "rejected_csv", run_date)
    report = partition(staging, "report", run_date)
    tickets = partition(staging, "tickets", run_date)
    journal = partition(staging, "journal", run_date)
    inputs = partition(staging, "inputs", run_date)
    evidence = partition(staging, "evidence", run_date)
    for folder in (
        discrepancies,
        evidence,
        rejected,
        rejected_csv,
        report,
        tickets,
        journal,
        inputs,
    ):
        folder.mkdir(parents=True)
    # Each output file, and how it is written; the manifest records their SHA-256.
    files: dict[Path, Callable[[Path], object]] = {
        tickets / "tickets.jsonl": partial(_write_tickets_jsonl, tickets=outputs.tickets),
        tickets / "tickets.csv": partial(_write_tickets_csv, tickets=outputs.tickets),
        discrepancies / "part-0.parquet": partial(write_published, outputs.discrepancies),
        evidence / "part-0.parquet": partial(write_published, outputs.evidence),
        rejected / "rejected.parquet": partial(write_published, outputs.rejected),
        rejected_csv / "rejected.csv": partial(write_csv, outputs.rejected),
        journal / "adjustments.csv": partial(write_journal, lines=outputs.journal),
        inputs / CONFIG_FILE: partial(Path.write_text, data=outputs.config_json, encoding="utf-8"),
        **{inputs / item.name: partial(_archive, item=item) for item in outputs.inputs},
        report / "report.html": partial(
            Path.write_text, data=outputs.report_html, encoding="utf-8"
        ),
    }

    # An archived input's SHA-256 is the one taken as it was read (``_archive``).
    known = {inputs / item.name: item.sha256 for item in outputs.inputs}

    def write(path: Path) -> tuple[str, str]:
        files[path](path)
        return str(path.relative_to(staging)), known.get(path) or file_sha256(path)

    # The files are written side by side, each hashed as soon as it is written: Polars and
    # Arrow leave the GIL as they encode, and the largest (discrepancies, tickets, state) grow
    # with the open breaks.
    with ThreadPoolExecutor(max_workers=STAGING_THREADS, thread_name_prefix="stage") as pool:
        state = pool.submit(
            write_state,
            partition(staging, STATE_DIR, run_date),
            outputs.state,
            outputs.registry,
            outputs.files,
        )
        written = dict(sorted(pool.map(write, files)))
        state.result()
    manifest = {**outputs.manifest, "outputs": written}
    folder = partition(staging, "manifest", run_date)
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")


JOURNAL_PREFIX = ".publishing-"


def _write_journal(path: Path, document: dict[str, Any]) -> None:
    """Write the swap journal atomically (a file renamed into place, then synced)."""
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _roll_back(out: Path, journal: Path) -> None:
    """Undo a swap that did not finish: put every earlier partition back, drop the new ones."""
    document = json.loads(journal.read_text(encoding="utf-8"))
    run_date = dt.date.fromisoformat(document["run_date"])
    trash, staging = Path(document["trash"]), Path(document["staging"])
    for kind in document["kinds"]:
        target = partition(out, kind, run_date)
        old = trash / kind
        if old.exists():
            shutil.rmtree(target, ignore_errors=True)
            os.replace(old, target)
        elif kind not in document["existed"] and not partition(staging, kind, run_date).exists():
            shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)
    journal.unlink()


def recover(out: Path) -> list[str]:
    """Undo publications a killed run left half done, and clear its leftovers.

    Call it under the output folder's lock before a night runs. Returns what it undid.
    """
    undone: list[str] = []
    if not out.is_dir():
        return undone
    for journal in sorted(out.glob(JOURNAL_PREFIX + "*.json")):
        _roll_back(out, journal)
        undone.append(journal.name)
    for leftover in out.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(".trash-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in [
        *out.glob(".registry-*.parquet"),
        *out.glob(JOURNAL_PREFIX + "*.tmp"),
        *out.glob("report/.index-*.html"),
    ]:
        leftover.unlink(missing_ok=True)
    for leftover in [*out.glob(".registry-*"), *out.glob(SPOOL_PREFIX + "*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    return undone


def publish(out: Path, outputs: NightOutputs, run_date: dt.date) -> None:
    """Write all outputs of a night and swap them in, replacing that date's earlier outputs.

    Everything is staged first; then a journal records the swap before any partition moves, and
    its removal is the commit. A failure (or a kill) in between is rolled back, at once or by
    ``recover`` on the next run, so a date shows either all its earlier outputs or all new ones.
    Files come out 0644 and folders 0755 (or stricter), whatever the umask.
    """
    with owner_writable():
        _publish(out, outputs, run_date)


def _publish(out: Path, outputs: NightOutputs, run_date: dt.date) -> None:
    out.mkdir(parents=True, exist_ok=True)
    token = f"{run_date.isoformat()}-{uuid.uuid4().hex[:8]}"
    staging, trash = out / f".staging-{token}", out / f".trash-{token}"
    journal = out / f"{JOURNAL_PREFIX}{token}.json"
    try:
        _stage(staging, outputs, run_date)
        trash.mkdir()
        existed = [kind for kind in KINDS if partition(out, kind, run_date).exists()]
        _write_journal(
            journal,
            {
                "run_date": run_date.isoformat(),
                "staging": str(staging),
                "trash": str(trash),
                "kinds": list(KINDS),
                "existed": existed,
            },
        )
        for kind in KINDS:
            swap_in(
                partition(staging, kind, run_date), partition(out, kind, run_date), trash / kind
            )
        journal.unlink()
    except BaseException as error:
        full = not is_disk_full(error) and no_room_left(out)
        if journal.exists():
            _roll_back(out, journal)
        if full:
            first_line = (str(error).strip().splitlines() or [""])[0]
            raise TransientError(
                f"disk full while publishing into {out} ({first_line}); retry when there is room"
            ) from error
        raise
    finally:
        journal.with_suffix(".tmp").unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)


def swap_in(staged: Path, target: Path, trash: Path) -> None:
    """Move a published partition aside (if any) and the staged one into its place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        os.replace(target, trash)
    os.replace(staged, target)


STALE_MARKER = "STALE"


def mark_later_nights_stale(out: Path, run_date: dt.date) -> list[dt.date]:
    """After re-running a night, mark the published nights after it as stale until re-run.

    Their outputs were built on the state this night had before; each gets a ``STALE`` file in
    its manifest folder, which its own re-run replaces.
    """
    marked = []
    for folder in sorted((out / "manifest").glob("run_date=*")):
        day = dt.date.fromisoformat(folder.name.removeprefix("run_date="))
        if day > run_date and (folder / "manifest.json").is_file():
            with owner_writable():
                _write_stale(folder, run_date, day)
            marked.append(day)
    return marked


def stale_nights(out: Path, up_to: dt.date) -> list[dt.date]:
    """Published nights up to this date marked ``STALE`` (a night before them was re-run)."""
    return sorted(
        dt.date.fromisoformat(marker.parent.name.removeprefix("run_date="))
        for marker in (out / "manifest").glob(f"run_date=*/{STALE_MARKER}")
        if marker.parent.name.removeprefix("run_date=") <= up_to.isoformat()
    )


def refuse_stale_base(out: Path, run_date: dt.date, state_date: dt.date | None) -> None:
    """StateError (exit 2) when a night would build on a state marked stale: its outputs would
    rest on a night since re-run. The message names the backfill that refreshes it."""
    if state_date is None:
        return
    stale = stale_nights(out, state_date)
    if state_date not in stale:
        return
    first = stale[0]
    raise StateError(
        f"night {run_date} would build on the state of {state_date}, which is stale: a night "
        f"before it was re-run since. Run `walletrecon backfill --from {first} --to {run_date}` "
        f"(or --to {state_date} first) to refresh the nights from {first} on."
    )


def _write_stale(folder: Path, run_date: dt.date, day: dt.date) -> None:
    (folder / STALE_MARKER).write_text(
        f"night {run_date} was re-run after this night was published; "
        f"re-run {day} (walletrecon backfill --from {day}) to refresh it\n",
        encoding="utf-8",
    )
