"""Check a folder of reports: a process pool, a progress bar, results kept in SQLite.

Each finished file is written in one transaction (its document row and all its findings), so an
interrupted run leaves a consistent database; a later run skips files already checked whose
content (SHA-256) is unchanged. A file that fails is recorded with its error and the batch goes
on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from schemas.document import Document
from schemas.findings import FileResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, folder TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL, jobs INTEGER NOT NULL, files INTEGER NOT NULL,
    checked INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, size INTEGER,
    status TEXT NOT NULL, error TEXT, title TEXT, report_type TEXT, pages INTEGER,
    errors INTEGER, warnings INTEGER, infos INTEGER, seconds REAL,
    run_id INTEGER REFERENCES runs(id), checked_at TEXT NOT NULL, result TEXT,
    stage TEXT  -- while a check runs: the stage it is at (pipeline.run.STAGES)
);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, stated REAL,
    expected REAL, unit TEXT, section TEXT, pages TEXT, evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_document ON findings(document_id);
"""


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_db(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    for added in ("result", "stage"):  # a database written before whole results were kept
        if added not in columns:
            db.execute(f"ALTER TABLE documents ADD COLUMN {added} TEXT")
    if "pid" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
        db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")  # the process running it
    return db


def _alive(pid: int | None) -> bool:
    import os

    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_abandoned(db: sqlite3.Connection) -> int:
    """Runs left 'running' by a process that is gone (killed, the machine stopped) are marked
    abandoned: their finished files are kept, the others are checked by the next run."""
    gone = [rid for rid, pid in db.execute("SELECT id, pid FROM runs WHERE status = 'running'")
            if not _alive(pid)]
    with db:
        db.executemany("UPDATE runs SET status = 'abandoned' WHERE id = ?", [(r,) for r in gone])
    return len(gone)


def _worker_start() -> None:
    """Workers leave Ctrl-C to the parent, which stops the batch and keeps the database whole,
    and end with the parent however it ends (kill -9 included: the kernel tells them)."""
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when their pipe closes
        pass


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C: the files in progress are not waited for (a 2,000-page report takes half a
    minute); their workers are ended and the database keeps what was finished."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()


def check_one(path: str, progress: Callable[[str], None] | None = None
              ) -> tuple[str, dict, float]:
    """Worker: check one file (telling `progress` each stage); never raises (a failure is a
    failed result)."""
    from pipeline.run import check_file

    t0 = time.perf_counter()
    try:
        result = check_file(Path(path), progress=progress).result
    except Exception as exc:  # a bug on one file must not end the batch
        result = FileResult(source=path, status="failed", error=f"internal error: {exc!r}")
    return path, result.model_dump(), time.perf_counter() - t0


def store(db: sqlite3.Connection, run_id: int | None, path: Path, digest: str,
          result: FileResult, seconds: float) -> int:
    """Write one file's result and findings in a single transaction; returns the document id,
    which stays the same when a file is checked again."""
    s = result.summary
    with db:
        doc_id = int(db.execute(
            "INSERT INTO documents (path, sha256, size, status, error, title, report_type, pages,"
            " errors, warnings, infos, seconds, run_id, checked_at, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,"
            " status = excluded.status, error = excluded.error, title = excluded.title,"
            " report_type = excluded.report_type, pages = excluded.pages,"
            " errors = excluded.errors, warnings = excluded.warnings, infos = excluded.infos,"
            " seconds = excluded.seconds, run_id = COALESCE(excluded.run_id, run_id),"
            " checked_at = excluded.checked_at, result = excluded.result, stage = NULL RETURNING id",
            (str(path), digest, path.stat().st_size, result.status, result.error, result.title,
             result.report_type, result.pages, s.errors, s.warnings, s.infos, round(seconds, 3),
             run_id, now(), result.model_dump_json()),
        ).fetchone()[0])
        db.execute("DELETE FROM findings WHERE document_id = ?", (doc_id,))
        db.executemany(
            "INSERT INTO findings (document_id, rule, severity, message, stated, expected, unit,"
            " section, pages, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (doc_id, f.rule, f.severity, f.message, f.stated, f.expected, f.unit, f.section,
                 ",".join(str(e.page) for e in f.evidence),
                 json.dumps([e.model_dump() for e in f.evidence], ensure_ascii=False))
                for f in result.findings
            ],
        )
        if run_id is not None:
            col = "failed" if result.status == "failed" else "checked"
            db.execute(f"UPDATE runs SET {col} = {col} + 1 WHERE id = ?", (run_id,))
    return doc_id


