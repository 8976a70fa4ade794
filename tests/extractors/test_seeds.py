"""Seed titles: the first line, unless that line is a byline (then the next one)."""

from __future__ import annotations

import pytest

from extractors.seeds import is_byline, parse_seed
from newsmon.resources import bundled_seeds_dir


@pytest.mark.parametrize(
    ("first", "following"),
    [
        ("Haozao", "1688 は越境電子商取引の成長を目指し"),
        ("Li Wei", "拼多多下调商家佣金"),
        ("By Jane Doe", "Temu expands to Korea"),
        ("文/张三", "淘宝的新战略"),
        ("記者：山田太郎", "楽天が値下げ"),
    ],
)
def test_bylines(first: str, following: str) -> None:
    assert is_byline(first, following)


@pytest.mark.parametrize(
    ("first", "following"),
    [
        ("Title", "Body text."),  # an English title above English text
        ("Temu expands in Korea", "Temu said on Monday that it would open a warehouse."),
        ("淘宝的新战略", "淘宝今天宣布……"),
        ("Temu, Shein and the tariff", "关税上调后……"),  # sentence punctuation: a headline
    ],
)
def test_titles_are_not_bylines(first: str, following: str) -> None:
    assert not is_byline(first, following)


def test_a_byline_above_the_title_is_dropped() -> None:
    seed = parse_seed("s", "Haozao\n\n阿里巴巴发布新财报\n\n阿里巴巴今天发布了季度财报，收入增长。".encode())
    assert seed.title == "阿里巴巴发布新财报"
    assert "Haozao" not in seed.text


def test_bundled_seed_titles_are_headlines() -> None:
    titles = {p.stem: parse_seed(p.stem, p.read_bytes()).title for p in bundled_seeds_dir().glob("0*.txt")}
    assert titles["001_5950e2c367f42b74"].startswith("1688 は越境電子商取引の成長を目指し")
    assert all(len(t) > 10 for t in titles.values()), titles
