"""Score the offline `ask` on the questions of eval/ask_questions.json: right, wrong or unsure.

A right answer is sure and gives the expected figure (元 answers are compared in 万元); for a
question whose report says it has none, a sure answer that says so. Run:
    .venv/bin/python scripts/ask_eval.py
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ask import answer, build_facts, format_answer  # noqa: E402
from pipeline.extract import extract  # noqa: E402
from pipeline.segment import segment  # noqa: E402


@cache
def facts(path: str):
    doc = segment(ROOT / path)
    return build_facts(doc, extract(doc))


def verdict(a, expected: float | None) -> str:
    if not a.sure or a.fact is None:
        return "unsure"
    f = a.fact
    if expected is None:
        says_none = f.value == 0 or any(w in f.quote for w in ("无", "没有", "未发生"))
        return "right" if says_none else "wrong"
    value = f.value / 1e4 if f.unit == "元" else f.value
    return "right" if abs(value - expected) <= 0.006 else "wrong"


def main() -> int:
    questions = json.loads((ROOT / "eval" / "ask_questions.json").read_text(encoding="utf-8"))
    tally = {"right": 0, "wrong": 0, "unsure": 0}
    for path, question, expected in questions["questions"]:
        a = answer(question, facts(path))
        v = verdict(a, expected)
        tally[v] += 1
        shown = format_answer(a).splitlines()[0]
        print(f"{v:6} {Path(path).stem[:34]:34} {question:24} {expected!s:>10}  {shown[:60]}")
    n = sum(tally.values())
    print(f"{n} questions: right {tally['right']}, wrong {tally['wrong']}, unsure {tally['unsure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
