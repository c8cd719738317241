"""A table's reading is a hypothesis that the table's own arithmetic must confirm.

The header of an unfamiliar layout says which columns exist, not reliably which column is the
total of which others: `合计 | 基本支出(小计, 人员经费, 公用经费) | 项目支出(其中: 扣除基建…)` prints
two totals, a 其中 column that is no addend and merged header cells that wrap anywhere. So the
reader proposes column models — "column t is the sum of columns S" — and scores each by the rows
it makes add up within rounding. A model is kept only when it explains the table: it holds on at
least CONFIRM of the rows where its figures are printed, on at least MIN_ROWS of them, and every
column it adds is non-zero on a row where it holds. This needs no knowledge of the province.

Between models that explain the same rows equally well (a 项目支出 column and its 扣除基建 其中
column are equal on every row) none is preferred: a row is a violation only when it fails all of
them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from schemas.facts import Fact

CONFIRM = 0.9  # share of a reading's rows (or independent sums) that must add up
MIN_ROWS = 3  # rows a model must explain before it counts as confirmed
SMALL = 10  # rows (or sums) few enough that one failing one is a slip, not a misreading
MAX_PARTS = 6  # parts of one sum, at most
WINDOW = 9  # columns after a total that may be its parts
EPS = 1e-9
# a group of columns derived from two others (本年 − 上年): it inherits their slips, never adds one
CHANGE_RE = re.compile(r"增减|变化|变动|增长|比上年|较上年")


@dataclass(frozen=True)
class ColumnModel:
    """Column `total` (index in the table) is the sum of columns `parts`, in one panel."""

    panel: int
    total: int
    parts: tuple[int, ...]
    holding: int  # rows where it adds up
    live: int  # rows where any of its figures is printed


Row = dict[int, Fact]


def rows_of(facts: list[Fact]) -> dict[int, list[Row]]:
    """Per panel, each row's figures by column (the first fact of a cell)."""
    rows: dict[tuple[int, int], Row] = defaultdict(dict)
    for f in facts:
        rows[(f.panel, f.row)].setdefault(f.column, f)
    out: dict[int, list[Row]] = defaultdict(list)
    for (panel, _), row in sorted(rows.items()):
        out[panel].append(row)
    return out


def adds_up(row: Row, total: int, parts: tuple[int, ...]) -> bool | None:
    """Does this row satisfy `total` = Σ `parts` within rounding? None: nothing printed there."""
    t = row.get(total)
    ps = [row.get(p) for p in parts]
    if t is None or all(p is None for p in ps):
        return None
    cells = [t, *[p for p in ps if p is not None]]
    if all(c.blank or abs(c.value) < EPS for c in cells):
        return None
    got = sum(p.value for p in ps if p is not None)
    tol = t.half_unit + sum(p.half_unit for p in ps if p is not None)
    return abs(t.value - got) <= tol + EPS


def _nonzero(row: Row, column: int) -> bool:
    f = row.get(column)
    return f is not None and not f.blank and abs(f.value) > EPS


def column_models(facts: list[Fact]) -> list[list[ColumnModel]]:
    """The confirmed column models of one table: per total column, the best-scoring models (all
    of them when several tie)."""
    out: list[list[ColumnModel]] = []
    for panel, rows in rows_of(facts).items():
        columns = sorted({c for r in rows for c in r if any(_nonzero(x, c) for x in rows)})
        for i, t in enumerate(columns):
            t_rows = [r for r in rows if _nonzero(r, t)]
            if len(t_rows) < MIN_ROWS:
                continue
            # a part never exceeds its total (amounts are not negative in these tables), but
            # on the one row a slip is printed (a table of few rows allows that one)
            after = [c for c in columns[i + 1: i + 1 + WINDOW] if _within(t_rows, t, c)]
            best: list[ColumnModel] = []
            for parts in [*_only_part(rows, t, after), *(
                    parts for size in range(2, min(MAX_PARTS, len(after)) + 1)
                    for parts in combinations(after, size) if parts[0] in after[:2])]:
                model = _score(rows, panel, t, parts)
                if model is None:
                    continue
                rank = (model.holding, model.holding - model.live)
                top = (best[0].holding, best[0].holding - best[0].live) if best else None
                if top is None or rank > top:
                    best = [model]
                elif rank == top:
                    best.append(model)
            if best:
                out.append(best)
    return out


def _within(rows: list[Row], total: int, part: int) -> bool:
    both = [r for r in rows if part in r]
    under = sum(r[part].value <= r[total].value + r[total].half_unit + EPS for r in both)
    return under >= CONFIRM * len(both) or (len(both) - under == 1 and len(both) <= SMALL)


