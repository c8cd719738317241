"""Reports: findings as terminal text, Markdown, JSON, one self-contained HTML page, or a PDF
with every finding's evidence highlighted."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from pipeline.checks.base import RULES
from pipeline.segment.pdf import Highlight, write_highlights
from pipeline.wording import (
    KIND_ZH,
    SEVERITY_MARK,
    SEVERITY_ZH,
    coverage_lines,
    group_findings,
    headline,
    num,
    where,
)
from schemas.findings import FileResult, Finding

# -- text ------------------------------------------------------------------------------------


def render_text(results: list[FileResult], show_info: bool = True) -> str:
    lines: list[str] = []
    for r in results:
        lines += [headline(r), ""]
        if r.status == "failed":
            continue
        for sev, sections in group_findings(r.findings).items():
            if not sections or (sev == "info" and not show_info):
                continue
            count = sum(len(v) for v in sections.values())
            lines.append(f"{SEVERITY_ZH[sev]}（{count}）")
            for section, items in sections.items():
                lines.append(f"  【{section}】")
                for f in items:
                    lines.append(f"   {SEVERITY_MARK[sev]} {f.message}  [{f.rule}]")
                    if f.stated is not None or f.expected is not None:
                        lines.append(f"       陈述值 {num(f.stated, f.unit)}   应为 "
                                     f"{num(f.expected, f.unit)}")
                    for e in f.evidence:
                        lines.append(f"       {where(e)}：{e.text}")
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
            ev = "<br>".join(_md_cell(f"{where(e)}：{e.text}") for e in f.evidence)
            out.append(
                f"| {SEVERITY_ZH[f.severity]} | `{f.rule}` | {_md_cell(f.message)} | "
                f"{num(f.stated, f.unit)} | {num(f.expected, f.unit)} | {ev} |"
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
