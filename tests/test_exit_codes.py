"""Every failure ends in the documented exit code with one line naming what failed: native
panics, a full disk however a library words it, bad configuration files, paths of the wrong kind,
and the reason behind exit 1 of --fail-on."""

from __future__ import annotations

import errno
import json
import os
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner, Result

import walletrecon.cli
import walletrecon.pipeline
import walletrecon.publish
from tests.world import World, day
from walletrecon.cli import _exit_for, main
from walletrecon.config import parse_config
from walletrecon.errors import ConfigError, no_room_left

#: The exceptions each library raised when a tiny tmpfs filled up (captured once on a 64 KiB
#: tmpfs), and the ones the operating system gives for a full disk or quota.
DISK_FULL = [
    pl.exceptions.ComputeError(
        "parquet: File out of specification: underlying IO error: "
        "No space left on device (os error 28)"
    ),
    OSError("No space left on device (os error 28)"),
    OSError(
        errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device"
    ),
    OSError(errno.ENOSPC, "No space left on device", "out/report.html"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    duckdb.IOException('IO Error: Could not write file "out/x.parquet": No space left on device'),
    duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: Could not write file "x.duckdb": '
        "No space left on device"
    ),
]


def one_night(tmp_path: Path) -> World:
    world = World(tmp_path).payment(0, "T1")
    world._write(0)
    return world


def run(world: World, *extra: str) -> Result:
    arguments = ["run", "--date", day(0).isoformat(), "--inbox", str(world.inbox)]
    return CliRunner().invoke(main, [*arguments, "--out", str(world.out), *extra])


@pytest.mark.parametrize("error", DISK_FULL, ids=lambda error: type(error).__name__)
def test_a_full_disk_is_transient_however_the_library_words_it(error: Exception) -> None:
    assert _exit_for(error) == 75


def test_a_full_disk_behind_another_error_is_still_transient() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise RuntimeError("could not spill the registry") from cause
    except RuntimeError as error:
        assert _exit_for(error) == 75


def test_other_os_errors_are_not_taken_for_a_full_disk() -> None:
    assert _exit_for(OSError(errno.EIO, "Input/output error")) == 70
    assert _exit_for(pl.exceptions.ComputeError("parquet: out of specification")) == 70


@pytest.mark.parametrize("error", DISK_FULL[:2], ids=["ComputeError", "OSError"])
def test_a_parquet_writer_filling_the_disk_exits_75_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    world = one_night(tmp_path)

    def full(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    result = run(world)
    assert result.exit_code == 75, result.output
    assert "Traceback" not in result.output
    assert "disk full in stage publish" in result.stderr


def test_a_native_panic_exits_70_naming_the_stage_and_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = one_night(tmp_path)

    def panic(*_: object, **__: object) -> None:
        raise pl.exceptions.PanicException("index out of bounds")

    monkeypatch.setattr(walletrecon.pipeline, "reconcile", panic)
    result = run(world)
    assert result.exit_code == 70
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "walletrecon: error: internal error in stage reconcile: PanicException: "
        "index out of bounds; nothing was published"
    ]
    assert not (world.out / "manifest").exists()


def test_an_unexpected_error_gives_its_traceback_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = one_night(tmp_path)

    def broken(*_: object, **__: object) -> None:
        raise KeyError("column")

    monkeypatch.setattr(walletrecon.publish, "swap_in", broken)
    assert "Traceback" not in run(world).output
    result = run(world, "-v")
    assert result.exit_code == 70
    assert "internal error in stage publish: KeyError" in result.stderr
    assert "Traceback" in result.stderr


def test_json_logs_carry_a_failure_as_one_json_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = one_night(tmp_path)

    def panic(*_: object, **__: object) -> None:
        raise pl.exceptions.PanicException("boom")

    monkeypatch.setattr(walletrecon.pipeline, "reconcile", panic)
    result = run(world, "--log-format", "json")
    assert result.exit_code == 70
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records[-1]["exit_code"] == 70
    assert records[-1]["stage"] == "reconcile"
    assert "PanicException: boom" in records[-1]["message"]


def test_a_configuration_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    world = one_night(tmp_path)
    config = tmp_path / "c.toml"
    config.write_bytes(b'timezone = "UTC"\n\xff\xfe')
    result = run(world, "--config", str(config))
    assert result.exit_code == 2
    assert f"{config}: not UTF-8 text (byte 0xff at offset 17)" in result.stderr
    assert "Traceback" not in result.output


def test_an_inbox_that_is_a_file_is_reported_as_such(tmp_path: Path) -> None:
    world = one_night(tmp_path)
    world.inbox = tmp_path / "inbox.txt"
    world.inbox.write_text("x")
    result = run(world)
    assert result.exit_code == 2
    assert f"inbox {world.inbox} is a file; expected a folder" in result.stderr


