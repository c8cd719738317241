"""What a review produces: gold labels `budget-lens eval` reads, an XLSX of the reviewed findings
and the PDF annotated with the findings a reviewer did not reject."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch import append_text, workbook
from pipeline.evaluate import GoldFinding, LabelFile
from pipeline.report import annotate
from pipeline.web.store import Doc, Verdict
from pipeline.web.templating import VERDICT_ZH
from pipeline.wording import SEVERITY_ZH, num, where
from schemas.findings import FileResult, Finding


def _pages(f: Finding) -> list[int]:
    return sorted({e.page for e in f.evidence})


def labels(doc: Doc, verdicts: dict[str, Verdict], source: str | None = None) -> LabelFile:
    """The report's gold labels from its verdicts: 确认 findings are its problems, 误报 ones are
    kept apart as known false alarms, 待定 ones are left out."""
    chosen = sorted(verdicts.values(), key=lambda v: (_pages(v.snapshot)[:1], v.snapshot.rule))
    gold: list[GoldFinding] = []
    rejected: list[dict] = []
    reviewers = sorted({v.reviewer for v in chosen if v.verdict != "pending"})
    for v in chosen:
        f = v.snapshot
        if v.verdict == "confirmed":
            gold.append(GoldFinding(
                id=f"{doc.path.stem}-{len(gold) + 1}", rule=f.rule, severity=f.severity,
                pages=_pages(f), stated=f.stated, note=v.comment or f.message))
        elif v.verdict == "false_alarm":
            rejected.append({"rule": f.rule, "pages": _pages(f), "stated": f.stated,
                             "message": f.message, "note": v.comment, "reviewer": v.reviewer,
                             "at": v.at})
    return LabelFile(source=source or doc.name, labelled_by="Budget Lens 工作台复核（审阅人：" +
                     ("、".join(reviewers) or "无") + "）", report_type=doc.report_type,
                     findings=gold, rejected=rejected)


def labels_json(doc: Doc, verdicts: dict[str, Verdict], source: str | None = None) -> str:
    return labels(doc, verdicts, source).model_dump_json(indent=1, exclude_defaults=True)


def labels_zip(items: Iterable[tuple[Doc, dict[str, Verdict]]]) -> bytes:
    """Each reviewed report's label file beside its PDF: unpacked, a folder that
    `budget-lens eval --labels FOLDER` scores."""
    buf = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc, verdicts in items:
            if not verdicts or not doc.path.exists():
                continue
            # two reports of one name (in subfolders of a batch) get two names
            stem = doc.path.stem if doc.name not in names else f"{doc.path.stem}-{doc.id}"
            names.add(f"{stem}.pdf")
            zf.write(doc.path, f"{stem}.pdf")
            zf.writestr(f"{stem}.json", labels_json(doc, verdicts, source=f"{stem}.pdf"))
    return buf.getvalue()


@dataclass
class Reviewed:
    doc: Doc
    result: FileResult
    verdicts: dict[str, Verdict]


COLUMNS = ["文件", "级别", "规则", "问题", "陈述值", "应为", "位置", "页码", "证据", "复核结论",
           "复核意见", "审阅人", "复核时间"]
WIDTHS = (30, 8, 20, 60, 12, 12, 36, 10, 70, 10, 40, 10, 19)


def review_xlsx(items: Iterable[Reviewed]) -> bytes:
    """Every finding of the reports with its verdict (blank when not yet reviewed)."""
    from openpyxl.utils import get_column_letter

    wb, ws = workbook("复核清单", COLUMNS)
    for item in items:
        for f in item.result.findings:
            v = item.verdicts.get(f.digest())
            append_text(ws, [item.doc.name, SEVERITY_ZH[f.severity], f.rule, f.message,
                       num(f.stated, f.unit), num(f.expected, f.unit), f.section,
                       ",".join(map(str, _pages(f))),
                       "；".join(f"{where(e)}：{e.text}" for e in f.evidence),
                       VERDICT_ZH[v.verdict] if v else "未复核", v.comment if v else "",
                       v.reviewer if v else "", v.at if v else ""])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def annotated_pdf(item: Reviewed, dest: Path) -> int:
    """The report with the evidence of every finding not marked 误报 highlighted; each note
    carries the verdict and the reviewer's comment."""

    def review(f: Finding) -> str | None:
        v = item.verdicts.get(f.digest())
        if v is None:
            return ""
        if v.verdict == "false_alarm":
            return None
        return f" 复核：{VERDICT_ZH[v.verdict]}（{v.reviewer}）{v.comment}".rstrip()

    return annotate(item.result, item.doc.path, dest, review)
