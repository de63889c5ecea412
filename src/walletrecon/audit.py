"""Verifying the archive (``walletrecon verify``, CONTRACT section 7): every output file a
night published still has the SHA-256 its manifest recorded, no file was added to a night's
partitions, the nights' manifests chain (each records the SHA-256 of the manifest of the night
before it), and the decision log's own chain holds.

A problem is one line naming the night and the file or link; none means the archive is as it
was published.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from walletrecon.decisions.log import read_log
from walletrecon.errors import WalletReconError
from walletrecon.publish import KINDS, STALE_MARKER, partition
from walletrecon.sources.files import file_sha256

#: Output kinds whose every file a manifest lists (the manifest itself and the state are not).
HASHED = tuple(kind for kind in KINDS if kind not in ("manifest", "state"))
MANIFEST = "manifest.json"


def manifest_path(out: Path, night: dt.date) -> Path:
    return partition(out, "manifest", night) / MANIFEST


def published_nights(out: Path) -> list[dt.date]:
    """Nights with a manifest, oldest first."""
    return sorted(
        dt.date.fromisoformat(path.parent.name.removeprefix("run_date="))
        for path in (out / "manifest").glob(f"run_date=*/{MANIFEST}")
    )


def read_manifests(
    out: Path, before: dt.date | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """The published nights' manifests, oldest first: those before a night, the ``last`` few."""
    nights = [night for night in published_nights(out) if before is None or night < before]
    if last is not None:
        nights = nights[-last:] if last > 0 else []
    return [json.loads(manifest_path(out, night).read_text(encoding="utf-8")) for night in nights]


def previous_manifest_sha256(out: Path, run_date: dt.date) -> str | None:
    """The SHA-256 of the manifest of the latest night published before this one (None for the
    first): what a night records, so that the manifests form a chain."""
    earlier = [night for night in published_nights(out) if night < run_date]
    return file_sha256(manifest_path(out, earlier[-1])) if earlier else None


def _outputs(out: Path, night: dt.date, manifest: dict[str, object]) -> list[str]:
    problems = []
    listed = manifest.get("outputs")
    if not isinstance(listed, dict):
        return [f"{night}: its manifest lists no outputs (published before they were hashed)"]
    for name, digest in sorted(listed.items()):
        path = out / name
        if not path.is_file():
            problems.append(f"{night}: {name} is missing")
        elif file_sha256(path) != digest:
            problems.append(f"{night}: {name} was changed (SHA-256 differs from the manifest)")
    for kind in HASHED:
        folder = partition(out, kind, night)
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            name = str(path.relative_to(out))
            if path.is_file() and name not in listed:
                problems.append(f"{night}: {name} is not among the files the night published")
    return problems


def _chain(out: Path, night: dt.date, before: dt.date | None, manifest: dict[str, object]) -> str:
    recorded = manifest.get("previous_manifest_sha256", "absent")
    if recorded == "absent":
        return ""  # published before manifests were chained
    if before is None:
        return (
            f"{night}: its manifest follows a night (SHA-256 {str(recorded)[:12]}...) that is no "
            "longer published (deleted?)"
            if recorded
            else ""
        )
    actual = file_sha256(manifest_path(out, before))
    if recorded == actual:
        return ""
    if (partition(out, "manifest", night) / STALE_MARKER).is_file():
        return f"{night}: stale since a night before it was re-run; re-run it (backfill)"
    if recorded is None:
        return f"{night}: its manifest says it was the first night, yet {before} comes before it"
    return (
        f"{night}: the manifest of the night before it ({before}) is not the one it followed: "
        "that night was re-run or its manifest edited, or a night between them was deleted"
    )


