"""Where the shared contract and samples sit: beside the checkout (/work/shared for /work/main),
or two levels up for a worktree under /work/wt."""

from __future__ import annotations

from pathlib import Path


def shared(*parts: str) -> Path:
    """The path under the shared folder nearest the checkout (the sibling one if none exists)."""
    bases = Path(__file__).resolve().parents[1:4]
    for base in bases:
        if (base / "shared" / Path(*parts)).exists():
            return base / "shared" / Path(*parts)
    return bases[1] / "shared" / Path(*parts)
