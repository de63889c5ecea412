"""An independent count of a CSV file's records, and the limits a well-formed file keeps.

The CSV parser is not trusted to say how many records a file holds: one stray quote makes it read
the rest of the file as one field, a quiet short read. This scan counts records by itself, in
numpy over the bytes (no Python loop over lines): RFC 4180 quotes toggle a quoted state, so a line
break is a record boundary exactly when an even number of quotes precede it. Empty lines are not
records (the parser skips them too). The header is the first record.

Limits (``MAX_QUOTED_LINE_BREAKS``, ``MAX_QUOTED_BYTES``, ``MAX_RECORD_BYTES``): a quoted field
may hold a few line breaks (an address, a note), not a file's worth. A quote still open at the end
of the file, or across more line breaks or bytes than these, is an error naming the line where it
opened; so is a record larger than ``MAX_RECORD_BYTES``. A quote inside a field that is not
enclosed in quotes (``O"Brien``) breaks RFC 4180: an odd number of them on a line is reported the
same way rather than guessed at.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from walletrecon.errors import InputError

#: Most line breaks one quoted field may hold.
MAX_QUOTED_LINE_BREAKS = 20
#: Most bytes a quoted field that holds a line break may span.
MAX_QUOTED_BYTES = 64 * 1024
#: Largest record (one line, or several joined by quoted line breaks) the reader accepts.
MAX_RECORD_BYTES = 8 * 1024 * 1024
#: Bytes scanned at a time: bounds the scan's working memory on large files.
SCAN_BLOCK = 16 * 1024 * 1024

QUOTE, LF, CR = ord('"'), ord("\n"), ord("\r")
Positions = npt.NDArray[np.int64]


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class Piece:
    """A run of whole records of a file: its bytes ``[start, end)`` and the data records in it
    (the first piece starts with the header, which it does not count)."""

    start: int
    end: int
    records: int


@dataclass(frozen=True)
class RecordScan:
    """What the scan found: data records (header excluded), the largest record's size in bytes,
    whether any quoted field holds a line break, and the file cut into pieces of whole records
    (one piece unless the scan was asked for smaller ones)."""

    records: int
    largest_record: int
    quoted_line_breaks: bool
    pieces: tuple[Piece, ...] = ()


def _blocks(handle: _Readable) -> Iterator[tuple[bytes, int]]:
    """The file's bytes in blocks, each with the first byte of the next block (-1 at the end)."""
    block = handle.read(SCAN_BLOCK)
    while block:
        following = handle.read(SCAN_BLOCK)
        yield block, following[0] if following else -1
        block = following


def _positions(path: Path) -> tuple[Positions, Positions, npt.NDArray[np.bool_], int]:
    """Positions of quotes and of line ends (LF, or a CR not followed by LF), whether each LF
    follows a CR, and the file's length in bytes."""
    quotes: list[Positions] = []
    breaks: list[Positions] = []
    crlf: list[npt.NDArray[np.bool_]] = []
    offset, previous = 0, -1
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for block, following in _blocks(handle):
                data = np.frombuffer(block, dtype=np.uint8)
                if b"\r" in block or previous == CR:
                    local, after_cr = _breaks_with_cr(data, following, previous)
                else:  # the common case, LF only: one pass, no shifted copies of the block
                    local = np.flatnonzero(data == LF)
                    after_cr = np.zeros(len(local), np.bool_)
                if b'"' in block:
                    quotes.append(np.flatnonzero(data == QUOTE) + offset)
                breaks.append(local + offset)
                crlf.append(after_cr)
                offset, previous = offset + len(block), int(data[-1])
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read file: {exc}") from exc
    return _join(quotes), _join(breaks), np.concatenate(crlf or [np.zeros(0, bool)]), offset


def _breaks_with_cr(
    data: npt.NDArray[np.uint8], following: int, previous: int
) -> tuple[Positions, npt.NDArray[np.bool_]]:
    """Line ends of a block holding a CR (LF, or a CR not followed by LF) and whether each LF
    follows a CR; ``following`` and ``previous`` are the bytes around the block (-1: none)."""
    after = np.append(data[1:], np.uint8(following if following >= 0 else 0))
    before = np.insert(data[:-1], 0, np.uint8(max(previous, 0)))
    local = np.flatnonzero((data == LF) | ((data == CR) & (after != LF)))
    return local, (data[local] == LF) & (before[local] == CR)


