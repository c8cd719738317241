"""Mutation test: plant one changed figure into a sample's text form, render it to PDF with
PyMuPDF (HTML → PDF, ruled tables), run the checker, and count the cases where a finding cites
the planted value.

Each case changes one figure by more than rounding: a narrative amount, a narrative percentage
or a table cell. Run with `make mutate`; `--keep DIR` keeps the rendered PDFs.
Goal: a finding cites the planted value in >= 95% of >= 30 cases.
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402

from pipeline.run import check_file  # noqa: E402


@dataclass(frozen=True)
class Case:
    sample: str
    kind: str  # narrative-amount | narrative-percent | table-cell
    old: str  # the exact text in the text form (the first occurrence is changed)
    new: str
    planted: float  # the value a finding must cite (stated)
    after: str = ""  # change the first occurrence after this marker


CASES: tuple[Case, ...] = (
    # sample 000: 单位决算
    Case("000", "narrative-amount", "收入总计2,445.79万元", "收入总计2,455.79万元", 2455.79),
    Case("000", "narrative-amount", "收入合计2,428.53万元", "收入合计2,438.53万元", 2438.53),
    Case("000", "narrative-amount", "其他收入0.04万元", "其他收入0.40万元", 0.40),
    Case("000", "narrative-amount", "基本支出789.13万元", "基本支出798.13万元", 798.13),
    Case("000", "narrative-amount", "项目支出1,587.71万元", "项目支出1,578.71万元", 1578.71),
    Case("000", "narrative-amount", "卫生健康支出(类)44.39万元", "卫生健康支出(类)45.39万元", 45.39),
    Case("000", "narrative-amount", "人员经费767.11万元", "人员经费776.11万元", 776.11),
    Case("000", "narrative-amount", "政府采购服务支出1,057.33万元", "政府采购服务支出1,075.33万元",
         1075.33),
    Case("000", "narrative-percent", "增长7.86%，支出总计", "增长8.86%，支出总计", 8.86),
    Case("000", "narrative-percent", "占比33.20%", "占比35.20%", 35.20),
    Case("000", "narrative-percent", "占比4.86%", "占比5.86%", 5.86),
    Case("000", "narrative-percent", "完成年初预算的159.02%", "完成年初预算的150.02%", 150.02),
    Case("000", "narrative-percent", "增长0.43%", "增长0.83%", 0.83),
    Case("000", "narrative-percent", "占政府采购支出总额的45.29%。其中", "占政府采购支出总额的47.29%。其中",
         47.29),
    Case("000", "table-cell", "八、其他收入\t8\t0.04", "八、其他收入\t8\t0.14", 0.14),
    Case("000", "table-cell", "2101103\t公务员医疗补助\t7.77\t7.77", "2101103\t公务员医疗补助\t7.77\t8.77",
         8.77, after="公开05表"),
    Case("000", "table-cell", "30107\t绩效工资\t263.71", "30107\t绩效工资\t236.71", 236.71),
    Case("000", "table-cell", "货物\t2\t0.59", "货物\t2\t0.95", 0.95),
    # sample 001
    Case("001", "narrative-amount", "收入总计9,838.62万元", "收入总计9,883.62万元", 9883.62),
    Case("001", "narrative-amount", "事业收入35.00万元", "事业收入53.00万元", 53.00),
    Case("001", "narrative-amount", "公用经费87.21万元", "公用经费78.21万元", 78.21),
    Case("001", "narrative-percent", "增长356.53%", "增长365.53%", 365.53),
    Case("001", "narrative-percent", "占比95.63%", "占比96.63%", 96.63),
    Case("001", "narrative-percent", "完成年初预算的101.41%", "完成年初预算的110.41%", 110.41),
    Case("001", "narrative-percent", "下降10.7%", "下降17.0%", 17.0),
    Case("001", "table-cell", "80.09\t8.46\t90.45\t9.04\t标准", "80.09\t8.46\t92.45\t9.04\t标准", 92.45),
    Case("001", "table-cell", "服务\t4\t1455.71", "服务\t4\t1545.71", 1545.71),
    # sample 002: 部门预算
    Case("002", "narrative-amount", "预算收入892.96万元，主要包括", "预算收入899.96万元，主要包括", 899.96),
    Case("002", "narrative-amount", "基本支出6.16万元，占0.69%", "基本支出6.61万元，占0.69%", 6.61),
    Case("002", "narrative-percent", "占78.22%", "占72.82%", 72.82),
    Case("002", "narrative-percent", "下降8.45%", "下降9.45%", 9.45),
    Case("002", "table-cell", "2013350\t事业运行\t6.16\t6.16", "2013350\t事业运行\t6.16\t6.61", 6.61),
    # sample 003
    Case("003", "narrative-amount", "基本支出869.73万元，占比", "基本支出896.73万元，占比", 896.73),
    Case("003", "narrative-amount", "政府采购支出总额16.44万元", "政府采购支出总额14.64万元", 14.64),
    Case("003", "narrative-percent", "占比48.87%", "占比47.87%", 47.87),
    Case("003", "narrative-percent", "完成年初预算的29.39%", "完成年初预算的23.39%", 23.39),
    Case("003", "narrative-percent", "下降84.99%", "下降89.99%", 89.99),
    Case("003", "table-cell", "3,815\t1,185\t76.3\t7.63", "3,815\t1,185\t73.6\t7.63", 73.6),
    Case("003", "table-cell", "177,868\t222,132\t44.47", "177,868\t222,123\t44.47", 222123),
)


def text_form(sample: str) -> str:
    return next((ROOT / "samples").glob(f"{sample}_*.txt")).read_text(encoding="utf-8")


def plant(text: str, case: Case) -> str:
    start = text.index(case.after) if case.after else 0
    i = text.index(case.old, start)
    return text[:i] + case.new + text[i + len(case.old):]


def to_html(text: str) -> str:
    """Paragraphs for plain lines; consecutive tab-separated lines become one ruled table."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if not table:
            return
        width = max(len(r) for r in table)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in r + [""] * (width - len(r)))
            + "</tr>"
            for r in table
        )
        out.append(f"<table>{rows}</table>")
        table.clear()

    for line in text.splitlines():
        if "\t" in line:
            table.append(line.split("\t"))
            continue
        if not line.strip():
            continue  # a blank line inside a table is a page break of the source
        flush()
        out.append(f"<p>{html.escape(line.strip().lstrip('- '))}</p>")
    flush()
    return "".join(out)


