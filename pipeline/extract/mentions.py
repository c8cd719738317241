"""Figures in a sentence: each number with its unit becomes a typed claim (kind, subject,
direction), read from the words just before it."""

from __future__ import annotations

import re

from pipeline.numbers import NUMBER, parse_number
from schemas.claims import Claim

NUM = NUMBER
COUNT_UNITS = "个|辆|人次|批次|台（套）|台\\(套\\)|台|次|期|件|名|人"
MENTION_RE = re.compile(
    rf"(?P<num>{NUM})\s*(?P<approx>余|多)?\s*(?P<unit>万元|亿元|元|%|{COUNT_UNITS})"
)
UP = "增加|增长|上升|提高|多"
DOWN = "减少|下降|降低|节约|少|减"
CHANGE_VERB_RE = re.compile(rf"({UP}|{DOWN})了?(约|近)?$")
REASON_RE = re.compile(r"(?:主要原因(?:是|为)?|原因(?:是|为)|主要是|主要用于)[:：]?(.+)")
CHANGE_THEN_RATE_RE = re.compile(rf"({UP}|{DOWN})了?(?:约|近)?(?:{NUM})\s*(?:万元|亿元|元)\s*[（(]$")
SENTENCE_END = re.compile(r"(?<=[。；;])|\n")
CLAUSE_SPLIT = re.compile(r"[，,；;。：:、]")


def _direction(verb: str) -> str | None:
    if re.match(UP, verb):
        return "up"
    if re.match(DOWN, verb):
        return "down"
    return None


def _classify(prefix: str, unit: str) -> tuple[str, str | None]:
    """Kind and direction of a figure from the words just before it."""
    tail = prefix[-14:]
    if unit == "%":
        if re.search(r"完成(?:了)?(?:年初|全年|调整)?预算(?:数)?的?$", tail):
            return "completion", None
        if re.search(r"占(?:比)?[^，。；]{0,16}?(?:的|为)?$", tail) and "占" in tail:
            return "share", None
        m = CHANGE_VERB_RE.search(tail)
        if m:
            return "growth", _direction(m.group(1))
        m = re.search(r"(降幅|减幅|下降幅度|增幅|涨幅|增长幅度)(?:为|是|达)?$", tail)
        if m:
            return "growth", "down" if m.group(1)[0] in "降减下" else "up"
        m = CHANGE_THEN_RATE_RE.search(prefix[-40:])
        if m:  # 较上年减少14.2万元（44.38%）: the rate of the change just stated
            return "growth", _direction(m.group(1))
        return "rate", None
    if unit in ("万元", "亿元", "元"):
        m = CHANGE_VERB_RE.search(tail)
        if m:
            return "change", _direction(m.group(1))
        return "amount", None
    return "count", None


def _subject(prefix: str) -> str:
    """The words naming the figure: the clause before it, without connecting words."""
    clause = CLAUSE_SPLIT.split(prefix)[-1]
    clause = re.sub(r"^(?:其中|主要是|主要包括|包括|一是|二是|三是|四是|五是|同时|另外|新增了?)", "",
                    clause)
    clause = re.sub(r"^\d{4}年(?:度)?", "", clause)
    clause = re.sub(rf"(?:较上年(?:决算)?|比上年度?|与上年相比)?(?:{UP}|{DOWN})?了?(?:约|为|共|达|是)?$",
                    "", clause)
    return clause.strip()


def sentence_claims(text: str) -> list[Claim]:
    claims: list[Claim] = []
    for m in MENTION_RE.finditer(text):
        if m.group("approx"):
            continue  # 5000余万元: an approximation, nothing to reconcile
        before = text[: m.start()]
        if re.search(r"\d$|[.．]$", before) or re.match(r"\s*[年月日号]", text[m.end():]):
            continue
        if before.endswith(("第", "前", "近")):
            continue
        if re.match(r"\s*(?:[（(](?:含|原值)[)）])?\s*(?:以上|以下|及以上|及以下)", text[m.end():]):
            continue  # a threshold (单价100万元以上), not a figure
        number = parse_number(m.group("num"))
        if number is None:
            continue
        unit = m.group("unit").replace("(", "（").replace(")", "）")
        kind, direction = _classify(before, unit)
        claims.append(
            Claim(
                kind=kind,  # type: ignore[arg-type]
                subject=_subject(before),
                value=number.value,
                decimals=number.decimals,
                unit=unit,
                direction=direction,  # type: ignore[arg-type]
                text=m.group(0),
                start=m.start(),
            )
        )
    return claims


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


