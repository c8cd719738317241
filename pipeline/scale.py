"""A measure that needs no labels: every PDF of a folder checked, and what a reviewer would meet.

A published report rarely holds more than one or two real contradictions, so many error findings
per report are evidence of misreading, whatever the labels say. Printed: error findings per report
(mean, 90th percentile, worst three), reports where no standard table was recognised although
tables were read, tables read but not understood, failures and seconds per report.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

FIGURES = 5  # a table printing fewer amounts is a list (units, staff), not a budget table


@dataclass
class ReportScale:
    name: str
    status: str
    errors: int = 0
    warnings: int = 0
    tables: int = 0  # standard tables recognised
    read: int = 0  # tables read that print figures (any kind)
    not_understood: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""


def _one(path: str) -> ReportScale:
    from pipeline.run import check_file

    start = time.perf_counter()
    run = check_file(Path(path))
    r = run.result
    spent = time.perf_counter() - start
    if r.status == "failed":
        return ReportScale(Path(path).name, "failed", seconds=spent, error=r.error or "")
    c = r.coverage
    return ReportScale(
        Path(path).name, "ok", errors=r.summary.errors, warnings=r.summary.warnings,
        tables=len(c.tables),
        read=len(c.tables) + sum(t.facts >= FIGURES for t in c.unrecognised),
        not_understood=[f"{t.name}（第{t.pages[0]}页）：{t.reason}" for t in c.not_understood],
        seconds=spent)


def percentile(values: list[int], q: float) -> float:
    """The q-th percentile, nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


@dataclass
class Scale:
    reports: list[ReportScale]

    @property
    def ok(self) -> list[ReportScale]:
        return [r for r in self.reports if r.status == "ok"]

    def as_dict(self) -> dict:
        errors = [r.errors for r in self.ok]
        return {
            "reports": len(self.reports),
            "failed": [{"file": r.name, "error": r.error} for r in self.reports
                       if r.status == "failed"],
            "errors_mean": sum(errors) / len(errors) if errors else 0.0,
            "errors_p90": percentile(errors, 0.9),
            "worst": [{"file": r.name, "errors": r.errors} for r in self.worst()],
            "warnings_mean": sum(r.warnings for r in self.ok) / len(self.ok) if self.ok else 0.0,
            "no_table_recognised": [r.name for r in self.ok if r.read and not r.tables],
            "no_table_read": [r.name for r in self.ok if not r.read],
            "tables_recognised": sum(r.tables for r in self.ok),
            "tables_not_understood": {r.name: r.not_understood for r in self.ok if r.not_understood},
            "seconds_per_report": sum(r.seconds for r in self.reports) / len(self.reports)
            if self.reports else 0.0,
        }

    def worst(self, n: int = 3) -> list[ReportScale]:
        return sorted(self.ok, key=lambda r: (-r.errors, r.name))[:n]

    def as_text(self) -> str:
        d = self.as_dict()
        lines = [
            f"reports {d['reports']}, failed {len(d['failed'])}",
            f"error findings per report: mean {d['errors_mean']:.2f}, p90 {d['errors_p90']:.0f}, "
            "worst " + ", ".join(f"{w['file']} {w['errors']}" for w in d["worst"]),
            f"warning findings per report: mean {d['warnings_mean']:.2f}",
            f"standard tables recognised {d['tables_recognised']}; reports with tables read but "
            f"none recognised {len(d['no_table_recognised'])}"
            + (f" ({', '.join(d['no_table_recognised'])})" if d["no_table_recognised"] else "")
            + f"; reports without a table of figures (narrative only) {len(d['no_table_read'])}",
            f"tables read but not understood: "
            f"{sum(len(v) for v in d['tables_not_understood'].values())} in "
            f"{len(d['tables_not_understood'])} reports",
        ]
        for name, items in d["tables_not_understood"].items():
            lines += [f"    {name}: {x}" for x in items]
        lines += [f"    failed {f['file']}: {f['error']}" for f in d["failed"]]
        lines.append(f"seconds per report: {d['seconds_per_report']:.2f}")
        return "\n".join(lines)


def measure(pdfs: list[Path], jobs: int = 2) -> Scale:
    if jobs == 1:
        return Scale([_one(str(p)) for p in pdfs])
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return Scale(list(pool.map(_one, [str(p) for p in pdfs])))
