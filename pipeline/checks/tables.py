"""Identities within tables and across tables (DOMAIN: 表内 and 表间 relations)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.checks.base import (
    Context,
    Figure,
    amount,
    compare,
    ev_cell,
    ev_fact,
    ev_figure,
    fact_figure,
    fact_figure_of,
    finding,
    labelled_figures,
    rule,
    severity_for,
    table_name,
)
from pipeline.numbers import CN
from schemas.document import Table
from schemas.facts import Fact
from schemas.findings import Evidence, Finding


def _sum_check(
    rule_id: str, total: Figure | None, parts: list[Figure], what: str, section: str = ""
) -> Iterator[Finding]:
    """total must equal the sum of parts, within the rounding of every printed figure."""
    if total is None or not parts:
        return
    expected = sum(p.value for p in parts)
    verdict = compare(total.value, total.decimals, expected, sum(p.tol for p in parts))
    if verdict.ok:
        return
    unit = total.table.unit or "万元"
    names = "、".join(p.label or p.column for p in parts[:6]) + ("等" if len(parts) > 6 else "")
    yield finding(
        rule_id,
        f"{table_name(total.table)}“{what}”为{amount(total.value, unit)}，"
        f"而{names}之和为{amount(expected, unit)}，相差{amount(verdict.diff, unit)}。",
        [ev_figure(total), *[ev_figure(p) for p in parts[:8]]],
        stated=total.value,
        expected=expected,
        unit=unit,
        section=section or table_name(total.table),
        severity=severity_for(verdict, "error"),
    )


def _equal_check(
    rule_id: str, a: Figure | None, b: Figure | None, what: str
) -> Iterator[Finding]:
    if a is None or b is None:
        return
    verdict = compare(a.value, a.decimals, b.value, b.tol)
    if verdict.ok:
        return
    unit = a.table.unit or "万元"
    yield finding(
        rule_id,
        f"{what}：{table_name(a.table)}为{amount(a.value, unit)}，"
        f"{table_name(b.table)}为{amount(b.value, unit)}，两者应相等。",
        [ev_figure(a), ev_figure(b)],
        stated=a.value,
        expected=b.value,
        unit=unit,
        section=f"{table_name(a.table)}与{table_name(b.table)}",
        severity=severity_for(verdict, "error"),
    )


# -- within tables ----------------------------------------------------------------------------


def _income_and_spending(ctx: Context, rule_id: str, t: Table, income_items: str,
                         more_in: tuple[str, ...], more_out: tuple[str, ...], balance: str
                         ) -> Iterator[Finding]:
    """A 收入支出总表's two sides: each 本年 total against its numbered items, each 总计 against
    its total and the carry-over rows, and the two 总计 equal."""
    income = fact_figure(ctx, t, r"^本年收入合计$")
    spend = fact_figure(ctx, t, r"^本年支出合计$")
    yield from _sum_check(rule_id, income, labelled_figures(ctx, t, rf"^[{CN}]+、.*{income_items}$"),
                          "本年收入合计")
    yield from _sum_check(rule_id, spend, labelled_figures(ctx, t, rf"^[{CN}]+、.*支出$"),
                          "本年支出合计")
    total_in = fact_figure(ctx, t, r"^总计$", nth=0)
    total_out = fact_figure(ctx, t, r"^总计$", nth=1)
    parts_in = [income, *(fact_figure(ctx, t, r) for r in more_in)]
    parts_out = [spend, *(fact_figure(ctx, t, r) for r in more_out)]
    yield from _sum_check(rule_id, total_in, [p for p in parts_in if p], "收入总计")
    yield from _sum_check(rule_id, total_out, [p for p in parts_out if p], "支出总计")
    yield from _equal_check(rule_id, total_in, total_out, balance)


@rule("tbl.fa01", "error", "收入支出决算总表：本年收入/支出合计等于各项之和，总计的构成及收支总计相等。")
def check_fa01(ctx: Context) -> Iterator[Finding]:
    t = ctx.doc.table("fa01")
    if t is not None:
        yield from _income_and_spending(
            ctx, "tbl.fa01", t, "收入", (r"^使用非财政拨款结余", r"^年初结转和结余"),
            (r"^结余分配", r"^年末结转和结余"), "收入总计与支出总计")


@rule("tbl.fa04", "error", "财政拨款收入支出决算总表：收入合计、总计构成、收支平衡及各列合计。")
def check_fa04(ctx: Context) -> Iterator[Finding]:
    t = ctx.doc.table("fa04")
    if t is None:
        return
    yield from _income_and_spending(
        ctx, "tbl.fa04", t, "财政拨款", (r"^年初财政拨款结转和结余$",),
        (r"^年末财政拨款结转和结余$",), "财政拨款收入总计与支出总计")
    yield from _column_sums(ctx, t, "tbl.fa04", r"支出/合计", [r"一般公共预算", r"政府性基金", r"国有资本"])


def _column_sums(
    ctx: Context, t: Table, rule_id: str, total_re: str, part_res: list[str]
) -> Iterator[Finding]:
    """Per row: the total column equals the sum of the part columns."""
    from pipeline.checks.base import column_index

    jt = column_index(t, total_re)
    jps = [j for j in (column_index(t, p) for p in part_res) if j is not None and j != jt]
    if jt is None or not jps:
        return
    rows: dict[int, dict[int, Fact]] = {}
    for f in ctx.facts:
        if f.table == t.id:
            rows.setdefault(f.row, {})[f.column] = f
    for cells in rows.values():
        total = cells.get(jt)
        if total is None or total.blank:
            continue
        name = f"{total.code or ''} {total.label or total.subject}".strip() or "行"
        yield from _sum_check(rule_id, fact_figure_of(total, t),
                              [fact_figure_of(cells[j], t) for j in jps if j in cells],
                              f"{name}/{t.columns[jt]}")


@rule("tbl.fa06", "error", "基本支出决算明细表：人员经费合计=301+303，公用经费合计=其余各类，各类=所属款之和。")
def check_fa06(ctx: Context) -> Iterator[Finding]:
    t = ctx.doc.table("fa06")
    if t is None:
        return
    codes: dict[str, Figure] = {}
    for f in sorted((f for f in ctx.facts if f.table == t.id), key=lambda f: (f.row, f.column)):
        if f.code and re.fullmatch(r"\d{3}(\d{2})?", f.code) and f.code not in codes:
            codes[f.code] = fact_figure_of(f, t)  # the first figure after the code: 决算数
    groups = [c for c in codes if len(c) == 3]
    for g in groups:
        items = [f for c, f in codes.items() if len(c) == 5 and c.startswith(g)]
        yield from _sum_check("tbl.fa06", codes[g], items, codes[g].label)
    personnel = fact_figure(ctx, t, r"^人员经费合计$")
    public = fact_figure(ctx, t, r"^公用经费合计$")
    yield from _sum_check("tbl.fa06", personnel, [codes[g] for g in ("301", "303") if g in codes],
                          "人员经费合计")
    others = [codes[g] for g in groups if g not in ("301", "303")]
    yield from _sum_check("tbl.fa06", public, others, "公用经费合计")


@rule("tbl.fa09", "error", "“三公”经费表（决算与预算）：合计=因公出国+公务用车小计+公务接待，小计=购置+运行维护。")
def check_fa09(ctx: Context) -> Iterator[Finding]:
    for kind in ("fa09", "bu10"):
        t = ctx.doc.table(kind)
        if t is None or not t.data_rows():
            continue
        halves = [h for h in ("预算数", "决算数") if any(c.startswith(h + "/") for c in t.columns)]
        if not halves and _only_three_public(t.columns):
            halves = [""]  # a budget's one set of columns: 合计, 因公出国, 公务接待, 小计 …
        for half in halves:
            prefix = rf"^{half}/" if half else r"(^|/)"

            def f(col: str, prefix: str = prefix, t: Table = t) -> Figure | None:
                return fact_figure(ctx, t, None, prefix + col)

            total, sub = f("合计"), f(r".*小计")
            parts = [f(r"因公出国"), sub, f(r".*公务接待")]
            what = f"{half}合计" if half else "“三公”经费合计"
            yield from _sum_check("tbl.fa09", total, [p for p in parts if p], what)
            car = [f(r".*公务用车购置费"), f(r".*公务用车运行维护费")] if half else \
                [f(r".*购置费$"), f(r".*运行(维护)?费$")]
            yield from _sum_check("tbl.fa09", sub, [p for p in car if p], f"{half}公务用车小计")


THREE_PUBLIC_COLUMNS = re.compile(r"合计|因公出国|公务接待|小计|购置费|运行(维护)?费|机关运行经费")


def _only_three_public(columns: list[str]) -> bool:
    """A table of one set of columns whose 合计 can only be the 三公 total: one 合计 and no
    other spending beside the 三公 items (a 会议费 or 培训费 column makes 合计 their total too)."""
    leaves = [c.split("/")[-1] for c in columns]
    return leaves.count("合计") == 1 and all(THREE_PUBLIC_COLUMNS.search(c) for c in leaves if c)


@rule("tbl.fa10", "error", "相关信息统计表：政府采购合计=货物+工程+服务；车辆数合计=各类车辆之和。")
def check_fa10(ctx: Context) -> Iterator[Finding]:
    t = ctx.doc.table("fa10")
    if t is None:
        return
    total = fact_figure(ctx, t, r"^合计$")
    parts = [fact_figure(ctx, t, rf"^{k}$") for k in ("货物", "工程", "服务")]
    yield from _sum_check("tbl.fa10", total, [p for p in parts if p], "政府采购合计")
    cars = fact_figure(ctx, t, r"车辆数合计")
    kinds = labelled_figures(ctx, t, r"^\d+\..*用车$")
    yield from _sum_check("tbl.fa10", cars, kinds, "车辆数合计")


EMPTY_KINDS = ("fa07", "fa08", "bu07", "bu08", "bu09", "bu10", "bu11", "bu13")


FUND_WORDS = {"fa07": "政府性基金", "fa08": "国有资本", "bu07": "政府性基金", "bu08": "政府性基金",
              "bu09": "国有资本", "bu10": "三公", "bu11": "机关运行", "bu13": "结转"}


ZERO_RE = re.compile(r"(?<![\d.,])0(?:\.0+)?\s*(?:万?元|$)|为零$")
CLAUSE_RE = re.compile(r"[^；;。，,]+")


def _explained_nearby(ctx: Context, t: Table) -> bool:
    """A statement printed beside the table but read as narrative (below it, on its pages), or
    one in the narrative that names the table's fund and says there is none."""
    from pipeline.segment.tables import EMPTY_RE

    pages = set(t.pages) | {t.pages[-1] + 1}
    word = FUND_WORDS.get(t.kind, "")
    if _declared_empty(ctx, t):
        return True
    for s in ctx.doc.sections:
        for b in s.blocks:
            if EMPTY_RE.search(b.text) and b.page in pages:
                return True
            for clause in CLAUSE_RE.findall(b.text) if word and word in b.text else ():
                if word in clause and (EMPTY_RE.search(clause) or ZERO_RE.search(clause.strip())):
                    return True  # 政府性基金拨款支出预算为0；政府性基金支出预算支出0万元
        if word and word in s.title and EMPTY_RE.search(s.title):
            return True
    return False


