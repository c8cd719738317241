"""Tables become facts: one vocabulary between every template's layout and the checks.

Template differences are absorbed here and nowhere else: a header path becomes a canonical
measure (合计 / 小计 / 本年收入合计 are all 合计; 财政拨款收/入 wrapped is 财政拨款), 类 | 款 | 项 code
columns are already one code (tables.py), a row holding several label/value groups (收支总表,
人员经费 | 公用经费 panels) gives one fact per group, and 元 become 万元 with their rounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.numbers import half_unit, norm
from schemas.document import Cell, Document, Row, Table
from schemas.facts import Fact

# (pattern on the compact header, canonical measure); first match wins, most specific first
MEASURES: tuple[tuple[str, str], ...] = (
    (r"^其中", "其中"),
    (r"上年结转|上年结余|年初结转|结转资金|上年财政拨款资金结转", "上年结转"),
    (r"结转下年|年末结转", "结转下年"),
    (r"人员经费", "人员经费"),
    (r"公用经费", "公用经费"),
    (r"基本支出", "基本支出"),
    (r"项目支出", "项目支出"),
    (r"预留机动|机动经费", "预留机动经费"),
    (r"上缴上级", "上缴上级支出"),
    (r"对附属单位补助|补助支出", "对附属单位补助支出"),
    (r"经营支出", "经营支出"),
    (r"一般公共预算", "一般公共预算"),
    (r"政府性基金", "政府性基金"),
    (r"国有资本经营", "国有资本经营"),
    (r"财政专户", "财政专户"),
    (r"单位资金", "单位资金"),
    (r"上级补助", "上级补助收入"),
    (r"附属单位上缴", "附属单位上缴收入"),
    (r"事业单位经营收入|^经营收入", "经营收入"),
    (r"事业收", "事业收入"),
    (r"其他收入|其他资金", "其他收入"),
    (r"非财政?拨款结余|非财政拨款结转", "使用非财政拨款结余"),
    (r"财政拨款", "财政拨款"),
    (r"年初预算", "年初预算"),
    (r"调整(后)?预算|全年预算", "调整预算"),
    (r"(合计|小计|总计)$", "合计"),
    (r"决算数?$", "决算数"),
    (r"预算数?$|执行数$", "预算数"),
    (r"金额|数额", "金额"),
)
CANONICAL = frozenset(m for _, m in MEASURES)
PRIOR_RE = re.compile(r"上年(?!结转|结余|财政拨款资金结转)|\d{4}年(执行|预算)数")
TOTAL_MEASURES = ("合计", "金额", "预算数", "决算数")
CHANGE_HEAD_RE = re.compile(r"^(?:增减|变化|变动|增长|比上年|较上年)")
NUMBERING_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|\d{1,2}[、.．]|[（(][一二三四五六七八九十\d]+[)）])")
LEADING_CODE_RE = re.compile(r"^[\[［【]\s*(\d{3,7})\s*[\]］】](.+)$")
# 30101-基本工资 (北京 报表); after the wrapped end of the row above's name when the ruling put it
# in this row's cell (缴费支出2080506-机关事业单位职业年金)
CODE_NAME_RE = re.compile(r"^[^\d]{0,12}?(\d{3,7})[-－—–](\D.*)$")
LEVEL_RE = re.compile(r"[（(](类|款|项)[)）]$")


@lru_cache(maxsize=4096)
def canonical_measure(header: str) -> tuple[str, bool]:
    """The canonical measure of a printed header path, and whether it is a 其中 column (a pure
    function of the header: tables repeat their headers on every row, so it is cached)."""
    parts = [p for p in header.split("/") if p]
    leaf = re.sub(r"\s+", "", parts[-1]) if parts else ""
    if leaf.startswith("其中"):
        return "其中" + leaf[2:].lstrip("：:"), True
    compact = re.sub(r"\s+|/", "", header)
    for text in (leaf, compact):
        for pattern, measure in MEASURES:
            if re.search(pattern, text):
                if measure in ("合计", "金额") and text is leaf and compact != leaf:
                    specific = _specific(compact[: -len(leaf)])
                    if specific:
                        return specific, False
                return measure, False
    return compact or "金额", False


def _specific(parent: str) -> str | None:
    """A parent header naming a part (财政拨款 / 金额) is that part's amount."""
    for pattern, measure in MEASURES:
        if measure in ("合计", "金额", "预算数", "决算数", "其中"):
            continue
        if re.search(pattern, parent):
            return measure
    return None


def subject_name(text: str) -> str:
    """A row label without spaces, leading numbering, quotes or a trailing （类）/（款）/（项）."""
    t = re.sub(r"\s+", "", text).replace("“", "").replace("”", "").replace('"', "")
    t = NUMBERING_RE.sub("", t)
    t = LEVEL_RE.sub("", t)
    return t.replace("（", "(").replace("）", ")")


