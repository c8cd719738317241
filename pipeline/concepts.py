"""Where a report prints a concept of the vocabulary (pipeline.vocabulary): as a row (基本支出 in a
收支总表), as a column on a total row (三公 表 | 公务接待费; 支出总表 | 政府采购项目/小计), or as the
first figure of the total row of a table titled by it (财政拨款“三公”经费支出表). Read by the
question resolver (pipeline.questions) and the narrative checks (pipeline.checks.figures) alike."""

from __future__ import annotations

import re
from collections import defaultdict

from pipeline.facts import TOTAL_LEAVES, is_total
from pipeline.numbers import norm
from pipeline.vocabulary import CONCEPTS, Concept, clean
from schemas.facts import Fact


def total_rows(facts: list[Fact]) -> set[tuple[str, int, int]]:
    """Per table and panel, its total row: a 合计/总计 row, else the first row of figures (the
    department's or unit's own row above its items)."""
    rows: dict[tuple[str, int], list[Fact]] = defaultdict(list)
    for f in facts:
        rows[(f.table, f.panel)].append(f)
    out = set()
    for (t, p), fs in rows.items():
        totals = {f.row for f in fs if is_total(clean(f.subject)) and not f.code}
        out |= {(t, p, r) for r in totals} if totals else {(t, p, min(f.row for f in fs))}
    return out


def group_of(header: str) -> str:
    """A column's naming words: its leaf, or its group when the leaf is a 小计/合计; a heading
    wrapped inside its merged cell (公务接/待费, 因公出国/（境）) is one name again when the leaf
    alone names no concept and the two lines do."""
    parts = [norm(p) for p in header.split("/") if p.strip()]
    if not parts:
        return ""
    if parts[-1] in TOTAL_LEAVES and len(parts) > 1:
        return parts[-2]
    if len(parts) > 1 and not _names_any(parts[-1]) and _names_any(parts[-2] + parts[-1]):
        return parts[-2][-8:] + parts[-1]
    return parts[-1]


def _names_any(text: str) -> bool:
    return any(re.search(c.named, text) for c in CONCEPTS if not c.generic)


def title_concepts(title: str) -> tuple[Concept, ...]:
    """The concept a table is of, by its title (一般公共预算支出表（按功能分类）: 一般公共预算; 财政拨款
    “三公”经费支出表: 三公经费): its total row's first figure is that concept's. None when the title
    names two (三公经费及会议费、培训费支出预算表: its 合计 is of all three)."""
    t = re.sub(r"[(（][^)）]*[)）]", "", norm(title))
    t = re.sub(r"表$", "", t)
    t = re.sub(r"(?:预算|决算|明细|情况|汇总|总)+$", "", t)
    named = [c for c in CONCEPTS if not c.generic and re.search(c.named, t)]
    plain = [c for c in named if not c.funds]
    if len(plain) > 1 or re.search(r"及|、", t):
        return ()  # 行政经费及“三公”经费预算表: its first row is not the 三公
    return tuple(plain) if plain else tuple(named[:1])


def printed_as(concept: Concept, f: Fact, first: dict, totals: set, titled: dict
               ) -> tuple[bool, bool]:
    """Is fact `f` the concept's figure, as a row (its label names the concept, or the table's
    title does and this is its total row's first figure) or as a column (its heading names the
    concept, on a total row)? `first`: facts.first_columns; `totals`: total_rows; `titled`: each
    table's title_concepts."""
    at = (f.table, f.panel, f.row)
    leads = first[at] == f.column  # the row's total
    named = re.compile(concept.named)
    # a table of one row names each figure by its column (三公 表: 合计 | 因公出国 | 公务接待费 …):
    # the fact's subject is its column's item
    own_column = bool(named.search(group_of(f.header)))
    row = bool(named.search(clean(f.subject))) and (leads or own_column) or (
        at in totals and leads and concept in titled.get(f.table, ()))
    column = own_column and at in totals and not named.search(clean(f.subject) or "-")
    return row, column
