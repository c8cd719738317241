from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))

SAMPLE_IDS = ["000", "001", "002", "003"]


def load_mutate():
    """scripts/mutate.py as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mutate", ROOT / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module
    spec.loader.exec_module(module)
    return module


def sample_pdf(sample_id: str) -> Path:
    return next(SAMPLES.glob(f"{sample_id}_*.pdf"))


def checked_folder(tmp: Path, sample_ids: tuple[str, ...]) -> tuple[Path, Path]:
    """A folder of sample reports and one damaged PDF, checked by `batch` into a database."""
    import shutil

    from pipeline.batch import run_batch

    folder = tmp / "reports"
    folder.mkdir()
    for sid in sample_ids:
        shutil.copy(sample_pdf(sid), folder)
    (folder / "damaged.pdf").write_bytes(b"%PDF-1.5\n% cut off")
    db = tmp / "results.sqlite"
    run_batch(folder, db, progress_out=None)
    return folder, db


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


@pytest.fixture(scope="module")
def vcr_config():
    """pytest-recording: replay only (record mode none unless --record-mode says otherwise),
    match on the request body, secrets scrubbed."""
    from pipeline.replay import vcr_config as config

    cfg = config()
    cfg.pop("record_mode")
    return cfg


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(ROOT / "cassettes" / "tests")