def side_of(header: str, label: str) -> str:
    top = re.sub(r"\s+", "", header).split("/")[0]
    if re.search(r"收入$|^收入", top) or (not top.endswith("支出") and label.endswith("收入")):
        return "income"
    if re.search(r"支出$|^支出", top) or label.endswith("支出"):
        return "expense"
    return ""


def _value_column(header: str) -> bool:
    """False for columns that hold labels, codes or line numbers, never amounts."""
    leaf = header.split("/")[-1] if header else ""
    return not re.search(r"行次|代码|编码|名称|^项目$|^科目$|^[类款项]$|备注|说明", leaf)


def _total_beside(label: str, header: str) -> bool:
    """A total row printed across the name column (公用经费合计 | | 21.97 under 科目名称, the label's
    merged cell): its figure is the row's, whatever the column's heading."""
    leaf = header.split("/")[-1] if header else ""
    return bool(re.search(r"名称|^项目$|^科目$", leaf)) and bool(
        re.search(r"(合计|总计)$", re.sub(r"\s+", "", label)))


@dataclass
class _Group:
    code: str | None
    label: str
    cells: list[tuple[int, Cell]]
    second: bool = False  # a second code and name came before any figure (another classification)


class _RowReader:
    """Walks one row's cells into label/value groups: a code or label cell starts a group,
    amounts follow it."""

    def __init__(self, figures_only: bool) -> None:
        self.figures_only = figures_only
        self.groups: list[_Group] = []
        self.current: _Group | None = None

    def close(self) -> None:
        if self.current is not None:
            self.groups.append(self.current)
        self.current = None

    def code(self, cell: Cell) -> None:
        self._code(re.sub(r"\s+", "", cell.text))

    def _code(self, code: str) -> None:
        cur = self.current
        if cur is not None and cur.cells:
            self.close()
            cur = None
        if cur is None:
            self.current = _Group(code=code, label="", cells=[])
        elif cur.label:
            cur.second = True  # 30101 基本工资 | 50101 工资奖金津补贴: the first pair names the row

    def label(self, cell: Cell) -> None:
        m = CODE_NAME_RE.match(re.sub(r"\s+", "", cell.text))
        if m:  # 2010301-行政运行 | 50101-工资奖金津补贴 | 30101-基本工资: a code and its name
            self._code(m.group(1))
            cur = self.current
            if cur is not None and not cur.cells and not cur.second:
                cur.label += m.group(2)
            return
        cur = self.current
        if cur is not None and not cur.cells:
            if not cur.second:
                cur.label += cell.text  # 合 | 计 spread over the code and name columns
            return
        self.close()
        self.current = _Group(code=None, label=cell.text, cells=[])

    def figure(self, j: int, cell: Cell) -> None:
        cur = self.current
        if cell.role == "empty" and cur is not None and cur.code and (
                not cur.label or cur.second and not cur.cells):
            return  # the blank 款 / 项 cells of a 类 row (of either classification)
        if cur is None and (cell.role == "amount" or (self.figures_only and cell.role == "empty")):
            cur = self.current = _Group(code=None, label="", cells=[])  # figures only (三公 表)
        if cell.role in ("amount", "empty") and cur is not None:
            cur.cells.append((j, cell))


def _groups(row: Row, figures_only: bool = False) -> list[_Group]:
    """Label/value groups of one row (two-panel rows give two); a code printed in the name cell
    ([30101]基本工资) is the group's code."""
    reader = _RowReader(figures_only)
    for j, cell in enumerate(row.cells):
        if cell.role == "code":
            reader.code(cell)
        elif cell.role in ("label", "text"):
            reader.label(cell)
        else:
            reader.figure(j, cell)
    reader.close()
    for g in reader.groups:
        m = None if g.code else LEADING_CODE_RE.match(re.sub(r"\s+", "", g.label))
        if m:
            g.code, g.label = m.group(1), m.group(2)
    return [g for g in reader.groups if g.cells]


def scale_of(unit: str | None) -> float:
    """A printed unit in 万元."""
    return {"元": 1e-4, "千元": 1e-1, "亿元": 1e4}.get(unit or "万元", 1.0)


