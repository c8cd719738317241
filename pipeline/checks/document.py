"""The report as a document: its year stated consistently, template text left in, and its
standard tables listed in the 目录, present in the body and complete."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from pipeline.checks.base import Context, amount, finding, rule, table_name
from pipeline.checks.narrative import narrative
from schemas.claims import Sentence
from schemas.document import Table, TocEntry
from schemas.findings import Evidence, Finding

YEAR_RE = re.compile(r"(20\d{2})\s*年")
# the report's own year named as such: "2018年部门预算", "2019年度部门汇总预算编制范围"
OWN_YEAR_RE = re.compile(r"(20\d{2})\s*年度?\s*(?:部门|单位)(?:汇总)?(?:预算|决算)")
# the verbs that plan a later year's budget as this year's work
PLANNING_RE = re.compile(r"(?:完成|编制|编报|布置|做好|启动|开展|组织|部署|准备|谋划)[^，。；]{0,8}$")
COMPARING_RE = re.compile(r"比|较|相比|上年|同比|执行数|决算数|增加|减少|增长|下降|持平|结转")


def report_year(ctx: Context) -> int | None:
    """The year the report is for: from its title, else the most common year of table titles."""
    m = YEAR_RE.search(ctx.doc.title)
    if m:
        return int(m.group(1))
    years = Counter(int(y) for t in ctx.doc.tables for y in YEAR_RE.findall(t.title))
    return years.most_common(1)[0][0] if years else None


@rule("doc.year", "warning", "报告年度应前后一致：标题、表名和说明中称本年度预算/决算的年份应相同。")
def check_year(ctx: Context) -> Iterator[Finding]:
    year = report_year(ctx)
    if year is None:
        return
    places: list[tuple[str, re.Pattern[str], str, Evidence]] = [
        (t.title, YEAR_RE, "表格标题却写作", Evidence(page=t.pages[0], source="table", text=t.title,
                                                 table=t.code or t.title)) for t in ctx.doc.tables]
    places += [(sec.title, OWN_YEAR_RE, "标题却称", Evidence(page=sec.pages[0], source="narrative",
                                                        text=sec.title)) for sec in ctx.doc.sections]
    places += [(s.text, OWN_YEAR_RE, "此处却称", Evidence(page=s.page, source="narrative", text=s.text,
                                                      bbox=s.bbox)) for s in ctx.claims.sentences]
    titled: dict[str, Finding] = {}  # table titles of one wrong year: one slip, all its tables
    for text, pattern, said, ev in places:
        if COMPARING_RE.search(text):
            continue
        for m in pattern.finditer(text):
            if int(m.group(1)) == year or int(m.group(1)) > year and PLANNING_RE.search(
                    text[:m.start()]):
                continue  # 完成2027年部门综合预算编报: next year's budget, prepared this year
            at = ev.model_copy(update={"value": m.group(1) + "年"})
            if ev.source == "table" and m.group(1) in titled:
                titled[m.group(1)].evidence.append(at)
                break
            f = finding(
                "doc.year",
                f"报告为{year}年度，{said}“{m.group(0) if pattern is OWN_YEAR_RE else text}”。",
                [at], stated=float(m.group(1)), expected=float(year),
                section=ev.table or "报告年度",
            )
            if ev.source == "table":
                titled[m.group(1)] = f
            else:
                yield f
            break
    for f in titled.values():
        if len(f.evidence) > 1:
            f.message = f.message[:-1] + f"（共{len(f.evidence)}张表）。"
        yield f
    yield from _balance_dates(ctx, year)
    yield from _year_figures(ctx, year)
    yield from _target_years(ctx, year)


# "2021年本部门财政拨款支出105364.27万元": a clause giving the department's figure for a year
YEAR_FIGURE_RE = re.compile(
    r"^(20\d{2})\s*年度?\s*本(?:部门|单位)[\u4e00-\u9fff“”（）()]{2,24}?(\d[\d,]*(?:\.\d+)?)\s*万元$")


def _year_figures(ctx: Context, year: int) -> Iterator[Finding]:
    """A clause that gives another year's figure as the department's, where that figure is this
    year's in the tables and the clause compares nothing: the year is a slip (a sentence copied
    from last year's report and its figure updated, its year not)."""
    for s in narrative(ctx):
        for clause in re.split(r"[，,；;。]", s.text):
            m = YEAR_FIGURE_RE.match(re.sub(r"\s+", "", clause))
            if not m or int(m.group(1)) == year or COMPARING_RE.search(clause):
                continue
            value = float(m.group(2).replace(",", ""))
            if not any(f.period == "current" and not f.blank and value >= 1
                       and abs(f.value - value) <= f.half_unit + 0.005 for f in ctx.facts):
                continue
            yield finding(
                "doc.year",
                f"报告为{year}年度，此处却称“{m.group(1)}年”本部门的数额{amount(value)}，"
                "而该数额是表中本年度的数。",
                [Evidence(page=s.page, source="narrative", text=s.text, bbox=s.bbox,
                          value=m.group(1) + "年")],
                stated=float(m.group(1)), expected=float(year), section=s.section,
            )
            break


