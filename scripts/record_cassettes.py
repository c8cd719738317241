"""Record the committed cassettes.

    .venv/bin/python scripts/record_cassettes.py            # reference server (offline)
    .venv/bin/python scripts/record_cassettes.py --live     # a live OpenAI-compatible endpoint

--live reads OPENAI_API_KEY, OPENAI_BASE_URL and BUDGET_LENS_MODEL and re-records the sample
cassettes (cassettes/samples/) against that endpoint; without it, a local reference server
(scripts/reference_server.py) answers, and the scenario cassettes of the tests
(cassettes/tests/) are recorded too. Headers with secrets are scrubbed before anything is
written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from pipeline.extract.llm import llm_extract  # noqa: E402
from pipeline.llm import LLMClient, LLMConfig  # noqa: E402
from pipeline.replay import cassette, sample_cassette  # noqa: E402
from pipeline.segment import segment  # noqa: E402


def record_samples(config: LLMConfig) -> None:
    for pdf in sorted((ROOT / "samples").glob("*.pdf")):
        path = sample_cassette(pdf.stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        doc = segment(pdf)
        client = LLMClient(config)
        with cassette(path, record_mode="all"):
            claims = llm_extract(doc, client)
        print(f"{path.relative_to(ROOT)}: {client.usage.line()}; "
              f"{len(claims.llm.narrative)} claims, {len(claims.llm.warnings)} warnings")


def record_scenarios(server, url: str, only: str | None = None) -> None:
    import llm_scenarios as sc

    sc.CASSETTES.mkdir(parents=True, exist_ok=True)
    for name, (scripted, run) in sc.SCENARIOS.items():
        if only and name != only:
            continue
        path = sc.cassette(name)
        path.unlink(missing_ok=True)
        server.queue.clear()
        server.queue.extend(scripted)
        with cassette(path, record_mode="all"):
            run(sc.client(url))
        print(f"{path.relative_to(ROOT)} recorded")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--live", action="store_true", help="record against a live endpoint")
    ap.add_argument("--only", help="record this test scenario only (reference server)")
    args = ap.parse_args()
    if args.live:
        config = LLMConfig.from_env(os.environ, concurrency=1)
        record_samples(config)
        return
    from reference_server import Server

    server = Server()
    with server as url:
        if not args.only:
            record_samples(LLMConfig(model="reference-model", api_key="sk-reference",
                                     base_url=url, concurrency=1))
        record_scenarios(server, url, args.only)


if __name__ == "__main__":
    main()
