"""Mutation test in the reports' own layout: one digit of a figure is replaced in place in the
real PDF (the glyph code in the page's content stream becomes another digit's code of the same
font, same length; nothing else on the page changes), the checker runs, and a case counts as
caught when a finding that did not exist before cites the planted value.

Cases are chosen where the original relation holds, from the samples and the corpus:
  narrative-amount   a narrative amount that restates the one figure its table subject has;
  narrative-percent  a growth rate that agrees with its change and base (or prior and current);
  table-cell         a cell that takes part in a 类/款/项 or row sum that holds in its table.
Run with `make mutate` (`--keep DIR` keeps the changed PDFs, `--per-kind N` cases per kind and
report). Goal: >= 90% of >= 60 cases caught, shown per kind and per template.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402

from pipeline.checks.base import (  # noqa: E402
    Context,
    compare,
    compare_pct,  # noqa: E402
)
from pipeline.checks.figures import _subject_candidates, resolve_subject  # noqa: E402
from pipeline.checks.identities import _by_table, hierarchy_sums, row_sums  # noqa: E402
from pipeline.checks.narrative import narrative, wan  # noqa: E402
from pipeline.checks.narrative.changes import _growth_pairs, _prior_current, _resolve  # noqa: E402
from pipeline.evaluate import CITY_CORPUS, load_labels  # noqa: E402
from pipeline.extract import extract  # noqa: E402
from pipeline.facts import document_facts  # noqa: E402
from pipeline.readings import adds_up, column_models, rows_of  # noqa: E402
from pipeline.run import check_file  # noqa: E402
from pipeline.segment import segment  # noqa: E402

NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Case:
    report: str
    template: str
    kind: str
    page: int  # 1-based
    printed: str  # the figure as printed
    new: str  # the figure after the change (one digit replaced)

    @property
    def planted(self) -> float:
        return float(self.new.replace(",", ""))


CITIES = {"beijing": "北京 (city)", "guangzhou": "广州 (city)", "shanghai": "上海 市级 (city)",
          "shenzhen": "深圳 (city)", "xian": "西安 (city)", "yantai": "烟台 (city)"}


def template_of(name: str) -> str:
    if name[:3].isdigit():
        return "samples (山西)"
    first = name.split("-")[0]
    if re.fullmatch(r"[a-z]+-\d{3}", name):
        return CITIES.get(first, "other")
    return {"chongqing": "高校 (教育部)", "jiangsu": "江苏 部门预算",
            "shanghai": "上海 普陀"}.get(first, "other")


# -- editing a page's content stream in place -------------------------------------------------


@dataclass
class Glyph:
    char: str
    xref: int  # the content stream
    spans: list[tuple[int, int]]  # byte ranges of its code in the stream (hex digits or bytes)
    hex: bool
    font: str


def _cmap(doc: pymupdf.Document, font_xref: int) -> dict[int, str]:
    kind, ref = doc.xref_get_key(font_xref, "ToUnicode")
    if kind != "xref":
        return {}
    text = doc.xref_stream(int(ref.split()[0])).decode("latin-1")
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", "ignore")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                      block):
            base = int(dst, 16)
            for k in range(int(lo, 16), int(hi, 16) + 1):
                out[k] = chr(base + k - int(lo, 16))
    return out


def _fonts(doc: pymupdf.Document, page: pymupdf.Page) -> dict[str, tuple[int, dict[int, str]]]:
    """Resource name -> (bytes per code, code -> text)."""
    out = {}
    for xref, _ext, ftype, _base, name, encoding, *_ in page.get_fonts(full=True):
        width = 2 if ftype == "Type0" or "Identity" in (encoding or "") else 1
        cmap = _cmap(doc, xref)
        if not cmap and width == 1:
            cmap = {b: chr(b) for b in range(32, 127)}
        out[name] = (width, cmap)
    return out


TOKEN_RE = re.compile(rb"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>|/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+|[\[\]]",
                      re.S)


def _glyphs(doc: pymupdf.Document, page: pymupdf.Page) -> list[Glyph]:
    """Every glyph the page's content streams show, in content order, with where its code is."""
    fonts = _fonts(doc, page)
    out: list[Glyph] = []
    for xref in page.get_contents():
        data = doc.xref_stream(xref)
        font, width, cmap = "", 1, {}
        operands: list[re.Match[bytes]] = []
        for m in TOKEN_RE.finditer(data):
            tok = m.group(0)
            if tok[:1] in b"(</[]" or re.fullmatch(rb"[-+]?\.?\d[\d.]*", tok):
                operands.append(m)  # an operand: string, name, number or array bracket
                continue
            if tok == b"Tf" and len(operands) >= 2:
                font = operands[-2].group(0)[1:].decode("latin-1")
                width, cmap = fonts.get(font, (1, {}))
            elif tok in (b"Tj", b"TJ", b"'", b'"'):
                for op in operands:
                    if op.group(0)[:1] in b"(<":
                        out += _decode(op, xref, width, cmap, font)
            operands = []
    return out


