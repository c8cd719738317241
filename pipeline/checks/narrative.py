"""Narrative against tables, and the narrative's own arithmetic (情况说明)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.checks.base import (
    Context,
    amount,
    compare,
    compare_pct,
    ev_figure,
    ev_sentence,
    find_figure,
    finding,
    norm,
    ratio_interval,
    rule,
    severity_for,
    shared,
)
from pipeline.facts import is_total
from pipeline.numbers import MONEY, NUMBER, half_unit
from schemas.claims import Claim, Sentence
from schemas.findings import Finding

NUM = rf"(?P<n>{NUMBER})"


# parts that restate no figures: 概况 and the tables part come before the 情况说明, 名词解释 and
# 附件 after it (a part heading wrapped over two lines is cut short, so 说明 may be missing)
NOT_NARRATIVE_RE = re.compile(
    r"^第[一二]部分|^第[四五六七]部分|.*(名词解释|附件|附表|自评|基本情况|概况|主要职能|机构设置)")
# a part heading that names its topic says what it holds, whatever its number (深圳: 第四部分
# 政府采购预算情况 restates the 支出总表's 政府采购 column)
TOPIC_RE = re.compile(r"^第[一二三四五六七八九十]+部分(?=.*(?:情况|收支|采购|三公|支出|收入))(?!.*表$)")


# a 说明 section inside a part the national template gives to 概况 or the tables (西安: 第二部分 >
# 五、2021年部门预算收支说明)
EXPLAINED_RE = re.compile(r"收支说明|情况说明|预算说明")
ANNEX_RE = re.compile(r"附件|附表|自评|名词解释|绩效目标表")
ANNEX_TOPIC_RE = re.compile(r"名词解释|附件|附表|自评|基本情况|概况|主要职能|机构设置")


def narrative(ctx: Context) -> list[Sentence]:
    """Sentences of the explanatory part (情况说明), where figures restate the tables (picked once
    per document: most rules read them)."""
    return shared(ctx, "narrative", lambda: (
        s for s in ctx.claims.sentences if "说明" in s.part or not NOT_NARRATIVE_RE.match(s.part)
        or TOPIC_RE.match(s.part) and not ANNEX_TOPIC_RE.search(s.part)
        or EXPLAINED_RE.search(s.section) and not ANNEX_RE.search(s.section)))


def wan(claim: Claim) -> float:
    return claim.value * MONEY[claim.unit]


def wan_tol(claim: Claim) -> float:
    return half_unit(claim.decimals) * MONEY[claim.unit]


# -- the narrative's own arithmetic ----------------------------------------------------------


def _money(c: Claim) -> bool:
    return c.unit in MONEY


def _prev_sentences(sentences: list[Sentence], i: int, n: int = 2) -> list[Sentence]:
    s = sentences[i]
    out = []
    for j in range(i - 1, max(-1, i - 1 - n), -1):
        if sentences[j].section != s.section:
            break
        out.append(sentences[j])
    return out


@dataclass
class GrowthPair:
    sentence: Sentence
    current: Claim
    change: Claim
    growth: Claim | None


def _growth_pairs(ctx: Context) -> list[tuple[Sentence, Claim, Claim | None, list[Claim]]]:
    """(sentence, change, growth or None, candidates for the current value, nearest first),
    found once per document for the four rules that read them."""
    return shared(ctx, "growth_pairs", lambda: _find_growth_pairs(ctx))


def _find_growth_pairs(ctx: Context) -> Iterator[tuple[Sentence, Claim, Claim | None, list[Claim]]]:
    sentences = narrative(ctx)
    for i, s in enumerate(sentences):
        for k, ch in enumerate(s.claims):
            if ch.kind != "change" or not _money(ch):
                continue
            nxt = s.claims[k + 1] if k + 1 < len(s.claims) else None
            growth = nxt if nxt is not None and nxt.kind == "growth" and (
                nxt.start - ch.start - len(ch.text) < 10) else None
            cands = [c for c in reversed(s.claims[:k]) if c.kind == "amount" and _money(c)]
            qz = s.text.rfind("其中", 0, ch.start)
            if qz >= 0:  # 收入344,447.70万元，其中：……3,444.00万元，较上年减少: the total changed
                cands = [c for c in cands if c.start < qz] + [c for c in cands if c.start > qz]
            for p in _prev_sentences(sentences, i):
                # an amount whose own change follows it in its sentence is not this change's base
                cands += [c for j, c in reversed(list(enumerate(p.claims)))
                          if c.kind == "amount" and _money(c)
                          and not any(x.kind == "change" for x in p.claims[j + 1:])]
            subject = ch.subject
            if subject:
                matched = [c for c in cands if c.subject.endswith(subject) or subject in c.subject]
                cands = matched + [c for c in cands if c not in matched]
            yield s, ch, growth, cands


def _growth_interval(current: Claim, change: Claim) -> tuple[float, float] | None:
    c, hc = wan(change), wan_tol(change)
    v, hv = wan(current), wan_tol(current)
    prior = v - c if change.direction == "up" else v + c
    return ratio_interval(c, hc, prior, hv + hc)


def _resolve(ch: Claim, growth: Claim, cands: list[Claim]):
    """The current value a growth rate was computed from: the first candidate that explains it,
    else the nearest; with the verdict and the interval of the nearest."""
    first = None
    for cur in cands[:4]:
        interval = _growth_interval(cur, ch)
        if interval is None:
            continue
        v = compare_pct(growth.value, growth.decimals, interval)
        if v.ok:
            return cur, v, interval
        first = first or (cur, v, interval)
    return first


@rule("nar.growth", "error", "增长（下降）率应等于增减额 ÷ 上年数（本年数减增减额）。")
def check_growth(ctx: Context) -> Iterator[Finding]:
    yield from prior_current_findings(ctx, "nar.growth")
    for s, ch, growth, cands in _growth_pairs(ctx):
        if growth is None or not cands:
            continue
        if growth.direction and ch.direction and growth.direction != ch.direction:
            continue  # reported by nar.direction
        resolved = _resolve(ch, growth, cands)
        if resolved is None or resolved[1].ok:
            continue
        cur, v, (lo, hi) = resolved
        expected = (lo + hi) / 2
        yield finding(
            "nar.growth",
            f"所述增长率{growth.value:.{growth.decimals}f}%与增减额{ch.text}、本年数{cur.text}"
            f"推算的{expected:.2f}%不符。",
            [ev_sentence(s, growth)],
            stated=growth.value,
            expected=round(expected, 2),
            unit="%",
            section=s.section,
            severity=severity_for(v, "error"),
        )


@rule("nar.direction", "error", "增减方向应一致：“增加”对应“增长”，“减少”对应“下降”。")
def check_direction(ctx: Context) -> Iterator[Finding]:
    yield from prior_current_findings(ctx, "nar.direction")
    for s, ch, growth, _ in _growth_pairs(ctx):
        if growth and growth.direction and ch.direction and growth.direction != ch.direction:
            words = {"up": "增加/增长", "down": "减少/下降"}
            yield finding(
                "nar.direction",
                f"同一变动既称{words[ch.direction]}（{ch.text}），"
                f"又称{words[growth.direction]}（{growth.text}），方向矛盾。",
                [ev_sentence(s, growth)],
                section=s.section,
            )
    yield from _reason_against_change(ctx)


REASON_OF_RE = re.compile(r"(增加|增长|上升|减少|下降|降低)的(?:主要)?原因")


def _reason_against_change(ctx: Context) -> Iterator[Finding]:
    """较上年增加9.49万元，减少的主要原因是……: the change and the reason given for it name
    opposite directions in one sentence."""
    for s in narrative(ctx):
        changes = [c for c in s.claims if c.kind == "change" and c.direction]
        if len(changes) != 1:
            continue
        ch = changes[0]
        m = REASON_OF_RE.search(s.text, ch.start)
        if m is None:
            continue
        said = "up" if m.group(1) in ("增加", "增长", "上升") else "down"
        if said != ch.direction:
            yield finding(
                "nar.direction",
                f"所述变动为{ch.text}（{'增加' if ch.direction == 'up' else '减少'}），"
                f"随后却解释“{m.group(0)}”，方向矛盾。",
                [ev_sentence(s, ch)], stated=ch.value, unit=ch.unit, section=s.section,
            )


def _named_budget(s: Sentence, c: Claim) -> str | None:
    """The budget a completion rate names (完成年初/全年/调整后预算的x%): 年初, 全年 or 调整."""
    m = re.search(r"(年初|全年|调整后?)预算", s.text[max(0, c.start - 12):c.start])
    return m.group(1)[:2] if m else None


@rule("nar.zero_base", "error", "上年数或年初预算为0时不能给出增长率或完成率。")
def check_zero_base(ctx: Context) -> Iterator[Finding]:
    yield from prior_current_findings(ctx, "nar.zero_base")
    for s, ch, growth, cands in _growth_pairs(ctx):
        if growth is None or not cands or ch.direction != "up":
            continue
        cur = cands[0]
        if abs(wan(cur) - wan(ch)) <= wan_tol(cur) + wan_tol(ch) and growth.value != 0:
            yield finding(
                "nar.zero_base",
                f"上年数为0（本年{cur.text}全部为增加额），不应给出增长率{growth.text}。",
                [ev_sentence(s, growth)],
                stated=growth.value,
                unit="%",
                section=s.section,
            )
    for s in narrative(ctx):
        for k, c in enumerate(s.claims):
            if c.kind != "completion":
                continue
            want = _named_budget(s, c) or "预算"
            budget = next((b for b in reversed(s.claims[:k]) if _money(b) and want in b.subject
                           and "预算" in b.subject), None)
            if budget is not None and budget.value == 0 and c.value != 0:
                yield finding(
                    "nar.zero_base",
                    f"预算数为0，不应给出完成预算的{c.text}。",
                    [ev_sentence(s, c)],
                    stated=c.value,
                    unit="%",
                    section=s.section,
                )


def _pct_off(claim: Claim, interval: tuple[float, float] | None):
    """(verdict, expected) when a stated percentage falls outside its interval, else None."""
    if interval is None:
        return None
    v = compare_pct(claim.value, claim.decimals, interval)
    return None if v.ok else (v, sum(interval) / 2)


@rule("nar.completion", "error", "完成预算的百分比应等于决算数 ÷ 预算数。")
def check_completion(ctx: Context) -> Iterator[Finding]:
    for s in narrative(ctx):
        for k, c in enumerate(s.claims):
            if c.kind != "completion":
                continue
            before = [b for b in reversed(s.claims[:k]) if _money(b) and b.kind == "amount"]
            named = _named_budget(s, c)
            budgets = [b for b in before if "预算" in b.subject]
            budget = next((b for b in budgets if named and named in b.subject),
                          budgets[0] if budgets else None)
            actual = next((b for b in before if b not in budgets), None)
            if budget is None or actual is None or budget.value == 0:
                continue
            off = _pct_off(c, ratio_interval(wan(actual), wan_tol(actual), wan(budget),
                                             wan_tol(budget)))
            if off is None:
                continue
            v, expected = off
            other = next((b for b in budgets if b is not budget and b.value and _pct_off(
                c, ratio_interval(wan(actual), wan_tol(actual), wan(b), wan_tol(b))) is None), None)
            of_other = f"（{c.text}是决算数÷{other.subject}{other.text}）" if other else ""
            yield finding(
                "nar.completion",
                f"所述完成预算{c.text}与决算数{actual.text}÷预算数{budget.text}="
                f"{expected:.2f}%不符{of_other}。",
                [ev_sentence(s, c)],
                stated=c.value,
                expected=round(expected, 2),
                unit="%",
                section=s.section,
                severity=severity_for(v, "error"),
            )


BREAKDOWN_RE = re.compile(r"其中|主要用于|主要包括|包括|如下")
TOTALS = {
    "本年支出合计": ("fa01", r"^本年支出合计$"),
    "本年收入合计": ("fa01", r"^本年收入合计$"),
}


SHARE_OF_RE = re.compile(r"占(.{2,16}?)的?$")


def _share_phrase(s: Sentence, c: Claim) -> str | None:
    """The whole a share names (占“三公”经费的x% → 三公经费), if it names one."""
    m = SHARE_OF_RE.search(s.text[: c.start])
    return norm(m.group(1)).rstrip("的") if m and not m.group(1).startswith("比") else None


def _share_base(ctx: Context, sentences: list[Sentence], i: int, c: Claim):
    """The total a share is of: named after 占 (…的), else the head of the breakdown."""
    s = sentences[i]
    phrase = _share_phrase(s, c)
    if phrase is not None:
        for prev in [s, *_prev_sentences(sentences, i, 6)]:
            for cl in prev.claims:
                if _money(cl) and cl.kind == "amount" and norm(cl.subject).endswith(phrase):
                    return cl, None
        for key, (kind, row) in TOTALS.items():
            if phrase.endswith(key):
                fig = find_figure(ctx.doc.table(kind), row)
                if fig is not None:
                    return None, fig
        return None, None
    for prev in [s, *_prev_sentences(sentences, i, 8)]:
        limit = c.start if prev is s else len(prev.text)
        found = list(BREAKDOWN_RE.finditer(prev.text[:limit]))
        if not found:
            continue
        km = found[-1]
        heads = [h for h in prev.claims if _money(h) and h.start < km.start() and h.kind == "amount"]
        if heads:
            return heads[-1], None
        return None, None
    return None, None


def _fits_other_total(part: Claim, share: Claim, head: Claim | None,
                      sentences: list[Sentence], i: int) -> bool:
    """The share fits another total stated in the head's sentence (总支出 against 本年支出)."""
    for prev in [sentences[i], *_prev_sentences(sentences, i, 8)]:
        if head is not None and head not in prev.claims:
            continue
        for cl in prev.claims:
            if cl is part or cl is head or not _money(cl) or cl.kind != "amount":
                continue
            if wan(cl) <= wan(part):
                continue
            iv = ratio_interval(wan(part), wan_tol(part), wan(cl), wan_tol(cl))
            if iv is not None and compare_pct(share.value, share.decimals, iv).ok:
                return True
        if head is not None:
            return False
    return False


