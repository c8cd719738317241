"""The workbench server in process (FastAPI's TestClient, real worker processes, real SQLite):
uploads, checks, verdicts, exports, limits and CSRF. The browser tests drive the same server
through Chromium (test_workbench_browser.py)."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import time
import zipfile

import pymupdf
import pytest
from conftest import ROOT, checked_folder, sample_pdf
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from pipeline.cli import run
from pipeline.evaluate import LabelFile
from pipeline.web.app import COOKIE, Settings, create_app, safe_name


def client_for(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings), base_url="http://127.0.0.1")
    client.__enter__()  # runs the lifespan: the worker pool starts
    client.get("/")  # the CSRF cookie
    client.headers["X-CSRF-Token"] = client.cookies[COOKIE]
    return client


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def client(data):
    c = client_for(Settings(data))
    yield c
    c.__exit__(None, None, None)


def upload(client: TestClient, path, name: str | None = None) -> dict:
    r = client.post("/upload", files=[("files", (name or path.name, path.read_bytes(),
                                                 "application/pdf"))])
    assert r.status_code == 200, r.text
    return r.json()["files"][0]


def wait_done(client: TestClient, doc_id: int, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"/doc/{doc_id}/status").json()
        if status["done"]:
            return status
        time.sleep(0.2)
    raise AssertionError(f"document {doc_id} not checked in {timeout}s")


def keys(html: str, rule: str) -> list[str]:
    import re

    return re.findall(rf'data-rule="{re.escape(rule)}" data-key="([0-9a-f]+)"', html)


def test_upload_check_review_export_and_eval(client, data, tmp_path):
    doc = upload(client, sample_pdf("003"))
    assert doc["status"] == "queued"
    assert wait_done(client, doc["id"])["status"] == "ok"
    page = client.get(f"/doc/{doc['id']}").text
    share, reason = keys(page, "nar.share"), keys(page, "perf.reason")
    assert len(share) == 1 and len(reason) == 1
    assert 'class="ev narrative" data-page="14" data-bbox="' in page

    ok = client.post(f"/doc/{doc['id']}/verdict", headers={"Accept": "application/json"},
                     data={"key": share[0], "verdict": "confirmed", "reviewer": "张三",
                           "comment": "占比确为3.71%"})
    assert ok.status_code == 200 and ok.json()["label"] == "确认"
    client.post(f"/doc/{doc['id']}/verdict", headers={"Accept": "application/json"},
                data={"key": reason[0], "verdict": "false_alarm", "reviewer": "李四"})
    no_name = client.post(f"/doc/{doc['id']}/verdict", headers={"Accept": "application/json"},
                          data={"key": share[0], "verdict": "confirmed", "reviewer": " "})
    assert no_name.status_code == 400 and "审阅人" in no_name.json()["detail"]
    bad_key = client.post(f"/doc/{doc['id']}/verdict", data={"key": "0" * 16,
                                                             "verdict": "confirmed",
                                                             "reviewer": "张三"})
    assert bad_key.status_code == 404

    labels = LabelFile.model_validate_json(client.get(f"/doc/{doc['id']}/labels.json").content)
    assert [(g.rule, g.pages, g.stated, g.note) for g in labels.findings] == [
        ("nar.share", [14], 0.0, "占比确为3.71%")]
    assert [r["rule"] for r in labels.rejected] == ["perf.reason"]
    assert "张三" in labels.labelled_by and "李四" in labels.labelled_by

    # the folder export unpacks into a folder `budget-lens eval` scores
    zipped = client.get(f"/folder/{client.app.state.bench.uploads_run}/labels.zip")
    gold = tmp_path / "gold"
    zipfile.ZipFile(io.BytesIO(zipped.content)).extractall(gold)
    assert sorted(p.name for p in gold.iterdir()) == sorted([sample_pdf("003").name,
                                                             sample_pdf("003").stem + ".json"])
    out = tmp_path / "eval.json"
    import contextlib

    with out.open("w") as fh, contextlib.redirect_stdout(fh):
        assert run(["eval", "--labels", str(gold), "--format", "json"]) == 0
    scored = json.loads(out.read_text())
    assert scored["overall"]["gold"] == 1 and scored["overall"]["recall"] == 1.0
    assert [x.split(":")[0] for x in scored["documents"][0]["rejected_raised"]] == ["perf.reason"]

    sheet = load_workbook(io.BytesIO(client.get(f"/doc/{doc['id']}/review.xlsx").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][9] == "复核结论"
    verdicts = {r[2]: (r[9], r[11]) for r in rows[1:]}
    assert verdicts["nar.share"] == ("确认", "张三")
    assert verdicts["perf.reason"] == ("误报", "李四")
    assert "未复核" in {v for v, _ in verdicts.values()}

    pdf = client.get(f"/doc/{doc['id']}/annotated.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=pdf.content, filetype="pdf") as annotated:
        notes = [a.info["content"] for p in annotated for a in p.annots()]
    assert any("复核：确认（张三）" in n for n in notes)
    assert not any("perf.reason" in n for n in notes)  # a false alarm is left out
    assert all((data / "exports").resolve() in p.resolve().parents
               for p in (data / "exports").rglob("*.pdf"))


def test_verdicts_survive_restart_and_recheck(data):
    first = client_for(Settings(data))
    doc = upload(first, sample_pdf("000"))
    wait_done(first, doc["id"])
    key = keys(first.get(f"/doc/{doc['id']}").text, "nar.restated")[0]
    first.post(f"/doc/{doc['id']}/verdict", data={"key": key, "verdict": "pending",
                                                  "reviewer": "王五"}, follow_redirects=False)
    first.__exit__(None, None, None)

    again = client_for(Settings(data))
    try:
        assert again.post(f"/doc/{doc['id']}/recheck", follow_redirects=False).status_code == 303
        wait_done(again, doc["id"])
        page = again.get(f"/doc/{doc['id']}").text
        assert 'data-verdict="pending"' in page and "待定 · 王五" in page
        # the same file uploaded again is the same document, not a second check
        assert upload(again, sample_pdf("000"))["id"] == doc["id"]
    finally:
        again.__exit__(None, None, None)


def test_bad_uploads_are_refused_with_a_reason(client, data, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a report", encoding="utf-8")
    refused = upload(client, text)
    assert refused["status"] == "failed" and "不是PDF" in refused["error"]
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"PK\x03\x04 a zip named .pdf")
    assert "不是PDF" in upload(client, fake)["error"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF")
    doc = upload(client, broken)
    status = wait_done(client, doc["id"])
    assert status["status"] == "failed" and status["error"]
    listing = client.get("/uploads").text
    assert "notes.txt" in listing and "不是PDF文件" in listing and "broken.pdf" in listing
    # a path in the file name stays a name inside the data folder
    traversal = upload(client, sample_pdf("002"), name="../../../etc/evil.pdf")
    assert traversal["name"] == "evil.pdf"
    stored = [p for p in (data / "uploads").rglob("*.pdf")]
    assert all((data / "uploads") in p.parents for p in stored)
    assert not (tmp_path / "etc").exists()
    assert safe_name("..\\..\\x:y?.pdf") == "x_y_.pdf" and safe_name("") == "report.pdf"


def test_size_limit_and_csrf(data):
    c = client_for(Settings(data, max_upload_mb=0.1))
    try:
        big = c.post("/upload", files=[("files", ("a.pdf", sample_pdf("003").read_bytes(),
                                                  "application/pdf"))])
        assert big.status_code == 413 and "0.1 MB" in big.json()["detail"]
        # the same file sent without a Content-Length (chunked): 413 in Chinese too, not the
        # body parser's English 400
        boundary = "budget-lens-test"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode() \
            + sample_pdf("003").read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        chunked = c.post("/upload", content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert chunked.status_code == 413 and "0.1 MB" in chunked.json()["detail"], chunked.text
        token = c.headers.pop("X-CSRF-Token")
        small = [("files", ("b.pdf", b"%PDF-1.4\n%%EOF", "application/pdf"))]
        assert c.post("/upload", files=small).status_code == 403
        assert c.post("/upload", files=small, headers={"X-CSRF-Token": "forged"}).status_code \
            == 403
        foreign = c.post("/upload", files=small, headers={"X-CSRF-Token": token,
                                                          "Origin": "http://evil.example"})
        assert foreign.status_code == 403
        assert c.post("/upload", files=small, data={"csrf_token": token}).status_code == 200
        cookie = TestClient(c.app, base_url="http://localhost").get("/").headers[
            "set-cookie"].lower()  # a new browser
        assert COOKIE in cookie and "samesite=strict" in cookie and "httponly" in cookie
        headers = c.get("/").headers
        assert "script-src" not in headers["content-security-policy"]  # default-src 'self' only
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        # another name pointed at 127.0.0.1 (DNS rebinding) gets nothing
        assert TestClient(c.app, base_url="http://evil.example").get("/").status_code == 400
    finally:
        c.__exit__(None, None, None)


def test_folder_view_of_a_batch_database(tmp_path):
    folder, db = checked_folder(tmp_path, ("000", "003"))
    con = sqlite3.connect(db)  # a database an older batch wrote: no whole results
    con.execute("UPDATE documents SET result = NULL WHERE path LIKE '%000_%'")
    con.commit()
    con.close()
    c = client_for(Settings(tmp_path / "data", db=db))
    try:
        index = c.get("/").text
        assert str(folder) in index
        run_id = int(index.split('href="/folder/')[1].split('"')[0])
        page = c.get(f"/folder/{run_id}?sort=errors&order=desc").text
        names = [n for n in ("003_", "000_", "damaged.pdf") if n in page]
        assert names == ["003_", "000_", "damaged.pdf"]
        assert page.index("003_") < page.index("000_")
        assert 'id="failures"' in page and "damaged.pdf" in page.split('id="failures"')[1]
        asc = c.get(f"/folder/{run_id}?sort=errors&order=asc").text
        assert asc.index("000_") < asc.index("003_")
        # a long folder comes in pages, in the order asked for
        first = c.get(f"/folder/{run_id}?sort=name&order=asc&per_page=2").text
        second = c.get(f"/folder/{run_id}?sort=name&order=asc&per_page=2&page=2").text
        assert "第 1 / 2 页" in first and 'rel="next"' in first and "3 份报告" in first
        assert "000_" in first and "003_" in first and "damaged.pdf</td>" not in first
        assert "damaged.pdf</td>" in second and 'rel="prev"' in second and "000_" not in second
        old = sqlite3.connect(db).execute(
            "SELECT id FROM documents WHERE path LIKE '%000_%'").fetchone()[0]
        rebuilt = c.get(f"/doc/{old}").text
        assert 'data-rule="nar.restated"' in rebuilt
        png = c.get(f"/doc/{old}/page/13.png")
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert c.get(f"/doc/{old}/page/999.png").status_code == 404
        assert c.get("/doc/99999").status_code == 404
        assert c.get("/folder/99999").status_code == 404
    finally:
        c.__exit__(None, None, None)


def test_serve_warns_when_shared_and_stops_cleanly_on_ctrl_c(tmp_path):
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--host", "0.0.0.0",
                             "--port", str(port), "--data", str(tmp_path / "data")],
                            stderr=subprocess.PIPE, text=True)
    try:
        first, second = proc.stderr.readline(), proc.stderr.readline()
        assert "warning: serving on 0.0.0.0" in first and "no login" in first
        assert f":{port}/" in second
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in rest, rest


def test_progress_names_the_stage_a_check_is_at(data):
    from pipeline.run import STAGES, check_file
    from pipeline.web.store import Store
    from pipeline.web.templating import render

    seen: list[str] = []
    check_file(sample_pdf("001"), progress=seen.append)
    assert seen == list(STAGES)
    data.mkdir()
    store = Store(data / "results.sqlite")
    path = data / "r.pdf"
    shutil.copy(sample_pdf("001"), path)
    doc_id, _ = store.add(path, "0" * 64, store.uploads_run(data))
    store.set_stage(doc_id, "extract")
    doc = store.document(doc_id)
    assert doc.status == "running" and not doc.done
    assert "检查中（2/3：提取说明与绩效材料中的数字）" in render("_progress.html", d=doc)
    listing = render("_uploads.html", uploads=[doc], batch_total=1, batch_done=0, waiting=True)
    assert "2/3" in listing and 'data-waiting="yes"' in listing


def test_labels_zip_keeps_two_reports_of_one_name_apart(tmp_path):
    from pipeline.web.exports import labels_zip
    from pipeline.web.store import Doc, Verdict
    from schemas.findings import Evidence, Finding

    finding = Finding(rule="nar.share", severity="error", message="m", stated=0.0,
                      evidence=[Evidence(page=14, source="narrative", text="q")])
    docs = []
    for i, sub in enumerate(("a", "b"), start=1):
        (tmp_path / sub).mkdir()
        path = tmp_path / sub / "report.pdf"
        shutil.copy(sample_pdf("003"), path)
        docs.append((Doc(id=i, path=path, sha256=str(i), status="ok", error=None, title="",
                         report_type="final_accounts", pages=49, errors=1, warnings=0, infos=0,
                         checked_at="", run_id=1),
                     {finding.digest(): Verdict("confirmed", "", "张三", "t", finding)}))
    archive = zipfile.ZipFile(io.BytesIO(labels_zip(docs)))
    assert sorted(archive.namelist()) == ["report-2.json", "report-2.pdf", "report.json",
                                          "report.pdf"]
    assert json.loads(archive.read("report-2.json"))["source"] == "report-2.pdf"


def test_a_rotated_page_is_drawn_as_displayed_in_the_space_of_its_evidence():
    from pipeline.segment.pdf import page_sizes, render_page

    pdf = ROOT / "corpus" / "jiangsu-renda-2019-yusuan-tables.pdf"  # every page /Rotate 90
    width, height = page_sizes(pdf)[9]
    assert width > height  # landscape, as displayed
    png = pymupdf.Pixmap(render_page(pdf, 10, width=800))
    assert png.width == 800 and abs(png.height - 800 * height / width) <= 1


def test_review_export_writes_user_text_as_text(client):
    """A comment or reviewer name that starts with = is a string cell in the XLSX, never a live
    formula (formula injection)."""
    doc = upload(client, sample_pdf("003"))
    assert wait_done(client, doc["id"])["status"] == "ok"
    share = keys(client.get(f"/doc/{doc['id']}").text, "nar.share")
    comment, reviewer = '=HYPERLINK("http://example.invalid","点此")', "=1+1"
    client.post(f"/doc/{doc['id']}/verdict", headers={"Accept": "application/json"},
                data={"key": share[0], "verdict": "confirmed", "reviewer": reviewer,
                      "comment": comment})
    sheet = load_workbook(io.BytesIO(client.get(f"/doc/{doc['id']}/review.xlsx").content)).active
    row = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == "nar.share")
    assert (row[10].value, row[10].data_type) == (comment, "s")
    assert (row[11].value, row[11].data_type) == (reviewer, "s")


def test_what_does_not_exist_answers_404(client):
    """An id past SQLite's integers, or the exports of a folder never checked: 404, not 500 or an
    empty download."""
    for url in (f"/doc/{10**30}", f"/doc/{10**30}/review.xlsx", "/folder/987654/labels.zip",
                "/folder/987654/review.xlsx", f"/folder/{10**30}"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)


def test_upload_names_keep_their_extension():
    assert safe_name("...pdf") == "report.pdf"
    assert safe_name(".pdf") == "report.pdf"
    assert safe_name("../../年度 报告.pdf") == "年度 报告.pdf"
    assert safe_name("a:b?.PDF") == "a_b_.PDF"


def test_uploaded_halves_of_one_report_are_checked_as_one(client):
    """The 情况说明 and the 报表 of one unit sent as two files (each kept in a folder of its own):
    once both are checked, the workbench checks them again as one report, as `batch` pairs the
    files of a folder; the narrative's figures then meet the tables, and each page says so."""
    halves = ROOT / "corpus" / "cities" / "beijing-guoziwei"
    narrative = upload(client, halves / "beijing-001.pdf")
    tables = upload(client, halves / "beijing-013.pdf")
    for d in (narrative, tables):
        assert wait_done(client, d["id"])["status"] == "ok"
    wb = client.app.state.bench
    end = time.monotonic() + 120
    while time.monotonic() < end:
        doc = wb.store.document(narrative["id"])
        result = wb.store.result(doc) if doc else None
        if result is not None and result.parts:
            break
        time.sleep(0.3)
    assert result is not None and [p.rsplit("/", 1)[-1] for p in result.parts] == [
        "beijing-001.pdf", "beijing-013.pdf"]
    assert result.paired.startswith("说明中") and result.coverage.figures_matched >= 5
    part = wb.store.result(wb.store.document(tables["id"]))
    assert part.part_of == result.parts[0] and part.findings == []
    assert "合并检查" in client.get(f"/doc/{narrative['id']}").text
    assert "本文件是另一份报告的一部分" in client.get(f"/doc/{tables['id']}").text
