"""Every rule: a consistent document passes, the same document with one planted contradiction
fails. The base document (tests/builders.py) is a small consistent 决算 report."""

import pytest
from builders import base, build, replace

from pipeline.checks import RULES, run_checks
from pipeline.extract import extract


def findings(spec, rule_id):
    doc = build(spec)
    return run_checks(doc, extract(doc), only={rule_id})


# rule -> list of (where, old, new) plants; `stated` is the value the finding must cite
PLANTS = {
    "tbl.fa01": ([("fa01", "2445.78", "2445.88")], 2445.88),
    "tbl.fa04": ([("fa04", "2428.48", "2428.58")], None),
    "tbl.row_sum": ([("fa03", "629.27", "639.27")], None),
    "tbl.hierarchy": ([("fa02", "2268.68", "2260.68")], None),
    "tbl.fa06": ([("fa06", "700.00", "710.00")], None),
    "tbl.fa09": ([("fa09", "1.10", "1.20")], 1.2),
    "tbl.fa10": ([("fa10", "0.59", "0.69")], None),
    "x.totals": ([("fa02", "2428.52", "2429.52")], None),
    "x.subjects": ([("fa05", "115.45", "116.45")], None),
    "x.subject_names": ([("fa03", "社会保障和就业支出", "社会保障与就业支出")], None),
    "nar.table_figure": ([("一、收入支出决算总体", "收入总计2,445.78万元", "收入总计2,455.78万元")], 2455.78),
    "nar.growth": ([("一、收入支出决算总体", "增长7.86%，支出", "增长8.86%，支出")], 8.86),
    "nar.direction": ([("一、收入支出决算总体", "增长7.86%，支出", "下降7.86%，支出")], None),
    "nar.zero_base": ([("(一)“三公”", "比上年度增加0.32万元，增长41.03%。", "比上年度增加1.10万元，增长100.00%。")], 100.0),
    "nar.completion": ([("(三)一般公共预算", "159.02%", "150.02%")], 150.02),
    "nar.share": ([("三、支出决算", "占比33.20%", "占比30.20%")], 30.2),
    "nar.parts_sum": ([("(二)政府采购", "服务支出1,057.33万元", "服务支出1,047.33万元")], 1057.92),
    "nar.restated": ([("(一)一般公共预算", "项目支出119.08万元", "项目支出170万元")], 170.0),
    "nar.two_changes": ([("一、收入支出决算总体", "支出总计增加178.19万元，增长7.86%",
                          "支出总计增加100.19万元，增长4.27%")], 100.19),
    "nar.unit": ([("一、收入支出决算总体", "项目支出119.08万元。", "项目支出119.08万元。使用非财政拨款结余增加0.01元。")], 0.01),
    "nar.compare": ([("(三)一般公共预算", "决算数大于年初预算数", "决算数小于年初预算数")], None),
    "doc.year": ([("一、收入支出决算总体", "2024年度收入总计", "2023年度部门决算收入总计")], 2023.0),
    "doc.template_text": ([("一、收入支出决算总体", "增长7.86%，支出", "增长（下降）7.86%，支出")],
                          None),
    "perf.department": ([("perf_self_eval", "200021-测试中心", "201021-测试中心")], None),
    "perf.rate": ([("perf_self_eval", "91.48", "93.48")], 93.48),
    "perf.balance": ([("perf_self_eval", "8.982", "8.882")], 8.882),
    "perf.rate_score": ([("perf_self_eval", "9.15", "9.55")], 9.55),
    "perf.total": ([("perf_self_eval", "94.15", "95.15")], 95.15),
    "perf.weights": ([("perf_self_eval", "40", "45")], 95.0),
    "perf.score_cap": ([("perf_self_eval", "25", "35")], 35.0),
    "perf.grade": ([("perf_self_eval", "优", "良")], None),
    "perf.missing_reason": ([("perf_self_eval", "未设置成本指标", "")], 25.0),
    "perf.text_figure": ([("perf_self_eval",
                           "2.预算执行情况：本项目预算105.44万元，支出资金96.46万元，预算执行率91.48%。",
                           "2.预算执行情况：本项目预算105.44万元，支出资金97.46万元，预算执行率91.48%。")],
                         97.46),
    "perf.summary": ([("(四)预算绩效", "自评个数1个", "自评个数2个")], 2.0),
}


def plant(rule_id):
    spec = base()
    for where, old, new in PLANTS[rule_id][0]:
        replace(spec, where, old, new)
    return spec


def test_every_rule_is_tested():
    special = {"doc.tables", "nar.subject_name", "x.units", "nar.reason_direction", "perf.sources", "perf.reason", "perf.missing_execution", "x.fund_tables", "nar.empty_section",
               "tbl.empty_statement", "tbl.balance"}  # tbl.balance: tests/test_city_templates.py
    assert set(RULES) == set(PLANTS) | special


def test_every_rule_has_id_severity_and_description():
    for r in RULES.values():
        assert r.severity in ("error", "warning", "info")
        assert r.description and "\n" not in r.description


@pytest.mark.parametrize("rule_id", sorted(PLANTS))
def test_consistent_document_passes(rule_id):
    assert findings(base(), rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(PLANTS))
def test_planted_contradiction_is_found(rule_id):
    found = findings(plant(rule_id), rule_id)
    assert found, f"{rule_id} found nothing"
    f = found[0]
    assert f.rule == rule_id and f.message and f.evidence
    assert all(e.page >= 1 for e in f.evidence)
    stated = PLANTS[rule_id][1]
    if stated is not None:
        assert any(x.stated is not None and abs(x.stated - stated) < 1e-6 for x in found)


def _replace_all(spec, where, old, new):
    rows = spec["tables"][where]["rows"]
    hits = sum(cell == old for row in rows for cell in row)
    assert hits, f"{old!r} not found in {where}"
    for _ in range(hits):
        replace(spec, where, old, new)
    return spec


