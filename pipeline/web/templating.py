"""Jinja2 templates shared by the workbench and the static HTML report."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.run import STAGES
from pipeline.wording import KIND_ZH, SEVERITY_ZH, coverage_lines, group_findings, num, where
from schemas.findings import Finding

STATIC = Path(__file__).resolve().parent / "static"
VERDICT_ZH = {"confirmed": "确认", "false_alarm": "误报", "pending": "待定"}


def group(findings: list[Finding]) -> list[tuple[str, int, list[tuple[str, list[Finding]]]]]:
    """Findings by severity (errors first, with their count), then by the section they are
    about, in report order: the text report's grouping."""
    return [(sev, sum(map(len, sections.values())), list(sections.items()))
            for sev, sections in group_findings(findings).items() if sections]


# why a file could not be checked, for a reviewer: the pipeline's reasons (English, as the CLI
# prints them) in Chinese, without the path the page already shows
REASONS_ZH = (
    ("no such file", "文件不存在"),
    ("is a folder", "这是文件夹，不是PDF文件"),
    ("the file is empty", "文件为空"),
    ("not a PDF file", "不是PDF文件：只接受PDF格式的报告"),
    ("damaged or truncated", "PDF文件已损坏或不完整，读不出任何一页"),
    ("damaged and cannot be read", "PDF文件已损坏，无法读取"),
    ("encrypted", "PDF文件已加密（有密码保护），请先解密"),
    ("has no pages", "PDF文件没有页面"),
    ("no text found", "PDF中没有可读的文字（可能是扫描件），暂不支持文字识别"),
    ("text layer cannot be read", "PDF的文字层无法读取（字体编码损坏，读出的是乱码）"),
)


def reason_zh(error: str | None, path: str = "") -> str:
    text = (error or "检查失败").removeprefix(f"{path}: ") if path else (error or "检查失败")
    for phrase, zh in REASONS_ZH:
        if phrase in text:
            return zh
    return text


def _bbox(f_bbox: tuple[float, float, float, float] | None) -> str:
    return "" if f_bbox is None else ",".join(f"{v:.1f}" for v in f_bbox)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.web", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(SEVERITY_ZH=SEVERITY_ZH, KIND_ZH=KIND_ZH, VERDICT_ZH=VERDICT_ZH,
                       coverage_lines=coverage_lines, group=group, reason_zh=reason_zh,
                       STAGES=STAGES, STAGE_ORDER=list(STAGES))
    env.filters.update(num=lambda v, unit=None: num(v, unit), where=where, bbox=_bbox,
                       name=lambda p: Path(p).name)
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def static_text(name: str) -> str:
    """A static asset's text, for the self-contained HTML report (no links, works offline)."""
    return (STATIC / name).read_text(encoding="utf-8")
