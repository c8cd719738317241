"""The one module that talks to PyMuPDF.

It turns a PDF into plain layout data (text lines with their spans, ruling segments) and back
(highlighted copies). Every other module sees these dataclasses, never a ``pymupdf`` object.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

# PyMuPDF 2 imports its layout add-on and pymupdf4llm whenever they are installed (the wheel
# depends on both): an ONNX model and runtime, numpy and OCR helpers the project never uses, most
# of the CPU of a small `check` and ~90 MiB in every worker. PyMuPDF goes on without them when
# their import fails, which a None in sys.modules makes it do.
for _unused in ("pymupdf.layout", "pymupdf4llm"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]

import pymupdf  # noqa: E402

log = logging.getLogger(__name__)

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


class PdfError(Exception):
    """A report that cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class Span:
    text: str
    bbox: tuple[float, float, float, float]
    size: float
    bold: bool
    char_x: tuple[float, ...] = ()  # left edge of each character of text


@dataclass
class TextLine:
    spans: list[Span]
    bbox: tuple[float, float, float, float]
    block: int = 0  # lines of one PDF text block form one paragraph

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Segment:
    """A horizontal or vertical ruling line."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) < abs(self.x1 - self.x0)


@dataclass
class PageLayout:
    number: int  # 1-based
    width: float
    height: float
    lines: list[TextLine] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


def _ruling_segments(drawings: list[dict]) -> list[Segment]:
    """Horizontal and vertical rules from page.get_cdrawings() (plain tuples, fast)."""
    out: list[Segment] = []
    for d in drawings:
        for item in d["items"]:
            if item[0] == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ay - by) < 1.0 or abs(ax - bx) < 1.0:
                    out.append(Segment(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
            elif item[0] == "re":
                x0, y0, x1, y1 = item[1]
                w, h = x1 - x0, y1 - y0
                if h < 2.0 and w > 2.0:
                    out.append(Segment(x0, (y0 + y1) / 2, x1, (y0 + y1) / 2))
                elif w < 2.0 and h > 2.0:
                    out.append(Segment((x0 + x1) / 2, y0, (x0 + x1) / 2, y1))
                elif w >= 2.0 and h >= 2.0 and d.get("color") is not None:
                    out += [
                        Segment(x0, y0, x1, y0),
                        Segment(x0, y1, x1, y1),
                        Segment(x0, y0, x0, y1),
                        Segment(x1, y0, x1, y1),
                    ]
    return out


def _text_lines(page_dict: dict) -> list[TextLine]:
    lines: list[TextLine] = []
    for bno, block in enumerate(page_dict["blocks"]):
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            spans = []
            for s in line["spans"]:
                chars = s["chars"]
                text = "".join(c["c"] for c in chars)
                if not text.strip():
                    continue
                spans.append(
                    Span(
                        text=text,
                        bbox=tuple(s["bbox"]),  # type: ignore[arg-type]
                        size=s["size"],
                        bold=bool(s["flags"] & 16) or "Bold" in s.get("font", ""),
                        char_x=tuple(c["bbox"][0] for c in chars),
                    )
                )
            if spans:
                x0 = min(s.bbox[0] for s in spans)
                y0 = min(s.bbox[1] for s in spans)
                x1 = max(s.bbox[2] for s in spans)
                y1 = max(s.bbox[3] for s in spans)
                lines.append(TextLine(spans=spans, bbox=(x0, y0, x1, y1), block=bno))
    return lines


def not_a_pdf(head: bytes) -> str | None:
    """Why a file whose first 1,024 bytes are `head` is not a PDF, or None."""
    if not head:
        return "the file is empty"
    if b"%PDF" not in head:
        return "not a PDF file"
    return None


def _open(path: Path) -> pymupdf.Document:
    if not path.exists():
        raise PdfError(f"{path}: no such file")
    if path.is_dir():
        raise PdfError(f"{path}: is a folder, not a PDF file")
    with path.open("rb") as fh:
        reason = not_a_pdf(fh.read(1024))
    if reason:
        raise PdfError(f"{path}: {reason}")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types for broken files
        raise PdfError(f"{path}: the PDF is damaged and cannot be read ({exc})") from None
    if doc.needs_pass:
        raise PdfError(f"{path}: the PDF is encrypted (password protected); decrypt it first")
    if doc.page_count == 0:
        if doc.is_repaired:
            raise PdfError(f"{path}: the PDF is damaged or truncated: no page could be read")
        raise PdfError(f"{path}: the PDF has no pages")
    if doc.is_repaired:
        log.warning("%s: the PDF was damaged and has been repaired; check the result", path)
    for page in doc.pages():
        if page.rotation:
            # a /Rotate page (landscape tables exported sideways) is read as it is displayed:
            # text runs left to right and top to bottom, and every bbox is in display space
            page.remove_rotation()
    return doc


def read_layout(path: Path) -> list[PageLayout]:
    """Read every page's text lines and ruling segments."""
    doc = _open(path)
    pages: list[PageLayout] = []
    try:
        for page in doc.pages():
            flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
            pd = page.get_text("rawdict", flags=flags)
            pages.append(
                PageLayout(
                    number=page.number + 1,
                    width=page.rect.width,
                    height=page.rect.height,
                    lines=_text_lines(pd),
                    segments=_ruling_segments(page.get_cdrawings()),
                )
            )
    except Exception as exc:
        raise PdfError(f"{path}: the PDF is damaged and cannot be read ({exc})") from None
    finally:
        doc.close()
    if not any(p.lines for p in pages):
        raise PdfError(
            f"{path}: no text found in the PDF (a scanned report?); OCR is not available"
        )
    if _unreadable(pages):
        raise PdfError(f"{path}: the PDF's text layer cannot be read (its font maps give "
                       "replacement or private-use characters, not text)")
    return pages