def _decode(m: re.Match[bytes], xref: int, width: int, cmap: dict[int, str], font: str
            ) -> list[Glyph]:
    tok, start = m.group(0), m.start()
    out = []
    if tok.startswith(b"<"):
        digits = [(i + start, c) for i, c in enumerate(tok.decode("latin-1")) if c in
                  "0123456789abcdefABCDEF"]
        n = 2 * width
        for k in range(0, len(digits) - n + 1, n):
            chunk = digits[k:k + n]
            code = int("".join(c for _, c in chunk), 16)
            out.append(Glyph(cmap.get(code, ""), xref, [(p, p + 1) for p, _ in chunk], True, font))
    elif tok.startswith(b"("):
        body, i = tok[1:-1], 0
        raw: list[tuple[int, int, int]] = []  # (byte value, start, end) in the stream
        while i < len(body):
            if body[i:i + 1] == b"\\":
                esc = re.match(rb"\\([0-7]{1,3}|.)", body[i:], re.S)
                assert esc is not None
                seq = esc.group(1)
                val = int(seq, 8) if seq[:1].isdigit() else {b"n": 10, b"r": 13, b"t": 9, b"b": 8,
                                                             b"f": 12}.get(seq, seq[0])
                raw.append((val, -1, -1))  # escaped bytes are never changed
                i += len(esc.group(0))
            else:
                raw.append((body[i], start + 1 + i, start + 2 + i))
                i += 1
        for k in range(0, len(raw) - width + 1, width):
            chunk = raw[k:k + width]
            code = int.from_bytes(bytes(v for v, _, _ in chunk), "big")
            spans = [(s, e) for _, s, e in chunk]
            out.append(Glyph(cmap.get(code, ""), xref, spans if all(s >= 0 for s, _ in spans)
                             else [], False, font))
    return out


def plant(pdf: Path, page_no: int, printed: str, new: str, dest: Path) -> bool:
    """Replace `printed` by `new` (same length, one digit differs) on one page, in place."""
    doc = pymupdf.open(pdf)
    try:
        page = doc[page_no - 1]
        glyphs = [g for g in _glyphs(doc, page) if g.char]
        text = "".join(g.char for g in glyphs)
        if len(text) != len(glyphs):
            return False
        hits = [m.start() for m in re.finditer(rf"(?<![\d.,]){re.escape(printed)}(?![\d.,]*\d)",
                                               text)]
        if len(hits) != 1:
            return False  # not unique on its page: the change could land on the wrong figure
        k = next(i for i, (a, b) in enumerate(zip(printed, new, strict=True)) if a != b)
        g = glyphs[hits[0] + k]
        fonts = _fonts(doc, page)
        width, cmap = fonts.get(g.font, (1, {}))
        code = next((c for c, u in cmap.items() if u == new[k]), None)
        if code is None or not g.spans:
            return False
        stream = bytearray(doc.xref_stream(g.xref))
        if g.hex:
            digits = f"{code:0{2 * width}X}"
            for (s, _), ch in zip(g.spans, digits, strict=True):
                stream[s] = ord(ch)
        else:
            values = code.to_bytes(width, "big")
            if any(v in b"()\\" for v in values):
                return False
            for (s, _), v in zip(g.spans, values, strict=True):
                stream[s] = v
        doc.update_stream(g.xref, bytes(stream))
        doc.save(dest, garbage=0, deflate=True)
    finally:
        doc.close()
    # the change must be the one a reader sees: one fewer `printed` and one more `new` in the
    # page's text (a glyph drawn off the page or under other text is not a planted figure)
    with pymupdf.open(pdf) as original, pymupdf.open(dest) as check:
        before = _counts(original[page_no - 1].get_text(), printed, new)
        after = _counts(check[page_no - 1].get_text(), printed, new)
    return after == (before[0] - 1, before[1] + 1)


