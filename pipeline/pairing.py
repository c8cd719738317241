"""Reports published as several files: which files of a folder are the halves of one report.

Many units publish the 情况说明 and the 报表 as two PDFs. Checked alone, neither can be compared
with the other. In a folder, a file with narrative figures but no standard table and a file with
standard tables but no narrative are the two halves of one report when the narrative's amounts are
printed in the tables (several of them, and clearly more than in any other file); the titles'
unit and year, when both name them, must agree. The check then reads them as one document
(pipeline.run.check_files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.numbers import MONEY
from schemas.document import Document
from schemas.findings import FileResult

MIN_SHARED = 3  # narrative amounts the tables must print before two files are one report
UNIT_RE = re.compile(r"^(?:-?\d+-?)?(.{4,40}?)(20\d{2})\s*年?")


@dataclass(frozen=True)
class Pair:
    narrative: Path
    tables: Path
    how: str


def role(result: FileResult) -> str | None:
    """narrative, tables, or None (a whole report, or a file of neither)."""
    if result.status != "ok" or result.parts or result.part_of:
        return None
    standard = sum(t.kind != "unknown" and t.facts > 0 for t in result.coverage.tables)
    if standard == 0 and result.summary.claims >= 5:
        return "narrative"
    if standard >= 3 and result.summary.claims < 5:
        return "tables"
    return None


def _unit_year(title: str) -> tuple[str, str] | None:
    m = UNIT_RE.match(re.sub(r"\s+", "", title))
    return (m.group(1), m.group(2)) if m else None


def _narrative_amounts(doc: Document) -> set[float]:
    from pipeline.extract import extract

    claims = extract(doc)
    return {round(c.value * MONEY[c.unit], 2) for s in claims.sentences for c in s.claims
            if c.kind == "amount" and c.unit in MONEY and c.value * MONEY[c.unit] >= 1}


def _table_values(doc: Document) -> set[float]:
    from pipeline.facts import document_facts

    return {round(f.value, 2) for f in document_facts(doc) if not f.blank and f.value >= 1}


def _read(path: Path, documents: dict[Path, Document]) -> Document:
    """A candidate half, segmented once: the caller checks the pair from the same reading."""
    from pipeline.segment import segment

    if path not in documents:
        documents[path] = segment(path)
    return documents[path]


def pair(results: dict[Path, FileResult], documents: dict[Path, Document] | None = None
         ) -> list[Pair]:
    """The halves among these files (of one folder), paired by the figures they share; each
    candidate half read once, into `documents` when given (the pair is then checked from it)."""
    documents = {} if documents is None else documents
    narratives = [p for p, r in results.items() if role(r) == "narrative"]
    tables = [p for p, r in results.items() if role(r) == "tables"]
    if not narratives or not tables:
        return []
    said = {n: _narrative_amounts(_read(n, documents)) for n in narratives}
    printed = {t: _table_values(_read(t, documents)) for t in tables}
    scores = sorted(((len(said[n] & printed[t]), n, t) for n in narratives for t in tables),
                    key=lambda x: (-x[0], str(x[1]), str(x[2])))
    out: list[Pair] = []
    used: set[Path] = set()
    for shared, n, t in scores:
        if shared < MIN_SHARED or n in used or t in used:
            continue
        rival = max((s for s, n2, t2 in scores if (n2 == n) != (t2 == t) and (n2 == n or t2 == t)),
                    default=0)
        if shared < 2 * rival:
            continue  # two tables files fit one narrative (or the other way): not told apart
        a, b = _unit_year(results[n].title), _unit_year(results[t].title)
        if a and b and (a[1] != b[1] or not (a[0] in b[0] or b[0] in a[0])):
            continue  # the titles name another unit or year
        how = f"说明中{shared}个金额见于报表"
        if a and b:
            how += f"，标题同为{a[0]}{a[1]}年"
        out.append(Pair(n, t, how))
        used |= {n, t}
    return out
