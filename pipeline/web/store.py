"""The workbench's state, in the batch SQLite database: documents and findings as `batch` writes
them, plus reviewers' verdicts.

A verdict is keyed by the report's SHA-256 and the finding's digest, so it survives restarts, a
re-check of the same file and the same file uploaded again under another name. It keeps a copy of
the finding it judged, so the labels it exports stay whole when a later version of the checker
no longer raises that finding.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch import now, open_db, store
from schemas.findings import Evidence, FileResult, Finding, Summary

VERDICTS = ("confirmed", "false_alarm", "pending")
UPLOADS = "网页上传"

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    sha256 TEXT NOT NULL, finding TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'false_alarm', 'pending')),
    comment TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL, at TEXT NOT NULL,
    snapshot TEXT NOT NULL, PRIMARY KEY (sha256, finding)
);
CREATE TABLE IF NOT EXISTS verdict_log (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, finding TEXT NOT NULL, verdict TEXT NOT NULL,
    comment TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL
);
"""

SORTS = {"name": "d.path", "title": "d.title", "pages": "d.pages", "errors": "d.errors",
         "warnings": "d.warnings", "infos": "d.infos", "status": "d.status",
         "reviewed": "reviewed", "checked": "d.checked_at"}


@dataclass(frozen=True)
class Doc:
    id: int
    path: Path
    sha256: str
    status: str  # queued, running, ok, failed
    error: str | None
    title: str | None
    report_type: str | None
    pages: int | None
    errors: int | None
    warnings: int | None
    infos: int | None
    checked_at: str
    run_id: int | None
    stage: str | None = None
    reviewed: int = 0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def done(self) -> bool:
        return self.status in ("ok", "failed")


@dataclass(frozen=True)
class Verdict:
    verdict: str
    comment: str
    reviewer: str
    at: str
    snapshot: Finding


DOC_COLUMNS = ("d.id, d.path, d.sha256, d.status, d.error, d.title, d.report_type, d.pages,"
               " d.errors, d.warnings, d.infos, d.checked_at, d.run_id, d.stage,"
               " (SELECT COUNT(*) FROM verdicts v WHERE v.sha256 = d.sha256) AS reviewed")


def _doc(row: sqlite3.Row) -> Doc:
    return Doc(**{**dict(row), "path": Path(row["path"])})


