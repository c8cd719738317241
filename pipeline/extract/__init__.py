"""Rule-based extraction: narrative sentences become typed claims (the offline default)."""

from __future__ import annotations

from pipeline.extract.mentions import REASON_RE, sentence_claims, split_sentences
from pipeline.extract.perf import extract_projects, extract_summary, extract_targets
from pipeline.numbers import join_split_numbers
from schemas.claims import Claims, Sentence
from schemas.document import Document


def extract_sentences(doc: Document) -> list[Sentence]:
    out: list[Sentence] = []
    paragraph = 0
    for section in doc.sections:
        path = " > ".join(section.path)
        part = section.path[0] if section.path else ""
        for block in section.blocks:
            paragraph += 1
            joined = join_split_numbers(block.text)
            breaks = [(len(join_split_numbers(block.text[:o])), p) for o, p in block.breaks]
            at = 0
            for text in split_sentences(joined):
                at = max(joined.find(text, at), at)
                page = next((p for o, p in reversed(breaks) if o <= at), block.page)
                reasons = [r.group(1).strip("：:，。；") for r in REASON_RE.finditer(text)]
                out.append(
                    Sentence(
                        text=text,
                        section=path,
                        part=part,
                        page=page,
                        bbox=block.bbox,
                        paragraph=paragraph,
                        breaks=[(o - at, p) for o, p in breaks if at < o < at + len(text)],
                        claims=sentence_claims(text),
                        reasons=[r for r in reasons if r],
                    )
                )
                at += len(text)
    return out


def extract(doc: Document) -> Claims:
    """All claims of a document: narrative sentences, 绩效 projects, the 绩效 summary."""
    sentences = extract_sentences(doc)
    projects = extract_projects(doc, sentences)
    return Claims(sentences=sentences, projects=projects, targets=extract_targets(doc),
                  summary=extract_summary(sentences))
