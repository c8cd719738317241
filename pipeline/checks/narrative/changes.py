"""Changes and rates the narrative states: growth against its change and base, the direction of
a change, a rate with no base, 完成预算 percentages, and the same pair of years stated without a
change amount."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.checks.base import (
    Context,
    compare,
    compare_pct,
    ev_sentence,
    finding,
    ratio_interval,
    rule,
    severity_for,
    shared,
)
from pipeline.checks.narrative import _money, _prev_sentences, narrative, wan, wan_tol
from schemas.claims import Claim, Sentence
from schemas.findings import Finding


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
        if cands[0] in s.claims and _growth_interval(cands[0], ch) is None:
            continue  # 5万元，比上年增加5万元，增长100%: a zero base (nar.zero_base), no other base
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