class Store:
    def __init__(self, db_path: Path) -> None:
        """Opens (and creates or migrates) the database once; later connections only connect."""
        self.db_path = db_path
        db = open_db(db_path)
        try:
            db.executescript(SCHEMA)
        finally:
            db.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(str(self.db_path), timeout=30)  # WAL mode stays with the file
        db.execute("PRAGMA foreign_keys = ON")
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    # -- documents ------------------------------------------------------------------------------

    def uploads_run(self, folder: Path) -> int:
        """The run that web uploads belong to: one per data folder, found again after a restart."""
        with self.connect() as db, db:
            row = db.execute("SELECT id FROM runs WHERE folder = ? AND status = 'web'",
                             (str(folder),)).fetchone()
            if row:
                return int(row[0])
            return int(db.execute(
                "INSERT INTO runs (folder, started, status, jobs, files) VALUES (?, ?, 'web', 1, 0)",
                (str(folder), now())).lastrowid or 0)

    def add(self, path: Path, digest: str, run_id: int, status: str = "queued",
            error: str | None = None) -> tuple[int, bool]:
        """A new document waiting for its check (or refused, with its reason); returns its id and
        whether it is new. The same file uploaded twice is the same document."""
        with self.connect() as db, db:
            row = db.execute("SELECT id FROM documents WHERE path = ?", (str(path),)).fetchone()
            if row:
                return int(row[0]), False
            size = path.stat().st_size if path.exists() else None
            cur = db.execute(
                "INSERT INTO documents (path, sha256, size, status, error, run_id, checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", (str(path), digest, size, status, error, run_id,
                                                  now()))
            db.execute("UPDATE runs SET files = files + 1 WHERE id = ?", (run_id,))
            return int(cur.lastrowid or 0), True

    def set_status(self, doc_id: int, status: str) -> None:
        with self.connect() as db, db:
            db.execute("UPDATE documents SET status = ?, stage = NULL, checked_at = ? WHERE id = ?",
                       (status, now(), doc_id))

    def set_stage(self, doc_id: int, stage: str) -> None:
        with self.connect() as db, db:
            db.execute("UPDATE documents SET status = 'running', stage = ? WHERE id = ?",
                       (stage, doc_id))

    def save(self, doc: Doc, result: FileResult, seconds: float) -> None:
        with self.connect() as db:
            store(db, None, doc.path, doc.sha256, result, seconds)

    def document(self, doc_id: int) -> Doc | None:
        with self.connect() as db:
            row = db.execute(f"SELECT {DOC_COLUMNS} FROM documents d WHERE d.id = ?",
                             (doc_id,)).fetchone()
        return _doc(row) if row else None

    def unfinished(self) -> list[Doc]:
        with self.connect() as db:
            rows = db.execute(f"SELECT {DOC_COLUMNS} FROM documents d WHERE d.status IN"
                              " ('queued', 'running') ORDER BY d.id").fetchall()
        return [_doc(r) for r in rows]

    def result(self, doc: Doc) -> FileResult | None:
        """The whole result; for a database an older `batch` wrote, rebuilt from its rows."""
        with self.connect() as db:
            row = db.execute("SELECT result FROM documents WHERE id = ?", (doc.id,)).fetchone()
            if row and row[0]:
                return FileResult.model_validate_json(row[0])
            if not doc.done:
                return None
            findings = [
                Finding(rule=r["rule"], severity=r["severity"], message=r["message"],
                        stated=r["stated"], expected=r["expected"], unit=r["unit"],
                        section=r["section"] or "",
                        evidence=[Evidence.model_validate(e) for e in json.loads(r["evidence"])])
                for r in db.execute("SELECT * FROM findings WHERE document_id = ? ORDER BY id",
                                    (doc.id,))
            ]
        return FileResult(source=str(doc.path), status="failed" if doc.status == "failed" else "ok",
                          error=doc.error, report_type=doc.report_type or "unknown",
                          title=doc.title or "", pages=doc.pages or 0, findings=findings,
                          summary=Summary(errors=doc.errors or 0, warnings=doc.warnings or 0,
                                          infos=doc.infos or 0))

    # -- folders --------------------------------------------------------------------------------

    def folders(self) -> list[sqlite3.Row]:
        """Every folder a batch run (or the web uploads) checked, with its totals."""
        with self.connect() as db:
            return db.execute(
                "SELECT MIN(r.id) AS id, r.folder, MAX(r.status = 'web') AS web,"
                " COUNT(d.id) AS docs, SUM(d.status = 'failed') AS failed,"
                " SUM(d.status IN ('queued', 'running')) AS waiting,"
                " COALESCE(SUM(d.errors), 0) AS errors, COALESCE(SUM(d.warnings), 0) AS warnings,"
                " MAX(d.checked_at) AS last FROM runs r LEFT JOIN documents d ON d.run_id = r.id"
                " GROUP BY r.folder ORDER BY last DESC").fetchall()

    def folder(self, run_id: int) -> tuple[str, bool] | None:
        with self.connect() as db:
            row = db.execute("SELECT folder, status = 'web' FROM runs WHERE id = ?",
                             (run_id,)).fetchone()
        return (row[0], bool(row[1])) if row else None

    def folder_docs(self, run_id: int, sort: str = "name", desc: bool = False,
                    limit: int | None = None) -> list[Doc]:
        """The reports of the folder `run_id` checked, whichever run checked each last."""
        order = SORTS.get(sort, "d.path")
        with self.connect() as db:
            rows = db.execute(
                f"SELECT {DOC_COLUMNS} FROM documents d JOIN runs r ON r.id = d.run_id"
                " WHERE r.folder = (SELECT folder FROM runs WHERE id = ?)"
                f" ORDER BY {order} {'DESC' if desc else 'ASC'}, d.id DESC"
                + (f" LIMIT {int(limit)}" if limit else ""), (run_id,)).fetchall()
        return [_doc(r) for r in rows]

    # -- verdicts -------------------------------------------------------------------------------

    def verdicts(self, sha256: str) -> dict[str, Verdict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM verdicts WHERE sha256 = ?", (sha256,)).fetchall()
        return {r["finding"]: Verdict(r["verdict"], r["comment"], r["reviewer"], r["at"],
                                      Finding.model_validate_json(r["snapshot"])) for r in rows}

    def set_verdict(self, sha256: str, finding: Finding, verdict: str, comment: str,
                    reviewer: str) -> Verdict:
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        at = now()
        key = finding.digest()
        with self.connect() as db, db:
            db.execute(
                "INSERT INTO verdicts (sha256, finding, verdict, comment, reviewer, at, snapshot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256, finding) DO UPDATE SET"
                " verdict = excluded.verdict, comment = excluded.comment,"
                " reviewer = excluded.reviewer, at = excluded.at, snapshot = excluded.snapshot",
                (sha256, key, verdict, comment, reviewer, at, finding.model_dump_json()))
            db.execute("INSERT INTO verdict_log (sha256, finding, verdict, comment, reviewer, at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (sha256, key, verdict, comment, reviewer, at))
        return Verdict(verdict, comment, reviewer, at, finding)
