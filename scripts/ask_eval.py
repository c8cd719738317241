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
from pipeline.evaluate import CITY_CORPUS  # noqa: E402
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


def city_questions(folder: Path) -> list[tuple[str, str, str, float | None, int | None]]:
    """(family, report path, question, expected, page) of eval/ask_cities/<city>.json, written by
    reading the city corpus's PDFs; their reports are read from ../shared/corpus-cities."""
    out = []
    for f in sorted(folder.glob("*.json")):
        for q in json.loads(f.read_text(encoding="utf-8"))["questions"]:
            out.append((f.stem, str(CITY_CORPUS / q["file"]), q["question"], q["expected"], q.get("page")))
    return out


def main() -> int:
    questions = json.loads((ROOT / "eval" / "ask_questions.json").read_text(encoding="utf-8"))
    asked = [("samples+corpus", path, q, expected, None) for path, q, expected in
             questions["questions"]]
    if CITY_CORPUS.is_dir():
        asked += city_questions(Path(sys.argv[1]) if len(sys.argv) > 1 else
                                ROOT / "eval" / "ask_cities")
        # written by reading other reports after the resolver was built: never tuned on
        unseen = ROOT / "eval" / "ask_cities_unseen.json"
        if unseen.is_file() and len(sys.argv) == 1:
            for q in json.loads(unseen.read_text(encoding="utf-8"))["questions"]:
                asked.append(("unseen " + q["file"].split("-")[0], str(CITY_CORPUS / q["file"]),
                              q["question"], q["expected"], q.get("page")))
    tallies: dict[str, dict[str, int]] = {}
    for family, path, question, expected, page in asked:
        a = answer(question, facts(path))
        v = verdict(a, expected)
        tally = tallies.setdefault(family, {"right": 0, "wrong": 0, "unsure": 0, "page": 0})
        tally[v] += 1
        cited = a.fact is not None and page is not None and a.fact.page == page
        tally["page"] += v == "right" and cited
        shown = format_answer(a).splitlines()[0]
        print(f"{v:6} {Path(path).stem[:34]:34} {question:24} {expected!s:>10}  {shown[:60]}")
    total = {"right": 0, "wrong": 0, "unsure": 0}
    for family, t in sorted(tallies.items(), key=lambda x: x[0].startswith("unseen")):
        n = t["right"] + t["wrong"] + t["unsure"]
        pages = f", on the labelled page {t['page']}" if family != "samples+corpus" else ""
        print(f"{family:16} {n:3d} questions: right {t['right']}, wrong {t['wrong']}, "
              f"unsure {t['unsure']}{pages}")
        for k in total:
            total[k] += t[k]
    print(f"{'all':16} {sum(total.values()):3d} questions: right {total['right']}, "
          f"wrong {total['wrong']}, unsure {total['unsure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
