"""Output paths and batch edges: one clear line and a non-zero exit, checked before any work;
nothing overwritten; no stray files."""

import shutil
import subprocess
import sys

from conftest import ROOT, sample_pdf

from pipeline.report import render_markdown
from schemas.findings import Evidence, FileResult, Finding


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, cwd=cwd)


def one_line_error(r, path: str):
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and path in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("budget-lens ")


def test_output_onto_a_folder_or_into_a_missing_one(tmp_path):
    one_line_error(cli("check", str(sample_pdf("002")), "-o", str(tmp_path)), str(tmp_path))
    missing = tmp_path / "nope" / "r.txt"
    one_line_error(cli("check", str(sample_pdf("002")), "-o", str(missing)), str(missing))
    one_line_error(cli("segment", str(sample_pdf("002")), "-o", str(tmp_path)), str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # nothing written, no .tmp left


def test_annotate_never_overwrites_one_report_with_another(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(sample_pdf("002"), tmp_path / d / "r.pdf")
    out = tmp_path / "out"  # missing: created
    r = cli("check", str(tmp_path / "a" / "r.pdf"), str(tmp_path / "b" / "r.pdf"),
            "--annotate", str(out), "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["r.2.annotated.pdf", "r.annotated.pdf"]


def test_batch_edges(tmp_path):
    one_line_error(cli("batch", str(sample_pdf("002"))), str(sample_pdf("002")))
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("batch", str(empty))
    one_line_error(r, str(empty))
    assert "no PDFs found" in r.stderr
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(sample_pdf("002"), folder / "good.pdf")
    (folder / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    not_db = tmp_path / "notes.txt"
    not_db.write_text("not a database", encoding="utf-8")
    one_line_error(cli("batch", str(folder), "--db", str(not_db)), str(not_db))
    r = cli("batch", str(folder), "--db", str(tmp_path / "r.sqlite"), "--quiet")
    assert r.returncode == 2 and "bad.pdf" in r.stdout, (r.stdout, r.stderr)


def test_markdown_escapes_text_from_the_pdf():
    f = Finding(rule="nar.share", severity="error", message="a|b *加粗* [链接](x) <b>",
                evidence=[Evidence(page=1, source="narrative", text="_下划线_ `代码`")])
    md = render_markdown([FileResult(source="r.pdf", title="标题*星*", findings=[f])])
    assert "\\*加粗\\*" in md and "\\[链接\\]\\(x\\)" in md and "\\<b\\>" in md
    assert "\\_下划线\\_" in md and "\\`代码\\`" in md and "标题\\*星\\*" in md


def test_eval_outside_the_repository_finds_its_labels(tmp_path):
    from pipeline.cli import build_parser, default_labels

    assert build_parser().parse_args(["eval"]).labels is None
    assert default_labels() == ROOT / "eval" / "labels" and default_labels().is_dir()
    r = cli("eval", "--labels", str(tmp_path / "none"), cwd=tmp_path)
    one_line_error(r, str(tmp_path / "none"))


def test_llm_timeout_and_retries_from_flags_or_environment():
    import pytest

    from pipeline.cli import UsageError, build_parser, llm_limits

    args = build_parser().parse_args(["check", "r.pdf", "--timeout", "5", "--max-retries", "1"])
    assert llm_limits(args, {}) == {"timeout": 5.0, "max_attempts": 2}
    args = build_parser().parse_args(["check", "r.pdf"])
    assert llm_limits(args, {"BUDGET_LENS_TIMEOUT": "7.5"}) == {"timeout": 7.5}
    with pytest.raises(UsageError):
        llm_limits(args, {"BUDGET_LENS_MAX_RETRIES": "many"})
    r = cli("check", str(sample_pdf("002")), "--llm", "openai", "--timeout", "0")
    assert r.returncode == 2 and "BUDGET_LENS_TIMEOUT must be at least 1" in r.stderr or \
        "OPENAI_API_KEY" in r.stderr


def test_a_repaired_pdf_gives_the_tool_s_own_warning_line(tmp_path):
    data = sample_pdf("002").read_bytes()
    cut = data.rfind(b"startxref")
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[:cut] + b"startxref\n999999\n%%EOF\n")
    r = cli("check", str(damaged), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert r.returncode in (0, 1), r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines and all(line.startswith("budget-lens: ") for line in lines), r.stderr
    assert any("repaired" in line for line in lines)


def test_no_library_line_on_stderr_when_home_is_not_writable(tmp_path):
    import os

    env = {**os.environ, "HOME": "/proc"}  # a folder nobody can write to, root included
    env.pop("ORT_DISABLE_TELEMETRY", None)
    r = subprocess.run([sys.executable, "-m", "pipeline", "check", str(sample_pdf("002")),
                        "--format", "json", "-o", str(tmp_path / "r.json")],
                       capture_output=True, text=True, env=env)
    assert r.returncode in (0, 1) and r.stderr == "", r.stderr
