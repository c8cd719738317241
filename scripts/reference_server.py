"""A local OpenAI-compatible server that answers with reference responses, for recording the
committed cassettes where no live model is reachable.

The reference answer is written to the schemas by a deterministic annotator: the figures of
each sentence (the rule-based reader), paired into claims with their change and percentage,
the stated reasons split into items with their amounts, and 绩效 deviation reasons sorted into
the taxonomy by keywords. Scripted responses (errors, refusals, malformed JSON) can be queued
to record failure cassettes. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.extract.mentions import sentence_claims, split_sentences  # noqa: E402
from schemas.llm import (  # noqa: E402
    IndicatorReason,
    NarrativeClaim,
    ProjectReasons,
    Reason,
    SectionClaims,
)

CHUNK_RE = re.compile(r"【(?:片段|材料)原文开始】\n(.*)\n【(?:片段|材料)原文结束】", re.S)

CATEGORY_WORDS = (
    ("资金未到位", r"未拨付|未到位|资金.{0,4}未|到账"),
    ("实施进度滞后", r"进度慢|滞后|未及时|延期|推迟|未完成支付"),
    ("人员变动", r"人员|调出|调入|临时人员"),
    ("指标设置不合理", r"未设置|指标设置|设置不合理|未填报|指标编制"),
    ("厉行节约", r"节约|节俭|过紧日子|压减"),
    ("政策或计划调整", r"调整|计划减少|统一组织|政策|安排|减少了"),
)


def category(reason: str) -> str | None:
    if not reason or reason in ("无", "/"):
        return None
    for name, pattern in CATEGORY_WORDS:
        if re.search(pattern, reason):
            return name
    return "其他"


def _quote(sentence: str, start: int, length: int) -> str:
    lo = max(0, start - 40)
    return sentence[lo : min(len(sentence), start + length + 10)][:120]


def _metric(subject: str, kind: str) -> str:
    for word in ("年初预算", "全年预算", "决算", "总计", "合计"):
        if word in subject:
            return word
    return {"share": "占比", "growth": "增长率", "completion": "完成率", "count": "个数"}.get(
        kind, "金额")


def _reasons(sentence: str) -> list[Reason]:
    m = re.search(r"(?:主要原因(?:是|为)?|原因(?:是|为)|主要是)[:：]?(.+)", sentence)
    if not m:
        return []
    out = []
    for part in re.split(r"[；;]|[一二三四五六]是", m.group(1)):
        part = part.strip("，,。 ")
        if not part:
            continue
        money = [c for c in sentence_claims(part) if c.unit in ("万元", "元")]
        direction = None
        if money:
            direction = "增加" if money[0].direction == "up" else "减少" if money[0].direction == \
                "down" else None
        out.append(Reason(text=part[:40], amount=money[0].value if money else None,
                          direction=direction))
    return out


def annotate_section(chunk: str) -> SectionClaims:
    claims: list[NarrativeClaim] = []
    for sentence in split_sentences(chunk):
        current: NarrativeClaim | None = None
        for c in sentence_claims(sentence):
            quote = _quote(sentence, c.start, len(c.text))
            if c.kind == "change" and current is not None and current.change is None:
                current.change = c.value
                current.direction = "增加" if c.direction == "up" else "减少"
                continue
            if c.kind in ("growth", "share", "completion") and current is not None \
                    and current.percentage is None:
                current.percentage = c.value
                continue
            current = NarrativeClaim(
                subject=c.subject or "（未指明）", metric=_metric(c.subject, c.kind), value=c.value,
                unit=c.unit, direction=("增加" if c.direction == "up" else "减少")
                if c.direction else None, quote=quote,
            )
            claims.append(current)
        reasons = _reasons(sentence)
        if reasons and claims:
            target = next((x for x in reversed(claims) if x.change is not None or x.direction),
                          claims[-1])
            target.reasons = reasons
    return SectionClaims(claims=claims)


LINE_RE = re.compile(r"^指标 (?P<name>[^：]+)：目标(?P<target>[^，]*)，实际(?P<actual>[^，]*)，"
                     r"分值(?P<w>[^，]*)，得分(?P<s>[^，]*)，偏差原因分析及改进措施：(?P<r>.*)$")


def annotate_project(chunk: str) -> ProjectReasons:
    items = []
    for line in chunk.splitlines():
        if line.startswith("预算执行："):
            reason = line.split("偏差原因：", 1)[1] if "偏差原因：" in line else ""
            reason = "" if reason in ("无", "") else reason
            items.append(IndicatorReason(
                indicator="预算执行率", deviation_reason=reason, category=category(reason),
                quote=line[:120]))
            continue
        m = LINE_RE.match(line)
        if not m:
            continue
        reason = m.group("r").strip()
        try:
            missed = float(m.group("s")) < float(m.group("w"))
        except ValueError:
            missed = False
        if not missed and reason in ("无", ""):
            continue
        reason = "" if reason == "无" else reason
        improvement = ""
        if "改进措施" in reason:
            improvement = reason.split("改进措施", 1)[1].lstrip("：:")
        items.append(IndicatorReason(
            indicator=m.group("name"), target=m.group("target"), actual=m.group("actual"),
            deviation_reason=reason, category=category(reason), improvement=improvement,
            quote=line[:120]))
    return ProjectReasons(items=items)


SOURCE_RE = re.compile(r"^\[(S\d+)\] 第\d+页 [^：]*：(.*)$", re.M)


def answer_question(user: str) -> str:
    """Answer from the best-ranked source: its first figure, quoted."""
    from schemas.llm import AskAnswer, Citation

    sources = SOURCE_RE.findall(user)
    if not sources:
        return AskAnswer(answer="报告中没有找到").model_dump_json()
    sid, text = sources[0]
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(万元|元|%|个|辆|分)", text) or re.search(
        r"(\d[\d,]*(?:\.\d+)?)()", text.split("=")[-1])
    if not m:
        return AskAnswer(answer="报告中没有找到").model_dump_json()
    value = float(m.group(1).replace(",", ""))
    quote = text[max(0, m.start() - 30) : m.end() + 5][:80] if "=" not in text else text[:80]
    return AskAnswer(answer=f"{m.group(1)}{m.group(2) or ''}", value=value, unit=m.group(2),
                     citations=[Citation(source=sid, quote=quote)]).model_dump_json()


def reference_answer(request: dict) -> str:
    messages = request["messages"]
    system = messages[0]["content"]
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "问答助手" in system.split("\n")[0]:
        return answer_question(user)
    m = CHUNK_RE.search(user)
    chunk = m.group(1) if m else ""
    answer = annotate_project(chunk) if "绩效" in system.split("\n")[0] else annotate_section(chunk)
    return answer.model_dump_json()


def completion(model: str, content: str | None, refusal: str | None = None) -> dict:
    return {
        "id": "chatcmpl-reference", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class Server:
    """Run with `with Server() as url:`; queue scripted (status, headers, body) responses."""

    def __init__(self) -> None:
        self.queue: deque[tuple[int, dict[str, str], dict | str]] = deque()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if server.queue:
                    status, headers, payload = server.queue.popleft()
                else:
                    status, headers = 200, {}
                    payload = completion(body["model"], reference_answer(body))
                    text = json.dumps(body, ensure_ascii=False)
                    payload["usage"] = {"prompt_tokens": len(text) // 2,
                                        "completion_tokens": len(payload["choices"][0]["message"]
                                                                 ["content"]) // 2}
                    payload["usage"]["total_tokens"] = sum(payload["usage"].values())
                data = (payload if isinstance(payload, str) else json.dumps(payload,
                        ensure_ascii=False)).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        time.sleep(0.05)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
