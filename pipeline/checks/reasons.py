"""Reason-based checks, from what the LLM extracted (they find nothing in rule-only mode)."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.checks.base import Context, finding, rule
from schemas.findings import Evidence, Finding


@rule("nar.reason_direction", "warning", "所述原因的增减方向应与变动方向一致（称增加却只列减少的原因）。")
def check_reason_direction(ctx: Context) -> Iterator[Finding]:
    if ctx.claims.llm is None:
        return
    for item in ctx.claims.llm.narrative:
        c = item.claim
        if c.direction not in ("增加", "减少"):
            continue
        directed = [r for r in c.reasons if r.direction in ("增加", "减少")]
        if len(directed) < 1 or any(r.direction == c.direction for r in directed):
            continue
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
