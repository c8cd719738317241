"""The reviewer workbench: FastAPI routes over the store, the background checker and the
templates.

Safety: every file the server reads or writes is under its data folder or named by its own
database (never by a path a request sends); uploads are PDFs below a size limit; every POST
carries the CSRF token of its page (double-submit cookie, SameSite=Strict) and, when the browser
sends an Origin, comes from this server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.segment.pdf import PdfError, not_a_pdf, page_sizes, render_page
from pipeline.web import exports
from pipeline.web.jobs import Checker
from pipeline.web.store import UPLOADS, VERDICTS, Doc, Store
from pipeline.web.templating import STATIC, VERDICT_ZH, reason_zh, render

COOKIE = "budget_lens_csrf"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
UNSAFE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


class Settings:
    def __init__(self, data: Path, db: Path | None = None, workers: int = 1,
                 max_upload_mb: float = 50, host: str = "127.0.0.1") -> None:
        self.data = data.resolve()
        self.db = (db or self.data / "results.sqlite").resolve()
        self.uploads = self.data / "uploads"
        self.exports = self.data / "exports"
        self.workers = workers
        self.max_upload_mb = max_upload_mb
        # served on this machine only, pages answer only to its own names: a page of another
        # site cannot reach them by pointing its own name at 127.0.0.1 (DNS rebinding)
        self.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"] if host in LOCAL_HOSTS else ["*"]


# -- request limits and CSRF -------------------------------------------------------------------


class _TooLarge(Exception):
    pass


def too_large(max_mb: float) -> str:
    return f"文件过大：上传上限为 {max_mb:g} MB"


class UploadLimit:
    """Refuses a request body over the limit: at once when its Content-Length says so, or as soon
    as more bytes than that arrive."""

    def __init__(self, app: ASGIApp, max_mb: float) -> None:
        self.app, self.max_mb, self.max_bytes = app, max_mb, int(max_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"").decode() or "0"
        if not length.isdigit() or int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                exceeded = True
                raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # the body parser answers a cut-off body with its own 400: the answer is 413
                started = True
                await self._refuse(scope, receive, send)
                return
            if exceeded:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"detail": too_large(self.max_mb)}, status_code=413)(
            scope, receive, send)


SECURITY_HEADERS = [
    # the pages load only this server's own script, styles and page images; no frames
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
     b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


async def csrf_protect(request: Request) -> None:
    cookie = request.cookies.get(COOKIE, "")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(403, "请求未通过跨站校验：请刷新页面后重试")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "请求来自其他网站，已拒绝")


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    token = request.cookies.get(COOKIE) or secrets.token_urlsafe(32)
    response = HTMLResponse(render(template, csrf=token, **context))
    if request.cookies.get(COOKIE) != token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
    return response


def _download(content: bytes, name: str, media: str) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def safe_name(name: str | None) -> str:
    """The file name a browser sent, as a plain name in one folder (no path, no control
    characters)."""
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = UNSAFE_NAME.sub("_", raw).strip(" .")
    if raw.lower().endswith(".pdf") and not base.lower().endswith(".pdf"):
        base = (base[:-3].strip(" .") if base.lower().endswith("pdf") else base) or "report"
        base += ".pdf"  # ...pdf: the dots were the name; the extension stays
    return base[-120:] or "report.pdf"


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


# -- the application -------------------------------------------------------------------------


@dataclass
class Workbench:
    """What the routes share: settings, the store, the web uploads' run and the checker."""

    settings: Settings
    store: Store
    uploads_run: int
    checker: Checker | None = None


def bench(request: Request) -> Workbench:
    return request.app.state.bench  # type: ignore[no-any-return]


Bench = Annotated[Workbench, Depends(bench)]
router = APIRouter()


def create_app(settings: Settings) -> FastAPI:
    settings.uploads.mkdir(parents=True, exist_ok=True)
    settings.exports.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db)
    wb = Workbench(settings, store, store.uploads_run(settings.uploads))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        wb.checker = Checker(store, settings.workers, wb.uploads_run)
        wb.checker.resume()
        yield
        wb.checker.shutdown()

    app = FastAPI(title="Budget Lens 工作台", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.bench = wb
    app.add_middleware(UploadLimit, max_mb=settings.max_upload_mb)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.include_router(router)
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc.__cause__, _TooLarge):  # a body without Content-Length, cut off
        exc = HTTPException(413, too_large(bench(request).settings.max_upload_mb))
    if _wants_json(request) or request.method != "GET":
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    return HTMLResponse(render("error.html", message=exc.detail, csrf=""),
                        status_code=exc.status_code)


MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id names nothing


def get_doc(wb: Workbench, doc_id: int) -> Doc:
    doc = wb.store.document(doc_id) if 0 < doc_id <= MAX_ID else None
    if doc is None:
        raise HTTPException(404, "没有这份报告")
    return doc


