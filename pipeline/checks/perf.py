"""绩效 self-evaluation: execution arithmetic, scores, grades, reasons, and the summary."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from pipeline.checks.base import (
    Context,
    amount,
    compare,
    compare_pct,
    ev_sentence,
    finding,
    ratio_interval,
    rule,
    severity_for,
)
from pipeline.numbers import MONEY, half_unit
from schemas.claims import PerfProject
from schemas.document import Table
from schemas.findings import Evidence, Finding, TableUnread

LOW_EXECUTION_RE = re.compile(
    r"执行率(?:较|偏)?低|支付率(?:较|偏)?低|未拨付|未到位|进度(?:较|偏)?慢|滞后|未及时支付|未完成支付|结余较大"
)


def _ev(p: PerfProject, field: str, what: str) -> Evidence | None:
    if field not in p.cells:
        return None
    page, bbox, text = p.cells[field]
    return Evidence(page=page, source="table", text=f"{p.name} / {what}", table=p.name,
                    bbox=bbox, value=text)


def _evs(p: PerfProject, *fields: tuple[str, str]) -> list[Evidence]:
    return [e for f, w in fields if (e := _ev(p, f, w)) is not None]


def _tol(p: PerfProject, field: str) -> float:
    return half_unit(p.decimals.get(field, 2))


def unread_projects(ctx: Context) -> None:
    """A project whose execution rows were read but not understood is a table not checked: the
    coverage names it, with the reason."""
    for p in ctx.claims.projects:
        if p.unread:
            ctx.coverage.not_understood.append(TableUnread(
                id=p.tables[0] if p.tables else p.name, kind="perf_self_eval",
                name=f"绩效自评表“{p.name}”", pages=p.pages, reason=p.unread))


def _section(p: PerfProject) -> str:
    return f"绩效自评：{p.name}"


@rule("perf.rate", "error", "执行率应等于全年执行数 ÷ 全年预算数。")
def check_rate(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if None in (p.rate, p.actual, p.budget_full) or not p.budget_full:
            continue
        interval = ratio_interval(p.actual, _tol(p, "actual"), p.budget_full,  # type: ignore[arg-type]
                                  _tol(p, "budget_full"))
        if interval is None:
            continue
        v = compare_pct(p.rate, p.decimals.get("rate", 2), interval)  # type: ignore[arg-type]
        if v.ok:
            continue
        expected = sum(interval) / 2
        yield finding(
            "perf.rate",
            f"“{p.name}”执行率填报{p.rate:g}%，按全年执行数{p.actual:g}÷全年预算数"
            f"{p.budget_full:g}应为{expected:.2f}%。",
            _evs(p, ("rate", "执行率"), ("actual", "全年执行数"), ("budget_full", "全年预算数")),
            stated=p.rate,
            expected=round(expected, 2),
            unit="%",
            section=_section(p),
            severity=severity_for(v, "error"),
        )


@rule("perf.balance", "error", "结余应等于全年预算数 − 全年执行数。")
def check_balance(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if None in (p.balance, p.actual, p.budget_full):
            continue
        expected = p.budget_full - p.actual  # type: ignore[operator]
        v = compare(p.balance, p.decimals.get("balance"), expected,  # type: ignore[arg-type]
                    _tol(p, "budget_full") + _tol(p, "actual"))
        if v.ok:
            continue
        yield finding(
            "perf.balance",
            f"“{p.name}”资金结余填报{p.balance:g}{p.unit}，按全年预算数{p.budget_full:g}−全年执行数"
            f"{p.actual:g}应为{expected:g}{p.unit}。",
            _evs(p, ("balance", "资金结(转)余"), ("budget_full", "全年预算数"), ("actual", "全年执行数")),
            stated=p.balance,
            expected=round(expected, 6),
            unit=p.unit,
            section=_section(p),
            severity=severity_for(v, "error"),
        )


@rule("perf.sources", "error", "资金来源各行之和应等于资金总额行（单一来源时两行应相同）。")
def check_sources(ctx: Context) -> Iterator[Finding]:
    names = {"budget_full": "全年预算数", "actual": "全年执行数", "balance": "结余", "rate": "执行率",
             "rate_score": "得分"}
    for p in ctx.claims.projects:
        if not p.sources:
            continue
        fields = list(names) if len(p.sources) == 1 else ["budget_full", "actual", "balance"]
        for field in fields:
            total = getattr(p, field)
            values = [s.values.get(field) for s in p.sources]
            if total is None or None in values:
                continue
            parts = sum(values)  # type: ignore[arg-type]
            v = compare(parts, None, total, _tol(p, field) * (len(values) + 1))
            if v.ok:
                continue
            src = p.sources[0]
            yield finding(
                "perf.sources",
                f"“{p.name}”资金来源行的{names[field]}为{parts:g}，与资金总额行{total:g}不一致。",
                [Evidence(page=src.page, source="table", text=f"{p.name} / {src.label} / "
                          f"{names[field]}", table=p.name, bbox=src.bbox, value=f"{parts:g}"),
                 *_evs(p, (field, names[field]))],
                stated=parts,
                expected=total,
                unit="%" if field == "rate" else p.unit,
                section=_section(p),
            )


@rule("perf.rate_score", "error", "预算执行率得分应等于执行率 × 分值（表中未印分值时为10分），且不超过分值。")
def check_rate_score(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if p.rate is None or p.rate_score is None:
            continue
        weight = p.rate_weight or 10.0
        expected = min(p.rate, 100.0) / 100 * weight
        tol = _tol(p, "rate") / 100 * weight
        v = compare(p.rate_score, p.decimals.get("rate_score"), expected, tol)
        if v.ok:
            continue
        yield finding(
            "perf.rate_score",
            f"“{p.name}”执行率得分填报{p.rate_score:g}分，按执行率{p.rate:g}%、分值{weight:g}分应为"
            f"{expected:.2f}分。",
            _evs(p, ("rate_score", "执行率得分"), ("rate", "执行率")),
            stated=p.rate_score,
            expected=round(expected, 4),
            unit="分",
            section=_section(p),
            severity=severity_for(v, "error"),
        )


@rule("perf.total", "error", "总分应等于执行率得分加各项指标得分。")
def check_total(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        scores = [i.score for i in p.indicators]
        if p.total_score is None or p.rate_score is None or not scores or None in scores:
            continue
        expected = p.rate_score + sum(scores)  # type: ignore[arg-type]
        v = compare(p.total_score, p.decimals.get("total_score"), expected,
                    _tol(p, "rate_score") + 0.005 * len(scores))
        if v.ok:
            continue
        evs = _evs(p, ("total_score", "总分"), ("rate_score", "执行率得分"))
        if p.score_sentence is not None:
            evs.append(ev_sentence(p.score_sentence))
        yield finding(
            "perf.total",
            f"“{p.name}”总分{p.total_score:g}分，而执行率得分{p.rate_score:g}分与各指标得分之和为"
            f"{expected:g}分。",
            evs,
            stated=p.total_score,
            expected=round(expected, 4),
            unit="分",
            section=_section(p),
            severity=severity_for(v, "error"),
        )


@rule("perf.weights", "warning", "各项绩效指标分值之和应为90分（另10分为预算执行率）。")
def check_weights(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        weights = [i.weight for i in p.indicators if i.weight is not None]
        if not weights or abs(sum(weights) - 90) < 0.01:
            continue
        first = p.indicators[0]
        yield finding(
            "perf.weights",
            f"“{p.name}”各指标分值之和为{sum(weights):g}分，应为90分。",
            [Evidence(page=first.page, source="table", text=f"{p.name} / 分值", table=p.name,
                      bbox=first.bbox)],
            stated=sum(weights),
            expected=90.0,
            unit="分",
            section=_section(p),
        )


@rule("perf.score_cap", "error", "指标得分不能超过该指标分值。")
def check_score_cap(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        for i in p.indicators:
            if i.score is not None and i.weight is not None and i.score > i.weight + 1e-9:
                yield finding(
                    "perf.score_cap",
                    f"“{p.name}”指标“{i.name}”得分{i.score:g}分超过其分值{i.weight:g}分。",
                    [Evidence(page=i.page, source="table", text=f"{p.name} / {i.name}",
                              table=p.name, bbox=i.bbox, value=f"{i.score:g}")],
                    stated=i.score,
                    expected=i.weight,
                    unit="分",
                    section=_section(p),
                )


def grade_of(score: float) -> str:
    return "优" if score >= 90 else "良" if score >= 80 else "中" if score >= 60 else "差"


@rule("perf.grade", "error", "自评等级应与总分相符：优≥90，良80–90，中60–80，差<60。")
def check_grade(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if p.total_score is None or p.grade is None:
            continue
        expected = grade_of(p.total_score)
        if expected == p.grade:
            continue
        evs = _evs(p, ("total_score", "总分"))
        if p.score_sentence is not None:
            evs.append(ev_sentence(p.score_sentence))
        yield finding(
            "perf.grade",
            f"“{p.name}”总分{p.total_score:g}分应评为“{expected}”，却评为“{p.grade}”。",
            evs,
            section=_section(p),
        )


LOW_EXECUTION_CATEGORIES = ("资金未到位", "实施进度滞后")


def _llm_low_execution(ctx: Context, p: PerfProject) -> str | None:
    """A deviation reason the LLM classed as money not arriving or work running late."""
    if ctx.claims.llm is None:
        return None
    for item in ctx.claims.llm.reasons.get(p.name, []):
        if item.indicator == "预算执行率" and item.category in LOW_EXECUTION_CATEGORIES:
            return item.deviation_reason or item.quote
    return None


@rule("perf.reason", "error", "偏差原因不能与数字矛盾（如执行率100%却称执行率低、资金未到位）。")
def check_reason(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if p.rate is None or p.rate < 99.995:
            continue
        reason = p.deviation_reason if LOW_EXECUTION_RE.search(p.deviation_reason or "") else None
        reason = reason or _llm_low_execution(ctx, p)
        if not reason:
            continue
        yield finding(
            "perf.reason",
            f"“{p.name}”执行率为{p.rate:g}%，偏差原因却称“{reason}”，与数字矛盾。",
            _evs(p, ("rate", "执行率"), ("deviation_reason", "偏差原因"), ("actual", "全年执行数"),
                 ("budget_full", "全年预算数")),
            stated=p.rate,
            unit="%",
            section=_section(p),
        )


@rule("perf.missing_reason", "warning", "未达分值的指标应说明偏差原因和改进措施。")
def check_missing_reason(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        for i in p.indicators:
            if i.score is None or i.weight is None or i.score >= i.weight or i.reason.strip():
                continue
            yield finding(
                "perf.missing_reason",
                f"“{p.name}”指标“{i.name}”得分{i.score:g}分低于分值{i.weight:g}分，但未说明偏差原因。",
                [Evidence(page=i.page, source="table", text=f"{p.name} / {i.name}", table=p.name,
                          bbox=i.bbox, value=f"{i.score:g}")],
                stated=i.score,
                expected=i.weight,
                unit="分",
                section=_section(p),
            )


RATE_TEXT_RE = re.compile(r"执行率(?:为|达到|达)?\s*(\d+(?:\.\d+)?)\s*%")
MONEY_CUE_RE = re.compile(r"(?:预算|下达|支出|支付|执行数|发放|实际|资金)[^，。；]{0,6}$")


@rule("perf.text_figure", "error", "绩效分析文字中的预算数、执行数、执行率应与执行情况表一致。")
def check_text_figures(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if p.rate is None and p.actual is None:
            continue
        known = {
            f: getattr(p, f)
            for f in ("budget_initial", "budget_full", "actual", "balance")
            if getattr(p, f) is not None
        }
        yield from _text_rates(p)
        for s in p.texts:
            short_cost_note = len(s.text) < 60 and "支出" in s.text and "预算" in s.text
            if not (RATE_TEXT_RE.search(s.text) or short_cost_note):
                continue
            for c in s.claims:
                if c.unit not in MONEY or c.kind != "amount" or c.value == 0:
                    continue
                before = s.text[: c.start]
                if "其中" in before[-12:] or not (MONEY_CUE_RE.search(before)
                                                  or re.match(r"\s*[\u4e00-\u9fff]{0,12}(?:经费|资金)",
                                                              s.text[c.start + len(c.text):])):
                    continue
                value = c.value * MONEY[c.unit] / MONEY.get(p.unit, 1.0)
                tol = half_unit(c.decimals) * MONEY[c.unit] / MONEY.get(p.unit, 1.0)
                if any(compare(value, None, v, tol + _tol(p, f)).ok for f, v in known.items()):
                    continue
                field, closest = min(known.items(), key=lambda kv: abs(kv[1] - value))
                what = {"budget_initial": "年初预算数", "budget_full": "全年预算数",
                        "actual": "全年执行数", "balance": "结余"}[field]
                yield finding(
                    "perf.text_figure",
                    f"“{p.name}”分析中的{c.text}与执行情况表的{what}"
                    f"{amount(closest, p.unit, p.decimals.get(field, 2))}不一致。",
                    [ev_sentence(s, c), *_evs(p, (field, what))],
                    stated=c.value,
                    expected=round(closest * MONEY.get(p.unit, 1.0) / MONEY[c.unit], 6),
                    unit=c.unit,
                    section=_section(p),
                )


def _text_rates(p: PerfProject) -> Iterator[Finding]:
    """Execution rates quoted in the analysis text against the table's; one finding per value."""
    if p.rate is None:
        return
    quoted: dict[str, list] = {}
    for s in p.texts:
        for m in RATE_TEXT_RE.finditer(s.text):
            if "完成率" in s.text[max(0, m.start() - 4) : m.start() + 3]:
                continue
            claim = next((c for c in s.claims if c.start >= m.start() and c.unit == "%"), None)
            quoted.setdefault(m.group(1), []).append((s, claim))
    for text, places in quoted.items():
        stated = float(text)
        dec = len(text.split(".")[1]) if "." in text else 0
        v = compare(stated, dec, p.rate, 0.0)  # the same rate restated: no rounding allowed twice
        if v.ok:
            continue
        severity = "info" if v.rounding else "warning" if v.diff <= 5 * 10 ** (-dec) else "error"
        yield finding(
            "perf.text_figure",
            f"“{p.name}”分析称执行率{text}%，执行情况表为{p.rate:g}%。",
            [*(ev_sentence(s, c) for s, c in places), *_evs(p, ("rate", "执行率"))],
            stated=stated,
            expected=p.rate,
            unit="%",
            section=_section(p),
            severity=severity,  # type: ignore[arg-type]
        )


