"""`budget-lens check` end to end on the real sample PDFs."""

import json
import subprocess
import sys

import pymupdf
from conftest import sample_pdf


def cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True)


def test_text_report_and_exit_code():
    r = cli("check", str(sample_pdf("003")))
    assert r.returncode == 1, r.stderr  # error findings
    assert "错误" in r.stdout and "住房保障支出(类)69.09万元，占比0%" in r.stdout
    assert "第14页" in r.stdout


def test_json_report_shape():
    r = cli("check", str(sample_pdf("000")), str(sample_pdf("002")), "--format", "json")
    data = json.loads(r.stdout)
    assert [f["source"].split("/")[-1] for f in data["files"]] == [
        sample_pdf("000").name, sample_pdf("002").name]
    for file in data["files"]:
        assert file["summary"]["tables"] > 10
        for f in file["findings"]:
            assert {"rule", "severity", "message", "stated", "expected", "evidence"} <= set(f)
            for e in f["evidence"]:
                assert e["page"] >= 1 and e["source"] in ("narrative", "table") and e["text"]
    restated = [f for f in data["files"][0]["findings"] if f["rule"] == "nar.restated"]
    assert restated and restated[0]["stated"] == 170 and restated[0]["expected"] == 119.08


def test_markdown_report(tmp_path):
    out = tmp_path / "r.md"
    r = cli("check", str(sample_pdf("001")), "--format", "md", "-o", str(out))
    assert r.returncode == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Budget Lens") and "| 错误 | `perf.rate` |" in text


def test_annotated_pdf(tmp_path):
    out = tmp_path / "annotated.pdf"
    r = cli("check", str(sample_pdf("000")), "--annotate", str(out))
    assert r.returncode in (0, 1), r.stderr
    doc = pymupdf.open(out)
    notes = [(p.number + 1, a.info["content"]) for p in doc for a in p.annots()]
    assert any(page == 13 and "nar.restated" in note for page, note in notes)
    assert all(note.startswith("[") for _, note in notes)


def test_clean_report_exits_zero(tmp_path):
    r = cli("check", str(sample_pdf("000")), "--format", "json")
    data = json.loads(r.stdout)
    errors = data["files"][0]["summary"]["errors"]
    assert r.returncode == (1 if errors else 0)


def test_bad_file_among_good_ones(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_text("x", encoding="utf-8")
    r = cli("check", str(sample_pdf("002")), str(bad), "--format", "json")
    assert r.returncode == 2
    data = json.loads(r.stdout)
    assert [f["status"] for f in data["files"]] == ["ok", "failed"]
    assert "not a PDF" in r.stderr and "Traceback" not in r.stderr


def test_no_output_overwrites_an_input_or_another_output(tmp_path):
    """An output that is an input (by name or through a link), or two outputs that are one file,
    is refused before any work: one line, exit 2, the report untouched."""
    import shutil

    report = tmp_path / "r.pdf"
    shutil.copy(sample_pdf("000"), report)
    before = report.read_bytes()
    (tmp_path / "link.pdf").symlink_to(report)
    cases = [
        ("check", str(report), "-o", str(report)),
        ("check", str(report), "-o", str(tmp_path / "link.pdf")),
        ("segment", str(report), "-o", str(report)),
        ("check", str(report), "--annotate", str(report)),
        ("check", str(report), "--annotate", str(tmp_path / "x.pdf"), "-o", str(tmp_path / "x.pdf")),
        ("batch", str(tmp_path), "--db", str(tmp_path / "r.sqlite"), "--csv", str(report)),
        ("batch", str(tmp_path), "--db", str(tmp_path / "r.sqlite"), "--csv", str(tmp_path / "o"),
         "--xlsx", str(tmp_path / "o")),
    ]
    for args in cases:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        assert report.read_bytes() == before, args
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "r.sqlite").exists()


def test_an_output_in_a_folder_that_takes_no_file_is_refused_first():
    """/proc passes a permission test but takes no new file: refused before any work, one line."""
    r = cli("check", str(sample_pdf("000")), "-o", "/proc/budget-lens-report.txt")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cannot write there" in r.stderr and ".tmp" not in r.stderr