def _whole_of_named_parts(ctx: Context, sentences: list[Sentence], i: int, c: Claim
                          ) -> tuple[float, float] | None:
    """When a passage gives each part's share of a whole it names but does not state (占“三公”经费
    的x%), the whole is the sum of those parts, provided the tables print that sum (the 三公 小计)."""
    phrase = _share_phrase(sentences[i], c)
    if not phrase:
        return None
    parts: list[Claim] = []
    for s in sentences:
        if s.section != sentences[i].section:
            continue
        for k, sc in enumerate(s.claims):
            if sc.kind == "share" and _share_phrase(s, sc) == phrase:
                part = next((p for p in reversed(s.claims[:k]) if _money(p)), None)
                if part is not None and part not in parts:
                    parts.append(part)
    if len(parts) < 2:
        return None
    total = sum(wan(p) for p in parts)
    tol = sum(wan_tol(p) for p in parts)
    printed = next((f for f in ctx.facts if not f.blank
                    and abs(f.value - total) <= f.half_unit + tol + 1e-9), None)
    if printed is None:
        return None
    return printed.value, printed.half_unit  # the table's figure, at the table's precision


@rule("nar.share", "error", "占比应等于该项金额 ÷ 所属总额。")
def check_share(ctx: Context) -> Iterator[Finding]:
    sentences = narrative(ctx)
    for i, s in enumerate(sentences):
        for k, c in enumerate(s.claims):
            if c.kind != "share":
                continue
            part = next((p for p in reversed(s.claims[:k]) if _money(p)), None)
            if part is None or c.start - part.start - len(part.text) > 12:
                continue
            head, fig = _share_base(ctx, sentences, i, c)
            if head is not None and head is not part:
                base, base_tol, base_text = wan(head), wan_tol(head), head.text
                home = next((x for x in sentences if any(h is head for h in x.claims)), s)
                base_ev = ev_sentence(home, head) if home is not s else None  # the total's source
            elif fig is not None:
                base, base_tol, base_text, base_ev = fig.value, fig.tol, fig.text, ev_figure(fig)
            else:
                whole = _whole_of_named_parts(ctx, sentences, i, c)
                if whole is None:
                    continue
                base, base_tol = whole
                base_text, base_ev = f"各项之和{amount(base)}", None
            interval = ratio_interval(wan(part), wan_tol(part), base, base_tol)
            if interval is None:
                continue
            v = compare_pct(c.value, c.decimals, interval)
            if v.ok or _fits_other_total(part, c, head, sentences, i):
                continue
            expected = sum(interval) / 2
            yield finding(
                "nar.share",
                f"{part.subject or '该项'}{part.text}占{base_text}的比例应为{expected:.2f}%，"
                f"所述为{c.text}。",
                [ev_sentence(s, c)] + ([base_ev] if base_ev else []),
                stated=c.value,
                expected=round(expected, 2),
                unit="%",
                section=s.section,
                severity=severity_for(v, "error"),
            )


