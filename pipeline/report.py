"""Reports: findings as terminal text, Markdown, JSON, one self-contained HTML page, or a PDF
with every finding's evidence highlighted."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from pipeline.checks.base import RULES
from pipeline.segment.pdf import Highlight, write_highlights
from schemas.findings import Evidence, FileResult, Finding

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "·"}
KIND_ZH = {"final_accounts": "决算", "budget": "预算", "unknown": "未知类型"}


def _num(v: float | None, unit: str | None) -> str:
    if v is None:
        return "—"
    text = f"{v:,.4f}".rstrip("0").rstrip(".")
    return f"{text}{unit or ''}"


def _where(e: Evidence) -> str:
    src = "说明" if e.source == "narrative" else "表格"
    table = f" {e.table}" if e.table and e.source == "table" else ""
    file = f"{Path(e.file).name} " if e.file else ""
    return f"{src} {file}第{e.page}页{table}"


def _group(findings: list[Finding]) -> dict[str, dict[str, list[Finding]]]:
    out: dict[str, dict[str, list[Finding]]] = {s: defaultdict(list) for s in SEVERITY_ZH}
    for f in findings:
        out[f.severity][f.section or "（全文）"].append(f)
    return out


def _name(r: FileResult) -> str:
    """The report's file name, or its files' names joined for a report of several files."""
    return " + ".join(Path(p).name for p in r.parts) if r.parts else Path(r.source).name


def _headline(r: FileResult) -> str:
    if r.status == "failed":
        return f"{_name(r)}: 检查失败：{r.error}"
    s = r.summary
    return (
        f"{_name(r)}  {r.title}（{KIND_ZH.get(r.report_type, r.report_type)}，{r.pages}页）\n"
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


# -- text ------------------------------------------------------------------------------------


def render_text(results: list[FileResult], show_info: bool = True) -> str:
    lines: list[str] = []
    for r in results:
        lines += [_headline(r), ""]
        if r.status == "failed":
            continue
        for sev, sections in _group(r.findings).items():
            if not sections or (sev == "info" and not show_info):
                continue
            count = sum(len(v) for v in sections.values())
            lines.append(f"{SEVERITY_ZH[sev]}（{count}）")
            for section, items in sections.items():
                lines.append(f"  【{section}】")
                for f in items:
                    lines.append(f"   {SEVERITY_MARK[sev]} {f.message}  [{f.rule}]")
                    if f.stated is not None or f.expected is not None:
                        lines.append(f"       陈述值 {_num(f.stated, f.unit)}   应为 "
                                     f"{_num(f.expected, f.unit)}")
                    for e in f.evidence:
                        lines.append(f"       {_where(e)}：{e.text}")
            lines.append("")
        if not r.findings:
            lines += ["  未发现前后矛盾之处（核对范围见下）。", ""]
        lines += ["核对范围", *[f"  {x}" for x in coverage_lines(r)], ""]
    return "\n".join(lines).rstrip() + "\n"


# -- Markdown --------------------------------------------------------------------------------


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _md_cell(text: str) -> str:
    """Text from the PDF inside Markdown: its characters stay text, never markup."""
    return MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def render_markdown(results: list[FileResult]) -> str:
    out = ["# Budget Lens 检查报告", ""]
    for r in results:
        out += [f"## {_md_cell(Path(r.source).name)}", ""]
        if r.status == "failed":
            out += [f"检查失败：{_md_cell(r.error or '')}", ""]
            continue
        s = r.summary
        out += [
            f"{_md_cell(r.title)}（{KIND_ZH.get(r.report_type, r.report_type)}，{r.pages}页）",
            "",
            f"**错误 {s.errors}** · 警告 {s.warnings} · 提示 {s.infos}",
            "",
        ]
        scope = ["### 核对范围", "", *[f"- {_md_cell(x)}" for x in coverage_lines(r)], ""]
        if not r.findings:
            out += ["未发现前后矛盾之处（核对范围见下）。", "", *scope]
            continue
        out += ["| 级别 | 规则 | 问题 | 陈述值 | 应为 | 证据 |", "|---|---|---|---|---|---|"]
        for f in r.findings:
            ev = "<br>".join(_md_cell(f"{_where(e)}：{e.text}") for e in f.evidence)
            out.append(
                f"| {SEVERITY_ZH[f.severity]} | `{f.rule}` | {_md_cell(f.message)} | "
                f"{_num(f.stated, f.unit)} | {_num(f.expected, f.unit)} | {ev} |"
            )
        out += ["", *scope]
    return "\n".join(out)


# -- JSON ------------------------------------------------------------------------------------


def render_json(results: list[FileResult]) -> str:
    payload = {
        "files": [
            {
                "source": r.source,
                "parts": r.parts,
                "status": r.status,
                "error": r.error,
                "report_type": r.report_type,
                "title": r.title,
                "pages": r.pages,
                "summary": r.summary.model_dump(),
                "coverage": r.coverage.model_dump(),
                "llm": r.llm,
                "findings": [f.model_dump() for f in r.findings],
            }
            for r in results
        ],
        "rules": {k: {"severity": v.severity, "description": v.description}
                  for k, v in RULES.items()},
    }
    return json.dumps(payload, ensure_ascii=False, indent=1)


# -- HTML ------------------------------------------------------------------------------------


def render_html(results: list[FileResult]) -> str:
    """One self-contained page (styles and script inline, no links), from the templates the
    reviewer workbench uses."""
    from markupsafe import Markup

    from pipeline.web.templating import render, static_text

    return render("static_report.html", results=results, css=Markup(static_text("app.css")),
                  script=Markup(static_text("report.js")))


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json, "html": render_html}

COLORS = {"error": (1.0, 0.55, 0.5), "warning": (1.0, 0.85, 0.3), "info": (0.6, 0.75, 1.0)}


def annotate(result: FileResult, src: Path, dest: Path,
             review: Callable[[Finding], str | None] | None = None) -> int:
    """Write a copy of the report with each finding's evidence highlighted and noted; `review`
    adds a reviewer's verdict to a finding's note, or leaves the finding out (None)."""
    marks = []
    for f in result.findings:
        extra = review(f) if review else ""
        if extra is None:
            continue
        note = f"[{SEVERITY_ZH[f.severity]}] {f.message}（{f.rule}）{extra}"
        # a report of several files: this file's evidence (its pages are its own)
        marks += [Highlight(page=e.page, bbox=e.bbox, note=note, color=COLORS[f.severity],
                            quote=e.value or "") for e in f.evidence if e.bbox is not None
                  and (e.file is None or Path(e.file).name == src.name)]
    return write_highlights(src, dest, marks)
