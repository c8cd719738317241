"""Question answering over one report, offline: find the table cell or narrative claim that
matches the question's subject, metric and period, and cite its page and words.

Every figure of the document becomes a Fact (subject, metric, value, unit, page, quote); a
question is matched by the characters its subject shares with a fact's subject and by the
metric it asks for (年初预算, 决算, 合计, 占比, 增长, 执行率, 得分 …). When two close candidates
disagree, the answer says it is not sure and lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.checks.base import norm
from pipeline.numbers import numbers_in, parse_number
from schemas.claims import Claims
from schemas.document import Document, Table

# metric -> words that ask for it (longest first when matching)
METRICS: dict[str, tuple[str, ...]] = {
    "年初预算": ("年初预算",),
    "全年预算": ("全年预算数", "全年预算", "调整后预算"),
    "完成率": ("完成年初预算", "完成全年预算", "完成率", "完成预算"),
    "占比": ("占比", "比重", "所占比例", "占本年", "占"),
    "增长率": ("增长率", "增幅", "增长百分之", "下降百分之", "降幅", "增长了百分之", "百分之几"),
    "增减额": ("增加了多少", "减少了多少", "增加多少", "减少多少", "增减", "比上年", "较上年", "变动"),
    "执行率": ("执行率",),
    "执行数": ("全年执行数", "执行数", "实际支出", "实际支付"),
    "得分": ("总得分", "总分", "得分", "评分", "分数"),
    "个数": ("几辆", "几个", "多少辆", "多少个", "几台", "数量", "个数", "几批"),
    "结余": ("结余", "结转"),
    "决算": ("支出决算", "决算数", "决算"),
}
FILLER = re.compile(r"是多少|为多少|有多少|多少|是几|有几|几|什么|请问|的|了|呢|吗|？|\?|。|，|,|：|:|\s")
PERCENT_METRICS = {"完成率", "占比", "增长率", "执行率"}
GENERIC = {"支出决算", "决算", "年初预算", "全年预算", "合计", "总计", "支出", "收入"}


@dataclass
class Fact:
    kind: str  # table | narrative | perf
    subject: str  # the words naming the figure
    context: str  # the section or table it stands in
    metric: str
    value: float
    unit: str
    shown: str  # the figure as printed
    page: int
    quote: str
    where: str  # table or section
    bbox: tuple[float, float, float, float] = (0, 0, 0, 0)


@dataclass
class Answer:
    question: str
    fact: Fact | None
    sure: bool
    candidates: list[tuple[float, Fact]] = field(default_factory=list)
    also: list[Fact] = field(default_factory=list)  # other places that print the same figure
    differs: list[Fact] = field(default_factory=list)  # places that give another figure


class Sources(list):
    """The facts of one report for `ask`: the cells and claims as ask Facts, and beside them
    the report's table facts (tables read but not understood left out) and claims, which the
    question resolver (pipeline.questions) reads."""

    def __init__(self, facts: list[Fact], figures=(), claims: Claims | None = None,
                 tables: dict | None = None) -> None:
        super().__init__(facts)
        self.figures = list(figures)
        self.claims = claims
        self.tables = tables or {}


def _bigrams(text: str) -> set[str]:
    t = norm(text)
    return {t[i : i + 2] for i in range(len(t) - 1)} | set(t)


def _table_metric(table: Table, heading: str) -> str:
    h = norm(heading)
    for metric in ("年初预算", "执行率", "得分", "结余"):
        if metric in h:
            return metric
    if "全年预算" in h or "预算数" in h:
        return "全年预算"
    if "执行数" in h:
        return "执行数"
    if table.kind.startswith("bu"):
        return "预算"
    return "决算"


def _table_facts(table: Table) -> list[Fact]:
    facts = []
    name = table.code or table.title or table.id
    for row in table.data_rows():
        label = ""
        for j, cell in enumerate(row.cells):
            if cell.role in ("label", "text") and cell.text:
                label = cell.text
            if cell.role != "amount" or cell.value is None:
                continue
            heading = table.columns[j] if j < len(table.columns) else ""
            subject = label or heading
            facts.append(Fact(
                kind="table", subject=subject, context=f"{table.title} {heading}",
                metric=_table_metric(table, heading),
                value=cell.value, unit="%" if cell.percent else (table.unit or ""),
                shown=cell.text, page=cell.page, bbox=cell.bbox,
                quote=f"{name}：{label} / {heading} = {cell.text}", where=name))
    return facts


def _claim_metric(kind: str, subject: str) -> str:
    if kind == "amount":
        for metric in ("年初预算", "全年预算", "决算"):
            if metric in subject:
                return metric
        return "金额"
    return {"change": "增减额", "growth": "增长率", "share": "占比", "completion": "完成率",
            "count": "个数", "rate": "执行率" if "执行率" in subject else "比率"}[kind]


NONE_RE = re.compile(r"(?:本部门|本单位|我单位|本年度|单位)(?:本年度)?(?:无|没有)([\u4e00-\u9fff“”]{2,16}?"
                     r"(?:经费|支出|收入|收支))")


def build_facts(doc: Document, claims: Claims) -> Sources:
    from pipeline.checks.base import Context
    from pipeline.checks.identities import table_checks
    from pipeline.facts import document_facts

    ctx = Context(doc=doc, claims=claims, facts=document_facts(doc))
    table_checks(ctx)
    unread = {t.id for t in ctx.coverage.not_understood}
    figures = [f for f in ctx.facts if f.table not in unread]
    return Sources(_cell_facts(doc, claims), figures, claims, {t.id: t for t in doc.tables})


def _cell_facts(doc: Document, claims: Claims) -> list[Fact]:
    facts: list[Fact] = []
    for table in doc.tables:
        facts += _table_facts(table)
    for s in claims.sentences:
        for m in NONE_RE.finditer(s.text):  # 本部门无机关运行经费: the answer is "none"
            facts.append(Fact(kind="narrative", subject=m.group(1), context=s.section, metric="无",
                              value=0.0, unit="万元", shown="无", page=s.page, quote=s.text,
                              where=s.section, bbox=s.bbox))
        first = next((c.subject for c in s.claims if c.kind == "amount" and c.subject), "")
        lead = prev = ""
        for c in s.claims:
            subject = c.subject
            if c.kind == "amount" and (len(norm(subject)) <= 4 or subject in GENERIC):
                subject = f"{first} {subject}" if first != subject else subject
            if c.kind in ("change", "growth", "share", "completion"):
                subject = " ".join(dict.fromkeys(x for x in (first, lead, prev, c.subject) if x))
            if c.kind == "amount" and c.subject:
                lead = c.subject
            prev = c.subject or prev
            facts.append(Fact(
                kind="narrative", subject=subject, context=s.section.split(" > ")[-1],
                metric=_claim_metric(c.kind, c.subject), value=c.value, unit=c.unit,
                shown=c.text, page=s.page, bbox=s.bbox, quote=s.text, where=s.section))
    for p in claims.projects:
        for field_name, metric, unit in (("rate", "执行率", "%"), ("budget_full", "全年预算", p.unit),
                                         ("actual", "执行数", p.unit), ("balance", "结余", p.unit),
                                         ("total_score", "得分", "分")):
            value = getattr(p, field_name)
            if value is None:
                continue
            page, bbox, shown = p.cells.get(field_name, (p.pages[0] if p.pages else 1,
                                                        (0, 0, 0, 0), f"{value:g}"))
            facts.append(Fact(kind="perf", subject=p.name, context="项目 绩效自评", metric=metric,
                              value=value,
                              unit=unit, shown=shown, page=page, bbox=bbox,
                              quote=f"{p.name}：{metric} {shown}{unit}", where=f"绩效自评：{p.name}"))
    return facts


SPENT_RE = re.compile(r"一共花了多少钱|一共花了多少|总共花了多少钱?|花了多少钱|一共花|总共|一共")


def parse_question(question: str) -> tuple[str, str | None]:
    """The subject words and the metric asked for."""
    q = SPENT_RE.sub("总额", norm(question))  # 政府采购一共花了多少钱 → 政府采购总额
    metric = None
    best = 0
    for name, words in METRICS.items():
        for w in words:
            if w in q and len(w) > best:
                metric, best = name, len(w)
    subject = q
    for words in METRICS.values():
        for w in sorted(words, key=len, reverse=True):
            subject = subject.replace(w, "")
    subject = FILLER.sub("", subject)
    subject = re.sub(r"^\d{4}年度?", "", subject)
    return subject, metric


def _metric_fit(asked: str | None, fact: Fact) -> float:
    if asked is None:
        return 1.0 if fact.metric in ("决算", "金额", "预算", "执行数") else 0.8
    if asked == fact.metric:
        return 1.3
    if asked == "决算" and fact.metric in ("金额", "执行数"):
        return 1.1
    if asked == "得分" and fact.metric == "得分":
        return 1.3
    if (asked in PERCENT_METRICS) != (fact.unit == "%"):
        return 0.2
    return 0.5


def score(subject: str, metric: str | None, fact: Fact) -> float:
    """How well a fact answers: shared characters with its subject (and, less, its context),
    a bonus for naming it exactly, times how well its metric fits the one asked for."""
    qb = _bigrams(subject)
    if not qb:
        return 0.0
    fb, cb = _bigrams(fact.subject), _bigrams(fact.context)
    overlap = (len(qb & fb) + 0.3 * len(qb & (cb - fb))) / len(qb)
    q, f = norm(subject), norm(re.sub(r"^[一二三四五六七八九十]+、|\(类\)", "", fact.subject))
    if q and f:
        if q == f:
            overlap += 0.6
        elif q in f or f in q:
            overlap += 0.4 * min(len(q), len(f)) / max(len(q), len(f))
    bonus = 0.05 if fact.kind == "narrative" else 0.0
    return overlap * _metric_fit(metric, fact) + bonus


def _wan(f: Fact) -> float:
    return f.value / 1e4 if f.unit == "元" else f.value


def _exact(question: str, facts: list[Fact]) -> Answer | None:
    """A question that is a label as printed (年末结转和结余, 上年结转): the figures under that
    label answer it when they agree; a report that says it has none (本部门无机关运行经费) too."""
    words = FILLER.sub("", norm(question))
    same = [f for f in facts if norm(re.sub(r"^[一二三四五六七八九十]+、|\(类\)", "", f.subject))
            == words and f.unit != "%"]
    if same and len({round(_wan(f), 2) for f in same}) == 1:
        same.sort(key=lambda f: f.kind != "narrative")  # the sentence that states it, if any
        return Answer(question, same[0], True, [(1.0, f) for f in same[:3]])
    none = [f for f in facts if f.metric == "无" and len(words) >= 4 and words in norm(f.subject)
            and not f.subject.startswith(("此项", "该项", "相关"))]
    if none and not same:
        return Answer(question, none[0], True, [(1.0, none[0])])
    return None


# metrics of a 决算 or 绩效 table the resolver does not tell apart: the cell search answers them
CELL_METRICS = {"年初预算", "全年预算", "完成率", "占比", "执行率", "执行数", "得分", "决算"}


def answer(question: str, facts: list[Fact], top: int = 5) -> Answer:
    exact = _exact(question, facts)
    if exact is not None:
        return exact
    _, metric = parse_question(question)
    resolved = None
    if isinstance(facts, Sources) and facts.claims is not None and metric not in CELL_METRICS:
        from pipeline.questions import resolve

        resolved = resolve(question, facts.figures, facts.claims, facts.tables)
        if resolved.sure:
            return _resolved_answer(question, resolved)
    found = _search(question, facts, top)
    if resolved is not None and resolved.groups and found.sure and found.fact is not None and (
            resolved.asked.ambiguous or not any(
                abs(c.value - _wan(found.fact)) <= c.tol + 0.006 for c in resolved.groups[0])):
        # the resolver saw the figures this question names, and could not choose among them,
        # or the search found another
        found.sure = False
        found.candidates = [(1.0, _as_fact(g[0])) for g in resolved.groups[:3]] + found.candidates
    return found


def _as_fact(c) -> Fact:
    return Fact(kind=c.source, subject=c.where, context=c.where, metric="金额", value=c.value,
                unit=c.unit, shown=c.shown, page=c.page, quote=c.quote, where=c.where,
                bbox=c.bbox)


def _resolved_answer(question: str, r) -> Answer:
    # a print of the figure itself first (the table's 1,627.85, not the narrative's 1,628), the
    # sentence that states it before the tables, the passage worded most like the question
    # before the others
    words = _bigrams(question)
    def near(c) -> float:  # the passage worded most like the question, for its length
        b = _bigrams(c.quote)
        return len(words & b) / max(len(b), 1) ** 0.5

    precise = min(r.groups[0], key=lambda c: c.tol).value
    best = sorted(r.groups[0], key=lambda c: (abs(c.value - precise) > 1e-9,
                                              c.source != "narrative", -near(c), c.page))
    facts = list({(c.page, c.quote): _as_fact(c) for c in reversed(best)}.values())[::-1]
    differs = [_as_fact(g[0]) for g in r.rivals[:2]]
    return Answer(question, facts[0], True, [(1.0, f) for f in facts[:3]], also=facts[1:4],
                  differs=differs)


def _search(question: str, facts: list[Fact], top: int) -> Answer:
    subject, metric = parse_question(question)
    ranked = sorted(((score(subject, metric, f), f) for f in facts), key=lambda x: -x[0])
    ranked = [(s, f) for s, f in ranked if s > 0]
    groups: dict[float, list[tuple[float, Fact]]] = {}
    for s, f in ranked:
        # the same figure found twice (a table in 元 and the narrative in 万元) is one answer,
        # and each place that prints it adds a little to it
        key = round(_wan(f), 2) if f.unit != "%" else round(f.value, 6)
        groups.setdefault(key, []).append((s, f))
    def group_score(g: list[tuple[float, Fact]]) -> float:
        kinds = len({x.kind for _, x in g})
        zero = all(x.value == 0 for _, x in g)  # a blank sub-column is the weakest answer
        return g[0][0] + 0.1 * (kinds > 1) + 0.01 * min(len(g), 5) - 0.1 * zero

    distinct = sorted(((group_score(g), g[0][1]) for g in groups.values()),
                      key=lambda x: -x[0])[:top]
    best_raw = max((g[0][0] for g in groups.values()), default=0.0)
    if not distinct or best_raw < 0.35:
        return Answer(question, None, False, distinct[:3])
    best_score, best = distinct[0]
    runner = distinct[1][0] if len(distinct) > 1 else 0.0
    sure = best_score >= 0.75 and best_score - runner >= 0.08
    return Answer(question, best, sure, distinct)


def flagged(f: Fact, findings) -> list:
    """Findings of `check` that question this very figure (its value, on its page)."""
    out = []
    for x in findings or []:
        if x.severity == "info" or x.stated is None:
            continue
        if abs(x.stated - f.value) < 1e-6 and any(e.page == f.page for e in x.evidence):
            out.append(x)
    return out


def format_answer(a: Answer, findings=None) -> str:
    if a.fact is None:
        return "答：报告中没有找到与问题相关的数字。"  # weak matches are not worth listing
    text = _format_answer(a)
    if a.sure:
        for x in flagged(a.fact, findings):
            text += f"\n注意：检查发现此数字有问题——{x.message}（{x.rule}）"
    return text


_SOURCE = {"table": "表格", "narrative": "说明", "perf": "绩效自评"}


def _format_answer(a: Answer) -> str:
    f = a.fact
    assert f is not None
    src = {"table": "表格", "narrative": "说明", "perf": "绩效自评"}[f.kind]
    if a.sure and f.metric == "无":
        return f"答：报告称无此项（第{f.page}页）\n依据：说明“{f.quote}”"
    if a.sure:
        if f.shown in ("无", "空白（无此项）"):
            shown = f"无（{'表中空白' if f.kind == 'table' else '报告称无此项'}）"
        elif f.unit == "万元" and f.shown.endswith("元") and not f.shown.endswith("万元"):
            shown = f"{f.value:,.2f}万元（表中为{f.shown}）"  # a 元 table, answered in 万元
        else:
            shown = f.shown if f.shown.endswith(f.unit) else f.shown + f.unit
        others = sorted({x.page for x in a.also} - {f.page})
        pages = "、".join(f"第{p}页" for p in [f.page, *others])
        lines = [f"答：{shown}（{pages}）",
                 f"依据：{src}{'“' + f.quote + '”' if f.kind == 'narrative' else '：' + f.quote}"]
        lines += [f"同见：第{x.page}页 {_SOURCE[x.kind]}："
                  f"{x.quote if len(x.quote) <= 80 else x.quote[:80] + '…'}" for x in a.also[:3]]
        for x in a.differs[:2]:
            lines.append(f"注意：第{x.page}页{_SOURCE[x.kind]}另有不同的数（{x.shown}），"
                         "两处不一致时以 check 的核对为准。")
        return "\n".join(lines)
    lines = ["答：不能确定。最接近的内容："]
    quoted: set[str] = set()
    listed = []
    for _, c in a.candidates:
        if c.quote not in quoted:  # one passage once, whatever figures of it matched
            quoted.add(c.quote)
            listed.append(c)
    for i, c in enumerate(listed[:5], start=1):
        src = {"table": "表格", "narrative": "说明", "perf": "绩效自评"}[c.kind]
        quote = c.quote if len(c.quote) <= 80 else c.quote[:80] + "…"
        lines.append(f"  {i}. 第{c.page}页 {src}：{quote}（{c.shown}）")
    return "\n".join(lines)


# -- with an LLM --------------------------------------------------------------------------------


@dataclass
class LLMAnswer:
    text: str
    value: float | None
    unit: str | None
    citations: list[tuple[Fact, str]]  # the cited fact and the quote
    rejected: str | None = None  # why the answer was not accepted


def candidates(question: str, facts: list[Fact], k: int = 6) -> list[Fact]:
    """The figures the question resolves to (pipeline.questions), best value first: what
    `ask --llm` offers the model before the passages a word search finds."""
    if not isinstance(facts, Sources) or facts.claims is None:
        return []
    from pipeline.questions import resolve

    r = resolve(question, facts.figures, facts.claims, facts.tables)
    return [_as_fact(c) for g in r.groups for c in g][:k]


def retrieve(question: str, facts: list[Fact], k: int = 8) -> list[Fact]:
    """The facts most related to the question, one per quote."""
    subject, metric = parse_question(question)
    ranked = sorted(facts, key=lambda f: -score(subject, metric, f))
    out: list[Fact] = []
    quotes: set[str] = set()
    for f in ranked:
        if f.quote in quotes:
            continue
        quotes.add(f.quote)
        out.append(f)
        if len(out) == k:
            break
    return out


def _with_unit(value: float, unit: str | None, cited: list[Fact]) -> bool:
    """The value is a figure of the asked unit in a cited source (a year is not 万元)."""
    from pipeline.extract.mentions import MENTION_RE

    for f in cited:
        if abs(f.value - value) < 1e-9 and (not unit or f.unit == unit):
            return True
        for m in MENTION_RE.finditer(f.quote):
            num = parse_number(m.group("num"))
            if num is not None and abs(num.value - value) < 1e-9 and (
                    not unit or m.group("unit") == unit):
                return True
    return False


def verify(ans, sources: dict[str, Fact]) -> str | None:
    """Why the model's answer cannot be accepted, or None when every figure and quote is in
    the cited sources."""
    if not ans.citations:
        return None if ans.value is None else "the answer cites nothing"
    cited_text = ""
    for c in ans.citations:
        fact = sources.get(c.source)
        if fact is None:
            return f"cites an unknown source {c.source}"
        if norm(c.quote) not in norm(fact.quote):
            return f"quote not in source {c.source}: {c.quote[:30]}"
        cited_text += fact.quote
    if ans.value is not None and not any(abs(ans.value - n) < 1e-9 for n in numbers_in(cited_text)):
        return f"the value {ans.value:g} is not in the cited sources"
    if ans.value is not None and not _with_unit(ans.value, ans.unit, [
            sources[c.source] for c in ans.citations]):
        return f"the value {ans.value:g} is not printed as {ans.unit or 'a figure'} in the sources"
    for n in numbers_in(ans.answer):
        if not any(abs(n - m) < 1e-9 for m in numbers_in(cited_text)):
            return f"the answer's figure {n:g} is not in the cited sources"
    return None


def ask_llm(question: str, facts: list[Fact], client) -> LLMAnswer:
    from pipeline.cache import cache_key
    from pipeline.prompts import load_prompt
    from schemas.llm import AskAnswer

    start = getattr(client, "start_deadline", None)
    if start is not None:
        start()  # a question's deadline bounds its request, in flight or not
    found = candidates(question, facts) + retrieve(question, facts)
    unique = list({f.quote: f for f in reversed(found)}.values())[::-1]  # one per passage
    sources = {f"S{i}": f for i, f in enumerate(unique[:8], start=1)}
    listing = "\n".join(f"[{sid}] 第{f.page}页 {f.where}：{f.quote}" for sid, f in sources.items())
    prompt = load_prompt("answer")
    ans = client.structured(prompt, {"question": question, "sources": listing}, AskAnswer,
                            cache_key(question, listing))
    why = verify(ans, sources)
    cites = [(sources[c.source], c.quote) for c in ans.citations if c.source in sources]
    return LLMAnswer(ans.answer, ans.value, ans.unit, cites, rejected=why)


def format_llm_answer(a: LLMAnswer, fallback: Answer) -> str:
    if a.value is None and not a.citations and fallback.sure and fallback.fact is not None:
        # the model found nothing where the report's own figure was found: that answer stands
        return "模型未给出答案，离线检索结果：\n" + format_answer(fallback)
    if a.rejected:
        return (f"模型的回答未能在报告原文中核实（{a.rejected}），已拒绝。离线检索结果：\n"
                + format_answer(fallback))
    pages = "、".join(dict.fromkeys(f"第{f.page}页" for f, _ in a.citations))
    lines = [f"答：{a.text}" + (f"（{pages}）" if pages else "")]
    lines += [f"依据：第{f.page}页“{q}”" for f, q in a.citations]
    return "\n".join(lines)
