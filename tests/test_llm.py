"""The LLM layer, replayed from cassettes (cassettes/tests, recorded by
scripts/record_cassettes.py against the reference server; no network, no key)."""

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT, sample_pdf
from llm_scenarios import INJECTION, STEERING, client, tiny_doc

from pipeline.cache import Cache
from pipeline.checks import run_checks
from pipeline.extract import extract
from pipeline.extract.llm import ground_claim, llm_extract, section_chunks
from pipeline.llm import ConfigError, LLMConfig
from pipeline.prompts import PromptError, load_prompt
from pipeline.replay import check_replayed, sample_cassette
from pipeline.segment import segment


def rule_findings(doc):
    return [f.model_dump() for f in run_checks(doc, extract(doc))]


def llm_findings(doc, claims):
    return [f.model_dump() for f in run_checks(doc, claims)]


@pytest.mark.vcr
@pytest.mark.default_cassette("json_schema_success.yaml")
def test_json_schema_success():
    c = client()
    doc = tiny_doc(with_project=True)
    claims = llm_extract(doc, c)
    assert c.json_schema_ok and c.usage.calls == 2 and c.usage.failures == 0
    values = {x.claim.value for x in claims.llm.narrative}
    assert {2445.78, 178.19, 126.49, 119.08} <= values
    total = next(x.claim for x in claims.llm.narrative if x.claim.value == 2445.78)
    assert total.unit == "万元" and "2,445.78" in total.quote
    assert "内网维修耗材经费" in claims.llm.reasons
    assert c.usage.prompt_tokens > 0 and claims.llm.warnings == []


@pytest.mark.vcr
@pytest.mark.default_cassette("json_object_fallback.yaml")
def test_json_object_fallback():
    c = client()
    claims = llm_extract(tiny_doc(), c)
    assert not c.json_schema_ok  # the server said no to json_schema
    assert claims.llm.narrative and claims.llm.warnings == []


@pytest.mark.vcr
@pytest.mark.default_cassette("rate_limit_then_success.yaml")
def test_rate_limit_then_success():
    c = client()
    claims = llm_extract(tiny_doc(), c)
    assert claims.llm.narrative and c.usage.failures == 0 and c.usage.calls == 1
    assert c.usage.requests == 2  # the 429 counted too
    assert "(2 HTTP requests)" in c.usage.line()


@pytest.mark.vcr
@pytest.mark.default_cassette("server_errors_give_up.yaml")
def test_server_errors_until_retries_give_up_then_rules_take_over():
    c = client()
    doc = tiny_doc()
    claims = llm_extract(doc, c)
    assert c.usage.failures == 1 and claims.llm.narrative == []
    assert any("4次尝试后失败" in w and "沿用规则抽取" in w for w in claims.llm.warnings)
    assert claims.sentences == extract(doc).sentences
    assert llm_findings(doc, claims) == rule_findings(doc)


@pytest.mark.vcr
@pytest.mark.default_cassette("malformed_reask_then_success.yaml")
def test_malformed_json_is_reasked(vcr):
    c = client()
    claims = llm_extract(tiny_doc(), c)
    assert vcr.play_count == 2  # the malformed answer, then the re-ask with the error fed back
    assert "Invalid JSON" in vcr.requests[1].body.decode()
    assert claims.llm.narrative and claims.llm.warnings == []


@pytest.mark.vcr
@pytest.mark.default_cassette("malformed_give_up.yaml")
def test_malformed_json_reasked_then_given_up(vcr):
    c = client()
    doc = tiny_doc()
    claims = llm_extract(doc, c)
    assert vcr.play_count == 4  # the first answer, then json_object with two re-asks
    assert any("no valid answer after 3 tries" in w for w in claims.llm.warnings)
    assert llm_findings(doc, claims) == rule_findings(doc)


@pytest.mark.vcr
@pytest.mark.default_cassette("refusal.yaml")
def test_refusal():
    claims = llm_extract(tiny_doc(), client())
    assert claims.llm.narrative == []
    assert any("refused" in w for w in claims.llm.warnings)


