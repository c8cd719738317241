"""Evaluation against labelled gold findings: precision, recall and F1 per document and overall.

A label file (eval/labels/<name>.json) names the report (`source`, a file in the samples folder
or beside the labels) and lists its real problems; see eval/README.md for the format. A predicted
finding of severity error or warning matches a gold finding when the rule is the same (or listed
in the gold `rules`), one of its evidence pages is among the gold `pages`, and, when the gold
gives `stated`, the finding states the same value.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.findings import FileResult, Finding


class LabelError(Exception):
    """A label file that cannot be read."""


class GoldFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    rule: str
    rules: list[str] = Field(default_factory=list, description="Other rule ids that also count.")
    severity: str = "error"
    pages: list[int]
    stated: float | None = None
    note: str = ""


class GoldTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    title: str = ""
    code: str | None = None
    pages: list[int]


class LabelFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    labelled_by: str = ""
    report_type: str | None = None
    unit_note: str = ""
    tables: list[GoldTable] | None = Field(
        default=None, description="The standard tables the report contains, counted by hand.")
    findings: list[GoldFinding]
    not_scored: list[dict] = Field(default_factory=list)
    rejected: list[dict] = Field(
        default_factory=list, description="Findings a reviewer marked as false alarms (误报): not "
        "problems of the report; eval counts how many are still raised.")


@dataclass
class DocScore:
    source: str
    gold: int
    predicted: int
    matched_gold: int
    matched_pred: int
    missed: list[GoldFinding] = field(default_factory=list)
    extra: list[Finding] = field(default_factory=list)
    rules: Counter = field(default_factory=Counter)
    rounding_errors: list[Finding] = field(default_factory=list)
    tables_gold: int | None = None  # None: the label does not count tables
    tables_found: int = 0
    tables_missed: list[str] = field(default_factory=list)
    false_errors: int = 0
    false_warnings: int = 0
    rejected_raised: list[Finding] = field(default_factory=list)  # reviewers' 误报, still raised

    @property
    def precision(self) -> float:
        return self.matched_pred / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched_gold / self.gold if self.gold else 1.0


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def matches(f: Finding, g: GoldFinding) -> bool:
    if f.rule != g.rule and f.rule not in g.rules:
        return False
    if not any(e.page in g.pages for e in f.evidence):
        return False
    return g.stated is None or (f.stated is not None and abs(f.stated - g.stated) < 1e-6)


def _rejected(f: Finding, r: dict) -> bool:
    gold = GoldFinding(id="rejected", rule=r.get("rule", ""), pages=r.get("pages", []),
                       stated=r.get("stated"))
    return matches(f, gold)


def table_recall(result: FileResult, labels: LabelFile) -> tuple[int, list[str]]:
    """Labelled tables recognised with their kind on one of their pages."""
    seen = [(t.kind, set(t.pages)) for t in result.coverage.tables]
    found, missed = 0, []
    for t in labels.tables or []:
        if any(k == t.kind and pages & set(t.pages) for k, pages in seen):
            found += 1
        else:
            missed.append(f"{t.kind} 第{','.join(map(str, t.pages))}页")
    return found, missed


def score(result: FileResult, labels: LabelFile) -> DocScore:
    preds = [f for f in result.findings if f.severity in ("error", "warning")]
    gold = labels.findings
    matched_gold = [g for g in gold if any(matches(f, g) for f in preds)]
    matched_pred = [f for f in preds if any(matches(f, g) for g in gold)]
    extra = [f for f in preds if f not in matched_pred]
    found, missed_tables = table_recall(result, labels)
    return DocScore(
        source=Path(labels.source).name,
        tables_gold=None if labels.tables is None else len(labels.tables),
        tables_found=found,
        tables_missed=missed_tables,
        false_errors=sum(f.severity == "error" for f in extra),
        false_warnings=sum(f.severity == "warning" for f in extra),
        rejected_raised=[f for f in extra if any(_rejected(f, r) for r in labels.rejected)],
        gold=len(gold),
        predicted=len(preds),
        matched_gold=len(matched_gold),
        matched_pred=len(matched_pred),
        missed=[g for g in gold if g not in matched_gold],
        extra=extra,
        rules=Counter(f.rule for f in preds),
        rounding_errors=[f for f in result.findings if f.severity == "error"
                         and f.stated is not None and f.expected is not None
                         and abs(f.stated - f.expected) <= 0.011],
    )


def load_labels(folder: Path) -> list[tuple[Path, LabelFile]]:
    out = []
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            out.append((path, LabelFile.model_validate(data)))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()
            raise LabelError(f"{path}: not a valid label file ({' '.join(first[:3])})") from None
    return out


def locate(labels_path: Path, source: str, samples: Path) -> Path | None:
    for candidate in (labels_path.parent / source, samples / source):
        if candidate.exists():
            return candidate
    return None


@dataclass
class Evaluation:
    docs: list[DocScore]

    @property
    def precision(self) -> float:
        pred = sum(d.predicted for d in self.docs)
        return sum(d.matched_pred for d in self.docs) / pred if pred else 1.0

    @property
    def recall(self) -> float:
        gold = sum(d.gold for d in self.docs)
        return sum(d.matched_gold for d in self.docs) / gold if gold else 1.0

    @property
    def table_recall(self) -> float | None:
        gold = sum(d.tables_gold or 0 for d in self.docs)
        return sum(d.tables_found for d in self.docs) / gold if gold else None

    def as_dict(self) -> dict:
        return {
            "overall": {"precision": self.precision, "recall": self.recall,
                        "f1": f1(self.precision, self.recall),
                        "tables_recognised": self.table_recall,
                        "false_errors": sum(d.false_errors for d in self.docs),
                        "false_warnings": sum(d.false_warnings for d in self.docs),
                        "gold": sum(d.gold for d in self.docs),
                        "predicted": sum(d.predicted for d in self.docs)},
            "documents": [
                {"source": d.source, "precision": d.precision, "recall": d.recall,
                 "f1": f1(d.precision, d.recall), "gold": d.gold, "predicted": d.predicted,
                 "tables": None if d.tables_gold is None else
                 {"labelled": d.tables_gold, "recognised": d.tables_found,
                  "missed": d.tables_missed},
                 "false_errors": d.false_errors, "false_warnings": d.false_warnings,
                 "missed": [g.id for g in d.missed],
                 "rejected_raised": [f"{f.rule}: {f.message}" for f in d.rejected_raised],
                 "extra": [f"{f.rule}: {f.message}" for f in d.extra],
                 "rules": dict(d.rules)}
                for d in self.docs
            ],
        }

    def as_text(self) -> str:
        lines = [f"{'document':46} {'gold':>4} {'pred':>4} {'P':>6} {'R':>6} {'F1':>6} "
                 f"{'FE':>3} {'FW':>3} {'tables':>7}"]
        for d in self.docs:
            tables = "" if d.tables_gold is None else f"{d.tables_found}/{d.tables_gold}"
            lines.append(f"{d.source:46} {d.gold:4d} {d.predicted:4d} {d.precision:6.1%} "
                         f"{d.recall:6.1%} {f1(d.precision, d.recall):6.1%} "
                         f"{d.false_errors:3d} {d.false_warnings:3d} {tables:>7}")
            for t in d.tables_missed:
                lines.append(f"    table not recognised: {t}")
            for g in d.missed:
                lines.append(f"    missed {g.id} {g.rule}: {g.note}")
            for f in d.extra:
                known = " (a reviewer marked it 误报)" if f in d.rejected_raised else ""
                lines.append(f"    extra  {f.rule}: {f.message}{known}")
        p, r = self.precision, self.recall
        fe, fw = sum(d.false_errors for d in self.docs), sum(d.false_warnings for d in self.docs)
        tr = self.table_recall
        tgold = sum(d.tables_gold or 0 for d in self.docs)
        tables = f"{sum(d.tables_found for d in self.docs)}/{tgold}" if tgold else ""
        lines.append(f"{'ALL':46} {sum(d.gold for d in self.docs):4d} "
                     f"{sum(d.predicted for d in self.docs):4d} {p:6.1%} {r:6.1%} {f1(p, r):6.1%} "
                     f"{fe:3d} {fw:3d} {tables:>7}")
        if tr is not None:
            lines.append(f"standard tables recognised: {tr:.1%}; FE/FW: false errors/warnings")
        rules = sum((d.rules for d in self.docs), Counter())
        lines.append("findings per rule: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
        return "\n".join(lines)


def evaluate(
    labels_dir: Path, samples: Path, checker: Callable[[Path], FileResult],
    select: Callable[[Path], bool] | None = None,
) -> Evaluation:
    """Score every labelled report (or those `select` keeps, e.g. the ones with cassettes)."""
    docs = []
    for path, labels in load_labels(labels_dir):
        pdf = locate(path, labels.source, samples)
        if pdf is None:
            raise FileNotFoundError(f"{path}: report {labels.source} not found")
        if select is None or select(pdf):
            docs.append(score(checker(pdf), labels))
    return Evaluation(docs)
