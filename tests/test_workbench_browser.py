"""The workbench in a real browser: `budget-lens serve` started as a process, Debian's headless
Chromium driven by Playwright (no browser download). Screenshots go to build/screenshots/."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pymupdf
import pytest
from conftest import ROOT, checked_folder, sample_pdf
from openpyxl import load_workbook

from pipeline.evaluate import LabelFile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
SHOTS = ROOT / "build" / "screenshots"
CHECKED = 120_000  # ms a report may take to be checked


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a batch database (one folder of reports already checked) with a 2 MB upload
    limit."""
    tmp = tmp_path_factory.mktemp("serve")
    folder, db = checked_folder(tmp, ("001", "002"))
    port = free_port()
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--data", str(tmp / "data"),
                             "--db", str(db), "--port", str(port), "--max-upload-mb", "2"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError((tmp / "server.log").read_text()) from None
            time.sleep(0.2)
    yield {"url": url, "tmp": tmp, "folder": folder}
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _page(browser, bypass_csp: bool):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True,
                                  locale="zh-CN", bypass_csp=bypass_csp)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text
          else None)
    yield pg
    context.close()
    assert not errors, errors  # no script error and nothing the page's policy blocked


@pytest.fixture
def page(browser):
    """A page whose tests may wait on script conditions (evaluated in the page, which the
    server's Content-Security-Policy forbids, so the policy is set aside for the test's own
    probes)."""
    yield from _page(browser, bypass_csp=True)


@pytest.fixture
def strict_page(browser):
    """A page under the server's Content-Security-Policy, as a reviewer's browser has it."""
    yield from _page(browser, bypass_csp=False)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def download(page, link_text: str, dest):
    with page.expect_download() as info:
        page.get_by_text(link_text).click()
    info.value.save_as(dest)
    return dest


def test_upload_progress_findings_page_verdict_export(server, page, tmp_path):
    page.goto(server["url"])
    page.fill("#reviewer", "张三")
    page.set_input_files("#files", [str(sample_pdf("003")), str(sample_pdf("000"))])
    page.wait_for_selector(".batch-progress")  # the progress of the files just sent
    shot(page, "1-upload-progress")
    page.wait_for_function("document.querySelectorAll('tr.job.job-ok').length >= 2",
                           timeout=CHECKED)
    page.wait_for_function("document.getElementById('progress-text')?.textContent"
                           ".includes('已完成 2 / 2')", timeout=10_000)
    shot(page, "2-uploads-checked")

    page.get_by_role("link", name=sample_pdf("003").name).click()
    page.wait_for_selector(".finding")
    assert page.inner_text(".counts") .replace("\n", "").startswith("错误 2")
    share = page.locator('.finding[data-rule="nar.share"]')
    share.locator(".msg").click()
    page.wait_for_selector("#boxes .box.sel")
    assert page.get_attribute("#page-img", "data-page") == "14"
    assert page.locator("#ev-tabs button").all_inner_texts() == ["第14页"]
    assert page.locator("#boxes .box.sel.narrative").count() == 2
    # the outlined boxes lie on the rendered page, inside the image
    img = page.locator("#page-img").bounding_box()
    for box in page.locator("#boxes .box.sel").all():
        b = box.bounding_box()
        assert img["x"] <= b["x"] and b["x"] + b["width"] <= img["x"] + img["width"] + 1
        assert img["y"] <= b["y"] and b["y"] + b["height"] <= img["y"] + img["height"] + 1
    assert "3.71%" in page.inner_text("#selected")
    shot(page, "3-evidence-on-page")

    reason = page.locator('.finding[data-rule="perf.reason"]')
    reason.locator(".msg").click()
    page.wait_for_function("document.getElementById('page-img').dataset.page === '21'")
    page.wait_for_selector("#boxes .box.sel.table")
    shot(page, "4-table-cells")

    share.locator("input[name=comment]").fill("占比应为3.71%")
    share.get_by_role("button", name="确认").click()
    page.wait_for_function("document.querySelector('.finding[data-rule=\"nar.share\"] "
                           ".verdict-state').textContent.includes('确认 · 张三')")
    reason.get_by_role("button", name="误报").click()
    page.wait_for_function("document.querySelector('.finding[data-rule=\"perf.reason\"] "
                           ".verdict-state').textContent.includes('误报')")
    page.select_option(".verdict-filter", "confirmed")
    assert [el.get_attribute("data-rule") for el in page.locator(".finding:visible").all()] \
        == ["nar.share"]
    page.reload()
    assert share.get_by_role("button", name="确认").get_attribute("class").endswith(" on")
    assert "占比应为3.71%" == share.locator("input[name=comment]").input_value()
    shot(page, "5-verdicts")

    labels = LabelFile.model_validate_json(
        download(page, "导出评测标注（JSON）", tmp_path / "003.json").read_text(encoding="utf-8"))
    assert [(g.rule, g.pages, g.note) for g in labels.findings] == [
        ("nar.share", [14], "占比应为3.71%")]
    assert [r["rule"] for r in labels.rejected] == ["perf.reason"]
    gold = tmp_path / "gold"
    gold.mkdir()
    (tmp_path / "003.json").replace(gold / f"{sample_pdf('003').stem}.json")
    shutil.copy(sample_pdf("003"), gold)
    scored = subprocess.run([sys.executable, "-m", "pipeline", "eval", "--labels", str(gold),
                             "--format", "json"], capture_output=True, text=True, check=True)
    overall = json.loads(scored.stdout)["overall"]
    assert overall["gold"] == 1 and overall["recall"] == 1.0

    rows = list(load_workbook(download(page, "导出复核清单（XLSX）", tmp_path / "r.xlsx"))
                .active.iter_rows(values_only=True))
    assert ("nar.share", "确认", "张三") in {(r[2], r[9], r[11]) for r in rows[1:]}
    with pymupdf.open(download(page, "导出批注PDF", tmp_path / "a.pdf")) as pdf:
        notes = [a.info["content"] for p in pdf for a in p.annots()]
    assert any("nar.share" in n and "复核：确认（张三）" in n for n in notes)