# -- breakdowns: the parts after 其中 add up to the total ------------------------------------

NESTED_RE = re.compile(r"主要包括|包括|主要是|主要用于|其中")
NUMBERED_RE = re.compile(
    r"(?:(?<=^)|(?<=[：:；;。，,\s\n]))(?:[1-9][.、．](?!\d)|[（(][1-9][)）])")


def _section_stream(sentences: list[Sentence]) -> tuple[str, list[tuple[int, Claim, Sentence]]]:
    text, claims = "", []
    last_par = None
    for s in sentences:
        if last_par is not None and s.paragraph != last_par:
            text += "\n"
        last_par = s.paragraph
        base = len(text)
        claims += [(base + c.start, c, s) for c in s.claims]
        text += s.text
    return text, claims


def _numbered_marks(tail: str) -> list[tuple[int, int]]:
    """(start, end) of the marks 1. 2. 3. (or （1）（2）…) of one list: one style, in sequence."""
    marks: list[tuple[int, int]] = []
    style, last = None, 0
    for m in NUMBERED_RE.finditer(tail):
        mark = m.group(0)
        numeral = re.search(r"[1-9一二三四五六七八九]", mark).group(0)  # type: ignore[union-attr]
        n = int(numeral) if numeral.isdigit() else "一二三四五六七八九".index(numeral) + 1
        kind = ("paren" if mark[0] in "（(" else "dot", numeral.isdigit())
        if style is None:
            style, last = kind, n
            marks.append((m.start(), m.end()))
        elif kind == style and n == last + 1:
            last = n
            marks.append((m.start(), m.end()))
        elif kind == style:
            break
    return marks


