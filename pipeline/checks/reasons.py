"""Reasons against the change they explain: the rule-based reading of 主要原因是… (the sentence's
reasons, or the next sentence's when it gives only reasons), and what the LLM extracted when it
ran."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.checks.base import Context, finding, rule
from pipeline.checks.narrative import narrative
from schemas.claims import Claim, Sentence
from schemas.findings import Evidence, Finding

# words that make a reason one of an increase or of a decrease. Only verbs: a negation (未安排,
# 无此情况) or a state (退休, 到期) says nothing of the direction, and a reason that speaks of the
# year before (上年未列入预算, 2021年压缩经费) explains a change by last year's figure, whose
# direction is the other way round
UP_RE = re.compile(r"新增|增加|增长|提高|上涨|扩大|增设|增人|调增|追加|提标|扩面|上调")
DOWN_RE = re.compile(r"减少|压减|下降|降低|缩减|节约|取消|核减|调减|压缩|削减|减员|下调|撤销|精简")
NAMED_RE = re.compile(r"(?:增加|增长|减少|下降)的?(?:主要)?原因")
PAST_RE = re.compile(r"上年|去年|上一年|上年度|持平|无增减")
# a reason that moves money between subjects or people between units (科目取消，在委托业务费列支;
# 新增调出和退休人员) says nothing of the direction of one item; a reason that opens a list (一是…)
# is one of several, whose others may point the other way
MOVED_RE = re.compile(r"调出|调入|退休|离休|纳入|列支|调整|划转|划入|划出|转入|转出|并入|口径|归口|"
                      r"上划|下划|移交|转列")
# a negation beside an increase (无购车需求…增加运行费) is a reason of both directions
NEGATION_RE = re.compile(r"无|未|不再|没有")
LIST_RE = re.compile(r"^\s*(?:一是|首先|第一|[（(]?[一1][)）、.．])")
WORDS = {"up": "增加", "down": "减少"}


def reason_direction(text: str, year: int | None = None) -> str | None:
    """up or down when the reason's words all point one way; None when mixed or silent, or when
    it speaks of the year before (`year` the report's)."""
    if PAST_RE.search(text) or MOVED_RE.search(text) or LIST_RE.search(text) \
            or year and re.search(rf"{year - 1}\s*年", text):
        return None
    up = bool(UP_RE.search(text))
    down = bool(DOWN_RE.search(text) or up and NEGATION_RE.search(text))
    return "up" if up and not down else "down" if down and not up else None


def _explained(sentences: list[Sentence]) -> Iterator[tuple[Sentence, Claim, list[str]]]:
    """Each change with the reasons given for it: in its own sentence, or in the next sentence of
    its paragraph when that one states no figure of its own."""
    for i, s in enumerate(sentences):
        changes = [c for c in s.claims if c.kind in ("change", "growth") and c.direction]
        if not changes or len({c.direction for c in changes}) > 1 or NAMED_RE.search(s.text):
            continue  # 增加9.49万元，减少的主要原因是…: the words disagree (nar.direction)
        reasons = s.reasons
        if not reasons and i + 1 < len(sentences):
            nxt = sentences[i + 1]
            if nxt.paragraph == s.paragraph and not nxt.claims:
                reasons = nxt.reasons
        if reasons:  # the amount of the change rather than its rate
            yield s, next((c for c in reversed(changes) if c.kind == "change"), changes[-1]), reasons


@rule("nar.reason_direction", "warning", "所述原因的增减方向应与变动方向一致（称增加却只列减少的原因）。")
def check_reason_direction(ctx: Context) -> Iterator[Finding]:
    from pipeline.checks.document import report_year

    year = report_year(ctx)
    flagged: set[tuple[int, str]] = set()
    said: set[str] = set()
    for s, c, reasons in _explained(narrative(ctx)):
        directed = [(r, reason_direction(r, year)) for r in reasons]
        ways = {d for _, d in directed if d}
        if len(ways) != 1 or c.direction in ways or any(d is None for _, d in directed):
            continue
        way = ways.pop()
        if any(r in said for r in reasons):
            continue  # the same explanation given again (restated in another section): once
        said.update(reasons)
        flagged.add((s.page, s.text))
        yield finding(
            "nar.reason_direction",
            f"此处称较上年{WORDS[c.direction or 'up']}（{c.text}），所列原因却是"
            f"{WORDS[way]}的原因：{'；'.join(reasons[:3])}。",
            [Evidence(page=s.page, source="narrative", text=s.text, bbox=s.bbox, value=c.text)],
            stated=c.value, unit=c.unit, section=s.section,
        )
    yield from _llm_reasons(ctx, flagged)


def _llm_reasons(ctx: Context, flagged: set[tuple[int, str]]) -> Iterator[Finding]:
    if ctx.claims.llm is None:
        return
    for item in ctx.claims.llm.narrative:
        c = item.claim
        if c.direction not in ("增加", "减少"):
            continue
        directed = [r for r in c.reasons if r.direction in ("增加", "减少")]
        if len(directed) < 1 or any(r.direction == c.direction for r in directed):
            continue
        if any(page == item.page and c.quote and c.quote in text for page, text in flagged):
            continue  # the rule-based reading said so already
        said = "；".join(r.text for r in directed[:3])
        yield finding(
            "nar.reason_direction",
            f"“{c.subject}”称较上年{c.direction}，所列原因却都是{directed[0].direction}：{said}。",
            [Evidence(page=item.page, source="narrative", text=c.quote, bbox=item.bbox,
                      value=f"{c.value:g}{c.unit}")],
            stated=c.value,
            unit=c.unit,
            section=item.section,
        )
