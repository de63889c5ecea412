"""The scheduling examples: the Airflow DAG loads in Airflow itself (installed in a virtual
environment of its own, so the project's environment stays free of it)."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.world import World, day

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

CHECK = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={folder!r})
dag = bag.dags.get("walletrecon_nightly")
print(json.dumps({{
    "errors": {{str(k): str(v) for k, v in bag.import_errors.items()}},
    "dags": sorted(bag.dags),
    "catchup": dag.catchup if dag else None,
    "max_active_runs": dag.max_active_runs if dag else None,
    "tasks": [task.task_id for task in dag.tasks] if dag else [],
    "retries": dag.default_args.get("retries") if dag else None,
}}))
"""


@pytest.mark.slow
def test_the_airflow_dag_loads_in_airflow(tmp_path: Path) -> None:
    environment = tmp_path / "airflow-venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            str(EXAMPLES / "requirements-airflow.txt"),
        ],
        check=True,
    )
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(
        [str(python), "-c", CHECK.format(folder=str(EXAMPLES))],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == ["walletrecon_nightly"]
    assert (report["catchup"], report["max_active_runs"]) == (True, 1)
    assert report["tasks"] == ["reconcile"]
    assert report["retries"] == 3


def test_the_crontab_line_runs_the_cli_and_retries_on_75() -> None:
    line = next(
        row for row in (EXAMPLES / "crontab").read_text().splitlines() if row.startswith("30 2")
    )
    assert "walletrecon run --date" in line
    assert "-ne 75" in line


@pytest.mark.slow
@pytest.mark.parametrize("config", ["", "windows = 3\n"], ids=["completes", "bad-config"])
def test_the_crontab_line_keeps_its_log_json_lines_only(tmp_path: Path, config: str) -> None:
    line = next(
        row for row in (EXAMPLES / "crontab").read_text().splitlines() if row.startswith("30 2")
    )
    world = World(tmp_path).payment(0, "T1").settle(0, "T1", amount="11.00")
    world._write(0)
    (tmp_path / "walletrecon.toml").write_text(config)
    command = (
        line.removeprefix("30 2 * * * ")
        .replace("/srv/walletrecon", str(EXAMPLES.parent))
        .replace('"$(date -d yesterday +\\%F)"', day(0).isoformat())
        .replace("/data/inbox", str(world.inbox))
        .replace("/data/recon", str(world.out))
        .replace("/etc/walletrecon.toml", str(tmp_path / "walletrecon.toml"))
        .replace("/var/log", str(tmp_path))
        .replace("sleep 600", "true")
    )
    done = subprocess.run(["sh", "-c", command], check=False, capture_output=True)
    assert done.returncode == (2 if config else 0), done.stderr
    records = (tmp_path / "walletrecon.jsonl").read_text().splitlines()
    assert records
    assert all(isinstance(json.loads(record), dict) for record in records)
    assert json.loads(records[-1])["message"].startswith(
        "failed:" if config else day(0).isoformat()
    )
