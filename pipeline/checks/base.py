"""What every rule needs: the registry, rounding-aware comparison, table lookups, evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipeline.numbers import format_amount, half_unit, norm  # noqa: F401  (norm: read by the rules)
from schemas.claims import Claim, Claims, Sentence
from schemas.document import Cell, Document, Row, Table
from schemas.facts import Fact
from schemas.findings import Coverage, Evidence, Finding, Severity

EPS = 1e-9


@dataclass
class Context:
    doc: Document
    claims: Claims
    facts: list[Fact] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    memo: dict[str, list[Any]] = field(default_factory=dict)  # work several rules share


def shared(ctx: Context, key: str, make: Callable[[], Iterable[Any]]) -> list[Any]:
    """What several rules read (pairs of figures, a comparison), computed once per document."""
    if key not in ctx.memo:
        ctx.memo[key] = list(make())
    return ctx.memo[key]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    fn: Callable[[Context], Iterable[Finding]]


RULES: dict[str, Rule] = {}


RuleFn = Callable[["Context"], Iterable[Finding]]


def rule(rule_id: str, severity: Severity, description: str) -> Callable[[RuleFn], RuleFn]:
    """Register a check. The function yields findings; `severity` is its default severity."""

    def wrap(fn: RuleFn) -> RuleFn:
        RULES[rule_id] = Rule(rule_id, severity, description, fn)
        return fn

    return wrap


# -- rounding-aware comparison ----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rounding: bool  # off by no more than rounding of one more displayed unit: info only
    diff: float


def compare(stated: float, stated_dec: int | None, expected: float, expected_tol: float) -> Verdict:
    """Is `stated` (printed with `stated_dec` decimals) equal to `expected` (± expected_tol)?"""
    diff = abs(stated - expected)
    dec = 2 if stated_dec is None else stated_dec
    tol = half_unit(dec) + expected_tol
    if diff <= tol + EPS:
        return Verdict(True, False, diff)
    # one more displayed unit than the two roundings allow is rounding-level (a figure re-added
    # from rounded parts); two figures printed to the same 0.01 that differ by 0.02 are not
    return Verdict(False, diff <= max(tol, 10 ** (-dec)) + half_unit(dec) + EPS, diff)


def ratio_interval(num: float, hn: float, den: float, hd: float) -> tuple[float, float] | None:
    """The range of 100 × num/den when each figure may be off by its rounding half-unit."""
    if den - hd <= 0:
        return None
    values = [(num + a) / (den + b) for a in (-hn, hn) for b in (-hd, hd) if den + b > 0]
    return 100 * min(values), 100 * max(values)


def compare_pct(stated: float, stated_dec: int, interval: tuple[float, float]) -> Verdict:
    lo, hi = interval
    h = half_unit(stated_dec)
    if stated + h >= lo - EPS and stated - h <= hi + EPS:
        return Verdict(True, False, 0.0)
    diff = lo - stated if stated < lo else stated - hi
    # one more displayed unit is rounding-level for 0.01 %, not for a whole 1 % (29.15 % as 30 %)
    return Verdict(False, diff - h <= min(10 ** (-stated_dec), 0.05) + EPS, diff)


def severity_for(verdict: Verdict, default: Severity) -> Severity:
    return "info" if verdict.rounding else default


# -- table figures ---------------------------------------------------------------------------


@dataclass
class Figure:
    value: float
    decimals: int | None
    text: str
    page: int
    bbox: tuple[float, float, float, float]
    label: str
    column: str
    table: Table

    @property
    def tol(self) -> float:
        return 0.0 if self.decimals is None else half_unit(self.decimals)




def table_name(table: Table) -> str:
    return table.code or table.title or table.id


def _facts_by_table(ctx: Context) -> dict[str, list[Fact]]:
    def make() -> Iterator[dict[str, list[Fact]]]:
        out: dict[str, list[Fact]] = {}
        for f in ctx.facts:
            out.setdefault(f.table, []).append(f)
        yield out

    by_table: dict[str, list[Fact]] = shared(ctx, "facts_by_table", make)[0]
    return by_table


def fact_figure_of(fact: Fact, table: Table) -> Figure:
    """A fact as the figure it was printed as (in the table's unit); blank means zero, exact."""
    from pipeline.facts import scale_of

    scale = scale_of(table.unit)
    label = " ".join(x for x in (fact.code or "", fact.label or fact.subject) if x)
    if fact.blank:
        return Figure(0.0, None, fact.text or "空白", fact.page, fact.bbox, label, fact.header,
                      table)
    return Figure(round(fact.value / scale, 6), fact.decimals, fact.text, fact.page, fact.bbox,
                  label, fact.header, table)


def column_index(table: Table, col_re: str) -> int | None:
    for j, heading in enumerate(table.columns):
        if re.search(col_re, norm(heading)):
            return j
    return None


def _groups_in_order(facts: list[Fact]) -> list[list[Fact]]:
    """A table's facts by row group (row, panel), in reading order, each by column."""
    groups: dict[tuple[int, int], list[Fact]] = {}
    for f in facts:
        groups.setdefault((f.row, f.panel), []).append(f)
    return [sorted(groups[k], key=lambda f: f.column) for k in sorted(groups)]


def fact_figure(ctx: Context, table: Table | None, row_re: str | None, col_re: str | None = None,
                nth: int = 0) -> Figure | None:
    """The figure of the nth row whose label (as printed) or code matches `row_re`, read from
    the table's facts like every other check: in the column whose heading matches `col_re`, else
    the row's first figure (a blank one when the row prints none). Without `row_re`, the table's
    first row of figures (tables of one row, such as 三公)."""
    if table is None:
        return None
    facts = _facts_by_table(ctx).get(table.id, [])
    groups = _groups_in_order(facts)
    if row_re is None:
        if not groups or not col_re:
            return None
        first_row = groups[0][0].row
        chosen = [f for g in groups if g[0].row == first_row for f in g]
    else:
        hits = [g for g in groups if re.search(row_re, g[0].label or g[0].subject)
                or (g[0].code and re.search(row_re, g[0].code))]
        if len(hits) <= nth:
            return None
        chosen = hits[nth]
    if col_re:
        j = column_index(table, col_re)
        # the column is the row's, whichever of its label groups prints it
        fact = next((f for f in facts if f.row == chosen[0].row and f.column == j), None)
    else:
        fact = next((f for f in chosen if not f.blank), chosen[0] if chosen else None)
    return fact_figure_of(fact, table) if fact is not None else None


def labelled_figures(ctx: Context, table: Table, label_re: str) -> list[Figure]:
    """Every row whose label matches, with its first figure."""
    out = []
    for g in _groups_in_order(_facts_by_table(ctx).get(table.id, [])):
        if re.search(label_re, g[0].label or g[0].subject):
            fact = next((f for f in g if not f.blank), g[0])
            out.append(fact_figure_of(fact, table))
    return out


def row_label(row: Row) -> str:
    texts = [c.text for c in row.cells if c.role in ("label", "text")]
    codes = [c.text for c in row.cells if c.role == "code"]
    return " ".join(codes[:1] + texts[:1]) or (row.cells[0].text if row.cells else "")


# -- evidence ---------------------------------------------------------------------------------


def quote(sentence: Sentence, claim: Claim | None = None, width: int = 70) -> str:
    text = sentence.text
    if claim is None or len(text) <= 2 * width:
        return text
    lo = max(0, claim.start - width)
    hi = min(len(text), claim.start + len(claim.text) + width // 2)
    return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def ev_sentence(sentence: Sentence, claim: Claim | None = None) -> Evidence:
    return Evidence(
        page=sentence.page_at(claim.start) if claim else sentence.page,
        source="narrative" if sentence.paragraph >= 0 else "table",
        text=quote(sentence, claim),
        table=sentence.section if sentence.paragraph < 0 else None,
        bbox=sentence.bbox,
        value=claim.text if claim else None,
    )


def ev_figure(fig: Figure) -> Evidence:
    where = " / ".join(x for x in (fig.label, fig.column) if x)
    return Evidence(
        page=fig.page,
        source="table",
        text=where or table_name(fig.table),
        table=table_name(fig.table),
        bbox=fig.bbox,
        value=fig.text,
    )


def fact_label(fact: Fact) -> str:
    """A fact's row as a reader names it: its code and subject."""
    return " ".join(x for x in (fact.code or "", fact.subject) if x)


def ev_fact(fact: Fact, table: Table) -> Evidence:
    """A table fact as evidence: its code and subject, its column, the cell as printed."""
    label = fact_label(fact)
    return Evidence(page=fact.page, source="table",
                    text=" / ".join(x for x in (label, fact.header) if x),
                    table=table_name(table), bbox=fact.bbox, value=fact.text or "空白")


def ev_cell(table: Table, row: Row, cell: Cell, column: str | None = None) -> Evidence:
    j = row.cells.index(cell) if cell in row.cells else -1
    col = column if column is not None else (table.columns[j] if 0 <= j < len(table.columns) else "")
    where = " / ".join(x for x in (row_label(row), col) if x)
    return Evidence(page=cell.page, source="table", text=where, table=table_name(table),
                    bbox=cell.bbox, value=cell.text or "空白")


def amount(value: float, unit: str = "万元", decimals: int = 2) -> str:
    if unit == "%":
        return f"{value:.{decimals}f}%"
    return f"{format_amount(value, decimals)}{unit}"


def finding(
    rule_id: str,
    message: str,
    evidence: list[Evidence],
    stated: float | None = None,
    expected: float | None = None,
    unit: str | None = None,
    section: str = "",
    severity: Severity | None = None,
) -> Finding:
    shown: set[tuple[int, str]] = set()
    unique = []
    for e in evidence:  # one sentence quoted once, however many of its figures are cited
        key = (e.page, e.text)
        if e.source == "narrative" and key in shown:
            continue
        shown.add(key)
        unique.append(e)
    evidence = unique
    return Finding(
        rule=rule_id,
        severity=severity or RULES[rule_id].severity,
        message=message,
        stated=None if stated is None else round(stated, 6),
        expected=None if expected is None else round(expected, 6),
        unit=unit,
        section=section,
        evidence=evidence,
    )
