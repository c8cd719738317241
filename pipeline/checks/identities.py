"""Identities read from facts, so they hold in every template and in tables of unknown kind.

- Code hierarchy: 类 = Σ 款, 款 = Σ 项 (and 301 = Σ 301xx), 合计 = Σ 类, per column.
- Row sums: a 合计 column equals the columns after it up to the next total (其中 columns left
  out), per row.

A table's layout is never guessed at: an identity is checked in a table only where it holds on
most of the table's rows (a reading it does not fit fails everywhere, a real slip in one place),
and a table where it cannot be checked is recorded in coverage, never filled in with zeros.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.checks.base import Context, amount, compare, finding, rule, severity_for
from pipeline.facts import is_total
from schemas.document import Table
from schemas.facts import Fact
from schemas.findings import Evidence, Finding

MIN_HOLDING = 2  # an identity must hold this often in a table before a miss counts
MAJORITY = 0.6
NOT_ADDENDS = ("其中", "上年结转", "结转下年", "年初预算", "调整预算")


@dataclass
class _Sum:
    total: Fact
    parts: list[Fact]
    what: str

    @property
    def expected(self) -> float:
        return sum(p.value for p in self.parts)

    def verdict(self):
        tol = sum(p.half_unit for p in self.parts)
        dec = _decimals(self.total)
        return compare(self.total.value, dec, self.expected, tol)


def _decimals(f: Fact) -> int:
    """Printed decimals of a fact, from its half-unit in its printed unit."""
    if f.blank or f.half_unit <= 0:
        return 2
    scale = 1e-4 if f.unit == "元" else 1.0
    unit_half = f.half_unit / scale
    for d in range(0, 5):
        if abs(unit_half - 0.5 * 10 ** -d) < 1e-12:
            return d
    return 2


def _to_printed(f: Fact, value: float) -> float:
    return value * 1e4 if f.unit == "元" else value


def _evidence(f: Fact, table: Table) -> Evidence:
    label = " ".join(x for x in (f.code or "", f.subject) if x)
    where = " / ".join(x for x in (label, f.header) if x)
    return Evidence(page=f.page, source="table", text=where, table=table.code or table.title or
                    table.id, bbox=f.bbox, value=f.text or "空白")


def _gated(sums: list[_Sum]) -> list[_Sum]:
    """The sums that fail, when the identity holds on most of them; none otherwise."""
    live = [s for s in sums if not (s.total.blank and all(p.blank for p in s.parts))]
    if not live:
        return []
    failing = [s for s in live if not s.verdict().ok]
    holding = len(live) - len(failing)
    if holding < MIN_HOLDING or holding < MAJORITY * len(live):
        return []
    return failing


def _findings(ctx: Context, rule_id: str, failing: list[_Sum]) -> Iterator[Finding]:
    tables = {t.id: t for t in ctx.doc.tables}
    for s in failing:
        t = tables[s.total.table]
        v = s.verdict()
        unit = s.total.unit
        stated = _to_printed(s.total, s.total.value)
        expected = _to_printed(s.total, s.expected)
        names = "、".join((p.code or p.subject or p.header) for p in s.parts[:6])
        names += "等" if len(s.parts) > 6 else ""
        yield finding(
            rule_id,
            f"{t.code or t.title or t.id}“{s.what}”为{amount(stated, unit)}，"
            f"而{names}之和为{amount(expected, unit)}，相差{amount(abs(stated - expected), unit)}。",
            [_evidence(s.total, t), *[_evidence(p, t) for p in s.parts[:8]]],
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
    sums: list[_Sum] = []
    for col in columns.values():
        by_code: dict[str, Fact] = {}
        for f in col:
            if f.code and f.code.isdigit() and f.code not in by_code:
                by_code[f.code] = f
        for code, parent in by_code.items():
            kids = [f for c, f in by_code.items() if len(c) == len(code) + 2 and c.startswith(code)]
            if kids:
                sums.append(_Sum(parent, kids, f"{code} {parent.subject}/{parent.header}"))
        tops = [f for c, f in by_code.items() if len(c) == 3]
        total = next((f for f in col if not f.code and is_total(f.subject)), None)
        if total is not None and len(tops) >= 2:
            sums.append(_Sum(total, tops, f"{total.subject}/{total.header}"))
    return sums


def row_sums(facts: list[Fact]) -> dict[int, list[_Sum]]:
    """Per 合计 column of one table: each row's total against the columns after it."""
    rows: dict[tuple[int, int], list[Fact]] = defaultdict(list)
    for f in facts:
        rows[(f.row, f.panel)].append(f)
    out: dict[int, list[_Sum]] = defaultdict(list)
    for group in rows.values():
        group.sort(key=lambda f: f.column)
        for i, f in enumerate(group):
            if f.measure != "合计" or f.sub_item:
                continue
            parts = []
            for g in group[i + 1:]:
                if g.measure == "合计":
                    break
                if g.sub_item or g.measure.startswith(NOT_ADDENDS) or g.period != f.period:
                    continue
                parts.append(g)
            if len(parts) >= 2:
                label = " ".join(x for x in (f.code or "", f.subject) if x)
                out[f.column].append(_Sum(f, parts, f"{label}/{f.header}"))
    return out


@rule("tbl.hierarchy", "error", "按功能分类科目：类等于所属款之和，款等于所属项之和，合计等于各类之和。")
def check_hierarchy(ctx: Context) -> Iterator[Finding]:
    for facts in _by_table(ctx.facts).values():
        yield from _findings(ctx, "tbl.hierarchy", _gated(hierarchy_sums(facts)))


@rule("tbl.row_sum", "error", "收入/支出表等：每行合计列等于其后各分列之和（“其中”列除外）。")
def check_row_sums(ctx: Context) -> Iterator[Finding]:
    for facts in _by_table(ctx.facts).values():
        for sums in row_sums(facts).values():
            yield from _findings(ctx, "tbl.row_sum", _gated(sums))
