from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))

SAMPLE_IDS = ["000", "001", "002", "003"]


def sample_pdf(sample_id: str) -> Path:
    return next(SAMPLES.glob(f"{sample_id}_*.pdf"))


_DOCS: dict[str, object] = {}


@pytest.fixture(scope="session")
def docs():
    """Segmented samples, once per test session."""
    from pipeline.segment import segment

    def get(sample_id: str):
        if sample_id not in _DOCS:
            _DOCS[sample_id] = segment(sample_pdf(sample_id))
        return _DOCS[sample_id]

    return get
