"""The decision log, ``OUT/decisions/decisions.jsonl``: append-only, one decision a line, each
line carrying the SHA-256 of the line before it (``previous_sha256``), so that an edited, removed
or reordered line breaks the chain from there on and is named when the log is read.

The last line is anchored by ``HEAD.json`` (its number and hash), rewritten after every append:
an edited last line, or a log cut short, no longer matches it. Lines after the head (an append
that died before the head was rewritten) are taken; the next append rewrites the head.

Lines are only ever added, under the output folder's lock (``lock.run_lock``), so a decision
recorded while a night runs waits for it and goes to the next night.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from walletrecon.decisions.model import GENESIS, REVIEWS, Decision, decision_id
from walletrecon.errors import StateError
from walletrecon.logs import LOGGER
from walletrecon.modes import owner_writable

LOG_FOLDER = "decisions"
LOG_FILE = "decisions.jsonl"
#: The number of lines and the hash of the last, written after each append: nothing chains to
#: the last line, so without it an edit of that line would go unseen.
HEAD_FILE = "HEAD.json"


def log_path(out: Path) -> Path:
    """Where an output folder's decision log lives."""
    return out / LOG_FOLDER / LOG_FILE


def line_sha256(line: bytes) -> str:
    """The hash the next line chains to: SHA-256 of a line's bytes without its newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass(frozen=True)
class Log:
    """The decisions of a log in order, and the hash of each line."""

    decisions: tuple[Decision, ...]
    hashes: tuple[str, ...]
    #: Bytes of the file the whole lines take (a torn last line, from an append that died
    #: part-way, lies beyond: the next append cuts it off).
    size: int = 0

    @property
    def last_sha256(self) -> str:
        return self.hashes[-1] if self.hashes else GENESIS

    def head(self, lines: int) -> Log:
        """The log as it was when it had its first ``lines`` lines."""
        return Log(self.decisions[:lines], self.hashes[:lines], self.size)

    def by_id(self) -> dict[str, Decision]:
        return {decision.decision_id: decision for decision in self.decisions}

    def states(self) -> dict[str, str]:
        """Each decision's state after the log's lines (a night's applying is not in the log):
        its own line's state, then the last review of it."""
        states: dict[str, str] = {
            decision.decision_id: decision.state
            for decision in self.decisions
            if decision.action not in REVIEWS
        }
        for decision in self.decisions:
            if decision.action in REVIEWS and decision.target in states:
                states[decision.target] = decision.state
        return states


def read_log(out: Path) -> Log:
    """The log with its chain checked; an empty log when there is none.

    StateError (exit 2) names the first line that is not a decision, or whose
    ``previous_sha256`` is not the hash of the line before it (an edit, a removed or reordered
    line), or whose id is not the next number."""
    path = log_path(out)
    if not path.is_file():
        return Log((), ())
    decisions: list[Decision] = []
    hashes: list[str] = []
    previous = GENESIS
    content = path.read_bytes()
    size = content.rfind(b"\n") + 1
    if size < len(content):
        LOGGER.warning(
            f"{path}: its last {len(content) - size} byte(s) are a torn line (an append that "
            "died part-way); they are left out and cut off by the next decision recorded"
        )
    for number, raw in enumerate(content[:size].splitlines(), start=1):
        where = f"{path} line {number}"
        try:
            decision = Decision.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise StateError(f"{where}: not a decision record ({first})") from exc
        if decision.previous_sha256 != previous:
            raise StateError(
                f"{where}: previous_sha256 {decision.previous_sha256[:12]}... is not the SHA-256 "
                f"of line {number - 1} ({previous[:12]}...): the log was edited, or a line was "
                "removed or moved. Restore it from a backup; decisions are never edited in place."
            )
        if decision.decision_id != decision_id(number):
            raise StateError(
                f"{where}: decision id {decision.decision_id}, expected "
                f"{decision_id(number)} (a line was removed or moved)"
            )
        decisions.append(decision)
        previous = line_sha256(raw)
        hashes.append(previous)
    _check_head(path, hashes)
    return Log(tuple(decisions), tuple(hashes), size)


def _check_head(path: Path, hashes: list[str]) -> None:
    """StateError unless the line the head names is there with the head's hash."""
    head = path.with_name(HEAD_FILE)
    if not head.is_file():
        if hashes:
            raise StateError(f"{head} is missing: the log cannot be checked to its last line")
        return
    try:
        anchor = json.loads(head.read_text(encoding="utf-8"))
        lines, sha256 = int(anchor["lines"]), str(anchor["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(f"{head}: not a head record ({exc})") from exc
    if lines > len(hashes):
        raise StateError(
            f"{path}: has {len(hashes)} line(s) but {head.name} says {lines}: lines were removed"
        )
    if lines and hashes[lines - 1] != sha256:
        raise StateError(
            f"{path} line {lines}: its SHA-256 is not the one {head.name} recorded: the line "
            "was edited. Restore the log from a backup; decisions are never edited in place."
        )


def _write_head(path: Path, lines: int, sha256: str) -> None:
    head = path.with_name(HEAD_FILE)
    temporary = head.with_suffix(".tmp")
    temporary.write_text(json.dumps({"lines": lines, "sha256": sha256}) + "\n", encoding="utf-8")
    os.replace(temporary, head)


#: Builds one decision from its id, its time and the hash it chains to.
Draft = Callable[[str, str, str], Decision]


def now() -> str:
    """The time a decision is recorded: UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def append(out: Path, log: Log, drafts: Iterable[Draft]) -> list[Decision]:
    """Write decisions after the log's last line, as one write, and sync it to disk.

    The caller holds the output folder's lock and read ``log`` under it."""
    path = log_path(out)
    number, previous, at = len(log.decisions), log.last_sha256, now()
    written: list[Decision] = []
    lines: list[bytes] = []
    for draft in drafts:
        number += 1
        decision = draft(decision_id(number), at, previous)
        line = decision.line().encode("utf-8")
        previous = line_sha256(line)
        written.append(decision)
        lines.append(line + b"\n")
    if not lines:
        return written
    with owner_writable():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.fstat(descriptor).st_size > log.size:  # a torn line: cut it off first
            os.ftruncate(descriptor, log.size)
        data = memoryview(b"".join(lines))
        while data:
            data = data[os.write(descriptor, data) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    with owner_writable():
        _write_head(path, number, previous)
    return written
