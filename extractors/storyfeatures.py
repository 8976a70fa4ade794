"""What story matching knows about an article besides its embedding: reporting periods, named figures, title grams.

Pure functions of text. Figures are normalised across languages and units, so "993.5亿元", "99.35 billion
yuan", "993億5000万元" and "993억5000만 위안" are the same figure; reporting periods are calendar quarters
("third quarter", "7～9月期", "第三季度", "3분기", "quarter ended Sept. 30" → Q3). A fiscal quarter ("2025财年
第二季度", "fiscal second quarter") is kept apart as F-Q2: companies' fiscal years differ.
"""

from __future__ import annotations

import math
import re
import unicodedata

LEAD_CHARS = 600  # periods and figures are read from the title and this much of the text

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_EN_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))

_FISCAL_CJK = re.compile(
    r"(?:财年|財年|会计年度|會計年度|会計年度|회계연도)\s*(?:第)?([一二三四1-4])\s*(?:季度|季|四半期|분기)"
)
_FISCAL_EN = re.compile(r"fiscal(?:\s+year)?\s+(first|second|third|fourth)[\s-]quarter|fiscal\s+q([1-4])", re.I)
_QUARTER_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bq([1-4])\b", re.I), "digit"),
    (re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]quarter", re.I), "ordinal"),
    (re.compile(r"(?<!连续)(?<!連續)(?<!连续第)(?<!連續第)第?([一二三四1-4])\s*(?:季度|季(?!節|节))"), "digit"),
    (re.compile(r"第?([1-4])\s*四半期"), "digit"),
    (re.compile(r"([1-4])\s*분기"), "digit"),
)
# a range of months: "7～9月期", "4∼6월", "April-June quarter", "July-September"
_MONTH_RANGE_CJK = re.compile(r"(\d{1,2})\s*[～~〜∼\-－—]\s*(\d{1,2})\s*(?:月|월)")
_MONTH_RANGE_EN = re.compile(rf"\b({_MONTH_NAME})\.?\s*[-–—]\s*({_MONTH_NAME})\b", re.I)
# the end of a quarter: "quarter ended Sept. 30", "September quarter", "截至9月30日", "截至9月底"
_ENDED_EN = re.compile(rf"(?:ended|ending|through)\s+({_MONTH_NAME})\.?\s+3[01]\b", re.I)
_MONTH_QUARTER_EN = re.compile(r"\b(march|june|september|december)[\s-]quarter", re.I)
_ENDED_CJK = re.compile(r"截[至止](?:\d{4}年)?\s*(3|6|9|12)\s*月\s*(?:3[01]\s*日|底)")


def _quarter_of_end_month(month: int) -> str | None:
    return f"Q{month // 3}" if month % 3 == 0 else None


def _fiscal_spans(text: str, periods: set[str]) -> list[tuple[int, int]]:
    spans = []
    for match in _FISCAL_CJK.finditer(text):
        periods.add(f"F-Q{_CN_DIGITS[match.group(1)]}")
        spans.append(match.span())
    for match in _FISCAL_EN.finditer(text):
        number = _EN_ORDINALS[match.group(1).lower()] if match.group(1) else int(match.group(2))
        periods.add(f"F-Q{number}")
        spans.append(match.span())
    return spans


def _quarters(text: str, skip: list[tuple[int, int]], periods: set[str]) -> None:
    for pattern, kind in _QUARTER_PATTERNS:
        for match in pattern.finditer(text):
            if any(start <= match.start() < end for start, end in skip):
                continue
            word = match.group(1)
            number = _EN_ORDINALS[word.lower()] if kind == "ordinal" else _CN_DIGITS[word]
            periods.add(f"Q{number}")


def _month_ends(text: str, periods: set[str]) -> None:
    ends: list[int] = []
    for match in _MONTH_RANGE_CJK.finditer(text):
        first, last = int(match.group(1)), int(match.group(2))
        if 1 <= first <= 12 and last - first == 2:
            ends.append(last)
    for match in _MONTH_RANGE_EN.finditer(text):
        first, last = _MONTHS[match.group(1).lower()], _MONTHS[match.group(2).lower()]
        if last - first == 2:
            ends.append(last)
    ends += [_MONTHS[m.group(1).lower()] for m in _ENDED_EN.finditer(text)]
    ends += [_MONTHS[m.group(1).lower()] for m in _MONTH_QUARTER_EN.finditer(text)]
    ends += [int(m.group(1)) for m in _ENDED_CJK.finditer(text)]
    periods.update(q for q in map(_quarter_of_end_month, ends) if q)


def reporting_periods(title: str, text: str) -> frozenset[str]:
    """Calendar quarters ("Q3") and fiscal quarters ("F-Q2") named in the title and the lead of the text."""
    lead = unicodedata.normalize("NFKC", f"{title}\n{text[:LEAD_CHARS]}")
    periods: set[str] = set()
    fiscal = _fiscal_spans(lead, periods)
    _quarters(lead, fiscal, periods)
    _month_ends(lead, periods)
    return frozenset(periods)


_UNITS = {
    "亿": 1e8, "億": 1e8, "억": 1e8, "万": 1e4, "萬": 1e4, "만": 1e4, "兆": 1e12, "조": 1e12,
    "trillion": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "thousand": 1e3,
}  # fmt: skip
_UNIT_NAMES = "|".join(sorted(_UNITS, key=len, reverse=True))
_NUMBER = re.compile(
    rf"(\d[\d,]*(?:\.\d+)?)\s*({_UNIT_NAMES})?(?:\s*(\d[\d,]*(?:\.\d+)?)\s*(万|萬|만))?(\s*(?:%|パーセント|퍼센트))?",
    re.I,
)
_YEAR_LIKE = range(1900, 2101)


def _value(digits: str) -> float | None:
    try:
        return float(digits.replace(",", ""))
    except ValueError:
        return None


def _figure(match: re.Match[str]) -> str | None:
    value = _value(match.group(1))
    if value is None:
        return None
    if match.group(5):
        return f"{value:g}%"
    unit = match.group(2)
    if unit is None:
        if value < 100 or (value.is_integer() and int(value) in _YEAR_LIKE):
            return None  # days, counts, ordinals and years say little about which event it is
        return _significant(value)
    value *= _UNITS[unit.lower()]
    if match.group(3):
        value += (_value(match.group(3)) or 0.0) * _UNITS[match.group(4)]
    return _significant(value)


def _significant(value: float) -> str:
    """Three significant digits, so "2365.03亿" and "236.5 billion" name the same figure."""
    if value <= 0:
        return "0"
    exponent = math.floor(math.log10(value))
    mantissa = math.floor(value / 10 ** (exponent - 2) + 1e-6)
    return f"{mantissa}e{exponent - 2}"


def named_figures(title: str, text: str) -> frozenset[str]:
    """Amounts (normalised to three significant digits across 亿/億/억/billion/…) and percentages."""
    lead = unicodedata.normalize("NFKC", f"{title}\n{text[:LEAD_CHARS]}")
    return frozenset(f for f in map(_figure, _NUMBER.finditer(lead)) if f)


def title_grams(title: str) -> frozenset[str]:
    """Character bigrams of the case-folded title without spaces and punctuation."""
    folded = "".join(c for c in unicodedata.normalize("NFKC", title).casefold() if unicodedata.category(c)[0] in "LN")
    return frozenset(folded[i : i + 2] for i in range(len(folded) - 1))
