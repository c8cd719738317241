"""The HTML report in a real headless Chromium: load it, read the rendered DOM, screenshot it."""

import re
import shutil
import subprocess
import sys

import pytest
from conftest import sample_pdf

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    subprocess.run([sys.executable, "-m", "pipeline", "check", str(sample_pdf("000")),
                    str(sample_pdf("003")), "--format", "html", "-o", str(out)], check=False)
    return out


def chromium(tmp_path, *args):
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def test_page_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?:""", html)
    assert "<link" not in html and "@import" not in html


def test_rendered_dom_has_every_finding_with_both_sides(report, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "Budget Lens 检查报告" in dom
    findings = re.findall(r'<div class="finding (error|warning|info)" data-rule="([^"]+)"', dom)
    assert len(findings) >= 7
    assert ("warning", "nar.restated") in findings and ("error", "nar.share") in findings
    share = dom[dom.index('data-rule="nar.share"'):]
    share = share[: share.index('<div class="finding', 10)] if '<div class="finding' in share[10:] \
        else share
    assert '<b class="stated">0%</b>' in share and '<b class="expected">3.71%</b>' in share
    assert "第14页" in share
    restated = dom[dom.index('data-rule="nar.restated"'):]
    assert 'class="ev narrative" data-page="13"' in restated[:3000]
    assert 'class="ev narrative" data-page="12"' in restated[:3000]


def test_screenshot(report, tmp_path):
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
