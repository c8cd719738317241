"""Narrative figures against table figures: the phrases of the standard 情况说明 template and
the table cell each restates."""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from pipeline.checks.base import (
    EPS,
    Context,
    Figure,
    Verdict,
    amount,
    compare,
    ev_fact,
    ev_figure,
    ev_sentence,
    fact_figure,
    finding,
    norm,
    rule,
    severity_for,
    shared,
    table_name,
)
from pipeline.checks.narrative import NUM, narrative
from pipeline.facts import TOTAL_LEAVES, first_columns, header_leaf, is_total
from pipeline.numbers import CN, half_unit, parse_number
from pipeline.vocabulary import claim_concept, clean, concept, of_source
from schemas.claims import Claim, Sentence
from schemas.facts import Fact
from schemas.findings import Evidence, Finding


@dataclass(frozen=True)
class Ref:
    """A phrase of the standard 情况说明 template and the table figure it restates."""

    section: str
    pattern: str
    kind: str
    row: str | None
    col: str | None = None
    nth: int = 0
    what: str = ""
    count: bool = False


M = r"万元"
REFS: tuple[Ref, ...] = (
    # 决算
    Ref(r"收入支出决算总体", rf"(?<!拨款)收入总计{NUM}{M}", "fa01", r"^总计$", None, 0, "收入总计"),
    Ref(r"收入支出决算总体", rf"(?<!拨款)(?<!收入)支出总计{NUM}{M}", "fa01", r"^总计$", None, 1,
        "支出总计"),
    Ref(r"收入决算情况", rf"收入合计{NUM}{M}", "fa01", r"^本年收入合计$", None, 0, "本年收入合计"),
    Ref(r"收入决算情况", rf"财政拨款收入{NUM}{M}", "fa02", r"^合计$", r"财政拨款收入", 0, "财政拨款收入"),
    Ref(r"收入决算情况", rf"上级补助收入{NUM}{M}", "fa02", r"^合计$", r"上级补助", 0, "上级补助收入"),
    Ref(r"收入决算情况", rf"事业收入{NUM}{M}", "fa02", r"^合计$", r"事业收入", 0, "事业收入"),
    Ref(r"收入决算情况", rf"(?<!非)经营收入{NUM}{M}", "fa02", r"^合计$", r"经营收入", 0, "经营收入"),
    Ref(r"收入决算情况", rf"附属单位上缴收入{NUM}{M}", "fa02", r"^合计$", r"附属单位", 0,
        "附属单位上缴收入"),
    Ref(r"收入决算情况", rf"其他收入{NUM}{M}", "fa02", r"^合计$", r"其他收入", 0, "其他收入"),
    Ref(rf"[{CN}]+、支出决算情况", rf"支出合计{NUM}{M}", "fa01", r"^本年支出合计$", None, 0, "本年支出合计"),
    Ref(rf"[{CN}]+、支出决算情况", rf"基本支出{NUM}{M}", "fa03", r"^合计$", r"基本支出", 0, "基本支出"),
    Ref(rf"[{CN}]+、支出决算情况", rf"项目支出{NUM}{M}", "fa03", r"^合计$", r"项目支出", 0, "项目支出"),
    Ref(rf"[{CN}]+、支出决算情况", rf"上缴上级支出{NUM}{M}", "fa03", r"^合计$", r"上缴上级", 0,
        "上缴上级支出"),
    Ref(rf"[{CN}]+、支出决算情况", rf"经营支出{NUM}{M}", "fa03", r"^合计$", r"经营支出", 0, "经营支出"),
    Ref(r"财政拨款收支决算总体", rf"财政拨款收入总计{NUM}{M}", "fa04", r"^总计$", None, 0,
        "财政拨款收入总计"),
    Ref(r"财政拨款收支决算总体", rf"(?<!收入)支出总计{NUM}{M}", "fa04", r"^总计$", None, 1,
        "财政拨款支出总计"),
    Ref(r"支出决算总体情况", rf"决算支出{NUM}{M}", "fa05", r"^合计$", r"小计$", 0,
        "一般公共预算财政拨款支出"),
    Ref(r"支出决算结构情况", rf"财政拨款支出{NUM}{M}", "fa05", r"^合计$", r"小计$", 0,
        "一般公共预算财政拨款支出"),
    Ref(r"支出决算结构情况", rf"(?P<name>[\u4e00-\u9fff]+支出)\(类\){NUM}{M}", "fa05",
        r"^{name}$", r"小计$", 0, "{name}"),
    Ref(r"支出决算具体情况", rf"^(?:\d{{4}}年度?)?一般公共预算财政拨款支出年初预算[\d,.]+万元，支出决算{NUM}{M}",
        "fa05", r"^合计$", r"小计$", 0, "一般公共预算财政拨款支出决算"),
    Ref(r"支出决算具体情况", rf"^(?P<name>[\u4e00-\u9fff]+支出)年初预算[\d,.]+万元，支出决算{NUM}{M}",
        "fa05", r"^{name}$", r"小计$", 0, "{name}决算"),
    Ref(r"基本支出决算情况", rf"基本支出{NUM}{M}", "fa05", r"^合计$", r"基本支出$", 0, "财政拨款基本支出"),
    Ref(r"基本支出决算情况", rf"人员经费{NUM}{M}", "fa06", r"^人员经费合计$", None, 0, "人员经费"),
    Ref(r"基本支出决算情况", rf"公用经费{NUM}{M}", "fa06", r"^公用经费合计$", None, 0, "公用经费"),
    Ref(r"三公", rf"全年预算{NUM}{M}", "fa09", None, r"^预算数/合计", 0, "“三公”经费全年预算"),
    Ref(r"三公", rf"支出决算{NUM}{M}", "fa09", None, r"^决算数/合计", 0, "“三公”经费支出决算"),
    Ref(r"三公", rf"因公出国\(境\)费(?:支出)?{NUM}{M}", "fa09", None, r"^决算数/因公出国", 0,
        "因公出国（境）费"),
    Ref(r"三公", rf"公务用车购置费?(?:支出)?{NUM}{M}", "fa09", None, r"^决算数/.*公务用车购置费", 0,
        "公务用车购置费"),
    Ref(r"三公", rf"公务用车运行维护费(?:支出)?{NUM}{M}", "fa09", None, r"^决算数/.*运行维护费$", 0,
        "公务用车运行维护费"),
    Ref(r"三公", rf"公务接待费(?:支出)?{NUM}{M}", "fa09", None, r"^决算数/公务接待费", 0, "公务接待费"),
    Ref(r"政府采购", rf"政府采购支出总额{NUM}{M}", "fa10", r"^合计$", None, 0, "政府采购支出总额"),
    Ref(r"政府采购", rf"货物支出{NUM}{M}", "fa10", r"^货物$", None, 0, "政府采购货物支出"),
    Ref(r"政府采购", rf"工程支出{NUM}{M}", "fa10", r"^工程$", None, 0, "政府采购工程支出"),
    Ref(r"政府采购", rf"服务支出{NUM}{M}", "fa10", r"^服务$", None, 0, "政府采购服务支出"),
    Ref(r"机关运行经费", rf"机关运行经费(?:支出)?{NUM}{M}", "fa10", r"行政单位$|参照公务员法", None, 0,
        "机关运行经费"),
    Ref(r"国有资产", rf"共有车辆{NUM}辆", "fa10", r"车辆数合计", None, 0, "车辆数", True),
    Ref(r"国有资产", rf"单价100万元\(含\)以上设备\(不含车辆\){NUM}台", "fa10", r"单价100万元", None, 0,
        "单价100万元以上设备", True),
    # 预算
    Ref(r"收支数据变动|收支总体|总体情况", rf"预算收入总计{NUM}{M}", "bu01", r"^收入总计$", None, 0,
        "预算收入总计"),
    Ref(r"收支数据变动|收支总体|总体情况", rf"(?<!收入)支出总计{NUM}{M}", "bu01", r"^支出总计$", None, 0,
        "预算支出总计"),
    Ref(r"收入预算情况", rf"预算收入{NUM}{M}", "bu02", r"^合计$", r"本年收入/合计$", 0, "预算收入"),
    Ref(r"收入预算情况", rf"一般公共预算拨款收入{NUM}{M}", "bu02", r"^合计$", r"本年收入/一般公共预算", 0,
        "一般公共预算拨款收入"),
    Ref(r"支出预算情况", rf"支出预算{NUM}{M}", "bu03", r"^合计$", r"/合计$", 0, "支出预算"),
    Ref(r"支出预算情况", rf"基本支出{NUM}{M}", "bu03", r"^合计$", r"/基本支出$", 0, "基本支出"),
    Ref(r"支出预算情况", rf"项目支出{NUM}{M}", "bu03", r"^合计$", r"/项目支出$", 0, "项目支出"),
    Ref(r"财政拨款收支预算总体", rf"总预算{NUM}{M}", "bu04", r"^收入总计$", None, 0, "财政拨款收支总预算"),
    Ref(r"一般公共预算支出情况", rf"当年支出{NUM}{M}", "bu05", r"^合计$", r"/合计$", 0, "一般公共预算当年支出"),
    Ref(r"一般公共预算支出情况", rf"(?P<name>[\u4e00-\u9fff]+支出){NUM}{M}，占", "bu05", r"^{name}$",
        r"/合计$", 0, "{name}"),
    Ref(r"基本支出情况", rf"基本支出{NUM}{M}", "bu06", r"^合计$", r"/合计$", 0, "基本支出"),
    Ref(r"基本支出情况", rf"人员经费{NUM}{M}", "bu06", r"^合计$", r"/人员经费$", 0, "人员经费"),
    Ref(r"基本支出情况", rf"公用经费{NUM}{M}", "bu06", r"^合计$", r"/公用经费$", 0, "公用经费"),
    Ref(r"三公", rf"“三公”经费预算{NUM}{M}", "bu10", r"^合计$", r"/合计", 0, "“三公”经费预算"),
)