class Progress:
    """The progress bar (tqdm), shown only when its stream is a terminal."""

    def __init__(self, total: int, out: TextIO | None, skipped: int = 0) -> None:
        from tqdm import tqdm

        self.done, self.failed, self.skipped = 0, 0, skipped
        shown = out is not None and out.isatty()
        self.bar = tqdm(total=total, initial=skipped, file=out, disable=not shown, unit="份",
                        dynamic_ncols=True, desc="检查")

    def show(self, name: str = "") -> None:
        self.bar.set_postfix_str(f"失败{self.failed} 跳过{self.skipped} {name[:30]}", refresh=False)
        self.bar.update(1) if name else self.bar.refresh()

    def end(self) -> None:
        self.bar.close()


def find_pdfs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())


@dataclass
class BatchOutcome:
    run_id: int
    status: str
    files: int
    checked: int
    skipped: int
    failed: int
    paths: list[Path] = field(default_factory=list)  # the PDFs the folder held for this run


def run_batch(
    folder: Path,
    db_path: Path,
    jobs: int = 1,
    progress_out: TextIO | None = sys.stderr,
    worker: Callable[[str], tuple[str, dict, float]] = check_one,
) -> BatchOutcome:
    import os

    pdfs = find_pdfs(folder)
    db = open_db(db_path)
    mark_abandoned(db)
    with db:
        run_id = int(db.execute(
            "INSERT INTO runs (folder, started, status, jobs, files, pid)"
            " VALUES (?, ?, 'running', ?, ?, ?)",
            (str(folder), now(), jobs, len(pdfs), os.getpid()),
        ).lastrowid or 0)
    known = dict(db.execute("SELECT path, sha256 FROM documents"))
    todo: list[tuple[Path, str]] = []
    skipped = 0
    for p in pdfs:
        digest = sha256(p)
        if known.get(str(p)) == digest:
            skipped += 1
        else:
            todo.append((p, digest))
    progress = Progress(total=len(pdfs), skipped=skipped, out=progress_out)
    with db:
        db.execute("UPDATE runs SET skipped = ? WHERE id = ?", (skipped, run_id))
    status = "finished"
    pool = ProcessPoolExecutor(max_workers=max(1, jobs), initializer=_worker_start)
    try:
        digests = {str(p): d for p, d in todo}
        pending: set[Future] = {pool.submit(worker, str(p)) for p, _ in todo}
        progress.show()
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                path, data, seconds = fut.result()
                result = FileResult.model_validate(data)
                store(db, run_id, Path(path), digests[path], result, seconds)
                progress.done += 1
                progress.failed += result.status == "failed"
                progress.show(Path(path).name)
        pair_halves(db, run_id, pdfs, digests)
    except KeyboardInterrupt:
        status = "interrupted"
        _stop_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=status == "finished", cancel_futures=True)
        progress.end()
        with db:
            db.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                       (now(), status, run_id))
        row = db.execute("SELECT files, checked, skipped, failed FROM runs WHERE id = ?",
                         (run_id,)).fetchone()
        db.close()
    files, checked, skipped, failed = row
    return BatchOutcome(run_id, status, files, checked, skipped, failed, paths=pdfs)


