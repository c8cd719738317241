"""Golden JSON of `segment` for sample 001. Regenerate with BUDGET_LENS_REGEN_GOLDEN=1."""

import json
import os
from pathlib import Path

from conftest import sample_pdf

from pipeline.cli import document_json

GOLDEN = Path(__file__).parent / "golden" / "001_segment.json"
FLAG = "BUDGET_LENS_REGEN_GOLDEN"


def test_segment_json_matches_golden(docs):
    data = document_json(docs("001"))
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if os.environ.get(FLAG) == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert data["source"] == sample_pdf("001").name
    assert data == expected


def test_regeneration_flag_is_off():
    """Fails when the flag is left on, so a regenerated golden file is never taken silently."""
    assert os.environ.get(FLAG) != "1", f"unset {FLAG} after regenerating the golden file"