def _ref_figure(ctx: Context, ref: Ref, name: str | None) -> Figure | None:
    table = ctx.doc.table(ref.kind)
    if table is None:
        return None
    row = ref.row.replace("{name}", re.escape(name or "")) if ref.row else None
    if row and "|" in row and "{" not in (ref.row or ""):
        figs = [f for f in (fact_figure(ctx, table, part) for part in row.split("|")) if f is not None]
        if not figs:
            return None
        total = sum(f.value for f in figs)
        return Figure(total, figs[0].decimals, "+".join(f.text for f in figs), figs[0].page,
                      figs[0].bbox, "、".join(f.label for f in figs), figs[0].column, table)
    if row is None and not table.data_rows():
        # a table printed without a data row holds zeros
        return Figure(0.0, None, "空表", table.pages[0], table.rows[-1].bbox if table.rows else
                      (0, 0, 0, 0), "", ref.col or "", table)
    return fact_figure(ctx, table, row, ref.col, ref.nth)


@rule("nar.table_figure", "error", "情况说明中的金额、数量应与对应表格数一致。")
def check_table_figures(ctx: Context) -> Iterator[Finding]:
    def key(f: Finding) -> tuple:
        return (f.stated, *((e.page, e.text) for e in f.evidence))

    def claim(f: Finding) -> tuple:
        return (f.stated, f.evidence[0].page, f.evidence[0].text) if f.evidence else ()

    seen: set[tuple] = set()
    said: set[tuple] = set()  # the claims reported: not again from another print of the same
    for f in _template_figures(ctx):
        seen.add(key(f))
        said.add(claim(f))
        yield f
    for f in [*subject_figures(ctx), *column_figures(ctx), *concept_figures(ctx),
              *target_figures(ctx), *target_budgets(ctx), *procurement_figures(ctx)]:
        if key(f) not in seen and claim(f) not in said:
            seen.add(key(f))
            said.add(claim(f))
            yield f


# the money a 绩效目标 plans for the budget year: 计划于2026年使用816.36万元, 计划使用财政预算资金498万元
# (one year, one clause: 计划于2024年至2026年，使用2738万元 is the whole multi-year plan)
PLANNED_RE = re.compile(r"(?:计划|拟|将|预计)(?:于?20\d\d年度?)?(?:使用|投入|安排)[^，,。；;至]{0,10}$")