@pytest.mark.vcr
@pytest.mark.default_cassette("ungrounded_number.yaml")
def test_ungrounded_number_is_dropped():
    claims = llm_extract(tiny_doc(), client())
    values = [x.claim.value for x in claims.llm.narrative]
    assert values == [2445.78]
    assert any("12345.7 not in the source" in w for w in claims.llm.warnings)


@pytest.mark.vcr
@pytest.mark.default_cassette("planted_instruction.yaml")
def test_planted_instruction_changes_nothing():
    doc = tiny_doc(INJECTION)
    assert INJECTION in doc.sections[0].text
    claims = llm_extract(doc, client())
    assert all(x.claim.value != 10000 for x in claims.llm.narrative)
    assert any("not in the source" in w for w in claims.llm.warnings)
    assert llm_findings(doc, claims) == rule_findings(doc)


@pytest.mark.vcr
@pytest.mark.default_cassette("steered_fields.yaml")
def test_a_steered_subject_or_direction_is_dropped():
    """The model obeys planted text: real quotes and numbers, but a subject the quote does not
    name and a direction the quote does not say. Both claims are dropped with a warning each."""
    doc = tiny_doc(STEERING)
    claims = llm_extract(doc, client())
    assert not [x for x in claims.llm.narrative if x.claim.direction == "减少"]
    assert sum("direction 减少 not in the quote" in w for w in claims.llm.warnings) == 2
    assert llm_findings(doc, claims) == rule_findings(doc)


@pytest.mark.vcr
@pytest.mark.default_cassette("cache_hit.yaml")
def test_second_run_is_served_by_the_cache(tmp_path):
    cache = Cache(tmp_path / "llm.sqlite")
    first = client(cache=cache)
    one = llm_extract(tiny_doc(), first)
    assert first.usage.calls == 1 and len(cache) == 1
    second = client(cache=Cache(tmp_path / "llm.sqlite"))  # a new process would do the same
    two = llm_extract(tiny_doc(), second)
    assert second.usage.calls == 0 and second.usage.cache_hits == 1
    assert two.llm.narrative == one.llm.narrative


def test_grounding_rejects_numbers_and_quotes_not_in_the_chunk():
    from schemas.llm import NarrativeClaim

    chunk = section_chunks(tiny_doc())[0]
    ok = NarrativeClaim(subject="收入总计", metric="总计", value=2445.78, unit="万元",
                        quote="收入总计2,445.78万元")
    assert ground_claim(ok, chunk) is None
    assert "not in the source" in ground_claim(ok.model_copy(update={"value": 2445.87}), chunk)
    assert "quote" in ground_claim(ok.model_copy(update={"quote": "收入总计很多"}), chunk)


def test_chunks_keep_their_pages():
    doc = segment(sample_pdf("000"))
    chunks = section_chunks(doc)
    assert len(chunks) >= 12 and all(len(c.text) <= 900 for c in chunks)
    section_pages = {" > ".join(s.path): set(s.pages) for s in doc.sections}
    assert all(set(c.pages) <= section_pages[c.title] for c in chunks)
    first = next(c for c in chunks if "收入总计2,445.79万元" in c.text)
    assert first.page == 12, first


def test_prompt_fails_on_a_missing_variable():
    prompt = load_prompt("section_claims")
    assert prompt.version == "section-claims-v1"
    with pytest.raises(PromptError, match="chunk"):
        prompt.render(report="r", section="s", pages="1")


