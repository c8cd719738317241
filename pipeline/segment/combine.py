"""A report published as several files (the 情况说明 in one PDF, the 报表 in another) read as one
document: the parts' pages run on in order, so every later stage sees one report, and the pages
are given back to their files when the findings are written (pipeline.run)."""

from __future__ import annotations

from schemas.document import Block, DocPart, Document, Section, Table, TocEntry


def combine(docs: list[Document]) -> Document:
    """The documents of one report's files, in the order given, as one Document."""
    if len(docs) == 1:
        return docs[0]
    parts: list[DocPart] = []
    tables: list[Table] = []
    sections: list[Section] = []
    toc: list[TocEntry] = []
    offset = 0
    for doc in docs:
        parts.append(DocPart(source=doc.source, first_page=offset + 1, pages=doc.page_count))
        for t in doc.tables:
            tables.append(_shift_table(t, offset, len(tables) + 1))
        sections += [_shift_section(s, offset) for s in doc.sections]
        toc += [e.model_copy(update={"page": e.page + offset if e.page else e.page})
                for e in doc.toc]
        offset += doc.page_count
    kinds = [d.report_type for d in docs if d.report_type != "unknown"]
    return Document(
        source=" + ".join(d.source for d in docs), parts=parts, page_count=offset,
        title=next((d.title for d in docs if d.title), ""),
        report_type=kinds[0] if kinds else "unknown",  # type: ignore[arg-type]
        toc=toc, tables=tables, sections=sections)


def _shift_table(t: Table, offset: int, index: int) -> Table:
    rows = [r.model_copy(update={
        "page": r.page + offset,
        "cells": [c.model_copy(update={"page": c.page + offset}) for c in r.cells]}) for r in t.rows]
    return t.model_copy(update={"id": f"t{index:02d}", "pages": [p + offset for p in t.pages],
                                "rows": rows})


def _shift_section(s: Section, offset: int) -> Section:
    return s.model_copy(update={
        "pages": [p + offset for p in s.pages],
        "blocks": [Block(text=b.text, page=b.page + offset, bbox=b.bbox,
                                  breaks=[(o, p + offset) for o, p in b.breaks]) for b in s.blocks]})


def local_page(doc: Document, page: int) -> tuple[str | None, int]:
    """(file, page in that file) of a page of the combined report; (None, page) for one file."""
    for part in reversed(doc.parts):
        if page >= part.first_page:
            return part.source, page - part.first_page + 1
    return None, page