def _declared_empty(ctx: Context, t: Table) -> bool:
    """The report's list of tables says this one is empty: a 目录 line naming it with 不涉及 / 空表,
    or a row of a 报表 | 是否空表 | 理由 list (表9 | 是 | 本单位无政府性基金预算)."""
    from pipeline.segment.tables import EMPTY_RE

    code = re.sub(r"\s+", "", t.code or "")
    title = re.sub(r"\s+|^\d{4}年度?", "", t.title)
    for e in ctx.doc.toc:
        text = re.sub(r"\s+", "", e.title)
        named = title and title in text or code and re.match(re.escape(code) + r"(?=\D|20\d\d)", text)
        if named and (EMPTY_RE.search(text) or "空表" in text or re.search(r"表是(?!否)", text)):
            return True  # …收支表 | 是 | 本单位无政府性基金预算: the 是否空表 column says 是
    for other in ctx.doc.tables:
        for row in other.rows:
            cells = [re.sub(r"\s+", "", c.text) for c in row.cells if c.text.strip()]
            if cells and code and cells[0] == code and len(cells) >= 2 and (
                    cells[1] == "是" or EMPTY_RE.search("".join(cells[1:]))):
                return True
    return False


@rule("tbl.empty_statement", "warning", "无数据的表应注明“本表无数据”等说明。")
def check_empty_statement(ctx: Context) -> Iterator[Finding]:
    for t in ctx.doc.tables:
        if t.kind not in EMPTY_KINDS:
            continue
        has_value = any(
            c.role == "amount" and c.value for r in t.data_rows() for c in r.cells
        )
        if not has_value and not t.empty_statement and not _explained_nearby(ctx, t):
            yield finding(
                "tbl.empty_statement",
                f"{table_name(t)}{t.title}没有数据，但未注明“本表无数据”或说明原因。",
                [Evidence(page=t.pages[0], source="table", text=t.title, table=table_name(t),
                          bbox=t.rows[0].bbox if t.rows else None)],
                section=table_name(t),
            )


