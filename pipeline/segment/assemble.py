"""Segmentation: a PDF report becomes a Document of tables and narrative sections."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.numbers import CN as CN_NUM
from pipeline.numbers import clean_text
from pipeline.segment.catalog import CODE_RE, TITLE_HINT_RE, catalogue_title, kind_from_title
from pipeline.segment.grid import Grid, find_grids, free_lines
from pipeline.segment.pdf import PageLayout, TextLine, read_layout
from pipeline.segment.tables import RawTable, build_table, caption_rows
from schemas.document import Block, Document, Section, TocEntry

log = logging.getLogger(__name__)

HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"^第[{CN_NUM}]+部分")),
    (1, re.compile(rf"^[{CN_NUM}]+[、.．]")),
    (2, re.compile(rf"^[（(][{CN_NUM}]+[)）]")),
    (3, re.compile(r"^\d{1,2}[、.．](?!\d)")),
    (4, re.compile(r"^[（(]\d{1,2}[)）]")),
)
TOC_LINE_RE = re.compile(r"^(.*?)(?:\.{3,}|…{2,}|·{3,}|\s{2,})\s*(\d{1,3})$")
NOTE_RE = re.compile(r"^(注|说明|备注|填报说明)\s*\d*\s*[:：]|^本表无数据|^本表为空")
MAX_HEADING = 40


@dataclass
class Para:
    text: str
    page: int
    bbox: tuple[float, float, float, float]
    heading: int | None = None  # level when the paragraph is a heading
    block: int = -1
    last_page: int = 0
    last_x1: float = 0.0
    last_y1: float = 0.0
    breaks: list[tuple[int, int]] = field(default_factory=list)  # (offset, page) of later pages


def _union(a: tuple[float, float, float, float], b: tuple[float, float, float, float]):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _line_height(line: TextLine) -> float:
    return max(line.bbox[3] - line.bbox[1], 6.0)


def _line_text(line: TextLine) -> str:
    return clean_text(" ".join(s.text for s in line.spans))


def _is_caption_line(text: str) -> bool:
    t = re.sub(r"\s+", "", text)
    if not t or len(t) > 60:
        return False
    if CODE_RE.search(t) or t == "表" or re.fullmatch(r"(预算)?公开\d{1,2}", t):
        return True
    if re.match(r"^(?:(?:部门|单位|预算单位)名称|预算单位|编制单位)[:：]", t) or re.search(r"单位[:：]\s*(万)?元", t):
        return True
    if re.fullmatch(r"[（(]?\d{4}年度?[)）]?", t) or re.search(r"\d{4}年度$", t):
        return True
    return bool(TITLE_HINT_RE.search(t)) and "。" not in t and len(t) <= 45


def _wrapped_title(text: str, rest: str) -> bool:
    """A budget title's first line, its last words (预算表（…）) on the caption line after it."""
    t = re.sub(r"\s+", "", text)
    return bool(re.match(r"^[^。，]{0,12}表", re.sub(r"\s+", "", rest))) and len(t) <= 45 \
        and bool(re.search(r"预算|决算", t)) and not re.search(r"[。，；]", t)


def _stray(text: str) -> bool:
    """A fragment of a cell: a few characters, no figure, no heading, no caption."""
    t = re.sub(r"\s+", "", text)
    return 0 < len(t) <= 4 and not re.search(r"\d", t) and not _is_caption_line(t) \
        and _heading_level(t) is None


def _heading_level(text: str) -> int | None:
    if len(text) > MAX_HEADING or re.search(r"[。；;]|[：:]$", text):
        return None
    if text.count("，") >= 2:
        return None
    for level, pattern in HEADINGS:
        if pattern.match(text):
            return level
    return None


PAGE_NUMBER_RE = re.compile(
    r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[，,/]?\s*共\s*\d{1,3}\s*页)?|"
    r"\d{1,3}(?:\s*/\s*\d{1,3})?|page\s*\d+(?:\s*of\s*\d+)?)$", re.I)
MARGIN = 0.07
NUMBER_MARGIN = 0.15


