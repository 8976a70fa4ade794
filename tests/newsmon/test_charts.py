"""The report's charts read well with one day and with 90 days of data: dates as labels, whole-number
counts, nothing loaded from the network."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import lxml.etree as etree
from hypothesis import given
from hypothesis import strategies as st

from core.views import DayCount, PairCount
from newsmon.charts import day_axis, integer_ticks, per_day_chart, topic_mix_chart, totals_chart

TODAY = date(2026, 11, 30)
SVG = "{http://www.w3.org/2000/svg}"


def _labels(svg: str, axis: str) -> list[str]:
    tree = etree.fromstring(svg.encode())
    groups = [g for g in tree.iter(f"{SVG}g") if (g.get("class") or "").split()[:2] == ["axis", axis]]
    assert len(groups) == 1
    return [t.text or "" for t in groups[0].iter(f"{SVG}text")]


def test_one_day_is_one_labelled_bar_group() -> None:
    counts = [DayCount(TODAY, "temu", 3), DayCount(TODAY, "shein", 1)]
    svg = per_day_chart(counts, TODAY - timedelta(days=30), TODAY, "original articles")
    assert _labels(svg, "x") == ["Nov 30"]
    assert _labels(svg, "y") == ["0", "1", "2", "3", "4"]  # whole numbers up to the stacked total
    assert "<script" not in svg and 'xlink:href="http' not in svg


def test_ninety_days_label_about_eight_dates_and_no_fractions() -> None:
    start = TODAY - timedelta(days=89)
    counts = [DayCount(start + timedelta(days=n), "temu", n % 7) for n in range(90)]
    svg = per_day_chart(counts, start, TODAY, "original articles")
    dates = [label for label in _labels(svg, "x") if label]
    assert 6 <= len(dates) <= 12 and all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", d) for d in dates), dates
    assert all(label.isdigit() for label in _labels(svg, "y"))


def test_axis_starts_at_the_first_day_with_data_within_the_window() -> None:
    assert day_axis([TODAY - timedelta(days=2)], TODAY - timedelta(days=30), TODAY)[0] == TODAY - timedelta(days=2)
    assert day_axis([TODAY - timedelta(days=60)], TODAY - timedelta(days=30), TODAY)[0] == TODAY - timedelta(days=30)
    assert day_axis([], TODAY - timedelta(days=30), TODAY) == [TODAY]


@given(st.integers(min_value=0, max_value=10**7))
def test_integer_ticks_cover_the_highest_value_in_few_whole_steps(highest: int) -> None:
    ticks = integer_ticks(highest)
    assert ticks[0] == 0 and ticks[-1] >= highest and len(ticks) <= 7
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


def test_cjk_keys_and_empty_charts_render() -> None:
    assert "拼多多" in topic_mix_chart([PairCount("拼多多", "pricing", 2)])
    assert "<svg" in topic_mix_chart([]) and "<svg" in totals_chart([], "original articles")


def test_every_bar_has_a_native_tooltip() -> None:
    counts = [DayCount(TODAY, "temu", 3), DayCount(TODAY - timedelta(days=1), "拼多多", 2)]
    tree = etree.fromstring(per_day_chart(counts, TODAY - timedelta(days=30), TODAY, "original articles").encode())
    titles = {t.text for t in tree.iter(f"{SVG}title")}
    assert {"temu · Nov 30: 3", "拼多多 · Nov 29: 2"} <= titles