def _full_execution(spec):
    for old, new in (("96.458", "105.44"), ("8.982", "0"), ("91.48", "100"), ("9.15", "10"),
                     ("94.15", "95")):
        _replace_all(spec, "perf_self_eval", old, new)
    return spec


def test_reason_contradicting_full_execution():
    spec = _full_execution(base())
    spec["tables"]["perf_self_eval"]["rows"][-1][2] = "本项目预算105.44万元，支出资金105.44万元，预算执行率100%。"
    assert findings(spec, "perf.reason") == []
    replace(spec, "perf_self_eval", "无", "上级资金未到位，导致执行率低")
    found = findings(spec, "perf.reason")
    assert found and found[0].stated == 100


def test_empty_statement():
    assert findings(base(), "tbl.empty_statement") == []
    spec = base()
    spec["tables"]["fa07"]["notes"] = []
    assert findings(spec, "tbl.empty_statement")


def test_fund_table_against_fa04():
    assert findings(base(), "x.fund_tables") == []
    spec = base()
    spec["tables"]["fa04"]["rows"][5][7] = "5.00"  # 本年支出合计 / 政府性基金
    found = findings(spec, "x.fund_tables")
    assert found and found[0].stated == 5.0


def test_empty_section_against_table():
    assert findings(base(), "nar.empty_section") == []
    spec = base()
    spec["tables"]["fa07"]["rows"][2][2] = "3.00"
    assert findings(spec, "nar.empty_section")


def test_missing_execution_table():
    """自评分析报告 layout: 项目名称 in the text, then its tables (on later pages)."""
    spec = base()
    del spec["tables"]["perf_self_eval"]
    spec["tables"]["perf_indicators"] = {"title": "", "code": None, "unit": None, "page": 1000,
                                         "rows": [
        ["一级指标", "二级指标", "指标名称", "年度指标", "实际完成值", "权重", "得分", "偏差原因分析及改进措施"],
        ["产出指标", "数量指标", "系统上线数", "=1个", "1", "90", "90", ""],
    ]}
    spec["sections"].append((["第五部分附件", "一、项目基本信息"], ["项目名称：督办系统服务"]))
    doc = build(spec)
    found = run_checks(doc, extract(doc), only={"perf.missing_execution"})
    assert found and "督办系统服务" in found[0].message
    spec["tables"]["perf_execution"] = {"title": "", "code": None, "unit": None, "page": 1000,
                                        "rows": [
        ["资金来源", "年初预算数", "全年预算数(元)", "全年执行数(元)", "资金结(转)余(元)", "执行率", "得分",
         "偏差原因"],
        ["合计", "5,000", "5,000", "5,000", "0", "100", "10", ""],
    ]}
    doc = build(spec)
    assert run_checks(doc, extract(doc), only={"perf.missing_execution"}) == []


def test_funding_source_row_against_total_row():
    assert findings(base(), "perf.sources") == []
    spec = base()
    spec["tables"]["perf_self_eval"]["rows"][4][5] = "97.458"  # 省级财政资金 / 全年执行数
    found = findings(spec, "perf.sources")
    assert found and found[0].stated == 97.458 and found[0].expected == 96.458


def test_reasons_against_the_direction_of_the_change():
    """An LLM-read claim: 增加, with reasons that all decrease."""
    from schemas.claims import LLMNarrative, LLMOutput
    from schemas.llm import NarrativeClaim, Reason

    doc = build(base())

    def run(direction):
        claims = extract(doc)
        claim = NarrativeClaim(
            subject="一般公共预算财政拨款支出", metric="决算", value=2376.77, unit="万元",
            change=126.49, direction="增加", quote="一般公共预算财政拨款支出增加126.49万元",
            reasons=[Reason(text="项目支出变动", amount=120.78, direction=direction)])
        claims.llm = LLMOutput(narrative=[LLMNarrative(claim=claim, section="五", page=105,
                                                       bbox=(0, 0, 1, 1), chunk="s1")])
        return run_checks(doc, claims, only={"nar.reason_direction"})

    assert run("增加") == []
    found = run("减少")
    assert found and found[0].stated == 2376.77 and found[0].evidence[0].page == 105


def test_missing_standard_table_is_found():
    spec = base()
    assert findings(spec, "doc.tables") == []
    del spec["tables"]["fa09"]
    found = findings(spec, "doc.tables")
    assert found and "三公" in found[0].message, found


def test_completion_of_the_other_budget_is_named():
    spec = replace(base(), "(三)一般公共预算", "年初预算1,494.63万元，支出决算2,376.77万元，完成年初预算的159.02%",
                   "年初预算1,494.63万元，全年预算2,000.00万元，支出决算2,376.77万元，完成年初预算的118.84%")
    found = findings(spec, "nar.completion")
    assert found and found[0].stated == 118.84 and "全年预算" in found[0].message, found


def test_blank_table_against_stated_amounts():
    spec = base()
    assert not [f for f in findings(spec, "nar.table_figure") if "运行维护费" in f.message]
    rows = spec["tables"]["fa09"]["rows"]
    rows[-1] = [""] * len(rows[-1])  # the 三公 table printed blank
    found = [f for f in findings(spec, "nar.table_figure") if f.severity == "error"]
    assert any(f.stated == 1.1 and "运行维护费" in f.message for f in found), found


def test_table_in_the_toc_but_not_in_the_body():
    from pipeline.checks import run_checks
    from schemas.document import TocEntry

    spec = base()
    del spec["tables"]["fa10"]
    doc = build(spec)
    titles = ["一、收入支出决算总表", "二、收入决算表", "三、支出决算表", "十、部门决算公开相关信息统计表",
              "第三部分 情况说明"]
    doc.toc = [TocEntry(title=t, page=2) for t in titles]
    found = run_checks(doc, extract(doc), only={"doc.tables"})
    assert any("目录列有" in f.message and "相关信息统计表" in f.message and f.evidence[0].page == 2
               for f in found), found
    doc.toc = doc.toc[:3] + doc.toc[4:]
    assert not [f for f in run_checks(doc, extract(doc), only={"doc.tables"}) if "目录列有" in f.message]


