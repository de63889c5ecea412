"""The scheduling examples: the Airflow DAG loads in Airflow itself (installed in a virtual
environment of its own, so the project's environment stays free of it)."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

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
