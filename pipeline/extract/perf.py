"""绩效 extraction: per project the execution figures, indicators, score and grade.

Two layouts are read: the 项目支出绩效自评表 (one form per project, execution and indicators in
one table) and the 自评分析报告 (项目名称 in the text, then a 预算执行情况 table, a 绩效指标完成情况
table, and the score and grade in a sentence).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from pipeline.extract.mentions import sentence_claims, split_sentences
from pipeline.numbers import half_unit
from schemas.claims import Indicator, PerfProject, PerfSummary, PerfTarget, Sentence, SourceRow
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


# the header words of a 预算执行情况 column → its field (the first that matches; a sub-heading
# such as 预算编制数 under a merged 年初预算数 is matched on its own)
EXEC_HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("budget_target", ("目标申报数",)),
    ("budget_initial", ("预算编制数", "年初预算数", "年初预算")),
    ("budget_full", ("全年预算数", "调整后预算数", "全年预算")),
    ("actual", ("全年执行数", "执行数", "实际支出数")),
    ("balance", ("结余", "结转", "结(转)余", "结（转）余")),
    ("rate", ("执行率",)),
    ("rate_weight", ("分值", "权重")),
    ("rate_score", ("得分",)),
    ("reason", ("偏差原因",)),
)
MONEY_FIELDS = ("budget_target", "budget_initial", "budget_full", "actual", "balance")


def _field_of(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    for name, words in EXEC_HEADERS:
        if any(w in compact for w in words):
            return name
    return None


def _execution_header(rows: list[Row]) -> tuple[int, dict[int, str]] | None:
    """The header of the execution rows: the row naming 执行数 beside 预算数 or 执行率, its
    sub-heading row (目标申报数 | 预算编制数 under 年初预算数) merged in; column index → field."""
    for i, row in enumerate(rows):
        joined = re.sub(r"\s+", "", "".join(_texts(row)))
        if "执行数" not in joined or not ("预算" in joined or "执行率" in joined):
            continue
        columns: dict[int, str] = {}
        last = i
        for j in (i, i + 1):
            if j >= len(rows) or (j > i and _amounts(rows[j])):
                break
            for k, cell in enumerate(rows[j].cells):
                name = _field_of(cell.text) if cell.text else None
                if name is not None:
                    columns[k] = name
            last = j
        if {"budget_full", "actual"} <= set(columns.values()):
            return last, columns
    return None


def _by_header(columns: dict[int, str], row: Row) -> dict[str, Cell]:
    """A row's figures by the field of their column; a figure under a merged heading (no field
    of its own) takes the field of the heading at its left."""
    out: dict[str, Cell] = {}
    for k, cell in enumerate(row.cells):
        if cell.role != "amount" or cell.value is None:
            continue
        left = [c for c in columns if c <= k]
        if not left:
            continue
        name = columns[max(left)]
        if name != "reason":
            out[name] = cell
    return out


def _by_position(rows: list[Row]) -> list[dict[str, Cell]]:
    """No header found: the first row with five or more figures holds, from the right:
    全年预算数, 全年执行数, 结余, 执行率, 得分; before them the 年初预算数 (目标申报数, 预算编制数)."""
    exec_rows = [r for r in rows if len(_amounts(r)) >= 5]
    if not exec_rows:
        return []
    width = len(_amounts(exec_rows[0]))
    fields = ["budget_target", "budget_initial", *FIELDS][-width:]
    out = []
    for row in exec_rows:
        cells = _amounts(row)
        if len(cells) <= width:
            out.append(dict(zip(fields, cells, strict=False)))
    return out


def _holds(read: dict[str, Cell]) -> tuple[int, int]:
    """The execution identities a row's reading makes checkable, and how many hold within
    rounding: 执行率 = 执行数 ÷ 预算数, 结余 = 预算数 − 执行数, 得分 ≤ 分值 (10 where not printed)."""
    def v(name: str) -> float | None:
        c = read.get(name)
        return c.value if c is not None else None

    def tol(name: str) -> float:
        c = read.get(name)
        return half_unit(c.decimals or 0) if c is not None else 0.0

    budget, actual, rate, balance = v("budget_full"), v("actual"), v("rate"), v("balance")
    checked = held = 0
    if None not in (budget, actual, rate) and budget:
        checked += 1
        lo = (actual - tol("actual")) / (budget + tol("budget_full")) * 100  # type: ignore[operator]
        hi = (actual + tol("actual")) / max(budget - tol("budget_full"), 1e-9) * 100  # type: ignore[operator]
        held += lo - tol("rate") - 0.01 <= rate <= hi + tol("rate") + 0.01  # type: ignore[operator]
    if None not in (budget, actual, balance):
        checked += 1
        held += abs(budget - actual - balance) <= (  # type: ignore[operator]
            tol("budget_full") + tol("actual") + tol("balance") + 1e-9)
    score = v("rate_score")
    if score is not None:
        checked += 1
        held += 0 <= score <= (v("rate_weight") or 10) + 1e-9
    return checked, held


def _readings(rows: list[Row]) -> list[tuple[list[tuple[Row, dict[str, Cell]]], list[int]]]:
    """The candidate readings of the execution rows: by the header words above the figures, and
    by position from the right (a text layer can print the figures a column off their headings);
    each as (row, its figures by field) and the columns of the 偏差原因."""
    out = []
    header = _execution_header(rows)
    if header is not None:
        at, columns = header
        body = []
        for row in rows[at + 1:]:
            read = _by_header(columns, row)
            if {"budget_full", "actual"} & set(read) and len(read) >= 2:
                body.append((row, read))
        if body:
            out.append((body, [k for k, name in columns.items() if name == "reason"]))
    positional = [r for r in rows if len(_amounts(r)) >= 5]
    if positional:
        out.append((list(zip(positional, _by_position(rows), strict=False)), []))
    return out


def _read_execution(project: PerfProject, rows: list[Row]) -> None:
    """The execution rows, read the way their own arithmetic confirms. The position of a figure
    says nothing on its own (one template prints 全年执行数 | 结余 | 执行率 | 得分, another
    全年执行数 | 分值 | 执行率 | 得分), nor do the headings always stand over their figures; so the
    reading by header and the reading by position are scored by the identities they make hold
    (执行率 = 执行数 ÷ 预算数, 结余 = 预算数 − 执行数, 得分 ≤ 分值), the header's on a tie. Where none
    holds on any row, the rows are not understood: their figures are left out, and the project
    says why."""
    readings = _readings(rows)
    if not readings:
        project.has_execution_table = False
        return

    def rank(reading: tuple[list[tuple[Row, dict[str, Cell]]], list[int]]) -> tuple[int, int]:
        tallies = [_holds(read) for _, read in reading[0]]
        checked, held = sum(c for c, _ in tallies), sum(h for _, h in tallies)
        return held, held - checked

    body, reason_columns = max(readings, key=rank)  # the first (by header) wins a tie
    held, failed = rank((body, reason_columns))
    if held == 0 and -failed >= 2:
        project.unread = (f"预算执行情况{len(body)}行，按表头和按位置读出的执行率、结余、得分均不成立"
                          "，未核对")
        return
    for field, cell in body[0][1].items():
        if field in PerfProject.model_fields:
            _set(project, field, cell)
    for row, read in body[1:]:
        label = next((c.text for c in row.cells if c.role in ("label", "text")), "")
        values = {f: c.value for f, c in read.items() if f in FIELDS and c.value is not None}
        project.sources.append(SourceRow(label=label, values=values, page=row.page,
                                         bbox=row.bbox))
    reasons: list[str] = []
    for row, _ in body[:3]:
        amounts = [i for i, c in enumerate(row.cells) if c.role == "amount"]
        after = [i for i in reason_columns if i < len(row.cells)] or range(max(amounts) + 1,
                                                                               len(row.cells))
        for i in after:
            cell = row.cells[i]
            t = cell.text.strip()
            if t and cell.role != "amount" and t not in ("无", "/", "-", "—") and t not in reasons:
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


def _read_total(project: PerfProject, row: Row, score_column: int | None) -> None:
    """The 总分 row: the figure under the 得分 heading, else its last figure (a form may print
    the 分值 100 before the score)."""
    nums = [(k, c) for k, c in enumerate(row.cells) if c.role == "amount" and c.value is not None]
    if nums:
        under = [c for k, c in nums if k == score_column]
        _set(project, "total_score", under[0] if under else nums[-1][1])
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
    heading = rows[start - 1].cells
    score_column = next((k for k, c in enumerate(heading) if re.sub(r"\s+", "", c.text) == "得分"),
                        None)
    level1 = level2 = ""
    for row in rows[start:]:
        texts = _texts(row)
        joined = "".join(texts).replace(" ", "")
        if "总分" in joined:
            _read_total(project, row, score_column)
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


BUDGET_ROW_RE = re.compile(r"^(?:实施期|年度)?(?:预算)?(?:项目)?资金总额|^年度预算(?:资金)?(?:总额)?[:：]?$")
# a target text that plans money (计划于2026年使用816.36万元…, 计划使用财政预算资金498万元)
PLANS_RE = re.compile(r"计划|拟|将|预计")


def _target_text(cell: Cell, table: Table) -> list[Sentence]:
    return [Sentence(text=text, section=table.title, part="绩效目标", page=cell.page, bbox=cell.bbox,
                     paragraph=-1, claims=sentence_claims(text))
            for text in split_sentences(cell.text)]


def _target_of_form(table: Table) -> PerfTarget | None:
    """A 绩效目标表: its 项目名称, the amount on its 资金总额 row, its long text cells."""
    name, budget, texts = "", None, []
    for row in table.rows:
        cells = [c for c in row.cells if c.text]
        if cells and cells[0].text.startswith("项目名称") and len(cells) > 1 and not name:
            name = cells[1].text
        amounts = _amounts(row)
        if budget is None and amounts and any(BUDGET_ROW_RE.search(c.text) for c in cells
                                              if c.role == "text"):
            budget = amounts[0]
        texts += [s for c in cells if len(c.text) >= 15 and c.role == "text"
                  for s in _target_text(c, table)]
    if budget is None or not name:
        return None
    return _target(name, table, _scale(table), budget, texts)


def _scale(table: Table) -> float:
    """A table's amounts in 万元: 1e-4 for a table in 元."""
    return 1e-4 if _unit_of(table, "万元") == "元" else 1.0