def test_balance_date_of_another_year():
    spec = replace(base(), "一、收入支出决算总体", "2024年度收入总计2,445.78万元",
                   "截至2024年12月31日，2024年度收入总计2,445.78万元")
    assert not findings(spec, "doc.year")
    spec = replace(base(), "一、收入支出决算总体", "2024年度收入总计2,445.78万元",
                   "截至2023年12月31日，2024年度收入总计2,445.78万元")
    found = findings(spec, "doc.year")
    assert found and found[0].stated == 2023 and "截止日期" in found[0].message, found


def test_table_unit_slip_between_tables():
    assert findings(base(), "x.units") == []
    spec = base()
    spec["tables"]["fa05"]["unit"] = "元"  # 公开05表 captioned 元 though it prints 万元
    found = findings(spec, "x.units")
    assert found and "一万倍" in found[0].message, found
    assert not findings(spec, "x.subjects")  # reported once, as the unit slip


def test_budget_fund_table_empty_while_the_totals_state_the_fund():
    def table(rows, caption, i):
        return _budget_table(rows, [caption, "单位：万元"], i)

    def doc(fund: str):
        from schemas.document import Document

        t01 = table([["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"],
                     ["一、一般公共预算", "90.00", "一、一般公共服务支出", "100.00"],
                     ["二、政府性基金预算", fund, "", ""],
                     ["收入合计", "100.00", "支出合计", "100.00"]], "部门收支预算总表", 1)
        t04 = table([["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"],
                     ["一、一般公共预算", "90.00", "一、一般公共服务支出", "100.00"],
                     ["二、政府性基金预算", fund, "", ""],
                     ["收入合计", "100.00", "支出合计", "100.00"]], "财政拨款收支预算总表", 2)
        t08 = table([["科目编码", "科目名称", "金额"], ["", "合计", ""]], "政府性基金预算支出表", 3)
        return Document(source="b.pdf", page_count=3, report_type="budget", tables=[t01, t04, t08])

    d = doc("10.00")
    found = run_checks(d, extract(d), only={"x.fund_tables"})
    assert found and found[0].stated == 10.0, found
    d = doc("")
    assert run_checks(d, extract(d), only={"x.fund_tables"}) == []


def test_tables_out_of_the_order_of_the_toc():
    from pipeline.checks import run_checks
    from schemas.document import TocEntry

    doc = build(base())
    titles = [t.title for t in doc.tables if not t.kind.startswith("perf")] + ["第三部分 情况说明"]
    doc.toc = [TocEntry(title=t, page=2) for t in titles]
    assert run_checks(doc, extract(doc), only={"doc.tables"}) == []
    doc.toc = [TocEntry(title=t, page=2) for t in (titles[1], titles[0], *titles[2:])]
    found = run_checks(doc, extract(doc), only={"doc.tables"})
    assert any("顺序" in f.message for f in found), found


def test_the_same_table_printed_twice():
    from pipeline.checks import run_checks

    spec = base()
    spec["tables"]["fa05#2"] = {**spec["tables"]["fa05"], "page": 40}
    doc = build(spec)
    found = run_checks(doc, extract(doc), only={"doc.tables"})
    assert any("出现两次" in f.message for f in found), found


def test_a_sentence_is_quoted_once():
    spec = replace(base(), "(二)政府采购", "服务支出1,057.33万元", "服务支出1,047.33万元")
    found = findings(spec, "nar.parts_sum")
    quotes = [(e.page, e.text) for e in found[0].evidence if e.source == "narrative"]
    assert found and len(quotes) == len(set(quotes)), found


def test_two_changes_reconciled_by_a_part_the_report_names():
    """Two changes of one total differ by exactly a part's stated change (财政专户 减少78.00万元
    beside 一般公共预算 增加178.19 and 总计 增加100.19): last year's total had a part this year's
    has not; not a contradiction. The same gap with no part named is still reported."""
    spec = plant("nar.two_changes")
    assert findings(spec, "nar.two_changes")
    replace(spec, "一、收入支出决算总体", "支出总计增加100.19万元，增长4.27%",
            "支出总计增加100.19万元，增长4.27%；财政专户管理资金收入0万元，比上年减少78.00万元")
    assert findings(spec, "nar.two_changes") == []


def _with_subject_path(sentence: str) -> dict:
    spec = base()
    rows = spec["tables"]["fa05"]["rows"]
    at = next(i for i, r in enumerate(rows) if r[0] == "201")
    rows[at + 1:at + 1] = [["20101", "人大事务", "2216.93", "629.22", "1587.71"],
                           ["2010101", "行政运行", "2216.93", "629.22", "1587.71"]]
    spec["sections"].append((["第三部分情况说明", "五、一般公共预算财政拨款支出决算情况说明"],
                             [sentence]))
    return spec


def test_a_class_named_without_its_zhichu_is_its_name():
    """一般公共服务（类） is the usual way of writing 一般公共服务支出; 人大常委（款） is not 人大事务."""
    said = "一般公共服务（类）人大事务（款）行政运行（项）支出2,216.93万元。"
    assert findings(_with_subject_path(said), "nar.subject_name") == []
    wrong = "一般公共服务（类）人大常委（款）行政运行（项）支出2,216.93万元。"
    assert [f.rule for f in findings(_with_subject_path(wrong), "nar.subject_name")] == [
        "nar.subject_name"]


def _breakdown_findings(text):
    spec = base()
    spec["sections"].append((["第三部分情况说明", "九、其他"], [text]))
    return [(f.stated, f.expected) for f in findings(spec, "nar.parts_sum")
            if f.severity == "error"]


