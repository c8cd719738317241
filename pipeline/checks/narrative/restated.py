"""The same figure stated twice, two changes for one total, units and sections said to be empty."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from pipeline.checks.base import (
    Context,
    amount,
    compare,
    ev_sentence,
    finding,
    norm,
    rule,
    severity_for,
)
from pipeline.checks.narrative import _money, narrative, wan
from pipeline.checks.narrative.changes import _growth_pairs, _resolve, prior_current_findings
from pipeline.facts import is_total
from schemas.claims import Claim, Sentence
from schemas.findings import Finding

# -- the same figure stated twice -------------------------------------------------------------


def _key(subject: str) -> str:
    key = norm(subject)
    key = re.sub(r"^(?:主要是|主要用于|其中|一是|二是|三是|四是|同时|新增了?|包括|因|由于)", "", key)
    return key


SCOPE_WORDS = ("一般公共预算", "政府性基金", "国有资本", "财政拨款", "基本支出", "项目支出", "三公",
               "机关运行", "人员经费", "公用经费", "（项）", "（款）", "（类）")


def _scope(text: str) -> frozenset[str]:
    return frozenset(w for w in SCOPE_WORDS if w in text)


FUND_WORDS = frozenset({"一般公共预算", "政府性基金", "国有资本", "财政拨款"})


def _same_scope(items: list, text_of, funds: bool = True) -> list[list]:
    """Items split by what their wording names (项目支出 against a （项）, 三公 against 机关运行;
    with `funds`, also 财政拨款 against 收支总计): equal figures of two different things are not
    one thing stated twice."""
    groups: dict[frozenset[str], list] = defaultdict(list)
    for it in items:
        scope = _scope(text_of(it))
        groups[scope if funds else scope - FUND_WORDS].append(it)
    return list(groups.values())


ITEM_MARK_RE = re.compile(r"^(?:[（(][一二三四五六七八九十]+[)）]|\d+[.、．])")
COMPARING_RE = re.compile(r"上年|小于|大于|高于|低于|增加|减少|增长|下降|比")


def _in_facts(ctx: Context, value: float) -> bool:
    return any(abs(f.value - value) <= f.half_unit + 0.005 + 1e-9 for f in ctx.facts if not f.blank)


OPENS_RE = re.compile(r"其中|包括")  # the words that open a list of a head's parts


def _heads(sentences: list[Sentence]) -> dict[int, str]:
    """The head a figure is a part of: 专项业务经费支出 after 商品和服务支出（302）4464.76万元，其中：
    and after 对个人和家庭的补助（303）…，其中： are two parts of two heads, not one item twice. A
    figure after a 其中 or 包括 of its paragraph maps to the paragraph's first figure (by claim id)."""
    out: dict[int, str] = {}
    head: Claim | None = None
    opened, last = False, None
    for s in sentences:
        if s.paragraph != last:
            head, opened, last = None, False, s.paragraph
        m = OPENS_RE.search(s.text)
        at = m.start() if m else -1
        for c in s.claims:
            if head is None and _money(c):
                head = c
                continue
            if opened or (at >= 0 and c.start > at):
                if head is not None:
                    out[id(c)] = _key(head.subject)
        opened = opened or at >= 0
    return out


