"""Segmentation against the samples' text form (ground truth) and known structure."""

import pytest
from conftest import SAMPLE_IDS, sample_pdf
from groundtruth import compare

GOAL = 0.99


@pytest.mark.parametrize("sample_id", SAMPLE_IDS)
def test_every_numeric_row_of_the_text_form_comes_back(docs, sample_id):
    doc = docs(sample_id)
    total, missing = compare(doc, sample_pdf(sample_id).with_suffix(".txt"))
    assert total > 100
    share = (total - len(missing)) / total
    listing = "\n".join(f"  {label} {numbers}" for label, numbers in missing)
    assert share >= GOAL, f"{len(missing)} of {total} rows missing:\n{listing}"


FINAL_KINDS = [f"fa{n:02d}" for n in range(1, 11)]


@pytest.mark.parametrize("sample_id", ["000", "001", "003"])
def test_final_accounts_tables_recognised(docs, sample_id):
    doc = docs(sample_id)
    assert doc.report_type == "final_accounts"
    kinds = [t.kind for t in doc.tables]
    for n, kind in enumerate(FINAL_KINDS, start=1):
        assert kind in kinds
        table = doc.table(kind)
        assert table.code == f"公开{n:02d}表"
        assert table.unit == "万元"
    assert "unknown" not in kinds


def test_budget_tables_recognised(docs):
    doc = docs("002")
    assert doc.report_type == "budget"
    kinds = [t.kind for t in doc.tables]
    assert kinds[:13] == [f"bu{n:02d}" for n in range(1, 14)]
    assert kinds.count("perf_target") == 6
    assert doc.table("bu01").code == "预算公开表1"
    assert doc.table("bu01").title == "2024年预算收支总表"


def test_self_evaluation_tables(docs):
    doc = docs("000")
    evals = doc.tables_of("perf_self_eval")
    assert [t.title for t in evals] == [
        "内网维修耗材经费项目支出绩效自评表",
        "省政府门户网站内容保障经费项目支出绩效自评表",
        "业务工作经费项目支出绩效自评表",
        "舆情服务保障经费项目支出绩效自评表",
    ]
    # the remarks under each table are notes, not narrative
    assert all(any(n.startswith("4.") for n in t.notes) for t in evals)


def test_analysis_report_tables_of_sample_003(docs):
    doc = docs("003")
    assert len(doc.tables_of("perf_execution")) >= 11
    assert len(doc.tables_of("perf_indicators")) == 12
    first = doc.table("perf_execution")
    assert first.unit == "元"
    total = next(r for r in first.data_rows() if r.cells[0].text == "合计")
    amounts = [c.value for c in total.cells if c.role == "amount"]
    assert amounts[:5] == [10_000_000, 10_000_000, 10_000_000, 3_022_110.75, 6_977_889.25]


def test_table_continued_over_pages_is_joined(docs):
    doc = docs("000")
    t04 = doc.table("fa04")
    assert t04.pages == [5, 6, 7]
    labels = [r.cells[3].text for r in t04.data_rows()]
    assert labels.count("本年支出合计") == 1
    assert "二十六、抗疫特别国债安排的支出" in labels
    # header rows are not repeated inside the body
    assert sum(1 for r in t04.rows if r.cells[0].text == "栏次") == 1


def test_cells_have_roles_values_and_positions(docs):
    doc = docs("000")
    t02 = doc.table("fa02")
    row = next(r for r in t02.data_rows() if r.cells[0].text == "2010350")
    code, name, total = row.cells[0], row.cells[1], row.cells[2]
    assert (code.role, name.text, total.role, total.value, total.decimals) == (
        "code", "事业运行", "amount", 646.62, 2,
    )
    assert total.page == 4 and total.bbox[0] < total.bbox[2]
    t01 = doc.table("fa01")
    row = next(r for r in t01.data_rows() if r.cells[0].text == "本年收入合计")
    assert [c.role for c in row.cells[:3]] == ["label", "line_no", "amount"]
    assert t01.columns[2] == "收入/金额"


def test_two_column_basic_expenditure_layout(docs):
    t06 = docs("000").table("fa06")
    row = next(r for r in t06.data_rows() if r.cells[0].text == "30111")
    assert row.texts[:6] == ["30111", "公务员医疗补助缴费", "7.77", "30209", "物业管理费", "1.00"]
    last = t06.data_rows()[-1]
    assert last.cells[0].text == "人员经费合计" and "767.11" in last.texts


def test_empty_tables_carry_their_statement(docs):
    doc = docs("000")
    assert doc.table("fa07").empty_statement and doc.table("fa08").empty_statement
    assert not doc.table("fa05").empty_statement