def target_figures(ctx: Context) -> Iterator[Finding]:
    """A project's 绩效目标 that plans more money for the year than the project is budgeted in its
    own table (a part may be planned for one purpose; more than the whole cannot)."""
    from pipeline.checks.narrative import MONEY, wan, wan_tol

    found: dict[tuple[float, float], Finding] = {}
    for t in ctx.claims.targets:
        for s in t.texts:
            for c in s.claims:
                if c.kind != "amount" or c.unit not in MONEY or not PLANNED_RE.search(
                        s.text[:c.start]):
                    continue
                value = wan(c)
                if t.budget <= 0 or value <= t.budget + t.half_unit + wan_tol(c) + 1e-9:
                    continue
                table = next(x for x in ctx.doc.tables if x.id == t.table)
                where = table_name(table) or table.title
                cell = Evidence(page=t.page, source="table", text=t.budget_text, table=where,
                                bbox=t.bbox, value=t.budget_text)
                key = (c.value, round(t.budget, 2))
                if key in found:  # the project's target printed again (a 重点项目 list)
                    found[key].evidence += [ev_sentence(s, c), cell]
                    break
                clause = re.split(r"[，,。；;]", s.text[:c.start])[-1]
                found[key] = finding(
                    "nar.table_figure",
                    f"“{t.name}”的绩效目标称“{clause}{c.text}”，而该项目预算为"
                    f"{amount(t.budget)}（{where}）。",
                    [ev_sentence(s, c), cell],
                    stated=c.value, expected=round(t.budget, 2), unit=c.unit, section=t.name,
                )
                break
    yield from found.values()


PROJECT_TABLES = ("bu12", "bu13")
UNIT_PREFIX_RE = re.compile(r"^[（(][^）)]{1,20}[）)]")  # （监理处）渭河流域…: the unit before the name
# a 项目类别 cell read with the name (既有住宅加装电梯专项资金经费 | 特定目标类)
CATEGORY_RE = re.compile(r"(?<=.{4})(?:特定目标|其他运转|运转|一般|专项)类$")
# a target of a whole department or fund (部门整体支出绩效目标表, 专项资金总体绩效目标表): no one row
WHOLE_RE = re.compile(r"整体|总体")
MIN_PROJECT = 8  # a project named by fewer characters (委托咨询业务) is a kind of work, not one row


def _project_rows(ctx: Context) -> dict[str, list[list[Fact]]]:
    """The rows of the project tables by project name (a unit prefix in brackets dropped)."""
    def make() -> Iterator[dict[str, list[list[Fact]]]]:
        rows: dict[tuple[str, int, int], list[Fact]] = {}
        for f in ctx.facts:
            if f.kind in PROJECT_TABLES and f.period == "current" and not f.blank:
                rows.setdefault((f.table, f.panel, f.row), []).append(f)
        out: dict[str, list[list[Fact]]] = {}
        for fs in rows.values():
            name = CATEGORY_RE.sub("", UNIT_PREFIX_RE.sub("", norm(fs[0].subject)))
            out.setdefault(name, []).append(fs)
        yield out

    return shared(ctx, "project_rows", make)[0]


def target_budgets(ctx: Context) -> Iterator[Finding]:
    """A 绩效目标表's 资金总额 against its project's row in the project table: the one project
    named once among the targets and printed on one row whose figures never give the target's
    amount (a target may give the row's whole or one fund's part of it)."""
    from collections import Counter

    forms = {t.id for t in ctx.doc.tables if t.kind == "perf_target"
             and not WHOLE_RE.search(t.title or "")}
    targets = [t for t in ctx.claims.targets if t.table in forms and t.budget > 0]
    names = Counter(norm(t.name) for t in targets)
    rows = _project_rows(ctx)
    tables = {t.id: t for t in ctx.doc.tables}
    for t in targets:
        name = norm(t.name)
        if names[name] > 1 or len(name) < MIN_PROJECT:
            continue
        # the row of that name, or of that name after its unit's (住建局 | 既有住宅加装电梯…)
        found = [fs for key, group in rows.items() if key.endswith(name) for fs in group]
        if len(found) != 1:  # none, or a name on several rows: a heading or several units
            continue
        ctx.coverage.figures += 1
        fact = min(found[0], key=lambda f: f.column)  # the row's total
        if any(abs(f.value - t.budget) <= t.half_unit + f.half_unit + EPS for f in found[0]):
            ctx.coverage.figures_matched += 1
            continue
        cell = Evidence(page=t.page, source="table", text=f"{t.name} 资金总额",
                        table=table_name(tables[t.table]) or tables[t.table].title, bbox=t.bbox,
                        value=t.budget_text)
        yield finding(
            "nar.table_figure",
            f"“{t.name}”的绩效目标表列资金总额{t.budget_text}万元，而项目支出表中该项目为"
            f"{amount(fact.value)}（{table_name(tables[fact.table])}）。",
            [cell, ev_fact(fact, tables[fact.table])],
            stated=round(t.budget, 6), expected=round(fact.value, 6), unit="万元",
            section=t.name,
        )


# the 政府采购品目 classes of the national catalogue: A goods, B works, C services
CATALOGUE_CLASSES = {"A": "货物", "B": "工程", "C": "服务"}
CATALOGUE_CELL_RE = re.compile(r"^([ABC])\d{2,}")
CLASS_CLAIM_RE = re.compile(r"(货物|工程|服务)类?(?:采购)?(?:预算)?(?:金额)?(?:为|共)?$")


def _by_catalogue(table) -> tuple[list[dict[str, float]], float, float | None, list] | None:
    """A 政府采购 table that names each item's 采购目录 (A0201…, C0206…): the items' amounts by
    class in 万元 (and again with A01 房屋和构筑物 as works, when there are such items), the
    half-unit of their sum, the table's 合计 and the item cells. None without such a column or an
    amount column."""
    cat = next((j for j, h in enumerate(table.columns) if re.search(r"采购目录|采购品目", h)), None)
    money = [j for j, h in enumerate(table.columns) if re.search(r"金额|合计", h)]
    if cat is None or not money:
        return None
    j = next((k for k in money if "预算金额" in table.columns[k]), money[-1])
    scale = 1e-4 if table.unit == "元" else 1.0
    sums = dict.fromkeys(CATALOGUE_CLASSES.values(), 0.0)
    built = 0.0  # A01 房屋和构筑物: goods by the catalogue, works when built
    half, total, cells = 0.0, None, []
    for row in table.data_rows():
        if len(row.cells) <= max(cat, j) or row.cells[j].value is None:
            continue
        m = CATALOGUE_CELL_RE.match(row.cells[cat].text)
        if m:
            sums[CATALOGUE_CLASSES[m.group(1)]] += row.cells[j].value * scale
            built += row.cells[j].value * scale if row.cells[cat].text.startswith("A01") else 0
            half += half_unit(row.cells[j].decimals or 0) * scale
            cells.append(row.cells[j])
        elif total is None and any(is_total(norm(c.text)) for c in row.cells[:cat + 1]):
            total = row.cells[j].value * scale
    if not cells:
        return None
    splits = [sums, {**sums, "货物": sums["货物"] - built, "工程": sums["工程"] + built}]
    return splits[:1 + bool(built)], half, total, cells


