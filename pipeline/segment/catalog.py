"""The table catalogue: canonical kinds, and how to recognise them by title, code or content."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class TableKind:
    kind: str
    name: str  # canonical Chinese name
    title: str  # regex on the printed title (spaces removed)
    header: tuple[str, ...] = ()  # words that all occur in the header rows, for untitled tables


# Order matters: the more specific pattern first. Titles are matched with spaces removed, so one
# pattern covers 部门/单位/高等学校 prefixes, 预算 in or out, 总表 or 表 (templates differ there).
CATALOGUE: tuple[TableKind, ...] = (
    TableKind("fa04", "财政拨款收入支出决算总表", r"财政拨款收(入)?支(出)?决算总表"),
    TableKind("fa01", "收入支出决算总表", r"收(入)?支(出)?决算总表"),
    TableKind("fa02", "收入决算表", r"收入决算表"),
    TableKind("fa05", "一般公共预算财政拨款支出决算表", r"一般公共预算财政拨款支出决算表"),
    TableKind("fa06", "一般公共预算财政拨款基本支出决算明细表", r"基本支出决算(明细)?表"),
    TableKind("fa07", "政府性基金预算财政拨款收入支出决算表", r"政府性基金.*决算表"),
    TableKind("fa08", "国有资本经营预算财政拨款支出决算表", r"国有资本经营.*决算表"),
    TableKind("fa09", "财政拨款“三公”经费支出决算表", r"三公.*决算表"),
    TableKind("fa10", "部门决算公开相关信息统计表", r"相关信息统计表"),
    TableKind("fa11", "财政拨款支出决算表", r"财政拨款支出决算表"),
    TableKind("fa03", "支出决算表", r"支出决算表"),
    TableKind("bu04", "财政拨款收支总表", r"财政拨款收(入)?支(出)?(预算)?总表"),
    TableKind("bu07", "政府性基金预算收入表", r"政府性基金(预算)?收入(预算)?表"),
    TableKind("bu08", "政府性基金预算支出表", r"政府性基金.*(支出|收支).*表"),
    TableKind("bu09", "国有资本经营预算收支表", r"国有资本经营.*表"),
    TableKind("bu10", "财政拨款“三公”经费支出预算表", r"三公.*表"),
    TableKind("bu11", "机关运行经费预算表", r"机关运行经费.*表"),
    TableKind("bu15", "财政拨款基本支出预算表",
              r"(?<!一般公共预算)财政拨款基本支出(预算)?表|^(?!.*一般公共预算).*基本支出预算表"),
    TableKind("bu14", "财政拨款支出预算表", r"(?<!一般公共预算)财政拨款支出(预算)?表"),
    TableKind("bu01", "部门收支总表", r"收(入)?支(出)?(预算)?总表"),
    TableKind("bu06", "一般公共预算基本支出表", r"基本支出.*表|一般公共预算.*支出.*表.*经济分类"),
    TableKind("bu05", "一般公共预算支出表", r"一般公共预算(财政拨款)?支出.*表"),
    TableKind("bu13", "项目支出预算表（上年结转）", r"项目支出.*表.*上年结转|结转资金支出表"),
    TableKind("bu12", "项目支出预算表", r"项目支出(及其他支出)?(预算)?(总)?表|专项业务经费支出表"),
    TableKind("bu16", "政府采购预算表", r"政府采购.*表"),
    TableKind("bu02", "部门收入总表", r"收入(预算)?(总)?表$|收入(预算)?总表"),
    TableKind("bu03", "部门支出总表", r"支出(预算)?(总)?表$|支出(预算)?总表"),
    TableKind("perf_self_eval", "项目支出绩效自评表", r"绩效自评表"),
    TableKind("perf_target", "项目支出绩效目标表", r"绩效目标表"),
    TableKind(
        "perf_execution", "预算执行情况表", r"预算执行情况表", ("全年预算数", "全年执行数", "执行率")
    ),
    TableKind(
        "perf_indicators", "绩效指标完成情况表", r"绩效指标完成情况表", ("一级指标", "二级指标", "得分")
    ),
)

KIND_NAMES = {k.kind: k.name for k in CATALOGUE} | {"unknown": "未识别表格"}

FINAL_CODE_KINDS = {n: f"fa{n:02d}" for n in range(1, 11)}

CODE_RE = re.compile(
    r"(公开\s*\d{1,2}\s*表|(?:预算|部门)?公开表\s*\d{1,2}|附表\s*\d{1,2}|^表\s*[0-9一二三四五六七八九十]{1,3}(?=$|\D))"
)
TITLE_HINT_RE = re.compile(r"表[）)]?$|表（|表\(|^表[一二三四五六七八九十\d]")


# wordings of one title across templates, reduced to the catalogue's: 收支总体情况表 (广州) is the
# 收支总表, 一般公共预算支出情况表 the 一般公共预算支出表
TITLE_WORDING = ((re.compile(r"总体情况表"), "总表"), (re.compile(r"情况表"), "表"),
                 (re.compile(r"[（(]不含上年结转[)）]"), ""))


@lru_cache(maxsize=4096)
def kind_from_title(title: str) -> str | None:
    t = re.sub(r"\s+", "", title)
    if t.startswith("目录") or len(re.findall(r"表(?![（(]|$)", t)) >= 3:
        return None  # a list of the tables (目录序号报表名称 收支预算总表 收入预算总表 …), not one
    for pattern, plain in TITLE_WORDING:
        t = pattern.sub(plain, t)
    for k in CATALOGUE:
        if re.search(k.title, t):
            return k.kind
    return None


def kind_from_code(code: str | None) -> str | None:
    if not code:
        return None
    m = re.fullmatch(r"公开(\d{1,2})表", re.sub(r"\s+", "", code))
    if m:
        return FINAL_CODE_KINDS.get(int(m.group(1)))
    return None


def kind_from_header(header_text: str) -> str | None:
    t = re.sub(r"\s+", "", header_text)
    for k in CATALOGUE:
        if k.header and all(w in t for w in k.header):
            return k.kind
    return None


# 部门：/单位：/编制部门： and what follows, when printed on a title's line or above a table
DEPARTMENT_RE = re.compile(r"(编制|预算)?(部门|单位)(名称)?[:：]")


def catalogue_title(line: str) -> str | None:
    """The catalogue table title a caption line prints, or None: without spaces, its numbering
    (十一、), a 部门：/单位： following on the same line or a trailing (2017年度)."""
    t = re.sub(r"\s+", "", line)
    m = DEPARTMENT_RE.search(t)
    t = t[: m.start()] if m else t
    t = re.sub(r"^[一二三四五六七八九十]+、", "", t)
    t = re.sub(r"[（(]?\d{4}年度?[)）]?$", "", t)
    if t and "。" not in t and TITLE_HINT_RE.search(t) and kind_from_title(t):
        return t
    return None
