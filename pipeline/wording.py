"""The words of a verdict, shared by every output (pipeline.report) and the workbench
(pipeline.web): severities and report kinds in Chinese, figures, where evidence stands, findings
grouped by severity and section, and what was and was not checked."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from schemas.findings import Evidence, FileResult, Finding

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "·"}
KIND_ZH = {"final_accounts": "决算", "budget": "预算", "unknown": "未知类型"}


def num(v: float | None, unit: str | None) -> str:
    if v is None:
        return "—"
    text = f"{v:,.4f}".rstrip("0").rstrip(".")
    return f"{text}{unit or ''}"


def where(e: Evidence) -> str:
    src = "说明" if e.source == "narrative" else "表格"
    table = f" {e.table}" if e.table and e.source == "table" else ""
    file = f"{Path(e.file).name} " if e.file else ""
    return f"{src} {file}第{e.page}页{table}"


def group_findings(findings: list[Finding]) -> dict[str, dict[str, list[Finding]]]:
    out: dict[str, dict[str, list[Finding]]] = {s: defaultdict(list) for s in SEVERITY_ZH}
    for f in findings:
        out[f.severity][f.section or "（全文）"].append(f)
    return out


def report_name(r: FileResult) -> str:
    """The report's file name, or its files' names joined for a report of several files."""
    return " + ".join(Path(p).name for p in r.parts) if r.parts else Path(r.source).name


def headline(r: FileResult) -> str:
    if r.status == "failed":
        return f"{report_name(r)}: 检查失败：{r.error}"
    s = r.summary
    return (
        f"{report_name(r)}  {r.title}（{KIND_ZH.get(r.report_type, r.report_type)}，{r.pages}页）\n"
        f"  错误 {s.errors} · 警告 {s.warnings} · 提示 {s.infos}"
        f"   （{s.tables}张表，{s.sections}个章节，{s.claims}处数字陈述，{s.projects}个绩效项目）"
    )


def coverage_lines(r: FileResult) -> list[str]:
    """What was checked and what was not, in words: printed beside every verdict."""
    c = r.coverage
    def at(t) -> str:
        return f"{Path(t.file).name} 第{t.pages[0]}页" if t.file else f"第{t.pages[0]}页"

    kinds = "、".join(f"{t.name}（{at(t)}）" for t in c.tables) or "无"
    lines = [f"已识别标准表格 {len(c.tables)} 张：{kinds}"]
    if c.unrecognised:
        lines.append("未识别类型的表格 {} 张（其数据仍参与合计与科目层级核对）：{}".format(
            len(c.unrecognised), "、".join(at(t) for t in c.unrecognised)))
    if c.not_understood:
        lines.append("读取但未能理解的表格 {} 张（表内算术未能确认读法，不据以报告问题）：{}".format(
            len(c.not_understood), "；".join(
                f"{t.name}（{at(t)}）：{t.reason}" for t in c.not_understood)))
    lines += [f"未报告：{x}" for x in c.withheld]
    lines.append(f"表格数据 {c.facts} 项；说明中指向表格科目的金额 {c.figures} 处，"
                 f"与表格核对一致 {c.figures_matched} 处，"
                 f"未找到对应表格数据 {len(c.figures_unmatched)} 处")
    lines += [f"未能运行：{x}" for x in c.not_applicable]
    lines += [f"⚠ {w}" for w in c.warnings]
    lines += [f"LLM：{w}" for w in r.llm]
    return lines