# -- across tables ----------------------------------------------------------------------------


def _fig(ctx: Context, kind: str, row_re: str | None, col_re: str | None = None, nth: int = 0):
    return fact_figure(ctx, ctx.doc.table(kind), row_re, col_re, nth)


@rule("x.totals", "error", "表间一致：01表收入/支出合计与02/03表合计，02表财政拨款收入与04表，04表与05表，05表基本支出与06表；基本支出相同的两表，人员经费与公用经费的划分也相同。")
def check_cross_totals(ctx: Context) -> Iterator[Finding]:
    pairs = [
        (("fa01", r"^本年收入合计$", None), ("fa02", r"^合计$", r"本年收入合计"), "本年收入合计"),
        (("fa01", r"^本年支出合计$", None), ("fa03", r"^合计$", r"本年支出合计"), "本年支出合计"),
        (("fa02", r"^合计$", r"财政拨款收入"), ("fa04", r"^本年收入合计$", None), "财政拨款收入"),
        (("fa04", r"^本年支出合计$", r"一般公共预算"), ("fa05", r"^合计$", r"小计$"),
         "一般公共预算财政拨款支出"),
        (("bu01", r"^本年收入合计$", None), ("bu02", r"^合计$", r"本年收入/合计$"), "本年收入合计"),
        (("bu01", r"^本年支出合计$", None), ("bu03", r"^合计$", r"/合计$"), "本年支出合计"),
        (("bu05", r"^合计$", r"/基本支出$"), ("bu06", r"^合计$", r"/合计$"), "一般公共预算基本支出"),
        # the 收支总表's 上年结转 其中 财政拨款 is the 财政拨款收支总表's 上年结转
        (("bu01", r"^其中[:：]?财政拨款(资金)?结转(和结余)?$", None),
         ("bu04", r"^(上年|年初)(财政拨款)?结转(和结余)?$", None), "上年财政拨款结转"),
    ]
    for (ka, ra, ca), (kb, rb, cb), what in pairs:
        yield from _equal_check("x.totals", _fig(ctx, ka, ra, ca), _fig(ctx, kb, rb, cb), what)
    basic = _fig(ctx, "fa05", r"^合计$", r"基本支出$")
    personnel = _fig(ctx, "fa06", r"^人员经费合计$")
    public = _fig(ctx, "fa06", r"^公用经费合计$")
    if basic and personnel and public:
        yield from _sum_check("x.totals", basic, [personnel, public], "合计/基本支出（对06表人员经费与公用经费）")
    yield from _basic_split(ctx)


