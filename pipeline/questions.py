"""What a question asks, in the vocabulary of facts and claims, and the figures that answer it.

A question a reviewer or citizen types ("三公经费实际花了多少钱？", "账上现在有几辆机动车？",
"收入预算比上年增长了百分之几？") names a figure by a concept (三公经费, 人员经费, 政府采购 …) or by a
table subject (一般公共服务支出, 委托业务费 …), and asks for an amount, a change, a growth rate or a
count. The concept is read from CONCEPTS (vocabulary, one table); a subject is resolved the way the
checks resolve a narrative claim's wording (pipeline.checks.figures.resolve_subject).

Candidates come from every table fact (pipeline.facts: any template, 元 tables in 万元, tables read
but not understood left out) and every narrative claim. A concept is printed as a row (基本支出 in a
收支总表), as a column on a total row (支出总表 | 政府采购项目/小计) or stated in a sentence; the
candidates are grouped by value and the answer is sure only when one value is clearly the report's
(every source agrees, or the sources that agree outnumber the others).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.checks.base import norm
from pipeline.checks.figures import resolve_subject
from pipeline.concepts import group_of, printed_as, title_concepts, total_rows
from pipeline.facts import first_columns, is_total
from pipeline.numbers import MONEY, half_unit
from pipeline.vocabulary import (
    CONCEPTS,
    FUND_ONLY,
    FUND_TABLES,
    FUND_WORDS,
    SIDE_OF_KIND,
    WHOLE_TABLES,
    Concept,
    claim_concept,
    clean,
)
from schemas.claims import Claim, Claims, Sentence
from schemas.facts import Fact as TableFact

SYNONYMS = (("社保和就业", "社会保障和就业"), ("社保", "社会保障和就业"))
GROWTH_RE = re.compile(r"百分之|百分比|增长率|增幅|降幅|%|％")
CHANGE_RE = re.compile(r"(?:增加|减少|多|少|下降|增长|变动|增减)了?多少|增减|变动")
COUNTING_RE = re.compile(r"几(辆|台|个|人|套|项)|多少(辆|台|个|人|套|项)")  # the counting word
COUNT_RE = re.compile(COUNTING_RE.pattern + "|有几")
COUNT_UNITS = {"辆": r"车", "台": r"设备|台", "个": r"", "人": r"", "套": r"设备"}
# 本部门2026年无财政拨款安排的公务用车购置和运行维护经费预算: the report says it has none
NONE_RE = re.compile(r"(?:无|没有|未安排)([^。；，,]{2,40}?)(?:经费|支出|收入|资金)?(?:预算|安排)?(?:。|；|，|$)")
BUY_RE = re.compile(r"购置|购买|新购|新增|更新|报废|处置|配备")


@dataclass
class Asked:
    question: str
    kind: str  # amount | growth | change | count
    concept: Concept | None
    subject: str | None  # a table subject resolved as a narrative claim's is
    scope: str | None  # a fund the question names
    unit: str | None = None  # the counting word asked for
    ambiguous: bool = False  # 增长了多少: a rate or an amount
    qualifiers: tuple[str, ...] = ()  # the part of the concept asked for (工程类)
    marks: tuple[str, ...] = ()  # the print of it asked for (收入总计, not 本年收入合计)
    side: str = ""  # income or expense, when the question says 收入 or 支出 of a fund


@dataclass
class Candidate:
    value: float  # 万元 for money
    unit: str  # 万元, %, or the counting word
    source: str  # table | narrative
    shown: str  # as printed
    page: int
    bbox: tuple[float, float, float, float]
    quote: str
    where: str  # the table or the section
    table: str | None = None  # the table's id
    kind: str = ""  # the table's kind
    first: bool = False  # the first figure of its sentence (a total before its parts)
    total: bool = False  # followed by 其中 (its parts)
    tol: float = 0.0  # half the unit of its last printed digit
    key: tuple = ()  # where in its table (one candidate per table block)


@dataclass
class Resolved:
    asked: Asked
    groups: list[list[Candidate]] = field(default_factory=list)  # best first
    sure: bool = False
    rivals: list[list[Candidate]] = field(default_factory=list)  # other values of the same thing


def _kind(q: str) -> tuple[str, bool]:
    """amount, growth, change or count; and whether 增长了多少 leaves a rate or an amount open."""
    if GROWTH_RE.search(q):
        return "growth", False
    if CHANGE_RE.search(q) and re.search(r"比|较|上年|去年|同比|增长|增加|减少|下降|少了|多了", q):
        ambiguous = bool(re.search(r"增长了?多少|下降了?多少", q)) and not re.search(r"钱|万元|金额", q)
        return "change", ambiguous
    if COUNT_RE.search(q) or "车辆数" in q:
        return "count", False
    return "amount", False


def _concept(q: str) -> Concept | None:
    """The concept a question names: the longest match, a plain concept before a fund (一般公共预算
    基本支出: 基本支出 within 一般公共预算), a fund before 收入/支出 (政府性基金预算支出: the fund)."""
    for rank in ("concept", "fund", "generic"):
        best: Concept | None = None
        size = at = 0
        for c in CONCEPTS:
            kind_of = "fund" if c.funds else "generic" if c.generic else "concept"
            m = re.search(c.asked, q) if kind_of == rank else None
            if m and len(m.group(0)) > size:
                best, size, at = c, len(m.group(0)), m.start()
        if best is not None:
            if best.generic and not _whole(q, at):
                return None  # 提租补贴支出: a subject of its own, not the department's 支出
            return best
    return None


def parse(question: str) -> Asked:
    q = norm(question)
    for a, b in SYNONYMS:
        if a in q and b not in q:
            q = q.replace(a, b)
    kind, ambiguous = _kind(q)
    unit = None
    if kind == "count":
        m = COUNTING_RE.search(q)
        unit = (m.group(1) or m.group(2)) if m else ("辆" if "车" in q else None)
    best = _concept(q)
    scope = next((w for w in FUND_WORDS if w in q and (best is None or w != best.name)), None)
    subject = None
    if (best is None or best.generic) and kind != "count":
        words = re.sub(r"(是多少|有多少|为多少|多少钱|多少|安排了?|预算数?|是|有|吗|呢|？|\?|，|,|。)+",
                       "", q)
        subject = re.sub(r"(比上年|比去年|较上年).*$", "", words) or None
    # a question naming a part of its concept (政府采购里工程类) asks for that part
    qualifiers = tuple(w for w in (best.parts if best else ()) if w in q)
    marks = tuple(w for w in (best.marks if best else ()) if w in q)
    side = ""
    if best is not None and best.funds:
        side = "expense" if "支出" in q else "income" if "收入" in q else ""
    return Asked(question, kind, best, subject, scope, unit, ambiguous, qualifiers, marks, side)


# what may stand before 收入 / 支出 in a question about the department's whole figure: its name,
# the year, 一共 …
WHOLE_RE = re.compile(r"(?:局|委|部|院|办|厅|会|中心|所|站|队|馆|校|室|处|团|社|组|部门|单位|本年|今年|年度?"
                      r"|一共有?|总共有?|全部|共有?|总|预算|安排)$")


def _whole(q: str, at: int) -> bool:
    pre = re.sub(r"\d{4}年度?", "", q[:at])
    return not pre or bool(WHOLE_RE.search(pre))


def _table_candidates(asked: Asked, facts: list[TableFact], tables: dict) -> list[Candidate]:
    first = first_columns(facts)
    totals = total_rows(facts)
    titled = {tid: title_concepts(t.title or "") for tid, t in tables.items()}
    out: list[Candidate] = []
    seen: dict[tuple, tuple[int, int]] = {}
    for f in facts:
        if f.blank and asked.kind != "amount" or f.period != "current" or f.sub_item:
            continue
        if f.unit == "%":
            continue
        row_hit = col_hit = False
        leads = first[(f.table, f.panel, f.row)] == f.column  # the row's total
        if asked.concept is not None:
            row_hit, col_hit = printed_as(asked.concept, f, first, totals, titled)
        elif asked.subject is not None:
            # 灾害防治及应急管理支出 is the 收支总表's 灾害防治及应急管理 (its spending side)
            row_hit = clean(f.subject) in (asked.subject, re.sub(r"支出$", "", asked.subject)) \
                and leads
        if not (row_hit or col_hit) or not _qualified(
                asked, (f.subject if row_hit else "") + group_of(f.header)):
            continue
        if asked.concept is not None and asked.concept.funds and f.kind not in WHOLE_TABLES:
            continue
        side = f.side or SIDE_OF_KIND.get(f.kind, "")
        if asked.side and side and side != asked.side:
            continue
        if asked.scope and asked.scope not in f.header and asked.scope not in f.subject and \
                f.kind not in FUND_TABLES.get(asked.scope, ()):
            continue
        key = (f.table, f.panel, "row" if row_hit else f.row)
        if key in seen and seen[key] <= (f.row, f.column):
            continue  # a table's first print: the department's block before its units', a
        seen[key] = (f.row, f.column)  # group's 小计 before its items'
        out = [c for c in out if c.key != key]
        t = tables[f.table]
        name = t.code or t.title or t.id
        out.append(Candidate(key=key, 
            value=f.value, unit="万元", source="table",
            shown=f"{f.text}{f.unit}" if f.text.strip() else "空白（无此项）",
            page=f.page, bbox=f.bbox, quote=f"{name}：{f.subject} / {f.header} = {f.text}",
            where=name, table=f.table, kind=f.kind, tol=f.half_unit))
    return out


def _heads(s: Sentence) -> list[tuple[Claim, Claim | None]]:
    """Each claim with the amount it speaks of (the last amount claim before it)."""
    head: Claim | None = None
    out: list[tuple[Claim, Claim | None]] = []
    for c in s.claims:
        out.append((c, head))
        if c.kind == "amount" and c.unit in MONEY:
            head = c
    return out


def _narrative_candidates(asked: Asked, claims: Claims, names: set[str]) -> list[Candidate]:
    out = []
    for k, s in enumerate(claims.sentences):
        prev = claims.sentences[k - 1] if k else None
        # the sentence before, in the same section: a figure's words may end it
        before = norm(prev.text)[-20:] if prev is not None and prev.section == s.section else ""
        text = norm(s.text)
        if asked.scope and asked.scope not in text and asked.scope not in norm(s.section):
            continue
        out += [_from_claim(c, s, i) for i, (c, head) in enumerate(_heads(s))
                if _answers(asked, c, head, i, text, before, names)]
        if asked.kind == "amount" and not s.claims:
            m = NONE_RE.search(text)
            if m and _names(asked, m.group(1), names):
                out.append(Candidate(value=0.0, unit="万元", source="narrative", shown="无",
                                     page=s.page, bbox=s.bbox, quote=s.text, where=s.section,
                                     first=True))
    return out


def _answers(asked: Asked, c: Claim, head: Claim | None, i: int, text: str, before: str,
             names: set[str]) -> bool:
    """Does claim c (the i-th of its sentence, about the amount `head`) state what is asked?"""
    if asked.kind in ("growth", "change"):
        if c.kind != asked.kind and not (asked.ambiguous and c.kind in ("growth", "change")):
            return False
        about = c.subject if _names(asked, c.subject, names) else (
            head.subject if head is not None else "")
        return _names(asked, about, names)
    if asked.kind == "count":
        if c.kind != "count" or (asked.unit and c.unit != asked.unit):
            return False
        want = COUNT_UNITS.get(c.unit, "")
        if want and not re.search(want, before + c.subject + text[:c.start]):
            return False
        return bool(BUY_RE.search(c.subject or before)) == bool(BUY_RE.search(norm(asked.question)))
    if c.kind != "amount" or c.unit not in MONEY:
        return False
    # （一）因公出国（境）费用。2026年预算29.17万元: named by the sentence before
    return _names(asked, c.subject, names) or (
        i == 0 and not claim_concept(c.subject) and _names(asked, before, names))


def _qualified(asked: Asked, text: str) -> bool:
    """The words naming a figure name the part the question asks for, and no other part."""
    t = norm(text)
    parts = asked.concept.parts if asked.concept else ()
    return all((w in t) == (w in asked.qualifiers) for w in parts) and all(
        w in t for w in asked.marks)


def _names(asked: Asked, subject: str, names: set[str]) -> bool:
    """Does a claim's wording name what the question asks for?"""
    if not subject or not _qualified(asked, subject):
        return False
    if asked.side and ("支出" if asked.side == "income" else "收入") in norm(subject):
        return False  # a fund's 收入 asked, its 支出 said (or the other way)
    if asked.concept is not None:
        return claim_concept(subject) is asked.concept
    sc = resolve_subject(subject, names)
    return sc is not None and sc.name == asked.subject


