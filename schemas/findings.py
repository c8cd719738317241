"""Findings: what the checker reports, with evidence for each side."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

BBox = tuple[float, float, float, float]
Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    page: int = Field(description="1-based page number (in `file`, when given).")
    file: str | None = Field(default=None, description="For a report checked from several files: "
                             "the file this page is in.")
    source: Literal["narrative", "table"]
    text: str = Field(description="The quote, or the table row label and column.")
    table: str | None = Field(default=None, description="Table code or title.")
    bbox: BBox | None = None
    value: str | None = Field(default=None, description="The figure as printed, if any.")


class Finding(_Model):
    rule: str
    severity: Severity
    message: str = Field(description="One Chinese sentence a reviewer can act on.")
    stated: float | None = None
    expected: float | None = None
    unit: str | None = None
    section: str = Field(default="", description="Where in the report: a section or table.")
    evidence: list[Evidence] = Field(default_factory=list)

    def key(self) -> tuple[object, ...]:
        return (self.rule, self.stated, self.expected,
                tuple((e.page, e.table, e.text if e.source == "table" else "") for e in self.evidence))

    def digest(self) -> str:
        """A short stable id of the finding: the same problem gets the same id when the report is
        checked again, so a reviewer's verdict stays with it."""
        raw = json.dumps(self.key(), ensure_ascii=False, default=str)
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


class Summary(_Model):
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    tables: int = 0
    sections: int = 0
    claims: int = 0
    projects: int = 0


class TableSeen(_Model):
    id: str
    file: str | None = Field(default=None, description="Its file, for a report of several files.")
    kind: str = Field(description="Catalogue kind, or 'unknown'.")
    name: str = Field(description="Canonical name of the kind, or the printed title.")
    pages: list[int]
    facts: int = Field(default=0, description="How many facts the table gave.")


class TableUnread(_Model):
    """A table read but not understood: its own arithmetic did not confirm any reading of it, so
    no identity is checked in it and none of its figures is reported as wrong."""

    id: str
    kind: str
    name: str
    pages: list[int]
    file: str | None = None
    reason: str = Field(description="Why, in Chinese: which identity failed on how many rows.")


class Coverage(_Model):
    """What was checked and what could not be: a report without findings is only as good as this."""

    # facts per table as the checks read them (not serialised): the coverage counts them once
    _facts_per_table: dict[str, int] | None = PrivateAttr(default=None)

    tables: list[TableSeen] = Field(default_factory=list, description="Tables recognised by kind.")
    perf_tables: list[TableSeen] = Field(default_factory=list, description="绩效 tables read "
                                         "(目标表, 自评表 …): no standard tables, listed apart.")
    unrecognised: list[TableSeen] = Field(
        default_factory=list, description="Tables whose kind is unknown (their facts still count)."
    )
    not_understood: list[TableUnread] = Field(
        default_factory=list, description="Tables read but not understood (never findings).")
    withheld: list[str] = Field(
        default_factory=list, description="Rules whose findings in this report were too many to "
        "be believed (a misreading, not the report), with how many were withheld.")
    facts: int = 0
    figures: int = Field(default=0, description="Narrative amounts that name a table subject.")
    figures_matched: int = Field(default=0, description="Of those, found among the facts.")
    figures_unmatched: list[str] = Field(
        default_factory=list, description="Narrative amounts whose subject has no fact (quotes)."
    )
    not_applicable: list[str] = Field(
        default_factory=list, description="Rule groups that could not run, with the reason."
    )
    warnings: list[str] = Field(
        default_factory=list, description="What makes the result weak (no table recognised …)."
    )


class FileResult(_Model):
    source: str
    parts: list[str] = Field(default_factory=list, description="For a report checked from "
                             "several files: the files (evidence names its file).")
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    paired: str | None = Field(default=None, description="For a report whose files were paired "
                               "in a folder: how they were found to be one report.")
    part_of: str | None = Field(default=None, description="A file checked as a part of another "
                                "file's report (its findings are that report's).")
    report_type: str = "unknown"
    title: str = ""
    pages: int = 0
    findings: list[Finding] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    coverage: Coverage = Field(default_factory=Coverage)
    llm: list[str] = Field(
        default_factory=list,
        description="With --llm: chunks that fell back to the rule-based claims and claims "
        "dropped as ungrounded, each with its reason.")
