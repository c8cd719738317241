"""Readings that must prove themselves, on real reports of templates the rules were not written
for (corpus/cities): a planted slip is found, a layout the arithmetic explains gives no finding,
and what cannot be explained is said to be not understood."""

import pytest
from conftest import ROOT, load_mutate

from pipeline.facts import table_facts
from pipeline.readings import column_models
from pipeline.run import check_file
from pipeline.segment import segment

CITIES = ROOT / "corpus" / "cities"


@pytest.fixture(scope="module")
def results():
    return {p.stem: check_file(p).result for p in sorted(CITIES.glob("*.pdf"))}


def test_no_error_on_reports_whose_tables_add_up(results):
    """Six templates, every table read by hand (tests/corpus_rows) adds up: no table identity fires."""
    for name, r in results.items():
        bad = [f.message for f in r.findings if f.severity == "error" and f.rule.startswith("tbl.")]
        assert bad == [], (name, bad)


def test_every_city_report_has_its_tables_recognised(results):
    for name, r in results.items():
        kinds = {t.kind for t in r.coverage.tables}
        assert {"bu01", "bu02", "bu03", "bu04", "bu05"} <= kinds, (name, sorted(kinds))


def test_nested_columns_are_read_by_their_arithmetic():
    """合计 | 基本支出(小计, 人员经费, 公用经费) | 项目支出(项目支出总数, 扣除基建…): the 小计 is the sum
    of 人员经费 and 公用经费, the 合计 of 小计 and 项目支出 — not of every column after it."""
    doc = segment(CITIES / "beijing-010.pdf")
    t = next(t for t in doc.tables if t.kind == "bu05")
    models = {(m.total, m.parts) for tied in column_models(table_facts(t)) for m in tied}
    cols = {h.split("/")[-1]: j for j, h in enumerate(t.columns)}
    assert (cols["小计"], (cols["人员经费"], cols["公用经费"])) in models
    assert any(total == cols["合计"] and cols["小计"] in parts for total, parts in models)
    assert not any(total == cols["小计"] and cols["项目支出总数"] in parts for total, parts in models)


def test_a_table_continued_under_its_repeated_title_is_one_table():
    doc = segment(CITIES / "shenzhen-004.pdf")
    spending = [t for t in doc.tables if t.kind == "bu03"]
    assert [t.pages for t in spending] == [[18, 19, 20]]
    codes = {f.code for f in table_facts(spending[0])}
    assert {"22102", "2210201", "2210203"} <= codes  # the 款 on p19, its last 项 on p20


def test_codes_printed_as_an_outline_get_their_class():
    """类 | 款 | 项 where each row prints its own level only (201, then 08, then 01)."""
    doc = segment(CITIES / "yantai-009.pdf")
    t = next(t for t in doc.tables if t.kind == "bu05")
    codes = {f.code for f in table_facts(t)}
    assert {"201", "20108", "2010801", "2010850"} <= codes
    assert not any(c and len(c) == 2 for c in codes)


@pytest.mark.parametrize("pdf,page,old,new,rule", [
    ("shanghai-005.pdf", 7, "70,716,064", "70,716,264", "tbl.balance"),
])
def test_a_planted_slip_is_found(tmp_path, pdf, page, old, new, rule):
    mutate = load_mutate()
    dest = tmp_path / pdf
    assert mutate.plant(CITIES / pdf, page, old, new, dest)
    found = [f for f in check_file(dest).result.findings if f.rule == rule]
    assert found and any(abs((f.stated or 0) - float(new.replace(",", ""))) < 1e-6 or
                         abs((f.expected or 0) - float(new.replace(",", ""))) < 1e-6
                         for f in found), [f.message for f in found]


def test_a_report_published_as_two_files_is_checked_as_one(tmp_path):
    """北京: the 情况说明 and the 报表 are two PDFs. Alone, no narrative figure meets a table;
    together (--as-one, or the folder of the report) they do, and evidence names its file."""
    import json
    import subprocess

    folder = CITIES / "beijing-guoziwei"
    narrative, tables = folder / "beijing-001.pdf", folder / "beijing-013.pdf"
    alone = check_file(narrative).result
    assert alone.coverage.figures_matched == 0
    exe = ROOT / ".venv" / "bin" / "budget-lens"
    for args in ([str(narrative), str(tables), "--as-one"], [str(folder)]):
        out = tmp_path / "r.json"
        run = subprocess.run([str(exe), "check", *args, "--format", "json", "-o", str(out)],
                             capture_output=True, text=True)
        assert run.returncode in (0, 1), run.stderr
        (r,) = json.loads(out.read_text(encoding="utf-8"))["files"]
        assert [p.rsplit("/", 1)[-1] for p in r["parts"]] == ["beijing-001.pdf", "beijing-013.pdf"]
        assert r["coverage"]["figures_matched"] >= 5
        assert {t["file"].rsplit("/", 1)[-1] for t in r["coverage"]["tables"]} == {"beijing-013.pdf"}
        assert all(t["pages"][0] <= 38 for t in r["coverage"]["tables"])  # pages of its own file


def test_annotate_refuses_a_report_of_several_files(tmp_path):
    import subprocess

    folder = CITIES / "beijing-guoziwei"
    exe = ROOT / ".venv" / "bin" / "budget-lens"
    run = subprocess.run([str(exe), "check", str(folder), "--annotate", str(tmp_path / "a.pdf")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "several files" in run.stderr and "Traceback" not in run.stderr
