"""Reports: findings as terminal text, Markdown, JSON, one self-contained HTML page, or a PDF
with every finding's evidence highlighted."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
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
    return f"{src} 第{e.page}页{table}"


def _group(findings: list[Finding]) -> dict[str, dict[str, list[Finding]]]:
    out: dict[str, dict[str, list[Finding]]] = {s: defaultdict(list) for s in SEVERITY_ZH}
    for f in findings:
        out[f.severity][f.section or "（全文）"].append(f)
    return out


def _headline(r: FileResult) -> str:
    if r.status == "failed":
        return f"{Path(r.source).name}: 检查失败：{r.error}"
    s = r.summary
    return (
        f"{Path(r.source).name}  {r.title}（{KIND_ZH.get(r.report_type, r.report_type)}，{r.pages}页）\n"
        f"  错误 {s.errors} · 警告 {s.warnings} · 提示 {s.infos}"
        f"   （{s.tables}张表，{s.sections}个章节，{s.claims}处数字陈述，{s.projects}个绩效项目）"
    )


def coverage_lines(r: FileResult) -> list[str]:
    """What was checked and what was not, in words: printed beside every verdict."""
    c = r.coverage
    kinds = "、".join(f"{t.name}（第{t.pages[0]}页）" for t in c.tables) or "无"
    lines = [f"已识别标准表格 {len(c.tables)} 张：{kinds}"]
    if c.unrecognised:
        lines.append("未识别类型的表格 {} 张（其数据仍参与合计与科目层级核对）：{}".format(
            len(c.unrecognised), "、".join(f"第{t.pages[0]}页" for t in c.unrecognised)))
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

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2rem;
color:#1d232a;background:#f6f7f9;line-height:1.5}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .3rem}
.file{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:1rem 1.2rem;margin-bottom:2rem}
.counts span{display:inline-block;margin-right:.8rem;padding:.1rem .6rem;border-radius:999px;
font-size:.9rem}
.c-error{background:#fde2e1;color:#9b1c1c}.c-warning{background:#fff1cc;color:#7a5200}
.c-info{background:#e4ecf7;color:#23466d}
.finding{border-left:5px solid #999;padding:.6rem .8rem;margin:.8rem 0;background:#fbfbfc}
.finding.error{border-color:#d93025}.finding.warning{border-color:#f0a500}
.finding.info{border-color:#7a9cc6}
.msg{font-weight:600}.meta{color:#5b6470;font-size:.85rem}
.values{margin:.3rem 0;font-size:.95rem}.values b{font-family:monospace}
.evidence{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:.6rem;
margin-top:.4rem}
.ev{border:1px solid #e1e4e8;border-radius:6px;padding:.4rem .6rem;background:#fff;font-size:.9rem}
.ev .src{font-size:.8rem;color:#5b6470}.ev.narrative{border-top:3px solid #6a8fd6}
.ev.table{border-top:3px solid #5fb37a}.ok{color:#2d7a46}
.filter{margin:.5rem 0 1rem}.filter label{margin-right:1rem}
.coverage{margin-top:1rem;font-size:.9rem;color:#3b4450}.coverage h3{font-size:1rem;margin:.4rem 0}
.coverage .warn{color:#9b1c1c;font-weight:600}
"""

SCRIPT = """
document.querySelectorAll('.filter input').forEach(cb=>cb.addEventListener('change',()=>{
 document.querySelectorAll('.finding.'+cb.value).forEach(el=>{el.style.display=cb.checked?'':'none'});
}));
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_finding(f: Finding) -> str:
    evs = "".join(
        f'<div class="ev {e.source}" data-page="{e.page}"><div class="src">{_e(_where(e))}'
        f'{" · " + _e(e.value) if e.value else ""}</div>{_e(e.text)}</div>'
        for e in f.evidence
    )
    values = ""
    if f.stated is not None or f.expected is not None:
        values = (f'<div class="values">陈述值 <b class="stated">{_e(_num(f.stated, f.unit))}</b>'
                  f' · 应为 <b class="expected">{_e(_num(f.expected, f.unit))}</b></div>')
    return (
        f'<div class="finding {f.severity}" data-rule="{_e(f.rule)}">'
        f'<div class="msg">{_e(f.message)}</div>'
        f'<div class="meta">{SEVERITY_ZH[f.severity]} · {_e(f.rule)} · {_e(f.section)}</div>'
        f'{values}<div class="evidence">{evs}</div></div>'
    )


def render_html(results: list[FileResult]) -> str:
    parts = []
    for r in results:
        name = _e(Path(r.source).name)
        if r.status == "failed":
            parts.append(f'<section class="file failed"><h2>{name}</h2><p>检查失败：{_e(r.error)}</p>'
                         "</section>")
            continue
        s = r.summary
        body = "".join(_html_finding(f) for f in r.findings) or \
            '<p class="ok">未发现前后矛盾之处（核对范围见下）。</p>'
        body += '<div class="coverage"><h3>核对范围</h3><ul>' + "".join(
            f'<li class="{"warn" if x.startswith("⚠") else ""}">{_e(x)}</li>'
            for x in coverage_lines(r)) + "</ul></div>"
        parts.append(
            f'<section class="file"><h2>{name}</h2><div class="meta">{_e(r.title)} · '
            f"{KIND_ZH.get(r.report_type, r.report_type)} · {r.pages}页</div>"
            f'<div class="counts"><span class="c-error">错误 {s.errors}</span>'
            f'<span class="c-warning">警告 {s.warnings}</span><span class="c-info">提示 {s.infos}</span>'
            f"</div>{body}</section>"
        )
    filters = "".join(
        f'<label><input type="checkbox" value="{k}" checked> {v}</label>' for k, v in SEVERITY_ZH.items()
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Budget Lens 检查报告</title><style>{CSS}</style></head><body>"
        f'<h1>Budget Lens 检查报告</h1><div class="filter">{filters}</div>{"".join(parts)}'
        f"<script>{SCRIPT}</script></body></html>"
    )


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json, "html": render_html}

COLORS = {"error": (1.0, 0.55, 0.5), "warning": (1.0, 0.85, 0.3), "info": (0.6, 0.75, 1.0)}


def annotate(result: FileResult, src: Path, dest: Path) -> int:
    """Write a copy of the report with each finding's evidence highlighted and noted."""
    marks = []
    for f in result.findings:
        for e in f.evidence:
            if e.bbox is None:
                continue
            note = f"[{SEVERITY_ZH[f.severity]}] {f.message}（{f.rule}）"
            marks.append(Highlight(page=e.page, bbox=e.bbox, note=note, color=COLORS[f.severity],
                                   quote=e.value or ""))
    return write_highlights(src, dest, marks)
