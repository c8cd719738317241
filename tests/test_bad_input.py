"""Bad input: one line on stderr, exit code 2, no traceback."""

import subprocess
import sys

import pymupdf
import pytest
from conftest import sample_pdf


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd
    )


def assert_one_line_error(result, needle):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in lines[0]
    assert result.stdout == ""


@pytest.fixture
def bad_files(tmp_path):
    good = sample_pdf("000").read_bytes()
    files = {}
    files["not_pdf"] = tmp_path / "notes.pdf"
    files["not_pdf"].write_text("这不是PDF文件\n", encoding="utf-8")
    files["truncated"] = tmp_path / "truncated.pdf"
    files["truncated"].write_bytes(good[: len(good) // 2])
    files["corrupt"] = tmp_path / "corrupt.pdf"
    files["corrupt"].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    files["empty"] = tmp_path / "empty.pdf"
    files["empty"].write_bytes(b"")
    doc = pymupdf.open(sample_pdf("000"))
    files["encrypted"] = tmp_path / "encrypted.pdf"
    doc.save(files["encrypted"], encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    scanned = pymupdf.open()
    for page in list(doc)[:2]:
        pix = page.get_pixmap(dpi=50)
        new = scanned.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, pixmap=pix)
    files["scanned"] = tmp_path / "scanned.pdf"
    scanned.save(files["scanned"])
    blank = pymupdf.open()
    blank.new_page()
    files["blank"] = tmp_path / "blank.pdf"
    blank.save(files["blank"])
    return files


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("not_pdf", "not a PDF file"),
        ("truncated", "damaged or truncated"),
        ("corrupt", "damaged"),
        ("empty", "the file is empty"),
        ("encrypted", "encrypted"),
        ("scanned", "OCR is not available"),
        ("blank", "no text found"),
    ],
)
def test_bad_pdf_gives_one_line_and_exit_2(bad_files, name, needle):
    assert_one_line_error(run_cli("segment", str(bad_files[name])), needle)


def test_missing_file(tmp_path):
    assert_one_line_error(run_cli("segment", str(tmp_path / "nope.pdf")), "no such file")


def test_output_is_written_atomically(tmp_path):
    out = tmp_path / "doc.json"
    out.write_text("keep me", encoding="utf-8")
    result = run_cli("segment", str(tmp_path / "nope.pdf"), "--format", "json", "-o", str(out))
    assert result.returncode == 2
    assert out.read_text(encoding="utf-8") == "keep me"  # nothing already written is lost
    ok = run_cli("segment", str(sample_pdf("001")), "--format", "json", "-o", str(out))
    assert ok.returncode == 0 and out.read_text(encoding="utf-8").startswith("{")


def test_serve_bad_options_get_one_line(tmp_path):
    import socket

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database")
    assert_one_line_error(run_cli("serve", "--data", str(junk)), "--data must be a folder")
    assert_one_line_error(run_cli("serve", "--data", str(tmp_path / "d"), "--db", str(junk)),
                          "not a budget-lens database")
    assert junk.read_bytes() == b"not a database"  # nothing written over it
    assert_one_line_error(run_cli("serve", "--db", str(tmp_path / "no" / "x.sqlite")),
                          "its folder does not exist")
    assert_one_line_error(run_cli("serve", "--workers", "0"), "--workers must be at least 1")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(run_cli("serve", "--data", str(tmp_path / "d"), "--port", str(port)),
                              f"cannot listen on 127.0.0.1:{port} (Address already in use)")


def test_damaged_font_maps_are_an_unreadable_text_layer(tmp_path):
    """A real report whose font maps give private-use characters (mojibake) is one line and exit
    2, not a report checked on garbage."""
    import re
    import subprocess
    import sys

    import pymupdf
    from conftest import sample_pdf

    doc = pymupdf.open(sample_pdf("000"))
    for xref in range(1, doc.xref_length()):
        kind, ref = doc.xref_get_key(xref, "ToUnicode")
        if kind != "xref":
            continue
        cmap_xref = int(ref.split()[0])
        text = doc.xref_stream(cmap_xref).decode("latin-1")
        space = re.search(r"begincodespacerange\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", text)
        lo, hi = space.groups() if space else ("0000", "FFFF")
        doc.update_stream(cmap_xref, (
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            f"1 begincodespacerange <{lo}> <{hi}> endcodespacerange\n"
            f"1 beginbfrange <{lo}> <{hi}> <E000> endbfrange\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end").encode())
    bad = tmp_path / "mojibake.pdf"
    doc.save(bad)
    r = subprocess.run([sys.executable, "-m", "pipeline", "check", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "text layer cannot be read" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
