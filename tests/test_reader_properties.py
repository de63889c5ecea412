"""Properties of the reader: a mutated CSV file either has every record accounted for (accepted
plus rejected equals an independent count of its records) or stops with an InputError naming the
file; never any other exception."""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile
from pathlib import Path
from unittest.mock import patch

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_inputs import FAILED_PAYMENT, D, csv_text, manifest_of
from walletrecon.cli import main
from walletrecon.config import InputLimits
from walletrecon.errors import InputError
from walletrecon.sources import records
from walletrecon.sources.canonical import load_folders
from walletrecon.sources.inbox import FILES_SCHEMA, discover
from walletrecon.store import connect

ODD_VALUES = ["infinity", "epoch", "+99:00", "10000-01-01", "1e309", "9" * 40, "", '"', "\x00"]
ODD_VALUES += ["2026-11-19T10:00:00+99:00", "-0.000001", "ZZZ", "cny", "\u00e9\u00e9\u00e9", "NaN"]
ODD_COLUMNS = ["created_at", "posted_at", "amount", "currency"]
PAYLOADS = [b'"', b",", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b'""', b'"\n', b"\xe2\x82"]


def record_count(data: bytes) -> int:
    """Data records of a CSV text, counted the slow plain way: line ends outside quotes end a
    record, empty lines are none, the first record is the header."""
    records, length, quoted, index = 0, 0, False, 0
    while index < len(data):
        byte = data[index : index + 1]
        if byte == b'"':
            quoted = not quoted
        if not quoted and byte in (b"\n", b"\r"):
            records += length > 0
            length = 0
            if data[index : index + 2] == b"\r\n":
                index += 1
        else:
            length += 1
        index += 1
    records += length > 0
    return max(records - 1, 0)


@st.composite
def mutated_ledgers(draw: st.DrawFn) -> bytes:
    """A small valid ledger, with odd values in some fields and some bytes inserted, removed or
    cut off, and maybe a header column doubled."""
    rows = []
    for number in range(draw(st.integers(1, 4))):
        row = {**FAILED_PAYMENT, "entry_id": f"E{number}", "txn_id": f"T{number}"}
        if draw(st.booleans()):
            row[draw(st.sampled_from(ODD_COLUMNS))] = draw(st.sampled_from(ODD_VALUES))
        rows.append(row)
    data = csv_text("ledger", rows).encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        data = data.replace(b",currency,", b",currency,currency,", 1)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if action == "insert":
            payload = draw(st.sampled_from(PAYLOADS) | st.binary(min_size=1, max_size=3))
            data = data[:at] + payload + data[at:]
        elif action == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 20)) :]
        else:
            data = data[: max(at, 1)]
    return data


def load(data: bytes, root: Path) -> tuple[int, int, int]:
    """Rows read (manifest), accepted and rejected rows of one ledger file."""
    folder = root / "inbox" / D
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger.csv").write_bytes(data)
    limits = InputLimits(reject_share_limit=1.0)
    day = dt.date.fromisoformat(D)
    found = discover(root / "inbox", day, None, pl.DataFrame(schema=FILES_SCHEMA))
    with connect("Asia/Shanghai") as connection:
        loaded = load_folders(connection, found.files, limits)
    accepted = sum(frame.height for frame in loaded.accepted.values())
    rejected = sum(frame.height for frame in loaded.rejected)
    return loaded.files[0].rows_read, accepted, rejected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_ledgers())
def test_every_record_is_accounted_for_or_the_file_is_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        try:
            read, accepted, rejected = load(data, Path(folder))
        except InputError as exc:
            assert "ledger.csv" in str(exc)
            return
    assert read == accepted + rejected == record_count(data)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_ledgers())
def test_a_night_over_a_mutated_ledger_completes_or_exits_2(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "inbox" / D).mkdir(parents=True)
        (root / "inbox" / D / "ledger.csv").write_bytes(data)
        (root / "walletrecon.toml").write_text("[input_limits]\nreject_share_limit = 1.0\n")
        arguments = ["run", "--date", D, "--inbox", str(root / "inbox"), "--out"]
        arguments += [str(root / "out"), "--config", str(root / "walletrecon.toml")]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert "ledger.csv" in result.output
        else:
            assert manifest_of(root / "out")["outcomes"]["ledger"]["read"] == record_count(data)


def test_the_plain_count_counts_quoted_line_breaks_and_empty_lines_right() -> None:
    assert record_count(b'a,b\n"1\n2",3\r\n\n4,5') == 2
    assert record_count(b"a,b\n") == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60).map(lambda raw: bytes(b'a",\r\n'[byte % 5] for byte in raw)))
def test_the_scan_counts_alike_whatever_the_block_boundaries(data: bytes) -> None:
    """Line ends split across blocks (a CR ending one, its LF starting the next), quotes and CRs
    in some blocks only: the count is the plain one, with blocks of every small size."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.csv"
        path.write_bytes(data)
        counts = set()
        for size in (1, 2, 3, 7, 1024):
            with patch.object(records, "SCAN_BLOCK", size):
                try:
                    counts.add(records.scan_records(path).records)
                except InputError as exc:
                    assert '"' in data.decode() and "ledger.csv" in str(exc)
                    counts.add(-1)
    assert counts == {record_count(data)} or counts == {-1}


def test_a_file_opening_with_a_lone_cr_is_refused_naming_it_not_a_crash(tmp_path: Path) -> None:
    data = b"\r" + csv_text("ledger", [FAILED_PAYMENT]).encode("utf-8")
    with pytest.raises(InputError, match=r"ledger\.csv: .*malformed"):
        load(data, tmp_path)
    broken = b"\rentry_id,txn_id,currency,currency\nE0,T0,CNY,CNY\n"
    with pytest.raises(InputError, match=r"ledger\.csv"):
        load(broken, tmp_path)


def load_rows(data: bytes, root: Path, piece_bytes: int, name: str) -> tuple[object, ...]:
    """Rows read, accepted and rejected rows of one ledger file read in pieces of a size, or
    the InputError's kind."""
    folder = root / "inbox" / D
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    day = dt.date.fromisoformat(D)
    found = discover(root / "inbox", day, None, pl.DataFrame(schema=FILES_SCHEMA))
    with connect("Asia/Shanghai") as connection:
        try:
            loaded = load_folders(
                connection,
                found.files,
                InputLimits(reject_share_limit=1.0),
                piece_bytes=piece_bytes,
            )
        except InputError as exc:
            return ("refused", "ledger.csv" in str(exc))
    accepted = loaded.accepted.get("ledger", pl.DataFrame())
    assert isinstance(accepted, pl.DataFrame)
    rejected = pl.concat(loaded.rejected).sort(pl.all(), nulls_last=True)  # published sorted
    return (loaded.files[0].rows_read, accepted.rows(), rejected.rows())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_ledgers(), st.sampled_from([1, 7, 40, 150]), st.sampled_from(["csv", "csv.gz"]))
def test_a_file_read_in_pieces_gives_the_rows_of_the_file_read_whole(
    data: bytes, piece_bytes: int, suffix: str
) -> None:
    """Pieces end at record boundaries outside quotes: every row, accepted or rejected, keeps
    its content and its line number, and a file refused whole is refused in pieces."""
    with tempfile.TemporaryDirectory() as folder:
        name = f"ledger.{suffix}"
        whole = load_rows(data, Path(folder) / "whole", 1 << 30, name)
        pieces = load_rows(data, Path(folder) / "pieces", piece_bytes, name)
    assert pieces == whole