def test_an_output_folder_that_is_a_file_gets_a_plain_message(tmp_path: Path) -> None:
    world = one_night(tmp_path)
    world.out.write_text("x")
    result = run(world)
    assert result.exit_code == 2
    assert "Errno" not in result.stderr
    assert f"{world.out}: a file is in the way where a folder was expected" in result.stderr


def test_fail_on_says_why_it_exits_1(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").settle(0, "T1", amount="11.00")
    world._write(0)
    result = run(world, "--fail-on", "high", "--log-format", "json")
    assert result.exit_code == 1
    final = json.loads(result.stderr.strip().splitlines()[-1])
    assert final["exit_code"] == 1
    assert final["counts"] == {"high": 1}
    assert "--fail-on high: 1 open breaks at or above high (high 1); exit 1" in result.stdout


def test_fail_on_reports_exit_0_when_nothing_reaches_the_severity(tmp_path: Path) -> None:
    world = one_night(tmp_path)
    result = run(world, "--fail-on", "critical", "--log-format", "json")
    assert result.exit_code == 0
    final = json.loads(result.stderr.strip().splitlines()[-1])
    assert (final["exit_code"], final["counts"]) == (0, {})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"JPY": "40.5"},
            "fees.x.fixed.JPY: fixed fee 40.5 has more than 0 decimal places for JPY",
        ),
        ({"USD": "0.305"}, "fees.x.fixed.USD: fixed fee 0.305 has more than 2 decimal places"),
        ({"XYZ": "1"}, "fees.x.fixed.XYZ: unknown ISO 4217 currency 'XYZ'"),
    ],
)
def test_a_fixed_fee_the_currency_cannot_hold_names_its_key(
    table: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"fees": {"x": {"fixed": table}}})
    assert message in str(caught.value)


def test_fixed_fees_within_their_currency_are_accepted() -> None:
    config = parse_config({"fees": {"x": {"fixed": {"JPY": "40", "KWD": "0.105"}}}})
    assert config.fees["x"].fixed == {"JPY": Decimal(40), "KWD": Decimal("0.105")}


#: What Polars' Parquet writer raises when the disk fills while it writes a file's footer.
FOOTER_ERROR = pl.exceptions.ComputeError(
    "parquet: File out of specification: Invalid thrift: transport error"
)


@pytest.mark.parametrize(("room", "code"), [(False, 75), (True, 70)])
def test_a_writer_error_that_hides_a_full_disk_is_transient_only_when_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: bool, code: int
) -> None:
    world = one_night(tmp_path)

    def footer_fails(*_: object, **__: object) -> None:
        raise FOOTER_ERROR

    monkeypatch.setattr(pl.DataFrame, "write_parquet", footer_fails)
    monkeypatch.setattr(walletrecon.publish, "no_room_left", lambda _: not room)
    result = run(world)
    assert result.exit_code == code
    assert ("disk full while publishing" in result.stderr) is (code == 75)
    assert not (world.out / "manifest").exists()


def test_a_ticket_queue_outside_the_known_queues_names_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"tickets": {"queues": {"amount_mismatch": "treasury"}}})
    assert "tickets.queues.amount_mismatch: unknown queue 'treasury'" in str(caught.value)


def test_a_panic_while_reading_tickets_exits_70_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def panic(*_: object, **__: object) -> None:
        raise pl.exceptions.PanicException("bad ndjson")

    monkeypatch.setattr(walletrecon.cli, "read_tickets", panic)
    result = CliRunner().invoke(main, ["tickets", "--out", str(tmp_path)])
    assert result.exit_code == 70
    assert result.stderr == ("walletrecon: error: internal error: PanicException: bad ndjson\n")


@pytest.mark.parametrize(
    ("free_blocks", "full"), [(0, True), (15, True), (16, False), (10**6, False)]
)
def test_no_room_left_means_less_than_64_kib_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_blocks: int, full: bool
) -> None:
    class Usage:
        f_bavail = free_blocks
        f_frsize = 4096

    monkeypatch.setattr(os, "statvfs", lambda _: Usage())
    assert no_room_left(tmp_path) is full


def test_a_library_warning_in_json_logs_is_a_json_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = one_night(tmp_path)
    real_reconcile = walletrecon.pipeline.reconcile

    def warning_reconcile(*arguments: Any, **keywords: Any) -> Any:
        warnings.warn("a library's own warning", UserWarning, stacklevel=1)
        return real_reconcile(*arguments, **keywords)

    monkeypatch.setattr(walletrecon.pipeline, "reconcile", warning_reconcile)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        result = run(world, "--log-format", "json")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert any("a library's own warning" in record["message"] for record in records)