def verify(out: Path, first: dt.date | None = None, last: dt.date | None = None) -> list[str]:
    """Everything in the archive that is not as published, between two nights (inclusive)."""
    nights = published_nights(out)
    problems: list[str] = []
    for index, night in enumerate(nights):
        if (first and night < first) or (last and night > last):
            continue
        try:
            manifest = json.loads(manifest_path(out, night).read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{night}: its manifest is not valid JSON ({exc})")
            continue
        problems += _outputs(out, night, manifest)
        link = _chain(out, night, nights[index - 1] if index else None, manifest)
        problems += [link] if link else []
    orphans = sorted(
        {
            dt.date.fromisoformat(folder.name.removeprefix("run_date="))
            for kind in HASHED
            for folder in (out / kind).glob("run_date=*")
        }
        - set(nights)
    )
    problems += [
        f"{night}: outputs without a manifest (the night's manifest was deleted?)"
        for night in orphans
        if not ((first and night < first) or (last and night > last))
    ]
    try:
        read_log(out)
    except WalletReconError as error:
        problems.append(f"decisions: {error}")
    return problems


#: What a replayed night must reproduce: the data outputs, file by file (the report, which shows
#: the night's timings, and the state are left out) ...
REPLAYED_FILES = (
    "discrepancies/part-0.parquet",
    "evidence/part-0.parquet",
    "tickets/tickets.jsonl",
    "tickets/tickets.csv",
    "rejected/rejected.parquet",
    "rejected_csv/rejected.csv",
    "journal/adjustments.csv",
)
#: ... and the manifest's figures (not its timings, memory or versions).
REPLAYED_FIGURES = (
    "inputs",
    "outcomes",
    "control_totals",
    "discrepancies",
    "carried",
    "config_hash",
    "decisions",
    "ageing",
    "match_rates",
    "previous_manifest_sha256",
)


def replay(out: Path, night: dt.date, wait_seconds: float = 0.0) -> list[str]:
    """Re-perform a published night from its archived inputs and configuration and the state the
    night before left, in a scratch copy of the archive, and name every output that differs.

    The output folder's lock is held while the copy is made and the night re-performed."""
    from walletrecon.config import parse_config
    from walletrecon.errors import UsageError
    from walletrecon.lock import run_lock
    from walletrecon.pipeline import run_night
    from walletrecon.publish import CONFIG_FILE
    from walletrecon.scratch import link_or_copy, scratch_copy

    published = manifest_path(out, night)
    archive = partition(out, "inputs", night)
    if not published.is_file():
        raise UsageError(f"{out}: night {night} was not published")
    if not (archive / CONFIG_FILE).is_file():
        raise UsageError(f"{archive}: no archived inputs (published before inputs were archived)")
    config = parse_config(json.loads((archive / CONFIG_FILE).read_text(encoding="utf-8")))
    with run_lock(out, wait_seconds), scratch_copy(out) as scratch:
        inbox = scratch.parent / f"{scratch.name}-inbox"
        try:
            for folder in sorted(path for path in archive.iterdir() if path.is_dir()):
                shutil.copytree(folder, inbox / folder.name, copy_function=link_or_copy)
            run_night(night, inbox, scratch, config)
        finally:
            shutil.rmtree(inbox, ignore_errors=True)
        problems = [
            f"{night}: replayed {name} differs from the published one"
            for name in REPLAYED_FILES
            if not _same_file(out, scratch, night, name)
        ]
        before = json.loads(published.read_text(encoding="utf-8"))
        after = json.loads(manifest_path(scratch, night).read_text(encoding="utf-8"))
    problems += [
        f"{night}: replayed manifest's {key} differs from the published one"
        for key in REPLAYED_FIGURES
        if before.get(key) != after.get(key)
    ]
    return problems


def _same_file(out: Path, scratch: Path, night: dt.date, name: str) -> bool:
    kind, file_name = name.split("/")
    ours, theirs = (
        partition(out, kind, night) / file_name,
        partition(scratch, kind, night) / file_name,
    )
    if not ours.is_file() or not theirs.is_file():
        return ours.is_file() == theirs.is_file()
    if ours.suffix == ".parquet":  # the same rows, whatever the encoder's byte layout
        import polars as pl

        return pl.read_parquet(ours).equals(pl.read_parquet(theirs))
    return ours.read_bytes() == theirs.read_bytes()