@rule("nar.restated", "warning", "同一事项在情况说明中多次出现时金额应一致。")
def check_restated(ctx: Context) -> Iterator[Finding]:
    yield from prior_current_findings(ctx, "nar.restated")
    groups: dict[tuple[str, str, str | None, str], list[tuple[Claim, Sentence]]] = defaultdict(
        list)
    heads = _heads(narrative(ctx))
    for s in narrative(ctx):
        for c in s.claims:
            if not _money(c) or c.kind not in ("amount", "change"):
                continue
            key = _key(c.subject)
            if len(re.findall(r"[\u4e00-\u9fff]", key)) < 8 or COMPARING_RE.search(key):
                continue
            # a numbered item of a section ((三)对个人和家庭补助支出 under each unit's heading) is
            # that section's: parallel sections itemise different things alike
            where = s.section if ITEM_MARK_RE.match(norm(c.subject)) else ""
            groups[(c.kind, key, c.direction, heads.get(id(c), "") + where)].append((c, s))
    subjects = {f.subject for f in ctx.facts}
    # a table subject (社会保障和就业支出) has one figure per fund, so its passages are told apart
    # by the funds their heading names; a project named in two places is one thing
    for items in (part for (_, key, _, _), group in groups.items() for part in _same_scope(
            group, lambda x: x[1].section.split(" > ")[-1] + x[0].subject,
            funds=any(key.endswith(n) for n in subjects if len(n) >= 4))):
        key = _key(items[0][0].subject)
        values = Counter(round(wan(c), 6) for c, _ in items)
        if len(values) < 2:
            continue
        common, _ = values.most_common(1)[0]
        in_tables = [v for v in values if _in_facts(ctx, v)]
        if len(in_tables) == 1:
            common = in_tables[0]  # the value the tables print is the one to keep
        for c, s in items:
            if round(wan(c), 6) == common:
                continue
            verdict = compare(wan(c), c.decimals, common, 0.005)
            if verdict.ok:
                continue
            other = next((s2 for c2, s2 in items if round(wan(c2), 6) == common and s2 is not s),
                         None)
            if other is None:
                continue  # one list naming two items alike (…保护资金91万元、…保护资金12.5万元)
            yield finding(
                "nar.restated",
                f"“{key}”在此处为{c.text}，在别处为{amount(common)}，同一事项金额前后不一致。",
                [ev_sentence(s, c), ev_sentence(other)],
                stated=wan(c),
                expected=common,
                unit="万元",
                section=s.section,
                severity=severity_for(verdict, "warning"),
            )


@rule("nar.two_changes", "warning", "同一总额不应给出两个不同的上年增减额。")
def check_two_changes(ctx: Context) -> Iterator[Finding]:
    by_value: dict[float, list[tuple[Sentence, Claim, Claim]]] = defaultdict(list)
    for s, ch, growth, cands in _growth_pairs(ctx):
        if growth is None or not cands:
            continue
        resolved = _resolve(ch, growth, cands)
        if resolved is None:
            continue
        cur = resolved[0]
        if wan(cur) >= 1:
            by_value[round(wan(cur), 6)].append((s, cur, ch))
    # every change the narrative states, signed: what a part of a total changed by
    stated = [_signed(ch) for _, ch, _, _ in _growth_pairs(ctx)]
    names = {f.subject for f in ctx.facts if f.subject}
    for group in by_value.values():
        # the same total of 收支 and of 一般公共预算 given two changes is reported: when every
        # 元 of the total is 一般公共预算 this year, a reader cannot tell the two apart
        for items in _same_scope(group, lambda x: x[1].subject, funds=False):
            for same in _same_subject(items, names):
                yield from _two_changes(same, stated)


def _same_subject(items: list[tuple[Sentence, Claim, Claim]], names: set[str]
                  ) -> list[list[tuple[Sentence, Claim, Claim]]]:
    """Items whose wording names two different table subjects (培训支出（2050803） and 培训费,
    a 功能 item and an economic item that happen to have one amount) are two things; wording
    that names none goes with each."""
    def subject(wording: str) -> str | None:  # the longest table subject the wording ends with
        text = re.sub(r"[（(]\d{3,7}[)）]\s*$", "", norm(wording))  # 培训支出（2050803）
        for t in (text, re.sub(r"(?:预算|支出|安排)+$", "", text)):  # 培训费预算支出
            best = max((n for n in names if len(n) >= 3 and t.endswith(n)), key=len, default=None)
            if best:
                return best
        return None

    named: dict[str, list] = defaultdict(list)
    loose: list[tuple[Sentence, Claim, Claim]] = []
    for it in items:
        name = subject(it[1].subject)
        (named[name] if name else loose).append(it)
    if len(named) < 2:
        return [items]
    return [group + loose for group in named.values()]


def _signed(change: Claim) -> float:
    return wan(change) * (-1 if change.direction == "down" else 1)


