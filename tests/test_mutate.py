"""The mutation script changes one digit in place in a real PDF and nothing else."""


import pymupdf
from conftest import ROOT, load_mutate


def load():
    return load_mutate()


def test_one_digit_changes_in_place(tmp_path):
    mutate = load()
    src = ROOT / "samples" / "000_3feb2deca3ba0fbc.pdf"
    dest = tmp_path / "m.pdf"
    assert mutate.plant(src, 13, "5.62", "7.62", dest)
    a, b = pymupdf.open(src), pymupdf.open(dest)
    before, after = a[12].get_text(), b[12].get_text()
    assert before.replace("5.62", "7.62", 1) == after
    assert all(a[i].get_text() == b[i].get_text() for i in range(len(a)) if i != 12)
    words_a = [w[:4] for w in a[12].get_text("words")]
    words_b = [w[:4] for w in b[12].get_text("words")]
    assert words_a == words_b  # every word where it was


def test_a_figure_that_is_not_unique_on_its_page_is_left_alone(tmp_path):
    mutate = load()
    src = ROOT / "samples" / "000_3feb2deca3ba0fbc.pdf"
    text = pymupdf.open(src)[12].get_text()
    assert text.count("2,216.93") >= 2
    assert not mutate.plant(src, 13, "2,216.93", "2,218.93", tmp_path / "m.pdf")


def test_digit_choice_is_beyond_rounding():
    mutate = load()
    assert mutate.changed("27,073,236") == "27,073,436"
    assert mutate.changed("5.62") == "7.62"
    assert mutate.changed("0.04") == "2.04"
