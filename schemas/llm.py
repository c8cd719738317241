"""What the LLM is asked to return. The field descriptions are the instructions it reads; every
string and list is bounded, so a server that honours the schema as a grammar cannot run away (and
the request's max_tokens is sized from these bounds: pipeline.llm.token_budget)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeviationCategory = Literal[
    "资金未到位", "实施进度滞后", "政策或计划调整", "人员变动", "指标设置不合理", "厉行节约", "其他"
]
CATEGORIES: tuple[str, ...] = DeviationCategory.__args__  # type: ignore[attr-defined]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(_Model):
    text: str = Field(max_length=80, description="原因的简短表述，照抄原文中的关键词，不超过40字。")
    amount: float | None = Field(
        default=None, description="原因中给出的金额（如“人员经费增加9.44万元”中的9.44），没有则为null。"
    )
    direction: Literal["增加", "减少"] | None = Field(
        default=None, description="该原因使金额增加还是减少，原文未说明则为null。"
    )


class NarrativeClaim(_Model):
    subject: str = Field(max_length=80, description="数字说的是什么，如“一般公共服务支出”“收入总计”“三公经费”。")
    metric: str = Field(
        max_length=20, description="口径，如“决算”“年初预算”“全年预算”“合计”“总计”“占比”“增长率”“完成率”“个数”。"
    )
    value: float = Field(description="原文中的数值，按原文抄写（百分数写5.62而不是0.0562）。")
    unit: str = Field(max_length=10, description="单位：万元、元、%、个、辆、人次等，照抄原文。")
    period: Literal["本年", "上年", "年初", "年末"] = Field(
        default="本年", description="数值所属的时期，默认本年。"
    )
    change: float | None = Field(
        default=None, description="同一句给出的较上年增减额（正数），没有则为null。"
    )
    direction: Literal["增加", "减少", "持平"] | None = Field(
        default=None, description="较上年的增减方向，没有则为null。"
    )
    percentage: float | None = Field(
        default=None, description="同一句给出的增长率、占比或完成率（百分数），没有则为null。"
    )
    reasons: list[Reason] = Field(
        default_factory=list, max_length=8, description="原文给出的变动原因，逐条列出；没有则为空列表。"
    )
    quote: str = Field(max_length=400, description="包含该数值的原文片段，必须逐字照抄，不超过120字。")


class SectionClaims(_Model):
    """情况说明一个片段中的全部数字陈述。"""

    claims: list[NarrativeClaim] = Field(
        default_factory=list, max_length=60, description="片段中每一个金额、增减、百分比、个数陈述各一条。"
    )


class IndicatorReason(_Model):
    indicator: str = Field(
        max_length=120, description="指标名称（三级指标）；若是项目整体的预算执行偏差，写“预算执行率”。"
    )
    target: str = Field(default="", max_length=120, description="年度指标值或调整后指标值，照抄原文。")
    actual: str = Field(default="", max_length=120, description="实际完成值，照抄原文。")
    deviation_reason: str = Field(
        default="", max_length=400, description="偏差原因，照抄原文关键句；原文写“无”或未写则为空字符串。"
    )
    category: DeviationCategory | None = Field(
        default=None, description="偏差原因所属类别；没有偏差原因时为null。"
    )
    improvement: str = Field(default="", max_length=400, description="改进措施，照抄原文；没有则为空字符串。")
    quote: str = Field(max_length=400, description="偏差原因或指标所在的原文片段，必须逐字照抄，不超过120字。")


class ProjectReasons(_Model):
    """一个项目绩效自评中的偏差原因与改进措施。"""

    items: list[IndicatorReason] = Field(
        default_factory=list, max_length=40,
        description="预算执行率以及每个未达到目标值或未得满分的指标各一条。",
    )


class Citation(_Model):
    source: str = Field(max_length=10, description="所引片段的编号，如 S1。")
    quote: str = Field(max_length=200, description="从该片段逐字摘出的支持回答的原文，不超过80字。")


class AskAnswer(_Model):
    """对一个问题的回答，附引用。"""

    answer: str = Field(max_length=300, description="一句话的中文回答，含数值与单位。")
    value: float | None = Field(default=None, description="回答中的数值，按原文抄写；没有则为null。")
    unit: str | None = Field(default=None, max_length=10, description="数值的单位，如万元、%、个；没有则为null。")
    citations: list[Citation] = Field(default_factory=list, max_length=8,
                                      description="支持回答的原文引用。")
