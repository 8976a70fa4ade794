"""`per: story` alert rules: the configuration keys, and how due outbox rows become messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.stories import plan_story_messages
from core.errors import ConfigError
from core.records import DigestItem
from newsmon.config import load_config

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    kind: str
    item: DigestItem


def row(kind: str, article: str, story: str, language: str = "en", source: str = "Wire") -> Row:
    item = DigestItem(article, f"title {article}", f"https://x.example/{article}", source, language, ("pinduoduo",), ())
    return Row(kind, DigestItem(**{**item.__dict__, "story_id": story}))


def test_a_breaking_story_is_one_message_with_its_later_articles_folded_in() -> None:
    rows = [row("story", "a1", "s1"), row("update", "a2", "s1", "ja", "Nikkei"), row("story", "b1", "s2")]
    planned = plan_story_messages("r", 60, rows, {}, {}, NOW)
    assert len(planned) == 1
    message = planned[0].message
    assert message.title == "[newsmon] r: 2 new stories"
    assert "+ 1 more: Nikkei (also in ja)" in message.body
    assert [r.item.article_id for r in planned[0].rows] == ["a1", "a2", "b1"]


def test_updates_wait_for_the_interval_then_go_out_as_one_message_per_story() -> None:
    rows = [row("update", "a3", "s1"), row("update", "a4", "s1"), row("update", "b2", "s2")]
    recent = {"s1": NOW - timedelta(minutes=30), "s2": NOW - timedelta(minutes=61)}
    planned = plan_story_messages("r", 60, rows, recent, {"s2": "Story two"}, NOW)
    assert [p.message.title for p in planned] == ["[newsmon] r: update to “Story two”: 1 new article"]
    later = plan_story_messages("r", 60, rows, {"s1": NOW - timedelta(minutes=60)}, {"s1": "One"}, NOW)
    assert {p.message.title for p in later} == {"[newsmon] r: update to “One”: 2 new articles",
                                                "[newsmon] r: update to “title b2”: 1 new article"}  # fmt: skip


def test_digest_mode_sends_updates_only_alongside_new_stories() -> None:
    updates = [row("update", "a3", "s1")]
    assert plan_story_messages("r", "digest", updates, {}, {}, NOW) == []
    planned = plan_story_messages("r", "digest", [*updates, row("story", "c1", "s3")], {}, {}, NOW)
    assert len(planned) == 1 and "Updates to earlier stories:" in planned[0].message.body
    assert {r.item.article_id for r in planned[0].rows} == {"a3", "c1"}


def test_message_ids_are_stable_for_the_same_rows() -> None:
    rows = [row("story", "a1", "s1"), row("update", "a2", "s1")]
    first = plan_story_messages("r", 60, rows, {}, {}, NOW)[0].message.digest_id
    assert plan_story_messages("r", 60, list(reversed(rows)), {}, {}, NOW)[0].message.digest_id == first


BASE = "warehouse: x.duckdb\nfeeds: []\n"


def test_story_keys_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        BASE + "stories: {window_hours: 24, threshold: 0.8, period_guard: false}\n"
        "alerts:\n  - {name: a, platforms: [pinduoduo], per: story, story_updates: digest, notify: ['json://h/']}\n"
        "  - {name: b, per: story, story_updates: 15, notify: ['json://h/']}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.stories.window_hours, config.stories.threshold, config.stories.period_guard) == (24, 0.8, False)
    assert [(r.per, r.story_updates) for r in config.alerts] == [("story", "digest"), ("story", 15)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stories: {window: 3}\n", "stories.window: unknown key"),
        ("stories: {threshold: high}\n", "stories.threshold: expected a number"),
        ("alerts:\n  - {name: a, per: event, notify: ['json://h/']}\n", "alerts[a].per: expected 'article' or"),
        ("alerts:\n  - {name: a, story_updates: 0, notify: ['json://h/']}\n", "alerts[a].story_updates: expected"),
    ],
)
def test_bad_story_keys_name_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_many_new_stories_are_split_at_max_per_message() -> None:
    rows = [row("story", f"a{i}", f"s{i}") for i in range(5)] + [row("update", "x", "s0")]
    planned = plan_story_messages("r", 60, rows, {}, {}, NOW, max_per_message=2)
    assert [p.message.title for p in planned] == [
        "[newsmon] r: 2 new stories (part 1/3)",
        "[newsmon] r: 2 new stories (part 2/3)",
        "[newsmon] r: 1 new story (part 3/3)",
    ]
    assert sorted(r.item.article_id for p in planned for r in p.rows) == ["a0", "a1", "a2", "a3", "a4", "x"]