def test_bad_uploads_get_a_reason_and_the_others_go_on(server, page, tmp_path):
    page.goto(server["url"])
    text = tmp_path / "说明.pdf"
    text.write_text("这不是PDF", encoding="utf-8")
    big = tmp_path / "huge.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    page.set_input_files("#files", [str(text), str(big)])
    page.wait_for_selector("#upload-errors .rejected")
    assert "huge.pdf：文件过大：上传上限为 2 MB" in page.inner_text("#upload-errors")
    page.wait_for_function("document.querySelector('#uploads').textContent.includes('不是PDF文件')")
    # a good report dropped on the drop zone is still checked
    data = base64.b64encode(sample_pdf("002").read_bytes()).decode()
    transfer = page.evaluate_handle(
        """(b64) => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'dropped.pdf', {type: 'application/pdf'})); return dt; }""",
        data)
    page.dispatch_event("#upload", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("tr.job.job-ok >> text=dropped.pdf", timeout=CHECKED)
    row = page.locator("tr.job", has_text="说明.pdf")
    assert "不是PDF文件" in row.inner_text()
    shot(page, "6-bad-uploads")


def test_folder_view_sorts_and_lists_failures(server, strict_page):
    page = strict_page  # everything here runs under the page's own security policy
    page.goto(server["url"])
    page.get_by_role("link", name=str(server["folder"])).click()
    page.wait_for_selector("#reports")
    page.locator("#reports th a[data-sort=errors]").click()
    page.wait_for_url("**sort=errors**")
    names = [n for n in page.locator("#reports tbody tr td:first-child").all_inner_texts()]
    assert set(names) == {sample_pdf("001").name, sample_pdf("002").name, "damaged.pdf"}
    errors = [int(t) if t.strip() else -1 for t in
              page.locator("#reports tbody td.errors").all_inner_texts()]
    assert errors == sorted(errors)
    page.locator("#reports th a[data-sort=errors]").click()  # again: descending
    page.wait_for_url("**order=desc**")
    errors = [int(t) if t.strip() else -1 for t in
              page.locator("#reports tbody td.errors").all_inner_texts()]
    assert errors == sorted(errors, reverse=True)
    assert "damaged.pdf：PDF文件已损坏，无法读取" in page.inner_text("#failures")
    shot(page, "7-folder")
    page.get_by_role("link", name=sample_pdf("002").name).click()
    page.wait_for_selector(".finding")
    finding = page.locator('.finding[data-rule="x.subject_names"]')
    finding.locator(".msg").click()
    page.wait_for_selector("#boxes .box.sel.table")
    # the address names the finding: opened again, the page shows it selected with its evidence
    page.goto(page.url)
    page.wait_for_selector(".finding.selected[data-rule='x.subject_names']")
    page.wait_for_selector("#boxes .box.sel.table")