def test_missing_key_is_one_actionable_line(tmp_path):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        LLMConfig.from_env({})
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BUDGET_LENS_LLM": "openai"}
    r = subprocess.run([sys.executable, "-m", "pipeline", "check", str(sample_pdf("000"))],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "OPENAI_API_KEY" in r.stderr and "--llm off" in r.stderr


def test_replay_finds_the_reason_that_contradicts_full_execution():
    result = check_replayed(sample_pdf("003"))
    assert result.claims.llm.warnings == []
    reasons = result.claims.llm.reasons["全市大数据统一运维项目"]
    execution = next(r for r in reasons if r.indicator == "预算执行率")
    assert execution.category == "资金未到位"
    assert any(f.rule == "perf.reason" and f.stated == 100 for f in result.result.findings)


def test_replay_never_loses_a_rule_finding():
    for sid in ("000", "001", "002", "003"):
        from pipeline.run import check_file

        rules = {f.key() for f in check_file(sample_pdf(sid)).result.findings}
        replayed = {f.key() for f in check_replayed(sample_pdf(sid)).result.findings}
        assert rules <= replayed, sid
        assert sample_cassette(sample_pdf(sid).stem).exists()


def test_eval_replay_scores_the_reports_with_cassettes():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "pipeline", "eval", "--llm", "replay", "--format",
                        "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import json

    data = json.loads(r.stdout)
    assert len(data["documents"]) == 4 and data["overall"]["precision"] == 1.0
    assert data["overall"]["recall"] == 1.0


@pytest.mark.vcr
@pytest.mark.default_cassette("steered_fields.yaml")
def test_llm_trouble_is_recorded_in_the_report():
    from pipeline.report import render_json, render_text
    from pipeline.run import coverage
    from schemas.findings import Coverage, FileResult

    doc = tiny_doc(STEERING)
    claims = llm_extract(doc, client())
    result = FileResult(source="t.pdf", llm=list(claims.llm.warnings),
                        coverage=coverage(doc, Coverage()))
    assert sum("LLM：" in line for line in render_text([result]).splitlines()) == 2
    assert len(json.loads(render_json([result]))["files"][0]["llm"]) == 2


def test_calls_not_done_by_the_report_deadline_fall_back():
    import time
    from types import SimpleNamespace

    from pipeline.extract.llm import _run_all

    chunks = [SimpleNamespace(id=f"c{i}", title=f"段{i}") for i in range(3)]

    def run(chunk):
        time.sleep(2.0 if chunk.id == "c1" else 0.01)
        return chunk, "answer", None

    slow = SimpleNamespace(config=SimpleNamespace(concurrency=3, deadline=0.5))
    t0 = time.perf_counter()
    done = _run_all(chunks, run, slow)
    assert set(done) == {"c0", "c2"} and time.perf_counter() - t0 < 1.5


# -- faults of a real local server ----------------------------------------------------------------


@contextmanager
def serving(answer):
    """A real local HTTP server whose every POST is answered by `answer(handler, body)`; yields
    its port."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            answer(self, self.rfile.read(int(self.headers.get("content-length") or 0)))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


def reply(handler, payload: bytes, kind: str = "application/json") -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def llm_env(port: int, tmp_path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-test", "BUDGET_LENS_MODEL": "m",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "BUDGET_LENS_CACHE": str(tmp_path / "cache.sqlite"), "HOME": str(tmp_path)}


def run_llm(port, tmp_path, *args, command="check", timeout=300):
    return subprocess.run([sys.executable, "-m", "pipeline", command, str(sample_pdf("000")),
                           *args], capture_output=True, text=True, env=llm_env(port, tmp_path),
                          timeout=timeout)


def rule_ids(out: str) -> list[str]:
    return sorted(f["rule"] for f in json.loads(out)["files"][0]["findings"])


def offline_json() -> str:
    return subprocess.run([sys.executable, "-m", "pipeline", "check", str(sample_pdf("000")),
                           "--format", "json"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("body,kind", [
    (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "application/octet-stream"),
    (b'"just a string"', "application/json"),
])
def test_a_reply_that_is_no_chat_completion_falls_back_to_the_rules(tmp_path, body, kind):
    """A real local server answers 200 with an HTML page, bytes or a bare JSON string (a wrong
    base URL): `check --llm openai` keeps the rule-based claims, says so in one warning, and its
    exit code is the findings' — never a traceback."""
    with serving(lambda h, _: reply(h, body, kind)) as port:
        r = run_llm(port, tmp_path, "--llm", "openai", "--max-retries", "0", "--format", "json")
    assert "Traceback" not in r.stderr, r.stderr
    offline = offline_json()
    assert r.returncode == 1
    result = json.loads(r.stdout)["files"][0]
    assert result["llm"] and all("不是对话补全的 JSON" in w for w in result["llm"])
    assert rule_ids(r.stdout) == rule_ids(offline)  # every rule finding kept


def test_a_server_that_cannot_be_reached_is_given_up_once(tmp_path):
    """Connection refused (a port nothing listens on): the first requests that give up stop the
    run's calls to that server, one warning says so, the rule-based claims stand."""
    import re
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    r = run_llm(port, tmp_path, "--llm", "openai", "--max-retries", "1", "--format", "json")
    assert "Traceback" not in r.stderr, r.stderr
    result = json.loads(r.stdout)["files"][0]
    assert len(result["llm"]) == 1 and "无法连接LLM服务器" in result["llm"][0], result["llm"]
    requests = int(re.search(r"\((\d+) HTTP requests\)", r.stderr).group(1))
    assert requests <= 8  # the calls in flight when it was found out (4 workers, 2 attempts each)
    assert rule_ids(r.stdout) == rule_ids(offline_json())


def test_answers_are_bounded_and_a_reply_cut_by_the_cap_falls_back(tmp_path):
    """Every request carries a max_tokens sized from the schema, whose strings and lists are
    bounded (a grammar-constrained server cannot run away); a reply the cap cut short
    (finish_reason length) is one more failure: the rules' claims stand."""
    seen = []
    cut = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                      "choices": [{"index": 0, "finish_reason": "length", "message": {
                          "role": "assistant", "content": '{"claims": [{"subj'}}],
                      "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
                      }).encode()

    def answer(handler, body):
        seen.append(json.loads(body))
        reply(handler, cut)

    with serving(answer) as port:
        r = run_llm(port, tmp_path, "--llm", "openai", "--max-retries", "0", "--format", "json")
    assert "Traceback" not in r.stderr, r.stderr
    assert seen and all(0 < body["max_tokens"] <= 8192 for body in seen)
    schema = json.dumps(seen[0]["response_format"])
    assert '"maxItems"' in schema and '"maxLength"' in schema
    result = json.loads(r.stdout)["files"][0]
    assert result["llm"] and all("max_tokens" in w for w in result["llm"])
    assert rule_ids(r.stdout) == rule_ids(offline_json())


