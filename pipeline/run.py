"""The pipeline: PDF → document → claims → findings, one file at a time, errors kept per file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.checks import check_document
from pipeline.extract import extract
from pipeline.segment import segment
from pipeline.segment.combine import combine, local_page
from pipeline.segment.pdf import PdfError
from schemas.claims import Claims
from schemas.document import Document
from schemas.findings import Coverage, FileResult, Summary, TableSeen, TableUnread

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
    from pipeline.facts import table_facts
    from pipeline.segment.catalog import KIND_NAMES

    seen: list[TableSeen] = []
    unknown: list[TableSeen] = []
    perf = [TableSeen(id=t.id, kind=t.kind, name=KIND_NAMES[t.kind], pages=t.pages, facts=0)
            for t in doc.tables if t.kind.startswith("perf")]
    counted = partial._facts_per_table or {}  # as the checks read them, else read here
    for t in doc.tables:
        if t.kind.startswith("perf"):
            continue
        n = counted[t.id] if t.id in counted else len(table_facts(t))
        item = TableSeen(id=t.id, kind=t.kind, name=KIND_NAMES.get(t.kind, t.title) if
                         t.kind != "unknown" else (t.title or "未识别表格"), pages=t.pages,
                         facts=n)
        (unknown if t.kind == "unknown" else seen).append(item)
    kinds = {t.kind for t in doc.tables}
    facts = sum(x.facts for x in seen + unknown)
    not_run = [f"{name}：{reason}" for name, need, reason in RULE_GROUPS if not need(kinds, doc)]
    warnings = list(partial.warnings)
    if not seen:
        warnings.append("未识别到任何标准表格：表内、表间及说明与表格的核对均未进行，"
                        "“未发现问题”不代表报告无误。")
    return partial.model_copy(update={"tables": seen, "unrecognised": unknown, "facts": facts,
                                      "perf_tables": perf,
                                      "not_applicable": not_run, "warnings": warnings})


def _has(*kinds: str):
    return lambda present, doc: any(k in present for k in kinds)


# rule groups and what they need; a group whose tables are missing is reported, never zero-filled
RULE_GROUPS = (
    ("收支总表平衡（tbl.fa01/fa04）", _has("fa01", "fa04", "bu01", "bu04"), "报告中未识别到收支总表"),
    ("科目层级与行合计（tbl.hierarchy/row_sum）",
     _has("fa02", "fa03", "fa05", "bu02", "bu03", "bu05", "bu14", "fa11"), "未识别到按科目列示的表格"),
    ("表间一致（x.*）", lambda present, doc: len({k for k in present if k != "unknown"}) >= 2,
     "识别到的标准表格不足两张"),
    ("“三公”经费（tbl.fa09）", _has("fa09", "bu10"), "未识别到“三公”经费表"),
    ("说明与表格核对（nar.table_figure）", lambda present, doc: bool(present - {"unknown"}),
     "未识别到标准表格（说明中的金额只能相互核对）"),
    ("绩效自评（perf.*）", lambda present, doc: any(k.startswith("perf_") for k in present),
     "报告未附绩效自评表"),
)


def _localise(doc: Document, result: FileResult) -> None:
    """Pages of the combined report given back to their files, in evidence and coverage."""
    for f in result.findings:
        for e in f.evidence:
            e.file, e.page = local_page(doc, e.page)
    c = result.coverage
    seen: list[TableSeen | TableUnread] = [*c.tables, *c.unrecognised, *c.not_understood]
    for t in seen:
        t.file, first = local_page(doc, t.pages[0])
        t.pages = [p - t.pages[0] + first for p in t.pages]


STAGES = {"segment": "读取页面、表格与章节", "extract": "提取说明与绩效材料中的数字",
          "check": "核对说明与表格"}


def check_file(path: Path, extractor: Extractor | None = None,
               progress: Callable[[str], None] | None = None) -> CheckRun:
    """Check one report. An unreadable file becomes a failed result, never an exception.
    `progress` is told each stage (a key of STAGES) as it starts."""
    return check_files([path], extractor, progress)


def check_files(paths: list[Path], extractor: Extractor | None = None,
                progress: Callable[[str], None] | None = None,
                documents: dict[Path, Document] | None = None) -> CheckRun:
    """Check one report published as one or several files (情况说明 and 报表 apart), read as one
    document; evidence names its file and the page in it. A file that cannot be read fails the
    report, with its reason. `documents`: files already segmented (a pair found by reading its
    halves is checked from that reading)."""
    step = progress or (lambda stage: None)
    step("segment")
    source = str(paths[0]) if len(paths) == 1 else " + ".join(str(p) for p in paths)
    docs = []
    for path in paths:
        try:
            docs.append(documents[path] if documents and path in documents else segment(path))
        except PdfError as exc:
            error = str(exc) if len(paths) == 1 else f"{path.name}: {exc}"
            return CheckRun(FileResult(source=source, status="failed", error=error))
    doc = combine(docs)
    step("extract")
    claims = (extractor or extract)(doc)
    step("check")
    findings, checked = check_document(doc, claims)
    result = FileResult(
        source=source,
        parts=[str(p) for p in paths] if len(paths) > 1 else [],
        report_type=doc.report_type,
        title=doc.title,
        pages=doc.page_count,
        findings=findings,
    )
    result.summary = summarise(doc, claims, result)
    result.coverage = coverage(doc, checked)
    if doc.parts:
        _localise(doc, result)
    if claims.llm is not None:
        result.llm = list(claims.llm.warnings)
    return CheckRun(result, doc, claims)
