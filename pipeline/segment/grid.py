"""Rebuild ruled tables from a page's ruling segments and text spans.

Much faster than a general table finder: connected ruling lines give the grid, and each span
goes to the cell that holds its start. Text that wraps inside a cell is joined.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from pipeline.numbers import clean_text
from pipeline.segment.pdf import PageLayout, Segment, Span, TextLine

TOL = 2.0


@dataclass
class GridCell:
    text: str
    bbox: tuple[float, float, float, float]
    open_left: bool = False  # no rule between this cell and its left neighbour: one merged cell


@dataclass
class Grid:
    page: int
    bbox: tuple[float, float, float, float]
    xs: list[float]  # column edges
    ys: list[float]  # row edges
    rows: list[list[GridCell]] = field(default_factory=list)
    row_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    used_lines: set[int] = field(default_factory=set)  # indices of page lines inside the grid


def _cluster(values: list[float], tol: float = TOL) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


def _components(segments: list[Segment]) -> list[list[Segment]]:
    parent = list(range(len(segments)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    hs = [i for i, s in enumerate(segments) if s.horizontal]
    vs = sorted((i for i, s in enumerate(segments) if not s.horizontal),
                key=lambda i: segments[i].x0)
    vx = [segments[j].x0 for j in vs]
    for i in hs:
        h = segments[i]
        # only the verticals whose x falls within the horizontal's span can touch it
        for j in vs[bisect_left(vx, h.x0 - TOL):bisect_right(vx, h.x1 + TOL)]:
            v = segments[j]
            if v.y0 - TOL <= h.y0 <= v.y1 + TOL:
                parent[find(i)] = find(j)
    groups: dict[int, list[Segment]] = {}
    for i, s in enumerate(segments):
        groups.setdefault(find(i), []).append(s)
    return list(groups.values())


def _index(edges: list[float], x: float) -> int | None:
    for i in range(len(edges) - 1):
        if edges[i] - TOL <= x < edges[i + 1] - 0.5:
            return i
    return None


def _split_span(span: Span, xs: list[float]) -> list[tuple[float, str]]:
    """Pieces of a span with the x that places each in its column.

    LibreOffice lets text overflow its cell and may print neighbouring cells as one span
    (公务员医疗补助缴费7.77): the span is cut where a character starts past a column edge that
    is ruled in its row (`xs`), never inside a merged cell (a 2021年 heading over nine columns).
    """
    x0, _, x1, _ = span.bbox
    inner = [x for x in xs if x0 + TOL < x < x1 - TOL]
    if not inner or len(span.char_x) != len(span.text):
        return [(x0 + 1.0, span.text)]
    pieces: list[tuple[float, str]] = []
    start = 0
    for i in range(1, len(span.text)):
        if any(span.char_x[i - 1] < edge - 0.5 <= span.char_x[i] for edge in inner):
            pieces.append((span.char_x[start] + 1.0, span.text[start:i]))
            start = i
    pieces.append((span.char_x[start] + 1.0, span.text[start:]))
    return [(x, t.strip()) for x, t in pieces if t.strip()]


def _join_lines(lines: list[str]) -> str:
    out = ""
    for line in lines:
        if out and re.match(r"[A-Za-z]", out[-1]) and re.match(r"[A-Za-z]", line[0]):
            out += " "
        out += line
    return out


def _ruled(grid: Grid, verticals: list[Segment]) -> list[list[bool]]:
    """Per row, per inner column edge: is a rule drawn there? Unruled edges join merged cells."""
    vs = sorted(verticals, key=lambda v: v.x0)
    vx = [v.x0 for v in vs]
    at = [vs[bisect_left(vx, x - TOL):bisect_right(vx, x + TOL)] for x in grid.xs[1:-1]]
    out = []
    for r in range(len(grid.ys) - 1):
        mid = (grid.ys[r] + grid.ys[r + 1]) / 2
        out.append([any(v.y0 - TOL <= mid <= v.y1 + TOL for v in edge) for edge in at])
    return out


def _fill(grid: Grid, page: PageLayout, verticals: list[Segment]) -> None:
    nrows, ncols = len(grid.ys) - 1, len(grid.xs) - 1
    ruled = _ruled(grid, verticals)
    pieces: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    x0g, y0g, x1g, y1g = grid.bbox
    for li, line in enumerate(page.lines):
        cx = (line.bbox[0] + line.bbox[2]) / 2
        cy = (line.bbox[1] + line.bbox[3]) / 2
        if not (x0g - TOL <= cx <= x1g + TOL and y0g - TOL <= cy <= y1g + TOL):
            continue
        grid.used_lines.add(li)
        for span in line.spans:
            sy = (span.bbox[1] + span.bbox[3]) / 2
            r = _index(grid.ys, sy)
            if r is None:
                continue
            edges = [x for x, drawn in zip(grid.xs[1:-1], ruled[r], strict=True) if drawn]
            for wx, text in _split_span(span, edges):
                c = _index(grid.xs, wx)
                if c is None:
                    continue
                pieces.setdefault((r, c), []).append((span.bbox[3], wx, text))
    for r in range(nrows):
        row: list[GridCell] = []
        for c in range(ncols):
            bbox = (grid.xs[c], grid.ys[r], grid.xs[c + 1], grid.ys[r + 1])
            items = sorted(pieces.get((r, c), []))
            lines: list[list[tuple[float, str]]] = []
            last_y = None
            for y, x, text in items:
                if last_y is None or y - last_y > TOL:
                    lines.append([])
                    last_y = y
                lines[-1].append((x, text))
            texts = [clean_text(" ".join(t for _, t in sorted(ln))) for ln in lines]
            row.append(GridCell(text=_join_lines([t for t in texts if t]), bbox=bbox,
                                open_left=c > 0 and not ruled[r][c - 1]))
        if any(cell.text for cell in row):
            grid.rows.append(row)
            grid.row_boxes.append((grid.xs[0], grid.ys[r], grid.xs[-1], grid.ys[r + 1]))


def find_grids(page: PageLayout) -> list[Grid]:
    """Every ruled table on the page, top to bottom."""
    grids: list[Grid] = []
    for comp in _components(page.segments):
        hs = [s for s in comp if s.horizontal]
        vs = [s for s in comp if not s.horizontal]
        if len(hs) < 2 or len(vs) < 2:
            continue
        # the ends of the column rules close a table whose first or last border is missing
        # (a row continued from the previous page is drawn without its top rule)
        ys = _cluster([s.y0 for s in hs] + [min(s.y0 for s in vs), max(s.y1 for s in vs)])
        xs = _cluster([s.x0 for s in vs])
        if len(ys) < 2 or len(xs) < 2:
            continue
        grid = Grid(page=page.number, bbox=(xs[0], ys[0], xs[-1], ys[-1]), xs=xs, ys=ys)
        _fill(grid, page, vs)
        if grid.rows:
            grids.append(grid)
    grids.sort(key=lambda g: g.bbox[1])
    return grids


def free_lines(page: PageLayout, grids: list[Grid]) -> list[tuple[int, TextLine]]:
    used = set().union(*(g.used_lines for g in grids)) if grids else set()
    return [(i, ln) for i, ln in enumerate(page.lines) if i not in used]
