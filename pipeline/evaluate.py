"""Evaluation against labelled gold findings: precision, recall and F1 per document and overall.

A label file (eval/labels/<name>.json) names the report (`source`, a file in the samples folder
or beside the labels) and lists its real problems; see eval/README.md for the format. A predicted
finding of severity error or warning matches a gold finding when the rule is the same (or listed
in the gold `rules`), one of its evidence pages is among the gold `pages`, and, when the gold
gives `stated`, the finding states the same value.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
    found_by: Literal["reading", "tool"] = Field(
        default="reading", description="How the problem was found: by reading the report, or "
        "first shown by the tool (then confirmed by reading).")
    revised: str = Field(default="", description="When the label was changed to agree with the "
                         "tool: what was changed and why.")


class GoldTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    title: str = ""
    code: str | None = None
    pages: list[int]


class LabelFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    family: str | None = Field(default=None, description="Template family (a city, a province); "
                               "by default the first word of the report's name.")
    holdout: bool = Field(default=False, description="Kept unread while the rules were changed: "
                          "scored apart, as the figure for templates the rules were not fitted to.")
    holdout_round: int = Field(default=1, description="Which set of held-out reports: each round "
                               "was labelled, and kept unread, after the rules tuned on the one "
                               "before; scored apart.")
    held_out: str = Field(default="", description="A report once held out and since used to "
                          "develop the rules: which round, and what it scored while unread.")
    pair: str | None = Field(default=None, description="The other half of a report published as "
                             "two files (narrative and tables).")
    labelled_by: str = ""
    report_type: str | None = None
    unit_note: str = ""
    tables: list[GoldTable] | None = Field(
        default=None, description="The standard tables the report contains, counted by hand.")
    tables_revised: str = Field(default="", description="What was corrected in `tables` after "
                                "labelling, and why.")
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
    family: str = ""
    holdout: bool = False
    holdout_round: int = 1
    not_understood: int = 0  # tables read but not understood
    unrecognised: int = 0  # tables whose kind is unknown
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
    """Labelled standard tables recognised with their kind on one of their pages. A labelled
    绩效 table (perf_target …) is no standard table and is not counted; one the reading did not
    take for a 绩效 table is still listed, so that it is seen."""
    seen = [(t.kind, set(t.pages)) for t in result.coverage.tables]
    perf = {p for t in result.coverage.perf_tables for p in t.pages}
    found, missed = 0, []
    for t in labels.tables or []:
        where = f"{t.kind} 第{','.join(map(str, t.pages))}页"
        if t.kind.startswith("perf"):
            if not perf & set(t.pages):
                missed.append(f"{where}（绩效表，不计入）")
        elif any(k == t.kind and pages & set(t.pages) for k, pages in seen):
            found += 1
        else:
            missed.append(where)
    return found, missed


def pairs(preds: list[Finding], gold: list[GoldFinding]) -> dict[int, int]:
    """One finding satisfies one label: a maximum matching of findings to labels (gold index →
    prediction index), so two labels are never both met by one finding."""
    edges = [[i for i, f in enumerate(preds) if matches(f, g)] for g in gold]
    owner: dict[int, int] = {}  # prediction → gold

    def augment(g: int, seen: set[int]) -> bool:
        for i in edges[g]:
            if i in seen:
                continue
            seen.add(i)
            if i not in owner or augment(owner[i], seen):
                owner[i] = g
                return True
        return False

    for g in range(len(gold)):
        augment(g, set())
    return {g: i for i, g in owner.items()}


def family_of(labels: LabelFile) -> str:
    """The template family: the label's own, else the report name's first word (the samples,
    named by number, are the Shanxi reports)."""
    first = re.split(r"[-_]", Path(labels.source).stem)[0]
    return labels.family or ("shanxi" if first.isdigit() else first)


def score(result: FileResult, labels: LabelFile) -> DocScore:
    preds = [f for f in result.findings if f.severity in ("error", "warning")]
    gold = labels.findings
    matched = pairs(preds, gold)
    matched_gold = [g for k, g in enumerate(gold) if k in matched]
    taken = set(matched.values())
    matched_pred = [preds[i] for i in sorted(taken)]
    extra = [f for i, f in enumerate(preds) if i not in taken]
    found, missed_tables = table_recall(result, labels)
    return DocScore(
        source=Path(labels.source).name,
        family=family_of(labels),
        holdout=labels.holdout, holdout_round=labels.holdout_round,
        not_understood=len(result.coverage.not_understood),
        unrecognised=len(result.coverage.unrecognised),
        tables_gold=None if labels.tables is None else sum(
            not t.kind.startswith("perf") for t in labels.tables),
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


ROOT = Path(__file__).resolve().parent.parent
CITY_CORPUS = ROOT.parent / "shared" / "corpus-cities"  # beside a checkout that has ../shared


def corpus_dirs() -> list[Path]:
    """Folders of reports that are not in the repository: the city corpus beside it (when the
    checkout has ../shared), or the folders named in BUDGET_LENS_CORPUS (os.pathsep-separated)."""
    named = [Path(p) for p in os.environ.get("BUDGET_LENS_CORPUS", "").split(os.pathsep) if p]
    return [*named, CITY_CORPUS]


def locate(labels_path: Path, source: str, samples: Path) -> Path | None:
    for candidate in (labels_path.parent / source, samples / source,
                      *(d / source for d in corpus_dirs())):
        if candidate.exists():
            return candidate
    return None


@dataclass
class Totals:
    """Scores over a group of documents (a template family, the unseen reports, all)."""

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
        return {"reports": len(self.docs), "precision": self.precision, "recall": self.recall,
                "f1": f1(self.precision, self.recall), "tables_recognised": self.table_recall,
                "tables_not_understood": sum(d.not_understood for d in self.docs),
                "tables_unrecognised": sum(d.unrecognised for d in self.docs),
                "false_errors": sum(d.false_errors for d in self.docs),
                "false_warnings": sum(d.false_warnings for d in self.docs),
                "gold": sum(d.gold for d in self.docs),
                "matched": sum(d.matched_gold for d in self.docs),
                "predicted": sum(d.predicted for d in self.docs)}

    def line(self, name: str) -> str:
        p, r = self.precision, self.recall
        tgold = sum(d.tables_gold or 0 for d in self.docs)
        tables = f"{sum(d.tables_found for d in self.docs)}/{tgold}" if tgold else ""
        return (f"{name:34} {len(self.docs):3d} {sum(d.gold for d in self.docs):4d} "
                f"{sum(d.predicted for d in self.docs):4d} {p:6.1%} {r:6.1%} {f1(p, r):6.1%} "
                f"{sum(d.false_errors for d in self.docs):3d} "
                f"{sum(d.false_warnings for d in self.docs):3d} {tables:>8} "
                f"{sum(d.not_understood for d in self.docs):4d}")


def unseen_mark(d: DocScore) -> str:
    if not d.holdout:
        return ""
    return " (unseen)" if d.holdout_round == 1 else f" (unseen {d.holdout_round})"


@dataclass
class Evaluation(Totals):
    skipped: list[str] = field(default_factory=list)  # labels whose report is not on this machine
    rules: list[str] = field(default_factory=list)  # every rule id, for the ones never fired

    def families(self) -> dict[str, Totals]:
        """Per template family, the reports kept unread while rules changed apart."""
        groups: dict[str, list[DocScore]] = {}
        for d in self.docs:
            groups.setdefault(d.family + unseen_mark(d), []).append(d)
        return {k: Totals(v) for k, v in sorted(groups.items())}

    def rounds(self) -> dict[int, list[DocScore]]:
        """The held-out reports by round (each round labelled after the rules of the one before)."""
        out: dict[int, list[DocScore]] = {}
        for d in self.docs:
            if d.holdout:
                out.setdefault(d.holdout_round, []).append(d)
        return dict(sorted(out.items()))

    def never_fired(self) -> list[str]:
        fired = {r for d in self.docs for r in d.rules}
        return [r for r in self.rules if r not in fired]

    def as_dict(self) -> dict:
        return {
            "overall": super().as_dict(),
            "unseen": Totals([d for d in self.docs if d.holdout]).as_dict(),
            "unseen_rounds": {n: Totals(v).as_dict() for n, v in self.rounds().items()},
            "families": {k: v.as_dict() for k, v in self.families().items()},
            "never_fired": self.never_fired(),
            "skipped": self.skipped,
            "documents": [
                {"source": d.source, "family": d.family, "holdout": d.holdout,
                 "holdout_round": d.holdout_round if d.holdout else None,
                 "precision": d.precision, "recall": d.recall,
                 "f1": f1(d.precision, d.recall), "gold": d.gold, "predicted": d.predicted,
                 "tables": None if d.tables_gold is None else
                 {"labelled": d.tables_gold, "recognised": d.tables_found,
                  "missed": d.tables_missed},
                 "tables_not_understood": d.not_understood,
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
                 f"{'FE':>3} {'FW':>3} {'tables':>7} {'NU':>3}"]
        for d in self.docs:
            tables = "" if d.tables_gold is None else f"{d.tables_found}/{d.tables_gold}"
            name = d.source + unseen_mark(d)
            lines.append(f"{name:46} {d.gold:4d} {d.predicted:4d} {d.precision:6.1%} "
                         f"{d.recall:6.1%} {f1(d.precision, d.recall):6.1%} "
                         f"{d.false_errors:3d} {d.false_warnings:3d} {tables:>7} "
                         f"{d.not_understood:3d}")
            for t in d.tables_missed:
                lines.append(f"    table not recognised: {t}")
            for g in d.missed:
                lines.append(f"    missed {g.id} {g.rule}: {g.note}")
            for f in d.extra:
                known = " (a reviewer marked it 误报)" if f in d.rejected_raised else ""
                lines.append(f"    extra  {f.rule}: {f.message}{known}")
        head = (f"{'family':34} {'n':>3} {'gold':>4} {'pred':>4} {'P':>6} {'R':>6} {'F1':>6} "
                f"{'FE':>3} {'FW':>3} {'tables':>8} {'NU':>4}")
        lines += ["", head]
        lines += [t.line(k) for k, t in self.families().items()]
        rounds = self.rounds()
        for n, docs in rounds.items():
            if len(rounds) > 1:
                lines.append(Totals(docs).line(f"UNSEEN round {n} (kept unread)"))
        unseen = [d for d in self.docs if d.holdout]
        if unseen:
            lines.append(Totals(unseen).line("UNSEEN (kept unread)"))
        lines.append(self.line("ALL"))
        lines.append("FE/FW: false errors/warnings; tables: standard tables recognised of those "
                     "counted by hand; NU: tables read but not understood; one finding meets one "
                     "label")
        rules = sum((d.rules for d in self.docs), Counter())
        lines.append("findings per rule: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
        if self.rules:
            lines.append("rules that never fired on these reports: " + (
                ", ".join(self.never_fired()) or "none"))
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} labelled reports whose PDF is not here "
                         "(the city corpus is read from ../shared/corpus-cities or "
                         "BUDGET_LENS_CORPUS)")
        return "\n".join(lines)


def evaluate(
    labels_dir: Path, samples: Path, checker: Callable[[Path], FileResult],
    select: Callable[[Path], bool] | None = None, rules: list[str] | None = None,
    skip_unseen: bool = False, pair_checker: Callable[[list[Path]], FileResult] | None = None,
) -> Evaluation:
    """Score every labelled report (or those `select` keeps, e.g. the ones with cassettes). A
    label of a report outside the repository (the city corpus) whose PDF is not on this machine
    is skipped and counted; a bundled report that is missing is an error. A report published as
    two files (`pair`) is checked as one with `pair_checker`, each label scored on its file."""
    docs, skipped = [], []
    together: dict[tuple[Path, ...], FileResult] = {}
    for path, labels in load_labels(labels_dir):
        if skip_unseen and labels.holdout:
            continue
        pdf = locate(path, labels.source, samples)
        if pdf is None:
            if labels.family is not None:
                skipped.append(labels.source)
                continue
            raise FileNotFoundError(f"{path}: report {labels.source} not found")
        if select is not None and not select(pdf):
            continue
        other = locate(path, labels.pair, samples) if labels.pair and pair_checker else None
        if other is None:
            docs.append(score(checker(pdf), labels))
            continue
        files = tuple(sorted((pdf, other), key=lambda p: p.name))  # one report, its two files
        if files not in together:
            together[files] = pair_checker(list(files))  # type: ignore[misc]
        docs.append(score(part_of(together[files], pdf.name), labels))
    return Evaluation(docs, skipped=skipped, rules=rules or [])


def part_of(result: FileResult, name: str) -> FileResult:
    """What a report checked from several files says about one of them: the findings with
    evidence in that file (that evidence only) and the tables printed there."""
    def mine(file: str | None) -> bool:
        return file is None or Path(file).name == name

    findings = []
    for f in result.findings:
        ev = [e for e in f.evidence if mine(e.file)]
        if ev:
            findings.append(f.model_copy(update={"evidence": ev}))
    c = result.coverage
    coverage = c.model_copy(update={
        "tables": [t for t in c.tables if mine(t.file)],
        "unrecognised": [t for t in c.unrecognised if mine(t.file)],
        "not_understood": [t for t in c.not_understood if mine(t.file)]})
    return result.model_copy(update={"findings": findings, "coverage": coverage})