def pair_halves(db: sqlite3.Connection, run_id: int | None, pdfs: list[Path],
                digests: dict[str, str], one_folder: bool = False) -> list[tuple[Path, Path, str]]:
    """A folder's 情况说明 and 报表 published apart (pipeline.pairing) are checked again as one
    report: kept under the narrative's path with both parts, the tables file recorded as a part
    of it. Pairs already checked so, with neither file changed, are left alone. `one_folder`:
    the files are paired whatever folder each is kept in (the workbench keeps each upload in a
    folder of its own)."""
    from pipeline.pairing import pair
    from pipeline.run import check_files

    rows = dict(db.execute("SELECT path, result FROM documents WHERE result IS NOT NULL"))
    by_folder: dict[Path, dict[Path, FileResult]] = {}
    for p in pdfs:
        raw = rows.get(str(p))
        if raw is not None:
            by_folder.setdefault(Path() if one_folder else p.parent, {})[p] = \
                FileResult.model_validate_json(raw)
    done = []
    for results in by_folder.values():
        documents: dict[Path, Document] = {}  # each candidate half segmented once
        for pr in pair(results, documents):
            t0 = time.perf_counter()
            combined = check_files([pr.narrative, pr.tables], documents=documents).result
            combined.paired = pr.how
            digest = digests.get(str(pr.narrative)) or sha256(pr.narrative)
            store(db, None, pr.narrative, digest, combined, time.perf_counter() - t0)
            tables = results[pr.tables]
            part = FileResult(source=str(pr.tables), part_of=str(pr.narrative),
                              paired=pr.how, title=tables.title, pages=tables.pages,
                              report_type=tables.report_type)
            store(db, None, pr.tables, digests.get(str(pr.tables)) or sha256(pr.tables), part, 0.0)
            done.append((pr.narrative, pr.tables, pr.how))
    return done


# -- reporting --------------------------------------------------------------------------------


def _present(db: sqlite3.Connection, paths: Iterable[Path] | None) -> str:
    """A temporary table of the files the folder holds now: summaries and exports name only
    those (a file deleted since an earlier run is left out)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS present (path TEXT PRIMARY KEY)")
    db.execute("DELETE FROM present")
    if paths is None:
        db.execute("INSERT INTO present SELECT path FROM documents")
    else:
        db.executemany("INSERT OR IGNORE INTO present VALUES (?)", [(str(p),) for p in paths])
    return "d.path IN (SELECT path FROM present)"


def summary_text(db_path: Path, outcome: BatchOutcome | None = None,
                 paths: Iterable[Path] | None = None) -> str:
    db = open_db(db_path)
    try:
        here = _present(db, paths)
        docs = db.execute(f"SELECT status, COUNT(*) FROM documents d WHERE {here} GROUP BY status"
                          ).fetchall()
        sev = dict(db.execute(f"SELECT f.severity, COUNT(*) FROM findings f JOIN documents d ON"
                              f" d.id = f.document_id WHERE {here} GROUP BY f.severity"))
        rules = db.execute(
            f"SELECT f.rule, COUNT(*) AS n FROM findings f JOIN documents d ON d.id = f.document_id"
            f" WHERE f.severity != 'info' AND {here} GROUP BY f.rule ORDER BY n DESC, f.rule"
            " LIMIT 8").fetchall()
        failures = db.execute(f"SELECT path, error FROM documents d WHERE status = 'failed' AND"
                              f" {here} ORDER BY path").fetchall()
        worst = db.execute(f"SELECT path, errors, warnings FROM documents d WHERE status = 'ok'"
                           f" AND {here} ORDER BY errors DESC, warnings DESC LIMIT 5").fetchall()
        paired = [(p, json.loads(r)) for p, r in db.execute(
            f"SELECT path, result FROM documents d WHERE {here} AND result LIKE '%\"parts\":[\"%'"
            " ORDER BY path")]
    finally:
        db.close()
    status = dict(docs)
    lines = []
    if outcome is not None:
        lines.append(f"本次运行：{outcome.files}份报告，检查{outcome.checked}份，跳过未变化的"
                     f"{outcome.skipped}份，失败{outcome.failed}份（{outcome.status}）")
    lines += [
        f"数据库中：{sum(status.values())}份报告（成功{status.get('ok', 0)}，失败{status.get('failed', 0)}）",
        f"问题：错误{sev.get('error', 0)} · 警告{sev.get('warning', 0)} · 提示{sev.get('info', 0)}",
    ]
    if rules:
        lines.append("最常见的规则（错误与警告）：")
        lines += [f"  {rule:24} {n:5d}" for rule, n in rules]
    if worst:
        lines.append("问题最多的报告：")
        lines += [f"  {Path(p).name:40} 错误{e} 警告{w}" for p, e, w in worst]
    paired = [(p, r) for p, r in paired if r.get("paired")]
    if paired:
        lines.append("合并为一份报告检查的文件（情况说明与报表分开发布）：")
        lines += [f"  {' + '.join(Path(x).name for x in r['parts'])}（{r['paired']}）"
                  for _, r in paired]
    if failures:
        lines.append("失败的文件：")
        lines += [f"  {Path(p).name}: {err}" for p, err in failures]
    return "\n".join(lines)


COLUMNS = ["文件", "报告", "级别", "规则", "问题", "陈述值", "应为", "单位", "位置", "页码", "证据"]


SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def finding_rows(db_path: Path, paths: Iterable[Path] | None = None) -> Iterable[list]:
    db = open_db(db_path)
    try:
        here = _present(db, paths)
        for row in db.execute(
                "SELECT d.path, d.title, f.severity, f.rule, f.message, f.stated, f.expected,"
                " f.unit, f.section, f.pages, f.evidence FROM findings f JOIN documents d"
                f" ON d.id = f.document_id WHERE {here} ORDER BY d.path, f.id"):
            yield [row[0], row[1], SEVERITY_ZH.get(row[2], row[2]), *row[3:]]
    finally:
        db.close()


def failed_rows(db_path: Path, paths: Iterable[Path] | None = None) -> list[tuple]:
    db = open_db(db_path)
    try:
        here = _present(db, paths)
        return db.execute(f"SELECT path, error FROM documents d WHERE status = 'failed' AND {here}"
                          " ORDER BY path").fetchall()
    finally:
        db.close()


def _evidence_text(raw: str) -> str:
    return "；".join(f"第{e['page']}页 {e['text']}" for e in json.loads(raw))


def export_csv(db_path: Path, dest: Path, paths: Iterable[Path] | None = None) -> int:
    n = 0
    tmp = dest.with_name(dest.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens it as UTF-8
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in finding_rows(db_path, paths):
            w.writerow([*row[:-1], _evidence_text(row[-1])])
            n += 1
    tmp.replace(dest)
    return n


def workbook(title: str, columns: list[str]):  # type: ignore[no-untyped-def]
    """A workbook whose first sheet has a bold header row; returns it and the sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    return wb, ws


