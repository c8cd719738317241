"""Facts: every table figure in one vocabulary, whatever the layout that printed it.

A fact says: in this table (kind), for this subject (a normalised subject code and name, or a row
label), this measure (a canonical column such as 合计, 基本支出, 财政拨款, 上年结转), in this
period, the value is V 万元 give or take its rounding half-unit. Checks read facts, never cells.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BBox = tuple[float, float, float, float]


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="Id of the source table, e.g. t03.")
    kind: str = Field(description="Canonical table kind (catalogue id) or 'unknown'.")
    code: str | None = Field(
        default=None,
        description="Subject code with 类/款/项 columns joined (2010301), or an economic code "
        "(30101); null for rows without a code.",
    )
    subject: str = Field(description="Row label, normalised: no spaces, numbering or （类）.")
    label: str = Field(default="", description="Row label as printed, compared as words (no "
                       "spaces, half-width brackets), its numbering (一、 1.) kept.")
    measure: str = Field(description="Canonical measure (合计, 基本支出, 财政拨款 …) or the header.")
    header: str = Field(description="The printed header path of the column, parts joined by '/'.")
    sub_item: bool = Field(default=False, description="A 其中 column: part of its parent.")
    side: Literal["income", "expense", ""] = Field(
        default="", description="For two-sided tables (收支总表): the income or the spending side."
    )
    panel: int = Field(default=0, description="Which label/value group of the row (0 = first).")
    period: Literal["current", "prior", "change"] = "current"  # change: a 增减 column
    value: float = Field(description="Value in 万元 (0 for a blank cell).")
    half_unit: float = Field(description="Rounding half-unit of the printed figure, in 万元.")
    decimals: int | None = Field(default=None, description="Decimals as printed; null when blank.")
    blank: bool = Field(default=False, description="The cell was printed blank or as a dash.")
    unit: str = Field(description="The table's printed unit (元 or 万元).")
    text: str = Field(description="The cell as printed.")
    page: int
    bbox: BBox
    row: int = Field(description="Index of the row in its table.")
    column: int = Field(description="Index of the column in its table.")

    @property
    def level(self) -> int | None:
        """1 类, 2 款, 3 项 for functional codes (3/5/7 digits); economic codes 3/5 likewise."""
        return {3: 1, 5: 2, 7: 3}.get(len(self.code)) if self.code else None