def procurement_figures(ctx: Context) -> Iterator[Finding]:
    """The 货物/工程/服务 split of 政府采购 in the narrative against the items of the 政府采购
    table added by their catalogue class (A 货物, B 工程, C 服务). Only where every item is
    coded (the classes add to the table's 合计) and the sentence's total is that 合计."""
    from pipeline.checks.narrative import MONEY, wan, wan_tol

    for table in ctx.doc.tables:
        read = _by_catalogue(table) if table.kind == "bu16" else None
        if read is None:
            continue
        splits, half, total, cells = read
        if total is None or abs(sum(splits[0].values()) - total) > half + 1e-6:
            continue  # items without a code (涉密) or a 合计 not read: the split is unknown
        for s in narrative(ctx):
            money = [c for c in s.claims if c.kind == "amount" and c.unit in MONEY]
            if "政府采购" not in s.text or not any(
                    abs(wan(c) - total) <= wan_tol(c) + half for c in money):
                continue
            said = [(c, m.group(1)) for c in money
                    if (m := CLASS_CLAIM_RE.search(clean(c.subject)))]
            ctx.coverage.figures += len(said)
            # the split that fits best: (claim, class, expected) the sentence states otherwise
            wrong = min(([(c, k, sums[k]) for c, k in said
                          if not compare(wan(c), c.decimals, sums[k], half).ok]
                         for sums in splits), key=len)
            ctx.coverage.figures_matched += len(said) - len(wrong)
            if not wrong:
                continue
            # one split, one finding: it states the first class that differs and names the rest;
            # a gap smaller than every item is no item counted in another class: information
            c, _, expected = wrong[0]
            least = min(abs(x.value or 0.0) for x in cells) * (1e-4 if table.unit == "元" else 1.0)
            moved = any(abs(wan(x) - v) >= least - half for x, _, v in wrong)
            parts = "、".join(f"{k}类{x.text}（按品目为{amount(v)}）" for x, k, v in wrong)
            yield finding(
                "nar.table_figure",
                f"情况说明所述政府采购{parts}，与{table_name(table)}各采购品目按采购目录"
                f"（A货物、B工程、C服务）相加之数不符。",
                [ev_sentence(s, c), *(Evidence(page=x.page, source="table", text="采购目录",
                                                table=table_name(table), bbox=x.bbox,
                                                value=x.text) for x in cells[:1])],
                stated=c.value, expected=round(expected, 6), unit=c.unit, section=s.section,
                severity="error" if moved else "info",
            )


def _template_figures(ctx: Context) -> Iterator[Finding]:
    for s in narrative(ctx):
        text = norm(s.text)
        for ref in REFS:
            if not re.search(ref.section, norm(s.section)):
                continue
            for m in re.finditer(ref.pattern, text):
                name = m.groupdict().get("name")
                fig = _ref_figure(ctx, ref, name)
                if fig is None:
                    continue
                num = parse_number(m.group("n"))
                if num is None:
                    continue
                factor = 1e-4 if (fig.table.unit == "元" and not ref.count) else 1.0
                expected = fig.value * factor
                # a restated figure should be the printed one: no tolerance on the table side,
                # unless the table side is itself a sum of printed figures
                table_tol = fig.tol * factor if "+" in fig.text else 0.0
                verdict = compare(num.value, num.decimals, expected, table_tol)
                ctx.coverage.figures += 1
                if verdict.ok or (not ref.count and stated_elsewhere(ctx, num.value, m.group(0))):
                    ctx.coverage.figures_matched += 1
                    continue
                what = ref.what.replace("{name}", name or "")
                unit = "" if ref.count else "万元"
                shown = (lambda v: f"{v:g}") if ref.count else (lambda v: amount(v))
                claim = next((c for c in s.claims if c.text.startswith(m.group("n"))), None)
                yield finding(
                    "nar.table_figure",
                    f"情况说明所述{what}为{shown(num.value)}，"
                    f"与{fig.table.code or fig.table.title}所列{shown(expected)}不一致。",
                    [ev_sentence(s, claim), ev_figure(fig)],
                    stated=num.value,
                    expected=expected,
                    unit=unit or None,
                    section=s.section,
                    severity=severity_for(verdict, "error"),
                )




# -- any template: a narrative amount that names a table subject, against that subject's facts --

LEVEL_MARK_RE = re.compile(r"[（(](类|款|项)[)）]")
LEVEL_DIGITS = {"类": 3, "款": 5, "项": 7}
TOTAL_MEASURES = ("合计", "金额", "预算数", "决算数")
CHANGE_WORD_RE = re.compile(r"(增加|减少|增长|下降|节约|调增|调减|新增|压减|核减|追加)")
YEAR_ROW_RE = re.compile(r"^(?:\d{4}年度?|\d{4}年?.{0,4}数|增减变化.*)$")
MIN_NAME = 4  # a subject name this long or longer is specific enough to look up


@dataclass
class SubjectClaim:
    """A narrative amount resolved to a table subject: its leaf name, level and parent words."""

    name: str
    level: str | None
    prefix: str


def resolve_subject(subject: str, names: set[str]) -> SubjectClaim | None:
    """The table subject a claim's wording names: the longest fact subject the wording ends with
    (before a （类）/（款）/（项） mark and a trailing 支出/预算 word), and the words before it."""
    text = norm(subject)
    text = re.sub(r"^\d+[.、．]", "", text)
    text = re.sub(r"[“”‘’\"]", "", text)  # “住房保障支出”科目: the name in quotes
    marks = list(LEVEL_MARK_RE.finditer(text))
    level = marks[-1].group(1) if marks else None
    if marks:
        text = text[: marks[-1].start()]
    text = LEVEL_MARK_RE.sub("", text)
    text = re.sub(r"(科目|预算数|预算|决算数|决算|安排|为|共|合计)+$", "", text)
    text = re.sub(r"当年(?=拨款|收入|支出)", "", text)  # 一般公共预算当年拨款: the 一般公共预算拨款
    best = None
    for name in names:
        if len(name) >= MIN_NAME and text.endswith(name) and (best is None or len(name) > len(best)):
            best = name
    if best is None and text.endswith("支出"):
        # 公务用车运行维护费支出 for the column 公务用车运行维护费; 对个人和家庭的补助支出 for the
        # economic class 对个人和家庭的补助
        short = text[:-2]
        best = max((n for n in names if len(n) >= MIN_NAME and n.endswith(("费", "补助"))
                    and short.endswith(n)), key=len, default=None)
        text = short if best else text
    if best is None:
        return None
    prefix = text[: len(text) - len(best)] if text.endswith(best) else text
    return SubjectClaim(best, level, prefix)


