"""Narrative against tables, and the narrative's own arithmetic (情况说明): which sentences
are narrative, and the helpers every narrative rule reads; the rules live in the modules beside
this one, by concern."""

from __future__ import annotations

import re

from pipeline.checks.base import Context, shared
from pipeline.numbers import MONEY, NUMBER, half_unit
from schemas.claims import Claim, Sentence

__all__ = ["MONEY", "NUM", "narrative", "wan", "wan_tol"]

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


BREAKDOWN_RE = re.compile(r"其中|主要用于|主要包括|包括|如下")
TOTALS = {
    "本年支出合计": ("fa01", r"^本年支出合计$"),
    "本年收入合计": ("fa01", r"^本年收入合计$"),
}


# the rules, by concern (imported last: they read the helpers above)
from pipeline.checks.narrative import breakdowns, changes, compare, restated, shares  # noqa: E402,F401