def _unreadable(pages: list[PageLayout]) -> bool:
    """Most of the text is U+FFFD or private-use code points: damaged font maps, mojibake."""
    chars = [ch for p in pages for ln in p.lines for ch in ln.text if not ch.isspace()]
    bad = sum(ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" for ch in chars)
    return bool(chars) and bad > 0.5 * len(chars)


def raw_text_dict_time(path: Path) -> float:
    """Seconds PyMuPDF needs for page.get_text('dict') on every page: the benchmark floor."""
    import time

    doc = _open(path)
    t0 = time.perf_counter()
    for page in doc.pages():
        page.get_text("dict")
    elapsed = time.perf_counter() - t0
    doc.close()
    return elapsed


@dataclass(frozen=True)
class Highlight:
    page: int  # 1-based
    bbox: tuple[float, float, float, float]
    note: str
    color: tuple[float, float, float]
    quote: str = ""  # when found inside bbox, only the quote is highlighted


def write_highlights(src: Path, dest: Path, highlights: list[Highlight]) -> int:
    """Copy ``src`` to ``dest`` with a highlight and a note per item; returns how many."""
    doc = _open(src)
    n = 0
    for h in highlights:
        if not 1 <= h.page <= doc.page_count:
            continue
        page = doc[h.page - 1]
        rect = pymupdf.Rect(h.bbox)
        if rect.is_empty:
            continue
        hits = page.search_for(h.quote, clip=rect + (-2, -2, 2, 2)) if h.quote else []
        annot = page.add_highlight_annot(hits[:1] or rect)
        annot.set_colors(stroke=h.color)
        annot.set_info(content=h.note, title="Budget Lens")
        annot.update()
        n += 1
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    doc.save(tmp, garbage=3, deflate=True)
    doc.close()
    tmp.replace(dest)
    return n


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Width and height of every page, as displayed (the space evidence bboxes are in)."""
    doc = _open(path)
    try:
        return [(page.rect.width, page.rect.height) for page in doc.pages()]
    finally:
        doc.close()


def render_page(path: Path, number: int, width: int = 1100) -> bytes:
    """One page (1-based) as a PNG `width` pixels wide, as displayed."""
    doc = _open(path)
    try:
        if not 1 <= number <= doc.page_count:
            raise PdfError(f"{path}: no page {number}")
        page = doc[number - 1]
        zoom = width / page.rect.width
        return page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png")
    finally:
        doc.close()
