"""Rules on real reports of other templates: a report with the problem fails, one without passes.
(Every rule also has a built example in test_rules.py.)"""

from functools import cache

import pytest
from conftest import ROOT

from pipeline.run import check_file


@cache
def findings(stem: str):
    return check_file(ROOT / "corpus" / f"{stem}.pdf").result.findings


def pages(stem: str, rule_id: str) -> set[int]:
    return {e.page for f in findings(stem) if f.rule == rule_id and f.severity != "info"
            for e in f.evidence[:1]}


@pytest.mark.parametrize("rule_id, failing, page, passing", [
    ("doc.year", "jiangsu-renda-2019-yusuan-narrative", 5, "jiangsu-zhengxie-2019-yusuan-narrative"),
    ("doc.template_text", "jiangsu-renda-2019-yusuan-narrative", 9,
     "jiangsu-zhengxie-2019-yusuan-narrative"),
    ("nar.zero_base", "shanghai-putuo-wanli-2023-yusuan", 6, "shanghai-putuo-zhengfuban-2025-yusuan"),
    ("nar.growth", "shanghai-putuo-wanli-2023-yusuan", 6, "shanghai-putuo-zhengfuban-2025-yusuan"),
    ("nar.restated", "shanghai-putuo-sifa-2026-yusuan", 9, "shanghai-putuo-zhengfuban-2025-yusuan"),
    ("nar.table_figure", "shanghai-putuo-fuliyuan-2024-yusuan-danwei", 6,
     "shanghai-putuo-zhengfuban-2025-yusuan-danwei"),
    ("nar.share", "jiangsu-renda-2017-yusuan", 28, "jiangsu-gaoyuan-2017-yusuan"),
    ("nar.empty_section", "shanghai-putuo-wanli-2024-yusuan", 31, "shanghai-putuo-wanli-2023-yusuan"),
    ("tbl.row_sum", "chongqing-swu-2023-yusuan", 8, "chongqing-swu-2021-yusuan"),
    ("nar.subject_name", "shanghai-putuo-fuliyuan-2024-yusuan-danwei", 6,
     "shanghai-putuo-zhengfuban-2025-yusuan-danwei"),
    # one wrong cell (2040601 项目支出) breaks its row and its 款: reported once, at the cell
    ("tbl.row_sum", "shanghai-putuo-sifa-2026-yusuan-danwei", 11, "shanghai-putuo-sifa-2026-yusuan"),
    ("tbl.empty_statement", "jiangsu-renda-2019-yusuan-tables", 10,
     "jiangsu-zhengxie-2019-yusuan-tables"),
    # the same 基本支出 split otherwise into 人员经费 and 公用经费 by the 收支总表 and 06表
    ("x.totals", "shanghai-putuo-sifa-2026-yusuan-danwei", 8, "shanghai-putuo-sifa-2026-yusuan"),
])
def test_rule_on_real_reports(rule_id, failing, page, passing):
    assert page in pages(failing, rule_id), [f.message for f in findings(failing)]
    assert not pages(passing, rule_id), [f.message for f in findings(passing) if f.rule == rule_id]


def test_comparison_words_hold_on_a_real_report():
    # 决算数小于全年预算数 with 2.22 against 2.23万元 (shgzb 2024): no finding
    assert not pages("shanghai-putuo-shgzb-2024-juesuan", "nar.compare")


def test_department_on_every_self_evaluation_of_a_sample():
    from pipeline.run import check_file as check

    found = check(ROOT / "samples" / "000_3feb2deca3ba0fbc.pdf").result.findings
    assert not [f for f in found if f.rule == "perf.department"]


@pytest.mark.parametrize("rule_id, stem", [
    ("doc.tables", "shanghai-putuo-wanli-2024-yusuan"),  # 目录 of 9 tables, all 9 in the body
    ("x.units", "shanghai-putuo-zhengfuban-2025-yusuan"),  # 元 tables beside a 万元 三公 table
    ("x.fund_tables", "jiangsu-gaoyuan-2018-yusuan"),  # an empty fund table, nothing stated
    ("nar.compare", "shanghai-putuo-shgzb-2024-juesuan"),
])
def test_real_reports_without_the_problem_pass(rule_id, stem):
    assert not pages(stem, rule_id), [f.message for f in findings(stem) if f.rule == rule_id]


def test_reason_finding_cites_the_reason_cell():
    from pipeline.run import check_file as check

    found = [f for f in check(ROOT / "samples" / "003_6b8b447dd5f33aed.pdf").result.findings
             if f.rule == "perf.reason"]
    assert found and any(e.value and "执行率低" in e.value and e.bbox for e in found[0].evidence)


