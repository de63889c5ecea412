"""The decision log: append-only lines, each chained to the one before by its SHA-256, so that
an edited, removed or moved line is named when the log is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.decisions.log import Draft, append, log_path, read_log
from walletrecon.decisions.model import Decision
from walletrecon.errors import StateError


def draft(reason: str) -> Draft:
    def make(identity: str, at: str, previous: str) -> Decision:
        return Decision(
            decision_id=identity,
            at=at,
            user="alice",
            action="comment",
            target="WR-000000000001",
            reason=reason,
            state="approved",
            previous_sha256=previous,
            breaks=("B1",),
        )

    return make


def write(out: Path, count: int) -> list[bytes]:
    for number in range(count):
        append(out, read_log(out), [draft(f"reason {number}")])
    return log_path(out).read_bytes().splitlines(keepends=True)


def test_lines_chain_and_number_in_order(tmp_path: Path) -> None:
    write(tmp_path, 3)
    log = read_log(tmp_path)
    assert [item.decision_id for item in log.decisions] == [
        "DEC-000001",
        "DEC-000002",
        "DEC-000003",
    ]
    assert log.decisions[0].previous_sha256 == "0" * 64
    assert [item.previous_sha256 for item in log.decisions[1:]] == list(log.hashes[:-1])


def test_no_log_reads_as_empty(tmp_path: Path) -> None:
    assert read_log(tmp_path).decisions == ()


@settings(max_examples=40, deadline=None)
@given(
    line=st.integers(0, 3),
    position=st.integers(0, 10_000),
    replacement=st.characters(codec="ascii", exclude_characters="\n\r"),
)
def test_any_edited_character_is_found(
    tmp_path_factory: pytest.TempPathFactory, line: int, position: int, replacement: str
) -> None:
    out = tmp_path_factory.mktemp("log")
    lines = write(out, 4)
    body = bytearray(lines[line])
    index = position % (len(body) - 1)  # never the newline
    if chr(body[index]) == replacement:
        return
    body[index] = ord(replacement)
    lines[line] = bytes(body)
    log_path(out).write_bytes(b"".join(lines))
    with pytest.raises(StateError, match=r"decisions\.jsonl line [1-5]"):
        read_log(out)


def test_the_last_line_edited_is_found_by_the_head(tmp_path: Path) -> None:
    lines = write(tmp_path, 2)
    lines[1] = lines[1].replace(b"reason 1", b"reason 9")
    log_path(tmp_path).write_bytes(b"".join(lines))
    with pytest.raises(StateError, match=r"line 2: its SHA-256 is not the one HEAD.json recorded"):
        read_log(tmp_path)


def test_a_cut_log_is_found_by_the_head(tmp_path: Path) -> None:
    lines = write(tmp_path, 3)
    log_path(tmp_path).write_bytes(b"".join(lines[:2]))
    with pytest.raises(StateError, match=r"has 2 line.* says 3: lines were removed"):
        read_log(tmp_path)


def test_lines_an_append_left_past_the_head_are_taken_and_the_next_append_covers_them(
    tmp_path: Path,
) -> None:
    write(tmp_path, 2)
    head = log_path(tmp_path).with_name("HEAD.json")
    stale = head.read_text()
    write(tmp_path, 1)
    head.write_text(stale)  # as if the process died between the line and the head
    assert len(read_log(tmp_path).decisions) == 3
    write(tmp_path, 1)
    assert json.loads(head.read_text())["lines"] == 4


def test_a_removed_line_is_named(tmp_path: Path) -> None:
    lines = write(tmp_path, 3)
    log_path(tmp_path).write_bytes(lines[0] + lines[2])
    with pytest.raises(StateError, match=r"line 2: previous_sha256 .* removed or moved"):
        read_log(tmp_path)


def test_a_reason_rewritten_with_its_hash_recomputed_still_breaks_the_next_line(
    tmp_path: Path,
) -> None:
    lines = write(tmp_path, 2)
    record = json.loads(lines[0])
    record["reason"] = "something else"
    lines[0] = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    log_path(tmp_path).write_bytes(b"".join(lines))
    with pytest.raises(StateError, match="line 2"):
        read_log(tmp_path)