def _segments(tail: str) -> list[tuple[int, int]]:
    """Spans of the items after 其中: numbered (1. 2.); the following paragraphs when 其中 ends
    its paragraph (items end with ；, the last with 。); else split at ；, 、 or ，."""
    found = _numbered_marks(tail)
    if len(found) >= 2 and not tail[: found[0][0]].strip(" \n：:"):
        # a numbered list right after 其中; numbers further on start other paragraphs
        ends = [e for _, e in found]
        return [(a, b) for a, b in zip(ends, [*[st for st, _ in found[1:]], len(tail)],
                                       strict=True)]
    if tail.startswith("\n"):
        spans, start = [], 1
        while start < len(tail):
            end = tail.find("\n", start)
            end = len(tail) if end < 0 else end
            spans.append((start, end))
            if not tail[start:end].rstrip().endswith(("；", ";")):
                break
            start = end + 1
        return spans
    end = tail.find("。")
    tail_end = len(tail) if end < 0 else end
    body = tail[:tail_end]
    for sep in ("；", ";", "、", "，", ","):
        if sep in body:
            spans, start = [], 0
            for m in re.finditer(re.escape(sep), body):
                spans.append((start, m.start()))
                start = m.end()
            spans.append((start, tail_end))
            return spans
    return []


@rule("nar.parts_sum", "error", "“其中”所列各项之和应等于总数（金额与个数）。")
def check_parts_sum(ctx: Context) -> Iterator[Finding]:
    by_section: dict[str, list[Sentence]] = defaultdict(list)
    for s in narrative(ctx):
        by_section[s.section].append(s)
    for sents in by_section.values():
        text, claims = _section_stream(sents)
        for m in re.finditer(r"其中[:：]?", text):
            yield from _breakdown(text, claims, m.start(), m.end())