def test_a_breakdown_in_brackets_belongs_to_its_item():
    """（其中：…） after an item is that item's breakdown: its figures are not more items of the
    outer list (三公 9 read as 14), and it is checked against the item, not the outer total."""
    outer = "2025年“三公”经费预算9.00万元，其中：公务接待费3.00万元，公务用车购置及运行维护费{}万元" \
            "（其中：公务用车购置费0.00万元，公务用车运行维护费5.00万元）。"
    assert _breakdown_findings(outer.format("6.00")) == [(6.0, 5.0)]
    assert _breakdown_findings(outer.format("5.00")) == [(9.0, 8.0)]


def test_a_breakdown_inside_an_item_of_an_enclosing_list_ends_at_its_clause():
    """…主要包括：A 973.30万元，其中结转结余220.80万元，用于…；B 40.00万元，用于…: the items after
    the ； are the enclosing list's, not parts of A."""
    text = ("12.政务信息化项目2,697.23万元，主要包括：大数据平台运行维护973.30万元，其中结转结余220.80万元，"
            "用于保障平台运维服务；系统线路租用费40.00万元，用于网络线路租用；机房巡检服务经费250.00万元，"
            "用于保障机房正常运行。")
    assert _breakdown_findings(text) == []


def test_a_note_to_the_writer_left_in_is_template_text():
    """The template's note to whoever fills it in, published: in the narrative (公开时请删除注释)
    or in a table's notes (（请核实单位是否有涉密项目，…）)."""
    spec = base()
    spec["sections"].append((["第三部分情况说明", "九、其他"], [
        "委托业务费预算为2,196.52万元，比上年预算（注：上年3,468.18万元，公开时请删除注释）减少1,271.66万元。"]))
    found = findings(spec, "doc.template_text")
    assert [f.evidence[0].value for f in found] == ["公开时请删除"]
    spec = base()
    spec["tables"]["fa10"]["notes"] = ["备注：涉密项目按要求不予公开。（请核实单位是否有涉密项目，若无则写“无”）"]
    found = findings(spec, "doc.template_text")
    assert [f.evidence[0].value for f in found] == ["（请核实"]
    assert findings(base(), "doc.template_text") == []


def test_a_wrong_cell_is_found_where_its_row_and_its_column_cross():
    """208 基本支出 printed 116.45 where its row's 小计 says 115.45, so that 合计's 基本支出 no longer
    adds up either: one problem, reported once, at the cell both sums point to."""
    spec = base()
    spec["tables"]["fa05"]["rows"][4][3] = "116.45"
    found = [f for rule in ("tbl.row_sum", "tbl.hierarchy") for f in findings(spec, rule)]
    assert [(f.rule, f.stated, f.expected) for f in found] == [("tbl.row_sum", 116.45, 115.45)]
    assert "208" in found[0].message and "合计" in found[0].message


def test_a_list_item_after_a_breakdown_belongs_to_the_outer_list():
    """（1）…799万元，…。其中…包括…；（2）…258万元；（3）…200万元: the numbered items after the 其中
    continue the list the 其中 sits in, they are not its parts."""
    text = ("1.精准预报1,357.00万元，主要包括：（1）气象预报799.00万元，用于预报业务。其中预报业务包括"
            "雷达产品等16项服务；（2）区域大模型项目258.00万元，用于台风预报；（3）人工智能预报项目300.00万元，"
            "用于知识库治理。")
    assert _breakdown_findings(text) == []


def test_a_three_public_item_is_checked_against_the_three_public_table():
    """（一）因公出国（境）费 and a 三公 table of one row whose columns name the items: the item's
    figure is its column's (found by the mutation test: 35.00 planted as 37.00 went unseen)."""
    spec = base()
    spec["sections"].append((["第三部分情况说明", "(一)“三公”经费支出"], [
        "2024年度“三公”经费支出1.10万元，其中：（一）因公出国（境）费0.00万元；（二）公务用车购置及运行维护费"
        "2.10万元。"]))
    found = [f for f in findings(spec, "nar.table_figure") if f.stated == 2.1]
    assert found and found[0].expected == 1.1


def _budget_table(rows, caption, i):
    """A budget table built the way segmentation builds one, from rows of cell strings."""
    from pipeline.segment.grid import Grid, GridCell
    from pipeline.segment.tables import RawTable, build_table

    cells = [[GridCell(t, (50.0 * k, 20.0 * r, 50.0 * k + 50, 20.0 * r + 20))
              for k, t in enumerate(row)] for r, row in enumerate(rows)]
    xs = [50.0 * k for k in range(len(rows[0]) + 1)]
    ys = [20.0 * r for r in range(len(rows) + 1)]
    grid = Grid(page=i, bbox=(0, 0, xs[-1], ys[-1]), xs=xs, ys=ys, rows=cells,
                row_boxes=[(0, y, xs[-1], y + 20) for y in ys[:-1]])
    return build_table(RawTable(grids=[grid], caption=caption), i)


def _budget(tables, paragraphs=()):
    from schemas.document import Block, Document, Section

    blocks = [Block(text=p, page=9, bbox=(50, 50 + 30 * k, 500, 70 + 30 * k))
              for k, p in enumerate(paragraphs)]
    sections = [Section(title="部门预算情况说明", path=["部门预算情况说明"], level=0, pages=[9],
                        text="\n".join(paragraphs), blocks=blocks)] if paragraphs else []
    return Document(source="b.pdf", page_count=9, title="测试局2026年部门预算", report_type="budget",
                    tables=tables, sections=sections)