def reviewed(wb: Workbench, doc: Doc) -> exports.Reviewed:
    result = wb.store.result(doc)
    if result is None or result.status != "ok":
        raise HTTPException(409, "这份报告尚未检查完成或检查失败")
    return exports.Reviewed(doc, result, wb.store.verdicts(doc.sha256))


def submit(wb: Workbench, doc: Doc) -> None:
    if wb.checker is None:
        raise HTTPException(503, "服务器正在启动或停止，请稍后重试")
    wb.checker.submit(doc)


# -- start page and uploads -------------------------------------------------------------------


def uploads_context(wb: Workbench, ids: str = "") -> dict[str, Any]:
    """The uploads list; `ids`, the files this browser just sent, give the progress bar."""
    docs = wb.store.folder_docs(wb.uploads_run, sort="checked", desc=True, limit=200)
    wanted = {int(x) for x in ids.split(",") if x.isdigit()}
    batch = [d for d in docs if d.id in wanted]
    return {"uploads": docs, "batch_total": len(batch), "batch_done": sum(d.done for d in batch),
            "waiting": any(not d.done for d in docs)}


@router.get("/", response_class=HTMLResponse)
def index(request: Request, wb: Bench) -> HTMLResponse:
    folders = [f for f in wb.store.folders() if not f["web"]]
    return _page(request, "index.html", folders=folders,
                 max_mb=wb.settings.max_upload_mb, **uploads_context(wb))


@router.get("/uploads", response_class=HTMLResponse)
def uploads(request: Request, wb: Bench, ids: str = "") -> HTMLResponse:
    return _page(request, "_uploads.html", **uploads_context(wb, ids))


def accept(wb: Workbench, name: str, data: bytes) -> Doc:
    """Keep an uploaded file in the data folder and queue its check; a file that is not a PDF is
    recorded as failed with its reason (the pipeline's, as `batch` records it), and not kept."""
    digest = hashlib.sha256(data).hexdigest()
    reason = not_a_pdf(data[:1024]) or (None if name.lower().endswith(".pdf") else "not a PDF file")
    folder = wb.settings.uploads / ("refused" if reason else "") / digest[:16]
    path = folder / name
    if reason is None and not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    doc_id, new = wb.store.add(path, digest, wb.uploads_run,
                               status="failed" if reason else "queued", error=reason)
    doc = get_doc(wb, doc_id)
    if new and reason is None:
        submit(wb, doc)
    return doc


@router.post("/upload", dependencies=[Depends(csrf_protect)])
async def upload(wb: Bench, files: Annotated[list[UploadFile], File()]) -> JSONResponse:
    out = []
    for uf in files:
        doc = accept(wb, safe_name(uf.filename), await uf.read())
        out.append({"id": doc.id, "name": doc.name, "status": doc.status,
                    "error": doc.error and reason_zh(doc.error, str(doc.path))})
    return JSONResponse({"files": out})


# -- folders ----------------------------------------------------------------------------------


def get_folder(wb: Workbench, run_id: int) -> tuple[str, bool]:
    found = wb.store.folder(run_id) if 0 < run_id <= MAX_ID else None
    if found is None:
        raise HTTPException(404, "没有这个文件夹的检查记录")
    return found


