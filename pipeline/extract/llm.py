"""LLM extraction: the rule-based claims, plus what the model reads in the narrative and the
绩效 material — each answer grounded in its source chunk before it is kept.

The rules always run first, so LLM mode never loses a rule finding; a chunk whose call fails
keeps its rule-based claims and leaves a warning.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from pipeline.extract import extract
from pipeline.llm import LLMClient, LLMError, LLMUnreachable
from pipeline.numbers import clean_text, numbers_in
from pipeline.prompts import load_prompt
from schemas.claims import Claims, LLMNarrative, LLMOutput, PerfProject
from schemas.document import Document
from schemas.llm import IndicatorReason, NarrativeClaim, ProjectReasons, SectionClaims

log = logging.getLogger(__name__)

SEPARATORS = ["\n\n", "\n", "。", "；", "，", ""]


@dataclass(frozen=True)
class Chunk:
    id: str
    kind: str  # section | project
    title: str
    text: str
    page: int
    pages: tuple[int, ...]
    bbox: tuple[float, float, float, float]

    @property
    def hash(self) -> str:
        return hashlib.sha256(f"{self.kind}\x1f{self.title}\x1f{self.text}".encode()).hexdigest()


def splitter(size: int = 900) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=0, separators=SEPARATORS, keep_separator="end"
    )


def section_chunks(doc: Document, size: int = 900) -> list[Chunk]:
    """The 情况说明 sections that state figures, split at Chinese sentence boundaries, with the
    pages each piece comes from."""
    out: list[Chunk] = []
    split = splitter(size)
    for n, section in enumerate(doc.sections):
        if not section.path or "说明" not in section.path[0]:
            continue
        if not re.search(r"\d", section.text):
            continue
        for k, piece in enumerate(split.split_text(section.text)):
            blocks = [b for b in section.blocks if b.text[:24] in piece or piece[:24] in b.text]
            blocks = blocks or section.blocks[:1]
            pages = tuple(sorted({b.page for b in blocks})) or tuple(section.pages)
            out.append(Chunk(
                id=f"s{n:03d}.{k}", kind="section", title=" > ".join(section.path), text=piece,
                page=pages[0], pages=pages, bbox=blocks[0].bbox if blocks else (0, 0, 0, 0),
            ))
    return out


def _plain(v: float | None) -> str:
    if v is None:
        return "—"
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def project_text(p: PerfProject) -> str:
    """The project's figures, indicators and reason texts, one line each, as the model reads them."""
    lines = []
    if p.rate is not None:
        lines.append(f"预算执行：全年预算数{_plain(p.budget_full)}{p.unit}，全年执行数{_plain(p.actual)}"
                     f"{p.unit}，执行率{_plain(p.rate)}%，偏差原因：{p.deviation_reason or '无'}")
    for i in p.indicators:
        lines.append(f"指标 {i.name}：目标{i.target or '—'}，实际{i.actual or '—'}，分值{_plain(i.weight)}，"
                     f"得分{_plain(i.score)}，偏差原因分析及改进措施：{i.reason or '无'}")
    for s in p.texts:
        if re.search(r"原因|偏差|改进|措施|执行率|未", s.text):
            lines.append(s.text)
    return clean_text_lines(lines)


def clean_text_lines(lines: Iterable[str]) -> str:
    return "\n".join(clean_text(x) for x in lines if x.strip())


def project_chunks(projects: list[PerfProject], size: int = 1800) -> list[Chunk]:
    out = []
    for n, p in enumerate(projects):
        text = project_text(p)
        if not text:
            continue
        piece = splitter(size).split_text(text)[0]
        page = p.pages[0] if p.pages else 1
        out.append(Chunk(id=f"p{n:03d}", kind="project", title=p.name, text=piece, page=page,
                         pages=tuple(p.pages), bbox=(0, 0, 0, 0)))
    return out


# -- grounding --------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("，", ",").replace("（", "(").replace("）", ")")


def _in(quote: str, source: str) -> bool:
    return bool(quote.strip()) and _squash(quote) in _squash(source)


def ground_claim(c: NarrativeClaim, chunk: Chunk) -> str | None:
    """Why the claim is not grounded in its chunk, or None when it is."""
    if not _in(c.quote, chunk.text):
        return f"quote not in the source: {c.quote[:40]}"
    numbers = numbers_in(chunk.text)
    values = [c.value, c.change, c.percentage, *(r.amount for r in c.reasons)]
    for v in values:
        if v is not None and not any(abs(v - n) < 1e-9 for n in numbers):
            return f"number {v:g} not in the source"
    unnamed = re.fullmatch(r"[（(]?(未指明|无|不详)?[)）]?", c.subject.strip())
    names = {c.subject, re.sub(r"[“”\"]|[（(][类款项][)）]", "", c.subject)}
    if not unnamed and not any(_in(n, c.quote) or _in(n, chunk.text) for n in names):
        return f"subject not in the source: {c.subject[:20]}"
    words = DIRECTION_WORDS.get(c.direction or "")
    if words and not re.search(words, _sentence_of(c.quote, chunk.text)):
        return f"direction {c.direction} not in the quote"
    return None


def _sentence_of(quote: str, source: str) -> str:
    """The sentence of the source the quote stands in (a quote may stop short of its verb)."""
    text, q = _squash(source), _squash(quote)
    i = text.find(q)
    if i < 0:
        return quote
    start = max(text.rfind(p, 0, i) for p in "。；;\n") + 1
    ends = [e for e in (text.find(p, i + len(q)) for p in "。；;\n") if e >= 0]
    return text[start:min(ends) if ends else len(text)]


