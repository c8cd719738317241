"""Shares: 占 a total, against the part and the total the sentence or its lead names."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.checks.base import (
    Context,
    amount,
    compare_pct,
    ev_figure,
    ev_sentence,
    fact_figure,
    finding,
    norm,
    ratio_interval,
    rule,
    severity_for,
    shared,
)
from pipeline.checks.narrative import (
    BREAKDOWN_RE,
    TOTALS,
    _money,
    _prev_sentences,
    narrative,
    wan,
    wan_tol,
)
from schemas.claims import Claim, Sentence
from schemas.findings import Finding

SHARE_OF_RE = re.compile(r"占(.{2,16}?)的?$")


def _share_phrase(s: Sentence, c: Claim) -> str | None:
    """The whole a share names (占“三公”经费的x% → 三公经费), if it names one."""
    m = SHARE_OF_RE.search(s.text[: c.start])
    return norm(m.group(1)).rstrip("的") if m and not m.group(1).startswith("比") else None


def _share_base(ctx: Context, sentences: list[Sentence], i: int, c: Claim):
    """The total a share is of: named after 占 (…的), else the head of the breakdown."""
    s = sentences[i]
    phrase = _share_phrase(s, c)
    if phrase is not None:
        for prev in [s, *_prev_sentences(sentences, i, 6)]:
            for cl in prev.claims:
                if _money(cl) and cl.kind == "amount" and norm(cl.subject).endswith(phrase):
                    return cl, None
        for key, (kind, row) in TOTALS.items():
            if phrase.endswith(key):
                fig = fact_figure(ctx, ctx.doc.table(kind), row)
                if fig is not None:
                    return None, fig
        return None, None
    for prev in [s, *_prev_sentences(sentences, i, 8)]:
        limit = c.start if prev is s else len(prev.text)
        found = list(BREAKDOWN_RE.finditer(prev.text[:limit]))
        if not found:
            continue
        km = found[-1]
        heads = [h for h in prev.claims if _money(h) and h.start < km.start() and h.kind == "amount"]
        if heads:
            return heads[-1], None
        return None, None
    return None, None


def _fits_other_total(part: Claim, share: Claim, head: Claim | None,
                      sentences: list[Sentence], i: int) -> bool:
    """The share fits another total stated in the head's sentence (总支出 against 本年支出)."""
    for prev in [sentences[i], *_prev_sentences(sentences, i, 8)]:
        if head is not None and head not in prev.claims:
            continue
        for cl in prev.claims:
            if cl is part or cl is head or not _money(cl) or cl.kind != "amount":
                continue
            if wan(cl) <= wan(part):
                continue
            iv = ratio_interval(wan(part), wan_tol(part), wan(cl), wan_tol(cl))
            if iv is not None and compare_pct(share.value, share.decimals, iv).ok:
                return True
        if head is not None:
            return False
    return False


def _by_section(ctx: Context, sentences: list[Sentence]) -> dict[str, list[Sentence]]:
    """The narrative's sentences by section, once per document (a share's named parts are looked
    for in its own section, not the whole report again for each share)."""
    def make() -> Iterator[dict[str, list[Sentence]]]:
        out: dict[str, list[Sentence]] = {}
        for x in sentences:
            out.setdefault(x.section, []).append(x)
        yield out

    return shared(ctx, "sentences_by_section", make)[0]


def _sentence_of(ctx: Context, sentences: list[Sentence]) -> dict[int, Sentence]:
    """Each claim's sentence, by the claim's identity, once per document."""
    def make() -> Iterator[dict[int, Sentence]]:
        yield {id(cl): x for x in reversed(sentences) for cl in x.claims}  # the first sentence wins

    return shared(ctx, "sentence_of_claim", make)[0]


def _whole_of_named_parts(ctx: Context, sentences: list[Sentence], i: int, c: Claim
                          ) -> tuple[float, float] | None:
    """When a passage gives each part's share of a whole it names but does not state (占“三公”经费
    的x%), the whole is the sum of those parts, provided the tables print that sum (the 三公 小计)."""
    phrase = _share_phrase(sentences[i], c)
    if not phrase:
        return None
    parts: list[Claim] = []
    for s in _by_section(ctx, sentences).get(sentences[i].section, []):
        for k, sc in enumerate(s.claims):
            if sc.kind == "share" and _share_phrase(s, sc) == phrase:
                part = next((p for p in reversed(s.claims[:k]) if _money(p)), None)
                if part is not None and part not in parts:
                    parts.append(part)
    if len(parts) < 2:
        return None
    total = sum(wan(p) for p in parts)
    tol = sum(wan_tol(p) for p in parts)
    printed = next((f for f in ctx.facts if not f.blank
                    and abs(f.value - total) <= f.half_unit + tol + 1e-9), None)
    if printed is None:
        return None
    return printed.value, printed.half_unit  # the table's figure, at the table's precision


@rule("nar.share", "error", "占比应等于该项金额 ÷ 所属总额。")
def check_share(ctx: Context) -> Iterator[Finding]:
    sentences = narrative(ctx)
    for i, s in enumerate(sentences):
        for k, c in enumerate(s.claims):
            if c.kind != "share":
                continue
            part = next((p for p in reversed(s.claims[:k]) if _money(p)), None)
            if part is None or c.start - part.start - len(part.text) > 12:
                continue
            head, fig = _share_base(ctx, sentences, i, c)
            if head is not None and head is not part:
                base, base_tol, base_text = wan(head), wan_tol(head), head.text
                home = _sentence_of(ctx, sentences).get(id(head), s)
                base_ev = ev_sentence(home, head) if home is not s else None  # the total's source
            elif fig is not None:
                base, base_tol, base_text, base_ev = fig.value, fig.tol, fig.text, ev_figure(fig)
            else:
                whole = _whole_of_named_parts(ctx, sentences, i, c)
                if whole is None:
                    continue
                base, base_tol = whole
                base_text, base_ev = f"各项之和{amount(base)}", None
            interval = ratio_interval(wan(part), wan_tol(part), base, base_tol)
            if interval is None:
                continue
            v = compare_pct(c.value, c.decimals, interval)
            if v.ok or _fits_other_total(part, c, head, sentences, i):
                continue
            expected = sum(interval) / 2
            yield finding(
                "nar.share",
                f"{part.subject or '该项'}{part.text}占{base_text}的比例应为{expected:.2f}%，"
                f"所述为{c.text}。",
                [ev_sentence(s, c)] + ([base_ev] if base_ev else []),
                stated=c.value,
                expected=round(expected, 2),
                unit="%",
                section=s.section,
                severity=severity_for(v, "error"),
            )
