"""``walletrecon query``: read-only SQL over the archive; every example of the auditor's guide
runs; writes, attachments and reads outside the archive are refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from walletrecon.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
NIGHTS = sorted(path.name for path in (SAMPLE / "inbox").iterdir())[:3]
GUIDE = ROOT / "docs" / "auditors.md"


def query(out: Path, sql: str, *extra: str) -> Result:
    return CliRunner().invoke(main, ["query", sql, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive") / "out"
    runner = CliRunner()
    common = ["--inbox", str(SAMPLE / "inbox"), "--out", str(out)]
    common += ["--config", str(SAMPLE / "walletrecon.toml")]
    for night in NIGHTS[:2]:
        assert runner.invoke(main, ["run", "--date", night, *common]).exit_code == 0
    tickets = (out / "tickets" / f"run_date={NIGHTS[1]}" / "tickets.jsonl").read_text()
    ticket_id = json.loads(tickets.splitlines()[0])["ticket_id"]
    decide = ["decide", "write-off", ticket_id, "--reason", "agreed", "--out", str(out)]
    assert runner.invoke(main, [*decide, "--user", "alice"]).exit_code == 0
    assert runner.invoke(main, ["run", "--date", NIGHTS[2], *common]).exit_code == 0
    return out


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def test_the_guide_has_its_example_questions() -> None:
    assert len(guide_queries()) >= 5


@pytest.mark.parametrize("sql", guide_queries())
def test_every_query_of_the_auditors_guide_runs(archive: Path, sql: str) -> None:
    result = query(archive, sql, "--format", "json")
    assert result.exit_code == 0, result.output


def test_who_wrote_off_what(archive: Path) -> None:
    sql = 'SELECT action, "user", reason FROM decisions'
    rows = [
        json.loads(line) for line in query(archive, sql, "--format", "json").output.splitlines()
    ]
    assert rows == [{"action": "write-off", "user": "alice", "reason": "agreed"}]


def test_runs_and_control_totals_come_from_the_manifests(archive: Path) -> None:
    sql = "SELECT count(DISTINCT run_date) AS nights, bool_and(balanced) AS ok FROM control_totals"
    assert json.loads(query(archive, sql, "--format", "json").output) == {"nights": 3, "ok": True}
    nights = query(archive, "SELECT count(*) AS n FROM runs", "--format", "json")
    assert json.loads(nights.output) == {"n": 3}


def test_each_view_is_there(archive: Path) -> None:
    for view in (
        "discrepancies",
        "tickets",
        "evidence",
        "rejected",
        "decisions",
        "manifests",
        "runs",
        "control_totals",
    ):
        assert query(archive, f"SELECT count(*) FROM {view}").exit_code == 0, view


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO runs SELECT * FROM runs", "this one is INSERT"),
        ("COPY runs TO 'x.csv'", "this one is COPY"),
        ("CREATE TABLE t AS SELECT 1", "this one is CREATE"),
        ("ATTACH 'other.db'", "this one is ATTACH"),
        ("SET enable_external_access = true", "this one is SET"),
        ("SELECT * FROM read_csv('/etc/passwd')", "outside the archive, which is refused"),
        ("SELECT 1; SELECT 2", "give one statement"),
    ],
)
def test_what_would_write_attach_or_read_outside_is_refused(
    archive: Path, sql: str, message: str
) -> None:
    result = query(archive, sql)
    assert result.exit_code == 2
    assert message in result.output


def test_results_go_to_a_file_in_each_format(archive: Path, tmp_path: Path) -> None:
    sql = "SELECT run_date, open FROM runs ORDER BY run_date"
    for form in ("csv", "json", "parquet", "table"):
        target = tmp_path / f"runs.{form}"
        assert query(archive, sql, "--format", form, "--to", str(target)).exit_code == 0
        assert target.stat().st_size > 0
    assert query(archive, sql, "--format", "parquet").exit_code == 2
