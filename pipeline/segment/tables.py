"""Turn raw grids into typed tables: header rows, column headings, cell roles, numbers, kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.numbers import clean_text, parse_number
from pipeline.segment.catalog import (
    CODE_RE,
    DEPARTMENT_RE,
    catalogue_title,
    kind_from_code,
    kind_from_header,
    kind_from_title,
)
from pipeline.segment.grid import Grid, GridCell
from schemas.document import Cell, Row, Table

SUBJECT_CODE_RE = re.compile(r"^\d{3}(\d{2}){0,2}$")
UNIT_RE = re.compile(r"单位\s*[:：]\s*(万元|千元|亿元|元)")
EMPTY_RE = re.compile(
    r"本表无数据|无数据|本表为空|为空表|此表为空|无此项|本年度?无|未发生|无发生额|无相关|不涉及|"
    r"没有.{0,24}(收入|支出|收支|安排|数据)|无.{0,16}(收入|支出|收支|安排|项目)"
)


@dataclass
class RawTable:
    """Grids of one table (one per page it spans) plus the lines printed around it."""

    grids: list[Grid]
    caption: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _is_column_numbers(texts: list[str]) -> bool:
    """A 栏次 row: 栏次 label, or only the column numbers 1, 2, 3 … in order (beside ** marks in
    the label columns), or ** marks alone."""
    if any(re.sub(r"\s", "", t) == "栏次" for t in texts):
        return True
    cells = [re.sub(r"\s+", "", t) for t in texts if t and t.strip()]
    stars = [t for t in cells if re.fullmatch(r"\*+", t)]
    nums = [t for t in cells if t not in stars]
    if len(stars) >= 2 and not nums:
        return True  # ** | ** | ** under the header: the 栏次 row of a spreadsheet export
    if len(nums) < (2 if stars else 3) or not all(re.fullmatch(r"\d{1,2}", t) for t in nums):
        return False
    ints = [int(t) for t in nums]
    return ints == list(range(ints[0], ints[0] + len(ints)))


def _row_has_amount(texts: list[str]) -> bool:
    return any(parse_number(t) is not None for i, t in enumerate(texts) if i
               and not SUBJECT_CODE_RE.match(t) and not _split_year(t, texts[i + 1: i + 2]))


def _split_year(text: str, after: list[str]) -> bool:
    """A year heading wrapped across two cells ("202" | "1年"): a header word, not an amount."""
    digits = re.sub(r"\s", "", text)
    tail = re.match(r"\s*(\d*)年", after[0]) if after else None
    return bool(tail and digits.isdigit() and len(digits + tail.group(1)) == 4)


def _header_count(rows: list[list[str]], kind: str) -> int:
    if kind.startswith("perf_self") or kind == "perf_target":
        return 0
    n = 0
    for texts in rows[:5]:
        if _is_column_numbers(texts):
            n += 1
            continue
        if _row_has_amount(texts) or any(SUBJECT_CODE_RE.match(t) and not _split_year(
                t, texts[i + 1: i + 2]) for i, t in enumerate(texts)):
            break
        n += 1
    return n


def _merged(texts: list[str], opens: list[bool]) -> list[str]:
    """A header row with each merged cell's text on every column it spans (the grid knows which
    edges are ruled): 2021年 printed centred over nine columns heads all nine."""
    out = list(texts)
    c = 0
    while c < len(texts):
        end = c + 1
        while end < len(texts) and end < len(opens) and opens[end]:
            end += 1
        words = [t for t in texts[c:end] if t]
        # several words over a whole unruled row are separate headings whose rules are missing
        if end - c > 1 and words and (len(words) == 1 or (len(words) <= 3 and end - c < len(texts))):
            out[c:end] = ["".join(words)] * (end - c)
        c = end
    return out


def _column_headings(header: list[list[str]], ncols: int,
                     opens: list[list[bool]] | None = None) -> list[str]:
    """Per column, the header texts from top to bottom joined with '/'.

    A merged header cell heads every column it spans. Where the grid gives no merges, a blank
    header cell under a merged parent takes the text of its left neighbour when both columns
    have the same parents (收入 over 项目/行次/金额), never across a parent's edge.
    """
    opens = opens or [[] for _ in header]
    keep = [not _is_column_numbers(r) for r in header]
    # a row whose grid shows merged cells says where each heading spans; in a row ruled
    # through (or not at all) a heading's span is guessed from its left neighbour
    ruled = [any(op[1:]) and not all(op[1:]) for op, k in zip(opens, keep, strict=True) if k]
    rows = [_merged(t, o) for t, o, k in zip(header, opens, keep, strict=True) if k]
    cols: list[list[str]] = [[] for _ in range(ncols)]
    for r, texts in enumerate(rows):
        last = r == len(rows) - 1
        before = [list(c) for c in cols]
        for c in range(ncols):
            t = texts[c] if c < len(texts) else ""
            if not t and not last and not ruled[r] and c > 0 and before[c] == before[c - 1] \
                    and cols[c - 1]:
                if len(cols[c - 1]) > len(before[c - 1]):
                    t = cols[c - 1][-1]
            if t and (not cols[c] or cols[c][-1] != t):
                cols[c].append(t)
    return ["/".join(c) for c in cols]


def _column_role(heading: str) -> str | None:
    leaf = heading.split("/")[-1] if heading else ""
    if "行次" in leaf:
        return "line_no"
    if leaf in ("类", "款", "项"):
        return "split_code"  # 功能分类科目编码 printed over 类 | 款 | 项 columns
    if re.search(r"代码|编码", leaf):
        return "code"
    if re.search(r"名称|^项目$|^科目$", leaf):
        return "label"
    return None


def _cell(
    text: str, page: int, bbox: tuple[float, float, float, float], role: str | None, first: bool
) -> Cell:
    # model_construct: these values are built here, validating each of thousands of cells
    # would double the cost of segmentation
    make = Cell.model_construct
    if not text:
        return make(text="", value=None, decimals=None, percent=False, role="empty", page=page,
                    bbox=bbox)
    num = parse_number(text)
    if role in ("code", "split_code") and not re.fullmatch(r"\d+", re.sub(r"\s+", "", text)):
        # words in a code column: 合计 spread over the code and name columns, or a label
        return make(text=text, value=None, decimals=None, percent=False, role="text", page=page,
                    bbox=bbox)
    if role in ("line_no", "code", "split_code") or (
        first and num is not None and SUBJECT_CODE_RE.match(text) and not num.decimals
    ):
        # 3/5/7-digit integers leading a row are subject codes, not amounts
        return make(text=text, value=None, decimals=None, percent=False,
                    role="line_no" if role == "line_no" else "code", page=page, bbox=bbox)
    if num is None and role is None and not first:
        # the last character of a wrapped heading printed into the first row (属单位上缴收 / 入)
        # beside an amount: the amount is read, the character is left in the text
        m = re.fullmatch(r"[\u4e00-\u9fff]\s*(-?[\d,]+\.\d+)", text)
        num = parse_number(m.group(1)) if m else None
    if num is None:
        return make(text=text, value=None, decimals=None, percent=False,
                    role="label" if role == "label" else "text", page=page, bbox=bbox)
    return make(
        text=text,
        value=num.value,
        decimals=num.decimals,
        percent=num.percent,
        role="amount",
        page=page,
        bbox=bbox,
    )


def _join_split_code(cells: list[Cell], roles: list[str | None], outline: list[str]) -> None:
    """类 | 款 | 项 cells (201 | 03 | 01) become one code (2010301) in the 类 cell, so a row has one
    subject code whatever the template; the 款 and 项 cells stay code cells as printed. Where the
    table prints an outline (201 on the 类 row, then 13 alone on the 款 row, 01 alone on the 项
    row), the levels above come from the rows before (`outline`, carried down the table)."""
    idx = [j for j, r in enumerate(roles) if r == "split_code" and j < len(cells)]
    # the first run only: a second 类 | 款 pair further right is another classification
    # (部门经济科目 301 | 01 beside 政府经济科目 501 | 01)
    idx = [j for k, j in enumerate(idx) if all(idx[m] + 1 == idx[m + 1] for m in range(k))]
    if len(idx) < 2:
        return
    parts = [re.sub(r"\s+", "", cells[j].text) for j in idx]
    if not all(re.fullmatch(r"\d*", p) for p in parts):
        for j in idx:  # the 类 | 款 | 项 heading row itself, or words
            if cells[j].role == "code":
                cells[j].role = "text"
        return
    level = next((k for k, p in enumerate(parts) if p), None)
    if level is None:
        return
    if level > 0:
        if len(parts[level]) != 2 or len(outline) < level:
            return  # a whole code printed in the 款 or 项 column: already one code
        parts = outline[:level] + parts[level:]
    joined = parts[0]
    kept = [parts[0]]
    for p in parts[1:]:
        if not p:
            break
        joined += p.zfill(2)
        kept.append(p)
    outline[:] = kept
    cells[idx[0]].text = joined
    cells[idx[0]].role = "code"


def _catalogue_title(parts: list[str]) -> str | None:
    """The first caption line (or a line and the next, for a wrapped title) that is a catalogue
    title."""
    for i, part in enumerate(parts):
        tail = parts[i + 1] if i + 1 < len(parts) else ""
        for cand in (part, part + tail if len(tail) <= 4 else part):
            title = catalogue_title(cand)
            if title:
                return title
    return None


def _meta(caption: list[str]) -> tuple[str | None, str, str | None]:
    """Code, title and unit from the lines printed above a table."""
    joined = re.sub(r"\s+", "", "".join(caption))
    code = None
    for i, line in enumerate(caption):
        t = re.sub(r"\s+", "", line)
        nxt = re.sub(r"\s+", "", caption[i + 1]) if i + 1 < len(caption) else ""
        code_m = CODE_RE.search(t) or (CODE_RE.search(t + nxt) if nxt == "表" else None)
        if code_m:
            code = code_m.group(0)
            break
    unit_m = UNIT_RE.search(joined)
    unit = unit_m.group(1) if unit_m else None
    title_parts = []
    after_name = False
    for line in caption:
        t = re.sub(r"\s+", "", line)
        if re.match(r"^(部门|单位|预算单位)名称", t) or UNIT_RE.search(t):
            after_name = True
            continue
        if after_name and len(t) <= 20 and "表" not in t:
            continue  # the department name wrapped onto a second line
        after_name = False
        if re.fullmatch(r"[（(]?\d{4}年度?[)）]?", t):
            continue
        title_parts.append(t)
    plain = [t for t in title_parts if not re.match(r"^[一二三四五六七八九十]+、", t)]
    title = "".join(plain or title_parts)
    if not kind_from_title(title):
        named = _catalogue_title(title_parts)
        title = named or title  # the title line among header words printed outside the grid
    if code:
        title = title.replace(code, "")
        if code.endswith("表") and title.endswith(code[:-1]):
            title = title[: -len(code) + 1]
        title = re.sub(r"(公开\d{1,2})?表?$" if title.endswith("公开" + code[2:-1]) else r"$^", "", title)
    title = re.sub(r"^[一二三四五六七八九十]+、", "", title).strip()
    department = DEPARTMENT_RE.search(title)
    title = (title[: department.start()] if department else title) or title
    return code, title, unit


def caption_rows(grid: Grid) -> int:
    """How many leading rows of a grid are its caption (title, code, 部门：, 单位：) drawn inside
    the ruling, as spreadsheet exports do; 0 when the grid starts with its header."""
    n = 0
    for row in grid.rows[:3]:
        texts = [re.sub(r"\s+", "", c.text) for c in row if c.text.strip()]
        joined = "".join(texts)
        if not texts or any(parse_number(t) is not None for t in texts):
            break
        if not (CODE_RE.search(joined) or kind_from_title(joined) or UNIT_RE.search(joined)
                or DEPARTMENT_RE.match(joined)):
            break
        n += 1
    return n


def _align(grids: list[Grid]) -> None:
    """Continuation grids ruled with other columns than the first (codes in one column on one
    page, over 类 | 款 | 项 on the other) are laid onto the first grid's columns by position."""
    xs = grids[0].xs
    for g in grids[1:]:
        if len(g.xs) == len(xs):
            continue
        for r, row in enumerate(g.rows):
            box = g.row_boxes[r]
            new = [GridCell("", (xs[j], box[1], xs[j + 1], box[3])) for j in range(len(xs) - 1)]
            for cell in row:
                if not cell.text:
                    continue
                x0, x1 = cell.bbox[0], cell.bbox[2]
                overlaps = [min(x1, xs[j + 1]) - max(x0, xs[j]) for j in range(len(xs) - 1)]
                j = max(range(len(overlaps)), key=lambda k: overlaps[k])
                while j < len(new) - 1 and new[j].text:
                    j += 1
                new[j] = GridCell(cell.text, cell.bbox)
            g.rows[r] = new
        g.xs = list(xs)