def _fact_index(ctx: Context):
    """Once per document: each code's subject, each row's first figure column (its total,
    whatever its name) and the facts by subject (looking up every named amount stays linear)."""
    def make() -> Iterator[tuple[dict[str, str], dict[tuple[str, int, int], int], dict]]:
        by_code: dict[str, str] = {}
        by_subject: dict[str, list] = {}
        for f in ctx.facts:
            if f.code and f.code not in by_code:
                by_code[f.code] = f.subject
            by_subject.setdefault(f.subject, []).append(f)
        yield by_code, first_columns(ctx.facts), by_subject

    return shared(ctx, "fact_index", make)[0]


def _subject_candidates(ctx: Context, sc: SubjectClaim):
    """Current-year total facts of that subject, narrowed by level and by the parent named."""
    out = []
    by_code, first, by_subject = _fact_index(ctx)
    for f in by_subject.get(sc.name, ()):
        if f.period != "current" or f.sub_item:
            continue
        if f.measure not in TOTAL_MEASURES and not (
                first[(f.table, f.panel, f.row)] == f.column
                and not f.measure.startswith(("其中", "上年", "年初", "结转"))):
            continue
        if sc.level and (not f.code or len(f.code) != LEVEL_DIGITS[sc.level]):
            continue  # 公务接待费（款）: the coded 款 row, not a column of the 三公 table
        if sc.prefix and not of_source(norm(sc.prefix), f.kind, f.header or f.measure):
            continue  # 福彩公益金预算准备金: that fund's part, not the row of all funds
        if sc.prefix and f.code and len(f.code) > 3:
            parent = by_code.get(f.code[:-2], "")
            if parent and not norm(sc.prefix).endswith(parent) and parent not in sc.prefix:
                continue
        out.append(f)
    return out


def _named_amounts(ctx: Context) -> list[tuple[int, Sentence, Claim, SubjectClaim]]:
    """Narrative amounts whose wording names a table subject (index of the sentence among the
    narrative's, sentence, claim, subject), found once for `sharpen` and `subject_figures`."""
    from pipeline.checks.narrative import MONEY

    def find() -> Iterator[tuple[int, Sentence, Claim, SubjectClaim]]:
        # a table printed wholly blank still says each of its items is zero
        printed = {f.table for f in ctx.facts if not f.blank}
        blank_tables = {f.table for f in ctx.facts} - printed
        # a row named by a year (深圳 三公 表: 2025年 | 2026年 | 增减变化金额) names no subject
        names = {f.subject for f in ctx.facts if f.subject and not YEAR_ROW_RE.match(f.subject)
                 and (not f.blank or f.table in blank_tables)}
        for i, s in enumerate(narrative(ctx)):
            named: set[str] = set()  # the subjects this sentence already named
            for c in s.claims:
                if c.kind != "amount" or c.unit not in MONEY:
                    continue
                if CHANGE_WORD_RE.match(norm(c.subject)):
                    continue  # 增加基本支出844.15万元: a change, worded verb first
                sc = resolve_subject(c.subject, names)
                if sc is None:
                    continue
                if sc.name in named and PART_RE.search(s.text[:c.start]):
                    # 综合管理127.38万元，主要包括：党务人事综合管理87.38万元: a part of the
                    # subject named before it, not the subject again
                    continue
                named.add(sc.name)
                yield i, s, c, sc

    return shared(ctx, "named_amounts", find)


def sharpen(ctx: Context) -> int:
    """A narrative amount that restates its subject's table figure exactly, with the table's
    zeros dropped (“110万元” for 110.00), is that figure: it is known to the table's precision, not
    to ±0.5万元, and every rule computing with it (a share, a growth rate) uses that precision.
    Returns how many amounts were sharpened."""
    from pipeline.checks.narrative import MONEY, wan

    n = 0
    for _, _, c, sc in _named_amounts(ctx):
        cands = _subject_candidates(ctx, sc)
        if len({round(f.value, 6) for f in cands}) != 1:
            continue  # no figure, or several: the wording does not say which it restates
        fact = cands[0]
        if fact.blank or fact.decimals is None or abs(wan(c) - fact.value) > 1e-9:
            continue
        # the fact's precision in the claim's unit: 元 tables are 4 places finer in 万元
        places = fact.decimals + (4 if fact.unit == "元" else 0) + round(
            math.log10(MONEY[c.unit]))
        if places > c.decimals:
            c.decimals = places
            n += 1
    return n


def _three_public(c: Claim) -> bool:
    con = claim_concept(clean(c.subject))
    return con is not None and con.name in CHECKED_CONCEPTS


BASIC_RE = re.compile(r"基本支出|人员经费|公用经费")


def _basic_candidates(ctx: Context, sc: SubjectClaim) -> list[Fact]:
    """The subject's 基本支出 figures: its 基本支出 column, or the total of a table of 基本支出."""
    basic_tables = {t.id for t in ctx.doc.tables if "基本支出" in t.title}
    totals = {id(f) for f in _subject_candidates(ctx, sc) if f.table in basic_tables}
    return [f for f in _fact_index(ctx)[2].get(sc.name, ())
            if f.period == "current" and not f.sub_item and not f.blank
            and (f.measure == "基本支出" or id(f) in totals)]


