"""Reporting periods and named figures read from real-world phrasings in the five languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.storyfeatures import named_figures, reporting_periods, title_grams


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("PDD misses third-quarter revenue estimates", "", {"Q3"}),
        ("Alibaba results", "in the three months ended Sept. 30, revenue rose", {"Q3"}),
        ("Alibaba quarterly profit falls", "in the June quarter, the company said", {"Q2"}),
        ("Q4 earnings", "", {"Q4"}),
        ("拼多多二季度营收970.6亿元", "", {"Q2"}),
        ("拼多多第三季度营收", "截至2024年9月30日的第三季度业绩", {"Q3"}),
        ("拼多多第三季營收遜預期", "為連續第二季營收未達預期", {"Q3"}),  # "second straight quarter" is no period
        ("阿里巴巴业绩", "截至2024年9月30日的2025财年第二季度业绩", {"Q3", "F-Q2"}),
        ("アリババ、7～9月期5%増収", "", {"Q3"}),
        ("中国ピンドゥオドゥオ", "2024年4～6月期決算は", {"Q2"}),
        ("第3四半期の決算", "", {"Q3"}),
        ("핀둬둬 3분기 매출 44% 증가", "", {"Q3"}),
        ("알리바바 순이익 감소", "2분기(4∼6월) 순이익이", {"Q2"}),
        ("Shein files for London IPO", "The company, founded in China", set()),
        ("双11收官", "今年双11周期长达近一个月", set()),
    ],
)
def test_reporting_periods(title: str, text: str, expected: set[str]) -> None:
    assert reporting_periods(title, text) == expected


def test_the_same_figure_in_five_languages_is_one_figure() -> None:
    phrasings = [
        "营收为993.5亿元，同比增长44%",
        "Revenue rose 44% to 99.35 billion yuan",
        "売上高が前年同期比44%増の993億5000万元",
        "營收年增44%至993.5億元人民幣",
        "매출이 993억5000만 위안으로 44% 늘었다",
    ]
    found = [named_figures("", p) for p in phrasings]
    assert all(f == found[0] for f in found), found
    assert found[0] == {"993e8", "44%"}


def test_years_days_and_small_counts_are_not_figures() -> None:
    assert named_figures("", "On Nov. 21, 2024, 3 analysts said 12 things in 2025") == frozenset()
    assert named_figures("", "589 brands") == {"589e0"}


def test_figures_are_rounded_to_three_significant_digits_across_units() -> None:
    assert named_figures("", "2365.03亿元") == named_figures("", "236.5 billion yuan") == {"236e9"}
    assert named_figures("", "$4.3 billion") == named_figures("", "43億美元") == {"430e7"}


@given(st.integers(min_value=100, max_value=999_999))
def test_billion_and_yi_name_the_same_figure(cents: int) -> None:
    """x.yz billion (English) and xy.z亿 (Chinese) are the same amount, so the same figure."""
    billions = f"{cents / 100:.2f} billion"
    yi = f"{cents / 10:.1f}亿"
    assert named_figures("", billions) == named_figures("", yi), (billions, yi)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 ,.-", max_size=80))
def test_title_grams_ignore_case_spaces_and_punctuation(title: str) -> None:
    grams = title_grams(title)
    assert all(len(g) == 2 for g in grams)
    assert title_grams(title.upper()) == grams
    assert title_grams(title.replace(" ", "").replace(",", "")) == grams
