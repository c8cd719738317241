"""绩效自评表 layouts, read by header and confirmed by their own arithmetic. Each layout has its
reading written by hand from the page: the two Shanxi layouts of the samples (the 自评表 form, whose
text layer prints the figures a column left of their headings, and the 自评分析报告 with a
预算执行情况 table in 元), and the national form (年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 |
得分, no 结余 column), drawn here as a real PDF the way the template prints it."""

from pathlib import Path

import pymupdf
import pytest

from pipeline.checks import check_document
from pipeline.extract import extract
from pipeline.segment import segment

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _reading(p):
    return (p.budget_initial, p.budget_full, p.actual, p.balance, p.rate, p.rate_score,
            p.total_score, p.grade)


@pytest.fixture(scope="module")
def shanxi_claims():
    out = {}
    for name in ("000_3feb2deca3ba0fbc", "003_6b8b447dd5f33aed"):
        doc = segment(SAMPLES / f"{name}.pdf")
        out[name[:3]] = extract(doc)
    return out


def test_shanxi_self_evaluation_form(shanxi_claims):
    """Sample 000 p.16: 年初预算数(目标申报数 0, 预算编制数 105.44) | 全年预算数 105.44 | 全年执行数
    96.458 | 资金结(转)余 8.982 | 执行率 91.48 | 得分 9.15; 总分 94.15 优 (p.18)."""
    p = next(p for p in shanxi_claims["000"].projects if p.name == "内网维修耗材经费")
    assert _reading(p) == (105.44, 105.44, 96.458, 8.982, 91.48, 9.15, 94.15, "优")
    assert [(i.name, i.weight, i.score) for i in p.indicators][:2] == [
        ("故障耗材更换完成率", 20.0, 20.0), ("更换耗材验收合格率", 10.0, 10.0)]
    assert not p.unread


def test_shanxi_analysis_report(shanxi_claims):
    """Sample 003 p.18–19: 合计 10,000,000 | 10,000,000 | 3,022,110.75 | 6,977,889.25 | 30.22 |
    3.02 (元); 总得分86.04分，等级为良 in the text."""
    p = shanxi_claims["003"].projects[0]
    assert p.unit == "元"
    assert _reading(p) == (10_000_000, 10_000_000, 3_022_110.75, 6_977_889.25, 30.22, 3.02,
                           86.04, "良")
    assert p.deviation_reason.startswith("项目实施进度慢")


WIDTHS = [90, 70, 70, 90, 70, 60, 60, 60, 130]


def _national(total_row: list[str]) -> list[list[tuple[str, int]]]:
    """The national 项目支出绩效自评表, as (text, columns spanned) per cell."""
    def row(*cells):
        return [c if isinstance(c, tuple) else (c, 1) for c in cells]

    return [
        row("项目名称", ("网络运维服务", 8)),
        row("主管部门", ("测试厅", 3), ("实施单位", 2), ("测试中心", 3)),
        row(("项目资金（万元）", 2), "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分",
            ""),
        row(("年度资金总额", 2), *total_row, ""),
        row(("其中：当年财政拨款", 2), *total_row[:3], "—", "—", "—", ""),
        row(("上年结转资金", 2), "", "", "", "—", "—", "—", ""),
        row("年度总体目标", ("预期目标", 4), ("实际完成情况", 4)),
        row("", ("保障网络稳定运行", 4), ("网络全年稳定运行", 4)),
        row("绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
            "偏差原因分析及改进措施"),
        row("", "产出指标", "数量指标", "巡检次数", "≥12次", "12次", "20", "20", ""),
        row("", "", "质量指标", "故障修复率", "≥95%", "96%", "20", "20", ""),
        row("", "效益指标", "社会效益指标", "系统可用率", "≥99%", "98%", "30", "28", "个别时段中断"),
        row("", "满意度指标", "服务对象满意度指标", "使用人员满意度", "≥90%", "92%", "20", "20", ""),
        row(("总分", 6), "100", "95.71", ""),
    ]