def _counts(text: str, *figures: str) -> tuple[int, ...]:
    text = text.replace("\n", "")
    return tuple(len(re.findall(rf"(?<![\d.,]){re.escape(f)}(?![\d.,]*\d)", text))
                 for f in figures)


def changed(printed: str) -> str | None:
    """The same figure with one integer digit replaced, by more than any rounding."""
    int_end = printed.find(".") if "." in printed else len(printed)
    positions = [i for i in range(int_end) if printed[i].isdigit()]
    if not positions:
        return None
    # whole 元 with many digits: change the hundreds, beyond the rounding of a sum of many cells
    back = 3 if "." not in printed and len(positions) >= 4 else 1
    i = positions[-back]
    d = int(printed[i])
    for step in (2, 3, 4, 5, 6, 7, 8, 1):
        nd = (d + step) % 10
        if nd == 0 and i == positions[0]:
            continue
        return printed[:i] + str(nd) + printed[i + 1:]
    return None


# -- choosing cases where the relation holds ----------------------------------------------------


def candidates(pdf: Path) -> dict[str, list[tuple[int, str]]]:
    """(page, printed figure) per kind, where the relation the figure takes part in holds."""
    doc = segment(pdf)
    ctx = Context(doc=doc, claims=extract(doc), facts=document_facts(doc))
    return {"narrative-amount": _amounts(ctx), "narrative-percent": _rates(ctx),
            "table-cell": _cells(ctx)}


def _amounts(ctx: Context) -> list[tuple[int, str]]:
    """Narrative amounts equal to the one figure their table subject has."""
    out = []
    names = {f.subject for f in ctx.facts if f.subject and not f.blank}
    for s in narrative(ctx):
        for c in s.claims:
            if c.kind != "amount" or c.unit not in ("万元", "元"):
                continue
            sc = resolve_subject(c.subject, names)
            cands = _subject_candidates(ctx, sc) if sc else []
            if cands and len({round(f.value, 2) for f in cands}) == 1 and all(
                    compare(wan(c), c.decimals, f.value, f.half_unit).ok for f in cands):
                out.append((s.page, c.text.removesuffix(c.unit)))
    return out


def _rates(ctx: Context) -> list[tuple[int, str]]:
    """Growth rates that agree with their change and base, or with the prior and current."""
    out = []
    for s, ch, growth, cands in _growth_pairs(ctx):
        if growth is not None and cands:
            r = _resolve(ch, growth, cands)
            if r is not None and r[1].ok and growth.value >= 1:
                out.append((s.page, growth.text.rstrip("% ")))
    for pc in _prior_current(ctx):
        p, c = wan(pc.prior), wan(pc.current)
        if p > 0 and pc.growth.value >= 1 and pc.heading is None:
            rate = abs(c - p) / p * 100
            if compare_pct(pc.growth.value, pc.growth.decimals, (rate - 0.01, rate + 0.01)).ok:
                out.append((pc.sentence.page, pc.growth.text.rstrip("% ")))
    return out


