"""One column list per table, derived from the record that fills it: inserts and selects use these lists,
so a field added to a record and to the schema is stored without a third list to keep in step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from core.records import Article, DigestItem, LinkEvent, Mention, PassSummary, SeedDocument

# Article fields that are not columns of `articles` (mentions have their own table; the fingerprint lives
# in the near-duplicate index).
_ARTICLE_NOT_STORED = frozenset({"mentions", "fingerprint"})
ARTICLE_FIELDS = tuple(f.name for f in fields(Article) if f.name not in _ARTICLE_NOT_STORED)
ARTICLE_COLUMNS = (*ARTICLE_FIELDS, "run_id", "seq")
MENTION_FIELDS = tuple(f.name for f in fields(Mention))
MENTION_COLUMNS = ("article_id", *MENTION_FIELDS, "run_id")
LINK_EVENT_FIELDS = tuple(f.name for f in fields(LinkEvent))
LINK_EVENT_COLUMNS = ("run_id", *LINK_EVENT_FIELDS, "recorded_at")
SEED_COLUMNS = ("seed_id", "title", "text", "language", "platforms", "topics", "content_hash", "loaded_at")
NOTIFICATION_COLUMNS = ("rule", "article_id", "channel", "status", "attempts", "created_at", "updated_at", "run_id")
SPIKE_COLUMNS = ("rule", "platform", "day", "count", "mean", "stdev", "detected_at")
# The counters of a pass summary that `runs` stores (every int field, plus the status).
RUN_SUMMARY_COLUMNS = tuple(f.name for f in fields(PassSummary) if f.name == "status" or f.type in (int, "int"))
# What a digest shows of an outbox row's article: DigestItem field -> SQL over `articles a` / `notifications n`.
DIGEST_SQL = {
    "article_id": "n.article_id",
    "title": "coalesce(a.title, '')",
    "url": "coalesce(a.canonical_url, '')",
    "source": "coalesce(a.source, '')",
    "language": "coalesce(a.language, '')",
    "platforms": "coalesce(a.platforms, [])",
    "topics": "coalesce(a.topics, [])",
    "duplicate_of": "a.duplicate_of",
}
assert tuple(DIGEST_SQL) == tuple(f.name for f in fields(DigestItem)), "DIGEST_SQL must follow DigestItem"


def _cell(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def article_row(article: Article, run_id: str, seq: int) -> tuple[Any, ...]:
    return (*(_cell(getattr(article, name)) for name in ARTICLE_FIELDS), run_id, seq)


def mention_rows(article: Article, run_id: str) -> list[tuple[Any, ...]]:
    return [(article.article_id, *(getattr(m, name) for name in MENTION_FIELDS), run_id) for m in article.mentions]


def link_event_row(event: LinkEvent, run_id: str, now: datetime) -> tuple[Any, ...]:
    return (run_id, *(getattr(event, name) for name in LINK_EVENT_FIELDS), now)


def seed_row(seed: SeedDocument, now: datetime) -> tuple[Any, ...]:
    return (seed.seed_id, seed.title, seed.text, seed.language, [], [], seed.content_hash, now)


def digest_item(row: Sequence[Any]) -> DigestItem:
    """A DigestItem from the DIGEST_SQL columns of a row, in order."""
    values = {name: _cell_back(value) for name, value in zip(DIGEST_SQL, row, strict=True)}
    return DigestItem(**values)


def _cell_back(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
