"""Breakdowns: the parts after 其中 add up to their total."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from pipeline.checks.base import (
    Context,
    amount,
    compare,
    ev_sentence,
    finding,
    rule,
    severity_for,
)
from pipeline.checks.narrative import _money, narrative, wan, wan_tol
from schemas.claims import Claim, Sentence
from schemas.findings import Finding

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
    outside = _outside_brackets(body)
    for sep in ("；", ";", "、", "，", ","):
        cuts = [m for m in re.finditer(re.escape(sep), body) if outside[m.start()]]
        if cuts:
            spans, start = [], 0
            for m in cuts:
                spans.append((start, m.start()))
                start = m.end()
            spans.append((start, tail_end))
            return spans
    return []


def _outside_brackets(text: str) -> list[bool]:
    """Per character: not inside （…） — an item's own breakdown in brackets (公务用车购置及运行维护费
    5万元（其中：购置费0万元，运行维护费5万元）) is part of that item, not more items of the list."""
    out, depth = [], 0
    for ch in text:
        if ch in "（(":
            depth += 1
        out.append(depth == 0)
        if ch in "）)" and depth:
            depth -= 1
    return out


@rule("nar.parts_sum", "error", "“其中”所列各项之和应等于总数（金额与个数）。")
def check_parts_sum(ctx: Context) -> Iterator[Finding]:
    by_section: dict[str, list[Sentence]] = defaultdict(list)
    for s in narrative(ctx):
        by_section[s.section].append(s)
    found: dict[tuple[float | None, float | None], Finding] = {}
    for sents in by_section.values():
        text, claims = _section_stream(sents)
        for m in re.finditer(r"其中[:：]?", text):
            for f in _breakdown(text, claims, m.start(), m.end()):
                first = found.setdefault((f.stated, f.expected), f)
                if first is not f:  # the same breakdown printed again (收支, 财政拨款, 一般公共预算
                    # sentences alike): one problem, its places as evidence
                    first.evidence.append(f.evidence[0])
    for f in found.values():
        prints = sum(e.source == "narrative" for e in f.evidence)
        if prints > 1:
            f.message += f"（同一分项共{prints}处）"
        yield f


def _is_item(text: str, offset: int) -> bool:
    """A figure that is itself an item of an earlier 其中 list in its sentence."""
    sentence_start = max(text.rfind("。", 0, offset), text.rfind("\n", 0, offset))
    return text.rfind("其中", 0, offset) > sentence_start


def _nested(text: str, k: int) -> bool:
    """A 其中 inside an item of an enclosing list (…主要包括：A 973.30万元，其中结转结余220.80万元，
    用于…；B 40.00万元，用于…；): the items after the ； are the enclosing list's, not its own."""
    start = max(text.rfind("\n", 0, k), text.rfind("。", 0, k))
    return "包括" in text[start + 1:k]


def _outer_item(text: str, k: int, tail: str) -> int:
    """Where the next item of a numbered list the 其中 sits in begins (（1）气象预报799万元，…。其中…
    包括…；（2）大模型项目258万元…): the 其中's own items end there."""
    start = text.rfind("\n", 0, k) + 1
    before = list(NUMBERED_RE.finditer(text[start:k]))
    if not before:
        return len(tail)
    last = before[-1].group(0)
    numeral = re.search(r"[1-9]", last)
    if numeral is None:
        return len(tail)
    n = int(numeral.group(0)) + 1
    following = re.escape(last).replace(numeral.group(0), str(n))
    m = re.search(following, tail)
    return m.start() if m else len(tail)


def _breakdown(text: str, claims, k: int, tail_start: int) -> Iterator[Finding]:
    if k and text[k - 1] in "（(":
        # （其中：…） right after an item: that item's own breakdown, whatever list it is in
        before = [(o, c, s) for o, c, s in claims if o < k and k - o < 40][-1:]
    else:
        before = [(o, c, s) for o, c, s in claims if o < k and k - o < 200
                  and not _is_item(text, o)]
    tail = text[tail_start:]
    if _nested(text, k):
        tail = tail[:min((i for i in (tail.find(c) for c in "；;。\n") if i >= 0),
                         default=len(tail))]
    tail = tail[:_outer_item(text, k, tail)]
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
    last = next((o + len(c.text) for o, c, _ in claims if items and c is items[-1][0]), None)
    if last is not None and re.match(r"\s*等", tail[last - tail_start:last - tail_start + 3]):
        return []  # 其中：…0.7万元，…56.25万元等: some of the parts, not all
    return items
