"""The deterministic checker: every rule registered in RULES, run over one document's claims."""

from __future__ import annotations

import logging

from pipeline.checks import (  # noqa: F401  (registers)
    document,
    figures,
    identities,
    narrative,
    perf,
    reasons,
    tables,
)
from pipeline.checks.base import RULES, Context
from pipeline.checks.figures import sharpen
from pipeline.facts import document_facts
from schemas.claims import Claims
from schemas.document import Document
from schemas.findings import SEVERITY_ORDER, Coverage, Finding

log = logging.getLogger(__name__)


def run_checks(doc: Document, claims: Claims, only: set[str] | None = None) -> list[Finding]:
    """All findings of all rules (or of the rules named in `only`), deduplicated and sorted."""
    return check_document(doc, claims, only)[0]


def check_document(doc: Document, claims: Claims, only: set[str] | None = None
                   ) -> tuple[list[Finding], Coverage]:
    """Findings, and what the checks could and could not compare (narrative figures)."""
    per_table: dict[str, int] = {}
    ctx = Context(doc=doc, claims=claims, facts=document_facts(doc, per_table))
    ctx.coverage._facts_per_table = per_table
    sharpen(ctx)  # amounts restating a table figure take its precision
    perf.unread_projects(ctx)
    findings: list[Finding] = []
    seen = set()
    for rule in RULES.values():
        if only and rule.id not in only:
            continue
        try:
            for f in rule.fn(ctx):
                # two sentences of one page saying the same wrong thing are two findings
                key = (f.key(), tuple(e.bbox for e in f.evidence if e.source == "narrative"))
                if key not in seen:
                    seen.add(key)
                    findings.append(f)
        except Exception:  # a broken rule must not sink the whole report
            log.exception("rule %s failed on %s", rule.id, doc.source)
    findings = plausible(findings, ctx.coverage)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], min((e.page for e in f.evidence),
                                                                 default=0), f.rule))
    return findings, ctx.coverage


PER_RULE = 3  # findings of one table or cross-table rule a published report plausibly holds
# rules over tables, and the narrative rule that pairs items across the whole report by name:
# many findings of one of them in one report mean a misreading (a report of many units)
COUNTED = ("tbl.", "x.", "nar.restated")


def plausible(findings: list[Finding], coverage: Coverage) -> list[Finding]:
    """The report's plausibility budget: a published report rarely holds more than one or two
    real contradictions, so a table or cross-table rule that fires more than PER_RULE times in
    one report has misread it. Its findings are withheld and the coverage says so; narrative
    rules are left alone (each of their findings quotes its own sentence)."""
    counts: dict[str, int] = {}
    for f in findings:
        if f.severity != "info" and f.rule.startswith(COUNTED):
            counts[f.rule] = counts.get(f.rule, 0) + 1
    over = {r for r, n in counts.items() if n > PER_RULE}
    for r in sorted(over):
        coverage.withheld.append(f"{r}：本报告中有{counts[r]}处，远超一份报告可能有的矛盾数，"
                                 "多半是表格读取有误，未逐条报告")
    return [f for f in findings if f.rule not in over or f.severity == "info"]
