"""Put each article of a batch into a story, inside the batch's store transaction.

Originals (and copies of something that has no story: a seed, an article stored before stories existed)
are embedded in one batch, matched against the stories of their time window as stored in the warehouse,
and become members; a duplicate joins its original's story without being embedded. The `stories` rows of
every touched story are recomputed from their articles in the same transaction, so `articles.story_id`,
`story_features` and `stories` never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from core.records import Article, StoryFeatures
from core.settings import StoryPolicy
from extractors.embedding import embed, embedding_text
from extractors.stories import StoryIndex, seen_at
from extractors.storyfeatures import named_figures, reporting_periods, title_grams
from storage import warehouse as wh
from storage.warehouse import Connection


@dataclass(frozen=True)
class StoryBatch:
    """The batch's articles with `story_id` set, and the new members to remember."""

    articles: list[Article]
    members: list[tuple[str, StoryFeatures]]


def features_of(article: Article, embedding: npt.NDArray[np.float32]) -> StoryFeatures:
    return StoryFeatures(
        article.article_id,
        seen_at(article.published_at, article.fetched_at),
        embedding,
        frozenset(article.platforms),
        frozenset(article.topics),
        reporting_periods(article.title, article.text),
        named_figures(article.title, article.text),
        title_grams(article.title),
    )


def _to_embed(articles: Sequence[Article], stored: dict[str, str]) -> list[Article]:
    """Originals, and copies of something without a story (a seed, an article from before stories)."""
    has_story = {a.article_id for a in articles} | set(stored)
    return [a for a in articles if a.duplicate_of is None or a.duplicate_of not in has_story]


def assign_stories(con: Connection, articles: Sequence[Article], policy: StoryPolicy) -> StoryBatch:
    """Story ids for a batch (in batch order, after duplicates were marked)."""
    if not policy.enabled or not articles:
        return StoryBatch(list(articles), [])
    stored = wh.stories_of(con, [a.duplicate_of for a in articles if a.duplicate_of])
    embedded = _to_embed(articles, stored)
    vectors = embed([embedding_text(a.title, a.text) for a in embedded])
    features = {a.article_id: features_of(a, v) for a, v in zip(embedded, vectors, strict=True)}
    times = [seen_at(a.published_at, a.fetched_at) for a in articles]
    window = timedelta(hours=policy.window_hours)
    index = StoryIndex(policy, wh.story_members(con, min(times) - window, max(times) + window))
    story_of = dict(stored)
    out: list[Article] = []
    members: list[tuple[str, StoryFeatures]] = []
    for article in articles:
        feature = features.get(article.article_id)
        if feature is None:
            story_id = story_of[article.duplicate_of or ""]
        else:
            story_id = index.add(feature).story_id
            members.append((story_id, feature))
        story_of[article.article_id] = story_id
        out.append(replace(article, story_id=story_id))
    return StoryBatch(out, members)


def store_stories(con: Connection, batch: StoryBatch, now: datetime) -> None:
    """After the batch's articles are inserted: remember the members, recompute the touched stories."""
    wh.insert_story_features(con, batch.members)
    wh.refresh_stories(con, [a.story_id for a in batch.articles if a.story_id], now)