def test_a_grant_table_printed_blank_while_two_tables_give_the_money():
    def doc(grant: list[str]):
        t01 = _budget_table([["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"],
                             ["一、一般公共预算", "90.00", "一、一般公共服务支出", "90.00"],
                             ["收入合计", "90.00", "支出合计", "90.00"]],
                            ["部门收支预算总表", "单位：万元"], 1)
        t02 = _budget_table([["科目编码", "科目名称", "合计", "一般公共预算"],
                             ["", "合计", "90.00", "90.00"], ["201", "一般公共服务支出", "90.00", "90.00"]],
                            ["部门收入预算总表", "单位：万元"], 2)
        t04 = _budget_table([["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"],
                             ["一、一般公共预算", grant[0], "一、一般公共服务支出", grant[1]],
                             ["收入合计", grant[0], "支出合计", grant[1]]],
                            ["财政拨款收支预算总表", "单位：万元"], 3)
        return _budget([t01, t02, t04])

    d = doc(["", ""])  # printed blank: "2026年没有使用财政拨款收入和支出"
    found = run_checks(d, extract(d), only={"x.fund_tables"})
    assert [(f.stated, f.expected) for f in found] == [(90.0, 0.0)], found
    d = doc(["90.00", "90.00"])
    assert run_checks(d, extract(d), only={"x.fund_tables"}) == []


