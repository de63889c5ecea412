"""One exception family for walletrecon, each kind carrying the exit code the CLI turns it into.

Exit codes (see README): 0 done; 1 breaks at or above --fail-on; 2 usage, configuration or input
error (re-running will not help); 75 transient failure (safe to retry); 70 any other failure.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class WalletReconError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code: int = 70
    retryable: bool = False


class UsageError(WalletReconError):
    """The command was called wrongly (bad date, missing folder)."""

    exit_code = 2


class ConfigError(WalletReconError):
    """The configuration file is unreadable or names an unknown key or a bad value."""

    exit_code = 2


class InputError(WalletReconError):
    """An input file is missing, unreadable, or lacks a required column."""

    exit_code = 2


class StateError(WalletReconError):
    """The state of earlier nights in the output folder cannot be used by this version."""

    exit_code = 2


class ReconciliationIntegrityError(WalletReconError):
    """The books of a run do not balance: a row was lost or counted twice. Nothing is published."""

    exit_code = 70


class TransientError(WalletReconError):
    """A failure that may pass on its own (disk full, lock held): safe to retry."""

    exit_code = 75
    retryable = True


#: errno values that mean the disk (or the user's quota) is full.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How native libraries word a full disk when they give no errno: Polars ("No space left on
#: device (os error 28)" in an OSError or a ComputeError), pyarrow, DuckDB (IOException,
#: TransactionException).
DISK_FULL_TEXTS = (os.strerror(errno.ENOSPC).lower(), os.strerror(errno.EDQUOT).lower())
#: The attribute ``mark_stage`` sets on an exception that escapes a stage of a night.
STAGE_ATTRIBUTE = "walletrecon_stage"


def _chain(error: BaseException) -> list[BaseException]:
    """The error and every error it was raised from or during, without cycles."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not item for item in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_disk_full(error: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the disk or the quota is full.

    One test wherever the disk fills: an errno where the library gives one, otherwise the
    operating system's words, which Polars, pyarrow and DuckDB pass on in their messages.
    """
    for item in _chain(error):
        if isinstance(item, OSError) and item.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(item).lower() for text in DISK_FULL_TEXTS):
            return True
    return False


#: Free bytes below which a failed write is taken for a full disk whatever the error says.
NO_ROOM_BYTES = 64 * 1024


def no_room_left(folder: Path) -> bool:
    """Whether the file system holding ``folder`` is (nearly) full, for the writers whose errors
    hide the cause (Polars' Parquet footer fails as "Invalid thrift: transport error")."""
    try:
        usage = os.statvfs(folder)
    except OSError:
        return False
    return usage.f_bavail * usage.f_frsize < NO_ROOM_BYTES


def mark_stage(error: BaseException, stage: str) -> None:
    """Record on an escaping error the stage it escaped from (the innermost stage wins)."""
    if getattr(error, STAGE_ATTRIBUTE, None) is None:
        try:
            setattr(error, STAGE_ATTRIBUTE, stage)
        except (AttributeError, TypeError):  # an exception type without a __dict__
            error.add_note(f"{STAGE_ATTRIBUTE}={stage}")


def failed_stage(error: BaseException) -> str | None:
    """The stage of a night an error escaped from, if it escaped from one."""
    stage = getattr(error, STAGE_ATTRIBUTE, None)
    if isinstance(stage, str):
        return stage
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, str) and note.startswith(f"{STAGE_ATTRIBUTE}="):
            return note.removeprefix(f"{STAGE_ATTRIBUTE}=")
    return None


#: What an operating-system error means for the path it names, in words for an operator.
OS_ERROR_MEANINGS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "does not exist",
    errno.ENOTDIR: "a part of this path is a file where a folder was expected",
    errno.EEXIST: "a file is in the way where a folder was expected",
    errno.EISDIR: "is a folder where a file was expected",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
}


def describe_os_error(error: OSError) -> str:
    """An operating-system error as ``PATH: what went wrong``, without Python's ``[Errno N]``."""
    meaning = OS_ERROR_MEANINGS.get(error.errno or 0) or (error.strerror or str(error)).lower()
    paths = [str(name) for name in (error.filename, error.filename2) if name is not None]
    return f"{' -> '.join(paths)}: {meaning}" if paths else meaning
