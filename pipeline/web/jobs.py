"""Checks in the background: uploads go to a pool of worker processes (a check is CPU work and
must not hold up the server); each result is written to the database when it arrives.

A worker marks its document `running` when it starts, so the pages show queued, running and
done files apart. Documents left queued or running by a server that stopped are checked again
when the next one starts.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipeline.batch import _worker_start, check_one, open_db, pair_halves
from pipeline.web.store import Doc, Store
from schemas.findings import FileResult

log = logging.getLogger(__name__)


def check_in_worker(db_path: str, doc_id: int, path: str) -> tuple[dict, float]:
    """Worker: `batch`'s check of one file, recording the stage it is at."""
    store = Store(Path(db_path))
    _, data, seconds = check_one(path, progress=lambda stage: store.set_stage(doc_id, stage))
    return data, seconds


def pair_in_worker(db_path: str, paths: list[str]) -> list[tuple[str, str, str]]:
    """Worker: the uploads that are the two halves of one report (情况说明 and 报表 sent as two
    files) checked again as one, as `batch` pairs the files of a folder."""
    db = open_db(Path(db_path))
    try:
        done = pair_halves(db, None, [Path(p) for p in paths], {}, one_folder=True)
        db.commit()
    finally:
        db.close()
    return [(str(a), str(b), how) for a, b, how in done]


class Checker:
    def __init__(self, store: Store, workers: int = 1, uploads_run: int | None = None) -> None:
        self.store = store
        self.uploads_run = uploads_run  # whose finished files may be halves of one report
        # spawn, not fork: the server process runs threads, which a fork would copy mid-step
        self.pool = ProcessPoolExecutor(max_workers=max(1, workers),
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_start)

    def submit(self, doc: Doc) -> None:
        self.store.set_status(doc.id, "queued")
        fut = self.pool.submit(check_in_worker, str(self.store.db_path), doc.id, str(doc.path))
        fut.add_done_callback(lambda f: self._done(doc, f))

    def _done(self, doc: Doc, fut: Future) -> None:
        if fut.cancelled():
            return  # the server is stopping: the next one checks it again
        try:
            data, seconds = fut.result()
            result = FileResult.model_validate(data)
        except Exception as exc:  # a worker that died (killed, out of memory)
            result, seconds = FileResult(source=str(doc.path), status="failed",
                                         error=f"检查进程异常结束：{exc!r}"), 0.0
        try:
            self.store.save(doc, result, seconds)
        except Exception:  # the file removed meanwhile, a database error: keep the server up
            log.exception("%s: the result could not be stored", doc.path)
            self.store.set_status(doc.id, "failed")
            return
        if result.status == "ok" and doc.run_id == self.uploads_run:
            self.pair_uploads()

    def pair_uploads(self) -> None:
        """When every upload is checked, the halves of one report among them are checked again
        as one (in a worker: it reads both files)."""
        docs = self.store.folder_docs(self.uploads_run) if self.uploads_run is not None else []
        if len(docs) < 2 or any(not d.done for d in docs):
            return
        paths = [str(d.path) for d in docs if d.status == "ok"]
        fut = self.pool.submit(pair_in_worker, str(self.store.db_path), paths)
        fut.add_done_callback(self._paired)

    def _paired(self, fut: Future) -> None:
        if fut.cancelled():
            return
        try:
            for narrative, tables, how in fut.result():
                log.info("%s + %s checked as one report (%s)", narrative, tables, how)
        except Exception:  # a pairing that failed leaves each half checked alone
            log.exception("pairing the uploads failed")

    def resume(self) -> int:
        """Check again what a stopped server left unfinished."""
        docs = self.store.unfinished()
        for doc in docs:
            self.submit(doc)
        return len(docs)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
