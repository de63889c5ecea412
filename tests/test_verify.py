"""``walletrecon verify``: one changed byte in any output, an added file, a deleted night, an
edited decision or a re-run night are each named; an untouched archive verifies."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletrecon.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
NIGHTS = sorted(path.name for path in (SAMPLE / "inbox").iterdir())[:3]


def run(out: Path, night: str) -> None:
    command = ["run", "--date", night, "--inbox", str(SAMPLE / "inbox"), "--out", str(out)]
    result = CliRunner().invoke(main, [*command, "--config", str(SAMPLE / "walletrecon.toml")])
    assert result.exit_code == 0, result.output


def verify(out: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["verify", "--out", str(out), *extra])


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive") / "out"
    for night in NIGHTS:
        run(out, night)
    return out


def copy_of(archive: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(archive, out)
    return out


def outputs(out: Path) -> list[Path]:
    """Every file a night published (the report index is the archive's, rewritten each night)."""
    kinds = ("discrepancies", "tickets", "rejected", "report", "journal", "inputs")
    return sorted(
        path for kind in kinds for path in (out / kind).glob("run_date=*/**/*") if path.is_file()
    )


def test_an_untouched_archive_verifies(archive: Path) -> None:
    result = verify(archive)
    assert result.exit_code == 0, result.output
    assert f"3 night(s) verified ({NIGHTS[0]} to {NIGHTS[-1]})" in result.output


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pick=st.integers(0, 10_000), offset=st.integers(0, 10**9), flip=st.integers(1, 255))
def test_one_changed_byte_in_any_output_is_named(
    archive: Path, tmp_path_factory: pytest.TempPathFactory, pick: int, offset: int, flip: int
) -> None:
    out = copy_of(archive, tmp_path_factory.mktemp("changed"))
    files = outputs(out)
    target = files[pick % len(files)]
    data = bytearray(target.read_bytes())
    if not data:
        data = bytearray(b"x")
    else:
        data[offset % len(data)] ^= flip
    target.write_bytes(bytes(data))
    result = verify(out)
    assert result.exit_code == 3
    assert f"{target.relative_to(out)} was changed" in result.output


def test_a_deleted_night_is_named(archive: Path, tmp_path: Path) -> None:
    out = copy_of(archive, tmp_path)
    for kind in ("discrepancies", "tickets", "rejected", "report", "journal", "manifest", "state"):
        shutil.rmtree(out / kind / f"run_date={NIGHTS[1]}")
    result = verify(out)
    assert result.exit_code == 3
    assert f"{NIGHTS[2]}: the manifest of the night before it ({NIGHTS[0]})" in result.output


def test_a_deleted_manifest_is_named(archive: Path, tmp_path: Path) -> None:
    out = copy_of(archive, tmp_path)
    shutil.rmtree(out / "manifest" / f"run_date={NIGHTS[0]}")
    result = verify(out)
    assert result.exit_code == 3
    assert f"{NIGHTS[0]}: outputs without a manifest" in result.output


def test_an_added_file_is_named(archive: Path, tmp_path: Path) -> None:
    out = copy_of(archive, tmp_path)
    (out / "tickets" / f"run_date={NIGHTS[1]}" / "extra.csv").write_text("a\n")
    result = verify(out)
    assert result.exit_code == 3 and "extra.csv is not among the files" in result.output


def test_an_edited_decision_is_named(archive: Path, tmp_path: Path) -> None:
    out = copy_of(archive, tmp_path)
    ticket = (out / "tickets" / f"run_date={NIGHTS[-1]}" / "tickets.jsonl").read_text()
    ticket_id = ticket.split('"ticket_id":"')[1].split('"')[0]
    command = ["decide", "comment", ticket_id, "--reason", "looked", "--out", str(out)]
    assert CliRunner().invoke(main, [*command, "--user", "a"]).exit_code == 0
    log = out / "decisions" / "decisions.jsonl"
    log.write_text(log.read_text().replace("looked", "LOOKED"))
    result = verify(out)
    assert result.exit_code == 3 and "decisions: " in result.output and "line 1" in result.output