def test_a_table_printed_at_one_level_adds_its_rows_to_its_total():
    def doc(total: str):
        t05 = _budget_table([["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
                             ["2010101", "行政运行", "50.00", "50.00", ""],
                             ["2010102", "一般行政管理事务", "30.00", "", "30.00"],
                             ["2080501", "行政单位离退休", "20.00", "20.00", ""],
                             ["", "合计", total, "70.00", "30.00"]],
                            ["一般公共预算支出表", "单位：万元"], 1)
        return _budget([t05])

    d = doc("110.00")  # the 项 rows add to 100.00; 基本 and 项目 agree: one wrong figure
    found = run_checks(d, extract(d), only={"tbl.hierarchy"})
    assert [(f.stated, f.expected) for f in found] == [(110.0, 100.0)], found
    assert "2010101、2010102、2080501" in found[0].message
    d = doc("100.00")
    assert run_checks(d, extract(d), only={"tbl.hierarchy"}) == []


def test_a_target_table_that_plans_a_year_before_the_budget_year():
    def doc(plan: str, done: str):
        t = _budget_table([["项目名称", "驻外保障经费"], ["年度预算资金总额", "100.00"],
                           ["总体目标", f"{plan}计划投入100万元，保障公务活动正常开展。"],
                           ["时效指标", "项目完成时间", done]],
                          ["政策和项目预算绩效目标表", "单位：万元"], 1)
        assert t.kind == "perf_target", t.kind
        return _budget([t])

    d = doc("2025年", "2026年12月31日")
    found = run_checks(d, extract(d), only={"doc.year"})
    assert [(f.stated, f.expected) for f in found] == [(2025.0, 2026.0)], found
    d = doc("2026年", "2025年12月31日")  # a project of the 2026 budget cannot end in 2025
    found = run_checks(d, extract(d), only={"doc.year"})
    assert [(f.stated, f.expected) for f in found] == [(2025.0, 2026.0)], found
    d = doc("2026年", "2026年12月31日")
    assert run_checks(d, extract(d), only={"doc.year"}) == []


def test_the_parts_of_basic_spending_are_compared_with_the_basic_figures():
    def doc(said: str):
        basic = _budget_table([["部门经济科目", "合计"], ["合计", "539.20"], ["工资福利支出", "100.00"],
                               ["对个人和家庭的补助", "439.20"]], ["基本支出总表", "单位：万元"], 1)
        # the economic table: 对个人和家庭的补助 also has 项目支出 money, so its 合计 differs
        econ = _budget_table([["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
                              ["", "合计", "600.00", "539.20", "60.80"],
                              ["301", "工资福利支出", "100.00", "100.00", ""],
                              ["303", "对个人和家庭的补助", "500.00", "439.20", "60.80"]],
                             ["一般公共预算支出表（按经济分类）", "单位：万元"], 2)
        return _budget([basic, econ], [
            f"本局预算600.00万元，包括人员经费100.00万元、对个人和家庭的补助支出{said}万元、"
            "项目支出60.80万元。"])

    d = doc("439.45")
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert [(f.stated, f.expected) for f in found] == [(439.45, 439.2)], found
    d = doc("439.20")
    assert run_checks(d, extract(d), only={"nar.table_figure"}) == []


def test_a_class_of_the_summary_table_printed_under_another_class_name():
    def doc(name: str):
        t01 = _budget_table([["收入", "", "支出", ""], ["项目", "预算数", "项目", "预算数"],
                             ["一、一般公共预算", "90.00", name, "50.00"],
                             ["", "", "二、教育支出", "40.00"],
                             ["收入合计", "90.00", "支出合计", "90.00"]],
                            ["部门收支预算总表", "单位：万元"], 1)
        t03 = _budget_table([["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
                             ["", "合计", "90.00", "90.00", ""],
                             ["205", "教育支出", "40.00", "40.00", ""],
                             ["210", "卫生健康支出", "50.00", "50.00", ""]],
                            ["部门支出预算总表", "单位：万元"], 2)
        return _budget([t01, t03])

    d = doc("一、一般公共服务支出")  # the 卫生健康 money under the name of a class printed nowhere
    found = run_checks(d, extract(d), only={"x.subject_names"})
    assert [f.stated for f in found] == [50.0], found
    assert "卫生健康支出" in found[0].message
    for name in ("一、卫生健康支出", "一、医疗卫生与计划生育支出"):  # the class, or its old name
        d = doc(name)
        assert run_checks(d, extract(d), only={"x.subject_names"}) == [], name


@pytest.mark.parametrize("reason, found", [
    ("主要原因是本年度新增车辆。", True),  # a decrease explained by an increase
    ("主要原因是本年度压减车辆运行费用。", False),
    ("主要原因是本年度新增车辆，同时压减运行费用。", False),  # mixed: says nothing
    ("主要原因是上年新增车辆。", False),  # last year's figure explains this year's change
    ("主要原因是与上年持平，无增减变化。", False),
])
def test_a_reason_pointing_the_other_way_than_its_change(reason, found):
    d = _budget([], ["公务用车运行维护费22.05万元，比上年减少21.15万元，下降48.96%，" + reason])
    got = run_checks(d, extract(d), only={"nar.reason_direction"})
    assert [f.stated for f in got] == ([21.15] if found else []), got


def test_a_reason_given_in_the_next_sentence_and_given_twice():
    d = _budget([], ["机关运行经费53.20万元，比上年减少2.10万元。主要原因是办公经费增加。",
                     "公用经费中机关运行经费53.20万元，比上年减少2.10万元。主要原因是办公经费增加。"])
    got = run_checks(d, extract(d), only={"nar.reason_direction"})
    assert [f.stated for f in got] == [2.1], got  # the same explanation restated: once


def test_one_list_naming_two_items_alike_is_no_restatement():
    d = _budget([], ["上级下达资金预算103.00万元，主要包括保护资金91.00万元、保护资金12.00万元。"])
    assert run_checks(d, extract(d), only={"nar.restated"}) == []


def test_a_project_named_under_two_heads_is_two_items():
    d = _budget([], [
        "2.综合事务1,000.00万元，主要包括：市场监督管理综合事务工作519.23万元，用于质量监督。",
        "3.市场监督管理事务1,028.40万元，主要包括：市场监督管理综合事务工作855.71万元，用于物业租金。"])
    assert run_checks(d, extract(d), only={"nar.restated"}) == []


def test_two_subjects_of_one_amount_have_their_own_changes():
    econ = _budget_table([["科目编码", "科目名称", "合计"], ["2050803", "培训支出", "66.53"],
                          ["30216", "培训费", "66.53"]], ["一般公共预算支出表", "单位：万元"], 1)
    d = _budget([econ], [
        "13.培训支出（2050803）66.53万元，较上年减少67.92万元，下降50.52%。",
        "本部门当年一般公共预算培训费预算支出66.53万元，较上年减少68.92万元，下降50.88%。"])
    assert run_checks(d, extract(d), only={"nar.two_changes"}) == []


def test_a_breakdown_printed_three_times_is_one_finding():
    d = _budget([], [f"2022年本部门{w}较上年增加6915.49万元，其中基本支出减少了8627.56万元，"
                     "项目支出增加15496.49万元。" for w in ("预算支出", "财政拨款支出", "一般公共预算拨款支出")])
    found = run_checks(d, extract(d), only={"nar.parts_sum"})
    assert [(f.stated, len(f.evidence)) for f in found] == [(6915.49, 3)], found
    assert "共3处" in found[0].message


def test_a_full_width_per_cent_sign_and_a_zero_base():
    d = _budget([], ["1.因公出国（境）费5万元，比上年增加5万元，增长100％，主要原因是开展招才引智工作。"])
    assert [f.stated for f in run_checks(d, extract(d), only={"nar.zero_base"})] == [100.0]
    assert run_checks(d, extract(d), only={"nar.growth"}) == []  # no other base is looked for


def test_next_years_budget_prepared_this_year_is_no_wrong_year():
    d = _budget([], ["完成2027年部门综合预算及中期财政规划布置相关工作。"])
    assert run_checks(d, extract(d), only={"doc.year"}) == []
    d = _budget([], ["本表为2025年部门预算。"])
    assert [f.stated for f in run_checks(d, extract(d), only={"doc.year"})] == [2025.0]


@pytest.mark.parametrize("reason", [
    "一是受人员新增、职级调整等因素影响，人员经费略有增加。",  # one of a list
    "人员变动，新增调出和退休人员。",  # people moved
    "福利费科目取消，将原列福利费相关业务在委托业务费等科目列支。",  # money moved
])
def test_a_reason_that_is_one_of_a_list_or_moves_money_says_no_direction(reason):
    d = _budget([], ["人员经费1,000.00万元，较上年减少1,560.77万元，主要原因是：" + reason])
    assert run_checks(d, extract(d), only={"nar.reason_direction"}) == []


def test_a_target_that_plans_more_money_than_its_project_is_budgeted():
    def doc(form_text: str, row_text: str):
        form = _budget_table([["项目名称", "社保基金管理工作经费"], ["年度预算资金总额：", "463.00"],
                              ["其中：财政拨款", "458.00"], ["总体目标", form_text]],
                             ["政策和项目预算绩效目标表", "单位：万元"], 1)
        row = _budget_table([["项目名称", "合计", "绩效目标"], ["检验检测能力提升经费", "766.36", row_text]],
                            ["部门预算项目支出及其他支出预算表", "单位：万元"], 2)
        return _budget([form, row])

    # more than either project's budget
    d = doc("保障社保基金安全运行，计划使用财政预算资金498万元，完成机房维修维护。",
            "计划于2026年使用816.36万元采购一批常规检验仪器设备，确保检验业务正常开展。")
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert sorted((f.stated, f.expected) for f in found) == [(498.0, 463.0), (816.36, 766.36)]
    # a part of the budget planned for one purpose; a multi-year plan is not the year's
    d = doc("保障社保基金安全运行，计划使用财政预算资金100万元用于机房维修维护。",
            "计划于2024年至2026年，使用2738万元购置一台透射电子显微镜，满足检测需求。")
    assert run_checks(d, extract(d), only={"nar.table_figure"}) == []


@pytest.mark.parametrize("text, found", [
    ("通过本项目的开展，进一步完成土地储备投资。2023年度完成该地块的收储工作，并签署征地补偿协议。", True),
    ("该地块已于2023年完成收储，本年度完成征地补偿款支付，保障项目按期推进。", False),
    ("本年度完成该地块的收储工作，并签署征地补偿协议，保障项目按期推进实施。", False),
])
def test_a_project_tables_target_that_completes_in_an_earlier_year(text, found):
    row = _budget_table([["项目名称", "合计", "绩效目标"], ["颐和旅游学校地块", "194.00", text]],
                        ["部门预算项目支出及其他支出预算表", "单位：万元"], 1)
    d = _budget([row])
    got = run_checks(d, extract(d), only={"doc.year"})
    assert [f.stated for f in got] == ([2023.0] if found else []), got


def test_rows_left_out_of_a_table_whose_total_the_other_tables_confirm():
    def doc(total: str):
        basic = _budget_table([["政府支出经济分类科目", "部门支出经济分类科目", "合计", "人员经费", "公用经费"],
                               ["50101-工资奖金津补贴", "30101-基本工资", "60.00", "60.00", ""],
                               ["缴费支出50102-社会保障缴费", "30108-机关事业单位基本养老保险缴费", "20.00",
                                "20.00", ""],
                               ["50201-办公经费", "30201-办公费", "10.00", "", "10.00"],
                               ["", "合计", total, f"{float(total) - 10:.2f}", "10.00"]],
                              ["预算06表一般公共预算基本支出表", "金额单位：万元"], 1)
        summary = _budget_table([["收入", "", "支出", ""], ["项目", "预算数", "项目", "预算数"],
                                 ["一、一般公共预算拨款收入", "120.00", "一、一般公共服务支出", "120.00"],
                                 ["收入合计", "120.00", "支出合计", "120.00"]],
                                ["预算01表收支总表", "金额单位：万元"], 2)
        return _budget([basic, summary])

    # every row adds across and the 合计 is the 收支总表's: rows were left out (a wrapped name's
    # end printed before a code, 缴费支出50102-…, is no reason to lose that row)
    d = doc("120.00")
    found = run_checks(d, extract(d), only={"tbl.hierarchy"})
    assert [(f.stated, f.expected) for f in found] == [(120.0, 90.0)], found
    assert "各行不全" in found[0].message
    d = doc("95.00")  # a total no other table confirms: the reading is doubted, nothing reported
    assert run_checks(d, extract(d), only={"tbl.hierarchy"}) == []
    d = doc("90.00")
    assert run_checks(d, extract(d), only={"tbl.hierarchy"}) == []


def test_the_same_numbered_item_under_each_units_heading_is_that_units():
    from schemas.document import Block, Section

    d = _budget([])
    for k, (unit, value) in enumerate((("一、市建筑工务署本级", "376.30"), ("二、工程管理中心", "235.20"))):
        text = f"（三）对个人和家庭补助支出{value}万元，主要是离退休人员经费。"
        d.sections.append(Section(title=unit, path=["第三部分部门预算支出具体情况", unit], level=1,
                                  pages=[7 + k], text=text,
                                  blocks=[Block(text=text, page=7 + k, bbox=(50, 50, 500, 70))]))
    assert run_checks(d, extract(d), only={"nar.restated"}) == []


def test_a_breakdown_ending_in_deng_lists_some_parts_only():
    d = _budget([], ["本年度拟购置固定资产1,998.62万元，主要是环境监测设备，其中：其他资本性支出科目购置"
                     "固定资产0.7万元，政府性基金预算购置固定资产56.25万元等。"])
    assert run_checks(d, extract(d), only={"nar.parts_sum"}) == []


@pytest.mark.parametrize("reason, found", [
    ("在对个人和家庭的补助支出中专项业务经费科目核算的专项业务经费减少。", True),
    ("2026年度无公务车购置需求及根据实际需求增加公务用车运行费预算。", False),  # both ways
])
def test_a_reason_naming_a_subject_or_a_negation(reason, found):
    d = _budget([], ["对个人和家庭的补助支出34,191.45万元，较上年增加744.33万元，原因是" + reason])
    got = run_checks(d, extract(d), only={"nar.reason_direction"})
    assert [f.stated for f in got] == ([744.33] if found else []), got


def test_table_titles_of_one_wrong_year_are_one_finding():
    t = [_budget_table([["项目名称", f"项目{k}"], ["资金总额", "10.00"]],
                       ["2025年部门预算专项业务经费绩效目标表", "单位：万元"], k) for k in (1, 2, 3)]
    d = _budget(t)
    found = run_checks(d, extract(d), only={"doc.year"})
    assert [(f.stated, len(f.evidence)) for f in found] == [(2025.0, 3)], found


def test_a_target_timeline_reaching_the_budget_year_is_no_stale_year():
    text = "2025年完成“十四五”规划终期评估，2026年完成“十五五”规划研究编制，提供指导方针。"
    row = _budget_table([["项目名称", "合计", "绩效目标"], ["规划编制项目", "50.00", text]],
                        ["部门预算项目支出及其他支出预算表", "单位：万元"], 1)
    d = _budget([row])
    assert run_checks(d, extract(d), only={"doc.year"}) == []


def test_a_subject_cited_with_a_digit_left_out_of_its_code():
    t05 = _budget_table([["科目编码", "科目名称", "合计"], ["2101101", "行政单位医疗", "44.93"],
                         ["2101103", "公务员医疗补助", "20.00"]], ["一般公共预算支出表", "单位：万元"], 1)
    d = _budget([t05], ["（8）行政单位医疗（210101）44.93万元，主要用于在职人员医疗保险缴费。"])
    found = run_checks(d, extract(d), only={"nar.subject_name"})
    assert len(found) == 1 and "2101101" in found[0].message, found
    d = _budget([t05], ["（8）行政单位医疗（2101101）44.93万元，主要用于在职人员医疗保险缴费。"])
    assert run_checks(d, extract(d), only={"nar.subject_name"}) == []


def test_a_three_public_change_one_unit_off_is_an_error_when_the_amounts_are_exact():
    """公务接待费12.9万元，较上年减少5.86万元 against a 三公 table of 上年 | 本年 | 增减 in 元: 18.75 → 12.90
    is 5.85 however the amounts are rounded, so 5.86 is no rounding slip (xian-020). Where the
    rounded amounts do give the stated change it stays information."""
    def doc(prior: str, current: str, change: str, stated: str):
        t = _budget_table([["项目", "2025年", "", "2026年", "", "增减变化情况", ""],
                           ["", "合计", "公务接待费", "合计", "公务接待费", "合计", "公务接待费"],
                           ["合计", prior, prior, current, current, change, change]],
                          ["2026年“三公”经费支出预算表", "单位：元"], 1)
        return _budget([t], [f"公务接待费12.90万元，较上年减少{stated}万元。"])

    d = doc("187500.00", "129000.00", "-58500.00", "5.86")
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert [(f.severity, f.stated, f.expected) for f in found] == [("error", 5.86, 5.85)], found
    d = doc("187551.00", "129049.00", "-58502.00", "5.86")  # 18.76 − 12.90 as rounded
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert [(f.severity, f.stated) for f in found] == [("info", 5.86)], found


def test_two_prints_to_the_hundredth_that_differ_by_two_hundredths_are_an_error():
    """基本支出预算数为12323.46万元 against 12,323.48 in the table (jiangsu-jcy-2017): both printed to
    0.01, so 0.02 apart is no rounding; 0.01 apart is within the two roundings."""
    from pipeline.checks.base import compare

    assert not compare(12323.46, 2, 12323.48, 0.005).rounding
    assert compare(12323.47, 2, 12323.48, 0.005).ok
    assert compare(57, 0, 57.59, 0.0).rounding  # a whole 万元 cut off, not rounded


def test_a_subject_named_in_quotes_is_resolved():
    """4.“住房保障支出”科目57万元 (shanghai-018): the name is in quotes before 科目."""
    from pipeline.checks.figures import resolve_subject

    sc = resolve_subject("4.“住房保障支出”科目", {"住房保障支出", "支出"})
    assert sc is not None and sc.name == "住房保障支出"


def test_a_target_table_budgets_its_project_other_than_the_project_table():
    """既有住宅加装电梯专项资金经费: 年度预算资金总额 500.00 in its 绩效目标表, 400.00 in the project
    table (yantai-003); the same 400.00, or its one fund's part, agrees."""
    def doc(budget: str):
        t12 = _budget_table([["单位名称", "项目名称", "项目类别", "合计", "财政拨款"],
                             ["", "合计", "", "430.00", "430.00"],
                             ["住建局", "既有住宅加装电梯专项资金经费", "特定目标类", "400.00", "380.00"],
                             ["住建局", "城市更新城市体检", "特定目标类", "30.00", "30.00"]],
                            ["项目支出预算情况表", "单位：万元"], 1)
        form = _budget_table([["项目名称", "既有住宅加装电梯专项资金经费", ""],
                              ["项目资金（万元）", "年度预算资金总额：", budget],
                              ["总体目标", "未列入老旧小区改造范围的加装电梯项目，每部电梯财政补助20万元。", ""]],
                             ["政策和项目预算绩效目标表"], 2)
        return _budget([t12, form])

    d = doc("500.00")
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert [(f.stated, f.expected) for f in found] == [(500.0, 400.0)], found
    for agrees in ("400.00", "380.00"):
        d = doc(agrees)
        assert run_checks(d, extract(d), only={"nar.table_figure"}) == []


def test_a_claim_after_a_page_break_cites_its_own_page():
    """培训费…较上年减少51.33万元（28.90%） begins on p20 and its figures are printed on p21
    (xian-019): the evidence gives p21."""
    from schemas.document import Block, Document, Section

    text = "三公经费203.31万元。培训费预算支出125.88万元，较上年减少51.33万元（28.90%）。"
    cut = text.index("较上年")
    block = Block(text=text, page=20, bbox=(50, 700, 500, 780), breaks=[(cut, 21)])
    d = Document(source="b.pdf", page_count=30, title="测试局2022年部门预算", report_type="budget",
                 tables=[], sections=[Section(title="说明", path=["说明"], level=0, pages=[20, 21],
                                              text=text, blocks=[block])])
    sentences = extract(d).sentences
    assert [s.page for s in sentences] == [20, 20]
    s = sentences[1]
    pages = {c.text: s.page_at(c.start) for c in s.claims}
    assert pages == {"125.88万元": 20, "51.33万元": 21, "28.90%": 21}, pages
    found = run_checks(d, extract(d), only={"nar.growth"})
    assert [e.page for f in found for e in f.evidence if e.source == "narrative"] == [21], found


def test_the_procurement_split_is_checked_against_the_items_by_catalogue_class():
    """政府采购 2,107万元 = 货物238.83 + 服务1,868.17 + 工程0, while the table's items coded A/B/C
    add to 238.83 / 1,838.17 / 30.00 (xian-010: a B07装修工程 counted as a service): one finding.
    An A01 构筑物 counted as works, and a split that agrees, are no finding."""
    def doc(split: str, works_code: str = "B07装修工程"):
        t16 = _budget_table([["采购项目", "采购目录", "数量", "预算金额"],
                             ["合计", "", "", "21070000"],
                             ["综合运行服务工作", "A02010104台式计算机", "12", "2388300"],
                             ["医保系统运行维护费", "C0206运行维护服务", "1", "18381700"],
                             ["执法标准化建设", works_code, "1", "300000"]],
                            ["2026年政府采购预算表", "单位：元"], 1)
        return _budget([t16], [f"2026年政府采购预算共2107万元，其中{split}。"])

    d = doc("政府采购货物类预算238.83万元、政府采购服务类预算1868.17万元、政府采购工程类预算0万元")
    found = run_checks(d, extract(d), only={"nar.table_figure"})
    assert [(f.severity, f.stated, f.expected) for f in found] == [("error", 1868.17, 1838.17)]
    assert "工程类0万元（按品目为30.00万元）" in found[0].message
    d = doc("政府采购货物类预算238.83万元、政府采购服务类预算1838.17万元、政府采购工程类预算30万元")
    assert run_checks(d, extract(d), only={"nar.table_figure"}) == []
    d = doc("政府采购货物类预算238.83万元、政府采购服务类预算1838.17万元、政府采购工程类预算30万元",
            "A0103构筑物")
    assert run_checks(d, extract(d), only={"nar.table_figure"}) == []
