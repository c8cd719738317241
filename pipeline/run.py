"""The pipeline: PDF → document → claims → findings, one file at a time, errors kept per file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.checks import run_checks
from pipeline.extract import extract
from pipeline.pdf import PdfError
from pipeline.segment import segment
from schemas.claims import Claims
from schemas.document import Document
from schemas.findings import Coverage, FileResult, Summary, TableSeen

log = logging.getLogger(__name__)

Extractor = Callable[[Document], Claims]


@dataclass
class CheckRun:
    result: FileResult
    doc: Document | None = None
    claims: Claims | None = None


def summarise(doc: Document, claims: Claims, result: FileResult) -> Summary:
    sev = [f.severity for f in result.findings]
    return Summary(
        errors=sev.count("error"),
        warnings=sev.count("warning"),
        infos=sev.count("info"),
        tables=len(doc.tables),
        sections=len(doc.sections),
        claims=sum(len(s.claims) for s in claims.sentences),
        projects=len(claims.projects),
    )


def coverage(doc: Document, partial: Coverage) -> Coverage:
    """Tables recognised and not, beside what the checks recorded (figures, rules not run)."""
    from pipeline.catalog import KIND_NAMES
    from pipeline.facts import table_facts

    seen, unknown = [], []
    for t in doc.tables:
        if t.kind.startswith("perf"):
            continue
        item = TableSeen(id=t.id, kind=t.kind, name=KIND_NAMES.get(t.kind, t.title) if
                         t.kind != "unknown" else (t.title or "未识别表格"), pages=t.pages,
                         facts=len(table_facts(t)))
        (unknown if t.kind == "unknown" else seen).append(item)
    return partial.model_copy(update={"tables": seen, "unrecognised": unknown,
                                      "facts": sum(x.facts for x in seen + unknown)})


def check_file(path: Path, extractor: Extractor | None = None) -> CheckRun:
    """Check one report. An unreadable file becomes a failed result, never an exception."""
    try:
        doc = segment(path)
    except PdfError as exc:
        return CheckRun(FileResult(source=str(path), status="failed", error=str(exc)))
    claims = (extractor or extract)(doc)
    result = FileResult(
        source=str(path),
        report_type=doc.report_type,
        title=doc.title,
        pages=doc.page_count,
        findings=run_checks(doc, claims),
    )
    result.summary = summarise(doc, claims, result)
    result.coverage = coverage(doc, result.coverage)
    return CheckRun(result, doc, claims)
