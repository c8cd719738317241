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

from pydantic import BaseModel, ConfigDict, Field

from schemas.findings import FileResult, Finding


class GoldFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    rule: str
    rules: list[str] = Field(default_factory=list, description="Other rule ids that also count.")
    severity: str = "error"
    pages: list[int]
    stated: float | None = None
    note: str = ""


class LabelFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    labelled_by: str = ""
    findings: list[GoldFinding]


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


def score(result: FileResult, labels: LabelFile) -> DocScore:
    preds = [f for f in result.findings if f.severity in ("error", "warning")]
    gold = labels.findings
    matched_gold = [g for g in gold if any(matches(f, g) for f in preds)]
    matched_pred = [f for f in preds if any(matches(f, g) for g in gold)]
    return DocScore(
        source=labels.source,
        gold=len(gold),
        predicted=len(preds),
        matched_gold=len(matched_gold),
        matched_pred=len(matched_pred),
        missed=[g for g in gold if g not in matched_gold],
        extra=[f for f in preds if f not in matched_pred],
        rules=Counter(f.rule for f in preds),
        rounding_errors=[f for f in result.findings if f.severity == "error"
                         and f.stated is not None and f.expected is not None
                         and abs(f.stated - f.expected) <= 0.011],
    )


def load_labels(folder: Path) -> list[tuple[Path, LabelFile]]:
    out = []
    for path in sorted(folder.glob("*.json")):
        out.append((path, LabelFile.model_validate(json.loads(path.read_text(encoding="utf-8")))))
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

    def as_dict(self) -> dict:
        return {
            "overall": {"precision": self.precision, "recall": self.recall,
                        "f1": f1(self.precision, self.recall),
                        "gold": sum(d.gold for d in self.docs),
                        "predicted": sum(d.predicted for d in self.docs)},
            "documents": [
                {"source": d.source, "precision": d.precision, "recall": d.recall,
                 "f1": f1(d.precision, d.recall), "gold": d.gold, "predicted": d.predicted,
                 "missed": [g.id for g in d.missed],
                 "extra": [f"{f.rule}: {f.message}" for f in d.extra],
                 "rules": dict(d.rules)}
                for d in self.docs
            ],
        }

    def as_text(self) -> str:
        lines = [f"{'document':34} {'gold':>4} {'pred':>4} {'P':>6} {'R':>6} {'F1':>6}"]
        for d in self.docs:
            lines.append(f"{d.source:34} {d.gold:4d} {d.predicted:4d} {d.precision:6.1%} "
                         f"{d.recall:6.1%} {f1(d.precision, d.recall):6.1%}")
            for g in d.missed:
                lines.append(f"    missed {g.id} {g.rule}: {g.note}")
            for f in d.extra:
                lines.append(f"    extra  {f.rule}: {f.message}")
        p, r = self.precision, self.recall
        lines.append(f"{'ALL':34} {sum(d.gold for d in self.docs):4d} "
                     f"{sum(d.predicted for d in self.docs):4d} {p:6.1%} {r:6.1%} {f1(p, r):6.1%}")
        rules = sum((d.rules for d in self.docs), Counter())
        lines.append("findings per rule: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
        return "\n".join(lines)


def evaluate(
    labels_dir: Path, samples: Path, checker: Callable[[Path], FileResult]
) -> Evaluation:
    docs = []
    for path, labels in load_labels(labels_dir):
        pdf = locate(path, labels.source, samples)
        if pdf is None:
            raise FileNotFoundError(f"{path}: report {labels.source} not found")
        docs.append(score(checker(pdf), labels))
    return Evaluation(docs)