def _pdf(path: Path, rows: list[list[tuple[str, int]]]) -> Path:
    """A ruled form on a landscape page, its title above it, as the template prints it."""
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)
    page.insert_text((60, 40), "网络运维服务项目支出绩效自评表", fontname="china-s", fontsize=14)
    page.insert_text((60, 62), "（2024年度）", fontname="china-s", fontsize=10)
    xs = [40.0]
    for w in WIDTHS:
        xs.append(xs[-1] + w)
    for r, cells in enumerate(rows):
        y, c = 80.0 + 24 * r, 0
        for text, span in cells:
            page.draw_rect(pymupdf.Rect(xs[c], y, xs[c + span], y + 24), color=(0, 0, 0),
                           width=0.6)
            if text:
                page.insert_text((xs[c] + 3, y + 15), text, fontname="china-s", fontsize=8)
            c += span
    doc.save(path)
    return path


def _check(tmp_path, total_row):
    doc = segment(_pdf(tmp_path / "form.pdf", _national(total_row)))
    claims = extract(doc)
    findings, coverage = check_document(doc, claims)
    return claims.projects, [f for f in findings if f.rule.startswith("perf.")], coverage


def test_national_form_read_by_its_header(tmp_path):
    """The 分值 10 of the 执行率 is its weight, not a 结余 (the form has no 结余 column); the 总分
    row's 分值 100 is not the score."""
    projects, findings, coverage = _check(
        tmp_path, ["100.00", "120.00", "92.55", "10", "77.13%", "7.71"])
    (p,) = projects
    assert _reading(p) == (100.0, 120.0, 92.55, None, 77.13, 7.71, 95.71, None)
    assert p.rate_weight == 10.0
    assert [(i.name, i.weight, i.score) for i in p.indicators] == [
        ("巡检次数", 20.0, 20.0), ("故障修复率", 20.0, 20.0), ("系统可用率", 30.0, 28.0),
        ("使用人员满意度", 20.0, 20.0)]
    assert p.sources[0].label == "其中：当年财政拨款"
    assert findings == [] and coverage.not_understood == []


def test_national_form_wrong_rate(tmp_path):
    """执行率 87.13% (and its score 8.71) for 92.55 of 120: the rate is wrong, and the 总分 95.71 no
    longer adds up (8.71 + 88); nothing is read as a 结余."""
    _, findings, _ = _check(tmp_path, ["100.00", "120.00", "92.55", "10", "87.13%", "8.71"])
    assert sorted((f.rule, f.stated) for f in findings) == [("perf.rate", 87.13),
                                                            ("perf.total", 95.71)]


def test_national_form_score_over_its_weight(tmp_path):
    """得分 8.5 for a 执行率 of 77.13% and 分值 10 is 7.71: the weight printed is the one used."""
    _, findings, _ = _check(tmp_path, ["100.00", "120.00", "92.55", "10", "77.13%", "8.50"])
    rules = [f.rule for f in findings]
    assert "perf.rate_score" in rules and "perf.balance" not in rules
    score = next(f for f in findings if f.rule == "perf.rate_score")
    assert score.stated == 8.5 and score.expected == pytest.approx(7.713)


def test_execution_rows_no_reading_explains_are_not_understood(tmp_path):
    """Figures that no reading makes add up (执行率 50% of 92.55/120, 得分 30 of 分值 10) are a
    reading we cannot confirm: listed as not understood, and no 绩效 finding drawn from them."""
    projects, findings, coverage = _check(
        tmp_path, ["100.00", "120.00", "92.55", "10", "50.00%", "30"])
    assert projects[0].unread and projects[0].rate is None
    assert not [f for f in findings if f.rule in ("perf.rate", "perf.balance", "perf.rate_score")]
    assert [t.kind for t in coverage.not_understood] == ["perf_self_eval"]
    assert "网络运维服务" in coverage.not_understood[0].name