def _split_code_columns(texts: list[list[str]]) -> list[int]:
    """Columns whose header or first rows read 类 | 款 | 项 (split subject codes)."""
    for row in texts[:6]:
        cells = [re.sub(r"\s+", "", t) for t in row]
        for j in range(len(cells) - 2):
            if cells[j:j + 3] == ["类", "款", "项"]:
                return [j, j + 1, j + 2]
    return []


def build_table(raw: RawTable, index: int) -> Table:
    _align(raw.grids)
    code, title, unit = _meta(raw.caption)
    texts = [[c.text for c in row] for g in raw.grids for row in g.rows]
    ncols = max((len(r) for r in texts), default=0)
    kind = kind_from_title(title) or kind_from_code(code)
    provisional = kind or ""
    nhead = _header_count(texts, provisional)
    opens = [[c.open_left for c in row] for g in raw.grids for row in g.rows]
    columns = _column_headings(texts[:nhead], ncols, opens[:nhead])
    if not kind:
        kind = kind_from_header(" ".join(" ".join(r) for r in texts[:3])) or "unknown"
    roles = [_column_role(h) for h in columns]
    for j in _split_code_columns(texts):
        roles[j] = "split_code"
    rows: list[Row] = []
    outline: list[str] = []  # the 类 and 款 codes above, in a table printed as an outline
    i = 0
    for g in raw.grids:
        for row, box in zip(g.rows, g.row_boxes, strict=True):
            header = i < nhead or _is_column_numbers([c.text for c in row])
            cells = []
            for c, gc in enumerate(row):
                role = roles[c] if c < len(roles) else None
                first = all(not x.text for x in row[:c]) or role == "label"
                cell = _cell(gc.text, g.page, gc.bbox, role, first)
                if header and cell.role != "empty":
                    cell.role = "header"
                    cell.value = None
                cells.append(cell)
            if not header:
                _join_split_code(cells, roles, outline)
            rows.append(Row(cells=cells, page=g.page, bbox=box, header=header))
            i += 1
    if unit is None and raw.caption:
        m = re.search(r"[（(](万元|元)[)）]", "".join(raw.caption))
        unit = m.group(1) if m else None
    if unit is None:
        head = "".join(texts[0]) if texts else ""
        m = re.search(r"[（(](万元|元)[)）]", head)
        unit = m.group(1) if m else None
    notes = [clean_text(n) for n in raw.notes]
    return Table(
        id=f"t{index:02d}",
        code=code,
        kind=kind,
        title=title or "",
        unit=unit,
        pages=sorted({g.page for g in raw.grids}),
        header_rows=nhead,
        columns=columns,
        notes=notes,
        empty_statement=any(EMPTY_RE.search(n) for n in notes + raw.caption + [
            c.text for row in rows for c in row.cells if not c.value]),
        caption=[clean_text(c) for c in raw.caption],
        rows=rows,
    )
