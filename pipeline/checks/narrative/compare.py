"""Words that compare two figures (决算数大于/小于/等于预算数) against those figures."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.checks.base import Context, amount, compare, ev_sentence, finding, rule
from pipeline.checks.narrative import MONEY, narrative, wan, wan_tol
from schemas.findings import Finding

# -- 决算数大于/小于/等于预算数 against the two figures ------------------------------------------

RELATION_RE = re.compile(r"决算数?(大于|高于|超过|小于|低于|等于|持平于?|与.{0,6}持平)(?:年初|调整后?|全年)?预算")


@rule("nar.compare", "error", "“决算数大于/小于/等于预算数”应与所列预算数、决算数一致。")
def check_compare_words(ctx: Context) -> Iterator[Finding]:
    sentences = narrative(ctx)
    for i, s in enumerate(sentences):
        m = RELATION_RE.search(s.text)
        if not m:
            continue
        pool = [(c, x) for x in ([sentences[i - 1]] if i else []) + [s] for c in x.claims
                if c.unit in MONEY and c.kind == "amount"]
        budget = next((c for c, _ in reversed(pool) if "预算" in c.subject and "决算" not in
                       c.subject), None)
        actual = next((c for c, _ in reversed(pool) if "决算" in c.subject or "支出" in
                       c.subject and "预算" not in c.subject), None)
        if budget is None or actual is None or budget is actual:
            continue
        b, a, tol = wan(budget), wan(actual), wan_tol(budget) + wan_tol(actual)
        word = m.group(1)
        # contradicted only beyond rounding, or by two figures printed the same
        if word in ("大于", "高于", "超过"):
            ok = a - b >= -tol and a != b
        elif word in ("小于", "低于"):
            ok = a - b <= tol and a != b
        else:
            ok = compare(a, actual.decimals, b, wan_tol(budget)).ok
        if ok:
            continue
        yield finding(
            "nar.compare",
            f"说明称决算数{word}预算数，但预算数为{budget.text}、决算数为{actual.text}"
            f"（决算数{'大于' if a > b else '小于' if a < b else '等于'}预算数，"
            f"相差{amount(abs(a - b))}）。",
            [ev_sentence(s)],
            section=s.section,
        )
