"""`budget-lens batch`: real PDFs, a real SQLite database, a real process pool."""

import csv
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import SAMPLE_IDS, sample_pdf
from openpyxl import load_workbook

from pipeline.batch import run_batch


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "reports"
    (d / "more").mkdir(parents=True)
    for sid in SAMPLE_IDS:
        shutil.copy(sample_pdf(sid), d / sample_pdf(sid).name)
    shutil.copy(sample_pdf("001"), d / "more" / "copy_of_001.pdf")
    return d


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_batch_stores_results_and_resumes(folder, tmp_path):
    db = tmp_path / "results.sqlite"
    first = run_batch(folder, db, jobs=2, progress_out=None)
    assert (first.files, first.checked, first.skipped, first.failed) == (5, 5, 0, 0)
    docs = rows(db, "SELECT path, status, errors FROM documents ORDER BY path")
    assert len(docs) == 5 and all(status == "ok" for _, status, _ in docs)
    n = rows(db, "SELECT COUNT(*) FROM findings")[0][0]
    assert n >= 15
    # the copy of 001 has the same findings as 001
    per_doc = dict(rows(db, "SELECT d.path, COUNT(f.id) FROM documents d LEFT JOIN findings f"
                            " ON f.document_id = d.id GROUP BY d.path"))
    assert per_doc[str(folder / "more" / "copy_of_001.pdf")] == per_doc[str(folder /
                                                                            sample_pdf("001").name)]
    second = run_batch(folder, db, jobs=2, progress_out=None)
    assert (second.checked, second.skipped) == (0, 5)  # unchanged files are skipped
    assert rows(db, "SELECT COUNT(*) FROM findings")[0][0] == n
    # a changed file is checked again, and only it
    shutil.copy(sample_pdf("002"), folder / "more" / "copy_of_001.pdf")
    third = run_batch(folder, db, jobs=1, progress_out=None)
    assert (third.checked, third.skipped) == (1, 4)
    assert rows(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'")[0][0] == 3


def test_corrupt_file_is_recorded_and_the_batch_goes_on(folder, tmp_path):
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    (folder / "notes.pdf").write_text("not a pdf", encoding="utf-8")
    db = tmp_path / "r.sqlite"
    out = run_batch(folder, db, jobs=2, progress_out=None)
    assert (out.files, out.checked, out.failed) == (7, 5, 2)
    failed = dict(rows(db, "SELECT path, error FROM documents WHERE status = 'failed'"))
    assert "damaged" in failed[str(folder / "broken.pdf")]
    assert "not a PDF" in failed[str(folder / "notes.pdf")]


def test_cli_summary_and_exports(folder, tmp_path):
    db = tmp_path / "out.sqlite"
    r = subprocess.run([sys.executable, "-m", "pipeline", "batch", str(folder), "--jobs", "2",
                        "--db", str(db)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "5份报告" in r.stdout and "最常见的规则" in r.stdout
    assert "检查" not in r.stderr  # the progress bar only on a terminal
    with open(tmp_path / "out.findings.csv", encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["文件", "报告", "级别", "规则"] and len(table) > 15
    assert any(row[3] == "nar.share" and "第14页" in row[-1] for row in table)
    assert {row[2] for row in table[1:]} <= {"错误", "警告", "提示"}  # severities in Chinese
    wb = load_workbook(tmp_path / "out.findings.xlsx")
    assert wb.sheetnames == ["问题清单", "按规则统计", "失败的文件"]
    assert wb["问题清单"].max_row == len(table)
    assert wb["问题清单"].auto_filter.ref == f"A1:K{len(table)}"


def test_deleted_files_leave_the_summary_and_exports(folder, tmp_path):
    db = tmp_path / "r.sqlite"
    run_batch(folder, db, jobs=1, progress_out=None)
    gone = sorted(folder.glob("*.pdf"))[0]
    gone.unlink()
    r = subprocess.run([sys.executable, "-m", "pipeline", "batch", str(folder), "--db", str(db),
                        "--quiet"], capture_output=True, text=True)
    assert gone.name not in r.stdout
    with open(tmp_path / "r.findings.csv", encoding="utf-8-sig") as fh:
        assert not [row for row in csv.reader(fh) if row[0] == str(gone)]
    assert "4份报告" in r.stdout


def _copies(tmp_path, n):
    """A folder of n copies of the samples."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(n):
        shutil.copy(sample_pdf(SAMPLE_IDS[i % 4]), folder / f"r{i:02d}.pdf")
    return folder


def _batch(folder, db, jobs, out=subprocess.PIPE):
    """`budget-lens batch` as its own process, quiet."""
    return subprocess.Popen([sys.executable, "-m", "pipeline", "batch", str(folder), "--jobs",
                             str(jobs), "--db", str(db), "--quiet"], stdout=out, stderr=out,
                            text=True)


def _started(db, proc, n=1):
    """Wait until n documents are stored (or the batch has ended)."""
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            if db.exists() and rows(db, "SELECT COUNT(*) FROM documents")[0][0] >= n:
                return
        except sqlite3.OperationalError:
            pass


def test_interrupted_run_leaves_a_consistent_database(tmp_path):
    folder = _copies(tmp_path, 24)
    db = tmp_path / "r.sqlite"
    proc = _batch(folder, db, 1)
    _started(db, proc, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    done = rows(db, "SELECT COUNT(*) FROM documents")[0][0]
    assert 2 <= done < 24
    assert rows(db, "SELECT status FROM runs")[0][0] == "interrupted"
    # every stored document has exactly its findings: compare with a clean check
    counts = dict(rows(db, "SELECT d.path, d.errors + d.warnings + d.infos FROM documents d"))
    stored = dict(rows(db, "SELECT d.path, COUNT(f.id) FROM documents d LEFT JOIN findings f"
                           " ON f.document_id = d.id GROUP BY d.path"))
    assert counts == stored
    resumed = run_batch(folder, db, jobs=2, progress_out=None)
    assert resumed.skipped == done and resumed.checked == 24 - done
    assert rows(db, "SELECT COUNT(*) FROM documents")[0][0] == 24


def test_progress_bar_on_a_terminal(folder, tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "batch", str(folder), "--db",
                             str(tmp_path / "p.sqlite")], stdout=subprocess.DEVNULL,
                            stderr=secondary, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait()
    assert "检查" in out.decode("utf-8", "ignore") and "5/5" in out.decode("utf-8", "ignore")


def _children(pid):
    from pathlib import Path

    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _gone(pids, within=15.0):
    import os

    end = time.time() + within
    while time.time() < end:
        alive = set()
        for p in pids:
            try:
                with open(f"/proc/{p}/stat") as f:
                    if f.read().split()[2] != "Z":  # a zombie has ended
                        alive.add(p)
            except OSError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return not [p for p in pids if os.path.exists(f"/proc/{p}")]


def test_kill_9_of_batch_ends_its_workers_and_the_next_run_marks_it_abandoned(tmp_path):
    import os

    folder = _copies(tmp_path, 16)
    db = tmp_path / "r.sqlite"
    proc = _batch(folder, db, 2, out=subprocess.DEVNULL)
    _started(db, proc)
    workers = _children(proc.pid)
    assert workers, "no pool workers seen"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _gone(workers), "pool workers outlived the killed batch"
    assert rows(db, "SELECT status FROM runs")[0][0] == "running"
    again = run_batch(folder, db, jobs=2, progress_out=None)
    assert rows(db, "SELECT status FROM runs ORDER BY id") == [("abandoned",), ("finished",)]
    assert again.skipped + again.checked == 16


def test_ctrl_c_does_not_wait_for_the_files_in_progress(tmp_path):
    """Ctrl-C while a long report is being checked (the samples joined, about 1,000 pages, some
    ten seconds of work): the batch ends at once, its worker too, the run is 'interrupted'."""
    import pymupdf

    folder = tmp_path / "long"
    folder.mkdir()
    joined = pymupdf.open()
    for _ in range(8):
        for sid in SAMPLE_IDS:
            with pymupdf.open(sample_pdf(sid)) as doc:
                joined.insert_pdf(doc)
    joined.save(folder / "long.pdf")
    db = tmp_path / "r.sqlite"
    proc = _batch(folder, db, 1)
    deadline = time.time() + 30
    workers: set[int] = set()
    while time.time() < deadline and not workers:
        time.sleep(0.1)
        workers = _children(proc.pid)
    time.sleep(1.5)  # the worker is inside the long report
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    waited = time.monotonic() - t0
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert waited < 4, waited  # not the rest of the report
    assert _gone(workers, within=5.0)
    assert rows(db, "SELECT status FROM runs")[0][0] == "interrupted"
