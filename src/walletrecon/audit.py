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
from pathlib import Path

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