def _join(parts: list[Positions]) -> Positions:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def check_quotes(path: Path | str, quotes: Positions, breaks: Positions) -> None:
    """Every quoted field is closed, within the line-break and byte limits (``quotes`` and
    ``breaks``: sorted byte offsets of the quote characters and of the line breaks)."""
    line_of = np.searchsorted(breaks, quotes) + 1  # physical line of each quote
    if len(quotes) % 2:
        raise InputError(
            f"{path}: line {line_of[-1]}: a quote opens a field that is never closed (the rest "
            'of the file would be read as one value); a quote inside a value must be doubled ("")'
        )
    opens, closes = quotes[0::2], quotes[1::2]
    spanned = line_of[1::2] - line_of[0::2]
    too_long = (spanned > MAX_QUOTED_LINE_BREAKS) | (
        (spanned > 0) & (closes - opens > MAX_QUOTED_BYTES)
    )
    if too_long.any():
        first = int(np.argmax(too_long))
        raise InputError(
            f"{path}: line {line_of[0::2][first]}: a quoted field runs over {spanned[first]} line "
            f"breaks ({closes[first] - opens[first]} bytes) to line {line_of[1::2][first]}; a "
            f"quoted value may hold at most {MAX_QUOTED_LINE_BREAKS} line breaks and "
            f"{MAX_QUOTED_BYTES} bytes: most likely a stray quote"
        )


def _pieces(
    starts: Positions, non_empty: npt.NDArray[np.bool_], size: int, piece_bytes: int | None
) -> tuple[Piece, ...]:
    """The file cut at the first record start at or after every ``piece_bytes`` bytes: each
    piece holds whole records (``starts``: every record's first byte, empty ones included)."""
    cuts = np.zeros(1, np.int64)
    if piece_bytes is not None and size > piece_bytes:
        targets = np.arange(piece_bytes, size, piece_bytes, dtype=np.int64)
        found = np.unique(np.searchsorted(starts, targets))
        header = int(np.argmax(non_empty))  # the first piece holds it
        found = found[(found > header) & (found < len(starts))]
        cuts = np.concatenate([cuts, found[starts[found] < size]])
    before = np.concatenate([[0], np.cumsum(non_empty, dtype=np.int64)])
    counted = before[np.append(cuts[1:], len(starts))] - before[cuts]
    counted[0] = max(int(counted[0]) - 1, 0)  # the header
    bounds = np.append(starts[cuts], size)
    return tuple(
        Piece(int(bounds[index]), int(bounds[index + 1]), int(counted[index]))
        for index in range(len(cuts))
    )


def scan_records(path: Path, piece_bytes: int | None = None) -> RecordScan:
    """Count a CSV file's data records independently of the parser; check the quoting limits;
    with ``piece_bytes``, cut the file into pieces of whole records of about that many bytes.

    Raises InputError naming the file and line of an unclosed or overlong quoted field, or of a
    record larger than ``MAX_RECORD_BYTES``.
    """
    quotes, breaks, crlf, size = _positions(path)
    check_quotes(path, quotes, breaks)
    inside = np.searchsorted(quotes, breaks) % 2 == 1
    ends, ends_crlf = breaks[~inside], crlf[~inside]
    starts = np.concatenate([[0], ends + 1])
    lengths = np.concatenate([ends, [size]]) - starts
    lengths[:-1] -= ends_crlf
    non_empty = lengths > 0
    largest = int(lengths.max()) if len(lengths) else 0
    if largest > MAX_RECORD_BYTES:
        index = int(np.argmax(lengths))
        line = int(np.searchsorted(breaks, starts[index])) + 1
        raise InputError(
            f"{path}: line {line}: a record of {largest} bytes is larger than the "
            f"{MAX_RECORD_BYTES} bytes the reader accepts (an oversized field?)"
        )
    records = int(non_empty.sum())
    pieces = _pieces(starts, non_empty, size, piece_bytes)
    return RecordScan(max(records - 1, 0), largest, bool(inside.any()), pieces)