def subject_figures(ctx: Context) -> Iterator[Finding]:
    """Narrative amounts naming a table subject, compared with every current-year total of that
    subject: a match with any is agreement; a mismatch is reported only when those facts agree
    among themselves (otherwise the wording does not say which one it restates)."""
    from pipeline.checks.narrative import wan

    stats = ctx.coverage
    sentences = narrative(ctx)
    for i, s, c, sc in _named_amounts(ctx):
        if _three_public(c):
            continue  # 公务接待费: its 三公 table's figure (concept_figures), not a 基本支出
            # table's 30217 row, which holds one part of it
        cands = _subject_candidates(ctx, sc)
        if not cands:
            stats.figures_unmatched.append(f"第{s.page}页 {c.subject}{c.text}")
            continue
        stats.figures += 1
        value = wan(c)
        verdicts = [compare(value, c.decimals, f.value, f.half_unit) for f in cands]
        if any(v.ok for v in verdicts):
            stats.figures_matched += 1
            continue
        values = {round(f.value, 2) for f in cands}
        for kinds in (_section_kinds(s.section), _scope_kinds(sentences, i)):
            if len(values) <= 1:
                break
            scoped = [f for f in cands if f.kind in kinds]
            if scoped and len({round(f.value, 2) for f in scoped}) == 1:
                cands = scoped
                values = {round(cands[0].value, 2)}
                verdicts = [compare(value, c.decimals, f.value, f.half_unit) for f in cands]
        if len(values) > 1 and BASIC_RE.search(s.text):
            # 人员经费…、公用经费…、对个人和家庭的补助支出…: the parts of 基本支出, so the 基本支出
            # figures of the subject (its column, or a 基本支出 table's total), not its total
            cands = _basic_candidates(ctx, sc) or cands
            values = {round(f.value, 2) for f in cands}
            verdicts = [compare(value, c.decimals, f.value, f.half_unit) for f in cands]
        if len(values) > 1:
            stats.figures_unmatched.append(f"第{s.page}页 {c.subject}{c.text}（多处表数不同）")
            continue
        fact = cands[0]
        v = verdicts[0]
        yield finding(
            "nar.table_figure",
            f"情况说明所述“{sc.name}”为{c.text}，表中为{amount(fact.value)}"
            f"（{fact.code or ''}{fact.subject}，{fact.header or fact.measure}）。",
            [ev_sentence(s, c), ev_fact(fact, next(t for t in ctx.doc.tables
                                                   if t.id == fact.table))],
            stated=c.value,
            # a 元 table's figure in 万元 to the cent, as a reader would restate it
            expected=round(fact.value * 1e4, 2) if c.unit == "元" else round(fact.value, 6 if (
                fact.unit != "元") else 2),
            unit=c.unit,
            section=s.section,
            severity=severity_for(v, "error"),
        )


# concepts (pipeline.vocabulary) a table may print as a column rather than a row (支出总表 |
# 2026年政府采购项目 / 小计), and the words a claim of their total ends with
COLUMN_CONCEPTS = ("政府采购",)
TOTAL_WORDING = r"(?:项目|预算|资金|支出)*(?:共有|总额|合计|共计|共|为)*$"


def _column_facts(ctx: Context, heading: re.Pattern[str]) -> Iterator[Fact]:
    """The current figures of the columns a heading names: their totals (小计, 合计 …)."""
    for f in ctx.facts:
        if heading.search(f.header) and not f.sub_item and f.period == "current" \
                and not f.blank and (f.header.count("/") == 0 or header_leaf(f.header) in TOTAL_LEAVES):
            yield f


def column_figures(ctx: Context) -> Iterator[Finding]:
    """Narrative totals that a table prints as a column (the 政府采购 amount beside each row of
    the 支出总表), against that column on the row the claim names (its unit), else the 合计
    row; reported only when those figures agree among themselves."""
    from pipeline.checks.narrative import MONEY, wan

    tables = {t.id: t for t in ctx.doc.tables}
    for s in narrative(ctx):
        for c in s.claims:
            if c.kind != "amount" or c.unit not in MONEY:
                continue
            subject = norm(c.subject).replace("（", "(").replace("）", ")")  # as facts name rows
            for name in COLUMN_CONCEPTS:
                con = concept(name)
                heading = re.compile(con.named)
                if claim_concept(subject) is not con or any(w in subject for w in con.parts) \
                        or not re.search(con.named + TOTAL_WORDING, subject):
                    continue
                column = shared(ctx, f"column:{name}", partial(_column_facts, ctx, heading))
                named = [f for f in column if len(f.subject) >= 4 and f.subject in subject]
                cands = named or [f for f in column if is_total(f.subject) and not f.code]
                if not cands or len({round(f.value, 2) for f in cands}) > 1:
                    continue
                ctx.coverage.figures += 1
                fact = cands[0]
                verdict = compare(wan(c), c.decimals, fact.value, fact.half_unit)
                if verdict.ok:
                    ctx.coverage.figures_matched += 1
                    continue
                yield finding(
                    "nar.table_figure",
                    f"情况说明所述政府采购金额为{c.text}，表中为{amount(fact.value)}"
                    f"（{fact.subject}，{fact.header}）。",
                    [ev_sentence(s, c), ev_fact(fact, tables[fact.table])],
                    stated=c.value, expected=round(fact.value, 2), unit=c.unit,
                    section=s.section, severity=severity_for(verdict, "error"),
                )


# concepts whose figure a template prints as a row of one table and a column of another (三公 表:
# 因公出国 | 公务接待费 | 公务用车… on its 合计 row, or one row each), checked wherever printed
CHECKED_CONCEPTS = ("三公经费", "因公出国（境）费", "公务接待费", "公务用车购置及运行维护费",
                    "公务用车购置费", "公务用车运行维护费", "会议费", "培训费")
# what a claim of the concept's amount or change may add after its name
CONCEPT_WORDING = r"(?:\(境\)|（境）)?(?:维护)?(?:经费|费用|费|支出)?(?:预算数?|预算安排|安排|支出)*(?:合计|共计|共|为)*" \
                  r"(?:比上年|较上年|比2\d{3}年|较2\d{3}年)?(?:预算)?(?:总体|合计)?$"


CONCEPT_TABLES = {"bu10", "fa09"}  # the 三公 tables (and those titled by the concept)
YEAR_IN_RE = re.compile(r"(20\d\d)年")


def _other_year(subject: str, year: int | None) -> bool:
    """A row named by another year (深圳 三公 表: 2025年 | 2026年): not this year's figure."""
    m = YEAR_IN_RE.search(subject)
    return bool(m and year and int(m.group(1)) != year)


