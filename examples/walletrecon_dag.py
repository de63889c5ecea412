"""Airflow DAG: one walletrecon task per business date, with catch-up and retries on exit 75.

Copy this file into the DAGs folder of an Airflow deployment where `walletrecon` is installed,
and set the Airflow Variables `walletrecon_inbox`, `walletrecon_out` and `walletrecon_config`;
`walletrecon_engine` (optional, default `local`) picks where the kernels run: `spark` runs them
on the Spark master named by the worker's `SPARK_MASTER` (see docs/operations.md).
Each DAG run reconciles the business date of its logical date; `catchup=True` runs missed nights
in order (`max_active_runs=1`, since the nights build on each other). The task exits 75 for
transient failures (another run holds the output folder, disk full): Airflow retries those.
Exit 2 (bad input or configuration) fails the task at once: re-running will not help.
"""

from __future__ import annotations

import datetime as dt

from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models.variable import Variable
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

TRANSIENT_EXIT = 75


def reconcile_night(ds: str, **_: object) -> None:
    """Run `walletrecon run` for the business date `ds`; map its exit code to Airflow's verdict."""
    import subprocess

    command = [
        "walletrecon",
        "run",
        "--date",
        ds,
        "--inbox",
        Variable.get("walletrecon_inbox"),
        "--out",
        Variable.get("walletrecon_out"),
        "--config",
        Variable.get("walletrecon_config"),
        "--log-format",
        "json",
        "--wait",
        "600",
        "--engine",
        Variable.get("walletrecon_engine", default_var="local"),
    ]
    code = subprocess.run(command, check=False).returncode
    if code == TRANSIENT_EXIT:
        raise AirflowException(f"walletrecon exited {code} (transient): retrying")
    if code != 0:
        raise AirflowFailException(f"walletrecon exited {code}: see the task log")


with DAG(
    dag_id="walletrecon_nightly",
    description="Nightly reconciliation of the wallet ledger against settlements and receipts",
    schedule="30 2 * * *",
    start_date=dt.datetime(2026, 11, 16),
    catchup=True,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=10)},
    tags=["finance", "reconciliation"],
) as dag:
    PythonOperator(task_id="reconcile", python_callable=reconcile_night)
