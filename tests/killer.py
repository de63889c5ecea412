"""Run one night and SIGKILL it at a chosen point, for fault-injection tests.

    python -m tests.killer --stage publish DATE INBOX OUT [CONFIG]
    python -m tests.killer --swap 3 DATE INBOX OUT [CONFIG]

``--stage NAME`` kills the process as that stage starts; ``--swap N`` as the N-th partition of the
publish swap is moved in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import walletrecon.pipeline as pipeline
import walletrecon.publish as publish
from walletrecon.config import load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def kill_at_stage(stage: str) -> None:
    real_stage = pipeline.Timer.stage

    @contextmanager
    def killing_stage(timer: pipeline.Timer, name: str) -> Iterator[None]:
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)
        with real_stage(timer, name):
            yield

    pipeline.Timer.stage = killing_stage  # type: ignore[method-assign,assignment]


def kill_at_swap(number: int) -> None:
    real_swap = publish.swap_in
    calls = {"count": 0}

    def killing_swap(staged: Path, target: Path, trash: Path) -> None:
        calls["count"] += 1
        if calls["count"] == number:
            os.kill(os.getpid(), signal.SIGKILL)
        real_swap(staged, target, trash)

    publish.swap_in = killing_swap


def main() -> None:
    parser = argparse.ArgumentParser()
    point = parser.add_mutually_exclusive_group(required=True)
    point.add_argument("--stage")
    point.add_argument("--swap", type=int)
    parser.add_argument("date")
    parser.add_argument("inbox", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("config", type=Path, nargs="?")
    arguments = parser.parse_args()
    if arguments.stage:
        kill_at_stage(arguments.stage)
    else:
        kill_at_swap(arguments.swap)
    config = (
        load_config(arguments.config)
        if arguments.config
        else parse_config({"timezone": "Asia/Shanghai"})
    )
    night = dt.date.fromisoformat(arguments.date)
    pipeline.run_night(night, arguments.inbox, arguments.out, config)


if __name__ == "__main__":
    main()
