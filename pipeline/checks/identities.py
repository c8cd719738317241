"""Identities read from facts, so they hold in every template and in tables of unknown kind.

- Code hierarchy: 类 = Σ 款, 款 = Σ 项 (and 301 = Σ 301xx), 合计 = Σ 类, per column; and
  in a column of groups, 小计 = Σ its items, 总计 = Σ 小计.
- Row sums: a 合计 column equals the columns after it up to the next total (其中 columns left
  out), per row.

A table's layout is never guessed at: an identity is checked in a table only where it holds on
most of the table's rows (a reading it does not fit fails everywhere, a real slip in one place),
and a table where it cannot be checked is recorded in coverage, never filled in with zeros.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pipeline.checks.base import (
    Context,
    Verdict,
    amount,
    compare,
    ev_fact,
    fact_label,
    finding,
    rule,
    severity_for,
    shared,
    table_name,
)
from pipeline.facts import CANONICAL, header_leaf, is_total
from pipeline.readings import (
    CONFIRM,
    MIN_ROWS,
    SMALL,
    ColumnModel,
    adds_up,
    column_models,
    parallel_slips,
    rows_of,
)
from schemas.document import Table
from schemas.facts import Fact
from schemas.findings import Finding, TableUnread

GENERIC = ("金额", "预算数", "决算数", "合计")  # measures that name no part of a total
NOT_ADDENDS = ("其中", "上年结转", "结转下年", "年初预算", "调整预算")


@dataclass
class _Sum:
    total: Fact
    parts: list[Fact]
    what: str
    note: str = ""  # how far the failure reaches (a whole column group)
    elsewhere: list[Fact] = field(default_factory=list)  # the same subject failing in other tables
    signs: tuple[int, ...] = ()  # per part, +1 or -1 (a cell: its row's total less the others)

    @property
    def expected(self) -> float:
        return sum(p.value * (self.signs[i] if self.signs else 1) for i, p in
                   enumerate(self.parts))

    def verdict(self) -> Verdict:
        # compared in the printed unit: 2 元 in a 元 table is a difference, not rounding
        k = _to_printed(self.total, 1.0)
        tol = sum(p.half_unit for p in self.parts) * k
        return compare(self.total.value * k, _decimals(self.total), self.expected * k, tol)


def _decimals(f: Fact) -> int:
    """Printed decimals of a fact (2 for a blank cell)."""
    return 2 if f.blank or f.decimals is None else f.decimals


def _to_printed(f: Fact, value: float) -> float:
    return value * 1e4 if f.unit == "元" else value


def _clusters(failing: list[_Sum]) -> int:
    """Independent violations: one wrong figure fails its 款, its 类 and the 合计 by the same
    difference, so failures that differ by the same amount count once."""
    diffs: list[float] = []
    for s in failing:
        d = abs(s.total.value - s.expected)
        tol = s.total.half_unit + sum(p.half_unit for p in s.parts) + 1e-9
        if not any(abs(d - x) <= tol for x in diffs):
            diffs.append(d)
    return len(diffs)


@dataclass
class Gate:
    """An identity over one table: the sums that fail, and whether the reading is confirmed."""

    failing: list[_Sum]
    holding: int
    clusters: int
    live: int

    @property
    def confirmed(self) -> bool:
        if self.holding < 2:
            return False
        if self.clusters <= 1 and self.holding + self.clusters <= SMALL:
            return True  # a small table: one slip (and what it carries up) is local
        return self.holding >= CONFIRM * (self.holding + self.clusters)

    @property
    def reason(self) -> str:
        return f"仅{self.holding}/{self.live}处成立"


def gate(sums: list[_Sum]) -> Gate:
    """The sums of one identity over one table that fail, with the evidence for the reading."""
    # parts all printed blank under a figure: unread or not printed, unknown, never zeros
    live = [s for s in sums if not all(p.blank for p in s.parts)]
    failing = [s for s in live if not s.verdict().ok]
    return Gate(failing, len(live) - len(failing), _clusters(failing), len(live))


def _gated(sums: list[_Sum]) -> list[_Sum]:
    """The sums that fail, when the identity is confirmed on the table; none otherwise."""
    g = gate(sums)
    if not g.live:
        return []
    if g.live <= 2 and all(s.total.measure == "合计" and all(
            p.measure in CANONICAL and p.measure not in GENERIC and p.kind != "unknown"
            for p in s.parts) for s in sums):
        return g.failing  # one row of a standard table read into canonical columns (合计 = 基本 + 项目)
    return g.failing if g.confirmed else []


def _findings(ctx: Context, rule_id: str, failing: list[_Sum]) -> Iterator[Finding]:
    tables = {t.id: t for t in ctx.doc.tables}
    for s in failing:
        t = tables[s.total.table]
        v = s.verdict()
        unit = s.total.unit
        stated = _to_printed(s.total, s.total.value)
        expected = _to_printed(s.total, s.expected)
        same_row = all(p.row == s.total.row for p in s.parts)
        named = list(dict.fromkeys(p.header.split("/")[-1] if same_row else p.code or p.subject
                                   for p in s.parts))
        names = "、".join(named[:6]) + ("等" if len(named) > 6 else "")
        said = (f"而按本行{names.split('、')[0]}应为{amount(expected, unit)}" if s.signs else
                f"而{names}之和为{amount(expected, unit)}")
        yield finding(
            rule_id,
            f"{t.code or t.title or t.id}“{s.what}”为{amount(stated, unit)}，"
            f"{said}，相差{amount(abs(stated - expected), unit)}。"
            + s.note,
            [ev_fact(s.total, t), *[ev_fact(p, t) for p in s.parts[:8]],
             *[ev_fact(o, tables[o.table]) for o in s.elsewhere]],
            stated=stated,
            expected=expected,
            unit=unit,
            section=t.code or t.title or t.id,
            severity=severity_for(v, "error"),
        )


def _by_table(facts: list[Fact]) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        out[f.table].append(f)
    return out


def hierarchy_sums(facts: list[Fact]) -> list[_Sum]:
    """Per column of one table: each coded row against its children, 合计 against the 类."""
    columns: dict[int, list[Fact]] = defaultdict(list)
    for f in facts:
        if f.period == "current" and not f.sub_item:
            columns[f.column].append(f)
    classes = any(f.code and len(f.code) == 3 for f in facts)
    sums: list[_Sum] = []
    for col in columns.values():
        by_code: dict[str, Fact] = {}
        rows_of_code: dict[str, list[Fact]] = defaultdict(list)
        for f in col:
            if f.code and f.code.isdigit():
                by_code.setdefault(f.code, f)
                rows_of_code[f.code].append(f)
        # each code's nearest printed ancestor: 3010201 津贴补贴 under 301 where no 30102 row is
        # printed (its items are 301's own)
        under: dict[str, list[str]] = defaultdict(list)
        for c in rows_of_code:
            up = next((c[:n] for n in range(len(c) - 2, 2, -2) if c[:n] in rows_of_code), None)
            if up is not None:
                under[up].append(c)
        for code, parent in by_code.items():
            # a 部门经济科目 listed once under each 政府经济科目 it maps to: every row counts,
            # the class's own rows as well as its items'
            kids = [f for c in under.get(code, ()) for f in rows_of_code[c]]
            again = rows_of_code[code]
            if len(again) > 1:
                parent = parent.model_copy(update={
                    "value": sum(f.value for f in again),
                    "half_unit": sum(f.half_unit for f in again),
                    "blank": all(f.blank for f in again)})
            if kids:
                sums.append(_Sum(parent, kids, f"{code} {parent.subject}/{parent.header}"))
        tops = _tops(rows_of_code, classes)
        total = next((f for f in col if not f.code and is_total(f.subject)), None)
        if total is not None and len(tops) >= 2:
            sums.append(_Sum(total, tops, f"{total.subject}/{total.header}"))
        sums += subtotal_sums(col)
    return sums


def _tops(rows_of_code: dict[str, list[Fact]], classes: bool) -> list[Fact]:
    """The rows a column's 合计 adds up: its 类 rows; in a table printed at one level only (its
    项 rows, no 类 or 款 line anywhere), every row, when all are subject codes of that level."""
    tops = [f for c, fs in rows_of_code.items() if len(c) == 3 for f in fs]
    if tops or classes:
        return tops
    roots = {len(c) for c in rows_of_code if not any(c[:n] in rows_of_code
                                                     for n in range(3, len(c), 2))}
    if len(roots) == 1 and roots <= {5, 7}:
        return [f for fs in rows_of_code.values() for f in fs]
    return []


def subtotal_sums(col: list[Fact]) -> list[_Sum]:
    """A column of groups, each headed by its 小计 (收入预算总表: 一般公共预算资金 小计, then its
    items; 其他资金 小计, …): each 小计 against its items up to the next 小计, and the one 总计 or
    合计 against the 小计s. Items may follow their 小计 or come before it: of the two readings,
    the one that holds on more groups is taken (the gate then asks most of them to hold)."""
    subs = [i for i, f in enumerate(col) if f.subject == "小计" and not f.code]
    totals = [f for f in col if is_total(f.subject) and f.subject != "小计" and not f.code]
    if len(subs) < 2 or len(totals) != 1:
        return []
    readings = []
    for after in (True, False):
        groups = []
        for k, i in enumerate(subs):
            lo, hi = (i + 1, subs[k + 1] if k + 1 < len(subs) else len(col)) if after else \
                (subs[k - 1] + 1 if k else 0, i)
            items = [f for f in col[lo:hi] if not is_total(f.subject)
                     and not f.subject.startswith("其中") and not f.code]
            if items:
                groups.append(_Sum(col[i], items, f"{col[i].subject}/{col[i].header}"))
        readings.append(groups)
    groups = max(readings, key=lambda g: sum(s.verdict().ok and not s.total.blank for s in g))
    total = totals[0]
    return [*groups, _Sum(total, [col[i] for i in subs], f"{total.subject}/{total.header}")]


def row_sums(facts: list[Fact]) -> dict[tuple[int, bool], list[_Sum]]:
    """Per 合计 column of one table: each row's total against the columns after it, read two ways
    (with and without 上年结转 / 年初预算 columns, which some templates add in and others not)."""
    rows: dict[tuple[int, int], list[Fact]] = defaultdict(list)
    for f in facts:
        rows[(f.row, f.panel)].append(f)
    out: dict[tuple[int, bool], list[_Sum]] = defaultdict(list)
    for group in rows.values():
        group.sort(key=lambda f: f.column)
        for i, f in enumerate(group):
            if not _total_column(f) or f.sub_item:
                continue
            following = _addends(f, group[i + 1:])
            label = fact_label(f)
            for strict in (False, True):
                parts = [g for g in following
                         if not (strict and g.measure.startswith(NOT_ADDENDS))]
                if len(parts) >= 2:
                    out[(f.column, strict)].append(_Sum(f, parts, f"{label}/{f.header}"))
    return out


def _total_column(f: Fact) -> bool:
    """A 合计 column, also one headed by a fund (财政拨款/合计 or 小计: the 财政拨款 total)."""
    return f.measure == "合计" or header_leaf(f.header) in ("合计", "总计", "小计")


def _parent(header: str) -> str:
    return re.sub(r"\s+", "", "/".join(header.split("/")[:-1]))


def _addends(total: Fact, after: list[Fact]) -> list[Fact]:
    """The columns the header says a total adds: a group's total (财政拨款/小计) adds the columns
    of its group; a total over groups adds each group's own total, or its columns when it has
    none, and stops at the next such total."""
    mine = _parent(total.header)
    out: list[Fact] = []
    grouped: set[str] = set()  # groups whose total was taken
    for g in after:
        parent = _parent(g.header)
        if mine and parent != mine:
            break
        if _total_column(g):
            if mine or not parent:
                break
            grouped.add(parent)
        elif parent in grouped:
            continue
        if not g.sub_item and g.period == total.period:
            out.append(g)
    return out


def _best_reading(readings: dict[tuple[int, bool], list[_Sum]]) -> list[list[_Sum]]:
    """Per total column, the reading of its parts that holds on most rows."""
    best: dict[int, list[_Sum]] = {}
    for (col, _strict), sums in readings.items():
        ok = sum(s.verdict().ok for s in sums)
        if col not in best or ok > sum(s.verdict().ok for s in best[col]):
            best[col] = sums
    return list(best.values())


def model_sums(facts: list[Fact]) -> tuple[list[_Sum], bool, list[_Sum]]:
    """Row sums under the column models the table's arithmetic confirms (pipeline.readings):
    the failing sums (rows that fail every best model of their total column), whether any model
    was confirmed, and the column slips (a confirmed model failing in a parallel group of
    columns: its first failing row)."""
    failing: list[_Sum] = []
    models = column_models(facts)
    rows = rows_of(facts)
    slips = [_first_failing(rows[m.panel], m, there, here)
             for m, there, here in parallel_slips(facts, models)]
    for tied in models:
        first = tied[0]
        for row in rows[first.panel]:
            if any(adds_up(row, m.total, m.parts) is not False for m in tied):
                continue
            total = row[first.total]
            parts = [row[p] for p in first.parts if p in row]
            label = fact_label(total)
            failing.append(_Sum(total, parts, f"{label}/{total.header}"))
    return failing, bool(models), slips


def _first_failing(rows: list[dict[int, Fact]], m: ColumnModel, there: str, here: str) -> _Sum:
    row = next(r for r in rows if adds_up(r, m.total, m.parts) is False)
    total = row[m.total]
    label = fact_label(total)
    note = f"{there}各列{m.live}行中{m.live - m.holding}行如此，而{here}同名各列均相加。"
    return _Sum(total, [row[p] for p in m.parts if p in row], f"{label}/{total.header}", note)


@dataclass
class TableCheck:
    """The identities of one table as read: what fails, or why the table is not understood."""

    table: str
    hierarchy: list[_Sum]
    rows: list[_Sum]
    slips: list[_Sum] = field(default_factory=list)  # one per column group printed wrong
    cells: list[_Sum] = field(default_factory=list)  # a wrong cell found where a row and a column cross


def _culprits(hier: list[_Sum], rows: list[_Sum]) -> tuple[list[_Sum], list[_Sum], list[_Sum]]:
    """One wrong cell breaks its row's sum and its parent's sum by the same amount (30211 差旅费
    一般公共预算 5.50 where its row's 小计 and 合计 say 4.50, and 302's 一般公共预算 items then add
    to 1.00 more than 302): that cell is the finding, stated as printed against what its row and
    its column both say it should be, in place of the two sums it breaks."""
    cells: list[_Sum] = []
    used_h: set[int] = set()
    used_r: set[int] = set()
    for i, r in enumerate(rows):
        d = r.total.value - r.expected  # the row's parts are too large by -d
        for j, h in enumerate(hier):
            if j in used_h:
                continue
            e = h.total.value - h.expected
            tol = r.total.half_unit + h.total.half_unit + 1e-9
            common = [p for p in r.parts if any(p is k for k in h.parts)]
            if len(common) == 1 and abs(d - e) <= tol and abs(d) > tol:
                cell = common[0]
                note = (f"（该格使本行{r.what.split('/', 1)[-1]}与所属{h.what.split('/')[0]}"
                        f"均不平衡，按两者应为{_to_printed(cell, cell.value + d):,.2f}）")
                # the cell stated against the value both sums give it: its row, less the others
                others = [p for p in r.parts if p is not cell]
                cells.append(_Sum(cell, [r.total, *others], f"{fact_label(cell)}/{cell.header}",
                                  note, signs=(1, *(-1 for _ in others))))
                used_h.add(j)
                used_r.add(i)
                break
    return ([h for j, h in enumerate(hier) if j not in used_h],
            [r for i, r in enumerate(rows) if i not in used_r], cells)


def _rows_missing(failing: list[_Sum], facts: list[Fact]) -> bool:
    """Sums that fail only on one row, a 合计 row whose total another table prints too: the rows
    are incomplete (a subject left out), not the table misread. (Its rows must add across, which
    the caller has confirmed.)"""
    row = {(s.total.table, s.total.row) for s in failing}
    if len(row) != 1 or any(s.total.code for s in failing):
        return False
    table = failing[0].total.table
    first = min(failing, key=lambda s: s.total.column)  # the row's 合计 column
    return first.total.value > 0 and any(
        abs(o.value - first.total.value) <= o.half_unit + first.total.half_unit + 1e-9
        for o in facts if o.table != table and not o.blank and o.period == "current")


def table_checks(ctx: Context) -> list[TableCheck]:
    """Every table's identities, once per document. A table whose failures are not local (more
    than BUDGET independent slips) is read but not understood: recorded in coverage, no finding."""
    return shared(ctx, "table_checks", lambda: _table_checks(ctx))


BUDGET = 2  # independent violations one table may show before its reading is doubted


def _table_checks(ctx: Context) -> Iterator[TableCheck]:
    tables = {t.id: t for t in ctx.doc.tables}
    for tid, facts in _by_table(ctx.facts).items():
        reasons = []
        sums = hierarchy_sums(facts)
        h = gate(sums)
        hier = _gated(sums)
        printed_rows = max((len(r) for r in rows_of(facts).values()), default=0)
        confirmed = False
        if printed_rows >= MIN_ROWS:
            rows, confirmed, slips = model_sums(facts)
            header = gate([s for v in _best_reading(row_sums(facts)) for s in v])
            if not confirmed and header.failing and not header.confirmed:
                reasons.append(f"行合计（合计=各分列之和）按表头读法{header.reason}，"
                               "其他列的组合也不成立")
        else:
            rows, slips = [s for v in _best_reading(row_sums(facts)) for s in _gated(v)], []
        # (an unrecognised table may be the last pages of a table its 合计 row closes)
        lost = bool(h.failing) and not h.confirmed and confirmed and not rows \
            and tables[tid].kind != "unknown" and _rows_missing(h.failing, ctx.facts)
        if lost:  # every row adds across, the 合计 row is the other tables': rows left out
            hier = [replace(sm, note="（本表各行均自身平衡，合计与其他表一致：所列各行不全，疑有科目行遗漏）")
                    for sm in h.failing]
        elif h.failing and not h.confirmed and h.live >= 3:
            reasons.append(f"科目层级（类=Σ款、款=Σ项）{h.reason}")
        # one wrong cell fails its row and its parents alike; a wrong column is one slip; rows
        # left out fail the 合计 row in every column they have figures in: one problem
        independent = (1 if lost else _clusters(hier + rows)) + len(slips)
        if independent > BUDGET:
            reasons.append(f"有{independent}处互不相关的不平衡，多半是表格读错而非报告有误")
        if reasons:
            t = tables[tid]
            ctx.coverage.not_understood.append(TableUnread(
                id=t.id, kind=t.kind, name=table_name(t), pages=t.pages, reason="；".join(reasons)))
            yield TableCheck(tid, [], [])
        else:
            hier, rows, cells = _culprits(hier, rows)
            yield TableCheck(tid, hier, rows, slips, cells)


@rule("tbl.hierarchy", "error", "按功能分类科目：类等于所属款之和，款等于所属项之和，合计等于各类之和；分组列示时小计等于组内各项之和，总计等于各小计之和。")
def check_hierarchy(ctx: Context) -> Iterator[Finding]:
    yield from _findings(ctx, "tbl.hierarchy", _one_per_subject(
        ctx, [s for tc in table_checks(ctx) for s in tc.hierarchy]))


def _one_per_subject(ctx: Context, failing: list[_Sum]) -> list[_Sum]:
    """One coded subject that does not add up, in every column of its row and in every table
    that prints it (款20140 above its 项 in 收入表, 支出表 and 一般公共预算支出表), is one problem: its
    first failing sum, saying where else it fails."""
    names = {t.id: t.code or t.title or t.id for t in ctx.doc.tables}
    groups: dict[tuple[str | int | None, ...], list[_Sum]] = {}
    for s in failing:
        key = ("code", s.total.code) if s.total.code else ("row", s.total.table, s.total.row)
        groups.setdefault(key, []).append(s)
    out = []
    for sums in groups.values():
        first = sums[0]
        columns = len({(s.total.table, s.total.column) for s in sums if s.total.table ==
                       first.total.table})
        others = [names[t] for t in dict.fromkeys(s.total.table for s in sums)
                  if t != first.total.table]
        said = []
        if columns > 1:
            said.append(f"本表{columns}列均如此")
        if others:
            said.append(f"{'、'.join(others)}中同一科目同样如此")
        elsewhere = [next(s for s in sums if s.total.table == t).total for t in dict.fromkeys(
            s.total.table for s in sums) if t != first.total.table]
        out.append(replace(first, note=first.note + (f"（{'；'.join(said)}）" if said else ""),
                           elsewhere=elsewhere[:3]))
    return out


@rule("tbl.row_sum", "error", "收入/支出表等：每行合计列等于其后各分列之和（“其中”列除外）；哪些列相加由表格各行的算术确认。")
def check_row_sums(ctx: Context) -> Iterator[Finding]:
    for tc in table_checks(ctx):
        yield from _findings(ctx, "tbl.row_sum", tc.rows + tc.slips + tc.cells)


# -- across tables ----------------------------------------------------------------------------

# (table kind, measures, side) whose 类 figures must equal those of the second table, by subject.
# The first side lists spending by 类 in a 收支总表; the second is the spending table's total.
SUBJECT_PAIRS: tuple[tuple[tuple[str, tuple[str, ...], str], tuple[str, tuple[str, ...]]], ...] = (
    (("fa04", ("一般公共预算",), "expense"), ("fa05", ("合计",))),
    (("fa01", ("决算数", "金额", "合计"), "expense"), ("fa03", ("合计",))),
    (("bu04", ("一般公共预算",), "expense"), ("bu05", ("合计",))),
    (("bu01", ("预算数", "金额", "合计"), "expense"), ("bu03", ("合计",))),
)


def _class_figures(facts: list[Fact], kind: str, measures: tuple[str, ...], side: str | None
                   ) -> dict[str, Fact]:
    """Per 类 name, its figure in the first of `measures` the table has (current year)."""
    out: dict[str, Fact] = {}
    for measure in measures:
        for f in facts:
            if (f.kind != kind or f.measure != measure or f.period != "current" or f.sub_item
                    or (side and f.side != side)):
                continue
            if f.code and len(f.code) != 3:
                continue
            if not f.subject.endswith("支出") or is_total(f.subject):
                continue
            out.setdefault(f.subject, f)
        if out:
            return out
    return out


@rule("x.units", "warning", "各表金额单位应标注一致：同一科目在两表中相差一万倍即单位（元/万元）标错。")
def check_units(ctx: Context) -> Iterator[Finding]:
    yield from (f for f in _cross_subjects(ctx) if f.rule == "x.units")


@rule("x.subjects", "error", "表间一致：收支总表与支出表、财政拨款收支总表与一般公共预算支出表的各类支出相等。")
def check_subjects(ctx: Context) -> Iterator[Finding]:
    yield from (f for f in _cross_subjects(ctx) if f.rule == "x.subjects")


def _cross_subjects(ctx: Context) -> list[Finding]:
    """One comparison of the 类 figures across tables, read by both rules above."""
    return shared(ctx, "cross_subjects", lambda: check_cross_subjects(ctx))


def check_cross_subjects(ctx: Context) -> Iterator[Finding]:
    tables = {t.id: t for t in ctx.doc.tables}
    for (ka, ma, side), (kb, mb) in SUBJECT_PAIRS:
        a = _class_figures(ctx.facts, ka, ma, side)
        b = _class_figures(ctx.facts, kb, mb, None)
        yield from _swapped_names(a, b, tables)
        for name, fa in a.items():
            fb = b.get(name)
            if fb is None:
                continue  # not in the other table as read: not checkable, never a zero
            k = _to_printed(fa, 1.0) if fa.unit == fb.unit else 1.0
            v = compare(fa.value * k, _decimals(fa) if k != 1.0 else 4, fb.value * k,
                        (fa.half_unit + fb.half_unit) * k)
            if v.ok:
                continue
            ta, tb = tables[fa.table], tables[fb.table]
            na, nb = ta.code or ta.title or ta.id, tb.code or tb.title or tb.id
            if fa.value and fb.value and any(abs(fa.value * r - fb.value) <= 0.01 * abs(fb.value)
                                             for r in (1e4, 1e-4)):
                yield finding(
                    "x.units",
                    f"“{name}”：{na}为{fa.text}（单位{fa.unit}），{nb}为{fb.text}（单位{fb.unit}），"
                    "两者相差一万倍，疑为表格单位标注错误。",
                    [ev_fact(fa, ta), ev_fact(fb, tb)], section=f"{na}与{nb}",
                )
                continue
            yield finding(
                "x.subjects",
                f"“{name}”：{na}为{amount(fa.value)}，{nb}为{amount(fb.value)}，两者应相等。",
                [ev_fact(fa, ta), ev_fact(fb, tb)],
                stated=round(_to_printed(fa, fa.value), 2), expected=round(_to_printed(fb, fb.value), 2),
                unit=fa.unit, section=f"{na}与{nb}",
                severity=severity_for(v, "error"),
            )


def _swapped_names(a: dict[str, Fact], b: dict[str, Fact], tables: dict[str, Table]
                   ) -> Iterator[Finding]:
    """A 类 of the 收支总表 that the spending table does not have, printed with the very amount
    of a 类 of the spending table that the 收支总表 does not have: one class under two names."""
    from pipeline.vocabulary import class_name

    def proper(n: str) -> bool:  # a class's name, not cells run together (2150299-其他…50499-…)
        return not re.search(r"\d", n) and len(n) <= 20

    named_a = {class_name(n) for n in a}
    named_b = {class_name(n) for n in b}
    only_b = {n: f for n, f in b.items() if class_name(n) not in named_a and proper(n)}
    for name, fa in a.items():
        if class_name(name) in named_b or not proper(name) or fa.blank or fa.value <= 0:
            continue
        same = [(n, fb) for n, fb in only_b.items() if fa.unit == fb.unit
                and abs(fa.value - fb.value) <= fa.half_unit + fb.half_unit + 1e-9]
        if len(same) != 1:
            continue
        other, fb = same[0]
        ta, tb = tables[fa.table], tables[fb.table]
        na, nb = ta.code or ta.title or ta.id, tb.code or tb.title or tb.id
        yield finding(
            "x.subject_names",
            f"{na}列有“{name}”{amount(_to_printed(fa, fa.value), fa.unit)}，{nb}中没有此类；{nb}中与之金额相同的是"
            f"“{other}”，而{na}中没有“{other}”：疑为科目名称写错。",
            [ev_fact(fa, ta), ev_fact(fb, tb)], stated=_to_printed(fa, fa.value),
            unit=fa.unit, section=f"{na}与{nb}",
        )


# -- a budget's 收支总表: the two sides balance ------------------------------------------------

BALANCED = ("bu01", "bu04")  # (the 决算 总表 are checked with their other totals in tbl.fa01/fa04)


@rule("tbl.balance", "error", "预算收支总表、财政拨款收支总表：收入总计等于支出总计（每一栏支出总计）。")
def check_balance(ctx: Context) -> Iterator[Finding]:
    tables = {t.id: t for t in ctx.doc.tables}
    for tid, facts in _by_table([f for f in ctx.facts if f.kind in BALANCED]).items():
        firsts: dict[tuple[str, int], Fact] = {}  # per total and panel, its first column
        for f in facts:
            if f.subject in ("收入总计", "支出总计") and f.period == "current" and not f.blank:
                key = (f.subject, f.panel)
                if key not in firsts or f.column < firsts[key].column:
                    firsts[key] = f
        income = next((f for (s, _), f in sorted(firsts.items()) if s == "收入总计"), None)
        if income is None:
            continue
        t = tables[tid]
        for (s, _), spend in sorted(firsts.items()):
            if s != "支出总计":
                continue
            k = _to_printed(income, 1.0)
            v = compare(spend.value * k, _decimals(spend), income.value * k, income.half_unit * k)
            if v.ok:
                continue
            yield finding(
                "tbl.balance",
                f"{table_name(t)}支出总计为{amount(_to_printed(spend, spend.value), spend.unit)}，"
                f"收入总计为{amount(_to_printed(income, income.value), income.unit)}，两者应相等。",
                [ev_fact(spend, t), ev_fact(income, t)],
                stated=_to_printed(spend, spend.value), expected=_to_printed(income, income.value),
                unit=spend.unit, section=table_name(t), severity=severity_for(v, "error"),
            )
