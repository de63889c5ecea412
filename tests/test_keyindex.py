"""The key index's runs (``keyindex``): a binary counter of nights, complete after every night,
and a run that no longer holds is left out and its nights indexed again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_registry_lookup import FIRST, History, spread
from tests.world import World, day
from walletrecon import keyindex
from walletrecon.registry import registries


def run_folders(out: Path) -> list[str]:
    """The state folders holding a run file of the row key."""
    return sorted(path.parent.name for path in out.glob("state/*/" + keyindex.run_file("row_key")))


def run_sizes(history: History, key: str = "row_key") -> list[int]:
    return [len(run.nights) for run in history.registries().runs(key)]


@pytest.mark.parametrize("nights", [1, 2, 3, 7, 8, 13])
def test_runs_are_a_binary_counter_of_the_nights(tmp_path: Path, nights: int) -> None:
    history = History(tmp_path)
    for number in range(nights):
        history.add(number, [number, 100 + number], 2)
    sizes = run_sizes(history)
    assert sizes == [1 << bit for bit in range(nights.bit_length()) if nights >> bit & 1]
    covered = sorted(night for run in history.registries().runs("row_key") for night in run.nights)
    assert covered == sorted(history.nights)


def test_a_run_of_max_run_nights_is_merged_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyindex, "MAX_RUN_NIGHTS", 4)
    history = History(tmp_path)
    for number in range(11):
        history.add(number, [number], 1)
        assert max(run_sizes(history)) <= 4
    assert run_sizes(history) == [1, 2, 4, 4]
    covered = sorted(night for run in history.registries().runs("row_key") for night in run.nights)
    assert covered == sorted(history.nights)


def test_a_rerun_night_leaves_its_run_out_until_a_later_night_indexes_it_again(
    tmp_path: Path,
) -> None:
    history = History(tmp_path)
    for number in range(4):
        history.add(number, [number], 1)
    assert run_sizes(history) == [4]
    history.rewrite(2, [7])  # night 2 re-run: the run covering nights 0-3 no longer holds
    assert run_sizes(history) == []
    history.add(4, [4], 1)  # takes in (at most CATCH_UP of) the nights no run covers
    runs = history.registries().runs("row_key")
    assert [len(run.nights) for run in runs] == [1 + keyindex.CATCH_UP]
    assert FIRST + dt.timedelta(days=2) in runs[0].nights


def test_a_run_whose_folder_is_gone_is_left_out(tmp_path: Path) -> None:
    history = History(tmp_path)
    for number in range(3):
        history.add(number, [number], 1)
    assert run_sizes(history) == [1, 2]
    gone = FIRST + dt.timedelta(days=1)
    (history.folder(gone) / keyindex.run_file("row_key")).unlink()
    assert run_sizes(history) == [1]


def test_find_gives_every_entry_of_a_repeated_hash(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.add(0, [5, 5, 9, None, 5], 2)
    runs = history.registries().runs("row_key")
    found = keyindex.located_rows(keyindex.find(runs, np.array([5], dtype=np.uint64)))
    assert found.get_column("night").to_list() == [FIRST] * 3
    assert sorted(found.get_column("row").to_list()) == [0, 1, 4]


def test_nights_index_their_registries_and_a_rerun_night_is_found_again(tmp_path: Path) -> None:
    """End to end: each published night leaves runs covering every night so far; after night 1
    is re-run, only runs true to the registries are used, and its re-delivered row is still
    told from a new one."""
    world = World(tmp_path).payment(0, "T0").payment(1, "T1").payment(2, "T2")
    world.run_through(2)
    runs = registries(world.out, day(2)).runs("row_key")
    assert sorted(night for run in runs for night in run.nights) == [day(0), day(1), day(2)]
    # Night 1's run took night 0's in, which went once night 1 was published.
    assert run_folders(world.out) == [keyindex.folder_name(day(1)), keyindex.folder_name(day(2))]
    world.run(1)  # a re-run: night 1's registry gets a new stamp
    after = registries(world.out, day(2))
    stamps = after.stamps()
    for run in after.runs("row_key"):  # only runs made for the registries as they are now
        assert all(
            stamps[night] == stamp for night, stamp in zip(run.nights, run.stamps, strict=True)
        )
    world.run(2)  # night 2 rested on the night re-run: it is re-run too (a stale state stops)
    # Night 3 repeats T1's ledger row (a re-delivery of night 1) and brings T3.
    world.add(3, "ledger", *world.rows[(1, "ledger")]).payment(3, "T3")
    summary = world.run(3)
    manifest = json.loads(summary.manifest_path.read_text(encoding="utf-8"))
    assert manifest["outcomes"]["ledger"]["redelivered"] == 1
    assert manifest["outcomes"]["ledger"]["read"] == 2
    final = registries(world.out, day(3)).runs("row_key")
    assert sorted(night for run in final for night in run.nights) == [day(n) for n in range(4)]
    assert run_folders(world.out) == [keyindex.folder_name(day(3))]


def test_a_run_holds_each_batch_sorted_by_hash_then_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tonight's registry is picked out batch by batch, never sorted whole: each batch of the
    run holds exactly the entries of its hash range, in (hash, row) order, and no null."""
    monkeypatch.setattr(keyindex, "BATCH_ROWS", 2)
    keys = [spread(k) if k is not None else None for k in (9, 1, None, 60, 1, 33, 9, 0, 47, 1)]
    history = History(tmp_path)
    history.add(0, keys, 3)
    (run,) = history.registries().runs("row_key")
    assert run.batches == 8 and run.entries == 9
    night = (FIRST - dt.date(1970, 1, 1)).days << 32
    expected = sorted((key, night + row) for row, key in enumerate(keys) if key is not None)
    held: list[tuple[int, int]] = []
    for number, hashes, located in run.batches_at(range(run.batches)):
        first, last = keyindex._ranges(run.batches)[number]
        assert all(first <= value <= last for value in hashes)
        held += list(zip(hashes.tolist(), located.tolist(), strict=True))
    assert held == expected
    # A range that is no batch is picked out by value.
    registry = keyindex._Registry.of_registry(history.nights[FIRST][0], FIRST, "row_key")
    hashes, located = registry.between(np.uint64(spread(1)), np.uint64(spread(33)))
    inside = [pair for pair in expected if spread(1) <= pair[0] <= spread(33)]
    assert list(zip(hashes.tolist(), located.tolist(), strict=True)) == inside
    assert len(registry) == 9