def test_sections_and_toc(docs):
    doc = docs("000")
    assert len(doc.toc) >= 25
    titles = [s.title for s in doc.sections]
    assert "第三部分情况说明" in titles
    assert titles.count("一、收入支出决算总体情况说明") == 1  # the TOC entry is not a section
    sec = next(s for s in doc.sections if s.title.startswith("（三）国有资产占用情况说明"))
    assert sec.path[0] == "第三部分情况说明" and sec.level == 2
    assert "共有车辆1辆" in sec.text and sec.pages == [15]
    intro = next(s for s in doc.sections if s.title == "一、收入支出决算总体情况说明")
    assert "增长7.86%" in intro.text and intro.blocks[0].page == 12
    # captions and notes stay out of the narrative
    assert not any("金额单位" in s.text or "注：本表" in s.text for s in doc.sections)


def test_budget_narrative(docs):
    doc = docs("002")
    sec = next(s for s in doc.sections if s.title.startswith("(一)一般公共预算当年支出规模"))
    assert sec.path[-2] == "五、一般公共预算支出情况说明"
    assert "比上年减少82.47万元,下降8.45%" in sec.text
    assert not any(s.title.endswith("：") for s in doc.sections)


def test_running_headers_footers_and_page_numbers_are_left_out(tmp_path, docs):
    import pymupdf

    from pipeline.segment import segment

    doc = pymupdf.open(sample_pdf("001"))
    for page in doc:
        h = page.rect.height
        page.insert_text((200, 18), "山西省数字政府服务中心 2024年度单位决算公开", fontname="china-s",
                         fontsize=8)
        page.insert_text((290, h - 12), f"- {page.number + 1} -", fontsize=8)
    path = tmp_path / "with_furniture.pdf"
    doc.save(path)
    marked = segment(path)
    plain = docs("001")
    assert [t.rows for t in marked.tables] == [t.rows for t in plain.tables]
    assert [(s.title, s.text) for s in marked.sections] == [(s.title, s.text) for s in plain.sections]


def test_a_line_short_of_the_edge_runs_on_where_paragraphs_are_indented(tmp_path):
    """A Word export gives every line a block of its own; a line that ends a few characters short
    of the right edge (half-width digits and brackets) is not a paragraph's last line when the
    next starts flush left on a page whose paragraphs start indented."""
    import pymupdf

    from pipeline.segment import segment

    size = 14  # china-s draws every character one em wide: 33 fill a line from x=61
    lines = [  # (x, text): first lines indented two characters, the others flush left
        (89, "四、委托业务费情况"),
        (89, "委托业务费指委托外单位办理业务而支付的各项资金。本年度本部门委"),
        (61, "托业务费预算为649万元，比上年预计减少32万元，下降(增"),  # 4 characters short
        (61, "长)4.70%。主要原因是办公室政务运行保障经费中委托业务费减少，"),
        (61, "政务热线整合经费中委托业务费减少。"),
        (89, "五、政府采购情况"),
        (89, "本年度政府采购预算2958万元，其中：政府采购货物预算98万元"),
        (61, "，政府采购工程预算0万元，政府采购服务预算2860万元。"),
    ]
    pdf = pymupdf.open()
    pdf.new_page(width=595, height=842).insert_text((200, 300), "测试局2026年部门预算",
                                                    fontname="china-s", fontsize=20)
    page = pdf.new_page(width=595, height=842)
    for k, (x, text) in enumerate(lines):
        assert x + pymupdf.get_text_length(text, fontname="china-s", fontsize=size) <= 535, text
        page.insert_text((x, 100 + 28 * k), text, fontname="china-s", fontsize=size)
    path = tmp_path / "indented.pdf"
    pdf.save(path)
    sections = segment(path).sections
    text = "\n".join(b.text for s in sections for b in s.blocks)
    assert "比上年预计减少32万元，下降(增长)4.70%。主要原因是" in text, text
    assert [s.title for s in sections if s.title.startswith(("四", "五"))] == [
        "四、委托业务费情况", "五、政府采购情况"]