@rule("perf.missing_execution", "warning", "每个项目的自评报告都应附预算执行情况表。")
def check_missing_execution(ctx: Context) -> Iterator[Finding]:
    for p in ctx.claims.projects:
        if p.has_execution_table:
            continue
        ev = [ev_sentence(p.texts[0])] if p.texts else []
        yield finding(
            "perf.missing_execution",
            f"“{p.name}”自评材料缺少预算执行情况表（年初预算、执行数、执行率无从核对）。",
            ev,
            section=_section(p),
        )


@rule("perf.summary", "error", "情况说明中的绩效自评项目个数、涉及资金、等级分布应与所附自评表一致。")
def check_summary(ctx: Context) -> Iterator[Finding]:
    summary, projects = ctx.claims.summary, ctx.claims.projects
    if summary is None or not projects:
        return
    ev = ev_sentence(summary.sentence)
    if summary.count is not None and summary.count != len(projects):
        yield finding(
            "perf.summary",
            f"说明称自评项目{summary.count}个，所附自评材料有{len(projects)}个项目。",
            [ev],
            stated=summary.count,
            expected=len(projects),
            unit="个",
            section=summary.sentence.section,
        )
    if summary.amount is not None and all(p.budget_full is not None for p in projects):
        sums = {
            f: sum((getattr(p, f) or 0) * MONEY.get(p.unit, 1.0) for p in projects)
            for f in ("budget_initial", "budget_full")
        }
        if not any(abs(summary.amount - v) <= 0.005 * (len(projects) + 1) for v in sums.values()):
            yield finding(
                "perf.summary",
                f"说明称自评涉及资金{amount(summary.amount)}，所附各项目年初预算合计"
                f"{amount(sums['budget_initial'])}、全年预算合计{amount(sums['budget_full'])}。",
                [ev],
                stated=summary.amount,
                expected=round(sums["budget_full"], 6),
                unit="万元",
                section=summary.sentence.section,
            )
    graded = [p.grade or (grade_of(p.total_score) if p.total_score is not None else None)
              for p in projects]
    if summary.grades and None not in graded:
        actual = Counter(graded)
        wrong = {g: (n, actual.get(g, 0)) for g, n in summary.grades.items() if n != actual.get(g, 0)}
        if wrong:
            said = "，".join(f"“{g}”说明{n}个、实际{m}个" for g, (n, m) in wrong.items())
            yield finding(
                "perf.summary",
                f"自评等级分布与所附自评材料不符：{said}。",
                [ev],
                section=summary.sentence.section,
            )


