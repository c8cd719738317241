"""Vocabulary: the figures a reader names by a word rather than by a table subject (三公经费, 机关
运行经费, 政府采购, 人员经费, the funds, 收入 and 支出 …), and how tables and claims name them. Read by
the question resolver (pipeline.questions) and the narrative checks (pipeline.checks.figures)
alike: one table, not one per stage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.numbers import norm


@dataclass(frozen=True)
class Concept:
    """A figure a question may name: the words that ask for it, and the words that name it in a
    row label, a column heading or a claim."""

    name: str
    asked: str  # regex over the question
    named: str  # regex over a row label, a column heading's leaf (or group) or a claim subject
    funds: bool = False  # a fund's total (一般公共预算 …): other fund words do not scope it
    generic: bool = False  # 收入, 支出: a subject the question names (一般公共服务支出) comes first
    parts: tuple[str, ...] = ()  # words naming its parts (货物类, 工程类, 服务类)
    marks: tuple[str, ...] = ()  # words a question may add to name one print of it (收入总计)


CONCEPTS: tuple[Concept, ...] = (
    Concept("因公出国（境）费", r"出国", r"因公出国|出国\(境\)"),
    Concept("公务接待费", r"接待", r"公务接待"),
    Concept("公务用车购置及运行维护费", r"公务用车购置(?:及|和)运行|车购置(?:及|和)运行",
            r"公务用车购置(?:及|和)运行"),
    Concept("公务用车购置费", r"公务用车购置费|购车费", r"^(?:其中:?)?公务用车购置费?$|^车辆购置"),
    Concept("公务用车运行维护费", r"运行(?:维护)?费", r"公务用车运行(?:维护)?费|^运行(?:维护)?费$"),
    Concept("会议费", r"会议费", r"^会议费$"),
    Concept("培训费", r"培训费", r"^培训费$"),
    Concept("三公经费", r"三公", r"三公"),
    Concept("机关运行经费", r"机关运行", r"机关运行经费"),
    Concept("政府采购", r"政府采购|采购", r"政府采购", parts=("货物", "工程", "服务")),
    Concept("人员经费", r"人员经费", r"^人员(?:经费|支出)(?:合计|支出)?$|人员经费$"),
    Concept("公用经费", r"公用经费", r"^(?:日常)?公用(?:经费|支出)(?:合计|支出)?$|公用经费$"),
    Concept("基本支出", r"基本支出", r"^(?:其中:?)?基本支出(?:合计)?$|基本支出$"),
    Concept("项目支出", r"项目支出", r"^(?:其中:?)?项目支出(?:合计)?$|项目支出$"),
    Concept("上年结转", r"上年结转|结转结余|结转资金|年初结转", r"^上年结转|年初结转"),
    Concept("财政拨款", r"财政拨款", r"^财政拨款(?:收入|支出|拨款)?(?:合计|总计)?$|财政拨款收入$",
            funds=True),
    Concept("一般公共预算", r"一般公共预算", r"一般公共预算(?:拨款|财政拨款)?(?:收入|支出)?$",
            funds=True),
    Concept("政府性基金", r"政府性基金", r"政府性基金(?:预算)?(?:拨款|财政拨款)?(?:收入|支出)?$",
            funds=True),
    Concept("国有资本经营", r"国有资本经营", r"国有资本经营(?:预算)?(?:拨款|财政拨款)?(?:收入|支出)?$",
            funds=True),
    Concept("收入", r"收入", r"^(?:本年)?收入(?:总计|合计)$|^收入预算$|^预算收入$|部门(?:预算)?收入$"
            r"|收入(?:总预算|预算总计|总额)$", generic=True, marks=("总计", "合计")),
    Concept("支出", r"支出", r"^(?:本年)?支出(?:总计|合计)$|^支出预算$|^预算支出$|部门(?:预算)?支出$"
            r"|支出(?:总预算|预算总计|总额)$", generic=True, marks=("总计", "合计")),
)
FUND_WORDS = ("一般公共预算", "政府性基金", "国有资本经营", "财政拨款")
# table kinds that hold one fund's figures only
FUND_TABLES = {
    "一般公共预算": {"bu05", "bu06", "fa05", "fa06", "bu07"},
    "财政拨款": {"bu04", "bu05", "bu06", "bu14", "bu15", "fa04", "fa05", "fa06", "fa11", "bu10",
             "fa09"},
    "政府性基金": {"bu08", "fa07"},
    "国有资本经营": {"bu09", "fa08"},
}
# words before a subject that name where its money comes from (市本级福彩公益金预算准备金): the
# subject's part of that fund or source, which a table of another fund, or of all funds, does not
# print; lottery 公益金 is 政府性基金 money
SOURCE_RE = re.compile(r"一般公共预算|政府性基金|国有资本经营|财政拨款|公益金|专项债|上级补助|"
                       r"上年结转|结转结余|事业收入|其他收入")
SOURCE_FUND = {"公益金": "政府性基金"}


def of_source(prefix: str, kind: str, header: str) -> bool:
    """Can a fact of table `kind` under `header` be the figure of a subject whose wording starts
    with `prefix`? Yes unless the prefix names a source the fact is not of."""
    m = SOURCE_RE.search(prefix)
    if m is None:
        return True
    word = SOURCE_FUND.get(m.group(0), m.group(0))
    return word in header or kind in FUND_TABLES.get(word, ())


# tables that print a fund's whole figure (not one part of it: 基本支出表, 三公 表 …)
WHOLE_TABLES = {"bu01", "bu02", "bu03", "bu04", "bu05", "bu08", "bu09", "fa01", "fa02", "fa03",
                "fa04", "fa05", "fa07", "fa08"}
SIDE_OF_KIND = {"bu02": "income", "fa02": "income", "bu03": "expense", "bu05": "expense",
                "fa03": "expense", "fa05": "expense"}
# tables of one fund: a question that names no fund is about the department's whole figure
FUND_ONLY = set().union(*FUND_TABLES.values()) - {"bu10", "fa09"}


def concept(name: str) -> Concept:
    return next(c for c in CONCEPTS if c.name == name)


def clean(text: str) -> str:
    """A row label or claim subject without its numbering and 其中."""
    t = norm(text)
    t = re.sub(r"^[一二三四五六七八九十]+[、.．]|^\d+[、.．]|^[(（][一二三四五六七八九十\d]+[)）]", "", t)
    return t.replace("其中:", "").replace("其中：", "")


def claim_concept(subject: str) -> Concept | None:
    """The concept a claim's wording names (the longest naming words; 三公经费中因公出国 names
    因公出国), or None."""
    best, size = None, 0
    s = re.sub(r"(?:预算数|预算|安排|为|共计|共|是)+$", "", clean(subject))
    for c in CONCEPTS:
        m = re.search(c.named, s)
        if m and len(m.group(0)) >= size:
            if len(m.group(0)) > size or best is None:
                best, size = c, len(m.group(0))
    return best


# 类 of the 功能分类 renamed since: a report may print the old name beside the new one for the
# same class (2018: 医疗卫生与计划生育支出 became 卫生健康支出, …); it is one class, not two.
RENAMED_CLASSES = {
    "医疗卫生与计划生育支出": "卫生健康支出",
    "医疗卫生支出": "卫生健康支出",
    "国土资源气象等支出": "自然资源海洋气象等支出",
    "国土海洋气象等支出": "自然资源海洋气象等支出",
    "资源勘探电力信息等支出": "资源勘探工业信息等支出",
    "资源勘探信息等支出": "资源勘探工业信息等支出",
    "城乡社区事务支出": "城乡社区支出",
}


def class_name(name: str) -> str:
    """A 类's name as the classification names it today."""
    return RENAMED_CLASSES.get(name, name)