def _page_furniture(pages: list[tuple[PageLayout, list[tuple[int, TextLine]]]]) -> set[tuple[int, int]]:
    """Running headers, footers and page numbers: lines in the top or bottom margin that are a
    page number, or whose text (digits aside) recurs in the margins of three or more pages."""
    found: set[tuple[int, int]] = set()
    seen: dict[str, list[tuple[int, int]]] = {}
    for page, lines in pages:
        for i, line in lines:
            text = re.sub(r"\s+", "", line.text)
            if line.bbox[1] > page.height * (1 - NUMBER_MARGIN) and PAGE_NUMBER_RE.match(text):
                found.add((page.number, i))  # Word puts page numbers a little higher
                continue
            top, bottom = line.bbox[3] < page.height * MARGIN, line.bbox[1] > page.height * (
                1 - MARGIN)
            if not (top or bottom):
                continue
            if PAGE_NUMBER_RE.match(text):
                found.add((page.number, i))
                continue
            key = ("T" if top else "B") + re.sub(r"\d+", "#", text)
            seen.setdefault(key, []).append((page.number, i))
    for places in seen.values():
        if len({p for p, _ in places}) >= 3:
            found.update(places)
    return found


def _caption_key(caption: list[str]) -> tuple[str, ...]:
    """A caption without its unit line and page marks: what a repeated title repeats."""
    out = []
    for line in caption:
        t = re.sub(r"\s+", "", line)
        t = re.sub(r"(金额)?单位[:：]?(万元|元|千元)$", "", t)
        if t and not re.fullmatch(r"[-—－\d第页/共]+", t):
            out.append(t)
    return tuple(out)


def _same_caption(a: list[str], b: list[str]) -> bool:
    """Two captions that name one table: the same title (and 部门 line), printed again on the
    page that continues it."""
    ka, kb = _caption_key(a), _caption_key(b)
    # the code printed above the first page only (表5 | title, then title alone): the same table
    codes_a = [t for t in ka if CODE_RE.fullmatch(t)]
    codes_b = [t for t in kb if CODE_RE.fullmatch(t)]
    if codes_a and codes_b and codes_a != codes_b:
        return False
    titles = [t for t in ka if catalogue_title(t) or CODE_RE.search(t)]
    ka = tuple(t for t in ka if not CODE_RE.fullmatch(t))
    kb = tuple(t for t in kb if not CODE_RE.fullmatch(t))
    # a 绩效 table is one project's: the next page's table of the same title is another project
    return bool(kb) and ka == kb and bool(titles) and not any(
        (kind_from_title(t) or "").startswith("perf") for t in titles)