DIRECTION_WORDS = {"增加": "增加|增长|上升|提高|增", "减少": "减少|下降|降低|节约|减", "持平": "持平|相同|一致|不变"}


def ground_reason(r: IndicatorReason, chunk: Chunk) -> str | None:
    if not _in(r.quote, chunk.text):
        return f"quote not in the source: {r.quote[:40]}"
    for text in (r.deviation_reason, r.improvement):
        if text and not _in(text, chunk.text):
            return f"text not in the source: {text[:40]}"
    return None


# -- the extractor ------------------------------------------------------------------------


def _section_call(client: LLMClient, doc: Document, chunk: Chunk) -> SectionClaims:
    prompt = load_prompt("section_claims")
    values = {"report": doc.title or doc.source, "section": chunk.title,
              "pages": "、".join(str(p) for p in chunk.pages), "chunk": chunk.text}
    return client.structured(prompt, values, SectionClaims, chunk.hash)


def _project_call(client: LLMClient, doc: Document, chunk: Chunk, rate: str) -> ProjectReasons:
    prompt = load_prompt("perf_reasons")
    values = {"report": doc.title or doc.source, "project": chunk.title, "rate": rate,
              "chunk": chunk.text}
    return client.structured(prompt, values, ProjectReasons, chunk.hash)


WHAT_ZH = {"claim": "数字陈述", "reason": "原因"}


def _grounded(items: list, ground, chunk: Chunk, what: str, out: LLMOutput) -> list:
    """The items grounded in the chunk; each dropped one leaves a warning."""
    kept = []
    for item in items:
        why = ground(item, chunk)
        if why:
            said = getattr(item, "quote", "")[:30]
            out.warnings.append(f"已舍弃“{chunk.title}”（第{chunk.page}页）中一条无法在原文中核实的"
                                f"{WHAT_ZH.get(what, what)}（“{said}”）：{why}")
            log.debug("dropped an ungrounded %s in %s: %s", what, chunk.id, why)  # reported once, below
            continue
        kept.append(item)
    return kept


def _run_all(chunks: list[Chunk], run, client: LLMClient) -> dict[str, tuple]:
    """Every chunk's call, concurrently within the client's limit, until the report's deadline;
    progress (done and in flight) on standard error when it is a terminal."""
    import sys

    from tqdm import tqdm

    results: dict[str, tuple] = {}
    start = getattr(client, "start_deadline", None)
    if start is not None:
        start()  # the report's deadline bounds every request, those in flight included
    pool = ThreadPoolExecutor(max_workers=max(1, client.config.concurrency))
    futures = {pool.submit(run, c): c for c in chunks}
    bar = tqdm(total=len(chunks), desc="LLM", unit="段", file=sys.stderr,
               disable=not sys.stderr.isatty())
    try:
        for fut in as_completed(futures, timeout=client.config.deadline):
            chunk, answer, error = fut.result()
            results[chunk.id] = (chunk, answer, error)
            bar.set_postfix_str(f"进行中{sum(not f.done() for f in futures)}", refresh=False)
            bar.update(1)
    except FuturesTimeout:
        pass  # what did not finish falls back to the rule-based claims
    finally:
        bar.close()
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def llm_extract(doc: Document, client: LLMClient) -> Claims:
    claims = extract(doc)
    out = LLMOutput()
    sections = section_chunks(doc)
    by_name = {p.name: p for p in claims.projects}
    projects = project_chunks(claims.projects)

    def run(chunk: Chunk):
        try:
            if chunk.kind == "section":
                return chunk, _section_call(client, doc, chunk), None
            p = by_name[chunk.title]
            rate = f"{_plain(p.rate)}%" if p.rate is not None else "未列"
            return chunk, _project_call(client, doc, chunk, rate), None
        except LLMError as exc:
            with client.usage._lock:
                client.usage.failures += 1
            return chunk, None, exc

    chunks = [*sections, *projects]
    results = _run_all(chunks, run, client)
    for chunk in chunks:
        if chunk.id not in results:
            out.warnings.append(f"“{chunk.title}”（第{chunk.page}页）的LLM抽取未在"
                                f"{client.config.deadline:g}秒期限内完成，沿用规则抽取的结果")
    for chunk, answer, error in (results[c.id] for c in chunks if c.id in results):
        if error is not None:
            msg = (f"{error}；各段均沿用规则抽取的结果" if isinstance(error, LLMUnreachable) else
                   f"“{chunk.title}”（第{chunk.page}页）的LLM抽取在{error.attempts}次尝试后失败"
                   f"（{error}），沿用规则抽取的结果")
            log.debug(msg)  # reported once, from out.warnings
            out.warnings.append(msg)
            continue
        if isinstance(answer, SectionClaims):
            for c in _grounded(answer.claims, ground_claim, chunk, "claim", out):
                out.narrative.append(LLMNarrative(claim=c, section=chunk.title, page=chunk.page,
                                                  bbox=chunk.bbox, chunk=chunk.id))
        elif isinstance(answer, ProjectReasons):
            out.reasons[chunk.title] = _grounded(answer.items, ground_reason, chunk, "reason", out)
    out.warnings = list(dict.fromkeys(out.warnings))  # one line for what two chunks both met
    out.usage = client.usage.as_dict()
    claims.llm = out
    return claims
