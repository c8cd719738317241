"""Claims: what the narrative and the 绩效 material state, as typed records with provenance."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.llm import IndicatorReason, NarrativeClaim

BBox = tuple[float, float, float, float]

ClaimKind = Literal["amount", "change", "growth", "share", "completion", "count", "rate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Claim(_Model):
    """One figure the narrative states, with the words that say what it is."""

    kind: ClaimKind = Field(
        description="amount: a sum of money; change: an increase/decrease in money; growth: a "
        "growth rate in %; share: a share of a total in %; completion: 决算 against 预算 in %; "
        "count: a number of things (个, 辆, 人次 …); rate: another percentage (执行率 …)."
    )
    subject: str = Field(description="What the figure is about, as worded just before it.")
    value: float = Field(description="The figure as printed (a percentage as 5.62, not 0.0562).")
    decimals: int = Field(default=2, description="Decimal places as printed.")
    unit: str = Field(description="万元, 元, %, or the counting word (个, 辆, 人次 …).")
    direction: Literal["up", "down"] | None = Field(
        default=None, description="For change and growth: up (增加/增长) or down (减少/下降)."
    )
    text: str = Field(description="The figure with its unit exactly as printed, e.g. 2,376.78万元.")
    start: int = Field(description="Offset of the figure in its sentence.")


class Sentence(_Model):
    """A sentence of the narrative with the claims it makes and the reasons it gives."""

    text: str
    section: str = Field(description="Section path joined with ' > '.")
    part: str = Field(default="", description="The 第N部分 the sentence is in.")
    page: int
    bbox: BBox
    paragraph: int = Field(description="Index of the paragraph in the document.")
    breaks: list[tuple[int, int]] = Field(
        default_factory=list, description="(offset, page) where the sentence goes on to a page.")
    claims: list[Claim] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="Stated reasons (主要原因是…).")

    def page_at(self, offset: int) -> int:
        """The page the sentence's character at `offset` is printed on."""
        return next((p for o, p in reversed(self.breaks) if o <= offset), self.page)


class Indicator(_Model):
    level1: str = ""
    level2: str = ""
    name: str
    target: str = ""
    actual: str = ""
    weight: float | None = None
    score: float | None = None
    reason: str = ""
    page: int
    bbox: BBox


class SourceRow(_Model):
    """A funding-source row under the 资金总额 row (省级财政资金, 其他资金 …)."""

    label: str
    values: dict[str, float] = Field(description="budget_full, actual, balance, rate, rate_score")
    page: int
    bbox: BBox


class PerfProject(_Model):
    """One project's 绩效 self-evaluation: execution, indicators, score and grade."""

    name: str
    unit: str = Field(description="Unit of the money figures: 元 or 万元.")
    tables: list[str] = Field(default_factory=list, description="Ids of the source tables.")
    pages: list[int] = Field(default_factory=list)
    budget_initial: float | None = None
    budget_full: float | None = None
    actual: float | None = None
    balance: float | None = None
    rate: float | None = Field(default=None, description="执行率 in %.")
    rate_score: float | None = None
    rate_weight: float | None = Field(default=None, description="分值 of the 执行率 score, where "
                                      "the form prints it (10 in most templates).")
    total_score: float | None = None
    grade: str | None = None
    deviation_reason: str = ""
    has_execution_table: bool = True
    unread: str = Field(default="", description="Why the execution rows were read but not "
                        "understood (their own arithmetic confirmed no reading); their figures "
                        "are then left out.")
    sources: list[SourceRow] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    decimals: dict[str, int] = Field(default_factory=dict, description="Printed precision.")
    cells: dict[str, tuple[int, BBox, str]] = Field(
        default_factory=dict, description="Where each figure stands: page, bbox, printed text."
    )
    texts: list[Sentence] = Field(
        default_factory=list, description="Analysis sentences of this project."
    )
    score_sentence: Sentence | None = None


class PerfTarget(_Model):
    """A project's budget beside its 绩效目标 text: a 绩效目标表 (项目名称, 年度预算资金总额,
    总体目标…), or a row of a project table that prints the project's amount and its target."""

    name: str
    table: str = Field(description="Id of the source table.")
    page: int
    bbox: BBox = Field(description="Where the budget amount is printed.")
    budget: float = Field(description="The project's budget in 万元.")
    budget_text: str = Field(description="The budget as printed.")
    half_unit: float = Field(description="Half a unit of the budget's last printed digit, in 万元.")
    texts: list[Sentence] = Field(default_factory=list, description="The target text's sentences.")


class PerfSummary(_Model):
    """The department's 绩效 summary in 情况说明: project count, money, grade counts."""

    sentence: Sentence
    count: int | None = None
    amount: float | None = None
    amount_text: str = ""
    grades: dict[str, int] = Field(default_factory=dict)


class LLMNarrative(_Model):
    """A claim the LLM extracted, kept only when its numbers and quote are in the source."""

    claim: NarrativeClaim
    section: str
    page: int
    bbox: BBox
    chunk: str = Field(description="Id of the chunk it came from.")


class LLMOutput(_Model):
    narrative: list[LLMNarrative] = Field(default_factory=list)
    reasons: dict[str, list[IndicatorReason]] = Field(
        default_factory=dict, description="Per project name, the deviation reasons found."
    )
    warnings: list[str] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)


class Claims(_Model):
    sentences: list[Sentence] = Field(default_factory=list)
    projects: list[PerfProject] = Field(default_factory=list)
    targets: list[PerfTarget] = Field(default_factory=list)
    summary: PerfSummary | None = None
    llm: LLMOutput | None = Field(default=None, description="What the LLM added, if it ran.")