def _is_item(text: str, offset: int) -> bool:
    """A figure that is itself an item of an earlier 其中 list in its sentence."""
    sentence_start = max(text.rfind("。", 0, offset), text.rfind("\n", 0, offset))
    return text.rfind("其中", 0, offset) > sentence_start


def _breakdown(text: str, claims, k: int, tail_start: int) -> Iterator[Finding]:
    before = [(o, c, s) for o, c, s in claims if o < k and k - o < 200 and not _is_item(text, o)]
    tail = text[tail_start:]
    spans = _segments(tail)
    if len(spans) < 2:
        return
    problems = []
    for unit_ok, label in ((lambda c: _money(c), "金额"), (lambda c: c.unit == "个", "个数")):
        heads = [(c, s) for _, c, s in before if unit_ok(c) and c.kind in ("amount", "change",
                                                                            "count")]
        if not heads:
            continue
        head, head_s = heads[-1]
        # another total stated beside the head (支出预算490.8万元（本年支出预算415.8万元）)
        alternatives = [c for c, s in heads if s is head_s and c is not head]
        items = _items(tail, tail_start, spans, claims, unit_ok, head)
        if len(items) < 2:
            continue
        money = label == "金额"
        sign = {"up": 1, "down": -1, None: 1}
        sgn_head = sign[head.direction] if head.kind == "change" else 1
        total = wan(head) if money else head.value
        parts = sum(
            (wan(c) if money else c.value)
            * (sign[c.direction] * sgn_head if head.kind == "change" and c.kind == "change" else 1)
            for c, _ in items
        )
        tol = (wan_tol(head) + sum(wan_tol(c) for c, _ in items)) if money else 0.0
        values = [wan(c) if money else c.value for c, _ in items]
        if all(abs(v) < 1e-9 for v in values):
            continue  # 其中：1.经营支出0.00万元 2.上缴上级支出0.00万元: what the total is not
        if sum(abs(abs(v) - abs(total)) <= tol for v in values) >= 2:
            continue  # 1.收入增加118.76万元 2.支出增加118.76万元: the whole restated, not its parts
        verdict = compare(total, head.decimals if money else 0, parts, tol)
        if not verdict.ok and any(
            compare(wan(a), a.decimals, parts, tol + wan_tol(a)).ok for a in alternatives if money
        ):
            continue
        if not verdict.ok:
            problems.append((label, head, head_s, items, total, parts, verdict))
    if not problems:
        return
    label, head, head_s, items, total, parts, verdict = problems[0]
    said = [
        f"各项{lab}之和为{amount(p) if lab == '金额' else f'{p:g}个'}，与总数{h.text}不符"
        for lab, h, _, _, _, p, _ in problems
    ]
    yield finding(
        "nar.parts_sum",
        f"“其中”所列{'；'.join(said)}。",
        [ev_sentence(head_s, head), *[ev_sentence(s, c) for c, s in items[:4]]],
        stated=total,
        expected=round(parts, 6),
        unit="万元" if label == "金额" else "个",
        section=head_s.section,
        severity=severity_for(verdict, "error"),
    )