class _Assembler:
    """Walks the pages top to bottom, sorting lines into TOC, captions, notes and narrative."""

    def __init__(self, pages: list[PageLayout]) -> None:
        self.pages = pages
        self.raw_tables: list[RawTable] = []
        self.toc: list[TocEntry] = []
        self.paras: list[Para] = []
        self.pending: list[tuple[int, TextLine]] = []  # free lines since the last grid
        self.last_was_grid = False
        self.in_toc = False
        self.toc_page = 0
        self.notes_open: RawTable | None = None
        self.title_lines: list[str] = []
        self.right_edges: dict[int, float] = {}
        self.left_edges: dict[int, float] = {}
        self.indented: dict[int, bool] = {}
        self.grid_page = 0  # the page of the last grid seen

    def run(self) -> None:
        pages = [(page, find_grids(page)) for page in self.pages]
        furniture = _page_furniture([(page, free_lines(page, grids)) for page, grids in pages])
        for page, grids in pages:
            items: list[tuple[float, int, object]] = [(g.bbox[1], 1, g) for g in grids]
            items += [(ln.bbox[1], 0, ln) for i, ln in free_lines(page, grids)
                      if (page.number, i) not in furniture]
            items.sort(key=lambda it: (it[0], it[1]))
            first_on_page = True
            for _, _, obj in items:
                if isinstance(obj, Grid):
                    self._grid(obj, first_on_page, page)
                else:
                    self._line(obj, page)  # type: ignore[arg-type]
                first_on_page = False
        self._flush_pending()

    # -- lines ---------------------------------------------------------------------------
    def _line(self, line: TextLine, page: PageLayout) -> None:
        text = _line_text(line)
        if not text:
            return
        compact = re.sub(r"\s+", "", text)
        if compact in ("目录", "目次"):
            self.in_toc = True
            if not self.toc_page and page.number <= 5:
                self.toc_page = page.number  # the report's own 目录, not a project's later on
            self.last_was_grid = False
            return
        m = TOC_LINE_RE.match(text)
        if m and ("..." in text or "…" in text or self.in_toc):
            self.toc.append(TocEntry(title=clean_text(m.group(1)), page_ref=int(m.group(2)),
                                     page=page.number))
            return
        if self.in_toc and not m and self._toc_entry_without_page(text, page):
            return
        if self.in_toc and not m:
            self.in_toc = False
        if page.number == 1 and not self.toc and not self.paras and len(self.title_lines) < 3:
            table_caption = _is_caption_line(text) and bool(
                kind_from_title(text) or CODE_RE.search(re.sub(r"\s+", "", text)))
            if not self.raw_tables and _heading_level(text) is None and not table_caption:
                self.title_lines.append(text)
                return
        self.last_was_grid = False
        if self.notes_open is not None:
            if self._note(text, line, page):
                return
            self.notes_open = None
        self.pending.append((page.number, line))

    def _toc_entry_without_page(self, text: str, page: PageLayout) -> bool:
        """A 目录 line printed without a page number (…… or nothing after the title), on the
        目录's own page; a lone 表 ends the entry before it (a title wrapped in the 目录)."""
        title = re.sub(r"[.…·\s]+$", "", text)
        if title.endswith("。") and len(title) <= 30:
            title = title[:-1]  # 一、主要职能。 as some 目录 print it
        if page.number != self.toc_page or not title or len(title) > 50 or "。" in title:
            return False
        if len(re.sub(r"\s+", "", title)) <= 4 and title.endswith("表") and self.toc:
            self.toc[-1].title += re.sub(r"\s+", "", title)  # 支出预算 | 表 wrapped
        else:
            self.toc.append(TocEntry(title=clean_text(title), page_ref=None, page=page.number))
        return True

    def _note(self, text: str, line: TextLine, page: PageLayout) -> bool:
        raw = self.notes_open
        assert raw is not None
        if NOTE_RE.match(text) or re.search(r"本表无数据|本表为空", text):
            raw.notes.append(text)
            return True
        remarks = any(n.startswith("备注") for n in raw.notes)
        if remarks and re.match(r"^\d+[.、．]", text):
            raw.notes.append(text)
            return True
        if raw.notes and not raw.notes[-1].endswith("。") and self._continues(raw.notes[-1]):
            raw.notes[-1] += text
            return True
        return False

    def _continues(self, prev: str) -> bool:
        return len(prev) >= 30

    # -- grids ---------------------------------------------------------------------------
    def _grid(self, grid: Grid, first_on_page: bool, page: PageLayout) -> None:
        first_grid = self.grid_page != grid.page
        self.grid_page = grid.page
        inner_caption = self._peel_caption(grid, page)
        if self.in_toc or self._is_toc_grid(grid):
            for row in grid.rows:
                texts = [c.text for c in row if c.text]
                if texts:
                    ref = int(texts[-1]) if texts[-1].isdigit() and len(texts) > 1 else None
                    title = "".join(texts[:-1]) if ref is not None else "".join(texts)
                    self.toc.append(TocEntry(title=clean_text(title), page_ref=ref, page=grid.page))
            return
        prev = self.raw_tables[-1] if self.raw_tables else None
        if prev is not None and first_on_page and prev.grids[-1].page == grid.page - 1 \
                and self.pending and all(_stray(_line_text(ln)) for _, ln in self.pending):
            # a word of a wrapped cell printed outside the ruling at the page break (支出 of
            # “2110199-其他环境保护管理事务支出”): not text between two tables
            self.pending = []
            self.last_was_grid = True
        if (
            prev is not None
            and self.last_was_grid
            and not self.pending
            and not inner_caption
            and prev.grids[-1].page == grid.page
            and 0 <= grid.bbox[1] - prev.grids[-1].bbox[3] < 6
        ):
            prev.grids.append(grid)  # a header ruled apart from its body, directly above it
        elif (
            prev is not None
            and first_on_page
            and self.last_was_grid
            and not self.pending
            and prev.grids[-1].page == grid.page - 1
            and not inner_caption
        ):
            self._continue(prev, grid)
        else:
            caption = self._take_caption() + inner_caption
            self._flush_pending()
            if prev is not None and prev.grids[-1].page == grid.page - 1 and first_grid and \
                    _same_caption(prev.caption, caption):
                self._continue(prev, grid)  # the title and header repeated on the next page
            else:
                self.raw_tables.append(RawTable(grids=[grid], caption=caption))
        self.last_was_grid = True
        self.notes_open = self.raw_tables[-1]

    @staticmethod
    def _peel_caption(grid: Grid, page: PageLayout) -> list[str]:
        """Caption rows drawn inside the ruling (spreadsheet exports) leave the grid; their text
        is read from the page's own lines, since a title spanning merged cells is cut at column
        edges in the cells."""
        n = caption_rows(grid)
        if not n:
            return []
        top, bottom = grid.row_boxes[0][1], grid.row_boxes[n - 1][3]
        lines = [ln for i, ln in enumerate(page.lines)
                 if i in grid.used_lines and top <= (ln.bbox[1] + ln.bbox[3]) / 2 <= bottom]
        lines.sort(key=lambda ln: (round(ln.bbox[1]), ln.bbox[0]))
        del grid.rows[:n]
        del grid.row_boxes[:n]
        return [t for t in (_line_text(ln) for ln in lines) if t]

    def _is_toc_grid(self, grid: Grid) -> bool:
        rows = [[c.text for c in r if c.text] for r in grid.rows]
        refs = [r for r in rows if len(r) == 2 and r[1].isdigit() and not r[0][-1].isdigit()]
        parts = sum(1 for r in rows if r and re.match(r"^第[一二三四五]部分", r[0]))
        return len(rows) >= 4 and len(refs) >= 0.8 * len(rows) and parts >= 1

    def _continue(self, prev: RawTable, grid: Grid) -> None:
        first = prev.grids[0]
        head = [[c.text for c in r] for r in first.rows[:4]]
        while grid.rows and [c.text for c in grid.rows[0]] in head:
            grid.rows.pop(0)
            grid.row_boxes.pop(0)
        if len(grid.xs) != len(first.xs):
            log.debug("continuation on page %d has %d columns, not %d", grid.page,
                      len(grid.xs) - 1, len(first.xs) - 1)
        prev.grids.append(grid)

    def _take_caption(self) -> list[str]:
        lines = [_line_text(ln) for _, ln in self.pending]
        k = self._plain_caption_start(lines)
        titled = self._titled_caption_start(lines)
        if titled is not None:
            k = min(k, titled)
        caption = lines[k:]
        self.pending = self.pending[:k]
        return caption

    def _titled_caption_start(self, lines: list[str]) -> int | None:
        """Where the caption starts when a table title is printed above the grid with other
        short lines between (部门：, the department's name on its own line, 单位：, header words
        that are not ruled): the farthest title or code line within the run of short lines on
        the grid's page. A title wrapped onto a second line counts from its first line."""
        if not self.pending:
            return None
        page = self.pending[-1][0]
        start = None
        k = len(lines)
        while k > 0 and len(lines) - k < 14 and self.pending[k - 1][0] >= page - 1:
            text = re.sub(r"\s+", "", lines[k - 1])
            if _heading_level(text) == 0 or len(text) > 60 or re.search(r"[。；;]", text):
                break
            tail = re.sub(r"\s+", "", lines[k]) if k < len(lines) else ""
            wrapped = text + tail if len(tail) <= 4 else text  # 表 or 算表 wrapped alone
            if catalogue_title(text) or catalogue_title(wrapped) or (
                    _is_caption_line(text) and CODE_RE.search(text)):
                start = k - 1
            k -= 1
        return start

    def _plain_caption_start(self, lines: list[str]) -> int:
        k = len(lines)
        while k > 0 and len(lines) - k < 8:
            text = lines[k - 1]
            if _heading_level(text) == 0:
                break
            if _is_caption_line(text):
                k -= 1
                continue
            before = lines[k - 2] if k >= 2 else ""
            if k == len(lines) and _heading_level(text) in (1, 2) and _is_caption_line(before):
                k -= 1  # a sub-heading printed above the grid, under the caption
                continue
            if re.match(r"^(部门|单位)名称", before) and len(text) <= 20 and "。" not in text:
                k -= 1
                continue
            if k < len(lines) and _wrapped_title(text, lines[k]):
                k -= 1  # a title wrapped before its last words (…购买服务） | 预算表（不含上年结转）)
                continue
            break
        return k

    # -- narrative -----------------------------------------------------------------------
    def _flush_pending(self) -> None:
        for page_no, line in self.pending:
            self._add_line(page_no, line)
        self.pending = []

    def _add_line(self, page_no: int, line: TextLine) -> None:
        text = _line_text(line)
        level = _heading_level(text)
        if level and self._runs_on(page_no, line, text):
            level = None  # "3．住房保障（类）支出3894.09万元，主要用于…" fills the line: a paragraph
        prev = self.paras[-1] if self.paras else None
        if (
            prev is not None
            and level is None
            and prev.heading is None
            and self._joins(prev, page_no, line)
        ):
            if page_no != prev.last_page:
                prev.breaks.append((len(prev.text), page_no))
            prev.text += text
            if page_no == prev.page:
                prev.bbox = _union(prev.bbox, line.bbox)
            prev.last_page, prev.block, prev.last_x1 = page_no, line.block, line.bbox[2]
            prev.last_y1 = line.bbox[3]
            return
        self.paras.append(
            Para(
                text=text,
                page=page_no,
                bbox=line.bbox,
                heading=level,
                block=line.block,
                last_page=page_no,
                last_x1=line.bbox[2],
                last_y1=line.bbox[3],
            )
        )

    def _joins(self, prev: Para, page_no: int, line: TextLine) -> bool:
        """Lines of one text block form a paragraph; so does a line that follows a full line
        closely (Word exports give every line a block of its own), and a paragraph cut by a
        page break."""
        height = _line_height(line)
        full = prev.last_x1 >= self._right_edge(prev.last_page) - 2 * height or (
            # a line a few half-width characters short of the edge, the next flush left where
            # this template indents the first line of a paragraph: one paragraph
            prev.last_x1 >= self._right_edge(prev.last_page) - 6 * height
            and line.bbox[0] <= self._left_edge(page_no) + 0.5 * height
            and self._indents(page_no) and not re.search(r"[。：:；;！!？?]$", prev.text))
        if page_no == prev.last_page:
            if line.block == prev.block:
                return True
            gap = line.bbox[1] - prev.last_y1
            return full and 0 <= gap < 1.6 * _line_height(line) and not prev.text.endswith("。")
        return full and not prev.text.endswith("。")

    def _runs_on(self, page_no: int, line: TextLine, text: str) -> bool:
        """A numbered line that reaches the right edge with a figure in it and no closing
        punctuation is the first line of a paragraph, not a heading."""
        if line.bbox[2] < self._right_edge(page_no) - 2 * _line_height(line):
            return False
        return bool(re.search(r"\d[\d,.]*\s*(万元|元|%)|\d[\d,.]{2,}$|，", text)) and not re.search(
            r"[：:。]$", text)

    def _left_edge(self, page_no: int) -> float:
        """Where lines of body text start on a page: the left edge of most of its long lines."""
        if page_no not in self.left_edges:
            starts = sorted(ln.bbox[0] for ln in self.pages[page_no - 1].lines
                            if len(ln.text.strip()) >= 12)
            self.left_edges[page_no] = starts[int(0.1 * (len(starts) - 1))] if starts else 0.0
        return self.left_edges[page_no]

    def _indents(self, page_no: int) -> bool:
        """The page's paragraphs start indented: some long lines start two characters in."""
        if page_no not in self.indented:
            left = self._left_edge(page_no)
            self.indented[page_no] = any(
                1.2 * _line_height(ln) <= ln.bbox[0] - left <= 3.5 * _line_height(ln)
                for ln in self.pages[page_no - 1].lines if len(ln.text.strip()) >= 12)
        return self.indented[page_no]

    def _right_edge(self, page_no: int) -> float:
        """Where full lines of body text end on a page: the right edge of its longest lines."""
        if page_no not in self.right_edges:
            page = self.pages[page_no - 1]
            ends = sorted(ln.bbox[2] for ln in page.lines if len(ln.text.strip()) >= 12)
            self.right_edges[page_no] = ends[int(0.9 * (len(ends) - 1))] if len(ends) >= 3 else \
                page.width * 0.86
        return self.right_edges[page_no]

    def sections(self) -> list[Section]:
        sections: list[Section] = []
        stack: list[tuple[int, str]] = []
        current: Section | None = None
        for para in self.paras:
            if para.heading is not None:
                while stack and stack[-1][0] >= para.heading:
                    stack.pop()
                stack.append((para.heading, para.text))
                current = Section(
                    title=para.text,
                    path=[t for _, t in stack],
                    level=para.heading,
                    pages=[para.page],
                    text="",
                )
                sections.append(current)
                continue
            if current is None:
                current = Section(title="", path=[], level=0, pages=[para.page], text="")
                sections.append(current)
            current.text = f"{current.text}\n{para.text}" if current.text else para.text
            if para.page not in current.pages:
                current.pages.append(para.page)
            current.blocks.append(Block(text=para.text, page=para.page, bbox=para.bbox,
                                        breaks=para.breaks))
        return sections


def segment(path: Path) -> Document:
    """Read a report PDF into the document model. Raises PdfError for unreadable input."""
    pages = read_layout(path)
    asm = _Assembler(pages)
    asm.run()
    tables = [build_table(raw, i + 1) for i, raw in enumerate(asm.raw_tables)]
    title = "".join(asm.title_lines)
    report_type = "final_accounts" if "决算" in title else "budget" if "预算" in title else "unknown"
    if report_type == "unknown":
        kinds = {t.kind[:2] for t in tables}
        report_type = "final_accounts" if "fa" in kinds else "budget" if "bu" in kinds else "unknown"
    return Document(
        source=path.name,
        page_count=len(pages),
        title=title,
        report_type=report_type,  # type: ignore[arg-type]
        toc=asm.toc,
        tables=tables,
        sections=asm.sections(),
    )