def _only_part(rows: list[Row], total: int, after: list[int]) -> list[tuple[int, ...]]:
    """A group's 小计 whose other columns print nothing but zeros (财政拨款/小计 | 一般公共预算 |
    政府性基金 0 | 国有资本经营 0): the sum of its group is its one printed column."""
    header = next((r[total].header for r in rows if total in r), "")
    group, leaf = "/".join(header.split("/")[:-1]), _leaf(header)
    if not group or re.sub(r"\s+", "", leaf) not in ("小计", "合计"):
        return []
    headers = {c: f.header for r in rows for c, f in r.items()}
    siblings = [c for c, h in sorted(headers.items()) if c != total
                and "/".join(h.split("/")[:-1]) == group]
    printed = [c for c in siblings if any(_nonzero(r, c) for r in rows)]
    return [(printed[0],)] if len(printed) == 1 and len(siblings) > 1 and printed[0] in after \
        else []


def _score(rows: list[Row], panel: int, total: int, parts: tuple[int, ...]) -> ColumnModel | None:
    holding = live = 0
    used: set[int] = set()
    for r in rows:
        ok = adds_up(r, total, parts)
        if ok is None:
            continue
        live += 1
        if ok:
            holding += 1
            used.update(p for p in parts if _nonzero(r, p))
    if holding < MIN_ROWS or len(used) < len(parts):
        return None
    if holding < CONFIRM * live and not (live - holding == 1 and live <= SMALL):
        return None
    return ColumnModel(panel, total, parts, holding, live)


def _split(header: str) -> tuple[str, str]:
    """A header path as (its top heading, the rest): 2021年 / 一般公共预算… / 小计."""
    parts = [re.sub(r"\s+", "", p) for p in header.split("/") if p.strip()]
    return (parts[0], "/".join(parts[1:])) if len(parts) > 1 else ("", "/".join(parts))


def _leaf(path: str) -> str:
    return path.split("/")[-1]


def parallel_slips(facts: list[Fact], models: list[list[ColumnModel]]
                   ) -> list[tuple[ColumnModel, str, str]]:
    """Confirmed models carried over to a parallel group of columns that fails there.

    Many tables print the same headings once per year (2020年: 合计 | 小计 | … | 培训费, then
    2021年: the same). A model the rows confirm under one top heading must hold under another
    whose columns carry the same headings below it; when it fails on most of that group's rows,
    its own rows could never confirm it, though the fault is one column printed wrong (a 合计
    that leaves out a part on every row). Each such group is one slip: the carried model with
    its holding and live rows, with the top heading it fails under and the one it holds under.
    Groups of changes (增减) are left out, since they inherit the
    slips of the groups they are taken from."""
    out: list[tuple[ColumnModel, str, str]] = []
    rows_by_panel = rows_of(facts)
    totals = {(tied[0].panel, tied[0].total): tied for tied in models}
    for tied in models:
        panel = tied[0].panel
        rows = rows_by_panel[panel]
        header: dict[int, tuple[str, str]] = {}
        for r in rows:
            for c, f in r.items():
                header.setdefault(c, _split(f.header))
        first = tied[0]
        top, rest = header[first.total]
        if not top:
            continue
        for k in sorted({c - first.total for c, (t, r) in header.items()
                         if t != top and _leaf(r) == _leaf(rest)}):
            carried = []
            for m in tied:
                # the whole model under one top heading, carried whole under another, each
                # column onto one of the same name (wrapped middle headings may read apart)
                cols = (m.total, *m.parts)
                moved = [header.get(c + k) for c in cols]
                there = moved[0][0] if moved[0] is not None else None
                if any(header[c][0] != top for c in cols) or any(
                        h is None or _leaf(h[1]) != _leaf(header[c][1]) or h[0] != there
                        for h, c in zip(moved, cols, strict=True)):
                    break
                carried.append(_tally(rows, panel, m.total + k, tuple(p + k for p in m.parts)))
            else:
                t = first.total + k
                if CHANGE_RE.search(header[t][0]) or not _conflicts(
                        rows, first, k, totals.get((panel, t), [])):
                    continue
                if all(c.live >= MIN_ROWS and c.live - c.holding >= CONFIRM * c.live
                       for c in carried):
                    out.append((carried[0], header[t][0], top))
    return out


def _conflicts(rows: list[Row], source: ColumnModel, k: int, local: list[ColumnModel]) -> bool:
    """Is the carried model to be weighed against the group's own? Yes when the group's total
    has no confirmed model, or only narrower ones (fewer parts) that fail when carried back to
    the source group: the two groups are then read apart, and the wider reading is the one
    that explains the group's other columns."""
    for m in local:
        back = _tally(rows, m.panel, m.total - k, tuple(p - k for p in m.parts))
        if back.holding >= CONFIRM * back.live or len(m.parts) >= len(source.parts):
            return False
    return True


def _tally(rows: list[Row], panel: int, total: int, parts: tuple[int, ...]) -> ColumnModel:
    verdicts = [v for v in (adds_up(r, total, parts) for r in rows) if v is not None]
    return ColumnModel(panel, total, parts, sum(verdicts), len(verdicts))
