"""The report as a person sees it: Debian's headless Chromium opens a generated night's report
and the index, takes a screenshot, and the test fails on a console message, an empty chart, a
missing section or a blank page. CI installs Chromium (``.ci/run``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from walletrecon.config import load_config
from walletrecon.pipeline import run_night
from walletrecon.sample import generate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = (
    "headline",
    "figures",
    "charts",
    "by-type",
    "largest",
    "oldest",
    "ageing",
    "match-rates",
    "decisions",
    "discrepancies",
    "rejected",
    "inputs",
    "timings",
)
CHARTS = ("chart-types", "chart-risk", "chart-ageing", "chart-trend")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)"),
]


def chromium(page: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += ["--enable-logging=stderr", "--log-level=0", *arguments, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_harness_sees_a_console_error(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<html><body><script>console.error("boom")</script></body></html>')
    assert any("boom" in line for line in console_messages(chromium(page, "--dump-dom").stderr))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("month")
    summary = generate(root / "data", days=8, seed=17, rows=400)
    config = load_config(root / "data" / "walletrecon.toml")
    for night in summary.dates:
        run_night(night, root / "data" / "inbox", root / "out", config)
    return root / "out"


def last_report(out: Path) -> Path:
    return sorted((out / "report").glob("run_date=*/report.html"))[-1]


def test_the_report_opens_with_every_section_and_no_console_message(month: Path) -> None:
    opened = chromium(last_report(month), "--dump-dom")
    assert opened.returncode == 0, opened.stderr
    assert console_messages(opened.stderr) == []
    dom = opened.stdout
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    for chart in CHARTS:
        body = dom.split(f'id="{chart}"')[1].split('<div class="chart"')[0]
        marks = len(re.findall(r"<(?:path|rect)\b", body))
        assert "<svg" in body and marks >= 5, f"{chart} is empty ({marks} marks)"


def test_the_screenshot_is_a_page_not_a_blank(month: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    taken = chromium(last_report(month), "--window-size=1400,2400", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr
    assert console_messages(taken.stderr) == []
    image = Image.open(shot).convert("L")
    low, high = image.getextrema()
    assert high - low > 100
    assert len(set(image.resize((64, 96)).get_flattened_data())) > 20


def test_the_index_links_every_night(month: Path) -> None:
    index = month / "report" / "index.html"
    opened = chromium(index, "--dump-dom")
    assert console_messages(opened.stderr) == []
    nights = sorted(path.parent.name for path in (month / "report").glob("run_date=*/report.html"))
    for night in nights:
        assert f'href="{night}/report.html"' in opened.stdout