# a 绩效目标表's plan for a year: "2025年计划投入100万元", "项目完成时间 | 2025年12月31日"
PLAN_YEAR_RE = re.compile(r"(20\d{2})\s*年\s*(?:计划|拟|将)(?:投入|使用|安排|完成|实施)|"
                          r"完成(?:时间|时限|日期)[^\d]{0,6}(20\d{2})\s*年|"
                          # 2023年度完成…收储工作 (not 已于2023年完成, 截至2023年完成)
                          r"(?<![于至止在])(20\d{2})\s*年度?完成(?!时间|时限|日期|情况)")


def _target_years(ctx: Context, year: int) -> Iterator[Finding]:
    """A budget's 绩效目标表 plans the budget year: a target that plans money or completion for a
    year before it is last year's text left standing (one finding per table)."""
    if ctx.doc.report_type == "final_accounts":
        return
    tables = {t.id: t for t in ctx.doc.tables}
    # the targets: each row of a 绩效目标表, and the target text a project table prints per row
    texts = [(t, re.sub(r"\s+", "", "".join(c.text for c in row.cells)), t.pages[0], row.bbox)
             for t in ctx.doc.tables if t.kind == "perf_target" for row in t.rows]
    texts += [(tables[p.table], s.text, s.page, s.bbox) for p in ctx.claims.targets
              if tables[p.table].kind != "perf_target" for s in p.texts]
    reported: set[str] = set()
    for t, text, page, bbox in texts:
        m = PLAN_YEAR_RE.search(text)
        if m is None or t.id in reported:
            continue
        said = int(next(g for g in m.groups() if g))
        if said >= year or COMPARING_RE.search(text[:m.start()]):
            continue
        if re.search(rf"{year}\s*年", text):
            continue  # 2025年完成终期评估，2026年完成规划编制: a timeline reaching the budget year
        reported.add(t.id)
        yield finding(
            "doc.year",
            f"报告为{year}年度预算，{table_name(t) or t.title}的绩效目标却写作“{m.group(0)}”"
            f"（{said}年早于预算年度）。",
            [Evidence(page=page, source="table", text=text[:200], table=t.code or t.title,
                      bbox=bbox, value=f"{said}年")],
            stated=float(said), expected=float(year), section=t.code or t.title,
        )


BALANCE_DATE_RE = re.compile(r"截[至止][^。，；]{0,6}?(20\d{2})\s*年\s*(\d{1,2})\s*月")


def _balance_dates(ctx: Context, year: int) -> Iterator[Finding]:
    """A 决算 states its balances at the end of its own year; a 预算 at the end of the year before
    or early in its own year (it is published by the spring), never at its own year's end. Another year is a slip (a heading or date copied from another year)."""
    final = ctx.doc.report_type == "final_accounts"
    allowed = {year} if final else {year - 1, year}
    for s in ctx.claims.sentences:
        for m in BALANCE_DATE_RE.finditer(s.text):
            said, month = int(m.group(1)), int(m.group(2))
            if said in allowed and (final or said < year or month <= 3):
                continue  # a budget, published early in its year, cannot state its year's end
            yield finding(
                "doc.year",
                f"报告为{year}年度，数据截止日期却为“{m.group(0)}”。",
                [Evidence(page=s.page, source="narrative", text=s.text, bbox=s.bbox,
                          value=m.group(1) + "年")],
                stated=float(m.group(1)), expected=float(max(allowed)), section=s.section,
            )


