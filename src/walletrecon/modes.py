"""Outputs are readable by all and writable by their owner only, whatever the caller's umask.

A scheduler may run walletrecon under ``umask 000``; the outputs, the state and the registry must
still come out 0644 (files) and 0755 (folders), or stricter when the umask is stricter. The
writers create files and folders inside ``owner_writable()``, which adds group and other write
protection to the process's umask for as long as they write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

#: Bits always masked while outputs are written: no write access for group and others.
OUTPUT_UMASK = 0o022


@contextmanager
def owner_writable() -> Iterator[None]:
    """Create files 0644 and folders 0755 (or stricter) in the body, then restore the umask.

    The umask belongs to the process; walletrecon writes from one thread of control at a time
    (Polars' worker threads write on its behalf), so setting it around the writers is safe.
    """
    previous = os.umask(OUTPUT_UMASK)
    os.umask(previous | OUTPUT_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