def _cells(ctx: Context) -> list[tuple[int, str]]:
    """Totals of 类/款/项 and row sums that hold in their table."""
    out = []
    for facts in _by_table(ctx.facts).values():
        sums = hierarchy_sums(facts) + [s for v in row_sums(facts).values() for s in v]
        for s in sums:
            if s.verdict().ok and not s.total.blank and s.total.value > 0 and len(s.parts) >= 2:
                out.append((s.total.page, s.total.text))
        rows = rows_of(facts)
        for tied in column_models(facts):  # rows a confirmed column model explains
            m = tied[0]
            for row in rows[m.panel]:
                if adds_up(row, m.total, m.parts) and row[m.total].value > 0:
                    out.append((row[m.total].page, row[m.total].text))
    return out


def run(files: dict[Path, int], keep: Path | None) -> int:
    t0 = time.perf_counter()
    results: list[tuple[Case, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = keep or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for pdf, per_kind in files.items():
            before = {f.key() for f in check_file(pdf).result.findings}
            for kind, items in sorted(candidates(pdf).items()):
                taken, seen = 0, set()
                for page, printed in items:
                    if taken >= per_kind or (page, printed) in seen:
                        continue
                    seen.add((page, printed))
                    new = changed(printed)
                    if new is None:
                        continue
                    case = Case(pdf.stem, template_of(pdf.stem), kind, page, printed, new)
                    dest = out_dir / f"{pdf.stem}.{kind}.{taken}.pdf"
                    if not plant(pdf, page, printed, new, dest):
                        continue
                    taken += 1
                    after = check_file(dest).result.findings
                    hit = next((f for f in after if f.key() not in before and _cites(f, case)), None)
                    results.append((case, hit is not None, hit.rule if hit else ""))
    for n, (c, ok, rule) in enumerate(results, start=1):
        print(f"{n:3d} {c.report[:38]:38} p{c.page:<3d} {c.kind:18} {c.printed:>14} -> {c.new:<14} "
              f"{'FOUND ' + rule if ok else 'missed'}")
    print()
    for label, key in (("kind", lambda c: c.kind), ("template", lambda c: c.template)):
        groups: dict[str, list[bool]] = defaultdict(list)
        for c, ok, _ in results:
            groups[key(c)].append(ok)
        for name, oks in sorted(groups.items()):
            print(f"{label:9} {name:20} {sum(oks):3d}/{len(oks):<3d}")
    caught = sum(ok for _, ok, _ in results)
    rate = caught / len(results) if results else 0.0
    print(f"caught {caught} of {len(results)} planted figures ({rate:.1%}); goal >= 90% of >= 60 "
          f"[{time.perf_counter() - t0:.1f}s]")
    return 0 if results and rate >= 0.9 and len(results) >= 60 else 1


def _cites(f, case: Case) -> bool:
    if f.severity == "info":
        return False
    if f.stated is not None and abs(f.stated - case.planted) < 1e-6:
        return True
    return any(e.value and case.new in e.value.replace("，", ",") for e in f.evidence)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="PDFs (default: samples and corpus)")
    ap.add_argument("--per-kind", type=int, default=2, help="cases per kind and report")
    ap.add_argument("--cities", type=int, default=1, help="cases per kind in each city report "
                    "(../shared/corpus-cities, when present; the held-out reports left out)")
    ap.add_argument("--keep", type=Path, help="keep the changed PDFs in this folder")
    args = ap.parse_args()
    files = args.files or (sorted((ROOT / "samples").glob("*.pdf"))
                           + sorted((ROOT / "corpus").glob("*.pdf")))
    per_file = {f: args.per_kind for f in files}
    if not args.files:
        per_file |= {f: args.cities for f in city_reports()}
    sys.exit(run(per_file, args.keep))


def city_reports() -> list[Path]:
    """The city corpus beside the checkout, without the reports its labels hold out."""
    held = {labels.source for _, labels in load_labels(ROOT / "eval" / "labels" / "cities")
            if labels.holdout}
    return [p for p in sorted(CITY_CORPUS.glob("*.pdf")) if p.name not in held]


if __name__ == "__main__":
    main()
