"""Cassettes: recorded LLM exchanges, replayed offline (vcrpy, the engine of pytest-recording).

Requests match on method, path and body, so a changed prompt or chunk never replays a stale
answer; secrets are scrubbed from request and response headers, compressed bodies decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.llm import LLMClient, LLMConfig
from pipeline.prompts import load_prompt

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
SECRET_HEADERS = ["authorization", "api-key", "x-api-key", "openai-organization", "openai-project",
                  "cookie"]
NOISY_RESPONSE_HEADERS = ("set-cookie", "openai-organization", "openai-project", "x-request-id",
                          "cf-ray", "date", "server")
REPLAY_URL = "http://replay.invalid/v1"


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in NOISY_RESPONSE_HEADERS:
            del headers[name]
    return response


def vcr_config(record_mode: str = "none") -> dict[str, Any]:
    return {
        "record_mode": record_mode,
        "match_on": ["method", "path", "body"],
        "filter_headers": SECRET_HEADERS,
        "decode_compressed_response": True,
        "before_record_response": _scrub_response,
    }


def sample_cassette(stem: str) -> Path:
    """Cassette of one report, named after the prompt versions it was recorded with."""
    versions = ".".join(load_prompt(n).version for n in ("section_claims", "perf_reasons"))
    return CASSETTES / "samples" / f"{stem}.{versions}.yaml"


@contextmanager
def cassette(path: Path, record_mode: str = "none") -> Iterator[None]:
    import vcr

    with vcr.VCR(**vcr_config(record_mode)).use_cassette(str(path)):
        yield


def recorded_model(path: Path) -> str:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = data["interactions"][0]["request"]["body"]
    return json.loads(body)["model"]


def replay_client(path: Path) -> LLMClient:
    config = LLMConfig(model=recorded_model(path), api_key="sk-replay", base_url=REPLAY_URL,
                       concurrency=1, wait_base=0.0)
    return LLMClient(config)


def check_replayed(pdf: Path):
    """`check` on one report with its LLM exchanges served from the report's cassette."""
    from pipeline.extract.llm import llm_extract
    from pipeline.run import check_file

    path = sample_cassette(pdf.stem)
    if not path.exists():
        raise FileNotFoundError(f"no cassette for {pdf.name} (expected {path})")
    client = replay_client(path)
    with cassette(path):
        return check_file(pdf, lambda doc: llm_extract(doc, client))
