"""The reader against damaged PDFs (property-based, hypothesis): real reports with bytes flipped,
runs of bytes overwritten or the file cut short. Every outcome is a report or a failed result with
its one-line reason (the CLI's exit 2), never an exception out of the pipeline."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, sample_pdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.run import check_file

REPORTS = [sample_pdf("002"), ROOT / "corpus" / "cities" / "shanghai-012.pdf"]
_BYTES = {p: p.read_bytes() for p in REPORTS}

damage = st.tuples(
    st.sampled_from(REPORTS),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64)),
             min_size=1, max_size=12),
    st.one_of(st.none(), st.floats(0.05, 1.0)),
)


def damaged(path: Path, edits, keep, dest: Path) -> Path:
    data = bytearray(_BYTES[path])
    for at, junk in edits:
        i = int(at * len(data))
        data[i:i + len(junk)] = junk
    if keep is not None:
        data = data[:max(1, int(keep * len(data)))]
    dest.write_bytes(bytes(data))
    return dest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage)
def test_a_damaged_report_gives_a_report_or_one_reason(tmp_path, case):
    path, edits, keep = case
    result = check_file(damaged(path, edits, keep, tmp_path / "damaged.pdf")).result
    assert result.status in ("ok", "failed")
    if result.status == "failed":
        assert result.error and "\n" not in result.error and "Traceback" not in result.error


@pytest.mark.parametrize("seed", range(3))
def test_the_cli_on_a_damaged_report_exits_cleanly(tmp_path, seed):
    import random

    rng = random.Random(seed)
    path = REPORTS[seed % len(REPORTS)]
    edits = [(rng.random(), bytes(rng.randrange(256) for _ in range(rng.randrange(1, 48))))
             for _ in range(rng.randrange(1, 10))]
    dest = damaged(path, edits, rng.choice([None, rng.random()]), tmp_path / "damaged.pdf")
    r = subprocess.run([sys.executable, "-m", "pipeline", "check", str(dest)],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1, 2) and "Traceback" not in r.stderr, r.stderr
    if r.returncode == 2:
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