def test_a_night_re_run_leaves_the_next_one_stale_until_it_is_re_run(
    archive: Path, tmp_path: Path
) -> None:
    out = copy_of(archive, tmp_path)
    run(out, NIGHTS[1])
    result = verify(out)
    assert result.exit_code == 3 and f"{NIGHTS[2]}: stale" in result.output
    run(out, NIGHTS[2])
    assert verify(out).exit_code == 0
    assert verify(out, "--from", NIGHTS[1], "--to", NIGHTS[1]).exit_code == 0


def test_a_night_replayed_from_its_archived_inputs_gives_the_published_rows(
    archive: Path, tmp_path: Path
) -> None:
    out = copy_of(archive, tmp_path)
    result = verify(out, "--replay", NIGHTS[1])
    assert result.exit_code == 0, result.output
    assert f"{NIGHTS[1]} re-performed from its archived inputs: the same outputs" in result.output
    assert sorted(path.name for path in (out / "inputs" / f"run_date={NIGHTS[1]}").iterdir()) == [
        NIGHTS[1],
        "walletrecon.config.json",
    ]
    assert not [path for path in tmp_path.iterdir() if "dry-run" in path.name]


def test_a_replay_names_a_published_output_whose_rows_were_replaced(
    archive: Path, tmp_path: Path
) -> None:
    out = copy_of(archive, tmp_path)
    path = out / "discrepancies" / f"run_date={NIGHTS[1]}" / "part-0.parquet"
    pl.read_parquet(path).head(1).write_parquet(path)
    result = verify(out, "--replay", NIGHTS[1])
    assert result.exit_code == 3
    assert f"{NIGHTS[1]}: replayed discrepancies/part-0.parquet differs" in result.output


def test_a_replay_after_later_decisions_still_reproduces_the_night(
    archive: Path, tmp_path: Path
) -> None:
    out = copy_of(archive, tmp_path)
    ticket = (out / "tickets" / f"run_date={NIGHTS[-1]}" / "tickets.jsonl").read_text()
    ticket_id = ticket.split('"ticket_id":"')[1].split('"')[0]
    command = ["decide", "write-off", ticket_id, "--reason", "r", "--out", str(out), "--user", "a"]
    assert CliRunner().invoke(main, command).exit_code == 0
    assert verify(out, "--replay", NIGHTS[-1]).exit_code == 0


def test_an_input_changed_while_the_night_ran_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from walletrecon import publish

    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE / "inbox" / NIGHTS[0], inbox / NIGHTS[0])
    copy = publish.shutil.copyfile

    def sender_still_writing(source: Path, target: Path) -> object:
        if source.name.startswith("ledger"):
            with source.open("ab") as handle:  # the sender appends while the night archives
                handle.write(b"\n")
        return copy(source, target)

    monkeypatch.setattr(publish.shutil, "copyfile", sender_still_writing)
    out = tmp_path / "out"
    command = ["run", "--date", NIGHTS[0], "--inbox", str(inbox), "--out", str(out)]
    result = CliRunner().invoke(main, [*command, "--config", str(SAMPLE / "walletrecon.toml")])
    assert result.exit_code == 75, result.output
    assert "changed while the night ran" in result.output
    assert not (out / "manifest").exists()


def test_a_report_index_that_cannot_be_written_leaves_the_night_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from walletrecon import pipeline

    def disk_trouble(out: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "write_index", disk_trouble)
    out = tmp_path / "out"
    run(out, NIGHTS[0])
    assert (out / "manifest" / f"run_date={NIGHTS[0]}" / "manifest.json").is_file()
    assert not (out / "report" / "index.html").exists()
    assert verify(out).exit_code == 0