PART_RE = re.compile(r"主要包括|包括|其中")
COMPARED_RE = r"(?:与|较|比)(?:上年|20\d\d年)(?:预算|相比|对比)?(?:总体)?"


def _concept_index(ctx: Context):
    """Once per document: the facts.first_columns, total rows and table title concepts."""
    from pipeline.concepts import title_concepts, total_rows

    def make():
        yield first_columns(ctx.facts), total_rows(ctx.facts), {
            t.id: title_concepts(t.title or "") for t in ctx.doc.tables}

    return shared(ctx, "concept_index", make)[0]


def _part_of_other(s: Sentence, k: int) -> bool:
    """Claim k is listed after 其中 under a head of another kind (机关运行经费82万元，其中：…公务用车
    运行维护费12万元): that head's part, not the concept's own figure. Under a 三公 head (三公经费
    …，其中：公务接待费…) it is the item's whole figure."""
    c = s.claims[k]
    head = next((h for h in s.claims[:k] if h.unit == c.unit or h.kind == "amount"), None)
    at = s.text.find("其中")
    if head is None or at < 0 or not head.start < at < c.start:
        return False
    con = claim_concept(clean(head.subject))
    return con is None or con.name not in CHECKED_CONCEPTS


def _rounded_change(ctx: Context, change: Fact, c: Claim) -> bool:
    """May a change one unit off its 增减 column be the difference of the two amounts as rounded to
    the claim's decimals? Only when the row's 本年 and 上年 figures of the same item are not
    printed, or their rounded difference is the claim (18.75 → 12.9 is 5.85, never 5.86)."""
    from pipeline.checks.narrative import wan

    item = change.header.partition("/")[2]
    pair = {f.period: f.value for f in ctx.facts
            if (f.table, f.panel, f.row) == (change.table, change.panel, change.row)
            and f.period in ("current", "prior") and not f.blank
            and f.header.partition("/")[2] == item}
    if len(pair) < 2 or not item:
        return True
    dec = 2 if c.decimals is None else c.decimals
    return abs(abs(round(pair["current"], dec) - round(pair["prior"], dec)) - wan(c)) <= EPS


def concept_figures(ctx: Context) -> Iterator[Finding]:
    """Narrative amounts and changes of a concept (三公经费 and its items, 会议费, 培训费) against
    every print of it in the tables, by the vocabulary rather than by a template's layout: as a
    row, as a column on a total row, or a table titled by it; the amount against the current
    year, the change against a 增减 column. Reported only when the prints agree among
    themselves and the claim names the concept plainly (not one fund's or one unit's part)."""
    from pipeline.checks.document import report_year
    from pipeline.checks.narrative import MONEY, wan
    from pipeline.concepts import printed_as

    first, totals, titled = _concept_index(ctx)
    year = report_year(ctx)
    tables = {t.id: t for t in ctx.doc.tables}
    unread = {t.id for t in ctx.coverage.not_understood}
    for s in narrative(ctx):
        for k, c in enumerate(s.claims):
            if c.kind not in ("amount", "change") or c.unit not in MONEY:
                continue
            subject = clean(c.subject)
            if c.kind == "change" and k and (not subject or re.fullmatch(COMPARED_RE, subject)):
                # 会议费预算37.55万元，较上年预算减少33.10万元: the change of the amount before it
                subject = clean(s.claims[k - 1].subject)
            con = claim_concept(subject)
            if con is None or con.name not in CHECKED_CONCEPTS or _part_of_other(s, k):
                continue
            m = re.search(con.named.replace("^", "").replace("$", ""), subject)
            if m is None or not re.fullmatch(CONCEPT_WORDING, subject[m.end():]):
                continue
            prefix = subject[:m.start()]
            period = "current" if c.kind == "amount" else "change"
            cands = [f for f in ctx.facts if f.period == period and not f.sub_item
                     and not f.blank and f.table not in unread and f.unit != "%"
                     # a coded row (30217 公务接待费 of a 基本支出 表) is one part of the concept
                     and not f.code and (f.kind in CONCEPT_TABLES or con in titled[f.table])
                     and not _other_year(f.subject, year)
                     and any(printed_as(con, f, first, totals, titled))
                     # 一般公共预算安排的三公经费: a 三公 table is of 财政拨款 money
                     and (of_source(prefix, f.kind, f.header) or f.kind in ("bu10", "fa09"))]
            if not cands or len({round(f.value, 2) for f in cands}) > 1:
                continue
            ctx.coverage.figures += 1
            fact = cands[0]
            verdict = compare(wan(c), c.decimals, abs(fact.value), fact.half_unit)
            if verdict.ok:
                ctx.coverage.figures_matched += 1
                continue
            if verdict.rounding and c.kind == "change" and not _rounded_change(ctx, fact, c):
                verdict = Verdict(False, False, verdict.diff)
            what = "增减额" if c.kind == "change" else "金额"
            yield finding(
                "nar.table_figure",
                f"情况说明所述{con.name}{what}为{c.text}，表中为{amount(abs(fact.value))}"
                f"（{tables[fact.table].code or ''}{fact.subject}，{fact.header}）。",
                [ev_sentence(s, c), ev_fact(fact, tables[fact.table])],
                stated=c.value, expected=round(abs(fact.value), 6), unit=c.unit,
                section=s.section, severity=severity_for(verdict, "error"),
            )


# the funds a passage is about, from its nearest words, and the tables that hold them
SCOPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("一般公共预算", frozenset({"bu05", "fa05", "bu06", "fa06"})),
    ("财政拨款", frozenset({"bu04", "bu05", "bu14", "bu15", "fa04", "fa05", "fa11"})),
    ("收入", frozenset({"bu02", "fa02"})),
    ("支出", frozenset({"bu03", "fa03"})),
)


def _section_kinds(section: str) -> frozenset[str]:
    """The table a passage's heading explains (一、收支预算总表情况说明 → the 收支总表), nearest
    heading first."""
    from pipeline.segment.catalog import kind_from_title

    for title in reversed(section.split(" > ")):
        kind = kind_from_title(title) if "表" in title else None
        if kind:
            return frozenset({kind})
    return frozenset()


def _scope_kinds(sentences, i: int, back: int = 15) -> frozenset[str]:
    """Table kinds of the funds the passage around sentence i speaks of: the nearest sentence
    (this one first, then back to the lead that announces the list) naming a fund."""
    for k in range(i, max(-1, i - back), -1):
        text = sentences[k].section.split(" > ")[-1] + sentences[k].text if k == i else \
            sentences[k].text
        for word, kinds in SCOPES:
            if word in text and (k != i or word in ("一般公共预算", "财政拨款")):
                return kinds
    return frozenset()


