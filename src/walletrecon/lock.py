"""One run at a time per output folder: an advisory lock on ``OUT/.walletrecon.lock``.

The lock is held by the kernel for the life of the process, so a run killed at any point (even by
SIGKILL) releases it. A second run either waits for it up to a time-out or gives up at once with a
clear message and the transient exit code (safe to retry).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from walletrecon.errors import TransientError
from walletrecon.modes import owner_writable
from walletrecon.publish import JOURNAL_PREFIX, recover

LOCK_FILE = ".walletrecon.lock"
POLL_SECONDS = 0.2


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another run"
    except OSError:
        return "another run"


@contextmanager
def run_lock(out: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the output folder's lock while the body runs; TransientError if it stays busy."""
    path = out / LOCK_FILE
    with owner_writable():
        out.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise TransientError(
                        f"{out} is in use by {_holder(path)}; waited {wait_seconds:g} s. "
                        "Retry when that run has finished."
                    ) from exc
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} since {started}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def settle_for_reading(out: Path) -> list[str]:
    """Before reading published outputs, undo a publication a killed run left half swapped.

    Without a swap journal there is nothing to undo and no lock is taken, so readers never hold
    each other up. With one, the lock is taken first: if a run holds it, it is publishing right
    now and the reader gets a TransientError (retry shortly); otherwise the swap is rolled back
    (``publish.recover``) so the reader sees the night as it was. Returns what was undone.
    """
    if not any(out.glob(JOURNAL_PREFIX + "*.json")):
        return []
    with run_lock(out):
        return recover(out)