# -- template text left in --------------------------------------------------------------------

PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("金额空缺", re.compile(r"(?:支出|收入|预算|决算|合计|总计|经费|安排|为|共|计)[ \u3000]*万?元[，。；,;]")),
    ("占位符", re.compile(r"[XＸxｘ×]{2,}(?=[\u4e00-\u9fff（(])")),
    ("两种写法并列", re.compile(r"(?:增加|增长|上升)[（(/](?:减少|下降|降低)[)）]?|"
                              r"(?:减少|下降)[（(/](?:增加|增长)[)）]?")),
    ("空括号", re.compile(r"[（(][ \u3000]*[)）]|“[ \u3000]*”")),
    ("标点重复", re.compile(r"([，。；：、])\1|[，、][。；]|[。；][，、]")),
    # the template's note to whoever fills it in, published as it was (（请核实单位是否有涉密项目，
    # 若无…则备注写…）, 公开时请删除注释)
    ("编写提示", re.compile(r"[（(]请(?:核实|填写|注明|补充|删除|列明|务必|根据|按照)|"
                            r"(?:公开|发布)时请删除|请(?:核实|填写)(?:单位|本单位|是否|相关)")),
)


def _one_per_sentence(hits):
    seen, out = set(), []
    for h, m in hits:
        if id(h) not in seen:
            seen.add(id(h))
            out.append((h, m))
    return out


@rule("doc.template_text", "warning",
      "模板文字未替换：占位符、金额空缺、“增加（减少）”两种写法并列、空括号、重复标点、给编写者的提示。")
def check_template_text(ctx: Context) -> Iterator[Finding]:
    seen: dict[str, list[tuple[Sentence, re.Match[str]]]] = {}
    for s in narrative(ctx) + [x for x in ctx.claims.sentences if x.part == ""]:
        for name, pattern in PLACEHOLDERS:
            for m in pattern.finditer(s.text):
                seen.setdefault(name, []).append((s, m))
    # a table's notes hold the template's notes to its writer as well (备注：…（请核实…）)
    hint = dict(PLACEHOLDERS)["编写提示"]
    for t in ctx.doc.tables:
        for note in t.notes:
            for m in hint.finditer(note):
                at = Sentence(text=note, section=table_name(t), part="", page=t.pages[-1],
                              bbox=t.rows[-1].bbox if t.rows else (0, 0, 0, 0), paragraph=-1)
                seen.setdefault("编写提示", []).append((at, m))
    for name, hits in seen.items():
        s, m = hits[0]
        more = f"（共{len(hits)}处，另见第{'、'.join(str(p) for p in sorted({h[0].page for h in hits[1:]}))}页）" \
            if len(hits) > 1 else ""
        yield finding(
            "doc.template_text",
            f"{name}：“{m.group(0).strip()}”，疑为模板文字未替换{more}。",
            [Evidence(page=h.page, source="narrative", text=h.text, bbox=h.bbox,
                      value=mm.group(0).strip()) for h, mm in _one_per_sentence(hits)[:4]],
            section=s.section,
        )


# -- the standard tables: listed in the 目录, present in the body, complete ---------------------

NATIONAL_FINAL = tuple(f"fa{n:02d}" for n in range(1, 10))  # 公开01–09表 of the 部门决算 template


@rule("doc.tables", "warning",
      "标准表格应齐全：目录所列表格应在正文中出现，正文表格应列入目录；部门决算应含01–09表。")
def check_tables(ctx: Context) -> Iterator[Finding]:
    from pipeline.segment.catalog import KIND_NAMES, kind_from_title

    body: dict[str, Table] = {}  # the first table of each kind, as the 目录 lists the first
    for t in ctx.doc.tables:
        if t.kind != "unknown" and not t.kind.startswith("perf"):
            body.setdefault(t.kind, t)
    listed: dict[str, TocEntry] = {}
    for e in ctx.doc.toc:
        kind = kind_from_title(e.title)
        if kind and not kind.startswith("perf"):
            listed.setdefault(kind, e)
    if len(body) < 3:
        return  # the tables are published in another PDF (narrative/tables pairs), or unread
    yield from _listed_missing(ctx, listed, body)
    # the 目录's list of tables is known complete when a part after the tables is listed too
    last_table = max((i for i, e in enumerate(ctx.doc.toc) if kind_from_title(e.title)), default=-1)
    complete = any(re.match(r"^第[一二三四五六七八九十]+部分", e.title)
                   for e in ctx.doc.toc[last_table + 1:])
    if len(listed) >= 3 and complete:
        for kind, t in body.items():
            if kind not in listed:
                yield finding(
                    "doc.tables",
                    f"正文有“{t.title or KIND_NAMES.get(kind, kind)}”，目录中未列出。",
                    [Evidence(page=t.pages[0], source="table", text=t.title, table=t.code or t.title)],
                    section=t.code or t.title,
                )
    if complete:
        yield from _order(ctx, listed, body)
    yield from _national_final(ctx, listed, body)
    yield from _duplicated(ctx)


