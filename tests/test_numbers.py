import pytest

from pipeline.numbers import clean_text, half_unit, parse_number


@pytest.mark.parametrize(
    ("text", "value", "decimals", "percent"),
    [
        ("2445.79", 2445.79, 2, False),
        ("2,445.79", 2445.79, 2, False),
        ("892. 96", 892.96, 2, False),
        (" 1 057.33 ".replace(" ", "", 1), 1057.33, 2, False),
        ("5.62%", 5.62, 2, True),
        ("-4.36", -4.36, 2, False),
        ("−4.36", -4.36, 2, False),
        ("(12.50)", -12.5, 2, False),
        ("10,000,000", 10_000_000, 0, False),
        ("3,022,110.75", 3_022_110.75, 2, False),
        ("96.458", 96.458, 3, False),
        ("0", 0.0, 0, False),
    ],
)
def test_parse_number(text, value, decimals, percent):
    n = parse_number(text)
    assert n is not None
    assert n.value == pytest.approx(value)
    assert (n.decimals, n.percent) == (decimals, percent)


@pytest.mark.parametrize("text", ["", "——", "-", "—", "合计", "=100%", "≥90%", "12期", "2,44,5"])
def test_not_a_number(text):
    assert parse_number(text) is None


def test_clean_text_drops_pdf_spaces():
    assert clean_text("2024 年度") == "2024年度"
    assert clean_text("支出 892. 96 万元") == "支出892.96万元"
    assert clean_text("a  b") == "a b"


def test_half_unit():
    assert half_unit(2) == pytest.approx(0.005)
    assert half_unit(0) == pytest.approx(0.5)


def test_a_figure_split_by_the_text_layer_is_one_number():
    from pipeline.numbers import join_split_numbers

    assert join_split_numbers("支出1 3,873.36万元。") == "支出13,873.36万元。"
    assert join_split_numbers("合计12 345,678.00元") == "合计12 345,678.00元"  # 12345 is no group
    assert join_split_numbers("共3 2,000万元，") == "共32,000万元，"
    assert join_split_numbers("第1、2 3,873.36万元") == "第1、2 3,873.36万元"  # 2 after a list mark
    assert join_split_numbers("增长1 3.5%") == "增长1 3.5%"  # no grouping: not one number