def _basic_split(ctx: Context) -> Iterator[Finding]:
    """Two tables whose totals give the same 基本支出 must split it alike into 人员经费 and
    公用经费 (the 收支总表's 支出总计 against the 基本支出经济分类表's 合计); with different
    totals (other funds in one of them) the splits are not comparable."""
    from pipeline.facts import is_total

    splits: dict[str, dict[str, Fact]] = {}
    for f in ctx.facts:
        if f.measure in ("人员经费", "公用经费") and is_total(f.subject) and not f.blank \
                and f.period == "current" and not f.sub_item:
            splits.setdefault(f.table, {}).setdefault(f.measure, f)
    pairs = [(t, v["人员经费"], v["公用经费"]) for t, v in splits.items()
             if "人员经费" in v and "公用经费" in v]
    tables = {t.id: t for t in ctx.doc.tables}
    for i, (ta, pa, ua) in enumerate(pairs):
        for tb, pb, ub in pairs[i + 1:]:
            total_a, total_b = pa.value + ua.value, pb.value + ub.value
            tol = sum(f.half_unit for f in (pa, ua, pb, ub))
            if abs(total_a - total_b) > tol + 1e-9:
                continue
            verdict = compare(pa.value, None, pb.value, tol)
            if verdict.ok:
                continue
            a, b = tables[ta], tables[tb]
            # in the unit both tables print (元 tables: 元), else in 万元
            unit = "元" if pa.unit == pb.unit == "元" else "万元"
            k = 1e4 if unit == "元" else 1.0
            yield finding(
                "x.totals",
                f"基本支出{amount(total_a * k, unit)}在{table_name(a)}中分为人员经费"
                f"{amount(pa.value * k, unit)}、公用经费{amount(ua.value * k, unit)}，在"
                f"{table_name(b)}中分为人员经费{amount(pb.value * k, unit)}、公用经费"
                f"{amount(ub.value * k, unit)}，两表应一致。",
                [ev_fact(pa, a), ev_fact(ua, a), ev_fact(pb, b), ev_fact(ub, b)],
                stated=round(pa.value * k, 6),
                expected=round(pb.value * k, 6),
                unit=unit,
                section=f"{table_name(a)}与{table_name(b)}",
                severity=severity_for(verdict, "error"),
            )