# -- 绩效: the same department and unit on every self-evaluation ------------------------------

DEPT_LABELS = (("主管部门", re.compile(r"^主管部门(及代码)?$")),
               ("预算单位", re.compile(r"^(预算单位|实施单位)(及代码)?$")))


def _labelled_values(table: Table) -> dict[str, tuple[str, Evidence]]:
    """主管部门 / 预算单位 as printed on one 绩效 table: the first text right of the label."""
    out: dict[str, tuple[str, Evidence]] = {}
    for row in table.rows[:8]:
        for i, cell in enumerate(row.cells):
            key = next((k for k, pat in DEPT_LABELS if pat.match(re.sub(r"\s+", "", cell.text))),
                       None)
            if key is None or key in out:
                continue
            value = next((c for c in row.cells[i + 1:] if c.text.strip()), None)
            if value is not None:
                out[key] = (re.sub(r"\s+", "", value.text), Evidence(
                    page=value.page, source="table", text=f"{cell.text} / {value.text}",
                    table=table.title or table.id, bbox=value.bbox, value=value.text))
    return out


@rule("perf.department", "warning", "各绩效自评表的主管部门、预算单位及其代码应一致，单位代码应以主管部门代码开头。")
def check_department(ctx: Context) -> Iterator[Finding]:
    first: dict[str, tuple[str, Evidence]] = {}
    for t in ctx.doc.tables:
        if t.kind != "perf_self_eval":
            continue
        values = _labelled_values(t)
        for key, (text, ev) in values.items():
            if key not in first:
                first[key] = (text, ev)
            elif text != first[key][0]:
                yield finding(
                    "perf.department",
                    f"绩效自评表的{key}不一致：此处为“{text}”，第{first[key][1].page}页为“{first[key][0]}”。",
                    [ev, first[key][1]], section=t.title or t.id,
                )
        dept, unit = values.get("主管部门"), values.get("预算单位")
        if dept and unit:
            dcode = re.match(r"^(\d+)", dept[0])
            ucode = re.match(r"^(\d+)", unit[0])
            if dcode and ucode and not ucode.group(1).startswith(dcode.group(1)):
                yield finding(
                    "perf.department",
                    f"预算单位代码{ucode.group(1)}不以主管部门代码{dcode.group(1)}开头。",
                    [unit[1], dept[1]], section=t.title or t.id,
                )