def _listed_missing(ctx: Context, listed: dict[str, TocEntry], body: dict[str, Table]
                    ) -> Iterator[Finding]:
    """Tables the 目录 lists that the body does not print (under their kind or their code)."""
    codes = {re.sub(r"\s+", "", t.code) for t in ctx.doc.tables if t.code}
    for kind, e in listed.items():
        lead = re.match(r"(?:附)?表\s*\d{1,2}(?=\D|20\d\d)", re.sub(r"\s+", "", e.title))
        if lead and lead.group(0) in codes:
            continue  # the body prints a table under that code (its title read otherwise)
        if kind not in body:
            yield finding(
                "doc.tables",
                f"目录列有“{e.title}”，正文中未找到该表。",
                [Evidence(page=e.page or 1, source="narrative", text=e.title)],
                section="目录",
            )


def _duplicated(ctx: Context) -> Iterator[Finding]:
    """The same standard table printed twice (same kind and title, both with figures)."""
    seen: dict[tuple[str, str], Table] = {}
    for t in ctx.doc.tables:
        if t.kind == "unknown" or t.kind.startswith("perf") or not t.title:
            continue
        key = (t.kind, re.sub(r"\s+", "", t.title))
        first = seen.get(key)
        if first is not None and t.pages[0] > first.pages[-1] + 1 and any(
                c.role == "amount" for r in t.data_rows() for c in r.cells):
            # (on the next page it is the table continued under a repeated caption)
            yield finding(
                "doc.tables",
                f"“{t.title}”出现两次（第{first.pages[0]}页、第{t.pages[0]}页）。",
                [Evidence(page=t.pages[0], source="table", text=t.title, table=t.code or t.title),
                 Evidence(page=first.pages[0], source="table", text=first.title,
                          table=first.code or first.title)],
                section=t.code or t.title,
            )
        seen.setdefault(key, t)


def _national_final(ctx: Context, listed: dict[str, TocEntry], body: dict[str, Table]
                    ) -> Iterator[Finding]:
    """A 部门决算 of the national template (it has 公开04表) publishes 公开01–09表."""
    from pipeline.segment.catalog import KIND_NAMES

    if ctx.doc.report_type != "final_accounts" or "fa04" not in body:
        return
    for kind in NATIONAL_FINAL:
        if kind not in body and kind not in listed:
            yield finding(
                "doc.tables",
                f"部门决算应公开“{KIND_NAMES[kind]}”，报告中未找到（无数据时也应保留空表并说明）。",
                [Evidence(page=body["fa04"].pages[0], source="table",
                          text=body["fa04"].title, table=body["fa04"].code)],
                section="决算表",
            )




def _order(ctx: Context, listed: dict[str, TocEntry], body: dict[str, Table]) -> Iterator[Finding]:
    """The tables printed in the order of the 目录 (the first one out of place is reported)."""
    toc_order = [k for k in listed if k in body]
    body_order = [t.kind for t in ctx.doc.tables if t.kind in listed and body.get(t.kind) is t]
    for want, got in zip(toc_order, body_order, strict=False):
        if want != got:
            t = body[got]
            yield finding(
                "doc.tables",
                f"“{t.title}”在正文中的顺序与目录不一致（目录此处为“{listed[want].title}”）。",
                [Evidence(page=t.pages[0], source="table", text=t.title, table=t.code or t.title),
                 Evidence(page=listed[want].page or 1, source="narrative", text=listed[want].title)],
                section="目录",
            )
            return