def table_facts(table: Table) -> list[Fact]:
    """Every figure of one table as facts. Percent cells and counts are left out."""
    if table.kind.startswith("perf"):
        return []
    scale = scale_of(table.unit)
    few_rows = len(table.data_rows()) <= 2
    m = re.search(r"(20\d{2})\s*年", table.title or "")
    year = int(m.group(1)) if m else None
    # a column with no header and nothing printed in it is a gap in the ruling, not a figure
    printed = {j for row in table.rows for j, c in enumerate(row.cells) if c.role != "empty"}
    out: list[Fact] = []
    for r, row in enumerate(table.rows):
        if row.header:
            continue
        for panel, group in enumerate(_groups(row, few_rows)):
            subject = subject_name(group.label)
            if not subject and not group.code and len(table.data_rows()) > 2:
                continue  # figures without a label in a table of many rows: not readable
            for j, cell in group.cells:
                if cell.percent:
                    continue
                header = table.columns[j] if j < len(table.columns) else ""
                if j not in printed or not _value_column(header) and not (
                        cell.role == "amount" and _total_beside(group.label, header)):
                    continue
                measure, sub = canonical_measure(header)
                item = subject
                if not subject and not group.code and measure not in CANONICAL:
                    # a row of figures only (三公 表): the column names the item
                    item, measure = _column_item(header)
                blank = cell.role == "empty" or cell.value is None
                value = 0.0 if cell.value is None or blank else float(cell.value) * scale
                dec = cell.decimals if cell.decimals is not None else 0
                out.append(Fact.model_construct(
                    table=table.id, kind=table.kind, code=group.code, subject=item,
                    label=norm(group.label), measure=measure, header=header, sub_item=sub,
                    side=side_of(header, subject), panel=panel,
                    period=_period(header, year),
                    value=value, half_unit=0.0 if blank else half_unit(dec) * scale,
                    decimals=None if blank else dec, blank=blank, unit=table.unit or "万元", text=cell.text, page=cell.page,
                    bbox=cell.bbox, row=r, column=j,
                ))
    return out


def _period(header: str, year: int | None) -> str:
    """current, prior (上年, or a year before the table's own: 2020年 | 2021年 | 增减变化情况) or
    change (the 增减 columns)."""
    compact = re.sub(r"\s+|/", "", header)
    if PRIOR_RE.search(compact):
        return "prior"
    top = re.sub(r"\s+", "", header.split("/")[0])
    if CHANGE_HEAD_RE.search(top):
        return "change"
    m = re.match(r"(20\d{2})年", top)
    return "prior" if m and year and int(m.group(1)) < year else "current"


def _column_item(header: str) -> tuple[str, str]:
    """(item, measure) of a column in a table of one row: 决算数/因公出国（境）费 → (因公出国(境)费,
    决算数); a header wrapped over rows (公务用/车购置费) is read joined."""
    parts = [p for p in header.split("/") if p]
    lead = next((p for p in parts if re.fullmatch(r"(预算数|决算数|年初预算|全年预算)", p)), None)
    names = [p for p in parts if p != lead and not re.fullmatch(r"[“”\"]*三公[“”\"]*(经费)?|经费", p)]
    item = names[-1] if names else ""
    for p in reversed(names[:-1]):  # 公务/接待费, 因公出/国（境）费 wrapped over header rows
        if len(item) > 5 or p.endswith(("费", "计", "数")):
            break
        item = p + item
    return subject_name(item), (lead or "金额")


BLANK_SAYS_ZERO = ("fa09", "bu10")  # a 三公 table printed without a figure: every item is zero


def _blank_table_facts(table: Table) -> list[Fact]:
    """Zero facts, one per value column, for a 三公 table printed with no figure at all."""
    if table.kind not in BLANK_SAYS_ZERO or any(
            c.role == "amount" for r in table.data_rows() for c in r.cells) or not table.rows:
        return []
    last = table.rows[-1]
    out = []
    for j, header in enumerate(table.columns):
        if not header or not _value_column(header):
            continue
        item, measure = _column_item(header)
        if measure == "金额" and canonical_measure(header)[0] in CANONICAL:
            item, measure = "", canonical_measure(header)[0]
        out.append(Fact.model_construct(
            table=table.id, kind=table.kind, code=None, subject=item, label="", measure=measure,
            header=header, sub_item=False, side="", panel=0, period="current", value=0.0,
            half_unit=0.0, decimals=None, blank=True, unit=table.unit or "万元", text="", page=last.page,
            bbox=last.bbox, row=len(table.rows) - 1, column=j))
    return out


def document_facts(doc: Document, per_table: dict[str, int] | None = None) -> list[Fact]:
    """Every table's facts (a table printed wholly blank gives its zeros); `per_table`, when
    given, receives how many figures each table gave."""
    facts: list[Fact] = []
    for table in doc.tables:
        found = table_facts(table)
        if per_table is not None:
            per_table[table.id] = len(found)
        facts.extend(found or _blank_table_facts(table))
    return facts


# a column heading's leaf that makes it its group's total (2026年政府采购项目 / 小计)
TOTAL_LEAVES = ("小计", "合计", "金额", "总计")


def header_leaf(header: str) -> str:
    """The last part of a column's header path, without spaces."""
    return re.sub(r"\s+", "", header.split("/")[-1])


def first_columns(facts: list[Fact]) -> dict[tuple[str, int, int], int]:
    """Each row's first figure column, by (table, panel, row): the row's total, whatever its
    heading (财政拨款支出 in a 财政拨款支出表)."""
    first: dict[tuple[str, int, int], int] = {}
    for f in facts:
        key = (f.table, f.panel, f.row)
        first[key] = min(first.get(key, f.column), f.column)
    return first


def is_total(subject: str) -> bool:
    return bool(re.fullmatch(r"(本年|当年)?(收入|支出)?(合计|总计|小计)", subject))