@rule("x.fund_tables", "error", "政府性基金/国有资本经营预算表为空时，04表对应列也应为零，反之亦然。")
def check_fund_tables(ctx: Context) -> Iterator[Finding]:
    t04 = ctx.doc.table("fa04")
    for kind, col in (("fa07", r"政府性基金"), ("fa08", r"国有资本经营")):
        t = ctx.doc.table(kind)
        if t is None or t04 is None:
            continue
        f04 = fact_figure(ctx, t04, r"^本年支出合计$", col)
        has_data = any(c.role == "amount" and c.value for r in t.data_rows() for c in r.cells)
        if f04 is not None and bool(f04.value) != has_data:
            state = "无数据" if not has_data else "有数据"
            yield finding(
                "x.fund_tables",
                f"{table_name(t)}{state}，但公开04表“{f04.column}”本年支出为{amount(f04.value)}。",
                [ev_figure(f04)],
                stated=f04.value,
                expected=0.0 if not has_data else None,
                unit="万元",
                section=table_name(t),
            )
    yield from _budget_fund_tables(ctx)


# a budget's fund table, and the 财政拨款收支总表 rows or columns that state the same fund
BUDGET_FUNDS = (("bu08", "政府性基金"), ("bu09", "国有资本经营"), ("bu04", "一般公共预算"))
FUND_SOURCES = ("bu01", "bu02", "bu04", "bu05")  # the tables that state a fund's amount