def _target(name: str, table: Table, scale: float, cell: Cell, texts: list[Sentence]
            ) -> PerfTarget:
    return PerfTarget(name=name, table=table.id, page=cell.page, bbox=cell.bbox,
                      budget=(cell.value or 0.0) * scale, budget_text=cell.text,
                      half_unit=half_unit(cell.decimals or 0) * scale, texts=texts)


def _targets_of_rows(table: Table) -> list[PerfTarget]:
    """Rows of a project table that print a project's amount and, in a cell of their own, the
    target text (广州 部门预算项目支出表: 项目 | 合计 … | 绩效目标)."""
    out = []
    scale = _scale(table)
    targets = {j for j, h in enumerate(table.columns) if "目标" in h}  # 绩效目标, 年度目标
    for row in table.rows:
        cells = [c for c in row.cells if c.text]
        amounts = _amounts(row)
        long = [c for j, c in enumerate(row.cells) if c.text and c.role == "text"
                and len(c.text) >= 20 and (j in targets or PLANS_RE.search(c.text)
                                           and "万元" in c.text)]
        if not amounts or not long or cells[0].role not in ("text", "label") or cells[0] in long:
            continue
        out.append(_target(cells[0].text, table, scale, amounts[0],
                           [s for c in long for s in _target_text(c, table)]))
    return out


def extract_targets(doc: Document) -> list[PerfTarget]:
    out = []
    for t in doc.tables:
        if t.kind == "perf_target":
            target = _target_of_form(t)
            out += [target] if target else []
        elif not t.kind.startswith("perf"):
            out += _targets_of_rows(t)
    return out


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