def _two_changes(items: list[tuple[Sentence, Claim, Claim]],
                 stated: list[float]) -> Iterator[Finding]:
    changes = Counter((round(wan(ch), 6), ch.direction) for _, _, ch in items)
    if len(changes) < 2:
        return
    (common, _), _ = changes.most_common(1)[0]
    first = next(x for x in items if round(wan(x[2]), 6) == common)
    for s, cur, ch in items:
        if round(wan(ch), 6) == common:
            continue
        gap = _signed(ch) - _signed(first[2])
        if any(x and abs(abs(gap) - abs(x)) <= 0.011 for x in stated):
            # the report states the other part's change (财政专户 减少147.20 beside 一般公共预算
            # 增加3756.18 and 总计 增加3608.98): last year's total had a part this year's has not
            continue
        yield finding(
            "nar.two_changes",
            f"同一总额{cur.text}在一处较上年{'增加' if first[2].direction == 'up' else '减少'}"
            f"{first[2].text}，在另一处{'增加' if ch.direction == 'up' else '减少'}{ch.text}。",
            [ev_sentence(s, ch), ev_sentence(first[0], first[2])],
            stated=wan(ch),
            expected=common,
            unit="万元",
            section=s.section,
        )
        break


@rule("nar.unit", "warning", "金额单位疑似错误：以万元为单位的说明中出现极小的“元”金额，或远超报告收支总计的“万元”金额。")
def check_unit(ctx: Context) -> Iterator[Finding]:
    sentences = narrative(ctx)
    totals = [f.value for f in ctx.facts if is_total(f.subject) and not f.blank]
    ceiling = max(totals, default=0.0)
    for s in sentences if ceiling > 0 else ():
        for c in s.claims:
            if c.unit == "万元" and c.value > 1000 * ceiling:
                yield finding(
                    "nar.unit",
                    f"此处金额写作{c.text}，是报告收支总计（{amount(ceiling)}）的"
                    f"{c.value / ceiling:,.0f}倍，疑为以元计的金额标成了万元。",
                    [ev_sentence(s, c)], stated=c.value, unit="万元", section=s.section,
                )
    in_wan = {s.section for s in sentences if any(c.unit == "万元" for c in s.claims)}
    for s in sentences:
        if s.section not in in_wan:
            continue  # a section that counts in 元 throughout
        for c in s.claims:
            if c.unit == "元" and 0 < c.value < 100:
                yield finding(
                    "nar.unit",
                    f"此处金额写作{c.text}，而说明均以万元计，疑为“{c.value:g}万元”。",
                    [ev_sentence(s, c)],
                    stated=c.value,
                    unit="元",
                    section=s.section,
                )


# a whole fund said to be absent; 三公 items are absent one by one (无此项支出 for 购置费 alone)
FUND_KINDS = (("政府性基金", ("fa07", "bu07", "bu08")), ("国有资本", ("fa08", "bu09")))


@rule("nar.empty_section", "error", "说明或表注称“无此项收支/本表为空”的，对应表格应无数据。")
def check_empty_sections(ctx: Context) -> Iterator[Finding]:
    from pipeline.checks.base import ev_cell
    from pipeline.segment.tables import EMPTY_RE
    from schemas.findings import Evidence

    def first_figure(t):
        for r in t.data_rows():
            for c in r.cells:
                if c.role == "amount" and c.value:
                    return r, c
        return None

    for s in narrative(ctx):
        if not re.search(r"无此项", s.text):
            continue
        kinds = next((k for word, k in FUND_KINDS if word in s.section), ())
        for t in (t for t in ctx.doc.tables if t.kind in kinds):
            hit = first_figure(t)
            if hit:
                yield finding(
                    "nar.empty_section",
                    f"说明称本年度无此项收支，但{t.code or t.title}列有数据。",
                    [ev_sentence(s), ev_cell(t, hit[0], hit[1])],
                    section=s.section,
                )
    for t in ctx.doc.tables:
        note = next((n for n in t.notes + t.caption if EMPTY_RE.search(n)), None)
        hit = first_figure(t) if note else None
        if note and hit:
            yield finding(
                "nar.empty_section",
                f"{t.code or t.title}注明“{note[:40]}”，但表中列有数据。",
                [Evidence(page=t.pages[-1], source="table", text=note, table=t.code or t.title),
                 ev_cell(t, hit[0], hit[1])],
                section=t.code or t.title,
            )