CSS = (
    "@font-face {font-family: cjk; src: url(cjk.ttf);}"
    "* {font-family: cjk;} p {font-size: 9pt; margin: 0 0 5pt 0;}"
    "table {border-collapse: collapse; margin: 4pt 0 6pt 0;}"
    "td {border: 0.5pt solid black; padding: 1.5pt; font-size: 5.5pt;}"
)


def render(text: str, dest: Path) -> None:
    archive = pymupdf.Archive()
    archive.add(pymupdf.Font("china-s").buffer, "cjk.ttf")
    story = pymupdf.Story(html=to_html(text), user_css=CSS, archive=archive)
    writer = pymupdf.DocumentWriter(str(dest))
    page = pymupdf.paper_rect("a4")
    more = True
    while more:
        device = writer.begin_page(page)
        more, _ = story.place(page + (40, 40, -40, -40))
        story.draw(device)
        writer.end_page()
    writer.close()


def cites(result, case: Case) -> bool:
    for f in result.findings:
        if f.stated is not None and abs(f.stated - case.planted) < 1e-6:
            return True
        for e in f.evidence:
            if e.value and e.value.replace(",", "").rstrip("万元%") in (
                f"{case.planted:g}", f"{case.planted:.2f}", f"{case.planted:.1f}"
            ):
                return True
    return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep the rendered PDFs in this folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="budget-lens-mutate-"))
    folder.mkdir(parents=True, exist_ok=True)
    caught = 0
    t0 = time.perf_counter()
    by_kind: dict[str, list[int]] = {}
    for n, case in enumerate(CASES, start=1):
        pdf = folder / f"case{n:02d}_{case.sample}.pdf"
        render(plant(text_form(case.sample), case), pdf)
        result = check_file(pdf).result
        hit = result.status == "ok" and cites(result, case)
        caught += hit
        by_kind.setdefault(case.kind, [0, 0])
        by_kind[case.kind][0] += hit
        by_kind[case.kind][1] += 1
        rules = sorted({f.rule for f in result.findings
                        if f.stated is not None and abs(f.stated - case.planted) < 1e-6})
        print(f"{n:2d} {case.sample} {case.kind:18} {case.old[:22]:24} -> {case.planted:<10g} "
              f"{'FOUND' if hit else 'missed'} {' '.join(rules)}")
    total = len(CASES)
    print()
    for kind, (hit, n) in by_kind.items():
        print(f"{kind:18} {hit}/{n}")
    print(f"caught {caught} of {total} planted figures ({caught / total:.1%}); goal >= 95% of >= 30"
          f"  [{time.perf_counter() - t0:.1f}s]")
    sys.exit(0 if caught / total >= 0.95 and total >= 30 else 1)


if __name__ == "__main__":
    main()
