"""绩效 extraction: per project the execution figures, indicators, score and grade.

Two layouts are read: the 项目支出绩效自评表 (one form per project, execution and indicators in
one table) and the 自评分析报告 (项目名称 in the text, then a 预算执行情况 table, a 绩效指标完成情况
table, and the score and grade in a sentence).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from pipeline.extract.mentions import sentence_claims, split_sentences
from schemas.claims import Indicator, PerfProject, PerfSummary, Sentence, SourceRow
from schemas.document import Cell, Document, Row, Table

GRADE_RE = re.compile(r"^[“\"]?(优|良|中|差)[”\"]?$")
FIELDS = ("budget_full", "actual", "balance", "rate", "rate_score")


def _amounts(row: Row) -> list[Cell]:
    return [c for c in row.cells if c.role == "amount" and c.value is not None]


def _texts(row: Row) -> list[str]:
    return [c.text for c in row.cells if c.text]


def _unit_of(table: Table, default: str) -> str:
    for row in table.rows[:6]:
        for cell in row.cells:
            m = re.search(r"[（(](万元|元)[)）]", cell.text)
            if m:
                return m.group(1)
    return table.unit or default


def _set(project: PerfProject, field: str, cell: Cell) -> None:
    setattr(project, field, cell.value)
    project.decimals[field] = cell.decimals or 0
    project.cells[field] = (cell.page, cell.bbox, cell.text)


def _read_execution(project: PerfProject, rows: list[Row]) -> None:
    """The first row with five or more figures holds, from the right: 全年预算数, 全年执行数,
    结余, 执行率, 得分; before them the 年初预算数 (目标申报数, 预算编制数)."""
    exec_rows = [r for r in rows if len(_amounts(r)) >= 5]
    if not exec_rows:
        project.has_execution_table = False
        return
    nums = _amounts(exec_rows[0])
    for field, cell in zip(FIELDS, nums[-5:], strict=True):
        _set(project, field, cell)
    if len(nums) > 5:
        _set(project, "budget_initial", nums[-6])
    fields = ["budget_target", "budget_initial", *FIELDS][-len(nums):]
    for row in exec_rows[1:]:
        cells = _amounts(row)
        if len(cells) > len(nums):
            continue
        # a source row as long as the total row lines up with it; a shorter one leaves out the
        # rate and score at the end
        label = next((c.text for c in row.cells if c.role in ("label", "text")), "")
        values = {f: c.value for f, c in zip(fields, cells, strict=False)
                  if f in FIELDS and c.value is not None}
        project.sources.append(SourceRow(label=label, values=values, page=row.page,
                                         bbox=row.bbox))
    reasons: list[str] = []
    for row in exec_rows[:3]:
        last_amount = max(i for i, c in enumerate(row.cells) if c.role == "amount")
        for cell in row.cells[last_amount + 1 :]:
            t = cell.text.strip()
            if t and t not in ("无", "/", "-") and t not in reasons:
                reasons.append(t)
                if "deviation_reason" not in project.cells:  # where the 偏差原因 is printed
                    project.cells["deviation_reason"] = (cell.page, cell.bbox, cell.text)
    project.deviation_reason = "；".join(reasons)


def _indicator(row: Row, level1: str, level2: str) -> Indicator | None:
    cells = row.cells
    nums = [(i, c) for i, c in enumerate(cells) if c.role == "amount" and not c.percent]
    if not nums:
        return None
    if len(nums) >= 2:
        (iw, w), (i_s, s) = nums[-2], nums[-1]
    else:
        (iw, w), (i_s, s) = nums[-1], (nums[-1][0], None)  # type: ignore[assignment]
    texts = [(i, c.text) for i, c in enumerate(cells) if c.text and i < iw]
    labels = [t for _, t in texts if not re.match(r"^[=≥≤<>＞＜]|^\d", t)]
    name = labels[-1] if labels else (texts[-1][1] if texts else "")
    targets = [t for i, t in texts if re.match(r"^[=≥≤<>＞＜]", t) or t in ("及时", "提高", "提升")]
    after = [c.text for c in cells[i_s + 1 :] if c.text] if s is not None else []
    return Indicator(
        level1=level1,
        level2=level2,
        name=name,
        target=targets[-2] if len(targets) >= 2 else (targets[0] if targets else ""),
        actual=targets[-1] if len(targets) >= 2 else "",
        weight=w.value,
        score=s.value if s is not None else None,
        reason="；".join(after),
        page=row.page,
        bbox=row.bbox,
    )


LEVEL1 = ("产出指标", "效益指标", "满意度指标")


def _indicator_header(rows: list[Row]) -> int | None:
    for i, row in enumerate(rows):
        joined = "".join(_texts(row))
        if "一级指标" in joined and re.search(r"分值|权重", joined):
            return i + 1
    return None


def _read_total(project: PerfProject, row: Row) -> None:
    nums = _amounts(row)
    if nums:
        _set(project, "total_score", nums[0])
    for t in _texts(row):
        m = GRADE_RE.match(t)
        if m:
            project.grade = m.group(1)


def _levels(texts: list[str], level1: str, level2: str) -> tuple[str, str]:
    for t in texts:
        compact = t.replace(" ", "")
        if compact in LEVEL1:
            level1 = compact
        elif compact.endswith("指标") and len(compact) <= 6:
            level2 = compact
    return level1, level2


def _read_indicators(project: PerfProject, rows: list[Row]) -> None:
    start = _indicator_header(rows)
    if start is None:
        return
    level1 = level2 = ""
    for row in rows[start:]:
        texts = _texts(row)
        joined = "".join(texts).replace(" ", "")
        if "总分" in joined:
            _read_total(project, row)
            break
        if re.match(r"^(项目绩效分析|自评结果分析)", joined):
            break
        level1, level2 = _levels(texts, level1, level2)
        ind = _indicator(row, level1, level2)
        if ind is not None and not (row.header and ind.score is None):
            project.indicators.append(ind)


def _table_texts(table: Table) -> list[Sentence]:
    """Long text cells of a self-evaluation form (analysis, notes) as sentences."""
    out = []
    for row in table.rows:
        for cell in row.cells:
            if len(cell.text) < 12 or not re.search(r"\d", cell.text):
                continue
            for text in split_sentences(cell.text):
                out.append(
                    Sentence(
                        text=text,
                        section=table.title,
                        part="第五部分附件",
                        page=cell.page,
                        bbox=cell.bbox,
                        paragraph=-1,
                        claims=sentence_claims(text),
                    )
                )
    return out


def _from_self_eval(table: Table) -> PerfProject:
    name = table.title.replace("项目支出绩效自评表", "")
    for row in table.rows[:3]:
        texts = _texts(row)
        if texts and texts[0].startswith("项目名称") and len(texts) > 1:
            name = texts[1]
    project = PerfProject(
        name=name, unit=_unit_of(table, "万元"), tables=[table.id], pages=list(table.pages)
    )
    rows = table.rows
    goal = next((i for i, r in enumerate(rows) if "年度目标" in "".join(_texts(r))), len(rows))
    _read_execution(project, rows[:goal])
    _read_indicators(project, rows)
    project.texts = _table_texts(table)
    return project


def _pos(page: int, bbox: tuple[float, float, float, float]) -> tuple[int, float]:
    return (page, bbox[1])


SCORE_RE = re.compile(r"总得分\s*([\d.]+)\s*分[，,]?\s*(?:属于|等级为|为)?[“\"]?(优|良|中|差)")


def _from_reports(doc: Document, sentences: list[Sentence]) -> list[PerfProject]:
    anchors = [
        (s, m.group(1).strip())
        for s in sentences
        if (m := re.match(r"^项目名称[:：]\s*(.+)$", s.text))
    ]
    tables = [t for t in doc.tables if t.kind in ("perf_execution", "perf_indicators")]
    # sentences in reading order, found by bisection for each project (not scanned again)
    ordered = sorted(sentences, key=lambda s: _pos(s.page, s.bbox))
    places = [_pos(s.page, s.bbox) for s in ordered]
    projects = []
    for i, (anchor, name) in enumerate(anchors):
        lo = _pos(anchor.page, anchor.bbox)
        hi = _pos(*(anchors[i + 1][0].page, anchors[i + 1][0].bbox)) if i + 1 < len(anchors) else (
            10**6, 0.0)
        mine = [t for t in tables if lo <= _pos(t.rows[0].page, t.rows[0].bbox) < hi]
        if not mine:
            continue
        execution = [t for t in mine if t.kind == "perf_execution"]
        unit = _unit_of(execution[0], "元") if execution else "元"
        project = PerfProject(
            name=name,
            unit=unit,
            tables=[t.id for t in mine],
            pages=sorted({p for t in mine for p in t.pages}),
        )
        if execution:
            _read_execution(project, execution[0].rows)
        else:
            project.has_execution_table = False
        for t in mine:
            if t.kind == "perf_indicators":
                _read_indicators(project, t.rows)
        project.texts = ordered[bisect_left(places, lo):bisect_left(places, hi)]
        for s in project.texts:
            m = SCORE_RE.search(s.text.replace("\u201c", "“"))
            if m:
                project.total_score = float(m.group(1))
                project.decimals["total_score"] = len(m.group(1).split(".")[1]) if "." in m.group(
                    1) else 0
                project.grade = m.group(2)
                project.score_sentence = s
                break
        projects.append(project)
    return projects


def extract_projects(doc: Document, sentences: list[Sentence]) -> list[PerfProject]:
    projects = [_from_self_eval(t) for t in doc.tables if t.kind == "perf_self_eval"]
    return projects + _from_reports(doc, sentences)


SUMMARY_COUNT_RE = re.compile(r"(?:自评个数|涉及二级项目|二级项目)(\d+)个")
SUMMARY_AMOUNT_RE = re.compile(r"(?:涉及资金|资金)([\d,]+(?:\.\d+)?)万元")
GRADES_RE = re.compile(r"(\d+)个项目自评等级为[“\"]?(优|良|中|差)")


def extract_summary(sentences: list[Sentence]) -> PerfSummary | None:
    by_par: dict[int, list[Sentence]] = {}
    for s in sentences:
        by_par.setdefault(s.paragraph, []).append(s)
    for sents in by_par.values():
        text = "".join(s.text for s in sents)
        if "自评" not in text or not GRADES_RE.search(text):
            continue
        first = sents[0]
        summary = PerfSummary(
            sentence=Sentence(
                text=text,
                section=first.section,
                part=first.part,
                page=first.page,
                bbox=first.bbox,
                paragraph=first.paragraph,
            )
        )
        m = SUMMARY_COUNT_RE.search(text)
        if m:
            summary.count = int(m.group(1))
        m = SUMMARY_AMOUNT_RE.search(text)
        if m:
            summary.amount = float(m.group(1).replace(",", ""))
            summary.amount_text = m.group(0)
        for n, grade in GRADES_RE.findall(text):
            summary.grades[grade] = summary.grades.get(grade, 0) + int(n)
        return summary
    return None