def _items(tail, tail_start, spans, claims, unit_ok, head) -> list[tuple[Claim, Sentence]]:
    items: list[tuple[Claim, Sentence]] = []
    for a, b in spans:
        seg = tail[a:b]
        cut = NESTED_RE.search(seg)
        seg_end = tail_start + a + (cut.start() if cut else len(seg))
        inside = [(c, s) for o, c, s in claims if tail_start + a <= o < seg_end and unit_ok(c)]
        if len(inside) > 1:
            return []  # an item with several figures: the breakdown is not a plain list
        if inside and head.kind != "change" and inside[0][0].kind == "change":
            break  # the list ended: what follows is the change of the total
        if inside and head.kind == "change" and inside[0][0].kind != "change":
            continue  # a change's parts are changes: an item's own amount is not one of them
        if inside:
            items.append(inside[0])
    return items


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


COMPARING_RE = re.compile(r"上年|小于|大于|高于|低于|增加|减少|增长|下降|比")


def _in_facts(ctx: Context, value: float) -> bool:
    return any(abs(f.value - value) <= f.half_unit + 0.005 + 1e-9 for f in ctx.facts if not f.blank)


@rule("nar.restated", "warning", "同一事项在情况说明中多次出现时金额应一致。")
def check_restated(ctx: Context) -> Iterator[Finding]:
    yield from prior_current_findings(ctx, "nar.restated")
    groups: dict[tuple[str, str, str | None], list[tuple[Claim, Sentence]]] = defaultdict(list)
    for s in narrative(ctx):
        for c in s.claims:
            if not _money(c) or c.kind not in ("amount", "change"):
                continue
            key = _key(c.subject)
            if len(re.findall(r"[\u4e00-\u9fff]", key)) < 8 or COMPARING_RE.search(key):
                continue
            groups[(c.kind, key, c.direction)].append((c, s))
    subjects = {f.subject for f in ctx.facts}
    # a table subject (社会保障和就业支出) has one figure per fund, so its passages are told apart
    # by the funds their heading names; a project named in two places is one thing
    for items in (part for (_, key, _), group in groups.items() for part in _same_scope(
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
            other = next(s2 for c2, s2 in items if round(wan(c2), 6) == common)
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
    for group in by_value.values():
        # the same total of 收支 and of 一般公共预算 given two changes is reported: when every
        # 元 of the total is 一般公共预算 this year, a reader cannot tell the two apart
        for items in _same_scope(group, lambda x: x[1].subject, funds=False):
            yield from _two_changes(items, stated)


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


# -- "上年执行数为X万元，本年预算安排Y万元，比上年执行数增加Z%" (no change amount stated) -------------

PRIOR_RE = re.compile(r"执行数|上年|决算数|实际支出")
YEAR_RE = re.compile(r"(\d{4})\s*年")


@dataclass
class PriorCurrent:
    sentence: Sentence
    prior: Claim
    current: Claim
    growth: Claim
    heading: tuple[Claim, Sentence] | None  # the item's own figure, stated just before


def _year_before(text: str, claim: Claim) -> int | None:
    years = YEAR_RE.findall(text[max(0, claim.start - 24): claim.start])
    return int(years[-1]) if years else None


def _prior_current(ctx: Context) -> list[PriorCurrent]:
    """The stated prior/current pairs, found once per document for the rules that read them."""
    return shared(ctx, "prior_current", lambda: _find_prior_current(ctx))


def _find_prior_current(ctx: Context) -> Iterator[PriorCurrent]:
    sentences = narrative(ctx)
    for i, s in enumerate(sentences):
        for k, g in enumerate(s.claims):
            if g.kind != "growth" or (k and s.claims[k - 1].kind == "change"):
                continue
            amounts = [c for c in s.claims[:k] if c.kind == "amount" and _money(c)]
            if len(amounts) < 2:
                continue
            current = amounts[-1]
            prior = amounts[-2]
            yp, yc = _year_before(s.text, prior), _year_before(s.text, current)
            if not (PRIOR_RE.search(prior.subject) or (yp and yc and yp < yc)):
                continue
            if PRIOR_RE.search(current.subject) and not (yp and yc and yp < yc):
                continue
            yield PriorCurrent(s, prior, current, g, _item_heading(sentences, i))


def _item_heading(sentences: list[Sentence], i: int) -> tuple[Claim, Sentence] | None:
    """The numbered item (1.“…（项）”220.63万元，主要用于…) that a sentence goes on about."""
    for j in range(i - 1, max(-1, i - 3), -1):
        p = sentences[j]
        if p.section != sentences[i].section:
            return None
        if re.match(r"^\d+[.、．]", p.text) and p.claims and p.claims[0].kind == "amount" \
                and _money(p.claims[0]):
            return p.claims[0], p
    return None


def _pc_interval(pc: PriorCurrent) -> tuple[float, float] | None:
    p, c = wan(pc.prior), wan(pc.current)
    hp, hc = wan_tol(pc.prior), wan_tol(pc.current)
    return ratio_interval(abs(c - p), hp + hc, p, hp)


def prior_current_findings(ctx: Context, rule_id: str) -> Iterator[Finding]:
    """nar.zero_base, nar.direction, nar.growth and nar.restated for the stated pair."""
    for pc in _prior_current(ctx):
        s, g = pc.sentence, pc.growth
        p, c = wan(pc.prior), wan(pc.current)
        tol = wan_tol(pc.prior) + wan_tol(pc.current)
        if pc.heading is not None and not compare(
                c, pc.current.decimals, wan(pc.heading[0]), wan_tol(pc.heading[0])).ok:
            # the item's heading and its 预算安排 differ: that is the finding, and the rate is
            # judged against the heading's figure
            h, hs = pc.heading
            v = compare(c, pc.current.decimals, wan(h), wan_tol(h))
            if rule_id == "nar.restated":
                yield finding(
                    "nar.restated",
                    f"同一项目在此处为{pc.current.text}，在标题处为{h.text}，同一事项金额前后不一致。",
                    [ev_sentence(s, pc.current), ev_sentence(hs, h)],
                    stated=pc.current.value, expected=h.value, unit=pc.current.unit,
                    section=s.section, severity=severity_for(v, "warning"),
                )
            c, tol = wan(h), wan_tol(pc.prior) + wan_tol(h)
            pc = PriorCurrent(s, pc.prior, h, g, None)
        elif rule_id == "nar.restated":
            continue
        if abs(p) <= wan_tol(pc.prior):
            if rule_id == "nar.zero_base" and g.value != 0:
                yield finding(
                    "nar.zero_base",
                    f"上年数为{pc.prior.text}，不应给出增长率{g.text}。",
                    [ev_sentence(s, g)], stated=g.value, unit="%", section=s.section,
                )
            continue
        wrong_way = (g.direction == "up" and c < p - tol) or (g.direction == "down" and c > p + tol)
        if wrong_way:
            if rule_id == "nar.direction":
                word = "增加" if g.direction == "up" else "减少"
                yield finding(
                    "nar.direction",
                    f"从{pc.prior.text}到{pc.current.text}，所述为{word}{g.text}，方向矛盾。",
                    [ev_sentence(s, g)], stated=g.value, unit="%", section=s.section,
                )
            continue
        off = _pct_off(g, _pc_interval(pc)) if rule_id == "nar.growth" else None
        if off is None:
            continue
        v, expected = off
        yield finding(
            "nar.growth",
            f"所述变动率{g.text}与上年数{pc.prior.text}、本年数{pc.current.text}推算的"
            f"{expected:.2f}%不符。",
            [ev_sentence(s, g)], stated=g.value, expected=round(expected, 2), unit="%",
            section=s.section, severity=severity_for(v, "error"),
        )