def test_an_amount_restating_a_table_figure_takes_its_precision():
    """“因公出国（境）费支出110万元，占18.85%”: 110 restates the 三公 table's 110.00, so the share
    is 18.82% (110.00 / 584.35), not anything from 109.5 to 110.5."""
    shares = {f.stated: f for f in findings("jiangsu-jcy-2017-yusuan") if f.rule == "nar.share"}
    assert 18.85 in shares and shares[18.85].severity == "error"
    assert abs(shares[18.85].expected - 18.82) < 0.01


def test_the_table_a_heading_explains_picks_among_differing_figures():
    """基本支出 is 12,323.48 in the 收支预算总表 and 12,308.48 in the 财政拨款收支总表; a passage
    under “一、收支预算总表情况说明” restates the former."""
    table = [f for f in findings("jiangsu-jcy-2017-yusuan") if f.rule == "nar.table_figure"]
    assert [(f.stated, f.expected) for f in table] == [(12323.46, 12323.48)]
    assert table[0].evidence[1].page == 10


def test_a_row_label_split_by_a_merged_cell_is_still_found():
    """shgzb-2024's 基本支出决算表 prints 人 | 员经费合计 across the code and name columns (and its
    支出决算表 合 | 计): a row label is read across the cells a merged cell was split into, so the
    cross-table check of 基本支出 against 人员经费合计 + 公用经费合计 finds all three figures."""
    from pipeline.checks.base import Context
    from pipeline.checks.tables import _fig
    from pipeline.extract import extract
    from pipeline.facts import document_facts
    from pipeline.segment import segment

    doc = segment(ROOT / "corpus" / "shanghai-putuo-shgzb-2024-juesuan.pdf")
    ctx = Context(doc=doc, claims=extract(doc), facts=document_facts(doc))
    personnel, public = _fig(ctx, "fa06", r"^人员经费合计$"), _fig(ctx, "fa06", r"^公用经费合计$")
    basic = _fig(ctx, "fa05", r"^合计$", r"基本支出$")
    assert (personnel.value, public.value, basic.value) == (95.36, 10.23, 105.58)
    assert personnel.page == 13 and basic.page == 12
    assert (personnel.label, basic.label) == ("人员经费合计", "合计")  # joined: 人 | 员经费合计, 合 | 计
    # 95.36 + 10.23 = 105.59 against 105.58: rounding, a note and no more
    assert {f.severity for f in findings("shanghai-putuo-shgzb-2024-juesuan")
            if f.rule == "x.totals"} <= {"info"}


def test_budget_three_public_table_total_is_checked_when_it_holds_only_three_public_items():
    """Shanghai's 三公经费和机关运行经费预算表 (one set of columns) is checked like the 决算's
    fa09; Jiangsu's, whose 合计 also covers 会议费 and 培训费, is not read that way."""
    from pipeline.checks import check_document
    from pipeline.checks.tables import _only_three_public
    from pipeline.extract import extract
    from pipeline.segment import segment

    doc = segment(ROOT / "corpus" / "shanghai-putuo-zhengfuban-2025-yusuan.pdf")
    table = doc.table("bu10")
    assert _only_three_public(table.columns)
    assert check_document(doc, extract(doc), only={"tbl.fa09"})[0] == []
    cell = next(c for r in table.data_rows() for c in r.cells if c.value == 867.5)
    cell.value, cell.text = 869.5, "869.50"
    found = check_document(doc, extract(doc), only={"tbl.fa09"})[0]
    assert [(f.stated, f.expected) for f in found] == [(869.5, 867.5)]
    jiangsu = segment(ROOT / "corpus" / "jiangsu-zhengxie-2019-yusuan-tables.pdf").table("bu10")
    assert not _only_three_public(jiangsu.columns)


def test_a_total_of_subtotal_groups():
    """Jiangsu's 收入预算总表 lists groups, each headed by its 小计: 收入总计 = Σ 小计, and each
    小计 = Σ its items; a changed 收入总计 is found, the printed table passes."""
    from pipeline.checks import check_document
    from pipeline.extract import extract
    from pipeline.segment import segment

    doc = segment(ROOT / "corpus" / "jiangsu-jcy-2017-yusuan.pdf")
    assert check_document(doc, extract(doc), only={"tbl.hierarchy"})[0] == []
    total = next(c for r in doc.table("bu02").data_rows() for c in r.cells if c.value == 17996.68)
    total.value, total.text = 17998.68, "17,998.68"
    found = check_document(doc, extract(doc), only={"tbl.hierarchy"})[0]
    assert [(f.stated, f.expected) for f in found] == [(17998.68, 17996.68)]
    assert "小计" in found[0].message
