"""Compare segmented tables with the tab-separated text form of a sample (the ground truth)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pipeline.numbers import clean_text, parse_number
from schemas.document import Document

CJK = re.compile(r"[\u4e00-\u9fff]")


def row_key(cells: list[str]) -> tuple[str, tuple[float, ...]] | None:
    """(label, numbers in order) of a row, or None when the row holds no number."""
    cells = [re.sub(r"\s+", "", clean_text(c)) for c in cells]
    numbers = []
    for c in cells:
        n = parse_number(c)
        if n is not None:
            numbers.append(round(n.value, 6))
    if not numbers:
        return None
    label = next((c for c in cells if CJK.search(c)), "")
    return label, tuple(numbers)


def expected_rows(txt: Path) -> list[tuple[str, tuple[float, ...]]]:
    keys = []
    for line in txt.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        key = row_key(line.split("\t"))
        if key is not None:
            keys.append(key)
    return keys


def compare(doc: Document, txt: Path) -> tuple[int, list[tuple[str, tuple[float, ...]]]]:
    """How many expected rows there are, and the ones the document lacks."""
    got = Counter()
    for table in doc.tables:
        for row in table.rows:
            key = row_key(row.texts)
            if key is not None:
                got[key] += 1
    for entry in doc.toc:
        key = row_key([entry.title, str(entry.page_ref or "")])
        if key is not None:
            got[key] += 1
    missing = []
    expected = expected_rows(txt)
    for key in expected:
        if got[key] > 0:
            got[key] -= 1
        else:
            missing.append(key)
    return len(expected), missing
