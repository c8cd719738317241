"""Table reading on every template of the corpus: rows written by hand from the rendered pages
(tests/corpus_rows/) come back from the facts with the same code, label and numbers."""

import json
from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.facts import subject_name, table_facts
from pipeline.segment import segment

ROWS = sorted((ROOT / "tests" / "corpus_rows").glob("*.json"))


def read_rows(table) -> list[tuple[str, str, list[float | None]]]:
    """(code, label, numbers in the printed unit) per data row, from the table's facts."""
    scale = 1e4 if table.unit == "元" else 1.0
    rows: dict[int, list] = {}
    for f in table_facts(table):
        if f.panel:
            continue
        entry = rows.setdefault(f.row, [f.code or "", f.subject, [], set()])
        entry[2].append(None if f.blank else round(f.value * scale, 2))
        entry[3].add(f.subject)
    # a row of figures only (三公 表) gives each figure its column's item: the row has no label
    return [(c, s if len(names) == 1 else "", v)
            for c, s, v, names in (rows[k] for k in sorted(rows))]


def expected_rows(spec: dict) -> list[tuple[str, str, list[float | None]]]:
    return [(r["code"], subject_name(r["label"]), [None if v is None else round(v, 2)
                                                    for v in r["values"]]) for r in spec["rows"]]


@pytest.mark.parametrize("path", ROWS, ids=[p.stem for p in ROWS])
def test_rows_come_back(path: Path):
    spec = json.loads(path.read_text(encoding="utf-8"))
    doc = segment(ROOT / "corpus" / spec["source"])
    for want in spec["tables"]:
        table = next((t for t in doc.tables if t.kind == want["kind"] and want["page"] in t.pages),
                     None)
        assert table is not None, f"{want['kind']} on page {want['page']} not recognised"
        assert (table.unit or "万元") == want["unit"]
        got = read_rows(table)
        exp = expected_rows(want)
        missing = [r for r in exp if r not in got]
        assert not missing, f"{want['kind']} p{want['page']}: rows not read as printed: {missing[:3]}"
        assert len(got) == len(exp), f"{want['kind']} p{want['page']}: {len(got)} rows, " \
                                     f"expected {len(exp)}"