def _budget_fund_tables(ctx: Context) -> Iterator[Finding]:
    """A budget fund table printed empty while two other tables give that fund the same amount
    (a 财政拨款收支总表 left blank, "2026年没有使用财政拨款", beside a 收支总表 and a 收入总表 that
    give 一般公共预算 money)."""

    for kind, word in BUDGET_FUNDS:
        t = ctx.doc.table(kind)
        if t is None or any(c.role == "amount" and c.value for r in t.data_rows() for c in r.cells):
            continue
        stated = [f for f in ctx.facts if f.kind in FUND_SOURCES and f.kind != kind and f.value > 0
                  and not f.sub_item and (f.subject.endswith((word, word + "预算", word + "预算资金",
                                                              word + "收入", word + "预算收入"))
                                          or (f.measure == word and not f.code
                                              and f.subject.endswith(("合计", "总计"))))]
        # two tables that agree on the amount: one misread table cannot raise this alone
        agreed = [f for f in stated if any(g.table != f.table and abs(g.value - f.value) <= 0.01
                                           for g in stated)]
        if agreed:
            f = agreed[0]
            src = next(x for x in ctx.doc.tables if x.id == f.table)
            yield finding(
                "x.fund_tables",
                f"{table_name(t)}无数据，但{table_name(src)}列有“{f.subject}”{amount(f.value)}。",
                [ev_fact(f, src)],
                stated=round(f.value, 2), expected=0.0, unit="万元", section=table_name(t),
            )


NAME_KINDS = (("fa02", "fa03", "fa05"), ("bu02", "bu03", "bu05"))


# a unit's name where a 收入总表 lists units by their own codes (单位编码 201 中共西安市委宣传部)
ORGANISATION_RE = re.compile(r"(部|局|委员会|办公室|办公厅|厅|院|中心|支队|大队|所|站|馆|学校|委)(本级)?$|[市省区县]")


@rule("x.subject_names", "warning", "同一科目代码在不同表中的科目名称应一致。")
def check_subject_names(ctx: Context) -> Iterator[Finding]:
    """On facts: one name per (table, row) with a whole subject code (3, 5 or 7 digits; a 款 or
    项 code printed without its 类 is not a code to compare), units' own codes left out."""
    from pipeline.checks.identities import _cross_subjects

    yield from (f for f in _cross_subjects(ctx) if f.rule == "x.subject_names")
    tables = {t.id: t for t in ctx.doc.tables}
    for kinds in NAME_KINDS:
        seen: dict[str, Fact] = {}
        reported: set[str] = set()
        rows: set[tuple[str, int]] = set()
        for f in sorted((f for f in ctx.facts if f.kind in kinds), key=lambda f: (
                kinds.index(f.kind), f.table, f.row)):
            if (f.table, f.row) in rows or not f.code or len(f.code) not in (3, 5, 7) \
                    or not f.code.isdigit() or not f.subject or ORGANISATION_RE.search(f.subject) \
                    or re.search(r"\d{3}", f.subject):  # figures run into the name cell
                continue
            rows.add((f.table, f.row))
            first = seen.setdefault(f.code, f)
            if first.subject == f.subject or f.code in reported or first.table == f.table:
                continue
            reported.add(f.code)
            t0, t = tables[first.table], tables[f.table]
            yield finding(
                "x.subject_names",
                f"科目{f.code}在{table_name(t0)}中名为“{first.subject}”，"
                f"在{table_name(t)}中名为“{f.subject}”。",
                [_ev_name(first, t0), _ev_name(f, t)],
                section=f"{table_name(t0)}与{table_name(t)}",
            )


def _ev_name(f: Fact, t: Table) -> Evidence:
    """The row's name cell as evidence (its box outlined on the page)."""
    row = t.rows[f.row]
    cell = next((c for c in row.cells if c.role in ("label", "text")), None)
    return ev_cell(t, row, cell, "科目名称") if cell else ev_fact(f, t)