@router.get("/folder/{run_id}", response_class=HTMLResponse)
def folder(request: Request, wb: Bench, run_id: int, sort: str = "name", order: str = "asc",
           page: int = 1, per_page: int = 100) -> HTMLResponse:
    found = get_folder(wb, run_id)
    docs = wb.store.folder_docs(run_id, sort, order == "desc")
    per_page = min(max(per_page, 1), 500)
    pages = max(1, -(-len(docs) // per_page))
    page = min(max(page, 1), pages)
    return _page(request, "folder.html", run_id=run_id, folder=found[0],
                 title=UPLOADS if found[1] else found[0], sort=sort, order=order,
                 docs=docs[(page - 1) * per_page: page * per_page], count=len(docs),
                 page=page, pages=pages, per_page=per_page,
                 failed=[d for d in docs if d.status == "failed"],
                 totals={k: sum(getattr(d, k) or 0 for d in docs)
                         for k in ("errors", "warnings", "infos")})


@router.get("/folder/{run_id}/labels.zip")
def folder_labels(wb: Bench, run_id: int) -> Response:
    get_folder(wb, run_id)
    docs = wb.store.folder_docs(run_id)
    content = exports.labels_zip((d, wb.store.verdicts(d.sha256)) for d in docs if d.reviewed)
    return _download(content, f"labels-{run_id}.zip", "application/zip")


@router.get("/folder/{run_id}/review.xlsx")
def folder_xlsx(wb: Bench, run_id: int) -> Response:
    get_folder(wb, run_id)
    items = [reviewed(wb, d) for d in wb.store.folder_docs(run_id) if d.status == "ok"]
    return _download(exports.review_xlsx(items), f"review-{run_id}.xlsx", XLSX)


# -- one report -------------------------------------------------------------------------------


@router.get("/doc/{doc_id}", response_class=HTMLResponse)
def report(request: Request, wb: Bench, doc_id: int) -> HTMLResponse:
    doc = get_doc(wb, doc_id)
    result = wb.store.result(doc)
    verdicts = wb.store.verdicts(doc.sha256)
    sizes: list[tuple[float, float]] = []
    findings = result.findings if result else []
    if result is not None and result.status == "ok":
        try:
            sizes = page_sizes(doc.path)
        except PdfError:
            sizes = []
    keys = {f.digest() for f in findings}
    return _page(request, "report.html", doc=doc, result=result, verdicts=verdicts, sizes=sizes,
                 sections=list(dict.fromkeys(f.section or "（全文）" for f in findings)),
                 stale=[v for k, v in verdicts.items() if k not in keys])


@router.get("/doc/{doc_id}/status")
def status(wb: Bench, doc_id: int) -> dict[str, Any]:
    doc = get_doc(wb, doc_id)
    return {"status": doc.status, "error": doc.error, "done": doc.done,
            "progress": render("_progress.html", d=doc)}


@router.get("/doc/{doc_id}/page/{number}.png")
def page(wb: Bench, doc_id: int, number: int) -> Response:
    doc = get_doc(wb, doc_id)
    try:
        png = _render(str(doc.path), doc.sha256, number)
    except PdfError:
        raise HTTPException(404, "没有这一页") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.post("/doc/{doc_id}/verdict", dependencies=[Depends(csrf_protect)])
def verdict(request: Request, wb: Bench, doc_id: int, key: Annotated[str, Form()],
            verdict: Annotated[str, Form()], reviewer: Annotated[str, Form()] = "",
            comment: Annotated[str, Form()] = "") -> Response:
    doc = get_doc(wb, doc_id)
    result = wb.store.result(doc)
    finding = next((f for f in (result.findings if result else []) if f.digest() == key), None)
    if finding is None:
        raise HTTPException(404, "这条问题不在最新的检查结果中：请刷新页面")
    if verdict not in VERDICTS:
        raise HTTPException(400, "复核结论只能是 确认、误报 或 待定")
    reviewer = reviewer.strip()[:40]
    if not reviewer:
        raise HTTPException(400, "请先在页面右上角填写审阅人姓名")
    saved = wb.store.set_verdict(doc.sha256, finding, verdict, comment.strip()[:500], reviewer)
    if _wants_json(request):
        return JSONResponse({"verdict": saved.verdict, "label": VERDICT_ZH[saved.verdict],
                             "reviewer": saved.reviewer, "at": saved.at, "comment": saved.comment})
    return RedirectResponse(f"/doc/{doc_id}#f-{key}", status_code=303)


@router.post("/doc/{doc_id}/recheck", dependencies=[Depends(csrf_protect)])
def recheck(wb: Bench, doc_id: int) -> Response:
    doc = get_doc(wb, doc_id)
    if not doc.path.exists():
        raise HTTPException(409, "报告文件已不在原处，无法重新检查")
    submit(wb, doc)
    return RedirectResponse(f"/doc/{doc_id}", status_code=303)


@router.get("/doc/{doc_id}/labels.json")
def doc_labels(wb: Bench, doc_id: int) -> Response:
    doc = get_doc(wb, doc_id)
    text = exports.labels_json(doc, wb.store.verdicts(doc.sha256))
    return _download(text.encode("utf-8"), f"{doc.path.stem}.json", "application/json")


@router.get("/doc/{doc_id}/review.xlsx")
def doc_xlsx(wb: Bench, doc_id: int) -> Response:
    item = reviewed(wb, get_doc(wb, doc_id))
    return _download(exports.review_xlsx([item]), f"{item.doc.path.stem}-复核.xlsx", XLSX)


@router.get("/doc/{doc_id}/annotated.pdf")
def doc_pdf(wb: Bench, doc_id: int) -> FileResponse:
    item = reviewed(wb, get_doc(wb, doc_id))
    dest = wb.settings.exports / str(doc_id) / f"{item.doc.path.stem}-批注.pdf"
    dest.parent.mkdir(parents=True, exist_ok=True)
    exports.annotated_pdf(item, dest)
    return FileResponse(dest, media_type="application/pdf", filename=dest.name)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@lru_cache(maxsize=64)
def _render(path: str, digest: str, number: int) -> bytes:  # digest: a changed file is redrawn
    return render_page(Path(path), number)