def test_a_word_of_a_wrapped_cell_at_the_page_break_does_not_cut_the_table(tmp_path):
    """A cell's last word printed below the ruling at the foot of a page (支出 of a wrapped
    name) is no text between two tables: the next page's grid, header repeated, continues it."""
    import pymupdf

    from pipeline.segment import segment

    header = ["科目编码", "科目名称", "合计", "基本支出", "项目支出"]
    pages = [[header, ["2010301", "行政运行", "60.00", "60.00", ""],
              ["2010302", "一般行政管理事务", "30.00", "", "30.00"]],
             [header, ["2080501", "行政单位离退休", "10.00", "10.00", ""],
              ["", "合计", "100.00", "70.00", "30.00"]]]
    pdf = pymupdf.open()
    for k, rows in enumerate(pages):
        page = pdf.new_page(width=595, height=842)
        if k == 0:
            page.insert_text((60, 40), "预算05表一般公共预算支出表", fontname="china-s", fontsize=14)
            page.insert_text((60, 60), "金额单位：万元", fontname="china-s", fontsize=9)
        for r, cells in enumerate(rows):
            y = 80.0 + 24 * r
            for c, text in enumerate(cells):
                page.draw_rect(pymupdf.Rect(40 + 100 * c, y, 140 + 100 * c, y + 24),
                               color=(0, 0, 0), width=0.6)
                if text:
                    page.insert_text((43 + 100 * c, y + 15), text, fontname="china-s", fontsize=9)
        if k == 0:  # the wrapped end of a name, below the ruling
            page.insert_text((143, 80 + 24 * len(rows) + 14), "支出", fontname="china-s", fontsize=9)
    path = tmp_path / "two_pages.pdf"
    pdf.save(path)
    tables = [t for t in segment(path).tables if t.kind != "unknown"]
    assert [(t.kind, t.pages) for t in tables] == [("bu05", [1, 2])], tables


def test_a_paragraph_cut_by_a_page_break_knows_where_the_next_page_begins():
    """Sample 003: the 基本支出 paragraph of p14 goes on at 公用经费73.84万元 on p15; its claims
    there cite p15."""
    from pipeline.extract import extract
    from pipeline.segment import segment

    doc = segment(sample_pdf("003"))
    block = next(b for s in doc.sections for b in s.blocks if b.page == 14 and b.breaks)
    at, page = block.breaks[0]
    assert page == 15 and block.text[at:].startswith("公用经费73.84万元")
    s = next(s for s in extract(doc).sentences if "邮电费0.43" in s.text)
    pages = {c.text: s.page_at(c.start) for c in s.claims}
    assert pages["73.84万元"] == 15 and pages["0.43万元"] == 15


def test_a_title_wrapped_over_two_lines_above_a_continued_table_is_its_caption(tmp_path):
    """西安 政府采购表: the first page prints 表12 and the title, each later page the title again
    without its code, wrapped (…（资产配置、购买服务） | 预算表（不含上年结转）), then 预算单位：…
    金额单位：万元 — one table over the pages, not a table per page."""
    import pymupdf

    from pipeline.segment import segment

    header = ["采购项目", "采购目录", "数量", "预算金额"]
    pages = [[header, ["合计", "", "", "90.00"], ["运维服务", "C0206运行维护服务", "1", "50.00"]],
             [header, ["台式计算机购置", "A02010104台式机", "2", "30.00"]],
             [header, ["装修工程", "B07装修工程", "1", "10.00"]]]
    pdf = pymupdf.open()
    cover = pdf.new_page(width=595, height=842)
    cover.insert_text((150, 200), "西安市测试局2022年部门综合预算", fontname="china-s", fontsize=16)
    for k, rows in enumerate(pages):
        page = pdf.new_page(width=595, height=842)
        top = 76 if k == 0 else 60  # the first page's title lower, under its 表12
        if k == 0:
            page.insert_text((60, 94), "表12", fontname="china-s", fontsize=10)
        page.insert_text((120, 44 + top), "2022年部门综合预算政府采购（资产配置、购买服务）",
                         fontname="china-s", fontsize=12)
        page.insert_text((200, 60 + top), "预算表（不含上年结转）", fontname="china-s", fontsize=12)
        page.insert_text((60, 74 + top), "预算单位：西安市测试局", fontname="china-s", fontsize=9)
        page.insert_text((420, 74 + top), "金额单位：万元", fontname="china-s", fontsize=9)
        for r, cells in enumerate(rows):
            y = 80.0 + top + 24 * r
            for c, text in enumerate(cells):
                page.draw_rect(pymupdf.Rect(40 + 120 * c, y, 160 + 120 * c, y + 24),
                               color=(0, 0, 0), width=0.6)
                if text:
                    page.insert_text((43 + 120 * c, y + 15), text, fontname="china-s", fontsize=9)
    path = tmp_path / "procurement.pdf"
    pdf.save(path)
    tables = [t for t in segment(path).tables if t.rows]
    assert [(t.kind, t.pages) for t in tables] == [("bu16", [2, 3, 4])], tables
    assert [r.cells[1].text for r in tables[0].data_rows()][-3:] == [
        "C0206运行维护服务", "A02010104台式机", "B07装修工程"]