def test_the_deadline_bounds_requests_in_flight_and_the_count_is_what_the_server_saw(tmp_path):
    """A real local server that never answers, --timeout 30 --deadline 4: the requests in
    flight are cut at the deadline, none starts after it, the rules' claims stand, and the
    report counts the requests the server received (before: 125 s, 16 received, 4 reported)."""
    import re
    import time

    received = []
    release = threading.Event()

    def hang(handler, body):
        received.append(time.monotonic())
        release.wait(60)  # never answers while the check runs

    t0 = time.monotonic()
    with serving(hang) as port:
        try:
            r = run_llm(port, tmp_path, "--llm", "openai", "--timeout", "30", "--deadline", "4",
                        "--format", "json", timeout=120)
            elapsed = time.monotonic() - t0
        finally:
            release.set()
    assert "Traceback" not in r.stderr, r.stderr
    assert elapsed < 4 + 8, elapsed  # the deadline, the offline check and the start; not 30 s × retries
    reported = int(re.search(r"\((\d+) HTTP requests\)", r.stderr).group(1))
    assert reported == len(received)
    assert all(t - t0 < 4 + 3 for t in received)  # none started after the deadline
    result = json.loads(r.stdout)["files"][0]
    assert result["findings"] and result["llm"]


def test_ask_has_a_deadline_past_which_the_offline_answer_stands(tmp_path):
    import time

    release = threading.Event()
    t0 = time.monotonic()
    with serving(lambda h, _: release.wait(60)) as port:
        try:
            r = run_llm(port, tmp_path, "政府采购支出总额", "--llm", "openai", "--timeout", "30",
                        "--deadline", "2", command="ask", timeout=120)
            elapsed = time.monotonic() - t0
        finally:
            release.set()
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "1,057.92万元" in r.stdout and "期限" in r.stdout, r.stdout
    assert elapsed < 2 + 8, elapsed
