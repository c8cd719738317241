"""Number and text normalisation shared by every stage."""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = {"", "-", "—", "——", "–", "－", "/", "无", "*", "……"}
CN = "一二三四五六七八九十"  # the numerals of 一、二、 headings and （三） items
MONEY = {"万元": 1.0, "元": 1e-4, "亿元": 1e4}  # a money unit in 万元
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # a figure as printed: 1,234.5 or 1234.5

_NUM_RE = re.compile(r"^[(（]?[-−－]?\d+(?:\.\d+)?[)）]?%?$")
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_SPACE_IN_NUMBER = re.compile(r"(?<=\d[.,])\s+(?=\d)|(?<=\d)\s+(?=[.,]\d)")


@dataclass(frozen=True)
class Number:
    value: float
    decimals: int
    percent: bool


def clean_text(text: str) -> str:
    """Collapse whitespace; drop spaces a PDF put next to CJK characters and inside numbers."""
    if not any(ch.isspace() for ch in text):
        return text
    text = text.replace("\u00a0", " ").replace("\u3000", " ")
    text = re.sub(r"\s+", " ", text).strip()
    text = _SPACE_NEAR_CJK.sub("", text)
    return _SPACE_IN_NUMBER.sub("", text)


def parse_number(text: str) -> Number | None:
    """Parse a printed amount or percentage; None for words, placeholders and blanks.

    Handles thousands separators (2,445.79), stray spaces (892. 96), a % sign, a leading minus
    sign in its several printed forms and accounting parentheses for negatives.
    """
    s = re.sub(r"\s+", "", text)
    if s in PLACEHOLDERS:
        return None
    s = s.replace("，", ",")
    if re.fullmatch(r"[-−－]?\d{1,3}(,\d{3})+(\.\d+)?%?", s):
        s = s.replace(",", "")
    if not _NUM_RE.match(s):
        return None
    negative = s.startswith(("(", "（")) and s.endswith((")", "）"))
    s = s.strip("()（）")
    percent = s.endswith("%")
    s = s.rstrip("%")
    if s[0] in "−－":
        s = "-" + s[1:]
    decimals = len(s.split(".")[1]) if "." in s else 0
    value = float(s)
    if negative:
        value = -value
    return Number(value=value, decimals=decimals, percent=percent)


NUMBER_IN_TEXT_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def numbers_in(text: str) -> set[float]:
    """Every number written in a text (thousands separators allowed): for grounding checks."""
    return {float(m.group().replace(",", "")) for m in NUMBER_IN_TEXT_RE.finditer(text)}


def is_placeholder(text: str) -> bool:
    return re.sub(r"\s+", "", text) in PLACEHOLDERS


def half_unit(decimals: int) -> float:
    """Half of the last displayed digit: the rounding error one printed figure may carry."""
    return 0.5 * 10.0 ** (-decimals)


def format_amount(value: float, decimals: int = 2) -> str:
    return f"{value:,.{decimals}f}"


def norm(text: str) -> str:
    """Text compared as words: no spaces, half-width brackets, no quotes."""
    return (
        re.sub(r"\s+", "", text)
        .replace("（", "(")
        .replace("）", ")")
        .replace("“", "")
        .replace("”", "")
        .replace('"', "")
    )


SPLIT_NUMBER_RE = re.compile(r"(?<![\d.,，、])(\d{1,2}) +(\d{1,2})(,\d{3}(?:,\d{3})*(?:\.\d+)?)(?=\s*(?:万元|元|亿元))")


def join_split_numbers(text: str) -> str:
    """A figure the text layer printed in two pieces (“1 3,873.36万元” for 13,873.36万元): its
    thousands grouping says the pieces are one number when their first group joined has at most
    three digits. The full-width per cent sign (增长100％) is the per cent sign."""
    def join(m: re.Match[str]) -> str:
        head = m.group(1) + m.group(2)
        return head + m.group(3) if len(head) <= 3 else m.group(0)

    return SPLIT_NUMBER_RE.sub(join, text.replace("％", "%"))