def _from_claim(c: Claim, s: Sentence, index: int) -> Candidate:
    value = c.value * MONEY[c.unit] if c.unit in MONEY else c.value
    after = s.text[c.start + len(c.text): c.start + len(c.text) + 4]
    return Candidate(value=value, unit="万元" if c.unit in MONEY else c.unit, source="narrative",
                     shown=c.text, page=s.page, bbox=s.bbox, quote=s.text, where=s.section,
                     first=index == 0, total=bool(re.match(r"[，,：:（(]?\s*其中", after)),
                     tol=half_unit(c.decimals) * MONEY.get(c.unit, 1.0))


def resolve(question: str, facts: list[TableFact], claims: Claims, tables: dict) -> Resolved:
    asked = parse(question)
    names = {f.subject for f in facts if f.subject}
    if asked.subject is not None:
        sc = resolve_subject(asked.subject, names) or (resolve_subject(
            asked.subject[:-2], names) if asked.subject.endswith(("支出", "收入")) else None)
        if sc is not None and len(sc.name) >= 4 and (
                not is_total(sc.name) or asked.concept is not None and asked.concept.generic):
            # 一般公共服务支出, not 支出; 收入总计 as printed, not every 收入 total
            asked.concept, asked.subject = None, sc.name
        elif asked.concept is None:
            return Resolved(asked)
        else:
            asked.subject = None
    cands = _narrative_candidates(asked, claims, names)
    if asked.kind == "count" and any(c.total for c in cands):
        cands = [c for c in cands if c.total]  # 4辆，其中：… 1辆: the total, not its parts
    if asked.kind == "amount":
        cands += _table_candidates(asked, facts, tables)
    groups: dict[tuple[str, float], list[Candidate]] = defaultdict(list)
    for c in sorted(cands, key=lambda c: c.tol):
        # a figure restated to the 万元 (1,628万元) is the table's 1,627.85: one answer
        near = [k for k, g in groups.items() if k[0] == c.unit
                and abs(g[0].value - c.value) <= max(c.tol, g[0].tol) + 1e-9]
        groups[near[0] if len(near) == 1 else (c.unit, round(c.value, 6))].append(c)
    whole = asked.scope is None and not (asked.concept and asked.concept.funds)
    ranked = sorted(groups.values(), key=lambda g: -_weight(g, whole))
    out = Resolved(asked, ranked)
    if not ranked:
        return out
    best = _weight(ranked[0], whole)
    rivals = ranked[1:]
    if whole and not _fund_only(ranked[0]):
        # the department's figure asked, and printed: a fund's share of it is no rival
        rivals = [g for g in rivals if not _fund_only(g)]
    runner = _weight(rivals[0], whole) if rivals else 0.0
    out.rivals = [g for g in rivals if not all(c.shown == "空白（无此项）" for c in g)]
    # the department's 收入 or 支出 asked without saying which total: only when all agree
    margin = float("inf") if asked.concept is not None and asked.concept.generic else 2
    out.sure = best > 0 and (runner == 0 or best >= margin * runner) and not (
        asked.ambiguous and len({c.unit for g in ranked for c in g}) > 1)
    return out


def _fund_only(group: list[Candidate]) -> bool:
    return all(c.source == "table" and c.kind in FUND_ONLY for c in group)


def _weight(group: list[Candidate], whole: bool) -> float:
    """How much the report stands behind one value: each table printing it (a third as much a
    table of one fund, when the question asks for the department's whole figure), and the
    narrative stating it (the first figure of a sentence, a total, counts more than its parts)."""
    said = [c for c in group if c.source == "narrative"]
    weight = sum(0.3 if whole and kind in FUND_ONLY else 1.0 for _, kind in {
        (c.table, c.kind) for c in group if c.source == "table"})
    return weight + (3.0 if any(c.total for c in said) else 2.0 if any(c.first for c in said)
                     else 1.0 if said else 0.0)
