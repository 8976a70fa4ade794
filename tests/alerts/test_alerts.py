"""Alert rules (pure): matching, keywords, digests, spikes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.keywords import compile_keyword
from alerts.messages import digest
from alerts.rules import CompiledRule
from alerts.spikes import find_spikes
from core.errors import KeywordError
from core.records import Article, DigestItem
from core.settings import AlertRule

ARTICLE = Article(
    article_id="a1",
    url="https://ex.com/a",
    canonical_url="https://ex.com/a",
    feed_url="https://ex.com/f",
    source="Ex",
    title="拼多多推出反内卷措施",
    text="拼多多宣布降低商家费用。Ｔｅｍｕ也在调整。",
    text_source="page",
    language="zh-cn",
    published_at=None,
    fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    content_hash="h",
    platforms=("pinduoduo", "temu"),
    topics=("pricing",),
)


def rule(**fields: object) -> CompiledRule:
    return CompiledRule.of(AlertRule(name="r", notify=("json://h/",), **fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"platforms": ("pinduoduo",)}, True),
        ({"platforms": ("jd", "temu")}, True),  # OR within a field
        ({"platforms": ("jd",)}, False),
        ({"platforms": ("pinduoduo",), "topics": ("logistics",)}, False),  # AND across fields
        ({"platforms": ("pinduoduo",), "topics": ("pricing",), "languages": ("zh-cn", "ja")}, True),
        ({"languages": ("ja",)}, False),
        ({"keywords": ("anti-involution", "反内卷")}, True),
        ({"keywords": ("/反内[巻卷]/",)}, True),
        ({"keywords": ("temu",)}, True),  # full-width, any case
        ({"keywords": ("/^拼多多宣布/",)}, False),  # anchors apply to title + body as a whole
        ({"keywords": ("京东",)}, False),
    ],
)
def test_rule_matching(fields: dict[str, object], expected: bool) -> None:
    assert rule(**fields).matches(ARTICLE) is expected


def test_duplicates_only_with_include_duplicates() -> None:
    copy = replace(ARTICLE, duplicate_of="000_seed")
    assert not rule().matches(copy)
    assert rule(include_duplicates=True).matches(copy)


def test_keywords_are_re2_linear_time() -> None:
    pattern = compile_keyword("/(a+)+$/")
    assert not isinstance(pattern, str)
    assert pattern.search("a" * 50_000 + "!") is None  # catastrophic for backtracking engines, instant here
    with pytest.raises(KeywordError, match="RE2"):
        compile_keyword("/(?<=x)y/")


def test_digest_lists_every_field_the_issue_names() -> None:
    items = [
        DigestItem("a1", "拼多多推出反内卷措施", "https://ex.com/a", "零售观察", "zh-cn", ("pinduoduo",), ("pricing",)),
        DigestItem("a2", "Temu cuts fees", "https://ex.com/b", "Wire", "en", ("temu",), ("pricing", "cross-border")),
    ]
    message = digest("pdd-pricing", items)
    assert message.title == "[newsmon] pdd-pricing: 2 new articles"
    for expected in (
        "拼多多推出反内卷措施",
        "https://ex.com/a",
        "零售观察",
        "zh-cn",
        "pinduoduo",
        "pricing",
        "Temu cuts fees",
        "cross-border",
        "pdd-pricing",
    ):
        assert expected in message.body
    assert digest("pdd-pricing", list(reversed(items))).digest_id == message.digest_id


def test_spike_needs_mean_plus_sigma_and_a_minimum() -> None:
    today = date(2026, 11, 22)
    quiet = {today - timedelta(days=d): 2 + d % 2 for d in range(1, 15)}
    counts = {"temu": {**quiet, today: 12}, "jd": {**quiet, today: 3}, "tiny": {today: 3}}
    spikes = find_spikes(counts, today, days=14, sigma=3, min_mentions=5)
    assert [(s.platform, s.count) for s in spikes] == [("temu", 12)]
    assert spikes[0].mean == pytest.approx(2.5)