def append_text(ws, row: list) -> None:  # type: ignore[no-untyped-def]
    """A row whose texts stay texts: a comment or name that starts with = (or + - @) is written
    as a string, never as a live formula (formula injection)."""
    ws.append(row)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
            cell.data_type = "s"
            cell.quotePrefix = True


def export_xlsx(db_path: Path, dest: Path, paths: Iterable[Path] | None = None) -> int:
    wb, ws = workbook("问题清单", COLUMNS)
    n = 0
    for row in finding_rows(db_path, paths):
        append_text(ws, [*row[:-1], _evidence_text(row[-1])])
        n += 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for letter, width in zip("ABCDEFGHIJK", (34, 30, 8, 20, 60, 12, 12, 6, 40, 10, 80),
                             strict=True):
        ws.column_dimensions[letter].width = width
    counts = wb.create_sheet("按规则统计")
    counts.append(["规则", "级别", "数量"])
    tally = Counter((r[3], r[2]) for r in finding_rows(db_path, paths))
    for (rule, sev), k in sorted(tally.items(), key=lambda kv: -kv[1]):
        counts.append([rule, sev, k])
    counts.auto_filter.ref = counts.dimensions
    failed = wb.create_sheet("失败的文件")
    failed.append(["文件", "原因"])
    for path, error in failed_rows(db_path, paths):
        append_text(failed, [path, error])
    failed.column_dimensions["A"].width = 50
    failed.column_dimensions["B"].width = 80
    tmp = dest.with_name(dest.name + ".tmp")
    wb.save(tmp)
    tmp.replace(dest)
    return n
