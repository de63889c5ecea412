"""A scratch copy of an output folder, for a dry run of several nights (``backfill --dry-run``)
and for re-performing a published night (``walletrecon verify --replay``).

Each night of a backfill builds on the state the night before published; a dry run that
publishes nothing would build every night on the same old state and report what the real
backfill would not. The dry run (and a replay) publishes into a copy instead, beside the output
folder (on the same file system), then removes it. The copy is made of hard links, so it costs
no space and little time: published files are never written in place (partitions are swapped in
by rename), except the ``STALE`` markers, which are copied, and the lock file, which is left out.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from walletrecon.lock import LOCK_FILE
from walletrecon.modes import owner_writable
from walletrecon.publish import STALE_MARKER

#: Files the copy holds as copies of their own, because a night may rewrite them in place.
COPIED = frozenset({STALE_MARKER})


def link_or_copy(source: str, target: str) -> object:
    if Path(source).name in COPIED:
        return shutil.copy2(source, target)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a plain copy
        return shutil.copy2(source, target)
    return target


@contextmanager
def scratch_copy(out: Path) -> Iterator[Path]:
    """A scratch copy of ``out`` for the body to publish into; removed afterwards."""
    out = out.resolve()
    scratch = out.parent / f".{out.name}-dry-run-{uuid.uuid4().hex[:8]}"
    try:
        with owner_writable():
            if out.is_dir():
                shutil.copytree(
                    out,
                    scratch,
                    copy_function=link_or_copy,
                    ignore=shutil.ignore_patterns(LOCK_FILE),
                )
            else:
                scratch.mkdir(parents=True)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