MAX_HALF_UNIT = 0.5  # the coarsest rounding a printed figure has (whole 万元)


def _by_value(ctx: Context) -> tuple[list[float], list]:
    """The printed facts sorted by value, once per document: a figure is looked up by bisection
    rather than by scanning every fact for every narrative amount."""
    def make():
        facts = sorted((f for f in ctx.facts if not f.blank and f.half_unit <= MAX_HALF_UNIT),
                       key=lambda f: f.value)
        yield [f.value for f in facts], facts

    return shared(ctx, "facts_by_value", make)[0]


def stated_elsewhere(ctx: Context, value: float, subject: str) -> bool:
    """A figure printed in some table as a total or under the subject the narrative names: the
    narrative restates that figure, not the one a template phrase pointed at."""
    key = norm(subject)
    values, facts = _by_value(ctx)
    lo = bisect_left(values, value - MAX_HALF_UNIT - 0.005 - 1e-9)
    hi = bisect_right(values, value + MAX_HALF_UNIT + 0.005 + 1e-9)
    for f in facts[lo:hi]:
        if abs(f.value - value) > f.half_unit + 0.005 + 1e-9:
            continue
        if is_total(f.subject) or (
                f.subject and (f.subject in key or key.endswith(f.subject))):
            return True
    return False


# -- a subject named in the narrative otherwise than its code in the tables ----------------------

PATH_RE = re.compile(r"([\u4e00-\u9fff（）()、“”]+?)[（(](类|款|项)[)）]")


# a 功能分类 subject cited with its code (2xx; economic codes have two classifications, 3xx / 5xx)
# a subject named with its code; six digits are a 项 code with a digit left out (210101 for 2101101)
CODED_NAME_RE = re.compile(r"([\u4e00-\u9fff]{2,30})[（(](2\d{2}|2\d{4}|2\d{5}|2\d{6})[)）]")


def _cited_as(code: str, printed: str) -> bool:
    """The table's code `printed` is the one the narrative cites as `code`: of its level, or a 项
    code with one digit left out."""
    if len(printed) == len(code):
        return True
    return len(code) == 6 and len(printed) == 7 and any(
        printed[:i] + printed[i + 1:] == code for i in range(7))


def _coded_names(ctx: Context, names_by_code: dict, by_name: dict[str, set[str]]
                 ) -> Iterator[Finding]:
    """行政运行（2013201）where the tables give 行政运行 the code 2013301 and print no 2013201 in any
    classification: the narrative cites the subject under another code."""
    from schemas.findings import Evidence

    printed = {re.sub(r"\s+", "", c.text) for t in ctx.doc.tables for r in t.rows for c in r.cells
               if c.role == "code"}  # any classification's codes (政府经济 509 beside 部门经济 303)
    seen = set()
    for s in narrative(ctx):
        for m in CODED_NAME_RE.finditer(norm(s.text)):
            name, code = m.group(1), m.group(2)
            codes = [c for c in by_name.get(name, ()) if _cited_as(code, c)]
            if code in names_by_code or any(p.startswith(code) for p in printed) or not codes \
                    or (name, code) in seen:
                continue
            seen.add((name, code))
            fact = names_by_code[codes[0]][1]
            yield finding(
                "nar.subject_name",
                f"说明称“{name}（{code}）”，表中{name}的科目代码为{'、'.join(sorted(codes))}，"
                f"且表中没有科目{code}。",
                [ev_sentence(s), Evidence(page=fact.page, source="table", text=f"{codes[0]} {name}",
                                          bbox=fact.bbox, value=codes[0])],
                section=s.section,
            )


def _same_name(printed: str, said: str) -> bool:
    """一般公共服务（类） is the usual way of writing 一般公共服务支出: the same name."""
    return re.sub(r"支出$", "", printed) == re.sub(r"支出$", "", said)


def _fragment(name: str) -> bool:
    """A piece of a wrapped line before a level mark (出（款）, 的支出（款）), no subject's name."""
    return len(name) < 3 or name.startswith(("的", "出", "和", "及", "与", "支出", "其中"))


@rule("nar.subject_name", "warning", "说明中的科目名称及其类、款、项层级应与表中同一科目一致。")
def check_subject_names(ctx: Context) -> Iterator[Finding]:
    from schemas.findings import Evidence

    names_by_code: dict[str, tuple[str, object]] = {}
    for f in ctx.facts:
        if f.code and f.code.isdigit() and len(f.code) in (3, 5, 7) and f.subject:
            names_by_code.setdefault(f.code, (f.subject, f))
    by_name: dict[str, set[str]] = {}
    for code, (name, _) in names_by_code.items():
        by_name.setdefault(name, set()).add(code)
    seen = set()
    yield from _coded_names(ctx, names_by_code, by_name)
    for s in narrative(ctx):
        text = norm(s.text)
        path = [(re.sub(r"^[\d.、．]+", "", m.group(1)), m.group(2)) for m in PATH_RE.finditer(text)]
        if len(path) < 2:
            continue
        leaf, level = path[-1]
        codes = [c for c in by_name.get(leaf, ()) if len(c) == LEVEL_DIGITS[level]]
        if len(codes) != 1:
            continue  # not in the tables, or several subjects of that name: not checkable
        code = codes[0]
        for name, lvl in path[:-1]:
            want = code[:LEVEL_DIGITS[lvl]]
            printed = names_by_code.get(want)
            if printed is None or _same_name(printed[0], name) or _fragment(name) \
                    or (s.page, want, name) in seen:
                continue
            if any(names_by_code.get(code[:n], ("",))[0] == name for n in (3, 5, 7)):
                continue  # 住房改革支出（类） for the 款 22102: the level word is off, not the name
            seen.add((s.page, want, name))
            fact = printed[1]
            yield finding(
                "nar.subject_name",
                f"说明称“{name}（{lvl}）”，表中科目{want}名为“{printed[0]}”。",
                [ev_sentence(s), Evidence(page=fact.page, source="table",  # type: ignore[attr-defined]
                                          text=f"{want} {printed[0]}", bbox=fact.bbox,  # type: ignore[attr-defined]
                                          value=printed[0])],
                section=s.section,
            )
