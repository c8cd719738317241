"""The document model: what segmentation makes of a PDF report.

Every value keeps its page (1-based) and bbox (x0, y0, x1, y1 in PDF points) so that any later
stage can cite it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BBox = tuple[float, float, float, float]

CellRole = Literal["header", "label", "code", "line_no", "amount", "text", "empty"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cell(_Model):
    text: str = Field(description="The cell text as printed, wrapped lines joined.")
    value: float | None = Field(
        default=None, description="The parsed number when the cell is a number, else null."
    )
    decimals: int | None = Field(
        default=None, description="Decimal places as printed (the precision of the value)."
    )
    percent: bool = Field(default=False, description="True when the number carries a % sign.")
    role: CellRole = Field(default="text", description="What the cell is for in its table.")
    page: int = Field(description="1-based page number.")
    bbox: BBox = Field(description="Cell box on its page, PDF points.")


class Row(_Model):
    cells: list[Cell]
    page: int
    bbox: BBox
    header: bool = Field(default=False, description="True for a header or column-number row.")

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]


class Table(_Model):
    id: str = Field(description="Stable id within the document, e.g. t03.")
    code: str | None = Field(default=None, description="Printed code, e.g. 公开01表, 预算公开表3.")
    kind: str = Field(description="Canonical kind from the table catalogue, or 'unknown'.")
    title: str = Field(default="", description="Printed title, lines joined.")
    unit: str | None = Field(default=None, description="Amount unit: 元 or 万元.")
    pages: list[int]
    header_rows: int = Field(default=0, description="How many leading rows are headers.")
    columns: list[str] = Field(
        default_factory=list, description="Per column, its header text (header rows joined)."
    )
    notes: list[str] = Field(default_factory=list, description="注/说明 lines under the table.")
    empty_statement: bool = Field(
        default=False, description="True when the table says it has no data (本表无数据)."
    )
    caption: list[str] = Field(default_factory=list, description="Lines printed above the table.")
    rows: list[Row]

    def data_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.header]


class Block(_Model):
    text: str
    page: int
    bbox: BBox
    breaks: list[tuple[int, int]] = Field(
        default_factory=list, description="Where a paragraph cut by a page break goes on: "
        "(offset in text, page) for each later page.")


class Section(_Model):
    title: str = Field(description="The heading as printed.")
    path: list[str] = Field(description="Headings from the part down to this section.")
    level: int = Field(description="0 part, 1 一、, 2 （一）, 3 1、, 4 (1).")
    pages: list[int]
    text: str = Field(description="Body text of this section, without sub-sections.")
    blocks: list[Block] = Field(default_factory=list)


class TocEntry(_Model):
    title: str
    page_ref: int | None = None
    page: int | None = Field(default=None, description="The page the 目录 line is printed on.")


class DocPart(_Model):
    """One file of a report published as several (情况说明 and 报表 apart)."""

    source: str = Field(description="File name of the part.")
    first_page: int = Field(description="Its first page in the combined report (1-based).")
    pages: int


class Document(_Model):
    source: str = Field(description="File name of the report.")
    parts: list[DocPart] = Field(
        default_factory=list, description="For a report read from several files: the files, in "
        "order; page numbers run on across them (file 2 page 1 follows file 1's last page).")
    page_count: int
    title: str = Field(default="", description="Report title from the first page.")
    report_type: Literal["final_accounts", "budget", "unknown"] = "unknown"
    toc: list[TocEntry] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    def tables_of(self, kind: str) -> list[Table]:
        return [t for t in self.tables if t.kind == kind]

    def table(self, kind: str) -> Table | None:
        found = self.tables_of(kind)
        return found[0] if found else None
